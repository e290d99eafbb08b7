/* pool.c — spin-then-sleep compute pool. See pool.h. */
#include "engine/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#include <sched.h>

#define SPIN_ITERS 200000 /* ~ a few hundred microseconds of waiting before sleeping */
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

void pool_run(eng_pool *p, pool_fn fn, void *arg) {
    if (p->n == 1) { fn(arg, 0, 1); return; }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    atomic_fetch_add(&p->generation, 1); /* seq_cst: ordered before the sleepers check */
    if (atomic_load(&p->sleepers)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, p->n);
    for (int spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) wait_step(spins);
}

void pool_barrier(eng_pool *p) {
    if (p->n == 1) return;
    unsigned g = atomic_load_explicit(&p->bar_gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) == p->n - 1) {
        atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->bar_gen, 1, memory_order_release);
        return;
    }
    for (int spins = 0; atomic_load_explicit(&p->bar_gen, memory_order_acquire) == g; spins++) wait_step(spins);
}
