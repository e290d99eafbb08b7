/* kernels_avx512.c — AVX-512 (F, BW, VL, VNNI) kernels. Only called when cpu.c
 * found those extensions. Types without a kernel here fall back to the
 * scalar reference (kq_for_type). */
#include <immintrin.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/qtypes.h"

static int avx512_supports(uint32_t wt) { return wt == QT_F32; }

static size_t avx512_act_bytes(uint32_t wt, int64_t n) { return (size_t)n * sizeof(float); }

static void avx512_prepare(uint32_t wt, const float *x, void *dst, int64_t n) {
    memcpy(dst, x, (size_t)n * sizeof(float));
}

static float dot_f32(const float *a, const float *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i + 16 <= n) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        i += 16;
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void avx512_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                        int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
        const float *wr = (const float *)(w->data + (size_t)r * w->row_bytes);
        for (int t = 0; t < n_tok; t++)
            y[(size_t)t * ldy + r] = dot_f32(wr, (const float *)((const uint8_t *)act + t * act_stride), w->n_in);
    }
}

const kq_ops kq_avx512_ops = {
    .name = "avx512",
    .act_bytes = avx512_act_bytes,
    .prepare = avx512_prepare,
    .rows = avx512_rows,
    .supports = avx512_supports,
};
