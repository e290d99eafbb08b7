/* frame.c — streaming scanners that find where a message ends without
 * parsing it, so caps apply before any library allocates. */
#include "rpc/internal.h"

/* Saturating add, so hostile headers cannot wrap the counters around. */
static uint64_t sat_add(uint64_t a, uint64_t b) { return b > UINT64_MAX / 2 - a ? UINT64_MAX / 2 : a + b; }

void rpc_mpscan_start(rpc_mpscan *s) {
    *s = (rpc_mpscan){.need_objs = 1};
}

int rpc_mp_is_array_start(unsigned char b) { return (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd; }

uint64_t rpc_mpscan_min_size(const rpc_mpscan *s) {
    return sat_add(sat_add(sat_add(s->len, s->skip), s->need_objs), s->hdr_need - s->hdr_len);
}

/* Length bytes that follow a type byte (0 for a complete byte). */
static unsigned hdr_bytes(unsigned char b) {
    switch (b) {
    case 0xc4: case 0xd9: return 1;                         /* bin8, str8 */
    case 0xc5: case 0xda: case 0xdc: case 0xde: return 2;   /* bin16, str16, array16, map16 */
    case 0xc6: case 0xdb: case 0xdd: case 0xdf: return 4;   /* bin32, str32, array32, map32 */
    case 0xc7: return 2;                                    /* ext8: len + type */
    case 0xc8: return 3;                                    /* ext16 */
    case 0xc9: return 5;                                    /* ext32 */
    default: return 0;
    }
}

/* Payload bytes of fixed-size types (after the type byte). */
static unsigned fixed_payload(unsigned char b) {
    switch (b) {
    case 0xca: return 4; case 0xcb: return 8;               /* float32/64 */
    case 0xcc: case 0xd0: return 1; case 0xcd: case 0xd1: return 2;
    case 0xce: case 0xd2: return 4; case 0xcf: case 0xd3: return 8;
    case 0xd4: return 2; case 0xd5: return 3; case 0xd6: return 5;
    case 0xd7: return 9; case 0xd8: return 17;              /* fixext: type + data */
    default: return 0;
    }
}

/* A complete header: account for what it announces. */
static void header_done(rpc_mpscan *s) {
    uint64_t n = 0;
    unsigned len_bytes = s->hdr_kind == 0xc7 ? 1 : s->hdr_kind == 0xc8 ? 2 : s->hdr_kind == 0xc9 ? 4 : s->hdr_need;
    for (unsigned i = 0; i < len_bytes; i++) n = n << 8 | s->hdr[i];
    switch (s->hdr_kind) {
    case 0xdc: case 0xdd: s->need_objs = sat_add(s->need_objs, n); break;
    case 0xde: case 0xdf: s->need_objs = sat_add(s->need_objs, sat_add(n, n)); break;
    default: s->skip = sat_add(s->skip, n); break;
    }
    s->hdr_need = s->hdr_len = 0;
}

rpc_scan_status rpc_mpscan_feed(rpc_mpscan *s, const unsigned char *p, size_t n, size_t *used) {
    size_t i = 0;
    while (i < n) {
        if (s->skip) {
            size_t take = (uint64_t)(n - i) < s->skip ? n - i : (size_t)s->skip;
            s->skip -= take;
            s->len += take;
            i += take;
        } else if (s->hdr_need) {
            s->hdr[s->hdr_len++] = p[i++];
            s->len++;
            if (s->hdr_len == s->hdr_need) header_done(s);
        } else {
            unsigned char b = p[i++];
            s->len++;
            s->need_objs--;
            if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) { /* ints, nil, bools */
            } else if (b <= 0x8f) s->need_objs = sat_add(s->need_objs, 2u * (b & 0x0f));
            else if (b <= 0x9f) s->need_objs = sat_add(s->need_objs, b & 0x0f);
            else if (b <= 0xbf) s->skip = b & 0x1f;
            else if (b == 0xc1) { *used = i; return RPC_SCAN_BAD; }
            else if (hdr_bytes(b)) { s->hdr_kind = b; s->hdr_need = hdr_bytes(b); s->hdr_len = 0; }
            else s->skip = fixed_payload(b);
        }
        if (!s->need_objs && !s->skip && !s->hdr_need) { *used = i; return RPC_SCAN_DONE; }
    }
    *used = i;
    return RPC_SCAN_MORE;
}

void rpc_jsscan_start(rpc_jsscan *s) { *s = (rpc_jsscan){0}; }

rpc_scan_status rpc_jsscan_feed(rpc_jsscan *s, const unsigned char *p, size_t n, size_t *used) {
    size_t i = 0;
    if (!s->len && n) { /* a message is an array (or, to report it, an object) */
        if (p[0] != '[' && p[0] != '{') { *used = 1; return RPC_SCAN_BAD; }
    }
    while (i < n) {
        unsigned char c = p[i++];
        s->len++;
        if (s->in_str) {
            if (s->esc) s->esc = 0;
            else if (c == '\\') s->esc = 1;
            else if (c == '"') s->in_str = 0;
        } else if (c == '"') s->in_str = 1;
        else if (c == '[' || c == '{') s->depth++;
        else if (c == ']' || c == '}') {
            if (--s->depth == 0) { *used = i; return RPC_SCAN_DONE; }
        }
    }
    *used = i;
    return RPC_SCAN_MORE;
}

/* Reads a msgpack non-negative integer at p; returns its size or 0. */
static size_t mp_uint(const unsigned char *p, size_t n, int64_t *out) {
    if (!n) return 0;
    if (p[0] <= 0x7f) { *out = p[0]; return 1; }
    unsigned w = p[0] == 0xcc ? 1 : p[0] == 0xcd ? 2 : p[0] == 0xce ? 4 : 0;
    if (!w || n < 1 + w) return 0;
    uint64_t v = 0;
    for (unsigned i = 1; i <= w; i++) v = v << 8 | p[i];
    *out = (int64_t)v;
    return 1 + w;
}

int rpc_peek_request_id(rpc_framing f, const unsigned char *p, size_t n, int64_t *id) {
    if (f == RPC_FRAMING_MSGPACK) return n >= 3 && p[0] == 0x94 && p[1] == 0x00 && mp_uint(p + 2, n - 2, id);
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    if (i >= n || p[i++] != '[') return 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    int64_t v = 0;
    size_t digits = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 15) v = v * 10 + (p[i++] - '0'), digits++;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
    if (!digits || v <= 0 || i >= n || p[i] != ',') return 0;
    *id = v;
    return 1;
}
