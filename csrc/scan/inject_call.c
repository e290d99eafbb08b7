/* inject_call.c — calls: arguments, containers, builders, sources and
 * sanitisers, sinks, user functions.
 *
 * A call's value follows the tables (inject_tab.c): sources give user input,
 * sanitisers clean a value for some sink categories, string builders
 * concatenate their arguments, list/map methods work on the container
 * models, C functions write through out-parameters, and calls to user
 * functions are evaluated over the stored body (or recorded until the
 * definition arrives). Each call is then checked against the sinks of its
 * language, with the argument the sink reads (query, command, path, code,
 * markup).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/inject_int.h"

static int c_type_word(const char *w) {
    static const char *const t[] = {"char", "wchar_t", "int", "unsigned", "signed", "long", "short",
                                    "void", "const", "struct", "size_t", "float", "double", "TCHAR",
                                    "uint8_t", "int8_t", "LPSTR", "LPWSTR", NULL};
    for (int i = 0; t[i]; i++)
        if (streq(w, t[i])) return 1;
    return 0;
}

/* The variable an argument names first, past casts: "(char *)(data + n)" -> data. */
static void first_var(inj_ctx *c, size_t from, size_t to, char *out) {
    out[0] = 0;
    for (size_t k = from; k < to; k++) {
        const tok *t = &c->t[k];
        if (t->type != T_ID) continue;
        char w[INJ_NAME];
        tok_text(c, t, w, sizeof w);
        if (tab_keyword(w) || c_type_word(w)) continue;
        if (k + 1 < to && (is_op(c, &c->t[k + 1], ")") || is_op(c, &c->t[k + 1], "*")) && k > from &&
            is_op(c, &c->t[k - 1], "(") && (c->lang == LANG_C || c->lang == LANG_JAVA))
            continue;                             /* a cast to a named type */
        str_copy(out, INJ_NAME, w);
        return;
    }
}

void inj_parse_args(inj_ctx *c, args_t *a, const char *close) {
    a->n = 0;
    a->shell_true = 0;
    while (c->i < c->nt && !at_op(c, close)) {
        const tok *t = peek(c);
        if (t->type == T_NL) { c->i++; continue; }
        /* keyword argument name= */
        if (t->type == T_ID && c->i + 1 < c->nt && is_op(c, &c->t[c->i + 1], "=")) {
            char w[INJ_NAME];
            tok_text(c, t, w, sizeof w);
            c->i += 2;
            size_t from = c->i;
            aval v = eval_expr(c);
            if (streq(w, "shell") && v.haveint && v.ival) a->shell_true = 1;
            if (a->n < MAXARGS) {
                a->v[a->n] = v;
                first_var(c, from, c->i, a->base[a->n]);
                str_copy(a->kw[a->n], sizeof a->kw[0], w);
                a->n++;
            }
        } else {
            size_t from = c->i;
            aval v = eval_expr(c);
            if (a->n < MAXARGS) {
                a->v[a->n] = v;
                first_var(c, from, c->i, a->base[a->n]);
                a->kw[a->n][0] = 0;
                a->n++;
            }
            if (c->i == from) c->i++;             /* never stall on odd tokens */
        }
        if (at_op(c, ",")) c->i++;
    }
    if (at_op(c, close)) c->i++;
}

/* Joins a list model's elements into the value (argument vectors). */
aval inj_expand(inj_ctx *c, aval v) {
    object *o = obj_get(c, v.obj);
    if (!o) return v;
    aval r = v;
    r.obj = -1;
    for (int k = 0; k < o->n; k++) r = av_join(c, r, o->val[k]);
    return r;
}

/* Container methods on a list/map model; returns 1 when handled. */
static int container(inj_ctx *c, const char *callee, aval *recv, args_t *a, aval *out) {
    object *o = obj_get(c, recv->obj);
    if (!o) return 0;
    int mutates = streq(callee, "put") || streq(callee, "setdefault") || streq(callee, "add") ||
                  streq(callee, "append") || streq(callee, "push") || streq(callee, "addLast") ||
                  streq(callee, "offer") || streq(callee, "remove");
    if (mutates && c->dead) { *out = av_const(); return 1; }
    if ((streq(callee, "put") || streq(callee, "setdefault")) && a->n >= 2 && o->is_map) {
        int k;
        for (k = 0; k < o->n && !same_str(c, o->key[k], a->v[0].sid); k++) {}
        if (k == o->n && o->n < INJ_OBJ_SLOTS) o->n++;
        if (k < INJ_OBJ_SLOTS) { o->key[k] = a->v[0].sid; o->val[k] = a->v[1]; }
        *out = av_opaque();
        return 1;
    }
    if ((streq(callee, "add") || streq(callee, "append") || streq(callee, "push") ||
         streq(callee, "addLast") || streq(callee, "offer")) && !o->is_map && a->n >= 1) {
        if (a->n == 2 && a->v[0].haveint && a->v[0].ival >= 0 && a->v[0].ival <= o->n && o->n < INJ_OBJ_SLOTS) {
            int at = (int)a->v[0].ival;
            memmove(&o->val[at + 1], &o->val[at], (size_t)(o->n - at) * sizeof o->val[0]);
            o->val[at] = a->v[1];
            o->n++;
        } else if (o->n < INJ_OBJ_SLOTS) {
            o->val[o->n++] = a->v[a->n - 1];
        } else {
            o->val[INJ_OBJ_SLOTS - 1] = av_join(c, o->val[INJ_OBJ_SLOTS - 1], a->v[a->n - 1]);
        }
        *out = av_const();
        return 1;
    }
    if (streq(callee, "remove") && !o->is_map && a->n == 1 && a->v[0].haveint) {
        int at = (int)a->v[0].ival;
        if (at >= 0 && at < o->n) {
            *out = o->val[at];
            memmove(&o->val[at], &o->val[at + 1], (size_t)(o->n - at - 1) * sizeof o->val[0]);
            o->n--;
            return 1;
        }
    }
    if (streq(callee, "get") || streq(callee, "getOrDefault") || streq(callee, "pop") ||
        streq(callee, "elementAt")) {
        if (o->is_map && a->n >= 1 && a->v[0].sid >= 0) {
            for (int k = 0; k < o->n; k++)
                if (same_str(c, o->key[k], a->v[0].sid)) { *out = o->val[k]; return 1; }
            *out = a->n >= 2 ? a->v[1] : av_const();
            return 1;
        }
        if (!o->is_map && a->n >= 1 && a->v[0].haveint) {
            long at = (long)a->v[0].ival;
            if (at < 0) at += o->n;
            if (at >= 0 && at < o->n) { *out = o->val[at]; return 1; }
        }
    }
    return 0;
}

/* Marks C out-parameters that receive user input. */
static void out_params(inj_ctx *c, const char *callee, args_t *a) {
    static const struct { const char *fn; int arg; } outs[] = {
        {"fgets", 0}, {"fgetws", 0}, {"gets", 0}, {"gets_s", 0}, {"getline", 0}, {"fread", 0},
        {"recv", 1}, {"recvfrom", 1}, {"read", 1}, {"scanf", 1}, {"wscanf", 1}, {"fscanf", 2},
        {"fwscanf", 2}, {"getdelim", 0}, {"ReadFile", 1},
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        if (!streq(callee, outs[i].fn)) continue;
        for (int k = outs[i].arg; k < a->n; k++) {
            if (a->base[k][0]) var_set(c, a->base[k], av_taint());
            if (!streq(callee, "scanf") && !streq(callee, "wscanf") && !streq(callee, "fscanf") &&
                !streq(callee, "fwscanf"))
                break;
        }
    }
}

/* C string builders that write their first argument. */
static int c_builder(inj_ctx *c, const char *callee, args_t *a, aval *out) {
    int cat = streq(callee, "strcat") || streq(callee, "strncat") || streq(callee, "wcscat") ||
              streq(callee, "wcsncat");
    int cpy = streq(callee, "strcpy") || streq(callee, "strncpy") || streq(callee, "wcscpy") ||
              streq(callee, "wcsncpy") || streq(callee, "memcpy") || streq(callee, "memmove");
    int fmt = streq(callee, "sprintf") || streq(callee, "snprintf") ||
              streq(callee, "swprintf") || streq(callee, "vsprintf") ||
              streq(callee, "vsnprintf") || streq(callee, "_snprintf") || streq(callee, "_snwprintf");
    if (!(cat || cpy || fmt) || a->n < 2 || !a->base[0][0]) return 0;
    aval *dst = var_find(c, a->base[0]);
    aval v;
    if (cat) {
        v = av_concat(c, dst ? *dst : av_const(), a->v[1]);
    } else if (cpy) {
        v = a->v[1];
    } else {
        int first = streq(callee, "sprintf") || streq(callee, "vsprintf") ? 1 : 2;
        v = av_const();
        for (int k = first; k < a->n; k++) v = av_concat(c, v, a->v[k]);
    }
    int weak = c->weak;
    c->weak = 0;
    var_set(c, a->base[0], v);
    c->weak = weak;
    *out = v;
    return 1;
}

/* A receiver that looks like a query builder (query.filter, Model.objects.extra). */
static int query_path(const char *path) {
    static const char *const n[] = {"query", "objects", "session", "select", "stmt", "sqlalchemy",
                                    "db.", "cursor", NULL};
    for (int i = 0; n[i]; i++)
        if (strstr(path, n[i])) return 1;
    return 0;
}

static int implicit_sql(const char *callee) {
    static const char *const n[] = {"text", "having", "group_by", "order_by", "filter", "distinct",
                                    "extra", "raw", "RawSQL", "where", "find_by_sql", NULL};
    for (int i = 0; n[i]; i++)
        if (streq(callee, n[i])) return 1;
    return 0;
}

/* A program started with an argument vector: the program itself must be a
 * literal, and when it is a shell ("sh -c") so must the script. */
static aval argv_value(inj_ctx *c, args_t *a, int q) {
    aval prog = av_const(), rest = av_const();
    int shell = 0;
    for (int j = q; j < a->n; j++) {
        object *o = obj_get(c, a->v[j].obj);
        int nel = o ? o->n : 1;
        for (int e = 0; e < nel; e++) {
            aval x = o ? o->val[e] : a->v[j];
            if (o) { x.dyn |= a->v[j].dyn; }
            shell |= x.shellish;
            if (j == q && e == 0) prog = x;
            else rest = av_join(c, rest, x);
        }
        if (o && o->n == 0) rest = av_join(c, rest, a->v[j]);
    }
    if (prog.src != V_CONST || prog.call >= 0) return prog;
    if (shell && (rest.src != V_CONST || rest.call >= 0)) return rest;
    return av_const();
}

static void check_sinks(inj_ctx *c, const char *callee, const char *path, args_t *a, aval recv) {
    const sink_def *s[4];
    int n = tab_sink(c->lang, callee, path, s);
    for (int k = 0; k < n; k++) {
        int cat = s[k]->cat, q = s[k]->arg;
        const char *msg = s[k]->msg;
        if (cat == K_SHELL_ARGV && a->shell_true) cat = K_SHELL;
        if (q >= a->n && !(cat == K_HTML && streq(callee, "html_safe"))) continue;
        /* Python builtins, not methods of the same name (re.compile, tn.open, query.filter) */
        if (c->lang == LANG_PY && strchr(path, '.') &&
            (streq(callee, "compile") || streq(callee, "exec") || streq(callee, "eval") ||
             (streq(callee, "open") && !streq(path, "io.open") && !streq(path, "os.open") &&
              !streq(path, "codecs.open"))))
            continue;
        if (cat == K_SQL && implicit_sql(callee) && !streq(callee, "text") && !query_path(path)) continue;
        aval v = q < a->n ? a->v[q] : recv;
        switch (cat) {
        case K_SQL:
            for (int j = q; j < a->n; j++)              /* the query: the first SQL-like argument */
                if (a->v[j].sqlish || a->v[j].dyn) { v = a->v[j]; break; }
            if (implicit_sql(callee) && !v.havestr) v.sqlish = 1;
            break;
        case K_SHELL:
            if (streq(callee, "BashOperator")) {      /* Airflow: the bash_command argument */
                v = av_const();
                for (int j = 0; j < a->n; j++)
                    if (streq(a->kw[j], "bash_command")) v = a->v[j];
            } else if (c->lang == LANG_JAVA || path[0] == 's') {
                v = av_const();                        /* every argument is part of the command */
                for (int j = q; j < a->n; j++) v = av_join(c, v, inj_expand(c, a->v[j]));
            } else {
                v = inj_expand(c, v);
            }
            break;
        case K_SHELL_ARGV:
            v = argv_value(c, a, q);
            break;
        case K_CODE:
            if (streq(callee, "setTimeout") || streq(callee, "setInterval") || streq(callee, "run")) {
                if (!v.dyn && v.src != V_TAINT) continue;  /* a function, not a string */
            } else if (streq(callee, "Function")) {
                v = a->v[a->n - 1];
            }
            break;
        case K_HTML:
            if (streq(callee, "html") || streq(callee, "append") || streq(callee, "prepend")) {
                if (path[0] != '$' && strncmp(path, "jQuery", 6)) continue;
                if (v.src != V_CONST) v.htmlish = 1, v.dyn = 1;
            } else if (streq(callee, "write") || streq(callee, "print") || streq(callee, "println")) {
                if ((c->lang == LANG_JAVA && !strstr(path, "getWriter")) ||
                    (c->lang == LANG_JS && !strstr(path, "document")))
                    continue;
            } else if (streq(callee, "send") || streq(callee, "end")) {
                if (strncmp(path, "res.", 4) && strncmp(path, "response.", 9)) continue;
            } else if (streq(callee, "Fprintf")) {
                v = av_const();
                for (int j = q; j < a->n; j++) v = av_concat(c, v, a->v[j]);
            } else if (streq(callee, "render")) {      /* template.render(x=input) */
                if (!strchr(path, '.')) continue;        /* Django's render() escapes */
                v = av_const();
                for (int j = q; j < a->n; j++) v = av_join(c, v, a->v[j]);
                if (v.src != V_TAINT) continue;
            } else if (streq(callee, "$") || streq(callee, "jQuery")) {
                if (!v.dyn && v.src != V_TAINT) continue; /* selector built from data */
                v.htmlish = 1;
                v.dyn = 1;
            }
            break;
        }
        inj_sink(c, cat, msg, v);
    }
}

/* Builds the value of a call; path is the dotted callee ("os.path.join"),
 * recv the receiver's value (has_recv) and recv_known whether that value is
 * known (a variable, literal or input) rather than a module or class name;
 * ctor: a constructor (new T(...)). */
aval inj_call(inj_ctx *c, const char *path, aval recv, int has_recv, int recv_known,
              const char *recv_name, int ctor) {
    const char *dot = strrchr(path, '.');
    const char *callee = dot ? dot + 1 : path;
    args_t *a = malloc(sizeof *a);
    if (!a) return av_opaque();
    c->i++;                                       /* "(" */
    inj_parse_args(c, a, ")");
    aval out = av_opaque();
    int mask;
    if (tab_source(c->lang, path, 1) && !streq(callee, "read")) {
        out = av_taint();
    } else if (c->lang == LANG_C && c_builder(c, callee, a, &out)) {
        /* out set */
    } else if (has_recv && container(c, callee, &recv, a, &out)) {
        /* out set */
    } else if ((mask = tab_sanitizer(c->lang, callee)) != 0) {
        out = has_recv && !a->n ? recv : av_const();
        for (int k = 0; k < a->n; k++) out = av_join(c, out, a->v[k]);
        if (mask == C_ALL) out = av_const();
        else { out.clean |= (uint8_t)mask; out.call = -1; }
        out.obj = -1;
    } else if (streq(callee, "charAt") && recv.havestr && a->n == 1 && a->v[0].haveint) {
        const char *s = pool_str(c, recv.sid);
        out = av_const();
        if (a->v[0].ival >= 0 && (size_t)a->v[0].ival < strlen(s)) {
            out.haveint = 1;
            out.ival = (uint8_t)s[a->v[0].ival];
        }
    } else if (tab_constant(callee)) {
        out = av_const();
    } else if (tab_builder(callee)) {
        out = has_recv ? recv : av_const();
        out.obj = -1;
        for (int k = 0; k < a->n; k++) out = av_concat(c, out, inj_expand(c, a->v[k]));
        if (streq(callee, "append") && has_recv && recv_name[0]) var_set(c, recv_name, out);
    } else {
        int ok = ctor;
        if (ctor) {                                /* a new object holds its arguments */
            out = av_const();
            for (int k = 0; k < a->n; k++) out = av_join(c, out, inj_expand(c, a->v[k]));
            out.obj = -1;
            out.havestr = out.haveint = 0;
            out.sid = -1;
        } else if (!has_recv || !strncmp(path, "this.", 5) || !strncmp(path, "self.", 5) ||
            !strncmp(path, "$this", 5) || !strncmp(path, "new.", 4)) {
            aval args[INJ_ARGS];
            int n = a->n < INJ_ARGS ? a->n : INJ_ARGS;
            for (int k = 0; k < n; k++) args[k] = a->v[k];
            if (c->depth < INJ_MAX_DEPTH) out = call_user(c, callee, args, n, &ok);
            else call_capped(c, callee);
            if (!ok && *c->ncalls < 4096 && !tab_sink(c->lang, callee, path, (const sink_def *[4]){0})) {
                aval ex[INJ_ARGS];                /* first: expanding may add records */
                for (int k = 0; k < n; k++) {
                    ex[k] = inj_expand(c, args[k]);
                    ex[k].sid = -1;
                    ex[k].havestr = 0;
                }
                if (*c->ncalls == *c->ccalls) {
                    size_t nc = *c->ccalls ? *c->ccalls * 2 : 64;
                    callrec *q = realloc(*c->calls, nc * sizeof *q);
                    if (q) { *c->calls = q; *c->ccalls = nc; }
                }
                if (*c->ncalls < *c->ccalls) {
                    callrec *r = &(*c->calls)[*c->ncalls];
                    memset(r, 0, sizeof *r);
                    str_copy(r->fn, sizeof r->fn, callee);
                    r->method = has_recv;
                    r->nargs = n;
                    memcpy(r->arg, ex, (size_t)n * sizeof *ex);
                    out = av_const();
                    out.call = (int)(*c->ncalls)++;
                    ok = 1;
                }
            }
        }
        if (!ok) {
            /* library call: the result follows its arguments, and the
             * receiver only when that is user input */
            int from_recv = has_recv && recv_known && recv.src == V_TAINT;
            out = from_recv ? recv : av_const();
            out.obj = -1;
            for (int k = 0; k < a->n; k++) out = av_join(c, out, inj_expand(c, a->v[k]));
            if (!a->n && !from_recv && !(has_recv && recv_known)) out.src = V_OPAQUE;
            out.havestr = out.haveint = 0;
            out.sid = -1;
            out.dyn = from_recv ? recv.dyn : 0;
        }
    }
    if (c->lang == LANG_C || c->lang == LANG_ANY) out_params(c, callee, a);
    int g = tab_guard(callee);
    if (g) {
        c->guard_mask |= g;
        str_copy(c->guard_var, sizeof c->guard_var, has_recv && recv_name[0] ? recv_name :
                                                          a->n ? a->base[0] : "");
    }
    check_sinks(c, callee, path, a, recv);
    free(a);
    return out;
}
