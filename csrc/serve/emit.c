/* emit.c — one alternative's output path on the worker: token ids become
 * whole UTF-8 text, the stop rules (or the refactor fence filter) decide
 * what belongs to the suggestion, and scan_and_post() passes every byte
 * through the scanner before it is posted to the loop. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

int srv_emit_init(srv_emit *e, srv_worker *w, srv_job *j, int alt, srv_stop *stop, srv_fence *fence, char *err,
                  size_t errlen) {
    memset(e, 0, sizeof *e);
    e->w = w;
    e->job = j;
    e->alt = alt;
    e->stop = stop;
    e->fence = fence;
    tok_stream_init(&e->detok, w->model->vocab, 0);
    if (w->rules && !(e->scan = scan_stream_new(w->rules, SCAN_ROLE_OUTPUT, j->req.filetype)))
        return fl_seterr(err, errlen, "out of memory for the scanner");
    return 0;
}

void srv_emit_free(srv_emit *e) {
    scan_stream_free(e->scan);
    tok_text_free(&e->piece);
    tok_text_free(&e->released);
    memset(e, 0, sizeof *e);
}

/* Posts text (already scanned) and findings as one event. */
static void post(srv_emit *e, const char *text, size_t len, const scan_finding *f, size_t nf, const char *reason) {
    if (!len && !nf && !reason) return;
    srv_event *ev = calloc(1, sizeof *ev);
    if (!ev) return;
    ev->job = e->job;
    ev->alt = e->alt;
    ev->final = reason != NULL;
    ev->reason = reason;
    if (len && (ev->text = malloc(len))) {
        memcpy(ev->text, text, len);
        ev->len = len;
    }
    if (nf && (ev->findings = fl_malloc_array(nf, sizeof *f))) {
        memcpy(ev->findings, f, nf * sizeof *f);
        ev->nfindings = nf;
    }
    if (reason) {
        ev->st = e->job->st;
        ev->st.reason = reason;
    }
    srv_worker_post(e->w, ev);
}

/* The scanner call site: every byte the client sees passes here. final:
 * the text is the last of the alternative (the scan stream is finished).
 * Returns "blocked" when a halt finding stopped the stream. */
static const char *scan_and_post(srv_emit *e, const char *text, size_t len, const char *final_reason) {
    scan_result res = {.text = text, .len = len};
    if (e->scan) {
        int rc = scan_feed(e->scan, text, len, &res);
        if (!rc && final_reason) {
            /* the feed's output first, then whatever finish releases */
            post(e, res.text, res.len, res.findings, res.nfindings, NULL);
            int halted = res.halted;
            rc = scan_finish(e->scan, &res);
            res.halted |= halted;
        }
        if (rc) {
            res = (scan_result){0};
            res.halted = 1;
        }
    }
    const char *why = res.halted ? "blocked" : NULL;
    post(e, res.text, res.len, res.findings, res.nfindings, final_reason ? (why ? why : final_reason) : NULL);
    return why;
}

/* Text -> stop rules or fence (or neither) -> scanner. */
static const char *filter(srv_emit *e, const char *p, size_t n) {
    e->released.n = 0;
    const char *why = NULL;
    if (e->stop) why = srv_stop_feed(e->stop, p, n, &e->released);
    else if (e->fence) why = srv_fence_feed(e->fence, p, n, &e->released);
    else tok_text_append(&e->released, p, n);
    if (!why && !e->released.n) return NULL;
    if (why) return why; /* srv_emit_end sends what the filter released */
    return scan_and_post(e, e->released.s, e->released.n, NULL);
}

/* A refactor reply ends at its chat format's end-of-turn tokens too (some
 * vocabularies do not mark them as control or end-of-generation tokens). */
static int chat_stop(const srv_emit *e, int32_t tok) {
    const srv_model *m = e->w->model;
    for (int i = 0; e->fence && i < m->n_chat_stop; i++)
        if (m->chat_stop[i] == tok) return 1;
    return 0;
}

const char *srv_emit_token(srv_emit *e, int32_t tok) {
    const tok_vocab *v = e->w->model->vocab;
    if (tok_is_eog(v, tok) || (tok_token_attr(v, tok) & TOK_ATTR_CONTROL) || chat_stop(e, tok)) return "eos";
    e->piece.n = 0;
    if (tok_stream_feed(&e->detok, tok, &e->piece)) return "eos";
    size_t drop = e->skip < e->piece.n ? e->skip : e->piece.n;
    e->skip -= drop;
    if (e->piece.n == drop) return NULL;
    return filter(e, e->piece.s + drop, e->piece.n - drop);
}

void srv_emit_skip(srv_emit *e, size_t n) { e->skip = n; }

static int filter_stopped(const srv_emit *e) {
    return (e->stop && e->stop->stopped) || (e->fence && e->fence->closed);
}

void srv_emit_end(srv_emit *e, const char *reason) {
    if (!strcmp(reason, "blocked")) { /* the scanner halted: nothing more leaves */
        post(e, NULL, 0, NULL, 0, reason);
        return;
    }
    if (filter_stopped(e)) { /* the filter's last release is still to be sent */
        scan_and_post(e, e->released.s ? e->released.s : "", e->released.n, reason);
        return;
    }
    /* Generation ended first: a partial UTF-8 tail becomes U+FFFD, and what
     * the filter held back is decided now. */
    tok_text tail = {0};
    const char *why = NULL;
    e->piece.n = 0;
    tok_stream_flush(&e->detok, &e->piece);
    if (e->stop) {
        if (e->piece.n) why = srv_stop_feed(e->stop, e->piece.s, e->piece.n, &tail);
        if (!why) srv_stop_finish(e->stop, &tail);
    } else if (e->fence) {
        if (e->piece.n) why = srv_fence_feed(e->fence, e->piece.s, e->piece.n, &tail);
        if (!why) srv_fence_finish(e->fence, &tail);
    } else if (e->piece.n) tok_text_append(&tail, e->piece.s, e->piece.n);
    scan_and_post(e, tail.s ? tail.s : "", tail.n, why ? why : reason);
    tok_text_free(&tail);
}
