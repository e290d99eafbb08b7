/* server.c — the libuv loop: stdio, the reader, the worker's wake-ups, and
 * the way out (shutdown, EOF, a client that is gone). See serve.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/internal.h"

/* ---- input ------------------------------------------------------------ */

static void on_reader_message(void *ud, const rpc_msg *m) {
    srv_server *s = ud;
    if (!s->quitting) srv_handle_message(s, m);
}

static void on_reader_error(void *ud, int has_id, int64_t id, const char *what) {
    srv_server *s = ud;
    s->stats.errors++;
    if (has_id) srv_out_response(s, id, what, NULL);
    else srv_log(s, "error", "bad message: %s", what);
}

static const rpc_reader_cb reader_cb = {on_reader_message, on_reader_error};

/* Feeds input to the reader; then output and flow control. */
static void consume(srv_server *s, const char *p, size_t n) {
    if (rpc_reader_feed(s->reader, p, n, &reader_cb, s)) srv_log(s, "error", "out of memory while reading input");
    srv_out_pump(s);
    if (!s->quitting && s->inflight + s->obuf.len + s->pend_bytes > s->cfg.out_hard) srv_input_pause(s);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    srv_server *s = h->loop->data;
    *buf = uv_buf_init(s->in_buf, sizeof s->in_buf);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    srv_server *s = st->loop->data;
    if (n > 0) consume(s, buf->base, (size_t)n);
    else if (n < 0) { /* EOF or a read error: the editor is gone */
        s->reading = 0;
        srv_begin_quit(s);
    }
}

static void on_fs_read(uv_fs_t *req);

static void start_fs_read(srv_server *s) {
    uv_buf_t b = uv_buf_init(s->in_buf, sizeof s->in_buf);
    s->fs_busy = !uv_fs_read(&s->loop, &s->in_req, s->in_fd, &b, 1, -1, on_fs_read);
    if (!s->fs_busy) {
        s->reading = 0;
        srv_begin_quit(s);
    }
}

static void on_fs_read(uv_fs_t *req) {
    srv_server *s = req->loop->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    s->fs_busy = 0;
    if (s->quitting) return;
    if (n <= 0) {
        s->reading = 0;
        srv_begin_quit(s);
        return;
    }
    consume(s, s->in_buf, (size_t)n);
    if (s->reading) start_fs_read(s);
}

void srv_input_pause(srv_server *s) {
    if (!s->reading) return;
    s->reading = 0;
    s->stats.input_pauses++;
    if (s->in) uv_read_stop(s->in); /* file input: the read in flight completes, no next one starts */
}

void srv_input_resume(srv_server *s) {
    if (s->reading || s->quitting) return;
    s->reading = 1;
    if (s->in) uv_read_start(s->in, on_alloc, on_read);
    else if (!s->fs_busy) start_fs_read(s);
}

/* ---- output flow and the end ------------------------------------------ */

static void on_closed(uv_handle_t *h) { (void)h; }

static void close_output(srv_server *s) {
    if (s->out && !uv_is_closing((uv_handle_t *)s->out)) uv_close((uv_handle_t *)s->out, on_closed);
    if (!uv_is_closing((uv_handle_t *)&s->quit_timer)) uv_close((uv_handle_t *)&s->quit_timer, on_closed);
}

void srv_out_written(srv_server *s, size_t n, int status) {
    s->inflight -= n;
    if (status < 0) { /* the client is gone (or the write was cancelled at exit) */
        s->obuf.len = 0;
        srv_begin_quit(s);
    }
    if (s->quitting) {
        if (!s->inflight && !s->obuf.len) close_output(s);
        return;
    }
    srv_out_pump(s);
    if (!s->reading && s->inflight + s->obuf.len + s->pend_bytes <= s->cfg.out_soft) srv_input_resume(s);
}

static void on_quit_timer(uv_timer_t *t) { close_output(t->loop->data); }

/* Everything the worker posted: chunks to the output queue, ends of jobs. */
static void drain(srv_server *s) {
    for (srv_event *e = srv_worker_take_events(&s->worker), *next; e; e = next) {
        next = e->next;
        srv_job *j = e->job;
        if (e->job_over) {
            j->st = e->st;
            j->worker_done = 1;
            srv_event_free(e);
            srv_job_release(s, j);
        } else if (j->client_done || (j->alt_done & (1u << e->alt))) srv_event_free(e);
        else srv_out_event(s, e);
    }
}

static void on_async(uv_async_t *a) {
    srv_server *s = a->loop->data;
    drain(s);
    srv_out_pump(s);
}

void srv_begin_quit(srv_server *s) {
    if (s->quitting) return;
    s->quitting = 1;
    if (s->in) {
        uv_read_stop(s->in);
        uv_close((uv_handle_t *)s->in, on_closed);
    }
    s->reading = 0;
    for (srv_job *j = s->jobs; j; j = j->next) srv_job_cancel(s, j);
    for (srv_job *j = srv_worker_stop(&s->worker), *next; j; j = next) { /* normally none: cancelled above */
        next = j->qnext;
        j->worker_done = 1;
        srv_job_release(s, j);
    }
    drain(s);
    srv_out_pump(s);
    uv_close((uv_handle_t *)&s->async, on_closed);
    if (!s->inflight && !s->obuf.len) close_output(s);
    else uv_timer_start(&s->quit_timer, on_quit_timer, 2000, 0);
}

/* ---- setup ------------------------------------------------------------ */

static int open_stream(srv_server *s, int fd, int readable, uv_stream_t **out, char *err, size_t errlen) {
    void *h = readable ? (void *)&s->in_h : (void *)&s->out_h;
    int rc;
    switch (uv_guess_handle(fd)) {
    case UV_TTY: rc = uv_tty_init(&s->loop, h, fd, readable); break;
    case UV_NAMED_PIPE: rc = uv_pipe_init(&s->loop, h, 0); if (!rc) rc = uv_pipe_open(h, fd); break;
    case UV_TCP: rc = uv_tcp_init(&s->loop, h); if (!rc) rc = uv_tcp_open(h, fd); break;
    case UV_FILE: *out = NULL; return 0;
    default: return fl_seterr(err, errlen, "fd %d is neither a pipe, a socket, a terminal nor a file", fd);
    }
    if (rc) return fl_seterr(err, errlen, "fd %d: %s", fd, uv_strerror(rc));
    *out = h;
    return 0;
}

static void free_server(srv_server *s) {
    srv_worker_free(&s->worker);
    rpc_reader_free(s->reader);
    rpc_buf_free(&s->obuf);
    for (srv_event *e = s->pend_head, *next; e; e = next) {
        next = e->next;
        srv_event_free(e);
    }
    srv_model_free(&s->model);
    scan_rules_free(s->rules);
    free(s);
}

int srv_run(const srv_config *c, int in_fd, int out_fd, char *err, size_t errlen) {
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, not a signal */
    srv_server *s = calloc(1, sizeof *s);
    if (!s) return fl_seterr(err, errlen, "out of memory");
    s->cfg = *c;
    s->in_fd = in_fd;
    s->out_fd = out_fd;
    s->next_id = SRV_FIRST_ID;
    s->stats.t_start = fl_now();
    if (uv_loop_init(&s->loop)) {
        free(s);
        return fl_seterr(err, errlen, "cannot start the event loop");
    }
    s->loop.data = s;
    uv_async_init(&s->loop, &s->async, on_async);
    srv_worker_init(&s->worker, &s->async);
    uv_timer_init(&s->loop, &s->quit_timer);
    int rc = -1;
    if (!(s->reader = rpc_reader_new(c->framing, c->max_message))) {
        fl_seterr(err, errlen, "out of memory");
        goto close;
    }
    if (!(s->rules = scan_rules_new(c->scan_config, s->rules_err, sizeof s->rules_err))) {
        fl_seterr(err, errlen, "scanner configuration: %s", s->rules_err);
        goto close;
    }
    if (srv_allow_load(s, err, errlen)) goto close;
    if (open_stream(s, in_fd, 1, &s->in, err, errlen) || open_stream(s, out_fd, 0, &s->out, err, errlen)) goto close;
    s->model_ok = !srv_model_load(&s->model, &s->cfg, s->model_err, sizeof s->model_err);
    if (s->model_ok &&
        srv_worker_start(&s->worker, &s->cfg, &s->model, s->rules, s->model_err, sizeof s->model_err))
        s->model_ok = 0;
    if (!s->model_ok) fprintf(stderr, "flint serve: %s\n", s->model_err);
    srv_input_resume(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    rc = 0;
close:
    if (rc) { /* setup failed before the loop ran: close what was opened */
        srv_worker_stop(&s->worker);
        uv_close((uv_handle_t *)&s->async, on_closed);
        uv_close((uv_handle_t *)&s->quit_timer, on_closed);
        if (s->in) uv_close((uv_handle_t *)s->in, on_closed);
        if (s->out) uv_close((uv_handle_t *)s->out, on_closed);
        uv_run(&s->loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&s->loop);
    free_server(s);
    return rc;
}
