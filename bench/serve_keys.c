/* serve_keys.c — typing benchmark client for `flint serve` (msgpack-RPC).
 *
 *   serve_keys SOURCE KEYS LABEL [serve args...]
 *
 * Picks a stretch of KEYS characters in SOURCE (starting at the first line
 * whose indentation is at least 4 columns after the first 40% of the file,
 * so there is context above and below) and types it one character at a
 * time: keystroke k asks for a completion with prefix = SOURCE up to the
 * k-th typed character and suffix = SOURCE after the stretch (the text
 * after the cursor that the user has not reached). Each request runs to its
 * end before the next keystroke. Prints one JSON object with the client-side
 * time to first chunk and to the final chunk (p50/p95/mean, ms) and the
 * server's per-request token counts (mean). */
#include "../tests/c/serve_client.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static json_t *summary(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    return json_pack("{s:f, s:f, s:f, s:f}", "p50", n ? v[(n - 1) / 2] : 0.0, "p95", n ? v[(n * 95 + 99) / 100 - 1] : 0.0,
                     "mean", n ? sum / n : 0.0, "max", n ? v[n - 1] : 0.0);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: serve_keys SOURCE KEYS LABEL [serve args...]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    static char src[1 << 20];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = 0;
    int keys = atoi(argv[2]);
    size_t start = n * 2 / 5; /* the first indented line after 40% of the file */
    for (;;) {
        const char *nl = memchr(src + start, '\n', n - start);
        if (!nl) break;
        start = (size_t)(nl - src) + 1;
        if (!strncmp(src + start, "    ", 4)) break;
    }
    if (start + (size_t)keys >= n) { fprintf(stderr, "source too short\n"); return 1; }
    size_t end = start + (size_t)keys;
    sc_client c;
    if (sc_start(&c, 0, (const char *const *)argv + 4)) { fprintf(stderr, "cannot start flint serve\n"); return 1; }
    json_t *init = sc_call(&c, 1, "initialize", json_pack("{s:s}", "client", "bench"), NULL, NULL, 60000);
    if (!init || !json_is_object(json_object_get(init, "model"))) {
        fprintf(stderr, "initialize failed: %s\n", init ? json_dumps(init, 0) : "no answer");
        return 1;
    }
    double *first = calloc((size_t)keys, sizeof(double)), *done = calloc((size_t)keys, sizeof(double));
    double prompt = 0, cached = 0, evaluated = 0, generated = 0;
    int measured = 0;
    long long msgid = 2;
    for (int k = 1; k <= keys; k++) {
        char saved = src[start + (size_t)k];
        src[start + (size_t)k] = 0;
        json_t *p = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "buf", 1, "path", argv[1], "filetype", "c", "prefix", src,
                              "suffix", src + end, "max_tokens", 24);
        src[start + (size_t)k] = saved;
        double t0 = sc_now_ms(), t_first = 0, t_done = 0;
        json_t *notes = json_array();
        json_t *r = sc_call(&c, msgid++, "complete", p, NULL, notes, 60000);
        long long id = r ? json_integer_value(json_object_get(r, "id")) : -1;
        json_decref(r);
        json_t *st = NULL;
        size_t ni = 0;
        while (!t_done) { /* chunks that came with the response first, then the stream */
            json_t *chunk = NULL;
            sc_msg m = {0};
            if (ni < json_array_size(notes)) chunk = json_array_get(notes, ni++);
            else if (sc_next(&c, &m, 60000) != 1) break;
            else if (m.kind == 'n' && m.method && !strcmp(m.method, "chunk")) chunk = m.params;
            if (chunk && json_integer_value(json_object_get(chunk, "id")) == id) {
                if (!t_first) t_first = sc_now_ms();
                if (json_is_true(json_object_get(chunk, "done"))) {
                    t_done = sc_now_ms();
                    st = json_incref(json_object_get(chunk, "stats"));
                }
            }
            sc_msg_free(&m);
        }
        json_decref(notes);
        if (!t_done) { fprintf(stderr, "keystroke %d: no final chunk\n", k); return 1; }
        first[measured] = t_first - t0;
        done[measured] = t_done - t0;
        prompt += (double)json_integer_value(json_object_get(st, "prompt_tokens"));
        cached += (double)json_integer_value(json_object_get(st, "cached_tokens"));
        evaluated += (double)json_integer_value(json_object_get(st, "evaluated_tokens"));
        generated += (double)json_integer_value(json_object_get(st, "generated_tokens"));
        measured++;
        json_decref(st);
    }
    json_t *out = json_pack("{s:s, s:i, s:o, s:o, s:{s:f, s:f, s:f, s:f}, s:O}", "label", argv[3], "keystrokes", measured,
                            "first_chunk_ms", summary(first, measured), "done_ms", summary(done, measured), "tokens_mean",
                            "prompt", prompt / measured, "cached", cached / measured, "evaluated", evaluated / measured,
                            "generated", generated / measured, "model", json_object_get(init, "model"));
    json_t *fc = json_object_get(out, "first_chunk_ms"), *dn = json_object_get(out, "done_ms");
    fprintf(stderr, "%-14s first chunk p50 %7.1f p95 %7.1f ms | done p50 %7.1f p95 %7.1f ms | prompt %5.0f cached %5.0f evaluated %5.0f generated %4.1f tokens\n",
            argv[3], json_real_value(json_object_get(fc, "p50")), json_real_value(json_object_get(fc, "p95")),
            json_real_value(json_object_get(dn, "p50")), json_real_value(json_object_get(dn, "p95")), prompt / measured,
            cached / measured, evaluated / measured, generated / measured);
    char *s = json_dumps(out, JSON_INDENT(2));
    printf("%s\n", s);
    free(s);
    json_decref(out);
    json_decref(init);
    json_decref(sc_call(&c, msgid++, "shutdown", json_object(), NULL, NULL, 10000));
    sc_finish(&c, 10000);
    free(first);
    free(done);
    return 0;
}
