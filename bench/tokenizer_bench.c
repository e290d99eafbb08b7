/* tokenizer_bench.c — driver of bench/bench_tokenizer.sh: tokenize one input
 * file with each vocabulary, fast path (cold word cache, then warm) against
 * the naive reference BPE, check both give the same ids, print a table and
 * write JSON. MB/s are wall-clock; "per CPU" divides by this thread's CPU time
 * instead, which a busy shared machine distorts less.
 *
 *   tokenizer_bench INPUT "INPUT DESCRIPTION" OUT.json REPEAT VOCAB.gguf...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "tokenizer/tokenizer.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall seconds for one tokenize call (CPU seconds of this thread in *cpu); ids left in out. */
static double timed(tok_vocab *v, const char *text, size_t n, unsigned flags, tok_ids *out, double *cpu) {
    out->n = 0;
    double t0 = fl_now(), c0 = cpu_now();
    if (tok_tokenize(v, text, n, flags, out)) { fprintf(stderr, "out of memory\n"); exit(1); }
    *cpu = cpu_now() - c0;
    return fl_now() - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: tokenizer_bench INPUT DESCRIPTION OUT.json REPEAT VOCAB...\n"); return 2; }
    size_t n;
    char *text = fl_read_file(argv[1], &n);
    if (!text) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    int repeat = atoi(argv[4]);
    if (repeat < 1 || repeat > 100) repeat = 5;
    FILE *js = fopen(argv[3], "w");
    if (!js) { fprintf(stderr, "cannot write %s\n", argv[3]); return 1; }
    double mb = (double)n / 1e6;
    fprintf(js, "{\n  \"input\": \"%s\",\n  \"input_bytes\": %zu,\n  \"repeat\": %d,\n  \"unit\": \"MB/s (1e6 bytes of input per second, single thread)\",\n  \"goal_mbs\": 20,\n  \"results\": [\n", argv[2], n, repeat);
    printf("%-30s %-15s %7s %9s %9s %9s %10s %8s %s\n", "vocab", "pre", "tokens", "cold MB/s", "warm MB/s",
           "(per CPU)", "naive MB/s", "speedup", "same ids");
    for (int a = 5; a < argc; a++) {
        char err[FL_ERRLEN];
        tok_vocab *v;
        if (tok_load_file(argv[a], &v, err, sizeof err)) { fprintf(stderr, "%s: %s\n", argv[a], err); return 1; }
        tok_ids fast = {0}, ref = {0};
        double cpu, warm[100], warm_cpu[100], naive[100];
        double cold = timed(v, text, n, 0, &fast, &cpu);
        for (int r = 0; r < repeat; r++) warm[r] = timed(v, text, n, 0, &fast, &warm_cpu[r]);
        int reps_naive = repeat < 3 ? repeat : 3;
        for (int r = 0; r < reps_naive; r++) naive[r] = timed(v, text, n, TOK_REFERENCE, &ref, &cpu);
        qsort(warm, (size_t)repeat, sizeof *warm, cmp_double);
        qsort(warm_cpu, (size_t)repeat, sizeof *warm_cpu, cmp_double);
        qsort(naive, (size_t)reps_naive, sizeof *naive, cmp_double);
        double w = warm[repeat / 2], wc = warm_cpu[repeat / 2], nv = naive[reps_naive / 2];
        int same = fast.n == ref.n && (!fast.n || !memcmp(fast.v, ref.v, fast.n * sizeof *fast.v));
        const char *name = strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a];
        const char *pre = tok_model_type(v) == TOK_MODEL_SPM ? "(spm)" : tok_pre_name(v);
        printf("%-30s %-15s %7zu %9.1f %9.1f %9.1f %10.1f %7.1fx %s\n", name, pre, fast.n, mb / cold, mb / w, mb / wc,
               mb / nv, nv / w, same ? "yes" : "NO");
        fprintf(js, "    {\"vocab\": \"%s\", \"pre\": \"%s\", \"n_vocab\": %d, \"tokens\": %zu, "
                    "\"fast_cold_mbs\": %.2f, \"fast_warm_mbs\": %.2f, \"fast_warm_mbs_per_cpu_second\": %.2f, "
                    "\"naive_mbs\": %.2f, "
                    "\"speedup_warm_vs_naive\": %.2f, \"identical_ids\": %s}%s\n",
                name, pre, tok_n_vocab(v), fast.n, mb / cold, mb / w, mb / wc, mb / nv, nv / w, same ? "true" : "false",
                a + 1 < argc ? "," : "");
        tok_ids_free(&fast);
        tok_ids_free(&ref);
        tok_free(v);
        if (!same) return 1;
    }
    fprintf(js, "  ]\n}\n");
    fclose(js);
    free(text);
    return 0;
}
