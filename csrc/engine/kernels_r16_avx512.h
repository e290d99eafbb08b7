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
#define R16_Q(a, g) _mm512_set1_epi32(load4_i8((a)->qs + 4 * (g)))

static inline int32_t load4_i8(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* One group's 16 results for one token of nb blocks. */
static inline __m512 r16_group(const uint8_t *G, int64_t nb, const act_q8_32 *a) {
    const uint16_t *D = (const uint16_t *)G;
    const uint8_t *U = G + (size_t)nb * R16_ROWS * 2;
    __m512 f = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++, U += 8 * 64) {
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
#undef R16_Q

/* kq_ops.rows for QT_Q8_0_R16: r0 and r1 are multiples of 16 (the pool
 * splits rows in groups of KQ_ROW_GROUP); every token passes over a group
 * while its weights are in L1. */
static void r16_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                     int64_t r1) {
    int64_t nb = w->n_in / 32;
    for (int64_t r = r0; r < r1; r += R16_ROWS) {
        const uint8_t *G = w->data + (size_t)r * w->row_bytes;
        for (int t = 0; t < n_tok; t++)
            _mm512_storeu_ps(y + (size_t)t * ldy + r,
                             r16_group(G, nb, (const act_q8_32 *)((const uint8_t *)act + (size_t)t * act_stride)));
    }
}
