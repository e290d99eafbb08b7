/* tok_detok.c — ids back to text: each token's piece (llama.cpp's
 * token_to_piece), and a streaming decoder that only releases well-formed
 * UTF-8 (incomplete sequences wait for the next token, invalid ones become
 * U+FFFD, following the Unicode "maximal subpart" rule). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd";

/* The piece of one token with special = true, appended to a. */
static int build_piece(const tok_vocab *v, int32_t id, tok_arena *a) {
    const char *t = v->text.p + v->tok[id].off;
    size_t n = v->tok[id].len;
    uint32_t attr = v->attr[id];
    if (attr & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED))
        return tok_arena_add(a, t, n) < 0 ? -1 : 0;
    if (v->model == TOK_MODEL_SPM) {
        if (attr & TOK_ATTR_NORMAL) {
            for (size_t i = 0; i < n; i++) {
                int mark = i + 3 <= n && !memcmp(t + i, "\xe2\x96\x81", 3);
                if (tok_arena_add(a, mark ? " " : t + i, 1) < 0) return -1;
                i += mark ? 2 : 0;
            }
        } else if ((attr & TOK_ATTR_BYTE) && n == 6 && !memcmp(t, "<0x", 3)) {
            char b = (char)strtol((char[3]){t[3], t[4], 0}, NULL, 16);
            return tok_arena_add(a, &b, 1) < 0 ? -1 : 0;
        }
        return 0;
    }
    if (!(attr & TOK_ATTR_NORMAL)) return 0;
    /* byte-level BPE: every codepoint stands for one byte */
    for (size_t i = 0; i < n;) {
        size_t start = i;
        int byte = tok_cpt_to_byte(tok_utf8_next((const unsigned char *)t, n, &i));
        if (byte >= 0) {
            char c = (char)byte;
            if (tok_arena_add(a, &c, 1) < 0) return -1;
            continue;
        }
        char hex[40];   /* llama.cpp's marker for a character that is not a byte */
        int k = snprintf(hex, sizeof hex, "[UNK_BYTE_0x");
        for (size_t j = start; j < i && k < 32; j++) k += snprintf(hex + k, sizeof hex - (size_t)k, "%02x", (unsigned char)t[j]);
        if (tok_arena_add(a, hex, (size_t)k) < 0 || tok_arena_add(a, t, n) < 0 || tok_arena_add(a, "]", 1) < 0) return -1;
    }
    return 0;
}

int tok_build_pieces(tok_vocab *v) {
    v->piece = fl_malloc_array((size_t)v->n_vocab, sizeof *v->piece);
    if (!v->piece) return -1;
    for (int32_t id = 0; id < v->n_vocab; id++) {
        size_t off = v->piece_text.n;
        if (build_piece(v, id, &v->piece_text)) return -1;
        v->piece[id] = (tok_span){(uint32_t)off, (uint32_t)(v->piece_text.n - off)};
    }
    return 0;
}

const char *tok_piece(const tok_vocab *v, int32_t id, int special, size_t *len) {
    if (id < 0 || id >= v->n_vocab) return NULL;
    if (!special && (v->attr[id] & (TOK_ATTR_UNKNOWN | TOK_ATTR_CONTROL))) {
        *len = 0;
        return "";
    }
    *len = v->piece[id].len;
    return v->piece_text.p + v->piece[id].off;
}

/* ---- streaming UTF-8 ---- */

/* Sequence length announced by a lead byte, 0 if it cannot start one. */
static int lead_len(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return 2;
    if (c >= 0xe0 && c <= 0xef) return 3;
    if (c >= 0xf0 && c <= 0xf4) return 4;
    return 0;
}

/* May c be byte j (>= 1) of a sequence that starts with lead? */
static int cont_ok(unsigned char lead, int j, unsigned char c) {
    if (j == 1) {
        if (lead == 0xe0) return c >= 0xa0 && c <= 0xbf;
        if (lead == 0xed) return c >= 0x80 && c <= 0x9f;
        if (lead == 0xf0) return c >= 0x90 && c <= 0xbf;
        if (lead == 0xf4) return c >= 0x80 && c <= 0x8f;
    }
    return c >= 0x80 && c <= 0xbf;
}

static int sanitize(tok_stream *s, const unsigned char *p, size_t n, tok_text *out) {
    size_t i = 0;
    while (s->npend && i < n) {   /* continue a sequence the previous piece began */
        if (!cont_ok(s->pend[0], s->npend, p[i])) {
            s->npend = 0;
            if (tok_text_append(out, REPLACEMENT, 3)) return -1;
            break;
        }
        s->pend[s->npend++] = p[i++];
        if (s->npend == lead_len(s->pend[0])) {
            if (tok_text_append(out, (const char *)s->pend, (size_t)s->npend)) return -1;
            s->npend = 0;
        }
    }
    size_t run = i;   /* start of bytes known to be valid and not yet appended */
    while (i < n) {
        if (p[i] < 0x80) { i++; continue; }
        int len = lead_len(p[i]), j = 1;
        while (len && j < len && i + (size_t)j < n && cont_ok(p[i], j, p[i + (size_t)j])) j++;
        if (len && j == len) { i += (size_t)len; continue; }
        if (tok_text_append(out, (const char *)p + run, i - run)) return -1;
        if (len && i + (size_t)j == n) {   /* incomplete at the end: hold it back */
            memcpy(s->pend, p + i, (size_t)j);
            s->npend = j;
            return 0;
        }
        if (tok_text_append(out, REPLACEMENT, 3)) return -1;
        i += len ? (size_t)j : 1;
        run = i;
    }
    return tok_text_append(out, (const char *)p + run, n - run);
}

void tok_stream_init(tok_stream *s, const tok_vocab *v, unsigned flags) {
    memset(s, 0, sizeof *s);
    s->v = v;
    s->flags = flags;
}

int tok_stream_feed(tok_stream *s, int32_t id, tok_text *out) {
    size_t n;
    const char *p = tok_piece(s->v, id, !!(s->flags & TOK_DETOK_SPECIAL), &n);
    if (!p) return -1;
    if (!s->started) {   /* llama.cpp strips one leading space of the first token */
        s->started = 1;
        if ((s->flags & TOK_DETOK_STRIP_SPACE) && s->v->add_space_prefix && n && p[0] == ' ') { p++; n--; }
    }
    return sanitize(s, (const unsigned char *)p, n, out);
}

int tok_stream_flush(tok_stream *s, tok_text *out) {
    if (!s->npend) return 0;
    s->npend = 0;
    return tok_text_append(out, REPLACEMENT, 3);
}

/* clean_up_tokenization_spaces over t[from..], in place (llama.cpp's three passes). */
static void clean_spaces(tok_text *t, size_t from) {
    char *s = t->s + from;
    size_t n = t->n - from, k;
    if (!n) return;
    k = 1;   /* " ?", " !", " .", " ," lose the space */
    for (size_t i = 1; i < n; i++) {
        char x = s[i];
        if (s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) k--;
        s[k++] = x;
    }
    n = k;
    k = 1;   /* " ' " becomes "'" */
    for (size_t i = 1; i < n; i++) {
        char x = s[i];
        if (x == '\'' && i + 1 < n && s[i - 1] == ' ' && s[i + 1] == ' ') { k--; s[++i] = 0; }
        s[k++] = x;
    }
    n = k;
    k = 1;   /* " 's", " 'm", " 're", " 've" lose the space */
    for (size_t i = 1; i < n; i++) {
        char x = s[i];
        if (s[i - 1] == ' ' && x == '\'' && i + 1 < n) {
            char x1 = s[i + 1];
            if (x1 == 's' || x1 == 'm') k--;
            else if (i + 2 < n && ((x1 == 'r' && s[i + 2] == 'e') || (x1 == 'v' && s[i + 2] == 'e'))) k--;
        }
        s[k++] = x;
    }
    t->n = from + k;
    t->s[t->n] = 0;
}

int tok_detokenize(const tok_vocab *v, const int32_t *ids, size_t n, unsigned flags,
                   tok_text *out, char *err, size_t errlen) {
    tok_stream st;
    size_t from = out->n;
    tok_stream_init(&st, v, flags);
    if (tok_text_append(out, "", 0)) return fl_seterr(err, errlen, "detokenize: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= v->n_vocab)
            return fl_seterr(err, errlen, "token id %d is out of range (vocabulary of %d)", ids[i], v->n_vocab);
        if (tok_stream_feed(&st, ids[i], out)) return fl_seterr(err, errlen, "detokenize: out of memory");
    }
    if (tok_stream_flush(&st, out)) return fl_seterr(err, errlen, "detokenize: out of memory");
    if ((flags & TOK_DETOK_CLEAN) && v->clean_spaces) clean_spaces(out, from);
    return 0;
}
