/* spec_step.c — one generator step: choose a source and a length, draft,
 * verify [pending token + drafts] in one exact batch, accept, roll back. */
#include "common/common.h"
#include "engine/spec_internal.h"

/* Draft k tokens from source src into d; sets *q (proposal distributions,
 * NULL for one-hot ones). Returns 0, -2, or -1. */
static int draft(spec_gen *g, int src, int k, const int32_t *ngram, int32_t *d, const float **q,
                 const volatile int *cancel, char *err, size_t errlen) {
    *q = NULL;
    if (src == SPEC_I_NGRAM) {
        for (int i = 0; i < k; i++) d[i] = ngram[i];
        return 0;
    }
    spec_drafter *m = &g->model[src];
    int behind = spec_drafter_behind(m, g->hist, g->n_hist);
    double t0 = fl_now();
    int rc = spec_drafter_sync(m, g->hist, g->n_hist, cancel, err, errlen);
    double t1 = fl_now();
    if (!rc) rc = spec_drafter_draft(m, k, d, cancel, err, errlen);
    if (rc < 0) return rc;
    double t2 = fl_now();
    g->st.t_draft += t2 - t0;
    g->st.src[src].t_draft += t2 - t0;
    if (behind > SPEC_CATCHUP) { /* a prompt to catch up on, then k - 1 drafting decodes */
        spec_policy_note_catchup(&g->pol, src, behind, t1 - t0);
        spec_policy_note_draft(&g->pol, src, k - 1, t2 - t1);
    } else {
        spec_policy_note_draft(&g->pol, src, behind + k - 1, t2 - t0);
    }
    *q = m->q;
    return 0;
}

/* Accept drafts d[0..k) against the verification rows; writes the emitted
 * tokens (accepted drafts, then a correction or bonus token) to out and
 * returns how many drafts were accepted. */
static int accept(spec_gen *g, const int32_t *d, int k, const float *q, int32_t *out) {
    int nv = g->n_vocab;
    for (int i = 0; i < k; i++) {
        const float *row = g->rows + (size_t)i * nv;
        int tok, ok;
        if (g->greedy) {
            tok = samp_argmax(row, nv);
            ok = tok == d[i];
        } else {
            samp_probs(g->s, row, g->probs);
            tok = spec_accept(g->s, nv, g->probs, q ? q + (size_t)i * nv : NULL, d[i], g->resid, &ok);
        }
        out[i] = tok;
        if (!ok) return i;
    }
    out[k] = samp_sample(g->s, g->rows + (size_t)k * nv); /* all accepted: the token after them */
    return k;
}

int spec_step(spec_gen *g, int32_t *out, int max, const volatile int *cancel, char *err, size_t errlen) {
    if (max <= 0) return 0;
    if (g->have_logits) { /* the first token after a feed comes from the feed's logits */
        int32_t tok = samp_sample(g->s, g->rows);
        g->hist[g->n_hist++] = tok;
        g->have_logits = 0;
        g->have_pending = 1;
        g->st.tokens++;
        out[0] = tok;
        return 1;
    }
    if (!g->have_pending) return fl_seterr(err, errlen, "speculative: nothing to continue (feed a prompt first)");
    int len = eng_ctx_len(g->t), room = g->cap - len - 1;
    if (room < 0) return fl_seterr(err, errlen, "speculative: context full (%d tokens)", g->cap);
    int kcap = g->p.draft_max < max - 1 ? g->p.draft_max : max - 1;
    if (kcap > room) kcap = room;

    spec_cand c[SPEC_NSRC] = {{0}};
    int32_t ng[SPEC_K_MAX];
    if (kcap > 0 && g->ngram.slot) {
        spec_ngram_update(&g->ngram, g->hist, g->n_hist);
        int match, got = spec_ngram_draft(&g->ngram, g->hist, g->n_hist, kcap, ng, &match);
        c[SPEC_I_NGRAM] = (spec_cand){got > 0, got, match, 0};
    }
    for (int s = 0; s < SPEC_NSRC; s++)
        if (kcap > 0 && g->model[s].ctx)
            c[s] = (spec_cand){1, kcap, 0, spec_drafter_behind(&g->model[s], g->hist, g->n_hist)};
    int k, src = spec_policy_choose(&g->pol, c, len, max, g->p.fallback, g->p.fixed_length, &k);

    int32_t *d = g->batch + 1;
    const float *q = NULL;
    if (src >= 0) {
        int rc = draft(g, src, k, ng, d, &q, cancel, err, errlen);
        if (rc < 0) return rc;
    }
    g->batch[0] = g->hist[g->n_hist - 1];
    eng_ctx_set_exact(g->t, 1);
    double t0 = fl_now();
    int rc = eng_decode(g->t, g->batch, k + 1, ENG_LOGITS_ALL, g->rows, cancel, err, errlen);
    double dt = fl_now() - t0;
    if (rc) return rc;
    int acc = accept(g, d, k, q, out);
    eng_ctx_truncate(g->t, len + 1 + acc);
    for (int i = 0; i <= acc; i++) g->hist[g->n_hist++] = out[i];

    spec_policy_note_verify(&g->pol, k, len, dt);
    spec_stats *st = &g->st;
    st->tokens += acc + 1;
    st->verify_calls++;
    st->t_verify += dt;
    if (src < 0) {
        st->plain_steps++;
    } else {
        spec_policy_note_accept(&g->pol, src, c[src].n, k, acc);
        st->drafted += k;
        st->accepted += acc;
        spec_src_stats *ss = &st->src[src];
        ss->steps++;
        ss->drafted += k;
        ss->accepted += acc;
        ss->k_last = k;
        ss->accept_rate = spec_policy_rate(&g->pol, src, c[src].n);
    }
    return acc + 1;
}
