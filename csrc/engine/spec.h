/* spec.h — speculative decoding: propose several tokens cheaply, verify them
 * in one batched forward pass of the target model, keep the ones it agrees
 * with.
 *
 * A generator (spec_gen) wraps a target context and a sampler and yields the
 * next 1..k verified tokens per spec_step(), as soon as they are verified.
 *
 * Draft sources (combinable; a bitmask of SPEC_SRC_*):
 *   SPEC_SRC_DRAFT  a smaller model with the same vocabulary (own context);
 *   SPEC_SRC_NGRAM  prompt lookup: the most recent earlier occurrence of the
 *                   last n tokens (n = ngram_max..ngram_min) in the prompt and
 *                   generated history, and what followed it; no model;
 *   SPEC_SRC_SELF   the target model itself with fewer experts per token
 *                   and/or fewer layers (a second context on the same weights).
 * Drafting contexts follow the accepted tokens lazily: before drafting, each
 * keeps its longest common prefix with the history and decodes the rest.
 *
 * Verification: [last token + k drafts] go through the target as one batch
 * (ENG_LOGITS_ALL, exact mode, see eng_ctx_set_exact) and the KV cache is
 * truncated past the first rejection.
 *   Greedy (temp <= 0): a draft is kept while it equals the target's arg-max,
 *     so the output is token for token the output of plain greedy decoding.
 *   Sampling: the standard rejection rule (spec_accept) keeps the output
 *     distribution equal to the target's; n-gram drafts are one-hot proposals.
 *
 * Adaptation: per source, the acceptance rate (decayed counts; per match
 * length for n-grams) and the drafting time per token; per draft length k,
 * the measured time of a (k+1)-token verification (on MoE models it grows
 * with the union of the experts the batch routes to). Each step picks the
 * (source, k) with the highest expected tokens per second,
 *     E[tokens] / (verify(k) + k * draft_cost),  E = (1 - a^(k+1)) / (1 - a),
 * and in auto mode (spec_params.fallback) decodes plainly when that is below
 * 1 / verify(0), re-probing sources at growing intervals. See
 * doc/speculative.md.
 *
 * The generator owns the target context's exact flag while it lives: fed
 * prompts run the batch kernels (as plain decoding does), verification runs
 * exact; spec_free leaves it off.
 */
#ifndef FLINT_SPEC_H
#define FLINT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/sample.h"

enum { SPEC_SRC_DRAFT = 1, SPEC_SRC_NGRAM = 2, SPEC_SRC_SELF = 4 };
enum { SPEC_I_DRAFT = 0, SPEC_I_NGRAM = 1, SPEC_I_SELF = 2, SPEC_NSRC = 3 }; /* index of a source */

#define SPEC_K_MAX 32     /* hard upper bound on draft_max */
#define SPEC_NGRAM_MAX 8  /* hard upper bound on ngram_max */

/* What generators have measured (acceptance rates, drafting and
 * verification costs, the auto mode's probing state), carried from one
 * generator to the next: a server makes a generator per request, and auto
 * mode needs more steps to learn than a one-line completion has. Valid for
 * generators with the same parameters on the same target and draft models
 * (serve keeps one per kind of request and starts it over when the mode
 * changes). Opaque; only one generator may use it at a time. */
typedef struct spec_memory spec_memory;

/* An empty memory (NULL if out of memory) / free one (NULL is fine). */
spec_memory *spec_memory_new(void);
void spec_memory_free(spec_memory *m);

/* Forget what was measured. */
void spec_memory_reset(spec_memory *m);

typedef struct {
    unsigned sources;    /* SPEC_SRC_* bitmask; 0 = plain decoding through the generator */
    int fallback;        /* auto mode: decode plainly when no source pays, re-probe now and then */
    eng_model *draft;    /* SPEC_SRC_DRAFT: the draft model (vocabulary checked by spec_new) */
    int draft_max;       /* most drafted tokens per verification (0: 16; at most SPEC_K_MAX) */
    int fixed_length;    /* 1: always draft draft_max tokens (budget and context permitting), no adaptation */
    int ngram_min, ngram_max;  /* n-gram lengths tried, longest first (0: 1 and 4) */
    int self_experts;    /* SPEC_SRC_SELF: experts per token (0: 1 on MoE models, else all) */
    int self_layers;     /* SPEC_SRC_SELF: layers evaluated (0: all on MoE models, half on dense) */
    int n_threads;       /* threads of the drafting contexts (0: the engine's default) */
    spec_memory *memory; /* optional: spec_new starts from what it holds, spec_free stores back */
} spec_params;

/* Counters for one source (index SPEC_I_*). */
typedef struct {
    long steps;          /* verifications with drafts from this source */
    long drafted, accepted;
    double t_draft;      /* seconds drafting (incl. keeping the drafting context in sync) */
    double accept_rate;  /* current estimate of the per-token acceptance probability */
    double draft_cost;   /* current estimate of seconds per drafted token (0: not measured) */
    int k_last;          /* draft length chosen the last time */
} spec_src_stats;

/* Times are CPU seconds of the calling thread (it drives the compute pool
 * and waits for it): time the thread was preempted is not counted. */
typedef struct {
    long tokens;         /* tokens returned by spec_step */
    long verify_calls;   /* target decodes by spec_step (speculative or plain) */
    long plain_steps;    /* of which without drafts */
    long drafted, accepted;
    double t_verify;     /* seconds in target decodes by spec_step */
    double t_draft;      /* seconds drafting */
    double t_feed;       /* seconds in spec_feed */
    double verify_time[SPEC_K_MAX + 1]; /* estimated seconds of a verification with k drafts at the
                                           current context length (0: never measured) */
    spec_src_stats src[SPEC_NSRC];
} spec_stats;

typedef struct spec_gen spec_gen;

/* A generator over target context `target` (which already holds a prefix, or
 * nothing) sampling with `s`; both are the caller's and must outlive the
 * generator, and only the generator may decode into or truncate the target
 * while it lives. p may be NULL (plain decoding). Fails (NULL + err) on bad
 * parameters, a draft model whose vocabulary differs (spec_vocab_check),
 * SPEC_SRC_DRAFT without a model, or out of memory. */
spec_gen *spec_new(eng_ctx *target, samp *s, const spec_params *p, char *err, size_t errlen);

void spec_free(spec_gen *g);

/* Append n >= 1 tokens (a prompt, or tokens the caller forces) to the
 * sequence and evaluate them; a token returned by the last spec_step is
 * appended first. The next spec_step samples after them. Returns 0, -2 when
 * cancelled (sequence unchanged), -1 with err (context full, bad id). */
int spec_feed(spec_gen *g, const int32_t *tokens, int n, const volatile int *cancel, char *err, size_t errlen);

/* The same when the caller has already decoded the prompt into the target
 * itself: `logits` (n_vocab floats, copied) are the next-token logits after
 * the target's current tokens. Drops any token pending from spec_step. */
void spec_set_logits(spec_gen *g, const float *logits);

/* The next 1..max verified tokens into out. Never returns, drafts or
 * verifies beyond max tokens, so a caller's token budget is exact; pass the
 * whole remaining budget as max (auto mode weighs a drafting context's
 * one-time catch-up on the prompt against the tokens still to come). The last
 * returned token is pending: it enters the target's KV cache at the next
 * spec_step or spec_feed. Returns the count, 0 when max <= 0, -2 when
 * cancelled (the state is as before the call), -1 with err (nothing fed yet,
 * context full, engine error). */
int spec_step(spec_gen *g, int32_t *out, int max, const volatile int *cancel, char *err, size_t errlen);

/* Forget everything after the first n_keep tokens of the sequence (prompt
 * and generated tokens, the pending one included) and truncate the target to
 * them. A spec_feed of at least one token must follow before spec_step.
 * Measurements are kept. Returns 0, or -1 if n_keep exceeds the sequence. */
int spec_rewind(spec_gen *g, int n_keep);

/* The sequence so far (fed and generated tokens, the pending one included). */
const int32_t *spec_tokens(const spec_gen *g, int *n);

/* Counters and current estimates. */
void spec_get_stats(const spec_gen *g, spec_stats *out);

/* Can `draft` propose tokens for `target`? Same n_vocab; if either file has a
 * vocabulary (tokenizer.ggml.tokens), both have one with the same token texts
 * for every id and the same special ids (BOS, EOS, EOT, padding, FIM and
 * ChatML ids). Returns 0, or -1 with a message naming the first difference. */
int spec_vocab_check(const eng_model *target, const eng_model *draft, char *err, size_t errlen);

/* One step of speculative sampling for a proposal `draft` drawn from q:
 * accept it with probability min(1, p[draft] / q[draft]); otherwise draw from
 * the normalised residual max(0, p - q) (from p if the residual is empty).
 * p, q: distributions over n tokens; q == NULL means the one-hot proposal at
 * `draft` (n-gram drafts). resid: scratch of n floats. Randomness comes from
 * s. Returns the token to emit and sets *accepted. The emitted token is
 * distributed exactly as p. */
int spec_accept(samp *s, int n, const float *p, const float *q, int draft, float *resid, int *accepted);

/* Parse a --spec value: "none", "auto", or sources joined by '+' or ','
 * ("draft", "ngram", "self"). Sets p->sources and p->fallback (auto: every
 * source usable here — draft if have_draft, ngram, self if the model is
 * MoE). Returns 0, or -1 with err. */
int spec_parse_mode(const char *s, int have_draft, int target_is_moe, spec_params *p, char *err, size_t errlen);

#endif
