/* prompt.c — completion (FIM) prompts as token ids, and the trimming and
 * masking helpers the refactor prompt (prompt_chat.c) shares.
 *
 * Layout for typing: what changes least comes first, so the prompt cache
 * keeps it. Repository context (fixed share of the budget, trimmed from
 * each file's end) comes first; then, in SPM order, the suffix (stable while
 * the user types) and the prefix, whose end is where typing happens. The
 * prefix is trimmed from its start by whole lines and the cut is sticky:
 * once lines were dropped, the same lines stay dropped while the rest fits,
 * so a keystroke does not shift the whole prompt. Code is always tokenized
 * as text (control-token strings in a file are not control tokens), and
 * every piece of context passes the scanner's context masking first. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

/* Tokens per byte are at least 1/6 for code in every vocabulary we know:
 * windows larger than 6 bytes per budget token are never tokenized. */
#define BYTES_PER_TOKEN_MAX 6

static int enc(const srv_model *m, const char *s, size_t n, tok_ids *out) {
    return tok_tokenize(m->vocab, s, n, 0, out);
}

static int count(const srv_model *m, const char *s, size_t n) {
    tok_ids t = {0};
    int rc = enc(m, s, n, &t);
    int c = rc ? -1 : (int)t.n;
    tok_ids_free(&t);
    return c;
}

char *srv_masked(const scan_rules *rules, const char *ft, const char *s, size_t n, size_t *outlen) {
    if (rules) {
        char *out = NULL;
        scan_finding *f = NULL;
        size_t nf = 0;
        if (scan_context(rules, ft, s, n, &out, outlen, &f, &nf)) return NULL;
        free(f);
        return out;
    }
    char *out = malloc(n + 1);
    if (!out) return NULL;
    memcpy(out, s, n);
    out[n] = 0;
    *outlen = n;
    return out;
}

/* Back to the start of a UTF-8 sequence. */
static size_t utf8_start(const char *t, size_t i, size_t lo) {
    while (i > lo && ((unsigned char)t[i] & 0xc0) == 0x80) i--;
    return i;
}

/* The earliest line start whose tail has at most T tokens (by per-line
 * counts with a little slack, then checked). */
long srv_fit_tail(const srv_model *m, const char *t, size_t len, int T) {
    if (T <= 0) return (long)len;
    size_t win = (size_t)T * BYTES_PER_TOKEN_MAX, lo = len > win ? len - win : 0;
    while (lo > 0 && lo < len && t[lo - 1] != '\n') lo++;
    if (lo > len) lo = len;
    size_t best = len; /* candidate start */
    int total = 0;
    for (size_t e = len; e > lo;) { /* lines [s, e) from the end */
        size_t s = e;
        if (t[s - 1] == '\n') s--; /* the line's own newline (also a final one) */
        while (s > lo && t[s - 1] != '\n') s--;
        int c = count(m, t + s, e - s);
        if (c < 0) return -1;
        if (total + c > T * 15 / 16) break;
        total += c;
        best = s;
        e = s;
    }
    while (best < len) { /* verify as one piece */
        int c = count(m, t + best, len - best);
        if (c < 0) return -1;
        if (c <= T) return (long)best;
        const char *nl = memchr(t + best, '\n', len - best);
        if (!nl) break;
        best = (size_t)(nl - t) + 1;
    }
    /* the last line alone is too long: keep its last T bytes (>= tokens) */
    size_t ls = len;
    while (ls > 0 && t[ls - 1] != '\n') ls--;
    if (len - ls <= (size_t)T && count(m, t + ls, len - ls) <= T) return (long)ls;
    return (long)utf8_start(t, len - (size_t)T, ls);
}

/* The latest line end (after its newline) whose head has at most T tokens;
 * inside the first line when even it is too long. */
long srv_fit_head(const srv_model *m, const char *t, size_t len, int T) {
    if (T <= 0) return 0;
    size_t win = (size_t)T * BYTES_PER_TOKEN_MAX, hi = len < win ? len : win;
    size_t best = 0;
    int total = 0;
    for (size_t s = 0; s < hi;) {
        const char *nl = memchr(t + s, '\n', len - s);
        size_t e = nl ? (size_t)(nl - t) + 1 : len;
        if (e > hi && best) break;
        int c = count(m, t + s, e - s);
        if (c < 0) return -1;
        if (total + c > T * 15 / 16) break;
        total += c;
        best = e;
        s = e;
    }
    while (best > 0) {
        int c = count(m, t, best);
        if (c < 0) return -1;
        if (c <= T) return (long)best;
        size_t e = best - 1; /* drop the last kept line */
        while (e > 0 && t[e - 1] != '\n') e--;
        best = e;
    }
    size_t le = 0;
    while (le < len && t[le] != '\n') le++;
    size_t cut = le < (size_t)T ? le : (size_t)T;
    return (long)utf8_start(t, cut, 0);
}

/* Offset after the first `lines` newlines of t (len if fewer). */
static size_t after_lines(const char *t, size_t len, int lines) {
    size_t i = 0;
    for (int k = 0; k < lines && i < len; k++) {
        const char *nl = memchr(t + i, '\n', len - i);
        if (!nl) return len;
        i = (size_t)(nl - t) + 1;
    }
    return i;
}

static int newlines(const char *t, size_t n) {
    int k = 0;
    for (const char *p = t; (p = memchr(p, '\n', (size_t)(t + n - p))); p++) k++;
    return k;
}

/* Appends the masked tokens of t[0, n); returns the token count or -1. */
static int append_masked(const srv_model *m, const scan_rules *rules, const char *ft, const char *t, size_t n,
                         tok_ids *out) {
    size_t ml;
    char *mt = srv_masked(rules, ft, t, n, &ml);
    if (!mt) return -1;
    size_t before = out->n;
    int rc = enc(m, mt, ml, out);
    free(mt);
    return rc ? -1 : (int)(out->n - before);
}

/* Repository context: at most `budget` tokens of the extra files, in order,
 * each trimmed from its end; whole files that do not fit are left out. */
static int repo_context(const srv_model *m, const scan_rules *rules, const srv_request *r, int budget, tok_ids *out) {
    const srv_fim *f = &m->fim;
    if (f->repo_style == SRV_REPO_NONE) return 0;
    int used = 0;
    if (f->repo_style == SRV_REPO_QWEN && r->repo && *r->repo && f->repo >= 0) {
        tok_ids_push(out, f->repo);
        tok_text name = {0};
        tok_text_append(&name, r->repo, strlen(r->repo));
        tok_text_append(&name, "\n", 1);
        int c = name.s ? append_masked(m, NULL, NULL, name.s, name.n, out) : -1;
        tok_text_free(&name);
        if (c < 0) return -1;
        used += c + 1;
    }
    for (int i = 0; i < r->n_extra; i++) {
        const srv_extra *x = &r->extra[i];
        tok_text block = {0};
        size_t plen = strlen(x->path);
        int ok = !tok_text_append(&block, x->path, plen) && !tok_text_append(&block, "\n", 1) &&
                 !tok_text_append(&block, x->text, x->text_len);
        if (ok && f->repo_style == SRV_REPO_QWEN && (!x->text_len || x->text[x->text_len - 1] != '\n'))
            ok = !tok_text_append(&block, "\n", 1);
        long end = ok ? srv_fit_head(m, block.s, block.n, budget - used - 1) : -1;
        if (end < 0) { tok_text_free(&block); return -1; }
        if ((size_t)end <= plen + 1) { tok_text_free(&block); break; } /* not even a line of it fits */
        tok_ids_push(out, f->sep);
        int c = append_masked(m, rules, r->filetype, block.s, (size_t)end, out);
        tok_text_free(&block);
        if (c < 0) return -1;
        used += c + 1;
    }
    if (f->repo_style == SRV_REPO_QWEN && r->path && *r->path && used) { /* the file being edited */
        tok_ids_push(out, f->sep);
        tok_text head = {0};
        tok_text_append(&head, r->path, strlen(r->path));
        tok_text_append(&head, "\n", 1);
        int c = head.s ? append_masked(m, NULL, NULL, head.s, head.n, out) : -1;
        tok_text_free(&head);
        if (c < 0) return -1;
        used += c + 1;
    }
    return used;
}

/* The prefix's kept tail within Bp tokens, appended to out; returns its
 * token count or -1. The sticky cut (see the top) is kept unless the tail
 * no longer fits, or it uses less than half the budget while lines above it
 * were dropped; then the cut is recomputed to fill 7/8 of the budget. Each
 * pass that does not accept moves the start forward or recomputes once, so
 * the loop ends (at worst with an empty prefix). */
static int prefix_tokens(const srv_model *m, const scan_rules *rules, const srv_request *r, int Bp, int *cut,
                         tok_ids *out) {
    const char *t = r->prefix;
    size_t len = r->prefix_len, start = after_lines(t, len, *cut);
    int recomputed = 0;
    for (;;) {
        tok_ids p = {0};
        int c = append_masked(m, rules, r->filetype, t + start, len - start, &p);
        int stale = !recomputed && start > 0 && c < Bp / 2;
        if (c >= 0 && c <= Bp && !stale) {
            int rc = 0;
            for (size_t i = 0; i < p.n && !rc; i++) rc = tok_ids_push(out, p.v[i]);
            tok_ids_free(&p);
            *cut = newlines(t, start);
            return rc ? -1 : c;
        }
        tok_ids_free(&p);
        if (c < 0) return -1;
        long s;
        if (!recomputed) {
            if ((s = srv_fit_tail(m, t, len, Bp * 7 / 8)) < 0) return -1;
            recomputed = 1;
        } else { /* masking made the tail longer than counted: one more line */
            const char *nl = memchr(t + start, '\n', len - start);
            s = nl ? (long)(nl - t) + 1 : (long)len;
        }
        start = (size_t)s;
    }
}

int srv_prompt_fim(const srv_model *m, const scan_rules *rules, const srv_request *r, int budget, int *prefix_cut,
                   char *heal, size_t *heal_len, tok_ids *out, char *err, size_t errlen) {
    const srv_fim *f = &m->fim;
    if (!f->family) return fl_seterr(err, errlen, "model %s has no fill-in-the-middle tokens", m->name);
    if (tok_add_bos(m->vocab) && tok_special_ids(m->vocab)->bos >= 0) tok_ids_push(out, tok_special_ids(m->vocab)->bos);
    int rem = budget - (int)out->n - 3;
    if (r->n_extra) {
        int c = repo_context(m, rules, r, rem / 4, out);
        if (c < 0) goto oom;
        rem -= c;
    }
    if (rem < 8) return fl_seterr(err, errlen, "no room for the prompt (budget %d tokens)", budget);
    /* suffix: its first lines, at most a third of what is left */
    long se = srv_fit_head(m, r->suffix, r->suffix_len, rem / 3);
    if (se < 0) goto oom;
    tok_ids suf = {0}, pre = {0};
    int sc = append_masked(m, rules, r->filetype, r->suffix, (size_t)se, &suf);
    while (sc > rem / 3 && se > 0) { /* masking grew it: drop lines */
        size_t e = (size_t)se - 1;
        while (e > 0 && r->suffix[e - 1] != '\n') e--;
        se = (long)e;
        suf.n = 0;
        sc = append_masked(m, rules, r->filetype, r->suffix, (size_t)se, &suf);
    }
    int pc = sc < 0 ? -1 : prefix_tokens(m, rules, r, rem - sc, prefix_cut, &pre);
    if (sc < 0 || pc < 0) {
        tok_ids_free(&suf);
        tok_ids_free(&pre);
        goto oom;
    }
    if (heal) pre.n -= (size_t)srv_heal_back(m, pre.v, pre.n, heal, heal_len);
    const tok_ids *first = f->spm ? &suf : &pre, *second = f->spm ? &pre : &suf;
    tok_ids_push(out, f->spm ? f->suf : f->pre);
    for (size_t i = 0; i < first->n; i++) tok_ids_push(out, first->v[i]);
    tok_ids_push(out, f->spm ? f->pre : f->suf);
    for (size_t i = 0; i < second->n; i++) tok_ids_push(out, second->v[i]);
    int rc = tok_ids_push(out, f->mid);
    tok_ids_free(&suf);
    tok_ids_free(&pre);
    if (rc) goto oom;
    return 0;
oom:
    return fl_seterr(err, errlen, "out of memory while building the prompt");
}
