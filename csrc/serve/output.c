/* output.c — everything the server writes: responses, chunk and log
 * notifications; a bounded output queue for a client that stops reading.
 * Loop thread only. See internal.h ("Output"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/internal.h"

typedef struct {
    uv_write_t req;
    srv_server *s;
    char *data;
    size_t len;
} out_write;

static rpc_framing framing(const srv_server *s) { return rpc_reader_framing(s->reader); }

static size_t queued(const srv_server *s) { return s->inflight + s->obuf.len; }

static int congested(const srv_server *s) { return queued(s) > s->cfg.out_soft; }

static int job_alts(const srv_job *j) { return j->kind == SRV_JOB_COMPLETE ? j->req.n_alt : 1; }

static void on_written(uv_write_t *req, int status) {
    out_write *w = (out_write *)req;
    srv_server *s = w->s;
    size_t n = w->len;
    free(w->data);
    free(w);
    srv_out_written(s, n, status);
}

/* Hands obuf to the stream (or writes it to a file). */
static void write_out(srv_server *s) {
    if (!s->obuf.len) return;
    if (s->out && uv_is_closing((uv_handle_t *)s->out)) { /* too late: the client is gone */
        s->obuf.len = 0;
        return;
    }
    size_t len = s->obuf.len;
    s->stats.bytes_out += len;
    s->stats.writes++;
    if (!s->out) { /* a regular file: blocking writes are fine */
        size_t off = 0;
        while (off < len) {
            ssize_t k = write(s->out_fd, s->obuf.data + off, len - off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            off += (size_t)k;
        }
        s->obuf.len = 0;
        if (off < len) srv_out_written(s, 0, UV_EPIPE);
        return;
    }
    out_write *w = malloc(sizeof *w);
    if (!w) return; /* keep it in obuf; the next pump tries again */
    w->s = s;
    w->data = s->obuf.data;
    w->len = len;
    s->obuf = (rpc_buf){0};
    s->inflight += len;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, s->out, &b, 1, on_written);
    if (rc) {
        s->inflight -= len;
        free(w->data);
        free(w);
        srv_out_written(s, 0, rc);
    }
}

void srv_out_response(srv_server *s, int64_t id, const char *error, const rpc_val *result) {
    if (rpc_write_response(&s->obuf, framing(s), id, error, result) && !error)
        rpc_write_response(&s->obuf, framing(s), id, "out of memory", NULL);
}

void srv_log(srv_server *s, const char *level, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (framing(s) == RPC_FRAMING_AUTO) { /* no way to reach the client yet */
        fprintf(stderr, "flint serve: %s: %s\n", level, msg);
        return;
    }
    if (congested(s)) {
        s->stats.logs_dropped++;
        s->dropped_unreported++;
        return;
    }
    rpc_arena a = {0};
    rpc_val *p = rpc_map(&a, 2);
    rpc_map_put(&a, p, "level", rpc_cstr(&a, level));
    rpc_map_put(&a, p, "message", rpc_cstr(&a, msg));
    if (!a.failed && !rpc_write_notify(&s->obuf, framing(s), s->nvim_exec_lua, "log", p)) s->stats.logs_sent++;
    rpc_arena_free(&a);
}

/* Encodes one chunk notification of job j. */
static void encode_chunk(srv_server *s, srv_job *j, int alt, const char *text, size_t len, int final,
                         const char *reason, const scan_finding *f, size_t nf, const srv_req_stats *st) {
    double now_ms = (fl_now() - j->t_arrival) * 1e3;
    if (now_ms <= 0) now_ms = 1e-3;
    if (!j->first_ms) j->first_ms = now_ms;
    if (final) {
        j->alt_done |= 1u << alt;
        if (j->alt_done == (1u << job_alts(j)) - 1) j->done_ms = now_ms;
    }
    rpc_arena a = {0};
    rpc_val *p = rpc_map(&a, 8);
    rpc_map_put(&a, p, "id", rpc_int(&a, j->id));
    rpc_map_put(&a, p, "alt", rpc_int(&a, alt));
    rpc_map_put(&a, p, "text", rpc_str(&a, text ? text : "", len));
    rpc_map_put(&a, p, "done", rpc_bool(&a, final));
    if (final) {
        rpc_map_put(&a, p, "reason", rpc_cstr(&a, reason));
        if (!strcmp(reason, "error")) rpc_map_put(&a, p, "error", rpc_cstr(&a, j->error[0] ? j->error : "internal error"));
        srv_req_stats t = *st;
        t.first_chunk_ms = j->first_ms;
        t.total_ms = now_ms;
        rpc_map_put(&a, p, "stats", srv_req_stats_val(&t, &a));
    }
    if (nf) {
        rpc_val *arr = rpc_arr(&a, nf);
        for (size_t i = 0; i < nf; i++) rpc_arr_push(&a, arr, srv_finding_val(s, &f[i], 1, &a));
        rpc_map_put(&a, p, "findings", arr);
    }
    if (!a.failed && !rpc_write_notify(&s->obuf, framing(s), s->nvim_exec_lua, "chunk", p)) s->stats.chunks_sent++;
    rpc_arena_free(&a);
}

void srv_out_final(srv_server *s, srv_job *j, int alt, const char *reason) {
    srv_req_stats st = {.reason = reason};
    encode_chunk(s, j, alt, "", 0, 1, reason, NULL, 0, &st);
}

/* Appends e's text and findings to p (same job and alt); frees e. */
static void merge(srv_server *s, srv_event *p, srv_event *e) {
    if (e->len) {
        char *t = realloc(p->text, p->len + e->len);
        if (t) {
            memcpy(t + p->len, e->text, e->len);
            p->text = t;
            p->len += e->len;
        }
    }
    if (e->nfindings) {
        scan_finding *f = realloc(p->findings, (p->nfindings + e->nfindings) * sizeof *f);
        if (f) {
            memcpy(f + p->nfindings, e->findings, e->nfindings * sizeof *f);
            p->findings = f;
            p->nfindings += e->nfindings;
        }
    }
    if (e->final) {
        p->final = 1;
        p->reason = e->reason;
        p->st = e->st;
    }
    s->stats.chunks_merged++;
    if (congested(s)) s->merged_unreported++;
    srv_event_free(e);
}

void srv_out_event(srv_server *s, srv_event *e) {
    s->pend_bytes += e->len;
    for (srv_event *p = s->pend_head; p; p = p->next)
        if (p->job == e->job && p->alt == e->alt) {
            merge(s, p, e);
            return;
        }
    e->next = NULL;
    if (s->pend_tail) s->pend_tail->next = e;
    else s->pend_head = e;
    s->pend_tail = e;
    e->job->npending++;
}

void srv_out_drop_job(srv_server *s, srv_job *j) {
    srv_event **pp = &s->pend_head, *last = NULL;
    while (*pp) {
        srv_event *e = *pp;
        if (e->job != j) {
            last = e;
            pp = &e->next;
            continue;
        }
        *pp = e->next;
        s->pend_bytes -= e->len;
        s->stats.chunks_dropped++;
        srv_event_free(e);
    }
    s->pend_tail = last;
    j->npending = 0;
}

void srv_out_pump(srv_server *s) {
    while (s->pend_head && !congested(s)) {
        srv_event *e = s->pend_head;
        s->pend_head = e->next;
        if (!s->pend_head) s->pend_tail = NULL;
        s->pend_bytes -= e->len;
        srv_job *j = e->job;
        j->npending--;
        encode_chunk(s, j, e->alt, e->text, e->len, e->final, e->reason, e->findings, e->nfindings, &e->st);
        srv_event_free(e);
        srv_job_release(s, j);
    }
    if (!s->pend_head && !congested(s) && (s->merged_unreported || s->dropped_unreported)) {
        uint64_t m = s->merged_unreported, d = s->dropped_unreported;
        s->merged_unreported = s->dropped_unreported = 0;
        srv_log(s, "warn", "the editor did not read for a while: %llu chunk notifications were merged, %llu log messages dropped",
                (unsigned long long)m, (unsigned long long)d);
    }
    write_out(s);
}
