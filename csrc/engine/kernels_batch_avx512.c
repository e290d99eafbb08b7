/* kernels_batch_avx512.c — prompt-processing kernels: many tokens × many rows.
 *
 * Vectors run over tokens. The activations of 16 tokens are transposed once
 * per call so that one 512-bit register holds 4 consecutive bytes of each of
 * the 16 tokens, stored unsigned (a + 128). Weights are unpacked, row by row
 * and block of 32 by block, into signed bytes w with per-half-block (16
 * elements) float scale s and offset m (weight = s·w − m); each 4-byte group
 * of a row is broadcast straight from memory into vpdpbusd, which then adds
 * Σ (a+128)·w for 16 tokens at once. The +128 is taken out with the row's
 * precomputed c = 128·s·Σw. Per block and token:
 *     y += d_a · (s·dot − c − m·Σa)
 * Q4_K and Q5_K take their own path (kernels_batch_k45.h: unsigned weights,
 * integer sub-block scales, float work once per super-block of 256), and so
 * does Q8_0 (kernels_batch_q8.h: unsigned weights, the +128 taken out of the
 * activations' sums).
 * Unpacked rows live in a per-thread scratch for the duration of the call;
 * the model's weights stay in its mapping (no second copy).
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/kernels.h"
#include "engine/kernels_x86_bits.h"
#include "engine/qtypes.h"

#define TG 16   /* tokens per vector */
#define WT 32   /* rows unpacked per weight tile */
#define RR 4    /* rows per register tile */

/* Activation block of 32 for one token, as prepared (per token). */
typedef struct {
    float d;
    int32_t sum[2];
    int8_t qs[32];
} act_b32;

/* One block of 32 of one unpacked weight row. */
typedef struct {
    int8_t w[32];
    float s[2], c[2], m[2];
} wblk;

/* Activations of one group of 16 tokens, block b: bytes, scales, half sums. */
typedef struct {
    uint8_t q[8][4 * TG]; /* [g][token*4 + k] = a[token][4g+k] + 128 */
    float d[TG];
    float sum[2][TG];
} ablk;

typedef void (*unpack_fn)(const uint8_t *row, int64_t nb, wblk *o);

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

static inline void up_q4_0_blk(const uint8_t *row, int64_t b, wblk *o) {
    const blk_q4_0 *x = (const blk_q4_0 *)row + b;
    _mm256_storeu_si256((__m256i *)o->w, _mm256_sub_epi8(nibbles(x->qs), _mm256_set1_epi8(8)));
    o->s[0] = o->s[1] = h2f(x->d);
    o->m[0] = o->m[1] = 0;
}

static inline void up_q5_0_blk(const uint8_t *row, int64_t b, wblk *o) {
    const blk_q5_0 *x = (const blk_q5_0 *)row + b;
    __m256i q = _mm256_or_si256(nibbles(x->qs), q5_high_bits(x->qh));
    _mm256_storeu_si256((__m256i *)o->w, _mm256_sub_epi8(q, _mm256_set1_epi8(16)));
    o->s[0] = o->s[1] = h2f(x->d);
    o->m[0] = o->m[1] = 0;
}

/* Q4_1 / Q5_1: weight = d·q + min, so s = d and m = −min. */
static inline void up_q4_1_blk(const uint8_t *row, int64_t b, wblk *o) {
    const blk_q4_1 *x = (const blk_q4_1 *)row + b;
    _mm256_storeu_si256((__m256i *)o->w, nibbles(x->qs));
    o->s[0] = o->s[1] = h2f(x->d);
    o->m[0] = o->m[1] = -h2f(x->m);
}

static inline void up_q5_1_blk(const uint8_t *row, int64_t b, wblk *o) {
    const blk_q5_1 *x = (const blk_q5_1 *)row + b;
    _mm256_storeu_si256((__m256i *)o->w, _mm256_or_si256(nibbles(x->qs), q5_high_bits(x->qh)));
    o->s[0] = o->s[1] = h2f(x->d);
    o->m[0] = o->m[1] = -h2f(x->m);
}

static inline void up_q6_k_blk(const uint8_t *row, int64_t b, wblk *o) {
    const blk_q6_k *x = (const blk_q6_k *)row + b / 8;
    int sub = (int)(b % 8), half = sub / 4, quarter = sub % 4;
    __m256i ql = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * half + 32 * (quarter % 2)));
    __m256i qh = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * half));
    __m256i lo = _mm256_and_si256(_mm256_srli_epi16(ql, 4 * (quarter / 2)), _mm256_set1_epi8(0x0f));
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * quarter), _mm256_set1_epi8(3));
    __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
    _mm256_storeu_si256((__m256i *)o->w, _mm256_sub_epi8(q, _mm256_set1_epi8(32)));
    float d = h2f(x->d);
    o->s[0] = d * x->scales[2 * sub];
    o->s[1] = d * x->scales[2 * sub + 1];
    o->m[0] = o->m[1] = 0;
}

static inline void up_iq4_xs_blk(const uint8_t *row, int64_t b, wblk *o) {
    const blk_iq4_xs *x = (const blk_iq4_xs *)row + b / 8;
    int ib = (int)(b % 8);
    int ls = ((x->scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x->scales_h >> 2 * ib) & 3) << 4);
    __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qt_iq4nl_values));
    _mm256_storeu_si256((__m256i *)o->w, _mm256_shuffle_epi8(table, nibbles(x->qs + 16 * ib)));
    o->s[0] = o->s[1] = h2f(x->d) * (float)(ls - 32);
    o->m[0] = o->m[1] = 0;
}

/* Store 32 signed weight bytes q and set c = 128·s·Σw per half from them. */
static inline void put_w(wblk *o, __m256i q) {
    _mm256_storeu_si256((__m256i *)o->w, q);
    __m256i u = _mm256_xor_si256(q, _mm256_set1_epi8((char)0x80));
    __m256i sad = _mm256_sad_epu8(u, _mm256_setzero_si256()); /* 4 sums of 8 bytes */
    int64_t g[4];
    _mm256_storeu_si256((__m256i *)g, sad);
    o->c[0] = 128.f * o->s[0] * (float)(g[0] + g[1] - 16 * 128);
    o->c[1] = 128.f * o->s[1] * (float)(g[2] + g[3] - 16 * 128);
}

/* Whole-row unpackers of the other types: the per-block functions in one
 * loop, c from the stored bytes. */
#define ROW_UNPACKER(name) \
    static void name(const uint8_t *row, int64_t nb, wblk *o) { \
        for (int64_t b = 0; b < nb; b++) { \
            name##_blk(row, b, &o[b]); \
            put_w(&o[b], _mm256_loadu_si256((const __m256i *)o[b].w)); \
        } \
    }
ROW_UNPACKER(up_q4_0)
ROW_UNPACKER(up_q4_1)
ROW_UNPACKER(up_q5_0)
ROW_UNPACKER(up_q5_1)
ROW_UNPACKER(up_q6_k)
ROW_UNPACKER(up_iq4_xs)

static unpack_fn unpacker(uint32_t wt) {
    switch (wt) {
    case QT_Q4_0: return up_q4_0;
    case QT_Q4_1: return up_q4_1;
    case QT_Q5_0: return up_q5_0;
    case QT_Q5_1: return up_q5_1;
    case QT_Q6_K: return up_q6_k;
    case QT_IQ4_XS: return up_iq4_xs;
    }
    return NULL;
}

/* Asks for the bytes [*from, *from + n) (clipped to end) to be brought into
 * cache and advances *from: the next row tile streams in from memory, a
 * slice before each register tile, while the current one computes (one
 * burst of prefetches would overflow the core's queue of misses). */
static inline void prefetch_slice(const char **from, const char *end, size_t n) {
    const char *p = *from, *e = (size_t)(end - p) < n ? end : p + n;
    for (; p < e; p += 64) _mm_prefetch(p, _MM_HINT_T1);
    *from = p;
}

/* A prompt-processing path: how 16 tokens' activations and a row's weights
 * are laid out, unit by unit (a block of 32 or a super-block of 256
 * weights), and the tile of RR rows × 16 tokens over them. */
typedef struct {
    int64_t unit;  /* weights per unit */
    size_t ablk;   /* bytes of one unit of 16 tokens' activations (a multiple of 64) */
    size_t wblk;   /* bytes of one unit of an unpacked row */
    /* tokens [t0, t0+nt) (nt <= 16; the missing ones contribute 0) into nu units at o */
    void (*gather)(const void *act, size_t stride, int t0, int nt, int64_t nu, void *o);
    /* row r of w into nu units at o */
    void (*unpack)(const kq_mat *w, int64_t r, int64_t nu, void *o);
    /* rows wr[0..RR) × the 16 tokens at a, over nu units, into out */
    void (*tile)(const void *const *wr, const void *a, int64_t nu, __m512 out[RR]);
    /* the same for groups of at most 8 tokens (lanes 8-15 of out are 0) */
    void (*tile8)(const void *const *wr, const void *a, int64_t nu, __m512 out[RR]);
} batch_path;

/* Stores a register tile: y[t·ldy + k] = out[k][t] for rows k < real and
 * tokens t < nt. The 4 × 16 tile is transposed in 128-bit lanes so that each
 * token's (up to) 4 row results go out in one masked store; a scatter per
 * row costs more than a small model's whole tile. */
static inline void store_tile(float *y, int ldy, const __m512 out[RR], int real, int nt) {
    __m512 t0 = _mm512_unpacklo_ps(out[0], out[1]), t1 = _mm512_unpackhi_ps(out[0], out[1]);
    __m512 t2 = _mm512_unpacklo_ps(out[2], out[3]), t3 = _mm512_unpackhi_ps(out[2], out[3]);
    __m512 v[4] = {_mm512_shuffle_ps(t0, t2, 0x44), _mm512_shuffle_ps(t0, t2, 0xee), _mm512_shuffle_ps(t1, t3, 0x44),
                   _mm512_shuffle_ps(t1, t3, 0xee)};   /* v[i], 128-bit lane l: token 4l + i */
    __mmask8 rows = (__mmask8)((1u << real) - 1);
    for (int t = 0; t < nt; t++) {
        __m128 x;
        switch (t >> 2) {
        case 0: x = _mm512_extractf32x4_ps(v[t & 3], 0); break;
        case 1: x = _mm512_extractf32x4_ps(v[t & 3], 1); break;
        case 2: x = _mm512_extractf32x4_ps(v[t & 3], 2); break;
        default: x = _mm512_extractf32x4_ps(v[t & 3], 3); break;
        }
        _mm_mask_storeu_ps(y + (size_t)t * ldy, rows, x);
    }
}

/* kq_ops.rows through path p: gathers the tokens once, then per tile of WT
 * rows unpacks them (prefetching the next tile) and runs the RR-row tiles
 * over every group of 16 tokens. */
static void run_path(const batch_path *p, const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y,
                     int ldy, int64_t r0, int64_t r1) {
    int64_t nu = w->n_in / p->unit;
    int ng = (n_tok + TG - 1) / TG;
    uint8_t *A = kq_scratch(KQ_SCRATCH_BATCH_ACT, (size_t)ng * nu * p->ablk);
    uint8_t *W = kq_scratch(KQ_SCRATCH_BATCH_W, (size_t)WT * nu * p->wblk);
    if (!A || !W) return;
    for (int g = 0; g < ng; g++)
        p->gather(act, act_stride, g * TG, n_tok - g * TG < TG ? n_tok - g * TG : TG, nu, A + (size_t)g * nu * p->ablk);
    for (int64_t rt = r0; rt < r1; rt += WT) {
        int nr = r1 - rt < WT ? (int)(r1 - rt) : WT;
        for (int r = 0; r < nr; r++) p->unpack(w, rt + r, nu, W + (size_t)r * nu * p->wblk);
        int64_t next = r1 - rt - nr < WT ? r1 - rt - nr : WT;
        const char *pf = (const char *)w->data + (size_t)(rt + nr) * w->row_bytes;
        const char *pf_end = pf + (size_t)next * w->row_bytes;
        size_t slice = ((size_t)(pf_end - pf) / ((size_t)ng * ((nr + RR - 1) / RR)) + 64) & ~(size_t)63;
        for (int g = 0; g < ng; g++) {
            int nt = n_tok - g * TG < TG ? n_tok - g * TG : TG;
            for (int r = 0; r < nr; r += RR) {
                const void *wr[RR];
                int real = nr - r < RR ? nr - r : RR;
                /* a partial tile recomputes its first row in the unused slots (results dropped) */
                for (int k = 0; k < RR; k++) wr[k] = W + (size_t)(r + (k < real ? k : 0)) * nu * p->wblk;
                __m512 out[RR];
                prefetch_slice(&pf, pf_end, slice);
                (nt <= 8 ? p->tile8 : p->tile)(wr, A + (size_t)g * nu * p->ablk, nu, out);
                store_tile(y + (size_t)g * TG * ldy + rt + r, ldy, out, real, nt);
            }
        }
    }
}

#include "engine/kernels_batch_k45.h"
#include "engine/kernels_batch_q8.h"
#define BW 512
#include "engine/kernels_batch_tiles.h"
#undef BW
#define BW 256
#include "engine/kernels_batch_tiles.h"
#undef BW

static int is_k45(uint32_t wt) { return wt == QT_Q4_K || wt == QT_Q5_K; }

static int b_supports(uint32_t wt) { return is_k45(wt) || wt == QT_Q8_0 || unpacker(wt) != NULL; }

static size_t b_act_bytes(uint32_t wt, int64_t n) {
    return is_k45(wt) ? (size_t)(n / QK_K) * sizeof(act_k) : (size_t)(n / 32) * sizeof(act_b32);
}

static void b_prepare(uint32_t wt, const float *x, void *dst, int64_t n) {
    if (is_k45(wt)) {
        k45_prepare(x, dst, n);
        return;
    }
    act_b32 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float id = amax > 0 ? 127.f / amax : 0.f;
        y[i].d = amax / 127.f;
        __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
        __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
        y[i].sum[0] = _mm512_reduce_add_epi32(i0);
        y[i].sum[1] = _mm512_reduce_add_epi32(i1);
        _mm_storeu_si128((__m128i *)y[i].qs, _mm512_cvtsepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(y[i].qs + 16), _mm512_cvtsepi32_epi8(i1));
    }
}

/* Transpose tokens [t0, t0+nt) (nt <= 16; missing tokens are zero) into nb blocks. */
static void gather_tokens(const void *act, size_t stride, int t0, int nt, int64_t nb, void *out) {
    ablk *o = out;
    for (int64_t b = 0; b < nb; b++) {
        ablk *ob = &o[b];
        for (int t = 0; t < TG; t++) {
            if (t < nt) {
                const act_b32 *a = (const act_b32 *)((const uint8_t *)act + (size_t)(t0 + t) * stride) + b;
                for (int g = 0; g < 8; g++)
                    for (int k = 0; k < 4; k++) ob->q[g][4 * t + k] = (uint8_t)(a->qs[4 * g + k] + 128);
                ob->d[t] = a->d;
                ob->sum[0][t] = (float)a->sum[0];
                ob->sum[1][t] = (float)a->sum[1];
            } else {
                for (int g = 0; g < 8; g++) memset(&ob->q[g][4 * t], 128, 4);
                ob->d[t] = ob->sum[0][t] = ob->sum[1][t] = 0;
            }
        }
    }
}

/* Row r of w into nb blocks at o (the unpackers also set c = 128·s·Σw). */
static void unpack_row(const kq_mat *w, int64_t r, int64_t nb, void *o) {
    unpacker(w->type)(w->data + (size_t)r * w->row_bytes, nb, o);
}


static const batch_path generic_path = {32, sizeof(ablk), sizeof(wblk), gather_tokens, unpack_row, tile_16, tile_8};
static const batch_path k45_path = {QK_K, sizeof(ablk_k), sizeof(wblk_k), k45_gather, k45_unpack_row, k45_tile_16,
                                    k45_tile_8};
static const batch_path q8_path = {32, sizeof(ablk_q8), sizeof(wblk_q8), q8_gather, q8_unpack_row, q8_tile_16,
                                   q8_tile_8};

static void b_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy, int64_t r0,
                   int64_t r1) {
    const batch_path *p = is_k45(w->type) ? &k45_path : w->type == QT_Q8_0 ? &q8_path : &generic_path;
    run_path(p, w, act, act_stride, n_tok, y, ldy, r0, r1);
}

const kq_ops kq_avx512_batch_ops = {
    .name = "avx512-batch",
    .act_bytes = b_act_bytes,
    .prepare = b_prepare,
    .rows = b_rows,
    .supports = b_supports,
};
