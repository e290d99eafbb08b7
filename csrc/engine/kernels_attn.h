/* kernels_attn.h — grouped-query attention for one group of heads, written
 * once over two primitives. Include after defining:
 *   ATTN_NAME  the function's name
 *   DOT(n, a, b)      float a · half-float b
 *   AXPY(n, a, x, y)  y += a·x, x half floats
 * (kernels_ref.c uses plain loops, kernels_x86.h its SIMD primitives.) */
#include <math.h>
#include <string.h>

/* Attention for a group of heads sharing K/V (see kq_vec_ops.attn): each K and
 * V row is read once for the whole group. */
static void ATTN_NAME(int group, int hd, int n_kv, const float *q, const uint16_t *K, const uint16_t *V, size_t kv_stride,
                      float scale, float *scores, float *out) {
    float mx[64];
    for (int h = 0; h < group; h++) mx[h] = -INFINITY;
    for (int p = 0; p < n_kv; p++) {
        const uint16_t *k = K + (size_t)p * kv_stride;
        for (int h = 0; h < group; h++) {
            float s = DOT(hd, q + (size_t)h * hd, k) * scale;
            scores[(size_t)h * n_kv + p] = s;
            if (s > mx[h]) mx[h] = s;
        }
    }
    float inv[64];
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

#undef ATTN_NAME
#undef DOT
#undef AXPY
