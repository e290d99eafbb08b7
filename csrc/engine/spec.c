/* spec.c — the speculative generator's lifecycle, feeding and rewinding
 * (spec_step.c has the steps). See spec.h. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/internal.h"
#include "engine/spec_internal.h"

/* Fill in defaults and check ranges. */
static int check_params(spec_params *p, const eng_hparams *hp, char *err, size_t errlen) {
    if (p->sources & ~(unsigned)(SPEC_SRC_DRAFT | SPEC_SRC_NGRAM | SPEC_SRC_SELF))
        return fl_seterr(err, errlen, "speculative: unknown source bits 0x%x", p->sources);
    if (!p->draft_max) p->draft_max = 16;
    if (!p->ngram_min) p->ngram_min = 1;
    if (!p->ngram_max) p->ngram_max = p->ngram_min > 4 ? p->ngram_min : 4;
    if (p->draft_max < 1 || p->draft_max > SPEC_K_MAX)
        return fl_seterr(err, errlen, "speculative: draft length %d outside [1, %d]", p->draft_max, SPEC_K_MAX);
    if (p->ngram_min < 1 || p->ngram_max < p->ngram_min || p->ngram_max > SPEC_NGRAM_MAX)
        return fl_seterr(err, errlen, "speculative: n-gram lengths %d..%d outside 1..%d", p->ngram_min, p->ngram_max,
                         SPEC_NGRAM_MAX);
    if ((p->sources & SPEC_SRC_DRAFT) && !p->draft)
        return fl_seterr(err, errlen, "speculative: draft source without a draft model");
    if (p->sources & SPEC_SRC_SELF) {
        int moe = hp->n_expert > 0;
        if (!p->self_experts) p->self_experts = moe ? 1 : 0;
        if (!p->self_layers) p->self_layers = moe ? hp->n_layer : (hp->n_layer + 1) / 2;
        if (p->self_experts < 0 || p->self_experts > hp->n_expert_used || p->self_layers < 1 ||
            p->self_layers > hp->n_layer)
            return fl_seterr(err, errlen, "speculative: self-drafting with %d experts and %d layers (the model has %d of %d experts per token, %d layers)",
                             p->self_experts, p->self_layers, hp->n_expert_used, hp->n_expert, hp->n_layer);
        if (p->self_experts == hp->n_expert_used && p->self_layers == hp->n_layer)
            return fl_seterr(err, errlen, "speculative: self-drafting with all experts and layers is the model itself");
    }
    if (p->n_threads < 0 || p->n_threads > 512)
        return fl_seterr(err, errlen, "speculative: %d threads", p->n_threads);
    return 0;
}

/* Prior drafting cost per token as a fraction of one target step: the
 * ratio of weight bytes read per token (refined by measurement at once). */
static void draft_priors(const spec_params *p, const eng_hparams *hp, double prior[SPEC_NSRC]) {
    prior[SPEC_I_NGRAM] = 0;
    prior[SPEC_I_DRAFT] = p->draft ? (double)eng_model_hparams(p->draft)->weight_bytes_active /
                                         (double)(hp->weight_bytes_active ? hp->weight_bytes_active : 1)
                                   : 1;
    double layers = (double)p->self_layers / hp->n_layer;
    prior[SPEC_I_SELF] = hp->n_expert_used > 0 ? layers * (0.5 + 0.5 * p->self_experts / hp->n_expert_used) : layers;
}

spec_gen *spec_new(eng_ctx *target, samp *s, const spec_params *pp, char *err, size_t errlen) {
    spec_params p = {0};
    if (pp) p = *pp;
    if (!target || !s) { fl_seterr(err, errlen, "speculative: no target context or sampler"); return NULL; }
    const eng_hparams *hp = eng_model_hparams(target->m);
    if (check_params(&p, hp, err, errlen)) return NULL;
    if ((p.sources & SPEC_SRC_DRAFT) && spec_vocab_check(target->m, p.draft, err, errlen)) return NULL;
    spec_gen *g = calloc(1, sizeof *g);
    if (!g) { fl_seterr(err, errlen, "speculative: out of memory"); return NULL; }
    g->t = target;
    g->s = s;
    g->p = p;
    g->n_vocab = hp->n_vocab;
    g->greedy = samp_get_params(s)->temp <= 0;
    g->cap = eng_ctx_capacity(target);
    g->n_hist = eng_ctx_len(target);
    size_t nv = (size_t)hp->n_vocab, rows = (size_t)p.draft_max + 1;
    g->hist = fl_malloc_array((size_t)g->cap + 1, sizeof(int32_t));
    g->rows = fl_malloc_array(rows * nv, sizeof(float));
    g->probs = fl_malloc_array(nv, sizeof(float));
    g->resid = fl_malloc_array(nv, sizeof(float));
    g->batch = fl_malloc_array(rows, sizeof(int32_t));
    if (!g->hist || !g->rows || !g->probs || !g->resid || !g->batch ||
        ((p.sources & SPEC_SRC_NGRAM) && spec_ngram_init(&g->ngram, p.ngram_min, p.ngram_max, g->cap + 1))) {
        fl_seterr(err, errlen, "speculative: out of memory");
        goto fail;
    }
    memcpy(g->hist, eng_ctx_tokens(target), (size_t)g->n_hist * sizeof(int32_t));
    eng_ctx_params cp = {.n_ctx = g->cap, .n_threads = p.n_threads ? p.n_threads : pool_size(target->pool)};
    if ((p.sources & SPEC_SRC_DRAFT) &&
        spec_drafter_init(&g->model[SPEC_I_DRAFT], p.draft, &cp, samp_get_params(s), p.draft_max, err, errlen))
        goto fail;
    cp.n_expert_used = p.self_experts;
    cp.n_layer_used = p.self_layers;
    if ((p.sources & SPEC_SRC_SELF) &&
        spec_drafter_init(&g->model[SPEC_I_SELF], target->m, &cp, samp_get_params(s), p.draft_max, err, errlen))
        goto fail;
    double prior[SPEC_NSRC];
    draft_priors(&p, hp, prior);
    if (p.memory && p.memory->valid) g->pol = p.memory->pol;
    else spec_policy_init(&g->pol, prior);
    return g;
fail:
    g->p.memory = NULL; /* nothing measured: leave the caller's memory as it was */
    spec_free(g);
    return NULL;
}

spec_memory *spec_memory_new(void) { return calloc(1, sizeof(spec_memory)); }

void spec_memory_free(spec_memory *m) { free(m); }

void spec_memory_reset(spec_memory *m) {
    if (m) m->valid = 0;
}

void spec_free(spec_gen *g) {
    if (!g) return;
    if (g->p.memory) {
        g->p.memory->pol = g->pol;
        g->p.memory->valid = 1;
    }
    eng_ctx_set_exact(g->t, 0);
    spec_drafter_free(&g->model[SPEC_I_DRAFT]);
    spec_drafter_free(&g->model[SPEC_I_SELF]);
    spec_ngram_free(&g->ngram);
    free(g->hist);
    free(g->rows);
    free(g->probs);
    free(g->resid);
    free(g->batch);
    free(g);
}

int spec_feed(spec_gen *g, const int32_t *tokens, int n, const volatile int *cancel, char *err, size_t errlen) {
    if (n < 1) return fl_seterr(err, errlen, "speculative: nothing to feed");
    int len = eng_ctx_len(g->t);
    if (len + g->have_pending + n > g->cap)
        return fl_seterr(err, errlen, "speculative: context full (%d + %d tokens > %d)", len + g->have_pending, n,
                         g->cap);
    int32_t *in = fl_malloc_array((size_t)n + 1, sizeof(int32_t));
    if (!in) return fl_seterr(err, errlen, "speculative: out of memory");
    int m = 0;
    if (g->have_pending) in[m++] = g->hist[g->n_hist - 1];
    memcpy(in + m, tokens, (size_t)n * sizeof(int32_t));
    double t0 = spec_clock();
    eng_ctx_set_exact(g->t, 0);
    int rc = eng_decode(g->t, in, m + n, ENG_LOGITS_LAST, g->rows, cancel, err, errlen);
    free(in);
    if (rc) return rc;
    double dt = spec_clock() - t0;
    g->st.t_feed += dt;
    spec_policy_note_feed(&g->pol, m + n, dt);
    memcpy(g->hist + g->n_hist, tokens, (size_t)n * sizeof(int32_t));
    g->n_hist += n;
    g->have_pending = 0;
    g->have_logits = 1;
    return 0;
}

void spec_set_logits(spec_gen *g, const float *logits) {
    int len = eng_ctx_len(g->t), same = 0;
    const int32_t *tok = eng_ctx_tokens(g->t);
    while (same < len && same < g->n_hist && tok[same] == g->hist[same]) same++;
    if (g->ngram.slot) spec_ngram_rewind(&g->ngram, same);
    memcpy(g->hist, tok, (size_t)len * sizeof(int32_t));
    g->n_hist = len;
    g->have_pending = 0;
    g->have_logits = 1;
    memcpy(g->rows, logits, (size_t)g->n_vocab * sizeof(float));
}

int spec_rewind(spec_gen *g, int n_keep) {
    if (n_keep < 0 || n_keep > g->n_hist) return -1;
    g->n_hist = n_keep;
    g->have_logits = 0;
    g->have_pending = n_keep > 0; /* the last kept token is decoded again by the next step */
    eng_ctx_truncate(g->t, n_keep > 0 ? n_keep - 1 : 0);
    if (g->ngram.slot) spec_ngram_rewind(&g->ngram, n_keep);
    return 0;
}

const int32_t *spec_tokens(const spec_gen *g, int *n) {
    *n = g->n_hist;
    return g->hist;
}

void spec_get_stats(const spec_gen *g, spec_stats *out) {
    *out = g->st;
    for (int k = 0; k <= SPEC_K_MAX; k++)
        out->verify_time[k] = g->pol.vb[k].w > 0 ? spec_policy_verify_cost(&g->pol, k, eng_ctx_len(g->t)) : 0;
    for (int s = 0; s < SPEC_NSRC; s++) out->src[s].draft_cost = g->pol.dcost[s];
}

int spec_parse_mode(const char *s, int have_draft, int target_is_moe, spec_params *p, char *err, size_t errlen) {
    p->sources = 0;
    p->fallback = 0;
    if (!strcmp(s, "none")) return 0;
    if (!strcmp(s, "auto")) {
        p->sources = SPEC_SRC_NGRAM | (have_draft ? SPEC_SRC_DRAFT : 0) | (target_is_moe ? SPEC_SRC_SELF : 0);
        p->fallback = 1;
        return 0;
    }
    for (const char *a = s; *a;) {
        size_t n = strcspn(a, "+,");
        if (n == 5 && !strncmp(a, "draft", 5)) p->sources |= SPEC_SRC_DRAFT;
        else if (n == 5 && !strncmp(a, "ngram", 5)) p->sources |= SPEC_SRC_NGRAM;
        else if (n == 4 && !strncmp(a, "self", 4)) p->sources |= SPEC_SRC_SELF;
        else return fl_seterr(err, errlen, "--spec: unknown mode '%.*s' (none, auto, draft, ngram, self, or sources joined by '+')", (int)n, a);
        a += n;
        if (*a) a++;
    }
    if (!p->sources) return fl_seterr(err, errlen, "--spec: empty mode");
    if ((p->sources & SPEC_SRC_DRAFT) && !have_draft) return fl_seterr(err, errlen, "--spec draft needs --draft MODEL");
    return 0;
}
