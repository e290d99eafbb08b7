/* qtypes.c — the ggml type table and scalar reference (de)quantizers. */
#include "engine/qtypes.h"

#include <math.h>
#include <string.h>

#include "common/common.h"

const int8_t qt_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static void dq_f32(const void *src, float *y, int64_t n) { memcpy(y, src, (size_t)n * sizeof(float)); }

static void dq_f16(const void *src, float *y, int64_t n) {
    const uint16_t *x = src;
    for (int64_t i = 0; i < n; i++) y[i] = fl_f16_to_f32(x[i]);
}

static void dq_bf16(const void *src, float *y, int64_t n) {
    const uint16_t *x = src;
    for (int64_t i = 0; i < n; i++) y[i] = fl_bf16_to_f32(x[i]);
}

static void dq_q4_0(const void *src, float *y, int64_t n) {
    const blk_q4_0 *b = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float d = fl_f16_to_f32(b[i].d);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((b[i].qs[j] & 0xF) - 8) * d;
            y[j + 16] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void dq_q4_1(const void *src, float *y, int64_t n) {
    const blk_q4_1 *b = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float d = fl_f16_to_f32(b[i].d), m = fl_f16_to_f32(b[i].m);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(b[i].qs[j] & 0xF) * d + m;
            y[j + 16] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

static void dq_q5_0(const void *src, float *y, int64_t n) {
    const blk_q5_0 *b = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float d = fl_f16_to_f32(b[i].d);
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            int x0 = (b[i].qs[j] & 0xF) | (int)(((qh >> j) << 4) & 0x10);
            int x1 = (b[i].qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
            y[j] = (float)(x0 - 16) * d;
            y[j + 16] = (float)(x1 - 16) * d;
        }
    }
}

static void dq_q5_1(const void *src, float *y, int64_t n) {
    const blk_q5_1 *b = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float d = fl_f16_to_f32(b[i].d), m = fl_f16_to_f32(b[i].m);
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            int x0 = (b[i].qs[j] & 0xF) | (int)(((qh >> j) << 4) & 0x10);
            int x1 = (b[i].qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
            y[j] = (float)x0 * d + m;
            y[j + 16] = (float)x1 * d + m;
        }
    }
}

static void dq_q8_0(const void *src, float *y, int64_t n) {
    const blk_q8_0 *b = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float d = fl_f16_to_f32(b[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)b[i].qs[j] * d;
    }
}

static void dq_q4_k(const void *src, float *y, int64_t n) {
    const blk_q4_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = fl_f16_to_f32(b[i].d), dmin = fl_f16_to_f32(b[i].dmin);
        const uint8_t *q = b[i].qs;
        for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
            uint8_t sc, m;
            qt_scale_min_k4(is, b[i].scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            qt_scale_min_k4(is + 1, b[i].scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

static void dq_q5_k(const void *src, float *y, int64_t n) {
    const blk_q5_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = fl_f16_to_f32(b[i].d), dmin = fl_f16_to_f32(b[i].dmin);
        const uint8_t *ql = b[i].qs, *qh = b[i].qh;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            qt_scale_min_k4(is, b[i].scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            qt_scale_min_k4(is + 1, b[i].scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

static void dq_q6_k(const void *src, float *y, int64_t n) {
    const blk_q6_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = fl_f16_to_f32(b[i].d);
        const uint8_t *ql = b[i].ql, *qh = b[i].qh;
        const int8_t *sc = b[i].scales;
        for (int h = 0; h < QK_K; h += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * (float)q1;
                y[l + 32] = d * sc[is + 2] * (float)q2;
                y[l + 64] = d * sc[is + 4] * (float)q3;
                y[l + 96] = d * sc[is + 6] * (float)q4;
            }
        }
    }
}

static void dq_iq4_xs(const void *src, float *y, int64_t n) {
    const blk_iq4_xs *b = src;
    for (int64_t i = 0; i < n / QK_K; i++) {
        float d = fl_f16_to_f32(b[i].d);
        const uint8_t *qs = b[i].qs;
        for (int ib = 0; ib < QK_K / 32; ib++, y += 32, qs += 16) {
            int ls = ((b[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((b[i].scales_h >> 2 * ib) & 3) << 4);
            float dl = d * (float)(ls - 32);
            for (int j = 0; j < 16; j++) {
                y[j] = dl * qt_iq4nl_values[qs[j] & 0xf];
                y[j + 16] = dl * qt_iq4nl_values[qs[j] >> 4];
            }
        }
    }
}

static void dq_q8_k(const void *src, float *y, int64_t n) {
    const blk_q8_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++)
        for (int j = 0; j < QK_K; j++) *y++ = b[i].d * (float)b[i].qs[j];
}

static const qtype_info table[QT_COUNT] = {
    [QT_F32] = {"F32", 1, 4, dq_f32},
    [QT_F16] = {"F16", 1, 2, dq_f16},
    [QT_BF16] = {"BF16", 1, 2, dq_bf16},
    [QT_Q4_0] = {"Q4_0", 32, sizeof(blk_q4_0), dq_q4_0},
    [QT_Q4_1] = {"Q4_1", 32, sizeof(blk_q4_1), dq_q4_1},
    [QT_Q5_0] = {"Q5_0", 32, sizeof(blk_q5_0), dq_q5_0},
    [QT_Q5_1] = {"Q5_1", 32, sizeof(blk_q5_1), dq_q5_1},
    [QT_Q8_0] = {"Q8_0", 32, sizeof(blk_q8_0), dq_q8_0},
    [QT_Q8_1] = {"Q8_1", 32, 36, NULL},
    [QT_Q2_K] = {"Q2_K", QK_K, 84, NULL},
    [QT_Q3_K] = {"Q3_K", QK_K, 110, NULL},
    [QT_Q4_K] = {"Q4_K", QK_K, sizeof(blk_q4_k), dq_q4_k},
    [QT_Q5_K] = {"Q5_K", QK_K, sizeof(blk_q5_k), dq_q5_k},
    [QT_Q6_K] = {"Q6_K", QK_K, sizeof(blk_q6_k), dq_q6_k},
    [QT_Q8_K] = {"Q8_K", QK_K, sizeof(blk_q8_k), dq_q8_k},
    [QT_IQ2_XXS] = {"IQ2_XXS", QK_K, 66, NULL},
    [QT_IQ2_XS] = {"IQ2_XS", QK_K, 74, NULL},
    [QT_IQ3_XXS] = {"IQ3_XXS", QK_K, 98, NULL},
    [QT_IQ1_S] = {"IQ1_S", QK_K, 50, NULL},
    [QT_IQ4_NL] = {"IQ4_NL", 32, 18, NULL},
    [QT_IQ3_S] = {"IQ3_S", QK_K, 110, NULL},
    [QT_IQ2_S] = {"IQ2_S", QK_K, 82, NULL},
    [QT_IQ4_XS] = {"IQ4_XS", QK_K, sizeof(blk_iq4_xs), dq_iq4_xs},
    [QT_I8] = {"I8", 1, 1, NULL},
    [QT_I16] = {"I16", 1, 2, NULL},
    [QT_I32] = {"I32", 1, 4, NULL},
    [QT_I64] = {"I64", 1, 8, NULL},
    [QT_F64] = {"F64", 1, 8, NULL},
    [QT_IQ1_M] = {"IQ1_M", QK_K, 56, NULL},
    [QT_TQ1_0] = {"TQ1_0", QK_K, 54, NULL},
    [QT_TQ2_0] = {"TQ2_0", QK_K, 66, NULL},
};

const qtype_info *qtype_get(uint32_t type) {
    if (type >= QT_COUNT || !table[type].name) return NULL;
    return &table[type];
}

size_t qtype_row_size(uint32_t type, int64_t n) {
    const qtype_info *q = qtype_get(type);
    return (size_t)(n / q->blck) * q->size;
}

void qt_quantize_q8_0(const float *x, blk_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.f, id = d ? 1.f / d : 0.f;
        y[i].d = fl_f32_to_f16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

void qt_quantize_q4_0(const float *x, blk_q4_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        float d = max / -8.f, id = d ? 1.f / d : 0.f;
        y[i].d = fl_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            int a = (int)(x[j] * id + 8.5f), b = (int)(x[j + 16] * id + 8.5f);
            a = a > 15 ? 15 : a;
            b = b > 15 ? 15 : b;
            y[i].qs[j] = (uint8_t)(a | (b << 4));
        }
    }
}

void qt_quantize_q8_k(const float *x, blk_q8_k *y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float amax = 0, max = 0;
        for (int j = 0; j < QK_K; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) {
            int v = (int)lrintf(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[i].qs[j * 16 + l];
            y[i].bsums[j] = (int16_t)s;
        }
        y[i].d = 1.f / iscale;
    }
}
