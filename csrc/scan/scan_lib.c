/* scan_lib.c — character classes, text-view helpers and value heuristics
 * shared by the detectors. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "scan/scan_int.h"

uint32_t scan_cs[256];

static void set_range(int cs, int lo, int hi) {
    for (int c = lo; c <= hi; c++) scan_cs[c] |= 1u << cs;
}
static void set_chars(int cs, const char *s) {
    for (; *s; s++) scan_cs[(uint8_t)*s] |= 1u << cs;
}

__attribute__((constructor)) static void scan_cs_init(void) {
    set_range(CS_DIGIT, '0', '9');
    set_range(CS_HEXL, '0', '9'); set_range(CS_HEXL, 'a', 'f');
    set_range(CS_HEXU, '0', '9'); set_range(CS_HEXU, 'A', 'F');
    set_range(CS_HEX, '0', '9'); set_range(CS_HEX, 'a', 'f'); set_range(CS_HEX, 'A', 'F');
    set_range(CS_HEXD, '0', '9'); set_range(CS_HEXD, 'a', 'f'); set_range(CS_HEXD, 'A', 'F');
    set_chars(CS_HEXD, "-");
    set_range(CS_LOWER, 'a', 'z');
    set_range(CS_UPPER, 'A', 'Z');
    set_range(CS_ALPHA, 'a', 'z'); set_range(CS_ALPHA, 'A', 'Z');
    for (int cs = CS_ALNUM; cs <= CS_B64X; cs++) {
        if (cs == CS_LALNUM) { set_range(cs, 'a', 'z'); set_range(cs, '0', '9'); continue; }
        if (cs == CS_UALNUM) { set_range(cs, 'A', 'Z'); set_range(cs, '0', '9'); continue; }
        set_range(cs, 'a', 'z'); set_range(cs, 'A', 'Z'); set_range(cs, '0', '9');
    }
    set_chars(CS_W, "_");
    set_chars(CS_WD, "_-");
    set_chars(CS_WDD, "_.-");
    set_chars(CS_B64, "+/");
    set_chars(CS_B64E, "+/=");
    set_chars(CS_B64X, "+/=_-");
    set_range(CS_TOKEN, 'a', 'z'); set_range(CS_TOKEN, 'A', 'Z'); set_range(CS_TOKEN, '0', '9');
    set_chars(CS_TOKEN, "_-.+/=~:|%$@!*&#^?");
    set_chars(CS_SPACE, " \t\r\n\f\v");
    set_range(CS_VALUE, 0x21, 0x7e);
    set_range(CS_URI, 0x21, 0x7e);
    for (const char *p = "\"'`\\;,)]}>"; *p; p++) scan_cs[(uint8_t)*p] &= ~(1u << CS_VALUE);
    for (const char *p = "\"'`<>"; *p; p++) scan_cs[(uint8_t)*p] &= ~(1u << CS_URI);
}

size_t sv_run(scan_view *v, size_t i, int cs, size_t max) {
    size_t k = 0;
    while (k <= max && cs_is(sv_at(v, i + k), cs)) k++;
    return k;
}

size_t sv_run_back(scan_view *v, size_t i, int cs, size_t max) {
    size_t k = 0;
    while (k <= max && k < i && cs_is(sv_at(v, i - k - 1), cs)) k++;
    return k;
}

int sv_lit(scan_view *v, size_t i, const char *lit, int icase) {
    for (size_t k = 0; lit[k]; k++) {
        int c = sv_at(v, i + k);
        if (c < 0) return 0;
        if (icase ? tolower(c) != tolower((uint8_t)lit[k]) : c != (uint8_t)lit[k]) return 0;
    }
    return 1;
}

void sv_copy(scan_view *v, size_t i, size_t n, char *out) {
    memcpy(out, v->p + (i - v->base), n);
}

double scan_entropy(const char *s, size_t n) {
    if (!n) return 0;
    unsigned cnt[256] = {0};
    for (size_t i = 0; i < n; i++) cnt[(uint8_t)s[i]]++;
    double h = 0;
    for (int c = 0; c < 256; c++)
        if (cnt[c]) { double p = (double)cnt[c] / (double)n; h -= p * log2(p); }
    return h;
}

/* Words that mark documentation values rather than live credentials. */
static const char *const ph_words[] = {
    "example", "sample", "dummy", "placeholder", "your", "changeme", "change_me",
    "redacted", "xxxx", "fake", "insert", "replace", "todo", "${", "{{", "}}",
    "%s", "%(", "<", ">", "*****", "...", "null", "undefined",
    /* credentials published in vendor documentation (AWS, Stripe) */
    "wjalrxutnfemi/k7mdeng", "4ec39hqlyjwdarjtt1zdp7dc", NULL,
};

/* low: lower-cased and NUL-terminated. */
static int contains_word(const char *low) {
    for (int w = 0; ph_words[w]; w++)
        if (strstr(low, ph_words[w])) return 1;
    return 0;
}

static int low_diversity(const char *s, size_t n) {
    unsigned cnt[256] = {0}, distinct = 0, top = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = ++cnt[(uint8_t)s[i]];
        if (c == 1) distinct++;
        if (c > top) top = c;
    }
    if (n >= 8 && top * 10 > n * 6) return 1;       /* one character > 60 % */
    if (n >= 16 && distinct <= 4) return 1;
    return 0;
}

static int periodic(const char *s, size_t n) {
    if (n < 8) return 0;
    for (size_t p = 1; p <= n / 2; p++) {
        size_t i = 0;
        while (i + p < n && s[i] == s[i + p]) i++;
        if (i + p == n) return 1;
    }
    return 0;
}

static int sequential(const char *s, size_t n) {
    size_t up = 1, down = 1;
    for (size_t i = 1; i < n; i++) {
        int a = (uint8_t)s[i - 1], b = (uint8_t)s[i];
        int alnum = isalnum(a) && isalnum(b);
        up = alnum && b == a + 1 ? up + 1 : 1;
        down = alnum && b == a - 1 ? down + 1 : 1;
        if (up >= 6 || down >= 6) return 1;
    }
    return 0;
}

int scan_placeholder(const char *s, size_t n) {
    if (!n) return 1;
    char low[512];
    size_t m = n < sizeof low - 1 ? n : sizeof low - 1;
    for (size_t i = 0; i < m; i++) low[i] = s[i] ? (char)tolower((uint8_t)s[i]) : ' ';
    low[m] = 0;
    int r = contains_word(low) || low_diversity(low, m) || periodic(low, m) || sequential(s, m);
    memset(low, 0, m);
    return r;
}

long scan_b64dec(const char *s, size_t n, unsigned char *out, size_t cap) {
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (uint8_t)s[i], v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+' || c == '-') v = 62;
        else if (c == '/' || c == '_') v = 63;
        else if (c == '=') break;
        else return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < cap) out[o] = (unsigned char)(acc >> bits);
            o++;
        }
    }
    return (long)(o < cap ? o : cap);
}
