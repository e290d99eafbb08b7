/* spec_bench.c — speculative decoding against plain greedy decoding, in one
 * run, on code-completion (FIM) and refactor workloads (bench_spec.sh).
 *
 *   spec_bench OUT.json MODEL DRAFT|- THREADS N_FIM N_REFACTOR SEED FILE...
 *
 * Workloads, from the given held-out source files:
 *   completion  N_FIM requests: a random line end of a random file; the
 *               prefix ends with that line's newline plus the next line's
 *               indentation, the suffix starts after the next line (the
 *               "next line" FIM case of tools/train/FORMATS.md, PSM order);
 *               prompt within 1024 - 64 tokens; up to 64 tokens, stop at an
 *               end-of-generation token.
 *   refactor    N_REFACTOR files of 150-300 lines, "rename OLD to NEW" of an
 *               identifier the file uses several times, ChatML as in
 *               FORMATS.md; up to the code's length + 64 tokens, stop at
 *               <|im_end|> (or end of generation).
 * Modes: plain (the eng_decode loop of `flint generate`), ngram, draft, self,
 * ngram+draft, auto; every request runs all modes back to back, so machine
 * load hits them alike. Greedy: every mode must produce the plain tokens
 * (checked and recorded). Times are those of the generation steps (a
 * drafting context's catch-up on the prompt included); prompt processing of
 * the target is reported apart. Both wall-clock and process CPU time are
 * recorded: on a loaded machine with one compute thread the CPU time is the
 * steadier measure of the work done (the generator's own decisions use
 * wall-clock time). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/spec.h"
#include "tokenizer/tokenizer.h"

enum { M_PLAIN, M_NGRAM, M_DRAFT, M_SELF, M_NGRAM_DRAFT, M_AUTO, N_MODES };
static const char *const mode_name[N_MODES] = {"plain", "ngram", "draft", "self", "ngram+draft", "auto"};

typedef struct {
    long tokens, requests, mismatches;
    double t_gen, t_prompt, cpu_gen;
    spec_stats st;       /* summed over requests */
} mode_result;

typedef struct {
    eng_model *m, *dm;
    tok_vocab *v;
    int threads, n_vocab;
    int have[N_MODES];
    eng_ctx *ctx[N_MODES];
    samp *s[N_MODES];
    spec_gen *g[N_MODES];
    float *logits;
} bench;

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static int count_lines(const char *s, size_t n) {
    int c = 0;
    for (size_t i = 0; i < n; i++) c += s[i] == '\n';
    return c;
}

static const char *filetype(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) return "";
    if (!strcmp(dot, ".c") || !strcmp(dot, ".h")) return "c";
    if (!strcmp(dot, ".py")) return "python";
    if (!strcmp(dot, ".lua")) return "lua";
    if (!strcmp(dot, ".js")) return "javascript";
    if (!strcmp(dot, ".go")) return "go";
    if (!strcmp(dot, ".rs")) return "rust";
    return "";
}

/* Tokenize text with control-token texts parsed (the prompt formats' markers). */
static int tokenize(bench *b, const char *text, tok_ids *out) {
    out->n = 0;
    return tok_tokenize(b->v, text, strlen(text), TOK_PARSE_SPECIAL, out);
}

/* ---- workloads ---- */

/* A FIM prompt at a random line end of text; 0, or -1 if the file is unusable. */
static int fim_prompt(bench *b, const char *text, size_t n, int max_gen, tok_ids *out) {
    int lines = count_lines(text, n);
    if (lines < 8) return -1;
    int target = 2 + (int)rnd((uint32_t)(lines - 4)), line = 0;
    size_t a = 0;
    while (a < n && line < target) line += text[a++] == '\n'; /* a: start of the middle line */
    size_t ind = a;
    while (ind < n && (text[ind] == ' ' || text[ind] == '\t')) ind++;
    size_t e = ind;
    while (e < n && text[e] != '\n') e++;
    if (e == ind) return -1; /* a blank line: nothing to complete */
    for (size_t keep_pre = 3000, keep_suf = 1500; keep_pre > 100; keep_pre /= 2, keep_suf /= 2) {
        size_t p0 = ind > keep_pre ? ind - keep_pre : 0, s1 = n - e > keep_suf ? e + keep_suf : n;
        while (p0 > 0 && text[p0 - 1] != '\n') p0++;
        char *s = malloc(ind - p0 + s1 - e + 64);
        if (!s) return -1;
        sprintf(s, "<|fim_prefix|>%.*s<|fim_suffix|>%.*s<|fim_middle|>", (int)(ind - p0), text + p0, (int)(s1 - e),
                text + e);
        int rc = tokenize(b, s, out);
        free(s);
        if (rc) return -1;
        if ((int)out->n + max_gen <= 1024) return 0;
    }
    return -1;
}

static int ident_char(char c) { return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

/* Is t[i..i+len) a whole word? */
static int whole_word(const char *t, size_t n, size_t i, size_t len) {
    return (i == 0 || !ident_char(t[i - 1])) && (i + len >= n || !ident_char(t[i + len]));
}

/* An identifier of 4..24 characters (not starting with a digit) used at least 4 times; 0, or -1. */
static int pick_identifier(const char *t, size_t n, char *id) {
    for (int tries = 0; tries < 500; tries++) {
        size_t i = rnd((uint32_t)n), j = i;
        while (i > 0 && ident_char(t[i - 1])) i--;
        while (j < n && ident_char(t[j])) j++;
        if (j - i < 4 || j - i > 24 || (t[i] >= '0' && t[i] <= '9')) continue;
        memcpy(id, t + i, j - i);
        id[j - i] = 0;
        int uses = 0;
        for (const char *p = t; (p = strstr(p, id)); p++) uses += whole_word(t, n, (size_t)(p - t), j - i);
        if (uses >= 4) return 0;
    }
    return -1;
}

static int refactor_prompt(bench *b, const char *path, const char *text, size_t n, tok_ids *out, int *code_tokens) {
    char id[32];
    if (pick_identifier(text, n, id)) return -1;
    size_t len = n > 0 && text[n - 1] == '\n' ? n - 1 : n; /* the code's final newline is not inserted */
    const char *ft = filetype(path);
    char *s = malloc(len + 512);
    if (!s) return -1;
    sprintf(s,
            "<|im_start|>system\nYou rewrite code as instructed. Reply with the rewritten code only.<|im_end|>\n"
            "<|im_start|>user\nrename %s to %s_renamed\n```%s\n%.*s\n```<|im_end|>\n<|im_start|>assistant\n",
            id, id, ft, (int)len, text);
    int rc = tokenize(b, s, out);
    tok_ids code = {0};
    if (!rc) rc = tok_tokenize(b->v, text, len, 0, &code);
    *code_tokens = (int)code.n;
    tok_ids_free(&code);
    free(s);
    return rc;
}

/* ---- modes ---- */

/* Generate up to max_gen tokens in mode md; stops at an end-of-generation token. */
static int run(bench *b, int md, const tok_ids *prompt, int max_gen, int32_t *out, int *n_out, mode_result *r) {
    char err[FL_ERRLEN];
    eng_ctx *c = b->ctx[md];
    int n = 0, rc = 0;
    double t0 = fl_now(), t1, c1;
    if (md == M_PLAIN) {
        eng_ctx_truncate(c, 0);
        rc = eng_decode(c, prompt->v, (int)prompt->n, ENG_LOGITS_LAST, b->logits, NULL, err, sizeof err);
        t1 = fl_now();
        c1 = cpu_now();
        while (!rc && n < max_gen) {
            int32_t tok = samp_argmax(b->logits, b->n_vocab);
            out[n++] = tok;
            if (tok_is_eog(b->v, tok) || n == max_gen) break;
            rc = eng_decode(c, &tok, 1, ENG_LOGITS_LAST, b->logits, NULL, err, sizeof err);
        }
    } else {
        spec_gen *g = b->g[md];
        spec_rewind(g, 0);
        rc = spec_feed(g, prompt->v, (int)prompt->n, NULL, err, sizeof err);
        t1 = fl_now();
        c1 = cpu_now();
        while (!rc && n < max_gen) {
            int got = spec_step(g, out + n, max_gen - n, NULL, err, sizeof err), stop = 0;
            if (got < 0) { rc = -1; break; }
            for (int i = 0; i < got && !stop; i++) stop = tok_is_eog(b->v, out[n + i]) ? (n += i + 1, 1) : 0;
            if (stop) break;
            n += got;
        }
    }
    double t2 = fl_now(), c2 = cpu_now();
    if (rc) { fprintf(stderr, "spec_bench: %s: %s\n", mode_name[md], err); return -1; }
    r->cpu_gen += c2 - c1;
    r->tokens += n;
    r->requests++;
    r->t_prompt += t1 - t0;
    r->t_gen += t2 - t1;
    *n_out = n;
    return 0;
}

/* One request through every mode; mismatches against plain are counted. */
static int request(bench *b, const tok_ids *prompt, int max_gen, mode_result *res) {
    int32_t *ref = malloc((size_t)max_gen * sizeof(int32_t)), *out = malloc((size_t)max_gen * sizeof(int32_t));
    int n_ref = 0, rc = !ref || !out;
    for (int md = 0; !rc && md < N_MODES; md++) {
        if (!b->have[md]) continue;
        int n;
        rc = run(b, md, prompt, max_gen, md == M_PLAIN ? ref : out, &n, &res[md]);
        if (md == M_PLAIN) n_ref = n;
        else if (!rc && (n != n_ref || memcmp(out, ref, (size_t)n * sizeof(int32_t)))) res[md].mismatches++;
    }
    free(ref);
    free(out);
    return rc;
}

static int setup(bench *b, int n_ctx) {
    char err[FL_ERRLEN];
    const eng_hparams *hp = eng_model_hparams(b->m);
    for (int md = 0; md < N_MODES; md++) {
        spec_params p = {.draft = b->dm, .n_threads = b->threads};
        switch (md) {
        case M_NGRAM: p.sources = SPEC_SRC_NGRAM; break;
        case M_DRAFT: p.sources = SPEC_SRC_DRAFT; break;
        case M_SELF: p.sources = SPEC_SRC_SELF; break;
        case M_NGRAM_DRAFT: p.sources = SPEC_SRC_NGRAM | SPEC_SRC_DRAFT; break;
        case M_AUTO:
            if (spec_parse_mode("auto", b->dm != NULL, hp->n_expert > 0, &p, err, sizeof err)) return -1;
            break;
        }
        b->have[md] = md == M_PLAIN || ((!(p.sources & SPEC_SRC_DRAFT) || b->dm) && (!(p.sources & SPEC_SRC_SELF) || hp->n_expert > 0));
        if (!b->have[md]) continue;
        eng_ctx_params cp = {.n_ctx = n_ctx, .n_threads = b->threads};
        samp_params sp = {.temp = 0, .top_p = 1};
        if (!(b->ctx[md] = eng_ctx_new(b->m, &cp, err, sizeof err)) || !(b->s[md] = samp_new(&sp, b->n_vocab)) ||
            (md != M_PLAIN && !(b->g[md] = spec_new(b->ctx[md], b->s[md], &p, err, sizeof err)))) {
            fprintf(stderr, "spec_bench: %s: %s\n", mode_name[md], err);
            return -1;
        }
    }
    return 0;
}

static void teardown(bench *b) {
    for (int md = 0; md < N_MODES; md++) {
        spec_free(b->g[md]);
        samp_free(b->s[md]);
        eng_ctx_free(b->ctx[md]);
        b->g[md] = NULL, b->s[md] = NULL, b->ctx[md] = NULL;
    }
}

/* Collect the generators' counters into res (they accumulate over the workload). */
static void collect(bench *b, mode_result *res) {
    for (int md = 0; md < N_MODES; md++)
        if (b->g[md]) spec_get_stats(b->g[md], &res[md].st);
}

static json_t *report(const char *name, const mode_result *res, const bench *b) {
    json_t *w = json_object(), *modes = json_object();
    double plain_tps = res[M_PLAIN].tokens / res[M_PLAIN].t_gen, plain_cps = res[M_PLAIN].tokens / res[M_PLAIN].cpu_gen;
    json_object_set_new(w, "requests", json_integer(res[M_PLAIN].requests));
    json_object_set_new(w, "tokens", json_integer(res[M_PLAIN].tokens));
    printf("%-12s %-12s %9s %8s %9s %8s %8s %8s %10s %8s\n", name, "mode", "tok/s", "speedup", "tok/cpu-s", "speedup",
           "drafted", "accept", "mean len", "verify");
    for (int md = 0; md < N_MODES; md++) {
        if (!b->have[md]) continue;
        const mode_result *r = &res[md];
        const spec_stats *st = &r->st;
        json_t *o = json_object();
        double tps = r->tokens / r->t_gen, cps = r->tokens / r->cpu_gen;
        long spec_calls = st->verify_calls - st->plain_steps;
        json_object_set_new(o, "tokens_per_s", json_real(tps));
        json_object_set_new(o, "speedup_vs_plain", json_real(tps / plain_tps));
        json_object_set_new(o, "tokens_per_cpu_s", json_real(cps));
        json_object_set_new(o, "speedup_vs_plain_cpu", json_real(cps / plain_cps));
        json_object_set_new(o, "generation_s", json_real(r->t_gen));
        json_object_set_new(o, "prompt_s", json_real(r->t_prompt));
        json_object_set_new(o, "outputs_differ_from_plain", json_integer(r->mismatches));
        if (md != M_PLAIN) {
            json_object_set_new(o, "drafted", json_integer(st->drafted));
            json_object_set_new(o, "accepted", json_integer(st->accepted));
            json_object_set_new(o, "acceptance", json_real(st->drafted ? (double)st->accepted / st->drafted : 0));
            json_object_set_new(o, "mean_accepted_per_speculative_verify",
                                json_real(spec_calls ? (double)st->accepted / spec_calls : 0));
            json_object_set_new(o, "verify_calls", json_integer(st->verify_calls));
            json_object_set_new(o, "plain_steps", json_integer(st->plain_steps));
            json_object_set_new(o, "draft_s", json_real(st->t_draft));
            json_t *vt = json_array();
            for (int k = 0; k <= SPEC_K_MAX; k++)
                if (st->verify_time[k] > 0 && st->verify_time[0] > 0)
                    json_array_append_new(vt, json_pack("{s:i, s:f}", "k", k, "ratio_to_k0", st->verify_time[k] / st->verify_time[0]));
            json_object_set_new(o, "verify_cost_vs_plain_step", vt);
        }
        json_object_set_new(modes, mode_name[md], o);
        printf("%-12s %-12s %9.1f %7.2fx %9.1f %7.2fx %8ld %7.1f%% %10.2f %8ld%s\n", "", mode_name[md], tps,
               tps / plain_tps, cps, cps / plain_cps, st->drafted, st->drafted ? 100.0 * st->accepted / st->drafted : 0.0,
               spec_calls ? (double)st->accepted / spec_calls : 0.0, st->verify_calls,
               r->mismatches ? "  OUTPUT DIFFERS" : "");
    }
    json_object_set_new(w, "modes", modes);
    return w;
}

int main(int argc, char **argv) {
    if (argc < 9) {
        fprintf(stderr, "usage: spec_bench OUT.json MODEL DRAFT|- THREADS N_FIM N_REFACTOR SEED FILE...\n");
        return 2;
    }
    char err[FL_ERRLEN];
    bench b = {0};
    b.threads = atoi(argv[4]);
    int n_fim = atoi(argv[5]), n_ref = atoi(argv[6]), n_files = argc - 8;
    rng ^= (uint64_t)atoll(argv[7]) * 0x9e3779b97f4a7c15ull;
    if (!(b.m = eng_model_load(argv[2], err, sizeof err)) ||
        (strcmp(argv[3], "-") && !(b.dm = eng_model_load(argv[3], err, sizeof err))) ||
        tok_load_gguf(eng_model_gguf(b.m), &b.v, err, sizeof err)) {
        fprintf(stderr, "spec_bench: %s\n", err);
        return 1;
    }
    b.n_vocab = eng_model_hparams(b.m)->n_vocab;
    b.logits = malloc((size_t)b.n_vocab * sizeof(float));
    json_t *root = json_object(), *wl = json_object();
    int rc = 0;

    /* completion */
    mode_result fim[N_MODES] = {{0}};
    rc = setup(&b, 1024);
    for (int i = 0, tries = 0; !rc && i < n_fim && tries < 50 * n_fim; tries++) {
        size_t n;
        const char *path = argv[8 + rnd((uint32_t)n_files)];
        char *text = fl_read_file(path, &n);
        tok_ids prompt = {0};
        if (text && !fim_prompt(&b, text, n, 64, &prompt)) {
            rc = request(&b, &prompt, 64, fim);
            i++;
        }
        tok_ids_free(&prompt);
        free(text);
    }
    collect(&b, fim);
    teardown(&b);
    if (!rc && fim[M_PLAIN].requests) json_object_set_new(wl, "completion", report("completion", fim, &b));

    /* refactor: prompts first, so that one context size serves them all */
    mode_result ref[N_MODES] = {{0}};
    tok_ids prompts[64] = {{0}};
    int max_gen[64], n_p = 0, n_ctx = 0;
    for (int f = 0; f < n_files && n_p < n_ref && n_p < 64; f++) {
        size_t n;
        char *text = fl_read_file(argv[8 + f], &n);
        int code_tokens = 0, lines = text ? count_lines(text, n) : 0;
        if (lines >= 150 && lines <= 300 && !refactor_prompt(&b, argv[8 + f], text, n, &prompts[n_p], &code_tokens)) {
            max_gen[n_p] = code_tokens + 64;
            if ((int)prompts[n_p].n + max_gen[n_p] > n_ctx) n_ctx = (int)prompts[n_p].n + max_gen[n_p];
            n_p++;
        }
        free(text);
    }
    if (!rc && n_p) rc = setup(&b, n_ctx);
    for (int i = 0; !rc && i < n_p; i++) rc = request(&b, &prompts[i], max_gen[i], ref);
    collect(&b, ref);
    teardown(&b);
    for (int i = 0; i < n_p; i++) tok_ids_free(&prompts[i]);
    if (!rc && ref[M_PLAIN].requests) json_object_set_new(wl, "refactor", report("refactor", ref, &b));

    json_object_set_new(root, "workloads", wl);
    if (!rc && json_dump_file(root, argv[1], JSON_INDENT(2) | JSON_REAL_PRECISION(4))) rc = 1;
    json_decref(root);
    free(b.logits);
    tok_free(b.v);
    eng_model_free(b.m);
    eng_model_free(b.dm);
    return rc ? 1 : 0;
}
