/* internal.h — what the files of csrc/rpc/ share; not part of the contract. */
#ifndef FLINT_RPC_INTERNAL_H
#define FLINT_RPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/rpc.h"

/* Deepest nesting of arrays/maps a message may have. flint's messages
 * need 4; msgpack-c's parser stops at 32, and a reply wraps a value in at
 * most 4 more levels, so anything accepted can also be echoed to a
 * msgpack-c client. */
#define RPC_MAX_DEPTH 16

/* ---- frame scanners: where does the current message end? -------------- */

typedef enum {
    RPC_SCAN_MORE,  /* all bytes consumed, the message is not finished */
    RPC_SCAN_DONE,  /* the message ends after *used bytes */
    RPC_SCAN_BAD    /* byte *used - 1 cannot belong to a message */
} rpc_scan_status;

/* msgpack: counts the objects and payload bytes still owed by the current
 * top-level object. */
typedef struct {
    uint64_t need_objs;     /* objects still to read */
    uint64_t skip;          /* payload bytes still to read */
    unsigned char hdr[8];   /* length bytes of the header being read */
    unsigned hdr_len, hdr_need;
    unsigned char hdr_kind; /* the first byte of that header */
    uint64_t len;           /* bytes of the message so far */
} rpc_mpscan;

/* JSON: bracket depth outside strings. */
typedef struct {
    uint64_t depth;
    int in_str, esc;
    uint64_t len;
} rpc_jsscan;

void rpc_mpscan_start(rpc_mpscan *s);
rpc_scan_status rpc_mpscan_feed(rpc_mpscan *s, const unsigned char *p, size_t n, size_t *used);
/* A lower bound of the whole message's size in bytes (saturating). */
uint64_t rpc_mpscan_min_size(const rpc_mpscan *s);
/* 1 if b can start a msgpack-RPC message (an array header). */
int rpc_mp_is_array_start(unsigned char b);

void rpc_jsscan_start(rpc_jsscan *s);
rpc_scan_status rpc_jsscan_feed(rpc_jsscan *s, const unsigned char *p, size_t n, size_t *used);

/* The id of a request whose first bytes are p[0..n), if they show one:
 * msgpack `[0, id, ...` or JSON `[id, ...`. Returns 1 and *id, else 0. */
int rpc_peek_request_id(rpc_framing f, const unsigned char *p, size_t n, int64_t *id);

/* ---- decoders: one complete message into an rpc_msg ------------------- */

/* Each parses buf[0..n) (exactly one message) into m, allocating in a.
 * Returns 0; or -1 with err set and *has_id and *id telling whether a response
 * is owed. */
int rpc_decode_msgpack(const char *buf, size_t n, rpc_arena *a, rpc_msg *m, int *has_id, int64_t *id, char *err,
                       size_t errlen);
int rpc_decode_json(const char *buf, size_t n, rpc_arena *a, rpc_msg *m, int *has_id, int64_t *id, char *err,
                    size_t errlen);

/* ---- UTF-8 ------------------------------------------------------------ */

/* Length of the well-formed sequence at s[0..len): 1-4; 0 if the bytes are
 * not UTF-8; -1 if the sequence is cut short by len. */
int rpc_utf8_seq(const unsigned char *s, size_t len);

/* Appends s with each ill-formed byte replaced by U+FFFD. 0 or -1. */
int rpc_utf8_repair(rpc_buf *out, const char *s, size_t len);

#endif
