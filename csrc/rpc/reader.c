/* reader.c — the streaming reader: framing detection, caps, resync, decode,
 * delivery. See rpc.h. */
#include <stdio.h>
#include <stdlib.h>

#include "common/common.h"
#include "rpc/internal.h"

typedef enum { R_IDLE, R_MSG, R_GARBAGE } rstate;

struct rpc_reader {
    rpc_framing framing;
    size_t cap;
    rstate state;
    int discarding;          /* the current message exceeds the cap: not stored */
    rpc_mpscan mp;
    rpc_jsscan js;
    rpc_buf buf;             /* bytes of the current message */
    rpc_reader_stats st;
};

/* Buffers above this size are released after their message. */
#define KEEP_BUF (256u * 1024)

rpc_reader *rpc_reader_new(rpc_framing framing, size_t max_message) {
    if (max_message < 16) max_message = 16;
    rpc_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->framing = framing;
    r->cap = max_message;
    return r;
}

void rpc_reader_free(rpc_reader *r) {
    if (!r) return;
    rpc_buf_free(&r->buf);
    free(r);
}

rpc_framing rpc_reader_framing(const rpc_reader *r) { return r->framing; }

void rpc_reader_get_stats(const rpc_reader *r, rpc_reader_stats *st) { *st = r->st; }

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void release_buf(rpc_reader *r) {
    if (r->buf.cap > KEEP_BUF) rpc_buf_free(&r->buf);
    r->buf.len = 0;
}

/* Decodes and delivers the buffered message. */
static void deliver(rpc_reader *r, const rpc_reader_cb *cb, void *ud) {
    rpc_arena a = {0};
    rpc_msg m;
    int has_id;
    int64_t id = 0;
    char err[FL_ERRLEN];
    int rc = r->framing == RPC_FRAMING_MSGPACK
                 ? rpc_decode_msgpack(r->buf.data, r->buf.len, &a, &m, &has_id, &id, err, sizeof err)
                 : rpc_decode_json(r->buf.data, r->buf.len, &a, &m, &has_id, &id, err, sizeof err);
    if (rc && !has_id)
        has_id = rpc_peek_request_id(r->framing, (const unsigned char *)r->buf.data, r->buf.len, &id);
    release_buf(r);
    if (rc) {
        r->st.malformed++;
        cb->on_error(ud, has_id, id, err);
    } else {
        r->st.messages++;
        cb->on_message(ud, &m);
    }
    rpc_arena_free(&a);
}

/* The message grew past the cap: stop storing it and tell the client. */
static void oversized(rpc_reader *r, const rpc_reader_cb *cb, void *ud) {
    int64_t id = 0;
    int has_id = rpc_peek_request_id(r->framing, (const unsigned char *)r->buf.data, r->buf.len, &id);
    char err[160];
    snprintf(err, sizeof err, "message larger than the %zu-byte cap (--max-message); skipped", r->cap);
    r->discarding = 1;
    release_buf(r);
    cb->on_error(ud, has_id, id, err);
}

/* Skips garbage; returns the bytes consumed. Leaves R_GARBAGE at a byte that
 * can start a message (msgpack, auto) or after a newline (JSON). */
static size_t skip_garbage(rpc_reader *r, const unsigned char *p, size_t n) {
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char c = p[i];
        if (r->framing == RPC_FRAMING_JSON) {
            if (c == '\n') { i++; r->state = R_IDLE; break; }
        } else if (rpc_mp_is_array_start(c) || (r->framing == RPC_FRAMING_AUTO && c == '[')) {
            r->state = R_IDLE;
            break;
        }
    }
    r->st.skipped_bytes += i;
    return i;
}

static void begin_garbage(rpc_reader *r, const rpc_reader_cb *cb, void *ud, const char *what) {
    r->st.malformed++;
    r->state = R_GARBAGE;
    r->discarding = 0;
    release_buf(r);
    cb->on_error(ud, 0, 0, what);
}

int rpc_reader_feed(rpc_reader *r, const void *data, size_t len, const rpc_reader_cb *cb, void *ud) {
    const unsigned char *p = data;
    size_t i = 0;
    int rc = 0;
    r->st.bytes += len;
    while (i < len) {
        if (r->state == R_GARBAGE) {
            i += skip_garbage(r, p + i, len - i);
            continue;
        }
        if (r->state == R_IDLE) {
            unsigned char c = p[i];
            if (r->framing != RPC_FRAMING_MSGPACK && is_space(c)) { i++; continue; }
            if (r->framing == RPC_FRAMING_AUTO) {
                if (c == '[') r->framing = RPC_FRAMING_JSON;
                else if (rpc_mp_is_array_start(c)) r->framing = RPC_FRAMING_MSGPACK;
                else {
                    char what[120];
                    snprintf(what, sizeof what, "cannot tell the framing from byte 0x%02x: expected '[' (JSON) or a msgpack array", c);
                    begin_garbage(r, cb, ud, what);
                    i++;
                    r->st.skipped_bytes++;
                    continue;
                }
            }
            if (r->framing == RPC_FRAMING_MSGPACK) rpc_mpscan_start(&r->mp);
            else rpc_jsscan_start(&r->js);
            r->buf.len = 0;
            r->discarding = 0;
            r->state = R_MSG;
        }
        /* R_MSG: never store more than cap + 1 bytes of one message. */
        size_t n = len - i, used;
        size_t have = r->framing == RPC_FRAMING_MSGPACK ? (size_t)r->mp.len : (size_t)r->js.len;
        if (!r->discarding && n > r->cap + 1 - have) n = r->cap + 1 - have;
        rpc_scan_status s = r->framing == RPC_FRAMING_MSGPACK ? rpc_mpscan_feed(&r->mp, p + i, n, &used)
                                                              : rpc_jsscan_feed(&r->js, p + i, n, &used);
        if (!r->discarding && rpc_buf_append(&r->buf, p + i, used)) {
            rc = -1;
            begin_garbage(r, cb, ud, "out of memory while reading a message; skipped");
            i += used;
            continue;
        }
        i += used;
        uint64_t size = r->framing == RPC_FRAMING_MSGPACK ? rpc_mpscan_min_size(&r->mp) : r->js.len;
        if (s == RPC_SCAN_BAD) {
            begin_garbage(r, cb, ud, r->framing == RPC_FRAMING_MSGPACK ? "malformed msgpack (byte 0xc1); skipping to the next message"
                                                                       : "malformed JSON: a message must start with '['; skipping to the next line");
            continue;
        }
        if (!r->discarding && size > r->cap) oversized(r, cb, ud);
        if (s == RPC_SCAN_DONE) {
            r->state = R_IDLE;
            if (r->discarding) r->st.oversized++;
            else deliver(r, cb, ud);
            r->discarding = 0;
        }
    }
    return rc;
}
