/* synth.c — random-weight GGUF models with the shapes of real models.
 *
 * Speed can be measured on a model's exact shapes and tensor types without
 * downloading it. Weights are random blocks of the requested type with sane
 * scales (values of order 0.02), norms near 1, F32 routers. The file has no
 * tokenizer (`tokenizer.ggml.model = "no_vocab"`, `{arch}.vocab_size` set), as
 * llama.cpp's own random-model tools write it.
 */
#include "engine/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/gguf_write.h"
#include "engine/qtypes.h"

static const synth_preset presets[] = {
    /* name, arch, n_embd, layers, heads, kv, head_dim, ff, experts, used, ff_exp, shared_ff, vocab, rope, eps, tied, granite */
    {"qwen3-30b-a3b", "qwen3moe", 2048, 48, 32, 4, 128, 6144, 128, 8, 768, 0, 151936, 1e6f, 1e-6f, 0, 0},
    {"granite-3b-a800m", "granitemoe", 1536, 32, 24, 8, 64, 512, 40, 8, 512, 0, 49155, 1e4f, 1e-6f, 1, 1},
    {"granite-1b-a400m", "granitemoe", 1024, 24, 16, 8, 64, 512, 32, 8, 512, 0, 49155, 1e4f, 1e-6f, 1, 1},
    {"olmoe-1b-7b", "olmoe", 2048, 16, 16, 16, 128, 1024, 64, 8, 1024, 0, 50304, 1e4f, 1e-5f, 0, 0},
    {"qwen2.5-coder-0.5b", "qwen2", 896, 24, 14, 2, 64, 4864, 0, 0, 0, 0, 151936, 1e6f, 1e-6f, 1, 0},
    {"qwen2-moe-a2.7b", "qwen2moe", 2048, 24, 16, 16, 128, 5632, 60, 4, 1408, 5632, 151936, 1e6f, 1e-6f, 0, 0},
};

const synth_preset *synth_find(const char *name) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}

const char *synth_preset_list(void) {
    static char list[512];
    if (!list[0])
        for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
            if (i) strcat(list, ", ");
            strcat(list, presets[i].name);
        }
    return list;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}
static float rndf(void) { return (float)rnd() / 2147483648.f - 1.f; } /* [-1, 1) */

/* Random blocks of `type` for n elements; scale fields set so values are ~0.02. */
static void *random_blocks(uint32_t type, int64_t n, float mag) {
    size_t bytes = qtype_row_size(type, n);
    uint8_t *p = malloc(bytes);
    if (!p) return NULL;
    for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)rnd();
    const qtype_info *q = qtype_get(type);
    int64_t nb = n / q->blck;
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *blk = p + (size_t)b * q->size;
        uint16_t d;
        switch (type) {
        case QT_F32: {
            float v = rndf() * mag;
            memcpy(blk, &v, 4);
            break;
        }
        case QT_F16: d = fl_f32_to_f16(rndf() * mag); memcpy(blk, &d, 2); break;
        case QT_BF16: d = fl_f32_to_bf16(rndf() * mag); memcpy(blk, &d, 2); break;
        case QT_Q8_0: d = fl_f32_to_f16(mag / 127.f); memcpy(blk, &d, 2); break;
        case QT_Q4_0: d = fl_f32_to_f16(mag / 8.f); memcpy(blk, &d, 2); break;
        case QT_Q5_0: d = fl_f32_to_f16(mag / 16.f); memcpy(blk, &d, 2); break;
        case QT_Q5_1: /* d, then m */
            d = fl_f32_to_f16(mag / 16.f);
            memcpy(blk, &d, 2);
            d = fl_f32_to_f16(-mag);
            memcpy(blk + 2, &d, 2);
            break;
        case QT_Q4_K: case QT_Q5_K: {
            blk_q4_k *k = (blk_q4_k *)blk; /* d and dmin lead both layouts */
            k->d = fl_f32_to_f16(mag / 15.f / 32.f);
            k->dmin = fl_f32_to_f16(mag / 63.f);
            break;
        }
        case QT_Q6_K: ((blk_q6_k *)blk)->d = fl_f32_to_f16(mag / 32.f / 64.f); break;
        case QT_IQ4_XS: ((blk_iq4_xs *)blk)->d = fl_f32_to_f16(mag / 127.f / 32.f); break;
        }
    }
    return p;
}

typedef struct {
    gguf_writer *w;
    void **bufs;
    size_t n, cap;
    int oom;
} builder;

/* The type llama.cpp's quantizer stores instead of a 256-block type when a
 * row of n_in elements is not a multiple of 256 (Qwen2.5-0.5B's 896, say):
 * Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, IQ4_XS → Q4_0 (llama.cpp: IQ4_NL). */
static uint32_t row_type(uint32_t type, int64_t n_in) {
    if (n_in % 256 == 0) return type;
    switch (type) {
    case QT_Q4_K: return QT_Q5_0;
    case QT_Q5_K: return QT_Q5_1;
    case QT_Q6_K: return QT_Q8_0;
    case QT_IQ4_XS: return QT_Q4_0;
    }
    return type;
}

static void add(builder *b, const char *name, uint32_t type, int n_dims, int64_t a, int64_t c, int64_t e, float mag) {
    int64_t ne[3] = {a, c, e}, total = a * c * e;
    type = row_type(type, a);
    void *data = random_blocks(type, total, mag);
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        void **nb = realloc(b->bufs, cap * sizeof *nb);
        if (!nb) { b->oom = 1; free(data); return; }
        b->bufs = nb;
        b->cap = cap;
    }
    if (!data) { b->oom = 1; return; }
    b->bufs[b->n++] = data;
    gw_tensor(b->w, name, type, n_dims, ne, data);
}

/* Vectors (norms) are F32 near 1, or near 0 for biases. */
static void add_norm(builder *b, const char *name, int64_t n) {
    add(b, name, QT_F32, 1, n, 1, 1, 0.1f);
    float *v = b->bufs[b->n - 1];
    if (!b->oom)
        for (int64_t i = 0; i < n; i++) v[i] += 1.f;
}

int synth_write(const synth_preset *p, int n_layers, uint32_t type, uint32_t output_type, const char *path, char *err,
                size_t errlen) {
    if (!p) return fl_seterr(err, errlen, "synth: unknown preset (known: %s)", synth_preset_list());
    const qtype_info *q = qtype_get(type);
    if (!q || !q->dequant) return fl_seterr(err, errlen, "synth: unsupported type");
    if (n_layers <= 0 || n_layers > p->n_layer) n_layers = p->n_layer;
    if (p->n_embd % 32 || p->head_dim * p->n_head % 32 || p->n_ff_exp % 32 || p->n_ff % 32 ||
        (q->blck != 256 && (p->n_embd % q->blck || p->head_dim * p->n_head % q->blck || p->n_ff_exp % q->blck ||
                            p->n_ff % q->blck)))
        return fl_seterr(err, errlen, "synth: %s rows of this preset are not a multiple of the %s block", p->name, q->name);
    builder b = {.w = gw_new()};
    if (!b.w) return fl_seterr(err, errlen, "synth: out of memory");
    char k[128];
    const char *a = p->arch;
#define KEY(s) (snprintf(k, sizeof k, "%s.%s", a, s), k)
    gw_str(b.w, "general.architecture", a);
    gw_str(b.w, "general.name", p->name);
    gw_u32(b.w, KEY("context_length"), 32768);
    gw_u32(b.w, KEY("embedding_length"), (uint32_t)p->n_embd);
    gw_u32(b.w, KEY("block_count"), (uint32_t)n_layers);
    gw_u32(b.w, KEY("feed_forward_length"), (uint32_t)p->n_ff);
    gw_u32(b.w, KEY("attention.head_count"), (uint32_t)p->n_head);
    gw_u32(b.w, KEY("attention.head_count_kv"), (uint32_t)p->n_head_kv);
    gw_u32(b.w, KEY("attention.key_length"), (uint32_t)p->head_dim);
    gw_u32(b.w, KEY("attention.value_length"), (uint32_t)p->head_dim);
    gw_u32(b.w, KEY("rope.dimension_count"), (uint32_t)p->head_dim);
    gw_f32(b.w, KEY("rope.freq_base"), p->rope_freq_base);
    gw_f32(b.w, KEY("attention.layer_norm_rms_epsilon"), p->norm_eps);
    gw_u32(b.w, KEY("vocab_size"), (uint32_t)p->n_vocab);
    if (p->n_expert) {
        gw_u32(b.w, KEY("expert_count"), (uint32_t)p->n_expert);
        gw_u32(b.w, KEY("expert_used_count"), (uint32_t)p->n_expert_used);
        gw_u32(b.w, KEY("expert_feed_forward_length"), (uint32_t)p->n_ff_exp);
        if (p->n_ff_shexp) gw_u32(b.w, KEY("expert_shared_feed_forward_length"), (uint32_t)p->n_ff_shexp);
    }
    if (p->granite) {
        gw_f32(b.w, KEY("embedding_scale"), 12.f);
        gw_f32(b.w, KEY("residual_scale"), 0.22f);
        gw_f32(b.w, KEY("attention.scale"), 0.015625f);
        gw_f32(b.w, KEY("logit_scale"), 6.f);
    }
#undef KEY
    gw_str(b.w, "tokenizer.ggml.model", "no_vocab");
    int64_t d = p->n_embd, qd = (int64_t)p->n_head * p->head_dim, kvd = (int64_t)p->n_head_kv * p->head_dim;
    float mag = 0.02f;
    add(&b, "token_embd.weight", p->tied ? output_type : type, 2, d, p->n_vocab, 1, 1.f);
    add_norm(&b, "output_norm.weight", d);
    if (!p->tied) add(&b, "output.weight", output_type, 2, d, p->n_vocab, 1, mag);
    int qk_head = !strcmp(a, "qwen3moe") || !strcmp(a, "qwen3"), qk_full = !strcmp(a, "olmoe");
    int bias = !strcmp(a, "qwen2") || !strcmp(a, "qwen2moe");
    for (int il = 0; il < n_layers && !b.oom; il++) {
        char n[96];
#define T(s) (snprintf(n, sizeof n, "blk.%d.%s", il, s), n)
        add_norm(&b, T("attn_norm.weight"), d);
        add(&b, T("attn_q.weight"), type, 2, d, qd, 1, mag);
        add(&b, T("attn_k.weight"), type, 2, d, kvd, 1, mag);
        add(&b, T("attn_v.weight"), type, 2, d, kvd, 1, mag);
        add(&b, T("attn_output.weight"), type, 2, qd, d, 1, mag);
        if (bias) {
            add(&b, T("attn_q.bias"), QT_F32, 1, qd, 1, 1, mag);
            add(&b, T("attn_k.bias"), QT_F32, 1, kvd, 1, 1, mag);
            add(&b, T("attn_v.bias"), QT_F32, 1, kvd, 1, 1, mag);
        }
        if (qk_head) {
            add_norm(&b, T("attn_q_norm.weight"), p->head_dim);
            add_norm(&b, T("attn_k_norm.weight"), p->head_dim);
        } else if (qk_full) {
            add_norm(&b, T("attn_q_norm.weight"), qd);
            add_norm(&b, T("attn_k_norm.weight"), kvd);
        }
        add_norm(&b, T("ffn_norm.weight"), d);
        if (p->n_expert) {
            add(&b, T("ffn_gate_inp.weight"), QT_F32, 2, d, p->n_expert, 1, 0.5f);
            add(&b, T("ffn_gate_exps.weight"), type, 3, d, p->n_ff_exp, p->n_expert, mag);
            add(&b, T("ffn_up_exps.weight"), type, 3, d, p->n_ff_exp, p->n_expert, mag);
            add(&b, T("ffn_down_exps.weight"), type, 3, p->n_ff_exp, d, p->n_expert, mag);
            if (p->n_ff_shexp) {
                add(&b, T("ffn_gate_inp_shexp.weight"), QT_F32, 1, d, 1, 1, mag);
                add(&b, T("ffn_gate_shexp.weight"), type, 2, d, p->n_ff_shexp, 1, mag);
                add(&b, T("ffn_up_shexp.weight"), type, 2, d, p->n_ff_shexp, 1, mag);
                add(&b, T("ffn_down_shexp.weight"), type, 2, p->n_ff_shexp, d, 1, mag);
            }
        } else {
            add(&b, T("ffn_gate.weight"), type, 2, d, p->n_ff, 1, mag);
            add(&b, T("ffn_up.weight"), type, 2, d, p->n_ff, 1, mag);
            add(&b, T("ffn_down.weight"), type, 2, p->n_ff, d, 1, mag);
        }
#undef T
    }
    int rc = b.oom ? fl_seterr(err, errlen, "synth: out of memory") : gw_write_file(b.w, path, err, errlen);
    for (size_t i = 0; i < b.n; i++) free(b.bufs[i]);
    free(b.bufs);
    gw_free(b.w);
    return rc;
}
