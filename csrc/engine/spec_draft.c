/* spec_draft.c — drafting with a model (a draft model, or the target with
 * fewer experts/layers), and the vocabulary check for draft models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/spec_internal.h"

int spec_drafter_init(spec_drafter *d, eng_model *m, const eng_ctx_params *cp, const samp_params *sp, int k_max,
                      char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    d->n_vocab = eng_model_hparams(m)->n_vocab;
    if (!(d->ctx = eng_ctx_new(m, cp, err, errlen))) return -1;
    d->logits = fl_malloc_array((size_t)d->n_vocab, sizeof(float));
    int ok = d->logits != NULL;
    if (sp->temp > 0) {
        samp_params dp = *sp;
        dp.seed = sp->seed ^ 0x5bd1e9955bd1e995ull; /* proposals draw from their own stream */
        d->s = samp_new(&dp, d->n_vocab);
        d->q = fl_malloc_array((size_t)k_max * (size_t)d->n_vocab, sizeof(float));
        ok = ok && d->s && d->q;
    }
    if (!ok) {
        spec_drafter_free(d);
        return fl_seterr(err, errlen, "speculative: out of memory for a drafting context");
    }
    return 0;
}

void spec_drafter_free(spec_drafter *d) {
    eng_ctx_free(d->ctx);
    samp_free(d->s);
    free(d->logits);
    free(d->q);
    memset(d, 0, sizeof *d);
}

/* Length of the common prefix of the context and hist[0..n), at most n - 1. */
static int common(const spec_drafter *d, const int32_t *hist, int n) {
    const int32_t *have = eng_ctx_tokens(d->ctx);
    int len = eng_ctx_len(d->ctx), keep = 0;
    while (keep < len && keep < n - 1 && have[keep] == hist[keep]) keep++;
    return keep;
}

int spec_drafter_behind(const spec_drafter *d, const int32_t *hist, int n) { return n - common(d, hist, n); }

int spec_drafter_sync(spec_drafter *d, const int32_t *hist, int n, const volatile int *cancel, char *err,
                      size_t errlen) {
    int keep = common(d, hist, n);
    eng_ctx_truncate(d->ctx, keep);
    return eng_decode(d->ctx, hist + keep, n - keep, ENG_LOGITS_LAST, d->logits, cancel, err, errlen);
}

int spec_drafter_draft(spec_drafter *d, int k, int32_t *out, const volatile int *cancel, char *err, size_t errlen) {
    int rc = 0;
    for (int i = 0; !rc && i < k; i++) {
        if (d->s) {
            float *q = d->q + (size_t)i * d->n_vocab;
            samp_probs(d->s, d->logits, q);
            out[i] = samp_draw(d->s, q);
        } else {
            out[i] = samp_argmax(d->logits, d->n_vocab);
        }
        if (i + 1 < k) rc = eng_decode(d->ctx, &out[i], 1, ENG_LOGITS_LAST, d->logits, cancel, err, errlen);
    }
    return rc ? rc : k;
}

/* ---- vocabulary check ---- */

static const gguf_kv *token_list(const gguf_file *g) {
    const gguf_kv *kv = gguf_find(g, "tokenizer.ggml.tokens");
    return kv && kv->type == GGUF_ARRAY && kv->arr_type == GGUF_STRING ? kv : NULL;
}

int spec_vocab_check(const eng_model *target, const eng_model *draft, char *err, size_t errlen) {
    int nt = eng_model_hparams(target)->n_vocab, nd = eng_model_hparams(draft)->n_vocab;
    if (nt != nd)
        return fl_seterr(err, errlen, "draft model: vocabulary of %d tokens, the model has %d (they must match)", nd, nt);
    const gguf_file *gt = eng_model_gguf(target), *gd = eng_model_gguf(draft);
    const gguf_kv *tt = token_list(gt), *td = token_list(gd);
    if (!tt && !td) return 0; /* neither carries a vocabulary (synthetic models): ids are all there is */
    if (!tt || !td)
        return fl_seterr(err, errlen, "draft model: only %s has a vocabulary (tokenizer.ggml.tokens)",
                         tt ? "the model" : "the draft");
    if (tt->arr_n != td->arr_n)
        return fl_seterr(err, errlen, "draft model: %llu token texts, the model has %llu",
                         (unsigned long long)td->arr_n, (unsigned long long)tt->arr_n);
    for (uint64_t i = 0; i < tt->arr_n; i++) {
        gguf_str a = tt->arr_strs[i], b = td->arr_strs[i];
        if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len))
            return fl_seterr(err, errlen, "draft model: token %llu differs from the model's (%.*s vs %.*s)",
                             (unsigned long long)i, (int)(b.len > 40 ? 40 : b.len), b.ptr,
                             (int)(a.len > 40 ? 40 : a.len), a.ptr);
    }
    static const char *const special[] = {
        "bos", "eos", "eot", "eom", "padding", "unknown", "sep", "fim_pre", "fim_suf", "fim_mid", "fim_pad",
        "fim_rep", "fim_sep", "im_start", "im_end"};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", special[i]);
        int64_t a = -1, b = -1;
        char e2[8];
        int ra = gguf_get_i64(gt, key, &a, e2, sizeof e2), rb = gguf_get_i64(gd, key, &b, e2, sizeof e2);
        if (ra != rb || a != b)
            return fl_seterr(err, errlen, "draft model: %s is %lld, the model's is %lld", key, rb ? -1LL : (long long)b,
                             ra ? -1LL : (long long)a);
    }
    return 0;
}
