/* fuzz_rpc.c — libFuzzer target for the RPC framing layer (csrc/rpc/).
 * Byte 0 picks the framing (auto, msgpack, JSON) and the size cap, byte 1
 * the size of the pieces the stream is fed in; the rest is the stream. Every
 * decoded message is checked (params is a map or NULL, the method a string),
 * its params read through the typed getters, and encoded back as a response
 * and a notification in both framings; the JSON output must parse with
 * jansson and the msgpack output with msgpack-c. Aborts on any violation;
 * must never crash, leak or read out of bounds. */
#include <jansson.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"

static void check_json(const rpc_buf *b) {
    size_t off = 0;
    while (off < b->len) {
        const char *nl = memchr(b->data + off, '\n', b->len - off);
        if (!nl) abort(); /* every JSON message ends with a newline */
        json_error_t e;
        json_t *j = json_loadb(b->data + off, (size_t)(nl - (b->data + off)), JSON_ALLOW_NUL, &e);
        if (!j || !json_is_array(j) || json_array_size(j) != 2) abort();
        json_decref(j);
        off = (size_t)(nl - b->data) + 1;
    }
}

static void check_msgpack(const rpc_buf *b) {
    size_t off = 0;
    while (off < b->len) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        if (msgpack_unpack_next(&up, b->data, b->len, &off) != MSGPACK_UNPACK_SUCCESS ||
            up.data.type != MSGPACK_OBJECT_ARRAY)
            abort();
        msgpack_unpacked_destroy(&up);
    }
}

static void on_message(void *ud, const rpc_msg *m) {
    (void)ud;
    if (m->kind != RPC_MSG_RESPONSE) {
        if (!m->method || !m->args) abort();
        if (m->params && m->params->type != RPC_MAP) abort();
    }
    const rpc_val *p = m->params;
    char err[256];
    const char *s;
    size_t len;
    int64_t i;
    const rpc_val *v;
    rpc_field_str(p, "prefix", 0, &s, &len, err, sizeof err);
    rpc_field_int(p, "max_tokens", 1, 1, 4096, &i, err, sizeof err);
    rpc_field_of_type(p, "extra", 0, RPC_ARR, &v, err, sizeof err);
    const rpc_val *echo = p ? p : m->result;
    for (int f = RPC_FRAMING_MSGPACK; f <= RPC_FRAMING_JSON; f++) {
        rpc_buf out = {0};
        rpc_write_response(&out, (rpc_framing)f, m->id, NULL, echo);
        rpc_write_response(&out, (rpc_framing)f, m->id, m->method ? m->method : "error", NULL);
        rpc_write_notify(&out, (rpc_framing)f, 1, m->method ? m->method : "x", echo);
        rpc_write_notify(&out, (rpc_framing)f, 0, "chunk", echo);
        if (f == RPC_FRAMING_JSON) check_json(&out);
        else check_msgpack(&out);
        rpc_buf_free(&out);
    }
}

static void on_error(void *ud, int has_id, int64_t id, const char *what) {
    (void)ud;
    if (!what || !*what || (has_id && id < 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    static const rpc_framing framings[] = {RPC_FRAMING_AUTO, RPC_FRAMING_MSGPACK, RPC_FRAMING_JSON};
    rpc_framing f = framings[data[0] % 3];
    size_t cap = (data[0] >> 2) & 1 ? 64 : 1 << 20;
    size_t piece = data[1] ? data[1] : size;
    data += 2;
    size -= 2;
    rpc_reader *r = rpc_reader_new(f, cap);
    if (!r) return 0;
    static const rpc_reader_cb cb = {on_message, on_error};
    for (size_t off = 0; off < size; off += piece)
        rpc_reader_feed(r, data + off, size - off < piece ? size - off : piece, &cb, NULL);
    rpc_reader_stats st;
    rpc_reader_get_stats(r, &st);
    if (st.bytes != size) abort();
    rpc_reader_free(r);
    return 0;
}
