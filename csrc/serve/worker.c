/* worker.c — the worker thread and its two queues: jobs in (mutex +
 * condition variable), events out (mutex + uv_async_send; the loop takes
 * the whole list per wake-up). */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

void srv_event_free(srv_event *e) {
    if (!e) return;
    free(e->text);
    free(e->findings);
    free(e);
}

static void *worker_main(void *arg) {
    srv_worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->qhead && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        srv_job *j = w->qhead;
        w->qhead = j->qnext;
        if (!w->qhead) w->qtail = NULL;
        j->qnext = NULL;
        j->taken = 1;
        pthread_mutex_unlock(&w->mu);
        srv_job_run(w, j);
    }
    return NULL;
}

void srv_worker_init(srv_worker *w, uv_async_t *async) {
    memset(w, 0, sizeof *w);
    w->async = async;
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->ev_mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static void free_spec_memory(srv_worker *w) {
    for (int i = 0; i < 2; i++) {
        spec_memory_free(w->spec_mem[i]);
        w->spec_mem[i] = NULL;
        w->spec_mem_mode[i] = NULL;
    }
}

int srv_worker_start(srv_worker *w, const srv_config *cfg, const srv_model *m, const scan_rules *rules, char *err,
                     size_t errlen) {
    w->cfg = cfg;
    w->model = m;
    w->rules = rules;
    w->n_slots = cfg->n_slots > 0 ? cfg->n_slots : 1;
    w->slots = calloc((size_t)w->n_slots, sizeof *w->slots);
    w->logits0 = fl_malloc_array((size_t)m->hp.n_vocab, sizeof(float));
    w->logits_heal = fl_malloc_array((size_t)m->hp.n_vocab, sizeof(float));
    for (int i = 0; i < 2; i++) w->spec_mem[i] = spec_memory_new();
    if (!w->slots || !w->logits0 || !w->logits_heal || !w->spec_mem[0] || !w->spec_mem[1] ||
        pthread_create(&w->thread, NULL, worker_main, w)) {
        free(w->slots);
        free(w->logits0);
        free(w->logits_heal);
        w->slots = NULL;
        w->logits0 = w->logits_heal = NULL;
        free_spec_memory(w);
        return fl_seterr(err, errlen, "cannot start the worker thread");
    }
    w->started = 1;
    return 0;
}

void srv_worker_push(srv_worker *w, srv_job *j) {
    pthread_mutex_lock(&w->mu);
    j->qnext = NULL;
    if (w->qtail) w->qtail->qnext = j;
    else w->qhead = j;
    w->qtail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int srv_worker_unqueue(srv_worker *w, srv_job *j) {
    int removed = 0;
    pthread_mutex_lock(&w->mu);
    if (!j->taken) {
        srv_job **pp = &w->qhead, *prev = NULL;
        while (*pp && *pp != j) prev = *pp, pp = &(*pp)->qnext;
        if (*pp) {
            *pp = j->qnext;
            if (w->qtail == j) w->qtail = prev;
            j->qnext = NULL;
            removed = 1;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return removed;
}

srv_job *srv_worker_stop(srv_worker *w) {
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    srv_job *left = w->qhead;
    w->qhead = w->qtail = NULL;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->started) pthread_join(w->thread, NULL);
    w->started = 0;
    for (int i = 0; i < w->n_slots; i++) eng_ctx_free(w->slots[i].ctx);
    free(w->slots);
    free(w->logits0);
    free(w->logits_heal);
    w->slots = NULL;
    w->logits0 = w->logits_heal = NULL;
    w->n_slots = 0;
    free_spec_memory(w);
    return left;
}

void srv_worker_free(srv_worker *w) {
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->ev_mu);
    pthread_cond_destroy(&w->cv);
}

void srv_worker_post(srv_worker *w, srv_event *e) {
    pthread_mutex_lock(&w->ev_mu);
    e->next = NULL;
    if (w->ev_tail) w->ev_tail->next = e;
    else w->ev_head = e;
    w->ev_tail = e;
    pthread_mutex_unlock(&w->ev_mu);
    uv_async_send(w->async);
}

srv_event *srv_worker_take_events(srv_worker *w) {
    pthread_mutex_lock(&w->ev_mu);
    srv_event *list = w->ev_head;
    w->ev_head = w->ev_tail = NULL;
    pthread_mutex_unlock(&w->ev_mu);
    return list;
}
