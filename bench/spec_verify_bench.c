/* spec_verify_bench.c — what a speculative verification costs on a model
 * (bench_spec.sh runs it on a qwen3-30b-a3b-shaped synthetic MoE).
 *
 *   spec_verify_bench OUT.json MODEL THREADS CTX N_GEN
 *
 * Times are process CPU seconds (run it with THREADS 1 on a loaded machine).
 *
 * 1. After CTX random tokens, the time of one exact-mode eng_decode of k + 1
 *    tokens (the verification of k drafts) against one token, k = 0..16
 *    (median of 5), and the same with the batch kernels. On a MoE model the
 *    k + 1 tokens route to a union of experts; the number of distinct
 *    experts a batch reads if routing were uniform is printed beside it.
 * 2. From that curve, the best draft length and the speedup over plain
 *    decoding for n-gram drafts (free to draft) at a given acceptance rate:
 *    max_k (1 - a^(k+1)) / (1 - a) * verify(0) / verify(k).
 * 3. Plain, ngram and auto generation of N_GEN tokens after a prompt that
 *    repeats itself (so n-gram lookups find matches), greedy, in one run:
 *    on random weights the continuation is not a copy, so this shows what
 *    auto does when drafts are rarely accepted. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/spec.h"

static uint32_t seed = 12345;
static int32_t rnd_tok(int n_vocab) {
    seed = seed * 1664525u + 1013904223u;
    return (int32_t)((seed >> 8) % (uint32_t)n_vocab);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Process CPU seconds (one compute thread: the work done, whatever the load). */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Median CPU seconds of decoding n tokens after the ctx cached ones. */
static double time_batch(eng_ctx *c, int ctx, int n, int n_vocab, float *logits) {
    char err[FL_ERRLEN];
    double t[5];
    int32_t tok[64];
    for (int r = 0; r < 5; r++) {
        for (int i = 0; i < n; i++) tok[i] = rnd_tok(n_vocab);
        double t0 = cpu_now();
        if (eng_decode(c, tok, n, ENG_LOGITS_ALL, logits, NULL, err, sizeof err)) return -1;
        t[r] = cpu_now() - t0;
        eng_ctx_truncate(c, ctx);
    }
    qsort(t, 5, sizeof t[0], cmp_double);
    return t[2];
}

/* Generate n_gen tokens greedily in spec mode `mode` ("none" = the plain loop). */
static json_t *generate(eng_model *m, const char *mode, int threads, const int32_t *prompt, int np, int n_gen,
                        int32_t *out, double *tps) {
    char err[FL_ERRLEN];
    const eng_hparams *hp = eng_model_hparams(m);
    spec_params p = {.n_threads = threads};
    eng_ctx_params cp = {.n_ctx = np + n_gen + 1, .n_threads = threads};
    samp_params sp = {.temp = 0, .top_p = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    samp *s = samp_new(&sp, hp->n_vocab);
    spec_gen *g = NULL;
    json_t *o = NULL;
    if (!c || !s || spec_parse_mode(mode, 0, hp->n_expert > 0, &p, err, sizeof err) ||
        !(g = spec_new(c, s, &p, err, sizeof err)) || spec_feed(g, prompt, np, NULL, err, sizeof err))
        goto done;
    double t0 = cpu_now();
    for (int n = 0; n < n_gen;) {
        int got = spec_step(g, out + n, n_gen - n, NULL, err, sizeof err);
        if (got < 0) goto done;
        n += got;
    }
    *tps = n_gen / (cpu_now() - t0);
    spec_stats st;
    spec_get_stats(g, &st);
    o = json_pack("{s:f, s:I, s:I, s:I, s:I}", "tokens_per_cpu_s", *tps, "drafted", (json_int_t)st.drafted, "accepted",
                  (json_int_t)st.accepted, "verify_calls", (json_int_t)st.verify_calls, "plain_steps",
                  (json_int_t)st.plain_steps);
done:
    if (!o) fprintf(stderr, "spec_verify_bench: %s: %s\n", mode, err);
    spec_free(g);
    samp_free(s);
    eng_ctx_free(c);
    return o;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: spec_verify_bench OUT.json MODEL THREADS CTX N_GEN\n");
        return 2;
    }
    char err[FL_ERRLEN];
    int threads = atoi(argv[3]), ctx = atoi(argv[4]), n_gen = atoi(argv[5]);
    eng_model *m = eng_model_load(argv[2], err, sizeof err);
    if (!m) { fprintf(stderr, "spec_verify_bench: %s\n", err); return 1; }
    const eng_hparams *hp = eng_model_hparams(m);
    eng_ctx_params cp = {.n_ctx = ctx + 64, .n_threads = threads};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    float *logits = malloc((size_t)17 * hp->n_vocab * sizeof(float));
    int32_t *fill = malloc((size_t)ctx * sizeof(int32_t));
    if (!c || !logits || !fill) { fprintf(stderr, "spec_verify_bench: %s\n", c ? "out of memory" : err); return 1; }
    for (int i = 0; i < ctx; i++) fill[i] = rnd_tok(hp->n_vocab);
    if (eng_decode(c, fill, ctx, ENG_LOGITS_NONE, NULL, NULL, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }

    static const int ks[] = {0, 1, 2, 3, 4, 6, 8, 12, 16};
    enum { NK = sizeof ks / sizeof ks[0] };
    double exact[NK], batch[NK];
    json_t *curve = json_array();
    printf("%-4s %12s %8s %12s %8s %16s\n", "k", "exact ms", "ratio", "batch ms", "ratio", "uniform experts");
    for (int i = 0; i < NK; i++) {
        int k = ks[i];
        eng_ctx_set_exact(c, 1);
        exact[i] = time_batch(c, ctx, k + 1, hp->n_vocab, logits);
        eng_ctx_set_exact(c, 0);
        batch[i] = time_batch(c, ctx, k + 1, hp->n_vocab, logits);
        double e = hp->n_expert > 0 ? hp->n_expert * (1 - pow(1 - (double)hp->n_expert_used / hp->n_expert, k + 1)) : 0;
        printf("%-4d %12.2f %8.2f %12.2f %8.2f %16.1f\n", k, exact[i] * 1e3, exact[i] / exact[0], batch[i] * 1e3,
               batch[i] / exact[0], e);
        json_array_append_new(curve, json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "k", k, "exact_ms", exact[i] * 1e3,
                                               "exact_ratio", exact[i] / exact[0], "batch_kernels_ms", batch[i] * 1e3,
                                               "batch_ratio", batch[i] / exact[0], "experts_if_uniform_routing", e));
    }
    json_t *proj = json_array();
    static const double rates[] = {0.5, 0.7, 0.8, 0.9, 0.95, 0.99};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        double a = rates[r], best = 0;
        int bk = 0;
        for (int i = 1; i < NK; i++) {
            double sp = (1 - pow(a, ks[i] + 1)) / (1 - a) * exact[0] / exact[i];
            if (sp > best) { best = sp; bk = ks[i]; }
        }
        printf("acceptance %.2f: best k %d, projected n-gram speedup %.2fx\n", a, bk, best);
        json_array_append_new(proj, json_pack("{s:f, s:i, s:f}", "acceptance", a, "best_k", bk, "speedup", best));
    }
    eng_ctx_free(c);

    /* prompt: 64 random tokens, then them again with small changes, and the first half once more */
    int np = 0;
    int32_t prompt[160], *out = malloc((size_t)n_gen * sizeof(int32_t));
    for (int i = 0; i < 64; i++) prompt[np++] = rnd_tok(hp->n_vocab);
    for (int i = 0; i < 64; i++) prompt[np++] = i % 16 == 7 ? rnd_tok(hp->n_vocab) : prompt[i];
    for (int i = 0; i < 32; i++) prompt[np++] = prompt[i];
    json_t *gen = json_object();
    double plain_tps = 0, tps = 0;
    static const char *const modes[] = {"none", "ngram", "auto"};
    for (int i = 0; i < 3; i++) {
        json_t *o = generate(m, modes[i], threads, prompt, np, n_gen, out, &tps);
        if (!o) return 1;
        if (i == 0) plain_tps = tps;
        json_object_set_new(o, "speedup_vs_plain", json_real(tps / plain_tps));
        printf("generate %-6s %8.2f tok/cpu-s  %.2fx\n", modes[i], tps, tps / plain_tps);
        json_object_set_new(gen, i ? modes[i] : "plain", o);
    }
    json_t *root = json_pack("{s:s, s:i, s:i, s:i, s:i, s:o, s:o, s:o}", "model", argv[2], "threads", threads,
                             "context", ctx, "n_expert", hp->n_expert, "n_expert_used", hp->n_expert_used,
                             "verify_cost", curve, "projected_ngram_speedup", proj, "generation", gen);
    int rc = json_dump_file(root, argv[1], JSON_INDENT(2) | JSON_REAL_PRECISION(4)) ? 1 : 0;
    json_decref(root);
    free(out);
    free(fill);
    free(logits);
    eng_model_free(m);
    return rc;
}
