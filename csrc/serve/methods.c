/* methods.c — the dispatch table (one for both framings), the handlers, and
 * the loop's side of a job's life: start, supersede, cancel, deadline,
 * release. Loop thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/internal.h"

static int job_alts(const srv_job *j) { return j->kind == SRV_JOB_COMPLETE ? j->req.n_alt : 1; }

static srv_job *find_job(srv_server *s, int64_t id) {
    for (srv_job *j = s->jobs; j; j = j->next)
        if (j->id == id && !j->released) return j;
    return NULL;
}

static void on_job_closed(uv_handle_t *h) {
    srv_job *j = h->data;
    srv_request_free(&j->req);
    free(j);
}

void srv_job_release(srv_server *s, srv_job *j) {
    if (!j->worker_done || j->npending || j->released) return;
    j->released = 1;
    if (j->prev) j->prev->next = j->next;
    else s->jobs = j->next;
    if (j->next) j->next->prev = j->prev;
    srv_req_stats st = j->st;
    st.first_chunk_ms = j->first_ms;
    st.total_ms = j->done_ms ? j->done_ms : (fl_now() - j->t_arrival) * 1e3;
    srv_stats_add(&s->stats, j->id, &st);
    uv_close((uv_handle_t *)&j->timer, on_job_closed);
}

/* Final chunks for every open alternative, sent by the loop. */
static void finish_for_client(srv_server *s, srv_job *j, const char *reason) {
    uv_timer_stop(&j->timer);
    srv_out_drop_job(s, j);
    for (int alt = 0; alt < job_alts(j); alt++)
        if (!(j->alt_done & (1u << alt))) srv_out_final(s, j, alt, reason);
    j->client_done = 1;
}

/* A job the worker never started ends here. */
static void end_unstarted(srv_server *s, srv_job *j, const char *reason) {
    finish_for_client(s, j, reason);
    j->worker_done = 1;
    j->st.reason = reason;
    srv_job_release(s, j);
}

void srv_job_cancel(srv_server *s, srv_job *j) {
    if (j->client_done) return;
    s->stats.cancels++;
    srv_job_set_stop(j, SRV_STOP_CANCEL);
    if (srv_worker_unqueue(&s->worker, j)) {
        end_unstarted(s, j, "cancelled");
        return;
    }
    finish_for_client(s, j, "cancelled");
    srv_job_release(s, j);
}

static void on_deadline(uv_timer_t *t) {
    srv_job *j = t->data;
    srv_server *s = t->loop->data;
    if (j->client_done) return;
    if (srv_worker_unqueue(&s->worker, j)) end_unstarted(s, j, "max_ms");
    else srv_job_set_stop(j, SRV_STOP_DEADLINE); /* the worker ends it with the text so far */
    srv_out_pump(s);
}

/* ---- handlers --------------------------------------------------------- */

static rpc_val *model_val(const srv_model *m, rpc_arena *a) {
    rpc_val *v = rpc_map(a, 10);
    rpc_map_put(a, v, "name", rpc_cstr(a, m->name));
    rpc_map_put(a, v, "path", rpc_cstr(a, m->path));
    rpc_map_put(a, v, "arch", rpc_cstr(a, m->hp.arch));
    rpc_map_put(a, v, "n_vocab", rpc_int(a, m->hp.n_vocab));
    rpc_map_put(a, v, "n_ctx", rpc_int(a, m->n_ctx));
    rpc_map_put(a, v, "fim", m->fim.family ? rpc_cstr(a, m->fim.family) : rpc_nil(a));
    rpc_map_put(a, v, "fim_order", m->fim.family ? rpc_cstr(a, m->fim.spm ? "spm" : "psm") : rpc_nil(a));
    rpc_map_put(a, v, "chat", rpc_bool(a, m->chat != CHAT_PLAIN));
    rpc_map_put(a, v, "chat_format", rpc_cstr(a, chat_name(m->chat)));
    return v;
}

static int m_initialize(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    srv_server *s = ud;
    const char *str;
    const rpc_val *opts = NULL;
    if (rpc_field_str(p, "client", 0, &str, NULL, err, errlen) < 0 ||
        rpc_field_str(p, "client_version", 0, &str, NULL, err, errlen) < 0 ||
        rpc_field_of_type(p, "options", 0, RPC_MAP, &opts, err, errlen) < 0)
        return -1;
    int wrap = 0;
    if (opts) {
        int rc = rpc_field_str(opts, "notify", 0, &str, NULL, err, errlen);
        if (rc < 0) return fl_seterr(err, errlen, "options.notify must be a string");
        if (rc == 0 && strcmp(str, "nvim_exec_lua") && *str)
            return fl_seterr(err, errlen, "options.notify must be \"nvim_exec_lua\" or \"\"");
        wrap = rc == 0 && *str;
    }
    s->nvim_exec_lua = wrap;
    rpc_val *r = rpc_map(a, 6);
    rpc_map_put(a, r, "version", rpc_cstr(a, SRV_VERSION));
    rpc_map_put(a, r, "model", s->model_ok ? model_val(&s->model, a) : rpc_nil(a));
    if (s->model_ok && s->model.draft) {
        rpc_val *d = rpc_map(a, 2);
        rpc_map_put(a, d, "path", rpc_cstr(a, s->model.draft_path));
        rpc_map_put(a, d, "arch", rpc_cstr(a, eng_model_hparams(s->model.draft)->arch));
        rpc_map_put(a, r, "draft", d);
    } else rpc_map_put(a, r, "draft", rpc_nil(a));
    if (!s->model_ok) rpc_map_put(a, r, "error", rpc_cstr(a, s->model_err));
    rpc_val *c = rpc_map(a, 8);
    rpc_val *methods = rpc_arr(a, 8);
    static const char *const names[] = {"initialize", "complete", "refactor", "cancel",
                                        "scan",       "allow",    "stats",    "shutdown"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) rpc_arr_push(a, methods, rpc_cstr(a, names[i]));
    rpc_map_put(a, c, "methods", methods);
    rpc_map_put(a, c, "framing", rpc_cstr(a, rpc_reader_framing(s->reader) == RPC_FRAMING_JSON ? "json" : "msgpack"));
    rpc_map_put(a, c, "max_message", rpc_int(a, (int64_t)s->cfg.max_message));
    rpc_map_put(a, c, "n_alt_max", rpc_int(a, SRV_MAX_ALT));
    rpc_map_put(a, c, "scanner", rpc_bool(a, s->rules != NULL));
    rpc_map_put(a, c, "complete", rpc_bool(a, s->model_ok && s->model.fim.family));
    rpc_map_put(a, c, "refactor", rpc_bool(a, s->model_ok));
    rpc_map_put(a, r, "capabilities", c);
    *res = r;
    return 0;
}

static int start_job(srv_server *s, int kind, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    if (!s->model_ok) return fl_seterr(err, errlen, "no model: %s", s->model_err);
    if (kind == SRV_JOB_COMPLETE && !s->model.fim.family)
        return fl_seterr(err, errlen, "model %s has no fill-in-the-middle tokens", s->model.name);
    srv_job *j = calloc(1, sizeof *j);
    if (!j) return fl_seterr(err, errlen, "out of memory");
    int64_t id;
    if (srv_request_parse(kind, p, &j->req, j->buf, &id, err, errlen)) {
        free(j);
        return -1;
    }
    if (srv_request_spec(&j->req, kind, &s->cfg, &s->model, err, errlen)) {
        srv_request_free(&j->req);
        free(j);
        return -1;
    }
    if (id && find_job(s, id)) {
        srv_request_free(&j->req);
        free(j);
        return fl_seterr(err, errlen, "id %lld is still in use", (long long)id);
    }
    if (kind == SRV_JOB_COMPLETE) /* a newer completion for the buffer supersedes the older ones */
        for (srv_job *o = s->jobs; o; o = o->next)
            if (o->kind == SRV_JOB_COMPLETE && !o->client_done && !strcmp(o->buf, j->buf)) {
                s->stats.superseded++;
                srv_job_cancel(s, o);
            }
    j->kind = kind;
    j->id = id ? id : s->next_id++;
    j->t_arrival = s->t_msg;
    uv_timer_init(&s->loop, &j->timer);
    j->timer.data = j;
    j->next = s->jobs;
    if (s->jobs) s->jobs->prev = j;
    s->jobs = j;
    if (j->req.max_ms) uv_timer_start(&j->timer, on_deadline, (uint64_t)j->req.max_ms, 0);
    srv_worker_push(&s->worker, j);
    if (kind == SRV_JOB_COMPLETE) s->stats.completes++;
    else s->stats.refactors++;
    rpc_val *r = rpc_map(a, 1);
    rpc_map_put(a, r, "id", rpc_int(a, j->id));
    *res = r;
    return 0;
}

static int m_complete(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    return start_job(ud, SRV_JOB_COMPLETE, p, a, res, err, errlen);
}

static int m_refactor(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    return start_job(ud, SRV_JOB_REFACTOR, p, a, res, err, errlen);
}

static int m_cancel(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    srv_server *s = ud;
    int64_t id;
    if (rpc_field_int(p, "id", 1, 1, INT64_MAX, &id, err, errlen)) return -1;
    srv_job *j = find_job(s, id);
    if (j) srv_job_cancel(s, j); /* an id that already finished is not an error */
    return 0;
}

static int m_scan(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    srv_server *s = ud;
    const char *text, *role, *ft = NULL;
    size_t len;
    if (rpc_field_str(p, "text", 1, &text, &len, err, errlen) || rpc_field_str(p, "role", 1, &role, NULL, err, errlen) ||
        rpc_field_str(p, "filetype", 0, &ft, NULL, err, errlen) < 0)
        return -1;
    scan_role r;
    if (!strcmp(role, "context")) r = SCAN_ROLE_CONTEXT;
    else if (!strcmp(role, "output")) r = SCAN_ROLE_OUTPUT;
    else return fl_seterr(err, errlen, "'role' must be \"context\" or \"output\"");
    if (!s->rules) return fl_seterr(err, errlen, "the scanner is not available: %s", s->rules_err);
    scan_finding *f = NULL;
    size_t n = 0;
    if (scan_text(s->rules, r, ft, text, len, &f, &n)) return fl_seterr(err, errlen, "out of memory while scanning");
    rpc_val *arr = rpc_arr(a, n);
    for (size_t i = 0; i < n; i++) rpc_arr_push(a, arr, srv_finding_val(s, &f[i], 0, a));
    free(f);
    rpc_val *r2 = rpc_map(a, 1);
    rpc_map_put(a, r2, "findings", arr);
    *res = r2;
    return 0;
}

static int m_stats(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    srv_server *s = ud;
    rpc_reader_stats rd;
    rpc_reader_get_stats(s->reader, &rd);
    *res = srv_stats_result(&s->stats, &rd, a);
    return 0;
}

static int m_shutdown(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen) {
    srv_server *s = ud;
    s->shutdown_requested = 1;
    return 0;
}

static const rpc_method methods[] = {
    {"initialize", m_initialize}, {"complete", m_complete}, {"refactor", m_refactor}, {"cancel", m_cancel},
    {"scan", m_scan},             {"allow", srv_m_allow},   {"stats", m_stats},       {"shutdown", m_shutdown},
};

void srv_handle_message(srv_server *s, const rpc_msg *m) {
    s->t_msg = fl_now();
    if (m->kind == RPC_MSG_RESPONSE) {
        srv_log(s, "warn", "unexpected response to id %lld: the server sends no requests", (long long)m->id);
        return;
    }
    if (m->kind == RPC_MSG_NOTIFY && !strcmp(m->method, "nvim_error_event")) {
        /* Neovim could not run a notification; answering would loop */
        const rpc_val *msg = m->args && m->args->type == RPC_ARR && m->args->u.arr.n == 2 ? m->args->u.arr.items[1] : NULL;
        s->stats.nvim_errors++;
        fprintf(stderr, "flint serve: Neovim reported an error: %.300s\n",
                msg && msg->type == RPC_STR ? msg->u.s.ptr : "(no message)");
        return;
    }
    if (m->kind == RPC_MSG_REQUEST) s->stats.requests++;
    else s->stats.notifications++;
    rpc_arena a = {0};
    rpc_val *result = NULL;
    char err[FL_ERRLEN];
    int rc = rpc_dispatch(methods, sizeof methods / sizeof methods[0], m, s, &a, &result, err, sizeof err);
    if (!rc && a.failed) rc = fl_seterr(err, sizeof err, "%s: out of memory", m->method);
    if (rc) s->stats.errors++;
    if (m->kind == RPC_MSG_REQUEST) srv_out_response(s, m->id, rc ? err : NULL, result);
    else if (rc) srv_log(s, "error", "%s", err);
    rpc_arena_free(&a);
    if (s->shutdown_requested) srv_begin_quit(s);
}
