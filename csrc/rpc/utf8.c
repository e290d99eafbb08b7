/* utf8.c — UTF-8 well-formedness (RFC 3629) for the JSON side. See rpc.h. */
#include "rpc/internal.h"

int rpc_utf8_seq(const unsigned char *s, size_t len) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int n;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;       /* overlong */
        else if (c == 0xed) hi = 0x9f;  /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;       /* overlong */
        else if (c == 0xf4) hi = 0x8f;  /* above U+10FFFF */
    } else return 0;
    for (int i = 1; i < n; i++) {
        if ((size_t)i >= len) return -1;
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return 0;
    }
    return n;
}

int rpc_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        int n = rpc_utf8_seq(p + i, len - i);
        if (n <= 0) return 0;
        i += (size_t)n;
    }
    return 1;
}

/* Bytes of the maximal subpart at s (the longest prefix of a well-formed
 * sequence, at least 1): they become one U+FFFD, as the Unicode standard
 * recommends. */
static size_t bad_len(const unsigned char *s, size_t len) {
    size_t sub = 1;
    for (size_t k = 1; k <= 3 && k <= len; k++)
        if (rpc_utf8_seq(s, k) == -1) sub = k;
    return sub;
}

int rpc_utf8_repair(rpc_buf *out, const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        int n;
        while (run < len && (n = rpc_utf8_seq(p + run, len - run)) > 0) run += (size_t)n;
        if (rpc_buf_append(out, p + i, run - i)) return -1;
        if (run == len) break;
        if (rpc_buf_append(out, "\xef\xbf\xbd", 3)) return -1;
        i = run + bad_len(p + run, len - run);
    }
    return 0;
}
