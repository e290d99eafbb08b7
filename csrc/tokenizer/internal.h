/* internal.h — the tokenizer module's private types: the vocabulary struct,
 * hash maps, Unicode classes, pre-tokenizer and BPE/SPM entry points.
 * Nothing outside csrc/tokenizer/ includes this. */
#ifndef FLINT_TOKENIZER_INTERNAL_H
#define FLINT_TOKENIZER_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* ---- byte arena: strings addressed by offset (the arena may move) ---- */

typedef struct {
    char *p;
    size_t n, cap;
} tok_arena;

typedef struct {
    uint32_t off, len;
} tok_span;

/* Append n bytes; returns the offset, or -1 (as int64) when out of memory or past 4 GiB. */
int64_t tok_arena_add(tok_arena *a, const void *s, size_t n);

/* ---- string -> int32 map over arena-held keys (open addressing) ---- */

typedef struct {
    uint32_t hash, off, len;
    int32_t val;
} tok_sslot;

typedef struct {
    tok_sslot *slot;   /* cap slots; len == UINT32_MAX marks empty */
    size_t cap, n;
} tok_smap;

uint32_t tok_hash(const void *s, size_t n);

/* Value for key s[0..n) or -1. `arena` is the base the stored offsets refer to. */
int32_t tok_smap_get(const tok_smap *m, const char *arena, const char *s, size_t n);

/* Insert or overwrite the key stored at arena[off..off+len). Returns 0 or -1 (OOM). */
int tok_smap_put(tok_smap *m, const char *arena, uint32_t off, uint32_t len, int32_t val);
void tok_smap_free(tok_smap *m);

/* ---- (left id, right id) -> (rank, merged id) map ---- */

typedef struct {
    uint64_t key;       /* (left << 32 | right) + 1; 0 marks empty */
    int32_t rank, res;
} tok_pslot;

typedef struct {
    tok_pslot *slot;
    size_t cap, n;
} tok_pmap;

/* Returns the slot for (l, r) or NULL. */
const tok_pslot *tok_pmap_get(const tok_pmap *m, int32_t l, int32_t r);

/* Insert unless present (the first, lowest rank wins). Returns 0 or -1 (OOM). */
int tok_pmap_add(tok_pmap *m, int32_t l, int32_t r, int32_t rank, int32_t res);
void tok_pmap_free(tok_pmap *m);

/* ---- word cache: raw word bytes -> ids (BPE) ---- */

typedef struct {
    tok_arena keys;     /* word bytes */
    int32_t *ids;       /* concatenated results */
    size_t n_ids, cap_ids;
    /* one cache line per word: short keys and results live in the slot itself */
    struct tok_wslot {
        uint32_t hash;
        uint16_t len, count;                                /* len == UINT16_MAX: empty */
        union { char in[24]; uint32_t off; } key;           /* inline when len <= 24 */
        union { int32_t in[8]; uint32_t first; } ids;       /* inline when count <= 8 */
    } *slot;
    size_t cap, n;
} tok_wcache;

/* Cached ids of word w[0..n): returns 1 and sets *ids and *count, else 0. */
int tok_wcache_get(const tok_wcache *c, const char *w, size_t n, const int32_t **ids, size_t *count);

/* Remember a result (silently dropped when full; the cache is cleared then). */
void tok_wcache_put(tok_wcache *c, const char *w, size_t n, const int32_t *ids, size_t count);
void tok_wcache_free(tok_wcache *c);

/* ---- Unicode ---- */

/* Character classes of a codepoint: a category in the low nibble, plus the
 * White_Space bit (the 25 codepoints llama.cpp treats as \s). */
enum {
    TOK_CL_UNDEF = 0,  /* unassigned */
    TOK_CL_L, TOK_CL_N, TOK_CL_P, TOK_CL_S, TOK_CL_M, TOK_CL_Z, TOK_CL_C,
    TOK_CL_MASK = 0x0f,
    TOK_CL_WS = 0x10,
};

uint8_t tok_cpt_class(uint32_t cp);

/* The classes of U+0000..U+FFFF as one table (for hot loops). */
const uint8_t *tok_class_bmp(void);

/* Decode one codepoint at s[*i] (n bytes total) the way llama.cpp does: any
 * lead byte with enough continuation bytes is accepted (overlong forms too);
 * anything else yields U+FFFD and consumes one byte. */
uint32_t tok_utf8_next(const unsigned char *s, size_t n, size_t *i);

/* Encode cp (<= 0x10FFFF) into out; returns 1..4. */
int tok_utf8_put(uint32_t cp, char *out);

/* Length of a UTF-8 sequence from its lead byte (1 for continuation/invalid). */
static inline int tok_utf8_len(unsigned char c) {
    static const unsigned char lut[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lut[c >> 4];
}

/* GPT-2 bytes_to_unicode: the codepoint byte b is written as, and back. */
uint32_t tok_byte_to_cpt(uint8_t b);
int tok_cpt_to_byte(uint32_t cp);   /* -1 if cp is not one of the 256 */

/* Append the GPT-2 byte encoding of raw[0..n) to a (2 bytes max per input byte). */
int tok_byte_encode(tok_arena *a, const char *raw, size_t n);

/* ---- pre-tokenizers ---- */

enum tok_pre {
    TOK_PRE_DEFAULT, TOK_PRE_GPT2, TOK_PRE_STARCODER, TOK_PRE_FALCON, TOK_PRE_QWEN2,
    TOK_PRE_LLAMA3, TOK_PRE_DEEPSEEK_CODER, TOK_PRE_DEEPSEEK_LLM,
};

/* Scratch space one tokenize call reuses across fragments. */
typedef struct {
    uint32_t *cpt;      /* codepoints of the fragment */
    uint8_t *cls;       /* their classes */
    uint16_t *set;      /* bit x: in character set x of the RUN passes (pretok.c) */
    uint32_t *boff;     /* byte offset of each codepoint in `norm` (n + 1 entries) */
    size_t cap_cpt;
    tok_arena norm;     /* the fragment re-encoded when it had invalid UTF-8 */
    uint32_t *seg, *seg2;   /* word lengths in codepoints */
    size_t n_seg, cap_seg;
    /* BPE */
    struct tok_sym { int32_t id; uint32_t start, len; int32_t prev, next; } *sym;
    size_t cap_sym;
    /* a candidate merge of symbols left+right: BPE orders by (rank, left) and
       checks lid/rid are unchanged, SPM by (-score, left) and checks size */
    struct tok_bigram { float score; int32_t rank, left, right, lid, rid, res, size; } *heap;
    size_t n_heap, cap_heap;
    tok_arena enc;      /* byte-encoded word (ignore_merges, reference path) */
    tok_ids word;       /* one word's ids */
} tok_scratch;

void tok_scratch_free(tok_scratch *s);

/* Split text[0..n) into words with pre-tokenizer pre. On return the words are
 * s->seg[0..s->n_seg) (lengths in codepoints) over the bytes *word_bytes,
 * whose codepoint byte offsets are s->boff. Returns 0 or -1 (OOM). */
int tok_pretokenize(enum tok_pre pre, const char *text, size_t n, tok_scratch *s,
                    const char **word_bytes);

/* ---- the vocabulary ---- */

struct tok_vocab {
    enum tok_model model;
    enum tok_pre pre;
    char pre_name[64];
    int32_t n_vocab;        /* real tokens */
    int32_t n_ext;          /* + strings that only occur in merges (ids >= n_vocab) */
    tok_arena text;         /* token texts */
    tok_span *tok;          /* n_ext */
    float *score;           /* n_vocab */
    uint32_t *attr;         /* n_vocab */
    tok_smap ids;           /* text -> id (ext) */

    /* BPE */
    tok_pmap merges;        /* (left, right) -> rank, result */
    tok_arena merge_text;   /* "left right" strings for the reference path */
    tok_smap merge_rank;    /* "left right" -> rank */
    int32_t byte_sym[256];  /* ext id of each byte's encoded character, or -1 */
    int ignore_merges;

    /* SPM */
    int32_t byte_tok[256];  /* <0xXX> (or the byte itself) fallback ids, -1 if none */
    int add_space_prefix;
    int nl_free;            /* no token text contains '\n': merges never cross a newline */

    int add_bos, add_eos, clean_spaces;
    tok_specials sp;
    int32_t *eog;
    size_t n_eog;
    int32_t *special;       /* control/user-defined/unknown ids, longest text first */
    size_t n_special;
    uint32_t *by_byte;      /* indices into special, grouped by first byte: */
    uint32_t by_byte_at[257];   /* group b is by_byte[by_byte_at[b] .. by_byte_at[b+1]) */

    tok_arena piece_text;   /* detokenized text of every token (special = true) */
    tok_span *piece;

    char *chat_template;
    size_t chat_template_len;

    pthread_mutex_t cache_mu;
    tok_wcache cache;
};

/* Binary heap of bigrams in s->heap; spm selects the ordering. Push returns -1 on OOM. */
int tok_heap_push(tok_scratch *s, const struct tok_bigram *b, int spm);
struct tok_bigram tok_heap_pop(tok_scratch *s, int spm);

/* Ensure s->sym holds n symbols. Returns 0 or -1. */
int tok_sym_reserve(tok_scratch *s, size_t n);

/* Tokenize one plain-text fragment (no special tokens inside) and append the ids. */
int tok_bpe_fragment(tok_vocab *v, const char *text, size_t n, int reference, tok_wcache *cache,
                     tok_scratch *s, tok_ids *out);
int tok_spm_fragment(const tok_vocab *v, const char *text, size_t n, int space_prefix,
                     tok_scratch *s, tok_ids *out);

/* Fill v->sp, v->eog, the attribute overrides and v->special (after tokens load). */
int tok_load_specials(tok_vocab *v, const gguf_file *g, char *err, size_t errlen);

/* Build v->piece (after specials, which may change attributes). */
int tok_build_pieces(tok_vocab *v);

#endif
