/* serve.h — `flint serve`, the editor's co-process (module prefix srv_).
 *
 * One libuv loop on the main thread owns stdin/stdout, decodes requests
 * (csrc/rpc/), answers each at once and streams `chunk` notifications. One
 * worker thread owns the model, the tokenizer and the prompt-cache slots and
 * runs one completion or refactor at a time; it posts results back through a
 * locked queue and uv_async_send, and the loop drains the whole queue per
 * wake-up. Cancellation (a `cancel`, a newer `complete` for the same buffer,
 * `max_ms`) sets the job's stop flag, which the worker checks between tokens
 * and the engine between layers. The wire protocol is doc/protocol.md.
 *
 * Contract
 *  - srv_run() returns when the client sends `shutdown`, closes stdin, or
 *    stops reading for good (write error); the exit status is 0 then.
 *  - A missing or broken model does not stop the server: `initialize`
 *    reports it and `complete`/`refactor` answer with the load error.
 *  - Nothing but protocol messages is written to the output fd; stray
 *    writes to stdout by any module land on stderr (fd 1 is redirected).
 */
#ifndef FLINT_SERVE_H
#define FLINT_SERVE_H

#include <stddef.h>

#include "rpc/rpc.h"

enum { SRV_FIM_AUTO, SRV_FIM_PSM, SRV_FIM_SPM };

typedef struct {
    char exe_path[1024];    /* the flint binary (where the default model is looked for) */
    char model_path[1024];  /* "" : the default model (see srv_find_default_model) */
    char draft_path[1024];  /* "" : none */
    char scan_config[4096]; /* scanner settings ("PATTERN = ACTION" lines) */
    char allowlist[1024];   /* the allow-list file ("": in memory only) */
    rpc_framing framing;    /* AUTO: detect from the first byte */
    int n_threads;          /* compute threads (0: all CPUs) */
    int n_slots;            /* prompt-cache slots, one KV cache each (default 3) */
    int n_ctx;              /* tokens per slot (0: the model's context, at most 4096) */
    int fim_order;          /* SRV_FIM_*: AUTO picks per model family */
    int prompt_chunk;       /* prompt tokens per engine call (cancel granularity) */
    int cache;              /* 1: reuse the longest common prefix across requests */
    int heal;               /* 1: token healing of completions (re-type the prefix's last word) */
    int loop_stop;          /* 1: a completion looping inside a line ends (stop rule "repeat") */
    char refactor_spec[32]; /* speculation for refactors: "none", "ngram", "auto", ... (spec_parse_mode) */
    char complete_spec[32]; /* speculation for completions (the first alternative), same values */
    size_t max_message;     /* input message cap in bytes */
    size_t out_soft;        /* queued output bytes above which chunks merge */
    size_t out_hard;        /* queued output bytes above which input pauses */
} srv_config;

/* Defaults for every field. */
void srv_config_defaults(srv_config *c);

/* Reads a config file: one "key = value" per line, '#' comments. Keys:
 * model, draft, framing, threads, slots, ctx, fim_order, prompt_chunk,
 * cache, heal, loop_stop, refactor_spec, complete_spec, max_message, out_soft, out_hard, allowlist, and scan.PATTERN (a scanner setting, e.g.
 * `scan.generic-api-key = warn`). A missing file at an optional path is not
 * an error (returns 1). Returns 0, 1, or -1 with err naming the line. */
int srv_config_load(srv_config *c, const char *path, int optional, char *err, size_t errlen);

/* The default model for a flint binary at exe_path: the first of
 * flint-coder-moe.{Q8_0,Q4_K_M,Q4_0,F16,F32}.gguf, then any flint-coder-moe*.gguf,
 * in <dir of exe>/../models/ and then <dir of exe>/models/. Writes the path
 * into out and returns 0, or -1 with err listing where it looked. */
int srv_find_default_model(const char *exe_path, char *out, size_t outlen, char *err, size_t errlen);

/* Runs the server on in_fd/out_fd until shutdown or EOF. Returns the exit
 * status (0 on a clean end); -1 with err when the loop cannot start (bad
 * fds, out of memory). */
int srv_run(const srv_config *c, int in_fd, int out_fd, char *err, size_t errlen);

#endif
