/* kernels_attn_avx512.h — kq_vec_ops.attn with 512-bit vectors for head sizes
 * 64 and 128 (other sizes use the generic vattn). Included by
 * kernels_avx512.c after kernels_x86.h.
 *
 * All query rows of the block (the group's heads × the block's tokens) share
 * each K and V row: a row of the half-float cache is converted once and used
 * by every query row, so a verification batch or a prompt chunk reads the
 * cache once per block instead of once per token. Three passes:
 *  1. scores: four positions at a time, their K rows converted into
 *     registers; each query row's four dot products are reduced together;
 *  2. softmax per row with a vectorised exp (Cephes expf polynomial, about
 *     1 ulp), positions past a row's causal end get weight 0;
 *  3. out: the rows' outputs accumulate in registers (16 vectors) while the
 *     V rows stream by; each is scaled by 1 / sum at the end. */

/* exp(x) for x ≤ 0 (a score minus its row's maximum); ≈ 0 below −87. */
static inline __m512 exp512_nonpos(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(EXP_X_MIN));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(exp_poly[0]);
    for (int i = 1; i < 6; i++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(exp_poly[i]));
    __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.f)));
    return _mm512_scalef_ps(y, n);
}

/* The four sums of a0..a3's lanes, in order. */
static inline __m128 hsum4_512(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
    __m512 s01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
    __m512 s23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
    __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23))),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23))));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

static inline __attribute__((always_inline)) __m512 kv_row16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

/* The block kernel for hd = 16·NV (NV a compile-time 4 or 8). */
static inline __attribute__((always_inline)) void attn_block(const int NV, int group, int n_tok, int n_kv0,
                                                             const float *q, size_t ldq, const uint16_t *K,
                                                             const uint16_t *V, size_t kv_stride, float scale,
                                                             float *scores, float *out) {
    const int hd = 16 * NV, R = group * n_tok, n_max = n_kv0 + n_tok - 1;
    /* 1. scores[r][p] = scale · q_r · K[p] for every row and p < n_max */
    const float *qrow[KQ_ATTN_ROWS_MAX];
    for (int r = 0; r < R; r++) qrow[r] = q + (size_t)(r / group) * ldq + (size_t)(r % group) * hd;
    int p = 0;
    for (; p + 4 <= n_max; p += 4) {
        __m512 k[4][8]; /* fully unrolled: the converted rows stay in registers (a loop here
                           stored them to the stack and read them back, 60% of the pass) */
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) k[j][v] = kv_row16(K + (size_t)(p + j) * kv_stride + 16 * v);
        for (int r = 0; r < R; r++) {
            const float *qr = qrow[r];
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) {
                __m512 qv = _mm512_loadu_ps(qr + 16 * v);
                a0 = _mm512_fmadd_ps(qv, k[0][v], a0);
                a1 = _mm512_fmadd_ps(qv, k[1][v], a1);
                a2 = _mm512_fmadd_ps(qv, k[2][v], a2);
                a3 = _mm512_fmadd_ps(qv, k[3][v], a3);
            }
            _mm_storeu_ps(scores + (size_t)r * n_max + p, _mm_mul_ps(hsum4_512(a0, a1, a2, a3), _mm_set1_ps(scale)));
        }
    }
    for (; p < n_max; p++)
        for (int r = 0; r < R; r++) {
            const float *qr = qrow[r];
            __m512 a = _mm512_setzero_ps();
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++)
                a = _mm512_fmadd_ps(_mm512_loadu_ps(qr + 16 * v), kv_row16(K + (size_t)p * kv_stride + 16 * v), a);
            /* the same reduction as the four-position blocks: a row's scores do not
             * depend on how its positions fell into blocks (batch == token by token) */
            scores[(size_t)r * n_max + p] = _mm_cvtss_f32(_mm_mul_ps(hsum4_512(a, a, a, a), _mm_set1_ps(scale)));
        }
    /* 2. softmax of each row over its causal length; weight 0 beyond it */
    float inv[KQ_ATTN_ROWS_MAX];
    for (int r = 0; r < R; r++) {
        float *sc = scores + (size_t)r * n_max;
        int len = n_kv0 + r / group;
        __m512 mv = _mm512_set1_ps(-INFINITY);
        int i = 0;
        for (; i + 16 <= len; i += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(sc + i));
        __mmask16 tail = (__mmask16)((1u << (len - i)) - 1);
        mv = _mm512_mask_max_ps(mv, tail, mv, _mm512_maskz_loadu_ps(tail, sc + i));
        __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(mv)), sum = _mm512_setzero_ps();
        for (i = 0; i + 16 <= len; i += 16) {
            __m512 e = exp512_nonpos(_mm512_sub_ps(_mm512_loadu_ps(sc + i), mx));
            _mm512_storeu_ps(sc + i, e);
            sum = _mm512_add_ps(sum, e);
        }
        if (tail) {
            __m512 e = _mm512_maskz_mov_ps(tail, exp512_nonpos(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, sc + i), mx)));
            _mm512_mask_storeu_ps(sc + i, tail, e);
            sum = _mm512_add_ps(sum, e);
        }
        for (int z = len; z < n_max; z++) sc[z] = 0.f;
        inv[r] = 1.f / _mm512_reduce_add_ps(sum);
    }
    /* 3. out_r = inv_r · Σ_p w_r[p] V[p], RC rows at a time in registers */
    const int RC = 16 / NV;
    for (int r0 = 0; r0 < R; r0 += RC) {
        int nr = R - r0 < RC ? R - r0 : RC, end = n_kv0 + (r0 + nr - 1) / group;
        __m512 acc[4][8];
        for (int rr = 0; rr < RC; rr++)
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) acc[rr][v] = _mm512_setzero_ps();
        for (int pp = 0; pp < end; pp++) {
            __m512 vr[8];
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) vr[v] = kv_row16(V + (size_t)pp * kv_stride + 16 * v);
#pragma GCC unroll 16
            for (int rr = 0; rr < RC; rr++) {
                if (rr >= nr) break;
                __m512 w = _mm512_set1_ps(scores[(size_t)(r0 + rr) * n_max + pp]);
#pragma GCC unroll 8
                for (int v = 0; v < NV; v++) acc[rr][v] = _mm512_fmadd_ps(w, vr[v], acc[rr][v]);
            }
        }
        for (int rr = 0; rr < nr; rr++) {
            int r = r0 + rr;
            float *o = out + (size_t)(r / group) * ldq + (size_t)(r % group) * hd;
            __m512 s = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(o + 16 * v, _mm512_mul_ps(acc[rr][v], s));
        }
    }
}

/* kq_vec_ops.attn for AVX-512. */
static void vattn_avx512(int group, int n_tok, int hd, int n_kv0, const float *q, size_t ldq, const uint16_t *K,
                         const uint16_t *V, size_t kv_stride, float scale, float *scores, float *out) {
    if (hd == 64)
        attn_block(4, group, n_tok, n_kv0, q, ldq, K, V, kv_stride, scale, scores, out);
    else if (hd == 128)
        attn_block(8, group, n_tok, n_kv0, q, ldq, K, V, kv_stride, scale, scores, out);
    else
        vattn(group, n_tok, hd, n_kv0, q, ldq, K, V, kv_stride, scale, scores, out);
}
