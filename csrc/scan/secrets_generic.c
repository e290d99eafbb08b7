/* secrets_generic.c — generic `name = "value"` credentials.
 *
 * Anchored on secret words (key, secret, token, pass, ...) inside a key name:
 * the name must read as a credential (its words, split at _ - . and
 * camelCase, include a secret word and do not end in a word such as id,
 * name, url or hash), an assignment must follow (=, :, :=, =>, a comma after
 * a quoted name, XML/YAML `value`), and the value must look random: long
 * enough, several character classes, Shannon entropy above a threshold, and
 * none of the stop-word shapes (placeholders, template references, code,
 * paths, URLs, UUIDs, hashes, public keys).
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include "scan/scan_int.h"

#define NAME_MAX_LEN 64
#define VALUE_MAX 200

/* Name classes: no credential word, a bare "key", an api/access/... key,
 * a secret/token/auth/credential word, a password word. */
enum { NM_NONE, NM_WEAK, NM_KEY, NM_STRONG, NM_PASSWORD };

/* Word lists below, hashed once: word -> bit set of the lists holding it. */
enum { W_STRONG = 1, W_PASSWORD = 2, W_QUALIFIER = 4, W_TAIL = 8, W_STOP = 16 };
#define WSLOTS 1024
static struct { const char *w; uint8_t bits; } wtab[WSLOTS];
static pthread_once_t wtab_once = PTHREAD_ONCE_INIT;

static uint32_t whash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void wtab_add(const char *const *list, int bit) {
    for (int i = 0; list[i]; i++)
        for (uint32_t k = whash(list[i]) % WSLOTS;; k = (k + 1) % WSLOTS) {
            if (!wtab[k].w) { wtab[k].w = list[i]; wtab[k].bits = (uint8_t)bit; break; }
            if (!strcmp(wtab[k].w, list[i])) { wtab[k].bits |= (uint8_t)bit; break; }
        }
}

static void wtab_build(void);

static int wbits(const char *w) {
    pthread_once(&wtab_once, wtab_build);
    for (uint32_t k = whash(w) % WSLOTS; wtab[k].w; k = (k + 1) % WSLOTS)
        if (!strcmp(wtab[k].w, w)) return wtab[k].bits;
    return 0;
}

static int ends_with(const char *w, const char *suf) {
    size_t a = strlen(w), b = strlen(suf);
    return a >= b && !strcmp(w + a - b, suf);
}

static const char *const strong_words[] = {
    "secret", "secrets", "token", "tokens", "credential", "credentials", "creds", "cred",
    "auth", "authorization", "bearer", "apikey", "privkey", "privatekey", "secretkey",
    "accesskey", "authtoken", "accesstoken", "apitoken", "clientsecret", "signingkey",
    "masterkey", "licensekey", "accountkey", "encryptionkey", "sessionkey", "authkey",
    "appkey", "clientkey", "private", NULL,
};
static const char *const password_words[] = {
    "password", "passwd", "passwords", "pwd", "pass", "passphrase", "passcode", NULL,
};
/* Words that make a following "key" a credential (api key, access key, ...). */
static const char *const key_qualifiers[] = {
    "api", "access", "secret", "private", "priv", "client", "app", "auth", "master", "signing",
    "sign", "encryption", "license", "account", "storage", "session", "service", "admin",
    "deploy", "webhook", "hmac", "consumer", "shared", "jwt", "ssh", "root", "bot",
    "subscription", "integration", "developer", "partner", "merchant", "write", "read",
    "management", "mgmt", "live", "prod", "production", "server", "cloud", NULL,
};
/* A name ending in one of these describes data about a secret, not the secret. */
static const char *const tail_stop[] = {
    "id", "ids", "name", "names", "url", "uri", "urls", "path", "file", "filename", "dir",
    "type", "size", "len", "length", "count", "format", "fmt", "header", "headers", "field",
    "prefix", "suffix", "version", "mode", "method", "endpoint", "host", "hostname", "port",
    "timeout", "ttl", "expires", "expiry", "expiration", "index", "idx", "hash", "digest",
    "checksum", "pattern", "regex", "re", "env", "var", "label", "title", "text", "message",
    "msg", "error", "err", "description", "desc", "hint", "placeholder", "enabled",
    "enable", "required", "visible", "input", "column", "table", "provider", "service",
    "source", "location", "region", "user", "username", "login", "email", "policy", "scope",
    "scopes", "kind", "class", "generator", "manager", "factory", "helper", "handler",
    "callback", "list", "map", "dict", "cache", "max", "min", "limit", "rate", "interval",
    "duration", "delay", "retries", "event", "ref", "reference", "arn", "alias", "param",
    "params", "parameter", "option", "options", "config", "settings", "usage", "store",
    "fn", "func", "function", "policy", "rotation", "created", "updated", "at", NULL,
};
/* A name with one of these words is not a credential at all. */
static const char *const any_stop[] = {
    "csrf", "xsrf", "public", "pub", "nonce", "integrity", "uuid", "guid", "fingerprint",
    "thumbprint", "example", "sample", "dummy", "mock", "fake", "not", "no", "non",
    "nonsecret", "placeholder", "length", NULL,
};

static void wtab_build(void) {
    wtab_add(strong_words, W_STRONG);
    wtab_add(password_words, W_PASSWORD);
    wtab_add(key_qualifiers, W_QUALIFIER);
    wtab_add(tail_stop, W_TAIL);
    wtab_add(any_stop, W_STOP);
}

/* Splits name[0..n) into lower-case words; returns the name class. */
static int classify_name(const char *name, size_t n) {
    char w[NAME_MAX_LEN + 1];
    size_t wl = 0;
    int cls = NM_NONE, last = NM_NONE, stop = 0, qualified = 0;
    for (size_t i = 0; i <= n; i++) {
        int c = i < n ? (uint8_t)name[i] : 0;
        int split = !c || c == '_' || c == '-' || c == '.';
        /* camelCase: lower->Upper, or Upper followed by Upper+lower (HTTPKey) */
        if (!split && wl && isupper(c) &&
            (islower((uint8_t)name[i - 1]) ||
             (i + 1 < n && isupper((uint8_t)name[i - 1]) && islower((uint8_t)name[i + 1]))))
            split = 2;
        if (split) {
            if (wl) {
                w[wl] = 0;
                int bits = wbits(w), k = NM_NONE;
                if ((bits & W_PASSWORD) || ends_with(w, "password") || ends_with(w, "passwd") ||
                    ends_with(w, "pwd"))
                    k = NM_PASSWORD;
                else if ((bits & W_STRONG) || ends_with(w, "secret") || ends_with(w, "token") ||
                         ends_with(w, "apikey"))
                    k = NM_STRONG;
                else if (!strcmp(w, "key") || !strcmp(w, "keys"))
                    k = qualified ? NM_KEY : NM_WEAK;
                if (bits & W_STOP) stop = 1;
                qualified = (bits & W_QUALIFIER) != 0;
                if (k > cls) cls = k;
                last = (bits & W_TAIL) ? -1 : k;
            }
            wl = 0;
            if (split == 2 && wl < NAME_MAX_LEN) w[wl++] = (char)tolower(c);
            continue;
        }
        if (wl < NAME_MAX_LEN) w[wl++] = (char)tolower(c);
    }
    if (stop || last < 0) return NM_NONE;
    return cls;
}

static int is_uuid(const char *s, size_t n) {
    if (n != 36) return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((uint8_t)s[i])) return 0;
    }
    return 1;
}

/* A dotted chain of plain words (this.password, config.apiToken): code. */
static int code_reference(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (!isalpha((uint8_t)s[i]) && s[i] != '_') return 0;
        while (i < n && (isalpha((uint8_t)s[i]) || s[i] == '_')) i++;
        while (i < n && isdigit((uint8_t)s[i])) i++;
        if (i < n && s[i] != '.') return 0;
        i++;
    }
    return 1;
}

/* lower-case words and numbers joined by - _ . (names, slugs, versions). */
static int slug(const char *s, size_t n) {
    int seps = 0;
    size_t seg = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (uint8_t)s[i];
        if (c == '-' || c == '_' || c == '.') { seps++; seg = 0; continue; }
        if (isupper(c)) return 0;
        if (++seg > longest) longest = seg;
    }
    return seps >= 2 && longest <= 10;
}

static int has_word(const char *s, size_t n, const char *const *words) {
    char low[VALUE_MAX + 1];
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower((uint8_t)s[i]);
    low[n] = 0;
    for (int w = 0; words[w]; w++)
        if (strstr(low, words[w])) return 1;
    return 0;
}

static const char *const value_stop[] = {
    "password", "passwd", "secret", "token", "apikey", "api_key", "api-key", ".json", ".pem",
    ".yaml", ".yml", ".xml", ".txt", ".crt", ".key", ".p12", ".jks", ".env", "enc[", NULL,
};

/* The value tests; `cls` is the name class, `quoted` whether it was quoted. */
static int value_ok(const char *s, size_t n, int cls, int quoted) {
    size_t min = cls == NM_PASSWORD ? 8 : 10;
    if (n < min || n > VALUE_MAX) return 0;
    if (strchr("$%{<[(@#*&~!", s[0])) return 0;
    if (scan_placeholder(s, n) || is_uuid(s, n) || has_word(s, n, value_stop)) return 0;
    int lower = 0, upper = 0, digit = 0, sym = 0, hexonly = 1;
    for (size_t i = 0; i < n; i++) {
        int c = (uint8_t)s[i];
        if (c == ' ' || c == '\\' || c < 0x21 || c > 0x7e || strchr("[]{}", c)) return 0;
        if (cls != NM_PASSWORD && !isalnum(c) && !strchr("-_.+/=~:", c)) return 0;
        lower |= islower(c) != 0;
        upper |= isupper(c) != 0;
        digit |= isdigit(c) != 0;
        sym |= !isalnum(c);
        if (!isxdigit(c)) hexonly = 0;
        if (c == '(' || (c == ':' && i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/')) return 0;
    }
    if (s[0] == '/' || (s[0] == '.' && s[1] == '/')) return 0;
    if (!strncmp(s, "pub", 3) || !strncmp(s, "pk_", 3) || !strncmp(s, "pk.", 3) ||
        !strncmp(s, "phc_", 4) || !strncmp(s, "sha", 3) || !strncmp(s, "h1:", 3) ||
        !strncmp(s, "data:", 5))
        return 0;
    if (!quoted && code_reference(s, n)) return 0;
    if (!digit) return 0;                              /* words, CamelCase, CONSTANT_NAMES */
    if (slug(s, n)) return 0;
    /* hex is mostly hashes and ids: only under a secret/token/auth name */
    if (hexonly && (cls < NM_STRONG || n < 24)) return 0;
    int classes = lower + upper + digit + sym;
    if (classes < 2) return 0;
    double h = scan_entropy(s, n);
    if (cls == NM_PASSWORD) return h >= 2.5;
    if (n < 16) return classes >= 3 && h >= 3.0;
    return h >= 3.5;
}

/* The value repeats a word of the name ("SN_auth_gost01" = "auth-gost01"):
 * a label, not a secret. */
static int echoes_name(const char *name, size_t nl, const char *val, size_t vl) {
    char a[NAME_MAX_LEN + 1], b[VALUE_MAX + 1];
    size_t x = 0, y = 0;
    for (size_t i = 0; i < nl; i++)
        if (isalnum((uint8_t)name[i])) a[x++] = (char)tolower((uint8_t)name[i]);
    for (size_t i = 0; i < vl; i++)
        if (isalnum((uint8_t)val[i])) b[y++] = (char)tolower((uint8_t)val[i]);
    a[x] = b[y] = 0;
    for (size_t i = 0; i + 6 <= x; i++) {
        char w[7];
        memcpy(w, a + i, 6);
        w[6] = 0;
        if (strstr(b, w)) return 1;
    }
    return 0;
}

/* Is the name preceded by "#define"? (C constants use a space separator.) */
static int after_define(scan_view *v, size_t ns) {
    size_t k = sv_run_back(v, ns, CS_SPACE, 8);
    return k >= 1 && ns >= k + 7 && sv_lit(v, ns - k - 7, "#define", 0);
}

int secret_generic(const secret_rule *r, scan_view *v, size_t a0, size_t a1,
                   size_t *start, size_t *end) {
    size_t nb = sv_run_back(v, a0, CS_WDD, NAME_MAX_LEN);
    size_t nf = sv_run(v, a1, CS_WDD, NAME_MAX_LEN);
    if (nb + (a1 - a0) + nf > NAME_MAX_LEN || v->need) return SM_NO;
    size_t ns = a0 - nb, ne = a1 + nf;
    char name[NAME_MAX_LEN + 1];
    sv_copy(v, ns, ne - ns, name);
    name[ne - ns] = 0;

    /* assignment */
    size_t p = ne;
    int c = sv_at(v, p), quoted_key = 0, sep = 0;
    if (c == '"' || c == '\'' || c == '`') {
        quoted_key = 1;
        p++;
        if (sv_at(v, p) == ']' || sv_at(v, p) == ')') p++;
    } else if (c == ']') {
        p++;
    }
    while ((c = sv_at(v, p)) == ' ' || c == '\t') p++;
    c = sv_at(v, p);
    if (c == '=') {
        p++;
        if (sv_at(v, p) == '=' || sv_at(v, p) == '>') p++;
        sep = 1;
    } else if (c == ':') {
        p++;
        if (sv_at(v, p) == '=') p++;
        sep = 1;
    } else if (c == '-' && sv_at(v, p + 1) == '>') {
        p += 2;
        sep = 1;
    } else if (c == ',' && quoted_key) {
        p++;
        sep = 1;
    } else if (c == '\n' || (c == 'v' && quoted_key)) {
        /* YAML `- name: KEY` / XML `key="KEY"` followed by a value field */
        size_t q = p;
        if (c == '\n') q += 1 + sv_run(v, p + 1, CS_SPACE, 16);
        if (sv_lit(v, q, "value:", 0) || sv_lit(v, q, "value=", 0)) { p = q + 6; sep = 1; }
    }
    if (!sep) {
        char low[NAME_MAX_LEN + 1];
        size_t n = ne - ns;
        for (size_t i = 0; i < n; i++) low[i] = (char)tolower((uint8_t)name[i]);
        low[n] = 0;
        if (p > ne && (!strcmp(low, "bearer") || !strcmp(low, "token") || after_define(v, ns)))
            sep = 1;
    }
    if (!sep || v->need) return SM_NO;
    int cls = classify_name(name, ne - ns);           /* only names that are assigned to */
    if (cls < NM_KEY || (cls == NM_PASSWORD) != !strcmp(r->id, "generic-password")) return SM_NO;
    int define = after_define(v, ns);
    while ((c = sv_at(v, p)) == ' ' || c == '\t') p++;

    /* value */
    for (int k = 0; k < 2 && strchr("bBrRuUfFL@", c) && c > 0; k++) {
        int q = sv_at(v, p + 1);
        if (q != '"' && q != '\'' && q != '`' && !strchr("bBrRuUfF", q)) break;
        c = sv_at(v, ++p);
    }
    if (c == '\\' && (sv_at(v, p + 1) == '"' || sv_at(v, p + 1) == '\'')) c = sv_at(v, ++p);
    int quote = (c == '"' || c == '\'' || c == '`') ? c : 0;
    size_t vs = p + (quote != 0), ve = vs;
    if (quote) {
        while (ve - vs <= VALUE_MAX && (c = sv_at(v, ve)) != quote) {
            if (c < 0 || c == '\n') return SM_NO;
            ve++;
        }
        if (c != quote) return SM_NO;
        if (ve > vs && sv_at(v, ve - 1) == '\\') ve--;
    } else {
        ve = vs + sv_run(v, vs, CS_VALUE, VALUE_MAX);
        c = sv_at(v, ve);
        if (ve - vs > VALUE_MAX || (c >= 0 && !cs_is(c, CS_SPACE) && !strchr("\"'`;,)]}>\\", c)))
            return SM_NO;
    }
    if (v->need || (define && !quote)) return SM_NO;      /* #define X Y: Y is code */
    size_t n = ve - vs;
    if (n < 6 || n > VALUE_MAX) return SM_NO;
    char val[VALUE_MAX + 1];
    sv_copy(v, vs, n, val);
    int ok = value_ok(val, n, cls, quote != 0) && !echoes_name(name, ne - ns, val, n);
    memset(val, 0, n);
    if (!ok) return SM_NO;
    *start = vs;
    *end = ve;
    return SM_YES;
}
