/* test_rpc_frame.c — the streaming reader: framing detection, message
 * boundaries under any split, caps, malformed input and resync. */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "tap.h"

/* What the callbacks saw, flattened to text for easy comparison. */
typedef struct {
    char log[8192];
    size_t len;
    int messages, errors;
} seen;

static void add(seen *s, const char *fmt, const char *a, long long b) {
    s->len += (size_t)snprintf(s->log + s->len, sizeof s->log - s->len, fmt, a, b);
}

static void on_message(void *ud, const rpc_msg *m) {
    seen *s = ud;
    s->messages++;
    if (m->kind == RPC_MSG_RESPONSE) { add(s, "resp%s(%lld);", "", (long long)m->id); return; }
    add(s, m->kind == RPC_MSG_REQUEST ? "req %s(%lld" : "note %s(%lld", m->method, (long long)m->id);
    if (!m->params) add(s, "%s,badparams%lld", "", 0);
    const rpc_val *x = rpc_map_get(m->params, "x");
    if (x && x->type == RPC_INT) add(s, "%s,x=%lld", "", (long long)x->u.i);
    if (x && x->type == RPC_STR) add(s, ",x=%s%lld", x->u.s.ptr, (long long)x->u.s.len);
    add(s, "%s)%lld;", "", 0);
}

static void on_error(void *ud, int has_id, int64_t id, const char *what) {
    seen *s = ud;
    s->errors++;
    if (has_id) add(s, "err%s[%lld];", "", (long long)id);
    else add(s, "err%s;", "", 0);
    (void)what;
}

static const rpc_reader_cb cb = {on_message, on_error};

/* Feeds data in pieces of `step` bytes (0: all at once). */
static void feed(rpc_reader *r, seen *s, const void *data, size_t len, size_t step) {
    const char *p = data;
    if (!step) step = len ? len : 1;
    for (size_t i = 0; i < len; i += step) rpc_reader_feed(r, p + i, len - i < step ? len - i : step, &cb, s);
}

static int sbuf_write(void *data, const char *buf, size_t len) { return rpc_buf_append(data, buf, len); }

/* Appends a msgpack request [0, id, method, [{"x": x}]] (x < 0: no params). */
static void mp_request(rpc_buf *b, int type, long long id, const char *method, long long x) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, sbuf_write);
    msgpack_pack_array(&pk, type == 2 ? 3 : 4);
    msgpack_pack_int(&pk, type);
    if (type != 2) msgpack_pack_int64(&pk, id);
    msgpack_pack_str(&pk, strlen(method));
    msgpack_pack_str_body(&pk, method, strlen(method));
    if (x < 0) { msgpack_pack_array(&pk, 0); return; }
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "x", 1);
    msgpack_pack_int64(&pk, x);
}

static void mp_request_str(rpc_buf *b, long long id, const char *method, const char *x, size_t xlen) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, sbuf_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_int64(&pk, id);
    msgpack_pack_str(&pk, strlen(method));
    msgpack_pack_str_body(&pk, method, strlen(method));
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "x", 1);
    msgpack_pack_str(&pk, xlen);
    msgpack_pack_str_body(&pk, x, xlen);
}

static void test_msgpack_splits(void) {
    rpc_buf b = {0};
    mp_request(&b, 0, 1, "initialize", 7);
    mp_request(&b, 2, 0, "cancel", 300000);
    mp_request(&b, 0, 4000000000LL, "stats", -1);
    mp_request(&b, 1, 9, "x", -1);
    mp_request_str(&b, 5, "scan", "hello [world] \"q\"", 17);
    const char *want = "req initialize(1,x=7)0;note cancel(0,x=300000)0;req stats(4000000000)0;resp(9);"
                       "req scan(5,x=hello [world] \"q\"17)0;";
    int all_ok = 1;
    for (size_t step = 0; step <= 7; step++) {
        seen s = {0};
        rpc_reader *r = rpc_reader_new(RPC_FRAMING_AUTO, 1 << 20);
        feed(r, &s, b.data, b.len, step);
        if (strcmp(s.log, want) || rpc_reader_framing(r) != RPC_FRAMING_MSGPACK) {
            all_ok = 0;
            NOTE("step %zu: %s", step, s.log);
        }
        rpc_reader_free(r);
    }
    CHECK(all_ok, "msgpack: five messages decode the same whole, byte by byte and in 2..7-byte pieces");
    rpc_buf_free(&b);
}

static void test_msgpack_bad(void) {
    /* malformed byte 0xc1 inside a message, then a good message */
    rpc_buf b = {0};
    rpc_buf_append(&b, "\x94\x00\x01\xc1zzz", 7);
    mp_request(&b, 0, 2, "stats", -1);
    seen s = {0};
    rpc_reader *r = rpc_reader_new(RPC_FRAMING_MSGPACK, 1 << 20);
    feed(r, &s, b.data, b.len, 0);
    CHECK(!strcmp(s.log, "err;req stats(2)0;"), "msgpack: 0xc1 is reported and the next message still arrives (%s)", s.log);
    rpc_reader_stats st;
    rpc_reader_get_stats(r, &st);
    CHECK(st.malformed == 1 && st.messages == 1 && st.skipped_bytes == 3, "msgpack: stats count the malformed message and 3 skipped bytes");
    rpc_reader_free(r);

    /* shapes: top-level int, bad msgid, method not a string, params not [map], ext value, deep nesting */
    b.len = 0;
    rpc_buf_append(&b, "\x05", 1);                              /* 5 */
    rpc_buf_append(&b, "\x94\x00\xa1x\xa1m\x90", 7);            /* [0, "x", "m", []] */
    rpc_buf_append(&b, "\x94\x00\x03\x05\x90", 5);              /* [0, 3, 5, []] */
    rpc_buf_append(&b, "\x94\x00\x04\xa1m\x91\x01", 7);         /* [0, 4, "m", [1]] */
    rpc_buf_append(&b, "\x94\x00\x05\xa1m\x05", 6);             /* [0, 5, "m", 5] */
    rpc_buf_append(&b, "\x94\x00\x06\xa1m\x91\x81\xa1x\xd4\x01\x02", 12); /* ext in params */
    rpc_buf_append(&b, "\x93\x07\xa1m\x90", 5);                 /* type 7 */
    rpc_buf_append(&b, "\x94\x00\x08\xa1m\x91\x81\x05\x01", 9); /* int map key */
    rpc_buf_append(&b, "\x94\x00\x0a\xa1" "e\x91\x90", 7);         /* [0, 10, "e", [[]]]: Lua's {} */
    for (int i = 0; i < 40; i++) rpc_buf_append(&b, "\x91", 1); /* 40 nested arrays */
    rpc_buf_append(&b, "\xc0", 1);
    mp_request(&b, 0, 9, "ok", 1);
    memset(&s, 0, sizeof s);
    r = rpc_reader_new(RPC_FRAMING_MSGPACK, 1 << 20);
    feed(r, &s, b.data, b.len, 3);
    CHECK(!strcmp(s.log, "err;err;err[3];req m(4,badparams0)0;req m(5,badparams0)0;err[6];err;err[8];req e(10)0;err;req ok(9,x=1)0;"),
          "msgpack: wrongly shaped messages get errors, with the id when one is owed; odd params are left to the dispatcher (%s)", s.log);
    rpc_reader_free(r);
    rpc_buf_free(&b);
}

static void test_msgpack_caps(void) {
    char big[300];
    memset(big, 'a', sizeof big);
    rpc_buf b = {0};
    mp_request_str(&b, 11, "complete", big, sizeof big);
    mp_request(&b, 0, 12, "stats", -1);
    for (size_t step = 0; step <= 5; step += 5) {
        seen s = {0};
        rpc_reader *r = rpc_reader_new(RPC_FRAMING_MSGPACK, 128);
        feed(r, &s, b.data, b.len, step);
        CHECK(!strcmp(s.log, "err[11];req stats(12)0;"), "msgpack cap: oversized request answered by id, next one kept (step %zu: %s)", step, s.log);
        rpc_reader_stats st;
        rpc_reader_get_stats(r, &st);
        CHECK(st.oversized == 1, "msgpack cap: counted as oversized");
        rpc_reader_free(r);
    }
    /* A 6-byte header claiming 2^32-1 elements: rejected at once, nothing allocated for it. */
    seen s = {0};
    rpc_reader *r = rpc_reader_new(RPC_FRAMING_MSGPACK, 1 << 20);
    feed(r, &s, "\x94\x00\x01\xa1m\xdd\xff\xff\xff\xff", 10, 0);
    CHECK(!strcmp(s.log, "err[1];"),
          "msgpack cap: array32 of 4294967295 elements is refused before any allocation (%s)", s.log);
    rpc_reader_free(r);
    rpc_buf_free(&b);
}

static void test_json(void) {
    const char *in =
        "[1, {\"method\": \"initialize\", \"params\": {\"x\": 3}}]\n"
        "  [2,{\"method\":\"scan\",\"params\":{\"x\":\"a]}\\\"[{\"}}]\n"
        "[3,\n {\"method\": \"stats\"}\n]\n"
        "[0, {\"method\": \"cancel\", \"params\": {\"x\": 4}}]\n";
    const char *want = "req initialize(1,x=3)0;req scan(2,x=a]}\"[{6)0;req stats(3)0;note cancel(0,x=4)0;";
    int all_ok = 1;
    for (size_t step = 0; step <= 9; step++) {
        seen s = {0};
        rpc_reader *r = rpc_reader_new(RPC_FRAMING_AUTO, 1 << 20);
        feed(r, &s, in, strlen(in), step);
        if (strcmp(s.log, want) || rpc_reader_framing(r) != RPC_FRAMING_JSON) {
            all_ok = 0;
            NOTE("step %zu: %s", step, s.log);
        }
        rpc_reader_free(r);
    }
    CHECK(all_ok, "json: four messages (strings with brackets and escapes, newlines inside) under every split");

    const char *bad =
        "garbage here\n"                                  /* skipped to the newline */
        "[5, {\"method\": }]\n"                           /* malformed JSON, id known */
        "[6, \"str\"]\n"                                  /* payload not an object */
        "[7, {\"params\": {}}]\n"                         /* no method */
        "[8, {\"method\": \"m\", \"params\": [1]}]\n"     /* params not an object */
        "[-1, {\"method\": \"m\"}]\n"                     /* negative id */
        "{\"method\": \"m\"}\n"                           /* not an array */
        "[9, {\"method\": \"m\", \"method\": \"n\"}]\n"  /* duplicate key */
        "[10, {\"method\": \"ok\"}]\n";
    seen s = {0};
    rpc_reader *r = rpc_reader_new(RPC_FRAMING_JSON, 1 << 20);
    feed(r, &s, bad, strlen(bad), 4);
    CHECK(!strcmp(s.log, "err;err[5];err[6];err[7];req m(8,badparams0)0;err;err;err[9];req ok(10)0;"),
          "json: malformed messages get errors (by id where owed) and the stream recovers (%s)", s.log);
    rpc_reader_free(r);

    char big[400];
    int n = snprintf(big, sizeof big, "[12, {\"method\": \"complete\", \"params\": {\"x\": \"%0300d\"}}]\n[13, {\"method\": \"ok\"}]\n", 0);
    memset(&s, 0, sizeof s);
    r = rpc_reader_new(RPC_FRAMING_JSON, 100);
    feed(r, &s, big, (size_t)n, 0);
    CHECK(!strcmp(s.log, "err[12];req ok(13)0;"), "json cap: oversized message answered by id and skipped (%s)", s.log);
    rpc_reader_free(r);
}

static void test_auto(void) {
    seen s = {0};
    rpc_reader *r = rpc_reader_new(RPC_FRAMING_AUTO, 1 << 20);
    feed(r, &s, "\x01\x02[1,{\"method\":\"m\"}]", 20, 0);
    CHECK(!strcmp(s.log, "err;req m(1)0;") && rpc_reader_framing(r) == RPC_FRAMING_JSON,
          "auto: undecidable bytes reported once, then '[' selects JSON (%s)", s.log);
    rpc_reader_free(r);
    memset(&s, 0, sizeof s);
    r = rpc_reader_new(RPC_FRAMING_AUTO, 1 << 20);
    rpc_reader_feed(r, "", 0, &cb, &s);
    CHECK(rpc_reader_framing(r) == RPC_FRAMING_AUTO && !s.messages && !s.errors, "auto: no bytes, no decision");
    rpc_reader_free(r);
}

int main(void) {
    test_msgpack_splits();
    test_msgpack_bad();
    test_msgpack_caps();
    test_json();
    test_auto();
    return tap_done();
}
