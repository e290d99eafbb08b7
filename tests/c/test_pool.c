/* test_pool.c — the compute pool: every run covers its range exactly once
 * with all threads or with the caller alone, barriers order the phases of a
 * run, and a helper that keeps the caller waiting (as a descheduled thread
 * does on a busy machine) makes the pool run on the caller alone, then take
 * the helpers back once they pay again. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "engine/pool.h"
#include "tap.h"

#define N_ITEMS 1000

typedef struct {
    eng_pool *pool;
    int phase1[N_ITEMS];       /* written in phase 1 */
    int phase2_sum[N_ITEMS];   /* phase 2 reads the item written by another thread's share */
    atomic_int visits[N_ITEMS];
    int last_nth;
    int helper_sleep_us;       /* helpers (ith > 0) sleep this long per run */
    int caller_spin_us;        /* every thread spins this long per run */
} job;

static void sleep_us(int us) {
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void spin_us(int us) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static void two_phases(void *arg, int ith, int nth) {
    job *j = arg;
    if (ith == 0) j->last_nth = nth;
    int lo, hi;
    pool_split(N_ITEMS, ith, nth, &lo, &hi);
    for (int i = lo; i < hi; i++) {
        j->phase1[i] = i + 1;
        atomic_fetch_add(&j->visits[i], 1);
    }
    if (nth > 1) pool_barrier(j->pool);
    for (int i = lo; i < hi; i++) j->phase2_sum[i] = j->phase1[N_ITEMS - 1 - i];
}

/* Runs two_phases once; 1 if every item was visited once and phase 2 saw
 * every phase-1 write. */
static int run_checked(job *j) {
    memset(j->phase1, 0, sizeof j->phase1);
    for (int i = 0; i < N_ITEMS; i++) atomic_store(&j->visits[i], 0);
    pool_run(j->pool, two_phases, j);
    for (int i = 0; i < N_ITEMS; i++)
        if (atomic_load(&j->visits[i]) != 1 || j->phase2_sum[i] != N_ITEMS - i) return 0;
    return 1;
}

static void timed(void *arg, int ith, int nth) {
    job *j = arg;
    if (ith == 0) j->last_nth = nth;
    if (ith > 0 && j->helper_sleep_us) sleep_us(j->helper_sleep_us);
    spin_us(j->caller_spin_us);
}

static void test_coverage(int n_threads) {
    job j = {0};
    j.pool = pool_new(n_threads);
    CHECK(j.pool && pool_size(j.pool) == n_threads, "pool of %d threads", n_threads);
    if (!j.pool) return;
    int ok = 1, saw_all = 0;
    for (int r = 0; r < 300 && ok; r++) {
        ok = run_checked(&j);
        saw_all |= j.last_nth == n_threads;
        if (r % 100 == 99) sleep_us(2000); /* let the helpers fall asleep: runs must wake them */
    }
    CHECK(ok, "%d threads: 300 runs, each item once per run, phase 2 after every phase-1 write", n_threads);
    if (n_threads > 1) CHECK(saw_all, "%d threads: runs use every thread", n_threads);
    pool_free(j.pool);
}

static void test_slow_helper(void) {
    job j = {0};
    j.pool = pool_new(2);
    if (!CHECK(j.pool != NULL, "pool of 2 threads")) return;
    /* the helper takes 3 ms per run, the caller 20 µs: waiting costs far more
     * than doing the helper's share alone */
    j.helper_sleep_us = 3000;
    j.caller_spin_us = 20;
    int solo_after = -1;
    for (int r = 0; r < 50 && solo_after < 0; r++) {
        pool_run(j.pool, timed, &j);
        if (j.last_nth == 1) solo_after = r;
    }
    CHECK(solo_after >= 1 && solo_after <= 3, "a helper that keeps the caller waiting: alone after %d runs",
          solo_after);
    CHECK(pool_solo_runs(j.pool) >= 1, "solo runs counted (%ld)", pool_solo_runs(j.pool));
    /* while alone the runs are correct too */
    CHECK(run_checked(&j) && j.last_nth == 1, "runs on the caller alone cover every item once");
    /* the helper is fast again: within a few solo stretches the pool takes it back */
    j.helper_sleep_us = 0;
    j.caller_spin_us = 50;
    int back = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        pool_run(j.pool, timed, &j);
        back = j.last_nth == 2;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while (!back && b.tv_sec - a.tv_sec < 10);
    CHECK(back, "a helper that pays again is used again");
    CHECK(run_checked(&j), "and runs cover every item once after it");
    pool_free(j.pool);
}

int main(void) {
    test_coverage(1);
    test_coverage(2);
    test_coverage(3);
    test_slow_helper();
    return tap_done();
}
