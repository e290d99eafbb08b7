/* test_serve_bad.c — hostile and careless clients over msgpack-RPC:
 * malformed bytes, wrong shapes and types, unknown methods, oversized
 * messages, ids in use, stray responses, EOF with work in flight, and a
 * client that stops reading (bounded output queue, merged chunks, input
 * back-pressure). Each gets an error or a log notification; the server
 * never crashes and its memory stays bounded. */
#include "serve_client.h"
#include "tap.h"

#define MODEL "tests/fixtures/models/tiny-qwen3.F32.gguf"
#define T 20000

/* Sends raw bytes and returns the first message after them. */
static int raw_then(sc_client *c, const void *p, size_t n, sc_msg *m) {
    sc_send_raw(c, p, n);
    return sc_next(c, m, T) == 1;
}

static int is_error(sc_msg *m, long long id, const char *needle) {
    const char *e = m->error ? json_string_value(m->error) : NULL;
    if (!(m->kind == 'r' && m->id == id && e && strstr(e, needle))) NOTE("got %s", e ? e : "(no error)");
    return m->kind == 'r' && m->id == id && e && strstr(e, needle);
}

static int is_log(sc_msg *m, const char *needle) {
    const char *t = m->kind == 'n' && m->method && !strcmp(m->method, "log")
                        ? json_string_value(json_object_get(m->params, "message")) : NULL;
    return t && strstr(t, needle);
}

static void expect_error(sc_client *c, long long id, const char *method, json_t *params, const char *needle,
                         const char *what) {
    json_t *err = NULL;
    json_t *r = sc_call(c, id, method, params, &err, NULL, T);
    const char *e = err ? json_string_value(err) : "(none)";
    CHECK(!r && err && strstr(e, needle), "%s (%s)", what, e);
    json_decref(r);
    json_decref(err);
}

static void test_malformed(sc_client *c) {
    sc_msg m;
    static const char bad[] = "\x94\x00\x01\xc1garbage";
    if (raw_then(c, bad, sizeof bad - 1, &m))
        CHECK(is_log(&m, "malformed msgpack"), "malformed msgpack: a log notification");
    sc_msg_free(&m);
    static const char shape[] = "\x94\x00\x07\x05\x90"; /* [0, 7, 5, []] */
    if (raw_then(c, shape, sizeof shape - 1, &m)) CHECK(is_error(&m, 7, "method must be a string"), "method not a string: error to its id");
    sc_msg_free(&m);
    static const char notarr[] = "\x2a"; /* 42 */
    if (raw_then(c, notarr, 1, &m)) CHECK(is_log(&m, "must be an array"), "a message that is not an array: log");
    sc_msg_free(&m);
    static const char params[] = "\x94\x00\x08\xa5stats\x07"; /* [0, 8, "stats", 7] */
    if (raw_then(c, params, sizeof params - 1, &m)) CHECK(is_error(&m, 8, "params must be"), "params not [map]: error");
    sc_msg_free(&m);
    static const char resp[] = "\x94\x01\x05\xc0\xc0"; /* [1, 5, nil, nil] */
    if (raw_then(c, resp, sizeof resp - 1, &m)) CHECK(is_log(&m, "unexpected response"), "a response from the client: log");
    sc_msg_free(&m);
    sc_send(c, 0, "complete", json_pack("{s:s}", "prefix", "x")); /* a notification without buf */
    if (sc_next(c, &m, T) == 1) CHECK(is_log(&m, "missing 'buf'"), "a failing notification: log with the reason");
    sc_msg_free(&m);
}

static void test_types(sc_client *c) {
    expect_error(c, 20, "nope", json_object(), "unknown method 'nope'", "unknown method");
    expect_error(c, 21, "complete", json_pack("{s:f, s:s}", "buf", 1.5, "prefix", "x"), "'buf' must be an integer or a string",
                 "buf of the wrong type");
    expect_error(c, 22, "complete", json_pack("{s:i}", "buf", 1), "missing 'prefix'", "missing prefix");
    expect_error(c, 23, "complete", json_pack("{s:i, s:s, s:i}", "buf", 1, "prefix", "x", "n_alt", 99), "'n_alt' must be in [1, 8]",
                 "n_alt out of range");
    expect_error(c, 24, "complete", json_pack("{s:i, s:s, s:s}", "buf", 1, "prefix", "x", "mode", "sideways"), "'mode' must be",
                 "unknown mode");
    expect_error(c, 25, "complete", json_pack("{s:i, s:s, s:s}", "buf", 1, "prefix", "x", "max_tokens", "5"),
                 "'max_tokens' must be an integer, got string", "max_tokens as a string");
    expect_error(c, 26, "complete", json_pack("{s:i, s:s, s:[i]}", "buf", 1, "prefix", "x", "extra", 3),
                 "'extra'[0] must be a map", "extra entries must be maps");
    expect_error(c, 27, "cancel", json_pack("{s:s}", "id", "x"), "'id' must be an integer", "cancel id as a string");
    expect_error(c, 28, "initialize", json_pack("{s:{s:s}}", "options", "notify", "bogus"), "options.notify",
                 "unknown notify option");
    expect_error(c, 29, "scan", json_pack("{s:i, s:s}", "text", 3, "role", "output"), "'text' must be a string", "scan text type");
    /* a client-chosen id that is still running */
    json_t *p = json_pack("{s:i, s:s, s:s, s:s, s:i, s:i}", "buf", 40, "prefix", "x", "suffix", "", "mode", "block",
                          "max_tokens", 480, "id", 5);
    json_t *notes = json_array();
    json_t *r = sc_call(c, 30, "complete", p, NULL, notes, T);
    json_decref(r);
    p = json_pack("{s:i, s:s, s:i}", "buf", 41, "prefix", "x", "id", 5);
    expect_error(c, 31, "complete", p, "id 5 is still in use", "an id in use is refused");
    json_decref(sc_call(c, 32, "cancel", json_pack("{s:i}", "id", 5), NULL, notes, T));
    sc_collect(c, 5, 1, notes, T);
    json_decref(notes);
}

static void test_oversized(sc_client *c) {
    size_t big = 10000;
    char *prefix = malloc(big + 1);
    memset(prefix, 'a', big);
    prefix[big] = 0;
    expect_error(c, 40, "complete", json_pack("{s:i, s:s}", "buf", 1, "prefix", prefix), "4096-byte cap",
                 "oversized message: refused by id (the cap is 4096 here)");
    free(prefix);
    json_t *r = sc_call(c, 41, "stats", json_object(), NULL, NULL, T);
    json_t *in = json_object_get(r, "input");
    CHECK(r && json_integer_value(json_object_get(in, "oversized")) == 1 && json_integer_value(json_object_get(in, "malformed")) >= 3,
          "after all that the server answers, and counted the bad input");
    json_decref(r);
}

static void test_eof(void) {
    sc_client c;
    const char *args[] = {"--model", MODEL, "--no-loop-stop", NULL};
    sc_start(&c, 0, args);
    sc_send(&c, 1, "complete", json_pack("{s:i, s:s, s:s, s:i}", "buf", 1, "prefix", "x", "mode", "block", "max_tokens", 480));
    usleep(50 * 1000);
    double t0 = sc_now_ms();
    int rc = sc_finish(&c, 5000);
    CHECK(rc == 0 && sc_now_ms() - t0 < 3000, "stdin EOF with a job running: exit 0 at once (%.0f ms)", sc_now_ms() - t0);
}

/* A client that stops reading: a tiny output pipe, small queue limits. */
static void test_not_reading(void) {
    char cfg[] = "/tmp/flint-serve-test-XXXXXX";
    int fd = mkstemp(cfg);
    const char *conf = "out_soft = 2048\nout_hard = 8192\n";
    if (fd < 0 || write(fd, conf, strlen(conf)) < 0) { CHECK(0, "config file"); return; }
    close(fd);
    sc_client c;
    const char *args[] = {"--model", MODEL, "--no-loop-stop", "--config", cfg, NULL};
    sc_start(&c, 0, args);
    fcntl(c.from, F_SETPIPE_SZ, 4096);
    json_decref(sc_call(&c, 1, "initialize", json_object(), NULL, NULL, T));
    long rss0 = sc_rss_kib(&c);
    /* streams in twenty buffers, none of it read */
    long long id = 2;
    for (int b = 0; b < 20; b++, id++)
        sc_send(&c, id, "complete", json_pack("{s:i, s:s, s:s, s:s, s:i, s:I}", "buf", b, "prefix", "x", "suffix", "", "mode",
                                                "block", "max_tokens", 48, "id", (json_int_t)id));
    usleep(1500 * 1000);
    /* then a flood for one buffer (each supersedes the last), written
     * without blocking until the pipe is full */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int k = 0; k < 6000; k++, id++) { /* [0, id, "complete", [{id, buf: 99, prefix: "y"}]] */
        msgpack_pack_array(&pk, 4);
        msgpack_pack_int(&pk, 0);
        msgpack_pack_int64(&pk, id);
        msgpack_pack_str(&pk, 8);
        msgpack_pack_str_body(&pk, "complete", 8);
        msgpack_pack_array(&pk, 1);
        msgpack_pack_map(&pk, 3);
        msgpack_pack_str(&pk, 2);
        msgpack_pack_str_body(&pk, "id", 2);
        msgpack_pack_int64(&pk, id);
        msgpack_pack_str(&pk, 3);
        msgpack_pack_str_body(&pk, "buf", 3);
        msgpack_pack_int(&pk, 99);
        msgpack_pack_str(&pk, 6);
        msgpack_pack_str_body(&pk, "prefix", 6);
        msgpack_pack_str(&pk, 1);
        msgpack_pack_str_body(&pk, "y", 1);
    }
    long long last = id - 1;
    fcntl(c.to, F_SETFL, O_NONBLOCK);
    size_t off = 0;
    for (;;) {
        ssize_t w = write(c.to, sb.data + off, sb.size - off);
        if (w > 0) off += (size_t)w;
        if (off == sb.size || (w < 0 && errno != EAGAIN && errno != EINTR)) break;
        if (w < 0 && errno == EAGAIN) { /* give the server a moment: it must not read on */
            usleep(300 * 1000);
            if (write(c.to, sb.data + off, 1) < 0 && errno == EAGAIN) break;
            off++;
        }
    }
    int blocked = off < sb.size;
    long rss1 = sc_rss_kib(&c);
    CHECK(blocked, "back-pressure: the server stopped reading, the client's writes would block (%zu of %zu bytes sent)", off,
          sb.size);
    CHECK(rss1 > 0 && rss1 - rss0 < 128 * 1024, "memory stays bounded while the client does not read (%ld -> %ld KiB)", rss0, rss1);
    /* now read everything (and write the rest): one final chunk per request, in order */
    json_t *all = json_array();
    int responses = 0;
    double idle_since = sc_now_ms();
    while (sc_now_ms() - idle_since < 3000) {
        if (off < sb.size) {
            ssize_t w = write(c.to, sb.data + off, sb.size - off);
            if (w > 0) off += (size_t)w;
        }
        sc_msg m;
        if (sc_next(&c, &m, 20) != 1) continue;
        idle_since = sc_now_ms();
        if (m.kind == 'r') responses++;
        else if (m.params) {
            json_t *p = json_deep_copy(m.params);
            json_object_set_new(p, "method", json_string(m.method));
            json_array_append_new(all, p);
        }
        sc_msg_free(&m);
    }
    msgpack_sbuffer_destroy(&sb);
    fcntl(c.to, F_SETFL, 0);
    int finals_ok = 1, logged = 0;
    size_t i;
    json_t *p;
    int *finals = calloc((size_t)(last + 1), sizeof(int));
    json_array_foreach(all, i, p) {
        const char *method = json_string_value(json_object_get(p, "method"));
        if (!strcmp(method, "log")) logged |= strstr(sc_str(json_object_get(p, "message")), "did not read") != NULL;
        if (strcmp(method, "chunk")) continue;
        long long cid = json_integer_value(json_object_get(p, "id"));
        if (cid < 2 || cid > last || finals[cid]) { /* nothing after a final */
            if (finals_ok) NOTE("chunk for id %lld after its final (or unknown)", cid);
            finals_ok = 0;
        }
        else if (json_is_true(json_object_get(p, "done"))) finals[cid] = 1;
    }
    for (long long k = 2; k <= last; k++) {
        if (!finals[k] && finals_ok) NOTE("no final chunk for id %lld", k);
        finals_ok &= finals[k];
    }
    free(finals);
    CHECK(responses == last - 1, "every request was answered (%d of %lld)", responses, last - 1);
    CHECK(finals_ok, "every request ended with exactly one final chunk, none after it");
    CHECK(logged, "a log notification says chunks were merged while the editor did not read");
    json_t *st = sc_call(&c, last + 1, "stats", json_object(), NULL, NULL, T);
    CHECK(json_integer_value(json_object_get(st, "chunks_merged")) > 0 && json_integer_value(json_object_get(st, "input_pauses")) > 0,
          "stats: %lld chunks merged, input paused %lld times", json_integer_value(json_object_get(st, "chunks_merged")),
          json_integer_value(json_object_get(st, "input_pauses")));
    json_decref(st);
    json_decref(all);
    CHECK(sc_finish(&c, 5000) == 0, "and it still exits cleanly");
    unlink(cfg);
}

int main(void) {
    sc_client c;
    const char *args[] = {"--model", MODEL, "--no-loop-stop", "--max-message", "4096", NULL};
    if (sc_start(&c, 0, args)) return CHECK(0, "spawn"), tap_done();
    test_malformed(&c);
    test_types(&c);
    test_oversized(&c);
    CHECK(sc_finish(&c, 5000) == 0, "exit 0 after the bad input");
    test_eof();
    test_not_reading();
    return tap_done();
}
