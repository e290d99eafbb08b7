/* test_tokenizer_synth.c — small vocabularies written on the fly: llama3's
 * ignore_merges and digit groups, merges whose result is not a token, and
 * malformed tokenizer metadata (each refused with an error naming the key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gguf.h"
#include "engine/gguf_write.h"
#include "tap.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"

enum { BROKEN_NONE, BROKEN_NO_MODEL, BROKEN_MODEL, BROKEN_PRE, BROKEN_NO_MERGES, BROKEN_SCORES, BROKEN_TOKENS,
       OLD_FIM_KEYS /* not broken: write tokenizer.ggml.{prefix,suffix,middle}_token_id */ };

/* 256 byte tokens + extra tokens, the given merges, pre-tokenizer pre. */
static int build(const char *pre, const char *const *extra, size_t n_extra, const char *const *merges,
                 size_t n_merges, int broken, tok_vocab **v, char *err, size_t errlen) {
    const char *toks[300];
    char bytes[256][4];
    for (int b = 0; b < 256; b++) {
        int k = tok_utf8_put(tok_byte_to_cpt((uint8_t)b), bytes[b]);
        bytes[b][k] = 0;
        toks[b] = bytes[b];
    }
    for (size_t i = 0; i < n_extra; i++) toks[256 + i] = extra[i];
    size_t n = 256 + n_extra;
    gguf_writer *w = gw_new();
    gw_str(w, "general.architecture", "llama");
    if (broken != BROKEN_NO_MODEL) gw_str(w, "tokenizer.ggml.model", broken == BROKEN_MODEL ? "bert" : "gpt2");
    gw_str(w, "tokenizer.ggml.pre", broken == BROKEN_PRE ? "no-such-pre" : pre);
    if (broken == BROKEN_TOKENS) gw_u32(w, "tokenizer.ggml.tokens", 7);
    else gw_arr_str(w, "tokenizer.ggml.tokens", toks, n);
    if (broken == BROKEN_SCORES) {
        float sc[3] = {0};
        gw_arr_f32(w, "tokenizer.ggml.scores", sc, 3);
    }
    if (broken != BROKEN_NO_MERGES) gw_arr_str(w, "tokenizer.ggml.merges", merges, n_merges);
    if (broken == OLD_FIM_KEYS) {
        gw_u32(w, "tokenizer.ggml.prefix_token_id", 256);
        gw_u32(w, "tokenizer.ggml.suffix_token_id", 257);
        gw_u32(w, "tokenizer.ggml.middle_token_id", 258);
    }
    uint8_t *buf;
    size_t len;
    int rc = gw_finish(w, &buf, &len);
    gw_free(w);
    if (rc) return -1;
    gguf_file *g;
    rc = gguf_open_mem(buf, len, &g, err, errlen);
    if (!rc) {
        rc = tok_load_gguf(g, v, err, errlen);
        gguf_close(g);
    }
    free(buf);
    return rc;
}

static int ids_are(tok_vocab *v, const char *text, const int32_t *want, size_t n) {
    tok_ids a = {0}, b = {0};
    tok_tokenize(v, text, strlen(text), 0, &a);
    tok_tokenize(v, text, strlen(text), TOK_REFERENCE, &b);
    int ok = a.n == n && b.n == n && n && !memcmp(a.v, want, n * sizeof *want) && !memcmp(b.v, want, n * sizeof *want);
    if (!ok) {
        printf("# '%s' ->", text);
        for (size_t i = 0; i < a.n; i++) printf(" %d", a.v[i]);
        printf(" (reference:");
        for (size_t i = 0; i < b.n; i++) printf(" %d", b.v[i]);
        printf(")\n");
    }
    tok_ids_free(&a);
    tok_ids_free(&b);
    return ok;
}

int main(void) {
    char err[512];
    tok_vocab *v;
    /* 256 "he" 257 "ll" 258 "hello" 259 "123" 260 "45" */
    static const char *const extra[] = {"he", "ll", "hello", "123", "45"};
    static const char *const merges[] = {"h e", "l l", "4 5"};
    if (CHECK(build("llama-bpe", extra, 5, merges, 3, BROKEN_NONE, &v, err, sizeof err) == 0, "llama3 vocab loads")) {
        CHECK(tok_add_bos(v) && !strcmp(tok_pre_name(v), "llama-bpe"), "llama3: adds BOS by default");
        CHECK(ids_are(v, "hello", (const int32_t[]){258}, 1), "llama3: a word that is a token skips the merges");
        CHECK(ids_are(v, "hellos", (const int32_t[]){256, 257, 'o', 's'}, 4), "llama3: other words merge");
        CHECK(ids_are(v, "12345", (const int32_t[]){259, 260}, 2), "llama3: digits split in groups of three");
        tok_free(v);
    } else NOTE("%s", err);
    if (CHECK(build("gpt2", extra, 5, merges, 3, BROKEN_NONE, &v, err, sizeof err) == 0, "gpt2 vocab loads")) {
        CHECK(ids_are(v, "hello", (const int32_t[]){256, 257, 'o'}, 3), "gpt2: no ignore_merges");
        CHECK(ids_are(v, "12345", (const int32_t[]){'1', '2', '3', 260}, 4), "gpt2: digits in one word");
        tok_free(v);
    } else NOTE("%s", err);
    /* "ab" is only a merge result; "abc" is a token */
    static const char *const extra2[] = {"abc"};
    static const char *const merges2[] = {"a b", "ab c", "nomerge"};
    if (CHECK(build("qwen2", extra2, 1, merges2, 3, BROKEN_NONE, &v, err, sizeof err) == 0, "merge-only strings load")) {
        CHECK(ids_are(v, "abc", (const int32_t[]){256}, 1), "a merge through a non-token reaches the token");
        CHECK(ids_are(v, "abd", (const int32_t[]){'a', 'b', 'd'}, 3), "a final non-token falls back to its bytes");
        tok_free(v);
    } else NOTE("%s", err);
    /* FIM and ChatML ids by text, then the older prefix/suffix/middle keys */
    static const char *const extra3[] = {"<PRE>", "<SUF>", "<MID>", "<|im_start|>", "<|im_end|>"};
    if (CHECK(build("gpt2", extra3, 5, merges, 3, BROKEN_NONE, &v, err, sizeof err) == 0, "FIM-by-text vocab loads")) {
        const tok_specials *sp = tok_special_ids(v);
        CHECK(sp->fim_pre == 256 && sp->fim_suf == 257 && sp->fim_mid == 258, "CodeLlama-style <PRE>/<SUF>/<MID> found by text");
        CHECK(sp->im_start == 259 && sp->im_end == 260 && sp->eot == 260 && tok_is_eog(v, 260),
              "<|im_start|>/<|im_end|> found, <|im_end|> ends generation");
        CHECK(tok_token_attr(v, 260) == TOK_ATTR_CONTROL, "a detected end token becomes a control token");
        tok_free(v);
    } else NOTE("%s", err);
    static const char *const extra4[] = {"<a>", "<b>", "<c>"};
    if (CHECK(build("gpt2", extra4, 3, merges, 3, OLD_FIM_KEYS, &v, err, sizeof err) == 0, "old FIM keys load")) {
        const tok_specials *sp = tok_special_ids(v);
        CHECK(sp->fim_pre == 256 && sp->fim_suf == 257 && sp->fim_mid == 258, "tokenizer.ggml.prefix/suffix/middle_token_id");
        tok_free(v);
    } else NOTE("%s", err);
    static const struct { int broken; const char *needle; } BAD[] = {
        {BROKEN_NO_MODEL, "tokenizer.ggml.model"}, {BROKEN_MODEL, "bert"}, {BROKEN_PRE, "no-such-pre"},
        {BROKEN_NO_MERGES, "tokenizer.ggml.merges"}, {BROKEN_SCORES, "tokenizer.ggml.scores"},
        {BROKEN_TOKENS, "tokenizer.ggml.tokens"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        err[0] = 0;
        v = NULL;
        int rc = build("gpt2", extra, 5, merges, 3, BAD[i].broken, &v, err, sizeof err);
        CHECK(rc == -1 && !v && strstr(err, BAD[i].needle), "malformed metadata refused: %s", err);
    }
    return tap_done();
}
