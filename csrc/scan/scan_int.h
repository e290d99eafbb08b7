/* scan_int.h — private to csrc/scan: what the stream engine (stream.c) and
 * the detectors share. Nothing here is part of flint's API; scan.h is.
 *
 * The engine keeps a window of the scanned text and drives detectors that
 * are pure functions of the text:
 *  - prefilters (Aho–Corasick over the secret keywords, the non-ASCII byte
 *    test) create candidates at anchor positions;
 *  - a candidate's check reads the text through a scan_view; a read past the
 *    bytes received so far marks the view `need` and the check is retried
 *    after the next chunk, so every decision is the one the whole text gives;
 *  - the injection and prompt-injection analysers consume whole statements
 *    and lines, whose boundaries are themselves decided the same way.
 */
#ifndef FLINT_SCAN_INT_H
#define FLINT_SCAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scan/scan.h"

/* ---- text access -------------------------------------------------------- */

/* A read-only view of absolute offsets [base, base+len) of the scanned text. */
typedef struct {
    const uint8_t *p;   /* p[0] is absolute offset base */
    size_t base, len;
    int eof;            /* nothing follows base+len */
    int need;           /* set by sv_at when it read past the end before eof */
} scan_view;

/* Byte at absolute offset i, or -1 before the text or after its end; a read
 * past the received bytes (not eof) also sets v->need. */
static inline int sv_at(scan_view *v, size_t i) {
    if (i < v->base) return -1;
    if (i - v->base >= v->len) { if (!v->eof) v->need = 1; return -1; }
    return v->p[i - v->base];
}
static inline size_t sv_end(const scan_view *v) { return v->base + v->len; }

/* ---- character classes (scan_lib.c) ------------------------------------ */

enum {
    CS_DIGIT, CS_HEXL, CS_HEXU, CS_HEX, CS_LOWER, CS_UPPER, CS_ALPHA,
    CS_HEXD,     /* 0-9a-fA-F- (UUIDs) */
    CS_ALNUM,
    CS_LALNUM,   /* a-z0-9 */
    CS_UALNUM,   /* A-Z0-9 */
    CS_W,        /* A-Za-z0-9_ */
    CS_WD,       /* A-Za-z0-9_-   base64url */
    CS_WDD,      /* A-Za-z0-9_.-  identifiers of config keys */
    CS_B64,      /* A-Za-z0-9+/ */
    CS_B64E,     /* A-Za-z0-9+/=  */
    CS_B64X,     /* A-Za-z0-9+/=_- either base64 */
    CS_TOKEN,    /* any byte that can sit inside a token: alnum and _-.+/=~:|%$@!*&#^? */
    CS_SPACE,    /* space, tab, CR, LF, FF, VT */
    CS_VALUE,    /* printable ASCII except space, quotes, backslash, `;,)]}>` */
    CS_URI,      /* printable ASCII except space, quotes, <>, backtick */
    CS_COUNT
};
extern uint32_t scan_cs[256];   /* filled once at load (scan_lib.c) */
static inline int cs_is(int c, int cs) { return c >= 0 && (scan_cs[c] >> cs & 1u); }

/* Length of the run of class cs starting at i (reads at most max+1 bytes, so
 * a result of max+1 means "longer than max"). */
size_t sv_run(scan_view *v, size_t i, int cs, size_t max);
/* Length of the run of class cs ending just before i (at most max+1). */
size_t sv_run_back(scan_view *v, size_t i, int cs, size_t max);
/* 1 when the bytes at i equal lit (case-sensitive, or ASCII-insensitive when
 * icase); reads only as many bytes as needed to decide. */
int sv_lit(scan_view *v, size_t i, const char *lit, int icase);
/* Copies [i, i+n) into out (n <= cap, bytes must be present). */
void sv_copy(scan_view *v, size_t i, size_t n, char *out);

/* ---- value heuristics (scan_lib.c) -------------------------------------- */

double scan_entropy(const char *s, size_t n);          /* Shannon, bits/char */
/* 1 when s looks like a placeholder or example rather than a live secret:
 * x-filled, one or two repeated characters, periodic, long ascending runs
 * (abcdef, 123456), the words EXAMPLE/sample/dummy/your/..., template
 * references (${X}, {{x}}, <x>, %s). */
int scan_placeholder(const char *s, size_t n);
/* Decodes base64 or base64url (padding optional) into out; returns the
 * number of bytes, or -1 on a bad character. */
long scan_b64dec(const char *s, size_t n, unsigned char *out, size_t cap);

/* ---- findings ------------------------------------------------------------ */

/* Rule registry: every rule of every kind has an index in the rule set. */
typedef struct {
    const char *id;
    scan_kind kind;
    scan_severity sev;
    scan_action def;
    const char *desc;      /* "GitHub personal access token" */
} scan_rule_meta;

/* A decided match as detectors report it to the engine. */
typedef struct {
    int rule;              /* index into the rule registry */
    size_t start, end;
    const char *msg;       /* static text; NULL = rule description */
} scan_hit;

/* ---- secrets (secrets.c, secrets_tab.c, secrets_block.c) ---------------- */

typedef struct secret_rule secret_rule;

/* Check result: SM_NO, or SM_YES with [start,end), or SM_OPEN with start:
 * a confirmed secret whose end the rule's extend() decides later. The caller
 * discards the result when the view's need flag got set. */
enum { SM_NO = 0, SM_YES = 1, SM_OPEN = 2 };
typedef int (*secret_check)(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                            size_t *start, size_t *end);
/* For SM_OPEN: sets *end and returns 1 once the end is known. */
typedef int (*secret_extend)(const secret_rule *r, scan_view *v, size_t start, size_t *end);

struct secret_rule {
    const char *id, *desc;
    const char *kw;        /* anchors, space-separated, matched ASCII-case-insensitively */
    secret_check check;
    secret_extend extend;  /* NULL unless check can return SM_OPEN */
    const char *lit;       /* exact prefix (case-sensitive) the check expects, or NULL */
    uint8_t cs;            /* body class */
    uint16_t min, max;     /* body length */
    uint8_t lb;            /* bytes before the anchor the span may start */
    uint16_t flags;
    scan_severity sev;
};

enum {
    SF_NOPH   = 1 << 0,    /* skip the placeholder test */
    SF_MIXED  = 1 << 1,    /* body must mix letters and digits */
    SF_OPEN   = 1 << 2,    /* may run long: confirm early, extend later */
    SF_KWCASE = 1 << 3,    /* prefilter: the anchor must match kw's case exactly */
    SF_CASEI  = 1 << 4,    /* lit is compared case-insensitively */
    SF_NOLB   = 1 << 5,    /* no boundary needed before the token */
    SF_LB     = 1 << 6,    /* prefilter: no letter or digit right before the anchor */
};

extern const secret_rule scan_secret_rules[];
extern const size_t scan_secret_nrules;

/* Lookahead a secret check may need past its anchor, and lookbehind before
 * it; the engine's holds are derived from these. */
#define SECRET_LOOKBEHIND 96
#define SECRET_OPEN_AT    200   /* long tokens confirm after this many bytes */

/* Shared check building blocks (secrets.c). */
int secret_prefix_token(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                        size_t *start, size_t *end);
int secret_extend_run(const secret_rule *r, scan_view *v, size_t start, size_t *end);
int secret_kv(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
              size_t *start, size_t *end);
int secret_generic(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                   size_t *start, size_t *end);
int secret_left_ok(scan_view *v, size_t start);
int secret_value_ok(const char *s, size_t n, int flags);
/* Runs the rule's value tests on [body, e) and returns SM_YES with
 * [s, e) stored in start and end, or SM_NO. */
int secret_accept(const secret_rule *r, scan_view *v, size_t s, size_t body, size_t e,
                  size_t *start, size_t *end);
int secret_pem(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
               size_t *start, size_t *end);
int secret_pem_extend(const secret_rule *r, scan_view *v, size_t start, size_t *end);
int secret_jwt(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
               size_t *start, size_t *end);
int secret_jwt_extend(const secret_rule *r, scan_view *v, size_t start, size_t *end);
int secret_uri(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
               size_t *start, size_t *end);
int secret_uri_extend(const secret_rule *r, scan_view *v, size_t start, size_t *end);

/* Cursor helpers for checks: on success they advance *p. */
static inline int tk_lit(scan_view *v, size_t *p, const char *s) {
    if (!sv_lit(v, *p, s, 0)) return 0;
    while (*s) s++, (*p)++;
    return 1;
}
static inline int tk_run(scan_view *v, size_t *p, int cs, size_t min, size_t max) {
    size_t k = sv_run(v, *p, cs, max);
    if (k < min || k > max) return 0;
    *p += k;
    return 1;
}
/* The token ends at p: the next byte is no letter or digit. */
static inline int tk_end(scan_view *v, size_t p) { return !cs_is(sv_at(v, p), CS_ALNUM); }

/* ---- Aho–Corasick (ac.c) ------------------------------------------------ */

typedef struct scan_ac scan_ac;
/* Builds an automaton over n lower-case keywords; kw_data[i] is returned
 * with each match. Returns NULL when out of memory. */
scan_ac *scan_ac_build(const char *const *kw, const int *kw_data, size_t n);
void scan_ac_free(scan_ac *ac);
/* Match callback: keyword index k ends at absolute offset `end` (exclusive). */
typedef void (*scan_ac_cb)(void *ctx, int data, size_t kwlen, size_t end);
/* Advances *state over p[0..n) (p[0] at absolute offset abs), calling cb for
 * every keyword match. */
void scan_ac_run(const scan_ac *ac, uint32_t *state, const uint8_t *p, size_t n,
                 size_t abs, scan_ac_cb cb, void *ctx);
/* Length of the keyword prefix the automaton state currently stands on. */
size_t scan_ac_depth(const scan_ac *ac, uint32_t state);

/* ---- unicode (unicode.c) ------------------------------------------------ */

/* Checks the code point starting at absolute offset i (a non-ASCII lead
 * byte). Returns 0 = nothing, 1 = hit filled (rule = index into
 * scan_unicode_rules), or 0 with v->need set when undecided. A hit may start
 * before i (the word around it); *lb receives the lowest offset a hit from
 * this anchor could start at, for holds. */
int scan_unicode_check(scan_view *v, size_t i, scan_hit *hit, size_t *lb);
/* Start of the word (at most 32 code points, an unfinished character at the
 * end included) that ends at `end`: a letter still to come could make it a
 * mixed-script word, so a stream holds it back. */
size_t scan_unicode_word_tail(scan_view *v, size_t end);
extern const scan_rule_meta scan_unicode_rules[];
extern const size_t scan_unicode_nrules;

/* ---- statement and line analysers (inject*.c, prompt.c) ----------------- */

/* Both analysers consume the text in order and report hits (rule = index
 * into their own rule table) through a callback. feed() reads the view from
 * the offset it stopped at last time up to sv_end(v); it returns the lowest
 * offset it still needs to read later (the caller keeps the text from there)
 * and stores in *hold the lowest offset a future hit could start at
 * (SIZE_MAX when none). Decisions depend on the text only: a unit (statement,
 * line) is analysed once its end is certain. */
typedef void (*scan_hit_cb)(void *ctx, const scan_hit *h);

typedef struct scan_inject scan_inject;
scan_inject *scan_inject_new(const char *filetype);
size_t scan_inject_feed(scan_inject *a, scan_view *v, scan_hit_cb cb, void *ctx, size_t *hold);
void scan_inject_free(scan_inject *a);
extern const scan_rule_meta scan_inject_rules[];
extern const size_t scan_inject_nrules;

typedef struct scan_prompt scan_prompt;
scan_prompt *scan_prompt_new(const char *filetype);
size_t scan_prompt_feed(scan_prompt *a, scan_view *v, scan_hit_cb cb, void *ctx, size_t *hold);
int scan_prompt_in_block(const scan_prompt *a);   /* 1 while a hit's block is open */
void scan_prompt_free(scan_prompt *a);
extern const scan_rule_meta scan_prompt_rules[];
extern const size_t scan_prompt_nrules;

/* ---- allow-list (allow.c) ----------------------------------------------- */

scan_allow *scan_allow_new(void);    /* random key, empty; NULL when out of memory */
void scan_allow_free(scan_allow *a);

/* ---- rule set ------------------------------------------------------------- */

struct scan_rules {
    size_t n;                   /* registry size */
    scan_rule_meta *meta;       /* n entries */
    scan_action *act;           /* n current actions */
    int secret0, uni0, inj0, pi0;  /* first registry index of each group */
    int *secret_reg;            /* secret table row -> registry index */
    scan_ac *ac;                /* secret anchors; match data = keyword index */
    int *kw_row;                /* keyword index -> secret table row */
    char **kw_txt;              /* keyword index -> keyword as written */
    size_t nkw;
    scan_allow *allow;
};

int scan_rule_index(const scan_rules *r, const char *id);   /* -1 if unknown */

#endif
