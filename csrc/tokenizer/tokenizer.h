/* tokenizer.h — text <-> token ids, exactly as llama.cpp does it, from the
 * `tokenizer.ggml.*` metadata of a GGUF file (a full model or a vocab-only file).
 *
 * Models: `gpt2` (byte-level BPE) with the pre-tokenizers named by
 * `tokenizer.ggml.pre` (default, gpt-2/gpt2, mpt, starcoder, refact, command-r,
 * falcon, qwen2, llama3/llama-bpe, deepseek-coder, deepseek-llm, and their
 * aliases), and `llama` (SentencePiece BPE with byte fallback). Pre-tokenizers
 * are hand-written scanners over Unicode categories (utf8proc); no regex engine.
 *
 * Contract:
 *   - A tok_vocab is immutable after loading except for its word cache, which
 *     is guarded by a mutex: several threads may tokenize with one vocab.
 *   - Tokenizing never fails on any input bytes (invalid UTF-8 included) except
 *     for running out of memory; byte-level BPE turns invalid UTF-8 into U+FFFD
 *     first (as llama.cpp does), SentencePiece keeps the bytes (byte fallback).
 *   - Detokenizing (tok_stream_*, tok_detokenize) only ever emits well-formed
 *     UTF-8: partial sequences are held back until complete, invalid ones become
 *     U+FFFD.
 *   - Errors: functions that can fail take `char *err, size_t errlen` (see
 *     common.h) and return -1 with one line in err.
 */
#ifndef FLINT_TOKENIZER_H
#define FLINT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/gguf.h"

typedef struct tok_vocab tok_vocab;

enum tok_model { TOK_MODEL_BPE = 1, TOK_MODEL_SPM = 2 };

/* Token attributes (llama.cpp's llama_token_attr bits). */
enum {
    TOK_ATTR_UNDEFINED    = 0,
    TOK_ATTR_UNKNOWN      = 1 << 0,
    TOK_ATTR_UNUSED       = 1 << 1,
    TOK_ATTR_NORMAL       = 1 << 2,
    TOK_ATTR_CONTROL      = 1 << 3,
    TOK_ATTR_USER_DEFINED = 1 << 4,
    TOK_ATTR_BYTE         = 1 << 5,
    TOK_ATTR_LSTRIP       = 1 << 7,
    TOK_ATTR_RSTRIP       = 1 << 8,
};

/* Special token ids; -1 where the vocabulary has none. */
typedef struct {
    int32_t bos, eos, eot, eom, unk, sep, pad, nl;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    int32_t im_start, im_end;   /* ChatML, by token text */
} tok_specials;

/* A growable array of token ids (zero-initialise; tok_ids_free when done). */
typedef struct {
    int32_t *v;
    size_t n, cap;
} tok_ids;

/* A growable byte buffer, NUL-terminated after every append (zero-initialise). */
typedef struct {
    char *s;
    size_t n, cap;
} tok_text;

/* Load the tokenizer described by g's metadata. The vocab copies what it needs:
 * g may be closed afterwards. Returns 0, or -1 with err (missing or malformed
 * key, unknown tokenizer model or pre-tokenizer, out of memory). */
int tok_load_gguf(const gguf_file *g, tok_vocab **out, char *err, size_t errlen);

/* gguf_open(path) + tok_load_gguf + gguf_close. */
int tok_load_file(const char *path, tok_vocab **out, char *err, size_t errlen);

void tok_free(tok_vocab *v);

/* --- tokenize --- */

enum {
    TOK_ADD_SPECIAL   = 1 << 0, /* add BOS/EOS where the vocabulary asks for them */
    TOK_PARSE_SPECIAL = 1 << 1, /* match control tokens' texts in the input */
    TOK_REFERENCE     = 1 << 2, /* BPE: the naive merge loop, no word cache (tests, bench) */
};

/* Append the ids of text[0..len) to out, as llama_tokenize(add_special,
 * parse_special) would. User-defined tokens are matched even without
 * TOK_PARSE_SPECIAL (as in llama.cpp). Returns 0, or -1 when out of memory
 * (out then holds a prefix). */
int tok_tokenize(tok_vocab *v, const char *text, size_t len, unsigned flags, tok_ids *out);

/* --- detokenize --- */

enum {
    TOK_DETOK_SPECIAL     = 1 << 0, /* render control/unknown tokens as their text */
    TOK_DETOK_STRIP_SPACE = 1 << 1, /* drop one leading space of the first token where the
                                       vocab adds a space prefix (SentencePiece) */
    TOK_DETOK_CLEAN       = 1 << 2, /* llama.cpp's clean_up_tokenization_spaces, for vocabs that
                                       set it (" ." -> "."); off for code */
};

/* The bytes token id stands for (BPE bytes decoded, SentencePiece "▁" -> " ",
 * <0xXX> -> the byte); "" for control/unknown tokens unless special. May be
 * partial or invalid UTF-8. NULL if id is out of range. */
const char *tok_piece(const tok_vocab *v, int32_t id, int special, size_t *len);

/* Streaming detokenizer: feed ids one by one, receive only complete UTF-8. */
typedef struct {
    const tok_vocab *v;
    unsigned flags;
    int started;            /* a token has been fed (leading-space rule applied) */
    unsigned char pend[4];  /* bytes of an incomplete UTF-8 sequence */
    int npend;
} tok_stream;

void tok_stream_init(tok_stream *s, const tok_vocab *v, unsigned flags);

/* Append to out the text that token id completes. Returns 0, or -1 if id is
 * out of range (nothing appended, stream unchanged) or out of memory. */
int tok_stream_feed(tok_stream *s, int32_t id, tok_text *out);

/* End of stream: a held-back partial sequence becomes U+FFFD. Returns 0 or -1 (OOM). */
int tok_stream_flush(tok_stream *s, tok_text *out);

/* Whole-sequence detokenize: a stream over ids, flushed, then the clean-up
 * pass if TOK_DETOK_CLEAN and the vocab uses it. Returns 0, or -1 with err
 * naming the first out-of-range id (or OOM). */
int tok_detokenize(const tok_vocab *v, const int32_t *ids, size_t n, unsigned flags,
                   tok_text *out, char *err, size_t errlen);

/* --- vocabulary facts --- */

int32_t tok_n_vocab(const tok_vocab *v);
enum tok_model tok_model_type(const tok_vocab *v);
const char *tok_pre_name(const tok_vocab *v);      /* "" for SentencePiece */
const tok_specials *tok_special_ids(const tok_vocab *v);
int tok_add_bos(const tok_vocab *v);
int tok_add_eos(const tok_vocab *v);
int tok_add_space_prefix(const tok_vocab *v);

/* Does id end generation (eos, eot, eom, <|im_end|>, <|endoftext|>, fim pad/rep/sep, ...)? */
int tok_is_eog(const tok_vocab *v, int32_t id);

/* The end-of-generation set, ascending; *n receives its size. */
const int32_t *tok_eog_ids(const tok_vocab *v, size_t *n);

/* Raw token text as stored in the vocabulary, its attributes and score. NULL /
 * 0 for an out-of-range id. */
const char *tok_token_text(const tok_vocab *v, int32_t id, size_t *len);
unsigned tok_token_attr(const tok_vocab *v, int32_t id);
float tok_token_score(const tok_vocab *v, int32_t id);

/* Id of the token whose text is exactly text[0..len), or -1. */
int32_t tok_find(const tok_vocab *v, const char *text, size_t len);

/* `tokenizer.chat_template`, or NULL if the file has none. */
const char *tok_chat_template(const tok_vocab *v, size_t *len);

/* --- buffers --- */

int tok_ids_push(tok_ids *a, int32_t id);
void tok_ids_free(tok_ids *a);
int tok_text_append(tok_text *t, const char *s, size_t n);
void tok_text_free(tok_text *t);

#endif
