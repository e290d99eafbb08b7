/* spec_accept.c — the rejection rule of speculative sampling (Leviathan et
 * al. 2023; Chen et al. 2023). For a proposal x ~ q and a target p:
 *   P(emit y) = q(y) min(1, p(y)/q(y)) + P(reject) * r(y),
 *   r = max(0, p - q) / sum max(0, p - q),  P(reject) = sum max(0, p - q),
 * which is min(q, p)(y) + max(0, p - q)(y) = p(y). */
#include "engine/spec.h"

int spec_accept(samp *s, int n, const float *p, const float *q, int draft, float *resid, int *accepted) {
    double pd = p[draft], qd = q ? q[draft] : 1.0;
    if (qd <= 0 || pd >= qd || samp_uniform(s) * qd < pd) {
        *accepted = 1;
        return draft;
    }
    *accepted = 0;
    double total = 0;
    for (int i = 0; i < n; i++) {
        float r = p[i] - (q ? q[i] : (i == draft ? 1.f : 0.f));
        resid[i] = r > 0 ? r : 0;
        total += resid[i];
    }
    return samp_draw(s, total > 0 ? resid : p);
}
