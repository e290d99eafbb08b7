/* test_models.c — every fixture model against its reference (tests/fixtures/models).
 *
 * For each model in manifest.json and for every kernel level this CPU runs:
 *   1. all-position logits of the eval prompt in one batch: max |Δ| and rms(Δ)
 *      within the manifest's tolerance, over the non-excluded positions, and
 *      the reference arg-max at every top1_check_position;
 *   2. the same evaluating one token at a time through the KV cache (against
 *      the seq reference), and in uneven chunks of 7 tokens;
 *   3. greedy generation of 32 tokens: the first exact_prefix_required ids equal.
 */
#include <jansson.h>
#include <math.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/kernels.h"
#include "engine/repack.h"
#include "engine/sample.h"
#include "fixtures.h"
#include "tap.h"

typedef struct {
    const char *name;
    json_t *e;
    int n_tok, n_vocab;
    int32_t ids[64];
} fixture;

static float *read_logits(const char *file, size_t n) {
    char rel[512];
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s", file);
    size_t len;
    float *f = (float *)fl_read_file(fixture_path(rel), &len);
    if (f && len != n * sizeof(float)) { free(f); return NULL; }
    return f;
}

/* Compare mine against ref per the manifest rules; one CHECK line. */
static void compare(const fixture *fx, const char *how, const float *mine, const float *ref) {
    json_t *tol = json_object_get(fx->e, "tolerance"), *ev = json_object_get(fx->e, "eval");
    double max_abs_tol = json_real_value(json_object_get(tol, "max_abs"));
    double rms_tol = json_real_value(json_object_get(tol, "rms"));
    char excluded[64] = {0};
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ev, "excluded_positions"), i, v) excluded[json_integer_value(v)] = 1;
    double mx = 0, ss = 0;
    size_t cnt = 0;
    for (int p = 0; p < fx->n_tok; p++) {
        if (excluded[p]) continue;
        for (int k = 0; k < fx->n_vocab; k++) {
            double d = fabs((double)mine[p * fx->n_vocab + k] - ref[p * fx->n_vocab + k]);
            if (!(d <= mx)) mx = d; /* NaN-safe: a NaN makes mx NaN and fails */
            ss += d * d;
            cnt++;
        }
    }
    double rms = sqrt(ss / (double)cnt);
    int top1_ok = 1, bad_pos = -1;
    json_array_foreach(json_object_get(tol, "top1_check_positions"), i, v) {
        int p = (int)json_integer_value(v);
        if (samp_argmax(mine + p * fx->n_vocab, fx->n_vocab) != samp_argmax(ref + p * fx->n_vocab, fx->n_vocab)) {
            top1_ok = 0;
            bad_pos = p;
        }
    }
    CHECK(mx <= max_abs_tol && rms <= rms_tol && top1_ok,
          "%s [%s] %s: max %.5f (tol %.5f) rms %.5f (tol %.5f) top1 %s", fx->name, kq_level_name(kq_active_level()),
          how, mx, max_abs_tol, rms, rms_tol, top1_ok ? "ok" : "differs");
    if (!top1_ok) NOTE("first differing top-1 position %d", bad_pos);
}

/* Evaluate the prompt in chunks of `chunk` tokens into logits [n_tok][n_vocab]. */
static int eval_chunked(eng_model *m, const fixture *fx, int chunk, float *logits) {
    char err[FL_ERRLEN];
    eng_ctx_params cp = {.n_ctx = 512, .n_batch = chunk, .n_threads = 2};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    if (!c) { NOTE("%s", err); return -1; }
    int rc = 0;
    for (int s = 0; s < fx->n_tok && !rc; s += chunk) {
        int n = fx->n_tok - s < chunk ? fx->n_tok - s : chunk;
        rc = eng_decode(c, fx->ids + s, n, ENG_LOGITS_ALL, logits + (size_t)s * fx->n_vocab, NULL, err, sizeof err);
    }
    if (rc) NOTE("%s", err);
    eng_ctx_free(c);
    return rc;
}

static void test_greedy(eng_model *m, const fixture *fx) {
    json_t *g = json_object_get(fx->e, "greedy");
    int need = (int)json_integer_value(json_object_get(g, "exact_prefix_required"));
    json_t *pids = json_object_get(g, "prompt_ids"), *want = json_object_get(g, "ids");
    int np = (int)json_array_size(pids), ng = (int)json_array_size(want);
    int32_t prompt[64];
    for (int i = 0; i < np; i++) prompt[i] = (int32_t)json_integer_value(json_array_get(pids, i));
    char err[FL_ERRLEN];
    eng_ctx_params cp = {.n_ctx = 512, .n_threads = 2};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    float *lg = malloc((size_t)fx->n_vocab * sizeof(float));
    int match = 0, ok = c && lg && !eng_decode(c, prompt, np, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
    for (int s = 0; ok && s < ng; s++) {
        int32_t tok = samp_argmax(lg, fx->n_vocab);
        if (tok == json_integer_value(json_array_get(want, s)) && match == s) match++;
        if (s + 1 < ng) ok = !eng_decode(c, &tok, 1, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
    }
    CHECK(ok && match >= need, "%s [%s] greedy: %d leading ids equal (need %d of %d)", fx->name,
          kq_level_name(kq_active_level()), match, need, ng);
    free(lg);
    eng_ctx_free(c);
}

/* Exact mode: one batch gives bit-identical logits to token-by-token decoding. */
static void test_exact(eng_model *m, const fixture *fx) {
    char err[FL_ERRLEN];
    size_t n = (size_t)fx->n_tok * fx->n_vocab;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    eng_ctx_params cp = {.n_ctx = 512, .n_threads = 2};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    int ok = c && a && b;
    if (ok) {
        eng_ctx_set_exact(c, 1);
        ok = !eng_decode(c, fx->ids, fx->n_tok, ENG_LOGITS_ALL, a, NULL, err, sizeof err);
        eng_ctx_truncate(c, 0);
        for (int i = 0; ok && i < fx->n_tok; i++)
            ok = !eng_decode(c, fx->ids + i, 1, ENG_LOGITS_ALL, b + (size_t)i * fx->n_vocab, NULL, err, sizeof err);
    }
    CHECK(ok && !memcmp(a, b, n * sizeof(float)), "%s [%s] exact mode: batch logits bit-identical to token by token",
          fx->name, kq_level_name(kq_active_level()));
    eng_ctx_free(c);
    free(a);
    free(b);
}

/* Logits do not depend on the thread count (each output is computed whole by
 * one thread): the pool may run any product on the caller alone (pool.h). */
static void test_threads(eng_model *m, const fixture *fx) {
    char err[FL_ERRLEN];
    size_t n = (size_t)fx->n_tok * fx->n_vocab;
    float *out[3] = {malloc(n * sizeof(float)), malloc(n * sizeof(float)), malloc(n * sizeof(float))};
    int ok = out[0] && out[1] && out[2];
    for (int t = 0; ok && t < 3; t++) {
        eng_ctx_params cp = {.n_ctx = 512, .n_threads = t + 1};
        eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
        ok = c && !eng_decode(c, fx->ids, fx->n_tok, ENG_LOGITS_ALL, out[t], NULL, err, sizeof err);
        eng_ctx_free(c);
    }
    CHECK(ok && !memcmp(out[0], out[1], n * sizeof(float)) && !memcmp(out[0], out[2], n * sizeof(float)),
          "%s [%s] 1, 2 and 3 threads: bit-identical logits", fx->name, kq_level_name(kq_active_level()));
    for (int t = 0; t < 3; t++) free(out[t]);
}

/* Every kernel level this CPU runs, the model loaded under it (a level that
 * computes repacked weights gets them, repack.h). */
static void test_model(fixture *fx) {
    char err[FL_ERRLEN], rel[512];
    json_t *ev = json_object_get(fx->e, "eval");
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s", json_string_value(json_object_get(fx->e, "file")));
    size_t n = (size_t)fx->n_tok * fx->n_vocab;
    json_t *lf = json_object_get(ev, "logits");
    float *ref_b = read_logits(json_string_value(json_object_get(json_object_get(lf, "batch"), "file")), n);
    float *ref_s = read_logits(json_string_value(json_object_get(json_object_get(lf, "seq"), "file")), n);
    float *mine = malloc(n * sizeof(float));
    if (!CHECK(ref_b && ref_s && mine, "%s reference logits readable", fx->name)) goto done;
    for (int level = 0; level < KQ_NLEVELS; level++) {
        if (kq_set_level(level)) continue;
        eng_model *m = eng_model_load(fixture_path(rel), err, sizeof err);
        if (!CHECK(m != NULL, "%s [%s] loads", fx->name, kq_level_name(level))) {
            NOTE("%s", err);
            continue;
        }
        if (strstr(fx->name, "Q8_0") && kq_level(level)->supports(QT_Q8_0_R16))
            CHECK(eng_model_repacked_bytes(m) > 0, "%s [%s]: Q8_0 matrices repacked (%zu bytes)", fx->name,
                  kq_level_name(level), eng_model_repacked_bytes(m));
        if (!eval_chunked(m, fx, 512, mine)) compare(fx, "batch", mine, ref_b);
        else CHECK(0, "%s batch eval", fx->name);
        if (!eval_chunked(m, fx, 1, mine)) compare(fx, "token by token", mine, ref_s);
        else CHECK(0, "%s sequential eval", fx->name);
        if (!eval_chunked(m, fx, 7, mine)) compare(fx, "chunks of 7", mine, ref_b);
        else CHECK(0, "%s chunked eval", fx->name);
        test_greedy(m, fx);
        test_exact(m, fx);
        test_threads(m, fx);
        eng_model_free(m);
    }
done:
    free(ref_b);
    free(ref_s);
    free(mine);
}

/* The shipped models (one untied, one with its output tied to the token
 * embedding) give the same logits repacked (repack.h) as from the mapping:
 * both quantize activations alike and differ only in float summation order,
 * so a misplaced row or a wrong embedding lookup would show at once. */
static void test_repacked_shipped(const char *rel) {
    if (!kq_level(kq_active_level())->supports(QT_Q8_0_R16)) return;
    enum { N = 48 };
    char err[FL_ERRLEN];
    eng_model *m[2];
    setenv("FLINT_REPACK", "0", 1);
    m[0] = eng_model_load(fixture_path(rel), err, sizeof err);
    unsetenv("FLINT_REPACK");
    m[1] = eng_model_load(fixture_path(rel), err, sizeof err);
    if (!CHECK(m[0] && m[1], "%s loads mapped and repacked", rel)) goto done;
    const eng_hparams *hp = eng_model_hparams(m[1]);
    CHECK(eng_model_repacked_bytes(m[0]) == 0 && eng_model_repacked_bytes(m[1]) > 0,
          "%s: FLINT_REPACK=0 keeps the mapping, the default repacks %zu bytes%s", rel, eng_model_repacked_bytes(m[1]),
          hp->tied_output ? " (tied output and embedding included)" : "");
    int32_t ids[N];
    for (int i = 0; i < N; i++) ids[i] = (int32_t)((i * 2654435761u) % (uint32_t)hp->n_vocab);
    float *lg[2];
    for (int k = 0; k < 2; k++) {
        eng_ctx_params cp = {.n_ctx = 128, .n_threads = 2};
        eng_ctx *c = eng_ctx_new(m[k], &cp, err, sizeof err);
        lg[k] = malloc(sizeof(float) * N * hp->n_vocab);
        if (!c || eng_decode(c, ids, N, ENG_LOGITS_ALL, lg[k], NULL, err, sizeof err)) CHECK(0, "%s eval: %s", rel, err);
        eng_ctx_free(c);
    }
    double dd = 0, aa = 0;
    int same = 0;
    for (int t = 0; t < N; t++) {
        const float *a = lg[0] + (size_t)t * hp->n_vocab, *b = lg[1] + (size_t)t * hp->n_vocab;
        for (int v = 0; v < hp->n_vocab; v++) dd += (double)(a[v] - b[v]) * (a[v] - b[v]), aa += (double)a[v] * a[v];
        same += samp_argmax(a, hp->n_vocab) == samp_argmax(b, hp->n_vocab);
    }
    double rel_rms = sqrt(dd / aa);
    CHECK(rel_rms < 1e-3 && same >= N - 2, "%s: repacked logits match the mapped model's (relative rms %.2g, arg-max equal at %d of %d)",
          rel, rel_rms, same, N);
    free(lg[0]), free(lg[1]);
done:
    eng_model_free(m[0]);
    eng_model_free(m[1]);
}

int main(void) {
    json_error_t je;
    json_t *man = json_load_file(fixture_path("tests/fixtures/models/manifest.json"), 0, &je);
    if (!CHECK(man != NULL, "manifest.json parses")) {
        NOTE("%s", je.text);
        return tap_done();
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(man, "models"), i, e) {
        fixture fx = {.e = e, .name = json_string_value(json_object_get(e, "name"))};
        json_t *ev = json_object_get(e, "eval"), *v;
        size_t k;
        fx.n_tok = (int)json_integer_value(json_object_get(ev, "n_tokens"));
        fx.n_vocab = (int)json_integer_value(json_object_get(ev, "n_vocab"));
        if (fx.n_tok > 64) { CHECK(0, "%s: prompt longer than the test expects", fx.name); continue; }
        json_array_foreach(json_object_get(ev, "prompt_ids"), k, v) fx.ids[k] = (int32_t)json_integer_value(v);
        test_model(&fx);
    }
    json_decref(man);
    kq_set_level(KQ_NLEVELS - 1);
    test_repacked_shipped("models/flint-coder-moe.Q8_0.gguf");
    test_repacked_shipped("models/flint-coder-draft.Q8_0.gguf");
    return tap_done();
}
