/* kernels_x86.h — the x86 SIMD kernels, written once and compiled twice:
 * kernels_avx2.c (AVX2 + FMA + F16C) and kernels_avx512.c (AVX-512 VL + VNNI).
 * The including file defines, before including this header:
 *
 *   static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)
 *       acc + the 8 sums of 4 adjacent products u8 × s8 (lane i covers bytes 4i..4i+3)
 *       (VNNI: vpdpbusd; AVX2: maddubs + madd — u <= 127 or the products of a
 *        pair must fit in int16, which holds for every caller below)
 *   KQ_OPS_NAME, KQ_LEVEL_NAME
 *
 * Activations are quantized once per matmul: to blocks of 32 (float scale,
 * int sum, int8 values) for Q8_0 / Q4_0 weights, and to Q8_K blocks of 256 for
 * the K-quants and IQ4_XS. Float weights (F32, F16, BF16) take float
 * activations. Every kernel is checked against the scalar reference in
 * tests/c/test_kernels.c.
 */
#ifndef FLINT_KERNELS_X86_H
#define FLINT_KERNELS_X86_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "engine/kernels.h"
#include "engine/kernels_x86_bits.h"
#include "engine/qtypes.h"

/* An activation block of 32: scale, sum of the int8 values, values. */
typedef struct {
    float d;
    int32_t s;
    int8_t qs[32];
} act_q8_32;

/* Half to float with the F16C instruction (the portable fl_f16_to_f32 is far slower). */
static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* exp(x) for x ≤ 0 in the attention kernels (kernels_attn_avx2.h,
 * kernels_attn_avx512.h): x clamped at EXP_X_MIN, n = round(x·log2 e),
 * r = x − n·ln 2 (ln 2 split in two), exp(r) ≈ 1 + r + r²·P(r) with Cephes
 * expf's polynomial P (highest power first), times 2^n; about 1 ulp. */
#define EXP_X_MIN (-87.33654f)
#define EXP_LOG2E 1.44269504088896341f
#define EXP_LN2_HI 0.693359375f
#define EXP_LN2_LO (-2.12194440e-4f)
static const float exp_poly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                  4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* 32 floats → 32 int8 (round to nearest) scaled by id; returns the int sum. */
static inline int32_t quant32(const float *x, float id, int8_t *q) {
    __m256 m = _mm256_set1_ps(id);
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), m));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), m));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), m));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), m));
    int32_t sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p);
    return sum;
}

static inline float absmax(const float *x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.f);
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    return hmax_ps(m);
}

static void quant_act_32(const float *x, act_q8_32 *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = absmax(x, 32);
        y[i].d = amax / 127.f;
        y[i].s = quant32(x, amax > 0 ? 127.f / amax : 0.f, y[i].qs);
    }
}

static void quant_act_k(const float *x, blk_q8_k *y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float amax = absmax(x, QK_K), id = amax > 0 ? 127.f / amax : 0.f;
        y[i].d = amax / 127.f;
        for (int j = 0; j < QK_K / 32; j++) {
            quant32(x + 32 * j, id, y[i].qs + 32 * j);
            for (int h = 0; h < 2; h++) {
                int s = 0;
                for (int l = 0; l < 16; l++) s += y[i].qs[32 * j + 16 * h + l];
                y[i].bsums[2 * j + h] = (int16_t)s;
            }
        }
    }
}

static float dot_q8_0(int64_t n, const void *wv, const void *av) {
    const blk_q8_0 *w = wv;
    const act_q8_32 *a = av;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; i++) {
        __m256i wq = _mm256_loadu_si256((const __m256i *)w[i].qs);
        __m256i aq = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256i p = dot_u8s8(_mm256_setzero_si256(), _mm256_sign_epi8(wq, wq), _mm256_sign_epi8(aq, wq));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(h2f(w[i].d) * a[i].d), acc);
    }
    return hsum_ps(acc);
}

/* dot_q8_0 of one weight row with 4 (dot4) or 2 (dot2) activation rows
 * (stride bytes apart) into y[0], y[ldy], ...: per (row, token) the
 * operations of dot_q8_0 in the same order, so the results are bit-identical
 * (exact mode relies on it), but the weight block is loaded, made absolute
 * and its scale converted once, and the accumulation chains overlap. */
#define DOTN_STEP(a, c)                                                                                         \
    c = _mm256_fmadd_ps(                                                                                        \
        _mm256_cvtepi32_ps(dot_u8s8(_mm256_setzero_si256(), wa,                                                  \
                                    _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)a[i].qs), wq))),       \
        _mm256_set1_ps(dw * a[i].d), c)
#define DOTN_ACT(j) ((const act_q8_32 *)((const uint8_t *)av + (j) * stride))

static void dot4_q8_0(int64_t n, const void *wv, const void *av, size_t stride, float *y, int ldy) {
    const blk_q8_0 *w = wv;
    const act_q8_32 *a0 = DOTN_ACT(0), *a1 = DOTN_ACT(1), *a2 = DOTN_ACT(2), *a3 = DOTN_ACT(3);
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    for (int64_t i = 0; i < n / 32; i++) {
        __m256i wq = _mm256_loadu_si256((const __m256i *)w[i].qs), wa = _mm256_sign_epi8(wq, wq);
        float dw = h2f(w[i].d);
        DOTN_STEP(a0, c0);
        DOTN_STEP(a1, c1);
        DOTN_STEP(a2, c2);
        DOTN_STEP(a3, c3);
    }
    y[0] = hsum_ps(c0);
    y[ldy] = hsum_ps(c1);
    y[2 * ldy] = hsum_ps(c2);
    y[3 * ldy] = hsum_ps(c3);
}

static void dot2_q8_0(int64_t n, const void *wv, const void *av, size_t stride, float *y, int ldy) {
    const blk_q8_0 *w = wv;
    const act_q8_32 *a0 = DOTN_ACT(0), *a1 = DOTN_ACT(1);
    __m256 c0 = _mm256_setzero_ps(), c1 = c0;
    for (int64_t i = 0; i < n / 32; i++) {
        __m256i wq = _mm256_loadu_si256((const __m256i *)w[i].qs), wa = _mm256_sign_epi8(wq, wq);
        float dw = h2f(w[i].d);
        DOTN_STEP(a0, c0);
        DOTN_STEP(a1, c1);
    }
    y[0] = hsum_ps(c0);
    y[ldy] = hsum_ps(c1);
}
#undef DOTN_STEP
#undef DOTN_ACT

static float dot_q4_0(int64_t n, const void *wv, const void *av) {
    const blk_q4_0 *w = wv;
    const act_q8_32 *a = av;
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        float d = h2f(w[i].d) * a[i].d;
        __m256i p = dot_u8s8(_mm256_setzero_si256(), nibbles(w[i].qs), _mm256_loadu_si256((const __m256i *)a[i].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d), acc);
        off += d * (float)a[i].s;
    }
    return hsum_ps(acc) - 8.f * off;
}

/* Q4_1 / Q5_0 / Q5_1 (the types llama.cpp falls back to where a row is not a
 * multiple of 256, e.g. Qwen2.5-0.5B's 896): unsigned 4- or 5-bit values q,
 * weight = d·q − off·d (Q5_0, off 16) or d·q + m (Q4_1, Q5_1). */
static inline float dot_q45_legacy(int64_t n, const void *wv, const void *av, int five, int has_min) {
    const uint8_t *w = wv;
    const act_q8_32 *a = av;
    size_t bs = five ? (has_min ? sizeof(blk_q5_1) : sizeof(blk_q5_0)) : sizeof(blk_q4_1);
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int64_t i = 0; i < n / 32; i++, w += bs) {
        uint16_t dh, mh = 0;
        memcpy(&dh, w, 2);
        if (has_min) memcpy(&mh, w + 2, 2);
        const uint8_t *qh = w + (has_min ? 4 : 2), *qs = five ? qh + 4 : w + 4;
        __m256i q = nibbles(qs);
        if (five) q = _mm256_or_si256(q, q5_high_bits(qh));
        float d = h2f(dh) * a[i].d;
        __m256i p = dot_u8s8(_mm256_setzero_si256(), q, _mm256_loadu_si256((const __m256i *)a[i].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d), acc);
        off += (has_min ? -h2f(mh) * a[i].d : 16.f * d) * (float)a[i].s;
    }
    return hsum_ps(acc) - off;
}

static float dot_q4_1(int64_t n, const void *wv, const void *av) { return dot_q45_legacy(n, wv, av, 0, 1); }
static float dot_q5_0(int64_t n, const void *wv, const void *av) { return dot_q45_legacy(n, wv, av, 1, 0); }
static float dot_q5_1(int64_t n, const void *wv, const void *av) { return dot_q45_legacy(n, wv, av, 1, 1); }

/* Σ_j mins[j] · (bsums[2j] + bsums[2j+1]) for a K-quant block. */
static inline int32_t k4_mins_dot(const uint32_t u[4], const int16_t *bsums) {
    __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(u + 2)));
    __m128i b = _mm_loadu_si128((const __m128i *)bsums), b2 = _mm_loadu_si128((const __m128i *)(bsums + 8));
    __m128i pairs = _mm_hadd_epi16(b, b2); /* bsums[2j] + bsums[2j+1] */
    __m128i p = _mm_madd_epi16(mins, pairs);
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
    return _mm_cvtsi128_si32(p);
}

/* One Q4_K/Q5_K block: lo/hi nibbles (+ fifth bits) against a Q8_K block,
 * scaled per 32-element sub-block, accumulated into acc as floats. */
static inline __m256 k45_block(__m256 acc, const uint8_t *qs, const uint8_t *qhp, const uint8_t *scales, float d,
                               float dmin, const blk_q8_k *a, float *mins_acc) {
    uint32_t u[4];
    qt_k4_scales(scales, u);
    const uint8_t *sc = (const uint8_t *)u;
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    __m256i qh = qhp ? _mm256_loadu_si256((const __m256i *)qhp) : _mm256_setzero_si256();
    __m256i ai = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
        __m256i lo = _mm256_and_si256(b, m4), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), m4);
        if (qhp) {
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one), 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one), 4));
        }
        __m256i p0 = dot_u8s8(_mm256_setzero_si256(), lo, _mm256_loadu_si256((const __m256i *)(a->qs + 64 * j)));
        __m256i p1 = dot_u8s8(_mm256_setzero_si256(), hi, _mm256_loadu_si256((const __m256i *)(a->qs + 64 * j + 32)));
        ai = _mm256_add_epi32(ai, _mm256_mullo_epi32(p0, _mm256_set1_epi32(sc[2 * j])));
        ai = _mm256_add_epi32(ai, _mm256_mullo_epi32(p1, _mm256_set1_epi32(sc[2 * j + 1])));
    }
    *mins_acc += a->d * dmin * (float)k4_mins_dot(u, a->bsums);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(ai), _mm256_set1_ps(a->d * d), acc);
}

#ifdef __AVX512F__
/* The AVX-512 build's dot_q4_k, on 512-bit vectors: two pairs of sub-blocks
 * per step, lanes 0-7 and 8-15 holding sub-blocks 2j and 2j+2 (low nibbles)
 * or 2j+1 and 2j+3 (high nibbles), their scales spread by one permute each.
 * Token generation on Q4_K models is bound by this kernel's arithmetic, not by
 * memory, at ~25 GB/s per core (1.24x the 256-bit path from memory, 1.45x
 * from cache on this machine). */
static float dot_q4_k(int64_t n, const void *wv, const void *av) {
    const blk_q4_k *w = wv;
    const blk_q8_k *a = av;
    const __m512i m4 = _mm512_set1_epi8(0x0f), four = _mm512_set1_epi32(4);
    const __m512i idx_lo = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
    const __m512i idx_hi = _mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3);
    __m512 acc = _mm512_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint32_t u[4];
        qt_k4_scales(w[i].scales, u);
        __m512i sc = _mm512_castsi256_si512(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)u)));
        const int8_t *q8 = a[i].qs;
        __m512i ai = _mm512_setzero_si512();
        for (int jj = 0; jj < 2; jj++) {
            __m512i b = _mm512_loadu_si512((const void *)(w[i].qs + 64 * jj));
            __m512i lo = _mm512_and_si512(b, m4), hi = _mm512_and_si512(_mm512_srli_epi16(b, 4), m4);
            const int8_t *q = q8 + 128 * jj;
            __m512i al = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)q)),
                                            _mm256_loadu_si256((const __m256i *)(q + 64)), 1);
            __m512i ah = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(q + 32))),
                                            _mm256_loadu_si256((const __m256i *)(q + 96)), 1);
            __m512i pl = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, al);
            __m512i ph = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, ah);
            __m512i il = jj ? _mm512_add_epi32(idx_lo, four) : idx_lo, ih = jj ? _mm512_add_epi32(idx_hi, four) : idx_hi;
            ai = _mm512_add_epi32(ai, _mm512_mullo_epi32(pl, _mm512_permutexvar_epi32(il, sc)));
            ai = _mm512_add_epi32(ai, _mm512_mullo_epi32(ph, _mm512_permutexvar_epi32(ih, sc)));
        }
        mins += a[i].d * h2f(w[i].dmin) * (float)k4_mins_dot(u, a[i].bsums);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ai), _mm512_set1_ps(a[i].d * h2f(w[i].d)), acc);
    }
    return _mm512_reduce_add_ps(acc) - mins;
}
#else
static float dot_q4_k(int64_t n, const void *wv, const void *av) {
    const blk_q4_k *w = wv;
    const blk_q8_k *a = av;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / QK_K; i++)
        acc = k45_block(acc, w[i].qs, NULL, w[i].scales, h2f(w[i].d), h2f(w[i].dmin), &a[i], &mins);
    return hsum_ps(acc) - mins;
}
#endif


static float dot_q5_k(int64_t n, const void *wv, const void *av) {
    const blk_q5_k *w = wv;
    const blk_q8_k *a = av;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / QK_K; i++)
        acc = k45_block(acc, w[i].qs, w[i].qh, w[i].scales, h2f(w[i].d), h2f(w[i].dmin), &a[i], &mins);
    return hsum_ps(acc) - mins;
}

/* Byte-shuffle masks that spread scales 2c and 2c+1 of a Q6_K half-block over
 * 8 bytes each as [s, s, s, s, s', s', s', s'] (the dot lanes' layout). */
static inline __m256i q6_scales(__m128i sc16, int c) {
    __m128i idx = _mm_setr_epi8((char)(2 * c), (char)(2 * c), (char)(2 * c), (char)(2 * c), (char)(2 * c + 1),
                                (char)(2 * c + 1), (char)(2 * c + 1), (char)(2 * c + 1), 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm256_cvtepi8_epi32(_mm_shuffle_epi8(sc16, idx));
}

#ifdef __AVX512F__
/* The AVX-512 build's dot_q6_k, on 512-bit vectors: per half-block the 64
 * bytes of low bits give values 0-63 (low nibbles) and 64-127 (high nibbles)
 * in one register each, so each pairs with 64 contiguous activation bytes;
 * the 16-value scales are spread over the lanes by permutes. */
static float dot_q6_k(int64_t n, const void *wv, const void *av) {
    const blk_q6_k *w = wv;
    const blk_q8_k *a = av;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(3);
    /* qh of the half-block in both 256-bit halves, shifted by 0 and by 2 */
    const __m512i qh_shift = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    __m512 acc = _mm512_setzero_ps();
    float offs = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m128i sc16 = _mm_loadu_si128((const __m128i *)w[i].scales);
        __m512i sc = _mm512_cvtepi8_epi32(sc16);
        __m512i ai = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const int8_t *aq = a[i].qs + 128 * h;
            __m512i l = _mm512_loadu_si512((const void *)(w[i].ql + 64 * h));
            __m512i qh = _mm512_srlv_epi64(
                _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w[i].qh + 32 * h))), qh_shift);
            __m512i qa = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_slli_epi16(_mm512_and_si512(qh, m2), 4));
            __m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                         _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 4), m2), 4));
            __m512i pa = _mm512_dpbusd_epi32(_mm512_setzero_si512(), qa, _mm512_loadu_si512((const void *)aq));
            __m512i pb = _mm512_dpbusd_epi32(_mm512_setzero_si512(), qb, _mm512_loadu_si512((const void *)(aq + 64)));
            __m512i ia = _mm512_add_epi32(idx, _mm512_set1_epi32(8 * h)), ib = _mm512_add_epi32(ia, _mm512_set1_epi32(4));
            ai = _mm512_add_epi32(ai, _mm512_mullo_epi32(pa, _mm512_permutexvar_epi32(ia, sc)));
            ai = _mm512_add_epi32(ai, _mm512_mullo_epi32(pb, _mm512_permutexvar_epi32(ib, sc)));
        }
        /* the −32 offset: Σ_j scale_j · bsum_j over the 16 sub-blocks */
        __m512i o = _mm512_mullo_epi32(sc, _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)a[i].bsums)));
        float d = a[i].d * h2f(w[i].d);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ai), _mm512_set1_ps(d), acc);
        offs += d * 32.f * (float)_mm512_reduce_add_epi32(o);
    }
    return _mm512_reduce_add_ps(acc) - offs;
}
#else
static float dot_q6_k(int64_t n, const void *wv, const void *av) {
    const blk_q6_k *w = wv;
    const blk_q8_k *a = av;
    __m256 acc = _mm256_setzero_ps();
    float offs = 0;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m128i sc16 = _mm_loadu_si128((const __m128i *)w[i].scales);
        __m256i ai = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qhp = w[i].qh + 32 * h;
            const int8_t *aq = a[i].qs + 128 * h;
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)qhp);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i p = dot_u8s8(_mm256_setzero_si256(), q[k], _mm256_loadu_si256((const __m256i *)(aq + 32 * k)));
                ai = _mm256_add_epi32(ai, _mm256_mullo_epi32(p, q6_scales(sc16, 4 * h + k)));
            }
        }
        /* the −32 offset: Σ_j scale_j · bsum_j over the 16 sub-blocks */
        __m128i b0 = _mm_loadu_si128((const __m128i *)a[i].bsums), b1 = _mm_loadu_si128((const __m128i *)(a[i].bsums + 8));
        __m128i o = _mm_add_epi32(_mm_madd_epi16(_mm_cvtepi8_epi16(sc16), b0),
                                  _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_srli_si128(sc16, 8)), b1));
        o = _mm_add_epi32(o, _mm_shuffle_epi32(o, 0x4e));
        o = _mm_add_epi32(o, _mm_shuffle_epi32(o, 0xb1));
        float d = a[i].d * h2f(w[i].d);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ai), _mm256_set1_ps(d), acc);
        offs += d * 32.f * (float)_mm_cvtsi128_si32(o);
    }
    return hsum_ps(acc) - offs;
}
#endif

static float dot_iq4_xs(int64_t n, const void *wv, const void *av) {
    const blk_iq4_xs *w = wv;
    const blk_q8_k *a = av;
    const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qt_iq4nl_values));
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i acc = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((w[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((w[i].scales_h >> 2 * ib) & 3) << 4);
            __m256i wq = _mm256_shuffle_epi8(table, nibbles(w[i].qs + 16 * ib));
            __m256i aq = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * ib));
            __m256i p = dot_u8s8(_mm256_setzero_si256(), _mm256_sign_epi8(wq, wq), _mm256_sign_epi8(aq, wq));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p, _mm256_set1_epi32(ls - 32)));
        }
        sum += a[i].d * h2f(w[i].d) * (float)hsum_epi32(acc);
    }
    return sum;
}

static float dot_f32(int64_t n, const void *wv, const void *av) {
    const float *w = wv, *a = av;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(a + i + 8), s1);
    }
    float s = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += w[i] * a[i];
    return s;
}

static float dot_f16(int64_t n, const void *wv, const void *av) {
    const uint16_t *w = wv;
    const float *a = av;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i))), _mm256_loadu_ps(a + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 8))), _mm256_loadu_ps(a + i + 8), s1);
    }
    float s = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += h2f(w[i]) * a[i];
    return s;
}

static inline __m256 bf16x8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

static float dot_bf16(int64_t n, const void *wv, const void *av) {
    const uint16_t *w = wv;
    const float *a = av;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(bf16x8(w + i), _mm256_loadu_ps(a + i), s0);
        s1 = _mm256_fmadd_ps(bf16x8(w + i + 8), _mm256_loadu_ps(a + i + 8), s1);
    }
    float s = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += fl_bf16_to_f32(w[i]) * a[i];
    return s;
}

/* Attention over the half-float KV cache: a · b and y += a·x with b, x halves. */
static inline __attribute__((always_inline)) float kv_dot(int64_t n, const float *a, const uint16_t *b) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i))), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i + 8))), s1);
    }
    float s = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * h2f(b[i]);
    return s;
}

static inline __attribute__((always_inline)) void kv_axpy(int64_t n, float a, const uint16_t *x, float *y) {
    __m256 av = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))),
                                                _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * h2f(x[i]);
}

#define ATTN_NAME vattn
#define DOT kv_dot
#define AXPY kv_axpy
#include "engine/kernels_attn.h"

typedef float (*dot_fn)(int64_t n, const void *w, const void *a);

enum { ACT_F32, ACT_Q8_32, ACT_Q8_K };

/* Per weight type: its dot kernel and activation format (NULL: not here). */
static dot_fn x86_dot(uint32_t wt, int *act) {
    switch (wt) {
    case QT_F32: *act = ACT_F32; return dot_f32;
    case QT_F16: *act = ACT_F32; return dot_f16;
    case QT_BF16: *act = ACT_F32; return dot_bf16;
    case QT_Q8_0: *act = ACT_Q8_32; return dot_q8_0;
    case QT_Q4_0: *act = ACT_Q8_32; return dot_q4_0;
    case QT_Q4_1: *act = ACT_Q8_32; return dot_q4_1;
    case QT_Q5_0: *act = ACT_Q8_32; return dot_q5_0;
    case QT_Q5_1: *act = ACT_Q8_32; return dot_q5_1;
    case QT_Q4_K: *act = ACT_Q8_K; return dot_q4_k;
    case QT_Q5_K: *act = ACT_Q8_K; return dot_q5_k;
    case QT_Q6_K: *act = ACT_Q8_K; return dot_q6_k;
    case QT_IQ4_XS: *act = ACT_Q8_K; return dot_iq4_xs;
    }
    return NULL;
}

static int x86_supports(uint32_t wt) {
    int act = ACT_F32;
    return x86_dot(wt, &act) != NULL;
}

static size_t x86_act_bytes(uint32_t wt, int64_t n) {
    int act = ACT_F32;
    x86_dot(wt, &act);
    if (act == ACT_Q8_32) return (size_t)(n / 32) * sizeof(act_q8_32);
    if (act == ACT_Q8_K) return (size_t)(n / QK_K) * sizeof(blk_q8_k);
    return (size_t)n * sizeof(float);
}

static void x86_prepare(uint32_t wt, const float *x, void *dst, int64_t n) {
    int act = ACT_F32;
    x86_dot(wt, &act);
    if (act == ACT_Q8_32) quant_act_32(x, dst, n);
    else if (act == ACT_Q8_K) quant_act_k(x, dst, n);
    else memcpy(dst, x, (size_t)n * sizeof(float));
}

/* Rows in tiles of 16 so a tile's weights stay in cache while every token
 * of the batch passes over them. */
static void x86_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                     int64_t r1) {
    int a;
    dot_fn dot = x86_dot(w->type, &a);
    for (int64_t rt = r0; rt < r1; rt += 16) {
        int64_t re = rt + 16 < r1 ? rt + 16 : r1;
        int t = 0;
        for (int step = 4; w->type == QT_Q8_0 && step >= 2; step /= 2) /* same results as the loop below, faster */
            for (; t + step <= n_tok; t += step)
                for (int64_t r = rt; r < re; r++)
                    (step == 4 ? dot4_q8_0 : dot2_q8_0)(w->n_in, w->data + (size_t)r * w->row_bytes,
                                                        (const uint8_t *)act + (size_t)t * act_stride, act_stride,
                                                        y + (size_t)t * ldy + r, ldy);
        for (; t < n_tok; t++) {
            const void *at = (const uint8_t *)act + (size_t)t * act_stride;
            float *yt = y + (size_t)t * ldy;
            for (int64_t r = rt; r < re; r++) yt[r] = dot(w->n_in, w->data + (size_t)r * w->row_bytes, at);
        }
    }
}

#endif
