/* kernels_avx512.c — the x86 kernels (kernels_x86.h) with AVX-512 VNNI's
 * vpdpbusd on 256-bit vectors (AVX512VL). Only called when cpu.c found
 * AVX-512 F/BW/VL/VNNI. */
#include <immintrin.h>

static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }

#include "engine/kernels_x86.h"
#include "engine/kernels_attn_avx512.h"

extern const kq_ops kq_avx512_batch_ops;

const kq_vec_ops kq_avx512_vec = {vattn_avx512};

const kq_ops kq_avx512_ops = {
    .name = "avx512",
    .act_bytes = x86_act_bytes,
    .prepare = x86_prepare,
    .rows = x86_rows,
    .supports = x86_supports,
    .batch = &kq_avx512_batch_ops,
};
