/* heal.c — token healing for completions.
 *
 * A completion requested in the middle of a word ends its prefix with a
 * token the model rarely saw there: "writer.wr" ends in ".wr" where the
 * training text had ".writerow" as one pre-token, so the model continues
 * "wr" as if it were complete ("writer.wrn = 0"). Healing takes the last
 * tokens of the cursor's line back out of the prompt and lets the model
 * re-type them: the first generated tokens must spell the removed text
 * (each one either starts with what is still to be re-typed or is a prefix
 * of it), the best of them by the model's own logits, and the re-typed text
 * itself is not shown. The same idea as guidance's token healing and
 * llama.cpp's `--token-healing`, taken further back: not only the tokens a
 * longer token could have covered, but the line's last three (held-out
 * files, default model, tools/train/metrics.py serve_em, 200 cases each:
 * the rest of a line cut at a random column 17% -> 25.5% exact, cut inside
 * a word 15.5% -> 26.5%; the model's FIM training cut lines at random
 * characters, so a prompt's last tokens are the ones it trusts least). */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

typedef struct {
    const char *s;
    size_t n;
} bytes;

static bytes text_of(const srv_model *m, int32_t id) {
    size_t n = 0;
    const char *s = tok_piece(m->vocab, id, 0, &n);
    return (bytes){s ? s : "", s ? n : 0};
}

/* Byte order, a prefix before its extensions. */
static int cmp_bytes(bytes a, bytes b) {
    int c = memcmp(a.s, b.s, a.n < b.n ? a.n : b.n);
    return c ? c : (a.n > b.n) - (a.n < b.n);
}

static const srv_model *sort_model; /* qsort has no context argument; loading is single-threaded */

static int cmp_ids(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    int c = cmp_bytes(text_of(sort_model, x), text_of(sort_model, y));
    return c ? c : (x > y) - (x < y);
}

/* Can id be taken back and re-typed: it has text, and is no control token. */
static int healable(const srv_model *m, int32_t id) {
    return text_of(m, id).n && !tok_is_eog(m->vocab, id) && !(tok_token_attr(m->vocab, id) & TOK_ATTR_CONTROL);
}

int srv_heal_index(srv_model *m) {
    free(m->by_text);
    m->by_text = NULL;
    m->n_by_text = 0;
    if (tok_model_type(m->vocab) != TOK_MODEL_BPE) return 0; /* SentencePiece's leading-space rule: not healed */
    int32_t nv = tok_n_vocab(m->vocab), n = 0;
    if (!(m->by_text = fl_malloc_array((size_t)nv, sizeof(int32_t)))) return -1;
    for (int32_t id = 0; id < nv; id++)
        if (healable(m, id)) m->by_text[n++] = id;
    sort_model = m;
    qsort(m->by_text, (size_t)n, sizeof(int32_t), cmp_ids);
    sort_model = NULL;
    m->n_by_text = n;
    return 0;
}

/* Index of the first token whose text is >= s in byte order. */
static int32_t lower_bound(const srv_model *m, bytes s) {
    int32_t lo = 0, hi = m->n_by_text;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (cmp_bytes(text_of(m, m->by_text[mid]), s) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int starts_with(bytes t, bytes s) { return t.n >= s.n && !memcmp(t.s, s.s, s.n); }

int srv_heal_back(const srv_model *m, const int32_t *ids, size_t n, char *text, size_t *text_len) {
    char buf[SRV_HEAL_MAX_BYTES]; /* the text taken back fills buf from its end */
    size_t len = 0;
    int k = 0;
    while (m->n_by_text && k < SRV_HEAL_MAX_TOKENS && (size_t)k < n) {
        int32_t id = ids[n - 1 - (size_t)k];
        bytes p = text_of(m, id);
        if (!healable(m, id) || len + p.n > SRV_HEAL_MAX_BYTES || memchr(p.s, '\n', p.n)) break;
        len += p.n;
        memcpy(buf + SRV_HEAL_MAX_BYTES - len, p.s, p.n);
        k++;
    }
    memcpy(text, buf + SRV_HEAL_MAX_BYTES - len, len);
    *text_len = len;
    return k;
}

/* Is a ranked before b: a higher logit, on a tie the lower id (as samp_argmax). */
static int better(const float *logits, int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
}

int32_t srv_heal_pick(const srv_model *m, const float *logits, const char *rest, size_t n) {
    int32_t best = -1;
    if (n == 0) return -1;
    bytes r = {rest, n};
    for (int32_t i = lower_bound(m, r); i < m->n_by_text; i++) { /* texts that start with r */
        int32_t id = m->by_text[i];
        if (!starts_with(text_of(m, id), r)) break;
        if (best < 0 || better(logits, id, best)) best = id;
    }
    for (size_t l = 1; l < n; l++) { /* texts that are a shorter prefix of r */
        bytes p = {rest, l};
        int32_t i = lower_bound(m, p);
        if (i < m->n_by_text && !cmp_bytes(text_of(m, m->by_text[i]), p) && (best < 0 || better(logits, m->by_text[i], best)))
            best = m->by_text[i];
    }
    return best;
}

int srv_heal_decode(const srv_model *m, eng_ctx *c, const char *text, size_t len, const float *logits0,
                    float *logits, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen) {
    const float *cur = logits0;
    size_t done = 0;
    int n = 0;
    while (done < len) {
        if (n == cap) return fl_seterr(err, errlen, "token healing: no room for a token");
        int32_t id = srv_heal_pick(m, cur, text + done, len - done);
        if (id < 0) return 0;
        int rc = eng_decode(c, &id, 1, ENG_LOGITS_LAST, logits, stop, err, errlen);
        if (rc) return rc;
        cur = logits;
        out[n++] = id;
        done += text_of(m, id).n;
    }
    return n;
}
