/* pool.h — the compute pool: the calling thread plus N-1 helpers.
 *
 * pool_run(fn) runs fn(arg, ith, nth) on every thread of the pool (the
 * caller is ith = 0) and returns when all have finished. Helpers spin briefly
 * between runs (a decode issues hundreds of runs back to back), then sleep,
 * so an idle pool costs no CPU. No allocation happens in pool_run.
 */
#ifndef FLINT_POOL_H
#define FLINT_POOL_H

typedef struct eng_pool eng_pool;
typedef void (*pool_fn)(void *arg, int ith, int nth);

/* A pool of n_threads (>= 1) threads including the caller. NULL on failure. */
eng_pool *pool_new(int n_threads);

/* Stop and join the helpers. NULL is fine. */
void pool_free(eng_pool *p);

int pool_size(const eng_pool *p);

/* Run fn on all threads; returns after every thread returned. Not reentrant. */
void pool_run(eng_pool *p, pool_fn fn, void *arg);

/* Inside a pool_run function only: wait until every thread of the run has
 * reached the barrier (phases within one run, without another wake-up). */
void pool_barrier(eng_pool *p);

/* Split [0, n) into nth nearly equal parts; part ith is [*lo, *hi). */
static inline void pool_split(int n, int ith, int nth, int *lo, int *hi) {
    int per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem);
}

#endif
