/* cmd_bench.c — engine speed on one model, or the machine's read bandwidth.
 *
 *   flint bench --model M [--threads N] [--tg N] [--pp 64,256] [--ctx 0,2048] [--roofline BYTES_PER_S]
 *   flint bench --bandwidth [--threads N] [--mib 4096]
 *
 * Prints one JSON object: token generation tok/s at each context length (the
 * KV cache is first filled with that many tokens, untimed), prompt processing
 * tok/s for each batch size, bytes of weights read per generated token, the
 * kernel level, and resident memory. With --roofline (a measured read
 * bandwidth), each generation figure also gets its fraction of the roofline
 * bandwidth / bytes-per-token. Token ids are pseudo-random. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "engine/engine.h"
#include "engine/kernels.h"
#include "engine/membw.h"

static int32_t *random_tokens(int n, int n_vocab, uint32_t seed) {
    int32_t *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    for (int i = 0; t && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t[i] = (int32_t)((seed >> 8) % (uint32_t)n_vocab);
    }
    return t;
}

static long rss_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

/* Seconds per generated token after filling the cache with ctx tokens (best
 * of 2 runs of n_gen tokens, as prompt batches are timed: on a shared host a
 * single run can catch a slow moment). */
static double time_tg(eng_ctx *c, int n_vocab, int ctx, int n_gen, float *logits, char *err, size_t errlen) {
    eng_ctx_truncate(c, 0);
    int32_t *fill = random_tokens(ctx + n_gen + 1, n_vocab, 7);
    if (!fill) return -1;
    double best = -1;
    if (ctx > 0 && eng_decode(c, fill, ctx, ENG_LOGITS_NONE, NULL, NULL, err, errlen)) goto done;
    if (eng_decode(c, fill + ctx, 1, ENG_LOGITS_LAST, logits, NULL, err, errlen)) goto done; /* warm-up */
    for (int r = 0; r < 2; r++) {
        eng_ctx_truncate(c, ctx + 1);
        double t0 = fl_now();
        for (int i = 0; i < n_gen; i++)
            if (eng_decode(c, fill + ctx + 1 + i, 1, ENG_LOGITS_LAST, logits, NULL, err, errlen)) {
                best = -1;
                goto done;
            }
        double dt = (fl_now() - t0) / n_gen;
        if (best < 0 || dt < best) best = dt;
    }
done:
    free(fill);
    return best;
}

/* Seconds per token for a prompt batch of n tokens (best of 2). */
static double time_pp(eng_ctx *c, int n_vocab, int n, float *logits, char *err, size_t errlen) {
    int32_t *t = random_tokens(n, n_vocab, 11);
    double best = -1;
    for (int r = 0; t && r < 2; r++) {
        eng_ctx_truncate(c, 0);
        double t0 = fl_now();
        if (eng_decode(c, t, n, ENG_LOGITS_LAST, logits, NULL, err, errlen)) { best = -1; break; }
        double dt = (fl_now() - t0) / n;
        if (best < 0 || dt < best) best = dt;
    }
    free(t);
    return best;
}

static int bench_bandwidth(long threads, long mib) {
    double bw = membw_read((size_t)mib << 20, (int)threads, 5);
    if (bw < 0) { fprintf(stderr, "flint bench: cannot allocate %ld MiB\n", mib); return 1; }
    printf("{\"bandwidth_bytes_per_s\": %.0f, \"threads\": %ld, \"buffer_mib\": %ld}\n", bw, threads, mib);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *pps = "64,256", *ctxs = "0,2048", *v;
    long threads = 0, n_gen = 32, mib = 4096;
    float roofline_bw = 0;
    int bandwidth = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--model") || !strcmp(a, "-m")) { if (!(model = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--bandwidth")) bandwidth = 1;
        else if (!strcmp(a, "--pp")) { if (!(pps = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--ctx")) { if (!(ctxs = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--roofline")) { if (!(v = arg_value(argc, argv, &i)) || arg_float(a, v, &roofline_bw)) return 2; }
        else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 512, &threads)) return 2;
        } else if (!strcmp(a, "--tg")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 100000, &n_gen)) return 2;
        } else if (!strcmp(a, "--mib")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 64, 1 << 20, &mib)) return 2;
        } else return arg_unknown("bench", a);
    }
    if (!threads) threads = sysconf(_SC_NPROCESSORS_ONLN);
    if (bandwidth) return bench_bandwidth(threads, mib);
    if (!model) {
        fprintf(stderr, "usage: flint bench --model M [--threads N] [--tg N] [--pp 64,256] [--ctx 0,2048]\n"
                        "       flint bench --bandwidth [--threads N] [--mib 4096]\n");
        return 2;
    }
    int32_t *pp = NULL, *ctx = NULL;
    int n_pp = arg_token_list(pps, &pp), n_ctx = arg_token_list(ctxs, &ctx), rc = 1, max_ctx = 0, max_pp = 0;
    if (n_pp < 0 || n_ctx < 0) return 2;
    for (int i = 0; i < n_ctx; i++) max_ctx = ctx[i] > max_ctx ? ctx[i] : max_ctx;
    for (int i = 0; i < n_pp; i++) max_pp = pp[i] > max_pp ? pp[i] : max_pp;
    char err[FL_ERRLEN] = "";
    float *logits = NULL;
    eng_ctx *c = NULL;
    json_t *o = json_object(), *tg = json_array(), *pj = json_array();
    eng_model *m = eng_model_load(model, err, sizeof err);
    if (!m) goto done;
    const eng_hparams *hp = eng_model_hparams(m);
    eng_model_touch(m); /* time the engine, not the disk */
    int need = max_ctx + (int)n_gen + 2 > max_pp ? max_ctx + (int)n_gen + 2 : max_pp;
    eng_ctx_params cp = {.n_ctx = need, .n_batch = max_pp > 0 ? max_pp : 256, .n_threads = (int)threads};
    if (!(c = eng_ctx_new(m, &cp, err, sizeof err))) goto done;
    logits = malloc((size_t)hp->n_vocab * sizeof(float));
    if (!logits) goto done;
    for (int i = 0; i < n_ctx; i++) {
        double s = time_tg(c, hp->n_vocab, ctx[i], (int)n_gen, logits, err, sizeof err);
        if (s < 0) goto done;
        json_t *e = json_object();
        json_object_set_new(e, "ctx", json_integer(ctx[i]));
        json_object_set_new(e, "tok_s", json_real(1.0 / s));
        if (roofline_bw > 0)
            json_object_set_new(e, "roofline_fraction", json_real((double)hp->weight_bytes_active / s / roofline_bw));
        json_array_append_new(tg, e);
    }
    for (int i = 0; i < n_pp; i++) {
        double s = time_pp(c, hp->n_vocab, pp[i], logits, err, sizeof err);
        if (s < 0) goto done;
        json_t *e = json_object();
        json_object_set_new(e, "n", json_integer(pp[i]));
        json_object_set_new(e, "tok_s", json_real(1.0 / s));
        json_array_append_new(pj, e);
    }
    json_object_set_new(o, "model", json_string(model));
    json_object_set_new(o, "arch", json_string(hp->arch));
    json_object_set_new(o, "threads", json_integer(threads));
    json_object_set_new(o, "kernels", json_string(kq_level_name(kq_active_level())));
    json_object_set_new(o, "weight_bytes", json_integer((json_int_t)hp->weight_bytes));
    json_object_set_new(o, "weight_bytes_per_token", json_integer((json_int_t)hp->weight_bytes_active));
    json_object_set_new(o, "tg", tg);
    json_object_set_new(o, "pp", pj);
    json_object_set_new(o, "rss_bytes", json_integer(rss_bytes()));
    json_object_set_new(o, "repacked_bytes", json_integer((json_int_t)eng_model_repacked_bytes(m)));
    tg = pj = NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    puts(s);
    free(s);
    rc = 0;
done:
    if (rc) fprintf(stderr, "flint bench: %s\n", err[0] ? err : "out of memory");
    json_decref(o);
    json_decref(tg);
    json_decref(pj);
    free(logits);
    free(pp);
    free(ctx);
    eng_ctx_free(c);
    eng_model_free(m);
    return rc;
}
