/* synth.h — write random-weight GGUF files with the shapes of real models
 * (`flint synth`), so speed can be measured without downloading models. */
#ifndef FLINT_SYNTH_H
#define FLINT_SYNTH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name, *arch;
    int n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    int n_expert, n_expert_used, n_ff_exp, n_ff_shexp, n_vocab;
    float rope_freq_base, norm_eps;
    int tied, granite;
} synth_preset;

/* The preset of that name, or NULL. */
const synth_preset *synth_find(const char *name);

/* "a, b, c": the preset names, for messages. */
const char *synth_preset_list(void);

/* Write preset p with its first n_layers layers (<= 0: all), matrices of
 * ggml type `type`, the output (or tied embedding) matrix of `output_type`,
 * norms and routers F32. Returns 0, or -1 with err set. */
int synth_write(const synth_preset *p, int n_layers, uint32_t type, uint32_t output_type, const char *path, char *err,
                size_t errlen);

#endif
