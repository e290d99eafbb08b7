/* oneshot.c — whole-buffer scans: scan_text() and scan_context() run one
 * stream over the buffer, so they find exactly what any chunking finds. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"

static int cmp_finding(const void *a, const void *b) {
    const scan_finding *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->rule, y->rule);
}

typedef struct {
    scan_finding *f;
    size_t n, cap;
    char *text;
    size_t len, tcap;
} collect;

static int take(collect *c, const scan_result *r) {
    if (c->n + r->nfindings > c->cap) {
        size_t nc = (c->n + r->nfindings) * 2 + 8;
        scan_finding *q = realloc(c->f, nc * sizeof *q);
        if (!q) return SCAN_ENOMEM;
        c->f = q;
        c->cap = nc;
    }
    if (r->nfindings) memcpy(c->f + c->n, r->findings, r->nfindings * sizeof *c->f);
    c->n += r->nfindings;
    if (c->len + r->len + 1 > c->tcap) {
        size_t nc = (c->len + r->len + 1) * 2;
        char *q = realloc(c->text, nc);
        if (!q) return SCAN_ENOMEM;
        c->text = q;
        c->tcap = nc;
    }
    memcpy(c->text + c->len, r->text, r->len);
    c->len += r->len;
    c->text[c->len] = 0;
    return 0;
}

static int run(const scan_rules *r, scan_role role, const char *filetype, const char *text,
               size_t len, collect *c) {
    memset(c, 0, sizeof *c);
    scan_stream *s = scan_stream_new(r, role, filetype);
    if (!s) return SCAN_ENOMEM;
    scan_result res;
    int rc = scan_feed(s, text, len, &res);
    if (!rc) rc = take(c, &res);
    if (!rc) rc = scan_finish(s, &res);
    if (!rc) rc = take(c, &res);
    scan_stream_free(s);
    if (rc) {
        free(c->f);
        free(c->text);
        memset(c, 0, sizeof *c);
        return rc;
    }
    if (c->n) qsort(c->f, c->n, sizeof *c->f, cmp_finding);
    return 0;
}

int scan_text(const scan_rules *r, scan_role role, const char *filetype,
              const char *text, size_t len, scan_finding **findings, size_t *n) {
    if (!r || (!text && len) || !findings || !n) return SCAN_EINVAL;
    collect c;
    int rc = run(r, role, filetype, text, len, &c);
    if (rc) return rc;
    if (c.text) sodium_memzero(c.text, c.len);     /* warn actions leave secrets in it */
    free(c.text);
    *findings = c.n ? c.f : (free(c.f), NULL);
    *n = c.n;
    return 0;
}

int scan_context(const scan_rules *r, const char *filetype, const char *text, size_t len,
                 char **masked, size_t *masked_len, scan_finding **findings, size_t *n) {
    if (!r || (!text && len) || !masked || !masked_len || !findings || !n) return SCAN_EINVAL;
    collect c;
    int rc = run(r, SCAN_ROLE_CONTEXT, filetype, text, len, &c);
    if (rc) return rc;
    if (!c.text && !(c.text = calloc(1, 1))) { free(c.f); return SCAN_ENOMEM; }
    *masked = c.text;
    *masked_len = c.len;
    *findings = c.n ? c.f : (free(c.f), NULL);
    *n = c.n;
    return 0;
}
