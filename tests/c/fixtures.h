/* fixtures.h — helpers for tests that read tests/fixtures (paths, whole files). */
#ifndef FLINT_TEST_FIXTURES_H
#define FLINT_TEST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

/* Path of a file under the repository root ($FLINT_ROOT, default "."). Static buffer. */
static inline const char *fixture_path(const char *rel) {
    static char buf[4096];
    const char *root = getenv("FLINT_ROOT");
    snprintf(buf, sizeof buf, "%s/%s", root && *root ? root : ".", rel);
    return buf;
}

#endif
