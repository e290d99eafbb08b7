/* forward.c — the transformer forward pass, one code path for every
 * architecture row (arch.h) and for both prompt batches and single tokens.
 *
 * Per layer:  h = x + rs·attn(attn_norm(x));  x' = h + rs·ffn(ffn_norm(h))
 * where ffn is a dense SwiGLU or a mixture of SwiGLU experts (+ shared
 * expert), rs the residual scale (1 except Granite). Logits are
 * output(output_norm(x)) / logit_scale.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/internal.h"
#include "engine/qtypes.h"
#include "engine/repack.h"

/* ---- matrix products on the pool ----
 *
 * Several independent products (q, k and v; gate and up of every active
 * expert) run in one pool_run: first every thread quantizes a share of the
 * activation rows, then, after a barrier, takes a share of all the tasks'
 * row groups, balanced by arithmetic. Fewer wake-ups per token matters as
 * much as the kernels for small models. */

typedef struct {
    const kq_mat *w;
    const float *x;      /* n_tok rows of w->n_in floats, ldx apart */
    int ldx, n_tok;
    float *y;            /* y[t*ldy + r] */
    int ldy;
    /* set by matmul_multi */
    const kq_ops *ops;
    size_t stride;       /* bytes between prepared activation rows */
    uint8_t *act;        /* prepared activations (shared with an earlier task of the same input) */
    int owner;           /* this task prepares act */
    int64_t groups, cost0, gcost; /* row groups, cumulative cost before this task, cost per group */
} mm_task;

typedef struct {
    eng_pool *pool;
    mm_task *t;
    int n;
    int64_t prep_rows, total;
} mm_multi;

static void multi_worker(void *arg, int ith, int nth) {
    mm_multi *mm = arg;
    /* phase 1: activation rows of the owning tasks, split across threads */
    int64_t lo = mm->prep_rows * ith / nth, hi = mm->prep_rows * (ith + 1) / nth, row = 0;
    for (int i = 0; i < mm->n && row < hi; i++) {
        mm_task *t = &mm->t[i];
        if (!t->owner) continue;
        for (int r = 0; r < t->n_tok; r++, row++)
            if (row >= lo && row < hi)
                t->ops->prepare(t->w->type, t->x + (size_t)r * t->ldx, t->act + (size_t)r * t->stride, t->w->n_in);
    }
    if (nth > 1) pool_barrier(mm->pool);
    /* phase 2: row groups, each to the thread whose cost range holds its start */
    int64_t c_lo = mm->total * ith / nth, c_hi = mm->total * (ith + 1) / nth;
    for (int i = 0; i < mm->n; i++) {
        mm_task *t = &mm->t[i];
        if (t->cost0 >= c_hi || t->cost0 + t->groups * t->gcost <= c_lo) continue;
        int64_t g0 = c_lo > t->cost0 ? (c_lo - t->cost0 + t->gcost - 1) / t->gcost : 0;
        int64_t g1 = (c_hi - t->cost0 + t->gcost - 1) / t->gcost;
        if (g1 > t->groups) g1 = t->groups;
        int64_t r0 = g0 * KQ_ROW_GROUP, r1 = g1 * KQ_ROW_GROUP < t->w->n_rows ? g1 * KQ_ROW_GROUP : t->w->n_rows;
        if (r0 < r1) t->ops->rows(t->w, t->act, t->stride, t->n_tok, t->y, t->ldy, r0, r1);
    }
}
/* Below this many multiply-adds a pool run costs more than it saves (waking a
 * helper, and on a busy machine waiting for it to be scheduled): the calling
 * thread does the work alone. */
#define PARALLEL_MIN_MACS (1 << 20)

/* Unpacking a row for the batch kernels costs about as much as this many
 * tokens' arithmetic on it (balances threads over experts with few tokens). */
#define BATCH_UNPACK_TOKENS 4

/* Run fn on the pool, or on this thread alone when the work is small. */
static void run_sized(eng_ctx *c, pool_fn fn, void *arg, int64_t macs) {
    if (macs < PARALLEL_MIN_MACS) fn(arg, 0, 1);
    else pool_run(c->pool, fn, arg);
}

/* fn(arg, lo, hi) over [0, n) split across the pool (on this thread alone
 * when `work`, in multiply-adds or bytes moved, is small). */
typedef struct {
    void (*fn)(void *arg, int lo, int hi);
    void *arg;
    int n;
} par_job;

static void par_worker(void *arg, int ith, int nth) {
    par_job *j = arg;
    int lo, hi;
    pool_split(j->n, ith, nth, &lo, &hi);
    if (lo < hi) j->fn(j->arg, lo, hi);
}

static void par_for(eng_ctx *c, int n, int64_t work, void (*fn)(void *, int, int), void *arg) {
    par_job j = {fn, arg, n};
    run_sized(c, par_worker, &j, work);
}

/* Run n independent products in one pool run. Tasks whose x equals an
 * earlier task's x (same row layout and kernel) share its activations. */
static void matmul_multi(eng_ctx *c, mm_task *t, int n) {
    size_t off = 0;
    int64_t prep = 0, total = 0;
    for (int i = 0; i < n; i++) {
        const kq_ops *ops = kq_for_type(t[i].w->type);
        if (ops->batch && !c->exact && t[i].n_tok >= KQ_BATCH_MIN && ops->batch->supports(t[i].w->type))
            ops = ops->batch;
        t[i].ops = ops;
        t[i].stride = (ops->act_bytes(t[i].w->type, t[i].w->n_in) + 63) & ~(size_t)63;
        t[i].owner = 1;
        for (int j = 0; j < i; j++)
            if (t[j].x == t[i].x && t[j].ops == ops && t[j].w->type == t[i].w->type && t[j].n_tok == t[i].n_tok &&
                t[j].ldx == t[i].ldx && t[j].w->n_in == t[i].w->n_in) {
                t[i].act = t[j].act;
                t[i].owner = 0;
                break;
            }
        if (t[i].owner) {
            t[i].act = (uint8_t *)c->act + off;
            off += t[i].stride * (size_t)t[i].n_tok;
            prep += t[i].n_tok;
        }
        t[i].groups = (t[i].w->n_rows + KQ_ROW_GROUP - 1) / KQ_ROW_GROUP;
        /* batch kernels compute whole lane groups and unpack each row once per
         * call (worth a few tokens of work) */
        int is_batch = ops != kq_for_type(t[i].w->type);
        int64_t eff_tok = is_batch ? kq_batch_lanes(t[i].n_tok) + BATCH_UNPACK_TOKENS : t[i].n_tok;
        t[i].gcost = t[i].w->n_in * eff_tok * KQ_ROW_GROUP / 256 + 1;
        t[i].cost0 = total;
        total += t[i].groups * t[i].gcost;
    }
    assert(off <= c->act_cap);
    mm_multi mm = {c->pool, t, n, prep, total};
    run_sized(c, multi_worker, &mm, total * 256);
}

/* y[t*ldy + r] = W[r] · x[t*ldx ..] for t < n_tok, r < w->n_rows. */
static void matmul(eng_ctx *c, const kq_mat *w, const float *x, int ldx, int n_tok, float *y, int ldy) {
    mm_task t = {.w = w, .x = x, .ldx = ldx, .n_tok = n_tok, .y = y, .ldy = ldy};
    matmul_multi(c, &t, 1);
}

/* Matrix e of a stacked (expert) weight. */
static kq_mat expert(const eng_weight *w, int e) {
    kq_mat m = w->m;
    m.data += (size_t)e * w->mat_bytes;
    return m;
}

/* ---- small vector ops ---- */

/* Sum of squares in double over 8 independent partial sums: one chain of
 * dependent adds made rmsnorm ~10% of a prompt. */
#define NORM_LANES 8

static void rmsnorm(float *y, const float *x, const float *w, int n, float eps) {
    double part[NORM_LANES] = {0}, ss = 0;
    int i = 0;
    for (; i + NORM_LANES <= n; i += NORM_LANES)
        for (int j = 0; j < NORM_LANES; j++) part[j] += (double)x[i + j] * x[i + j];
    for (; i < n; i++) ss += (double)x[i] * x[i];
    for (int j = 0; j < NORM_LANES; j++) ss += part[j];
    float scale = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}

static void add_bias(float *y, const float *b, int n_tok, int n) {
    if (!b) return;
    for (int t = 0; t < n_tok; t++)
        for (int i = 0; i < n; i++) y[(size_t)t * n + i] += b[i];
}

/* cos/sin tables for positions pos0 .. pos0+n_tok-1. */
static void rope_tables(eng_ctx *c, int pos0, int n_tok) {
    const eng_hparams *hp = &c->m->hp;
    int half = hp->n_rot / 2;
    for (int t = 0; t < n_tok; t++)
        for (int i = 0; i < half; i++) {
            double theta = (double)(pos0 + t) * pow((double)hp->rope_freq_base, -2.0 * i / hp->n_rot);
            c->rope_cos[t * half + i] = (float)cos(theta);
            c->rope_sin[t * half + i] = (float)sin(theta);
        }
}

/* Rotate n_heads heads of head_dim in row v (token t). */
static void rope_apply(eng_ctx *c, float *v, int n_heads, int t) {
    const eng_hparams *hp = &c->m->hp;
    int half = hp->n_rot / 2, neox = c->m->arch->rope == ROPE_NEOX;
    const float *cs = c->rope_cos + t * half, *sn = c->rope_sin + t * half;
    for (int h = 0; h < n_heads; h++) {
        float *x = v + h * hp->head_dim;
        for (int i = 0; i < half; i++) {
            int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            float x0 = x[a], x1 = x[b];
            x[a] = x0 * cs[i] - x1 * sn[i];
            x[b] = x0 * sn[i] + x1 * cs[i];
        }
    }
}

/* ---- attention ---- */

typedef struct {
    eng_ctx *c;
    int il, pos0, n_tok;
    float scale;
} attn_job;

/* Work unit: a block of consecutive tokens × one KV head (its group of query
 * heads). Units are dealt round-robin: a causal block's cost grows with its
 * position, so contiguous shares would leave the first thread idle. */
static void attn_worker(void *arg, int ith, int nth) {
    attn_job *j = arg;
    eng_ctx *c = j->c;
    const eng_hparams *hp = &c->m->hp;
    const kq_vec_ops *vec = kq_vec();
    int hd = hp->head_dim, nkv = hp->n_head_kv, kvd = nkv * hd, group = hp->n_head / nkv;
    int tb = eng_attn_block_tokens(group), nblk = (j->n_tok + tb - 1) / tb;
    const uint16_t *K = c->k_cache + (size_t)j->il * c->n_ctx * kvd;
    const uint16_t *V = c->v_cache + (size_t)j->il * c->n_ctx * kvd;
    float *sc = c->scores + (size_t)ith * eng_attn_rows(group) * c->n_ctx;
    for (int w = ith; w < nblk * nkv; w += nth) {
        int t0 = w / nkv * tb, kvh = w % nkv, n = j->n_tok - t0 < tb ? j->n_tok - t0 : tb;
        size_t qo = (size_t)t0 * hp->n_head * hd + (size_t)kvh * group * hd;
        vec->attn(group, n, hd, j->pos0 + t0 + 1, c->q + qo, (size_t)hp->n_head * hd, K + kvh * hd, V + kvh * hd,
                  (size_t)kvd, j->scale, sc, c->att + qo);
    }
}

/* Tokens [lo, hi) of an attention step: q/k norms, rotary embedding, and
 * k, v into the layer's KV cache (IEEE half floats). */
typedef struct {
    eng_ctx *c;
    const eng_layer *ly;
    int il, pos0;
} qk_job;

static void qk_prepare(void *arg, int lo, int hi) {
    qk_job *j = arg;
    eng_ctx *c = j->c;
    const eng_layer *ly = j->ly;
    const eng_hparams *hp = &c->m->hp;
    int hd = hp->head_dim, nh = hp->n_head, nkv = hp->n_head_kv, qd = nh * hd, kvd = nkv * hd, il = j->il,
        pos0 = j->pos0;
    for (int t = lo; t < hi; t++) {
        float *q = c->q + (size_t)t * qd, *k = c->k + (size_t)t * kvd;
        if (c->m->arch->qk_norm == QKNORM_HEAD) {
            for (int h = 0; h < nh; h++) rmsnorm(q + h * hd, q + h * hd, ly->q_norm, hd, hp->norm_eps);
            for (int h = 0; h < nkv; h++) rmsnorm(k + h * hd, k + h * hd, ly->k_norm, hd, hp->norm_eps);
        } else if (c->m->arch->qk_norm == QKNORM_FULL) {
            rmsnorm(q, q, ly->q_norm, qd, hp->norm_eps);
            rmsnorm(k, k, ly->k_norm, kvd, hp->norm_eps);
        }
        rope_apply(c, q, nh, t);
        rope_apply(c, k, nkv, t);
        size_t at = ((size_t)il * c->n_ctx + (size_t)(pos0 + t)) * kvd;
        const float *v = c->v + (size_t)t * kvd;
        kq_vec()->to_f16(kvd, k, c->k_cache + at);
        kq_vec()->to_f16(kvd, v, c->v_cache + at);
    }
}

static void attention(eng_ctx *c, const eng_layer *ly, int il, int pos0, int n_tok) {
    const eng_hparams *hp = &c->m->hp;
    int d = hp->n_embd, hd = hp->head_dim, nh = hp->n_head, nkv = hp->n_head_kv;
    int qd = nh * hd, kvd = nkv * hd;
    mm_task qkv[3] = {{.w = &ly->wq.m, .x = c->xn, .ldx = d, .n_tok = n_tok, .y = c->q, .ldy = qd},
                      {.w = &ly->wk.m, .x = c->xn, .ldx = d, .n_tok = n_tok, .y = c->k, .ldy = kvd},
                      {.w = &ly->wv.m, .x = c->xn, .ldx = d, .n_tok = n_tok, .y = c->v, .ldy = kvd}};
    matmul_multi(c, qkv, 3);
    add_bias(c->q, ly->bq, n_tok, qd);
    add_bias(c->k, ly->bk, n_tok, kvd);
    add_bias(c->v, ly->bv, n_tok, kvd);
    qk_job qj = {c, ly, il, pos0};
    par_for(c, n_tok, (int64_t)n_tok * (qd + 2 * kvd) * 8, qk_prepare, &qj);
    attn_job j = {c, il, pos0, n_tok, hp->attention_scale > 0 ? hp->attention_scale : 1.f / sqrtf((float)hd)};
    run_sized(c, attn_worker, &j, (int64_t)n_tok * (pos0 + n_tok) * hp->n_head * hd * 2);
    matmul(c, &ly->wo.m, c->att, qd, n_tok, c->tmp, d);
}

/* ---- feed-forward ---- */

static void silu_mul(float *a, const float *b, size_t n) { kq_vec()->silu_mul((int64_t)n, a, b); }

/* out[t] = down(silu(gate x[t]) * up x[t]) for n_tok rows of x (stride d). */
static void swiglu(eng_ctx *c, const kq_mat *gate, const kq_mat *up, const kq_mat *down, const float *x, int n_tok,
                   float *out) {
    int d = c->m->hp.n_embd, ff = (int)gate->n_rows;
    mm_task gu[2] = {{.w = gate, .x = x, .ldx = d, .n_tok = n_tok, .y = c->ff_a, .ldy = ff},
                     {.w = up, .x = x, .ldx = d, .n_tok = n_tok, .y = c->ff_b, .ldy = ff}};
    matmul_multi(c, gu, 2);
    silu_mul(c->ff_a, c->ff_b, (size_t)n_tok * ff);
    matmul(c, down, c->ff_a, ff, n_tok, out, d);
}

/* Softmax over the router logits, top-k (ties to the lower id), optional renormalisation. */
static void route(eng_ctx *c, int n_tok) {
    const eng_hparams *hp = &c->m->hp;
    int ne = hp->n_expert, k = c->n_expert_used;
    for (int t = 0; t < n_tok; t++) {
        float *lg = c->router_logits + (size_t)t * ne;
        float mx = -INFINITY;
        for (int e = 0; e < ne; e++) mx = fmaxf(mx, lg[e]);
        double sum = 0;
        for (int e = 0; e < ne; e++) sum += (lg[e] = expf(lg[e] - mx));
        for (int e = 0; e < ne; e++) lg[e] = (float)(lg[e] / sum);
        int32_t *sel = c->sel + (size_t)t * k;
        float *w = c->sel_w + (size_t)t * k, wsum = 0;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < ne; e++) {
                int taken = 0;
                for (int i = 0; i < j; i++) taken |= sel[i] == e;
                if (!taken && (best < 0 || lg[e] > lg[best])) best = e;
            }
            sel[j] = best;
            w[j] = lg[best];
            wsum += w[j];
        }
        if (c->m->arch->norm_topk)
            for (int j = 0; j < k; j++) w[j] /= wsum;
    }
}

/* The routed experts' row-wise steps, per token or per slot. */
typedef struct {
    eng_ctx *c;
    int d, k, ff;
} moe_job;

/* Tokens [lo, hi): their normed rows into their slots of xg. */
static void moe_gather(void *arg, int lo, int hi) {
    moe_job *j = arg;
    eng_ctx *c = j->c;
    for (int t = lo; t < hi; t++)
        for (int s = 0; s < j->k; s++)
            memcpy(c->xg + (size_t)c->tok_slot[t * j->k + s] * j->d, c->xn + (size_t)t * j->d,
                   (size_t)j->d * sizeof(float));
}

/* Slots [lo, hi): ff_a = silu(ff_a) * ff_b. */
static void moe_silu(void *arg, int lo, int hi) {
    moe_job *j = arg;
    silu_mul(j->c->ff_a + (size_t)lo * j->ff, j->c->ff_b + (size_t)lo * j->ff, (size_t)(hi - lo) * j->ff);
}

/* Tokens [lo, hi): tmp = Σ over the token's slots (ascending) of weight · yg. */
static void moe_combine(void *arg, int lo, int hi) {
    moe_job *j = arg;
    eng_ctx *c = j->c;
    for (int t = lo; t < hi; t++) {
        float *dst = c->tmp + (size_t)t * j->d;
        memset(dst, 0, (size_t)j->d * sizeof(float));
        for (int s = 0; s < j->k; s++) {
            int slot = c->tok_slot[t * j->k + s];
            const float *src = c->yg + (size_t)slot * j->d;
            float w = c->grp_w[slot];
            for (int x = 0; x < j->d; x++) dst[x] += w * src[x];
        }
    }
}

/* Mixture of experts on c->xn → c->tmp. Routed slots are grouped by expert
 * (so each active expert's weights are read once per batch; unused experts
 * are skipped); gate and up of all active experts (and the shared expert) run
 * as one pool run, their down projections as another. A token's expert
 * outputs are summed in expert-id order whatever the batch. */
static void moe(eng_ctx *c, const eng_layer *ly, int n_tok) {
    const eng_hparams *hp = &c->m->hp;
    int d = hp->n_embd, k = c->n_expert_used, ne = hp->n_expert, ff = (int)ly->gate_exps.m.n_rows;
    matmul(c, &ly->router.m, c->xn, d, n_tok, c->router_logits, ne);
    route(c, n_tok);
    /* slot ranges per expert, then the gathered rows */
    int off[1025] = {0};
    for (int i = 0; i < n_tok * k; i++) off[c->sel[i] + 1]++;
    for (int e = 0; e < ne; e++) off[e + 1] += off[e];
    int fill[1024];
    memcpy(fill, off, (size_t)ne * sizeof(int));
    for (int t = 0; t < n_tok; t++) {
        int *ts = c->tok_slot + t * k;
        for (int j = 0; j < k; j++) {
            int slot = fill[c->sel[t * k + j]]++, q = j;
            c->grp_w[slot] = c->sel_w[t * k + j];
            for (; q > 0 && ts[q - 1] > slot; q--) ts[q] = ts[q - 1];   /* ascending: the sum's order */
            ts[q] = slot;
        }
    }
    moe_job mj = {c, d, k, ff};
    par_for(c, n_tok, (int64_t)n_tok * k * d, moe_gather, &mj);
    mm_task tasks[2 * 1024 + 2];
    kq_mat mats[3 * 1024];
    int nt = 0, shff = ly->shexp_gate ? (int)ly->gate_shexp.m.n_rows : 0;
    float *sh_a = c->ff_a + (size_t)n_tok * k * ff, *sh_b = c->ff_b + (size_t)n_tok * k * ff;
    for (int e = 0; e < ne; e++) {
        int cnt = off[e + 1] - off[e];
        if (!cnt) continue;
        mats[3 * e] = expert(&ly->gate_exps, e);
        mats[3 * e + 1] = expert(&ly->up_exps, e);
        mats[3 * e + 2] = expert(&ly->down_exps, e);
        const float *x = c->xg + (size_t)off[e] * d;
        tasks[nt++] = (mm_task){.w = &mats[3 * e], .x = x, .ldx = d, .n_tok = cnt, .y = c->ff_a + (size_t)off[e] * ff, .ldy = ff};
        tasks[nt++] = (mm_task){.w = &mats[3 * e + 1], .x = x, .ldx = d, .n_tok = cnt, .y = c->ff_b + (size_t)off[e] * ff, .ldy = ff};
    }
    if (shff) {
        tasks[nt++] = (mm_task){.w = &ly->gate_shexp.m, .x = c->xn, .ldx = d, .n_tok = n_tok, .y = sh_a, .ldy = shff};
        tasks[nt++] = (mm_task){.w = &ly->up_shexp.m, .x = c->xn, .ldx = d, .n_tok = n_tok, .y = sh_b, .ldy = shff};
    }
    matmul_multi(c, tasks, nt);
    par_for(c, n_tok * k, (int64_t)n_tok * k * ff * 8, moe_silu, &mj);
    if (shff) silu_mul(sh_a, sh_b, (size_t)n_tok * shff);
    nt = 0;
    for (int e = 0; e < ne; e++) {
        int cnt = off[e + 1] - off[e];
        if (!cnt) continue;
        tasks[nt++] = (mm_task){.w = &mats[3 * e + 2], .x = c->ff_a + (size_t)off[e] * ff, .ldx = ff, .n_tok = cnt,
                                .y = c->yg + (size_t)off[e] * d, .ldy = d};
    }
    float *sh_out = c->yg + (size_t)n_tok * k * d;
    if (shff)
        tasks[nt++] = (mm_task){.w = &ly->down_shexp.m, .x = sh_a, .ldx = shff, .n_tok = n_tok, .y = sh_out, .ldy = d};
    matmul_multi(c, tasks, nt);
    par_for(c, n_tok, (int64_t)n_tok * k * d, moe_combine, &mj);
    for (int t = 0; t < n_tok && shff; t++) {
        const float *xn = c->xn + (size_t)t * d;
        float gl = 0;
        for (int x = 0; x < d; x++) gl += ly->shexp_gate[x] * xn[x];
        float g = 1.f / (1.f + expf(-gl));
        for (int x = 0; x < d; x++) c->tmp[(size_t)t * d + x] += g * sh_out[(size_t)t * d + x];
    }
}

/* ---- the batch ---- */

static void embed(eng_ctx *c, const int32_t *tok, int n_tok) {
    const eng_hparams *hp = &c->m->hp;
    const kq_mat *e = &c->m->tok_embd.m;
    const qtype_info *q = qtype_get(e->type);
    for (int t = 0; t < n_tok; t++) {
        float *x = c->x + (size_t)t * hp->n_embd;
        if (e->type == QT_Q8_0_R16) r16_dequant_row(e, tok[t], x); /* tied to a repacked output */
        else
            q->dequant(e->data + (size_t)tok[t] * e->row_bytes, x, hp->n_embd);
        if (hp->embedding_scale != 1.f)
            for (int i = 0; i < hp->n_embd; i++) x[i] *= hp->embedding_scale;
    }
}

/* Rows [lo, hi): x += residual_scale · tmp, then xn = rmsnorm(x) with the
 * job's weight (none: no norm). */
typedef struct {
    eng_ctx *c;
    int add;
    const float *norm;
} rows_job;

static void residual_norm_rows(void *arg, int lo, int hi) {
    rows_job *j = arg;
    eng_ctx *c = j->c;
    const eng_hparams *hp = &c->m->hp;
    int d = hp->n_embd;
    for (int t = lo; t < hi; t++) {
        float *x = c->x + (size_t)t * d;
        if (j->add)
            for (int i = 0; i < d; i++) x[i] += hp->residual_scale * c->tmp[(size_t)t * d + i];
        if (j->norm) rmsnorm(c->xn + (size_t)t * d, x, j->norm, d, hp->norm_eps);
    }
}

/* x += the block's output (add) and/or xn = rmsnorm(x, norm), row by row on the pool. */
static void residual_norm(eng_ctx *c, int n_tok, int add, const float *norm) {
    rows_job j = {c, add, norm};
    par_for(c, n_tok, (int64_t)n_tok * c->m->hp.n_embd * 4, residual_norm_rows, &j);
}

/* Evaluate n_tok tokens at positions pos0.. ; logits of rows [first_out, n_tok) go to out. */
static int forward_batch(eng_ctx *c, const int32_t *tok, int n_tok, int pos0, int first_out, float *out,
                         const volatile int *cancel) {
    const eng_model *m = c->m;
    const eng_hparams *hp = &m->hp;
    int d = hp->n_embd;
    embed(c, tok, n_tok);
    rope_tables(c, pos0, n_tok);
    for (int il = 0; il < c->n_layer_used; il++) {
        if (cancel && *cancel) return -2;
        const eng_layer *ly = &m->layers[il];
        if (il == 0) residual_norm(c, n_tok, 0, ly->attn_norm);
        attention(c, ly, il, pos0, n_tok);
        residual_norm(c, n_tok, 1, ly->ffn_norm);
        if (ly->router.m.data) moe(c, ly, n_tok);
        else swiglu(c, &ly->ffn_gate.m, &ly->ffn_up.m, &ly->ffn_down.m, c->xn, n_tok, c->tmp);
        /* the residual, and the next layer's attention norm in the same pass */
        residual_norm(c, n_tok, 1, il + 1 < c->n_layer_used ? m->layers[il + 1].attn_norm : NULL);
    }
    if (!out || first_out >= n_tok) return 0;
    int n_out = n_tok - first_out;
    for (int t = 0; t < n_out; t++)
        rmsnorm(c->xn + (size_t)t * d, c->x + (size_t)(first_out + t) * d, m->output_norm, d, hp->norm_eps);
    matmul(c, &m->output.m, c->xn, d, n_out, out, hp->n_vocab);
    if (hp->logit_scale != 1.f)
        for (size_t i = 0; i < (size_t)n_out * hp->n_vocab; i++) out[i] /= hp->logit_scale;
    return 0;
}

int eng_decode(eng_ctx *c, const int32_t *tokens, int n, int logits_mode, float *logits, const volatile int *cancel,
               char *err, size_t errlen) {
    const eng_hparams *hp = &c->m->hp;
    if (n <= 0) return fl_seterr(err, errlen, "decode: no tokens");
    if (n > c->n_ctx - c->len)
        return fl_seterr(err, errlen, "decode: context full (%d cached + %d new > %d)", c->len, n, c->n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return fl_seterr(err, errlen, "decode: token id %d at position %d is out of range [0, %d)", tokens[i], i,
                             hp->n_vocab);
    if (logits_mode != ENG_LOGITS_NONE && !logits) return fl_seterr(err, errlen, "decode: no logits buffer");
    for (int s = 0; s < n; s += c->n_batch) {
        int nb = n - s < c->n_batch ? n - s : c->n_batch;
        int last_chunk = s + nb == n;
        float *out = NULL;
        int first_out = nb;
        if (logits_mode == ENG_LOGITS_ALL) {
            out = logits + (size_t)s * hp->n_vocab;
            first_out = 0;
        } else if (logits_mode == ENG_LOGITS_LAST && last_chunk) {
            out = logits;
            first_out = nb - 1;
        }
        int rc = forward_batch(c, tokens + s, nb, c->len + s, first_out, out, cancel);
        if (rc == -2) return fl_seterr(err, errlen, "decode: cancelled"), -2;
    }
    memcpy(c->tokens + c->len, tokens, (size_t)n * sizeof(int32_t));
    c->len += n;
    return 0;
}
