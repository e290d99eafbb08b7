/* engine.h — flint's inference engine: load a GGUF model, run it over token batches.
 *
 * Objects:
 *   eng_model  the weights (mmapped from the GGUF file, read-only, shareable
 *              between contexts and threads) and hyper-parameters.
 *   eng_ctx    one sequence: KV cache, scratch buffers and a compute pool.
 *              Not thread-safe: one thread drives a context at a time.
 *
 * One code path evaluates a prompt batch and a single generated token:
 * eng_decode() appends n tokens after the cached ones and returns logits.
 * The KV cache can be truncated to any prefix (prompt-cache reuse, speculative
 * rollback).
 */
#ifndef FLINT_ENGINE_H
#define FLINT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/gguf.h"

typedef struct eng_model eng_model;
typedef struct eng_ctx eng_ctx;

/* Hyper-parameters as read from the file (arch-specific keys resolved). */
typedef struct {
    char arch[32];          /* general.architecture */
    int n_vocab, n_ctx_train, n_embd, n_layer;
    int n_head, n_head_kv, head_dim, n_rot;
    int n_ff;               /* dense FFN width (0 if none) */
    int n_expert, n_expert_used, n_ff_exp, n_ff_shexp;
    float rope_freq_base, norm_eps;
    float embedding_scale, residual_scale, attention_scale, logit_scale; /* 1 / 0 if unused */
    int tied_output;        /* output matrix is token_embd */
    int64_t n_params;       /* total parameters (elements of all tensors) */
    int64_t n_params_active;/* parameters touched per token (top-k experts only) */
    size_t weight_bytes;    /* bytes of all tensors */
    size_t weight_bytes_active; /* bytes read per generated token */
} eng_hparams;

/* Load a model. Returns NULL with a one-line message in err on failure
 * (unreadable or malformed file, unknown architecture, missing or mis-shaped
 * tensor, unsupported tensor type). */
eng_model *eng_model_load(const char *path, char *err, size_t errlen);

/* The same from an opened GGUF file, which the model takes over (it is
 * closed on failure too). */
eng_model *eng_model_from_gguf(gguf_file *g, char *err, size_t errlen);

void eng_model_free(eng_model *m);

const eng_hparams *eng_model_hparams(const eng_model *m);

/* Read every page of the weights once, so later passes do not wait on the
 * disk (benchmarks; a server warming up). Slow for large files not yet in the
 * page cache; harmless otherwise. */
void eng_model_touch(const eng_model *m);

/* Bytes of weights repacked at load into owned memory (repack.h; their
 * mapped pages were given back), 0 if none. */
size_t eng_model_repacked_bytes(const eng_model *m);

/* The underlying GGUF file (metadata for the tokenizer, info output). */
const gguf_file *eng_model_gguf(const eng_model *m);

typedef struct {
    int n_ctx;          /* KV capacity in tokens (0: min(n_ctx_train, 4096)) */
    int n_batch;        /* max tokens per internal step (0: 256); longer inputs are chunked */
    int n_threads;      /* compute threads (0: number of online CPUs) */
    int n_expert_used;  /* override top-k (0: model's); MoE self-drafting uses 1 */
    int n_layer_used;   /* evaluate only the first N layers (0: all); self-drafting */
} eng_ctx_params;

/* Create a context for model m (which must outlive it). NULL + err on failure
 * (out of memory, invalid parameters). */
eng_ctx *eng_ctx_new(eng_model *m, const eng_ctx_params *p, char *err, size_t errlen);

void eng_ctx_free(eng_ctx *c);

/* Number of tokens currently in the KV cache, and the capacity. */
int eng_ctx_len(const eng_ctx *c);
int eng_ctx_capacity(const eng_ctx *c);

/* The token ids currently in the KV cache (eng_ctx_len() of them). */
const int32_t *eng_ctx_tokens(const eng_ctx *c);

/* Exact mode: every batch is computed with the single-token kernels, so the
 * logits of a k-token eng_decode are bit-identical to k one-token calls.
 * Speculative verification under greedy decoding needs this (a near-tie must
 * resolve the same way as in plain decoding). It costs the prompt kernels'
 * arithmetic savings but keeps the single read of the weights; Q8_0 weights
 * repacked at load (repack.h) have no prompt kernel to lose. Off by default. */
void eng_ctx_set_exact(eng_ctx *c, int on);

/* Keep only the first n cached tokens (n <= len). */
void eng_ctx_truncate(eng_ctx *c, int n);

enum { ENG_LOGITS_NONE = 0, ENG_LOGITS_LAST = 1, ENG_LOGITS_ALL = 2 };

/* Append n tokens to the sequence and evaluate them.
 *   logits: NULL, or room for n_vocab floats (LAST) or n * n_vocab (ALL).
 *   cancel: NULL, or a flag polled between layers; when it becomes non-zero
 *           the call stops, the cache keeps its previous length, and -2 is
 *           returned.
 * Returns 0 on success; -1 with err set on bad input (token id out of range,
 * context full). On failure the cache is unchanged. */
int eng_decode(eng_ctx *c, const int32_t *tokens, int n, int logits_mode, float *logits,
               const volatile int *cancel, char *err, size_t errlen);

#endif
