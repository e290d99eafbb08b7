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
