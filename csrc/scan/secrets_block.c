/* secrets_block.c — secrets that can run long: private-key blocks, JWTs and
 * URIs with a password. Each is confirmed from its first bytes (SM_OPEN) so
 * a stream can suppress it without holding more than a short tail, and its
 * end is found by the matching extend function. */
#include <string.h>

#include "scan/scan_int.h"

#define BLOCK_MAX 65536   /* a block longer than this ends here */

/* ---- PEM ------------------------------------------------------------------ */

/* "-----BEGIN <LABEL>-----" with PRIVATE KEY in the label; returns the offset
 * after the closing dashes, or 0. */
static size_t pem_header(scan_view *v, size_t a0) {
    size_t p = a0;
    if (!tk_lit(v, &p, "-----BEGIN ")) return 0;
    char label[48];
    size_t n = 0;
    int c;
    while (n < sizeof label - 1 && ((c = sv_at(v, p)) == ' ' || cs_is(c, CS_UALNUM)))
        label[n++] = (char)c, p++;
    label[n] = 0;
    if (!strstr(label, "PRIVATE KEY") || !tk_lit(v, &p, "-----")) return 0;
    return p;
}

/* Skips PEM layout between base64 runs: newlines, spaces, escaped "\n" in
 * string literals and armor headers ("Version: ...", "Proc-Type: ..."). */
static size_t pem_skip(scan_view *v, size_t p) {
    for (;;) {
        int c = sv_at(v, p);
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t') { p++; continue; }
        if (c == '\\' && (sv_at(v, p + 1) == 'n' || sv_at(v, p + 1) == 'r')) { p += 2; continue; }
        size_t k = sv_run(v, p, CS_WD, 24);
        if (k >= 2 && k <= 24 && sv_at(v, p + k) == ':' && sv_at(v, p + k + 1) == ' ') {
            p += k + 2;                     /* armor header: skip to end of line */
            while ((c = sv_at(v, p)) >= 0 && c != '\n' && c != '\\') p++;
            continue;
        }
        return p;
    }
}

int secret_pem(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
               size_t *start, size_t *end) {
    size_t p = pem_header(v, a0);
    if (!p) return SM_NO;
    char body[64];
    size_t n = 0;
    while (n < sizeof body) {
        p = pem_skip(v, p);
        size_t k = sv_run(v, p, CS_B64E, sizeof body - n);
        if (!k) break;
        if (k > sizeof body - n) k = sizeof body - n;
        sv_copy(v, p, k, body + n);
        n += k;
        p += k;
    }
    if (v->need || n < sizeof body) return SM_NO;
    unsigned distinct = 0, seen[256] = {0};
    for (size_t i = 0; i < n; i++) distinct += !seen[(uint8_t)body[i]]++;
    int ok = distinct >= 20 && !scan_placeholder(body, n);
    memset(body, 0, sizeof body);
    if (!ok) return SM_NO;
    *start = a0;
    return SM_OPEN;
}

int secret_pem_extend(const secret_rule *r, scan_view *v, size_t start, size_t *end) {
    size_t p = pem_header(v, start), last = p;
    if (!p) return 0;
    while (p - start < BLOCK_MAX) {
        p = pem_skip(v, p);
        if (sv_lit(v, p, "-----END ", 0)) {
            size_t q = p + 9, k = 0;
            int c;
            while (k < 48 && ((c = sv_at(v, q)) == ' ' || cs_is(c, CS_UALNUM))) q++, k++;
            if (sv_lit(v, q, "-----", 0)) { *end = q + 5; return !v->need; }
            if (v->need) return 0;
            *end = last;
            return 1;
        }
        size_t k = sv_run(v, p, CS_B64E, BLOCK_MAX);
        if (v->need) return 0;
        if (!k) {                          /* truncated block: ends after its last line */
            if (sv_at(v, p) == '-' && !v->need) { p++; continue; }
            if (v->need) return 0;
            *end = last;
            return 1;
        }
        p += k;
        last = p;
    }
    *end = last;
    return 1;
}

/* ---- JWT ------------------------------------------------------------------ */

/* base64url JSON header {"alg":...}, ".", then a payload starting "eyJ". */
int secret_jwt(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
               size_t *start, size_t *end) {
    if (!sv_lit(v, a0, "eyJ", 0) || cs_is(sv_at(v, a0 - 1), CS_WD)) return SM_NO;
    size_t h = sv_run(v, a0, CS_WD, 600);
    if (h < 10 || h > 600 || sv_at(v, a0 + h) != '.' || !sv_lit(v, a0 + h + 1, "eyJ", 0))
        return SM_NO;
    char b64[600];
    unsigned char js[460];
    sv_copy(v, a0, h, b64);
    long n = scan_b64dec(b64, h, js, sizeof js);
    if (n < 8 || js[0] != '{' || js[1] != '"') return SM_NO;
    for (long i = 0; i < n; i++)
        if (js[i] < 0x20 || js[i] > 0x7e) return SM_NO;
    js[n < (long)sizeof js ? n : (long)sizeof js - 1] = 0;
    if (!strstr((char *)js, "\"alg\"") && !strstr((char *)js, "\"typ\"")) return SM_NO;
    *start = a0;
    return SM_OPEN;
}

int secret_jwt_extend(const secret_rule *r, scan_view *v, size_t start, size_t *end) {
    size_t p = start + sv_run(v, start, CS_WD, BLOCK_MAX) + 1;   /* header and "." */
    p += sv_run(v, p, CS_WD, BLOCK_MAX);                        /* payload */
    if (sv_at(v, p) == '.') p += 1 + sv_run(v, p + 1, CS_WD, BLOCK_MAX);
    if (v->need) return 0;
    *end = p;
    return 1;
}

/* ---- URIs with credentials ---------------------------------------------- */

static const char *const db_schemes[] = {
    "mongodb", "mongodb+srv", "postgres", "postgresql", "mysql", "mariadb", "redis", "rediss",
    "amqp", "amqps", "mssql", "sqlserver", "oracle", "clickhouse", "couchdb", "cassandra",
    "neo4j", "neo4j+s", "bolt", "memcached", "elasticsearch", "cockroachdb", "db2", NULL,
};

static int is_db_scheme(const char *s) {
    for (int i = 0; db_schemes[i]; i++)
        if (!strcmp(s, db_schemes[i])) return 1;
    return 0;
}

/* Passwords that only name the field they stand for. */
static int dummy_password(const char *p, size_t n) {
    static const char *const words[] = {"password", "passwd", "pass", "pwd", "secret", "pw",
                                        "p", "x", "xxx", "yyy", "changeme", "token", NULL};
    char low[32];
    if (n >= sizeof low) return 0;
    for (size_t i = 0; i < n; i++) low[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    low[n] = 0;
    for (int i = 0; words[i]; i++)
        if (!strcmp(low, words[i])) return 1;
    if (low[0] == '$') {                    /* $VAR, ${VAR}, $(cmd) */
        int env = n > 1;
        for (size_t i = 1; i < n; i++)
            if (!(p[i] == '_' || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
                env = 0;
        if (env || p[1] == '{' || p[1] == '(') return 1;
    }
    return strchr("[{<%*", low[0]) != NULL;
}

/* scheme "://" [user] ":" password "@" host: confirmed at the host. */
int secret_uri(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
               size_t *start, size_t *end) {
    size_t k = 0;
    int c;
    while (k < 20 && ((c = sv_at(v, a0 - k - 1)) == '+' || c == '.' || c == '-' || cs_is(c, CS_ALNUM)))
        k++;
    if (k < 2 || k > 19 || !cs_is(sv_at(v, a0 - k), CS_ALPHA)) return SM_NO;
    char scheme[24];
    for (size_t i = 0; i < k; i++) {
        c = sv_at(v, a0 - k + i);
        scheme[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    scheme[k] = 0;
    if (is_db_scheme(scheme) != !strcmp(r->id, "db-connection-uri")) return SM_NO;
    /* userinfo: up to '@', no '/', '?', '#' or space; must hold ':' */
    size_t p = a1, colon = 0, n = 0;
    while (n < 200 && (c = sv_at(v, p)) != '@') {
        if (!cs_is(c, CS_URI) || c == '/' || c == '?' || c == '#') return SM_NO;
        if (c == ':' && !colon) colon = p;
        p++, n++;
    }
    if (c != '@' || !colon || colon + 1 == p) return SM_NO;
    c = sv_at(v, p + 1);
    if (!cs_is(c, CS_ALNUM) && c != '%' && c != '[' && c != '_') return SM_NO;
    size_t pl = p - colon - 1, ul = colon - a1;
    char pw[200], user[200];
    sv_copy(v, colon + 1, pl, pw);
    sv_copy(v, a1, ul, user);
    int bad = dummy_password(pw, pl) || scan_placeholder(pw, pl) ||
              (ul && (scan_placeholder(user, ul) || user[0] == '$' || user[0] == '<' || user[0] == '{'));
    memset(pw, 0, sizeof pw);
    memset(user, 0, sizeof user);
    if (bad) return SM_NO;
    *start = a0 - k;
    return SM_OPEN;
}

int secret_uri_extend(const secret_rule *r, scan_view *v, size_t start, size_t *end) {
    size_t n = sv_run(v, start, CS_URI, 4096);
    if (v->need) return 0;
    size_t e = start + n;
    while (e > start && sv_at(v, e - 1) > 0 && strchr(".,;:!?)", sv_at(v, e - 1))) e--;
    *end = e;
    return 1;
}
