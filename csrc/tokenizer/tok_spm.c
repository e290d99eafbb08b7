/* tok_spm.c — SentencePiece BPE (`tokenizer.ggml.model = llama`) as llama.cpp
 * runs it: spaces become U+2581 ("▁"), an optional "▁" is prepended, the text
 * starts as one symbol per UTF-8 character, and the adjacent pair whose
 * concatenation is the highest-scoring token merges first (leftmost on ties)
 * until none is a token. A final symbol that is not a token is emitted as its
 * bytes through the <0xXX> byte-fallback tokens. */
#include <string.h>

#include "tokenizer/internal.h"

static const char SPACE_MARK[] = "\xe2\x96\x81";   /* U+2581 */

static int32_t token_id(const tok_vocab *v, const char *text, size_t n) {
    int32_t id = tok_smap_get(&v->ids, v->text.p, text, n);
    return id < v->n_vocab ? id : -1;
}

static int try_pair(const tok_vocab *v, tok_scratch *s, const char *buf, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return 0;
    uint32_t start = s->sym[l].start, size = s->sym[l].len + s->sym[r].len;
    int32_t id = token_id(v, buf + start, size);
    if (id < 0) return 0;
    struct tok_bigram b = {v->score[id], 0, l, r, 0, 0, 0, (int32_t)size};
    return tok_heap_push(s, &b, 1);
}

/* Merge buf[0..len) (one run of symbols) and append its ids. */
static int spm_run(const tok_vocab *v, const char *buf, size_t len, tok_scratch *s, tok_ids *out) {
    size_t nsym = 0;
    if (!len) return 0;
    if (tok_sym_reserve(s, len)) return -1;
    for (size_t off = 0; off < len;) {
        size_t cl = (size_t)tok_utf8_len((unsigned char)buf[off]);
        if (cl > len - off) cl = len - off;
        s->sym[nsym] = (struct tok_sym){0, (uint32_t)off, (uint32_t)cl, (int32_t)nsym - 1,
                                        off + cl == len ? -1 : (int32_t)nsym + 1};
        off += cl;
        nsym++;
    }
    s->n_heap = 0;
    for (size_t i = 1; i < nsym; i++)
        if (try_pair(v, s, buf, (int32_t)i - 1, (int32_t)i)) return -1;
    while (s->n_heap) {
        struct tok_bigram b = tok_heap_pop(s, 1);
        struct tok_sym *L = &s->sym[b.left], *R = &s->sym[b.right];
        if (!L->len || !R->len || (int32_t)(L->len + R->len) != b.size) continue;
        L->len += R->len;
        R->len = 0;
        L->next = R->next;
        if (R->next >= 0) s->sym[R->next].prev = b.left;
        if (try_pair(v, s, buf, L->prev, b.left) || try_pair(v, s, buf, b.left, L->next)) return -1;
    }
    for (int32_t i = 0; i >= 0; i = s->sym[i].next) {
        const struct tok_sym *y = &s->sym[i];
        int32_t id = token_id(v, buf + y->start, y->len);
        if (id >= 0) {
            if (tok_ids_push(out, id)) return -1;
            continue;
        }
        for (uint32_t j = 0; j < y->len; j++) {
            int32_t b = v->byte_tok[(unsigned char)buf[y->start + j]];
            if (b < 0) b = v->sp.unk;
            if (b >= 0 && tok_ids_push(out, b)) return -1;
        }
    }
    return 0;
}

int tok_spm_fragment(const tok_vocab *v, const char *text, size_t n, int space_prefix,
                     tok_scratch *s, tok_ids *out) {
    s->enc.n = 0;
    if (space_prefix && tok_arena_add(&s->enc, SPACE_MARK, 3) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ' ? tok_arena_add(&s->enc, SPACE_MARK, 3) < 0 : tok_arena_add(&s->enc, text + i, 1) < 0)
            return -1;
    }
    const char *buf = s->enc.p;
    size_t len = s->enc.n;
    if (!v->nl_free) return spm_run(v, buf, len, s, out);
    /* No token holds a newline, so no merge crosses one: each line merges on its
     * own (same result, small heaps). */
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
        if (spm_run(v, buf + at, end - at - (nl ? 1 : 0), s, out) || (nl && spm_run(v, nl, 1, s, out))) return -1;
        at = end;
    }
    return 0;
}
