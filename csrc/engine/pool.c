/* pool.c — spin-then-sleep compute pool. See pool.h. */
#include "engine/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/common.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#include <sched.h>

/* The pool whose pool_run this thread is in, as its caller (barrier waits
 * of the caller count as waiting for the helpers). */
static _Thread_local const struct eng_pool *calling;

#define SPIN_ITERS 200000 /* ~ a few hundred microseconds of waiting before sleeping */
#define WINDOW_RUNS 64    /* runs per measurement of whether the helpers pay */
#define SOLO_S_MIN 2e-3  /* seconds on the caller alone after a window where they did not ... */
#define SOLO_S_MAX 0.512 /* ... doubling while the tries after it fail */
#define STALL_S 200e-6   /* waits beyond the helpers' worth by this much end a window at once */
#define YIELD_AFTER 2000  /* then yield between checks, so a busy machine still runs the thread we wait for */

/* One step of a wait loop: pause, or give the CPU away once we have spun a while. */
static inline void wait_step(int spins) {
    if (spins < YIELD_AFTER) cpu_relax();
    else sched_yield();
}

struct eng_pool {
    int n;
    pthread_t *threads;
    pool_fn fn;
    void *arg;
    atomic_uint generation;   /* bumped for every run */
    atomic_int pending;       /* helpers that have not finished the current run */
    atomic_int stop;
    atomic_int sleepers;
    atomic_int bar_count;     /* threads arrived at the current barrier */
    atomic_uint bar_gen;      /* barriers completed */
    int active;               /* threads in the current run: n, or 1 on the caller alone */
    /* whether the helpers pay (caller's thread only) */
    double win_own, win_wait; /* caller's seconds working and waiting in this window */
    int win_runs;             /* measured runs in this window */
    double solo_until;        /* fl_now() before which runs are made alone; 0 none */
    double solo_len;          /* seconds of the next solo stretch */
    long solo_total;          /* runs made alone so far */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

typedef struct { eng_pool *p; int ith; } worker_arg;
static worker_arg *worker_args(eng_pool *p) { return (worker_arg *)(p->threads + p->n); }

static void *worker(void *a) {
    worker_arg *wa = a;
    eng_pool *p = wa->p;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               !atomic_load(&p->stop)) {
            if (++spins < SPIN_ITERS) { wait_step(spins); continue; }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        p->fn(p->arg, wa->ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

eng_pool *pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    eng_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    p->threads = calloc((size_t)n_threads, sizeof(pthread_t) + sizeof(worker_arg));
    if (!p->threads) { free(p); return NULL; }
    p->active = n_threads;
    p->solo_len = SOLO_S_MIN;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = &worker_args(p)[i];
        wa->p = p;
        wa->ith = i;
        if (pthread_create(&p->threads[i], NULL, worker, wa)) {
            p->n = i; /* keep the ones that started */
            break;
        }
    }
    return p;
}

void pool_free(eng_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}

int pool_size(const eng_pool *p) { return p->n; }

long pool_solo_runs(const eng_pool *p) { return p->solo_total; }

/* After each measured run: the helpers pay when the caller waits less than
 * the (n - 1) shares of work it would have done alone take. A window fails
 * at once when the waits exceed that by STALL_S (a descheduled helper costs
 * a whole time slice per run: waiting for the window's end would multiply
 * it), else it is judged after WINDOW_RUNS runs. */
static void judge(eng_pool *p) {
    double worth = (p->n - 1) * p->win_own;
    int stalled = p->win_wait > worth + STALL_S;
    if (!stalled && ++p->win_runs < WINDOW_RUNS) return;
    if (p->win_wait > worth) {
        p->solo_until = fl_now() + p->solo_len;
        p->solo_len = p->solo_len * 2 < SOLO_S_MAX ? p->solo_len * 2 : SOLO_S_MAX;
    } else {
        p->solo_len = SOLO_S_MIN;
    }
    p->win_own = p->win_wait = 0;
    p->win_runs = 0;
}

void pool_run(eng_pool *p, pool_fn fn, void *arg) {
    if (p->n == 1) { fn(arg, 0, 1); return; }
    if (p->solo_until) {
        if (fl_now() < p->solo_until) {
            p->solo_total++;
            p->active = 1;
            fn(arg, 0, 1);
            return;
        }
        p->solo_until = 0;
    }
    p->active = p->n;
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    atomic_fetch_add(&p->generation, 1); /* seq_cst: ordered before the sleepers check */
    int woke = atomic_load(&p->sleepers) > 0;
    if (woke) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    double wait0 = p->win_wait, t0 = fl_now();
    calling = p;
    fn(arg, 0, p->n);
    calling = NULL;
    double t1 = fl_now();
    for (int spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) wait_step(spins);
    double t2 = fl_now(), in_bar = p->win_wait - wait0; /* the caller's barrier waits in fn */
    if (woke) { /* a wake-up's latency says nothing about a busy machine */
        p->win_wait = wait0;
        return;
    }
    p->win_own += t1 - t0 - in_bar;
    p->win_wait += t2 - t1;
    judge(p);
}

void pool_barrier(eng_pool *p) {
    if (p->active == 1) return;
    double t0 = calling == p ? fl_now() : 0;
    unsigned g = atomic_load_explicit(&p->bar_gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) == p->n - 1) {
        atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->bar_gen, 1, memory_order_release);
    } else {
        for (int spins = 0; atomic_load_explicit(&p->bar_gen, memory_order_acquire) == g; spins++) wait_step(spins);
    }
    if (calling == p) p->win_wait += fl_now() - t0;
}
