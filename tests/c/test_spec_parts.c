/* test_spec_parts.c — the pieces of speculative decoding one by one:
 * n-gram lookup, the cost model's decisions on synthetic measurements (no
 * timing involved), the draft-model vocabulary check, and the generator's
 * API contract (errors, budgets, cancellation, rewinding, caller-decoded
 * prompts). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/spec_internal.h"
#include "fixtures.h"
#include "tap.h"

#define TINY "tests/fixtures/models/tiny-qwen3moe.F32.gguf"

/* ---- n-gram lookup ---- */

static int ngram_draft(const int32_t *h, int n, int nmin, int nmax, int k, int32_t *out, int *match) {
    spec_ngram ix;
    if (spec_ngram_init(&ix, nmin, nmax, 64)) return -1;
    spec_ngram_update(&ix, h, n);
    int got = spec_ngram_draft(&ix, h, n, k, out, match);
    spec_ngram_free(&ix);
    return got;
}

static void test_ngram(void) {
    int32_t out[8];
    int m;
    const int32_t a[] = {1, 2, 3, 4, 5, 1, 2, 3};
    int got = ngram_draft(a, 8, 1, 4, 6, out, &m);
    CHECK(got == 6 && m == 3 && out[0] == 4 && out[1] == 5 && out[2] == 1 && out[5] == 4,
          "ngram: 1 2 3 4 5 1 2 3 proposes 4 5 1 2 3 4 (match 3)");
    const int32_t b[] = {7, 8, 1, 2, 9, 7, 8, 1, 2, 6, 0, 1, 2};
    got = ngram_draft(b, 13, 1, 4, 2, out, &m);
    CHECK(got == 2 && m == 2 && out[0] == 6 && out[1] == 0, "ngram: the most recent occurrence wins (6 0, not 9 7)");
    const int32_t c[] = {5, 1, 2, 9, 3, 1, 2, 8, 5, 1, 2};
    got = ngram_draft(c, 11, 1, 4, 1, out, &m);
    CHECK(got == 1 && m == 3 && out[0] == 9, "ngram: the longest match wins over a more recent shorter one");
    const int32_t d[] = {5, 5, 5};
    got = ngram_draft(d, 3, 1, 4, 4, out, &m);
    CHECK(got == 4 && out[0] == 5 && out[3] == 5, "ngram: a repeating pattern keeps repeating through the draft");
    const int32_t e[] = {1, 2, 3};
    CHECK(ngram_draft(e, 3, 1, 4, 4, out, &m) == 0, "ngram: no earlier occurrence, no draft");
    const int32_t f[] = {2, 1, 3, 1};
    CHECK(ngram_draft(f, 4, 2, 4, 4, out, &m) == 0 && ngram_draft(f, 4, 1, 4, 1, out, &m) == 1 && out[0] == 3,
          "ngram: matches shorter than ngram_min are not used");
    spec_ngram ix;
    int32_t g[] = {1, 2, 3, 1, 2, 3, 1};
    spec_ngram_init(&ix, 1, 4, 64);
    spec_ngram_update(&ix, g, 7);
    spec_ngram_rewind(&ix, 4); /* the sequence is now 1 2 3 1; later entries overwrote the earlier "1", "3 1" */
    g[4] = g[5] = g[6] = 7;
    spec_ngram_update(&ix, g, 4);
    got = spec_ngram_draft(&ix, g, 4, 2, out, &m);
    CHECK(got == 2 && m == 1 && out[0] == 2 && out[1] == 3,
          "ngram: after a rewind, positions past the cut are forgotten and earlier occurrences found again");
    spec_ngram_free(&ix);

    /* A refactor's output copies its source with an edit: source 10..19 ("12"
     * is the identifier renamed), then a line that ends in 13 77, then the
     * output: 10 11, the new name 50 51, then 13. After the edit the copy
     * resumes in the source (14 15 16), not after the most recent 13 (77). */
    int32_t r[] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 13, 77, 0, 10, 11, 50, 51, 13};
    spec_ngram_init(&ix, 1, 4, 64);
    spec_ngram_update(&ix, r, 15); /* output so far: 10 11 */
    got = spec_ngram_draft(&ix, r, 15, 3, out, &m);
    CHECK(got == 3 && out[0] == 12 && out[1] == 13 && out[2] == 14, "ngram: the output copying its source drafts 12 13 14");
    spec_ngram_update(&ix, r, 18); /* the model wrote 50 51 13 instead */
    got = spec_ngram_draft(&ix, r, 18, 3, out, &m);
    CHECK(got == 3 && m == 1 && out[0] == 14 && out[1] == 15 && out[2] == 16,
          "ngram: after an edit the copy resumes in the source past it (14 15 16, not 77)");
    CHECK(ngram_draft(r, 18, 1, 4, 1, out, &m) == 1 && out[0] == 77, "ngram: without that history, the most recent 13 wins");
    int32_t r2[] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 13, 77, 0, 10, 11, 12, 13, 14, 15};
    spec_ngram_free(&ix);
    spec_ngram_init(&ix, 1, 4, 64);
    spec_ngram_update(&ix, r2, 15);
    spec_ngram_draft(&ix, r2, 15, 2, out, &m);
    spec_ngram_update(&ix, r2, 19); /* the copy went on: 12 13 14 15 */
    got = spec_ngram_draft(&ix, r2, 19, 2, out, &m);
    CHECK(got == 2 && out[0] == 16 && out[1] == 17, "ngram: a copy that went on drafts on from its source (16 17)");
    spec_ngram_free(&ix);
}

/* ---- cost model ---- */

/* Verification costs a + b k milliseconds; the source accepts a draft token
 * with probability r (runs of r / (1 - r) accepted tokens, then a rejection). */
static void feed_policy(spec_policy *p, double a, double b, int src, double r) {
    for (int k = 0; k <= 16; k++) spec_policy_note_verify(p, k, 100, (a + b * k) * 1e-3);
    for (int i = 0; i < 200; i++) spec_policy_note_accept(p, src, 4, 16, (int)(r / (1 - r) + 0.5));
}

/* Over n decisions with the given candidates: how many were plain, and the last k. */
static int count_plain(spec_policy *p, const spec_cand *c, int fallback, int n, int *k_last, int *src_last) {
    int plain = 0;
    for (int i = 0; i < n; i++) {
        int s = spec_policy_choose(p, c, 100, 1000, fallback, 0, k_last);
        if (s < 0) plain++;
        else *src_last = s;
    }
    return plain;
}

static void test_policy(void) {
    double prior[SPEC_NSRC] = {0.2, 0, 0.5};
    spec_cand ng[SPEC_NSRC] = {[SPEC_I_NGRAM] = {.avail = 1, .kmax = 16, .n = 4}};
    spec_policy p;
    int k = 0, src = -1;
    spec_policy_init(&p, prior);
    CHECK(spec_policy_choose(&p, ng, 100, 1000, 0, 0, &k) == -1 && k == 0, "policy: the first step is plain (it measures verify(0))");

    spec_policy_init(&p, prior);
    feed_policy(&p, 1, 1, SPEC_I_NGRAM, 0.9); /* compute bound: k drafts cost k+1 steps */
    int plain = count_plain(&p, ng, 1, 1000, &k, &src);
    CHECK(plain == 1000,
          "policy: auto decodes plainly, without probing, when verification costs as much as the tokens (%d/1000 plain)",
          plain);
    spec_policy_init(&p, prior);
    feed_policy(&p, 1, 1, SPEC_I_NGRAM, 0.9);
    plain = count_plain(&p, ng, 0, 100, &k, &src);
    CHECK(plain == 0 && src == SPEC_I_NGRAM && k == 1, "policy: a fixed source keeps drafting, the shortest draft (k %d)", k);

    spec_policy_init(&p, prior);
    feed_policy(&p, 1, 0.05, SPEC_I_NGRAM, 0.9); /* memory bound: drafts nearly free to verify */
    plain = count_plain(&p, ng, 1, 100, &k, &src);
    CHECK(plain == 0 && k >= 8, "policy: cheap verification and 90%% acceptance: long drafts (k %d), never plain", k);
    spec_policy_init(&p, prior);
    feed_policy(&p, 1, 0.05, SPEC_I_NGRAM, 0.5);
    count_plain(&p, ng, 1, 10, &k, &src);
    CHECK(k >= 2 && k <= 6, "policy: 50%% acceptance: a medium draft (k %d)", k);
    spec_policy_init(&p, prior);
    feed_policy(&p, 1, 0.3, SPEC_I_NGRAM, 0.0);
    plain = count_plain(&p, ng, 1, 1000, &k, &src);
    CHECK(plain >= 980 && plain < 1000, "policy: no acceptance: plain, with occasional probes (%d/1000 plain)", plain);

    spec_cand both[SPEC_NSRC] = {[SPEC_I_NGRAM] = {.avail = 1, .kmax = 16, .n = 4},
                                 [SPEC_I_DRAFT] = {.avail = 1, .kmax = 16, .n = 0}};
    spec_policy_init(&p, prior);
    feed_policy(&p, 1, 0.05, SPEC_I_NGRAM, 0.9);
    for (int i = 0; i < 200; i++) spec_policy_note_accept(&p, SPEC_I_DRAFT, 0, 16, 9);
    spec_policy_note_draft(&p, SPEC_I_DRAFT, 10, 3e-3); /* 0.3 ms per drafted token */
    int chose[SPEC_NSRC] = {0};
    for (int i = 0; i < 200; i++) {
        int s = spec_policy_choose(&p, both, 100, 1000, 1, 0, &k);
        if (s >= 0) chose[s]++;
    }
    CHECK(chose[SPEC_I_NGRAM] >= 190 && chose[SPEC_I_DRAFT] >= 1,
          "policy: equal acceptance, free n-grams beat a costly draft model (%d vs %d), which is still re-tried",
          chose[SPEC_I_NGRAM], chose[SPEC_I_DRAFT]);

    spec_policy_init(&p, prior);
    for (int i = 0; i < 40; i++) { /* t = 0.5 ms + 0.1 ms k + 1 us (k + 1) L; k = 0 seen at short, k = 8 at long contexts */
        int l0 = 100 + 3 * i, l8 = 1000 + 25 * i;
        spec_policy_note_verify(&p, 0, l0, 0.5e-3 + 1e-6 * l0);
        spec_policy_note_verify(&p, 8, l8, 0.5e-3 + 0.8e-3 + 9e-6 * l8);
    }
    double c0 = spec_policy_verify_cost(&p, 0, 2000), c8 = spec_policy_verify_cost(&p, 8, 100);
    CHECK(fabs(c0 - 2.5e-3) < 0.05e-3 && fabs(c8 - 2.2e-3) < 0.05e-3,
          "policy: verify cost follows the context length (%.3f ms at k 0, L 2000; %.3f ms at k 8, L 100)", c0 * 1e3,
          c8 * 1e3);

    spec_cand behind[SPEC_NSRC] = {[SPEC_I_DRAFT] = {1, 16, 0, 1000}};
    int picks[2] = {0, 0}, budgets[2] = {48, 100000};
    for (int b = 0; b < 2; b++) {
        spec_policy_init(&p, prior);
        feed_policy(&p, 1, 0.05, SPEC_I_DRAFT, 0.9);
        spec_policy_note_draft(&p, SPEC_I_DRAFT, 1, 0.05e-3);
        spec_policy_note_catchup(&p, SPEC_I_DRAFT, 1000, 50e-3); /* 50 ms to catch up on the prompt */
        for (int i = 0; i < 100; i++) picks[b] += spec_policy_choose(&p, behind, 100, budgets[b], 1, 0, &k) == SPEC_I_DRAFT;
    }
    CHECK(picks[0] == 0 && picks[1] == 100,
          "policy: auto takes a draft model that must catch up on a prompt only when enough tokens remain (%d, %d of 100)",
          picks[0], picks[1]);

    spec_policy_init(&p, prior);
    spec_policy_note_verify(&p, 0, 100, 1e-3);
    spec_policy_note_verify(&p, 4, 100, 2e-3);
    double v2 = spec_policy_verify_cost(&p, 2, 100), v8 = spec_policy_verify_cost(&p, 8, 100);
    CHECK(v2 > 1.49e-3 && v2 < 1.51e-3 && v8 > 2.99e-3 && v8 < 3.01e-3,
          "policy: verify cost interpolates and extrapolates measured lengths (%.2f, %.2f ms)", v2 * 1e3, v8 * 1e3);
}

/* ---- vocabulary check ---- */

/* A fixture model with the first occurrence of `find` in its bytes
 * overwritten by `repl` (same length); the bytes are kept in *buf. */
static eng_model *patched(const char *find, const void *repl, size_t len, size_t skip, char **buf) {
    size_t n;
    char err[FL_ERRLEN], *b = fl_read_file(fixture_path(TINY), &n);
    *buf = b;
    char *at = b ? memmem(b, n, find, strlen(find)) : NULL;
    if (!at) return NULL;
    memcpy(at + skip, repl, len);
    gguf_file *g;
    if (gguf_open_mem(b, n, &g, err, sizeof err)) return NULL;
    return eng_model_from_gguf(g, err, sizeof err);
}

static void test_vocab(void) {
    char err[FL_ERRLEN] = "", *b1 = NULL, *b2 = NULL;
    eng_model *m = eng_model_load(fixture_path(TINY), err, sizeof err);
    eng_model *o = eng_model_load(fixture_path("tests/fixtures/models/tiny-llama.Q4_0.gguf"), err, sizeof err);
    CHECK(m && o && !spec_vocab_check(m, o, err, sizeof err), "vocab: two fixture models share the vocabulary");
    eng_model *t = patched("<|fim_pad|>", "<|fim_paD|>", 11, 0, &b1);
    CHECK(t && spec_vocab_check(m, t, err, sizeof err) && strstr(err, "token 517"),
          "vocab: a differing token text is refused, naming the id (%s)", err);
    uint32_t eos = 514;
    const char *key = "tokenizer.ggml.eos_token_id";
    eng_model *u = patched(key, &eos, 4, strlen(key) + 4, &b2); /* key, u32 type, value */
    CHECK(u && spec_vocab_check(m, u, err, sizeof err) && strstr(err, "eos_token_id"),
          "vocab: a differing special id is refused (%s)", err);
    samp_params sp = {.temp = 0, .top_p = 1};
    samp *s = samp_new(&sp, 520);
    eng_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    eng_ctx *c = m ? eng_ctx_new(m, &cp, err, sizeof err) : NULL;
    spec_params p = {.sources = SPEC_SRC_DRAFT, .draft = t};
    spec_gen *g = c && t ? spec_new(c, s, &p, err, sizeof err) : NULL;
    CHECK(c && t && !g && strstr(err, "draft model"), "vocab: spec_new refuses the draft (%s)", err);
    spec_free(g);
    eng_ctx_free(c);
    samp_free(s);
    eng_model_free(m);
    eng_model_free(o);
    eng_model_free(t);
    eng_model_free(u);
    free(b1);
    free(b2);
}

/* ---- the generator's contract ---- */

static int plain_greedy(eng_model *m, const int32_t *prompt, int np, int n, int32_t *out) {
    char err[FL_ERRLEN];
    int nv = eng_model_hparams(m)->n_vocab, rc;
    eng_ctx_params cp = {.n_ctx = 128, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    float *lg = malloc((size_t)nv * sizeof(float));
    rc = !c || !lg || eng_decode(c, prompt, np, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
    for (int i = 0; !rc && i < n; i++) {
        out[i] = samp_argmax(lg, nv);
        rc = eng_decode(c, &out[i], 1, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
    }
    eng_ctx_free(c);
    free(lg);
    return rc ? -1 : 0;
}

static void test_api(void) {
    char err[FL_ERRLEN] = "";
    eng_model *m = eng_model_load(fixture_path(TINY), err, sizeof err);
    eng_model *dense = eng_model_load(fixture_path("tests/fixtures/models/tiny-llama.F32.gguf"), err, sizeof err);
    if (!CHECK(m && dense, "api: models load")) return;
    samp_params sp = {.temp = 0, .top_p = 1};
    samp *s = samp_new(&sp, 520);
    eng_ctx_params cp = {.n_ctx = 128, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err), *cd = eng_ctx_new(dense, &cp, err, sizeof err);
    spec_params bad = {.sources = SPEC_SRC_DRAFT};
    CHECK(!spec_new(c, s, &bad, err, sizeof err) && strstr(err, "draft model"), "api: draft source without a model refused (%s)", err);
    spec_params bad2 = {.sources = SPEC_SRC_NGRAM, .draft_max = SPEC_K_MAX + 1};
    CHECK(!spec_new(c, s, &bad2, err, sizeof err), "api: draft length above SPEC_K_MAX refused (%s)", err);
    spec_params bad3 = {.sources = SPEC_SRC_SELF, .self_layers = 2};
    CHECK(!spec_new(cd, s, &bad3, err, sizeof err), "api: self-drafting identical to the model refused (%s)", err);

    spec_params p = {.sources = SPEC_SRC_NGRAM | SPEC_SRC_SELF, .draft_max = 6, .fixed_length = 1};
    spec_gen *g = spec_new(c, s, &p, err, sizeof err);
    if (!CHECK(g != NULL, "api: generator with ngram+self")) return;
    int32_t out[64], want[40];
    const int32_t prompt[] = {10, 20, 30, 40, 10, 20, 30, 40, 10, 20};
    CHECK(spec_step(g, out, 4, NULL, err, sizeof err) == -1 && strstr(err, "feed"), "api: a step before any feed fails (%s)", err);
    int32_t big[129] = {0};
    CHECK(spec_feed(g, big, 129, NULL, err, sizeof err) == -1 && strstr(err, "context full"), "api: a feed past the capacity fails (%s)", err);
    CHECK(!spec_feed(g, prompt, 10, NULL, err, sizeof err) && spec_step(g, out, 0, NULL, err, sizeof err) == 0,
          "api: a step with max 0 returns nothing");
    plain_greedy(m, prompt, 10, 40, want);
    int n = 0, rc = 0, cancelled = 0;
    volatile int stop = 0;
    while (!rc && n < 40) {
        stop = n >= 6 && !cancelled; /* one cancelled step in the middle */
        int got = spec_step(g, out + n, 40 - n, &stop, err, sizeof err);
        if (got == -2) cancelled = 1;
        else if (got < 0) rc = -1;
        else n += got;
    }
    CHECK(!rc && cancelled && !memcmp(out, want, sizeof want), "api: a cancelled step changes nothing; output still equals plain");
    int nh;
    const int32_t *h = spec_tokens(g, &nh);
    CHECK(nh == 50 && !memcmp(h, prompt, sizeof prompt) && !memcmp(h + 10, want, sizeof want),
          "api: spec_tokens is the prompt and the generated tokens");
    CHECK(spec_rewind(g, 51) == -1, "api: rewinding past the sequence fails");
    CHECK(!spec_rewind(g, 20) && eng_ctx_len(c) == 19, "api: rewind keeps n - 1 tokens in the target, the last one pending");
    n = 0;
    while (!rc && n < 30) {
        int got = spec_step(g, out + n, 30 - n, NULL, err, sizeof err);
        if (got < 0) rc = -1;
        else n += got;
    }
    CHECK(!rc && !memcmp(out, want + 10, 30 * sizeof(int32_t)), "api: generation continues after a rewind as before");
    spec_free(g);

    /* the caller decodes the prompt itself and hands over the logits */
    float *lg = malloc(520 * sizeof(float));
    eng_ctx_truncate(c, 0);
    eng_decode(c, prompt, 10, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
    g = spec_new(c, s, &p, err, sizeof err);
    spec_set_logits(g, lg);
    n = 0;
    while (!rc && n < 40) {
        int got = spec_step(g, out + n, 40 - n, NULL, err, sizeof err);
        if (got < 0) rc = -1;
        else n += got;
    }
    CHECK(!rc && !memcmp(out, want, sizeof want), "api: spec_set_logits after a caller-decoded prompt gives the same output");
    spec_stats st;
    spec_get_stats(g, &st);
    CHECK(st.tokens == 40 && st.accepted <= st.drafted && st.verify_calls > 0 && st.verify_time[0] > 0,
          "api: stats count tokens, drafts and verify times");
    free(lg);
    spec_free(g);
    eng_ctx_free(c);
    eng_ctx_free(cd);
    samp_free(s);
    eng_model_free(m);
    eng_model_free(dense);
}

int main(void) {
    test_ngram();
    test_policy();
    test_vocab();
    test_api();
    return tap_done();
}
