/* kernels_x86_bits.h — bit unpacking shared by the per-token x86 kernels
 * (kernels_x86.h) and the AVX-512 batch kernels (kernels_batch_avx512.c). */
#ifndef FLINT_KERNELS_X86_BITS_H
#define FLINT_KERNELS_X86_BITS_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* 16 packed bytes → 32 nibbles: low nibbles first, then high nibbles. */
static inline __m256i nibbles(const uint8_t *p) {
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    __m128i m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

/* The 32 bits of a Q5_0/Q5_1 block's qh as bytes: 0x10 where bit j is set
 * (element j's fifth bit), else 0. */
static inline __m256i q5_high_bits(const uint8_t *qh) {
    uint32_t x;
    memcpy(&x, qh, 4);
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3,
                                          3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf), bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(v, bit), _mm256_set1_epi8(0x10));
}

/* The 4 bytes at p as one 32-bit value (broadcast into vector lanes). */
static inline int32_t load4(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

#endif
