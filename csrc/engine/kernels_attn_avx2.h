/* kernels_attn_avx2.h — kq_vec_ops.attn with 256-bit vectors (AVX2 + FMA +
 * F16C) for head sizes that are a multiple of 8 up to ATTN2_HD_MAX (others
 * use the generic vattn). Included by kernels_avx2.c after kernels_x86.h.
 *
 * As in kernels_attn_avx512.h, all query rows of the block (the group's
 * heads × the block's tokens) share each K and V row. With only 16 registers
 * a block of more than ATTN2_DIRECT rows (a prompt chunk, a verification
 * batch) converts the half-float rows once into a small float buffer on the
 * stack that every query row then reads; a few rows (a single-token step)
 * convert them in the loop instead, two rows sharing each conversion. Three
 * passes:
 *  1. scores: four positions at a time (ATTN2_KB), two query rows at a time,
 *     each row's four dot products reduced together (hadd tree);
 *  2. softmax per row over its causal length with a vectorised exp (the
 *     Cephes expf polynomial, about 1 ulp);
 *  3. out: from the buffer, ATTN2_VBUF / hd V rows at a time; per row and
 *     64-column chunk the row's partial output (kept in out) is loaded into
 *     registers, the block's positions are added one by one and it is stored
 *     back, scaled by 1 / sum after the row's last position. Direct (head
 *     sizes that are multiples of 32): the rows' whole sums in registers,
 *     32 columns of two rows at a time (a last odd row: 64 columns).
 *
 * Batch == token by token, bit for bit: a (row, position) score is the same
 * FMA chain and reduction wherever the position falls and wherever K comes
 * from (a tail block is padded with zero rows, not computed differently),
 * the softmax of a row depends only on its length, and a row's output
 * column is one FMA chain over the row's positions in order from zero,
 * whatever the blocks or the path (a store and reload in between is exact). */

#define ATTN2_KB 4      /* positions per K block */
#define ATTN2_HD_MAX 512
#define ATTN2_VBUF 4096 /* floats of converted V rows per block (16 KiB) */
/* At most this many rows skip the buffer: on the AMD Zen 5 this was measured
 * on, converting in the loop was faster up to 8 rows (head size 64 or 128)
 * and the buffer from 16. */
#define ATTN2_DIRECT 8

/* exp(x) for x ≤ 0 (a score minus its row's maximum); ≈ 0 below −87. */
static inline __m256 exp256_nonpos(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(EXP_X_MIN));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(exp_poly[0]);
    for (int i = 1; i < 6; i++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(exp_poly[i]));
    __m256 y = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.f)));
    /* y · 2^n: n ≥ −126 after the clamp, added to the exponent field */
    __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(y), e));
}

/* The four sums of a0..a3's lanes, in order (each ((x0+x1)+(x2+x3)) + ((x4+x5)+(x6+x7))). */
static inline __m128 hsum4_256(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/* Lanes i < n all ones (n in 0..8). */
static inline __m256i attn2_mask(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

static inline __attribute__((always_inline)) __m256 attn2_h8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* dst[j·HD + i] = src[j·stride + i] as floats for j < n, zero rows for n ≤ j < n_pad. */
static inline __attribute__((always_inline)) void attn2_rows_f32(const int HD, int n, int n_pad, const uint16_t *src,
                                                                 size_t stride, float *dst) {
    for (int j = 0; j < n; j++) {
#pragma GCC unroll 16
        for (int i = 0; i < HD; i += 8) _mm256_store_ps(dst + (size_t)j * HD + i, attn2_h8(src + (size_t)j * stride + i));
    }
    for (int j = n; j < n_pad; j++)
        for (int i = 0; i < HD; i += 8) _mm256_store_ps(dst + (size_t)j * HD + i, _mm256_setzero_ps());
}

/* Scores of rows q0 and q1 (q1 may be NULL) against the K rows of ATTN2_KB
 * positions: converted ones at kb, HD floats apart (HALF = 0), or the
 * cache's at kh, kv_stride apart (HALF = 1). s0 / s1 = the four dot
 * products · scale: each position has its own FMA chain over the head in
 * order, then the hsum4_256 reduction, whatever the source. */
static inline __attribute__((always_inline)) void attn2_score_rows(const int HD, const int HALF, const float *q0,
                                                                   const float *q1, const float *kb,
                                                                   const uint16_t *kh, size_t kv_stride,
                                                                   __m256 scale, float *s0, float *s1) {
#define ATTN2_K(j, i) (HALF ? attn2_h8(kh + (j) * kv_stride + (i)) : _mm256_load_ps(kb + (j) * HD + (i)))
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    if (q1) {
        __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
#pragma GCC unroll 16
        for (int i = 0; i < HD; i += 8) {
            __m256 x0 = _mm256_loadu_ps(q0 + i), x1 = _mm256_loadu_ps(q1 + i), k;
            k = ATTN2_K(0, i);
            a0 = _mm256_fmadd_ps(x0, k, a0), b0 = _mm256_fmadd_ps(x1, k, b0);
            k = ATTN2_K(1, i);
            a1 = _mm256_fmadd_ps(x0, k, a1), b1 = _mm256_fmadd_ps(x1, k, b1);
            k = ATTN2_K(2, i);
            a2 = _mm256_fmadd_ps(x0, k, a2), b2 = _mm256_fmadd_ps(x1, k, b2);
            k = ATTN2_K(3, i);
            a3 = _mm256_fmadd_ps(x0, k, a3), b3 = _mm256_fmadd_ps(x1, k, b3);
        }
        _mm_storeu_ps(s1, _mm_mul_ps(hsum4_256(b0, b1, b2, b3), _mm256_castps256_ps128(scale)));
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < HD; i += 8) {
            __m256 x0 = _mm256_loadu_ps(q0 + i);
            a0 = _mm256_fmadd_ps(x0, ATTN2_K(0, i), a0);
            a1 = _mm256_fmadd_ps(x0, ATTN2_K(1, i), a1);
            a2 = _mm256_fmadd_ps(x0, ATTN2_K(2, i), a2);
            a3 = _mm256_fmadd_ps(x0, ATTN2_K(3, i), a3);
        }
    }
#undef ATTN2_K
    _mm_storeu_ps(s0, _mm_mul_ps(hsum4_256(a0, a1, a2, a3), _mm256_castps256_ps128(scale)));
}

/* One row's columns [0, 8·NV) of out, o: o (zero if `first`) + Σ_{p < np}
 * w[p] · V row p, position by position, then · inv if `last`. The V rows are
 * converted ones at vb, HD floats apart (HALF = 0), or the cache's at vh,
 * kv_stride apart (HALF = 1). */
static inline __attribute__((always_inline)) void attn2_out_chunk(const int NV, const int HD, const int HALF, float *o,
                                                                  const float *vb, const uint16_t *vh,
                                                                  size_t kv_stride, int np, const float *w,
                                                                  int first, int last, float inv) {
    __m256 acc[8];
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[v] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(o + 8 * v);
    for (int p = 0; p < np; p++) {
        __m256 wv = _mm256_broadcast_ss(w + p);
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[v] = _mm256_fmadd_ps(wv, HALF ? attn2_h8(vh + (size_t)p * kv_stride + 8 * v)
                                              : _mm256_load_ps(vb + (size_t)p * HD + 8 * v), acc[v]);
    }
    if (last) {
        __m256 s = _mm256_set1_ps(inv);
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) acc[v] = _mm256_mul_ps(acc[v], s);
    }
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(o + 8 * v, acc[v]);
}

/* attn2_out_chunk over a whole row: 64-column chunks, then the rest. */
static inline __attribute__((always_inline)) void attn2_out_row(const int HD, const int HALF, float *o,
                                                                const float *vb, const uint16_t *vh, size_t kv_stride,
                                                                int np, const float *w, int first, int last,
                                                                float inv) {
    int c = 0;
    for (; c + 64 <= HD; c += 64) attn2_out_chunk(8, HD, HALF, o + c, vb + c, vh + c, kv_stride, np, w, first, last, inv);
    switch ((HD - c) / 8) {
#define ATTN2_TAIL(nv)                                                                                                 \
    case nv: attn2_out_chunk(nv, HD, HALF, o + c, vb + c, vh + c, kv_stride, np, w, first, last, inv); break;
        ATTN2_TAIL(1) ATTN2_TAIL(2) ATTN2_TAIL(3) ATTN2_TAIL(4) ATTN2_TAIL(5) ATTN2_TAIL(6) ATTN2_TAIL(7)
#undef ATTN2_TAIL
    default: break;
    }
}

/* Direct out of rows a and b, la ≤ lb positions, from the cache's V rows
 * (32 columns of both rows at a time, each V vector converted once for the
 * two): the same chains as attn2_out_chunk from zero over all positions. */
static inline __attribute__((always_inline)) void attn2_out_pair(const int HD, float *oa, float *ob, const float *wa,
                                                                 const float *wb, int la, int lb, float ia, float ib,
                                                                 const uint16_t *V, size_t kv_stride) {
    for (int c = 0; c < HD; c += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        const uint16_t *vp = V + c;
        int p = 0;
        for (; p < la; p++, vp += kv_stride) {
            __m256 x = _mm256_broadcast_ss(wa + p), y = _mm256_broadcast_ss(wb + p), v;
            v = attn2_h8(vp);
            a0 = _mm256_fmadd_ps(x, v, a0), b0 = _mm256_fmadd_ps(y, v, b0);
            v = attn2_h8(vp + 8);
            a1 = _mm256_fmadd_ps(x, v, a1), b1 = _mm256_fmadd_ps(y, v, b1);
            v = attn2_h8(vp + 16);
            a2 = _mm256_fmadd_ps(x, v, a2), b2 = _mm256_fmadd_ps(y, v, b2);
            v = attn2_h8(vp + 24);
            a3 = _mm256_fmadd_ps(x, v, a3), b3 = _mm256_fmadd_ps(y, v, b3);
        }
        for (; p < lb; p++, vp += kv_stride) {
            __m256 y = _mm256_broadcast_ss(wb + p);
            b0 = _mm256_fmadd_ps(y, attn2_h8(vp), b0);
            b1 = _mm256_fmadd_ps(y, attn2_h8(vp + 8), b1);
            b2 = _mm256_fmadd_ps(y, attn2_h8(vp + 16), b2);
            b3 = _mm256_fmadd_ps(y, attn2_h8(vp + 24), b3);
        }
        __m256 s = _mm256_set1_ps(ia), t = _mm256_set1_ps(ib);
        _mm256_storeu_ps(oa + c, _mm256_mul_ps(a0, s));
        _mm256_storeu_ps(oa + c + 8, _mm256_mul_ps(a1, s));
        _mm256_storeu_ps(oa + c + 16, _mm256_mul_ps(a2, s));
        _mm256_storeu_ps(oa + c + 24, _mm256_mul_ps(a3, s));
        _mm256_storeu_ps(ob + c, _mm256_mul_ps(b0, t));
        _mm256_storeu_ps(ob + c + 8, _mm256_mul_ps(b1, t));
        _mm256_storeu_ps(ob + c + 16, _mm256_mul_ps(b2, t));
        _mm256_storeu_ps(ob + c + 24, _mm256_mul_ps(b3, t));
    }
}

/* The block kernel for head size HD (a multiple of 8, ≤ ATTN2_HD_MAX; a
 * compile-time constant for the common sizes, else the run-time hd). */
static inline __attribute__((always_inline)) void attn2_block(const int HD, int group, int n_tok, int n_kv0,
                                                              const float *q, size_t ldq, const uint16_t *K,
                                                              const uint16_t *V, size_t kv_stride, float scale,
                                                              float *scores, float *out) {
    const int R = group * n_tok, n_max = n_kv0 + n_tok - 1, direct = R <= ATTN2_DIRECT && HD % 32 == 0;
    _Alignas(32) float buf[ATTN2_VBUF > ATTN2_KB * ATTN2_HD_MAX ? ATTN2_VBUF : ATTN2_KB * ATTN2_HD_MAX];
    const float *qr[KQ_ATTN_ROWS_MAX];
    float *orow[KQ_ATTN_ROWS_MAX], inv[KQ_ATTN_ROWS_MAX];
    int len[KQ_ATTN_ROWS_MAX];
    for (int r = 0; r < R; r++) {
        size_t off = (size_t)(r / group) * ldq + (size_t)(r % group) * HD;
        qr[r] = q + off, orow[r] = out + off, len[r] = n_kv0 + r / group;
    }
    /* 1. scores[r][p] = scale · q_r · K[p] for every row and p < n_max; the
     *    last block is padded with zero K rows and only its real columns kept */
    __m256 sv = _mm256_set1_ps(scale);
    for (int p = 0; p < n_max; p += ATTN2_KB) {
        int nb = n_max - p < ATTN2_KB ? n_max - p : ATTN2_KB, full = nb == ATTN2_KB, r = 0;
        const uint16_t *kp = K + (size_t)p * kv_stride;
        if (full && direct) {
            for (; r + 2 <= R; r += 2)
                attn2_score_rows(HD, 1, qr[r], qr[r + 1], NULL, kp, kv_stride, sv, scores + (size_t)r * n_max + p,
                                 scores + (size_t)(r + 1) * n_max + p);
            if (r < R) attn2_score_rows(HD, 1, qr[r], NULL, NULL, kp, kv_stride, sv, scores + (size_t)r * n_max + p, NULL);
            continue;
        }
        attn2_rows_f32(HD, nb, ATTN2_KB, kp, kv_stride, buf);
        if (full) {
            for (; r + 2 <= R; r += 2)
                attn2_score_rows(HD, 0, qr[r], qr[r + 1], buf, NULL, 0, sv, scores + (size_t)r * n_max + p,
                                 scores + (size_t)(r + 1) * n_max + p);
            if (r < R) attn2_score_rows(HD, 0, qr[r], NULL, buf, NULL, 0, sv, scores + (size_t)r * n_max + p, NULL);
        } else
            for (; r < R; r++) {
                float s[ATTN2_KB];
                attn2_score_rows(HD, 0, qr[r], NULL, buf, NULL, 0, sv, s, NULL);
                memcpy(scores + (size_t)r * n_max + p, s, sizeof(float) * nb);
            }
    }
    /* 2. softmax numerators of each row over its causal length, and 1 / sum */
    for (int r = 0; r < R; r++) {
        float *sc = scores + (size_t)r * n_max;
        int n = len[r], i = 0, rem = n % 8;
        __m256 mv = _mm256_set1_ps(-INFINITY);
        for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(sc + i));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        float mx = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
        for (; i < n; i++) mx = sc[i] > mx ? sc[i] : mx;
        __m256 mxv = _mm256_set1_ps(mx), sum = _mm256_setzero_ps();
        for (i = 0; i + 8 <= n; i += 8) {
            __m256 e = exp256_nonpos(_mm256_sub_ps(_mm256_loadu_ps(sc + i), mxv));
            _mm256_storeu_ps(sc + i, e);
            sum = _mm256_add_ps(sum, e);
        }
        if (rem) {
            __m256i m = attn2_mask(rem);
            __m256 e = exp256_nonpos(_mm256_sub_ps(_mm256_maskload_ps(sc + i, m), mxv));
            e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
            _mm256_maskstore_ps(sc + i, m, e);
            sum = _mm256_add_ps(sum, e);
        }
        inv[r] = 1.f / hsum_ps(sum);
    }
    /* 3. out_r = inv_r · Σ_p w_r[p] V[p] */
    if (direct) {
        int r = 0;
        for (; r + 2 <= R; r += 2)
            attn2_out_pair(HD, orow[r], orow[r + 1], scores + (size_t)r * n_max, scores + (size_t)(r + 1) * n_max,
                           len[r], len[r + 1], inv[r], inv[r + 1], V, kv_stride);
        if (r < R) attn2_out_row(HD, 1, orow[r], buf, V, kv_stride, len[r], scores + (size_t)r * n_max, 1, 1, inv[r]);
        return;
    }
    const int PB = ATTN2_VBUF / HD;
    for (int p0 = 0; p0 < n_max; p0 += PB) {
        int nb = n_max - p0 < PB ? n_max - p0 : PB;
        attn2_rows_f32(HD, nb, nb, V + (size_t)p0 * kv_stride, kv_stride, buf);
        for (int r = 0; r < R; r++) {
            if (len[r] <= p0) continue;
            int np = len[r] - p0 < nb ? len[r] - p0 : nb;
            attn2_out_row(HD, 0, orow[r], buf, V, 0, np, scores + (size_t)r * n_max + p0, p0 == 0,
                          p0 + np == len[r], inv[r]);
        }
    }
}

/* kq_vec_ops.attn for AVX2. */
static void vattn_avx2(int group, int n_tok, int hd, int n_kv0, const float *q, size_t ldq, const uint16_t *K,
                       const uint16_t *V, size_t kv_stride, float scale, float *scores, float *out) {
    if (hd == 64)
        attn2_block(64, group, n_tok, n_kv0, q, ldq, K, V, kv_stride, scale, scores, out);
    else if (hd == 128)
        attn2_block(128, group, n_tok, n_kv0, q, ldq, K, V, kv_stride, scale, scores, out);
    else if (hd % 8 == 0 && hd <= ATTN2_HD_MAX)
        attn2_block(hd, group, n_tok, n_kv0, q, ldq, K, V, kv_stride, scale, scores, out);
    else
        vattn(group, n_tok, hd, n_kv0, q, ldq, K, V, kv_stride, scale, scores, out);
}
