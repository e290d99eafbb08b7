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
