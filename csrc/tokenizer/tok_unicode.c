/* tok_unicode.c — codepoint classes (utf8proc categories folded the way
 * llama.cpp's unicode flags fold them), llama.cpp-compatible UTF-8 decoding,
 * and GPT-2's bytes_to_unicode table. */
#include <pthread.h>
#include <utf8proc.h>

#include "tokenizer/internal.h"

static uint8_t bmp_class[0x10000];
static uint32_t byte_cpt[256];
static uint8_t cpt_byte[324];   /* codepoint (< 324) -> byte + 1, 0 if none */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Python's \s: the Unicode White_Space property. */
static int is_white_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

static uint8_t class_slow(uint32_t cp) {
    uint8_t c;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        c = TOK_CL_L; break;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        c = TOK_CL_M; break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        c = TOK_CL_N; break;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        c = TOK_CL_P; break;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        c = TOK_CL_S; break;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        c = TOK_CL_Z; break;
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
        c = TOK_CL_C; break;
    default:
        c = TOK_CL_UNDEF; break;
    }
    return (uint8_t)(c | (is_white_space(cp) ? TOK_CL_WS : 0));
}

static void init_tables(void) {
    for (uint32_t cp = 0; cp < 0x10000; cp++) bmp_class[cp] = class_slow(cp);
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int self = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
        byte_cpt[b] = self ? (uint32_t)b : (uint32_t)(256 + n++);
        cpt_byte[byte_cpt[b]] = (uint8_t)(b + 1);
    }
}

uint8_t tok_cpt_class(uint32_t cp) {
    pthread_once(&init_once, init_tables);
    if (cp < 0x10000) return bmp_class[cp];
    if (cp > 0x10ffff) return TOK_CL_UNDEF;
    return class_slow(cp);
}

const uint8_t *tok_class_bmp(void) {
    pthread_once(&init_once, init_tables);
    return bmp_class;
}

uint32_t tok_utf8_next(const unsigned char *s, size_t n, size_t *i) {
    size_t k = *i;
    unsigned c = s[k];
    if (c < 0x80) { *i = k + 1; return c; }
    int len = (c & 0x40) == 0 ? 0 : (c & 0x20) == 0 ? 2 : (c & 0x10) == 0 ? 3 : (c & 0x08) == 0 ? 4 : 0;
    if (len && k + (size_t)len <= n) {
        uint32_t cp = c & (0x7f >> len);
        int ok = 1;
        for (int j = 1; j < len; j++) {
            if ((s[k + j] & 0xc0) != 0x80) { ok = 0; break; }
            cp = cp << 6 | (s[k + j] & 0x3f);
        }
        if (ok && cp <= 0x10ffff) { *i = k + (size_t)len; return cp; }
    }
    *i = k + 1;
    return 0xfffd;
}

int tok_utf8_put(uint32_t cp, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xc0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

uint32_t tok_byte_to_cpt(uint8_t b) {
    pthread_once(&init_once, init_tables);
    return byte_cpt[b];
}

int tok_cpt_to_byte(uint32_t cp) {
    pthread_once(&init_once, init_tables);
    return cp < sizeof cpt_byte && cpt_byte[cp] ? cpt_byte[cp] - 1 : -1;
}

int tok_byte_encode(tok_arena *a, const char *raw, size_t n) {
    pthread_once(&init_once, init_tables);
    for (size_t i = 0; i < n; i++) {
        char buf[4];
        int k = tok_utf8_put(byte_cpt[(unsigned char)raw[i]], buf);
        if (tok_arena_add(a, buf, (size_t)k) < 0) return -1;
    }
    return 0;
}
