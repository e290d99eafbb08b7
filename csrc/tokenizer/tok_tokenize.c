/* tok_tokenize.c — llama_tokenize(): split the text at special-token texts
 * (tokenizer_st_partition), then tokenize each plain fragment with BPE or
 * SentencePiece, adding BOS/EOS when asked. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"

typedef struct {
    int32_t tok;        /* >= 0: a special token; -1: text[off..off+len) */
    size_t off, len;
} frag;

typedef struct {
    frag *v;
    size_t n, cap;
} frag_list;

static int frag_push(frag_list *l, int32_t tok, size_t off, size_t len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        frag *p = realloc(l->v, cap * sizeof *p);
        if (!p) return -1;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = (frag){tok, off, len};
    return 0;
}

static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Split text fragment f at every occurrence of special token id. */
static int split_at(const tok_vocab *v, const char *text, frag f, int32_t id, frag_list *out) {
    const char *t = v->text.p + v->tok[id].off;
    size_t tl = v->tok[id].len;
    uint32_t attr = v->attr[id];
    size_t base = f.off, blen = f.len;
    for (;;) {
        const char *m = blen >= tl ? memmem(text + base, blen, t, tl) : NULL;
        if (!m) return frag_push(out, -1, base, blen);
        size_t pos = (size_t)(m - text), left = pos - base;
        if (attr & TOK_ATTR_LSTRIP)
            while (left && is_space(text[base + left - 1])) left--;
        if (left && frag_push(out, -1, base, left)) return -1;
        if (frag_push(out, id, 0, 0)) return -1;
        size_t end = base + blen;
        if (pos + tl >= end) return 0;
        base = pos + tl;
        blen = end - base;
        if (attr & TOK_ATTR_RSTRIP)
            while (blen && is_space(text[base])) { base++; blen--; }
        if (!blen) return 0;
    }
}

/* Mark the special tokens (indices into v->special) whose text occurs in text at all. */
static void find_present(const tok_vocab *v, const char *text, size_t n, int parse_special, uint8_t *present) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        for (uint32_t j = v->by_byte_at[c]; j < v->by_byte_at[c + 1]; j++) {
            uint32_t k = v->by_byte[j];
            const tok_span *t = &v->tok[v->special[k]];
            if (!present[k] && t->len <= n - i && !memcmp(text + i, v->text.p + t->off, t->len)) present[k] = 1;
        }
    }
    if (!parse_special)
        for (size_t k = 0; k < v->n_special; k++)
            if (v->attr[v->special[k]] & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN)) present[k] = 0;
}

/* tokenizer_st_partition: longest special texts first, each over every remaining
 * text fragment (only those that occur somewhere can split anything). */
static int partition(const tok_vocab *v, const char *text, size_t n, int parse_special, frag_list *a) {
    frag_list b = {0};
    a->n = 0;
    if (frag_push(a, -1, 0, n)) return -1;
    uint8_t *present = calloc(v->n_special + 1, 1);
    if (!present) return -1;
    find_present(v, text, n, parse_special, present);
    for (size_t k = 0; k < v->n_special; k++) {
        int32_t id = v->special[k];
        if (!present[k]) continue;
        b.n = 0;
        for (size_t i = 0; i < a->n; i++) {
            int rc = a->v[i].tok >= 0 ? frag_push(&b, a->v[i].tok, 0, 0) : split_at(v, text, a->v[i], id, &b);
            if (rc) { free(b.v); free(present); return -1; }
        }
        frag_list t = *a;
        *a = b;
        b = t;
    }
    free(b.v);
    free(present);
    return 0;
}

int tok_tokenize(tok_vocab *v, const char *text, size_t len, unsigned flags, tok_ids *out) {
    int add_special = !!(flags & TOK_ADD_SPECIAL), reference = !!(flags & TOK_REFERENCE);
    frag_list fr = {0};
    tok_scratch s = {0};
    int rc = 0, locked = 0;
    if (len && partition(v, text, len, !!(flags & TOK_PARSE_SPECIAL), &fr)) {
        free(fr.v);
        return -1;
    }
    if (add_special && v->add_bos && v->sp.bos >= 0 && tok_ids_push(out, v->sp.bos)) rc = -1;
    if (v->model == TOK_MODEL_BPE && !reference) locked = pthread_mutex_trylock(&v->cache_mu) == 0;
    int prev_special = 1;   /* SentencePiece: a space prefix before the first fragment and after specials */
    for (size_t i = 0; i < fr.n && !rc; i++) {
        const frag *f = &fr.v[i];
        if (f->tok >= 0) {
            rc = tok_ids_push(out, f->tok);
            prev_special = 1;
        } else if (v->model == TOK_MODEL_SPM) {
            rc = tok_spm_fragment(v, text + f->off, f->len, v->add_space_prefix && prev_special, &s, out);
            prev_special = 0;
        } else {
            rc = tok_bpe_fragment(v, text + f->off, f->len, reference, locked ? &v->cache : NULL, &s, out);
        }
    }
    if (locked) pthread_mutex_unlock(&v->cache_mu);
    if (!rc && add_special && v->add_eos && v->sp.eos >= 0) rc = tok_ids_push(out, v->sp.eos);
    free(fr.v);
    tok_scratch_free(&s);
    return rc;
}

int tok_ids_push(tok_ids *a, int32_t id) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int32_t *p = realloc(a->v, cap * sizeof *p);
        if (!p) return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = id;
    return 0;
}

void tok_ids_free(tok_ids *a) {
    free(a->v);
    memset(a, 0, sizeof *a);
}

int tok_text_append(tok_text *t, const char *s, size_t n) {
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->n + n + 1) cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) return -1;
        t->s = p;
        t->cap = cap;
    }
    if (n) memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = 0;
    return 0;
}

void tok_text_free(tok_text *t) {
    free(t->s);
    memset(t, 0, sizeof *t);
}
