/* job.c — one completion or refactor on the worker thread: prompt, prefill
 * through the prompt cache, then each alternative through the generator and
 * the emit path. Every alternative ends with exactly one final event, and
 * the job with one job_over event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/sample.h"
#include "serve/internal.h"

static const char *stop_reason(const srv_job *j) {
    return srv_job_get_stop(j) == SRV_STOP_DEADLINE ? "max_ms" : "cancelled";
}

static void post_final(srv_worker *w, srv_job *j, int alt, const char *reason) {
    srv_event *e = calloc(1, sizeof *e);
    if (!e) return;
    e->job = j;
    e->alt = alt;
    e->final = 1;
    e->reason = reason;
    e->st = j->st;
    e->st.reason = reason;
    srv_worker_post(w, e);
}

static void post_over(srv_worker *w, srv_job *j) {
    srv_event *e = calloc(1, sizeof *e);
    if (!e) return; /* the loop frees the job at shutdown */
    e->job = j;
    e->job_over = 1;
    e->st = j->st;
    srv_worker_post(w, e);
}

/* The speculation mode's name, for stats (static). */
static const char *spec_name(const spec_params *p) {
    static const char *const names[8] = {"none",  "draft",      "ngram",      "draft+ngram",
                                         "self",  "draft+self", "ngram+self", "draft+ngram+self"};
    return p->fallback ? "auto" : names[p->sources & 7];
}

/* First tokens of the alternatives by the next-token logits l: alt 0 takes
 * the arg-max; alt k the k-th most likely token that does not end
 * generation (the arg-max aside), each continued greedily: distinct
 * suggestions from one prompt. -1 where the vocabulary has no candidate left. */
static void pick_firsts(const srv_worker *w, const float *l, int n_alt, int32_t *first) {
    const tok_vocab *v = w->model->vocab;
    int nv = tok_n_vocab(v), K = n_alt - 1, n = 0;
    int32_t best = (int32_t)samp_argmax(l, w->model->hp.n_vocab), top[SRV_MAX_ALT];
    first[0] = -1;
    for (int32_t i = 0; i < nv && K > 0; i++) {
        if (i == best || tok_is_eog(v, i) || (tok_token_attr(v, i) & TOK_ATTR_CONTROL)) continue;
        if (n == K && l[i] <= l[top[K - 1]]) continue;
        int k = n < K ? n++ : K - 1;
        top[k] = i;
        for (; k > 0 && l[top[k]] > l[top[k - 1]]; k--) {
            int32_t t = top[k];
            top[k] = top[k - 1];
            top[k - 1] = t;
        }
    }
    for (int a = 1; a < n_alt; a++) first[a] = a - 1 < n ? top[a - 1] : -1;
}

/* The generator after the prompt (and the re-typed tokens), whose
 * next-token logits are `logits`: speculative when the request asks for it
 * and no first token is forced (alternatives > 0 start from one: plain
 * greedy). NULL with j->error set. */
static srv_gen *new_generator(srv_worker *w, srv_job *j, eng_ctx *c, int complete, const float *logits, int32_t first) {
    srv_gen *g;
    if (j->req.spec_p.sources && first < 0) {
        int kind = complete ? 0 : 1; /* what earlier requests of this kind measured, if in the same mode */
        if (w->spec_mem_mode[kind] != spec_name(&j->req.spec_p)) {
            spec_memory_reset(w->spec_mem[kind]);
            w->spec_mem_mode[kind] = spec_name(&j->req.spec_p);
        }
        j->req.spec_p.memory = w->spec_mem[kind];
        if ((g = srv_gen_spec_new(c, w->model->hp.n_vocab, &j->req.spec_p, logits, j->error, sizeof j->error)))
            j->st.spec = spec_name(&j->req.spec_p);
    } else if (!(g = srv_gen_greedy_new(c, w->model->hp.n_vocab, logits, first))) {
        snprintf(j->error, sizeof j->error, "out of memory");
    }
    return g;
}

/* Token healing: re-types, after the prompt held by c, the prefix's end
 * that srv_prompt_fim took out of it, once per job (every alternative goes
 * on from there); the tokens go to healed (*n), the logits after them to
 * w->logits_heal. Returns NULL, or why the job stopped. */
static const char *retype(srv_worker *w, srv_job *j, eng_ctx *c, int32_t *healed, int *n) {
    int k = srv_heal_decode(w->model, c, j->heal, j->heal_len, w->logits0, w->logits_heal, healed,
                            SRV_HEAL_MAX_BYTES, &j->stop, j->error, sizeof j->error);
    if (k == -2) return stop_reason(j);
    if (k < 0) return "error";
    if (k == 0) return "eos"; /* the vocabulary cannot spell it */
    *n = k;
    j->st.healed_bytes = (int)j->heal_len;
    return NULL;
}

/* Generates alternative alt, starting with token first (alt > 0), after the
 * n_prompt cached prompt tokens and the n_healed re-typed ones (healed:
 * their bytes are not sent again). Returns why it stopped; "error" with
 * j->error set. */
static const char *run_alt(srv_worker *w, srv_job *j, srv_slot *slot, int n_prompt, int alt, int32_t first,
                           const int32_t *healed, int n_healed) {
    eng_ctx *c = slot->ctx;
    eng_ctx_truncate(c, n_prompt + n_healed);
    int complete = j->kind == SRV_JOB_COMPLETE;
    srv_stop stop;
    srv_fence fence;
    srv_emit e;
    srv_gen *g = NULL;
    const char *reason = NULL;
    if (complete) {
        if (srv_stop_init(&stop, &j->req)) reason = "error";
        stop.loops = w->cfg->loop_stop;
    } else srv_fence_init(&fence, j->req.code_len && j->req.code[j->req.code_len - 1] == '\n');
    if (!reason && srv_emit_init(&e, w, j, alt, complete ? &stop : NULL, complete ? NULL : &fence, j->error,
                                 sizeof j->error)) {
        srv_emit_free(&e);
        reason = "error";
    }
    if (reason) {
        if (complete) srv_stop_free(&stop);
        else srv_fence_free(&fence);
        snprintf(j->error, sizeof j->error, "out of memory");
        post_final(w, j, alt, reason);
        return reason;
    }
    double t0 = fl_now();
    if (n_healed) srv_emit_skip(&e, j->heal_len);
    const float *logits = n_healed ? w->logits_heal : w->logits0;
    if (alt > 0 && first < 0) reason = "eos"; /* no candidate for this alternative */
    if (!reason && !(g = new_generator(w, j, c, complete, logits, first))) reason = "error";
    /* max_tokens counts what follows the re-typed tokens; all of them need room in the context */
    int room = eng_ctx_capacity(c) - n_prompt - 1, want = j->req.max_tokens + n_healed, max = want < room ? want : room,
        n = 0;
    for (int i = 0; i < n_healed && !reason; i++) {
        n++;
        reason = srv_emit_token(&e, healed[i]);
    }
    while (!reason) {
        if (n >= max) { reason = "max_tokens"; break; }
        if (srv_job_get_stop(j)) { reason = stop_reason(j); break; }
        int32_t toks[SRV_GEN_STEP_MAX];
        int k = srv_generate_step(g, toks, max - n < SRV_GEN_STEP_MAX ? max - n : SRV_GEN_STEP_MAX, &j->stop, j->error,
                                  sizeof j->error);
        if (k == -2) reason = stop_reason(j);
        else if (k < 0) reason = "error";
        for (int i = 0; i < k && !reason; i++) {
            n++;
            reason = srv_emit_token(&e, toks[i]);
        }
    }
    j->st.generated_tokens += n;
    j->st.gen_ms += (fl_now() - t0) * 1e3;
    srv_gen_stats(g, &j->st);
    srv_emit_end(&e, reason);
    srv_gen_free(g);
    srv_emit_free(&e);
    if (complete) srv_stop_free(&stop);
    else srv_fence_free(&fence);
    return reason;
}

void srv_job_run(srv_worker *w, srv_job *j) {
    double t0 = fl_now();
    j->st.queue_ms = (t0 - j->t_arrival) * 1e3;
    int n_alt = j->kind == SRV_JOB_COMPLETE ? j->req.n_alt : 1, alt = 0;
    const char *reason = NULL;
    tok_ids prompt = {0};
    srv_slot *slot = NULL;
    int32_t healed[SRV_HEAL_MAX_BYTES];
    int n_healed = 0;
    char key[SRV_KEY_LEN + 1]; /* refactors get their own slots: their prompts share nothing with completions */
    snprintf(key, sizeof key, "%c%s", j->kind == SRV_JOB_COMPLETE ? 'c' : 'r', j->buf);
    if (srv_job_get_stop(j)) reason = stop_reason(j);
    else if (!(slot = srv_slot_get(w, key, j->error, sizeof j->error))) reason = "error";
    else {
        int n_ctx = eng_ctx_capacity(slot->ctx);
        int gen = j->req.max_tokens < n_ctx / 2 ? j->req.max_tokens : n_ctx / 2;
        int budget = n_ctx - gen - 1;
        int rc = j->kind == SRV_JOB_COMPLETE
                     ? srv_prompt_fim(w->model, w->rules, &j->req, budget, &slot->prefix_cut,
                                      w->cfg->heal ? j->heal : NULL, &j->heal_len, &prompt, j->error, sizeof j->error)
                     : srv_prompt_chat(w->model, w->rules, &j->req, budget, &prompt, j->error, sizeof j->error);
        if (!rc) rc = srv_slot_prefill(w, slot, prompt.v, (int)prompt.n, w->logits0, &j->stop, &j->st, j->error,
                                       sizeof j->error);
        if (rc) reason = rc == -2 ? stop_reason(j) : "error";
        else if (j->kind == SRV_JOB_COMPLETE && j->heal_len) reason = retype(w, j, slot->ctx, healed, &n_healed);
        j->st.prompt_ms = (fl_now() - t0) * 1e3;
    }
    if (!reason) {
        int32_t first[SRV_MAX_ALT]; /* alternatives part after the prompt and the re-typed tokens */
        pick_firsts(w, n_healed ? w->logits_heal : w->logits0, n_alt, first);
        for (; alt < n_alt; alt++) {
            const char *r = run_alt(w, j, slot, (int)prompt.n, alt, first[alt], healed, n_healed);
            if (alt == 0) j->st.reason = r;
            if (!strcmp(r, "error") || srv_job_get_stop(j)) {
                reason = !strcmp(r, "error") ? r : stop_reason(j);
                alt++;
                break;
            }
        }
    }
    if (!j->st.reason) j->st.reason = reason;
    for (; alt < n_alt; alt++) post_final(w, j, alt, reason);
    tok_ids_free(&prompt);
    post_over(w, j);
}
