/* stop.c — where a completion ends, decided from its text; and the fence
 * filter of refactor replies. See internal.h and doc/protocol.md ("Stop
 * rules"). Both filters keep the whole generated text and a `released`
 * mark; they only ever append to the caller's output. */
#include <stdlib.h>
#include <string.h>

#include "serve/internal.h"

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

int srv_indent_cols(const char *s, size_t n, int tabstop) {
    int col = 0;
    for (size_t i = 0; i < n && is_ws(s[i]); i++) col = s[i] == '\t' ? (col / tabstop + 1) * tabstop : col + 1;
    return col;
}

/* [*a, *b) trimmed of spaces and tabs on both ends. */
static void trim(const char *s, size_t *a, size_t *b) {
    while (*a < *b && is_ws(s[*a])) (*a)++;
    while (*b > *a && is_ws(s[*b - 1])) (*b)--;
}

static char *dup_trimmed(const char *s, size_t a, size_t b, size_t *len) {
    trim(s, &a, &b);
    char *d = malloc(b - a + 1);
    if (!d) return NULL;
    memcpy(d, s + a, b - a);
    d[b - a] = 0;
    *len = b - a;
    return d;
}

/* The line before the next one becomes a + b (right-trimmed); kept only
 * when it has content. Returns 0 or -1 (out of memory). */
static int set_prev(srv_stop *s, const char *a, size_t na, const char *b, size_t nb) {
    size_t n = na + nb;
    while (n > 0 && is_ws(n > na ? b[n - na - 1] : a[n - 1])) n--;
    size_t lead = 0;
    while (lead < n && is_ws(lead < na ? a[lead] : b[lead - na])) lead++;
    if (lead == n) return 0; /* blank: the line before stays */
    char *d = malloc(n + 1);
    if (!d) return -1;
    size_t ka = n < na ? n : na;
    memcpy(d, a, ka);
    memcpy(d + ka, b, n - ka);
    d[n] = 0;
    free(s->prev);
    s->prev = d;
    s->prev_len = n;
    return 0;
}

int srv_stop_init(srv_stop *s, const srv_request *r) {
    memset(s, 0, sizeof *s);
    s->tabstop = r->tabstop > 0 ? r->tabstop : 8;
    s->loops = 1;
    const char *pre = r->prefix, *suf = r->suffix;
    size_t cl = r->prefix_len;
    while (cl > 0 && pre[cl - 1] != '\n') cl--;
    s->cursor_indent = srv_indent_cols(pre + cl, r->prefix_len - cl, s->tabstop);
    const char *nl = memchr(suf, '\n', r->suffix_len);
    size_t rest_end = nl ? (size_t)(nl - suf) : r->suffix_len;
    if (!(s->rest = dup_trimmed(suf, 0, rest_end, &s->rest_len))) return -1;
    s->mode = r->mode != SRV_MODE_AUTO ? r->mode : s->rest_len ? SRV_MODE_LINE : SRV_MODE_BLOCK;
    /* the first non-blank line below the cursor line */
    size_t a = rest_end, b = a;
    while (a < r->suffix_len) {
        a++; /* past '\n' */
        const char *e = memchr(suf + a, '\n', r->suffix_len - a);
        b = e ? (size_t)(e - suf) : r->suffix_len;
        size_t ta = a, tb = b;
        trim(suf, &ta, &tb);
        if (tb > ta) break;
        a = b;
    }
    if (a >= r->suffix_len) a = b = r->suffix_len;
    if (!(s->next = dup_trimmed(suf, a, b, &s->next_len))) return -1;
    s->cur_len = r->prefix_len - cl;
    if (!(s->cur = malloc(s->cur_len + 1))) return -1;
    memcpy(s->cur, pre + cl, s->cur_len);
    s->cur[s->cur_len] = 0;
    return 0;
}

void srv_stop_free(srv_stop *s) {
    free(s->rest);
    free(s->next);
    free(s->cur);
    free(s->prev);
    tok_text_free(&s->text);
    memset(s, 0, sizeof *s);
}

static void release_to(size_t *released, const tok_text *t, size_t end, tok_text *out) {
    if (end > *released) {
        tok_text_append(out, t->s + *released, end - *released);
        *released = end;
    }
}

/* Bytes at the end of the cursor line's completion [a, b) that could be the
 * start of the rest of the cursor line (held back until the line ends). */
static size_t rest_hold(const srv_stop *s, size_t a, size_t b) {
    const char *t = s->text.s;
    for (size_t k = s->rest_len < b - a ? s->rest_len : b - a; k > 0; k--)
        if (!memcmp(t + b - k, s->rest, k)) return k;
    return 0;
}

/* The cursor line's completion [a, b) ends: drop a trailing copy of the
 * rest of the line. Returns the new end. */
static size_t cut_rest(const srv_stop *s, size_t a, size_t b) {
    const char *t = s->text.s;
    size_t e = b;
    while (e > a && is_ws(t[e - 1])) e--;
    if (s->rest_len && e - a >= s->rest_len && !memcmp(t + e - s->rest_len, s->rest, s->rest_len)) {
        e -= s->rest_len;
        while (e > a && is_ws(t[e - 1])) e--;
        return e;
    }
    return b;
}

/* A model looping inside a line ("f(out, out, out, out, ..."): the line's
 * tail is periodic with a period of LOOP_MIN..LOOP_MAX bytes that holds a
 * letter. From the second period on it is held back; at LOOP_PERIODS
 * periods the suggestion ends after the first one. */
#define LOOP_MIN 3
#define LOOP_MAX 32
#define LOOP_PERIODS 4

static int is_letter(char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int is_word(char c) { return is_letter(c) || (c >= '0' && c <= '9') || c == '_'; }

static int has_letter(const char *t, size_t a, size_t b) {
    for (size_t i = a; i < b; i++)
        if (is_letter(t[i])) return 1;
    return 0;
}

/* For the line [a, b): bytes at its end that repeat the bytes one period
 * before them (the longest such run over the periods; 0 if none). When some
 * period reached LOOP_PERIODS periods, *looped is where the suggestion ends:
 * after the first period, or after what was already released (a repeat can
 * be sent before it is known to be one), at the first place there that is
 * not inside a word (any rotation of the period is a period); else 0. */
static size_t loop_hold(const srv_stop *s, size_t a, size_t b, size_t *looped) {
    const char *t = s->text.s;
    size_t hold = 0;
    *looped = 0;
    for (size_t L = LOOP_MIN; s->loops && L <= LOOP_MAX && 2 * L <= b - a; L++) {
        size_t m = 0;
        while (m < b - a - L && t[b - 1 - m] == t[b - 1 - m - L]) m++;
        if (m < L || !has_letter(t, b - L, b)) continue;
        if (m >= (LOOP_PERIODS - 1) * L) {
            size_t c0 = b - m > s->released ? b - m : s->released, end = c0;
            while (end < c0 + L && end < b && is_word(t[end - 1]) && is_word(t[end])) end++;
            *looped = end < c0 + L && end < b ? end : c0;
            return m;
        }
        if (m > hold) hold = m;
    }
    return hold;
}

enum { GO_ON, UNDECIDED, STOP_BEFORE, STOP_AFTER };

/* 1: t[a, b) starts with a closing bracket or the word "end"; -1: it is a
 * proper prefix of "end" (undecided); 0: neither. */
static int is_closer(const char *t, size_t a, size_t b) {
    if (a >= b) return 0;
    if (t[a] == '}' || t[a] == ')' || t[a] == ']') return 1;
    size_t n = b - a;
    if (n < 3) return !memcmp(t + a, "end", n) ? -1 : 0;
    if (memcmp(t + a, "end", 3)) return 0;
    char c = n > 3 ? (char)(t[a + 3] | 32) : 0;
    return !(c == '_' || (c >= 'a' && c <= 'z') || (t[a + 3] >= '0' && t[a + 3] <= '9'));
}

/* Judges a line below the cursor line, [a, b) of the text; complete: its
 * newline was generated. Sets *why for the STOP_* answers. */
static int judge(srv_stop *s, size_t a, size_t b, int complete, const char **why) {
    const char *t = s->text.s;
    size_t ta = a, tb = b;
    trim(t, &ta, &tb);
    if (ta == tb) return complete ? GO_ON : UNDECIDED; /* blank so far */
    int indent = srv_indent_cols(t + a, b - a, s->tabstop);
    *why = "indent";
    if (indent < s->cursor_indent) return STOP_BEFORE;
    /* a line the same as the one before it (indentation included): a model
     * looping; closing lines repeat legitimately */
    if (s->prev_len && tb - a <= s->prev_len && !memcmp(t + a, s->prev, tb - a) && !is_closer(t, ta, tb)) {
        if (!complete) return UNDECIDED;
        if (tb - a == s->prev_len) { *why = "stop"; return STOP_BEFORE; }
    }
    int repeats = s->next_len && tb - ta <= s->next_len && !memcmp(t + ta, s->next, tb - ta);
    if (s->deeper && indent <= s->cursor_indent) { /* the block opened below the cursor line closed */
        int closer = is_closer(t, ta, tb);
        if (closer == 0 || (closer < 0 && complete)) return STOP_BEFORE;
        if (!complete) return UNDECIDED;
        if (repeats && tb - ta == s->next_len) { *why = "stop"; return STOP_BEFORE; }
        return STOP_AFTER;
    }
    if (repeats) {
        if (!complete) return UNDECIDED;
        if (tb - ta == s->next_len) { *why = "stop"; return STOP_BEFORE; }
    }
    if (indent > s->cursor_indent) s->deeper = 1;
    return GO_ON;
}

/* End of the last line before the current one that has content (the
 * cursor line counts as content): what stays when the completion stops
 * before the current line, without trailing blank lines. */
static size_t content_end(const srv_stop *s) {
    const char *t = s->text.s;
    size_t start = s->line; /* start of the line after the candidate */
    for (int idx = s->nline - 1; idx >= 0; idx--) {
        size_t e = start - 1, k = e; /* t[e] is the newline that ends line idx */
        while (k > 0 && t[k - 1] != '\n') k--;
        size_t ta = k, tb = e;
        trim(t, &ta, &tb);
        if (idx == 0 || tb > ta) return e;
        start = k;
    }
    return start;
}

static const char *stop_at(srv_stop *s, size_t end, const char *why, tok_text *out) {
    release_to(&s->released, &s->text, end, out);
    s->stopped = why;
    return why;
}

/* One more byte of generated text: the rules at this prefix. */
static const char *feed_byte(srv_stop *s, char c, tok_text *out) {
    if (tok_text_append(&s->text, &c, 1)) return s->stopped = "stop";
    const char *t = s->text.s, *why = NULL;
    for (;;) {
        const char *nl = memchr(t + s->line, '\n', s->text.n - s->line);
        size_t e = nl ? (size_t)(nl - t) : s->text.n;
        size_t looped, loop = loop_hold(s, s->line, e, &looped);
        if (looped) return stop_at(s, looped, "repeat", out);
        if (s->nline == 0) {
            if (!nl) {
                size_t hold = s->mode == SRV_MODE_LINE ? rest_hold(s, s->line, e) : 0;
                release_to(&s->released, &s->text, e - (hold > loop ? hold : loop), out);
                return NULL;
            }
            if (s->mode == SRV_MODE_LINE) return stop_at(s, cut_rest(s, s->line, e), "stop", out);
            if (set_prev(s, s->cur, s->cur_len, t + s->line, e - s->line)) return stop_at(s, e, "stop", out);
        } else {
            int j = judge(s, s->line, e, nl != NULL, &why);
            if (j == STOP_BEFORE) return stop_at(s, content_end(s), why, out);
            if (j == STOP_AFTER) return stop_at(s, e, why, out);
            if (!nl) {
                release_to(&s->released, &s->text, j == UNDECIDED ? content_end(s) : e - loop, out);
                return NULL;
            }
            if (set_prev(s, t + s->line, e - s->line, "", 0)) return stop_at(s, e, "stop", out);
        }
        s->nline++;
        s->line = e + 1;
    }
}

/* Byte by byte, so what is released (and where a rule stops) is the same
 * however the text arrives. */
const char *srv_stop_feed(srv_stop *s, const char *p, size_t n, tok_text *out) {
    for (size_t i = 0; i < n && !s->stopped; i++) feed_byte(s, p[i], out);
    return s->stopped;
}

void srv_stop_finish(srv_stop *s, tok_text *out) {
    if (s->stopped) return;
    size_t e = s->text.n;
    const char *why = NULL;
    if (s->nline == 0) e = cut_rest(s, s->line, e);
    else {
        int j = judge(s, s->line, e, 1, &why);
        size_t ta = s->line, tb = e;
        trim(s->text.s, &ta, &tb);
        if (j == STOP_BEFORE || ta == tb) e = content_end(s);
    }
    release_to(&s->released, &s->text, e, out);
}

/* ---- fence filter ------------------------------------------------------ */

void srv_fence_init(srv_fence *f, int add_newline) {
    memset(f, 0, sizeof *f);
    f->add_newline = add_newline;
}

void srv_fence_free(srv_fence *f) {
    tok_text_free(&f->text);
    memset(f, 0, sizeof *f);
}

/* 1 if t[a, b) is a prefix of "```" (possibly all of it and more). */
static int fence_prefix(const char *t, size_t a, size_t b) {
    size_t k = b - a < 3 ? b - a : 3;
    return !memcmp(t + a, "```", k);
}

static void fence_close(srv_fence *f, size_t end, tok_text *out) {
    release_to(&f->released, &f->text, end, out);
    if (f->add_newline && end > f->body && f->text.s[end - 1] != '\n') tok_text_append(out, "\n", 1);
    f->closed = 1;
}

const char *srv_fence_feed(srv_fence *f, const char *p, size_t n, tok_text *out) {
    if (f->closed) return "stop";
    if (tok_text_append(&f->text, p, n)) return "stop";
    const char *t = f->text.s;
    size_t len = f->text.n;
    if (!f->opened) {
        if (fence_prefix(t, 0, len)) {
            const char *nl = memchr(t, '\n', len);
            if (!nl) return NULL;
            f->body = f->released = (size_t)(nl - t) + 1;
        }
        f->opened = 1; /* without an opening fence everything is code */
    }
    /* The closing fence is "```" at the start of a line; the newline before
     * it belongs to it. Hold a line start that could still become one. */
    for (size_t i = f->released; i <= len; i++) {
        if (!(i == f->body || (i > 0 && t[i - 1] == '\n'))) continue;
        if (i < len && !fence_prefix(t, i, len)) continue;
        size_t cut = i > f->body ? i - 1 : i;
        if (len - i >= 3) {
            fence_close(f, cut, out);
            return "stop";
        }
        release_to(&f->released, &f->text, cut, out);
        return NULL;
    }
    release_to(&f->released, &f->text, len, out);
    return NULL;
}

void srv_fence_finish(srv_fence *f, tok_text *out) {
    if (f->closed) return;
    if (!f->opened) { /* the reply stopped inside its opening fence line: no code */
        f->closed = 1;
        return;
    }
    fence_close(f, f->text.n, out);
}
