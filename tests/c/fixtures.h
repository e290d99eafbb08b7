/* fixtures.h — helpers for tests that read tests/fixtures (paths, whole files). */
#ifndef FLINT_TEST_FIXTURES_H
#define FLINT_TEST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Path of a file under the repository root ($FLINT_ROOT, default "."). Static buffer. */
static inline const char *fixture_path(const char *rel) {
    static char buf[4096];
    const char *root = getenv("FLINT_ROOT");
    snprintf(buf, sizeof buf, "%s/%s", root && *root ? root : ".", rel);
    return buf;
}

/* Read a whole file; returns malloc'd bytes (NUL-terminated) and *len, or NULL. */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = 0; if (len) *len = (size_t)n; }
    return b;
}

#endif
