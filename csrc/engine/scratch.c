/* scratch.c — per-thread scratch buffers for the kernels (see kernels.h). */
#include <pthread.h>
#include <stdlib.h>

#include "engine/kernels.h"

typedef struct {
    void *p[KQ_SCRATCH_N];
    size_t cap[KQ_SCRATCH_N];
} scratch_set;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void release(void *v) {
    scratch_set *s = v;
    for (int i = 0; i < KQ_SCRATCH_N; i++) free(s->p[i]);
    free(s);
}

static void make_key(void) { pthread_key_create(&key, release); }

void *kq_scratch(int slot, size_t bytes) {
    pthread_once(&once, make_key);
    scratch_set *s = pthread_getspecific(key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return NULL;
        pthread_setspecific(key, s);
    }
    if (bytes > s->cap[slot]) {
        free(s->p[slot]);
        s->p[slot] = aligned_alloc(64, (bytes + 63) / 64 * 64);
        s->cap[slot] = s->p[slot] ? bytes : 0;
    }
    return s->p[slot];
}

void kq_scratch_release(void) {
    pthread_once(&once, make_key);
    scratch_set *s = pthread_getspecific(key);
    if (s) {
        release(s);
        pthread_setspecific(key, NULL);
    }
}
