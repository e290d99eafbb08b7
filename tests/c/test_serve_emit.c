/* test_serve_emit.c — the output path of one alternative (token ids ->
 * whole UTF-8 -> stop rules -> scanner -> events): a secret in generated
 * text never leaves redacted, a halt rule ends the stream with "blocked",
 * findings point into the text the client was sent, and no event carries a
 * partial UTF-8 sequence. Uses the tiny fixture vocabulary. */
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "serve/internal.h"
#include "tap.h"

#define SECRET "npm_hK0FJXBYCkejhEMY4Kp6bOOZn1DlfBOmtbJY"

typedef struct {
    tok_text text;
    int events, finals, partial_utf8;
    const char *reason;
    scan_finding f[8];
    size_t nf;
} collected;

static void collect(srv_worker *w, collected *c) {
    for (srv_event *e = srv_worker_take_events(w), *next; e; e = next) {
        next = e->next;
        c->events++;
        if (e->len && !rpc_utf8_valid(e->text, e->len)) c->partial_utf8 = 1;
        tok_text_append(&c->text, e->text ? e->text : "", e->len);
        for (size_t i = 0; i < e->nfindings && c->nf < 8; i++) c->f[c->nf++] = e->findings[i];
        if (e->final) {
            c->finals++;
            c->reason = e->reason;
        }
        srv_event_free(e);
    }
}

/* Runs text through the emit path token by token (as byte tokens when
 * bytes is set, so UTF-8 sequences split across tokens). mode REFACTOR: a
 * refactor reply, through the fence filter. */
#define REFACTOR (-1)
static void run(srv_worker *w, const char *text, int bytes, int mode, collected *c) {
    srv_job job = {0};
    job.req.filetype = "python";
    job.req.prefix = "";
    job.req.suffix = "";
    job.req.mode = mode;
    job.req.tabstop = 8;
    srv_stop stop;
    srv_fence fence;
    srv_stop_init(&stop, &job.req);
    srv_fence_init(&fence, 1);
    srv_emit e;
    char err[128];
    srv_emit_init(&e, w, &job, 0, mode > 0 ? &stop : NULL, mode == REFACTOR ? &fence : NULL, err, sizeof err);
    tok_ids ids = {0};
    if (bytes)
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) tok_ids_push(&ids, *p); /* ids 0-255 are bytes */
    else tok_tokenize(w->model->vocab, text, strlen(text), 0, &ids);
    const char *why = NULL;
    for (size_t i = 0; i < ids.n && !why; i++) why = srv_emit_token(&e, ids.v[i]);
    srv_emit_end(&e, why ? why : "eos");
    srv_emit_free(&e);
    srv_stop_free(&stop);
    srv_fence_free(&fence);
    tok_ids_free(&ids);
    memset(c, 0, sizeof *c);
    collect(w, c);
}

int main(void) {
    uv_loop_t loop;
    uv_async_t async;
    uv_loop_init(&loop);
    uv_async_init(&loop, &async, NULL);
    srv_model m = {0};
    char err[256];
    if (tok_load_file("tests/fixtures/vocab/ggml-vocab-tiny-bpe.gguf", &m.vocab, err, sizeof err)) {
        CHECK(0, "vocabulary: %s", err);
        return tap_done();
    }
    srv_worker w;
    srv_worker_init(&w, &async);
    w.model = &m;
    scan_rules *redact = scan_rules_new(NULL, err, sizeof err), *halt = scan_rules_new("npm-token = halt", err, sizeof err);
    CHECK(redact && halt, "scanner rules");

    collected c;
    w.rules = redact;
    run(&w, "config = {\n    'npm_token': '" SECRET "',\n}\n", 0, SRV_MODE_AUTO, &c);
    const char *out = c.text.s ? c.text.s : "";
    CHECK(!strstr(out, "hK0FJXBY") && strstr(out, "[REDACTED:npm-token]"), "a secret in generated text is replaced by its marker");
    CHECK(c.finals == 1 && !strcmp(c.reason, "eos"), "one final event, reason eos");
    CHECK(c.nf == 1 && !strcmp(c.f[0].rule, "npm-token") && c.f[0].action == SCAN_ACT_REDACT &&
              !strncmp(out + c.f[0].out_start, "[REDACTED:npm-token]", c.f[0].out_end - c.f[0].out_start),
          "the finding's offsets point at the marker in the text sent");
    tok_text_free(&c.text);

    w.rules = halt;
    run(&w, "x = 1\ntoken = '" SECRET "'\nmore = 2\n", 0, SRV_MODE_AUTO, &c);
    out = c.text.s ? c.text.s : "";
    CHECK(c.finals == 1 && !strcmp(c.reason, "blocked"), "a halt rule ends the stream with reason blocked");
    CHECK(!strstr(out, "npm_") && !strstr(out, "more"), "nothing of the secret or after it is sent");
    CHECK(c.nf >= 1 && c.f[0].action == SCAN_ACT_HALT, "the halt finding is reported");
    tok_text_free(&c.text);

    run(&w, "```python\nx = 1\ntoken = '" SECRET "'\n```", 0, REFACTOR, &c);
    out = c.text.s ? c.text.s : "";
    CHECK(c.finals == 1 && !strcmp(c.reason, "blocked") && !strstr(out, "npm_") && !strstr(out, "```") &&
              strstr(out, "x = 1"),
          "refactor replies pass the scanner after the fence filter: blocked, nothing of the secret sent");
    tok_text_free(&c.text);

    w.rules = NULL;
    run(&w, "s = \"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"\n", 1, SRV_MODE_AUTO, &c);
    CHECK(!c.partial_utf8 && c.events >= 1 && !strcmp(c.text.s, "s = \"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"\n"),
          "multi-byte characters split across byte tokens arrive whole");
    tok_text_free(&c.text);

    w.rules = redact;
    run(&w, "def f():\n    return 1\nx = 2\n", 0, SRV_MODE_BLOCK, &c);
    CHECK(c.finals == 1 && c.text.s && !strcmp(c.text.s, "def f():\n    return 1") && !strcmp(c.reason, "indent"),
          "stop rules run before the scanner: the block ends at 'x = 2', reason indent");
    tok_text_free(&c.text);
    run(&w, "a = 1\nb = 2\n", 0, SRV_MODE_BLOCK, &c);
    CHECK(c.finals == 1 && c.text.s && !strcmp(c.text.s, "a = 1\nb = 2") && !strcmp(c.reason, "eos"),
          "the held trailing newline is dropped at the end");
    tok_text_free(&c.text);

    srv_worker_free(&w);
    scan_rules_free(redact);
    scan_rules_free(halt);
    tok_free(m.vocab);
    uv_close((uv_handle_t *)&async, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return tap_done();
}
