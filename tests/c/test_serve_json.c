/* test_serve_json.c — `flint serve` over Vim's JSON channel protocol with a
 * jansson client: the framing is detected from the first byte; initialize,
 * streaming, cancel, supersede, scan, stats, shutdown; malformed JSON, wrong
 * types, unknown methods and oversized messages each get an error or a log
 * notification and the channel keeps working. */
#include "serve_client.h"
#include "tap.h"

#define MODEL "tests/fixtures/models/tiny-qwen3.F32.gguf"
#define T 20000

static long long next_id = 1;

static json_t *params(int buf, const char *prefix, int max_tokens) {
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "buf", buf, "path", "a.py", "prefix", prefix, "suffix", "",
                     "mode", "block", "max_tokens", max_tokens);
}

static long long start(sc_client *c, json_t *p, json_t *notes) {
    json_t *r = sc_call(c, next_id++, "complete", p, NULL, notes, T);
    long long id = r ? json_integer_value(json_object_get(r, "id")) : -1;
    json_decref(r);
    return id;
}

static const char *reason_of(json_t *chunks, long long id) {
    json_t *f = sc_final(chunks, id, 0);
    return f ? json_string_value(json_object_get(f, "reason")) : "(none)";
}

/* A raw line; returns the first message (response or notification) after it. */
static int raw_then(sc_client *c, const char *line, sc_msg *m) {
    sc_send_raw(c, line, strlen(line));
    return sc_next(c, m, T) == 1;
}

static void test_flow(sc_client *c) {
    json_t *r = sc_call(c, next_id++, "initialize", json_pack("{s:s, s:s}", "client", "vim", "client_version", "9.0"),
                        NULL, NULL, T);
    CHECK(r && !strcmp(sc_str(json_object_get(json_object_get(r, "capabilities"), "framing")), "json"),
          "json: framing detected from '[' and reported by initialize");
    json_decref(r);
    json_t *chunks = json_array();
    long long id = start(c, params(1, "x", 40), chunks);
    int finals = sc_collect(c, id, 1, chunks, T);
    json_t *first = json_array_get(chunks, 0);
    CHECK(finals == 1 && first && !strcmp(sc_str(json_object_get(first, "method")), "chunk"),
          "json: chunks arrive as [0, {\"method\": \"chunk\", \"params\": ...}]");
    CHECK(strlen(sc_text(chunks, id, 0)) > 0 && json_object_get(sc_final(chunks, id, 0), "stats"),
          "json: streamed text and a final chunk with stats");

    /* cancel mid-stream */
    long long a = start(c, params(2, "x", 480), chunks);
    json_t *rc = sc_call(c, next_id++, "cancel", json_pack("{s:I}", "id", (json_int_t)a), NULL, chunks, T);
    json_decref(rc);
    sc_collect(c, a, 1, chunks, T);
    CHECK(!strcmp(reason_of(chunks, a), "cancelled"), "json: cancel ends the stream with reason cancelled");

    /* supersede */
    long long s1 = start(c, params(3, "x", 480), chunks);
    long long s2 = start(c, params(3, "y = ", 4), chunks);
    sc_collect(c, s2, 1, chunks, T);
    CHECK(!strcmp(reason_of(chunks, s1), "cancelled") && strcmp(reason_of(chunks, s2), "cancelled"),
          "json: a newer complete for the buffer supersedes the older");

    r = sc_call(c, next_id++, "scan",
                json_pack("{s:s, s:s}", "text", "npm_token: 'npm_hK0FJXBYCkejhEMY4Kp6bOOZn1DlfBOmtbJY'", "role", "output"),
                NULL, NULL, T);
    CHECK(json_array_size(json_object_get(r, "findings")) == 1, "json: scan returns the finding");
    json_decref(r);
    r = sc_call(c, next_id++, "stats", json_object(), NULL, NULL, T);
    CHECK(json_integer_value(json_object_get(r, "completes")) == 4 && json_integer_value(json_object_get(r, "cancels")) >= 2,
          "json: stats counts completions and cancels");
    json_decref(r);
    json_decref(chunks);
}

static void test_bad(sc_client *c) {
    sc_msg m;
    json_t *err = NULL;
    json_t *r = sc_call(c, next_id++, "complete", json_pack("{s:i, s:i}", "buf", 1, "prefix", 5), &err, NULL, T);
    CHECK(!r && err && !strcmp(sc_str(err), "complete: 'prefix' must be a string, got integer"),
          "json: a wrongly typed field is an error naming it");
    json_decref(err);
    r = sc_call(c, next_id++, "frobnicate", json_object(), &err, NULL, T);
    CHECK(!r && err && !strcmp(sc_str(err), "unknown method 'frobnicate'"), "json: unknown method");
    json_decref(err);
    r = sc_call(c, next_id++, "complete", json_pack("{s:s, s:s}", "buf", "b", "prefix", "x"), &err, NULL, T);
    long long sid = r ? json_integer_value(json_object_get(r, "id")) : -1;
    json_t *chunks = json_array();
    CHECK(sid > 0 && sc_collect(c, sid, 1, chunks, T) == 1, "json: a string buf is accepted");
    json_decref(chunks);
    json_decref(r);
    if (raw_then(c, "[50, {\"method\": }]\n", &m))
        CHECK(m.kind == 'r' && m.id == 50 && m.error && strstr(sc_str(m.error), "malformed JSON"),
              "json: malformed JSON with a readable id is answered with an error");
    sc_msg_free(&m);
    if (raw_then(c, "this is not json\n", &m))
        CHECK(m.kind == 'n' && !strcmp(m.method, "log") && strstr(sc_str(json_object_get(m.params, "message")), "bad message"),
              "json: garbage gets a log notification");
    sc_msg_free(&m);
    if (raw_then(c, "[51, {\"method\": \"stats\", \"params\": [1, 2]}]\n", &m))
        CHECK(m.kind == 'r' && m.id == 51 && m.error && strstr(sc_str(m.error), "params must be"),
              "json: params that are not an object are refused");
    sc_msg_free(&m);
    /* oversized: the cap is 64 KiB in this server */
    size_t big = 100000;
    char *line = malloc(big + 100);
    int n = snprintf(line, 100, "[52, {\"method\": \"complete\", \"params\": {\"buf\": 1, \"prefix\": \"");
    memset(line + n, 'a', big);
    strcpy(line + n + big, "\"}}]\n");
    if (raw_then(c, line, &m))
        CHECK(m.kind == 'r' && m.id == 52 && strstr(sc_str(m.error), "cap"), "json: an oversized message is refused by id");
    sc_msg_free(&m);
    free(line);
    r = sc_call(c, next_id++, "stats", json_object(), NULL, NULL, T);
    json_t *in = json_object_get(r, "input");
    CHECK(json_integer_value(json_object_get(in, "oversized")) == 1 && json_integer_value(json_object_get(in, "malformed")) >= 2,
          "json: the channel still works and counted the bad input");
    json_decref(r);
}

/* The repeat rule: the fixture model loops ("ININ...") and is cut short; --no-loop-stop streams on. */
static void test_loop_stop(void) {
    for (int on = 1; on >= 0; on--) {
        sc_client c;
        const char *args[] = {"--model", MODEL, on ? NULL : "--no-loop-stop", NULL};
        if (sc_start(&c, 1, args)) { CHECK(0, "spawn"); continue; }
        json_t *chunks = json_array();
        long long id = start(&c, params(1, "x", 200), chunks);
        sc_collect(&c, id, 1, chunks, T);
        const char *reason = reason_of(chunks, id);
        size_t n = strlen(sc_text(chunks, id, 0));
        if (on) CHECK(!strcmp(reason, "repeat") && n < 40, "loop stop: a looping stream ends (%s, %zu bytes)", reason, n);
        else CHECK(strcmp(reason, "repeat") && n > 40, "--no-loop-stop: it streams on (%s, %zu bytes)", reason, n);
        json_decref(chunks);
        json_decref(sc_call(&c, next_id++, "shutdown", json_object(), NULL, NULL, T));
        sc_finish(&c, 5000);
    }
}

int main(void) {
    test_loop_stop();
    sc_client c;
    const char *args[] = {"--model", MODEL, "--no-loop-stop", "--max-message", "65536", NULL};
    if (sc_start(&c, 1, args)) return CHECK(0, "spawn"), tap_done();
    test_flow(&c);
    test_bad(&c);
    json_t *r = sc_call(&c, next_id++, "shutdown", json_object(), NULL, NULL, T);
    CHECK(r && json_object_size(r) == 0, "json: shutdown answered with {}");
    json_decref(r);
    CHECK(sc_finish(&c, 5000) == 0, "json: exit status 0");
    return tap_done();
}
