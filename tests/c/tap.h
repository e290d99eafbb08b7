/* tap.h — the tiny test protocol every flint test binary speaks.
 *
 * Each check prints one line, "ok - what" or "not ok - what (file:line)";
 * tests/run.sh counts these lines across all suites. tap_done() prints the
 * binary's own totals and returns the exit status (non-zero on any failure).
 */
#ifndef FLINT_TAP_H
#define FLINT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_passed, tap_failed;

static int tap_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int tap_check(int ok, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    printf("%s - ", ok ? "ok" : "not ok");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok) printf(" (%s:%d)", file, line);
    printf("\n");
    fflush(stdout);
    if (ok) tap_passed++; else tap_failed++;
    return ok;
}

/* CHECK(cond, "printf-style description", ...): one test line. Evaluates to cond. */
#define CHECK(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Diagnostic line that is not a test (ignored by the counter). */
#define NOTE(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

static inline int tap_done(void) {
    printf("# %d passed, %d failed\n", tap_passed, tap_failed);
    return tap_failed ? 1 : 0;
}

#endif
