/* membw.c — streaming-read bandwidth (see membw.h). */
#include "engine/membw.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/pool.h"

typedef struct {
    const uint8_t *buf;
    size_t bytes;
    volatile double sink;
} read_job;

__attribute__((target("avx512f"))) static double read_avx512(const uint8_t *p, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 256 <= n; i += 256) {
        a0 = _mm512_xor_si512(a0, _mm512_load_si512((const void *)(p + i)));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512((const void *)(p + i + 64)));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512((const void *)(p + i + 128)));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512((const void *)(p + i + 192)));
    }
    __m512i x = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    return (double)_mm512_reduce_add_epi64(x);
}

__attribute__((target("avx2"))) static double read_avx2(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256((const void *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256((const void *)(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256((const void *)(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256((const void *)(p + i + 96)));
    }
    __m256i x = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    return (double)_mm256_extract_epi64(x, 0);
}

static void read_worker(void *arg, int ith, int nth) {
    read_job *j = arg;
    size_t per = j->bytes / (size_t)nth / 4096 * 4096;
    const uint8_t *p = j->buf + per * (size_t)ith;
    double r = __builtin_cpu_supports("avx512f") ? read_avx512(p, per) : read_avx2(p, per);
    if (ith == 0) j->sink = r;
}

double membw_read(size_t bytes, int n_threads, int reps) {
    uint8_t *buf = aligned_alloc(4096, bytes);
    if (!buf) return -1;
    memset(buf, 1, bytes); /* fault every page in before timing */
    eng_pool *pool = pool_new(n_threads);
    if (!pool) { free(buf); return -1; }
    read_job j = {buf, bytes, 0};
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = fl_now();
        pool_run(pool, read_worker, &j);
        double bw = (double)(bytes / (size_t)pool_size(pool) / 4096 * 4096 * (size_t)pool_size(pool)) / (fl_now() - t0);
        if (bw > best) best = bw;
    }
    pool_free(pool);
    free(buf);
    return best;
}
