/* repack.h — Q8_0 weights repacked at load into 16-row interleaved groups.
 *
 * QT_Q8_0_R16 (a flint-internal type id, never read from a GGUF file) holds
 * the same numbers as Q8_0 in the same number of bytes, reordered so that a
 * 512-bit register takes 4 bytes of each of 16 consecutive rows. Group j
 * (rows 16j .. 16j+15 of nb blocks of 32) occupies the bytes the 16 Q8_0
 * rows did (16 · nb · 34), laid out as
 *     uint16_t d[nb][16];        block scales (IEEE half) of the 16 rows
 *     uint8_t  u[nb][8][16][4];  block b, bytes 4g..4g+3 of row k, stored
 *                                unsigned: u = w + 128
 * so a weight is (u − 128) · d. A matrix keeps its kq_mat.row_bytes (the
 * Q8_0 row size, for strides) and needs n_rows % 16 == 0.
 *
 * Why: the single-token kernel (kernels_r16_avx512.h) then puts rows in
 * vector lanes: a block of 16 rows costs 8 vpdpbusd and one multiply-add, no
 * horizontal sums, and its weights stay in L1 while every token of a batch
 * passes over them. That is as fast as the prompt-processing tiles up to 64
 * tokens (within ~10% beyond) without their per-call unpacking, so these
 * weights take the same kernel for every batch size: batches give the bits of
 * token-by-token decoding, and speculative verification in exact mode loses
 * nothing. */
#ifndef FLINT_REPACK_H
#define FLINT_REPACK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/kernels.h"

#define QT_Q8_0_R16 0x100u
#define R16_ROWS 16

/* Row r of QT_Q8_0_R16 matrix w as w->n_in floats (the values its Q8_0 row
 * dequantizes to, bit for bit). */
void r16_dequant_row(const kq_mat *w, int64_t r, float *out);

/* Repack the n_rows (a multiple of 16) Q8_0 rows of n_in elements at src
 * into dst (the same number of bytes, not overlapping src). */
void r16_pack(const uint8_t *src, int64_t n_in, int64_t n_rows, uint8_t *dst);

/* Can matrix w be repacked (Q8_0, rows a multiple of 16)? */
int r16_can_pack(const kq_mat *w);

/* Repack every matrix of m that matmuls read and that can be (see
 * r16_can_pack) into owned memory (m->repacked), when the active kernel level
 * computes QT_Q8_0_R16 natively, the environment does not say FLINT_REPACK=0,
 * and the copy fits in memory; otherwise the model runs from its mapping as
 * before. The mapped pages of the originals are given back, so resident
 * memory stays about the size of the file. */
void model_repack(eng_model *m);

/* Give the pages wholly inside [p, p+n) of a read-only file mapping back
 * (they are read again from the file if ever touched). Only for mappings:
 * anonymous memory would read back as zeros. */
void drop_pages(const uint8_t *p, size_t n);

#endif
