/* cmd_generate.c — `flint generate --model M --tokens 1,2,3 -n 32 [--temp T] [--top-k K]
 * [--top-p P] [--min-p P] [--seed S] [--threads N]
 * [--spec none|auto|draft|ngram|self|A+B] [--draft M] [--draft-max K] [--self-experts N] [--self-layers N]`
 * Prints the generated token ids space-separated on one line of stdout;
 * timings (and with --spec the speculation counters) on stderr. Greedy
 * unless --temp > 0. End-of-generation tokens do not stop the run (the
 * caller asked for n tokens). --spec none (the default) is plain decoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "engine/engine.h"
#include "engine/sample.h"
#include "engine/spec.h"

/* Plain decoding: after the prompt's logits, sample, decode, repeat. */
static int run_plain(eng_ctx *c, samp *s, float *logits, int32_t *out, long n_gen, char *err, size_t errlen) {
    for (long g = 0; g < n_gen; g++) {
        int32_t tok = samp_sample(s, logits);
        out[g] = tok;
        if (g + 1 < n_gen && eng_decode(c, &tok, 1, ENG_LOGITS_LAST, logits, NULL, err, errlen)) return -1;
    }
    return 0;
}

static void print_spec_stats(const char *mode, const spec_stats *st) {
    long spec_calls = st->verify_calls - st->plain_steps;
    fprintf(stderr,
            "speculative (%s): drafted %ld, accepted %ld (acceptance %.1f%%), mean accepted length %.2f, "
            "%.2f tokens per verify call, verify calls %ld (%ld plain), draft %.1f ms, verify %.1f ms\n",
            mode, st->drafted, st->accepted, st->drafted ? 100.0 * st->accepted / st->drafted : 0.0,
            spec_calls ? (double)st->accepted / spec_calls : 0.0,
            st->verify_calls ? (double)st->tokens / st->verify_calls : 0.0, st->verify_calls, st->plain_steps,
            st->t_draft * 1e3, st->t_verify * 1e3);
    static const char *const names[SPEC_NSRC] = {"draft", "ngram", "self"};
    for (int i = 0; i < SPEC_NSRC; i++) {
        const spec_src_stats *s = &st->src[i];
        if (!s->steps) continue;
        fprintf(stderr, "  %-5s: verify calls %ld, drafted %ld, accepted %ld (%.1f%%), last draft length %d, draft %.1f ms\n",
                names[i], s->steps, s->drafted, s->accepted, s->drafted ? 100.0 * s->accepted / s->drafted : 0.0,
                s->k_last, s->t_draft * 1e3);
    }
}

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *toks = NULL, *draft_path = NULL, *mode = "none";
    long threads = 0, n_gen = 32, seed = 0, top_k = 0, draft_max = 0, self_experts = 0, self_layers = 0;
    samp_params sp = {.temp = 0, .top_p = 1.f};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--model") || !strcmp(a, "-m")) { if (!(model = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--tokens")) { if (!(toks = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--spec")) { if (!(mode = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--draft")) { if (!(draft_path = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 0, 1 << 20, &n_gen)) return 2;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 512, &threads)) return 2;
        } else if (!strcmp(a, "--draft-max")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, SPEC_K_MAX, &draft_max)) return 2;
        } else if (!strcmp(a, "--self-experts")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 1024, &self_experts)) return 2;
        } else if (!strcmp(a, "--self-layers")) {
            if (!(v = arg_value(argc, argv, &i)) || arg_int(a, v, 1, 4096, &self_layers)) return 2;
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
        fprintf(stderr, "usage: flint generate --model M --tokens 1,2,3 -n 32 [--temp T] [--threads N] "
                        "[--spec none|auto|draft|ngram|self] [--draft M] [--draft-max K]\n");
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
    spec_gen *gen = NULL;
    eng_model *dm = NULL, *m = eng_model_load(model, err, sizeof err);
    if (!m || (draft_path && !(dm = eng_model_load(draft_path, err, sizeof err)))) goto done;
    const eng_hparams *hp = eng_model_hparams(m);
    spec_params spp = {.draft = dm, .draft_max = (int)draft_max, .self_experts = (int)self_experts,
                       .self_layers = (int)self_layers, .n_threads = (int)threads};
    if (spec_parse_mode(mode, dm != NULL, hp->n_expert > 0, &spp, err, sizeof err)) { rc = 2; goto done; }
    eng_ctx_params cp = {.n_ctx = n + (int)n_gen, .n_threads = (int)threads};
    if (!(c = eng_ctx_new(m, &cp, err, sizeof err))) goto done;
    logits = malloc((size_t)hp->n_vocab * sizeof(float));
    out = malloc(((size_t)n_gen + 1) * sizeof(int32_t));
    s = samp_new(&sp, hp->n_vocab);
    if (!logits || !out || !s) { fl_seterr(err, sizeof err, "out of memory"); goto done; }
    if (spp.sources && !(gen = spec_new(c, s, &spp, err, sizeof err))) goto done;
    double t0 = fl_now(), t1;
    if (gen) {
        if (spec_feed(gen, ids, n, NULL, err, sizeof err)) goto done;
        t1 = fl_now();
        for (long g = 0; g < n_gen;) {
            int got = spec_step(gen, out + g, (int)(n_gen - g), NULL, err, sizeof err);
            if (got < 0) goto done;
            g += got;
        }
    } else {
        if (eng_decode(c, ids, n, ENG_LOGITS_LAST, logits, NULL, err, sizeof err)) goto done;
        t1 = fl_now();
        if (run_plain(c, s, logits, out, n_gen, err, sizeof err)) goto done;
    }
    double t2 = fl_now();
    for (long g = 0; g < n_gen; g++) printf(g ? " %d" : "%d", out[g]);
    printf("\n");
    fprintf(stderr, "prompt: %d tokens in %.1f ms (%.1f tok/s); generated: %ld tokens in %.1f ms (%.1f tok/s)\n", n,
            (t1 - t0) * 1e3, n / (t1 - t0), n_gen, (t2 - t1) * 1e3, n_gen > 1 ? (n_gen - 1) / (t2 - t1) : 0.0);
    if (gen) {
        spec_stats st;
        spec_get_stats(gen, &st);
        print_spec_stats(mode, &st);
    }
    rc = 0;
done:
    if (rc) fprintf(stderr, "flint generate: %s\n", err);
    spec_free(gen);
    samp_free(s);
    free(out);
    free(logits);
    free(ids);
    eng_ctx_free(c);
    eng_model_free(m);
    eng_model_free(dm);
    return rc;
}
