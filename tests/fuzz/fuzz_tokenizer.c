/* fuzz_tokenizer.c — libFuzzer target for the tokenizer. The vocabularies are
 * loaded once (from $FLINT_ROOT, else the parent of the working directory);
 * byte 0 of the input picks the vocabulary and flags, the rest is text.
 * Aborts if: an id is out of range, the fast BPE and the naive reference
 * disagree, detokenized text is not strict UTF-8 (also for the input read as
 * arbitrary ids), or valid UTF-8 made of bytes the vocabulary has tokens for
 * does not round-trip through a byte-level BPE vocabulary. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"

static const char *const VOCABS[] = {"tiny-bpe", "starcoder", "deepseek-coder", "mpt", "falcon", "llama-spm", "phi-3"};
#define N_VOCABS (sizeof VOCABS / sizeof VOCABS[0])
static tok_vocab *vocab[N_VOCABS];
static uint8_t has_byte[N_VOCABS][256];   /* byte-level BPE: the byte has a token */

static void load_all(void) {
    const char *root = getenv("FLINT_ROOT");
    for (size_t i = 0; i < N_VOCABS; i++) {
        char path[512], err[FL_ERRLEN];
        snprintf(path, sizeof path, "%s/tests/fixtures/vocab/ggml-vocab-%s.gguf", root && *root ? root : "..",
                 VOCABS[i]);
        if (tok_load_file(path, &vocab[i], err, sizeof err)) {
            fprintf(stderr, "fuzz_tokenizer: %s\n", err);
            abort();
        }
        for (int b = 0; b < 256 && tok_model_type(vocab[i]) == TOK_MODEL_BPE; b++) {
            char enc[4];
            has_byte[i][b] = tok_find(vocab[i], enc, (size_t)tok_utf8_put(tok_byte_to_cpt((uint8_t)b), enc)) >= 0;
        }
    }
}

static int valid_utf8(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (!len || i + len > n) return 0;
        for (size_t j = 1; j < len; j++)
            if ((p[i + j] & 0xc0) != 0x80) return 0;
        if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f) || (c == 0xf0 && p[i + 1] < 0x90) ||
            (c == 0xf4 && p[i + 1] > 0x8f))
            return 0;
        i += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!vocab[0]) load_all();
    if (size < 1) return 0;
    size_t which = data[0] % N_VOCABS;
    unsigned flags = (data[0] >> 4) & (TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL);
    unsigned dflags = (data[0] >> 6) & (TOK_DETOK_SPECIAL | TOK_DETOK_STRIP_SPACE);
    tok_vocab *v = vocab[which];
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    tok_ids ids = {0}, ref = {0};
    tok_text out = {0};
    char err[FL_ERRLEN];
    if (tok_tokenize(v, text, n, flags, &ids)) abort();
    for (size_t i = 0; i < ids.n; i++)
        if (ids.v[i] < 0 || ids.v[i] >= tok_n_vocab(v)) abort();
    if (n <= 512) {
        if (tok_tokenize(v, text, n, flags | TOK_REFERENCE, &ref)) abort();
        if (ref.n != ids.n || (ids.n && memcmp(ref.v, ids.v, ids.n * sizeof *ids.v))) abort();
    }
    if (tok_detokenize(v, ids.v, ids.n, dflags, &out, err, sizeof err)) abort();
    if (!valid_utf8((const unsigned char *)out.s, out.n)) abort();
    int covered = tok_model_type(v) == TOK_MODEL_BPE;
    for (size_t i = 0; i < n && covered; i++) covered = has_byte[which][(uint8_t)text[i]];
    if (covered && !flags && !(dflags & TOK_DETOK_SPECIAL) && valid_utf8((const unsigned char *)text, n) &&
        (out.n != n || (n && memcmp(out.s, text, n))))
        abort();
    /* the same bytes as a token stream */
    tok_stream st;
    tok_stream_init(&st, v, dflags);
    out.n = 0;
    for (size_t i = 0; i + 2 <= n; i += 2) {
        int32_t id = (int32_t)(((unsigned)(uint8_t)text[i] << 8 | (uint8_t)text[i + 1]) * 7919u % (unsigned)tok_n_vocab(v));
        if (tok_stream_feed(&st, id, &out)) abort();
    }
    if (tok_stream_flush(&st, &out) || !valid_utf8((const unsigned char *)out.s, out.n)) abort();
    tok_ids_free(&ids);
    tok_ids_free(&ref);
    tok_text_free(&out);
    return 0;
}
