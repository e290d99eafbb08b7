/* test_scan_stream.c — streaming property test of the scanner.
 *
 * For every positive corpus item (secrets, Unicode attacks, vulnerable code,
 * prompt injections) the text is fed in many random splittings: tiny chunks,
 * large chunks, cuts inside the secret span and inside UTF-8 sequences. Each
 * splitting must produce exactly the findings of the whole-text scan; when
 * nothing halts, the emitted text must equal the whole-text output (so no
 * byte of a secret is emitted) and a stream must never hold back more than
 * SCAN_HOLD_MAX bytes except while a confirmed secret block is suppressed.
 * Two threads share one rule set (it is read-only).
 *
 * Splittings per item: 1000 for secret positives, Unicode attacks and prompt
 * injections, 100 for benign Unicode texts, and 50 for vulnerable code
 * (those items are long and the injection analyser decides whole
 * statements, so its chunk independence needs fewer samples; the fuzz
 * target covers it further). FLINT_SCAN_SPLITS overrides the 1000 (the
 * others scale with it).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/scan.h"
#include "tap.h"

typedef struct {
    char *id, *text, *secret, *ft;
    size_t len;
    scan_role role;
    int splits;
} item;

typedef struct {
    const scan_rules *r;
    item *items;
    size_t n, first, step;
    long runs, bad_findings, bad_text, bad_hold, leaked;
    char first_bad[128];
} job;

static int cmp_f(const void *a, const void *b) {
    const scan_finding *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    int c = strcmp(x->rule, y->rule);
    return c ? c : (int)x->action - (int)y->action;
}

static uint64_t rng(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct {
    scan_finding *f;
    size_t n, cap;
    char *out;
    size_t olen, ocap;
    int halted, hold_ok;
} run_out;

static void keep(run_out *o, const scan_result *r) {
    if (o->n + r->nfindings > o->cap) {
        o->cap = (o->n + r->nfindings) * 2 + 8;
        o->f = realloc(o->f, o->cap * sizeof *o->f);
    }
    if (r->nfindings) memcpy(o->f + o->n, r->findings, r->nfindings * sizeof *o->f);
    o->n += r->nfindings;
    if (o->olen + r->len + 1 > o->ocap) {
        o->ocap = (o->olen + r->len + 1) * 2;
        o->out = realloc(o->out, o->ocap);
    }
    memcpy(o->out + o->olen, r->text, r->len);
    o->olen += r->len;
    o->out[o->olen] = 0;
    o->halted |= r->halted;
}

/* Streams it->text cut at the sorted offsets cuts[0..nc). */
static void stream(const scan_rules *r, const item *it, const size_t *cuts, size_t nc, run_out *o) {
    memset(o, 0, sizeof *o);
    o->hold_ok = 1;
    scan_stream *s = scan_stream_new(r, it->role, it->ft);
    scan_result res;
    size_t at = 0;
    for (size_t i = 0; i <= nc; i++) {
        size_t to = i < nc ? cuts[i] : it->len;
        if (to <= at) continue;
        scan_feed(s, it->text + at, to - at, &res);
        keep(o, &res);
        int block;
        size_t held = scan_stream_held(s, &block);
        if (!o->halted && !block && held > SCAN_HOLD_MAX) o->hold_ok = 0;
        at = to;
    }
    scan_finish(s, &res);
    keep(o, &res);
    scan_stream_free(s);
    if (o->n) qsort(o->f, o->n, sizeof *o->f, cmp_f);
}

static int same_findings(const run_out *a, const run_out *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (cmp_f(&a->f[i], &b->f[i])) return 0;
    return 1;
}

/* Random cut points: small chunks, large chunks, or cuts inside the secret. */
static size_t make_cuts(const item *it, uint64_t *seed, int mode, size_t *cuts, size_t cap) {
    size_t n = 0, at = 0;
    const char *sec = it->secret ? strstr(it->text, it->secret) : NULL;
    if (mode == 2 && sec) {
        size_t a = (size_t)(sec - it->text), len = strlen(it->secret);
        size_t k = 1 + rng(seed) % 4;
        for (size_t i = 0; i < k && n < cap; i++) cuts[n++] = a + rng(seed) % (len + 1);
    } else {
        size_t maxc = mode == 0 ? 16 : 300;
        while (n < cap) {
            at += 1 + rng(seed) % maxc;
            if (at >= it->len) break;
            cuts[n++] = at;
        }
    }
    for (size_t i = 1; i < n; i++)          /* insertion sort */
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j]; cuts[j] = cuts[j - 1]; cuts[j - 1] = t;
        }
    return n;
}

/* 1 when every byte of the secret lies in a redacted finding. */
static int covered(const item *it, const run_out *o) {
    const char *sec = strstr(it->text, it->secret);
    size_t a = (size_t)(sec - it->text), b = a + strlen(it->secret);
    for (size_t p = a; p < b; p++) {
        int in = 0;
        for (size_t i = 0; i < o->n && !in; i++)
            in = o->f[i].action == SCAN_ACT_REDACT && o->f[i].start <= p && p < o->f[i].end;
        if (!in) return 0;
    }
    return 1;
}

/* The text with every redacted span replaced by its marker (overlapping
 * spans merge into the first one's marker), as the stream must emit it. */
static int matches_redaction(const item *it, const run_out *o) {
    size_t cap = it->len + 64 * (o->n + 1), n = 0, at = 0;
    char *exp = malloc(cap);
    for (size_t i = 0; i < o->n; i++) {
        const scan_finding *f = &o->f[i];
        if (f->action != SCAN_ACT_REDACT || f->end <= at) continue;
        size_t end = f->end;
        for (size_t j = i + 1; j < o->n && o->f[j].start < end; j++)
            if (o->f[j].action == SCAN_ACT_REDACT && o->f[j].end > end) end = o->f[j].end;
        if (f->start > at) { memcpy(exp + n, it->text + at, f->start - at); n += f->start - at; }
        n += (size_t)sprintf(exp + n, "[REDACTED:%s]", f->rule);
        at = end;
    }
    memcpy(exp + n, it->text + at, it->len - at);
    n += it->len - at;
    int ok = n == o->olen && !memcmp(exp, o->out, n);
    free(exp);
    return ok;
}

static void *worker(void *arg) {
    job *j = arg;
    size_t *cuts = malloc(4096 * sizeof *cuts);
    for (size_t i = j->first; i < j->n; i += j->step) {
        const item *it = &j->items[i];
        run_out whole, part;
        stream(j->r, it, NULL, 0, &whole);
        if (it->secret && (!covered(it, &whole) || !matches_redaction(it, &whole))) j->leaked++;
        uint64_t seed = 0x9E3779B97F4A7C15ull ^ (uint64_t)i * 0x100000001B3ull;
        for (int k = 0; k < it->splits; k++) {
            size_t nc = make_cuts(it, &seed, k % 3, cuts, 4096);
            stream(j->r, it, cuts, nc, &part);
            j->runs++;
            int bad = 0;
            if (!same_findings(&whole, &part)) { j->bad_findings++; bad = 1; }
            if (!whole.halted && !part.halted && (part.olen != whole.olen || memcmp(part.out, whole.out, whole.olen))) {
                j->bad_text++;
                bad = 1;
            }
            if (it->secret && !part.halted && !matches_redaction(it, &part)) { j->leaked++; bad = 1; }
            if (!part.hold_ok) { j->bad_hold++; bad = 1; }
            if (bad && !j->first_bad[0])
                snprintf(j->first_bad, sizeof j->first_bad, "%s (splitting %d, %zu cuts)", it->id, k, nc);
            free(part.f);
            free(part.out);
        }
        free(whole.f);
        free(whole.out);
    }
    free(cuts);
    return NULL;
}

static size_t load(item **items, size_t n, const char *file, const char *label_key,
                   const char *label, scan_role role, int splits) {
    const char *root = getenv("FLINT_ROOT");
    char path[1024], *line = NULL;
    size_t cap = 0;
    snprintf(path, sizeof path, "%s/tests/fixtures/scanner/%s", root ? root : ".", file);
    FILE *f = fopen(path, "r");
    if (!f) return n;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (!o) continue;
        const char *lab = label_key ? json_string_value(json_object_get(o, label_key)) : NULL;
        if (!label_key || (lab && !strcmp(lab, label))) {
            *items = realloc(*items, (n + 1) * sizeof **items);
            item *it = &(*items)[n++];
            const char *sec = json_string_value(json_object_get(o, "secret"));
            const char *lang = json_string_value(json_object_get(o, "language"));
            it->id = strdup(json_string_value(json_object_get(o, "id")));
            it->text = strdup(json_string_value(json_object_get(o, "text")));
            it->len = strlen(it->text);
            it->secret = sec ? strdup(sec) : NULL;
            it->ft = lang ? strdup(lang) : NULL;
            it->role = role;
            it->splits = splits;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return n;
}

static void run_group(const scan_rules *r, const char *name, item *items, size_t n) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    job jobs[2];
    pthread_t th[2];
    for (int w = 0; w < 2; w++) {
        jobs[w] = (job){r, items, n, (size_t)w, 2, 0, 0, 0, 0, 0, ""};
        pthread_create(&th[w], NULL, worker, &jobs[w]);
    }
    long runs = 0, bf = 0, bt = 0, bh = 0, lk = 0;
    const char *first = "";
    for (int w = 0; w < 2; w++) {
        pthread_join(th[w], NULL);
        runs += jobs[w].runs; bf += jobs[w].bad_findings; bt += jobs[w].bad_text;
        bh += jobs[w].bad_hold; lk += jobs[w].leaked;
        if (!first[0]) first = jobs[w].first_bad;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    NOTE("%s: %zu items, %ld splittings in %.2fs", name, n, runs, secs);
    if (first[0]) NOTE("%s: first failing item %s", name, first);
    CHECK(bf == 0, "%s: streaming findings equal whole-text findings (%ld of %ld differ)", name, bf, runs);
    CHECK(bt == 0, "%s: streamed output equals whole-text output (%ld of %ld differ)", name, bt, runs);
    CHECK(lk == 0, "%s: no secret byte emitted (%ld leaks)", name, lk);
    CHECK(bh == 0, "%s: held tail <= %d bytes outside blocks (%ld violations)", name, SCAN_HOLD_MAX, bh);
}

static void free_items(item *it, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(it[i].id); free(it[i].text); free(it[i].secret); free(it[i].ft);
    }
    free(it);
}

int main(void) {
    char err[256];
    scan_rules *r = scan_rules_new(NULL, err, sizeof err);
    if (!CHECK(r != NULL, "rule set builds")) return tap_done();
    const char *env = getenv("FLINT_SCAN_SPLITS");
    int splits = env ? atoi(env) : 1000;
    item *it = NULL;
    size_t n = load(&it, 0, "secrets_positive.jsonl", NULL, NULL, SCAN_ROLE_OUTPUT, splits);
    CHECK(n > 0, "secret positives load (%zu)", n);
    run_group(r, "secrets", it, n);
    free_items(it, n);
    it = NULL;
    n = load(&it, 0, "unicode.jsonl", "label", "attack", SCAN_ROLE_OUTPUT, splits);
    n = load(&it, n, "unicode.jsonl", "label", "benign", SCAN_ROLE_OUTPUT, splits / 10);
    run_group(r, "unicode", it, n);
    free_items(it, n);
    it = NULL;
    n = load(&it, 0, "injection.jsonl", "label", "vulnerable", SCAN_ROLE_OUTPUT, splits / 20);
    run_group(r, "injection", it, n);
    free_items(it, n);
    it = NULL;
    n = load(&it, 0, "prompt_injection.jsonl", "label", "injection", SCAN_ROLE_CONTEXT, splits);
    run_group(r, "prompt-injection", it, n);
    free_items(it, n);
    scan_rules_free(r);
    return tap_done();
}
