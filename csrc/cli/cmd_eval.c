/* cmd_eval.c — `flint eval --model M --tokens 1,2,3 --logits OUT.f32 [--threads N] [--batch N]`
 * Evaluates the tokens and writes little-endian float32 logits of every
 * position, shape [n_tokens × n_vocab]. --batch N feeds the engine N tokens
 * per step (1 = token by token through the KV cache). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "engine/engine.h"

int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *toks = NULL;
    long threads = 0, batch = 512;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--model") || !strcmp(a, "-m")) { if (!(model = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--tokens")) { if (!(toks = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--logits")) { if (!(out = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 512, &threads)) return 2;
        } else if (!strcmp(a, "--batch") || !strcmp(a, "-b")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 65536, &batch)) return 2;
        } else return arg_unknown("eval", a);
    }
    if (!model || !toks || !out) {
        fprintf(stderr, "usage: flint eval --model M --tokens 1,2,3 --logits OUT.f32 [--threads N] [--batch N]\n");
        return 2;
    }
    int32_t *ids;
    int n = arg_token_list(toks, &ids);
    if (n < 0) return 2;
    if (n == 0) { fprintf(stderr, "flint eval: no tokens\n"); free(ids); return 2; }
    char err[FL_ERRLEN];
    int rc = 1;
    float *logits = NULL;
    eng_ctx *c = NULL;
    eng_model *m = eng_model_load(model, err, sizeof err);
    if (!m) goto done;
    int nv = eng_model_hparams(m)->n_vocab;
    eng_ctx_params cp = {.n_ctx = n, .n_batch = (int)batch, .n_threads = (int)threads};
    if (!(c = eng_ctx_new(m, &cp, err, sizeof err))) goto done;
    logits = fl_malloc_array((size_t)n * nv, sizeof(float));
    if (!logits) { fl_seterr(err, sizeof err, "out of memory for %d × %d logits", n, nv); goto done; }
    double t0 = fl_now();
    for (int s = 0; s < n; s += (int)batch) {
        int nb = n - s < batch ? n - s : (int)batch;
        if (eng_decode(c, ids + s, nb, ENG_LOGITS_ALL, logits + (size_t)s * nv, NULL, err, sizeof err)) goto done;
    }
    double dt = fl_now() - t0;
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(logits, sizeof(float), (size_t)n * nv, f) != (size_t)n * nv) {
        fl_seterr(err, sizeof err, "cannot write '%s'", out);
        if (f) fclose(f);
        goto done;
    }
    if (fclose(f)) { fl_seterr(err, sizeof err, "cannot write '%s'", out); goto done; }
    fprintf(stderr, "eval: %d tokens in %.1f ms (%.1f tok/s)\n", n, dt * 1e3, n / dt);
    rc = 0;
done:
    if (rc) fprintf(stderr, "flint eval: %s\n", err);
    free(logits);
    free(ids);
    eng_ctx_free(c);
    eng_model_free(m);
    return rc;
}
