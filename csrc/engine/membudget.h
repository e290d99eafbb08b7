/* membudget.h — refuse, with a clear message, to load what would push the
 * machine into swap. A model's weights stay mmapped (they count as page cache,
 * not as a second copy); its KV cache and scratch are anonymous memory.
 * FLINT_MEM_AVAILABLE=<bytes> overrides the measured figure and treats
 * nothing as cached (tests simulate a smaller machine with it). */
#ifndef FLINT_MEMBUDGET_H
#define FLINT_MEMBUDGET_H

#include <stddef.h>

/* Bytes this process may still use without swapping: MemAvailable from
 * /proc/meminfo (or the override). 0 if unknown (then nothing is refused). */
size_t mem_available(void);

/* Bytes of [addr, addr+len) already resident (page cache of a mapped file);
 * 0 under FLINT_MEM_AVAILABLE. */
size_t mem_resident(const void *addr, size_t len);

/* Check that `need` more bytes fit into `avail` (keeping a safety margin of
 * min(256 MiB, avail/8)); otherwise fill err with "<what> needs X GiB but
 * only Y GiB of memory is available; <hint>" and return -1. */
int mem_check(size_t need, size_t avail, const char *what, const char *hint, char *err, size_t errlen);

#endif
