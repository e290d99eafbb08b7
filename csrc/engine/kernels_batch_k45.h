/* kernels_batch_k45.h — the prompt-processing kernel for Q4_K and Q5_K
 * weights (included by kernels_batch_avx512.c after its helpers).
 *
 * A K-quant weight is d·sc_j·u − dmin·mn_j, with u an unsigned 4- or 5-bit
 * value and 6-bit integer scale sc_j and min mn_j per sub-block j of 32 in a
 * super-block of 256. The activations are quantized per super-block (one d_a
 * per 256, as the single-token kernels do), so everything but the last step
 * stays integer:
 *     Σ w·a = d_a · (d · Σ_j sc_j · Σ u·q  −  dmin · Σ_j mn_j · Σ q_j)
 * Unsigned weights (broadcast) meet signed activations (16 tokens in a
 * vector) in vpdpbusd directly; sc_j multiplies each sub-block's integer dot
 * (vpmulld), the mins meet the activation sums in vpdpwssd, and the float
 * work is done once per super-block instead of once per block of 32. */

/* One token's activations, one super-block. */
typedef struct {
    float d;
    int16_t sum[8]; /* Σ q per sub-block of 32 */
    int8_t qs[QK_K];
} act_k;

/* 16 tokens, one super-block (64-byte aligned: loaded as vectors). */
typedef struct {
    int8_t q[8][8][4 * TG]; /* [j][g][token*4 + k] = q[token][32j + 4g + k] */
    int16_t sum[4][2 * TG]; /* [p][token*2 + h] = Σ q of sub-block 2p + h */
    float d[TG];
} ablk_k;

/* One row, one super-block, unpacked. */
typedef struct {
    uint8_t u[QK_K];
    int32_t sc[8];
    int16_t mn[8]; /* pairs (mn[2p], mn[2p+1]) broadcast as one 32-bit lane */
    float d, dmin;
} wblk_k;

static void k45_prepare(const float *x, void *dst, int64_t n) {
    act_k *y = dst;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m512 m = _mm512_setzero_ps();
        for (int k = 0; k < QK_K; k += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + k)));
        float amax = _mm512_reduce_max_ps(m), id = amax > 0 ? 127.f / amax : 0.f;
        y[i].d = amax / 127.f;
        for (int j = 0; j < 8; j++) {
            __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 32 * j), _mm512_set1_ps(id)));
            __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 32 * j + 16), _mm512_set1_ps(id)));
            y[i].sum[j] = (int16_t)_mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
            _mm_storeu_si128((__m128i *)(y[i].qs + 32 * j), _mm512_cvtsepi32_epi8(i0));
            _mm_storeu_si128((__m128i *)(y[i].qs + 32 * j + 16), _mm512_cvtsepi32_epi8(i1));
        }
    }
}

/* Tokens [t0, t0+nt) (nt <= 16; missing tokens are zero) into nsb super-blocks. */
static void k45_gather(const void *act, size_t stride, int t0, int nt, int64_t nsb, void *out) {
    ablk_k *o = out;
    memset(o, 0, (size_t)nsb * sizeof *o);
    for (int t = 0; t < nt; t++) {
        const act_k *a = (const act_k *)((const uint8_t *)act + (size_t)(t0 + t) * stride);
        for (int64_t s = 0; s < nsb; s++) {
            ablk_k *ob = &o[s];
            for (int j = 0; j < 8; j++)
                for (int g = 0; g < 8; g++) memcpy(&ob->q[j][g][4 * t], a[s].qs + 32 * j + 4 * g, 4);
            for (int p = 0; p < 4; p++) {
                ob->sum[p][2 * t] = a[s].sum[2 * p];
                ob->sum[p][2 * t + 1] = a[s].sum[2 * p + 1];
            }
            ob->d[t] = a[s].d;
        }
    }
}

/* One super-block of a Q4_K (qh NULL) or Q5_K row. A 64-byte load holds
 * sub-blocks 4i..4i+3 as the low and high nibbles of two 32-byte halves;
 * the unpacked row wants them in order, so the halves are re-paired. */
static inline void k45_unpack_sb(const uint8_t *qs, const uint8_t *qh, const uint8_t *scales, uint16_t dh,
                                 uint16_t dminh, wblk_k *o) {
    uint32_t s[4];
    qt_k4_scales(scales, s);
    const __m512i m4 = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1);
    __m512i hb = qh ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh)) : _mm512_setzero_si512();
    for (int i = 0; i < 2; i++) {
        __m512i b = _mm512_loadu_si512((const void *)(qs + 64 * i));
        __m512i lo = _mm512_and_si512(b, m4), hi = _mm512_and_si512(_mm512_srli_epi16(b, 4), m4);
        if (qh) {
            /* sub-block 2j takes bit 2j of qh, 2j+1 bit 2j+1 (j = 2i in the low half, 2i+1 in the high) */
            __m512i bl = _mm512_mask_blend_epi64(0xf0, _mm512_srli_epi16(hb, 4 * i), _mm512_srli_epi16(hb, 4 * i + 2));
            __m512i bh = _mm512_mask_blend_epi64(0xf0, _mm512_srli_epi16(hb, 4 * i + 1), _mm512_srli_epi16(hb, 4 * i + 3));
            bl = _mm512_and_si512(bl, one);
            bh = _mm512_and_si512(bh, one);
            lo = _mm512_or_si512(lo, _mm512_slli_epi16(bl, 4));
            hi = _mm512_or_si512(hi, _mm512_slli_epi16(bh, 4));
        }
        _mm512_storeu_si512((void *)(o->u + 128 * i), _mm512_shuffle_i64x2(lo, hi, 0x44));
        _mm512_storeu_si512((void *)(o->u + 128 * i + 64), _mm512_shuffle_i64x2(lo, hi, 0xee));
    }
    __m128i v = _mm_loadu_si128((const __m128i *)s);   /* scales in bytes 0-7, mins in 8-15 */
    _mm256_storeu_si256((__m256i *)o->sc, _mm256_cvtepu8_epi32(v));
    _mm_storeu_si128((__m128i *)o->mn, _mm_cvtepu8_epi16(_mm_srli_si128(v, 8)));
    o->d = h2f(dh);
    o->dmin = h2f(dminh);
}

static void k45_unpack_row(const kq_mat *w, int64_t r, int64_t nsb, void *out) {
    wblk_k *o = out;
    const uint8_t *row = w->data + (size_t)r * w->row_bytes;
    for (int64_t i = 0; i < nsb; i++) {
        if (w->type == QT_Q4_K) {
            const blk_q4_k *x = (const blk_q4_k *)row + i;
            k45_unpack_sb(x->qs, NULL, x->scales, x->d, x->dmin, &o[i]);
        } else {
            const blk_q5_k *x = (const blk_q5_k *)row + i;
            k45_unpack_sb(x->qs, x->qh, x->scales, x->d, x->dmin, &o[i]);
        }
    }
}

/* One row's integer dot with one sub-block: two chains of four vpdpbusd. */
#define K45_DOT(l, h, wr, j, g, lo, hi)                                      \
    l = _mm512_dpbusd_epi32(l, bcast4((wr)->u + 32 * (j) + 4 * (g)), lo);  \
    h = _mm512_dpbusd_epi32(h, bcast4((wr)->u + 32 * (j) + 16 + 4 * (g)), hi)

/* RR = 4 rows × 16 tokens over nsb super-blocks into out[0..3]. */
static void k45_tile(const void *const *wv, const void *av, int64_t nsb, __m512 out[RR]) {
    const wblk_k *const *wr = (const wblk_k *const *)wv;
    const ablk_k *a = av;
    __m512 f0 = _mm512_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
    for (int64_t s = 0; s < nsb; s++) {
        const ablk_k *ab = &a[s];
        const wblk_k *w0 = &wr[0][s], *w1 = &wr[1][s], *w2 = &wr[2][s], *w3 = &wr[3][s];
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, m0 = s0, m1 = s0, m2 = s0, m3 = s0;
        for (int j = 0; j < 8; j++) {
            __m512i l0 = _mm512_setzero_si512(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                __m512i lo = _mm512_load_si512((const void *)ab->q[j][g]);
                __m512i hi = _mm512_load_si512((const void *)ab->q[j][g + 4]);
                K45_DOT(l0, h0, w0, j, g, lo, hi);
                K45_DOT(l1, h1, w1, j, g, lo, hi);
                K45_DOT(l2, h2, w2, j, g, lo, hi);
                K45_DOT(l3, h3, w3, j, g, lo, hi);
            }
            s0 = _mm512_add_epi32(s0, _mm512_mullo_epi32(_mm512_add_epi32(l0, h0), _mm512_set1_epi32(w0->sc[j])));
            s1 = _mm512_add_epi32(s1, _mm512_mullo_epi32(_mm512_add_epi32(l1, h1), _mm512_set1_epi32(w1->sc[j])));
            s2 = _mm512_add_epi32(s2, _mm512_mullo_epi32(_mm512_add_epi32(l2, h2), _mm512_set1_epi32(w2->sc[j])));
            s3 = _mm512_add_epi32(s3, _mm512_mullo_epi32(_mm512_add_epi32(l3, h3), _mm512_set1_epi32(w3->sc[j])));
        }
        for (int p = 0; p < 4; p++) {
            __m512i as = _mm512_load_si512((const void *)ab->sum[p]);
            m0 = _mm512_dpwssd_epi32(m0, as, bcast4((w0->mn + 2 * p)));
            m1 = _mm512_dpwssd_epi32(m1, as, bcast4((w1->mn + 2 * p)));
            m2 = _mm512_dpwssd_epi32(m2, as, bcast4((w2->mn + 2 * p)));
            m3 = _mm512_dpwssd_epi32(m3, as, bcast4((w3->mn + 2 * p)));
        }
        __m512 da = _mm512_load_ps(ab->d);
#define K45_END(f, si, mi, w)                                                                                  \
    f = _mm512_fmadd_ps(da,                                                                                   \
                        _mm512_fmsub_ps(_mm512_cvtepi32_ps(si), _mm512_set1_ps((w)->d),                       \
                                        _mm512_mul_ps(_mm512_cvtepi32_ps(mi), _mm512_set1_ps((w)->dmin))), \
                        f)
        K45_END(f0, s0, m0, w0);
        K45_END(f1, s1, m1, w1);
        K45_END(f2, s2, m2, w2);
        K45_END(f3, s3, m3, w3);
#undef K45_END
    }
    out[0] = f0, out[1] = f1, out[2] = f2, out[3] = f3;
}
#undef K45_DOT

/* k45_tile for at most 8 tokens (a group's tail; an MoE expert often sees
 * few tokens): the same work on the vectors' low halves, half the cost. */
#define K45_DOT8(l, h, wr, j, g, lo, hi)                                                  \
    l = _mm256_dpbusd_epi32(l, _mm256_set1_epi32(load4((wr)->u + 32 * (j) + 4 * (g))), lo); \
    h = _mm256_dpbusd_epi32(h, _mm256_set1_epi32(load4((wr)->u + 32 * (j) + 16 + 4 * (g))), hi)

static inline int32_t load4(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void k45_tile8(const void *const *wv, const void *av, int64_t nsb, __m512 out[RR]) {
    const wblk_k *const *wr = (const wblk_k *const *)wv;
    const ablk_k *a = av;
    __m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
    for (int64_t s = 0; s < nsb; s++) {
        const ablk_k *ab = &a[s];
        const wblk_k *w0 = &wr[0][s], *w1 = &wr[1][s], *w2 = &wr[2][s], *w3 = &wr[3][s];
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, m0 = s0, m1 = s0, m2 = s0, m3 = s0;
        for (int j = 0; j < 8; j++) {
            __m256i l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                __m256i lo = _mm256_load_si256((const __m256i *)ab->q[j][g]);
                __m256i hi = _mm256_load_si256((const __m256i *)ab->q[j][g + 4]);
                K45_DOT8(l0, h0, w0, j, g, lo, hi);
                K45_DOT8(l1, h1, w1, j, g, lo, hi);
                K45_DOT8(l2, h2, w2, j, g, lo, hi);
                K45_DOT8(l3, h3, w3, j, g, lo, hi);
            }
            s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(_mm256_add_epi32(l0, h0), _mm256_set1_epi32(w0->sc[j])));
            s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(_mm256_add_epi32(l1, h1), _mm256_set1_epi32(w1->sc[j])));
            s2 = _mm256_add_epi32(s2, _mm256_mullo_epi32(_mm256_add_epi32(l2, h2), _mm256_set1_epi32(w2->sc[j])));
            s3 = _mm256_add_epi32(s3, _mm256_mullo_epi32(_mm256_add_epi32(l3, h3), _mm256_set1_epi32(w3->sc[j])));
        }
        for (int p = 0; p < 4; p++) {
            __m256i as = _mm256_load_si256((const __m256i *)ab->sum[p]);
            m0 = _mm256_dpwssd_epi32(m0, as, _mm256_set1_epi32(load4(w0->mn + 2 * p)));
            m1 = _mm256_dpwssd_epi32(m1, as, _mm256_set1_epi32(load4(w1->mn + 2 * p)));
            m2 = _mm256_dpwssd_epi32(m2, as, _mm256_set1_epi32(load4(w2->mn + 2 * p)));
            m3 = _mm256_dpwssd_epi32(m3, as, _mm256_set1_epi32(load4(w3->mn + 2 * p)));
        }
        __m256 da = _mm256_load_ps(ab->d);
#define K45_END8(f, si, mi, w)                                                                                 \
    f = _mm256_fmadd_ps(da,                                                                                   \
                        _mm256_fmsub_ps(_mm256_cvtepi32_ps(si), _mm256_set1_ps((w)->d),                       \
                                        _mm256_mul_ps(_mm256_cvtepi32_ps(mi), _mm256_set1_ps((w)->dmin))), \
                        f)
        K45_END8(f0, s0, m0, w0);
        K45_END8(f1, s1, m1, w1);
        K45_END8(f2, s2, m2, w2);
        K45_END8(f3, s3, m3, w3);
#undef K45_END8
    }
    out[0] = _mm512_zextps256_ps512(f0), out[1] = _mm512_zextps256_ps512(f1);
    out[2] = _mm512_zextps256_ps512(f2), out[3] = _mm512_zextps256_ps512(f3);
}
#undef K45_DOT8

static const batch_path k45_path = {QK_K, sizeof(ablk_k), sizeof(wblk_k), k45_gather, k45_unpack_row, k45_tile,
                                    k45_tile8};
