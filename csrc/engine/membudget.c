/* membudget.c — see membudget.h. */
#include "engine/membudget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"

size_t mem_available(void) {
    const char *o = getenv("FLINT_MEM_AVAILABLE");
    if (o && *o) return (size_t)strtoull(o, NULL, 10);
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %zu kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

size_t mem_resident(const void *addr, size_t len) {
    const char *o = getenv("FLINT_MEM_AVAILABLE");
    if (o && *o) return 0; /* a simulated machine has nothing cached */
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)addr & ~(uintptr_t)(page - 1);
    size_t n = (len + ((uintptr_t)addr - start) + (size_t)page - 1) / (size_t)page;
    unsigned char *vec = malloc(n ? n : 1);
    if (!vec) return 0;
    size_t res = 0;
    if (mincore((void *)start, n * (size_t)page, vec) == 0)
        for (size_t i = 0; i < n; i++) res += vec[i] & 1;
    free(vec);
    return res * (size_t)page;
}

/* "1.5 GiB" / "14.2 MiB" into buf. */
static const char *human(size_t bytes, char *buf, size_t n) {
    if (bytes >= ((size_t)1 << 30)) snprintf(buf, n, "%.1f GiB", (double)bytes / (1 << 30));
    else snprintf(buf, n, "%.1f MiB", (double)bytes / (1 << 20));
    return buf;
}

int mem_check(size_t need, size_t avail, const char *what, const char *hint, char *err, size_t errlen) {
    if (!avail) return 0;
    size_t margin = avail / 8 < ((size_t)256 << 20) ? avail / 8 : ((size_t)256 << 20);
    if (need + margin <= avail) return 0;
    char a[32], b[32];
    return fl_seterr(err, errlen, "%s needs %s but only %s of memory is available; %s", what, human(need, a, sizeof a),
                     human(avail - margin, b, sizeof b), hint);
}
