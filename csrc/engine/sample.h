/* sample.h — turning logits into the next token.
 *
 * Greedy (temp <= 0): the arg-max, lowest id on an exact tie.
 * Otherwise the llama.cpp order: top-k, top-p, min-p (all on the
 * temperature-1 distribution), then temperature, then a draw from a seeded
 * xoshiro256** generator. Same seed + same logits = same tokens.
 */
#ifndef FLINT_SAMPLE_H
#define FLINT_SAMPLE_H

#include <stdint.h>

typedef struct {
    float temp;      /* <= 0: greedy */
    int top_k;       /* <= 0: off */
    float top_p;     /* >= 1: off */
    float min_p;     /* <= 0: off */
    uint64_t seed;
} samp_params;

typedef struct samp samp;

/* A sampler for a vocabulary of n_vocab; NULL on out-of-memory. */
samp *samp_new(const samp_params *p, int n_vocab);
void samp_free(samp *s);

/* The arg-max of logits[n] (lowest index on ties). */
int samp_argmax(const float *logits, int n);

/* Fill probs[n_vocab] with the distribution the sampler draws from for these
 * logits (zeros for filtered tokens; sums to 1). Greedy: one-hot arg-max. */
void samp_probs(samp *s, const float *logits, float *probs);

/* Draw the next token. */
int samp_sample(samp *s, const float *logits);

/* Draw from an explicit distribution probs[n_vocab] (need not be normalised;
 * must have a positive sum) with the sampler's generator. */
int samp_draw(samp *s, const float *probs);

/* A uniform double in [0, 1) from the sampler's generator. */
double samp_uniform(samp *s);

const samp_params *samp_get_params(const samp *s);

#endif
