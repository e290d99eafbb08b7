/* kernels_avx2.c — the x86 kernels (kernels_x86.h) for AVX2 + FMA + F16C.
 * Only called when cpu.c found AVX2 and FMA. The int8 dot is maddubs + madd;
 * every caller keeps |u8 × s8| pair sums within int16. */
#include <immintrin.h>

static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
    __m256i p16 = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

#include "engine/kernels_x86.h"
#include "engine/kernels_attn_avx2.h"

/* silu(x) = x · sigmoid(x), sigmoid from e = exp(−|x|) (an argument the
 * attention kernel's exp takes): 1 / (1 + e) for x ≥ 0, e / (1 + e) below. */
static void silu_mul_avx2(int64_t n, float *a, const float *b) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.f), sign = _mm256_set1_ps(-0.f);
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(a + i);
        __m256 e = exp256_nonpos(_mm256_or_ps(x, sign));                 /* −|x| */
        __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
        __m256 sig = _mm256_blendv_ps(inv, _mm256_mul_ps(e, inv), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
        _mm256_storeu_ps(a + i, _mm256_mul_ps(_mm256_mul_ps(x, sig), _mm256_loadu_ps(b + i)));
    }
    for (; i < n; i++) a[i] = a[i] / (1.f + expf(-a[i])) * b[i];
}

static void to_f16_avx2(int64_t n, const float *x, uint16_t *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) y[i] = fl_f32_to_f16(x[i]);
}

const kq_vec_ops kq_avx2_vec = {vattn_avx2, silu_mul_avx2, to_f16_avx2};

const kq_ops kq_avx2_ops = {
    .name = "avx2",
    .act_bytes = x86_act_bytes,
    .prepare = x86_prepare,
    .rows = x86_rows,
    .supports = x86_supports,
};
