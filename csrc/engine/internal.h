/* internal.h — engine structures shared by model.c, ctx.c and forward.c.
 * Not part of the engine's public contract (engine.h). */
#ifndef FLINT_ENGINE_INTERNAL_H
#define FLINT_ENGINE_INTERNAL_H

#include "engine/arch.h"
#include "engine/engine.h"
#include "engine/kernels.h"
#include "engine/pool.h"

/* A weight: a matrix (n_mat = 1) or a stack of expert matrices, pointing into the mmap. */
typedef struct {
    kq_mat m;             /* first matrix; .n_rows rows of .n_in */
    int64_t n_mat;        /* number of stacked matrices (experts) */
    size_t mat_bytes;     /* bytes between consecutive matrices */
} eng_weight;

/* A matrix stack repacked at load: its owned copy and the mapped bytes it replaces. */
typedef struct {
    void *buf;
    const uint8_t *orig;
    size_t bytes;
} eng_repacked;

typedef struct {
    const float *attn_norm;            /* [n_embd] */
    eng_weight wq, wk, wv, wo;         /* [n_embd -> n_head*hd], [-> n_kv*hd] ×2, [n_head*hd -> n_embd] */
    const float *bq, *bk, *bv;         /* optional biases */
    const float *q_norm, *k_norm;      /* [head_dim] (per head) or [n_head*hd]/[n_kv*hd] (full) */
    const float *ffn_norm;             /* [n_embd] */
    eng_weight ffn_gate, ffn_up, ffn_down;          /* dense FFN (n_ff) */
    eng_weight router;                               /* [n_embd -> n_expert] */
    eng_weight gate_exps, up_exps, down_exps;        /* n_expert × [n_embd -> n_ff_exp], down [n_ff_exp -> n_embd] */
    const float *shexp_gate;                         /* [n_embd]: sigmoid gate of the shared expert */
    eng_weight gate_shexp, up_shexp, down_shexp;     /* shared expert (n_ff_shexp) */
} eng_layer;

struct eng_model {
    gguf_file *gguf;
    const arch_desc *arch;
    eng_hparams hp;
    eng_weight tok_embd;               /* [n_vocab rows of n_embd] */
    eng_weight output;                 /* [n_vocab rows of n_embd] (tok_embd when tied) */
    const float *output_norm;
    eng_layer *layers;
    float **owned;                     /* F32 copies of small vectors (norms, biases) */
    int n_owned;
    eng_repacked *repacked;            /* matrices repacked at load (repack.h) */
    int n_repacked;
};

struct eng_ctx {
    eng_model *m;
    eng_pool *pool;
    int n_ctx, n_batch, n_expert_used, n_layer_used;
    int len;                            /* tokens in the cache */
    int exact;                          /* batches use the single-token kernels (eng_ctx_set_exact) */
    int32_t *tokens;                    /* [n_ctx] */
    uint16_t *k_cache, *v_cache;        /* [n_layer][n_ctx][n_kv*hd], IEEE half floats (as llama.cpp) */
    /* scratch, sized for n_batch tokens */
    float *x, *xn, *q, *k, *v, *att, *tmp;
    float *ff_a, *ff_b;                 /* [routed slots + n_batch][max ffn width] */
    float *router_logits;               /* [n_batch][n_expert] */
    int32_t *sel;                       /* [n_batch][n_expert_used] chosen experts */
    float *sel_w;                       /* [n_batch][n_expert_used] their weights */
    int32_t *tok_slot;                  /* [n_batch][n_expert_used] a token's routed slots, ascending */
    float *grp_w;
    float *xg, *yg;                     /* rows gathered by expert [slots][n_embd]; yg also the shared expert's */
    float *scores;                      /* [n_threads][eng_attn_rows()][n_ctx] attention scores */
    void *act;                          /* prepared activations, [n_batch][max act bytes] */
    size_t act_cap;
    float *rope_cos, *rope_sin;         /* [n_batch][n_rot/2] for the current batch */
};

/* Query rows one attention call aims for (tokens × a KV head's group of
 * heads): enough to reuse each K/V row, few enough for the kernel's registers
 * and a small score scratch. */
#define ENG_ATTN_ROWS 32

/* Tokens per attention call for `group` query heads per KV head. */
static inline int eng_attn_block_tokens(int group) { return group >= ENG_ATTN_ROWS ? 1 : ENG_ATTN_ROWS / group; }

/* Query rows of one attention call: the score scratch per thread is this × n_ctx. */
static inline int eng_attn_rows(int group) { return group * eng_attn_block_tokens(group); }

#endif
