/* pool.h — the compute pool: the calling thread plus N-1 helpers.
 *
 * pool_run(fn) runs fn(arg, ith, nth) on every thread of the pool (the
 * caller is ith = 0) and returns when all have finished. Helpers spin briefly
 * between runs (a decode issues hundreds of runs back to back), then sleep,
 * so an idle pool costs no CPU. No allocation happens in pool_run.
 *
 * On a busy machine a helper may be descheduled for a whole time slice while
 * the caller waits for it, many times per token: two threads then run ten
 * times slower than one. So the pool measures, over windows of runs, how
 * long the caller waits for the helpers against how long it works itself;
 * where the helpers no longer pay (the waits exceed what the caller would
 * take to do their share), it runs the next runs on the caller alone
 * (nth = 1), then tries the helpers again, backing off while they keep
 * failing. Results do not depend on nth (each output is computed whole by
 * one thread).
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

/* Runs made on the caller alone because the helpers did not pay (for
 * statistics and tests). */
long pool_solo_runs(const eng_pool *p);

/* Run fn on the pool's threads (all of them, or the caller alone while the
 * helpers do not pay, see above); returns after every thread returned. Not
 * reentrant. */
void pool_run(eng_pool *p, pool_fn fn, void *arg);

/* Inside a pool_run function only: wait until every thread of the run has
 * reached the barrier (phases within one run, without another wake-up).
 * Returns at once in a run with nth = 1. */
void pool_barrier(eng_pool *p);

/* Split [0, n) into nth nearly equal parts; part ith is [*lo, *hi). */
static inline void pool_split(int n, int ith, int nth, int *lo, int *hi) {
    int per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem);
}

#endif
