/* inject_val.c — abstract values and the interpreter's memory: the string
 * pool of constants, list/map models, variables and token text. */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "scan/inject_int.h"

static aval av_base(int src) {
    aval a;
    memset(&a, 0, sizeof a);
    a.src = (uint8_t)src;
    a.sid = a.obj = a.call = -1;
    return a;
}
aval av_const(void) { return av_base(V_CONST); }
aval av_opaque(void) { return av_base(V_OPAQUE); }
aval av_taint(void) { return av_base(V_TAINT); }

/* Categories the non-literal parts of a join are clean for. */
static uint8_t join_clean(aval a, aval b) {
    if (a.src == V_CONST) return b.src == V_CONST ? C_ALL : b.clean;
    if (b.src == V_CONST) return a.clean;
    return a.clean & b.clean;
}

/* A record joining two unresolved calls (fn ""), so neither is lost. */
static int join_calls(inj_ctx *c, aval a, aval b) {
    if (*c->ncalls >= 4096) return a.call;
    if (*c->ncalls == *c->ccalls) {
        size_t nc = *c->ccalls ? *c->ccalls * 2 : 64;
        callrec *q = realloc(*c->calls, nc * sizeof *q);
        if (!q) return a.call;
        *c->calls = q;
        *c->ccalls = nc;
    }
    callrec *r = &(*c->calls)[*c->ncalls];
    memset(r, 0, sizeof *r);
    r->nargs = 2;
    r->arg[0] = av_const();
    r->arg[0].call = a.call;
    r->arg[0].lazycat = a.lazycat;
    r->arg[1] = av_const();
    r->arg[1].call = b.call;
    r->arg[1].lazycat = b.lazycat;
    return (int)(*c->ncalls)++;
}

aval av_join(inj_ctx *c, aval a, aval b) {
    aval r = av_base(a.src > b.src ? a.src : b.src);
    r.dyn = a.dyn | b.dyn;
    r.clean = join_clean(a, b);
    r.sqlish = a.sqlish | b.sqlish;
    r.htmlish = a.htmlish | b.htmlish;
    r.shellish = a.shellish | b.shellish;
    if (a.haveint && b.haveint && a.ival == b.ival) { r.haveint = 1; r.ival = a.ival; }
    if (a.havestr && b.havestr && a.sid >= 0 && b.sid >= 0 &&
        !strcmp(pool_str(c, a.sid), pool_str(c, b.sid))) {
        r.havestr = 1;
        r.sid = a.sid;
    }
    r.call = a.call >= 0 ? a.call : b.call;
    if (a.call >= 0 && b.call >= 0 && a.call != b.call) r.call = join_calls(c, a, b);
    r.lazycat = a.lazycat | b.lazycat;
    r.obj = a.obj == b.obj ? a.obj : -1;
    return r;
}

aval av_concat(inj_ctx *c, aval a, aval b) {
    aval r = av_join(c, a, b);
    r.dyn = a.dyn | b.dyn | (a.src != V_CONST || b.src != V_CONST);
    r.lazycat |= a.call >= 0 || b.call >= 0;
    r.obj = -1;
    r.haveint = 0;
    if (a.havestr && b.havestr && a.sid >= 0 && b.sid >= 0) {
        const char *x = pool_str(c, a.sid), *y = pool_str(c, b.sid);
        size_t n = strlen(x), m = strlen(y);
        if (n + m < 4096) {
            char *tmp = malloc(n + m + 1);
            if (tmp) {
                memcpy(tmp, x, n);
                memcpy(tmp + n, y, m + 1);
                r.sid = pool_add(c, tmp, n + m);
                r.havestr = r.sid >= 0;
                free(tmp);
            }
        }
    } else {
        r.havestr = 0;
        r.sid = -1;
    }
    return r;
}

int pool_add(inj_ctx *c, const char *s, size_t n) {
    if (c->npool + n + 1 > c->cpool) {
        size_t nc = (c->npool + n + 1) * 2;
        if (nc > (1u << 22)) return -1;        /* keep a unit's constants bounded */
        char *q = malloc(nc);
        if (!q) return -1;
        if (c->pool) {                         /* wipe the old block: literals may be secrets */
            memcpy(q, c->pool, c->npool);
            sodium_memzero(c->pool, c->cpool);
            free(c->pool);
        }
        c->pool = q;
        c->cpool = nc;
    }
    int id = (int)c->npool;
    memcpy(c->pool + c->npool, s, n);
    c->pool[c->npool + n] = 0;
    c->npool += n + 1;
    return id;
}

const char *pool_str(inj_ctx *c, int sid) {
    return sid >= 0 && (size_t)sid < c->npool ? c->pool + sid : "";
}

static int ascii_alpha(int ch) { return (unsigned)((ch | 32) - 'a') < 26; }

/* 1 when the word w[0..n), lower-cased, is lit. */
static inline __attribute__((always_inline)) int word_is(const char *w, size_t n, const char *lit) {
    size_t m = strlen(lit);                      /* a literal: folded */
    if (m != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((w[i] | 32) != lit[i]) return 0;
    return 1;
}

/* The word starting at s[j + 1] when s[j] is a single space before it. */
static size_t next_word(const char *s, size_t n, size_t j, const char **w) {
    if (!(j + 1 < n && s[j] == ' ' && ascii_alpha((uint8_t)s[j + 1]))) return 0;
    size_t e = j + 1;
    while (e < n && ascii_alpha((uint8_t)s[e])) e++;
    *w = s + j + 1;
    return e - j - 1;
}

/* 1 when text reads like SQL: one of the statement words or clauses
 * (select, insert into, update, delete from, where, values, order by,
 * group by, having, union, drop/create/alter/truncate table, {call) appears
 * as a whole word (ignoring case), or both "limit" and "from" do. Text ends
 * at its first NUL byte. */
static int sqlish_text(const char *s, size_t n) {
    const char *nul = memchr(s, 0, n);
    if (nul) n = (size_t)(nul - s);
    int limit = 0, from = 0;
    for (size_t i = 0; i < n;) {
        if (!ascii_alpha((uint8_t)s[i])) { i++; continue; }
        size_t j = i;
        while (j < n && ascii_alpha((uint8_t)s[j])) j++;
        const char *w = s + i, *w2 = NULL;
        size_t len = j - i, len2;
#define CLAUSE(a, b) (word_is(w, len, a) && (len2 = next_word(s, n, j, &w2)) && word_is(w2, len2, b))
        switch (w[0] | 32) {
        case 's': if (word_is(w, len, "select")) return 1; break;
        case 'u': if (word_is(w, len, "update") || word_is(w, len, "union")) return 1; break;
        case 'w': if (word_is(w, len, "where")) return 1; break;
        case 'v': if (word_is(w, len, "values")) return 1; break;
        case 'h': if (word_is(w, len, "having")) return 1; break;
        case 'i': if (CLAUSE("insert", "into")) return 1; break;
        case 'd': if (CLAUSE("delete", "from") || CLAUSE("drop", "table")) return 1; break;
        case 'o': if (CLAUSE("order", "by")) return 1; break;
        case 'g': if (CLAUSE("group", "by")) return 1; break;
        case 'a': if (CLAUSE("alter", "table")) return 1; break;
        case 't': if (CLAUSE("truncate", "table")) return 1; break;
        case 'c':
            if (CLAUSE("create", "table")) return 1;
            if (word_is(w, len, "call") && i > 0 && s[i - 1] == '{' && (i == 1 || !ascii_alpha((uint8_t)s[i - 2])))
                return 1;
            break;
        case 'l': limit |= word_is(w, len, "limit"); break;
        case 'f': from |= word_is(w, len, "from"); break;
        }
#undef CLAUSE
        i = j;
    }
    return limit && from;
}

/* Marks what a literal's text looks like: SQL, HTML markup, a shell. */
void av_scan_literal(aval *a, const char *s, size_t n) {
    if (n >= 4 && n < 4096 && sqlish_text(s, n)) a->sqlish = 1;
    for (const char *lt = n ? memchr(s, '<', n - 1) : NULL; lt; lt = memchr(lt + 1, '<', (size_t)(s + n - 1 - (lt + 1))))
        if (isalpha((uint8_t)lt[1]) || lt[1] == '/') { a->htmlish = 1; break; }
    if (n <= 10) {
        static const char *const sh[] = {"sh", "bash", "/bin/sh", "/bin/bash", "cmd", "cmd.exe",
                                         "powershell", "-c", "/c", NULL};
        for (int i = 0; sh[i]; i++)
            if (n == strlen(sh[i]) && !strncmp(s, sh[i], n)) a->shellish = 1;
    }
    if (n > 6 && (!strncmp(s, "sh -c", 5) || !strncmp(s, "bash -c", 7) || !strncmp(s, "cmd /c", 6)))
        a->shellish = 1;
}

aval *var_find(inj_ctx *c, const char *name) {
    uint32_t h = name_hash(name);
    for (size_t i = c->nvars; i-- > 0;)
        if (c->vars[i].h == h && !strcmp(c->vars[i].name, name)) return &c->vars[i].v;
    return NULL;
}

void var_set(inj_ctx *c, const char *name, aval v) {
    if (!name[0] || c->dead) return;             /* dead code assigns nothing */
    uint32_t h = name_hash(name);
    for (size_t i = c->nvars; i-- > c->scope0;)
        if (c->vars[i].h == h && !strcmp(c->vars[i].name, name)) {
            c->vars[i].v = c->weak ? av_join(c, c->vars[i].v, v) : v;
            return;
        }
    if (c->nvars == c->cvars) {
        size_t nc = c->cvars ? c->cvars * 2 : 64;
        if (nc > 65536) return;
        var *q = realloc(c->vars, nc * sizeof *q);
        if (!q) return;
        c->vars = q;
        c->cvars = nc;
    }
    var *x = &c->vars[c->nvars++];
    str_copy(x->name, sizeof x->name, name);
    x->h = name_hash(x->name);
    x->v = v;
}

int obj_new(inj_ctx *c, int is_map) {
    if (c->nobjs == c->cobjs) {
        size_t nc = c->cobjs ? c->cobjs * 2 : 16;
        if (nc > 4096) return -1;
        object *q = realloc(c->objs, nc * sizeof *q);
        if (!q) return -1;
        c->objs = q;
        c->cobjs = nc;
    }
    object *o = &c->objs[c->nobjs];
    memset(o, 0, sizeof *o);
    o->is_map = is_map;
    return (int)c->nobjs++;
}

object *obj_get(inj_ctx *c, int id) { return id >= 0 && (size_t)id < c->nobjs ? &c->objs[id] : NULL; }

void tok_text(inj_ctx *c, const tok *t, char *out, size_t cap) {
    size_t n = t->len < cap - 1 ? t->len : cap - 1;
    if (t->off < c->v->base || t->off + n > sv_end(c->v)) n = 0;
    sv_copy(c->v, t->off, n, out);
    out[n] = 0;
}


/* Forgets the constants and models of a finished top-level unit. */
void ctx_reset_unit(inj_ctx *c) {
    c->npool = 0;
    c->nobjs = 0;
    for (size_t i = 0; i < c->nvars; i++) {
        aval *a = &c->vars[i].v;
        a->sid = a->obj = -1;
        a->havestr = 0;
    }
}

void ctx_free(inj_ctx *c) {
    free(c->vars);
    if (c->pool) sodium_memzero(c->pool, c->cpool);   /* string literals may be secrets */
    free(c->pool);
    free(c->objs);
    free(c->macro);
}
