/* inject_lex.c — a forgiving, resumable lexer for the languages the
 * injection analyser reads: identifiers, numbers, strings (with prefixes,
 * triple quotes, raw strings, template literals, command substitution),
 * operators, newlines and C preprocessor lines; comments are skipped.
 *
 * lex_next() never reads past what it needs: when a token may continue past
 * the received bytes it returns 0 with the view's need flag set, and the
 * next call resumes (inside a long string or block comment it resumes where
 * it stopped, so long tokens cost linear time).
 */
#include <string.h>

#include "scan/inject_int.h"

enum { M_CODE, M_STR, M_BCOM };

int inj_lang(const char *ft) {
    static const struct { const char *ft; int lang; } map[] = {
        {"c", LANG_C}, {"cpp", LANG_C}, {"objc", LANG_C}, {"cuda", LANG_C}, {"h", LANG_C},
        {"java", LANG_JAVA}, {"kotlin", LANG_JAVA}, {"scala", LANG_JAVA}, {"cs", LANG_JAVA},
        {"javascript", LANG_JS}, {"typescript", LANG_JS}, {"javascriptreact", LANG_JS},
        {"typescriptreact", LANG_JS}, {"js", LANG_JS}, {"ts", LANG_JS}, {"jsx", LANG_JS},
        {"tsx", LANG_JS}, {"vue", LANG_JS}, {"svelte", LANG_JS},
        {"go", LANG_GO}, {"python", LANG_PY}, {"py", LANG_PY}, {"ruby", LANG_RUBY}, {"rb", LANG_RUBY},
        {"php", LANG_PHP}, {"sh", LANG_SH}, {"bash", LANG_SH}, {"zsh", LANG_SH}, {"ksh", LANG_SH},
        {"lua", LANG_LUA},
    };
    if (!ft) return LANG_ANY;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(ft, map[i].ft)) return map[i].lang;
    return LANG_ANY;
}

void lex_init(lexer *lx, int lang, size_t start) {
    memset(lx, 0, sizeof *lx);
    lx->lang = lang;
    lx->pos = start;
    lx->line0 = 1;
}

static int c_comments(int lang) {
    return lang == LANG_C || lang == LANG_JAVA || lang == LANG_JS || lang == LANG_GO ||
           lang == LANG_PHP || lang == LANG_ANY;
}
static int hash_comments(int lang) {
    return lang == LANG_PY || lang == LANG_RUBY || lang == LANG_SH || lang == LANG_PHP;
}
static int is_idc(int c, int lang) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80 || (c == '$' && (lang == LANG_JS || lang == LANG_PHP || lang == LANG_ANY));
}

/* Block comment end marker for the current comment ("*" "/", "]]", "=end"). */
static int scan_bcomment(lexer *lx, scan_view *v) {
    size_t p = lx->pos;
    const char *end = lx->delim;
    size_t el = strlen(end);
    for (;;) {
        int c = sv_at(v, p);
        if (c < 0) { lx->pos = p; return v->need ? 0 : 1; }
        if (c == (uint8_t)end[0] && sv_lit(v, p, end, 0)) { lx->pos = p + el; return 1; }
        if (c == (uint8_t)end[0] && v->need) { lx->pos = p; return 0; }
        p++;
    }
}

/* Continues a string; returns 1 when it ended (token in *t), 0 on need. */
static int scan_string(lexer *lx, scan_view *v, tok *t) {
    size_t p = lx->pos;
    int raw = t->flags & TF_RAW;
    for (;;) {
        int c = sv_at(v, p);
        if (c < 0) {
            if (v->need) { lx->pos = p; return 0; }
            break;                                  /* unterminated at end of text */
        }
        if (lx->delim[0]) {                         /* C++ raw / Lua long string */
            if (c == (uint8_t)lx->delim[0] && sv_lit(v, p, lx->delim, 0)) {
                t->ilen = (uint32_t)(p - t->inner);
                p += strlen(lx->delim);
                goto done;
            }
            if (v->need) { lx->pos = p; return 0; }
            p++;
            continue;
        }
        if (c == '\\' && !raw) {
            if (sv_at(v, p + 1) < 0 && v->need) { lx->pos = p; return 0; }
            p += sv_at(v, p + 1) < 0 ? 1 : 2;        /* a backslash may end the text */
            continue;
        }
        if ((lx->interp == '{' && c == '$') || (lx->interp == '#' && c == '#')) {
            int d = sv_at(v, p + 1);
            if (d < 0 && v->need) { lx->pos = p; return 0; }
            if (d == '{') { lx->depth++; p += 2; continue; }
        }
        if (lx->depth && c == '{') { lx->depth++; p++; continue; }
        if (lx->depth && c == '}') { lx->depth--; p++; continue; }
        if (!lx->depth && c == lx->quote) {
            if (!lx->triple) { t->ilen = (uint32_t)(p - t->inner); p++; goto done; }
            if (sv_at(v, p + 1) == c && sv_at(v, p + 2) == c) { t->ilen = (uint32_t)(p - t->inner); p += 3; goto done; }
            if (v->need) { lx->pos = p; return 0; }
        }
        if (c == '\n' && !lx->triple && !lx->depth && lx->quote != '`' &&
            (lx->lang == LANG_C || lx->lang == LANG_JAVA || lx->lang == LANG_JS || lx->lang == LANG_PY ||
             lx->lang == LANG_GO))
            break;                                  /* unterminated on this line */
        p++;
    }
    t->ilen = (uint32_t)(p - t->inner);
done:
    t->len = (uint32_t)(p - t->off);
    lx->pos = p;
    lx->mode = M_CODE;
    lx->delim[0] = 0;
    return 1;
}

/* Length of the operator that starts with bytes c, c1, c2 (-1: no byte):
 * the three-byte operators === !== **= <<= >>= ... <=> ??=, the two-byte
 * -> => == != <= >= && || ++ -- += -= *= /= %= |= &= ^= :: := << >> ** ?. ?? <- .=,
 * else 1. (A switch: '.' alone starts most operators in code.) */
static uint32_t op_len(int c, int c1, int c2) {
    switch (c) {
    case '=': return c1 == '=' ? (c2 == '=' ? 3 : 2) : c1 == '>' ? 2 : 1;
    case '!': return c1 == '=' ? (c2 == '=' ? 3 : 2) : 1;
    case '*': return c1 == '*' ? (c2 == '=' ? 3 : 2) : c1 == '=' ? 2 : 1;
    case '<':
        if ((c1 == '<' || c1 == '=') && c2 == (c1 == '<' ? '=' : '>')) return 3;
        return c1 == '=' || c1 == '<' || c1 == '-' ? 2 : 1;
    case '>': return c1 == '>' ? (c2 == '=' ? 3 : 2) : c1 == '=' ? 2 : 1;
    case '.': return c1 == '.' && c2 == '.' ? 3 : c1 == '=' ? 2 : 1;
    case '?': return c1 == '?' ? (c2 == '=' ? 3 : 2) : c1 == '.' ? 2 : 1;
    case '-': return c1 == '>' || c1 == '-' || c1 == '=' ? 2 : 1;
    case '&': return c1 == '&' || c1 == '=' ? 2 : 1;
    case '|': return c1 == '|' || c1 == '=' ? 2 : 1;
    case '+': return c1 == '+' || c1 == '=' ? 2 : 1;
    case ':': return c1 == ':' || c1 == '=' ? 2 : 1;
    case '/': case '%': case '^': return c1 == '=' ? 2 : 1;
    default: return 1;
    }
}

/* End of the identifier characters from q on (v->need set, as sv_at would,
 * when they run into the end of the bytes received so far). */
static size_t idc_end(scan_view *v, size_t q, int lang) {
    size_t end = sv_end(v);
    while (q < end && is_idc(v->p[q - v->base], lang)) q++;
    if (q == end && !v->eof) v->need = 1;
    return q;
}

/* Opens a string at p (quote at q): fills lx->cur and the string state. */
static tok *open_string(lexer *lx, scan_view *v, const tok *t0, size_t p, size_t q, int flags) {
    tok *t = &lx->cur;
    *t = *t0;
    lx->line0 = 0;
    int c = sv_at(v, q);
    t->type = T_STR;
    t->off = p;
    t->flags |= (uint8_t)flags;
    lx->quote = c;
    lx->triple = (c == '"' || c == '\'') && lx->lang == LANG_PY && sv_at(v, q + 1) == c &&
                 sv_at(v, q + 2) == c;
    lx->depth = 0;
    lx->interp = 0;
    if (c == '`' && (lx->lang == LANG_JS || lx->lang == LANG_ANY)) lx->interp = '{';
    if (c == '`' && (lx->lang == LANG_SH || lx->lang == LANG_RUBY || lx->lang == LANG_PHP))
        t->flags |= TF_CMD | TF_INTERP;
    if (c == '`' && lx->lang == LANG_GO) t->flags |= TF_RAW;
    if (c == '"' && lx->lang == LANG_RUBY) lx->interp = '#';
    if (c == '"' && (lx->lang == LANG_SH || lx->lang == LANG_PHP)) t->flags |= TF_INTERP;
    if (c == '\'' && (lx->lang == LANG_SH || lx->lang == LANG_PHP)) t->flags |= TF_RAW;
    if (lx->interp) t->flags |= TF_INTERP;
    t->inner = q + (lx->triple ? 3 : 1);
    lx->pos = t->inner;
    lx->mode = M_STR;
    return t;
}

/* Lexes the open string on; copies it to *t when it ends. */
static int finish_string(lexer *lx, scan_view *v, tok *t) {
    if (!scan_string(lx, v, &lx->cur)) return 0;
    *t = lx->cur;
    return 1;
}

/* A token t ended at q: commit. */
static int token(lexer *lx, scan_view *v, tok *t, size_t q) {
    char b[4] = {0};
    size_t n = t->len < 4 ? t->len : 4;
    sv_copy(v, t->off, n, b);
    t->code = tok_pack(b, n);
    lx->pos = q;
    lx->line0 = 0;
    return 1;
}

/* A Python string prefix letter (r, b, u, f in either case). */
static int py_str_prefix(int ch) {
    switch (ch) {
    case 'r': case 'R': case 'b': case 'B': case 'u': case 'U': case 'f': case 'F': return 1;
    default: return 0;
    }
}

int lex_next(lexer *lx, scan_view *v, tok *t) {
    v->need = 0;
    for (;;) {
        if (lx->mode == M_BCOM) {
            if (!scan_bcomment(lx, v)) return 0;
            lx->mode = M_CODE;
            continue;
        }
        if (lx->mode == M_STR) return finish_string(lx, v, t);
        size_t p = lx->pos;
        int c = sv_at(v, p);
        if (c < 0) return 0;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {   /* a run of blanks */
            size_t end = sv_end(v);
            do {
                if (lx->line0) lx->col = (uint16_t)(lx->col + (c == '\t' ? 4 : 1));
                c = ++p < end ? v->p[p - v->base] : -1;
            } while (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v');
            lx->pos = p;
            continue;
        }
        memset(t, 0, sizeof *t);
        t->indent = lx->indent;
        if (lx->line0) t->flags |= TF_LINE0;
        if (c == '\n') {
            t->type = T_NL;
            t->off = p;
            t->len = 1;
            lx->pos = p + 1;
            lx->line0 = 1;
            lx->col = 0;
            return 1;
        }
        if (c == '\\' && (sv_at(v, p + 1) == '\n' || (sv_at(v, p + 1) == '\r' && sv_at(v, p + 2) == '\n'))) {
            lx->pos = p + (sv_at(v, p + 1) == '\n' ? 2 : 3);
            continue;
        }
        if (v->need) return 0;
        int c1 = sv_at(v, p + 1);
        if (lx->line0) { lx->indent = lx->col; t->indent = lx->col; }
        /* comments */
        int lcom = (c_comments(lx->lang) && c == '/' && c1 == '/') ||
                   (hash_comments(lx->lang) && c == '#' &&
                    !(lx->lang == LANG_SH && p > 0 && !cs_is(sv_at(v, p - 1), CS_SPACE) &&
                      sv_at(v, p - 1) != ';' && !lx->line0)) ||
                   (lx->lang == LANG_LUA && c == '-' && c1 == '-' && !(sv_at(v, p + 2) == '[' && sv_at(v, p + 3) == '['));
        if (lcom) {
            size_t q = p;
            int d;
            while ((d = sv_at(v, q)) >= 0 && d != '\n') q++;
            if (v->need) return 0;
            lx->pos = q;
            continue;
        }
        const char *bend = NULL;
        size_t skip = 0;
        if (c_comments(lx->lang) && c == '/' && c1 == '*') { bend = "*/"; skip = 2; }
        else if (lx->lang == LANG_LUA && c == '-' && c1 == '-') { bend = "]]"; skip = 4; }
        else if (lx->lang == LANG_RUBY && c == '=' && lx->line0 && sv_lit(v, p, "=begin", 0)) { bend = "=end"; skip = 6; }
        if (bend) {
            if (v->need) return 0;
            strcpy(lx->delim, bend);
            lx->pos = p + skip;
            lx->mode = M_BCOM;
            continue;
        }
        /* C preprocessor line */
        if (lx->lang == LANG_C && c == '#' && (t->flags & TF_LINE0)) {
            size_t q = p;
            int d;
            while ((d = sv_at(v, q)) >= 0 && d != '\n') q += (d == '\\' && sv_at(v, q + 1) == '\n') ? 2 : 1;
            if (v->need) return 0;
            t->type = T_PRE;
            t->off = p;
            t->len = (uint32_t)(q - p);
            return token(lx, v, t, q);
        }
        /* strings, with prefixes */
        if (c == '"' || c == '\'' || (c == '`' && lx->lang != LANG_C && lx->lang != LANG_JAVA && lx->lang != LANG_PY)) {
            sv_at(v, p + 2);                         /* triple quotes need two more bytes */
            if (v->need) return 0;
            open_string(lx, v, t, p, p, 0);
            return finish_string(lx, v, t);
        }
        if (lx->lang == LANG_PY || lx->lang == LANG_ANY) {
            size_t q = p;
            int f = 0, raw = 0;
            while (q - p < 2 && py_str_prefix(sv_at(v, q))) {
                int d = sv_at(v, q) | 32;
                f |= d == 'f';
                raw |= d == 'r';
                q++;
            }
            if (q > p && (sv_at(v, q) == '"' || sv_at(v, q) == '\'')) {
                sv_at(v, q + 2);
                if (v->need) return 0;
                open_string(lx, v, t, p, q, (f ? TF_INTERP : 0) | (raw ? TF_RAW : 0));
                if (f) lx->interp = 'f';
                return finish_string(lx, v, t);
            }
        }
        if (lx->lang == LANG_C && (c == 'L' || c == 'u' || c == 'U')) {     /* L"..", u8"..", U'.' */
            size_t q = p + 1 + (c == 'u' && c1 == '8');
            int d = sv_at(v, q);
            if (d == '"' || d == '\'') {
                open_string(lx, v, t, p, q, 0);
                return finish_string(lx, v, t);
            }
            if (v->need) return 0;
        }
        if (lx->lang == LANG_C && (c == 'R' || c == 'L' || c == 'u') ) {
            size_t q = p;
            while (q - p < 3 && (sv_at(v, q) == 'u' || sv_at(v, q) == '8' || sv_at(v, q) == 'L')) q++;
            if (sv_at(v, q) == 'R' && sv_at(v, q + 1) == '"') {
                size_t d = q + 2, n = 0;
                int e;
                while (n < 16 && (e = sv_at(v, d + n)) >= 0 && e != '(') n++;
                if (v->need) return 0;
                if (sv_at(v, d + n) == '(') {
                    tok *s = open_string(lx, v, t, p, q + 1, TF_RAW);
                    lx->delim[0] = ')';
                    sv_copy(v, d, n, lx->delim + 1);
                    lx->delim[n + 1] = '"';
                    lx->delim[n + 2] = 0;
                    s->inner = d + n + 1;
                    lx->pos = s->inner;
                    return finish_string(lx, v, t);
                }
            }
        }
        if (lx->lang == LANG_LUA && c == '[' && (c1 == '[' || c1 == '=')) {
            size_t q = p + 1, eq = 0;
            while (sv_at(v, q) == '=') q++, eq++;
            if (v->need) return 0;
            if (sv_at(v, q) == '[' && eq < 8) {
                tok *s = open_string(lx, v, t, p, p, TF_RAW);
                lx->delim[0] = ']';
                memset(lx->delim + 1, '=', eq);
                lx->delim[eq + 1] = ']';
                lx->delim[eq + 2] = 0;
                s->inner = q + 1;
                lx->pos = s->inner;
                return finish_string(lx, v, t);
            }
        }
        /* shell parameters: $name, ${...}, $1, $@, $(...) is an operator + tokens */
        if (lx->lang == LANG_SH && c == '$' && c1 != '(') {
            size_t q = p + 1;
            if (c1 == '{') {
                int d;
                while ((d = sv_at(v, q)) >= 0 && d != '}') q++;
                if (d == '}') q++;                   /* (unclosed at the end of the text) */
            } else if (cs_is(c1, CS_W)) {
                while (cs_is(sv_at(v, q), CS_W)) q++;
            } else if (c1 >= 0) {
                q++;
            }
            if (v->need) return 0;
            t->type = T_ID;
            t->off = p;
            t->len = (uint32_t)(q - p);
            return token(lx, v, t, q);
        }
        if (is_idc(c, lx->lang) && !(c >= '0' && c <= '9')) {
            size_t q = idc_end(v, p, lx->lang);
            if (v->need) return 0;
            t->type = T_ID;
            t->off = p;
            t->len = (uint32_t)(q - p);
            return token(lx, v, t, q);
        }
        if (c >= '0' && c <= '9') {
            size_t q = p;
            int d;
            while ((d = sv_at(v, q)) >= 0 && (cs_is(d, CS_ALNUM) || d == '_' ||
                                               (d == '.' && cs_is(sv_at(v, q + 1), CS_DIGIT))))
                q++;
            if (v->need) return 0;
            t->type = T_NUM;
            t->off = p;
            t->len = (uint32_t)(q - p);
            return token(lx, v, t, q);
        }
        t->type = T_OP;
        t->off = p;
        t->len = 1;
        if (c == 0 || memchr("=!<>&|+-*/%:^.?", c, 15)) {     /* may start a longer operator */
            int c2 = sv_at(v, p + 2);
            if (v->need) return 0;
            t->len = op_len(c, c1, c2);
        }
        return token(lx, v, t, p + t->len);
    }
}
