/* test_tokenizer.c — the tokenizer against llama.cpp's expected ids.
 *
 *   - tests/fixtures/vocab/ggml-vocab-NAME.gguf.inp/.out: 46 cases x 9 vocabularies,
 *     add_special = false, parse_special = false (see that README)
 *   - tests/fixtures/models/tokenize.json: tiny-bpe with parse_special on and off
 *   - the reference (naive) BPE gives the same ids as the fast one everywhere
 *   - detokenize(tokenize(x)) == x for every case of the lossless vocabularies
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tap.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"

static const char *root(void) {
    const char *r = getenv("FLINT_ROOT");
    return r && *r ? r : ".";
}

static const char SEP[] = "\n__ggml_vocab_test__\n";

/* Split .inp into strings (pointers into buf, NUL-terminated in place). */
static int split_inputs(char *buf, size_t n, char **s, size_t *len, int max) {
    int k = 0;
    char *p = buf, *end = buf + n;
    while (p < end && k < max) {
        char *q = memmem(p, (size_t)(end - p), SEP, sizeof SEP - 1);
        if (!q) break;
        *q = 0;
        s[k] = p;
        len[k++] = (size_t)(q - p);
        p = q + sizeof SEP - 1;
    }
    return k;
}

static int ids_equal(const tok_ids *a, const int32_t *b, size_t n) {
    return a->n == n && (!n || !memcmp(a->v, b, n * sizeof *b));
}

static void print_ids(const char *what, const int32_t *v, size_t n) {
    printf("#   %s:", what);
    for (size_t i = 0; i < n && i < 40; i++) printf(" %d", v[i]);
    printf("%s\n", n > 40 ? " ..." : "");
}

/* Is s lossless for v: SentencePiece has byte fallback; byte-level BPE needs a
 * token for every byte of s (falcon lacks some control bytes, starcoder 0xF1). */
static int lossless(const tok_vocab *v, const char *s, size_t n) {
    if (tok_model_type(v) == TOK_MODEL_SPM) return 1;
    for (size_t i = 0; i < n; i++) {
        char enc[4];
        if (tok_find(v, enc, (size_t)tok_utf8_put(tok_byte_to_cpt((uint8_t)s[i]), enc)) < 0) return 0;
    }
    return 1;
}

static void vocab_cases(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", root(), dir, name);
    char err[512];
    tok_vocab *v;
    if (!CHECK(tok_load_file(path, &v, err, sizeof err) == 0, "%s loads", name)) {
        NOTE("%s", err);
        return;
    }
    size_t ni, no;
    char pin[600], pout[600];
    snprintf(pin, sizeof pin, "%s.inp", path);
    snprintf(pout, sizeof pout, "%s.out", path);
    char *inp = fl_read_file(pin, &ni), *out = fl_read_file(pout, &no);
    if (!CHECK(inp && out, "%s: .inp and .out readable", name)) { free(inp); free(out); tok_free(v); return; }
    char *s[256];
    size_t len[256];
    int n = split_inputs(inp, ni, s, len, 256), match = 0, ref_match = 0, lines = 0, rt_ok = 0, rt_n = 0;
    char *line = out, *save = NULL;
    for (int i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        if (!nl) break;
        *nl = 0;
        lines++;
        int32_t want[4096];
        size_t nw = 0;
        for (char *t = strtok_r(line, " ", &save); t && nw < 4096; t = strtok_r(NULL, " ", &save))
            want[nw++] = (int32_t)strtol(t, NULL, 10);
        line = nl + 1;
        tok_ids got = {0}, ref = {0};
        tok_tokenize(v, s[i], len[i], 0, &got);
        tok_tokenize(v, s[i], len[i], TOK_REFERENCE, &ref);
        if (ids_equal(&got, want, nw)) match++;
        else {
            NOTE("%s case %d mismatch: '%.60s'", name, i, s[i]);
            print_ids("want", want, nw);
            print_ids("got ", got.v, got.n);
        }
        if (ids_equal(&ref, got.v, got.n)) ref_match++;
        tok_text txt = {0};
        if (lossless(v, s[i], len[i])) {
            rt_n++;
            if (tok_detokenize(v, got.v, got.n, TOK_DETOK_STRIP_SPACE, &txt, err, sizeof err) == 0 &&
                txt.n == len[i] && !memcmp(txt.s, s[i], len[i]))
                rt_ok++;
            else
                NOTE("%s case %d round trip: '%.60s' -> '%.60s'", name, i, s[i], txt.s ? txt.s : "");
        }
        tok_text_free(&txt);
        tok_ids_free(&got);
        tok_ids_free(&ref);
    }
    CHECK(n > 0 && lines == n, "%s: %d inputs, %d expected lines", name, n, lines);
    CHECK(match == n, "%s: %d/%d cases match llama.cpp", name, match, n);
    CHECK(ref_match == n, "%s: reference BPE agrees on %d/%d cases", name, ref_match, n);
    CHECK(rt_ok == rt_n, "%s: round trip exact on %d/%d lossless cases (of %d)", name, rt_ok, rt_n, n);
    free(inp);
    free(out);
    tok_free(v);
}

static void tokenize_json(void) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/vocab/ggml-vocab-tiny-bpe.gguf", root());
    tok_vocab *v;
    if (!CHECK(tok_load_file(path, &v, err, sizeof err) == 0, "tiny-bpe loads")) return;
    snprintf(path, sizeof path, "%s/tests/fixtures/models/tokenize.json", root());
    json_error_t je;
    json_t *arr = json_load_file(path, 0, &je);
    if (!CHECK(json_is_array(arr), "tokenize.json parses")) { tok_free(v); return; }
    size_t i, good = 0, n = json_array_size(arr);
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_t *text = json_object_get(e, "text"), *ids = json_object_get(e, "ids");
        unsigned flags = (json_is_true(json_object_get(e, "add_special")) ? TOK_ADD_SPECIAL : 0) |
                         (json_is_true(json_object_get(e, "parse_special")) ? TOK_PARSE_SPECIAL : 0);
        int32_t want[1024];
        size_t nw = 0, k;
        json_t *x;
        json_array_foreach(ids, k, x) if (nw < 1024) want[nw++] = (int32_t)json_integer_value(x);
        tok_ids got = {0};
        tok_tokenize(v, json_string_value(text), json_string_length(text), flags, &got);
        if (ids_equal(&got, want, nw)) good++;
        else {
            NOTE("tokenize.json #%zu (%s) mismatch: '%.60s'", i, flags & TOK_PARSE_SPECIAL ? "special" : "plain",
                 json_string_value(text));
            print_ids("want", want, nw);
            print_ids("got ", got.v, got.n);
        }
        tok_ids_free(&got);
    }
    CHECK(good == n && n > 0, "tokenize.json: %zu/%zu entries match", good, n);
    json_decref(arr);
    tok_free(v);
}

/* flint's own vocabulary: its fixture cases, and source files round-trip. */
static void flint_coder(void) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/vocab-flint/flint-coder.vocab.gguf", root());
    FILE *f = fopen(path, "rb");
    if (!f) {
        NOTE("tests/fixtures/vocab-flint/flint-coder.vocab.gguf is not there yet; skipped");
        return;
    }
    fclose(f);
    vocab_cases("tests/fixtures/vocab-flint", "flint-coder.vocab.gguf");
    tok_vocab *v;
    if (!CHECK(tok_load_file(path, &v, err, sizeof err) == 0, "flint-coder loads")) return;
    const tok_specials *sp = tok_special_ids(v);
    int32_t im_start = tok_find(v, "<|im_start|>", 12), im_end = tok_find(v, "<|im_end|>", 10);
    CHECK(sp->bos == sp->eos && sp->eos >= 0 && sp->fim_pre >= 0 && sp->fim_suf >= 0 && sp->fim_mid >= 0 &&
          sp->fim_pad >= 0 && sp->fim_rep >= 0 && sp->fim_sep >= 0, "flint-coder: BOS/EOS and the six FIM ids");
    CHECK(im_start >= 0 && sp->im_start == im_start && sp->im_end == im_end && tok_is_eog(v, im_end) &&
          tok_is_eog(v, sp->eos) && !tok_is_eog(v, sp->fim_pre), "flint-coder: ChatML ids, <|im_end|> ends generation");
    CHECK(tok_chat_template(v, NULL) && strstr(tok_chat_template(v, NULL), "<|im_start|>"), "flint-coder: ChatML template");
    tok_ids fim = {0};
    const char *prompt = "<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n<|fim_middle|>";
    tok_tokenize(v, prompt, strlen(prompt), TOK_PARSE_SPECIAL, &fim);
    CHECK(fim.n > 3 && fim.v[0] == sp->fim_pre && fim.v[fim.n - 1] == sp->fim_mid && !tok_add_bos(v),
          "flint-coder: a FIM prompt parses to its control ids (%zu tokens)", fim.n);
    tok_ids_free(&fim);
    static const char *const files[] = {"csrc/tokenizer/tok_pretok.c", "csrc/tokenizer/tokenizer.h",
                                        "tests/fixtures/tokenizer/gen_pretok.py", "tests/fixtures/vocab/README.md"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t n;
        snprintf(path, sizeof path, "%s/%s", root(), files[i]);
        char *src = fl_read_file(path, &n);
        if (!CHECK(src != NULL, "read %s", files[i])) continue;
        tok_ids ids = {0}, ref = {0};
        tok_text txt = {0};
        tok_tokenize(v, src, n, 0, &ids);
        tok_tokenize(v, src, n, TOK_REFERENCE, &ref);
        tok_detokenize(v, ids.v, ids.n, TOK_DETOK_STRIP_SPACE, &txt, err, sizeof err);
        CHECK(txt.n == n && !memcmp(txt.s, src, n) && ids.n == ref.n && (!ids.n || !memcmp(ids.v, ref.v, ids.n * sizeof *ids.v)),
              "flint-coder: %s (%zu bytes, %zu tokens) round-trips, fast = reference", files[i], n, ids.n);
        tok_ids_free(&ids);
        tok_ids_free(&ref);
        tok_text_free(&txt);
        free(src);
    }
    tok_free(v);
}

int main(void) {
    static const char *const vocabs[] = {"gpt-2", "starcoder", "deepseek-coder", "refact", "falcon",
                                         "mpt", "phi-3", "llama-spm", "tiny-bpe"};
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "ggml-vocab-%s.gguf", vocabs[i]);
        vocab_cases("tests/fixtures/vocab", name);
    }
    tokenize_json();
    flint_coder();
    return tap_done();
}
