/* ctx.c — sequence contexts: KV cache, scratch buffers, compute pool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "engine/internal.h"
#include "engine/membudget.h"

static int max3(int a, int b, int c) { return a > b ? (a > c ? a : c) : (b > c ? b : c); }

/* calloc of n floats into *p; returns -1 on failure (overflow included). */
static int alloc_f(float **p, size_t n) { return (*p = fl_calloc_array(n ? n : 1, sizeof(float))) ? 0 : -1; }

eng_ctx *eng_ctx_new(eng_model *m, const eng_ctx_params *p, char *err, size_t errlen) {
    const eng_hparams *hp = &m->hp;
    eng_ctx_params d = {0};
    if (!p) p = &d;
    if (p->n_ctx < 0 || p->n_batch < 0 || p->n_threads < 0 || p->n_expert_used < 0 || p->n_layer_used < 0 ||
        p->n_ctx > (1 << 20) || p->n_batch > 65536 || p->n_threads > 512) {
        fl_seterr(err, errlen, "context: invalid parameters");
        return NULL;
    }
    if (p->n_expert_used > hp->n_expert || p->n_layer_used > hp->n_layer) {
        fl_seterr(err, errlen, "context: n_expert_used %d / n_layer_used %d exceed the model's %d / %d",
                  p->n_expert_used, p->n_layer_used, hp->n_expert, hp->n_layer);
        return NULL;
    }
    eng_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        fl_seterr(err, errlen, "context: out of memory");
        return NULL;
    }
    c->m = m;
    c->n_ctx = p->n_ctx ? p->n_ctx : (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
    c->n_batch = p->n_batch ? p->n_batch : 256;
    c->n_expert_used = p->n_expert_used ? p->n_expert_used : hp->n_expert_used;
    c->n_layer_used = p->n_layer_used ? p->n_layer_used : hp->n_layer;
    int nt = p->n_threads;
    if (!nt) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nt = cpus > 0 ? (int)cpus : 1;
    }
    size_t B = (size_t)c->n_batch, D = (size_t)hp->n_embd;
    size_t QD = (size_t)hp->n_head * hp->head_dim, KVD = (size_t)hp->n_head_kv * hp->head_dim;
    size_t FF = 1; /* widest FFN actually present (keys alone are not trusted) */
    for (int il = 0; il < hp->n_layer; il++) {
        const eng_layer *ly = &m->layers[il];
        int w = max3((int)ly->ffn_gate.m.n_rows, (int)ly->gate_exps.m.n_rows, (int)ly->gate_shexp.m.n_rows);
        if ((size_t)w > FF) FF = (size_t)w;
    }
    size_t E = (size_t)(hp->n_expert > 0 ? hp->n_expert : 1), K = (size_t)(c->n_expert_used > 0 ? c->n_expert_used : 1);
    size_t max_in = D > QD ? D : QD;
    if (FF > max_in) max_in = FF;
    size_t kv_elems;
    char what[96];
    snprintf(what, sizeof what, "a KV cache of %d tokens", c->n_ctx);
    if (!fl_mul_size((size_t)hp->n_layer * (size_t)c->n_ctx, KVD, &kv_elems) &&
        mem_check(kv_elems * 2 * sizeof(uint16_t), mem_available(), what, "lower the context size (n_ctx)", err, errlen))
        goto fail;
    if (fl_mul_size((size_t)hp->n_layer * (size_t)c->n_ctx, KVD, &kv_elems) ||
        !(c->k_cache = fl_calloc_array(kv_elems ? kv_elems : 1, sizeof(uint16_t))) ||
        !(c->v_cache = fl_calloc_array(kv_elems ? kv_elems : 1, sizeof(uint16_t)))) {
        fl_seterr(err, errlen, "context: cannot allocate a KV cache of %d tokens (%.1f MiB)", c->n_ctx,
                  2.0 * (double)hp->n_layer * c->n_ctx * (double)KVD * 2 / 1048576.0);
        goto fail;
    }
    c->tokens = fl_calloc_array((size_t)c->n_ctx, sizeof(int32_t));
    c->sel = fl_calloc_array(B * K, sizeof(int32_t));
    c->tok_slot = fl_calloc_array(B * K, sizeof(int32_t));
    /* MoE: every routed slot (B·K rows) plus the shared expert's B rows; dense:
     * up to three differently typed q/k/v inputs */
    size_t slots = B * K + B, act_rows = slots > 3 * B ? slots : 3 * B;
    c->act_cap = act_rows * (max_in * sizeof(float) + 64);
    c->act = aligned_alloc(64, (c->act_cap + 63) / 64 * 64);
    if (!c->tokens || !c->sel || !c->tok_slot || !c->act || alloc_f(&c->x, B * D) || alloc_f(&c->xn, B * D) ||
        alloc_f(&c->q, B * QD) || alloc_f(&c->k, B * KVD) || alloc_f(&c->v, B * KVD) || alloc_f(&c->att, B * QD) ||
        alloc_f(&c->tmp, B * D) || alloc_f(&c->ff_a, slots * FF) || alloc_f(&c->ff_b, slots * FF) ||
        alloc_f(&c->router_logits, B * E) || alloc_f(&c->sel_w, B * K) || alloc_f(&c->grp_w, B * K) ||
        alloc_f(&c->xg, B * K * D) || alloc_f(&c->yg, slots * D) || alloc_f(&c->scores, (size_t)nt * eng_attn_rows(hp->n_head / hp->n_head_kv) * c->n_ctx) ||
        alloc_f(&c->rope_cos, B * (size_t)hp->n_rot / 2) || alloc_f(&c->rope_sin, B * (size_t)hp->n_rot / 2)) {
        fl_seterr(err, errlen, "context: out of memory for scratch buffers");
        goto fail;
    }
    c->pool = pool_new(nt);
    if (!c->pool) {
        fl_seterr(err, errlen, "context: cannot start %d compute threads", nt);
        goto fail;
    }
    return c;
fail:
    eng_ctx_free(c);
    return NULL;
}

void eng_ctx_free(eng_ctx *c) {
    if (!c) return;
    pool_free(c->pool);
    void *bufs[] = {c->k_cache, c->v_cache, c->tokens, c->x, c->xn, c->q, c->k, c->v, c->att, c->tmp,
                    c->ff_a, c->ff_b, c->router_logits, c->sel, c->sel_w, c->tok_slot, c->grp_w, c->xg,
                    c->yg, c->scores, c->act, c->rope_cos, c->rope_sin};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(c);
}

int eng_ctx_len(const eng_ctx *c) { return c->len; }
int eng_ctx_capacity(const eng_ctx *c) { return c->n_ctx; }
const int32_t *eng_ctx_tokens(const eng_ctx *c) { return c->tokens; }

void eng_ctx_set_exact(eng_ctx *c, int on) { c->exact = on != 0; }

void eng_ctx_truncate(eng_ctx *c, int n) {
    if (n < 0) n = 0;
    if (n < c->len) c->len = n;
}
