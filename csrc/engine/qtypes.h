/* qtypes.h — ggml tensor types: ids, block layouts, scalar reference dequantization.
 *
 * Ids and block layouts follow ggml exactly (they are what GGUF files store).
 * A "row" of n elements of a block type occupies n / blck * size bytes.
 * The scalar dequantizers here are the reference every fast kernel is tested
 * against (tests/c/test_qtypes.c).
 */
#ifndef FLINT_QTYPES_H
#define FLINT_QTYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    QT_F32 = 0, QT_F16 = 1, QT_Q4_0 = 2, QT_Q4_1 = 3, QT_Q5_0 = 6, QT_Q5_1 = 7,
    QT_Q8_0 = 8, QT_Q8_1 = 9, QT_Q2_K = 10, QT_Q3_K = 11, QT_Q4_K = 12, QT_Q5_K = 13,
    QT_Q6_K = 14, QT_Q8_K = 15, QT_IQ2_XXS = 16, QT_IQ2_XS = 17, QT_IQ3_XXS = 18,
    QT_IQ1_S = 19, QT_IQ4_NL = 20, QT_IQ3_S = 21, QT_IQ2_S = 22, QT_IQ4_XS = 23,
    QT_I8 = 24, QT_I16 = 25, QT_I32 = 26, QT_I64 = 27, QT_F64 = 28, QT_IQ1_M = 29,
    QT_BF16 = 30, QT_TQ1_0 = 34, QT_TQ2_0 = 35,
    QT_COUNT = 40
};

#define QK_K 256

typedef struct {
    const char *name;
    int blck;       /* elements per block */
    size_t size;    /* bytes per block */
    /* Reference dequantization of n elements (n % blck == 0); NULL if flint
     * cannot compute with this type (the file still parses). */
    void (*dequant)(const void *src, float *dst, int64_t n);
} qtype_info;

/* Type info for a ggml type id, or NULL for an id ggml does not define. */
const qtype_info *qtype_get(uint32_t type);

/* Bytes of a row of n elements of type t (n must be a multiple of the block). */
size_t qtype_row_size(uint32_t type, int64_t n);

/* Block structs, laid out byte for byte as ggml stores them. */
typedef struct { uint16_t d; uint8_t qs[16]; } blk_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[16]; } blk_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } blk_q8_0;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } blk_q4_k;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } blk_q5_k;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } blk_q6_k;
typedef struct { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; } blk_iq4_xs;
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } blk_q8_k;

/* The 16 non-linear levels of IQ4_NL / IQ4_XS. */
extern const int8_t qt_iq4nl_values[16];

/* 6-bit scale j and min j of a Q4_K / Q5_K block's packed scales. */
static inline void qt_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* All 8 scales (bytes 0-7 of u) and mins (bytes 8-15) of a Q4_K/Q5_K block at
 * once, by bit operations on the 12 packed bytes (same values as qt_scale_min_k4). */
static inline void qt_k4_scales(const uint8_t *s, uint32_t u[4]) {
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    memcpy(u, s, 12);
    u[3] = ((u[2] >> 4) & m4) | (((u[1] >> 6) & m2) << 4);
    uint32_t mins_lo = u[1] & m6;
    u[1] = (u[2] & m4) | (((u[0] >> 6) & m2) << 4);
    u[2] = mins_lo;
    u[0] &= m6;
}

/* Reference quantizers (used by synth, tests and activation quantization). */
void qt_quantize_q8_0(const float *x, blk_q8_0 *y, int64_t n);
void qt_quantize_q4_0(const float *x, blk_q4_0 *y, int64_t n);
void qt_quantize_q8_k(const float *x, blk_q8_k *y, int64_t n);

#endif
