/* spec_ngram.c — prompt-lookup drafting: a hash of the last n tokens points
 * at their most recent earlier occurrence; what followed it is the draft.
 * An output that copies its input with edits (a refactor) is followed
 * through its source: after an edit, the copy resumes at the nearest match
 * past the place it had reached, not at the most recent one (often an
 * earlier line of the output itself). */
#include <stdlib.h>
#include <string.h>

#include "engine/spec_internal.h"

#define ALIGN_WINDOW 64 /* source positions searched past the aligned place after an edit */

/* Hash of the n tokens ending at hist[e], for n = 1.. (one multiply per step). */
static uint64_t step_hash(uint64_t h, int32_t tok) { return (h ^ (uint32_t)tok) * 0x9e3779b97f4a7c15ull + 0x632be5ab; }

static uint32_t slot_of(const spec_ngram *ix, uint64_t h, int n) {
    h ^= (uint64_t)n * 0xd6e8feb86659fd93ull;
    h ^= h >> 29;
    return (uint32_t)h & ix->mask;
}

int spec_ngram_init(spec_ngram *ix, int nmin, int nmax, int capacity) {
    size_t want = (size_t)2 * (size_t)(nmax - nmin + 1) * (size_t)(capacity > 0 ? capacity : 1), size = 1024;
    while (size < want && size < ((size_t)1 << 24)) size <<= 1;
    ix->nmin = nmin;
    ix->nmax = nmax;
    ix->mask = (uint32_t)(size - 1);
    ix->indexed = 0;
    ix->anchor = ix->anchor_end = -1;
    ix->slot = calloc(size, sizeof(uint32_t));
    return ix->slot ? 0 : -1;
}

void spec_ngram_free(spec_ngram *ix) {
    free(ix->slot);
    ix->slot = NULL;
}

void spec_ngram_update(spec_ngram *ix, const int32_t *hist, int n) {
    for (int e = ix->indexed; e < n - 1; e++) {
        uint64_t h = 0;
        for (int len = 1; len <= ix->nmax && len <= e + 1; len++) {
            h = step_hash(h, hist[e - len + 1]);
            if (len >= ix->nmin) ix->slot[slot_of(ix, h, len)] = (uint32_t)e + 1;
        }
    }
    if (n - 1 > ix->indexed) ix->indexed = n - 1;
}

void spec_ngram_rewind(spec_ngram *ix, int n) {
    if (ix->anchor_end >= n - 1) ix->anchor = ix->anchor_end = -1;
    if (n - 1 >= ix->indexed) return;
    /* later positions may have overwritten earlier occurrences: index again from the start */
    memset(ix->slot, 0, ((size_t)ix->mask + 1) * sizeof(uint32_t));
    ix->indexed = 0;
}

/* Do the len tokens ending at a and at b agree? */
static int same_run(const int32_t *hist, int a, int b, int len) {
    for (int i = 0; i < len; i++)
        if (hist[a - i] != hist[b - i]) return 0;
    return 1;
}

/* The source position aligned with hist[e] by following the last draft's
 * source (see the top), with the match length to report; -1 if none. */
static int aligned(const spec_ngram *ix, const int32_t *hist, int e, int *len) {
    int a = ix->anchor, m = e - ix->anchor_end;
    if (a < 0 || m <= 0) return -1;
    if (a + m < ix->anchor_end + 1 && same_run(hist, a + m, e, m)) { /* the copy went on */
        *len = m < ix->nmax ? m : ix->nmax;
        return *len >= ix->nmin ? a + m : -1;
    }
    int hi = a + m + ALIGN_WINDOW < e ? a + m + ALIGN_WINDOW : e - 1; /* an edit: resume past it */
    for (int l = ix->nmax; l >= ix->nmin; l--)
        for (int p = a + 1 > l - 1 ? a + 1 : l - 1; p <= hi; p++)
            if (same_run(hist, p, e, l)) {
                *len = l;
                return p;
            }
    return -1;
}

/* The end of the most recent earlier occurrence of the longest matching
 * suffix of hist[0..e] (lengths nmax..nmin), with its length; -1 if none. */
static int most_recent(const spec_ngram *ix, const int32_t *hist, int e, int *len) {
    uint64_t hs[SPEC_NGRAM_MAX + 1], h = 0;
    for (int l = 1; l <= ix->nmax && l <= e + 1; l++) hs[l] = h = step_hash(h, hist[e - l + 1]);
    for (int l = ix->nmax < e ? ix->nmax : e; l >= ix->nmin; l--) {
        uint32_t v = ix->slot[slot_of(ix, hs[l], l)];
        if (!v) continue;
        int p = (int)v - 1; /* end of the earlier occurrence */
        if (p >= ix->indexed || p >= e || p < l - 1 || !same_run(hist, p, e, l)) continue;
        *len = l;
        return p;
    }
    return -1;
}

int spec_ngram_draft(spec_ngram *ix, const int32_t *hist, int n, int kmax, int32_t *out, int *match) {
    *match = 0;
    if (n < 2 || kmax <= 0) return 0;
    int e = n - 1, len = 0, pos = aligned(ix, hist, e, &len);
    if (pos < 0) pos = most_recent(ix, hist, e, &len);
    ix->anchor = pos;
    ix->anchor_end = pos >= 0 ? e : -1;
    if (pos < 0) return 0;
    int k = 0;
    for (; k < kmax; k++) {
        int src = pos + 1 + k; /* < n + k: in hist, or an already drafted token */
        out[k] = src < n ? hist[src] : out[src - n];
    }
    *match = len;
    return k;
}
