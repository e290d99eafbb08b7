/* gen.c — the generator step. Plain greedy decoding here; a speculative
 * generator plugs in behind the same srv_gen_ops and may return several
 * verified tokens per step. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/sample.h"
#include "serve/internal.h"

typedef struct {
    srv_gen base;
    eng_ctx *ctx;
    int n_vocab;
    float *logits;      /* next-token logits of the context's current state */
    int32_t pending;    /* last returned token, not yet in the context; -1 none */
    int32_t first;      /* forced first token, -1 none */
} greedy_gen;

/* Appends the pending token to the context (its logits become current). */
static int flush_pending(greedy_gen *g, const volatile int *stop, char *err, size_t errlen) {
    if (g->pending < 0) return 0;
    int rc = eng_decode(g->ctx, &g->pending, 1, ENG_LOGITS_LAST, g->logits, stop, err, errlen);
    if (rc) return rc;
    g->pending = -1;
    return 0;
}

static int greedy_step(srv_gen *base, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen) {
    greedy_gen *g = (greedy_gen *)base;
    if (cap < 1) return fl_seterr(err, errlen, "generator: no room for a token");
    int rc = flush_pending(g, stop, err, errlen);
    if (rc) return rc;
    int32_t tok = g->first >= 0 ? g->first : samp_argmax(g->logits, g->n_vocab);
    g->first = -1;
    g->pending = tok;
    out[0] = tok;
    return 1;
}

static void greedy_free(srv_gen *base) {
    greedy_gen *g = (greedy_gen *)base;
    free(g->logits);
    free(g);
}

static const srv_gen_ops greedy_ops = {greedy_step, greedy_free};

srv_gen *srv_gen_greedy_new(eng_ctx *c, int n_vocab, const float *logits, int32_t first) {
    greedy_gen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->logits = fl_malloc_array((size_t)n_vocab, sizeof(float));
    if (!g->logits) { free(g); return NULL; }
    memcpy(g->logits, logits, (size_t)n_vocab * sizeof(float));
    g->base.ops = &greedy_ops;
    g->ctx = c;
    g->n_vocab = n_vocab;
    g->pending = -1;
    g->first = first;
    return &g->base;
}

int srv_generate_step(srv_gen *g, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen) {
    return g->ops->step(g, out, cap, stop, err, errlen);
}

void srv_gen_free(srv_gen *g) {
    if (g) g->ops->free(g);
}
