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

const kq_vec_ops kq_avx2_vec = {vattn_avx2};

const kq_ops kq_avx2_ops = {
    .name = "avx2",
    .act_bytes = x86_act_bytes,
    .prepare = x86_prepare,
    .rows = x86_rows,
    .supports = x86_supports,
};
