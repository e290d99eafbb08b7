/* test_spec_sampling.c — speculative sampling keeps the target's distribution.
 *
 * 1. The rejection rule (spec_accept) on its own: the target p is a real
 *    model's filtered distribution (samp_probs), the proposal q is skewed
 *    away from it (and, separately, one-hot as n-gram drafts are); 40000
 *    draws of the emitted token pass a chi-square test against p. Three
 *    deliberately wrong rules fail the same test by a wide margin, so the
 *    test can fail.
 * 2. The generator end to end on tiny-qwen3moe.F32 (temperature 1.5, top-k
 *    12): the first two tokens after a fixed prefix, 20000 samples per mode
 *    (draft from an unrelated model, n-gram, self; two drafts per
 *    verification so two chained acceptances are exercised), against the
 *    exact joint distribution p(t1) p(t2 | t1) computed from plain
 *    decoding, and against plain sampling (a two-sample test).
 * Fixed seeds: the outcome is deterministic. A test passes at p-value > 1e-4
 * and a wrong rule must reach p-value < 1e-12.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/spec.h"
#include "fixtures.h"
#include "tap.h"

#define PASS_P 1e-4
#define FAIL_P 1e-12

/* ---- chi-square ---- */

/* Regularized upper incomplete gamma Q(a, x) (series / continued fraction). */
static double gamma_q(double a, double x) {
    if (x <= 0) return 1;
    double lg = lgamma(a);
    if (x < a + 1) {
        double sum = 1 / a, term = sum;
        for (int n = 1; n < 100000 && fabs(term) > fabs(sum) * 1e-15; n++) sum += term *= x / (a + n);
        return 1 - sum * exp(-x + a * log(x) - lg);
    }
    double b = x + 1 - a, c = 1e300, d = 1 / b, h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < 1e-300) d = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300) c = 1e-300;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return exp(-x + a * log(x) - lg) * h;
}

/* Goodness of fit of counts[n] (total N) to probabilities p[n]; cells with
 * expectation below 5 are pooled. Returns the p-value. */
static double chisq_fit(const long *counts, const double *p, int n) {
    double N = 0, stat = 0, pool_e = 0, pool_o = 0;
    int cells = 0;
    for (int i = 0; i < n; i++) N += counts[i];
    for (int i = 0; i < n; i++) {
        double e = p[i] * N;
        if (e < 5) { pool_e += e; pool_o += counts[i]; continue; }
        stat += (counts[i] - e) * (counts[i] - e) / e;
        cells++;
    }
    if (pool_e > 0) { stat += (pool_o - pool_e) * (pool_o - pool_e) / pool_e; cells++; }
    else if (pool_o > 0) return 0; /* mass where there must be none */
    return cells > 1 ? gamma_q((cells - 1) / 2.0, stat / 2) : 1;
}

/* Homogeneity of two count vectors (2 x n table); sparse cells pooled. */
static double chisq_two(const long *a, const long *b, int n) {
    double na = 0, nb = 0, stat = 0, pa = 0, pb = 0;
    int cells = 0;
    for (int i = 0; i < n; i++) na += a[i], nb += b[i];
    for (int i = 0; i <= n; i++) {
        double x = i < n ? a[i] : pa, y = i < n ? b[i] : pb, tot = x + y;
        if (tot == 0) continue;
        double ea = tot * na / (na + nb), eb = tot * nb / (na + nb);
        if (i < n && (ea < 5 || eb < 5)) { pa += x; pb += y; continue; }
        if (ea < 5 || eb < 5) continue; /* the pool itself too thin: dropped */
        stat += (x - ea) * (x - ea) / ea + (y - eb) * (y - eb) / eb;
        cells++;
    }
    return cells > 1 ? gamma_q((cells - 1) / 2.0, stat / 2) : 1;
}

/* ---- 1. the rule ---- */

typedef enum { RULE_RIGHT, RULE_RESAMPLE_P, RULE_ALWAYS_ACCEPT, RULE_NO_RESIDUAL_CLAMP } rule_kind;

/* A wrong rule for the negative controls (or the real one). */
static int apply_rule(rule_kind r, samp *s, int n, const float *p, const float *q, int d, float *resid) {
    int ok;
    switch (r) {
    case RULE_RIGHT: return spec_accept(s, n, p, q, d, resid, &ok);
    case RULE_ALWAYS_ACCEPT: return d;
    case RULE_RESAMPLE_P: /* right acceptance, but a rejection redraws from p */
        if (samp_uniform(s) * q[d] < p[d]) return d;
        return samp_draw(s, p);
    case RULE_NO_RESIDUAL_CLAMP: { /* residual |p - q| instead of max(0, p - q) */
        if (samp_uniform(s) * q[d] < p[d]) return d;
        for (int i = 0; i < n; i++) resid[i] = fabsf(p[i] - q[i]);
        return samp_draw(s, resid);
    }
    }
    return -1;
}

static double rule_pvalue(rule_kind r, const float *p, const float *q, int n, int trials, uint64_t seed) {
    samp_params a = {.temp = 1, .top_p = 1, .seed = seed}, b = {.temp = 1, .top_p = 1, .seed = seed + 1};
    samp *acc = samp_new(&a, n), *prop = samp_new(&b, n);
    long *cnt = calloc((size_t)n, sizeof(long));
    double *pd = malloc((size_t)n * sizeof(double));
    float *resid = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) pd[i] = p[i];
    for (int t = 0; t < trials; t++) cnt[apply_rule(r, acc, n, p, q, samp_draw(prop, q), resid)]++;
    double pv = chisq_fit(cnt, pd, n);
    samp_free(acc);
    samp_free(prop);
    free(cnt);
    free(pd);
    free(resid);
    return pv;
}

static void test_rule(eng_model *m) {
    char err[FL_ERRLEN];
    int nv = eng_model_hparams(m)->n_vocab;
    eng_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    float *lg = malloc((size_t)nv * sizeof(float)), *p = malloc((size_t)nv * sizeof(float)),
          *q = malloc((size_t)nv * sizeof(float)), *onehot = calloc((size_t)nv, sizeof(float));
    int32_t prefix[] = {386, 293, 97, 259, 40, 118, 475, 41, 396, 10};
    if (!CHECK(c && !eng_decode(c, prefix, 10, ENG_LOGITS_LAST, lg, NULL, err, sizeof err), "rule: logits for p"))
        goto done;
    samp_params sp = {.temp = 1.5f, .top_k = 12, .top_p = 1};
    samp *s = samp_new(&sp, nv);
    samp_probs(s, lg, p);
    samp_free(s);
    /* q: mass spread against p (~ 1/sqrt p on p's support) plus 30% on tokens p excludes */
    double z = 0;
    int top = 0, mid = -1;
    for (int i = 0; i < nv; i++) if (p[i] > p[top]) top = i;
    for (int i = 0; i < nv; i++) {
        q[i] = p[i] > 0 ? 1 / sqrtf(p[i]) : 0;
        z += q[i];
        if (p[i] > 0 && p[i] < 0.5f * p[top] && (mid < 0 || p[i] > p[mid])) mid = i;
    }
    for (int i = 0; i < nv; i++) q[i] = (float)(0.7 * q[i] / z);
    for (int i = 0; i < 30; i++) q[(i * 17 + 5) % nv] += p[(i * 17 + 5) % nv] > 0 ? 0 : 0.01f;
    z = 0;
    for (int i = 0; i < nv; i++) z += q[i];
    for (int i = 0; i < nv; i++) q[i] = (float)(q[i] / z);
    float pmax = 0;
    for (int i = 0; i < nv; i++) pmax = p[i] > pmax ? p[i] : pmax;
    NOTE("rule: p has 12 tokens, largest %.3f; one-hot proposal at a token of p %.3f", pmax, mid >= 0 ? p[mid] : 0);
    const int T = 40000;
    double pv = rule_pvalue(RULE_RIGHT, p, q, nv, T, 11);
    CHECK(pv > PASS_P, "rule with a skewed proposal: emitted tokens follow p (chi-square p-value %.3g)", pv);
    const char *names[] = {"", "rejection redraws from p", "always accept", "residual |p - q|"};
    for (rule_kind r = RULE_RESAMPLE_P; r <= RULE_NO_RESIDUAL_CLAMP; r++) {
        pv = rule_pvalue(r, p, q, nv, T, 11);
        CHECK(pv < FAIL_P, "wrong rule (%s) is detected by the same test (p-value %.3g)", names[r], pv);
    }
    if (mid >= 0) {
        onehot[mid] = 1;
        /* a one-hot proposal means draft == mid always; spec_accept with q = NULL */
        samp_params a = {.temp = 1, .top_p = 1, .seed = 5};
        samp *acc = samp_new(&a, nv);
        long *cnt = calloc((size_t)nv, sizeof(long)), *bad = calloc((size_t)nv, sizeof(long));
        double *pd = malloc((size_t)nv * sizeof(double));
        float *resid = malloc((size_t)nv * sizeof(float));
        int ok;
        for (int i = 0; i < nv; i++) pd[i] = p[i];
        for (int t = 0; t < T; t++) cnt[spec_accept(acc, nv, p, NULL, mid, resid, &ok)]++;
        double pv1 = chisq_fit(cnt, pd, nv);
        for (int t = 0; t < T; t++) bad[apply_rule(RULE_RESAMPLE_P, acc, nv, p, onehot, mid, resid)]++;
        double pv2 = chisq_fit(bad, pd, nv);
        CHECK(pv1 > PASS_P, "rule with a one-hot (n-gram) proposal: tokens follow p (p-value %.3g)", pv1);
        CHECK(pv2 < FAIL_P, "... and redrawing from p on rejection is detected (p-value %.3g)", pv2);
        samp_free(acc);
        free(cnt);
        free(bad);
        free(pd);
        free(resid);
    }
done:
    eng_ctx_free(c);
    free(lg);
    free(p);
    free(q);
    free(onehot);
}

/* ---- 2. the generator ---- */

#define TOPK 12
#define NS 8
#define NP (2 * NS + 2)
/* S c e S: n-gram drafting proposes c e; c is chosen so that p(c) is sizeable */
static const int32_t S[NS] = {386, 293, 97, 259, 40, 118, 475, 41};
static int32_t PREFIX[NP];

/* Pick c for PREFIX = S c 10 S with p(c | PREFIX) in [0.08, 0.6]. */
static int choose_prefix(eng_model *m, const samp_params *sp) {
    char err[FL_ERRLEN];
    int nv = eng_model_hparams(m)->n_vocab, found = -1;
    eng_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    samp *s = samp_new(sp, nv);
    float *lg = malloc((size_t)nv * sizeof(float)), *p = malloc((size_t)nv * sizeof(float));
    memcpy(PREFIX, S, sizeof S);
    memcpy(PREFIX + NS + 2, S, sizeof S);
    PREFIX[NS + 1] = 10;
    for (int cand = 0; c && s && lg && p && found < 0 && cand < nv; cand++) {
        PREFIX[NS] = cand;
        eng_ctx_truncate(c, 0);
        if (eng_decode(c, PREFIX, NP, ENG_LOGITS_LAST, lg, NULL, err, sizeof err)) break;
        samp_probs(s, lg, p);
        if (p[cand] >= 0.08f && p[cand] <= 0.6f) found = cand;
    }
    if (found >= 0) PREFIX[NS] = found;
    samp_free(s);
    eng_ctx_free(c);
    free(lg);
    free(p);
    return found;
}

typedef struct {
    int n;              /* support size of t1 */
    int32_t t1[TOPK];
    int32_t t2[TOPK][TOPK];
    double p[TOPK * TOPK + 1]; /* joint, cells t1 index * TOPK + t2 index; last = anything else */
} joint;

static int cell_of(const joint *j, int32_t a, int32_t b) {
    for (int i = 0; i < j->n; i++)
        if (j->t1[i] == a)
            for (int k = 0; k < TOPK; k++)
                if (j->t2[i][k] == b) return i * TOPK + k;
    return TOPK * TOPK;
}

/* The exact joint distribution of the two tokens after PREFIX, from plain decoding. */
static int exact_joint(eng_model *m, const samp_params *sp, joint *j) {
    char err[FL_ERRLEN];
    int nv = eng_model_hparams(m)->n_vocab, rc;
    eng_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    samp *s = samp_new(sp, nv);
    float *lg = malloc((size_t)nv * sizeof(float)), *p1 = malloc((size_t)nv * sizeof(float)),
          *p2 = malloc((size_t)nv * sizeof(float));
    memset(j, 0, sizeof *j);
    rc = !c || !s || !lg || !p1 || !p2 || eng_decode(c, PREFIX, NP - 1, ENG_LOGITS_NONE, NULL, NULL, err, sizeof err) ||
         eng_decode(c, PREFIX + NP - 1, 1, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
    if (!rc) samp_probs(s, lg, p1);
    for (int a = 0; !rc && a < nv; a++) {
        if (p1[a] <= 0) continue;
        int i = j->n++;
        j->t1[i] = a;
        rc = eng_decode(c, &(int32_t){a}, 1, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
        eng_ctx_truncate(c, NP);
        if (rc) break;
        samp_probs(s, lg, p2);
        for (int b = 0, k = 0; b < nv; b++)
            if (p2[b] > 0) {
                j->t2[i][k] = b;
                j->p[i * TOPK + k++] = (double)p1[a] * p2[b];
            }
    }
    samp_free(s);
    eng_ctx_free(c);
    free(lg);
    free(p1);
    free(p2);
    return rc ? -1 : 0;
}

/* Counts of (t1, t2) cells over `trials` samples from a generator in mode p
 * (sources 0: plain sampling through the generator). */
static int sample_joint(eng_model *m, const samp_params *sp, const spec_params *p, const joint *j, int trials,
                        long *cnt, double *rate) {
    char err[FL_ERRLEN] = "";
    int nv = eng_model_hparams(m)->n_vocab, rc = 0;
    eng_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    samp *s = samp_new(sp, nv);
    spec_gen *g = c && s ? spec_new(c, s, p, err, sizeof err) : NULL;
    /* prefix fed as NP - 1 tokens then 1, as exact_joint decodes it */
    rc = !g || spec_feed(g, PREFIX, NP - 1, NULL, err, sizeof err) || spec_feed(g, PREFIX + NP - 1, 1, NULL, err, sizeof err);
    for (int t = -1; !rc && t < trials; t++) { /* trial -1 warms up: the first step measures a plain one */
        int32_t out[3];
        int n = 0;
        spec_rewind(g, NP);
        while (!rc && n < 2) {
            int got = spec_step(g, out + n, 3 - n, NULL, err, sizeof err);
            if (got < 1) rc = -1;
            else n += got;
        }
        if (!rc && t >= 0) cnt[cell_of(j, out[0], out[1])]++;
    }
    if (rc) NOTE("%s", err);
    spec_stats st = {0};
    if (g) spec_get_stats(g, &st);
    *rate = st.drafted ? (double)st.accepted / st.drafted : 0;
    spec_free(g);
    samp_free(s);
    eng_ctx_free(c);
    return rc;
}

static void test_generator(eng_model *m, eng_model *foreign) {
    samp_params sp = {.temp = 1.5f, .top_k = TOPK, .top_p = 1, .seed = 1234};
    joint j;
    if (!CHECK(choose_prefix(m, &sp) >= 0, "generator: a prefix whose n-gram draft is plausible")) return;
    if (!CHECK(!exact_joint(m, &sp, &j), "generator: exact joint distribution of two tokens")) return;
    double pmax = 0;
    for (int i = 0; i <= TOPK * TOPK; i++) pmax = j.p[i] > pmax ? j.p[i] : pmax;
    NOTE("joint over %d x %d cells, largest cell %.3f", j.n, TOPK, pmax);
    const int T = 20000;
    long plain[TOPK * TOPK + 1] = {0};
    double rate;
    spec_params none = {0};
    int rc = sample_joint(m, &sp, &none, &j, T, plain, &rate);
    double pv = chisq_fit(plain, j.p, TOPK * TOPK + 1);
    CHECK(!rc && pv > PASS_P, "plain sampling: (t1, t2) follows the exact joint (p-value %.3g)", pv);
    struct { const char *name; spec_params p; } modes[] = {
        {"draft (unrelated model)", {.sources = SPEC_SRC_DRAFT, .draft = foreign, .draft_max = 2, .fixed_length = 1}},
        {"ngram", {.sources = SPEC_SRC_NGRAM, .draft_max = 2, .fixed_length = 1}},
        {"self", {.sources = SPEC_SRC_SELF, .draft_max = 2, .fixed_length = 1}},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        long cnt[TOPK * TOPK + 1] = {0};
        sp.seed = 99 + i;
        rc = sample_joint(m, &sp, &modes[i].p, &j, T, cnt, &rate);
        double pf = chisq_fit(cnt, j.p, TOPK * TOPK + 1), p2 = chisq_two(cnt, plain, TOPK * TOPK + 1);
        CHECK(!rc && pf > PASS_P && p2 > PASS_P,
              "--spec %s sampling: (t1, t2) follows the exact joint (p-value %.3g) and plain sampling's counts "
              "(two-sample p-value %.3g); acceptance %.2f",
              modes[i].name, pf, p2, rate);
    }
}

int main(void) {
    char err[FL_ERRLEN];
    eng_model *m = eng_model_load(fixture_path("tests/fixtures/models/tiny-qwen3moe.F32.gguf"), err, sizeof err);
    eng_model *f = eng_model_load(fixture_path("tests/fixtures/models/tiny-llama.F32.gguf"), err, sizeof err);
    if (!CHECK(m && f, "fixture models load")) {
        NOTE("%s", err);
        return tap_done();
    }
    test_rule(m);
    test_generator(m, f);
    eng_model_free(m);
    eng_model_free(f);
    return tap_done();
}
