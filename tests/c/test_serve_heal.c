/* test_serve_heal.c — token healing of completions with the default model's
 * vocabulary: which prefix tokens are taken back (checked against a scan of
 * the whole vocabulary), which tokens may re-type them and in what order
 * (the same), and end to end through `flint serve` with the default model:
 * a completion in the middle of a word reports the re-typed bytes and never
 * shows them again; `--no-heal` and a prefix ending at a newline heal
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/internal.h"
#include "serve_client.h"
#include "tap.h"

#define MODEL "models/flint-coder-moe.Q8_0.gguf"
#define DEMO "tools/demo/demo.py"
#define T 60000

static size_t text_len(const srv_model *m, int32_t id) {
    size_t n = 0;
    tok_piece(m->vocab, id, 0, &n);
    return n;
}

static int healable(const srv_model *m, int32_t id) {
    return text_len(m, id) && !tok_is_eog(m->vocab, id) && !(tok_token_attr(m->vocab, id) & TOK_ATTR_CONTROL);
}

static void test_back(const srv_model *m) {
    static const struct { const char *prefix, *want; } cases[] = {
        {"x = 1\n            writer.wr", "riter.wr"}, /* the line's last three tokens: " w|riter|.|wr" */
        {"x = 1\n    return f", "    return f"},
        {"x\n(a)", "(a)"},                       /* fewer on the line: up to the newline */
        {"x = 1\n================================ab", "ab"}, /* not the 32-byte token: over 32 bytes */
        {"x = compute(a)\n", ""},                /* a line end: nothing */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tok_ids ids = {0};
        tok_tokenize(m->vocab, cases[i].prefix, strlen(cases[i].prefix), 0, &ids);
        char text[SRV_HEAL_MAX_BYTES];
        size_t len = 99;
        int k = srv_heal_back(m, ids.v, ids.n, text, &len);
        const char *last_line = strrchr(cases[i].prefix, '\n') ? strrchr(cases[i].prefix, '\n') + 1 : cases[i].prefix;
        CHECK(len == strlen(cases[i].want) && !memcmp(text, cases[i].want, len) && (k > 0) == (len > 0),
              "heal_back: \"%s\" -> takes back \"%s\" (%d tokens, got \"%.*s\")", last_line, cases[i].want, k,
              (int)len, text);
        tok_ids_free(&ids);
    }
    /* the rule, on every cut of a real file: the text taken back is the
     * last tokens' text, at most 3 of them and 32 bytes, with no newline;
     * one token more would break one of these */
    FILE *f = fopen(DEMO, "rb");
    char src[8192];
    size_t n = f ? fread(src, 1, sizeof src, f) : 0;
    if (f) fclose(f);
    int bad = 0, healed = 0, cuts = 0;
    for (size_t cut = 1; cut < n; cut += 5) {
        tok_ids ids = {0};
        tok_tokenize(m->vocab, src, cut, 0, &ids);
        char text[SRV_HEAL_MAX_BYTES];
        size_t len;
        int k = srv_heal_back(m, ids.v, ids.n, text, &len);
        tok_text back = {0};
        for (int i = k; i > 0; i--) {
            size_t l;
            const char *p = tok_piece(m->vocab, ids.v[ids.n - (size_t)i], 0, &l);
            tok_text_append(&back, p, l);
        }
        int ok = back.n == len && (!len || !memcmp(back.s, text, len)) && !memchr(text, '\n', len) &&
                 len <= SRV_HEAL_MAX_BYTES && k <= SRV_HEAL_MAX_TOKENS;
        if (ok && k < SRV_HEAL_MAX_TOKENS && (size_t)k < ids.n) { /* one more token would break the rule */
            size_t l;
            const char *p = tok_piece(m->vocab, ids.v[ids.n - 1 - (size_t)k], 0, &l);
            ok = !healable(m, ids.v[ids.n - 1 - (size_t)k]) || l + len > SRV_HEAL_MAX_BYTES || memchr(p, '\n', l);
        }
        bad += !ok;
        healed += k > 0;
        cuts++;
        tok_text_free(&back);
        tok_ids_free(&ids);
    }
    CHECK(cuts > 500 && !bad && healed > cuts / 2, "heal_back: the rule holds at %d cuts of %s (%d healed, %d bad)",
          cuts, DEMO, healed, bad);
}

/* Brute force: the best token by logits (ties to the lower id) whose text
 * starts with r or is a shorter prefix of it. */
static int32_t pick_scan(const srv_model *m, const float *logits, const char *r, size_t n) {
    int32_t best = -1;
    for (int32_t id = 0; id < tok_n_vocab(m->vocab); id++) {
        size_t l = 0;
        const char *t = tok_piece(m->vocab, id, 0, &l);
        if (healable(m, id) && !memcmp(t, r, l < n ? l : n) && (best < 0 || logits[id] > logits[best])) best = id;
    }
    return best;
}

static void test_pick(const srv_model *m) {
    int nv = tok_n_vocab(m->vocab);
    float *logits = malloc((size_t)nv * sizeof(float));
    uint32_t s = 12345;
    for (int i = 0; i < nv; i++) {
        s = s * 1664525u + 1013904223u;
        logits[i] = (float)(s >> 8) / (float)(1u << 24); /* distinct enough; ties resolved by id on both sides */
    }
    static const char *const rests[] = {".wr", " f", "w", "    ", "iterow", "self._", "zzzzqq"};
    int bad = 0, checks = 0;
    for (size_t i = 0; i < sizeof rests / sizeof rests[0]; i++) {
        int32_t got = srv_heal_pick(m, logits, rests[i], strlen(rests[i]));
        int32_t want = pick_scan(m, logits, rests[i], strlen(rests[i]));
        if (got != want) NOTE("pick %s: %d, scan %d", rests[i], got, want);
        bad += got != want;
        checks++;
    }
    CHECK(!bad, "heal_pick: the best consistent token equals a scan of the vocabulary (%d cases)", checks);
    CHECK(srv_heal_pick(m, logits, "", 0) == -1, "heal_pick: nothing to re-type -> -1");
    free(logits);
}

/* The demo file up to the cursor after `word` in line `line` (1-based), and
 * the rest (with drop_line_rest, from the end of that line: the user typed
 * `word` into a line with nothing after it). */
static int demo_cut(int line, const char *word, int drop_line_rest, char **prefix, char **suffix) {
    FILE *f = fopen(DEMO, "rb");
    static char src[16384];
    size_t n = f ? fread(src, 1, sizeof src - 1, f) : 0;
    if (f) fclose(f);
    src[n] = 0;
    char *p = src;
    for (int l = 1; l < line && p; l++) p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    char *w = p ? strstr(p, word) : NULL;
    if (!w) return -1;
    size_t at = (size_t)(w - src) + strlen(word);
    *prefix = strndup(src, at);
    *suffix = strdup(drop_line_rest ? src + at + strcspn(src + at, "\n") : src + at);
    return 0;
}

static json_t *complete(sc_client *c, long long *next_id, const char *prefix, const char *suffix, int n_alt,
                        int max_tokens) {
    json_t *p = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:i}", "buf", 1, "path", "demo.py", "filetype", "python",
                          "prefix", prefix, "suffix", suffix, "max_tokens", max_tokens, "n_alt", n_alt);
    json_t *chunks = json_array();
    json_t *r = sc_call(c, (*next_id)++, "complete", p, NULL, chunks, T);
    long long id = r ? json_integer_value(json_object_get(r, "id")) : -1;
    json_decref(r);
    sc_collect(c, id, n_alt, chunks, T);
    json_t *out = json_object();
    json_object_set_new(out, "id", json_integer(id));
    json_object_set_new(out, "chunks", chunks);
    return out;
}

static void test_serve(void) {
    char *prefix, *suffix;
    if (demo_cut(91, "writer.wr", 0, &prefix, &suffix)) { CHECK(0, "demo line 91 has writer.wr"); return; }
    for (int heal = 1; heal >= 0; heal--) {
        sc_client c;
        const char *args[] = {"--model", MODEL, "--threads", "1", heal ? NULL : "--no-heal", NULL};
        if (sc_start(&c, 1, args)) { CHECK(0, "spawn"); continue; }
        long long next_id = 1;
        json_t *res = complete(&c, &next_id, prefix, suffix, 3, 24);
        json_t *chunks = json_object_get(res, "chunks");
        long long id = json_integer_value(json_object_get(res, "id"));
        json_t *fin = sc_final(chunks, id, 0);
        int healed = (int)json_integer_value(json_object_get(json_object_get(fin, "stats"), "healed_bytes"));
        char *t0 = strdup(sc_text(chunks, id, 0)), *t1 = strdup(sc_text(chunks, id, 1)), *t2 = strdup(sc_text(chunks, id, 2));
        if (heal) {
            CHECK(healed == 8, "serve: at writer.wr the completion re-types \"riter.wr\" (healed_bytes %d)", healed);
            CHECK(*t0 && strncmp(t0, "wr", 2) && strncmp(t0, ".", 1) && strncmp(t0, "riter", 5),
                  "serve: the re-typed text is not shown again (alt 0: \"%s\")", t0);
            CHECK(strncmp(t1, "wr", 2) && strncmp(t1, ".", 1) && strncmp(t1, "riter", 5),
                  "serve: nor in the second alternative (\"%s\")", t1);
            CHECK(*t1 && *t2 && strcmp(t0, t1) && strcmp(t1, t2) && strcmp(t0, t2),
                  "serve: the alternatives part after the re-typed text (\"%s\", \"%s\", \"%s\")", t0, t1, t2);
        } else {
            CHECK(healed == 0, "serve --no-heal: nothing re-typed (healed_bytes %d)", healed);
        }
        free(t0);
        free(t1);
        free(t2);
        json_decref(res);
        if (heal) { /* a prefix at a line end heals nothing */
            char *p2 = strndup(prefix, (size_t)(strrchr(prefix, '\n') - prefix + 1));
            res = complete(&c, &next_id, p2, suffix, 1, 24);
            chunks = json_object_get(res, "chunks");
            id = json_integer_value(json_object_get(res, "id"));
            healed = (int)json_integer_value(json_object_get(json_object_get(sc_final(chunks, id, 0), "stats"),
                                                             "healed_bytes"));
            CHECK(healed == 0, "serve: a prefix ending with a newline heals nothing (%d)", healed);
            json_decref(res);
            free(p2);
            /* max_tokens counts the tokens after the re-typed ones */
            res = complete(&c, &next_id, prefix, suffix, 1, 2);
            chunks = json_object_get(res, "chunks");
            id = json_integer_value(json_object_get(res, "id"));
            json_t *st = json_object_get(sc_final(chunks, id, 0), "stats");
            long long gen = json_integer_value(json_object_get(st, "generated_tokens"));
            CHECK(!strcmp(sc_str(json_object_get(st, "reason")), "max_tokens") && gen > 2 && *sc_text(chunks, id, 0),
                  "serve: max_tokens 2 leaves 2 tokens after the re-typed ones (%lld in all, shown \"%s\")", gen,
                  sc_text(chunks, id, 0));
            json_decref(res);
            /* the line's last three tokens, not only those a longer token could
             * continue: at `item.qu` the model re-typed just "qu" and ended */
            char *p3, *s3;
            if (!demo_cut(58, "item.qu", 1, &p3, &s3)) {
                res = complete(&c, &next_id, p3, s3, 1, 24);
                chunks = json_object_get(res, "chunks");
                id = json_integer_value(json_object_get(res, "id"));
                const char *t = sc_text(chunks, id, 0);
                CHECK(*t, "serve: at `item.qu` (nothing after it on the line) there is a suggestion (\"%s\")", t);
                json_decref(res);
                free(p3);
                free(s3);
            } else {
                CHECK(0, "demo line 58 has item.qu");
            }
        }
        json_decref(sc_call(&c, next_id++, "shutdown", json_object(), NULL, NULL, T));
        CHECK(sc_finish(&c, 5000) == 0, "serve%s: exit status 0", heal ? "" : " --no-heal");
    }
    free(prefix);
    free(suffix);
}

int main(void) {
    srv_model m;
    memset(&m, 0, sizeof m);
    char err[256];
    if (tok_load_file(MODEL, &m.vocab, err, sizeof err)) return CHECK(0, "load %s: %s", MODEL, err), tap_done();
    int rc = srv_heal_index(&m);
    CHECK(rc == 0 && m.n_by_text > 8000, "heal_index: %d text tokens indexed", m.n_by_text);
    test_back(&m);
    test_pick(&m);
    free(m.by_text);
    tok_free(m.vocab);
    test_serve();
    return tap_done();
}
