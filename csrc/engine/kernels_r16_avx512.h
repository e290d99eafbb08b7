/* kernels_r16_avx512.h — single-token products over QT_Q8_0_R16 weights
 * (repack.h), included by kernels_avx512.c after kernels_x86.h.
 *
 * The 16 rows of a group sit in the 16 lanes of a 512-bit register. Per
 * block of 32 and token, each lane (row) gets
 *     S = Σ u·q − 128·Σq          (vpdpbusd of the rows' unsigned bytes
 *                                  against the token's 4-byte groups, exact)
 *     f = fma((float)S, d_a · d_w, f)
 * with blocks in order from f = 0. */

/* The token's activation bytes 4g..4g+3 of block a, in every lane. */
#define R16_Q(a, g) _mm512_set1_epi32(load4((a)->qs + 4 * (g)))

/* Bytes ahead of the block being read that generation asks for: one core
 * streams a large model's weights from memory ~40% faster on 2 threads
 * (qwen3-30b-a3b 12L Q8_0: 31-40 -> 42-57 tok/s in alternating runs) than
 * with the hardware prefetcher alone; past a matrix's end it is harmless. */
#define R16_PREFETCH 4096

/* One group's 16 results for one token of nb blocks. */
static inline __m512 r16_group(const uint8_t *G, int64_t nb, const act_q8_32 *a) {
    const uint16_t *D = (const uint16_t *)G;
    const uint8_t *U = G + (size_t)nb * R16_ROWS * 2;
    __m512 f = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++, U += 8 * 64) {
        for (int k = 0; k < 8; k++) _mm_prefetch((const char *)U + R16_PREFETCH + 64 * k, _MM_HINT_T0);
        __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(U), R16_Q(&a[b], 0));
        __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(U + 64), R16_Q(&a[b], 1));
        s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512(U + 128), R16_Q(&a[b], 2));
        s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512(U + 192), R16_Q(&a[b], 3));
        __m512i h0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(U + 256), R16_Q(&a[b], 4));
        __m512i h1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(U + 320), R16_Q(&a[b], 5));
        h0 = _mm512_dpbusd_epi32(h0, _mm512_loadu_si512(U + 384), R16_Q(&a[b], 6));
        h1 = _mm512_dpbusd_epi32(h1, _mm512_loadu_si512(U + 448), R16_Q(&a[b], 7));
        __m512i s = _mm512_sub_epi32(_mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(h0, h1)),
                                     _mm512_set1_epi32(128 * a[b].s));
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(D + b * R16_ROWS)));
        f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(_mm512_set1_ps(a[b].d), dw), f);
    }
    return f;
}

/* The same for NT ≤ R16_TOK tokens at once: each block's 8 weight vectors are
 * loaded once for all of them (the kernel is bound by loads). The integer
 * sums are grouped differently, which is exact, and the float operations are
 * r16_group's, so every token's result is bit-identical to r16_group's. */
#define R16_TOK 4
static inline __attribute__((always_inline)) void r16_group_n(const int NT, const uint8_t *G, int64_t nb,
                                                              const act_q8_32 *const a[R16_TOK], __m512 f[R16_TOK]) {
    const uint16_t *D = (const uint16_t *)G;
    const uint8_t *U = G + (size_t)nb * R16_ROWS * 2;
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++) f[j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++, U += 8 * 64) {
        __m512i w[8];
#pragma GCC unroll 8
        for (int g = 0; g < 8; g++) w[g] = _mm512_loadu_si512(U + 64 * g);
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(D + b * R16_ROWS)));
#pragma GCC unroll 4
        for (int j = 0; j < NT; j++) {
            const act_q8_32 *ab = &a[j][b];
            __m512i l = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], R16_Q(ab, 0));
            __m512i h = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[4], R16_Q(ab, 4));
#pragma GCC unroll 3
            for (int g = 1; g < 4; g++) {
                l = _mm512_dpbusd_epi32(l, w[g], R16_Q(ab, g));
                h = _mm512_dpbusd_epi32(h, w[g + 4], R16_Q(ab, g + 4));
            }
            __m512i sum = _mm512_sub_epi32(_mm512_add_epi32(l, h), _mm512_set1_epi32(128 * ab->s));
            f[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(_mm512_set1_ps(ab->d), dw), f[j]);
        }
    }
}
#undef R16_Q

/* kq_ops.rows for QT_Q8_0_R16: r0 and r1 are multiples of 16 (the pool
 * splits rows in groups of KQ_ROW_GROUP); every token passes over a group
 * while its weights are in L1, R16_TOK at a time, a tail of 2 or 3 in one
 * pass (a short verification), a single token alone. */
static void r16_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                     int64_t r1) {
    int64_t nb = w->n_in / 32;
#define R16_ACT(t) ((const act_q8_32 *)((const uint8_t *)act + (size_t)(t) * act_stride))
    for (int64_t r = r0; r < r1; r += R16_ROWS) {
        const uint8_t *G = w->data + (size_t)r * w->row_bytes;
        int t = 0;
        for (; t + R16_TOK <= n_tok; t += R16_TOK) {
            const act_q8_32 *a[R16_TOK];
            __m512 f[R16_TOK];
            for (int j = 0; j < R16_TOK; j++) a[j] = R16_ACT(t + j);
            r16_group_n(R16_TOK, G, nb, a, f);
            for (int j = 0; j < R16_TOK; j++) _mm512_storeu_ps(y + (size_t)(t + j) * ldy + r, f[j]);
        }
        if (n_tok - t == 3) {
            const act_q8_32 *a[R16_TOK] = {R16_ACT(t), R16_ACT(t + 1), R16_ACT(t + 2)};
            __m512 f[R16_TOK];
            r16_group_n(3, G, nb, a, f);
            for (int j = 0; j < 3; j++) _mm512_storeu_ps(y + (size_t)(t + j) * ldy + r, f[j]);
            t += 3;
        } else if (n_tok - t == 2) {
            const act_q8_32 *a[R16_TOK] = {R16_ACT(t), R16_ACT(t + 1)};
            __m512 f[R16_TOK];
            r16_group_n(2, G, nb, a, f);
            for (int j = 0; j < 2; j++) _mm512_storeu_ps(y + (size_t)(t + j) * ldy + r, f[j]);
            t += 2;
        }
        for (; t < n_tok; t++) _mm512_storeu_ps(y + (size_t)t * ldy + r, r16_group(G, nb, R16_ACT(t)));
    }
#undef R16_ACT
}
