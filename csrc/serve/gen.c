/* gen.c — the generator step: plain greedy decoding, or greedy speculative
 * decoding (csrc/engine/spec.h) behind the same srv_gen_ops, which returns
 * several verified tokens per step and the same tokens as plain decoding. */
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

static const srv_gen_ops greedy_ops = {greedy_step, greedy_free, NULL};

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

typedef struct {
    srv_gen base;
    eng_ctx *ctx;
    samp *s;
    spec_gen *g;
} spec_srv_gen;

static int spec_srv_step(srv_gen *base, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen) {
    spec_srv_gen *g = (spec_srv_gen *)base;
    return spec_step(g->g, out, cap, stop, err, errlen);
}

static void spec_srv_free(srv_gen *base) {
    spec_srv_gen *g = (spec_srv_gen *)base;
    spec_free(g->g);
    samp_free(g->s);
    eng_ctx_set_exact(g->ctx, 0); /* the slot's next prompt runs the batch kernels again */
    free(g);
}

static void spec_srv_stats(const srv_gen *base, srv_req_stats *st) {
    const spec_srv_gen *g = (const spec_srv_gen *)base;
    spec_stats ss;
    spec_get_stats(g->g, &ss);
    st->spec_drafted += ss.drafted;
    st->spec_accepted += ss.accepted;
    st->spec_steps += ss.verify_calls - ss.plain_steps;
}

static const srv_gen_ops spec_ops = {spec_srv_step, spec_srv_free, spec_srv_stats};

srv_gen *srv_gen_spec_new(eng_ctx *c, int n_vocab, const spec_params *p, const float *logits, char *err,
                          size_t errlen) {
    spec_srv_gen *g = calloc(1, sizeof *g);
    samp_params sp = {.temp = 0};
    if (!g || !(g->s = samp_new(&sp, n_vocab))) {
        free(g);
        fl_seterr(err, errlen, "out of memory");
        return NULL;
    }
    if (!(g->g = spec_new(c, g->s, p, err, errlen))) {
        samp_free(g->s);
        free(g);
        return NULL;
    }
    spec_set_logits(g->g, logits);
    g->base.ops = &spec_ops;
    g->ctx = c;
    return &g->base;
}

int srv_generate_step(srv_gen *g, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen) {
    return g->ops->step(g, out, cap, stop, err, errlen);
}

void srv_gen_stats(const srv_gen *g, srv_req_stats *st) {
    if (g && g->ops->stats) g->ops->stats(g, st);
}

void srv_gen_free(srv_gen *g) {
    if (g) g->ops->free(g);
}
