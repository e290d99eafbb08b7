/* tok_bpe.c — byte-level BPE over pre-tokenized words.
 *
 * Fast path (per word): one symbol per byte, identified by the id of its
 * GPT-2-encoded text; candidate merges come from a (left id, right id) ->
 * (rank, merged id) hash map into a binary heap ordered by (rank, position);
 * stale candidates are skipped on pop. Results are memoised per word.
 * Reference path: the textbook loop — find the lowest-ranked adjacent pair by
 * looking up "left right" strings, merge it, repeat — with no cache.
 * Both give llama.cpp's result: the lowest rank merges first, the leftmost on
 * ties; a final symbol that is not a token falls back to its single bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"

static int before(const struct tok_bigram *a, const struct tok_bigram *b, int spm) {
    if (spm) return a->score > b->score || (a->score == b->score && a->left < b->left);
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

int tok_heap_push(tok_scratch *s, const struct tok_bigram *b, int spm) {
    if (s->n_heap == s->cap_heap) {
        size_t cap = s->cap_heap ? s->cap_heap * 2 : 256;
        struct tok_bigram *h = fl_malloc_array(cap, sizeof *h);
        if (!h) return -1;
        if (s->n_heap) memcpy(h, s->heap, s->n_heap * sizeof *h);
        free(s->heap);
        s->heap = h;
        s->cap_heap = cap;
    }
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(b, &s->heap[p], spm)) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = *b;
    return 0;
}

struct tok_bigram tok_heap_pop(tok_scratch *s, int spm) {
    struct tok_bigram top = s->heap[0], last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&s->heap[c + 1], &s->heap[c], spm)) c++;
        if (!before(&s->heap[c], &last, spm)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

int tok_sym_reserve(tok_scratch *s, size_t n) {
    if (n <= s->cap_sym) return 0;
    size_t cap = s->cap_sym ? s->cap_sym : 64;
    while (cap < n) cap *= 2;
    struct tok_sym *p = fl_malloc_array(cap, sizeof *p);
    if (!p) return -1;
    free(s->sym);
    s->sym = p;
    s->cap_sym = cap;
    return 0;
}

/* A real token's id for text[0..n), or -1 (merge-only strings do not count). */
static int32_t token_id(const tok_vocab *v, const char *text, size_t n) {
    int32_t id = tok_smap_get(&v->ids, v->text.p, text, n);
    return id < v->n_vocab ? id : -1;
}

/* Emit the symbol raw[0..n) whose text is not a token: llama.cpp looks up each
 * byte of the encoded text as a one-byte token and drops the misses. */
static int emit_fallback(const tok_vocab *v, const char *raw, size_t n, tok_scratch *s, tok_ids *out) {
    s->enc.n = 0;
    if (tok_byte_encode(&s->enc, raw, n)) return -1;
    for (size_t i = 0; i < s->enc.n; i++) {
        int32_t id = token_id(v, s->enc.p + i, 1);
        if (id >= 0 && tok_ids_push(out, id)) return -1;
    }
    return 0;
}

/* ignore_merges (llama3): a word that is a token as a whole is that token. */
static int whole_word(const tok_vocab *v, const char *w, size_t n, tok_scratch *s, int32_t *id) {
    s->enc.n = 0;
    if (tok_byte_encode(&s->enc, w, n)) return -1;
    *id = token_id(v, s->enc.p, s->enc.n);
    return 0;
}

static int push_pair(const tok_vocab *v, tok_scratch *s, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return 0;
    int32_t lid = s->sym[l].id, rid = s->sym[r].id;
    if (lid < 0 || rid < 0) return 0;
    const tok_pslot *m = tok_pmap_get(&v->merges, lid, rid);
    if (!m) return 0;
    struct tok_bigram b = {0, m->rank, l, r, lid, rid, m->res, 0};
    return tok_heap_push(s, &b, 0);
}

static int bpe_word(const tok_vocab *v, const char *w, size_t n, tok_scratch *s, tok_ids *out) {
    if (v->ignore_merges) {
        int32_t id;
        if (whole_word(v, w, n, s, &id)) return -1;
        if (id >= 0) return tok_ids_push(out, id);
    }
    if (tok_sym_reserve(s, n)) return -1;
    struct tok_sym *sym = s->sym;
    for (size_t i = 0; i < n; i++)
        sym[i] = (struct tok_sym){v->byte_sym[(unsigned char)w[i]], (uint32_t)i, 1, (int32_t)i - 1,
                                  i + 1 < n ? (int32_t)i + 1 : -1};
    s->n_heap = 0;
    for (size_t i = 1; i < n; i++)
        if (push_pair(v, s, (int32_t)i - 1, (int32_t)i)) return -1;
    while (s->n_heap) {
        struct tok_bigram b = tok_heap_pop(s, 0);
        struct tok_sym *L = &sym[b.left], *R = &sym[b.right];
        if (!L->len || !R->len || L->next != b.right || L->id != b.lid || R->id != b.rid) continue;
        L->id = b.res;
        L->len += R->len;
        R->len = 0;
        L->next = R->next;
        if (R->next >= 0) sym[R->next].prev = b.left;
        if (push_pair(v, s, L->prev, b.left) || push_pair(v, s, b.left, L->next)) return -1;
    }
    for (int32_t i = n ? 0 : -1; i >= 0; i = sym[i].next) {
        if (sym[i].id >= 0 && sym[i].id < v->n_vocab) {
            if (tok_ids_push(out, sym[i].id)) return -1;
        } else if (emit_fallback(v, w + sym[i].start, sym[i].len, s, out)) {
            return -1;
        }
    }
    return 0;
}

/* The reference: naive lowest-rank-pair loop on encoded strings. */
static int naive_word(const tok_vocab *v, const char *w, size_t n, tok_scratch *s, tok_ids *out) {
    if (v->ignore_merges) {
        int32_t id;
        if (whole_word(v, w, n, s, &id)) return -1;
        if (id >= 0) return tok_ids_push(out, id);
    }
    uint32_t *start = fl_malloc_array(n + 1, sizeof *start);   /* symbol boundaries: start[0..k] */
    if (!start) return -1;
    size_t k = n;
    for (size_t i = 0; i <= n; i++) start[i] = (uint32_t)i;
    tok_arena key = {0};
    for (;;) {
        int32_t best_rank = -1;
        size_t best = 0;
        for (size_t i = 0; i + 1 < k; i++) {
            key.n = 0;
            if (tok_byte_encode(&key, w + start[i], start[i + 1] - start[i]) ||
                tok_arena_add(&key, " ", 1) < 0 ||
                tok_byte_encode(&key, w + start[i + 1], start[i + 2] - start[i + 1])) {
                free(key.p);
                free(start);
                return -1;
            }
            int32_t r = tok_smap_get(&v->merge_rank, v->merge_text.p, key.p, key.n);
            if (r >= 0 && (best_rank < 0 || r < best_rank)) { best_rank = r; best = i; }
        }
        if (best_rank < 0) break;
        memmove(start + best + 1, start + best + 2, (k - best - 1) * sizeof *start);
        k--;
    }
    int rc = 0;
    for (size_t i = 0; i < k && !rc; i++) {
        const char *sw = w + start[i];
        size_t sn = start[i + 1] - start[i];
        key.n = 0;
        if (tok_byte_encode(&key, sw, sn)) { rc = -1; break; }
        int32_t id = token_id(v, key.p, key.n);
        rc = id >= 0 ? tok_ids_push(out, id) : emit_fallback(v, sw, sn, s, out);
    }
    free(key.p);
    free(start);
    return rc;
}

int tok_bpe_fragment(tok_vocab *v, const char *text, size_t n, int reference, tok_wcache *cache,
                     tok_scratch *s, tok_ids *out) {
    const char *bytes;
    if (tok_pretokenize(v->pre, text, n, s, &bytes)) return -1;
    size_t c = 0;
    for (size_t wi = 0; wi < s->n_seg; wi++) {
        const char *w = bytes + s->boff[c];
        size_t wn = s->boff[c + s->seg[wi]] - s->boff[c];
        c += s->seg[wi];
        if (reference) {
            if (naive_word(v, w, wn, s, out)) return -1;
            continue;
        }
        const int32_t *ids;
        size_t cnt;
        if (cache && tok_wcache_get(cache, w, wn, &ids, &cnt)) {
            for (size_t i = 0; i < cnt; i++)
                if (tok_ids_push(out, ids[i])) return -1;
            continue;
        }
        s->word.n = 0;
        if (bpe_word(v, w, wn, s, &s->word)) return -1;
        if (cache) tok_wcache_put(cache, w, wn, s->word.v, s->word.n);
        for (size_t i = 0; i < s->word.n; i++)
            if (tok_ids_push(out, s->word.v[i])) return -1;
    }
    return 0;
}
