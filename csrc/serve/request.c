/* request.c — complete/refactor params into an srv_request. Every field's
 * type is checked before use; strings are copied (the message's arena dies
 * when the handler returns). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

#define MAX_EXTRA 16

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* An optional string field copied into *out ("" when absent). */
static int opt_str(const rpc_val *p, const char *key, char **out, size_t *len, char *err, size_t errlen) {
    const char *s = "";
    size_t n = 0;
    if (rpc_field_str(p, key, 0, &s, &n, err, errlen) < 0) return -1;
    if (!(*out = dup_n(s, n))) return fl_seterr(err, errlen, "out of memory");
    if (len) *len = n;
    return 0;
}

static int req_str(const rpc_val *p, const char *key, char **out, size_t *len, char *err, size_t errlen) {
    const char *s;
    size_t n;
    if (rpc_field_str(p, key, 1, &s, &n, err, errlen)) return -1;
    if (!(*out = dup_n(s, n))) return fl_seterr(err, errlen, "out of memory");
    if (len) *len = n;
    return 0;
}

/* An optional integer into *out (default kept when absent). */
static int opt_int(const rpc_val *p, const char *key, int64_t lo, int64_t hi, int *out, char *err, size_t errlen) {
    int64_t v;
    int rc = rpc_field_int(p, key, 0, lo, hi, &v, err, errlen);
    if (rc < 0) return -1;
    if (rc == 0) *out = (int)v;
    return 0;
}

/* buf: an integer (Neovim/Vim buffer number) or a string. */
static int parse_buf(const rpc_val *p, char buf[SRV_KEY_LEN], char *err, size_t errlen) {
    const rpc_val *v = rpc_map_get(p, "buf");
    if (!v || v->type == RPC_NIL) return fl_seterr(err, errlen, "missing 'buf'");
    if (v->type == RPC_INT) {
        snprintf(buf, SRV_KEY_LEN, "%" PRId64, v->u.i);
        return 0;
    }
    if (v->type == RPC_STR) {
        if (v->u.s.len >= SRV_KEY_LEN - 1 || memchr(v->u.s.ptr, 0, v->u.s.len))
            return fl_seterr(err, errlen, "'buf' must be shorter than %d bytes, without NUL", SRV_KEY_LEN - 1);
        snprintf(buf, SRV_KEY_LEN, "%s", v->u.s.ptr);
        return 0;
    }
    return fl_seterr(err, errlen, "'buf' must be an integer or a string, got %s", rpc_type_name(v->type));
}

static int parse_mode(const rpc_val *p, int *mode, char *err, size_t errlen) {
    const char *s;
    int rc = rpc_field_str(p, "mode", 0, &s, NULL, err, errlen);
    if (rc) return rc < 0 ? -1 : 0;
    if (!strcmp(s, "line")) *mode = SRV_MODE_LINE;
    else if (!strcmp(s, "block")) *mode = SRV_MODE_BLOCK;
    else if (!strcmp(s, "auto")) *mode = SRV_MODE_AUTO;
    else return fl_seterr(err, errlen, "'mode' must be \"line\", \"block\" or \"auto\"");
    return 0;
}

/* extra: [{path, text}, ...] — other files for repository context. */
static int parse_extra(const rpc_val *p, srv_request *r, char *err, size_t errlen) {
    const rpc_val *arr = NULL;
    int rc = rpc_field_of_type(p, "extra", 0, RPC_ARR, &arr, err, errlen);
    if (rc) return rc < 0 ? -1 : 0;
    if (arr->u.arr.n > MAX_EXTRA) return fl_seterr(err, errlen, "'extra' holds more than %d files", MAX_EXTRA);
    if (!arr->u.arr.n) return 0;
    r->extra = calloc(arr->u.arr.n, sizeof *r->extra);
    if (!r->extra) return fl_seterr(err, errlen, "out of memory");
    for (size_t i = 0; i < arr->u.arr.n; i++) {
        const rpc_val *e = arr->u.arr.items[i];
        if (e->type != RPC_MAP) return fl_seterr(err, errlen, "'extra'[%zu] must be a map {path, text}, got %s", i, rpc_type_name(e->type));
        r->n_extra++;
        char why[256];
        if (req_str(e, "path", &r->extra[i].path, NULL, why, sizeof why) ||
            req_str(e, "text", &r->extra[i].text, &r->extra[i].text_len, why, sizeof why))
            return fl_seterr(err, errlen, "'extra'[%zu]: %s", i, why);
    }
    return 0;
}

int srv_request_parse(int kind, const rpc_val *p, srv_request *r, char buf[SRV_KEY_LEN], int64_t *id, char *err,
                      size_t errlen) {
    memset(r, 0, sizeof *r);
    r->n_alt = 1;
    r->tabstop = 8;
    r->max_tokens = kind == SRV_JOB_COMPLETE ? 64 : 512;
    *id = 0;
    if (parse_buf(p, buf, err, errlen) || opt_str(p, "path", &r->path, NULL, err, errlen) ||
        opt_str(p, "filetype", &r->filetype, NULL, err, errlen) ||
        opt_int(p, "max_tokens", 1, 4096, &r->max_tokens, err, errlen) ||
        opt_int(p, "max_ms", 0, 600000, &r->max_ms, err, errlen) ||
        rpc_field_int(p, "id", 0, 1, INT32_MAX, id, err, errlen) < 0)
        goto fail;
    if (kind == SRV_JOB_COMPLETE) {
        if (req_str(p, "prefix", &r->prefix, &r->prefix_len, err, errlen) ||
            opt_str(p, "repo", &r->repo, NULL, err, errlen) ||
            opt_str(p, "suffix", &r->suffix, &r->suffix_len, err, errlen) || parse_extra(p, r, err, errlen) ||
            opt_int(p, "n_alt", 1, SRV_MAX_ALT, &r->n_alt, err, errlen) || parse_mode(p, &r->mode, err, errlen) ||
            opt_int(p, "tabstop", 1, 32, &r->tabstop, err, errlen))
            goto fail;
    } else {
        if (req_str(p, "text", &r->code, &r->code_len, err, errlen) ||
            req_str(p, "instruction", &r->instruction, NULL, err, errlen) ||
            opt_str(p, "before", &r->before, &r->before_len, err, errlen) ||
            opt_str(p, "after", &r->after, &r->after_len, err, errlen) || opt_str(p, "spec", &r->spec, NULL, err, errlen))
            goto fail;
    }
    return 0;
fail:
    srv_request_free(r);
    return -1;
}

void srv_request_free(srv_request *r) {
    free(r->path);
    free(r->filetype);
    free(r->repo);
    free(r->prefix);
    free(r->suffix);
    for (int i = 0; i < r->n_extra; i++) {
        free(r->extra[i].path);
        free(r->extra[i].text);
    }
    free(r->extra);
    free(r->instruction);
    free(r->code);
    free(r->before);
    free(r->after);
    free(r->spec);
    memset(r, 0, sizeof *r);
}

int srv_request_spec(srv_request *r, int kind, const srv_config *cfg, const srv_model *m, char *err, size_t errlen) {
    const char *mode = r->spec && *r->spec                ? r->spec
                       : kind == SRV_JOB_COMPLETE ? cfg->complete_spec
                                                  : cfg->refactor_spec;
    char why[256];
    memset(&r->spec_p, 0, sizeof r->spec_p);
    if (spec_parse_mode(mode, m->draft != NULL, m->hp.n_expert > 0, &r->spec_p, why, sizeof why))
        return fl_seterr(err, errlen, "'spec': %s", strncmp(why, "--spec: ", 8) ? why : why + 8);
    r->spec_p.draft = m->draft;
    r->spec_p.n_threads = cfg->n_threads;
    return 0;
}

void srv_job_set_stop(srv_job *j, int v) {
    int expected = SRV_RUN;
    __atomic_compare_exchange_n(&j->stop, &expected, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

int srv_job_get_stop(const srv_job *j) { return __atomic_load_n(&j->stop, __ATOMIC_SEQ_CST); }
