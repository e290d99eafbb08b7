/* buf.c — the growable output buffer. See rpc.h. */
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"

int rpc_buf_append(rpc_buf *b, const void *p, size_t n) {
    if (!n) return 0;
    if (n > SIZE_MAX / 2 - b->len) return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void rpc_buf_free(rpc_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
