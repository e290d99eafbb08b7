/* test_scan_corpus.c — detection rates of the scanner on the labelled corpora
 * in tests/fixtures/scanner (see its README.md for the formats and scoring).
 *
 * Prints the measured rates as NOTE lines (overall and per kind / category /
 * CWE / language) and checks the acceptance thresholds:
 *   secrets   recall >= 98 % with the exact span, <= 1 % of negatives flagged
 *   unicode   every attack found, no benign item flagged
 *   injection recall >= 80 %, <= 20 % of safe items flagged
 *   prompt    recall >= 80 %, <= 0.5 % of benign items flagged
 * FLINT_SCAN_VERBOSE=1 also lists the ids of missed and wrongly flagged items
 * (never their text).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"
#include "tap.h"

static int verbose;

/* ---- small tallies keyed by a label ----------------------------------- */

typedef struct { char key[96]; int hit, total; } tally;
typedef struct { tally t[256]; int n; } tallies;

static void count(tallies *ts, const char *key, int hit) {
    for (int i = 0; i < ts->n; i++)
        if (!strcmp(ts->t[i].key, key)) { ts->t[i].hit += hit; ts->t[i].total++; return; }
    if (ts->n == 256) return;
    snprintf(ts->t[ts->n].key, sizeof ts->t[ts->n].key, "%s", key);
    ts->t[ts->n].hit = hit;
    ts->t[ts->n].total = 1;
    ts->n++;
}

static void print_tallies(const char *title, const tallies *ts) {
    NOTE("%s", title);
    for (int i = 0; i < ts->n; i++)
        NOTE("  %-58s %4d / %-4d %6.1f%%", ts->t[i].key, ts->t[i].hit, ts->t[i].total,
             100.0 * ts->t[i].hit / ts->t[i].total);
}

/* ---- corpus access ----------------------------------------------------- */

static json_t *load(const char *name) {
    const char *root = getenv("FLINT_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/scanner/%s", root ? root : ".", name);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (o) json_array_append_new(arr, o);
    }
    free(line);
    fclose(f);
    return arr;
}

static const char *str(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Findings of one kind in a text. */
static int kind_hits(const scan_rules *r, scan_role role, const char *ft, const char *text,
                     scan_kind kind, scan_finding **out) {
    scan_finding *f = NULL;
    size_t n = 0;
    if (scan_text(r, role, ft, text, strlen(text), &f, &n) < 0) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].kind == kind) f[k++] = f[i];
    if (out) *out = f;
    else free(f);
    return (int)k;
}

/* ---- the four corpora -------------------------------------------------- */

static void secrets(const scan_rules *r) {
    json_t *pos = load("secrets_positive.jsonl"), *neg = load("secrets_negative.jsonl");
    if (!CHECK(pos && neg && json_array_size(pos) && json_array_size(neg), "secret corpora load")) return;
    tallies kinds = {0}, cats = {0};
    int hit = 0, lenient = 0, total = 0;
    size_t i;
    json_t *o;
    json_array_foreach(pos, i, o) {
        const char *text = str(o, "text"), *secret = str(o, "secret");
        const char *at = strstr(text, secret);
        size_t a = at ? (size_t)(at - text) : 0, b = a + strlen(secret);
        scan_finding *f = NULL;
        int n = kind_hits(r, SCAN_ROLE_OUTPUT, NULL, text, SCAN_KIND_SECRET, &f);
        int exact = 0, overlap = 0;
        for (int k = 0; k < n; k++) {
            exact |= f[k].start == a && f[k].end == b;
            overlap |= f[k].start < b && f[k].end > a;
        }
        free(f);
        hit += exact;
        lenient += overlap;
        total++;
        count(&kinds, str(o, "kind"), exact);
        if (verbose && !exact) NOTE("secret miss %s (%s)%s", str(o, "id"), str(o, "kind"), overlap ? " overlap" : "");
    }
    double recall = (double)hit / total;
    NOTE("secrets: recall %.2f%% exact (%d/%d), %.2f%% overlapping", 100 * recall, hit, total,
         100.0 * lenient / total);
    print_tallies("secrets recall per kind:", &kinds);
    int fp = 0, ntot = 0;
    json_array_foreach(neg, i, o) {
        int n = kind_hits(r, SCAN_ROLE_OUTPUT, NULL, str(o, "text"), SCAN_KIND_SECRET, NULL);
        char cat[96];
        snprintf(cat, sizeof cat, "%.60s", str(o, "why"));
        count(&cats, cat, n > 0);
        fp += n > 0;
        ntot++;
        if (verbose && n > 0) NOTE("secret false positive %s", str(o, "id"));
    }
    double fpr = (double)fp / ntot;
    NOTE("secrets: false positives %.2f%% (%d/%d)", 100 * fpr, fp, ntot);
    print_tallies("secrets negatives flagged per category:", &cats);
    CHECK(recall >= 0.98, "secrets recall %.2f%% >= 98%% with the exact span", 100 * recall);
    CHECK(fpr <= 0.01, "secrets false positives %.2f%% <= 1%%", 100 * fpr);
    json_decref(pos);
    json_decref(neg);
}

static void unicode(const scan_rules *r) {
    json_t *items = load("unicode.jsonl");
    if (!CHECK(items && json_array_size(items), "unicode corpus loads")) return;
    tallies att = {0}, ben = {0};
    int ah = 0, at = 0, bf = 0, bt = 0;
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) {
        int n = kind_hits(r, SCAN_ROLE_OUTPUT, NULL, str(o, "text"), SCAN_KIND_UNICODE, NULL);
        int attack = !strcmp(str(o, "label"), "attack");
        count(attack ? &att : &ben, str(o, "what"), n > 0);
        if (attack) { ah += n > 0; at++; } else { bf += n > 0; bt++; }
        if (verbose && (n > 0) != attack) NOTE("unicode %s %s", attack ? "miss" : "false positive", str(o, "id"));
    }
    NOTE("unicode: attacks detected %d/%d, benign flagged %d/%d", ah, at, bf, bt);
    print_tallies("unicode attacks detected per technique:", &att);
    print_tallies("unicode benign flagged per category:", &ben);
    CHECK(ah == at, "unicode attacks 100%% detected (%d/%d)", ah, at);
    CHECK(bf == 0, "unicode benign items without findings (%d flagged)", bf);
    json_decref(items);
}

static const char *filetype_of(const char *lang) {
    return !strcmp(lang, "javascript") ? "javascript" : lang;
}

static void injection(const scan_rules *r) {
    json_t *items = load("injection.jsonl");
    if (!CHECK(items && json_array_size(items), "injection corpus loads")) return;
    tallies vul = {0}, saf = {0}, src = {0};
    int vh = 0, vt = 0, sf = 0, st = 0;
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) {
        int n = kind_hits(r, SCAN_ROLE_OUTPUT, filetype_of(str(o, "language")), str(o, "text"),
                          SCAN_KIND_INJECTION, NULL);
        int bad = !strcmp(str(o, "label"), "vulnerable");
        char key[96], skey[96];
        snprintf(key, sizeof key, "%s %s", str(o, "cwe"), str(o, "language"));
        snprintf(skey, sizeof skey, "%s: %.32s", bad ? "vulnerable" : "safe", str(o, "source"));
        count(bad ? &vul : &saf, key, n > 0);
        count(&src, skey, n > 0);
        if (bad) { vh += n > 0; vt++; } else { sf += n > 0; st++; }
        if (verbose && (n > 0) != bad) NOTE("injection %s %s", bad ? "miss" : "false positive", str(o, "id"));
    }
    double recall = (double)vh / vt, fpr = (double)sf / st;
    NOTE("injection: recall %.1f%% (%d/%d), safe flagged %.1f%% (%d/%d)", 100 * recall, vh, vt,
         100 * fpr, sf, st);
    print_tallies("injection recall per cwe/language:", &vul);
    print_tallies("injection safe flagged per cwe/language:", &saf);
    print_tallies("injection flagged per source:", &src);
    CHECK(recall >= 0.80, "injection recall %.1f%% >= 80%%", 100 * recall);
    CHECK(fpr <= 0.20, "injection safe items flagged %.1f%% <= 20%%", 100 * fpr);
    json_decref(items);
}

static void prompt(const scan_rules *r) {
    json_t *items = load("prompt_injection.jsonl");
    if (!CHECK(items && json_array_size(items), "prompt-injection corpus loads")) return;
    tallies src = {0};
    int ih = 0, it = 0, bf = 0, bt = 0;
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) {
        int n = kind_hits(r, SCAN_ROLE_CONTEXT, NULL, str(o, "text"), SCAN_KIND_PROMPT, NULL);
        int inj = !strcmp(str(o, "label"), "injection");
        char key[96];
        const char *from = str(o, "source");
        int cut = !strncmp(from, "local file ", 11) ? 25 : (int)strcspn(from, ":");
        if (cut > 48) cut = 48;
        snprintf(key, sizeof key, "%s: %.*s", inj ? "injection" : "benign", cut, from);
        count(&src, key, n > 0);
        if (inj) { ih += n > 0; it++; } else { bf += n > 0; bt++; }
        if (verbose && (n > 0) != inj) NOTE("prompt %s %s", inj ? "miss" : "false positive", str(o, "id"));
    }
    double recall = (double)ih / it, fpr = (double)bf / bt;
    NOTE("prompt injection: recall %.1f%% (%d/%d), benign flagged %.2f%% (%d/%d)", 100 * recall,
         ih, it, 100 * fpr, bf, bt);
    print_tallies("prompt injection flagged per source:", &src);
    CHECK(recall >= 0.80, "prompt-injection recall %.1f%% >= 80%%", 100 * recall);
    CHECK(fpr <= 0.005, "prompt-injection benign flagged %.2f%% <= 0.5%%", 100 * fpr);
    json_decref(items);
}

int main(void) {
    verbose = getenv("FLINT_SCAN_VERBOSE") != NULL;
    char err[256];
    scan_rules *r = scan_rules_new(NULL, err, sizeof err);
    if (!CHECK(r != NULL, "rule set builds (%s)", r ? "ok" : err)) return tap_done();
    const char *only = getenv("FLINT_SCAN_CORPUS");
    if (!only || strstr(only, "secret")) secrets(r);
    if (!only || strstr(only, "unicode")) unicode(r);
    if (!only || strstr(only, "inject")) injection(r);
    if (!only || strstr(only, "prompt")) prompt(r);
    scan_rules_free(r);
    return tap_done();
}
