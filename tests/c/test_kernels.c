/* test_kernels.c — every fast kernel against the scalar reference.
 *
 * For each weight type and each kernel level this CPU runs (per-token and
 * batch kernels), random rows × random activations for several batch sizes
 * must match the reference (dequantize, float dot) within the error that
 * quantizing the activations to 8 bits can cause: for each block of 32 the
 * rounding error is at most amax/254 per element, so
 *     |fast − ref| ≤ Σ_blocks (amax_b / 254) · Σ_{i∈b} |w_i|  (+ float slack).
 * Float weight types (F32, F16, BF16) take float activations: float slack only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/kernels.h"
#include "engine/qtypes.h"
#include "engine/repack.h"
#include "tap.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}
static float rndf(void) { return (float)(rnd() % 20001) / 10000.f - 1.f; }

/* Random but valid rows of type t: random bytes, scale fields set to sane values. */
static uint8_t *random_rows(uint32_t t, int64_t n_in, int rows) {
    const qtype_info *q = qtype_get(t);
    size_t rb = qtype_row_size(t, n_in), nb = (size_t)(n_in / q->blck) * rows;
    uint8_t *w = malloc(rb * rows);
    for (size_t i = 0; i < rb * rows; i++) w[i] = (uint8_t)rnd();
    for (size_t b = 0; b < nb; b++) {
        uint8_t *p = w + b * q->size;
        float r = 0.5f + (float)(rnd() % 100) / 100.f;
        uint16_t h;
        switch (t) {
        case QT_F32: { float v = rndf(); memcpy(p, &v, 4); break; }
        case QT_F16: h = fl_f32_to_f16(rndf()); memcpy(p, &h, 2); break;
        case QT_BF16: h = fl_f32_to_bf16(rndf()); memcpy(p, &h, 2); break;
        case QT_Q8_0: case QT_Q4_0: case QT_Q5_0: h = fl_f32_to_f16(0.01f * r); memcpy(p, &h, 2); break;
        case QT_Q4_1: case QT_Q5_1: /* d, then m */
            h = fl_f32_to_f16(0.01f * r);
            memcpy(p, &h, 2);
            h = fl_f32_to_f16(-0.05f * r);
            memcpy(p + 2, &h, 2);
            break;
        case QT_Q4_K: case QT_Q5_K:
            ((blk_q4_k *)p)->d = fl_f32_to_f16(0.001f * r);
            ((blk_q4_k *)p)->dmin = fl_f32_to_f16(0.002f * r);
            break;
        case QT_Q6_K: ((blk_q6_k *)p)->d = fl_f32_to_f16(0.0005f * r); break;
        case QT_IQ4_XS: ((blk_iq4_xs *)p)->d = fl_f32_to_f16(0.0002f * r); break;
        }
    }
    return w;
}

/* How far a fast product of weight row w (as floats) with activations x may
 * be from the reference: the bound above (0 for float weight types, which
 * take float activations) plus float slack. */
static double act_bound(const float *w, const float *x, int64_t n_in, int quantized) {
    double bound = 0, mag = 0;
    for (int64_t b = 0; b < n_in / 32; b++) {
        float amax = 0;
        double sw = 0;
        for (int i = 0; i < 32; i++) {
            amax = fmaxf(amax, fabsf(x[b * 32 + i]));
            sw += fabs(w[b * 32 + i]);
            mag += fabs(w[b * 32 + i] * x[b * 32 + i]);
        }
        if (quantized) bound += amax / 254.0 * sw;
    }
    return bound * 1.01 + 1e-5 * mag + 1e-6;
}

static void check_type(uint32_t t, int level, int use_batch) {
    const int64_t n_in = 512;
    const int rows = 37, toks[] = {1, 3, 4, 8, 17, 25, 33};
    const kq_ops *fast = kq_level(level);
    if (!fast) return;
    if (use_batch) fast = fast->batch;
    if (!fast || !fast->supports(t)) return;
    const qtype_info *q = qtype_get(t);
    uint8_t *w = random_rows(t, n_in, rows);
    kq_mat m = {w, t, n_in, rows, qtype_row_size(t, n_in)};
    float *wf = malloc(sizeof(float) * n_in * rows);
    for (int r = 0; r < rows; r++) q->dequant(w + r * m.row_bytes, wf + r * n_in, n_in);
    for (size_t ti = 0; ti < sizeof toks / sizeof toks[0]; ti++) {
        int nt = toks[ti];
        if (use_batch && nt < KQ_BATCH_MIN) continue;
        float *x = malloc(sizeof(float) * n_in * nt), *yr = malloc(sizeof(float) * rows * nt),
              *yf = malloc(sizeof(float) * rows * nt);
        for (int64_t i = 0; i < n_in * nt; i++) x[i] = rndf() * (i % 7 == 0 ? 4.f : 1.f);
        size_t sr = kq_ref_ops.act_bytes(t, n_in), sf = (fast->act_bytes(t, n_in) + 63) & ~(size_t)63;
        uint8_t *ar = malloc(sr * nt), *af = aligned_alloc(64, sf * nt);
        for (int k = 0; k < nt; k++) {
            kq_ref_ops.prepare(t, x + k * n_in, ar + k * sr, n_in);
            fast->prepare(t, x + k * n_in, af + k * sf, n_in);
        }
        kq_ref_ops.rows(&m, ar, sr, nt, yr, rows, 0, rows);
        /* split the rows in two calls, as threads do */
        fast->rows(&m, af, sf, nt, yf, rows, 0, 16);
        fast->rows(&m, af, sf, nt, yf, rows, 16, rows);
        int ok = 1;
        double worst = 0;
        for (int k = 0; k < nt; k++)
            for (int r = 0; r < rows; r++) {
                double bound = act_bound(wf + r * n_in, x + k * n_in, n_in, t != QT_F32 && t != QT_F16 && t != QT_BF16);
                double d = fabs((double)yf[k * rows + r] - yr[k * rows + r]);
                if (!(d <= bound)) ok = 0;
                if (d / bound > worst) worst = d / bound;
            }
        CHECK(ok, "%s %s%s, %d token(s): within the activation-quantization bound (worst %.2f of it)", q->name,
              kq_level_name(level), use_batch ? " batch" : "", nt, worst);
        free(x), free(yr), free(yf), free(ar), free(af);
    }
    free(w);
    free(wf);
}

/* Q8_0 repacked into 16-row groups (repack.h): the same numbers (reference
 * dequantization bit-identical to Q8_0's, so the reference products are
 * too), the fast kernel within the activation-quantization bound, and a
 * token's results independent of the batch it comes in (bit-identical to
 * computing it alone: exact mode relies on it). */
static void check_r16(void) {
    const int64_t n_in = 512;
    const int rows = 48, toks[] = {1, 2, 3, 4, 8, 17, 33};
    uint8_t *q = random_rows(QT_Q8_0, n_in, rows), *r = aligned_alloc(64, qtype_row_size(QT_Q8_0, n_in) * rows);
    r16_pack(q, n_in, rows, r);
    kq_mat mq = {q, QT_Q8_0, n_in, rows, qtype_row_size(QT_Q8_0, n_in)}, mr = mq;
    mr.data = r, mr.type = QT_Q8_0_R16;
    float *wf = malloc(sizeof(float) * n_in * rows), *b = malloc(sizeof(float) * n_in);
    int same = 1;
    for (int k = 0; k < rows; k++) {
        qtype_get(QT_Q8_0)->dequant(q + k * mq.row_bytes, wf + k * n_in, n_in);
        r16_dequant_row(&mr, k, b);
        same &= !memcmp(wf + k * n_in, b, sizeof(float) * n_in);
    }
    CHECK(same, "Q8_0_R16 rows dequantize bit-identically to their Q8_0 rows");
    for (int level = KQ_REF; level < KQ_NLEVELS; level++) {
        const kq_ops *fast = level == KQ_REF ? &kq_ref_ops : kq_level(level);
        if (!fast || (level != KQ_REF && !fast->supports(QT_Q8_0_R16))) continue;
        for (size_t ti = 0; ti < sizeof toks / sizeof toks[0]; ti++) {
            int nt = toks[ti];
            float *x = malloc(sizeof(float) * n_in * nt), *yq = malloc(sizeof(float) * rows * nt),
                  *yr = malloc(sizeof(float) * rows * nt), *y1 = malloc(sizeof(float) * rows * nt);
            for (int64_t i = 0; i < n_in * nt; i++) x[i] = rndf() * (i % 7 == 0 ? 4.f : 1.f);
            size_t sr = kq_ref_ops.act_bytes(QT_Q8_0, n_in), sf = (fast->act_bytes(QT_Q8_0_R16, n_in) + 63) & ~(size_t)63;
            uint8_t *ar = malloc(sr * nt), *af = aligned_alloc(64, sf * nt);
            for (int k = 0; k < nt; k++) {
                kq_ref_ops.prepare(QT_Q8_0, x + k * n_in, ar + k * sr, n_in);
                fast->prepare(QT_Q8_0_R16, x + k * n_in, af + k * sf, n_in);
            }
            kq_ref_ops.rows(&mq, ar, sr, nt, yq, rows, 0, rows);
            fast->rows(&mr, af, sf, nt, yr, rows, 0, 16); /* split in groups, as threads do */
            fast->rows(&mr, af, sf, nt, yr, rows, 16, rows);
            for (int k = 0; k < nt; k++) fast->rows(&mr, af + k * sf, sf, 1, y1 + k * rows, rows, 0, rows);
            double worst = 0;
            for (int k = 0; k < nt; k++)
                for (int row = 0; row < rows; row++) {
                    double bound = level == KQ_REF ? 0 : act_bound(wf + row * n_in, x + k * n_in, n_in, 1);
                    double d = fabs((double)yr[k * rows + row] - yq[k * rows + row]);
                    worst = !(d <= bound) ? INFINITY : bound > 0 && d / bound > worst ? d / bound : worst;
                }
            CHECK(worst <= 1, "Q8_0_R16 %s, %d token(s): %s (worst %.2f of the bound)", kq_level_name(level), nt,
                  level == KQ_REF ? "reference equals Q8_0's bit for bit" : "within the activation-quantization bound",
                  worst);
            CHECK(!memcmp(yr, y1, sizeof(float) * rows * nt), "Q8_0_R16 %s, %d token(s): bit-identical to one token at a time",
                  kq_level_name(level), nt);
            free(x), free(yq), free(yr), free(y1), free(ar), free(af);
        }
    }
    free(q), free(r), free(wf), free(b);
}

/* Causal attention of a block of tokens (kq_vec_ops.attn) at every kernel
 * level against an exact float64 softmax of the same (half-rounded) K and V,
 * for several head sizes, group sizes, block sizes and lengths. */
static void check_attention(void) {
    static const int hds[] = {32, 64, 80, 128}, groups[] = {1, 2, 4, 8}, ntoks[] = {1, 3, 8}, nkv0s[] = {1, 7, 300};
    enum { KVH = 2 };
    for (size_t ih = 0; ih < 4; ih++)
        for (size_t ig = 0; ig < 4; ig++)
            for (size_t it = 0; it < 3; it++)
                for (size_t in = 0; in < 3; in++) {
                    int hd = hds[ih], group = groups[ig], n_tok = ntoks[it], n_kv0 = nkv0s[in];
                    int n_max = n_kv0 + n_tok - 1, rows = group * n_tok;
                    size_t stride = (size_t)KVH * hd, ldq = (size_t)(group + 1) * hd; /* a gap between tokens */
                    float *q = malloc(sizeof(float) * n_tok * ldq), *sc = malloc(sizeof(float) * rows * n_max),
                          *out = malloc(sizeof(float) * n_tok * ldq);
                    uint16_t *K = malloc(sizeof(uint16_t) * n_max * stride), *V = malloc(sizeof(uint16_t) * n_max * stride);
                    double *ref = calloc((size_t)n_tok * ldq, sizeof(double)), *e = malloc(sizeof(double) * n_max);
                    for (size_t i = 0; i < n_tok * ldq; i++) q[i] = 2 * rndf();
                    for (size_t i = 0; i < n_max * stride; i++) K[i] = fl_f32_to_f16(rndf()), V[i] = fl_f32_to_f16(rndf());
                    float scale = 1.f / sqrtf((float)hd);
                    /* the second KV head's columns (offset hd), as forward.c passes them */
                    for (int t = 0; t < n_tok; t++)
                        for (int h = 0; h < group; h++) {
                            const float *qr = q + t * ldq + h * hd;
                            double *o = ref + t * ldq + h * hd, mx = -1e300, sum = 0;
                            int len = n_kv0 + t;
                            for (int p = 0; p < len; p++) {
                                double s = 0;
                                for (int i = 0; i < hd; i++) s += (double)qr[i] * fl_f16_to_f32(K[p * stride + hd + i]);
                                e[p] = s * scale;
                                if (e[p] > mx) mx = e[p];
                            }
                            for (int p = 0; p < len; p++) sum += (e[p] = exp(e[p] - mx));
                            for (int p = 0; p < len; p++)
                                for (int i = 0; i < hd; i++) o[i] += e[p] / sum * fl_f16_to_f32(V[p * stride + hd + i]);
                        }
                    for (int level = 0; level < KQ_NLEVELS; level++) {
                        if (kq_set_level(level)) continue;
                        for (size_t i = 0; i < n_tok * ldq; i++) out[i] = 12345.f; /* the gaps must stay */
                        kq_vec()->attn(group, n_tok, hd, n_kv0, q, ldq, K + hd, V + hd, stride, scale, sc, out);
                        double worst = 0;
                        int gaps = 1;
                        for (int t = 0; t < n_tok; t++) {
                            for (int i = 0; i < group * hd; i++)
                                worst = fmax(worst, fabs(out[t * ldq + i] - ref[t * ldq + i]));
                            for (int i = group * hd; i < (int)ldq; i++) gaps &= out[t * ldq + i] == 12345.f;
                        }
                        CHECK(worst < 1e-5 && gaps,
                              "%s attention, head size %d, group %d, %d token(s) from %d positions (max error %.2g)",
                              kq_level_name(level), hd, group, n_tok, n_kv0, worst);
                    }
                    free(q), free(K), free(V), free(sc), free(out), free(ref), free(e);
                }
}

/* kq_vec_ops.silu_mul and .to_f16 at every level: silu within a few ulp of
 * a float64 silu (odd lengths: vector tails), half floats bit-identical to
 * fl_f32_to_f16 over normal, subnormal, overflowing and signed-zero inputs. */
static void check_vec_ops(void) {
    enum { N = 1003 };
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N), *x = malloc(sizeof(float) * N);
    uint16_t *h = malloc(sizeof(uint16_t) * N);
    for (int level = 0; level < KQ_NLEVELS; level++) {
        if (kq_set_level(level)) continue;
        double worst = 0;
        for (int i = 0; i < N; i++) {
            float r = rndf();
            x[i] = i % 5 == 0 ? 40.f * r : i % 7 == 0 ? 200.f * r : 6.f * r;   /* into both tails of exp */
            a[i] = x[i];
            b[i] = rndf() + 1.5f;
        }
        kq_vec()->silu_mul(N, a, b);
        double tiny = 0;   /* results below 1e-30 (very negative x): the SIMD exp stops at e^-87 */
        for (int i = 0; i < N; i++) {
            double want = (double)x[i] / (1.0 + exp(-(double)x[i])) * b[i];
            if (fabs(want) < 1e-30) tiny = fmax(tiny, fabs(a[i] - want));
            else worst = fmax(worst, fabs(a[i] - want) / fabs(want));
        }
        CHECK(worst < 1e-6 && tiny < 1e-33, "%s silu_mul within 1e-6 relative of float64 (worst %.2g; %.2g absolute below 1e-30)",
              kq_level_name(level), worst, tiny);
        int same = 1;
        for (int i = 0; i < N; i++) {
            float r = rndf();
            x[i] = i % 4 == 0 ? r * 1e-5f : i % 4 == 1 ? r * 70000.f : i % 4 == 2 ? r * 65519.f : r * 10.f;
        }
        x[0] = -0.f, x[1] = 65504.f, x[2] = 65520.f, x[3] = 6e-8f, x[4] = 2.98e-8f, x[5] = 5.96e-8f;
        kq_vec()->to_f16(N, x, h);
        for (int i = 0; i < N; i++) same &= h[i] == fl_f32_to_f16(x[i]);
        CHECK(same, "%s to_f16 bit-identical to fl_f32_to_f16 (subnormals, overflow, -0)", kq_level_name(level));
    }
    free(a), free(b), free(x), free(h);
}

int main(void) {
    const uint32_t types[] = {QT_F32, QT_F16, QT_BF16, QT_Q8_0, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q4_K, QT_Q5_K, QT_Q6_K, QT_IQ4_XS};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        for (int level = KQ_AVX2; level < KQ_NLEVELS; level++) {
            check_type(types[i], level, 0);
            check_type(types[i], level, 1);
        }
    check_r16();
    check_attention();
    check_vec_ops();
    return tap_done();
}
