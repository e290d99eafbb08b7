/* inject_int.h — private to the injection analyser (inject*.c): tokens,
 * abstract values and the per-language tables. See inject.c for the model.
 */
#ifndef FLINT_SCAN_INJECT_INT_H
#define FLINT_SCAN_INJECT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scan/scan_int.h"

/* ---- languages ------------------------------------------------------------ */

enum { LANG_C, LANG_JAVA, LANG_JS, LANG_GO, LANG_PY, LANG_RUBY, LANG_PHP, LANG_SH, LANG_LUA, LANG_ANY };

int inj_lang(const char *filetype);          /* LANG_ANY when unknown */

/* ---- tokens (inject_lex.c) ---------------------------------------------- */

enum { T_ID, T_NUM, T_STR, T_OP, T_NL, T_PRE };

enum {
    TF_INTERP = 1,     /* string with interpolation (f"", `${}`, "#{}", "$x") */
    TF_CMD    = 2,     /* command substitution (shell/Ruby/PHP backticks) */
    TF_LINE0  = 4,     /* first token on its line */
    TF_RAW    = 8,     /* raw string (no escapes) */
};

typedef struct {
    uint8_t type, flags;
    uint16_t indent;   /* indentation of the token's line */
    uint32_t code;     /* its first (up to) 4 bytes, for quick comparisons */
    uint32_t len;
    size_t off;        /* absolute offset of the token's first byte */
    size_t inner;      /* strings: offset of the content (after prefix and quote) */
    uint32_t ilen;     /* strings: content length */
} tok;

typedef struct {
    int lang;
    int mode;          /* lexer mode between calls */
    size_t pos;        /* next byte to lex */
    int quote, triple, interp, depth;   /* string state */
    char delim[20];    /* C++ raw string / heredoc delimiter */
    int line0;         /* next token starts a line */
    tok cur;           /* the string being lexed (mode string) */
    uint16_t indent;   /* indentation of the current line */
    uint16_t col;      /* counting indentation at line start */
} lexer;

void lex_init(lexer *lx, int lang, size_t start);
/* Lexes the next token from the view into *t. Returns 1 with a token, 0 when
 * the rest of the view is blank/comments (or more bytes are needed: v->need;
 * the lexer then resumes where it stopped). */
int lex_next(lexer *lx, scan_view *v, tok *t);

/* ---- abstract values (inject_eval.c) ------------------------------------ */

/* Where a value comes from: a literal, something unknown, or user input. */
enum { V_CONST = 0, V_OPAQUE = 1, V_TAINT = 2 };

/* Categories a sanitizer cleans a value for. */
enum { C_SQL = 1, C_SHELL = 2, C_HTML = 4, C_PATH = 8, C_CODE = 16, C_ALL = 31 };

typedef struct {
    uint8_t src;       /* V_CONST / V_OPAQUE / V_TAINT */
    uint8_t dyn;       /* text built by concatenation/formatting with a non-literal part */
    uint8_t clean;     /* C_* categories the non-literal parts were sanitised for */
    uint8_t sqlish;    /* literal parts read like SQL */
    uint8_t htmlish;   /* literal parts hold HTML markup */
    uint8_t shellish;  /* literal parts start a shell ("sh -c", "cmd /c") */
    uint8_t haveint, havestr;
    uint8_t lazycat;   /* the unresolved call was concatenated (else joined) in */
    int64_t ival;      /* constant number or character */
    int sid;           /* constant string: id in the string pool, or -1 */
    int obj;           /* list/map model: id in the object table, or -1 */
    int call;          /* unresolved call to a function defined later: record id, or -1 */
} aval;

#endif

/* ---- interpreter state (inject_val.c, inject_eval.c, inject.c) ---------- */

#define INJ_NAME 48
#define INJ_MAXTOK 2048     /* tokens in one statement */
#define INJ_OBJ_SLOTS 16    /* elements of a modelled list or map */
#define INJ_ARGS 6          /* arguments kept in a call record */
#define INJ_MAX_DEPTH 3     /* nesting of user-function calls evaluated */

typedef struct { char name[INJ_NAME]; uint32_t h; aval v; } var;   /* h: name_hash(name) */

static inline uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Copies src into dst[cap], cut to fit (always NUL-terminated). */
static inline void str_copy(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Appends ".w" (or "w" to an empty path) to path[cap], cut to fit. */
static inline void path_push(char *path, size_t cap, const char *w) {
    size_t pl = strlen(path);
    if (pl && pl + 1 < cap) path[pl++] = '.', path[pl] = 0;
    str_copy(path + pl, cap - pl, w);
}

typedef struct {
    int is_map, n;
    int key[INJ_OBJ_SLOTS];            /* string ids (maps) */
    aval val[INJ_OBJ_SLOTS];
} object;

typedef struct {                       /* a call to a function not seen yet */
    char fn[INJ_NAME];                 /* "" joins two unresolved values (arg 0, 1) */
    int method;                        /* called on this/self/new object */
    int nargs;
    aval arg[INJ_ARGS];
} callrec;

typedef struct {                       /* a user function, kept to evaluate calls */
    char name[INJ_NAME];
    uint32_t h;                        /* name_hash(name) */
    int lang, nparams;
    char param[8][INJ_NAME];
    char *body;
    size_t len;
    int returns;                       /* the body has a return statement */
} fndef;

typedef struct {                       /* a sink whose verdict waits for a function */
    int rule;
    size_t start, end;
    aval v;
    int cat;
    const char *msg;
} deferred;

/* Sink categories and how a sink judges its argument. */
enum { K_SQL, K_SHELL, K_SHELL_ARGV, K_CODE, K_PATH, K_HTML, K_HTML_ASSIGN };

/* One interpreter: the streaming analyser owns one; evaluating a call to a
 * user function runs a nested one over the stored body. */
typedef struct inj_ctx inj_ctx;
struct inj_ctx {
    int lang, depth;                   /* depth: nesting of call evaluation */
    scan_view *v;
    /* variables: function scope over globals */
    var *vars; size_t nvars, cvars, scope0;
    /* constants and models of the current top-level unit */
    char *pool; size_t npool, cpool;
    object *objs; size_t nobjs, cobjs;
    /* shared with nested interpreters (owned by the analyser) */
    callrec **calls; size_t *ncalls, *ccalls;
    fndef **fns; size_t *nfns, *cfns;
    struct inj_memo **memo;            /* results of calls to user functions */
    struct inj_deps *deps;             /* nested: what the evaluation depended on */
    /* C object-like macros */
    char (*macro)[2][INJ_NAME]; size_t nmacro, cmacro;
    /* statement being executed */
    const tok *t; size_t nt, i;
    size_t st_start, st_end;
    int weak, dead;                    /* assignments join / statement skipped */
    aval ret; int has_ret;             /* return values (nested evaluation) */
    int guard_mask;                    /* a check call ran (startsWith, in_array, ...) */
    char guard_var[INJ_NAME];          /* ... on this variable */
    /* findings (NULL in nested interpreters: sinks there are ignored) */
    void (*hit)(inj_ctx *c, int cat, const char *msg, const aval *v);
    void *owner;
};

/* inject_val.c */
aval av_const(void);
aval av_opaque(void);
aval av_taint(void);
aval av_join(inj_ctx *c, aval a, aval b);
aval av_concat(inj_ctx *c, aval a, aval b);
int pool_add(inj_ctx *c, const char *s, size_t n);
const char *pool_str(inj_ctx *c, int sid);
void av_scan_literal(aval *a, const char *s, size_t n);
aval *var_find(inj_ctx *c, const char *name);
void var_set(inj_ctx *c, const char *name, aval v);
int obj_new(inj_ctx *c, int is_map);
object *obj_get(inj_ctx *c, int id);
void tok_text(inj_ctx *c, const tok *t, char *out, size_t cap);

static inline uint32_t tok_pack(const char *s, size_t n) {
    uint32_t v = 0;
    memcpy(&v, s, n < 4 ? n : 4);
    return v;
}

/* 1 when a equals lit (the first bytes are compared inline, so most
 * mismatches cost no call; with a literal lit that is one compare). */
static inline __attribute__((always_inline)) int streq(const char *a, const char *lit) {
    return a[0] == lit[0] && (!lit[0] || !strcmp(a + 1, lit + 1));
}

/* 1 when the (non-string) token's text is exactly s. */
static inline __attribute__((always_inline)) int tok_is(inj_ctx *c, const tok *t, const char *s) {
    size_t n = strlen(s);
    if (t->len != n || t->type == T_STR || t->code != tok_pack(s, n)) return 0;
    return n <= 4 || sv_lit(c->v, t->off + 4, s + 4, 0);
}
/* A text to compare tokens with, measured once (for tables of texts). */
typedef struct { uint32_t len, code; const char *s; } tok_text_t;
static inline tok_text_t tok_text_of(const char *s) {
    size_t n = strlen(s);
    return (tok_text_t){(uint32_t)n, tok_pack(s, n), s};
}
/* tok_is() for a measured text. */
static inline int tok_is_text(inj_ctx *c, const tok *t, const tok_text_t *x) {
    if (t->len != x->len || t->type == T_STR || t->code != x->code) return 0;
    return x->len <= 4 || sv_lit(c->v, t->off + 4, x->s + 4, 0);
}
void ctx_reset_unit(inj_ctx *c);
void ctx_free(inj_ctx *c);

/* ---- parser helpers (inject_eval.c, inject_call.c) ------------------------ */

static inline const tok *peek(inj_ctx *c) { return c->i < c->nt ? &c->t[c->i] : NULL; }
static inline int is_op(inj_ctx *c, const tok *t, const char *op) {
    return t && t->type == T_OP && tok_is(c, t, op);
}
static inline int at_op(inj_ctx *c, const char *op) { return is_op(c, peek(c), op); }
static inline int at_word(inj_ctx *c, const char *w) {
    const tok *t = peek(c);
    return t && t->type == T_ID && tok_is(c, t, w);
}
static inline int at_stop(inj_ctx *c) {
    const tok *t = peek(c);
    if (!t || t->type == T_NL) return 1;
    return t->type == T_OP && (tok_is(c, t, ",") || tok_is(c, t, ";") || tok_is(c, t, ")") ||
                               tok_is(c, t, "]") || tok_is(c, t, "}") || tok_is(c, t, ":") ||
                               tok_is(c, t, "=>"));
}

/* Skips a balanced group starting at an opening bracket. */
static inline void inj_skip_group(inj_ctx *c) {
    int d = 0;
    while (c->i < c->nt) {
        const tok *t = &c->t[c->i++];
        if (t->type != T_OP) continue;
        if (tok_is(c, t, "(") || tok_is(c, t, "[") || tok_is(c, t, "{")) d++;
        else if (tok_is(c, t, ")") || tok_is(c, t, "]") || tok_is(c, t, "}")) {
            if (--d <= 0) return;
        }
    }
}


/* 1 when two pooled constant strings are equal. */
static inline int same_str(inj_ctx *c, int a, int b) {
    return a >= 0 && b >= 0 && !strcmp(pool_str(c, a), pool_str(c, b));
}

/* Reports a sink's argument to the analyser (not in dead code). */
static inline void inj_sink(inj_ctx *c, int cat, const char *msg, aval v) {
    if (c->hit && !c->dead) c->hit(c, cat, msg, &v);
}

#define MAXARGS 16
typedef struct {
    int n;
    aval v[MAXARGS];
    char base[MAXARGS][INJ_NAME];   /* first variable named in each argument */
    char kw[MAXARGS][INJ_NAME];     /* keyword argument names ("" when positional) */
    int shell_true;                 /* Python shell=True */
} args_t;

/* inject_call.c */
/* Parses call arguments from c->i up to `close` (consumed). */
void inj_parse_args(inj_ctx *c, args_t *a, const char *close);
/* Joins a list model's elements into the value (argument vectors). */
aval inj_expand(inj_ctx *c, aval v);
/* Evaluates a call of `path` (its arguments start at c->i): the value the
 * call returns; checks the sinks. recv: the receiver's value (has_recv),
 * recv_name its variable; ctor: a constructor call ("new T(...)"). */
aval inj_call(inj_ctx *c, const char *path, aval recv, int has_recv, int recv_known,
              const char *recv_name, int ctor);

/* inject_eval.c */
aval eval_expr(inj_ctx *c);              /* parses from c->i, stops at , ; ) ] } or end */
aval eval_range(inj_ctx *c, size_t from, size_t to);
/* 1 flag, 0 safe, -1 undecided: the value waits for a function defined later
 * (final: treat such functions as unknown library calls). */
int verdict(inj_ctx *c, int cat, aval *v, int final);
/* Evaluates a call to a user function (inject.c): runs its stored body with
 * the parameters bound; *ok is 0 when the function is not known (yet). */
aval call_user(inj_ctx *c, const char *name, const aval *args, int nargs, int *ok);
/* Notes, at the nesting limit, a call to name that is not evaluated. */
void call_capped(inj_ctx *c, const char *name);

/* inject_tab.c: per-language tables */
/* A sink: callee name (or ".dotted.path" suffix), category, languages,
 * message, and which argument is the command/query/path/program. */
typedef struct { const char *name; int cat; int langs; const char *msg; int arg; } sink_def;
int tab_sink(int lang, const char *callee, const char *path, const sink_def **out);
int tab_source(int lang, const char *path, int is_call);
int tab_sanitizer(int lang, const char *callee);     /* C_* mask cleaned, 0 if none */
int tab_builder(const char *callee);                 /* string formatting call */
int tab_constant(const char *callee);                /* library call returning a constant */
int tab_guard(const char *callee);                   /* C_* a check in a condition vouches for */
int tab_keyword(const char *word);                   /* control/declaration keyword */
int tab_mentions_sink(int lang, const char *word);   /* cheap test for holds */
