/* kernels_avx512.c — the x86 kernels (kernels_x86.h) with AVX-512 VNNI's
 * vpdpbusd on 256-bit vectors (AVX512VL). Only called when cpu.c found
 * AVX-512 F/BW/VL/VNNI. */
#include <immintrin.h>

static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }

#include "engine/kernels_x86.h"
#include "engine/kernels_attn_avx512.h"
#include "engine/repack.h"
#include "engine/kernels_r16_avx512.h"

extern const kq_ops kq_avx512_batch_ops;

/* silu(x) = x · sigmoid(x), sigmoid from e = exp(−|x|) (an argument the
 * attention kernel's exp takes): 1 / (1 + e) for x ≥ 0, e / (1 + e) below. */
static void silu_mul_avx512(int64_t n, float *a, const float *b) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, a + i);
        __m512 e = exp512_nonpos(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
        __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_add_ps(_mm512_set1_ps(1.f), e));
        __m512 sig = _mm512_mask_mul_ps(inv, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), e, inv);
        _mm512_mask_storeu_ps(a + i, m, _mm512_mul_ps(_mm512_mul_ps(x, sig), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

static void to_f16_avx512(int64_t n, const float *x, uint16_t *y) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(y + i, m, h);
    }
}

const kq_vec_ops kq_avx512_vec = {vattn_avx512, silu_mul_avx512, to_f16_avx512};

/* The x86 kernels plus QT_Q8_0_R16, whose activations are Q8_0's. */
static uint32_t act_type(uint32_t wt) { return wt == QT_Q8_0_R16 ? QT_Q8_0 : wt; }
static size_t avx512_act_bytes(uint32_t wt, int64_t n) { return x86_act_bytes(act_type(wt), n); }
static void avx512_prepare(uint32_t wt, const float *x, void *dst, int64_t n) { x86_prepare(act_type(wt), x, dst, n); }
static int avx512_supports(uint32_t wt) { return wt == QT_Q8_0_R16 || x86_supports(wt); }

static void avx512_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                        int64_t r1) {
    if (w->type == QT_Q8_0_R16) r16_rows(w, act, act_stride, n_tok, y, ldy, r0, r1);
    else x86_rows(w, act, act_stride, n_tok, y, ldy, r0, r1);
}

const kq_ops kq_avx512_ops = {
    .name = "avx512",
    .act_bytes = avx512_act_bytes,
    .prepare = avx512_prepare,
    .rows = avx512_rows,
    .supports = avx512_supports,
    .batch = &kq_avx512_batch_ops,
};
