/* kernels_avx2.c — AVX2/FMA kernels. Compiled with -mavx2 -mfma -mf16c; only
 * called when cpu.c found AVX2 and FMA. Types without a kernel here fall back
 * to the scalar reference (kq_for_type). */
#include <immintrin.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/qtypes.h"

static int avx2_supports(uint32_t wt) { return wt == QT_F32; }

static size_t avx2_act_bytes(uint32_t wt, int64_t n) { return (size_t)n * sizeof(float); }

static void avx2_prepare(uint32_t wt, const float *x, void *dst, int64_t n) {
    memcpy(dst, x, (size_t)n * sizeof(float));
}

static float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float dot_f32(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void avx2_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                      int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
        const float *wr = (const float *)(w->data + (size_t)r * w->row_bytes);
        for (int t = 0; t < n_tok; t++)
            y[(size_t)t * ldy + r] = dot_f32(wr, (const float *)((const uint8_t *)act + t * act_stride), w->n_in);
    }
}

const kq_ops kq_avx2_ops = {
    .name = "avx2",
    .act_bytes = avx2_act_bytes,
    .prepare = avx2_prepare,
    .rows = avx2_rows,
    .supports = avx2_supports,
};
