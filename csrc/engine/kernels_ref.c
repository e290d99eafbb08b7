/* kernels_ref.c — the scalar reference: dequantize a weight row to float32 and
 * take float dot products with float32 activations. Every SIMD kernel is tested
 * against this (tests/c/test_kernels.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/kernels.h"
#include "engine/qtypes.h"
#include "engine/repack.h"

int kq_type_supported(uint32_t wt) {
    const qtype_info *q = qtype_get(wt);
    return q && q->dequant;
}

static size_t ref_act_bytes(uint32_t wt, int64_t n) { return (size_t)n * sizeof(float); }

static void ref_prepare(uint32_t wt, const float *x, void *dst, int64_t n) {
    memcpy(dst, x, (size_t)n * sizeof(float));
}

static float dot_f32(int64_t n, const float *a, const float *b) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static float dot_f16kv(int64_t n, const float *a, const uint16_t *b) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * fl_f16_to_f32(b[i]);
        s1 += a[i + 1] * fl_f16_to_f32(b[i + 1]);
        s2 += a[i + 2] * fl_f16_to_f32(b[i + 2]);
        s3 += a[i + 3] * fl_f16_to_f32(b[i + 3]);
    }
    for (; i < n; i++) s0 += a[i] * fl_f16_to_f32(b[i]);
    return (s0 + s1) + (s2 + s3);
}

static void axpy_f16kv(int64_t n, float a, const uint16_t *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * fl_f16_to_f32(x[i]);
}

#define ATTN_NAME attn_ref
#define DOT dot_f16kv
#define AXPY axpy_f16kv
#include "engine/kernels_attn.h"

static void silu_mul_ref(int64_t n, float *a, const float *b) {
    for (int64_t i = 0; i < n; i++) a[i] = a[i] / (1.f + expf(-a[i])) * b[i];
}

static void to_f16_ref(int64_t n, const float *x, uint16_t *y) {
    for (int64_t i = 0; i < n; i++) y[i] = fl_f32_to_f16(x[i]);
}

const kq_vec_ops kq_ref_vec = {attn_ref, silu_mul_ref, to_f16_ref};

static void ref_rows(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy,
                     int64_t r0, int64_t r1) {
    const qtype_info *q = qtype_get(w->type);
    float *row = w->type == 0 ? NULL : kq_scratch(KQ_SCRATCH_ROW, (size_t)w->n_in * sizeof(float));
    for (int64_t r = r0; r < r1; r++) {
        const void *src = w->data + (size_t)r * w->row_bytes;
        const float *wr = src;
        if (w->type == QT_Q8_0_R16) {
            r16_dequant_row(w, r, row);
            wr = row;
        } else if (row) {
            q->dequant(src, row, w->n_in);
            wr = row;
        }
        for (int t = 0; t < n_tok; t++)
            y[(size_t)t * ldy + r] = dot_f32(w->n_in, wr, (const float *)((const uint8_t *)act + t * act_stride));
    }
}

const kq_ops kq_ref_ops = {
    .name = "ref",
    .act_bytes = ref_act_bytes,
    .prepare = ref_prepare,
    .rows = ref_rows,
    .supports = kq_type_supported,
};
