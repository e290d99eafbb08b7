/* test_tokenizer_api.c — the tokenizer's contract beyond the id fixtures:
 * special ids (metadata and by text), EOG sets, BOS/EOS, special-token parsing,
 * piece rendering, the streaming detokenizer's UTF-8 rules, llama.cpp's
 * leading-space rule, and robustness on random bytes and random ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"

static tok_vocab *load(const char *name) {
    char path[512], err[512];
    const char *r = getenv("FLINT_ROOT");
    snprintf(path, sizeof path, "%s/tests/fixtures/vocab/ggml-vocab-%s.gguf", r && *r ? r : ".", name);
    tok_vocab *v = NULL;
    if (!CHECK(tok_load_file(path, &v, err, sizeof err) == 0, "load %s", name)) NOTE("%s", err);
    return v;
}

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int valid_utf8(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (!len || i + len > n) return 0;
        for (size_t j = 1; j < len; j++)
            if ((p[i + j] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && p[i + 1] < 0xa0) return 0;
        if (c == 0xed && p[i + 1] > 0x9f) return 0;
        if (c == 0xf0 && p[i + 1] < 0x90) return 0;
        if (c == 0xf4 && p[i + 1] > 0x8f) return 0;
        i += len;
    }
    return 1;
}

static int tokenize(tok_vocab *v, const char *s, unsigned flags, tok_ids *out) {
    out->n = 0;
    return tok_tokenize(v, s, strlen(s), flags, out);
}

static int contains(const int32_t *a, size_t n, int32_t x) {
    for (size_t i = 0; i < n; i++)
        if (a[i] == x) return 1;
    return 0;
}

/* The BPE token standing for one raw byte. */
static int32_t byte_token(const tok_vocab *v, unsigned char b) {
    char buf[4];
    int k = tok_utf8_put(tok_byte_to_cpt(b), buf);
    return tok_find(v, buf, (size_t)k);
}

static void specials(void) {
    tok_vocab *v = load("tiny-bpe");
    if (v) {
        const tok_specials *sp = tok_special_ids(v);
        CHECK(sp->bos == 513 && sp->eos == 513, "tiny-bpe: bos = eos = 513 from metadata");
        CHECK(sp->fim_pre == 514 && sp->fim_mid == 515 && sp->fim_suf == 516 && sp->fim_pad == 517 &&
              sp->fim_rep == 518 && sp->fim_sep == 519, "tiny-bpe: fim ids from tokenizer.ggml.fim_*_token_id");
        CHECK(sp->eot == 513 && sp->im_start == -1 && sp->im_end == -1, "tiny-bpe: eot by text, no ChatML");
        size_t n;
        const int32_t *eog = tok_eog_ids(v, &n);
        CHECK(n == 4 && eog[0] == 513 && eog[1] == 517 && eog[2] == 518 && eog[3] == 519,
              "tiny-bpe: eog = {endoftext, fim_pad, fim_rep, fim_sep}");
        CHECK(tok_is_eog(v, 513) && !tok_is_eog(v, 514) && !tok_is_eog(v, -1), "tiny-bpe: tok_is_eog");
        CHECK(!tok_add_bos(v) && !tok_add_eos(v) && sp->nl == 10, "tiny-bpe: no BOS/EOS added, newline is id 10");
        CHECK(tok_chat_template(v, NULL) == NULL, "tiny-bpe: no chat template");
        tok_ids ids = {0};
        tokenize(v, "x", TOK_ADD_SPECIAL, &ids);
        CHECK(ids.n == 1 && ids.v[0] == 'x', "tiny-bpe: add_special adds nothing when add_bos_token is false");
        tok_ids_free(&ids);
        tok_free(v);
    }
    if ((v = load("starcoder"))) {
        const tok_specials *sp = tok_special_ids(v);
        CHECK(sp->fim_pre == 1 && sp->fim_mid == 2 && sp->fim_suf == 3 && sp->fim_pad == 4,
              "starcoder: <fim_prefix>/<fim_middle>/<fim_suffix>/<fim_pad> found by text");
        CHECK(sp->eot == 0 && tok_is_eog(v, 0) && tok_is_eog(v, 4), "starcoder: <|endoftext|> is eot, fim_pad ends generation");
        tok_free(v);
    }
    if ((v = load("deepseek-coder"))) {
        const tok_specials *sp = tok_special_ids(v);
        CHECK(sp->fim_pre == 32016 && sp->fim_suf == 32015 && sp->fim_mid == 32017,
              "deepseek-coder: <｜fim▁begin｜>/<｜fim▁hole｜>/<｜fim▁end｜> found by text");
        CHECK(sp->bos == 32013 && sp->eos == 32014 && sp->eot == 32014 && tok_add_bos(v), "deepseek-coder: bos/eos/eot");
        CHECK(tok_token_attr(v, 32016) == TOK_ATTR_CONTROL, "deepseek-coder: a FIM token found by text becomes control");
        tok_ids ids = {0};
        const char *fim = "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>";
        tokenize(v, fim, TOK_PARSE_SPECIAL, &ids);
        CHECK(ids.n == 1 && ids.v[0] == 32016, "deepseek-coder: parse_special matches the FIM text");
        tokenize(v, fim, 0, &ids);
        CHECK(ids.n > 1 && !contains(ids.v, ids.n, 32016), "deepseek-coder: without parse_special it is plain text");
        tokenize(v, "x", TOK_ADD_SPECIAL, &ids);
        CHECK(ids.n == 2 && ids.v[0] == 32013, "deepseek-coder: add_special prepends BOS");
        tok_ids_free(&ids);
        tok_free(v);
    }
    if ((v = load("phi-3"))) {
        const tok_specials *sp = tok_special_ids(v);
        size_t n;
        const char *ct = tok_chat_template(v, &n);
        CHECK(ct && n > 20 && !strncmp(ct, "{{ bos_token }}", 15), "phi-3: chat template");
        CHECK(sp->eot == 32007 && tok_is_eog(v, 32007) && tok_is_eog(v, 32000) && tok_is_eog(v, 2),
              "phi-3: <|end|>, <|endoftext|> and </s> end generation");
        CHECK(tok_token_attr(v, 2) & TOK_ATTR_USER_DEFINED, "phi-3: </s> stays user-defined (matched in text as in llama.cpp)");
        CHECK(tok_token_attr(v, 32007) & TOK_ATTR_RSTRIP, "phi-3: special tokens strip spaces on their right");
        tok_ids ids = {0};
        tokenize(v, "<|user|> hi<|end|>", TOK_PARSE_SPECIAL | TOK_ADD_SPECIAL, &ids);
        CHECK(ids.n >= 4 && ids.v[0] == 1 && ids.v[1] == 32010 && ids.v[ids.n - 1] == 32007,
              "phi-3: BOS, <|user|>, text, <|end|>");
        tok_ids ids2 = {0};
        tokenize(v, "<|user|>hi<|end|>", TOK_PARSE_SPECIAL | TOK_ADD_SPECIAL, &ids2);
        CHECK(ids.n == ids2.n && ids.n && !memcmp(ids.v, ids2.v, ids.n * sizeof *ids.v), "phi-3: rstrip drops the space after <|user|>");
        tok_ids_free(&ids);
        tok_ids_free(&ids2);
        tok_free(v);
    }
    if ((v = load("llama-spm"))) {
        const tok_specials *sp = tok_special_ids(v);
        CHECK(sp->bos == 1 && sp->eos == 2 && sp->unk == 0 && sp->nl == 13, "llama-spm: bos/eos/unk, newline <0x0A>");
        CHECK(tok_add_bos(v) && !tok_add_eos(v) && tok_add_space_prefix(v), "llama-spm: adds BOS and a space prefix");
        tok_ids a = {0}, b = {0};
        tokenize(v, "<s>Hello", TOK_PARSE_SPECIAL, &a);
        tokenize(v, "Hello", 0, &b);
        CHECK(b.n && a.n == b.n + 1 && a.v[0] == 1 && !memcmp(a.v + 1, b.v, b.n * sizeof *b.v),
              "llama-spm: after a parsed special token the text gets the space prefix again");
        tok_ids_free(&a);
        tok_ids_free(&b);
        tok_free(v);
    }
}

static void detok(void) {
    tok_vocab *v = load("gpt-2");
    if (!v) return;
    tok_ids ids = {0};
    const char *s = "ok \xf0\x9f\xa6\x99 \xe2\x82\xac";   /* a 4-byte and a 3-byte character */
    tokenize(v, s, 0, &ids);
    tok_stream st;
    tok_text out = {0};
    tok_stream_init(&st, v, 0);
    int partial_ok = 1;
    for (size_t i = 0; i < ids.n; i++) {
        tok_stream_feed(&st, ids.v[i], &out);
        partial_ok &= valid_utf8(out.s, out.n) && out.n <= strlen(s) && !memcmp(out.s, s, out.n);
    }
    tok_stream_flush(&st, &out);
    CHECK(partial_ok && out.n == strlen(s) && !memcmp(out.s, s, out.n),
          "stream: every prefix is whole UTF-8 and the end is exact (%zu tokens)", ids.n);

    out.n = 0;   /* E2 82 then 'A': the partial sequence becomes U+FFFD */
    tok_stream_init(&st, v, 0);
    tok_stream_feed(&st, byte_token(v, 0xe2), &out);
    tok_stream_feed(&st, byte_token(v, 0x82), &out);
    CHECK(out.n == 0, "stream: an incomplete sequence is held back");
    tok_stream_feed(&st, byte_token(v, 'A'), &out);
    CHECK(out.n == 4 && !memcmp(out.s, "\xef\xbf\xbd" "A", 4), "stream: broken sequence -> U+FFFD, then the next character");
    out.n = 0;
    tok_stream_feed(&st, byte_token(v, 0x80), &out);
    tok_stream_feed(&st, byte_token(v, 0xc0), &out);
    tok_stream_feed(&st, byte_token(v, 0xf0), &out);
    tok_stream_flush(&st, &out);
    CHECK(out.n == 9 && valid_utf8(out.s, out.n), "stream: stray continuation, invalid lead, truncated end -> 3 x U+FFFD");
    int32_t eot = 50256;
    out.n = 0;
    tok_stream_init(&st, v, 0);
    tok_stream_feed(&st, eot, &out);
    CHECK(out.n == 0, "stream: control tokens render empty by default");
    tok_stream_init(&st, v, TOK_DETOK_SPECIAL);
    tok_stream_feed(&st, eot, &out);
    CHECK(out.n == 13 && !memcmp(out.s, "<|endoftext|>", 13), "stream: ... and as their text when asked");
    CHECK(tok_stream_feed(&st, 50257, &out) == -1 && tok_stream_feed(&st, -1, &out) == -1, "stream: out-of-range ids are refused");
    char err[256];
    int32_t bad[] = {15496, 99999};
    CHECK(tok_detokenize(v, bad, 2, 0, &out, err, sizeof err) == -1 && strstr(err, "99999"), "detokenize names a bad id");
    tokenize(v, "Hello , world ' s", 0, &ids);
    out.n = 0;
    tok_detokenize(v, ids.v, ids.n, TOK_DETOK_CLEAN, &out, err, sizeof err);
    CHECK(!strcmp(out.s, "Hello, world's"), "detokenize: llama.cpp's clean-up on request (gpt-2): '%s'", out.s);
    tok_ids_free(&ids);
    tok_text_free(&out);
    tok_free(v);

    if (!(v = load("llama-spm"))) return;
    tok_ids t = {0};
    tokenize(v, "Hello", TOK_ADD_SPECIAL, &t);
    tok_text o = {0};
    tok_detokenize(v, t.v, t.n, TOK_DETOK_STRIP_SPACE, &o, err, sizeof err);
    CHECK(!strcmp(o.s, " Hello"), "spm: after BOS the space stays (llama.cpp): '%s'", o.s);
    o.n = 0;
    tok_detokenize(v, t.v + 1, t.n - 1, TOK_DETOK_STRIP_SPACE, &o, err, sizeof err);
    CHECK(!strcmp(o.s, "Hello"), "spm: the first token's leading space is stripped: '%s'", o.s);
    o.n = 0;
    tok_detokenize(v, t.v + 1, t.n - 1, 0, &o, err, sizeof err);
    CHECK(!strcmp(o.s, " Hello"), "spm: ... unless the stream continues a prompt: '%s'", o.s);
    size_t n;
    const char *p = tok_piece(v, 13, 0, &n);
    CHECK(p && n == 1 && p[0] == '\n', "spm: <0x0A> renders as a newline byte");
    tok_ids_free(&t);
    tok_text_free(&o);
    tok_free(v);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Random text: raw bytes, ASCII code-like text or valid multi-byte characters. */
static size_t random_text(char *buf, size_t cap, int valid) {
    static const char *const pieces[] = {"int ", "x", " ", "  ", "\n", "\t", "'s", "123", "(", ")", "{", "}",
        "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xe2\x80\x8d", "\xc2\xa0", "\xe3\x80\x80", "<|", "|>", "<s>", "\r\n"};
    size_t n = 0, want = rnd() % (cap - 8);
    while (n < want) {
        if (!valid && rnd() % 3 == 0) buf[n++] = (char)(rnd() & 0xff);
        else {
            const char *p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
            size_t k = strlen(p);
            if (n + k > cap) break;
            memcpy(buf + n, p, k);
            n += k;
        }
    }
    return n;
}

static void robustness(void) {
    static const char *const names[] = {"gpt-2", "starcoder", "deepseek-coder", "refact", "falcon", "mpt",
                                        "phi-3", "llama-spm", "tiny-bpe"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        tok_vocab *v = load(names[k]);
        if (!v) continue;
        int32_t nv = tok_n_vocab(v);
        int in_range = 1, utf8 = 1, round = 1, fast_ref = 1;
        tok_ids ids = {0}, ref = {0};
        tok_text out = {0};
        char buf[200], err[256];
        for (int it = 0; it < 300; it++) {
            int valid = it % 2;
            size_t n = random_text(buf, sizeof buf, valid);
            unsigned flags = (unsigned)(it / 2 % 4);
            ids.n = ref.n = out.n = 0;
            tok_tokenize(v, buf, n, flags, &ids);
            tok_tokenize(v, buf, n, flags | TOK_REFERENCE, &ref);
            fast_ref &= ids.n == ref.n && (!ids.n || !memcmp(ids.v, ref.v, ids.n * sizeof *ids.v));
            for (size_t i = 0; i < ids.n; i++) in_range &= ids.v[i] >= 0 && ids.v[i] < nv;
            tok_detokenize(v, ids.v, ids.n, TOK_DETOK_STRIP_SPACE | (it % 3 ? 0 : TOK_DETOK_SPECIAL), &out, err, sizeof err);
            utf8 &= valid_utf8(out.s, out.n);
            if (valid && !flags && !(it % 3 == 0)) {
                int ok = out.n == n && (!n || !memcmp(out.s, buf, n));
                if (!ok && round) NOTE("%s: round trip differs for '%.*s'", names[k], (int)n, buf);
                round &= ok;
            }
        }
        for (int it = 0; it < 200; it++) {   /* random ids */
            ids.n = out.n = 0;
            for (int j = 0; j < 12; j++) tok_ids_push(&ids, (int32_t)(rnd() % (uint32_t)nv));
            tok_detokenize(v, ids.v, ids.n, it % 2 ? TOK_DETOK_SPECIAL : 0, &out, err, sizeof err);
            utf8 &= valid_utf8(out.s, out.n);
        }
        CHECK(in_range && utf8 && fast_ref, "%s: random bytes tokenize in range, fast = reference, output is valid UTF-8", names[k]);
        CHECK(round, "%s: random valid UTF-8 round-trips exactly", names[k]);
        tok_ids_free(&ids);
        tok_ids_free(&ref);
        tok_text_free(&out);
        tok_free(v);
    }
}

int main(void) {
    specials();
    detok();
    robustness();
    return tap_done();
}
