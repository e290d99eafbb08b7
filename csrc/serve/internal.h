/* internal.h — what the files of csrc/serve/ share; not part of the contract.
 *
 * Threads: the loop thread owns srv_server, the job list, the output queue
 * and the stats; the worker thread owns the slots (KV caches) and the
 * generation scratch. They meet in srv_worker's two locked queues (jobs in,
 * events out) and in each job's `stop` flag. srv_model is read-only after
 * loading and shared by both.
 */
#ifndef FLINT_SERVE_INTERNAL_H
#define FLINT_SERVE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "chat/chat.h"
#include "common/common.h"
#include "engine/engine.h"
#include "engine/spec.h"
#include "rpc/rpc.h"
#include "scan/scan.h"
#include "serve/serve.h"
#include "tokenizer/tokenizer.h"

#define SRV_VERSION "0.1.0"
#define SRV_MAX_ALT 8
#define SRV_KEY_LEN 64
/* Server-assigned job ids start here; clients may pick ids below it. */
#define SRV_FIRST_ID ((int64_t)1 << 31)

/* ---- model bundle (model.c, fim.c) ------------------------------------ */

/* How repository context is laid out before the FIM part. */
typedef enum {
    SRV_REPO_NONE,       /* the family has no repo tokens: extra context is not used */
    SRV_REPO_FILE_SEP,   /* flint-coder: (<|file_sep|>path\ncontent)* then FIM */
    SRV_REPO_QWEN,       /* Qwen2.5-Coder / StarCoder2: [<repo>name\n] (<sep>path\ncontent\n)* <sep>path\n FIM */
} srv_repo_style;

typedef struct {
    const char *family;     /* "flint-coder", "qwen", "deepseek", "starcoder", "codellama"; NULL: no FIM */
    int32_t pre, suf, mid;  /* FIM token ids */
    int32_t repo, sep;      /* repo-name and file-separator ids, -1 when absent */
    srv_repo_style repo_style;
    int spm;                /* 1: suffix first (SPM), 0: PSM */
} srv_fim;

typedef struct {
    eng_model *model;       /* NULL when loading failed */
    tok_vocab *vocab;
    eng_hparams hp;
    srv_fim fim;
    int32_t im_start, im_end;   /* ChatML tokens, -1 when absent */
    chat_format chat;           /* the refactor prompt's format (chat_template, else ChatML tokens, else plain) */
    int32_t chat_stop[4];       /* ids of chat_stops(chat) found in the vocabulary */
    int n_chat_stop;
    int n_ctx;                  /* tokens per slot */
    char path[1024], name[128];
    eng_model *draft;           /* loaded and checked (speculative decoding of refactors may use it) */
    char draft_path[1024];
    int32_t *by_text;           /* token healing (heal.c): the text tokens' ids in byte order of their */
    int32_t n_by_text;          /* ... texts; none (0) for SentencePiece vocabularies */
} srv_model;

/* Loads the model (cfg->model_path, else the default model next to
 * cfg->exe_path), its tokenizer and the draft model; picks the FIM format.
 * Returns 0, or -1 with err (m is then empty and safe to free). */
int srv_model_load(srv_model *m, const srv_config *cfg, char *err, size_t errlen);
void srv_model_free(srv_model *m);

/* Sets m->chat and m->chat_stop from m->vocab: the chat_template's format,
 * else ChatML when the vocabulary has its tokens, else plain. */
void srv_chat_detect(srv_model *m);

/* Fills f from the vocabulary's FIM tokens and the model name; order is
 * SRV_FIM_*. Leaves f->family NULL when the vocabulary has no FIM tokens. */
void srv_fim_detect(srv_fim *f, const tok_vocab *v, const char *model_name, int order);

/* ---- token healing (heal.c) ------------------------------------------ */

#define SRV_HEAL_MAX_TOKENS 3   /* most prompt tokens taken back */
#define SRV_HEAL_MAX_BYTES 32   /* ... and most bytes of text */

/* Builds m->by_text from m->vocab (nothing for SentencePiece vocabularies,
 * whose leading-space rule healing does not model). Returns 0 or -1 (OOM). */
int srv_heal_index(srv_model *m);

/* How many of the last tokens of a completion prompt's prefix ids[0, n)
 * healing takes back: at most SRV_HEAL_MAX_TOKENS, while the text they
 * spell has no newline and fits SRV_HEAL_MAX_BYTES (none that is a control
 * token). Their text goes to text (SRV_HEAL_MAX_BYTES bytes),
 * its length to *text_len. 0 when m has no index. */
int srv_heal_back(const srv_model *m, const int32_t *ids, size_t n, char *text, size_t *text_len);

/* The best token by logits (ties to the lower id) among those whose text
 * starts with rest[0, n) or is a shorter non-empty prefix of it; -1 when
 * there is none (or n is 0). */
int32_t srv_heal_pick(const srv_model *m, const float *logits, const char *rest, size_t n);

/* Re-types text[0, len) after the prompt held by c, whose next-token logits
 * are logits0: each step decodes the best token srv_heal_pick allows for
 * what is left, until the tokens' texts cover text. They go to out (at most
 * cap), the logits after the last one to logits (n_vocab floats). Returns
 * their count, 0 when a step has no candidate, -2 when stopped, -1 with err. */
int srv_heal_decode(const srv_model *m, eng_ctx *c, const char *text, size_t len, const float *logits0,
                    float *logits, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen);

/* ---- requests and jobs (request.c) ------------------------------------ */

enum { SRV_JOB_COMPLETE, SRV_JOB_REFACTOR };
enum { SRV_MODE_AUTO, SRV_MODE_LINE, SRV_MODE_BLOCK };
/* Values of srv_job.stop. */
enum { SRV_RUN = 0, SRV_STOP_CANCEL = 1, SRV_STOP_DEADLINE = 2 };

typedef struct {
    char *path, *text;
    size_t text_len;
} srv_extra;

typedef struct {
    char *path, *filetype, *repo;   /* repo: the project's name, for repository context */
    char *prefix, *suffix;          /* complete; NUL-terminated copies */
    size_t prefix_len, suffix_len;
    srv_extra *extra;
    int n_extra;
    char *instruction, *code;       /* refactor */
    size_t code_len;
    char *before, *after;           /* refactor: the lines around the selection */
    size_t before_len, after_len;
    char *spec;                     /* refactor: speculation mode ("" = the server's refactor_spec) */
    spec_params spec_p;             /* ... parsed by the loop against the model (srv_request_spec) */
    int max_tokens, max_ms, n_alt, mode, tabstop;
} srv_request;

/* Per-request measurements: token counts and worker times from the worker,
 * first-chunk and total time (from arrival) from the loop. */
typedef struct {
    int prompt_tokens, cached_tokens, evaluated_tokens, generated_tokens;
    int healed_bytes;               /* prefix bytes the completion re-typed (token healing) */
    double queue_ms, prompt_ms, gen_ms, first_chunk_ms, total_ms;
    const char *reason;             /* why alt 0 stopped (static) */
    const char *spec;               /* speculation mode of a refactor (static), NULL when plain */
    long spec_drafted, spec_accepted, spec_steps;  /* drafted and accepted tokens, verifications */
} srv_req_stats;

typedef struct srv_job srv_job;
struct srv_job {
    int64_t id;
    int kind;
    char buf[SRV_KEY_LEN];          /* the client's buffer, as text */
    srv_request req;
    volatile int stop;              /* SRV_RUN/SRV_STOP_*: written by the loop (srv_job_set_stop) */
    double t_arrival;
    /* worker side (the loop sees copies in events) */
    srv_req_stats st;
    char error[256];                /* why the job failed (reason "error") */
    char heal[SRV_HEAL_MAX_BYTES];  /* completions: the prefix's end taken back from the prompt, */
    size_t heal_len;                /* ... which the model re-types (token healing); 0 none */
    /* loop side only */
    double first_ms, done_ms;       /* first chunk and last final chunk, ms from arrival (0: not yet) */
    srv_job *prev, *next;           /* the server's live jobs */
    unsigned alt_done;              /* alts whose final chunk was sent */
    int client_done;                /* every final chunk was sent (cancel) */
    int worker_done;                /* no more events will come for it */
    int npending;                   /* its events waiting in the output queue */
    int released;                   /* unlinked, timer closing */
    uv_timer_t timer;               /* max_ms */
    /* worker queue (guarded by srv_worker.mu) */
    int taken;
    srv_job *qnext;
};

/* Parses complete/refactor params into r (copies every string). Returns 0
 * or -1 with err naming the bad field. buf receives the buffer key. */
int srv_request_parse(int kind, const rpc_val *params, srv_request *r, char buf[SRV_KEY_LEN], int64_t *id,
                      char *err, size_t errlen);
void srv_request_free(srv_request *r);

/* Resolves a job's speculation mode (a refactor's r->spec, else the server's
 * cfg->complete_spec or cfg->refactor_spec by kind) against the model into
 * r->spec_p. Returns 0, or -1 with err (unknown mode, a draft source without
 * a draft model). */
int srv_request_spec(srv_request *r, int kind, const srv_config *cfg, const srv_model *m, char *err, size_t errlen);

/* Sets job->stop to v unless a stop is already set (first reason wins). */
void srv_job_set_stop(srv_job *j, int v);
int srv_job_get_stop(const srv_job *j);

/* ---- worker (worker.c) ------------------------------------------------ */

/* What the worker tells the loop: a piece of one alternative's text, the
 * last piece of it (final), or that the job is over. */
typedef struct srv_event srv_event;
struct srv_event {
    srv_event *next;
    srv_job *job;
    int alt;
    int final;                      /* last chunk of this alt; reason set */
    int job_over;                   /* no more events for job; st set */
    const char *reason;             /* static */
    char *text;
    size_t len;
    scan_finding *findings;         /* offsets (out_start/out_end) into the alt's sent text */
    size_t nfindings;
    srv_req_stats st;
};

void srv_event_free(srv_event *e);

/* One prompt-cache slot: a KV cache and whose it was. */
typedef struct {
    eng_ctx *ctx;
    char key[SRV_KEY_LEN + 1];      /* 'c' (completions) or 'r' (refactors), then the buffer */
    uint64_t used;                  /* LRU clock */
    int prefix_cut;                 /* lines dropped from the top of the prefix last time */
} srv_slot;

typedef struct {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;             /* guards the job queue and quit */
    pthread_cond_t cv;
    srv_job *qhead, *qtail;
    int quit;
    pthread_mutex_t ev_mu;          /* guards the event queue */
    srv_event *ev_head, *ev_tail;
    uv_async_t *async;
    /* worker thread only */
    const srv_config *cfg;
    const srv_model *model;
    const scan_rules *rules;
    srv_slot *slots;
    int n_slots;
    uint64_t clock;
    float *logits0;                 /* the prompt's next-token logits */
    float *logits_heal;             /* the next-token logits after the re-typed tokens (token healing) */
    spec_memory *spec_mem[2];       /* speculation measurements of completions [0] and refactors [1] */
    const char *spec_mem_mode[2];   /* ... and the mode they were measured in (a static name) */
} srv_worker;

/* Sets up the queues (always; the thread may never start). */
void srv_worker_init(srv_worker *w, uv_async_t *async);
/* Starts the worker thread for model m. Returns 0 or -1 with err. */
int srv_worker_start(srv_worker *w, const srv_config *cfg, const srv_model *m, const scan_rules *rules, char *err,
                     size_t errlen);
/* Queues a job (the worker owns it until its job_over event). */
void srv_worker_push(srv_worker *w, srv_job *j);
/* Takes a job back out of the queue if the worker has not started it:
 * returns 1 (removed) or 0 (running or done). */
int srv_worker_unqueue(srv_worker *w, srv_job *j);
/* Stops and joins the thread (a job still running must have its stop flag
 * set to end soon) and frees the slots; jobs still queued are returned as a
 * list (linked by qnext) for the caller to free. Events stay takeable. */
srv_job *srv_worker_stop(srv_worker *w);
/* Destroys the queues' locks (after srv_worker_stop and the last take). */
void srv_worker_free(srv_worker *w);
/* Posts an event and wakes the loop. */
void srv_worker_post(srv_worker *w, srv_event *e);
/* Takes every posted event, oldest first. */
srv_event *srv_worker_take_events(srv_worker *w);

/* Runs one job on the worker thread (job.c), posting its events. */
void srv_job_run(srv_worker *w, srv_job *j);

/* ---- prompt cache (slots.c) ------------------------------------------- */

/* The slot for buffer key (same key, else an unused slot, else the least
 * recently used), with its context created on first use. NULL + err. */
srv_slot *srv_slot_get(srv_worker *w, const char *key, char *err, size_t errlen);

/* Makes slot's KV cache hold exactly toks[0..n) and leaves the logits of
 * the last one in logits: reuses the longest common prefix (when cfg->cache),
 * then evaluates the rest in pieces of cfg->prompt_chunk tokens, so work done
 * before a cancel stays cached. Fills st's prompt/cached/evaluated counts.
 * Returns 0, -2 when stopped, -1 with err. */
int srv_slot_prefill(srv_worker *w, srv_slot *slot, const int32_t *toks, int n, float *logits,
                     const volatile int *stop, srv_req_stats *st, char *err, size_t errlen);

/* ---- prompts (prompt.c) ----------------------------------------------- */

/* The FIM prompt of a completion: extra context (a fixed share of the
 * budget), then prefix/suffix in the family's order, each trimmed by whole
 * lines to fit `budget` tokens. *prefix_cut is the number of prefix lines
 * dropped last time for this buffer; it is kept while the rest fits (so
 * typing does not move the prompt's start) and updated otherwise. Context
 * passes the scanner's context masking (rules may be NULL). With heal
 * (SRV_HEAL_MAX_BYTES) the prefix's last tokens are taken back as
 * srv_heal_back says and their text goes to heal, its length to *heal_len
 * (else heal is NULL). Returns 0 or -1 with err. */
int srv_prompt_fim(const srv_model *m, const scan_rules *rules, const srv_request *r, int budget,
                   int *prefix_cut, char *heal, size_t *heal_len, tok_ids *out, char *err, size_t errlen);

/* The refactor prompt (prompt_chat.c): the model's chat format
 * (m->chat), a system message and a user message holding the instruction
 * and the fenced code, exactly the layout of tools/train/FORMATS.md for
 * ChatML. Context lines (r->before/after) go before them for models other
 * than flint-coder, whose trained format has no place for them, within a
 * quarter of the budget. -1 with err when the code does not fit budget. */
int srv_prompt_chat(const srv_model *m, const scan_rules *rules, const srv_request *r, int budget, tok_ids *out,
                    char *err, size_t errlen);

/* Token ids of a rendered chat prompt: control spans become their token
 * (text when the vocabulary has no such control token), text runs are
 * tokenized as text. Returns 0 or -1 (out of memory). */
int srv_chat_tokens(const srv_model *m, const chat_out *c, tok_ids *out);

/* Shared by the prompt builders (prompt.c). A malloc'd copy of s[0, n) with
 * secrets and prompt injection masked (rules may be NULL); NULL on OOM. */
char *srv_masked(const scan_rules *rules, const char *ft, const char *s, size_t n, size_t *outlen);
/* The start of the longest tail of t[0, len) of whole lines within T tokens
 * (inside the last line when even it is too long), or -1 (OOM). */
long srv_fit_tail(const srv_model *m, const char *t, size_t len, int T);
/* The end of the longest head of t[0, len) of whole lines within T tokens,
 * or -1 (OOM). */
long srv_fit_head(const srv_model *m, const char *t, size_t len, int T);

/* ---- generation (gen.c) ----------------------------------------------- */

/* A generator produces the next verified tokens after the context's current
 * state. Plain sampling yields one per step; a speculative generator
 * (csrc/engine/spec.h, later) yields 1..k. */
typedef struct srv_gen srv_gen;
typedef struct {
    int (*step)(srv_gen *g, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen);
    void (*free)(srv_gen *g);
    void (*stats)(const srv_gen *g, srv_req_stats *st); /* speculation counters; NULL: none */
} srv_gen_ops;
struct srv_gen {
    const srv_gen_ops *ops;
};

/* Greedy generator over c whose next-token logits are `logits` (n_vocab
 * floats, copied). The first token is `first` when >= 0, else the arg-max.
 * NULL when out of memory. */
srv_gen *srv_gen_greedy_new(eng_ctx *c, int n_vocab, const float *logits, int32_t first);

/* Greedy speculative generator (csrc/engine/spec.h) over c, which holds
 * the prompt (its tokens are the n-gram source) and whose next-token logits
 * are `logits` (n_vocab floats); p->sources must not be 0. The output equals
 * the greedy generator's token for token. NULL + err on failure. */
srv_gen *srv_gen_spec_new(eng_ctx *c, int n_vocab, const spec_params *p, const float *logits, char *err,
                          size_t errlen);

/* Most tokens one srv_generate_step may return (a verification's drafts + 1). */
#define SRV_GEN_STEP_MAX (SPEC_K_MAX + 1)

/* The next 1..cap tokens (written to out); the previous step's tokens are
 * appended to the context first. Returns the count, -2 when stopped, -1
 * with err. */
int srv_generate_step(srv_gen *g, int32_t *out, int cap, const volatile int *stop, char *err, size_t errlen);
/* Adds the generator's speculation counters to st (nothing for plain). */
void srv_gen_stats(const srv_gen *g, srv_req_stats *st);
void srv_gen_free(srv_gen *g);

/* ---- stop rules and text filters (stop.c) ----------------------------- */

/* Decides where a completion ends, from its text alone. Holds back text
 * that a later byte could still cut (a line that may repeat the suffix or
 * the line before it, the newline and indentation before a line that may
 * end the block). */
typedef struct {
    int mode;                       /* SRV_MODE_LINE or SRV_MODE_BLOCK */
    int tabstop;
    int cursor_indent;              /* columns of the cursor line's indentation */
    char *rest;                     /* rest of the cursor line after the cursor, trimmed */
    size_t rest_len;
    char *next;                     /* first non-blank suffix line below the cursor line, trimmed */
    size_t next_len;
    tok_text text;                  /* everything generated so far */
    size_t released;                /* bytes of text already released */
    size_t line;                    /* start of the current line in text */
    int nline;                      /* index of the current line (0 = the cursor line) */
    int deeper;                     /* a line below was indented more than the cursor line */
    char *cur;                      /* the cursor line before the cursor */
    size_t cur_len;
    char *prev;                     /* the last non-blank line so far (the cursor line whole), right-trimmed */
    size_t prev_len;
    const char *stopped;            /* reason once stopped */
    int loops;                      /* the "repeat" rule is on (srv_stop_init: on) */
} srv_stop;

/* Sets up the rules for a completion of r (mode AUTO resolved from the
 * cursor position). Returns 0 or -1 (out of memory). */
int srv_stop_init(srv_stop *s, const srv_request *r);
void srv_stop_free(srv_stop *s);
/* Adds generated text; appends what is now final to out. Returns NULL to go
 * on, or the stop reason ("stop", "indent", "repeat") once the completion ended. */
const char *srv_stop_feed(srv_stop *s, const char *p, size_t n, tok_text *out);
/* Generation ended for another reason: appends the rest that belongs to
 * the completion. */
void srv_stop_finish(srv_stop *s, tok_text *out);

/* Refactor replies come fenced (```ft\n...\n```): the filter drops the
 * opening fence line and the closing fence, and restores the final newline
 * of the original code. */
typedef struct {
    tok_text text;
    size_t released;
    size_t body;                    /* where the code starts (after the opening fence line) */
    int opened;                     /* the opening fence line was consumed */
    int closed;                     /* the closing fence was seen */
    int add_newline;
} srv_fence;

void srv_fence_init(srv_fence *f, int code_ended_with_newline);
void srv_fence_free(srv_fence *f);
/* Like srv_stop_feed; returns "stop" after the closing fence. */
const char *srv_fence_feed(srv_fence *f, const char *p, size_t n, tok_text *out);
void srv_fence_finish(srv_fence *f, tok_text *out);

/* Columns of s's leading whitespace (tabs to the next multiple of tabstop). */
int srv_indent_cols(const char *s, size_t n, int tabstop);

/* ---- output of one alternative (emit.c) ------------------------------- */

/* Token ids -> text -> stop rules or fence filter -> scanner -> events. The
 * one place where generated text meets the scanner. */
typedef struct {
    srv_worker *w;
    srv_job *job;
    int alt;
    tok_stream detok;
    srv_stop *stop;                 /* completions */
    srv_fence *fence;               /* refactors */
    scan_stream *scan;              /* NULL when no rules */
    tok_text piece, released;
    size_t skip;                    /* generated bytes still to drop (the re-typed text of token healing) */
} srv_emit;

int srv_emit_init(srv_emit *e, srv_worker *w, srv_job *j, int alt, srv_stop *stop, srv_fence *fence, char *err,
                  size_t errlen);
/* Handles one generated token. Returns NULL to continue, or the reason the
 * alternative stopped ("eos", "stop", "indent", "repeat", "blocked"). */
const char *srv_emit_token(srv_emit *e, int32_t tok);
/* The next n bytes of generated text are dropped before the filters (text
 * the editor already has: what token healing re-types). */
void srv_emit_skip(srv_emit *e, size_t n);
/* Ends the alternative with reason (if none was decided yet): flushes the
 * filters and the scanner and posts the final chunk. */
void srv_emit_end(srv_emit *e, const char *reason);
void srv_emit_free(srv_emit *e);

/* ---- stats (stats.c) -------------------------------------------------- */

#define SRV_STATS_RING 256

#define SRV_N_REASONS 9 /* final reasons counted in the stats (stats.c) */
typedef struct {
    double t_start;
    uint64_t requests, notifications, errors;
    uint64_t completes, refactors, cancels, superseded, finished;
    uint64_t by_reason[SRV_N_REASONS];
    uint64_t chunks_sent, chunks_merged, chunks_dropped, logs_sent, logs_dropped;
    uint64_t bytes_out, writes, input_pauses;
    uint64_t nvim_errors;
    uint64_t tokens_prompt, tokens_cached, tokens_evaluated, tokens_generated;
    struct {
        int64_t id;
        srv_req_stats st;
    } ring[SRV_STATS_RING];
    int ring_n, ring_pos;
} srv_stats;

/* Records a finished request. */
void srv_stats_add(srv_stats *s, int64_t id, const srv_req_stats *st);
/* The stats result: counters, percentiles and the recent requests. */
rpc_val *srv_stats_result(const srv_stats *s, const rpc_reader_stats *rd, rpc_arena *a);
/* One request's stats as a map (the `stats` field of a final chunk). */
rpc_val *srv_req_stats_val(const srv_req_stats *st, rpc_arena *a);

/* ---- the loop side (server.c, output.c, methods.c) -------------------- */

/* A secret finding the client was sent, for `allow` (allow.c). */
#define SRV_ALLOW_RING 256
typedef struct {
    int64_t id;                     /* its allow_id (0: unused) */
    const char *rule;               /* static */
    unsigned char fp[SCAN_FP_BYTES];
} srv_allow_entry;

typedef struct {
    srv_config cfg;
    uv_loop_t loop;
    union {
        uv_pipe_t pipe;
        uv_tty_t tty;
        uv_tcp_t tcp;
    } in_h, out_h;
    uv_stream_t *in, *out;          /* NULL: the fd is a file (fs reads, blocking writes) */
    int in_fd, out_fd;
    uv_fs_t in_req;                 /* file input */
    int fs_busy;                    /* a file read is in flight */
    char in_buf[65536];
    int reading;                    /* input is being read (not paused, not at EOF) */
    uv_async_t async;               /* worker -> loop */
    uv_timer_t quit_timer;          /* gives a client that does not read 2 s at exit */
    rpc_reader *reader;
    int nvim_exec_lua;              /* wrap notifications for Neovim (initialize option) */
    double t_msg;                   /* when the message being handled was read */
    /* output */
    rpc_buf obuf;                   /* encoded, not yet handed to the stream */
    size_t inflight;                /* handed to the stream, not yet written */
    srv_event *pend_head, *pend_tail; /* chunk events not yet encoded (merged per job and alt) */
    size_t pend_bytes;
    uint64_t merged_unreported, dropped_unreported;
    /* jobs */
    srv_job *jobs;                  /* live jobs, newest first */
    int64_t next_id;
    srv_worker worker;
    srv_model model;
    int model_ok;
    char model_err[FL_ERRLEN];
    scan_rules *rules;
    char rules_err[256];
    srv_allow_entry allow_ring[SRV_ALLOW_RING]; /* the last secret findings sent */
    int64_t allow_next;             /* the last allow_id handed out */
    srv_stats stats;
    int quitting, shutdown_requested;
} srv_server;

/* Output (output.c). Everything is encoded into obuf and handed to the
 * stream by srv_out_pump(). While more than cfg.out_soft bytes wait, chunk
 * events stay queued and merge per (job, alt) and log notifications are
 * dropped (both counted and reported once the client reads again); above
 * cfg.out_hard the loop stops reading input. */
void srv_out_response(srv_server *s, int64_t id, const char *error, const rpc_val *result);
void srv_log(srv_server *s, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Queues a chunk event (takes e). */
void srv_out_event(srv_server *s, srv_event *e);
/* Sends a final chunk made by the loop (cancel, deadline before start). */
void srv_out_final(srv_server *s, srv_job *j, int alt, const char *reason);
/* Drops the job's queued chunk events. */
void srv_out_drop_job(srv_server *s, srv_job *j);
/* Encodes queued events unless congested and writes obuf out. */
void srv_out_pump(srv_server *s);
/* A write finished (status < 0: the client is gone). */
void srv_out_written(srv_server *s, size_t n, int status);

/* Findings and the allow-list (allow.c). */
/* A finding as the client gets it (doc/protocol.md, Findings): offsets into
 * the emitted text when `emitted` (chunks), else into the scanned text
 * (`scan`); a secret's fingerprint is remembered and the map gets its
 * allow_id. */
rpc_val *srv_finding_val(srv_server *s, const scan_finding *f, int emitted, rpc_arena *a);
/* Loads cfg.allowlist (if set) into the rules' allow-list. 0 or -1 + err. */
int srv_allow_load(srv_server *s, char *err, size_t errlen);
/* The `allow` method: {allow_id} -> {rule, count, saved}. */
int srv_m_allow(void *ud, const rpc_val *p, rpc_arena *a, rpc_val **res, char *err, size_t errlen);

/* Jobs on the loop (methods.c). */
/* Ends a job for the client now: its queued chunks dropped, a final chunk
 * with reason "cancelled" for every alternative still open, the worker told
 * (a queued job is taken back, a running one stops at the next check). */
void srv_job_cancel(srv_server *s, srv_job *j);
/* Frees the job once the worker and the output queue are done with it. */
void srv_job_release(srv_server *s, srv_job *j);
/* Handles one decoded message (requests answered at once). The server's
 * uv loop has data == the server. */
void srv_handle_message(srv_server *s, const rpc_msg *m);
/* Input flow control (server.c): pause while the output queue is full. */
void srv_input_pause(srv_server *s);
void srv_input_resume(srv_server *s);
/* Ends the server: stop input, cancel jobs, stop the worker, flush. */
void srv_begin_quit(srv_server *s);

#endif
