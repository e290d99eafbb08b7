/* sample.c — greedy and stochastic sampling. See sample.h. */
#include "engine/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct samp {
    samp_params p;
    int n_vocab;
    uint64_t rng[4];
    int32_t *idx;    /* scratch: candidate ids sorted by logit */
    float *probs;    /* scratch: the distribution of the current step */
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(samp *s) {
    uint64_t *r = s->rng, res = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;
    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return res;
}

double samp_uniform(samp *s) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

samp *samp_new(const samp_params *p, int n_vocab) {
    samp *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->idx = malloc((size_t)n_vocab * sizeof(int32_t));
    s->probs = malloc((size_t)n_vocab * sizeof(float));
    if (!s->idx || !s->probs) { samp_free(s); return NULL; }
    uint64_t seed = p->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&seed);
    return s;
}

void samp_free(samp *s) {
    if (!s) return;
    free(s->idx);
    free(s->probs);
    free(s);
}

const samp_params *samp_get_params(const samp *s) { return &s->p; }

/* Lanes of independent running maxima in samp_argmax: no loop-carried
 * compare chain, and the compiler makes them vector max instructions (a
 * scalar "x[i] > x[best]" loop cost a tenth of a small model's token). */
#define ARGMAX_LANES 16

int samp_argmax(const float *logits, int n) {
    float m[ARGMAX_LANES];
    for (int j = 0; j < ARGMAX_LANES; j++) m[j] = -INFINITY;
    int i = 0;
    for (; i + ARGMAX_LANES <= n; i += ARGMAX_LANES)
        for (int j = 0; j < ARGMAX_LANES; j++) m[j] = logits[i + j] > m[j] ? logits[i + j] : m[j];
    float best = -INFINITY;
    for (int j = 0; j < ARGMAX_LANES; j++) best = m[j] > best ? m[j] : best;
    for (; i < n; i++) best = logits[i] > best ? logits[i] : best;
    for (i = 0; i < n; i++) /* the lowest id holding it (NaNs are never chosen) */
        if (logits[i] == best) return i;
    return 0;
}

static int by_logit_desc(const void *a, const void *b, void *logits) {
    const float *l = logits;
    float x = l[*(const int32_t *)a], y = l[*(const int32_t *)b];
    if (x != y) return x > y ? -1 : 1;
    return *(const int32_t *)a - *(const int32_t *)b;
}

void samp_probs(samp *s, const float *logits, float *probs) {
    int n = s->n_vocab;
    memset(probs, 0, (size_t)n * sizeof(float));
    if (s->p.temp <= 0) {
        probs[samp_argmax(logits, n)] = 1.f;
        return;
    }
    /* candidates sorted by logit; keep = how many survive the filters */
    for (int i = 0; i < n; i++) s->idx[i] = i;
    qsort_r(s->idx, (size_t)n, sizeof(int32_t), by_logit_desc, (void *)logits);
    int keep = n;
    if (s->p.top_k > 0 && s->p.top_k < keep) keep = s->p.top_k;
    float mx = logits[s->idx[0]];
    double sum = 0;
    for (int i = 0; i < keep; i++) sum += exp((double)logits[s->idx[i]] - mx);
    if (s->p.top_p < 1.f) {
        double cum = 0;
        for (int i = 0; i < keep; i++) {
            cum += exp((double)logits[s->idx[i]] - mx) / sum;
            if (cum >= s->p.top_p) { keep = i + 1; break; }
        }
    }
    if (s->p.min_p > 0.f) {
        double floor_logit = mx + log(s->p.min_p); /* p_i >= min_p * p_max */
        int k = 1;
        while (k < keep && logits[s->idx[k]] >= floor_logit) k++;
        keep = k;
    }
    double z = 0;
    for (int i = 0; i < keep; i++) z += exp(((double)logits[s->idx[i]] - mx) / s->p.temp);
    for (int i = 0; i < keep; i++)
        probs[s->idx[i]] = (float)(exp(((double)logits[s->idx[i]] - mx) / s->p.temp) / z);
}

int samp_draw(samp *s, const float *probs) {
    double total = 0;
    for (int i = 0; i < s->n_vocab; i++) total += probs[i];
    double u = samp_uniform(s) * total, acc = 0;
    int last = 0;
    for (int i = 0; i < s->n_vocab; i++) {
        if (probs[i] <= 0) continue;
        acc += probs[i];
        last = i;
        if (u < acc) return i;
    }
    return last;
}

int samp_sample(samp *s, const float *logits) {
    if (s->p.temp <= 0) return samp_argmax(logits, s->n_vocab);
    samp_probs(s, logits, s->probs);
    return samp_draw(s, s->probs);
}
