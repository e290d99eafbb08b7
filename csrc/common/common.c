/* common.c — error buffer, clock and overflow-checked allocation. */
#include "common/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int fl_seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

double fl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void *fl_malloc_array(size_t n, size_t size) {
    size_t total;
    if (fl_mul_size(n, size, &total)) return NULL;
    return malloc(total ? total : 1);
}

void *fl_calloc_array(size_t n, size_t size) {
    size_t total;
    if (fl_mul_size(n, size, &total)) return NULL;
    return calloc(total ? n : 1, total ? size : 1);
}

char *fl_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap + 1);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *p = cap < SIZE_MAX / 4 ? realloc(buf, (cap *= 2) + 1) : NULL;
            if (!p) { free(buf); buf = NULL; }
            else buf = p;
        }
    }
    if (buf && ferror(f)) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len) *len = n;
    }
    return buf;
}
