/* common.h — small helpers every flint module uses.
 *
 * Errors: functions that can fail take `char *err, size_t errlen` and fill it
 * with one human-readable line (no trailing newline) through fl_seterr(); that
 * line is what the user finally sees (CLI stderr, RPC error, log notification).
 * Never put secret material into an error message.
 */
#ifndef FLINT_COMMON_H
#define FLINT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FL_ERRLEN 512

/* Write a printf-style message into err (if err != NULL and errlen > 0).
 * Always returns -1 so callers can `return fl_seterr(...)`. */
int fl_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Monotonic clock in seconds. */
double fl_now(void);

/* malloc/calloc/realloc that return NULL on overflow of n*size (never abort). */
void *fl_malloc_array(size_t n, size_t size);

/* The whole file at path, malloc'd with a NUL after its bytes; *len (if not
 * NULL) gets its size. NULL when it cannot be opened, read, or allocated. */
char *fl_read_file(const char *path, size_t *len);
void *fl_calloc_array(size_t n, size_t size);

/* a * b and a + b without overflow: return 0 and write the result, or -1. */
static inline int fl_mul_size(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}
static inline int fl_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

/* IEEE half and bfloat16 <-> float (exact, round-to-nearest-even on narrowing). */
static inline float fl_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t fl_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t man = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = sign | ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)h;
}

static inline float fl_bf16_to_f32(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t fl_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 64); /* quiet NaN */
    return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

#endif
