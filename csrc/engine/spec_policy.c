/* spec_policy.c — measured utility of each draft source and length.
 *
 * Utility of drafting k tokens from a source with acceptance rate a and
 * drafting cost c seconds per token, in expected tokens per second:
 *     U(k) = (1 - a^(k+1)) / (1 - a) / (verify(k) + k c)
 * (k accepted drafts in a row with probability a^k, plus the token the
 * verification itself yields). Plain decoding has U = 1 / verify(0).
 *
 * Verification time at context length L is modelled as
 *     verify(k, L) = alpha(k) + beta (k + 1) L
 * (weights and per-token work, plus attention over the cache): per k, decayed
 * sums of (L, t) give means; beta is the pooled within-k regression slope
 * of t on (k + 1) L, alpha(k) the mean t minus the attention part. Lengths
 * never measured are interpolated (extrapolated) in alpha. */
#include <math.h>
#include <string.h>

#include "engine/spec_internal.h"

#define RATE_DECAY 0.99       /* weight of the past per drafted token of the same source (a window
                                 of ~100 tokens whatever the draft length) */
#define TIME_WEIGHT 0.25      /* moving-average weight of a new timing */
#define VERIFY_DECAY 0.98     /* weight of the past per verification timing of the same length (a long
                                 window: the model accounts for the context length, and the slope
                                 needs a spread of lengths) */
#define PRIOR_SLOPE 0.25      /* verify cost of one more draft, as a fraction of verify(0), until measured */
#define EXPLORE_AFTER 64      /* decisions after which an unused source gets one short try */
#define EXPLORE_K 8           /* every 8th speculative decision tries a neighbouring draft length */
#define PROBE_GAP_MIN 16      /* auto: plain decisions before re-probing, doubling while probes fail */
#define PROBE_GAP_MAX 512
#define AUTO_MARGIN 1.05      /* auto speculates only where the model predicts at least 5% more tokens/s
                                 than plain decoding: below that, timing noise on a busy machine turns
                                 a predicted gain into a measured loss */

void spec_policy_init(spec_policy *p, const double dprior[SPEC_NSRC]) {
    memset(p, 0, sizeof *p);
    memcpy(p->dprior, dprior, sizeof p->dprior);
    p->probe_gap = PROBE_GAP_MIN;
}

/* alpha(k) of a measured length. */
static double alpha(const spec_policy *p, int k) {
    const spec_vbucket *b = &p->vb[k];
    return (b->st - p->beta * (k + 1) * b->sl) / b->w;
}

double spec_policy_verify_cost(const spec_policy *p, int k, int ctx) {
    double att = p->beta * (k + 1) * ctx;
    if (p->vb[k].w > 0) return alpha(p, k) + att;
    int lo = -1, lo2 = -1, hi = -1;
    for (int i = k - 1; i >= 0 && lo2 < 0; i--)
        if (p->vb[i].w > 0) { if (lo < 0) lo = i; else lo2 = i; }
    for (int i = k + 1; i <= SPEC_K_MAX && hi < 0; i++)
        if (p->vb[i].w > 0) hi = i;
    if (lo >= 0 && hi >= 0) return alpha(p, lo) + (alpha(p, hi) - alpha(p, lo)) * (k - lo) / (hi - lo) + att;
    if (lo >= 0) {
        double a = alpha(p, lo);
        double slope = lo2 >= 0 ? (a - alpha(p, lo2)) / (lo - lo2) : PRIOR_SLOPE * a / (1 + PRIOR_SLOPE * lo);
        return a + (slope > 0 ? slope : 0) * (k - lo) + att;
    }
    if (hi >= 0) return alpha(p, hi) * (1 + PRIOR_SLOPE * k) / (1 + PRIOR_SLOPE * hi) + att;
    return 0;
}

double spec_policy_rate(const spec_policy *p, int src, int n) {
    const spec_rate *r = &p->rate[src][n];
    return (r->ok + 1) / (r->ok + r->bad + 2); /* prior: one accept, one reject */
}

double spec_policy_draft_cost(const spec_policy *p, int src, int ctx) {
    return p->dcost[src] > 0 ? p->dcost[src] : p->dprior[src] * spec_policy_verify_cost(p, 0, ctx);
}

/* Best k in [kmin, kmax] and its utility. */
static int best_k(const spec_policy *p, int src, int n, int kmin, int kmax, int ctx, double *util) {
    double a = spec_policy_rate(p, src, n), c = spec_policy_draft_cost(p, src, ctx), best = -1, ak = a;
    int bk = kmin;
    for (int k = 1; k <= kmax; k++) {
        ak *= a; /* a^(k+1) */
        double u = (1 - ak) / (1 - a) / (spec_policy_verify_cost(p, k, ctx) + k * c);
        if (k >= kmin && u > best) { best = u; bk = k; }
    }
    *util = best;
    return bk;
}

/* Could source src beat plain decoding (by 2%) if every draft were accepted? */
static int could_pay(const spec_policy *p, int src, int kmax, int ctx, double v0) {
    double c = spec_policy_draft_cost(p, src, ctx);
    for (int k = 1; k <= kmax; k++)
        if ((k + 1) / (spec_policy_verify_cost(p, k, ctx) + k * c) > 1.02 / v0) return 1;
    return 0;
}

/* Seconds per token for source src to catch up on a prompt. */
static double catchup_cost(const spec_policy *p, int src, int ctx) {
    if (p->pcost[src] > 0) return p->pcost[src];
    return p->dprior[src] * (p->feed_cost > 0 ? p->feed_cost : spec_policy_verify_cost(p, 0, ctx));
}

int spec_policy_choose(spec_policy *p, const spec_cand c[SPEC_NSRC], int ctx, int budget, int fallback, int fixed,
                       int *k) {
    p->step++;
    *k = 0;
    double v0 = spec_policy_verify_cost(p, 0, ctx);
    if (v0 <= 0) return -1; /* the first step measures plain decoding */
    int best = -1, ks[SPEC_NSRC] = {0}, ok[SPEC_NSRC] = {0};
    double ub = 0;
    for (int s = 0; s < SPEC_NSRC; s++) {
        if (!c[s].avail || c[s].kmax < 1) continue;
        double u;
        ks[s] = best_k(p, s, c[s].n, fixed ? c[s].kmax : 1, c[s].kmax, ctx, &u);
        ok[s] = 1;
        if (c[s].behind > SPEC_CATCHUP) { /* a catch-up is paid once, spread over the tokens still to come */
            u = 1 / (1 / u + c[s].behind * catchup_cost(p, s, ctx) / (budget > 1 ? budget : 1));
            ok[s] = !fallback; /* auto mode: only on merit, never as an exploration or probe */
        }
        if (best < 0 || u > ub) { best = s; ub = u; }
    }
    if (best < 0) return -1;
    int pick = best;
    if (!fallback || ub >= AUTO_MARGIN / v0) {
        p->probe_gap = PROBE_GAP_MIN;
        if (!fixed && ++p->spec_run % EXPLORE_K == 0) { /* keep the neighbours' timings fresh: 1.5 k, then k / 2 */
            int kb = ks[best], alt = p->spec_run / EXPLORE_K % 2 ? kb + (kb + 1) / 2 : kb / 2;
            ks[best] = alt < 1 ? 1 : alt > c[best].kmax ? c[best].kmax : alt;
        }
        for (int s = 0; s < SPEC_NSRC; s++) /* exploration: a source unused for long gets a short try */
            if (ok[s] && s != best && p->step - p->last_used[s] > EXPLORE_AFTER) {
                pick = s;
                if (!fixed) ks[s] = c[s].kmax < 2 ? c[s].kmax : 2;
            }
    } else if (++p->plain_run >= p->probe_gap) {
        pick = -1; /* probe the least recently used source that could pay, with a one-token draft */
        for (int s = 0; s < SPEC_NSRC; s++)
            if (ok[s] && (pick < 0 || p->last_used[s] < p->last_used[pick]) && could_pay(p, s, c[s].kmax, ctx, v0))
                pick = s;
        if (pick < 0) return -1;
        ks[pick] = 1;
        p->probe_gap = p->probe_gap * 2 < PROBE_GAP_MAX ? p->probe_gap * 2 : PROBE_GAP_MAX;
    } else {
        return -1;
    }
    p->plain_run = 0;
    p->last_used[pick] = p->step;
    *k = ks[pick];
    return pick;
}

/* Moving average with outliers (a busy machine) capped at 3x. */
static void average(double *avg, double x) { *avg = *avg > 0 ? *avg + TIME_WEIGHT * (fmin(x, 3 * *avg) - *avg) : x; }

/* beta: pooled within-length slope of t on (k + 1) L, from lengths whose
 * measurements spread over some tokens of context; at most what would make
 * some alpha(k) negative. A degenerate fit (no spread yet, or a non-positive
 * slope from noise) keeps the previous value. */
static void fit_beta(spec_policy *p) {
    double num = 0, den = 0, cap = INFINITY;
    for (int k = 0; k <= SPEC_K_MAX; k++) {
        const spec_vbucket *b = &p->vb[k];
        if (b->w <= 0) continue;
        double ml = b->sl / b->w, mt = b->st / b->w, var = b->sll / b->w - ml * ml, cov = b->slt / b->w - ml * mt;
        if (ml > 0) cap = fmin(cap, mt / ((k + 1) * ml));
        if (var < 400) continue; /* less than ~20 tokens of spread */
        num += b->w * cov;
        den += b->w * (k + 1) * var;
    }
    if (den > 0 && num > 0) p->beta = fmin(num / den, cap);
    else p->beta = fmin(p->beta, cap);
}

void spec_policy_note_verify(spec_policy *p, int k, int ctx, double seconds) {
    spec_vbucket *b = &p->vb[k];
    if (b->w > 0) seconds = fmin(seconds, 3 * spec_policy_verify_cost(p, k, ctx)); /* a busy machine's outliers */
    double L = ctx;
    b->w = VERIFY_DECAY * b->w + 1;
    b->sl = VERIFY_DECAY * b->sl + L;
    b->st = VERIFY_DECAY * b->st + seconds;
    b->sll = VERIFY_DECAY * b->sll + L * L;
    b->slt = VERIFY_DECAY * b->slt + L * seconds;
    fit_beta(p);
}

void spec_policy_note_accept(spec_policy *p, int src, int n, int drafted, int accepted) {
    spec_rate *r = &p->rate[src][n];
    double decay = pow(RATE_DECAY, drafted);
    r->ok = decay * r->ok + accepted;
    r->bad = decay * r->bad + (accepted < drafted);
}

void spec_policy_note_draft(spec_policy *p, int src, int decodes, double seconds) {
    if (decodes > 0) average(&p->dcost[src], seconds / decodes);
}

void spec_policy_note_catchup(spec_policy *p, int src, int tokens, double seconds) {
    if (tokens > 0) average(&p->pcost[src], seconds / tokens);
}

void spec_policy_note_feed(spec_policy *p, int tokens, double seconds) {
    if (tokens >= 8) average(&p->feed_cost, seconds / tokens);
}
