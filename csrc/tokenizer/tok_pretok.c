/* tok_pretok.c — pre-tokenizers: split a text fragment into the words BPE
 * merges within, exactly as llama.cpp's unicode_regex_split() does for each
 * `tokenizer.ggml.pre`, without a regex engine.
 *
 * llama.cpp applies a list of regexes one after the other; each one splits
 * every current segment into its matches and the gaps between them. Here each
 * regex is a pass with a hand-written scanner:
 *   GPT2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   LLAMA3  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,K}|
 *           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+     (K = 3 llama3, 1 qwen2)
 *   RUN     [X] / [X]+ / \s?[X]+ for a character set X
 *   DIGIT3  [0-9][0-9][0-9]
 *   TRAILWS \s+$
 * Regexes llama.cpp runs through std::regex see a "collapsed" text where every
 * non-ASCII codepoint is replaced by its category (whitespace first); the set
 * predicates below reproduce that view (a non-ASCII space is only \s).
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"

enum { K_GPT2, K_LLAMA3, K_RUN, K_DIGIT3, K_TRAILWS };
enum { M_ONE, M_PLUS, M_WSPLUS };
enum { X_N, X_L, X_P, X_PUNCT_DEFAULT, X_PUNCT_FALCON, X_CRLF, X_CJK, X_DS_LETTER, X_DS_PUNCT };

typedef struct {
    uint8_t kind, set, mode, arg;
} pass;

typedef struct {
    pass p[6];
    int n;
} pass_list;

static const pass_list PRE_PASSES[] = {
    [TOK_PRE_DEFAULT] = {{{K_RUN, X_PUNCT_DEFAULT, M_PLUS, 0}, {K_GPT2, 0, 0, 0},
                          {K_RUN, X_N, M_PLUS, 0}, {K_DIGIT3, 0, 0, 0}}, 4},
    [TOK_PRE_GPT2] = {{{K_GPT2, 0, 0, 0}}, 1},
    [TOK_PRE_STARCODER] = {{{K_RUN, X_N, M_ONE, 0}, {K_GPT2, 0, 0, 0}}, 2},
    [TOK_PRE_FALCON] = {{{K_RUN, X_PUNCT_FALCON, M_PLUS, 0}, {K_GPT2, 0, 0, 0}, {K_DIGIT3, 0, 0, 0}}, 3},
    [TOK_PRE_QWEN2] = {{{K_LLAMA3, 0, 0, 1}}, 1},
    [TOK_PRE_LLAMA3] = {{{K_LLAMA3, 0, 0, 3}}, 1},
    [TOK_PRE_DEEPSEEK_CODER] = {{{K_RUN, X_CRLF, M_ONE, 0}, {K_RUN, X_L, M_WSPLUS, 0},
                                 {K_RUN, X_P, M_WSPLUS, 0}, {K_RUN, X_CJK, M_PLUS, 0},
                                 {K_RUN, X_N, M_ONE, 0}}, 5},
    [TOK_PRE_DEEPSEEK_LLM] = {{{K_RUN, X_CRLF, M_ONE, 0}, {K_RUN, X_DS_LETTER, M_WSPLUS, 0},
                               {K_RUN, X_DS_PUNCT, M_WSPLUS, 0}, {K_TRAILWS, 0, 0, 0},
                               {K_RUN, X_CJK, M_PLUS, 0}, {K_RUN, X_N, M_PLUS, 0}}, 6},
};

/* deepseek-llm's letter class: the cased-letter ranges of its tokenizer.json regex. */
static const uint32_t DS_LETTER[][2] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
    {0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
    {0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
    {0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
    {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
    {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
    {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

static int in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid][0]) hi = mid;
        else if (c > r[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

#define CAT(c) ((c) & TOK_CL_MASK)
#define IS_WS(c) ((c) & TOK_CL_WS)

/* Is codepoint cp (class c) in set x, as llama.cpp's std::regex/std::wregex sees it? */
static int in_set(int x, uint32_t cp, uint8_t c) {
    if (cp >= 0x80 && IS_WS(c)) cp = 0x0b;  /* both views turn non-ASCII spaces into \v */
    switch (x) {
    case X_N: return cp != 0x0b && CAT(c) == TOK_CL_N;
    case X_L: return cp != 0x0b && CAT(c) == TOK_CL_L;
    case X_P: return cp != 0x0b && CAT(c) == TOK_CL_P;
    case X_PUNCT_DEFAULT:
    case X_PUNCT_FALCON:
        if (cp < 0x80 && strchr("$+<=>^~|", (int)cp) && cp) return 1;
        if (x == X_PUNCT_FALCON && cp == '`') return 1;
        return cp != 0x0b && CAT(c) == TOK_CL_P;
    case X_CRLF: return cp == '\r' || cp == '\n';
    case X_CJK: return (cp >= 0x0800 && cp <= 0x9fa5) || (cp >= 0xac00 && cp <= 0xd7ff);
    case X_DS_LETTER: return in_ranges(cp, DS_LETTER, sizeof DS_LETTER / sizeof DS_LETTER[0]);
    case X_DS_PUNCT:
        return (cp >= 0x21 && cp <= 0x2f) || (cp >= 0x3a && cp <= 0x7e) || (cp >= 0xff01 && cp <= 0xff0f) ||
               (cp >= 0xff1a && cp <= 0xff5e) || (cp >= 0x2018 && cp <= 0x201f) || (cp >= 0x3000 && cp <= 0x3002);
    }
    return 0;
}

/* ---- segment output ---- */

typedef struct {
    tok_scratch *s;
    size_t n;       /* words emitted into s->seg2 */
    size_t last;    /* end of the last emitted word */
    int oom;
} emitter;

static void emit_to(emitter *e, size_t end) {
    if (end <= e->last) return;
    if (e->n == e->s->cap_seg) {
        size_t cap = e->s->cap_seg ? e->s->cap_seg * 2 : 256;
        uint32_t *a = realloc(e->s->seg, cap * sizeof *a), *b;
        if (a) e->s->seg = a;
        b = a ? realloc(e->s->seg2, cap * sizeof *b) : NULL;
        if (!a || !b) { e->oom = 1; return; }
        e->s->seg2 = b;
        e->s->cap_seg = cap;
    }
    e->s->seg2[e->n++] = (uint32_t)(end - e->last);
    e->last = end;
}

#define NONE 0xff
#define CL(p) ((p) < b ? cls[p] : NONE)
#define IS_L(c) ((c) != NONE && CAT(c) == TOK_CL_L && !IS_WS(c))
#define IS_N(c) ((c) != NONE && CAT(c) == TOK_CL_N && !IS_WS(c))
/* not \s, \p{L} or \p{N}; also true past the end (llama.cpp's empty flags) */
#define NOT_WLN(c) ((c) == NONE || !(IS_WS(c) || CAT(c) == TOK_CL_L || CAT(c) == TOK_CL_N))

static inline uint32_t lower_ascii(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* The contractions 's 't 'm 'd 're 've 'll at pos; returns their length or 0. */
static size_t contraction(const uint32_t *cpt, size_t pos, size_t b, int icase) {
    if (cpt[pos] != '\'' || pos + 1 >= b) return 0;
    uint32_t c1 = icase ? lower_ascii(cpt[pos + 1]) : cpt[pos + 1];
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= b) return 0;
    uint32_t c2 = icase ? lower_ascii(cpt[pos + 2]) : cpt[pos + 2];
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

static void split_gpt2(emitter *e, const uint32_t *cpt, const uint8_t *cls, size_t a, size_t b) {
    size_t pos = a;
    while (pos < b) {
        uint32_t cp = cpt[pos];
        size_t k = contraction(cpt, pos, b, 0);
        if (k) { pos += k; emit_to(e, pos); continue; }
        uint8_t f2 = cp == ' ' ? CL(pos + 1) : cls[pos];
        if (IS_L(f2) || IS_N(f2)) {
            int letters = IS_L(f2);
            pos += cp == ' ';
            while (letters ? IS_L(CL(pos)) : IS_N(CL(pos))) pos++;
            emit_to(e, pos);
            continue;
        }
        if (f2 != NONE && NOT_WLN(f2)) {
            pos += cp == ' ';
            while (pos < b && NOT_WLN(cls[pos])) pos++;
            emit_to(e, pos);
            continue;
        }
        size_t nws = 0;
        while (pos + nws < b && IS_WS(cls[pos + nws])) nws++;
        if (nws > 1 && pos + nws < b) pos += nws - 1;   /* \s+(?!\S) */
        else pos += nws ? nws : 1;
        emit_to(e, pos);
    }
}

static void split_llama3(emitter *e, const uint32_t *cpt, const uint8_t *cls, size_t a, size_t b,
                         size_t max_digits) {
    size_t pos = a;
    while (pos < b) {
        uint32_t cp = cpt[pos];
        uint8_t f = cls[pos];
        size_t k = contraction(cpt, pos, b, 1);
        if (k) { pos += k; emit_to(e, pos); continue; }
        if (!(cp == '\r' || cp == '\n' || IS_N(f)) && (IS_L(f) || IS_L(CL(pos + 1)))) {
            pos++;
            while (IS_L(CL(pos))) pos++;
            emit_to(e, pos);
            continue;
        }
        if (IS_N(f)) {
            size_t ini = pos;
            while (IS_N(CL(pos))) {
                if (++pos - ini >= max_digits) { emit_to(e, pos); ini = pos; }
            }
            emit_to(e, pos);
            continue;
        }
        uint8_t f2 = cp == ' ' ? CL(pos + 1) : f;
        if (NOT_WLN(f2)) {     /* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
            pos += cp == ' ';
            while (pos < b && NOT_WLN(cls[pos])) pos++;
            while (pos < b && (cpt[pos] == '\r' || cpt[pos] == '\n')) pos++;
            emit_to(e, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (pos + nws < b && IS_WS(cls[pos + nws])) {
            if (cpt[pos + nws] == '\r' || cpt[pos + nws] == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn) pos = last_rn;                          /* \s*[\r\n]+ */
        else if (nws > 1 && pos + nws < b) pos += nws - 1;   /* \s+(?!\S) */
        else pos += nws ? nws : 1;                           /* \s+ */
        emit_to(e, pos);
    }
}

/* set[] holds, per codepoint, a bit for each character set (see set_bits). */
static void split_run(emitter *e, const uint16_t *set, const uint8_t *cls, size_t a, size_t b, int x, int mode) {
    uint16_t bit = (uint16_t)(1u << x);
    size_t pos = a;
    while (pos < b) {
        size_t ms = pos, me;
        if (mode == M_WSPLUS && IS_WS(cls[pos]) && pos + 1 < b && (set[pos + 1] & bit)) {
            me = pos + 1;
        } else if (set[pos] & bit) {
            me = pos;
        } else {
            pos++;
            continue;
        }
        if (mode == M_ONE) me++;
        else while (me < b && (set[me] & bit)) me++;
        emit_to(e, ms);   /* the gap before the match */
        emit_to(e, me);
        pos = me;
    }
    emit_to(e, b);
}

static void split_digit3(emitter *e, const uint32_t *cpt, size_t a, size_t b) {
    for (size_t pos = a; pos < b;) {
#define D(i) (cpt[i] >= '0' && cpt[i] <= '9')
        if (pos + 3 <= b && D(pos) && D(pos + 1) && D(pos + 2)) {
            emit_to(e, pos);
            emit_to(e, pos + 3);
            pos += 3;
        } else {
            pos++;
        }
#undef D
    }
    emit_to(e, b);
}

static void split_trailing_ws(emitter *e, const uint8_t *cls, size_t a, size_t b) {
    size_t ws = b;
    while (ws > a && IS_WS(cls[ws - 1])) ws--;
    emit_to(e, ws);
    emit_to(e, b);
}

/* Decode text into s->cpt/cls/boff; re-encode into s->norm if any byte
 * sequence does not round-trip (invalid or overlong UTF-8). */
static int decode(const char *text, size_t n, tok_scratch *s, const char **bytes) {
    if (n + 1 > s->cap_cpt) {
        size_t cap = n + 1 > 1024 ? n + 1 : 1024;
        uint32_t *c = realloc(s->cpt, cap * sizeof *c);
        if (c) s->cpt = c;
        uint8_t *k = c ? realloc(s->cls, cap) : NULL;
        if (k) s->cls = k;
        uint32_t *o = k ? realloc(s->boff, cap * sizeof *o) : NULL;
        if (o) s->boff = o;
        uint16_t *t = o ? realloc(s->set, cap * sizeof *t) : NULL;
        if (!t) return -1;
        s->set = t;
        s->cap_cpt = cap;
    }
    const uint8_t *bmp = tok_class_bmp();
    const unsigned char *u = (const unsigned char *)text;
    size_t i = 0, k = 0;
    int dirty = 0;
    while (i < n) {
        s->boff[k] = (uint32_t)i;
        if (u[i] < 0x80) {
            s->cpt[k] = u[i++];
        } else {
            size_t start = i;
            uint32_t cp = tok_utf8_next(u, n, &i);
            char tmp[4];
            if ((size_t)tok_utf8_put(cp, tmp) != i - start) dirty = 1;
            s->cpt[k] = cp;
        }
        s->cls[k] = s->cpt[k] < 0x10000 ? bmp[s->cpt[k]] : tok_cpt_class(s->cpt[k]);
        k++;
    }
    s->boff[k] = (uint32_t)n;
    *bytes = text;
    if (dirty) {
        s->norm.n = 0;
        for (size_t j = 0; j < k; j++) {
            char tmp[4];
            int m = tok_utf8_put(s->cpt[j], tmp);
            s->boff[j] = (uint32_t)s->norm.n;
            if (tok_arena_add(&s->norm, tmp, (size_t)m) < 0) return -1;
        }
        s->boff[k] = (uint32_t)s->norm.n;
        *bytes = s->norm.p;
    }
    s->n_seg = k ? 1 : 0;
    if (k && !s->cap_seg) {
        s->seg = malloc(256 * sizeof *s->seg);
        s->seg2 = malloc(256 * sizeof *s->seg2);
        if (!s->seg || !s->seg2) return -1;
        s->cap_seg = 256;
    }
    if (k) s->seg[0] = (uint32_t)k;
    return 0;
}

int tok_pretokenize(enum tok_pre pre, const char *text, size_t n, tok_scratch *s, const char **word_bytes) {
    if (n > UINT32_MAX - 1) return -1;
    if (decode(text, n, s, word_bytes)) return -1;
    const pass_list *pl = &PRE_PASSES[pre];
    unsigned used = 0;   /* the character sets this pre-tokenizer's RUN passes test */
    for (int pi = 0; pi < pl->n; pi++)
        if (pl->p[pi].kind == K_RUN) used |= 1u << pl->p[pi].set;
    if (used) {
        size_t k = s->n_seg ? s->seg[0] : 0;
        for (size_t i = 0; i < k; i++) {
            uint16_t bits = 0;
            for (unsigned x = 0; used >> x; x++)
                if ((used >> x & 1) && in_set((int)x, s->cpt[i], s->cls[i])) bits |= (uint16_t)(1u << x);
            s->set[i] = bits;
        }
    }
    for (int pi = 0; pi < pl->n; pi++) {
        const pass *p = &pl->p[pi];
        emitter e = {s, 0, 0, 0};
        size_t a = 0;
        for (size_t w = 0; w < s->n_seg; w++) {
            size_t b = a + s->seg[w];
            switch (p->kind) {
            case K_GPT2: split_gpt2(&e, s->cpt, s->cls, a, b); break;
            case K_LLAMA3: split_llama3(&e, s->cpt, s->cls, a, b, p->arg); break;
            case K_RUN: split_run(&e, s->set, s->cls, a, b, p->set, p->mode); break;
            case K_DIGIT3: split_digit3(&e, s->cpt, a, b); break;
            case K_TRAILWS: split_trailing_ws(&e, s->cls, a, b); break;
            }
            if (e.oom) return -1;
            a = b;
        }
        uint32_t *t = s->seg;
        s->seg = s->seg2;
        s->seg2 = t;
        s->n_seg = e.n;
    }
    return 0;
}

void tok_scratch_free(tok_scratch *s) {
    free(s->cpt);
    free(s->cls);
    free(s->set);
    free(s->boff);
    free(s->norm.p);
    free(s->seg);
    free(s->seg2);
    free(s->sym);
    free(s->heap);
    free(s->enc.p);
    tok_ids_free(&s->word);
    memset(s, 0, sizeof *s);
}
