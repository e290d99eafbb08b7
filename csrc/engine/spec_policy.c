/* spec_policy.c — measured utility of each draft source and length.
 *
 * Utility of drafting k tokens from a source with acceptance rate a and
 * drafting cost c seconds per token, in expected tokens per second:
 *     U(k) = (1 - a^(k+1)) / (1 - a) / (verify(k) + k c)
 * (k accepted drafts in a row with probability a^k, plus the token the
 * verification itself yields). Plain decoding has U = 1 / verify(0). */
#include <math.h>
#include <string.h>

#include "engine/spec_internal.h"

#define RATE_DECAY 0.9        /* weight of the past per verification of the same source */
#define TIME_WEIGHT 0.25      /* moving-average weight of a new timing */
#define PRIOR_SLOPE 0.25      /* verify cost of one more draft, as a fraction of verify(0), until measured */
#define EXPLORE_AFTER 64      /* decisions after which an unused source gets one short try */
#define PROBE_GAP_MIN 16      /* auto: plain decisions before re-probing, doubling while probes fail */
#define PROBE_GAP_MAX 512

void spec_policy_init(spec_policy *p, const double dprior[SPEC_NSRC]) {
    memset(p, 0, sizeof *p);
    memcpy(p->dprior, dprior, sizeof p->dprior);
    p->probe_gap = PROBE_GAP_MIN;
}

double spec_policy_verify_cost(const spec_policy *p, int k) {
    if (p->vn[k]) return p->vt[k];
    int lo = -1, lo2 = -1, hi = -1;
    for (int i = k - 1; i >= 0 && lo2 < 0; i--)
        if (p->vn[i]) { if (lo < 0) lo = i; else lo2 = i; }
    for (int i = k + 1; i <= SPEC_K_MAX && hi < 0; i++)
        if (p->vn[i]) hi = i;
    if (lo >= 0 && hi >= 0) return p->vt[lo] + (p->vt[hi] - p->vt[lo]) * (k - lo) / (hi - lo);
    if (lo >= 0) {
        double slope = lo2 >= 0 ? (p->vt[lo] - p->vt[lo2]) / (lo - lo2) : PRIOR_SLOPE * p->vt[lo] / (1 + PRIOR_SLOPE * lo);
        return p->vt[lo] + (slope > 0 ? slope : 0) * (k - lo);
    }
    if (hi >= 0) return p->vt[hi] * (1 + PRIOR_SLOPE * k) / (1 + PRIOR_SLOPE * hi);
    return 0;
}

double spec_policy_rate(const spec_policy *p, int src, int n) {
    const spec_rate *r = &p->rate[src][n];
    return (r->ok + 1) / (r->ok + r->bad + 2); /* prior: one accept, one reject */
}

double spec_policy_draft_cost(const spec_policy *p, int src) {
    return p->dcost[src] > 0 ? p->dcost[src] : p->dprior[src] * spec_policy_verify_cost(p, 0);
}

/* Best k in [kmin, kmax] and its utility. */
static int best_k(const spec_policy *p, int src, int n, int kmin, int kmax, double *util) {
    double a = spec_policy_rate(p, src, n), c = spec_policy_draft_cost(p, src), best = -1, ak = a;
    int bk = kmin;
    for (int k = 1; k <= kmax; k++) {
        ak *= a; /* a^(k+1) */
        double u = (1 - ak) / (1 - a) / (spec_policy_verify_cost(p, k) + k * c);
        if (k >= kmin && u > best) { best = u; bk = k; }
    }
    *util = best;
    return bk;
}

int spec_policy_choose(spec_policy *p, const spec_cand c[SPEC_NSRC], int fallback, int fixed, int *k) {
    p->step++;
    *k = 0;
    double v0 = spec_policy_verify_cost(p, 0);
    if (v0 <= 0) return -1; /* the first step measures plain decoding */
    int best = -1, ks[SPEC_NSRC] = {0};
    double ub = 0;
    for (int s = 0; s < SPEC_NSRC; s++) {
        if (!c[s].avail || c[s].kmax < 1) continue;
        double u;
        ks[s] = best_k(p, s, c[s].n, fixed ? c[s].kmax : 1, c[s].kmax, &u);
        if (best < 0 || u > ub) { best = s; ub = u; }
    }
    if (best < 0) return -1;
    int pick = best;
    if (!fallback || ub >= 1 / v0) {
        p->probe_gap = PROBE_GAP_MIN;
        for (int s = 0; s < SPEC_NSRC; s++) /* exploration: a source unused for long gets a short try */
            if (c[s].avail && c[s].kmax >= 1 && s != best && p->step - p->last_used[s] > EXPLORE_AFTER) {
                pick = s;
                if (!fixed) ks[s] = c[s].kmax < 2 ? c[s].kmax : 2;
            }
    } else if (++p->plain_run >= p->probe_gap) {
        for (int s = 0; s < SPEC_NSRC; s++) /* probe the least recently used source with a short draft */
            if (c[s].avail && c[s].kmax >= 1 && p->last_used[s] < p->last_used[pick]) pick = s;
        ks[pick] = c[pick].kmax < 2 ? c[pick].kmax : 2;
        p->probe_gap = p->probe_gap * 2 < PROBE_GAP_MAX ? p->probe_gap * 2 : PROBE_GAP_MAX;
    } else {
        return -1;
    }
    p->plain_run = 0;
    p->last_used[pick] = p->step;
    *k = ks[pick];
    return pick;
}

void spec_policy_note_verify(spec_policy *p, int k, double seconds) {
    if (!p->vn[k]) p->vt[k] = seconds;
    else p->vt[k] += TIME_WEIGHT * (fmin(seconds, 3 * p->vt[k]) - p->vt[k]); /* outliers (a busy machine) capped */
    p->vn[k]++;
}

void spec_policy_note_accept(spec_policy *p, int src, int n, int drafted, int accepted) {
    spec_rate *r = &p->rate[src][n];
    r->ok = RATE_DECAY * r->ok + accepted;
    r->bad = RATE_DECAY * r->bad + (accepted < drafted);
}

void spec_policy_note_draft(spec_policy *p, int src, int drafted, double seconds) {
    double per = seconds / drafted;
    p->dcost[src] = p->dcost[src] > 0 ? p->dcost[src] + TIME_WEIGHT * (fmin(per, 3 * p->dcost[src]) - p->dcost[src]) : per;
}
