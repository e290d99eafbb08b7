/* spec_internal.h — the parts of the speculative generator (spec.h) shared
 * by spec*.c: the n-gram index, the model drafters and the cost model. */
#ifndef FLINT_SPEC_INTERNAL_H
#define FLINT_SPEC_INTERNAL_H

#include <time.h>

#include "engine/spec.h"

/* The generator's clock: CPU seconds of the calling thread, which drives the
 * compute pool and waits for it. Unlike wall-clock time it does not count
 * the time the thread was preempted, so measurements stay comparable on a
 * loaded machine. */
static inline double spec_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- n-gram lookup (spec_ngram.c) ---- */

/* Direct-mapped table: hash of (n, the n tokens ending at position e) -> e + 1.
 * Lossy (a collision overwrites); every hit is checked against the tokens. */
typedef struct {
    int nmin, nmax;
    uint32_t *slot;
    uint32_t mask;
    int indexed;        /* n-grams ending at positions < indexed are in the table */
    int anchor, anchor_end; /* the last draft copied on from hist[anchor], aligned with hist[anchor_end]; -1 none */
} spec_ngram;

/* Table for sequences of up to `capacity` tokens. Returns 0, -1 on out of memory. */
int spec_ngram_init(spec_ngram *ix, int nmin, int nmax, int capacity);
void spec_ngram_free(spec_ngram *ix);

/* Index the n-grams of hist[0..n) that end before its last token. */
void spec_ngram_update(spec_ngram *ix, const int32_t *hist, int n);

/* The sequence was cut to n tokens: forget positions from there on (the
 * table is rebuilt by the next update, as later positions may have
 * overwritten earlier occurrences). */
void spec_ngram_rewind(spec_ngram *ix, int n);

/* Up to kmax tokens that followed an earlier occurrence of the longest
 * matching suffix of hist[0..n) (lengths nmax..nmin), continuing through the
 * drafted tokens themselves when the copy reaches the end (so a repeating
 * pattern keeps repeating). Which occurrence: where the last draft was
 * copied from, when the tokens since went on copying it; else, as after an
 * edit (a renamed identifier), the nearest occurrence within a window past
 * that place; else the most recent one. Sets *match to the suffix length.
 * Returns the number of tokens written to out, 0 when nothing matches.
 * spec_ngram_update(ix, hist, n) must have been called. */
int spec_ngram_draft(spec_ngram *ix, const int32_t *hist, int n, int kmax, int32_t *out, int *match);

/* ---- model drafters (spec_draft.c) ---- */

typedef struct {
    eng_ctx *ctx;       /* follows the generator's sequence */
    samp *s;            /* draws proposals when sampling (NULL when greedy) */
    float *logits;      /* [n_vocab] */
    float *q;           /* [k_max][n_vocab] proposal distributions (sampling only) */
    int n_vocab;
} spec_drafter;

/* A drafting context on model m. sp: the target's sampling parameters
 * (temp <= 0: greedy proposals). Returns 0, or -1 with err. */
int spec_drafter_init(spec_drafter *d, eng_model *m, const eng_ctx_params *cp, const samp_params *sp, int k_max,
                      char *err, size_t errlen);
void spec_drafter_free(spec_drafter *d);

/* Tokens the context must decode to continue hist[0..n): beyond its common
 * prefix with hist, and at least the last one (for its logits). */
int spec_drafter_behind(const spec_drafter *d, const int32_t *hist, int n);

/* Bring the context to hist[0..n) (n >= 1): keep the common prefix, decode
 * the rest; the next-token logits are then in d->logits. Returns 0, -2 when
 * cancelled, -1 with err. */
int spec_drafter_sync(spec_drafter *d, const int32_t *hist, int n, const volatile int *cancel, char *err,
                      size_t errlen);

/* After a sync: propose k tokens one at a time (arg-max, or a draw from
 * q[i] when sampling), decoding all but the last. Returns k, -2, or -1. */
int spec_drafter_draft(spec_drafter *d, int k, int32_t *out, const volatile int *cancel, char *err, size_t errlen);

/* ---- cost model and choice of source and length (spec_policy.c) ---- */

typedef struct {
    double ok, bad;     /* decayed counts of accepted drafts and of rejections */
} spec_rate;

typedef struct {
    double w, sl, st, sll, slt;  /* decayed count and sums of L, t, L^2, L t (L context length, t seconds) */
} spec_vbucket;

typedef struct {
    spec_vbucket vb[SPEC_K_MAX + 1]; /* verification timings with k drafts */
    double beta;                 /* seconds per token of context per verified token (attention) */
    spec_rate rate[SPEC_NSRC][SPEC_NGRAM_MAX + 1];  /* [src][0]; n-grams by match length */
    double dcost[SPEC_NSRC];     /* seconds per drafted token (moving average; 0 unknown) */
    double pcost[SPEC_NSRC];     /* seconds per token when a drafting context catches up on a prompt */
    double dprior[SPEC_NSRC];    /* prior drafting cost per token, as a fraction of the target's */
    double feed_cost;            /* seconds per token of the target's prompt processing (0 unknown) */
    long last_used[SPEC_NSRC];   /* decision number when the source last ran */
    long step;                   /* decisions made */
    int plain_run;               /* plain decisions since the last speculative one */
    long spec_run;               /* speculative decisions on merit (for draft-length exploration) */
    int probe_gap;               /* plain decisions before the next probe */
} spec_policy;

/* What a source can offer this step. */
typedef struct {
    int avail;          /* usable now */
    int kmax;           /* most tokens it can draft */
    int n;              /* n-grams: match length */
    int behind;         /* model sources: tokens to decode before drafting */
} spec_cand;

/* A drafting context this far behind pays a one-time catch-up (a prompt). */
#define SPEC_CATCHUP 4

void spec_policy_init(spec_policy *p, const double dprior[SPEC_NSRC]);

/* Estimated seconds of a verification with k drafts at context length ctx
 * (see spec_policy.c). 0 before any measurement. */
double spec_policy_verify_cost(const spec_policy *p, int k, int ctx);

/* Estimated acceptance probability per drafted token. */
double spec_policy_rate(const spec_policy *p, int src, int n);

/* Estimated seconds per drafted token (measured, else the prior). */
double spec_policy_draft_cost(const spec_policy *p, int src, int ctx);

/* The source to draft from (SPEC_I_*) and *k, or -1 (and *k = 0) for a
 * plain step at context length ctx. budget: tokens the caller may still take
 * (the catch-up cost of a drafting context is spread over them). Without
 * fallback a usable source is always chosen; with fixed its full kmax is
 * drafted. */
int spec_policy_choose(spec_policy *p, const spec_cand c[SPEC_NSRC], int ctx, int budget, int fallback, int fixed,
                       int *k);

void spec_policy_note_verify(spec_policy *p, int k, int ctx, double seconds);
void spec_policy_note_accept(spec_policy *p, int src, int n, int drafted, int accepted);
void spec_policy_note_draft(spec_policy *p, int src, int decodes, double seconds);
void spec_policy_note_catchup(spec_policy *p, int src, int tokens, double seconds);
void spec_policy_note_feed(spec_policy *p, int tokens, double seconds);

/* ---- the generator (spec.c: lifecycle, feeding; spec_step.c: steps) ---- */

struct spec_gen {
    eng_ctx *t;                  /* target (the caller's) */
    samp *s;                     /* the caller's sampler */
    spec_params p;               /* with defaults filled in */
    int n_vocab, greedy, cap;    /* cap: the target's KV capacity */
    int32_t *hist;               /* the sequence [cap + 1]: the target's tokens, then the pending one */
    int n_hist;
    int have_logits;             /* rows[0] holds next-token logits after hist (after a feed) */
    int have_pending;            /* hist[n_hist - 1] was returned but is not in the target yet */
    float *rows;                 /* [draft_max + 1][n_vocab] verification logits */
    float *probs, *resid;        /* [n_vocab] */
    int32_t *batch;              /* [draft_max + 1] */
    spec_ngram ngram;
    spec_drafter model[SPEC_NSRC]; /* [SPEC_I_DRAFT], [SPEC_I_SELF] */
    spec_policy pol;
    spec_stats st;
};

struct spec_memory {
    int valid;                   /* pol holds a generator's measurements */
    spec_policy pol;
};

#endif
