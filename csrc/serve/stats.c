/* stats.c — counters and per-request timings for the `stats` method and
 * the `stats` field of final chunks. Loop thread only. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

static const char *const reasons[SRV_N_REASONS] = {"stop",   "eos",       "max_tokens", "max_ms", "indent",
                                                   "repeat", "cancelled", "blocked",    "error"};

void srv_stats_add(srv_stats *s, int64_t id, const srv_req_stats *st) {
    s->ring[s->ring_pos].id = id;
    s->ring[s->ring_pos].st = *st;
    s->ring_pos = (s->ring_pos + 1) % SRV_STATS_RING;
    if (s->ring_n < SRV_STATS_RING) s->ring_n++;
    s->finished++;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (st->reason && !strcmp(st->reason, reasons[i])) s->by_reason[i]++;
    s->tokens_prompt += (uint64_t)st->prompt_tokens;
    s->tokens_cached += (uint64_t)st->cached_tokens;
    s->tokens_evaluated += (uint64_t)st->evaluated_tokens;
    s->tokens_generated += (uint64_t)st->generated_tokens;
}

rpc_val *srv_req_stats_val(const srv_req_stats *st, rpc_arena *a) {
    rpc_val *m = rpc_map(a, 12);
    rpc_map_put(a, m, "prompt_tokens", rpc_int(a, st->prompt_tokens));
    rpc_map_put(a, m, "cached_tokens", rpc_int(a, st->cached_tokens));
    rpc_map_put(a, m, "evaluated_tokens", rpc_int(a, st->evaluated_tokens));
    rpc_map_put(a, m, "generated_tokens", rpc_int(a, st->generated_tokens));
    rpc_map_put(a, m, "healed_bytes", rpc_int(a, st->healed_bytes));
    rpc_map_put(a, m, "queue_ms", rpc_float(a, st->queue_ms));
    rpc_map_put(a, m, "prompt_ms", rpc_float(a, st->prompt_ms));
    rpc_map_put(a, m, "gen_ms", rpc_float(a, st->gen_ms));
    rpc_map_put(a, m, "first_chunk_ms", rpc_float(a, st->first_chunk_ms));
    rpc_map_put(a, m, "total_ms", rpc_float(a, st->total_ms));
    rpc_map_put(a, m, "reason", st->reason ? rpc_cstr(a, st->reason) : rpc_nil(a));
    if (st->spec) {
        rpc_val *sp = rpc_map(a, 4);
        rpc_map_put(a, sp, "mode", rpc_cstr(a, st->spec));
        rpc_map_put(a, sp, "drafted", rpc_int(a, st->spec_drafted));
        rpc_map_put(a, sp, "accepted", rpc_int(a, st->spec_accepted));
        rpc_map_put(a, sp, "steps", rpc_int(a, st->spec_steps));
        rpc_map_put(a, m, "spec", sp);
    }
    return m;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* {n, p50, p95, max} of the recent requests' field (those with a value > 0). */
static rpc_val *percentiles(const srv_stats *s, size_t offset, rpc_arena *a) {
    double v[SRV_STATS_RING];
    int n = 0;
    for (int i = 0; i < s->ring_n; i++) {
        double x = *(const double *)((const char *)&s->ring[i].st + offset);
        if (x > 0) v[n++] = x;
    }
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    rpc_val *m = rpc_map(a, 4);
    rpc_map_put(a, m, "n", rpc_int(a, n));
    rpc_map_put(a, m, "p50", rpc_float(a, n ? v[(n - 1) / 2] : 0));
    rpc_map_put(a, m, "p95", rpc_float(a, n ? v[(n * 95 + 99) / 100 - 1] : 0));
    rpc_map_put(a, m, "max", rpc_float(a, n ? v[n - 1] : 0));
    return m;
}

#define PUT_U(m, name) rpc_map_put(a, m, #name, rpc_int(a, (int64_t)s->name))

rpc_val *srv_stats_result(const srv_stats *s, const rpc_reader_stats *rd, rpc_arena *a) {
    rpc_val *m = rpc_map(a, 40);
    rpc_map_put(a, m, "uptime_ms", rpc_float(a, (fl_now() - s->t_start) * 1e3));
    PUT_U(m, requests); PUT_U(m, notifications); PUT_U(m, errors); PUT_U(m, completes); PUT_U(m, refactors);
    PUT_U(m, cancels); PUT_U(m, superseded); PUT_U(m, finished);
    PUT_U(m, chunks_sent); PUT_U(m, chunks_merged); PUT_U(m, chunks_dropped); PUT_U(m, logs_sent);
    PUT_U(m, logs_dropped); PUT_U(m, bytes_out); PUT_U(m, writes); PUT_U(m, input_pauses); PUT_U(m, nvim_errors);
    rpc_val *r = rpc_map(a, 8);
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) rpc_map_put(a, r, reasons[i], rpc_int(a, (int64_t)s->by_reason[i]));
    rpc_map_put(a, m, "reasons", r);
    rpc_val *t = rpc_map(a, 4);
    rpc_map_put(a, t, "prompt", rpc_int(a, (int64_t)s->tokens_prompt));
    rpc_map_put(a, t, "cached", rpc_int(a, (int64_t)s->tokens_cached));
    rpc_map_put(a, t, "evaluated", rpc_int(a, (int64_t)s->tokens_evaluated));
    rpc_map_put(a, t, "generated", rpc_int(a, (int64_t)s->tokens_generated));
    rpc_map_put(a, m, "tokens", t);
    rpc_val *in = rpc_map(a, 5);
    rpc_map_put(a, in, "bytes", rpc_int(a, (int64_t)rd->bytes));
    rpc_map_put(a, in, "messages", rpc_int(a, (int64_t)rd->messages));
    rpc_map_put(a, in, "malformed", rpc_int(a, (int64_t)rd->malformed));
    rpc_map_put(a, in, "oversized", rpc_int(a, (int64_t)rd->oversized));
    rpc_map_put(a, in, "skipped_bytes", rpc_int(a, (int64_t)rd->skipped_bytes));
    rpc_map_put(a, m, "input", in);
    rpc_map_put(a, m, "first_chunk_ms", percentiles(s, offsetof(srv_req_stats, first_chunk_ms), a));
    rpc_map_put(a, m, "total_ms", percentiles(s, offsetof(srv_req_stats, total_ms), a));
    /* the most recent requests, newest first */
    int n = s->ring_n < 32 ? s->ring_n : 32;
    rpc_val *recent = rpc_arr(a, (size_t)n);
    for (int i = 0; i < n; i++) {
        int k = (s->ring_pos - 1 - i + SRV_STATS_RING) % SRV_STATS_RING;
        rpc_val *e = srv_req_stats_val(&s->ring[k].st, a);
        rpc_map_put(a, e, "id", rpc_int(a, s->ring[k].id));
        rpc_arr_push(a, recent, e);
    }
    rpc_map_put(a, m, "recent", recent);
    rpc_map_put(a, m, "last", n && recent->type == RPC_ARR && recent->u.arr.n ? recent->u.arr.items[0] : rpc_nil(a));
    return m;
}
