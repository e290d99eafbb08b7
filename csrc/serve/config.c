/* config.c — server settings: defaults and the config file. See serve.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

void srv_config_defaults(srv_config *c) {
    memset(c, 0, sizeof *c);
    c->framing = RPC_FRAMING_AUTO;
    c->n_slots = 3;
    c->fim_order = SRV_FIM_AUTO;
    c->prompt_chunk = 64;
    c->cache = 1;
    c->heal = 1;
    c->loop_stop = 1;
    snprintf(c->refactor_spec, sizeof c->refactor_spec, "ngram");
    snprintf(c->complete_spec, sizeof c->complete_spec, "ngram");
    c->max_message = 8u << 20;
    c->out_soft = 256u << 10;
    c->out_hard = 4u << 20;
}

static char *strip(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

static int to_long(const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

/* The on/off setting (0 or 1) named key; NULL for other keys. */
static int *switch_of(srv_config *c, const char *key) {
    if (!strcmp(key, "cache")) return &c->cache;
    if (!strcmp(key, "heal")) return &c->heal;
    if (!strcmp(key, "loop_stop")) return &c->loop_stop;
    return NULL;
}

/* Applies one "key = value" setting. Returns 0 or -1 with err. */
static int apply(srv_config *c, const char *key, const char *val, char *err, size_t errlen) {
    long x;
    int *flag;
    if (!strcmp(key, "model")) snprintf(c->model_path, sizeof c->model_path, "%s", val);
    else if (!strcmp(key, "draft")) snprintf(c->draft_path, sizeof c->draft_path, "%s", val);
    else if (!strcmp(key, "allowlist")) snprintf(c->allowlist, sizeof c->allowlist, "%s", val);
    else if (!strcmp(key, "framing")) {
        if (!strcmp(val, "msgpack")) c->framing = RPC_FRAMING_MSGPACK;
        else if (!strcmp(val, "json")) c->framing = RPC_FRAMING_JSON;
        else if (!strcmp(val, "auto")) c->framing = RPC_FRAMING_AUTO;
        else return fl_seterr(err, errlen, "framing must be msgpack, json or auto");
    } else if (!strcmp(key, "fim_order")) {
        if (!strcmp(val, "psm")) c->fim_order = SRV_FIM_PSM;
        else if (!strcmp(val, "spm")) c->fim_order = SRV_FIM_SPM;
        else if (!strcmp(val, "auto")) c->fim_order = SRV_FIM_AUTO;
        else return fl_seterr(err, errlen, "fim_order must be psm, spm or auto");
    } else if (!strcmp(key, "threads")) {
        if (to_long(val, 0, 512, &x)) return fl_seterr(err, errlen, "threads must be in [0, 512]");
        c->n_threads = (int)x;
    } else if (!strcmp(key, "slots")) {
        if (to_long(val, 1, 64, &x)) return fl_seterr(err, errlen, "slots must be in [1, 64]");
        c->n_slots = (int)x;
    } else if (!strcmp(key, "ctx")) {
        if (to_long(val, 0, 1 << 20, &x)) return fl_seterr(err, errlen, "ctx must be in [0, 1048576]");
        c->n_ctx = (int)x;
    } else if (!strcmp(key, "prompt_chunk")) {
        if (to_long(val, 1, 4096, &x)) return fl_seterr(err, errlen, "prompt_chunk must be in [1, 4096]");
        c->prompt_chunk = (int)x;
    } else if ((flag = switch_of(c, key))) {
        if (to_long(val, 0, 1, &x)) return fl_seterr(err, errlen, "%s must be 0 or 1", key);
        *flag = (int)x;
    } else if (!strcmp(key, "refactor_spec") || !strcmp(key, "complete_spec")) {
        char *dst = key[0] == 'r' ? c->refactor_spec : c->complete_spec;
        spec_params p;
        if (strlen(val) >= sizeof c->refactor_spec || spec_parse_mode(val, 1, 1, &p, err, errlen))
            return fl_seterr(err, errlen, "%s must be none, auto, or sources (ngram, draft, self) joined by '+'", key);
        snprintf(dst, sizeof c->refactor_spec, "%s", val);
    } else if (!strcmp(key, "max_message")) {
        if (to_long(val, 1024, 1L << 30, &x)) return fl_seterr(err, errlen, "max_message must be in [1024, 1073741824]");
        c->max_message = (size_t)x;
    } else if (!strcmp(key, "out_soft") || !strcmp(key, "out_hard")) {
        if (to_long(val, 1024, 1L << 30, &x)) return fl_seterr(err, errlen, "%s must be in [1024, 1073741824]", key);
        *(key[4] == 's' ? &c->out_soft : &c->out_hard) = (size_t)x;
    } else if (!strncmp(key, "scan.", 5) && key[5]) {
        size_t len = strlen(c->scan_config);
        int n = snprintf(c->scan_config + len, sizeof c->scan_config - len, "%s = %s\n", key + 5, val);
        if (n < 0 || (size_t)n >= sizeof c->scan_config - len) return fl_seterr(err, errlen, "too many scan settings");
    } else return fl_seterr(err, errlen, "unknown key '%s'", key);
    return 0;
}

int srv_config_load(srv_config *c, const char *path, int optional, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if (optional && errno == ENOENT) return 1;
        return fl_seterr(err, errlen, "%s: %s", path, strerror(errno));
    }
    char line[2048], why[256];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = strip(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) { rc = fl_seterr(err, errlen, "%s:%d: expected 'key = value'", path, lineno); break; }
        *eq = 0;
        if (apply(c, strip(s), strip(eq + 1), why, sizeof why)) {
            rc = fl_seterr(err, errlen, "%s:%d: %s", path, lineno, why);
            break;
        }
    }
    fclose(f);
    return rc;
}
