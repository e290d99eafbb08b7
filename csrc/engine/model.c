/* model.c — build an eng_model from a GGUF file: hyper-parameters from the
 * arch-prefixed metadata keys, weights as views into the mapping (Q8_0
 * matrices repacked into owned memory where the kernels gain, repack.h),
 * every shape and type checked before the forward pass may touch it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/common.h"
#include "engine/internal.h"
#include "engine/qtypes.h"
#include "engine/membudget.h"
#include "engine/repack.h"
#include "engine/verify.h"

typedef struct {
    eng_model *m;
    char *err;
    size_t errlen;
} loader;

static int key_u32(loader *L, const char *suffix, int required, int def, int *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", L->m->hp.arch, suffix);
    uint32_t v;
    int rc = gguf_get_u32(L->m->gguf, key, &v, L->err, L->errlen);
    if (rc < 0) return -1;
    if (rc == 1) {
        if (required) return fl_seterr(L->err, L->errlen, "model: required key '%s' is missing", key);
        *out = def;
        return 0;
    }
    if (v > (1u << 30)) return fl_seterr(L->err, L->errlen, "model: key '%s' = %u is out of range", key, v);
    *out = (int)v;
    return 0;
}

static int key_f32(loader *L, const char *suffix, float def, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", L->m->hp.arch, suffix);
    int rc = gguf_get_f32(L->m->gguf, key, out, L->err, L->errlen);
    if (rc < 0) return -1;
    if (rc == 1) *out = def;
    return 0;
}

/* A matrix (or stack of n_mat expert matrices) of n_out rows × n_in columns. */
static int get_weight(loader *L, const char *name, int64_t n_in, int64_t n_out, int64_t n_mat, int required,
                      eng_weight *w) {
    memset(w, 0, sizeof *w);
    const gguf_tensor *t = gguf_tensor_find(L->m->gguf, name);
    if (!t) return required ? fl_seterr(L->err, L->errlen, "model: tensor '%s' is missing", name) : 0;
    if (!kq_type_supported(t->type))
        return fl_seterr(L->err, L->errlen, "model: tensor '%s' has type %s, which flint cannot compute with yet",
                         name, qtype_get(t->type)->name);
    if (t->ne[0] != n_in || t->ne[1] != n_out || t->ne[2] != n_mat || t->ne[3] != 1)
        return fl_seterr(L->err, L->errlen,
                         "model: tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld, %lld]", name,
                         (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3],
                         (long long)n_in, (long long)n_out, (long long)n_mat);
    w->m.data = t->data;
    w->m.type = t->type;
    w->m.n_in = n_in;
    w->m.n_rows = n_out;
    w->m.row_bytes = qtype_row_size(t->type, n_in);
    w->n_mat = n_mat;
    w->mat_bytes = w->m.row_bytes * (size_t)n_out;
    return 0;
}

/* A small vector, converted to owned float32. *out stays NULL if absent and optional. */
static int get_vec(loader *L, const char *name, int64_t n, int required, const float **out) {
    *out = NULL;
    const gguf_tensor *t = gguf_tensor_find(L->m->gguf, name);
    if (!t) return required ? fl_seterr(L->err, L->errlen, "model: tensor '%s' is missing", name) : 0;
    if (t->ne[0] != n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return fl_seterr(L->err, L->errlen, "model: tensor '%s' has shape [%lld, %lld], expected [%lld]", name,
                         (long long)t->ne[0], (long long)t->ne[1], (long long)n);
    const qtype_info *q = qtype_get(t->type);
    if (!q->dequant)
        return fl_seterr(L->err, L->errlen, "model: tensor '%s' has unsupported type %s", name, q->name);
    eng_model *m = L->m;
    float **owned = realloc(m->owned, (size_t)(m->n_owned + 1) * sizeof *owned);
    float *v = malloc((size_t)n * sizeof(float));
    if (!owned || !v) {
        if (owned) m->owned = owned;
        free(v);
        return fl_seterr(L->err, L->errlen, "model: out of memory");
    }
    m->owned = owned;
    m->owned[m->n_owned++] = v;
    q->dequant(t->data, v, n);
    *out = v;
    return 0;
}

static int load_hparams(loader *L) {
    eng_model *m = L->m;
    eng_hparams *hp = &m->hp;
    gguf_str arch;
    int rc = gguf_get_str(m->gguf, "general.architecture", &arch, L->err, L->errlen);
    if (rc < 0) return -1;
    if (rc == 1) return fl_seterr(L->err, L->errlen, "model: key 'general.architecture' is missing");
    if (arch.len >= sizeof hp->arch) return fl_seterr(L->err, L->errlen, "model: architecture name too long");
    memcpy(hp->arch, arch.ptr, arch.len);
    hp->arch[arch.len] = 0;
    if (memchr(hp->arch, 0, arch.len))
        return fl_seterr(L->err, L->errlen, "model: architecture name contains a NUL byte");
    m->arch = arch_find(hp->arch);
    if (!m->arch)
        return fl_seterr(L->err, L->errlen, "model: architecture '%s' is not supported (supported: %s)", hp->arch,
                         arch_supported_list());

    if (key_u32(L, "embedding_length", 1, 0, &hp->n_embd) || key_u32(L, "block_count", 1, 0, &hp->n_layer) ||
        key_u32(L, "attention.head_count", 1, 0, &hp->n_head))
        return -1;
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_layer > 4096)
        return fl_seterr(L->err, L->errlen, "model: embedding_length, block_count and head_count must be positive");
    if (key_u32(L, "attention.head_count_kv", 0, hp->n_head, &hp->n_head_kv) ||
        key_u32(L, "attention.key_length", 0, hp->n_embd / hp->n_head, &hp->head_dim) ||
        key_u32(L, "context_length", 0, 2048, &hp->n_ctx_train) || key_u32(L, "feed_forward_length", 0, 0, &hp->n_ff) ||
        key_u32(L, "expert_count", 0, 0, &hp->n_expert) || key_u32(L, "expert_used_count", 0, 0, &hp->n_expert_used))
        return -1;
    int v_len;
    if (key_u32(L, "attention.value_length", 0, hp->head_dim, &v_len)) return -1;
    if (v_len != hp->head_dim)
        return fl_seterr(L->err, L->errlen, "model: value_length %d differs from key_length %d (unsupported)", v_len,
                         hp->head_dim);
    if (hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv || hp->n_head / hp->n_head_kv > 64 || hp->head_dim <= 0 ||
        hp->head_dim % 2)
        return fl_seterr(L->err, L->errlen, "model: head counts %d/%d and head dim %d are inconsistent", hp->n_head,
                         hp->n_head_kv, hp->head_dim);
    if (key_u32(L, "rope.dimension_count", 0, hp->head_dim, &hp->n_rot)) return -1;
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return fl_seterr(L->err, L->errlen, "model: rope.dimension_count %d is invalid for head dim %d", hp->n_rot,
                         hp->head_dim);
    if (hp->n_expert < 0 || hp->n_expert > 1024 || hp->n_expert_used > hp->n_expert ||
        (hp->n_expert > 0 && hp->n_expert_used <= 0))
        return fl_seterr(L->err, L->errlen, "model: expert_count %d / expert_used_count %d are inconsistent",
                         hp->n_expert, hp->n_expert_used);
    if (key_u32(L, "expert_feed_forward_length", 0, hp->n_ff, &hp->n_ff_exp) ||
        key_u32(L, "expert_shared_feed_forward_length", 0, hp->n_ff, &hp->n_ff_shexp))
        return -1;
    if (key_f32(L, "rope.freq_base", 10000.f, &hp->rope_freq_base) ||
        key_f32(L, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->norm_eps))
        return -1;
    hp->embedding_scale = hp->residual_scale = 1.f;
    hp->attention_scale = 0.f; /* 0: 1/sqrt(head_dim) */
    hp->logit_scale = 1.f;
    if (m->arch->granite_scales &&
        (key_f32(L, "embedding_scale", 1.f, &hp->embedding_scale) ||
         key_f32(L, "residual_scale", 1.f, &hp->residual_scale) ||
         key_f32(L, "attention.scale", 0.f, &hp->attention_scale) || key_f32(L, "logit_scale", 1.f, &hp->logit_scale)))
        return -1;
    if (hp->logit_scale == 0.f) return fl_seterr(L->err, L->errlen, "model: logit_scale must not be 0");
    return 0;
}

static int load_layer(loader *L, int il) {
    eng_model *m = L->m;
    eng_hparams *hp = &m->hp;
    eng_layer *ly = &m->layers[il];
    int64_t d = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim, kvd = (int64_t)hp->n_head_kv * hp->head_dim;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", il, s), n)
    if (get_vec(L, NAME("attn_norm.weight"), d, 1, &ly->attn_norm) ||
        get_weight(L, NAME("attn_q.weight"), d, qd, 1, 1, &ly->wq) ||
        get_weight(L, NAME("attn_k.weight"), d, kvd, 1, 1, &ly->wk) ||
        get_weight(L, NAME("attn_v.weight"), d, kvd, 1, 1, &ly->wv) ||
        get_weight(L, NAME("attn_output.weight"), qd, d, 1, 1, &ly->wo) ||
        get_vec(L, NAME("attn_q.bias"), qd, 0, &ly->bq) || get_vec(L, NAME("attn_k.bias"), kvd, 0, &ly->bk) ||
        get_vec(L, NAME("attn_v.bias"), kvd, 0, &ly->bv) || get_vec(L, NAME("ffn_norm.weight"), d, 1, &ly->ffn_norm))
        return -1;
    if (m->arch->qk_norm == QKNORM_HEAD &&
        (get_vec(L, NAME("attn_q_norm.weight"), hp->head_dim, 1, &ly->q_norm) ||
         get_vec(L, NAME("attn_k_norm.weight"), hp->head_dim, 1, &ly->k_norm)))
        return -1;
    if (m->arch->qk_norm == QKNORM_FULL && (get_vec(L, NAME("attn_q_norm.weight"), qd, 1, &ly->q_norm) ||
                                            get_vec(L, NAME("attn_k_norm.weight"), kvd, 1, &ly->k_norm)))
        return -1;
    if (hp->n_expert > 0 && gguf_tensor_find(m->gguf, NAME("ffn_gate_inp.weight"))) {
        int64_t ne = hp->n_expert, ff = hp->n_ff_exp;
        if (ff <= 0) return fl_seterr(L->err, L->errlen, "model: expert_feed_forward_length is missing");
        if (get_weight(L, NAME("ffn_gate_inp.weight"), d, ne, 1, 1, &ly->router) ||
            get_weight(L, NAME("ffn_gate_exps.weight"), d, ff, ne, 1, &ly->gate_exps) ||
            get_weight(L, NAME("ffn_up_exps.weight"), d, ff, ne, 1, &ly->up_exps) ||
            get_weight(L, NAME("ffn_down_exps.weight"), ff, d, ne, 1, &ly->down_exps))
            return -1;
        if (m->arch->shared_expert) {
            const gguf_tensor *t = gguf_tensor_find(m->gguf, NAME("ffn_gate_shexp.weight"));
            if (!t) return fl_seterr(L->err, L->errlen, "model: tensor '%s' is missing", n);
            int64_t sff = t->ne[1];
            hp->n_ff_shexp = (int)sff;
            if (get_vec(L, NAME("ffn_gate_inp_shexp.weight"), d, 1, &ly->shexp_gate) ||
                get_weight(L, NAME("ffn_gate_shexp.weight"), d, sff, 1, 1, &ly->gate_shexp) ||
                get_weight(L, NAME("ffn_up_shexp.weight"), d, sff, 1, 1, &ly->up_shexp) ||
                get_weight(L, NAME("ffn_down_shexp.weight"), sff, d, 1, 1, &ly->down_shexp))
                return -1;
        }
    } else {
        if (hp->n_ff <= 0) return fl_seterr(L->err, L->errlen, "model: feed_forward_length is missing");
        if (get_weight(L, NAME("ffn_gate.weight"), d, hp->n_ff, 1, 1, &ly->ffn_gate) ||
            get_weight(L, NAME("ffn_up.weight"), d, hp->n_ff, 1, 1, &ly->ffn_up) ||
            get_weight(L, NAME("ffn_down.weight"), hp->n_ff, d, 1, 1, &ly->ffn_down))
            return -1;
    }
#undef NAME
    return 0;
}

/* Parameter and byte counts, total and per generated token. */
static void count_params(eng_model *m) {
    eng_hparams *hp = &m->hp;
    const gguf_file *g = m->gguf;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        hp->n_params += n;
        hp->weight_bytes += t->nbytes;
        int64_t n_act = n;
        size_t b_act = t->nbytes;
        if (strstr(t->name, "_exps.") && t->ne[2] > 1) {
            n_act = n / t->ne[2] * hp->n_expert_used;
            b_act = t->nbytes / (size_t)t->ne[2] * (size_t)hp->n_expert_used;
        }
        if (!strcmp(t->name, "token_embd.weight")) {
            b_act = m->hp.tied_output ? t->nbytes : t->nbytes / (size_t)t->ne[1]; /* one row looked up */
        }
        hp->n_params_active += n_act;
        hp->weight_bytes_active += b_act;
    }
}

eng_model *eng_model_load(const char *path, char *err, size_t errlen) {
    gguf_file *g;
    if (verify_model_checksum(path, err, errlen) || gguf_open(path, &g, err, errlen)) return NULL;
    /* the mapping's pages already in the page cache are not new demand */
    size_t cached = mem_resident(g->base, g->size), need = g->size > cached ? g->size - cached : 0;
    if (mem_check(need, mem_available(), "loading this model",
                  "use a smaller model or a smaller quantization (e.g. Q4_K instead of Q8_0)", err, errlen)) {
        gguf_close(g);
        return NULL;
    }
    return eng_model_from_gguf(g, err, errlen);
}

eng_model *eng_model_from_gguf(gguf_file *g, char *err, size_t errlen) {
    eng_model *m = calloc(1, sizeof *m);
    if (!m) {
        gguf_close(g);
        fl_seterr(err, errlen, "model: out of memory");
        return NULL;
    }
    m->gguf = g;
    loader L = {m, err, errlen};
    if (load_hparams(&L)) goto fail;
    eng_hparams *hp = &m->hp;
    const gguf_tensor *te = gguf_tensor_find(m->gguf, "token_embd.weight");
    if (!te) {
        fl_seterr(err, errlen, "model: tensor 'token_embd.weight' is missing");
        goto fail;
    }
    hp->n_vocab = (int)te->ne[1];
    int vocab_key;
    if (key_u32(&L, "vocab_size", 0, hp->n_vocab, &vocab_key)) goto fail;
    if (vocab_key != hp->n_vocab) {
        fl_seterr(err, errlen, "model: vocab_size %d does not match token_embd rows %d", vocab_key, hp->n_vocab);
        goto fail;
    }
    if (get_weight(&L, "token_embd.weight", hp->n_embd, hp->n_vocab, 1, 1, &m->tok_embd) ||
        get_vec(&L, "output_norm.weight", hp->n_embd, 1, &m->output_norm) ||
        get_weight(&L, "output.weight", hp->n_embd, hp->n_vocab, 1, 0, &m->output))
        goto fail;
    if (!m->output.m.data) {
        m->output = m->tok_embd;
        hp->tied_output = 1;
    }
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) {
        fl_seterr(err, errlen, "model: out of memory");
        goto fail;
    }
    for (int il = 0; il < hp->n_layer; il++)
        if (load_layer(&L, il)) goto fail;
    count_params(m);
    model_repack(m);
    return m;
fail:
    eng_model_free(m);
    return NULL;
}

void eng_model_free(eng_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    for (int i = 0; i < m->n_repacked; i++) free(m->repacked[i].buf);
    free(m->repacked);
    free(m->layers);
    gguf_close(m->gguf);
    free(m);
}

const eng_hparams *eng_model_hparams(const eng_model *m) { return &m->hp; }

void eng_model_touch(const eng_model *m) {
    const volatile uint8_t *p = m->gguf->base;
    uint8_t sink = 0;
    madvise((void *)m->gguf->base, m->gguf->size, MADV_WILLNEED);
    for (size_t off = 0; off < m->gguf->size; off += 4096) sink ^= p[off];
    (void)sink;
    for (int i = 0; m->gguf->mapped && i < m->n_repacked; i++) /* not read again */
        drop_pages(m->repacked[i].orig, m->repacked[i].bytes);
}

size_t eng_model_repacked_bytes(const eng_model *m) {
    size_t n = 0;
    for (int i = 0; i < m->n_repacked; i++) n += m->repacked[i].bytes;
    return n;
}

const gguf_file *eng_model_gguf(const eng_model *m) { return m->gguf; }
