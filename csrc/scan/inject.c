/* inject.c — injection analysis of generated code, statement by statement.
 *
 * Tokens (inject_lex.c) are grouped into statements (";", newlines in
 * line-oriented languages, block braces, Python indentation); each complete
 * statement is executed by a small abstract interpreter (inject_eval.c) that
 * tracks, per variable, whether its value is a literal, unknown or user
 * input, whether it was built by concatenation/formatting, and what it was
 * sanitised for. Constant conditions, switches and list/map tricks fold, so
 * dead branches do not count. A sink reached by unsafe data yields a finding
 * spanning the statement:
 *   sql-injection      SQL built by concatenation/formatting reaches a query call
 *   command-injection  a shell command built from non-literal data
 *   code-injection     eval/exec of a non-literal
 *   path-traversal     a file path from request input
 *   xss                HTML written from non-literal data without escaping
 * When the verdict depends on a function defined later in the text, it waits
 * for that definition (or the end of the text, when unknown functions are
 * assumed to pass their inputs through), so the result never depends on how
 * the text was chunked.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/inject_int.h"

enum { R_SQL, R_CMD, R_CODE, R_PATH, R_XSS };

const scan_rule_meta scan_inject_rules[] = {
    {"sql-injection", SCAN_KIND_INJECTION, SCAN_SEV_HIGH, SCAN_ACT_HALT,
     "SQL query built from non-literal data (CWE-89)"},
    {"command-injection", SCAN_KIND_INJECTION, SCAN_SEV_HIGH, SCAN_ACT_HALT,
     "shell command built from non-literal data (CWE-78)"},
    {"code-injection", SCAN_KIND_INJECTION, SCAN_SEV_HIGH, SCAN_ACT_HALT,
     "code evaluated from a non-literal string (CWE-94/95)"},
    {"path-traversal", SCAN_KIND_INJECTION, SCAN_SEV_MEDIUM, SCAN_ACT_HALT,
     "file path from request input (CWE-22)"},
    {"xss", SCAN_KIND_INJECTION, SCAN_SEV_MEDIUM, SCAN_ACT_HALT,
     "HTML written from non-literal data (CWE-79)"},
};
const size_t scan_inject_nrules = sizeof scan_inject_rules / sizeof scan_inject_rules[0];

static int rule_of(int cat) {
    switch (cat) {
    case K_SQL: return R_SQL;
    case K_SHELL: case K_SHELL_ARGV: return R_CMD;
    case K_CODE: return R_CODE;
    case K_PATH: return R_PATH;
    default: return R_XSS;
    }
}

#define MAXFR 64
#define FN_STORE_MAX (256 * 1024)
#define FN_BODY_MAX (32 * 1024)

enum { FR_BLOCK, FR_FUNC, FR_IF, FR_LOOP, FR_SWITCH, FR_INLINE };

typedef struct {
    uint8_t kind;
    int8_t cond;                  /* FR_IF: 1 taken, 0 not, -1 unknown */
    uint8_t taken, maybe;         /* if-chain so far (this branch included) */
    int indent;                   /* header indentation (line languages), -1 braces */
    int capture;                  /* FR_FUNC: keep the body text for calls */
    int route;                    /* FR_FUNC: a web route handler (its return is the page) */
    size_t body_start;
    char fname[INJ_NAME];
    int nparams;
    char param[8][INJ_NAME];
    size_t saved_nvars, saved_scope0;
    aval sw;                      /* FR_SWITCH */
    uint8_t sw_known, sw_active, sw_matched;
    tok *saved;                   /* FR_INLINE: the statement around the block */
    size_t nsaved;
    int saved_pd, saved_sink;
} frame;

typedef struct runner runner;
struct runner {
    inj_ctx c;
    lexer lx;
    tok *st;
    size_t nst, cst;
    int pd, sink_in_st, pending_nl;
    int nfr;
    int last_valid, last_level;   /* if-chain just closed, for a following else */
    uint8_t last_taken, last_maybe;
    int route;                    /* a web-route decorator precedes the next def */
    size_t last_end;              /* end of the last statement (line languages) */
    /* the streaming analyser only */
    scan_hit_cb cb;
    void *cbctx;
    deferred *def;
    size_t ndef, cdef;
    callrec *calls;
    size_t ncalls, ccalls;
    fndef *fns;
    size_t nfns, cfns, fnbytes;
    struct inj_memo *memo;
    frame fr[MAXFR];              /* last: not cleared on init (push() clears a frame) */
};

struct scan_inject { runner r; };

/* ---- frames and modes ---------------------------------------------------- */

static void set_mode(runner *r) {
    int dead = 0, weak = 0;
    for (int k = 0; k < r->nfr; k++) {
        const frame *f = &r->fr[k];
        if (f->kind == FR_IF) { dead |= f->cond == 0; weak |= f->cond < 0; }
        if (f->kind == FR_LOOP) weak = 1;
        if (f->kind == FR_SWITCH) { dead |= !f->sw_active; weak |= !f->sw_known; }
        if (f->kind == FR_FUNC) weak = 0, dead = 0;     /* a body runs on its own */
    }
    r->c.dead = dead;
    r->c.weak = weak;
}

static frame *push(runner *r, int kind, int indent) {
    if (r->nfr == MAXFR) return NULL;
    frame *f = &r->fr[r->nfr++];
    memset(f, 0, sizeof *f);
    f->kind = (uint8_t)kind;
    f->indent = indent;
    f->cond = 1;
    return f;
}

static int line_lang(int lang) {
    return lang == LANG_PY || lang == LANG_RUBY || lang == LANG_SH || lang == LANG_LUA;
}

/* ---- functions ------------------------------------------------------------ */

static void retry_deferred(runner *r, int final);

static void store_function(runner *r, frame *f, size_t end) {
    if (!f->capture || r->c.depth || end <= f->body_start) return;
    size_t len = end - f->body_start;
    if (len > FN_BODY_MAX || r->fnbytes + len > FN_STORE_MAX) return;
    if (f->body_start < r->c.v->base || end > sv_end(r->c.v)) return;
    if (r->nfns == r->cfns) {
        size_t nc = r->cfns ? r->cfns * 2 : 16;
        fndef *q = realloc(r->fns, nc * sizeof *q);
        if (!q) return;
        r->fns = q;
        r->cfns = nc;
    }
    fndef *d = &r->fns[r->nfns];
    if (!(d->body = malloc(len))) return;
    sv_copy(r->c.v, f->body_start, len, d->body);
    d->len = len;
    d->returns = memmem(d->body, len, "return", 6) != NULL;
    d->lang = r->c.lang;
    str_copy(d->name, sizeof d->name, f->fname);
    d->h = name_hash(d->name);
    d->nparams = f->nparams;
    memcpy(d->param, f->param, sizeof d->param);
    r->nfns++;
    r->fnbytes += len;
    retry_deferred(r, 0);
}

static void pop(runner *r, size_t end) {
    frame *f = &r->fr[--r->nfr];
    if (f->kind == FR_FUNC) {
        store_function(r, f, end);
        r->c.nvars = f->saved_nvars;
        r->c.scope0 = f->saved_scope0;
        int outer = 0;
        for (int k = 0; k < r->nfr; k++) outer |= r->fr[k].kind == FR_FUNC;
        if (!outer && !r->c.depth) ctx_reset_unit(&r->c);
    }
    if (f->kind == FR_IF) {
        r->last_valid = 1;
        r->last_level = r->nfr;
        r->last_taken = f->taken;
        r->last_maybe = f->maybe;
    } else {
        r->last_valid = 0;
    }
    free(f->saved);
    set_mode(r);
}

/* ---- statement helpers ---------------------------------------------------- */

static inline __attribute__((always_inline)) int word(runner *r, size_t k, const char *w) {
    return k < r->c.nt && r->c.t[k].type == T_ID && tok_is(&r->c, &r->c.t[k], w);
}
static inline __attribute__((always_inline)) int op(runner *r, size_t k, const char *o) {
    return k < r->c.nt && r->c.t[k].type == T_OP && tok_is(&r->c, &r->c.t[k], o);
}

/* +1 for an opening bracket token, -1 for a closing one, else 0. */
static int bracket(const tok *t) {
    if (t->type != T_OP || t->len != 1) return 0;
    switch (t->code) {
    case '(': case '[': case '{': return 1;
    case ')': case ']': case '}': return -1;
    default: return 0;
    }
}

/* Index after the group opened at k ("(" ... ")"), within [k, to). */
static size_t group_end(runner *r, size_t k, size_t to) {
    int d = 0;
    for (; k < to; k++) {
        int b = bracket(&r->c.t[k]);
        if (b > 0) d++;
        else if (b < 0 && --d == 0) return k + 1;
    }
    return to;
}

/* First index in [from, to) of an op of the NULL-terminated list at bracket
 * depth 0, or to; *which (optional) receives its index in the list. */
static size_t find_top_any(runner *r, size_t from, size_t to, const char *const *ops, int *which) {
    tok_text_t x[16];
    int n = 0;
    while (ops[n] && n < 16) x[n] = tok_text_of(ops[n]), n++;
    int d = 0;
    for (size_t k = from; k < to; k++) {
        const tok *t = &r->c.t[k];
        if (t->type != T_OP) continue;
        if (!d)
            for (int o = 0; o < n; o++)
                if (tok_is_text(&r->c, t, &x[o])) {
                    if (which) *which = o;
                    return k;
                }
        d += bracket(t);
    }
    return to;
}

/* First index in [from, to) of op o at bracket depth 0, or to. */
static size_t find_top(runner *r, size_t from, size_t to, const char *o) {
    const char *ops[] = {o, NULL};
    return find_top_any(r, from, to, ops, NULL);
}

/* Parameter names of a parameter list (k at "(") into the frame. */
static void parse_params(runner *r, frame *f, size_t k, size_t to, int taint_annot) {
    size_t end = group_end(r, k, to);
    size_t seg = k + 1;
    f->nparams = 0;
    for (size_t j = k + 1; j < end && f->nparams < 8; j++) {
        int close = j == end - 1;
        if (!close && !op(r, j, ",")) continue;
        /* the parameter name: the last identifier of the segment (C, Java, Go
         * put it after the type); Python/JS/PHP: the first */
        int first = r->c.lang == LANG_PY || r->c.lang == LANG_JS || r->c.lang == LANG_PHP ||
                    r->c.lang == LANG_RUBY || r->c.lang == LANG_LUA || r->c.lang == LANG_GO;
        char name[INJ_NAME] = "";
        int annotated = 0;
        for (size_t q = seg; q < j; q++) {
            const tok *t = &r->c.t[q];
            if (t->type == T_OP && (tok_is(&r->c, t, "=") || tok_is(&r->c, t, ":")) && first) break;
            if (t->type == T_OP && tok_is(&r->c, t, "@")) annotated = 1;
            if (t->type != T_ID) continue;
            char w[INJ_NAME];
            tok_text(&r->c, t, w, sizeof w);
            if (streq(w, "self") || streq(w, "this") || streq(w, "cls") || streq(w, "final") ||
                streq(w, "const") || (q > seg && op(r, q - 1, "@")))
                continue;
            str_copy(name, sizeof name, w);
            if (first) break;
        }
        if (name[0]) {
            str_copy(f->param[f->nparams], INJ_NAME, name);
            f->nparams++;
            var_set(&r->c, name, (r->route || (annotated && taint_annot)) ? av_taint() : av_opaque());
        }
        seg = j + 1;
    }
}

/* Opens a function scope for the header tokens [from, to); name at nk, "(" at pk. */
static void open_function(runner *r, size_t nk, size_t pk, size_t to, int indent, size_t body_start) {
    frame *f = push(r, FR_FUNC, indent);
    if (!f) return;
    tok_text(&r->c, &r->c.t[nk], f->fname, sizeof f->fname);
    f->saved_nvars = r->c.nvars;
    f->saved_scope0 = r->c.scope0;
    r->c.scope0 = r->c.nvars;
    f->capture = 1;
    f->body_start = body_start;
    f->route = r->route;
    int weak = r->c.weak;
    r->c.weak = 0;
    parse_params(r, f, pk, to, 1);
    r->c.weak = weak;
    r->route = 0;
    set_mode(r);
}

/* ---- executing one statement ------------------------------------------- */

static void exec_range(runner *r, size_t from, size_t to, int opens);

static void exec_assign(runner *r, size_t from, size_t to) {
    inj_ctx *c = &r->c;
    static const char *const ops[] = {"=", "+=", ".=", ":=", "||=", "?" "?=", "|=", "<-", "-=", NULL};
    int which = -1;
    size_t k = find_top_any(r, from, to, ops, &which);    /* the earliest operator wins */
    if (k == to || k == from) {
        eval_range(c, from, to);
        return;
    }
    aval v = eval_range(c, k + 1, to);
    /* HTML markup built from request input is an XSS wherever it goes */
    if (v.htmlish && v.dyn && v.src == V_TAINT && !(v.clean & C_HTML) && c->hit && !c->dead)
        c->hit(c, K_HTML, NULL, &v);
    /* targets: the last identifier path before the operator; destructuring
     * patterns ({a, b} / [a, b] / a, b) bind every name */
    size_t lhs_end = k;
    if ((c->lang == LANG_PY || c->lang == LANG_JS) && find_top(r, from, k, ":") < k)
        lhs_end = find_top(r, from, k, ":");              /* x: str = ... */
    if (op(r, lhs_end - 1, "}") || op(r, lhs_end - 1, "]") || find_top(r, from, lhs_end, ",") < lhs_end) {
        if (op(r, lhs_end - 1, "]") && !op(r, from, "[")) goto single;
        for (size_t q = from; q < lhs_end; q++)
            if (c->t[q].type == T_ID) {
                char w[INJ_NAME];
                tok_text(c, &c->t[q], w, sizeof w);
                if (!tab_keyword(w)) var_set(c, w, v);
            }
        return;
    }
single:;
    size_t e = lhs_end;
    size_t idx_from = 0, idx_to = 0;
    if (op(r, e - 1, "]")) {                              /* x[i] = v */
        int d = 0;
        size_t q = e;
        while (q > from) {
            q--;
            if (op(r, q, "]")) d++;
            else if (op(r, q, "[") && --d == 0) break;
        }
        idx_from = q + 1;
        idx_to = e - 1;
        e = q;
    }
    size_t s = e;
    while (s > from && (c->t[s - 1].type == T_ID ||
                        ((op(r, s - 1, ".") || op(r, s - 1, "->") || op(r, s - 1, "::")) && s - 1 > from &&
                         c->t[s - 2].type == T_ID)))
        s--;
    if (s == e) return;
    char path[256] = "", last[INJ_NAME] = "";
    for (size_t q = s; q < e; q++) {
        char w[INJ_NAME];
        tok_text(c, &c->t[q], w, sizeof w);
        if (c->t[q].type == T_ID) {
            if (path[0] && !op(r, q - 1, ".") && !op(r, q - 1, "->") && !op(r, q - 1, "::")) path[0] = 0;
            path_push(path, sizeof path, w);
            str_copy(last, sizeof last, w);
        }
    }
    if (streq(last, "innerHTML") || streq(last, "outerHTML")) {
        if (c->hit && !c->dead) c->hit(c, K_HTML_ASSIGN, NULL, &v);
    }
    aval *old = var_find(c, path);
    if (which == 1 || which == 2) v = av_concat(c, old ? *old : av_const(), v);
    else if (which >= 4 && which != 7) v = av_join(c, old ? *old : av_const(), v);
    if (idx_to > idx_from) {
        size_t si = c->i;
        aval key = eval_range(c, idx_from, idx_to);
        c->i = si;
        object *o = old && !c->dead ? obj_get(c, old->obj) : NULL;
        if (o && o->is_map && key.sid >= 0) {
            int q;
            for (q = 0; q < o->n && strcmp(pool_str(c, o->key[q]), pool_str(c, key.sid)); q++) {}
            if (q == o->n && o->n < INJ_OBJ_SLOTS) o->n++;
            if (q < INJ_OBJ_SLOTS) { o->key[q] = key.sid; o->val[q] = v; }
            return;
        }
        if (o && !o->is_map && key.haveint && key.ival >= 0 && key.ival < o->n) {
            o->val[key.ival] = v;
            return;
        }
        aval merged = old ? av_join(c, *old, v) : v;
        if (old) merged.obj = old->obj;
        int weak = c->weak;
        c->weak = 0;
        var_set(c, path, merged);
        c->weak = weak;
        return;
    }
    var_set(c, path, v);
}

/* Evaluates an if-condition in [from, to) to 1, 0 or -1 (unknown). A check
 * in the condition (startsWith, in_array, ...) vouches for the variable it
 * tests from here on. */
static int cond_of(runner *r, size_t from, size_t to) {
    inj_ctx *c = &r->c;
    c->guard_mask = 0;
    c->guard_var[0] = 0;
    aval v = eval_range(c, from, to);
    if (c->guard_mask && c->guard_var[0] && !c->dead) {
        aval *g = var_find(c, c->guard_var);
        if (g) g->clean |= (uint8_t)c->guard_mask;
    }
    c->guard_mask = 0;
    return v.haveint ? v.ival != 0 : -1;
}

static void exec_if(runner *r, size_t k, size_t to, int opens, int is_else, int indent) {
    /* k: after "if" (or after "else"/"elif"); the condition runs to ")" or ":"/"then" */
    int prev_taken = 0, prev_maybe = 0;
    if (is_else) {
        if (r->last_valid && r->last_level == r->nfr) {
            prev_taken = r->last_taken;
            prev_maybe = r->last_maybe;
        } else {
            prev_maybe = 1;
        }
    }
    int has_cond = !(is_else == 2);                /* plain else: no condition */
    size_t body = k;
    int cond = 1;
    if (has_cond) {
        size_t ce;
        if (op(r, k, "(") && !line_lang(r->c.lang)) ce = group_end(r, k, to);
        else {
            ce = find_top(r, k, to, ":");
            for (size_t q = k; q < ce; q++)
                if (word(r, q, "then") || word(r, q, "do")) { ce = q; break; }
        }
        cond = cond_of(r, k, ce);
        body = ce;
        if (body < to && (op(r, body, ":") || word(r, body, "then"))) body++;
    }
    int eff = prev_taken ? 0 : cond == 0 ? 0 : (cond == 1 && !prev_maybe) ? 1 : -1;
    uint8_t taken = (uint8_t)(prev_taken || (cond == 1 && !prev_maybe));
    uint8_t maybe = (uint8_t)(prev_maybe || cond != 0);
    r->last_valid = 0;
    if (opens || (body >= to && line_lang(r->c.lang))) {
        frame *f = push(r, FR_IF, indent);
        if (f) { f->cond = (int8_t)eff; f->taken = taken; f->maybe = maybe; }
        set_mode(r);
        return;
    }
    /* one-statement body on the same line */
    int dead = r->c.dead, weak = r->c.weak;
    if (eff == 0) r->c.dead = 1;
    if (eff < 0) r->c.weak = 1;
    if (body < to) exec_range(r, body, to, 0);
    r->c.dead = dead;
    r->c.weak = weak;
    r->last_valid = 1;
    r->last_level = r->nfr;
    r->last_taken = taken;
    r->last_maybe = maybe;
}

static frame *innermost(runner *r, int kind) {
    for (int k = r->nfr; k-- > 0;) {
        if (r->fr[k].kind == kind) return &r->fr[k];
        if (r->fr[k].kind == FR_LOOP || r->fr[k].kind == FR_FUNC) return NULL;
    }
    return NULL;
}

static frame *innermost_fn(runner *r) {
    for (int k = r->nfr; k-- > 0;)
        if (r->fr[k].kind == FR_FUNC) return &r->fr[k];
    return NULL;
}

static void exec_case(runner *r, size_t from, size_t to, int opens) {
    frame *f = innermost(r, FR_SWITCH);
    size_t colon = find_top(r, from, to, ":");
    if (f) {
        if (word(r, from, "default")) {
            f->sw_active = (uint8_t)(f->sw_active || !f->sw_matched || !f->sw_known);
        } else {
            aval lab = eval_range(&r->c, from + 1, colon);
            int match = -1;
            if (f->sw_known && lab.haveint && f->sw.haveint) match = lab.ival == f->sw.ival;
            else if (f->sw_known && lab.havestr && f->sw.havestr)
                match = !strcmp(pool_str(&r->c, lab.sid), pool_str(&r->c, f->sw.sid));
            if (match == 1) f->sw_matched = 1;
            f->sw_active = (uint8_t)(f->sw_active || match != 0);
        }
        set_mode(r);
    }
    if (colon + 1 < to) exec_range(r, colon + 1, to, opens);
    else if (opens) { push(r, FR_BLOCK, -1); set_mode(r); }
}

/* Function header in a brace or line language; returns 1 when handled. */
static int exec_header(runner *r, size_t from, size_t to, int opens, int indent) {
    inj_ctx *c = &r->c;
    size_t k = from;
    while (k < to && c->t[k].type == T_ID) {
        char w[INJ_NAME];
        tok_text(c, &c->t[k], w, sizeof w);
        if (streq(w, "async") || streq(w, "export") || streq(w, "public") || streq(w, "private") ||
            streq(w, "protected") || streq(w, "static") || streq(w, "local")) k++;
        else break;
    }
    int kw = word(r, k, "def") || word(r, k, "function") || word(r, k, "func") || word(r, k, "fn");
    size_t nk = 0, pk = 0;
    if (kw) {
        size_t q = k + 1;
        if (word(r, k, "func") && op(r, q, "(")) q = group_end(r, q, to);   /* Go receiver */
        while (q + 2 < to && c->t[q].type == T_ID && (op(r, q + 1, ".") || op(r, q + 1, ":"))) q += 2;
        if (q < to && c->t[q].type == T_ID && op(r, q + 1, "(")) { nk = q; pk = q + 1; }
        else if (op(r, q, "(")) { nk = k; pk = q; }             /* anonymous */
        else if (q < to && c->t[q].type == T_ID && (c->lang == LANG_RUBY || c->lang == LANG_PY)) {
            nk = q; pk = q + 1;                                  /* def name (no parens) */
        } else return 0;
    } else if (opens && !line_lang(c->lang)) {
        /* Type name(params) [throws ...] {  — not a call, not a control keyword */
        size_t q = find_top(r, from, to, "(");
        if (q == to || q == from || c->t[q - 1].type != T_ID) return 0;
        char w[INJ_NAME];
        tok_text(c, &c->t[q - 1], w, sizeof w);
        if (tab_keyword(w) || find_top(r, from, q, "=") < q || find_top(r, from, q, ".") < q) return 0;
        if (q - 1 == from && c->lang != LANG_JS && c->lang != LANG_ANY && c->lang != LANG_PHP) return 0;
        nk = q - 1;
        pk = q;
    } else {
        return 0;
    }
    size_t body = opens ? c->t[to - 1].off + c->t[to - 1].len : 0;
    if (!opens && !line_lang(c->lang)) return 0;               /* a declaration */
    open_function(r, nk, pk, to, indent, body);
    return 1;
}

static void exec_shell(runner *r, size_t from, size_t to) {
    inj_ctx *c = &r->c;
    char w[INJ_NAME];
    tok_text(c, &c->t[from], w, sizeof w);
    if (streq(w, "read")) {
        for (size_t q = from + 1; q < to; q++)
            if (c->t[q].type == T_ID) {
                tok_text(c, &c->t[q], w, sizeof w);
                if (w[0] != '-') var_set(c, w, av_taint());
            }
        return;
    }
    int shell = streq(w, "eval");
    if (streq(w, "sh") || streq(w, "bash") || streq(w, "zsh"))
        for (size_t q = from + 1; q < to; q++) shell |= op(r, q, "-") && word(r, q + 1, "c");
    aval all = av_const();
    for (size_t q = from + 1; q < to; q++) {
        if (c->t[q].type == T_ID && c->t[q].len > 1 && sv_at(c->v, c->t[q].off) == '$') {
            char name[INJ_NAME];
            tok_text(c, &c->t[q], name, sizeof name);
            aval *v = var_find(c, name + (name[1] == '{' ? 2 : 1));
            all = av_concat(c, all, v ? *v : tab_source(c->lang, name, 0) ? av_taint() : av_opaque());
        } else if (c->t[q].type == T_STR) {
            c->i = q;
            all = av_concat(c, all, eval_range(c, q, q + 1));
        }
    }
    if (shell && c->hit && !c->dead) c->hit(c, K_SHELL, NULL, &all);
    size_t eq = find_top(r, from, to, "=");
    if (eq == from + 1 && c->t[from].type == T_ID) {
        tok_text(c, &c->t[from], w, sizeof w);
        var_set(c, w, eval_range(c, eq + 1, to));
    }
}

static void exec_range(runner *r, size_t from, size_t to, int opens) {
    inj_ctx *c = &r->c;
    while (from < to && (c->t[from].type == T_NL || op(r, from, ";"))) from++;
    while (to > from && (c->t[to - 1].type == T_NL || op(r, to - 1, ";"))) to--;
    if (from >= to) { if (opens) { push(r, FR_BLOCK, -1); set_mode(r); } return; }
    int indent = c->t[from].indent;
    int py_header = line_lang(c->lang) && op(r, to - 1, ":");
    size_t body_to = opens ? to - 1 : py_header ? to - 1 : to;
    if (c->t[from].type == T_PRE) return;
    if (op(r, from, "@")) {                                 /* decorators, annotations */
        for (size_t q = from; q < to; q++)
            if (c->t[q].type == T_ID) {
                char w[INJ_NAME];
                tok_text(c, &c->t[q], w, sizeof w);
                if (streq(w, "route") || streq(w, "get") || streq(w, "post") || streq(w, "put") ||
                    streq(w, "delete") || streq(w, "patch") || streq(w, "view_config") ||
                    streq(w, "api_view") || streq(w, "RequestMapping") || streq(w, "GetMapping") ||
                    streq(w, "PostMapping"))
                    r->route = 1;
            }
        if (op(r, from, "@") && (word(r, from + 1, "Override") || !r->route)) return;
        if (r->route && c->lang == LANG_PY) return;
    }
    if (c->t[from].type == T_ID) {
        char w[INJ_NAME];
        tok_text(c, &c->t[from], w, sizeof w);
        int is_else = streq(w, "else") || streq(w, "elif") || streq(w, "elsif") || streq(w, "elseif");
        if (!is_else) {
            if (!(r->last_valid && r->last_level == r->nfr)) r->last_valid = 0;
        }
        if (streq(w, "if") || streq(w, "unless")) {
            exec_if(r, from + 1, opens || py_header ? body_to + (py_header ? 1 : 0) : to, opens, 0, indent);
            return;
        }
        if (is_else) {
            if (word(r, from + 1, "if")) exec_if(r, from + 2, opens ? body_to : to, opens, 1, indent);
            else if (streq(w, "else")) {
                size_t b = from + 1;
                if (op(r, b, ":")) b++;
                exec_if(r, b, opens ? body_to : to, opens || (py_header && b >= to), 2, indent);
            } else exec_if(r, from + 1, opens ? body_to : to + (py_header ? 0 : 0), opens, 1, indent);
            return;
        }
        if (exec_header(r, from, opens ? to : to, opens || py_header ||
                        ((c->lang == LANG_RUBY || c->lang == LANG_LUA) && (word(r, from, "def") || word(r, from, "function"))),
                        indent))
            return;
        if (streq(w, "for") || streq(w, "while") || streq(w, "foreach") || streq(w, "until") ||
            streq(w, "do") || streq(w, "loop")) {
            size_t in = to;
            for (size_t q = from + 1; q < body_to; q++)
                if (word(r, q, "in") || word(r, q, "of") || op(r, q, ":") || word(r, q, "as")) { in = q; break; }
            size_t ce = op(r, from + 1, "(") ? group_end(r, from + 1, to) : body_to;
            if (in < ce) {
                size_t ve = op(r, from + 1, "(") ? ce - 1 : ce;
                aval it = eval_range(c, in + 1, ve);
                object *o = obj_get(c, it.obj);
                aval elem = it;
                if (o) for (int k = 0; k < o->n; k++) elem = av_join(c, elem, o->val[k]);
                elem.obj = -1;
                for (size_t q = from + 1; q < in; q++)
                    if (c->t[q].type == T_ID) {
                        char n[INJ_NAME];
                        tok_text(c, &c->t[q], n, sizeof n);
                        if (!tab_keyword(n)) {
                            int weak = c->weak;
                            c->weak = 0;
                            var_set(c, n, elem);
                            c->weak = weak;
                        }
                    }
            } else if (streq(w, "for") || streq(w, "while")) {
                eval_range(c, from + 1, ce);
            }
            if (opens || py_header || line_lang(c->lang)) {
                if (opens || py_header || (c->lang == LANG_RUBY || c->lang == LANG_LUA || c->lang == LANG_SH))
                    push(r, FR_LOOP, indent);
                set_mode(r);
                return;
            }
            int weak = c->weak;
            c->weak = 1;
            if (ce < to) exec_range(r, ce, to, 0);
            c->weak = weak;
            return;
        }
        if (streq(w, "switch") || streq(w, "match")) {
            aval v = eval_range(c, from + 1, body_to);
            if (opens || py_header) {
                frame *f = push(r, FR_SWITCH, indent);
                if (f) {
                    f->sw = v;
                    f->sw_known = v.haveint || v.havestr;
                    f->sw_active = 0;
                }
                set_mode(r);
            }
            return;
        }
        if ((streq(w, "case") || streq(w, "default") || streq(w, "when")) && innermost(r, FR_SWITCH)) {
            exec_case(r, from, to, opens);
            return;
        }
        if (streq(w, "break")) {
            frame *f = innermost(r, FR_SWITCH);
            if (f) { f->sw_active = 0; set_mode(r); }
            return;
        }
        if (streq(w, "return") || streq(w, "throw") || streq(w, "raise") || streq(w, "yield")) {
            aval v = from + 1 < to ? eval_range(c, from + 1, to) : av_const();
            if (streq(w, "return") && !c->dead) {
                c->ret = c->has_ret ? av_join(c, c->ret, v) : v;
                c->has_ret = 1;
                frame *fn = innermost_fn(r);
                if (fn && fn->route && c->hit) c->hit(c, K_HTML, NULL, &v);
            }
            return;
        }
        if (streq(w, "import") || streq(w, "from") || streq(w, "package") || streq(w, "using") ||
            streq(w, "namespace") || streq(w, "pass") || streq(w, "continue") || streq(w, "goto")) {
            if (opens) push(r, FR_BLOCK, indent);
            return;
        }
        if (c->lang == LANG_PHP && (streq(w, "echo") || streq(w, "print"))) {
            aval v = eval_range(c, from + 1, to);
            if (c->hit && !c->dead) c->hit(c, K_HTML, NULL, &v);
            return;
        }
        if (c->lang == LANG_PHP && (streq(w, "include") || streq(w, "require") ||
                                    streq(w, "include_once") || streq(w, "require_once"))) {
            aval v = eval_range(c, from + 1, to);
            if (c->hit && !c->dead) c->hit(c, K_PATH, NULL, &v);
            return;
        }
        if (c->lang == LANG_PY && streq(w, "exec") && !op(r, from + 1, "(")) {
            aval v = eval_range(c, from + 1, to);
            if (c->hit && !c->dead) c->hit(c, K_CODE, NULL, &v);
            return;
        }
        if (streq(w, "with") || streq(w, "try") || streq(w, "catch") || streq(w, "except") ||
            streq(w, "finally") || streq(w, "class") || streq(w, "struct") || streq(w, "interface") ||
            streq(w, "enum") || streq(w, "synchronized") || streq(w, "begin") || streq(w, "module") ||
            streq(w, "impl") || streq(w, "trait") || streq(w, "object") || streq(w, "unsafe")) {
            if (streq(w, "with")) {
                size_t as = to;
                for (size_t q = from + 1; q < body_to; q++)
                    if (word(r, q, "as")) { as = q; break; }
                aval v = eval_range(c, from + 1, as < body_to ? as : body_to);
                if (as + 1 < body_to && c->t[as + 1].type == T_ID) {
                    char n[INJ_NAME];
                    tok_text(c, &c->t[as + 1], n, sizeof n);
                    var_set(c, n, v);
                }
            }
            if (opens || py_header || c->lang == LANG_RUBY) push(r, FR_BLOCK, indent);
            set_mode(r);
            return;
        }
        if ((c->lang == LANG_RUBY || c->lang == LANG_LUA) && streq(w, "end")) {
            if (r->nfr) pop(r, c->t[from].off);
            return;
        }
        if (c->lang == LANG_SH) {
            if (streq(w, "fi") || streq(w, "done") || streq(w, "esac")) {
                if (r->nfr) pop(r, c->t[from].off);
                return;
            }
            if (streq(w, "then") || streq(w, "do")) return;
            exec_shell(r, from, to);
            return;
        }
        if (streq(w, "var") || streq(w, "let") || streq(w, "const") || streq(w, "local") ||
            streq(w, "global") || streq(w, "my") || streq(w, "val") || streq(w, "auto")) {
            exec_range(r, from + 1, to, opens);
            return;
        }
    }
    if (opens) {
        /* assignment or call followed by a block (anonymous class, composite) */
        exec_assign(r, from, to - 1);
        push(r, FR_BLOCK, indent);
        set_mode(r);
        return;
    }
    if (py_header) {
        eval_range(c, from, to - 1);
        push(r, FR_BLOCK, indent);
        set_mode(r);
        return;
    }
    exec_assign(r, from, to);
}

/* ---- statement assembly ------------------------------------------------- */

static int grow_toks(tok **a, size_t *cap, size_t need) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    tok *q = realloc(*a, nc * sizeof *q);
    if (!q) return 0;
    *a = q;
    *cap = nc;
    return 1;
}

static void end_statement(runner *r, int opens) {
    if (!r->nst) {
        if (opens) { push(r, FR_BLOCK, -1); set_mode(r); }
        return;
    }
    inj_ctx *c = &r->c;
    /* line languages: a statement at or left of a header closes its frames */
    if (c->lang == LANG_PY) {
        size_t k = 0;
        while (k < r->nst && r->st[k].type == T_NL) k++;
        if (k < r->nst) {
            int ind = r->st[k].indent;
            while (r->nfr && r->fr[r->nfr - 1].indent >= ind) {
                frame *f = &r->fr[r->nfr - 1];
                if (f->kind == FR_FUNC && !f->body_start) f->capture = 0;
                pop(r, r->last_end);
            }
        }
    }
    c->t = r->st;
    c->nt = r->nst;
    c->i = 0;
    c->st_start = r->st[0].off;
    c->st_end = r->st[r->nst - 1].off + r->st[r->nst - 1].len;
    /* first body statement of a Python function: the body starts here */
    for (int k = r->nfr; k-- > 0;)
        if (r->fr[k].kind == FR_FUNC && r->fr[k].indent >= 0 && !r->fr[k].body_start) {
            size_t q = 0;
            while (q < r->nst && r->st[q].type == T_NL) q++;
            if (q < r->nst) r->fr[k].body_start = r->st[q].off - r->st[q].indent;
        }
    set_mode(r);
    exec_range(r, 0, r->nst, opens);
    r->last_end = c->st_end;
    r->nst = 0;
    r->pd = 0;
    r->sink_in_st = 0;
}

static int is_block_brace(runner *r) {
    if (!r->nst) return 1;
    inj_ctx *c = &r->c;
    const tok *p = &r->st[r->nst - 1];
    char w[INJ_NAME];
    tok_text(c, p, w, sizeof w);
    if (p->type == T_OP && streq(w, ":")) {           /* label: { / case X: { / default: { */
        char w0[INJ_NAME];
        tok_text(c, &r->st[0], w0, sizeof w0);
        return r->nst == 2 || streq(w0, "case") || streq(w0, "default");
    }
    if (p->type == T_OP)
        return streq(w, ")") || streq(w, "=>") || streq(w, "->") || streq(w, ">");
    if (p->type != T_ID) return 0;
    if (streq(w, "return") || streq(w, "in") || streq(w, "of")) return 0;
    tok_text(c, &r->st[0], w, sizeof w);
    if (tab_keyword(w)) return 1;
    /* x = T{...} / x := T{...}: a composite literal */
    c->t = r->st;
    c->nt = r->nst;
    return find_top(r, 0, r->nst, "=") == r->nst && find_top(r, 0, r->nst, ":=") == r->nst;
}

/* "{" inside parentheses after "=>", "->" or a function(...) header: the
 * block's statements are analysed on their own. */
static int inline_block(runner *r) {
    if (!r->nst || r->pd == 0) return 0;
    inj_ctx *c = &r->c;
    const tok *p = &r->st[r->nst - 1];
    if (p->type != T_OP) return 0;
    if (tok_is(c, p, "=>") || tok_is(c, p, "->")) return 1;
    if (!tok_is(c, p, ")")) return 0;
    int d = 0;
    for (size_t k = r->nst; k-- > 0;) {
        const tok *t = &r->st[k];
        if (t->type != T_OP) continue;
        if (tok_is(c, t, ")")) d++;
        else if (tok_is(c, t, "(") && --d == 0)
            return k > 0 && r->st[k - 1].type == T_ID &&
                   (tok_is(c, &r->st[k - 1], "function") || tok_is(c, &r->st[k - 1], "func"));
    }
    return 0;
}

static void open_inline(runner *r) {
    frame *f = push(r, FR_INLINE, -1);
    if (!f) return;
    f->saved = malloc((r->nst + 1) * sizeof *f->saved);
    if (f->saved) memcpy(f->saved, r->st, r->nst * sizeof *r->st);
    f->nsaved = f->saved ? r->nst : 0;
    f->saved_pd = r->pd;
    f->saved_sink = r->sink_in_st;
    f->saved_nvars = r->c.nvars;
    f->saved_scope0 = r->c.scope0;
    /* the callback's parameters are unknown values in their own scope */
    r->c.scope0 = r->c.nvars;
    r->nst = 0;
    r->pd = 0;
    r->sink_in_st = 0;
    set_mode(r);
}

static void close_block(runner *r, const tok *t) {
    if (r->nst) end_statement(r, 0);
    if (!r->nfr) return;
    frame *f = &r->fr[r->nfr - 1];
    if (f->kind == FR_INLINE) {
        tok *saved = f->saved;
        size_t n = f->nsaved;
        int pd = f->saved_pd, sink = f->saved_sink;
        r->c.nvars = f->saved_nvars;
        r->c.scope0 = f->saved_scope0;
        f->saved = NULL;
        pop(r, t->off);
        if (saved && grow_toks(&r->st, &r->cst, n + 1)) {
            memcpy(r->st, saved, n * sizeof *saved);
            r->nst = n;
            r->pd = pd;
            r->sink_in_st = sink;
        }
        free(saved);
        return;
    }
    pop(r, t->off);
}

static int continues(runner *r, const tok *t) {
    inj_ctx *c = &r->c;
    if (t->type != T_OP) return 0;
    return tok_is(c, t, ".") || tok_is(c, t, "?.") || tok_is(c, t, "+") || tok_is(c, t, "&&") ||
           tok_is(c, t, "||") || tok_is(c, t, "?") || tok_is(c, t, ":") || tok_is(c, t, "??") ||
           tok_is(c, t, "=") || tok_is(c, t, "==") || tok_is(c, t, "*") || tok_is(c, t, "|");
}

static int ends_open(runner *r) {
    if (!r->nst) return 0;
    const tok *p = &r->st[r->nst - 1];
    if (p->type != T_OP) return 0;
    inj_ctx *c = &r->c;
    return !(tok_is(c, p, ")") || tok_is(c, p, "]") || tok_is(c, p, "}") || tok_is(c, p, ";") ||
             tok_is(c, p, "++") || tok_is(c, p, "--") || (line_lang(c->lang) && tok_is(c, p, ":")));
}

static void feed_token(runner *r, const tok *t) {
    inj_ctx *c = &r->c;
    if (t->type == T_PRE) {
        if (r->nst) end_statement(r, 0);
        char line[256];
        tok_text(c, t, line, sizeof line);
        char name[INJ_NAME], val[INJ_NAME];
        if (sscanf(line, "#%*[ \t]define %47s %47s", name, val) == 2 ||
            sscanf(line, "#define %47s %47s", name, val) == 2) {
            if (!strchr(name, '(') && c->nmacro < 1024) {
                if (c->nmacro == c->cmacro) {
                    size_t nc = c->cmacro ? c->cmacro * 2 : 32;
                    void *q = realloc(c->macro, nc * sizeof *c->macro);
                    if (!q) return;
                    c->macro = q;
                    c->cmacro = nc;
                }
                str_copy(c->macro[c->nmacro][0], INJ_NAME, name);
                str_copy(c->macro[c->nmacro][1], INJ_NAME, val);
                c->nmacro++;
            }
        }
        return;
    }
    if (r->pending_nl) {
        r->pending_nl = 0;
        if (!continues(r, t)) end_statement(r, 0);
    }
    if (t->type == T_NL) {
        if (!r->nst || r->pd > 0) return;
        int lang = c->lang;
        if (lang == LANG_C || lang == LANG_JAVA || lang == LANG_PHP) return;
        if (ends_open(r)) return;
        if (line_lang(lang)) end_statement(r, 0);
        else r->pending_nl = 1;
        return;
    }
    /* the one-byte operator, or 0 (a switch instead of a chain of compares:
     * this runs for every token) */
    int op = t->type == T_OP && t->len == 1 ? (int)(t->code & 0xff) : 0;
    if (op == '}' && r->pd == 0 && !line_lang(c->lang)) {
        close_block(r, t);
        return;
    }
    if (!grow_toks(&r->st, &r->cst, r->nst + 1)) return;
    r->st[r->nst++] = *t;
    if (t->type == T_ID && !r->sink_in_st && !c->depth) {   /* for holds: the top level only */
        char w[INJ_NAME];
        tok_text(c, t, w, sizeof w);
        r->sink_in_st = tab_mentions_sink(c->lang, w);
    }
    switch (op) {
    case '(': case '[':
        r->pd++;
        break;
    case ')': case ']': case '}':
        if (r->pd) r->pd--;
        break;
    case '{':
        if (line_lang(c->lang) || c->lang == LANG_PY) { r->pd++; break; }
        r->nst--;
        if (r->pd == 0 && is_block_brace(r)) {
            r->st[r->nst++] = *t;
            end_statement(r, 1);
            return;
        }
        if (inline_block(r)) { open_inline(r); return; }
        r->st[r->nst++] = *t;
        r->pd++;
        break;
    case ';':
        if (r->pd == 0) { end_statement(r, 0); return; }
        break;
    }
    if (r->nst >= INJ_MAXTOK) end_statement(r, 0);
}

static void run(runner *r, scan_view *v) {
    r->c.v = v;
    tok t;
    while (lex_next(&r->lx, v, &t)) feed_token(r, &t);
    if (v->eof && !v->need) {
        if (r->pending_nl || r->nst) { r->pending_nl = 0; end_statement(r, 0); }
        while (r->nfr) {
            frame *f = &r->fr[r->nfr - 1];
            size_t end = f->indent >= 0 ? r->last_end : sv_end(v);
            if (f->kind == FR_FUNC && f->indent >= 0 && !f->body_start) f->capture = 0;
            pop(r, end);
        }
    }
}

/* ---- runners ---------------------------------------------------------------- */

static void runner_init(runner *r, int lang, size_t start) {
    memset(r, 0, offsetof(runner, fr));
    lex_init(&r->lx, lang, start);
    r->c.lang = lang;
    r->c.calls = &r->calls;
    r->c.ncalls = &r->ncalls;
    r->c.ccalls = &r->ccalls;
    r->c.fns = &r->fns;
    r->c.nfns = &r->nfns;
    r->c.cfns = &r->cfns;
    r->c.memo = &r->memo;
    r->c.owner = r;
}

static void runner_free(runner *r) {
    for (int k = 0; k < r->nfr; k++) free(r->fr[k].saved);
    free(r->st);
    ctx_free(&r->c);
}

/* Calls to user functions are memoised: the result depends only on the
 * function, the C macros known, the arguments' abstract values (string and
 * object ids are not passed into the body), the functions the evaluation
 * looked up by name and, where the nesting limit cut a call short, the
 * depth. Looked-up names are kept as a bloom filter, so a function defined
 * later invalidates only the entries whose evaluation (transitively) looked
 * its name up. An entry computed at depth d whose evaluation reached known
 * functions down to depth need (and was never cut short) holds at any depth
 * d' with d' + (need - d) within the limit. */
#define MEMO_WAYS 4
#define MEMO_SETS 64
#define DEP_WORDS 4

struct inj_deps {
    uint64_t names[DEP_WORDS];          /* bloom of names looked up */
    int need;                           /* deepest depth that called a known function */
    int capped;                         /* a known function was not called: depth limit */
};

typedef struct {
    int used, depth, nargs;
    size_t fn, nmacro;
    aval arg[INJ_ARGS];
    aval ret;
    size_t nfns;                        /* functions known when the entry was last valid */
    struct inj_deps deps;
} memo_ent;
struct inj_memo { memo_ent e[MEMO_SETS][MEMO_WAYS]; unsigned next[MEMO_SETS]; };

static aval abstract(aval a) {
    aval n;
    memset(&n, 0, sizeof n);            /* padding too: entries are compared bytewise */
    n.src = a.src;
    n.dyn = a.dyn;
    n.clean = a.clean;
    n.sqlish = a.sqlish;
    n.htmlish = a.htmlish;
    n.shellish = a.shellish;
    n.haveint = a.haveint;
    n.ival = a.haveint ? a.ival : 0;
    n.lazycat = a.lazycat;
    n.sid = n.obj = -1;
    n.call = a.call;
    return n;
}

static void deps_add(struct inj_deps *d, uint32_t h) {
    d->names[(h >> 6) % DEP_WORDS] |= 1ull << (h & 63);
    d->names[(h >> 14) % DEP_WORDS] |= 1ull << ((h >> 8) & 63);
}

static int deps_have(const struct inj_deps *d, uint32_t h) {
    return (d->names[(h >> 6) % DEP_WORDS] >> (h & 63) & 1) &&
           (d->names[(h >> 14) % DEP_WORDS] >> ((h >> 8) & 63) & 1);
}

/* Adds what a call made at depth `depth` depended on (inner: its
 * evaluation's dependencies, computed at depth inner_depth) to c's. */
static void deps_merge(inj_ctx *c, int depth, const struct inj_deps *inner, int inner_depth) {
    struct inj_deps *d = c->deps;
    if (!d) return;
    if (d->need < depth) d->need = depth;
    if (!inner) return;
    for (int k = 0; k < DEP_WORDS; k++) d->names[k] |= inner->names[k];
    int need = depth + inner->need - inner_depth;
    if (d->need < need) d->need = need;
    d->capped |= inner->capped;
}

static int same_key(const memo_ent *m, const memo_ent *key) {
    return m->used && m->fn == key->fn && m->nmacro == key->nmacro && m->nargs == key->nargs &&
           !memcmp(m->arg, key->arg, sizeof key->arg);
}

static memo_ent *memo_set(inj_ctx *c, const memo_ent *key, unsigned *set) {
    if (!*c->memo && !(*c->memo = calloc(1, sizeof **c->memo))) return NULL;
    uint32_t h = 2166136261u;
    const uint8_t *p = (const uint8_t *)key->arg;
    for (size_t i = 0; i < (size_t)key->nargs * sizeof(aval); i++) h = (h ^ p[i]) * 16777619u;
    h ^= (uint32_t)key->fn * 2654435761u ^ (uint32_t)key->nmacro * 97u ^ (uint32_t)key->nargs;
    *set = h % MEMO_SETS;
    return (*c->memo)->e[*set];
}

/* The entry for key when it still holds with the functions known now and at
 * c's depth. */
static memo_ent *memo_find(inj_ctx *c, const memo_ent *key) {
    unsigned set;
    memo_ent *ways = memo_set(c, key, &set);
    if (!ways) return NULL;
    for (int w = 0; w < MEMO_WAYS; w++) {
        memo_ent *m = &ways[w];
        if (!same_key(m, key)) continue;
        int fits = m->depth == c->depth ||
                   (!m->deps.capped && c->depth + m->deps.need - m->depth < INJ_MAX_DEPTH);
        if (!fits) continue;
        size_t k = m->nfns;
        while (k < *c->nfns && !deps_have(&m->deps, (*c->fns)[k].h)) k++;
        if (k < *c->nfns) { m->used = 0; continue; }   /* a function it looked up was (re)defined */
        m->nfns = *c->nfns;
        return m;
    }
    return NULL;
}

static void memo_store(inj_ctx *c, const memo_ent *key) {
    unsigned set;
    memo_ent *ways = memo_set(c, key, &set);
    if (!ways) return;
    int w = 0;
    while (w < MEMO_WAYS && ways[w].used) w++;
    if (w == MEMO_WAYS) w = (int)((*c->memo)->next[set]++ % MEMO_WAYS);
    ways[w] = *key;
}

/* The newest user function called name, or NULL; records the lookup. */
static fndef *find_fn(inj_ctx *c, const char *name, size_t *index) {
    uint32_t h = name_hash(name);
    if (c->deps) deps_add(c->deps, h);
    for (size_t k = *c->nfns; k-- > 0;)
        if ((*c->fns)[k].h == h && !strcmp((*c->fns)[k].name, name)) {
            if (index) *index = k;
            return &(*c->fns)[k];
        }
    return NULL;
}

void call_capped(inj_ctx *c, const char *name) {
    if (c->deps && find_fn(c, name, NULL)) c->deps->capped = 1;
}

aval call_user(inj_ctx *c, const char *name, const aval *args, int nargs, int *ok) {
    size_t fn = 0;
    fndef *d = find_fn(c, name, &fn);
    *ok = d != NULL;
    if (!d) return av_opaque();
    deps_merge(c, c->depth, NULL, 0);
    if (!d->returns) return av_opaque();           /* no return statement: no value */
    memo_ent key;
    memset(&key, 0, sizeof key);
    key.used = 1;
    key.depth = c->depth;
    key.nargs = nargs < INJ_ARGS ? nargs : INJ_ARGS;
    key.fn = fn;
    key.nmacro = c->nmacro;
    for (int k = 0; k < key.nargs; k++) key.arg[k] = abstract(args[k]);
    memo_ent *m = memo_find(c, &key);
    if (m) {
        deps_merge(c, c->depth, &m->deps, m->depth);
        return m->ret;
    }
    runner *n = malloc(sizeof *n);
    if (!n) return av_opaque();
    runner_init(n, d->lang, 0);
    n->c.depth = c->depth + 1;
    n->c.calls = c->calls;
    n->c.ncalls = c->ncalls;
    n->c.ccalls = c->ccalls;
    n->c.fns = c->fns;
    n->c.nfns = c->nfns;
    n->c.cfns = c->cfns;
    n->c.memo = c->memo;
    key.deps.need = c->depth;
    n->c.deps = &key.deps;
    if (c->nmacro && (n->c.macro = malloc(c->nmacro * sizeof *c->macro))) {
        memcpy(n->c.macro, c->macro, c->nmacro * sizeof *c->macro);
        n->c.nmacro = n->c.cmacro = c->nmacro;
    }
    for (int k = 0; k < d->nparams; k++) var_set(&n->c, d->param[k], k < key.nargs ? key.arg[k] : av_opaque());
    n->c.scope0 = n->c.nvars;
    scan_view v = {(const uint8_t *)d->body, 0, d->len, 1, 0};
    run(n, &v);
    aval r = n->c.has_ret ? n->c.ret : av_opaque();
    r.obj = -1;
    r.sid = -1;
    r.havestr = 0;
    runner_free(n);
    free(n);
    deps_merge(c, c->depth, &key.deps, key.depth);
    key.ret = r;
    key.nfns = *c->nfns;
    memo_store(c, &key);
    return r;
}

/* ---- the streaming analyser ---------------------------------------------- */

static void report(runner *r, int cat, size_t a, size_t b, const char *msg) {
    scan_hit h = {rule_of(cat), a, b, msg};
    r->cb(r->cbctx, &h);
}

static void on_sink(inj_ctx *c, int cat, const char *msg, const aval *v) {
    runner *r = c->owner;
    aval x = *v;
    int res = verdict(c, cat, &x, 0);
    if (res > 0) report(r, cat, c->st_start, c->st_end, msg);
    if (res >= 0 || r->ndef >= 1024) return;
    if (r->ndef == r->cdef) {
        size_t nc = r->cdef ? r->cdef * 2 : 16;
        deferred *q = realloc(r->def, nc * sizeof *q);
        if (!q) return;
        r->def = q;
        r->cdef = nc;
    }
    x.obj = x.sid = -1;
    x.havestr = 0;
    r->def[r->ndef++] = (deferred){rule_of(cat), c->st_start, c->st_end, x, cat, msg};
}

static void retry_deferred(runner *r, int final) {
    size_t k = 0;
    for (size_t i = 0; i < r->ndef; i++) {
        deferred d = r->def[i];
        int res = verdict(&r->c, d.cat, &d.v, final);
        if (res > 0) report(r, d.cat, d.start, d.end, d.msg);
        if (res < 0) r->def[k++] = d;
    }
    r->ndef = k;
}

scan_inject *scan_inject_new(const char *filetype) {
    scan_inject *a = malloc(sizeof *a);
    if (!a) return NULL;
    runner_init(&a->r, inj_lang(filetype), 0);
    a->r.c.hit = on_sink;
    return a;
}

size_t scan_inject_feed(scan_inject *a, scan_view *v, scan_hit_cb cb, void *ctx, size_t *hold) {
    runner *r = &a->r;
    r->cb = cb;
    r->cbctx = ctx;
    v->need = 0;
    run(r, v);
    if (v->eof) retry_deferred(r, 1);
    size_t keep = r->lx.mode ? r->lx.cur.off : r->lx.pos;
    if (r->nst) keep = r->st[0].off < keep ? r->st[0].off : keep;
    for (int k = 0; k < r->nfr; k++) {
        const frame *f = &r->fr[k];
        if (f->kind == FR_FUNC && f->capture && f->body_start && f->body_start < keep &&
            sv_end(v) - f->body_start <= FN_BODY_MAX)
            keep = f->body_start;
        if (f->kind == FR_INLINE && f->nsaved && f->saved[0].off < keep) keep = f->saved[0].off;
    }
    *hold = SIZE_MAX;
    if (r->nst && r->sink_in_st) {
        size_t end = sv_end(v), h = r->st[0].off;
        *hold = end - h > SCAN_HOLD_MAX - 8 ? end - (SCAN_HOLD_MAX - 8) : h;
    }
    return keep;
}

void scan_inject_free(scan_inject *a) {
    if (!a) return;
    runner *r = &a->r;
    for (size_t k = 0; k < r->nfns; k++) {
        sodium_memzero(r->fns[k].body, r->fns[k].len);    /* code text may hold secrets */
        free(r->fns[k].body);
    }
    free(r->fns);
    free(r->calls);
    free(r->def);
    free(r->memo);
    runner_free(r);
    free(a);
}
