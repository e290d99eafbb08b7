/* test_qtypes.c — the scalar reference dequantizers.
 *
 * 1. Known blocks: bytes chosen by hand, expected values from an independent
 *    per-element formulation of each ggml layout (element i → its bits).
 * 2. Real blocks: every quantized tensor of the fixture models dequantizes to
 *    within the type's expected error of the F32 tensor it was made from.
 * 3. flint's own quantizers round-trip within their error bound.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/gguf.h"
#include "engine/qtypes.h"
#include "fixtures.h"
#include "tap.h"

static uint32_t rng = 12345;
static uint8_t rbyte(void) {
    rng = rng * 1103515245u + 12345u;
    return (uint8_t)(rng >> 16);
}

static int close_all(const float *a, const float *b, int n, float tol) {
    for (int i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= tol)) return 0;
    return 1;
}

static void known_q4_0(void) {
    blk_q4_0 b;
    b.d = fl_f32_to_f16(0.5f);
    for (int j = 0; j < 16; j++) b.qs[j] = rbyte();
    float got[32], want[32];
    qtype_get(QT_Q4_0)->dequant(&b, got, 32);
    for (int i = 0; i < 32; i++) want[i] = 0.5f * (float)(((b.qs[i % 16] >> (4 * (i / 16))) & 15) - 8);
    CHECK(close_all(got, want, 32, 0), "Q4_0 known block");
}

static void known_q8_0(void) {
    blk_q8_0 b;
    b.d = fl_f32_to_f16(0.125f);
    for (int j = 0; j < 32; j++) b.qs[j] = (int8_t)(j * 7 - 100);
    float got[32];
    qtype_get(QT_Q8_0)->dequant(&b, got, 32);
    int ok = 1;
    for (int i = 0; i < 32; i++) ok &= got[i] == 0.125f * (float)(i * 7 - 100);
    CHECK(ok, "Q8_0 known block");
}

/* 6-bit scale/min number j of a K-quant scales[12] array, bit by bit. */
static void kscale(const uint8_t *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 0x3f;
        *mn = s[j + 4] & 0x3f;
    } else {
        *sc = (s[j + 4] & 0x0f) + 16 * (s[j - 4] >> 6);
        *mn = (s[j + 4] >> 4) + 16 * (s[j] >> 6);
    }
}

static void known_q4_k(void) {
    blk_q4_k b;
    b.d = fl_f32_to_f16(0.25f);
    b.dmin = fl_f32_to_f16(0.0625f);
    for (int j = 0; j < 12; j++) b.scales[j] = rbyte();
    for (int j = 0; j < 128; j++) b.qs[j] = rbyte();
    float got[256], want[256];
    qtype_get(QT_Q4_K)->dequant(&b, got, 256);
    for (int i = 0; i < 256; i++) {
        int sub = i / 32, chunk = i / 64, l = i % 32, hi = sub % 2;
        int q = (b.qs[chunk * 32 + l] >> (4 * hi)) & 15, sc, mn;
        kscale(b.scales, sub, &sc, &mn);
        want[i] = 0.25f * sc * q - 0.0625f * mn;
    }
    CHECK(close_all(got, want, 256, 1e-5f), "Q4_K known block");
}

static void known_q5_k(void) {
    blk_q5_k b;
    b.d = fl_f32_to_f16(0.25f);
    b.dmin = fl_f32_to_f16(0.0625f);
    for (int j = 0; j < 12; j++) b.scales[j] = rbyte();
    for (int j = 0; j < 32; j++) b.qh[j] = rbyte();
    for (int j = 0; j < 128; j++) b.qs[j] = rbyte();
    float got[256], want[256];
    qtype_get(QT_Q5_K)->dequant(&b, got, 256);
    for (int i = 0; i < 256; i++) {
        int sub = i / 32, chunk = i / 64, l = i % 32, hi = sub % 2;
        int q = ((b.qs[chunk * 32 + l] >> (4 * hi)) & 15) + 16 * ((b.qh[l] >> sub) & 1), sc, mn;
        kscale(b.scales, sub, &sc, &mn);
        want[i] = 0.25f * sc * q - 0.0625f * mn;
    }
    CHECK(close_all(got, want, 256, 1e-5f), "Q5_K known block");
}

static void known_q6_k(void) {
    blk_q6_k b;
    b.d = fl_f32_to_f16(0.03125f);
    for (int j = 0; j < 128; j++) b.ql[j] = rbyte();
    for (int j = 0; j < 64; j++) b.qh[j] = rbyte();
    for (int j = 0; j < 16; j++) b.scales[j] = (int8_t)(rbyte() % 64 - 32);
    float got[256], want[256];
    qtype_get(QT_Q6_K)->dequant(&b, got, 256);
    for (int i = 0; i < 256; i++) {
        int half = i / 128, r = i % 128, quarter = r / 32, l = r % 32;
        int lo = (b.ql[half * 64 + (quarter % 2) * 32 + l] >> (4 * (quarter / 2))) & 15;
        int hb = (b.qh[half * 32 + l] >> (2 * quarter)) & 3;
        want[i] = 0.03125f * b.scales[i / 16] * (float)((lo | hb << 4) - 32);
    }
    CHECK(close_all(got, want, 256, 1e-5f), "Q6_K known block");
}

static void known_iq4_xs(void) {
    blk_iq4_xs b;
    b.d = fl_f32_to_f16(0.5f);
    b.scales_h = (uint16_t)(rbyte() | rbyte() << 8);
    for (int j = 0; j < 4; j++) b.scales_l[j] = rbyte();
    for (int j = 0; j < 128; j++) b.qs[j] = rbyte();
    float got[256], want[256];
    qtype_get(QT_IQ4_XS)->dequant(&b, got, 256);
    for (int i = 0; i < 256; i++) {
        int ib = i / 32, j = i % 32;
        int ls = ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 15) + 16 * ((b.scales_h >> (2 * ib)) & 3);
        int q = (b.qs[ib * 16 + j % 16] >> (4 * (j / 16))) & 15;
        want[i] = 0.5f * (float)(ls - 32) * qt_iq4nl_values[q];
    }
    CHECK(close_all(got, want, 256, 1e-5f), "IQ4_XS known block");
}

static void known_halfs(void) {
    uint16_t h[4] = {0x3c00, 0xc000, 0x0001, 0x7bff}; /* 1, -2, smallest subnormal, max */
    float f[4];
    qtype_get(QT_F16)->dequant(h, f, 4);
    CHECK(f[0] == 1.f && f[1] == -2.f && f[2] == ldexpf(1.f, -24) && f[3] == 65504.f, "F16 known values");
    uint16_t bf[2] = {0x3f80, 0xc0a0}; /* 1, -5 */
    qtype_get(QT_BF16)->dequant(bf, f, 2);
    CHECK(f[0] == 1.f && f[1] == -5.f, "BF16 known values");
    int rt = 1;
    for (int i = 0; i < 65536; i++) {
        float x = fl_f16_to_f32((uint16_t)i);
        if (x == x && fl_f32_to_f16(x) != i && !(x == 0 && (i & 0x7fff) == 0)) rt = 0;
    }
    CHECK(rt, "F16 -> F32 -> F16 is the identity on every non-NaN half");
}

/* Relative RMS error of a quantized fixture tensor against its F32 parent. */
static void real_blocks(const char *qfile, const char *ffile) {
    char err[FL_ERRLEN], a[512], b[512];
    snprintf(a, sizeof a, "%s", fixture_path(qfile));
    snprintf(b, sizeof b, "%s", fixture_path(ffile));
    gguf_file *q = NULL, *f = NULL;
    if (!CHECK(!gguf_open(a, &q, err, sizeof err) && !gguf_open(b, &f, err, sizeof err), "open %s and parent", qfile)) {
        gguf_close(q);
        return;
    }
    /* typical relative rms error of each type on Gaussian-like weights */
    double bound[QT_COUNT] = {0};
    bound[QT_Q8_0] = 0.01, bound[QT_Q4_0] = 0.15, bound[QT_Q4_K] = 0.12, bound[QT_Q5_K] = 0.06;
    bound[QT_Q6_K] = 0.03, bound[QT_BF16] = 0.005, bound[QT_F16] = 0.001;
    for (uint64_t i = 0; i < q->n_tensors; i++) {
        const gguf_tensor *tq = &q->tensors[i], *tf = gguf_tensor_find(f, tq->name);
        if (tq->type == QT_F32 || !tf || tf->type != QT_F32) continue;
        int64_t n = tq->ne[0] * tq->ne[1] * tq->ne[2];
        float *x = malloc((size_t)n * sizeof(float));
        qtype_get(tq->type)->dequant(tq->data, x, n);
        const float *ref = tf->data;
        double se = 0, sr = 0;
        for (int64_t k = 0; k < n; k++) {
            se += ((double)x[k] - ref[k]) * ((double)x[k] - ref[k]);
            sr += (double)ref[k] * ref[k];
        }
        double rel = sqrt(se / sr);
        CHECK(rel <= bound[tq->type], "%s %s (%s): relative rms error %.4f <= %.3f", qfile + 22, tq->name,
              qtype_get(tq->type)->name, rel, bound[tq->type]);
        free(x);
    }
    gguf_close(q);
    gguf_close(f);
}

static void own_quantizers(void) {
    float x[512], y[512];
    for (int i = 0; i < 512; i++) x[i] = sinf((float)i * 0.37f) * (1.f + (float)(i % 7));
    blk_q8_0 q8[16];
    qt_quantize_q8_0(x, q8, 512);
    qtype_get(QT_Q8_0)->dequant(q8, y, 512);
    int ok = 1;
    for (int i = 0; i < 512; i++) ok &= fabsf(x[i] - y[i]) <= fl_f16_to_f32(q8[i / 32].d) * 0.6f; /* half a step + f16 rounding of d */
    CHECK(ok, "Q8_0 quantizer round trip within 0.6 step");
    blk_q4_0 q4[16];
    qt_quantize_q4_0(x, q4, 512);
    qtype_get(QT_Q4_0)->dequant(q4, y, 512);
    ok = 1;
    for (int i = 0; i < 512; i++) ok &= fabsf(x[i] - y[i]) <= fabsf(fl_f16_to_f32(q4[i / 32].d)) * 1.01f;
    CHECK(ok, "Q4_0 quantizer round trip within one step");
    blk_q8_k qk[2];
    qt_quantize_q8_k(x, qk, 512);
    qtype_get(QT_Q8_K)->dequant(qk, y, 512);
    ok = 1;
    for (int i = 0; i < 512; i++) ok &= fabsf(x[i] - y[i]) <= fabsf(qk[i / 256].d) * 0.51f;
    int sums = 1;
    for (int j = 0; j < 16; j++) {
        int s = 0;
        for (int l = 0; l < 16; l++) s += qk[0].qs[j * 16 + l];
        sums &= s == qk[0].bsums[j];
    }
    CHECK(ok && sums, "Q8_K quantizer round trip and block sums");
}

int main(void) {
    known_q4_0();
    known_q8_0();
    known_q4_k();
    known_q5_k();
    known_q6_k();
    known_iq4_xs();
    known_halfs();
    real_blocks("tests/fixtures/models/small-qwen3moe.Q4_K_M.gguf", "tests/fixtures/models/small-qwen3moe.F32.gguf");
    real_blocks("tests/fixtures/models/small-qwen2.Q4_K_M.gguf", "tests/fixtures/models/small-qwen2.F32.gguf");
    real_blocks("tests/fixtures/models/small-qwen2.BF16.gguf", "tests/fixtures/models/small-qwen2.F32.gguf");
    real_blocks("tests/fixtures/models/tiny-qwen3moe.F16.gguf", "tests/fixtures/models/tiny-qwen3moe.F32.gguf");
    real_blocks("tests/fixtures/models/tiny-llama.Q4_0.gguf", "tests/fixtures/models/tiny-llama.F32.gguf");
    real_blocks("tests/fixtures/models/tiny-llama.Q8_0.gguf", "tests/fixtures/models/tiny-llama.F32.gguf");
    own_quantizers();
    return tap_done();
}
