/* secrets.c — building blocks of the secret checks: prefixed tokens,
 * keyword-context values, boundaries and value tests. The rule table
 * (secrets_tab.c) combines them; every check is a pure function of the text
 * around its anchor (see scan_int.h for the retry contract). */
#include <string.h>

#include "scan/scan_int.h"

int secret_left_ok(scan_view *v, size_t start) {
    return !cs_is(sv_at(v, start - 1), CS_ALNUM) || start == 0;
}

int secret_value_ok(const char *s, size_t n, int flags) {
    if (!(flags & SF_NOPH) && scan_placeholder(s, n)) return 0;
    if (flags & SF_MIXED) {
        int alpha = 0, digit = 0;
        for (size_t i = 0; i < n; i++) {
            alpha |= cs_is((uint8_t)s[i], CS_ALPHA);
            digit |= cs_is((uint8_t)s[i], CS_DIGIT);
        }
        if (!alpha || !digit) return 0;
    }
    return 1;
}

int secret_accept(const secret_rule *r, scan_view *v, size_t s, size_t body, size_t e,
                  size_t *start, size_t *end) {
    char tmp[SECRET_OPEN_AT + 64];
    size_t n = e - body;
    if (n > sizeof tmp) n = sizeof tmp;
    if (v->need) return SM_NO;
    sv_copy(v, body, n, tmp);
    int ok = secret_value_ok(tmp, n, r->flags);
    memset(tmp, 0, n);
    if (!ok) return SM_NO;
    *start = s;
    *end = e;
    return SM_YES;
}

/* lit + body run: the anchor is the literal prefix itself. */
int secret_prefix_token(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                        size_t *start, size_t *end) {
    const char *lit = r->lit ? r->lit : r->kw;
    size_t p = a0;
    if (!sv_lit(v, p, lit, (r->flags & SF_CASEI) != 0)) return SM_NO;
    p += strlen(lit);
    if (!(r->flags & SF_NOLB) && !secret_left_ok(v, a0)) return SM_NO;
    size_t cap = (r->flags & SF_OPEN) ? SECRET_OPEN_AT : r->max;
    size_t k = sv_run(v, p, r->cs, cap);
    if (v->need) return SM_NO;
    if (k > cap) {
        if (!(r->flags & SF_OPEN)) return SM_NO;
        char tmp[SECRET_OPEN_AT];
        sv_copy(v, p, SECRET_OPEN_AT, tmp);
        int ok = secret_value_ok(tmp, SECRET_OPEN_AT, r->flags);
        memset(tmp, 0, sizeof tmp);
        if (!ok) return SM_NO;
        *start = a0;
        return SM_OPEN;
    }
    if (k < r->min) return SM_NO;
    if (cs_is(sv_at(v, p + k), CS_ALNUM)) return SM_NO;
    return secret_accept(r, v, a0, p, p + k, start, end);
}

int secret_extend_run(const secret_rule *r, scan_view *v, size_t start, size_t *end) {
    size_t p = start + strlen(r->lit ? r->lit : r->kw);
    size_t k = sv_run(v, p, r->cs, 65536);
    if (v->need) return 0;
    *end = p + k;
    return 1;
}

/* Keyword, then up to 24 bytes of the key's name, then separators
 * (= : => , quotes, spaces; at least one that is not a space), then a value
 * of class r->cs and length [min, max] that stands alone. */
int secret_kv(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
              size_t *start, size_t *end) {
    size_t p = a1, k = 0;
    int c;
    while (k < 24 && ((c = sv_at(v, p)) == ' ' || c == '\t' || cs_is(c, CS_WDD))) p++, k++;
    int sep = 0;
    for (k = 0; k < 6; k++, p++) {
        c = sv_at(v, p);
        if (c == '=' || c == ':' || c == '>' || c == ',' || c == '"' || c == '\'' || c == '`')
            sep = 1;
        else if (c != ' ' && c != '\t') break;
    }
    if (!sep || v->need) return SM_NO;
    size_t n = sv_run(v, p, r->cs, r->max);
    if (v->need || n < r->min || n > r->max) return SM_NO;
    if (cs_is(sv_at(v, p + n), CS_ALNUM) || cs_is(sv_at(v, p - 1), CS_ALNUM)) return SM_NO;
    return secret_accept(r, v, p, p, p + n, start, end);
}
