/* unicode.c — hidden and deceptive Unicode.
 *
 * Anchored on every non-ASCII code point; each check looks at the code
 * points around its anchor only (bounded), so it is a pure function of the
 * text:
 *  - bidi controls (embeddings, overrides, isolates) always;
 *  - invisible characters (zero-width space, word joiner, invisible
 *    operators, Hangul fillers, BOM after the start, ...); ZWJ and ZWNJ are
 *    fine inside emoji ZWJ sequences and between letters of scripts that use
 *    joiners (Arabic, Indic, ...);
 *  - tag characters, except a subdivision flag (U+1F3F4, a-z/0-9 tags,
 *    CANCEL TAG);
 *  - variation selectors: runs of two or more, or an ideographic selector
 *    (U+E0100..) after something that is not an ideograph;
 *  - words whose letters come from more than one of Latin, Greek, Cyrillic,
 *    Armenian and Cherokee where a letter could pass for one of the other
 *    script ("pаypal" with a Cyrillic a; not "10μs") (utf8proc categories
 *    decide what a letter is).
 * A run of the same kind of character is one finding, reported by its first
 * code point.
 */
#include <string.h>
#include <utf8proc.h>

#include "scan/scan_int.h"

enum { U_BIDI, U_INVISIBLE, U_TAG, U_VS, U_MIXED };

const scan_rule_meta scan_unicode_rules[] = {
    {"unicode-bidi", SCAN_KIND_UNICODE, SCAN_SEV_HIGH, SCAN_ACT_HALT,
     "bidirectional control character (text may display in a different order than it runs)"},
    {"unicode-invisible", SCAN_KIND_UNICODE, SCAN_SEV_HIGH, SCAN_ACT_HALT,
     "invisible character inside the text"},
    {"unicode-tag-smuggling", SCAN_KIND_UNICODE, SCAN_SEV_HIGH, SCAN_ACT_HALT,
     "hidden text in Unicode tag characters"},
    {"unicode-variation-selector-smuggling", SCAN_KIND_UNICODE, SCAN_SEV_HIGH, SCAN_ACT_HALT,
     "hidden data in a run of variation selectors"},
    {"unicode-mixed-script", SCAN_KIND_UNICODE, SCAN_SEV_MEDIUM, SCAN_ACT_HALT,
     "identifier mixes look-alike letters from different scripts"},
};
const size_t scan_unicode_nrules = sizeof scan_unicode_rules / sizeof scan_unicode_rules[0];

#define RUN_MAX 64     /* code points a run check reads */
#define WORD_MAX 32    /* code points a word check reads each way */

/* Code point at i (length in *n), or -1 (end of text, bad UTF-8, need). */
static int32_t cp_at(scan_view *v, size_t i, size_t *n) {
    int c = sv_at(v, i);
    *n = 1;
    if (c < 0) return -1;
    if (c < 0x80) return c;
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (!len) return -1;
    int32_t cp = c & (0x3F >> (len - 1));
    for (size_t k = 1; k < len; k++) {
        int d = sv_at(v, i + k);
        if (d < 0 || (d & 0xC0) != 0x80) return -1;
        cp = cp << 6 | (d & 0x3F);
    }
    *n = len;
    return cp;
}

/* Start of the code point before i, or i when there is none. */
static size_t cp_prev(scan_view *v, size_t i) {
    size_t k = 1;
    while (k <= 4 && k <= i && (sv_at(v, i - k) & 0xC0) == 0x80) k++;
    return k <= i ? i - k : i;
}

static int32_t prev_cp(scan_view *v, size_t i) {
    size_t p = cp_prev(v, i), n;
    return p == i ? -1 : cp_at(v, p, &n);
}

static int is_bidi(int32_t c) { return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069); }
static int is_tag(int32_t c) { return c >= 0xE0000 && c <= 0xE007F; }
static int is_vs(int32_t c) { return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF); }
static int is_joiner(int32_t c) { return c == 0x200C || c == 0x200D; }
static int is_invisible(int32_t c) {
    return c == 0x200B || is_joiner(c) || c == 0x2060 || (c >= 0x2061 && c <= 0x2064) ||
           c == 0xFEFF || c == 0x180E || (c >= 0x206A && c <= 0x206F) ||
           c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0 ||
           (c >= 0xFFF9 && c <= 0xFFFB) || c == 0x034F;
}
static int is_ideograph(int32_t c) {
    return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x3FFFF);
}

/* Scripts that may contain look-alike letters. */
enum { SC_NONE, SC_LATIN, SC_GREEK, SC_CYRILLIC, SC_ARMENIAN, SC_CHEROKEE, SC_OTHER };

static int script_of(int32_t c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
        (c >= 0x1E00 && c <= 0x1EFF) || (c >= 0x2C60 && c <= 0x2C7F) || (c >= 0xA720 && c <= 0xA7FF) ||
        (c >= 0xFF21 && c <= 0xFF3A) || (c >= 0xFF41 && c <= 0xFF5A))
        return SC_LATIN;
    if ((c >= 0x370 && c <= 0x3FF) || (c >= 0x1F00 && c <= 0x1FFF)) return SC_GREEK;
    if ((c >= 0x400 && c <= 0x52F) || (c >= 0x1C80 && c <= 0x1C8F) || (c >= 0x2DE0 && c <= 0x2DFF) ||
        (c >= 0xA640 && c <= 0xA69F))
        return SC_CYRILLIC;
    if (c >= 0x530 && c <= 0x58F) return SC_ARMENIAN;
    if ((c >= 0x13A0 && c <= 0x13FF) || (c >= 0xAB70 && c <= 0xABBF)) return SC_CHEROKEE;
    return SC_OTHER;
}

/* Scripts whose orthography uses ZWJ/ZWNJ between letters. */
static int joining_script(int32_t c) {
    return (c >= 0x0600 && c <= 0x08FF) ||      /* Arabic, Syriac, Thaana, N'Ko, ... */
           (c >= 0x0900 && c <= 0x0DFF) ||      /* Indic */
           (c >= 0x0F00 && c <= 0x109F) ||      /* Tibetan, Myanmar */
           (c >= 0x1780 && c <= 0x18AF) ||      /* Khmer, Mongolian */
           (c >= 0xA8E0 && c <= 0xA8FF) || (c >= 0xFB50 && c <= 0xFDFF) ||
           (c >= 0xFE70 && c <= 0xFEFE) || (c >= 0x10A00 && c <= 0x10A5F);
}

static int is_letter_or_mark(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_ME);
}

static int is_word(int32_t c) {
    if (c < 0) return 0;
    if (c == '_' || (c >= '0' && c <= '9')) return 1;
    if (is_invisible(c)) return 0;
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_ME) || k == UTF8PROC_CATEGORY_ND ||
           k == UTF8PROC_CATEGORY_PC;
}

static int pictographic(int32_t c) {
    if (c < 0) return 0;
    int b = utf8proc_get_property(c)->boundclass;
    return b == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC || b == UTF8PROC_BOUNDCLASS_E_ZWG ||
           b == UTF8PROC_BOUNDCLASS_E_BASE || b == UTF8PROC_BOUNDCLASS_E_BASE_GAZ ||
           b == UTF8PROC_BOUNDCLASS_GLUE_AFTER_ZWJ || b == UTF8PROC_BOUNDCLASS_E_MODIFIER ||
           (c >= 0x1F3FB && c <= 0x1F3FF);
}

/* The code point before i, skipping variation selectors and emoji modifiers. */
static int32_t base_before(scan_view *v, size_t i) {
    for (int k = 0; k < 4; k++) {
        size_t p = cp_prev(v, i), n;
        if (p == i) return -1;
        int32_t c = cp_at(v, p, &n);
        if (!(is_vs(c) || (c >= 0x1F3FB && c <= 0x1F3FF))) return c;
        i = p;
    }
    return -1;
}

static int joiner_ok(scan_view *v, size_t i, size_t n, int32_t c) {
    size_t m;
    int32_t next = cp_at(v, i + n, &m);
    int32_t prev = base_before(v, i);
    if (c == 0x200D && pictographic(prev) && pictographic(next)) return 1;
    int32_t before = prev_cp(v, i);
    if (joining_script(before) && is_letter_or_mark(before)) {
        if (c == 0x200D) return 1;                   /* ZWJ: half forms, chillus */
        return joining_script(next) && is_letter_or_mark(next);
    }
    return 0;
}

/* End of the run of code points satisfying pred starting at i. */
static size_t run_end(scan_view *v, size_t i, int (*pred)(int32_t)) {
    size_t n;
    for (int k = 0; k < RUN_MAX; k++) {
        int32_t c = cp_at(v, i, &n);
        if (!pred(c)) break;
        i += n;
    }
    return i;
}

static int tag_sequence_ok(scan_view *v, size_t i, size_t end) {
    if (prev_cp(v, i) != 0x1F3F4) return 0;
    size_t n, count = 0;
    for (size_t p = i; p < end; p += n, count++) {
        int32_t c = cp_at(v, p, &n);
        if (c == 0xE007F) return p + n == end && count >= 2 && count <= 7;
        if (!((c >= 0xE0061 && c <= 0xE007A) || (c >= 0xE0030 && c <= 0xE0039))) return 0;
    }
    return 0;
}

/* A letter of another script that looks like a Latin letter. */
static int looks_latin(int32_t c) {
    static const int32_t t[] = {
        /* Cyrillic */
        0x430, 0x435, 0x43E, 0x440, 0x441, 0x443, 0x445, 0x456, 0x458, 0x455, 0x501, 0x51B, 0x51D, 0x4BB,
        0x4CF, 0x4AF, 0x410, 0x412, 0x415, 0x41A, 0x41C, 0x41D, 0x41E, 0x420, 0x421, 0x422, 0x425, 0x406,
        0x408, 0x405, 0x4AE, 0x500, 0x51A, 0x51C, 0x4C0,
        /* Greek */
        0x3B1, 0x3B9, 0x3BA, 0x3BD, 0x3BF, 0x3C1, 0x3C5, 0x3C7, 0x391, 0x392, 0x395, 0x396, 0x397, 0x399,
        0x39A, 0x39C, 0x39D, 0x39F, 0x3A1, 0x3A4, 0x3A5, 0x3A7,
        /* Armenian */
        0x585, 0x57D, 0x581, 0x570, 0x578, 0x566, 0x555, 0x54D,
    };
    if (script_of(c) == SC_CHEROKEE) return 1;            /* the script is made of look-alikes */
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
        if (t[k] == c) return 1;
    return 0;
}

/* A Latin letter that looks like a letter of script sc. */
static int latin_looks_like(int32_t c, int sc) {
    const char *set = sc == SC_CYRILLIC ? "aceijopsxyhdqwlABCEHIJKMOPSTXY"
                    : sc == SC_GREEK    ? "aoivkpuxABEHIKMNOPTXYZ"
                    : sc == SC_ARMENIAN ? "ouhngqOS"
                    : sc == SC_CHEROKEE ? "ABCEGHJKLMPRSTVWZ" : "";
    return c > 0 && c < 0x80 && strchr(set, (int)c) != NULL;
}

/* Adjacent letters a (script sa) and b (script sb) of different scripts:
 * 1 when one could pass for a letter of the other's script. */
static int deceptive(int32_t a, int sa, int32_t b, int sb) {
    if (sa == SC_LATIN) return looks_latin(b) || latin_looks_like(a, sb);
    if (sb == SC_LATIN) return looks_latin(a) || latin_looks_like(b, sa);
    return looks_latin(a) && looks_latin(b);
}

static int mixed_word(scan_view *v, size_t i, size_t *ws, size_t *we) {
    size_t s = i, n;
    for (int k = 0; k < WORD_MAX; k++) {   /* a stray continuation byte ends it, as in the word tail */
        size_t p = cp_prev(v, s);
        if (p == s || !is_word(cp_at(v, p, &n)) || p + n != s) break;
        s = p;
    }
    size_t e = i;
    for (int k = 0; k < 2 * WORD_MAX; k++) {
        int32_t c = cp_at(v, e, &n);
        if (!is_word(c)) break;
        e += n;
    }
    /* two adjacent letters from different scripts, one a look-alike of the
     * other's script ("pаypal"; not "10μs" or "Ωmega") */
    int prev = SC_NONE, mixed = 0;
    int32_t pc = 0;
    for (size_t p = s; p < e && !mixed; p += n) {
        int32_t c = cp_at(v, p, &n);
        int sc = is_letter_or_mark(c) ? script_of(c) : SC_NONE;
        if (sc == SC_OTHER) sc = SC_NONE;
        mixed = sc != SC_NONE && prev != SC_NONE && sc != prev && deceptive(pc, prev, c, sc);
        prev = sc;
        pc = c;
    }
    *ws = s;
    *we = e;
    return mixed;
}

static int hit_at(scan_hit *h, int rule, size_t a, size_t b) {
    h->rule = rule;
    h->start = a;
    h->end = b;
    h->msg = NULL;
    return 1;
}

/* An invisible character that is fine where it stands. */
static int invisible_ok(scan_view *v, size_t i, int32_t c) {
    if (c == 0xFEFF && i == 0) return 1;                   /* leading BOM */
    return is_joiner(c) && joiner_ok(v, i, 3, c);
}

size_t scan_unicode_word_tail(scan_view *v, size_t end) {
    size_t s = end, n;
    size_t q = cp_prev(v, end);
    if (q != end && cp_at(v, q, &n) < 0 && sv_at(v, q) >= 0xC0) s = q;   /* an unfinished character */
    for (int k = 0; k < WORD_MAX; k++) {
        size_t p = cp_prev(v, s);
        if (p == s || !is_word(cp_at(v, p, &n)) || p + n != s) break;
        s = p;
    }
    return s;
}

int scan_unicode_check(scan_view *v, size_t i, scan_hit *hit, size_t *lb) {
    size_t n;
    *lb = i;
    int32_t c = cp_at(v, i, &n);
    if (c < 0x80) return 0;
    int32_t prev = prev_cp(v, i);
    if (is_bidi(c)) {
        if (is_bidi(prev)) return 0;
        return hit_at(hit, U_BIDI, i, run_end(v, i, is_bidi));
    }
    if (is_tag(c)) {
        if (is_tag(prev)) return 0;
        size_t e = run_end(v, i, is_tag);
        if (v->need || tag_sequence_ok(v, i, e)) return 0;
        return hit_at(hit, U_TAG, i, e);
    }
    if (is_vs(c)) {
        if (is_vs(prev)) return 0;
        size_t e = run_end(v, i, is_vs);
        if (v->need) return 0;
        if (e - i > n || (c >= 0xE0100 && !is_ideograph(prev))) return hit_at(hit, U_VS, i, e);
        return 0;
    }
    if (is_invisible(c)) {
        if (invisible_ok(v, i, c)) return 0;
        size_t pp = cp_prev(v, i);
        if (pp != i && is_invisible(prev) && !invisible_ok(v, pp, prev)) return 0;  /* inside a run */
        if (v->need) return 0;
        return hit_at(hit, U_INVISIBLE, i, run_end(v, i, is_invisible));
    }
    int sc = script_of(c);
    if (sc == SC_OTHER || !is_letter_or_mark(c)) return 0;
    /* only the first non-ASCII letter of a word checks it */
    if (prev >= 0x80 && is_word(prev) && script_of(prev) != SC_OTHER) return 0;
    size_t ws, we;
    int mixed = mixed_word(v, i, &ws, &we);
    *lb = ws;
    if (v->need || !mixed) return 0;
    return hit_at(hit, U_MIXED, ws, we);
}
