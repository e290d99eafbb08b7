/* kernels_batch_q8.h — the prompt-processing kernel for Q8_0 weights
 * (included by kernels_batch_avx512.c after its helpers).
 *
 * Q8_0 weights are signed bytes w with one scale s per block of 32. Stored
 * as unsigned u = w + 128 (one xor while unpacking), they go into vpdpbusd
 * against the signed activations of 16 tokens; the +128 comes back out per
 * token as 128·Σa, which the activations carry:
 *     Σ w·a = d_a · s · (Σ u·q − 128 · Σ q)
 * so a block costs one integer correction, one conversion and one
 * multiply-add per row, and unpacking is a copy. */

/* 16 tokens, one block of 32 (64-byte aligned: loaded as vectors). */
typedef struct {
    int8_t q[8][4 * TG]; /* [g][token*4 + k] = q[token][4g + k] */
    int32_t off[TG];     /* 128 · Σ q */
    float d[TG];
} ablk_q8;

/* One row's block, unpacked. */
typedef struct {
    uint8_t u[32];
    float s;
} wblk_q8;

/* Tokens [t0, t0+nt) (nt <= 16; missing tokens are zero) of per-32
 * activations (act_b32) into nb blocks. */
static void q8_gather(const void *act, size_t stride, int t0, int nt, int64_t nb, ablk_q8 *o) {
    memset(o, 0, (size_t)nb * sizeof *o);
    for (int t = 0; t < nt; t++) {
        const act_b32 *a = (const act_b32 *)((const uint8_t *)act + (size_t)(t0 + t) * stride);
        for (int64_t b = 0; b < nb; b++) {
            for (int g = 0; g < 8; g++) memcpy(&o[b].q[g][4 * t], a[b].qs + 4 * g, 4);
            o[b].off[t] = 128 * (a[b].sum[0] + a[b].sum[1]);
            o[b].d[t] = a[b].d;
        }
    }
}

static void q8_unpack_row(const kq_mat *w, int64_t r, int64_t nb, wblk_q8 *o) {
    const blk_q8_0 *x = (const blk_q8_0 *)(w->data + (size_t)r * w->row_bytes);
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int64_t b = 0; b < nb; b++) {
        _mm256_storeu_si256((__m256i *)o[b].u, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)x[b].qs), flip));
        o[b].s = h2f(x[b].d);
    }
}

#define Q8_DOT(l, h, wr, b, g, lo, hi)                                 \
    l = _mm512_dpbusd_epi32(l, bcast4u((wr)[b].u + 4 * (g)), lo);     \
    h = _mm512_dpbusd_epi32(h, bcast4u((wr)[b].u + 16 + 4 * (g)), hi)
#define Q8_END(f, l, h, wr, b)                                                                              \
    f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_add_epi32(l, h), off)),                 \
                        _mm512_mul_ps(da, _mm512_set1_ps((wr)[b].s)), f)

/* RR = 4 rows × 16 tokens over nb blocks into out[0..3]. */
static void q8_tile(const wblk_q8 *const *wr, const ablk_q8 *a, int64_t nb, __m512 out[RR]) {
    __m512 f0 = _mm512_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
    const wblk_q8 *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
    for (int64_t b = 0; b < nb; b++) {
        const ablk_q8 *ab = &a[b];
        __m512i l0 = _mm512_setzero_si512(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
#pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
            __m512i lo = _mm512_load_si512((const void *)ab->q[g]), hi = _mm512_load_si512((const void *)ab->q[g + 4]);
            Q8_DOT(l0, h0, w0, b, g, lo, hi);
            Q8_DOT(l1, h1, w1, b, g, lo, hi);
            Q8_DOT(l2, h2, w2, b, g, lo, hi);
            Q8_DOT(l3, h3, w3, b, g, lo, hi);
        }
        __m512i off = _mm512_load_si512((const void *)ab->off);
        __m512 da = _mm512_load_ps(ab->d);
        Q8_END(f0, l0, h0, w0, b);
        Q8_END(f1, l1, h1, w1, b);
        Q8_END(f2, l2, h2, w2, b);
        Q8_END(f3, l3, h3, w3, b);
    }
    out[0] = f0, out[1] = f1, out[2] = f2, out[3] = f3;
}
#undef Q8_DOT
#undef Q8_END

static void q8_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                    int64_t r1) {
    int64_t nb = w->n_in / 32;
    int ng = (n_tok + TG - 1) / TG;
    ablk_q8 *A = kq_scratch(KQ_SCRATCH_BATCH_ACT, (size_t)ng * nb * sizeof(ablk_q8));
    wblk_q8 *W = kq_scratch(KQ_SCRATCH_BATCH_W, (size_t)WT * nb * sizeof(wblk_q8));
    if (!A || !W) return;
    for (int g = 0; g < ng; g++)
        q8_gather(act, act_stride, g * TG, n_tok - g * TG < TG ? n_tok - g * TG : TG, nb, A + (size_t)g * nb);
    __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32(ldy));
    for (int64_t rt = r0; rt < r1; rt += WT) {
        int nr = r1 - rt < WT ? (int)(r1 - rt) : WT;
        for (int r = 0; r < nr; r++) q8_unpack_row(w, rt + r, nb, W + (size_t)r * nb);
        prefetch_rows(w, rt + nr, r1 - rt - nr < WT ? r1 - rt - nr : WT);
        for (int g = 0; g < ng; g++) {
            int nt = n_tok - g * TG < TG ? n_tok - g * TG : TG;
            __mmask16 tmask = (__mmask16)((1u << nt) - 1);
            for (int r = 0; r < nr; r += RR) {
                const wblk_q8 *wr[RR];
                int real = nr - r < RR ? nr - r : RR;
                for (int k = 0; k < RR; k++) wr[k] = W + (size_t)(r + (k < real ? k : 0)) * nb;
                __m512 out[RR];
                q8_tile(wr, A + (size_t)g * nb, nb, out);
                for (int k = 0; k < real; k++)
                    _mm512_mask_i32scatter_ps(y + (size_t)g * TG * ldy + rt + r + k, tmask, idx, out[k], 4);
            }
        }
    }
}
