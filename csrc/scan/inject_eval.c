/* inject_eval.c — expression evaluation over abstract values.
 *
 * A forgiving precedence parser over one statement's tokens. Every
 * expression becomes an aval: where its data comes from (literal, unknown,
 * user input), whether it was built by concatenation or formatting, what it
 * was sanitised for, and constant payloads when known (numbers, strings,
 * list/map models) so constant branches and container tricks fold. Calls
 * go to inject_call.c (tables, sinks, user functions); unresolved calls to
 * functions defined later are settled here when a sink's verdict needs them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "scan/inject_int.h"

/* ---- literals ------------------------------------------------------------ */

static aval literal_num(inj_ctx *c, const tok *t) {
    char b[40];
    tok_text(c, t, b, sizeof b);
    aval a = av_const();
    a.haveint = 1;
    a.ival = strtoll(b, NULL, 0);
    return a;
}

aval eval_range(inj_ctx *c, size_t from, size_t to);

/* Evaluates source text [a, b) (an interpolated part) as an expression. */
static aval eval_snippet(inj_ctx *c, size_t a, size_t b) {
    if (b <= a || b - a > 2048) return av_opaque();
    scan_view sub = *c->v;
    if (b < sv_end(&sub)) { sub.len = b - sub.base; sub.eof = 1; }
    lexer lx;
    lex_init(&lx, c->lang, a);
    tok buf[128];
    size_t n = 0;
    while (n < 128 && lex_next(&lx, &sub, &buf[n])) n++;
    const tok *st = c->t;
    size_t snt = c->nt, si = c->i;
    c->t = buf;
    c->nt = n;
    c->i = 0;
    aval v = n ? eval_expr(c) : av_opaque();
    c->t = st;
    c->nt = snt;
    c->i = si;
    return v;
}

/* Variables named inside a PHP/shell string: "$x", "${x}", "{$x}". */
static aval interp_dollar(inj_ctx *c, const char *s, size_t n, size_t base_off, aval acc) {
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '$' || (i && s[i - 1] == '\\')) continue;
        size_t j = i + 1;
        if (s[j] == '{' || s[j] == '(') {
            char close = s[j] == '{' ? '}' : ')';
            size_t k = j + 1;
            while (k < n && s[k] != close) k++;
            acc = av_concat(c, acc, s[j] == '(' ? av_opaque() : eval_snippet(c, base_off + j + 1, base_off + k));
            i = k;
            continue;
        }
        size_t k = j;
        while (k < n && (isalnum((uint8_t)s[k]) || s[k] == '_' || s[k] == '@' || s[k] == '*')) k++;
        if (k == j) continue;
        acc = av_concat(c, acc, eval_snippet(c, base_off + i, base_off + k));
        i = k - 1;
    }
    return acc;
}

/* Expressions inside {...} (Python f, JS ${}, Ruby #{}). */
static aval interp_braces(inj_ctx *c, const char *s, size_t n, size_t base_off, int lead, aval acc) {
    for (size_t i = 0; i < n; i++) {
        size_t open;
        if (lead && s[i] == lead && i + 1 < n && s[i + 1] == '{') open = i + 1;
        else if (!lead && s[i] == '{' && !(i + 1 < n && s[i + 1] == '{')) open = i;
        else continue;
        if (!lead && i > 0 && s[i - 1] == '{') continue;
        int d = 0;
        size_t k = open;
        for (; k < n; k++) {
            if (s[k] == '{') d++;
            else if (s[k] == '}' && --d == 0) break;
        }
        size_t end = k;
        if (!lead) {                              /* f"{x!r:>10}" */
            for (size_t q = open + 1; q < k; q++)
                if (s[q] == '!' || (s[q] == ':' && s[q + 1] != ':')) { end = q; break; }
        }
        acc = av_concat(c, acc, eval_snippet(c, base_off + open + 1, base_off + end));
        i = k;
    }
    return acc;
}

static aval literal_str(inj_ctx *c, const tok *t) {
    size_t n = t->ilen < 4096 ? t->ilen : 4096;
    char *s = malloc(n + 1);
    if (!s) return av_opaque();
    if (t->inner < c->v->base || t->inner + n > sv_end(c->v)) n = 0;
    sv_copy(c->v, t->inner, n, s);
    s[n] = 0;
    aval a = av_const();
    av_scan_literal(&a, s, n);
    a.sid = pool_add(c, s, n);
    a.havestr = a.sid >= 0;
    if (sv_at(c->v, t->off) == '\'' && n == 1 && (c->lang == LANG_C || c->lang == LANG_JAVA)) {
        a.haveint = 1;
        a.ival = (uint8_t)s[0];
    }
    if (t->flags & TF_INTERP) {
        aval parts = av_const();
        if (c->lang == LANG_PHP || c->lang == LANG_SH || (t->flags & TF_CMD))
            parts = interp_dollar(c, s, n, t->inner, parts);
        if (c->lang == LANG_PY) parts = interp_braces(c, s, n, t->inner, 0, parts);
        else if (c->lang == LANG_RUBY) parts = interp_braces(c, s, n, t->inner, '#', parts);
        else parts = interp_braces(c, s, n, t->inner, '$', parts);
        if (parts.src != V_CONST || parts.call >= 0) {
            a = av_concat(c, a, parts);
            a.havestr = 0;
            a.sid = -1;
        }
    }
    free(s);
    if ((t->flags & TF_CMD) && c->hit) c->hit(c, K_SHELL, NULL, &a);
    return a;
}

/* ---- verdicts -------------------------------------------------------------- */

static aval resolve_one(inj_ctx *c, aval v, int final, int *pending);

/* Resolves v's unresolved call if its function is known (or final). */
static aval resolve_one(inj_ctx *c, aval v, int final, int *pending) {
    if (v.call < 0) return v;
    if ((size_t)v.call >= *c->ncalls) { v.call = -1; return v; }
    callrec rec = (*c->calls)[v.call];
    aval args[INJ_ARGS];
    for (int k = 0; k < rec.nargs; k++) {
        args[k] = resolve_one(c, rec.arg[k], final, pending);
        if (*pending) return v;
    }
    int ok = 0;
    aval r;
    if (!rec.fn[0]) {                    /* a join of two unresolved parts */
        r = av_join(c, args[0], args[1]);
        ok = 1;
    } else {
        r = c->depth < INJ_MAX_DEPTH ? call_user(c, rec.fn, args, rec.nargs, &ok) : av_opaque();
    }
    if (!ok) {
        if (!final) { *pending = 1; return v; }
        r = av_const();                  /* unknown function: its result follows its inputs */
        for (int k = 0; k < rec.nargs; k++) r = av_join(c, r, args[k]);
        if (r.src == V_CONST && !rec.nargs && !rec.method) r = av_opaque();
        r.dyn = 0;
    }
    aval base = v;
    base.call = -1;
    r.obj = -1;
    return v.lazycat ? av_concat(c, base, r) : av_join(c, base, r);
}

static int judge(int cat, const aval *v) {
    switch (cat) {
    case K_SQL:
        return !(v->clean & C_SQL) && (v->src == V_TAINT || (v->dyn && v->sqlish && v->src != V_CONST));
    case K_SHELL:
    case K_SHELL_ARGV:
        return !(v->clean & C_SHELL) && v->src != V_CONST;
    case K_CODE:
        return !(v->clean & C_CODE) && v->src != V_CONST;
    case K_PATH:
        return !(v->clean & C_PATH) && v->src == V_TAINT;
    case K_HTML:
        return !(v->clean & C_HTML) && (v->src == V_TAINT || (v->dyn && v->htmlish && v->src != V_CONST));
    case K_HTML_ASSIGN:
        return !(v->clean & C_HTML) && v->src != V_CONST;
    }
    return 0;
}

int verdict(inj_ctx *c, int cat, aval *v, int final) {
    if (judge(cat, v)) return 1;               /* the known part already decides */
    if (v->call < 0) return 0;
    int pending = 0;
    aval r = resolve_one(c, *v, final, &pending);
    if (pending) return -1;
    *v = r;
    return judge(cat, v);
}

/* ---- primary expressions ------------------------------------------------- */

static aval macro_value(inj_ctx *c, const char *name, int *found) {
    for (size_t k = 0; k < c->nmacro; k++) {
        if (!streq(c->macro[k][0], name)) continue;
        *found = 1;
        const char *val = c->macro[k][1];
        if (val[0] == '"' || (val[0] == 'L' && val[1] == '"')) {
            const char *q = strchr(val, '"') + 1;
            size_t n = strlen(q);
            if (n && q[n - 1] == '"') n--;
            aval a = av_const();
            av_scan_literal(&a, q, n);
            a.sid = pool_add(c, q, n);
            a.havestr = a.sid >= 0;
            return a;
        }
        if (isdigit((uint8_t)val[0])) {
            aval a = av_const();
            a.haveint = 1;
            a.ival = strtoll(val, NULL, 0);
            return a;
        }
        aval *v = var_find(c, val);
        if (v) return *v;
        return tab_source(c->lang, val, 0) ? av_taint() : av_opaque();
    }
    *found = 0;
    return av_opaque();
}

/* The name a macro stands for when it names a function (#define SYSTEM system). */
static const char *macro_alias(inj_ctx *c, const char *name) {
    for (size_t k = 0; k < c->nmacro; k++)
        if (streq(c->macro[k][0], name) && (isalpha((uint8_t)c->macro[k][1][0]) || c->macro[k][1][0] == '_'))
            return c->macro[k][1];
    return name;
}

static int looks_like_cast(inj_ctx *c) {
    /* ( Type [. Type]* [*]* [[ ]] ) followed by an operand */
    size_t k = c->i + 1;
    int idents = 0;
    while (k < c->nt) {
        const tok *t = &c->t[k];
        if (t->type == T_ID) { idents++; k++; continue; }
        if (t->type == T_OP && (tok_is(c, t, ".") || tok_is(c, t, "*") || tok_is(c, t, "::") ||
                                tok_is(c, t, "[") || tok_is(c, t, "]") || tok_is(c, t, "<") ||
                                tok_is(c, t, ">") || tok_is(c, t, ","))) { k++; continue; }
        break;
    }
    if (!idents || k >= c->nt || !is_op(c, &c->t[k], ")") || k + 1 >= c->nt) return 0;
    const tok *n = &c->t[k + 1];
    if (n->type == T_ID || n->type == T_STR || n->type == T_NUM) return (int)(k + 1 - c->i);
    if (n->type == T_OP && tok_is(c, n, "(")) return (int)(k + 1 - c->i);
    return 0;
}

static aval unary(inj_ctx *c);

static aval collection_literal(inj_ctx *c, const char *close, int is_map_hint) {
    c->i++;
    int id = obj_new(c, 0);                  /* a map once a key: value pair shows up */
    object *o = obj_get(c, id);
    aval all = av_const();
    while (c->i < c->nt && !at_op(c, close)) {
        if (peek(c)->type == T_NL || at_op(c, ",")) { c->i++; continue; }
        size_t from = c->i;
        aval k = eval_expr(c);
        if (at_op(c, ":") || at_op(c, "=>") || (at_op(c, "=") && is_map_hint)) {
            c->i++;
            aval v = eval_expr(c);
            o = obj_get(c, id);
            if (o) {
                o->is_map = 1;
                if (o->n < INJ_OBJ_SLOTS) { o->key[o->n] = k.sid; o->val[o->n++] = v; }
            }
            all = av_join(c, all, v);
        } else {
            o = obj_get(c, id);
            if (o && o->n < INJ_OBJ_SLOTS) o->val[o->n++] = k;
            all = av_join(c, all, k);
        }
        if (c->i == from) c->i++;
    }
    if (at_op(c, close)) c->i++;
    all.obj = id;
    all.havestr = all.haveint = 0;
    all.sid = -1;
    return all;
}

/* Member accesses, calls and indexing after a primary. known: v is a known
 * value (see call()). */
static aval postfix(inj_ctx *c, aval v, char *path, size_t pcap, int has_path, int known) {
    int has_recv = 0, recv_known = 0;
    aval recv = av_const();
    char recv_name[INJ_NAME] = "";
    for (;;) {
        const tok *t = peek(c);
        if (!t || t->type != T_OP || t->len > 2) break;
        char b[4];
        memcpy(b, &t->code, 4);           /* the operator's bytes, zero after its end */
        int member = t->len == 1 ? b[0] == '.'
                                 : (b[0] == '?' && b[1] == '.') || (b[0] == '-' && b[1] == '>') ||
                                       (b[0] == ':' && b[1] == ':');
        if (member && c->i + 1 < c->nt && c->t[c->i + 1].type == T_ID) {
            char w[INJ_NAME];
            tok_text(c, &c->t[c->i + 1], w, sizeof w);
            if (!has_recv) str_copy(recv_name, sizeof recv_name, path);
            recv = v;
            recv_known = known;
            has_recv = 1;
            path_push(path, pcap, w);
            c->i += 2;
            aval *kv = var_find(c, path);
            if (kv) v = *kv, known = 1;
            else if (tab_source(c->lang, path, 0)) v = av_taint(), known = 1;
            else { v.havestr = v.haveint = 0; v.sid = -1; v.obj = recv.obj; }
            continue;
        }
        int one = t->len == 1 ? b[0] : 0;
        if (one == '(' && (has_path || path[0])) {
            v = inj_call(c, path, recv, has_recv, recv_known, recv_name, 0);
            known = 1;
            recv_name[0] = 0;
            size_t pl = strlen(path);
            if (pl + 3 < pcap) strcat(path, "()");
            has_path = 1;
            continue;
        }
        if (one == '(') {                         /* calling a computed value */
            args_t *a = malloc(sizeof *a);
            c->i++;
            if (a) {
                inj_parse_args(c, a, ")");
                for (int k = 0; k < a->n; k++) v = av_join(c, v, a->v[k]);
                free(a);
            }
            continue;
        }
        if (one == '[') {
            c->i++;
            aval idx = eval_expr(c);
            while (c->i < c->nt && !at_op(c, "]")) c->i++;
            if (at_op(c, "]")) c->i++;
            object *o = obj_get(c, v.obj);
            if (o && !o->is_map && idx.haveint && idx.ival >= 0 && idx.ival < o->n) v = o->val[idx.ival];
            else if (o && o->is_map && idx.sid >= 0) {
                aval found = av_const();
                for (int k = 0; k < o->n; k++)
                    if (same_str(c, o->key[k], idx.sid)) found = o->val[k];
                v = found;
            } else {
                v.havestr = v.haveint = 0;
                v.sid = v.obj = -1;
            }
            continue;
        }
        if (one == '!' || (t->len == 2 && (b[0] == '+' || b[0] == '-') && b[1] == b[0])) {
            if (one == '!' && c->i + 1 < c->nt && is_op(c, &c->t[c->i + 1], "=")) break;
            c->i++;
            continue;
        }
        break;
    }
    return v;
}

static aval primary(inj_ctx *c) {
    const tok *t = peek(c);
    if (!t) return av_opaque();
    if (t->type == T_NUM) { c->i++; return postfix(c, literal_num(c, t), (char[2]){0}, 2, 0, 1); }
    if (t->type == T_STR) {
        c->i++;
        aval v = literal_str(c, t);
        /* adjacent literals concatenate (C, Python) */
        while (peek(c) && peek(c)->type == T_STR) v = av_concat(c, v, literal_str(c, &c->t[c->i++]));
        char path[256] = "";
        if (at_op(c, ".") || at_op(c, "->")) {
            return postfix(c, v, path, sizeof path, 1, 1);
        }
        return v;
    }
    if (t->type == T_ID) {
        char w[INJ_NAME];
        tok_text(c, t, w, sizeof w);
        if (streq(w, "true") || streq(w, "True") || streq(w, "TRUE")) {
            c->i++;
            aval a = av_const(); a.haveint = 1; a.ival = 1;
            return a;
        }
        if (streq(w, "false") || streq(w, "False") || streq(w, "FALSE") || streq(w, "null") ||
            streq(w, "None") || streq(w, "nil") || streq(w, "NULL") || streq(w, "undefined")) {
            c->i++;
            aval a = av_const(); a.haveint = 1; a.ival = 0;
            return a;
        }
        if (streq(w, "new")) {
            c->i++;
            if (peek(c) && peek(c)->type == T_ID) {
                char ty[INJ_NAME];
                tok_text(c, peek(c), ty, sizeof ty);
                /* skip package qualifiers and generics */
                while (c->i + 2 < c->nt && is_op(c, &c->t[c->i + 1], ".") && c->t[c->i + 2].type == T_ID) {
                    c->i += 2;
                    tok_text(c, peek(c), ty, sizeof ty);
                }
                c->i++;
                if (at_op(c, "<")) { while (c->i < c->nt && !at_op(c, ">")) c->i++; if (at_op(c, ">")) c->i++; }
                if (at_op(c, "[")) {                    /* new T[] {a, b} / new T[n] */
                    while (at_op(c, "[")) inj_skip_group(c);
                    if (at_op(c, "{")) return collection_literal(c, "}", 0);
                    return av_const();
                }
                int is_list = strstr(ty, "List") || strstr(ty, "Set") || strstr(ty, "Vector") ||
                              strstr(ty, "Queue") || strstr(ty, "Deque") || strstr(ty, "Stack");
                int is_map = strstr(ty, "Map") || strstr(ty, "Hashtable") || strstr(ty, "Properties");
                if ((is_list || is_map) && at_op(c, "(")) {
                    inj_skip_group(c);
                    aval a = av_const();
                    a.obj = obj_new(c, is_map);
                    return a;
                }
                char path[256];
                str_copy(path, sizeof path, ty);
                if (at_op(c, "(")) {
                    aval v = inj_call(c, path, av_const(), 0, 0, "", 1);
                    if (at_op(c, "{")) inj_skip_group(c);   /* anonymous class body */
                    snprintf(path, sizeof path, "new");
                    return postfix(c, v, path, sizeof path, 1, 1);
                }
                return av_opaque();
            }
            return av_opaque();
        }
        if (streq(w, "this") || streq(w, "self") || streq(w, "$this") || streq(w, "super")) {
            c->i++;                                    /* the object itself is no data */
            char path[256];
            str_copy(path, sizeof path, w);
            return postfix(c, av_const(), path, sizeof path, 1, 1);
        }
        if (streq(w, "lambda")) {                    /* lambda params: body */
            while (c->i < c->nt && !at_op(c, ":")) c->i++;
            if (at_op(c, ":")) { c->i++; (void)eval_expr(c); }
            return av_opaque();
        }
        if (streq(w, "function") || streq(w, "func") || streq(w, "fn")) {
            /* an inline function: its body is analysed as statements */
            while (c->i < c->nt && !at_stop(c)) {
                if (at_op(c, "(") || at_op(c, "[") || at_op(c, "{")) inj_skip_group(c);
                else c->i++;
            }
            return av_opaque();
        }
        c->i++;
        const char *name = c->lang == LANG_C ? macro_alias(c, w) : w;
        char path[256];
        str_copy(path, sizeof path, name);
        aval v;
        aval *kv = var_find(c, path);
        int found = 0, known = 1;
        if (kv) v = *kv;
        else if (c->lang == LANG_C && (v = macro_value(c, w, &found), found)) {}
        else if (tab_source(c->lang, path, 0)) v = av_taint();
        else v = av_opaque(), known = 0;
        return postfix(c, v, path, sizeof path, 1, known);
    }
    if (t->type == T_OP) {
        if (tok_is(c, t, "(")) {
            int cast = looks_like_cast(c);
            if (cast) { c->i += (size_t)cast; return unary(c); }
            c->i++;
            aval v = av_const();
            int first = 1;
            while (c->i < c->nt && !at_op(c, ")")) {
                if (at_op(c, ",") || peek(c)->type == T_NL) { c->i++; continue; }
                size_t from = c->i;
                aval e = eval_expr(c);
                v = first ? e : av_join(c, v, e);
                first = 0;
                if (c->i == from) c->i++;
            }
            if (at_op(c, ")")) c->i++;
            if (at_op(c, "=>")) {                      /* arrow function */
                c->i++;
                if (at_op(c, "{")) inj_skip_group(c); else (void)eval_expr(c);
                return av_opaque();
            }
            char path[256] = "";
            return postfix(c, v, path, sizeof path, 0, 1);
        }
        if (tok_is(c, t, "[")) return collection_literal(c, "]", 0);
        if (tok_is(c, t, "{")) return collection_literal(c, "}", 1);
        if (tok_is(c, t, "@")) { c->i++; return primary(c); }
    }
    c->i++;
    return av_opaque();
}

static aval unary(inj_ctx *c) {
    const tok *t = peek(c);
    if (!t) return av_opaque();
    if (t->type == T_OP && (tok_is(c, t, "!") || tok_is(c, t, "-") || tok_is(c, t, "~") ||
                            tok_is(c, t, "+") || tok_is(c, t, "*") || tok_is(c, t, "&") ||
                            tok_is(c, t, "...") || tok_is(c, t, "**") || tok_is(c, t, "++") ||
                            tok_is(c, t, "--"))) {
        int neg = tok_is(c, t, "-"), not = tok_is(c, t, "!");
        c->i++;
        aval v = unary(c);
        if (v.haveint && neg) v.ival = -v.ival;
        if (not) {
            aval b = av_const();
            if (v.haveint) { b.haveint = 1; b.ival = !v.ival; }
            return b;
        }
        return v;
    }
    if (t->type == T_ID) {
        char w[INJ_NAME];
        tok_text(c, t, w, sizeof w);
        if (streq(w, "not")) {
            c->i++;
            aval v = unary(c), b = av_const();
            if (v.haveint) { b.haveint = 1; b.ival = !v.ival; }
            return b;
        }
        if (streq(w, "await") || streq(w, "typeof") || streq(w, "yield") || streq(w, "void") ||
            streq(w, "delete") || streq(w, "await")) {
            c->i++;
            aval v = unary(c);
            return streq(w, "typeof") ? av_const() : v;
        }
    }
    return primary(c);
}

/* ---- binary operators --------------------------------------------------------- */

/* Precedence of the binary operator b[0..n) (n ≤ 3, b zero after it), 0 if
 * it is none: || ?? 1, && 2, | 3, ^ 4, & 5, == != === !== < > <= >= <=> 6,
 * << >> 7, + - . 8, * / % 9, ** 10. A switch on the first byte: this runs
 * after every operand. */
static int binop_prec(const char *b, int n) {
    switch (b[0]) {
    case '|': return n == 1 ? 3 : n == 2 && b[1] == '|' ? 1 : 0;
    case '?': return n == 2 && b[1] == '?' ? 1 : 0;
    case '&': return n == 1 ? 5 : n == 2 && b[1] == '&' ? 2 : 0;
    case '^': return n == 1 ? 4 : 0;
    case '=': case '!': return b[1] == '=' && (n == 2 || (n == 3 && b[2] == '=')) ? 6 : 0;
    case '<':
        if (n == 1) return 6;
        if (n == 2) return b[1] == '=' ? 6 : b[1] == '<' ? 7 : 0;
        return b[1] == '=' && b[2] == '>' ? 6 : 0;
    case '>':
        if (n == 1) return 6;
        return n == 2 ? (b[1] == '=' ? 6 : b[1] == '>' ? 7 : 0) : 0;
    case '+': case '-': case '.': return n == 1 ? 8 : 0;
    case '*': return n == 1 ? 9 : n == 2 && b[1] == '*' ? 10 : 0;
    case '/': case '%': return n == 1 ? 9 : 0;
    default: return 0;
    }
}

static int binop(inj_ctx *c, char *op) {
    const tok *t = peek(c);
    if (!t) return 0;
    if (t->type == T_ID) {
        if (tok_is(c, t, "or")) { strcpy(op, "||"); return 1; }
        if (tok_is(c, t, "and")) { strcpy(op, "&&"); return 2; }
        if (tok_is(c, t, "in") || tok_is(c, t, "is") || tok_is(c, t, "instanceof")) { strcpy(op, "=="); return 6; }
        return 0;
    }
    if (t->type != T_OP || t->len > 3) return 0;
    char b[4];
    memcpy(b, &t->code, 4);       /* the operator's bytes, zero after its end */
    int n = (int)t->len;
    if (n == 1 && b[0] == '.' && c->lang != LANG_PHP) return 0;
    if (n == 2 && b[0] == '.' && b[1] == '.' && c->lang == LANG_LUA) { strcpy(op, "."); return 8; }
    int prec = binop_prec(b, n);
    if (prec) {
        memcpy(op, b, (size_t)n);
        op[n] = 0;
    }
    return prec;
}

static aval apply(inj_ctx *c, const char *op, aval a, aval b) {
    int ints = a.haveint && b.haveint;
    aval r = av_const();
    if (streq(op, "||") || streq(op, "&&") || streq(op, "??")) {
        if (ints) {
            r.haveint = 1;
            r.ival = streq(op, "&&") ? (a.ival && b.ival) : (a.ival || b.ival);
            return r;
        }
        if (streq(op, "&&")) return av_const();
        return av_join(c, a, b);
    }
    if (strchr("=!<>", op[0]) && !streq(op, "<<") && !streq(op, ">>")) {
        int cmp = 2;
        if (ints) cmp = a.ival < b.ival ? -1 : a.ival > b.ival;
        else if (a.havestr && b.havestr) cmp = strcmp(pool_str(c, a.sid), pool_str(c, b.sid));
        if (cmp != 2) {
            r.haveint = 1;
            if (streq(op, "==") || streq(op, "===")) r.ival = cmp == 0;
            else if (streq(op, "!=") || streq(op, "!==")) r.ival = cmp != 0;
            else if (streq(op, "<")) r.ival = cmp < 0;
            else if (streq(op, ">")) r.ival = cmp > 0;
            else if (streq(op, "<=")) r.ival = cmp <= 0;
            else if (streq(op, ">=")) r.ival = cmp >= 0;
            else r.ival = cmp;
        }
        return r;
    }
    if (streq(op, "+") || streq(op, ".")) {
        if (ints && op[0] == '+') { r.haveint = 1; r.ival = a.ival + b.ival; return r; }
        return av_concat(c, a, b);
    }
    if (streq(op, "%") && (a.havestr || a.sqlish || a.htmlish) && c->lang == LANG_PY) {
        return av_concat(c, a, inj_expand(c, b));            /* "..." % args */
    }
    if (ints) {
        r.haveint = 1;
        switch (op[0]) {
        case '-': r.ival = a.ival - b.ival; break;
        case '*': r.ival = op[1] ? a.ival : a.ival * b.ival; break;
        case '/': r.ival = b.ival ? a.ival / b.ival : 0; break;
        case '%': r.ival = b.ival ? a.ival % b.ival : 0; break;
        case '&': r.ival = a.ival & b.ival; break;
        case '|': r.ival = a.ival | b.ival; break;
        case '^': r.ival = a.ival ^ b.ival; break;
        case '<': r.ival = a.ival << (b.ival & 63); break;
        case '>': r.ival = a.ival >> (b.ival & 63); break;
        default: r.haveint = 0;
        }
        return r;
    }
    return r;                                            /* arithmetic: a number */
}

static aval binary(inj_ctx *c, int minprec) {
    aval a = unary(c);
    char op[8];
    int prec;
    while ((prec = binop(c, op)) >= minprec && prec > 0) {
        c->i++;
        aval b = binary(c, prec + 1);
        a = apply(c, op, a, b);
    }
    return a;
}

aval eval_expr(inj_ctx *c) {
    if (c->i >= c->nt) return av_opaque();
    int guards = c->guard_mask;
    c->guard_mask = 0;
    aval a = binary(c, 1);
    int checked = c->guard_mask;
    c->guard_mask |= guards;
    if (at_op(c, "?") && c->lang != LANG_PY) {
        c->i++;
        aval b = eval_expr(c);
        if (checked) b.clean |= (uint8_t)checked;      /* cond ? checked value : default */
        if (at_op(c, ":")) c->i++;
        aval d = eval_expr(c);
        return a.haveint ? (a.ival ? b : d) : av_join(c, b, d);
    }
    if (c->lang == LANG_PY && at_word(c, "if")) {
        c->i++;
        aval cond = binary(c, 1);
        aval d = av_const();
        if (at_word(c, "else")) { c->i++; d = eval_expr(c); }
        return cond.haveint ? (cond.ival ? a : d) : av_join(c, a, d);
    }
    return a;
}

aval eval_range(inj_ctx *c, size_t from, size_t to) {
    size_t snt = c->nt;
    c->i = from;
    c->nt = to;
    aval v = av_const();
    int first = 1;
    while (c->i < c->nt) {
        if (at_op(c, ",") || peek(c)->type == T_NL) { c->i++; continue; }
        size_t before = c->i;
        aval e = eval_expr(c);
        v = first ? e : av_join(c, v, e);
        first = 0;
        if (c->i == before) c->i++;
    }
    c->nt = snt;
    return v;
}
