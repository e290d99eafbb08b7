/* cmd_generate.c — `flint generate --model M --tokens 1,2,3 -n 32 [--temp T] [--top-k K]
 * [--top-p P] [--min-p P] [--seed S] [--threads N]`
 * Prints the generated token ids space-separated on one line of stdout;
 * timings on stderr. Greedy unless --temp > 0. End-of-generation tokens do
 * not stop the run (the caller asked for n tokens). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "engine/engine.h"
#include "engine/sample.h"

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *toks = NULL;
    long threads = 0, n_gen = 32, seed = 0, top_k = 0;
    samp_params sp = {.temp = 0, .top_p = 1.f};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--model") || !strcmp(a, "-m")) { if (!(model = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--tokens")) { if (!(toks = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 0, 1 << 20, &n_gen)) return 2;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 512, &threads)) return 2;
        } else if (!strcmp(a, "--temp")) { if (!(v = arg_value(argc, argv, &i)) || arg_float(a, v, &sp.temp)) return 2; }
        else if (!strcmp(a, "--top-p")) { if (!(v = arg_value(argc, argv, &i)) || arg_float(a, v, &sp.top_p)) return 2; }
        else if (!strcmp(a, "--min-p")) { if (!(v = arg_value(argc, argv, &i)) || arg_float(a, v, &sp.min_p)) return 2; }
        else if (!strcmp(a, "--top-k")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 0, 1 << 30, &top_k)) return 2;
        } else if (!strcmp(a, "--seed")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 0, 0x7fffffffL, &seed)) return 2;
        } else return arg_unknown("generate", a);
    }
    if (!model || !toks) {
        fprintf(stderr, "usage: flint generate --model M --tokens 1,2,3 -n 32 [--temp T] [--threads N]\n");
        return 2;
    }
    sp.top_k = (int)top_k;
    sp.seed = (uint64_t)seed;
    int32_t *ids;
    int n = arg_token_list(toks, &ids);
    if (n < 0) return 2;
    if (n == 0) { fprintf(stderr, "flint generate: no prompt tokens\n"); free(ids); return 2; }
    char err[FL_ERRLEN];
    int rc = 1;
    float *logits = NULL;
    int32_t *out = NULL;
    eng_ctx *c = NULL;
    samp *s = NULL;
    eng_model *m = eng_model_load(model, err, sizeof err);
    if (!m) goto done;
    int nv = eng_model_hparams(m)->n_vocab;
    eng_ctx_params cp = {.n_ctx = n + (int)n_gen, .n_threads = (int)threads};
    if (!(c = eng_ctx_new(m, &cp, err, sizeof err))) goto done;
    logits = malloc((size_t)nv * sizeof(float));
    out = malloc(((size_t)n_gen + 1) * sizeof(int32_t));
    s = samp_new(&sp, nv);
    if (!logits || !out || !s) { fl_seterr(err, sizeof err, "out of memory"); goto done; }
    double t0 = fl_now();
    if (eng_decode(c, ids, n, ENG_LOGITS_LAST, logits, NULL, err, sizeof err)) goto done;
    double t1 = fl_now();
    for (long g = 0; g < n_gen; g++) {
        int32_t tok = samp_sample(s, logits);
        out[g] = tok;
        if (g + 1 < n_gen && eng_decode(c, &tok, 1, ENG_LOGITS_LAST, logits, NULL, err, sizeof err)) goto done;
    }
    double t2 = fl_now();
    for (long g = 0; g < n_gen; g++) printf(g ? " %d" : "%d", out[g]);
    printf("\n");
    fprintf(stderr, "prompt: %d tokens in %.1f ms (%.1f tok/s); generated: %ld tokens in %.1f ms (%.1f tok/s)\n", n,
            (t1 - t0) * 1e3, n / (t1 - t0), n_gen, (t2 - t1) * 1e3, n_gen > 1 ? (n_gen - 1) / (t2 - t1) : 0.0);
    rc = 0;
done:
    if (rc) fprintf(stderr, "flint generate: %s\n", err);
    samp_free(s);
    free(out);
    free(logits);
    free(ids);
    eng_ctx_free(c);
    eng_model_free(m);
    return rc;
}
