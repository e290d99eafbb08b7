/* ac.c — Aho–Corasick automaton over ASCII-case-folded bytes.
 *
 * Built once per rule set: a trie of the keywords, failure links by BFS, then
 * a dense DFA (one row per state, one column per byte class) so scanning is
 * one table load per byte. Bytes that occur in no keyword share class 0.
 * States are renumbered so that those reporting a keyword come last, and a
 * state is stored as its row offset (id * nclass): the scan loop is one add,
 * one load and one compare per byte.
 */
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"

typedef struct { int data; uint32_t len; } ac_out;

struct scan_ac {
    uint8_t cls[256];       /* folded byte -> class */
    uint32_t nclass, nstate;
    uint16_t *delta;        /* nstate * nclass: next state's row offset */
    uint32_t first_out;     /* row offset of the first state that reports */
    uint32_t *out_off;      /* nstate + 1, by id: outputs of id s are out[out_off[s] .. out_off[s+1]) */
    ac_out *out;
    uint16_t *depth;        /* keyword prefix length, by id */
};

static uint8_t fold(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

void scan_ac_free(scan_ac *ac) {
    if (!ac) return;
    free(ac->delta);
    free(ac->out_off);
    free(ac->out);
    free(ac->depth);
    free(ac);
}

/* Builds the trie into `go` (nstate*nclass, -1 = no edge); returns state count or -1. */
static long build_trie(scan_ac *ac, const char *const *kw, size_t n, int32_t **go_out,
                       uint32_t **term_out) {
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) cap += strlen(kw[i]);
    if (cap > 65535) return -1;
    int32_t *go = malloc(cap * ac->nclass * sizeof *go);
    uint32_t *term = calloc(n, sizeof *term);
    if (!go || !term) { free(go); free(term); return -1; }
    memset(go, 0xff, cap * ac->nclass * sizeof *go);
    uint32_t ns = 1;
    ac->depth = calloc(cap, sizeof *ac->depth);
    if (!ac->depth) { free(go); free(term); return -1; }
    for (size_t i = 0; i < n; i++) {
        uint32_t s = 0;
        for (const uint8_t *p = (const uint8_t *)kw[i]; *p; p++) {
            uint32_t c = ac->cls[fold(*p)];
            if (go[s * ac->nclass + c] < 0) {
                ac->depth[ns] = (uint16_t)(ac->depth[s] + 1);
                go[s * ac->nclass + c] = (int32_t)ns++;
            }
            s = (uint32_t)go[s * ac->nclass + c];
        }
        term[i] = s;
    }
    *go_out = go;
    *term_out = term;
    return ns;
}

/* Renumbers states (reporting ones last) and turns delta entries into row
 * offsets. Returns 0, or -1 when out of memory or the table is too large. */
static int renumber(scan_ac *ac) {
    uint32_t ns = ac->nstate, nc = ac->nclass, k = 0;
    if ((size_t)ns * nc > 65535) return -1;
    uint32_t *id = malloc(ns * sizeof *id), *off = malloc((ns + 1) * sizeof *off);
    uint16_t *delta = malloc((size_t)ns * nc * sizeof *delta), *depth = malloc(ns * sizeof *depth);
    if (!id || !off || !delta || !depth) { free(id); free(off); free(delta); free(depth); return -1; }
    for (int pass = 0; pass < 2; pass++)          /* root (no output) keeps id 0 */
        for (uint32_t s = 0; s < ns; s++)
            if ((ac->out_off[s] != ac->out_off[s + 1]) == pass) id[s] = k++;
    uint32_t first = ns;
    for (uint32_t s = 0; s < ns; s++) {
        if (ac->out_off[s] != ac->out_off[s + 1] && id[s] < first) first = id[s];
        for (uint32_t c = 0; c < nc; c++) delta[id[s] * nc + c] = (uint16_t)(id[ac->delta[s * nc + c]] * nc);
        depth[id[s]] = ac->depth[s];
        off[id[s]] = ac->out_off[s + 1] - ac->out_off[s];
    }
    ac_out *out = malloc((ac->out_off[ns] ? ac->out_off[ns] : 1) * sizeof *out);
    if (!out) { free(id); free(off); free(delta); free(depth); return -1; }
    uint32_t total = 0;
    for (uint32_t t = 0; t < ns; t++) {           /* t: new id */
        uint32_t cntt = off[t];
        off[t] = total;
        total += cntt;
    }
    off[ns] = total;
    for (uint32_t s = 0; s < ns; s++)
        memcpy(out + off[id[s]], ac->out + ac->out_off[s], (ac->out_off[s + 1] - ac->out_off[s]) * sizeof *out);
    free(ac->delta); free(ac->depth); free(ac->out_off); free(ac->out); free(id);
    ac->delta = delta;
    ac->depth = depth;
    ac->out_off = off;
    ac->out = out;
    ac->first_out = first * nc;
    return 0;
}

scan_ac *scan_ac_build(const char *const *kw, const int *kw_data, size_t n) {
    scan_ac *ac = calloc(1, sizeof *ac);
    if (!ac) return NULL;
    ac->nclass = 1;
    for (size_t i = 0; i < n; i++)
        for (const uint8_t *p = (const uint8_t *)kw[i]; *p; p++) {
            uint8_t c = fold(*p);
            if (!ac->cls[c]) ac->cls[c] = (uint8_t)ac->nclass++;
        }
    for (int c = 'A'; c <= 'Z'; c++) ac->cls[c] = ac->cls[c + 32];

    int32_t *go = NULL;
    uint32_t *term = NULL, *fail = NULL, *queue = NULL, *cnt = NULL;
    long ns = build_trie(ac, kw, n, &go, &term);
    if (ns < 0) goto fail;
    ac->nstate = (uint32_t)ns;
    fail = calloc((size_t)ns, sizeof *fail);
    queue = malloc((size_t)ns * sizeof *queue);
    ac->delta = malloc((size_t)ns * ac->nclass * sizeof *ac->delta);
    if (!fail || !queue || !ac->delta) goto fail;

    /* BFS: fill delta and failure links level by level. */
    size_t qh = 0, qt = 0;
    for (uint32_t c = 0; c < ac->nclass; c++) {
        int32_t t = go[c];
        ac->delta[c] = (uint16_t)(t > 0 ? t : 0);
        if (t > 0) { fail[t] = 0; queue[qt++] = (uint32_t)t; }
    }
    while (qh < qt) {
        uint32_t s = queue[qh++];
        for (uint32_t c = 0; c < ac->nclass; c++) {
            int32_t t = go[s * ac->nclass + c];
            if (t > 0) {
                fail[t] = ac->delta[fail[s] * ac->nclass + c];
                ac->delta[s * ac->nclass + c] = (uint16_t)t;
                queue[qt++] = (uint32_t)t;
            } else {
                ac->delta[s * ac->nclass + c] = ac->delta[fail[s] * ac->nclass + c];
            }
        }
    }

    /* Outputs: a state reports its own keywords and those of its failure chain. */
    cnt = calloc((size_t)ns + 1, sizeof *cnt);
    ac->out_off = calloc((size_t)ns + 1, sizeof *ac->out_off);
    if (!cnt || !ac->out_off) goto fail;
    for (size_t i = 0; i < n; i++) cnt[term[i]]++;
    size_t total = 0;
    for (size_t k = 0; k < qt; k++) {          /* BFS order: fail[s] comes first */
        uint32_t s = queue[k];
        cnt[s] += cnt[fail[s]];
    }
    for (uint32_t s = 0; s < ns; s++) { ac->out_off[s] = (uint32_t)total; total += cnt[s]; }
    ac->out_off[ns] = (uint32_t)total;
    ac->out = malloc((total ? total : 1) * sizeof *ac->out);
    if (!ac->out) goto fail;
    memset(cnt, 0, ((size_t)ns + 1) * sizeof *cnt);
    for (uint32_t s = 0; s < ns; s++)
        for (uint32_t t = s; t; t = fail[t])
            for (size_t i = 0; i < n; i++)
                if (term[i] == t)
                    ac->out[ac->out_off[s] + cnt[s]++] =
                        (ac_out){kw_data[i], (uint32_t)strlen(kw[i])};
    if (renumber(ac) < 0) goto fail;
    free(go); free(term); free(fail); free(queue); free(cnt);
    return ac;
fail:
    free(go); free(term); free(fail); free(queue); free(cnt);
    scan_ac_free(ac);
    return NULL;
}

void scan_ac_run(const scan_ac *ac, uint32_t *state, const uint8_t *p, size_t n,
                 size_t abs, scan_ac_cb cb, void *ctx) {
    uint32_t s = *state;
    const uint16_t *d = ac->delta;
    const uint8_t *cls = ac->cls;
    const uint32_t first = ac->first_out;
    for (size_t i = 0; i < n; i++) {
        s = d[s + cls[p[i]]];
        if (s >= first) {
            uint32_t id = s / ac->nclass;
            for (uint32_t k = ac->out_off[id]; k < ac->out_off[id + 1]; k++)
                cb(ctx, ac->out[k].data, ac->out[k].len, abs + i + 1);
        }
    }
    *state = s;
}

size_t scan_ac_depth(const scan_ac *ac, uint32_t state) { return ac->depth[state / ac->nclass]; }
