/* membw.h — measure this machine's memory read bandwidth, the roofline that
 * token generation is judged against: a streaming read of a large buffer with
 * the widest vector loads the CPU has, split across threads. */
#ifndef FLINT_MEMBW_H
#define FLINT_MEMBW_H

#include <stddef.h>

/* Best-of-`reps` read bandwidth in bytes/s over a buffer of `bytes` with
 * n_threads threads; returns a negative value if the buffer cannot be allocated. */
double membw_read(size_t bytes, int n_threads, int reps);

#endif
