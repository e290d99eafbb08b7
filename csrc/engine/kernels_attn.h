/* kernels_attn.h — grouped-query attention for one KV head, written once
 * over two primitives. Include after defining:
 *   ATTN_NAME  the function's name (kq_vec_ops.attn's signature)
 *   DOT(n, a, b)      float a · half-float b
 *   AXPY(n, a, x, y)  y += a·x, x half floats
 * (kernels_ref.c uses plain loops, kernels_x86.h its SIMD primitives.) */
#include <math.h>
#include <string.h>

#define ATTN_CAT2(a, b) a##b
#define ATTN_CAT(a, b) ATTN_CAT2(a, b)
#define ATTN_GROUP ATTN_CAT(ATTN_NAME, _group)

/* One token's group of heads over positions [0, n_kv): each K and V row is
 * read once for the whole group. */
static void ATTN_GROUP(int group, int hd, int n_kv, const float *q, const uint16_t *K, const uint16_t *V,
                               size_t kv_stride, float scale, float *scores, float *out) {
    float mx[KQ_ATTN_ROWS_MAX];
    for (int h = 0; h < group; h++) mx[h] = -INFINITY;
    for (int p = 0; p < n_kv; p++) {
        const uint16_t *k = K + (size_t)p * kv_stride;
        for (int h = 0; h < group; h++) {
            float s = DOT(hd, q + (size_t)h * hd, k) * scale;
            scores[(size_t)h * n_kv + p] = s;
            if (s > mx[h]) mx[h] = s;
        }
    }
    float inv[KQ_ATTN_ROWS_MAX];
    for (int h = 0; h < group; h++) {
        float *sc = scores + (size_t)h * n_kv;
        double sum = 0;
        for (int p = 0; p < n_kv; p++) sum += (sc[p] = expf(sc[p] - mx[h]));
        inv[h] = (float)(1.0 / sum);
    }
    memset(out, 0, (size_t)group * hd * sizeof(float));
    for (int p = 0; p < n_kv; p++) {
        const uint16_t *v = V + (size_t)p * kv_stride;
        for (int h = 0; h < group; h++) AXPY(hd, scores[(size_t)h * n_kv + p] * inv[h], v, out + (size_t)h * hd);
    }
}

/* kq_vec_ops.attn: the block's tokens one after the other. */
static void ATTN_NAME(int group, int n_tok, int hd, int n_kv0, const float *q, size_t ldq, const uint16_t *K,
                      const uint16_t *V, size_t kv_stride, float scale, float *scores, float *out) {
    for (int t = 0; t < n_tok; t++)
        ATTN_GROUP(group, hd, n_kv0 + t, q + (size_t)t * ldq, K, V, kv_stride, scale, scores,
                          out + (size_t)t * ldq);
}

#undef ATTN_GROUP
#undef ATTN_CAT
#undef ATTN_CAT2
#undef ATTN_NAME
#undef DOT
#undef AXPY
