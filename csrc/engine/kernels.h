/* kernels.h — matrix products over quantized weights, with runtime CPU dispatch.
 *
 * A product runs in two steps:
 *   1. kq_prepare(): turn float activations into the form the weight type's
 *      dot product wants (the scalar reference keeps float32; SIMD paths
 *      quantize to 8-bit blocks once per matmul, as the llama.cpp family does).
 *   2. kq_rows(): for weight rows [r0, r1) and all n_tok prepared activation
 *      rows, y[t * ldy + r] = dot(W[r], x[t]). Threads call it on disjoint
 *      row ranges.
 *
 * Levels: KQ_REF (scalar reference, always available), KQ_AVX2, KQ_AVX512.
 * kq_init() picks the best level the CPU supports unless the environment
 * variable FLINT_KERNELS=ref|avx2|avx512 forces one (tests force each).
 */
#ifndef FLINT_KERNELS_H
#define FLINT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

enum { KQ_REF = 0, KQ_AVX2 = 1, KQ_AVX512 = 2, KQ_NLEVELS };

/* A weight matrix: n_rows rows of n_in elements of a ggml type. */
typedef struct {
    const uint8_t *data;
    uint32_t type;
    int64_t n_in, n_rows;
    size_t row_bytes;
} kq_mat;

typedef struct kq_ops_s {
    const char *name;
    /* bytes of one prepared activation row of n floats for weight type wt */
    size_t (*act_bytes)(uint32_t wt, int64_t n);
    void (*prepare)(uint32_t wt, const float *x, void *dst, int64_t n);
    /* rows [r0, r1) × n_tok activations (act_stride bytes apart) */
    void (*rows)(const kq_mat *w, const void *act, size_t act_stride, int n_tok, float *y, int ldy,
                 int64_t r0, int64_t r1);
    /* can this level compute weight type wt? */
    int (*supports)(uint32_t wt);
    /* optional kernels for batches of at least KQ_BATCH_MIN tokens (prompt
     * processing): same contract, own activation format; rows are best split
     * in multiples of KQ_ROW_GROUP */
    const struct kq_ops_s *batch;
} kq_ops;

#define KQ_BATCH_MIN 4
#define KQ_ROW_GROUP 16

/* The token lanes the batch kernels compute for n tokens: groups of 16, a
 * tail of up to 8 at half cost (for balancing threads by arithmetic). */
static inline int64_t kq_batch_lanes(int64_t n) {
    int64_t tail = n % 16;
    return n - tail + (tail == 0 ? 0 : tail <= 8 ? 8 : 16);
}

/* Most query rows (tokens × heads of a group) one attention call takes. */
#define KQ_ATTN_ROWS_MAX 64

/* Attention, dispatched like the matmuls. */
typedef struct {
    /* Causal attention of n_tok consecutive tokens' query heads that share one
     * KV head: head h of token t (h < group, t < n_tok) attends to the cached
     * positions [0, n_kv0 + t): out = softmax_p(scale · q·K[p]) · V[p].
     * Token t's heads lie back to back (hd floats each) at q + t·ldq, its
     * output at out + t·ldq. K and V are the cache's IEEE half floats, rows
     * kv_stride elements apart. scores is scratch of
     * group·n_tok × (n_kv0 + n_tok − 1) floats. Requires n_kv0 ≥ 1 and
     * group·n_tok ≤ KQ_ATTN_ROWS_MAX. */
    void (*attn)(int group, int n_tok, int hd, int n_kv0, const float *q, size_t ldq, const uint16_t *K,
                 const uint16_t *V, size_t kv_stride, float scale, float *scores, float *out);
    /* a[i] = silu(a[i]) · b[i] for i < n, silu(x) = x / (1 + e^−x) (the SIMD
     * levels' exp is within ~1 ulp of expf). */
    void (*silu_mul)(int64_t n, float *a, const float *b);
    /* y[i] = x[i] as an IEEE half float, rounded to nearest even: bit-identical
     * to fl_f32_to_f16 except for NaN payloads. */
    void (*to_f16)(int64_t n, const float *x, uint16_t *y);
} kq_vec_ops;

/* The active level's vector primitives. */
const kq_vec_ops *kq_vec(void);

/* Select the kernel level (see above). Idempotent, thread-safe after the first call. */
void kq_init(void);

/* The active kernel set; falls back to the reference for types a SIMD level lacks. */
const kq_ops *kq_for_type(uint32_t wt);

/* A specific level's kernels (NULL if the CPU cannot run it or it is not built). */
const kq_ops *kq_level(int level);

/* Force a level for the rest of the process (tests, benchmarks). Returns 0,
 * or -1 if this CPU cannot run it. */
int kq_set_level(int level);

/* The level kq_init() picked (or kq_set_level() forced), and its name. */
int kq_active_level(void);
const char *kq_level_name(int level);

/* Per-thread scratch memory for kernels: a 64-byte aligned buffer of at
 * least `bytes` for `slot`, grown on demand and freed when the thread exits
 * (kq_scratch_release frees the calling thread's now). NULL if out of memory. */
enum { KQ_SCRATCH_ROW, KQ_SCRATCH_BATCH_ACT, KQ_SCRATCH_BATCH_W, KQ_SCRATCH_N };
void *kq_scratch(int slot, size_t bytes);
void kq_scratch_release(void);

/* Scalar reference kernels (always present). */
extern const kq_ops kq_ref_ops;

/* Does weight type wt have a scalar reference dequantizer (i.e. can flint compute with it)? */
int kq_type_supported(uint32_t wt);

#endif
