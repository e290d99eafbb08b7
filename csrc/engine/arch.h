/* arch.h — model architectures as data.
 *
 * Every supported `general.architecture` is one row: how RoPE pairs
 * dimensions, which norms and biases exist, how the router turns expert
 * logits into weights, and whether a shared expert or Granite's scales apply.
 * The forward pass (forward.c) reads these flags; it is never copied per arch.
 */
#ifndef FLINT_ARCH_H
#define FLINT_ARCH_H

enum { ROPE_NORM = 0, ROPE_NEOX = 1 };       /* adjacent pairs vs halves */
enum { QKNORM_NONE = 0, QKNORM_HEAD = 1, QKNORM_FULL = 2 };

typedef struct {
    const char *name;     /* general.architecture */
    int rope;             /* ROPE_NORM / ROPE_NEOX */
    int qk_norm;          /* RMSNorm on q and k: per head (qwen3) or over the full width (olmoe) */
    int norm_topk;        /* renormalise the chosen experts' softmax weights to sum to 1 */
    int shared_expert;    /* sigmoid-gated shared expert (qwen2moe) */
    int granite_scales;   /* embedding/residual/attention/logit scales from metadata */
} arch_desc;

/* The row for an architecture name, or NULL if flint does not support it. */
const arch_desc *arch_find(const char *name);

/* Comma-separated list of supported architectures (for error messages). */
const char *arch_supported_list(void);

#endif
