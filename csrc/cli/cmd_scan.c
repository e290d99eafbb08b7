/* cmd_scan.c — `flint scan`: run the secrets-and-injection scanner over stdin.
 *
 *   flint scan [--role output|context] [--filetype FT] [--config FILE]
 *              [--allowlist FILE [--allow-add]] [--chunk N] [--text] < file
 *   flint scan --rules [--config FILE]
 *
 * Prints one JSON object per finding and line:
 *   {"start":S,"end":E,"rule":"...","kind":"secret|injection|unicode|prompt-injection",
 *    "severity":"...","action":"redact|halt|warn","message":"..."}
 * with byte offsets into stdin (plus "fingerprint" for secrets when an
 * allow-list is given). Never prints a matched secret. --text prints the
 * text the scanner emits instead (markers substituted; for role context the
 * masked prompt text). --chunk N feeds stdin in N-byte chunks (the findings
 * do not change). --allow-add adds every secret found to the allow-list file.
 * --rules lists every rule (id, kind, action after --config, description).
 * Exit status 0 when the scan ran (findings or not), 2 on bad usage, 1 on
 * errors.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "scan/scan.h"

static char *read_stream(FILE *f, size_t *len) {
    size_t cap = 65536, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *q = realloc(buf, cap *= 2);
            if (!q) { free(buf); return NULL; }
            buf = q;
        }
    }
    if (buf && ferror(f)) { free(buf); return NULL; }
    *len = n;
    return buf;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n;
    char *s = read_stream(f, &n);
    fclose(f);
    if (s) s[n] = 0;          /* read_stream always leaves room for one more byte */
    return s;
}

static void print_finding(const scan_finding *f, int with_fp) {
    json_t *o = json_object();
    json_object_set_new(o, "start", json_integer((json_int_t)f->start));
    json_object_set_new(o, "end", json_integer((json_int_t)f->end));
    json_object_set_new(o, "rule", json_string(f->rule));
    json_object_set_new(o, "kind", json_string(scan_kind_name(f->kind)));
    json_object_set_new(o, "severity", json_string(scan_severity_name(f->severity)));
    json_object_set_new(o, "action", json_string(scan_action_name(f->action)));
    json_object_set_new(o, "message", json_string(f->message));
    if (with_fp && f->has_fingerprint) {
        char hex[2 * SCAN_FP_BYTES + 1];
        json_object_set_new(o, "fingerprint",
                            json_string(sodium_bin2hex(hex, sizeof hex, f->fingerprint, SCAN_FP_BYTES)));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) puts(s);
    free(s);
    json_decref(o);
}

static int cmp_finding(const void *a, const void *b) {
    const scan_finding *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->rule, y->rule);
}

static void list_rules(const scan_rules *r) {
    for (size_t i = 0; i < scan_rule_count(r); i++) {
        scan_kind k;
        scan_action a;
        const char *desc;
        const char *id = scan_rule_info(r, i, &k, &a, &desc);
        printf("%-40s %-16s %-6s %s\n", id, scan_kind_name(k), scan_action_name(a), desc);
    }
}

typedef struct { scan_finding *f; size_t n; int text; } found;

static int collect(found *c, const scan_result *res) {
    if (c->text) fwrite(res->text, 1, res->len, stdout);
    scan_finding *q = realloc(c->f, (c->n + res->nfindings + 1) * sizeof *q);
    if (!q) return SCAN_ENOMEM;
    c->f = q;
    if (res->nfindings) memcpy(c->f + c->n, res->findings, res->nfindings * sizeof *q);
    c->n += res->nfindings;
    return 0;
}

/* Feeds the input in chunks of `chunk` bytes; collects the findings sorted
 * by position (and with text set prints the emitted text). */
static int scan_chunks(scan_rules *r, scan_role role, const char *ft, const char *in, size_t n,
                       size_t chunk, found *c) {
    scan_stream *s = scan_stream_new(r, role, ft);
    if (!s) return SCAN_ENOMEM;
    scan_result res;
    int rc = 0;
    for (size_t off = 0; !rc && off < n; off += chunk) {
        size_t len = n - off < chunk ? n - off : chunk;
        rc = scan_feed(s, in + off, len, &res);
        if (!rc) rc = collect(c, &res);
    }
    if (!rc) rc = scan_finish(s, &res);
    if (!rc) rc = collect(c, &res);
    scan_stream_free(s);
    if (!rc && c->n) qsort(c->f, c->n, sizeof *c->f, cmp_finding);
    return rc;
}

int cmd_scan(int argc, char **argv) {
    const char *ft = NULL, *config = NULL, *allow = NULL;
    scan_role role = SCAN_ROLE_OUTPUT;
    int text = 0, allow_add = 0, rules = 0;
    long chunk = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--role")) {
            if (!(v = arg_value(argc, argv, &i))) return 2;
            if (!strcmp(v, "output")) role = SCAN_ROLE_OUTPUT;
            else if (!strcmp(v, "context")) role = SCAN_ROLE_CONTEXT;
            else { fprintf(stderr, "flint scan: --role is output or context\n"); return 2; }
        } else if (!strcmp(argv[i], "--filetype")) { if (!(ft = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(argv[i], "--config")) { if (!(config = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(argv[i], "--allowlist")) { if (!(allow = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(argv[i], "--allow-add")) allow_add = 1;
        else if (!strcmp(argv[i], "--text")) text = 1;
        else if (!strcmp(argv[i], "--rules")) rules = 1;
        else if (!strcmp(argv[i], "--chunk")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int("--chunk", v, 1, 1L << 30, &chunk)) return 2;
        } else return arg_unknown(argv[0], argv[i]);
    }
    if (allow_add && !allow) { fprintf(stderr, "flint scan: --allow-add needs --allowlist\n"); return 2; }
    char err[256];
    char *cfg = NULL;
    if (config && !(cfg = read_file(config))) {
        fprintf(stderr, "flint scan: cannot read config %s\n", config);
        return 1;
    }
    scan_rules *r = scan_rules_new(cfg, err, sizeof err);
    free(cfg);
    if (!r) { fprintf(stderr, "flint scan: %s\n", err); return 1; }
    if (rules) {
        list_rules(r);
        scan_rules_free(r);
        return 0;
    }
    scan_allow *al = scan_rules_allowlist(r);
    if (allow && scan_allow_load(al, allow, err, sizeof err) < 0) {
        fprintf(stderr, "flint scan: %s\n", err);
        scan_rules_free(r);
        return 1;
    }
    size_t n;
    char *in = read_stream(stdin, &n);
    if (!in) { fprintf(stderr, "flint scan: cannot read stdin\n"); scan_rules_free(r); return 1; }
    found c = {NULL, 0, text};
    int rc = scan_chunks(r, role, ft, in, n, chunk ? (size_t)chunk : (n ? n : 1), &c);
    scan_finding *f = c.f;
    size_t nf = c.n;
    sodium_memzero(in, n);
    free(in);
    if (rc) {
        fprintf(stderr, "flint scan: out of memory\n");
        free(f);
        scan_rules_free(r);
        return 1;
    }
    for (size_t i = 0; i < nf && !text; i++) print_finding(&f[i], allow != NULL);
    for (size_t i = 0; i < nf && allow_add; i++)
        if (f[i].has_fingerprint) scan_allow_add_finding(al, &f[i]);
    if (allow_add && scan_allow_save(al, allow, err, sizeof err) < 0) {
        fprintf(stderr, "flint scan: %s\n", err);
        rc = 1;
    }
    free(f);
    scan_rules_free(r);
    return rc ? 1 : 0;
}
