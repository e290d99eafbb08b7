/* slots.c — the prompt cache: a few KV caches, one per recently used
 * buffer, each reused up to the longest common prefix with the next prompt.
 * Worker thread only. */
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

srv_slot *srv_slot_get(srv_worker *w, const char *key, char *err, size_t errlen) {
    srv_slot *best = NULL;
    for (int i = 0; i < w->n_slots && !best; i++)
        if (w->slots[i].ctx && !strcmp(w->slots[i].key, key)) best = &w->slots[i];
    for (int i = 0; i < w->n_slots && !best; i++)
        if (!w->slots[i].ctx) best = &w->slots[i];
    if (!best) { /* least recently used */
        best = &w->slots[0];
        for (int i = 1; i < w->n_slots; i++)
            if (w->slots[i].used < best->used) best = &w->slots[i];
    }
    if (strcmp(best->key, key)) {
        snprintf(best->key, sizeof best->key, "%s", key);
        best->prefix_cut = 0;
    }
    if (!best->ctx) {
        eng_ctx_params p = {.n_ctx = w->model->n_ctx, .n_threads = w->cfg->n_threads};
        if (!(best->ctx = eng_ctx_new(w->model->model, &p, err, errlen))) return NULL;
    }
    best->used = ++w->clock;
    return best;
}

int srv_slot_prefill(srv_worker *w, srv_slot *slot, const int32_t *toks, int n, float *logits,
                     const volatile int *stop, srv_req_stats *st, char *err, size_t errlen) {
    eng_ctx *c = slot->ctx;
    if (n <= 0) return fl_seterr(err, errlen, "empty prompt");
    if (n >= eng_ctx_capacity(c)) return fl_seterr(err, errlen, "prompt of %d tokens does not fit the context (%d)", n, eng_ctx_capacity(c));
    int keep = 0;
    if (w->cfg->cache) {
        const int32_t *have = eng_ctx_tokens(c);
        int len = eng_ctx_len(c);
        while (keep < len && keep < n && have[keep] == toks[keep]) keep++;
    }
    if (keep == n) keep = n - 1; /* the last token is evaluated again for its logits */
    eng_ctx_truncate(c, keep);
    st->prompt_tokens = n;
    st->cached_tokens = keep;
    st->evaluated_tokens = 0;
    int chunk = w->cfg->prompt_chunk > 0 ? w->cfg->prompt_chunk : n;
    for (int i = keep; i < n;) {
        int m = n - i < chunk ? n - i : chunk, last = i + m == n;
        int rc = eng_decode(c, toks + i, m, last ? ENG_LOGITS_LAST : ENG_LOGITS_NONE, last ? logits : NULL, stop, err,
                            errlen);
        if (rc) return rc;
        i += m;
        st->evaluated_tokens += m;
    }
    return 0;
}
