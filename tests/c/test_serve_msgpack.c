/* test_serve_msgpack.c — `flint serve` end to end over msgpack-RPC with a
 * real msgpack-c client: initialize, streaming completions, cancel mid-stream
 * and at once, supersede, alternatives, max_ms, scan, stats, the prompt cache
 * (reuse and identical output with the cache off), the Neovim notification
 * wrapper, shutdown. Fixture model: tiny-qwen3 (random weights, greedy). */
#include "serve_client.h"
#include "tap.h"

#define MODEL "tests/fixtures/models/tiny-qwen3.F32.gguf"
#define T 20000 /* ms: generous timeout for any single wait */

static long long next_id = 1;

/* A completion that runs long with this model (block mode, prompt "x"). */
static json_t *long_params(int buf) {
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "buf", buf, "path", "a.py", "prefix", "x", "suffix", "", "mode",
                     "block", "max_tokens", 480);
}

static json_t *code_params(int buf, const char *prefix, int max_tokens) {
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "buf", buf, "path", "a.py", "filetype", "python", "prefix",
                     prefix, "suffix", "\n\nprint(add(1, 2))\n", "max_tokens", max_tokens);
}

/* Starts a complete; returns the job id (the result's id) or -1. */
static long long start(sc_client *c, json_t *params, json_t *notes) {
    json_t *err = NULL;
    json_t *r = sc_call(c, next_id++, "complete", params, &err, notes, T);
    long long id = r ? json_integer_value(json_object_get(r, "id")) : -1;
    if (err) NOTE("complete failed: %s", json_string_value(err));
    json_decref(r);
    json_decref(err);
    return id;
}

/* Every chunk of id in order: exactly one final per alt and it is the last. */
static int well_formed(json_t *chunks, long long id, int n_alt) {
    int done[8] = {0};
    size_t i;
    json_t *p;
    json_array_foreach(chunks, i, p) {
        if (strcmp(sc_str(json_object_get(p, "method")), "chunk")) continue;
        if (json_integer_value(json_object_get(p, "id")) != id) continue;
        int alt = (int)json_integer_value(json_object_get(p, "alt"));
        if (alt < 0 || alt >= n_alt || done[alt]) return 0;
        if (!json_is_string(json_object_get(p, "text"))) return 0;
        if (json_is_true(json_object_get(p, "done"))) {
            done[alt] = 1;
            if (!json_is_string(json_object_get(p, "reason"))) return 0;
        }
    }
    for (int a = 0; a < n_alt; a++)
        if (!done[a]) return 0;
    return 1;
}

static json_t *stats_of(sc_client *c) { return sc_call(c, next_id++, "stats", json_object(), NULL, NULL, T); }

static void test_initialize(sc_client *c) {
    json_t *r = sc_call(c, next_id++, "initialize",
                        json_pack("{s:s, s:s, s:{}}", "client", "test", "client_version", "1", "options"), NULL, NULL, T);
    CHECK(r && json_is_string(json_object_get(r, "version")), "initialize: version");
    json_t *model = json_object_get(r, "model");
    CHECK(json_is_object(model) && !strcmp(sc_str(json_object_get(model, "arch")), "qwen3"),
          "initialize: model info (arch qwen3)");
    CHECK(!strcmp(sc_str(json_object_get(model, "fim")), "qwen"), "initialize: FIM family from the vocabulary");
    json_t *caps = json_object_get(r, "capabilities");
    CHECK(json_array_size(json_object_get(caps, "methods")) == 8 &&
              !strcmp(sc_str(json_object_get(caps, "framing")), "msgpack"),
          "initialize: capabilities list the methods and the framing");
    CHECK(json_is_null(json_object_get(r, "draft")), "initialize: no draft model");
    json_decref(r);
}

static void test_stream(sc_client *c) {
    json_t *chunks = json_array();
    long long id = start(c, code_params(1, "def add(a, b):\n    return ", 24), NULL);
    CHECK(id >= (1LL << 31), "complete: answered at once with a server-assigned id (%lld)", id);
    int finals = sc_collect(c, id, 1, chunks, T);
    CHECK(finals == 1 && well_formed(chunks, id, 1), "complete: chunks stream, one final chunk, last");
    json_t *fin = sc_final(chunks, id, 0);
    json_t *st = json_object_get(fin, "stats");
    CHECK(st && json_integer_value(json_object_get(st, "prompt_tokens")) > 10 &&
              json_integer_value(json_object_get(st, "generated_tokens")) > 0,
          "complete: the final chunk carries stats (prompt %lld, generated %lld tokens)",
          json_integer_value(json_object_get(st, "prompt_tokens")), json_integer_value(json_object_get(st, "generated_tokens")));
    double first = json_real_value(json_object_get(st, "first_chunk_ms")), total = json_real_value(json_object_get(st, "total_ms"));
    CHECK(first > 0 && total >= first, "complete: time to first chunk %.2f ms <= total %.2f ms", first, total);
    NOTE("text: %s (reason %s)", sc_text(chunks, id, 0), json_string_value(json_object_get(fin, "reason")));
    json_decref(chunks);
}

static void test_cache(sc_client *c, sc_client *nocache, sc_client *spm) {
    const char *prefix = "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a";
    json_t *chunks = json_array();
    long long a = start(c, code_params(2, prefix, 16), NULL);
    sc_collect(c, a, 1, chunks, T);
    char first[4096];
    snprintf(first, sizeof first, "%s", sc_text(chunks, a, 0));
    long long b = start(c, code_params(2, prefix, 16), NULL);
    sc_collect(c, b, 1, chunks, T);
    CHECK(!strcmp(first, sc_text(chunks, b, 0)), "cache: the same request again gives the same text");
    json_t *st = json_object_get(sc_final(chunks, b, 0), "stats");
    long long pt = json_integer_value(json_object_get(st, "prompt_tokens"));
    CHECK(json_integer_value(json_object_get(st, "cached_tokens")) == pt - 1 &&
              json_integer_value(json_object_get(st, "evaluated_tokens")) == 1,
          "cache: an identical prompt evaluates only its last token (%lld cached of %lld)",
          json_integer_value(json_object_get(st, "cached_tokens")), pt);
    json_t *nc = json_array();
    long long n = start(nocache, code_params(2, prefix, 16), NULL);
    sc_collect(nocache, n, 1, nc, T);
    CHECK(!strcmp(first, sc_text(nc, n, 0)), "cache: the server without cache gives the same text");
    json_t *nst = json_object_get(sc_final(nc, n, 0), "stats");
    CHECK(json_integer_value(json_object_get(nst, "cached_tokens")) == 0, "cache: --no-cache reuses nothing");
    json_decref(nc);
    /* typing one character at the end of the prefix, suffix first (SPM);
     * every server numbers its jobs alike, so each gets its own array */
    json_t *sc = json_array();
    long long s1 = start(spm, code_params(2, prefix, 8), NULL);
    sc_collect(spm, s1, 1, sc, T);
    char typed[512];
    snprintf(typed, sizeof typed, "%s +", prefix);
    long long s2 = start(spm, code_params(2, typed, 8), NULL);
    sc_collect(spm, s2, 1, sc, T);
    json_decref(sc);
    json_t *stats = stats_of(spm);
    json_t *last = json_object_get(stats, "last");
    long long p2 = json_integer_value(json_object_get(last, "prompt_tokens")),
              c2 = json_integer_value(json_object_get(last, "cached_tokens")),
              e2 = json_integer_value(json_object_get(last, "evaluated_tokens"));
    CHECK(json_integer_value(json_object_get(last, "id")) == s2 && p2 > 20 && c2 >= p2 - 3 && e2 == p2 - c2 && e2 <= 3,
          "reuse (SPM): one typed character evaluates only the changed tail (%lld of %lld prompt tokens, via stats)", e2, p2);
    json_decref(stats);
    /* PSM: the suffix follows the prefix, so it is evaluated again */
    long long p1 = start(c, code_params(3, prefix, 8), NULL);
    sc_collect(c, p1, 1, chunks, T);
    long long pp = start(c, code_params(3, typed, 8), NULL);
    sc_collect(c, pp, 1, chunks, T);
    json_t *pst = json_object_get(sc_final(chunks, pp, 0), "stats");
    long long pe = json_integer_value(json_object_get(pst, "evaluated_tokens"));
    CHECK(pe > e2 && json_integer_value(json_object_get(pst, "cached_tokens")) > 10,
          "reuse (PSM): the prefix is reused, the suffix re-evaluated (%lld evaluated)", pe);
    json_decref(chunks);
}

/* Starts a long job, waits for its first chunk, cancels it. Returns the
 * job id with its chunks in *chunks, or -1 when the job ended before the
 * cancel landed (the model was too fast this time). */
static long long cancel_midstream(sc_client *c, json_t **chunks) {
    *chunks = json_array();
    long long id = start(c, long_params(4), NULL);
    int streaming = 0;
    double t0 = sc_now_ms();
    while (!streaming && sc_now_ms() - t0 < T) {
        sc_msg m;
        if (sc_next(c, &m, T) <= 0) break;
        if (m.kind == 'n' && !strcmp(m.method, "chunk") && json_integer_value(json_object_get(m.params, "id")) == id) {
            json_array_append(*chunks, m.params);
            streaming = 1;
        }
        sc_msg_free(&m);
    }
    json_t *r = sc_call(c, next_id++, "cancel", json_pack("{s:I}", "id", (json_int_t)id), NULL, *chunks, T);
    json_decref(r);
    sc_collect(c, id, 1, *chunks, T);
    json_t *fin = sc_final(*chunks, id, 0);
    return fin && !strcmp(sc_str(json_object_get(fin, "reason")), "cancelled") && json_array_size(*chunks) > 1 ? id : -1;
}

static void test_cancel(sc_client *c) {
    json_t *chunks = NULL;
    long long id = -1;
    for (int attempt = 0; attempt < 5 && id < 0; attempt++) {
        json_decref(chunks);
        id = cancel_midstream(c, &chunks);
    }
    CHECK(id > 0, "cancel: a streaming job ends with a final chunk, reason cancelled");
    CHECK(well_formed(chunks, id, 1), "cancel: one final chunk, after the streamed ones");
    /* nothing more for that id, even after the worker notices */
    json_t *later = json_array();
    usleep(200 * 1000);
    json_t *st = sc_call(c, next_id++, "stats", json_object(), NULL, later, T);
    size_t i;
    json_t *p;
    int after = 0;
    json_array_foreach(later, i, p) after += json_integer_value(json_object_get(p, "id")) == id;
    CHECK(after == 0, "cancel: no chunk for the id after its cancelled chunk");
    CHECK(json_integer_value(json_object_get(st, "cancels")) >= 1, "stats: counts the cancel");
    json_decref(st);
    json_decref(later);

    /* complete and cancel (a notification, with the client's own id) in one write */
    json_t *cp = long_params(5);
    json_object_set_new(cp, "id", json_integer(777));
    sc_send(c, 0, "complete", cp);
    sc_send(c, 0, "cancel", json_pack("{s:i}", "id", 777));
    json_t *ch2 = json_array();
    int finals = sc_collect(c, 777, 1, ch2, T);
    json_t *f2 = sc_final(ch2, 777, 0);
    CHECK(finals == 1 && !strcmp(sc_str(json_object_get(f2, "reason")), "cancelled") && well_formed(ch2, 777, 1),
          "cancel: a client-chosen id cancelled right away ends with one cancelled chunk");
    json_decref(ch2);
    json_decref(chunks);
}

static void test_supersede(sc_client *c) {
    json_t *chunks = json_array();
    long long a = start(c, long_params(6), chunks);
    long long b = start(c, code_params(6, "def add(a, b):\n    return ", 8), chunks);
    sc_collect(c, b, 1, chunks, T);
    json_t *fa = sc_final(chunks, a, 0), *fb = sc_final(chunks, b, 0);
    CHECK(fa && !strcmp(sc_str(json_object_get(fa, "reason")), "cancelled"),
          "supersede: a newer complete for the same buffer cancels the older");
    CHECK(fb && strcmp(sc_str(json_object_get(fb, "reason")), "cancelled"), "supersede: the newer one runs");
    CHECK(well_formed(chunks, a, 1), "supersede: nothing for the older id after its final chunk");
    long long other = start(c, code_params(8, "x = ", 4), chunks);
    long long again = start(c, code_params(9, "y = ", 4), chunks);
    int n = sc_collect(c, other, 1, chunks, T) + sc_collect(c, again, 1, chunks, T);
    CHECK(n == 2 && strcmp(sc_str(json_object_get(sc_final(chunks, other, 0), "reason")), "cancelled"),
          "supersede: other buffers are not affected");
    json_t *st = stats_of(c);
    CHECK(json_integer_value(json_object_get(st, "superseded")) >= 1, "stats: counts superseded requests");
    json_decref(st);
    json_decref(chunks);
}

static void test_alternatives(sc_client *c) {
    json_t *p = code_params(10, "def add(a, b):\n    return ", 6);
    json_object_set_new(p, "n_alt", json_integer(3));
    long long id = start(c, p, NULL);
    json_t *chunks = json_array();
    int finals = sc_collect(c, id, 3, chunks, T);
    CHECK(finals == 3 && well_formed(chunks, id, 3), "n_alt 3: three alternatives, each with one final chunk");
    char t0[1024], t1[1024];
    snprintf(t0, sizeof t0, "%s", sc_text(chunks, id, 0));
    snprintf(t1, sizeof t1, "%s", sc_text(chunks, id, 1));
    CHECK(strcmp(t0, t1), "n_alt: alternatives differ (they start from different tokens)");
    json_decref(chunks);
}

static void test_max(sc_client *c) {
    json_t *p = long_params(11);
    json_object_set_new(p, "max_ms", json_integer(1));
    long long id = start(c, p, NULL);
    json_t *chunks = json_array();
    sc_collect(c, id, 1, chunks, T);
    CHECK(!strcmp(sc_str(json_object_get(sc_final(chunks, id, 0), "reason")), "max_ms"), "max_ms: the time limit ends the stream");
    p = long_params(12);
    json_object_set_new(p, "max_tokens", json_integer(3));
    json_object_set_new(p, "prefix", json_string("x\n")); /* at a line start nothing is re-typed (token healing) */
    id = start(c, p, NULL);
    sc_collect(c, id, 1, chunks, T);
    json_t *fin = sc_final(chunks, id, 0);
    CHECK(!strcmp(sc_str(json_object_get(fin, "reason")), "max_tokens") &&
              json_integer_value(json_object_get(json_object_get(fin, "stats"), "generated_tokens")) == 3,
          "max_tokens: exactly 3 tokens");
    json_decref(chunks);
}

static void test_scan(sc_client *c) {
    const char *text = "credentials:\n  npm_token: 'npm_hK0FJXBYCkejhEMY4Kp6bOOZn1DlfBOmtbJY'\n";
    json_t *r = sc_call(c, next_id++, "scan", json_pack("{s:s, s:s}", "text", text, "role", "output"), NULL, NULL, T);
    json_t *f = json_array_get(json_object_get(r, "findings"), 0);
    CHECK(f && !strcmp(sc_str(json_object_get(f, "rule")), "npm-token") &&
              json_integer_value(json_object_get(f, "start")) == 27 && json_integer_value(json_object_get(f, "end")) == 67 &&
              !strcmp(sc_str(json_object_get(f, "kind")), "secret"),
          "scan: finds the npm token at bytes [27, 67)");
    char *dump = json_dumps(r, 0);
    CHECK(dump && !strstr(dump, "hK0FJXBY"), "scan: the secret itself is not in the reply");
    free(dump);
    json_decref(r);
    json_t *err = NULL;
    r = sc_call(c, next_id++, "scan", json_pack("{s:s, s:s}", "text", "x", "role", "nope"), &err, NULL, T);
    CHECK(!r && err && strstr(sc_str(err), "role"), "scan: a bad role is an error");
    json_decref(err);
}

static void test_refactor_plain(sc_client *c) {
    /* this model has no chat template and no ChatML tokens: the plain prompt */
    json_t *chunks = json_array();
    long long id = 900;
    json_t *r = sc_call(c, next_id++, "refactor",
                        json_pack("{s:i, s:s, s:s, s:s, s:i, s:I}", "buf", 1, "filetype", "python", "text", "x = 1\n",
                                  "instruction", "rename x to y", "max_tokens", 8, "id", id),
                        NULL, chunks, T);
    int fin = r ? sc_collect(c, id, 1, chunks, T) : 0;
    json_t *f = sc_final(chunks, id, 0);
    CHECK(r && fin == 1 && *sc_str(json_object_get(f, "reason")) &&
              !strcmp(sc_str(json_object_get(json_object_get(json_object_get(f, "stats"), "spec"), "mode")), "ngram"),
          "refactor: a model without a chat format gets the plain prompt, n-gram speculation by default");
    json_decref(r);
    json_decref(chunks);
    json_t *err = NULL;
    r = sc_call(c, next_id++, "refactor",
                json_pack("{s:i, s:s, s:s, s:s}", "buf", 1, "text", "x\n", "instruction", "i", "spec", "bogus"), &err,
                NULL, T);
    CHECK(!r && err && strstr(sc_str(err), "'spec'") && strstr(sc_str(err), "bogus"), "refactor: an unknown spec mode is refused");
    json_decref(err);
    err = NULL;
    r = sc_call(c, next_id++, "refactor",
                json_pack("{s:i, s:s, s:s, s:s}", "buf", 1, "text", "x\n", "instruction", "i", "spec", "draft"), &err,
                NULL, T);
    CHECK(!r && err && strstr(sc_str(err), "draft"), "refactor: spec 'draft' without a draft model is refused");
    json_decref(err);
}

static void test_stats(sc_client *c) {
    json_t *st = stats_of(c);
    CHECK(st && json_integer_value(json_object_get(st, "completes")) >= 10 &&
              json_integer_value(json_object_get(st, "finished")) >= 10,
          "stats: counts completions");
    json_t *fc = json_object_get(st, "first_chunk_ms");
    CHECK(json_real_value(json_object_get(fc, "p50")) > 0 && json_real_value(json_object_get(fc, "p95")) >=
                                                               json_real_value(json_object_get(fc, "p50")),
          "stats: first-chunk p50 %.2f ms, p95 %.2f ms", json_real_value(json_object_get(fc, "p50")),
          json_real_value(json_object_get(fc, "p95")));
    json_t *rec = json_array_get(json_object_get(st, "recent"), 0);
    CHECK(rec && json_object_get(rec, "prompt_tokens") && json_object_get(rec, "cached_tokens") &&
              json_object_get(rec, "evaluated_tokens") && json_object_get(rec, "generated_tokens") &&
              json_object_get(rec, "first_chunk_ms") && json_object_get(rec, "total_ms"),
          "stats: per-request prompt/cached/evaluated/generated tokens and timings");
    json_decref(st);
}

static void test_nvim_wrap(void) {
    sc_client c;
    const char *args[] = {"--model", MODEL, "--no-loop-stop", NULL};
    sc_start(&c, 0, args);
    json_t *r = sc_call(&c, 1, "initialize", json_pack("{s:s, s:{s:s}}", "client", "nvim", "options", "notify", "nvim_exec_lua"),
                        NULL, NULL, T);
    json_decref(r);
    sc_send(&c, 2, "complete", code_params(1, "x = ", 4));
    int wrapped = 0, seen = 0;
    for (int k = 0; k < 50 && !seen; k++) {
        sc_msg m;
        if (sc_next(&c, &m, T) <= 0) break;
        if (m.kind == 'n') {
            seen = json_is_true(json_object_get(m.params, "done"));
            wrapped = !strcmp(sc_str(json_array_get(m.raw, 1)), "nvim_exec_lua") &&
                      !strcmp(sc_str(json_array_get(json_array_get(m.raw, 2), 0)),
                              "return require('flint.rpc').on_notify(...)") &&
                      !strcmp(m.method, "chunk");
        }
        sc_msg_free(&m);
    }
    CHECK(seen && wrapped, "initialize notify=nvim_exec_lua: chunks arrive as nvim_exec_lua calls");
    /* Neovim's error report about a failed notification is only logged */
    static const char ev[] = "\x93\x02\xb0nvim_error_event\x92\x00\xa4oops";
    sc_send_raw(&c, ev, sizeof ev - 1);
    json_t *st = sc_call(&c, 3, "stats", json_object(), NULL, NULL, T);
    CHECK(json_integer_value(json_object_get(st, "nvim_errors")) == 1, "nvim_error_event is counted, not answered");
    json_decref(st);
    CHECK(sc_finish(&c, 5000) == 0, "stdin EOF: clean exit");
}

int main(void) {
    sc_client c, nc, spm;
    const char *args[] = {"--model", MODEL, "--no-loop-stop", NULL};
    const char *nc_args[] = {"--model", MODEL, "--no-loop-stop", "--no-cache", NULL};
    const char *spm_args[] = {"--model", MODEL, "--no-loop-stop", "--fim-order", "spm", NULL};
    if (sc_start(&c, 0, args) || sc_start(&nc, 0, nc_args) || sc_start(&spm, 0, spm_args)) {
        CHECK(0, "spawn flint serve");
        return tap_done();
    }
    test_initialize(&c);
    test_stream(&c);
    test_cache(&c, &nc, &spm);
    test_cancel(&c);
    test_supersede(&c);
    test_alternatives(&c);
    test_max(&c);
    test_scan(&c);
    test_refactor_plain(&c);
    test_stats(&c);
    json_t *r = sc_call(&c, next_id++, "shutdown", json_object(), NULL, NULL, T);
    CHECK(r && json_is_object(r) && json_object_size(r) == 0, "shutdown: answered with {}");
    json_decref(r);
    CHECK(sc_finish(&c, 5000) == 0, "shutdown: the server exits with status 0");
    sc_finish(&nc, 5000);
    sc_finish(&spm, 5000);
    test_nvim_wrap();
    return tap_done();
}
