/* refactor_bench.c — refactor speed of `flint serve`, with and without
 * speculative decoding, in one run against one server.
 *
 *   refactor_bench SOURCE FIRST_LINE OLD NEW MODEL REPS SIZES... -- [serve args...]
 *
 * For each size N (lines), the N lines of SOURCE from FIRST_LINE are sent as
 * a `refactor` request with the instruction "rename OLD to NEW", once per
 * speculation mode ("none", then "ngram"), REPS times each. max_tokens is
 * the snippet's token count plus 32: the length of a faithful rewrite, so
 * every run generates (about) the same number of tokens whatever the model
 * writes. Measured by the client: time to the first chunk and to the final
 * chunk (time to complete), and the server's CPU time (/proc/PID/stat); by
 * the server (final chunk stats): generated tokens, generation time,
 * speculation counters. Greedy output must be identical in both modes; the
 * bench checks it. Prints one JSON object. */
#include "../tests/c/serve_client.h"
#include "tokenizer/tokenizer.h"

/* utime + stime of pid, in ms. */
static double cpu_ms(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
    return (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n ? v[(n - 1) / 2] : 0;
}

/* Lines [first, first + n) of src (1-based), as a malloc'd string. */
static char *snippet(const char *src, int first, int n) {
    const char *p = src;
    for (int i = 1; i < first && p; i++) p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    if (!p) return NULL;
    const char *e = p;
    for (int i = 0; i < n && e && *e; i++) e = strchr(e, '\n') ? strchr(e, '\n') + 1 : e + strlen(e);
    size_t len = (size_t)(e - p);
    char *s = malloc(len + 1);
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* Share of the snippet's lines that appear unchanged in the reply. */
static double kept_lines(const char *in, const char *out) {
    int n = 0, kept = 0;
    for (const char *p = in; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[4096];
        if (len && len < sizeof line) {
            memcpy(line, p, len);
            line[len] = 0;
            n++;
            kept += strstr(out, line) != NULL;
        }
        p += len + (e ? 1 : 0);
    }
    return n ? (double)kept / n : 0;
}

int main(int argc, char **argv) {
    if (argc < 9) {
        fprintf(stderr, "usage: refactor_bench SOURCE FIRST_LINE OLD NEW MODEL REPS SIZES... -- [serve args...]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    static char src[1 << 20];
    src[fread(src, 1, sizeof src - 1, f)] = 0;
    fclose(f);
    int first = atoi(argv[2]), reps = atoi(argv[6]);
    char instruction[256], err[256];
    snprintf(instruction, sizeof instruction, "rename %s to %s", argv[3], argv[4]);
    tok_vocab *v;
    if (tok_load_file(argv[5], &v, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    int sizes[8], nsizes = 0, a = 7;
    for (; a < argc && strcmp(argv[a], "--") && nsizes < 8; a++) sizes[nsizes++] = atoi(argv[a]);
    const char *args[64];
    int na = 0;
    for (a++; a < argc && na < 62; a++) args[na++] = argv[a];
    args[na] = NULL;
    sc_client c;
    if (sc_start(&c, 1, args)) { fprintf(stderr, "cannot start the server\n"); return 1; }
    json_decref(sc_call(&c, 1, "initialize", json_object(), NULL, NULL, 60000));
    static const char *const modes[] = {"none", "ngram"};
    json_t *runs = json_array();
    long long id = 100;
    int all_same = 1;
    for (int s = 0; s < nsizes; s++) {
        char *code = snippet(src, first, sizes[s]);
        tok_ids t = {0};
        tok_tokenize(v, code, strlen(code), 0, &t);
        int max_tokens = (int)t.n + 32 > 4096 ? 4096 : (int)t.n + 32;
        char *text0 = NULL;
        for (int m = 0; m < 2; m++) {
            double total[16], first_ms[16], tps[16], cpu[16];
            json_t *last = NULL;
            char *text = NULL;
            for (int r = 0; r < reps && r < 16; r++) {
                json_t *chunks = json_array();
                double t0 = sc_now_ms(), c0 = cpu_ms(c.pid);
                json_t *res = sc_call(&c, id, "refactor",
                                      json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:I}", "buf", 1, "path", argv[1],
                                                "filetype", strstr(argv[1], ".lua") ? "lua" : "python", "text", code,
                                                "instruction", instruction, "max_tokens", max_tokens, "spec", modes[m],
                                                "id", id),
                                      NULL, chunks, 120000);
                int fin = res ? sc_collect(&c, id, 1, chunks, 600000) : 0;
                json_decref(res);
                total[r] = sc_now_ms() - t0;
                cpu[r] = cpu_ms(c.pid) - c0;
                json_t *fc = sc_final(chunks, id, 0);
                json_t *st = json_object_get(fc, "stats");
                first_ms[r] = json_real_value(json_object_get(st, "first_chunk_ms"));
                double gen = json_real_value(json_object_get(st, "gen_ms"));
                tps[r] = gen > 0 ? json_integer_value(json_object_get(st, "generated_tokens")) / (gen / 1e3) : 0;
                free(text);
                text = strdup(sc_text(chunks, id, 0));
                json_decref(last);
                last = json_deep_copy(fc);
                json_decref(chunks);
                id++;
                if (fin != 1) { fprintf(stderr, "refactor %d lines (%s) did not finish\n", sizes[s], modes[m]); return 1; }
            }
            if (!text0) text0 = strdup(text);
            else all_same &= !strcmp(text0, text);
            json_t *st = json_object_get(last, "stats"), *sp = json_object_get(st, "spec");
            long long drafted = json_integer_value(json_object_get(sp, "drafted"));
            long long accepted = json_integer_value(json_object_get(sp, "accepted"));
            json_array_append_new(
                runs, json_pack("{s:i, s:i, s:i, s:s, s:i, s:i, s:s, s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:f, s:b}",
                                "lines", sizes[s], "input_tokens", (int)t.n, "prompt_tokens",
                                (int)json_integer_value(json_object_get(st, "prompt_tokens")), "spec", modes[m],
                                "max_tokens", max_tokens, "generated_tokens",
                                (int)json_integer_value(json_object_get(st, "generated_tokens")), "reason",
                                sc_str(json_object_get(last, "reason")), "time_to_complete_ms", median(total, reps),
                                "first_chunk_ms", median(first_ms, reps), "tokens_per_s", median(tps, reps),
                                "server_cpu_ms", median(cpu, reps), "drafted", drafted, "accepted", accepted,
                                "acceptance", drafted ? (double)accepted / drafted : 0.0, "input_lines_kept",
                                kept_lines(code, text), "same_output_as_plain", !strcmp(text0, text)));
            json_decref(last);
            free(text);
        }
        free(text0);
        tok_ids_free(&t);
        free(code);
    }
    json_decref(sc_call(&c, id, "shutdown", json_object(), NULL, NULL, 10000));
    sc_finish(&c, 10000);
    json_t *out = json_pack("{s:s, s:i, s:o, s:b}", "instruction", instruction, "reps", reps, "runs", runs,
                            "greedy_output_identical", all_same);
    char *s = json_dumps(out, JSON_INDENT(2));
    printf("%s\n", s);
    free(s);
    json_decref(out);
    tok_free(v);
    return all_same ? 0 : 1;
}
