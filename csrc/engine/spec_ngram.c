/* spec_ngram.c — prompt-lookup drafting: a hash of the last n tokens points
 * at their most recent earlier occurrence; what followed it is the draft. */
#include <stdlib.h>
#include <string.h>

#include "engine/spec_internal.h"

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

int spec_ngram_draft(const spec_ngram *ix, const int32_t *hist, int n, int kmax, int32_t *out, int *match) {
    *match = 0;
    if (n < 2 || kmax <= 0) return 0;
    int e = n - 1;
    uint64_t hs[SPEC_NGRAM_MAX + 1], h = 0;
    for (int len = 1; len <= ix->nmax && len <= n; len++) hs[len] = h = step_hash(h, hist[e - len + 1]);
    for (int len = ix->nmax < n - 1 ? ix->nmax : n - 1; len >= ix->nmin; len--) {
        uint32_t v = ix->slot[slot_of(ix, hs[len], len)];
        if (!v) continue;
        int pos = (int)v - 1; /* end of the earlier occurrence */
        if (pos >= ix->indexed || pos >= e || pos < len - 1 || !same_run(hist, pos, e, len)) continue;
        int k = 0;
        for (; k < kmax; k++) {
            int src = pos + 1 + k; /* < n + k: in hist, or an already drafted token */
            out[k] = src < n ? hist[src] : out[src - n];
        }
        *match = len;
        return k;
    }
    return 0;
}
