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
static void q8_gather(const void *act, size_t stride, int t0, int nt, int64_t nb, void *out) {
    ablk_q8 *o = out;
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

static void q8_unpack_row(const kq_mat *w, int64_t r, int64_t nb, void *out) {
    wblk_q8 *o = out;
    const blk_q8_0 *x = (const blk_q8_0 *)(w->data + (size_t)r * w->row_bytes);
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int64_t b = 0; b < nb; b++) {
        _mm256_storeu_si256((__m256i *)o[b].u, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)x[b].qs), flip));
        o[b].s = h2f(x[b].d);
    }
}
