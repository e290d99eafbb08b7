/* parrot.c — build a "parrot" GGUF for the editor tests: a tiny llama model
 * whose greedy continuation of any prompt is a fixed text, then the
 * end-of-text token.
 *
 *   parrot --vocab V.gguf --text TEXT --out P.gguf
 *
 * The tokenizer metadata (every tokenizer.* key) is copied from V, so the
 * server sees the same vocabulary and FIM tokens as with V, and general.name
 * is V's (flint-coder stays flint-coder). TEXT is split into distinct
 * vocabulary pieces, the chain t0..tn (see segment()). The model: n_embd = n + 2 (at least 64), one layer
 * whose attention output and FFN down weights are zero, so the residual
 * stream after the layer is the last token's embedding. Token t_i embeds to
 * the unit vector e_{i+1}; every other token embeds to e_0. The output
 * matrix maps e_0 to t0, e_{i+1} to t_{i+1} and e_{n+1} to the end-of-text
 * token (after the final RMSNorm the winning logit is sqrt(n_embd), every
 * other one 0). Since the next token depends on the current one only, the
 * chain's tokens must be distinct: a repeated token is refused with its
 * position. Prints the chain's ids and the end-of-text id, space-separated,
 * on stdout (what `flint generate -n n+2` must print after a prompt of
 * non-chain tokens). Exit status 0, 1 on errors, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/gguf.h"
#include "engine/gguf_write.h"
#include "engine/qtypes.h"
#include "tokenizer/tokenizer.h"

/* Copies one tokenizer.* key of the source file. Returns 0 or -1 (a type
 * this builder does not copy). */
static int copy_kv(gguf_writer *w, const gguf_kv *kv) {
    switch (kv->type) {
    case GGUF_STRING: {
        char *s = strndup(kv->v.s.ptr, kv->v.s.len);
        if (!s) return -1;
        gw_str(w, kv->key, s);
        free(s);
        return 0;
    }
    case GGUF_UINT8: case GGUF_UINT16: case GGUF_UINT32: case GGUF_UINT64:
        gw_u32(w, kv->key, (uint32_t)kv->v.u);
        return 0;
    case GGUF_INT8: case GGUF_INT16: case GGUF_INT32: case GGUF_INT64:
        gw_i32(w, kv->key, (int32_t)kv->v.i);
        return 0;
    case GGUF_BOOL: gw_bool(w, kv->key, kv->v.u != 0); return 0;
    case GGUF_FLOAT32: gw_f32(w, kv->key, (float)kv->v.f); return 0;
    case GGUF_ARRAY: break;
    default: return -1;
    }
    if (kv->arr_type == GGUF_INT32) {
        gw_arr_i32(w, kv->key, (const int32_t *)kv->arr_data, kv->arr_n);
        return 0;
    }
    if (kv->arr_type == GGUF_FLOAT32) {
        gw_arr_f32(w, kv->key, (const float *)kv->arr_data, kv->arr_n);
        return 0;
    }
    if (kv->arr_type != GGUF_STRING) return -1;
    char **v = calloc(kv->arr_n ? kv->arr_n : 1, sizeof *v);
    int rc = v ? 0 : -1;
    for (uint64_t i = 0; !rc && i < kv->arr_n; i++)
        if (!(v[i] = strndup(kv->arr_strs[i].ptr, kv->arr_strs[i].len))) rc = -1;
    if (!rc) gw_arr_str(w, kv->key, (const char *const *)v, kv->arr_n);
    for (uint64_t i = 0; v && i < kv->arr_n; i++) free(v[i]);
    free(v);
    return rc;
}

/* The llama hyperparameters and the one-layer weights described above. */
static int build(gguf_writer *w, const gguf_file *g, const tok_vocab *v, const tok_ids *chain, int32_t eos,
                 float **bufs, char *err, size_t errlen) {
    int64_t d = chain->n + 2 < 64 ? 64 : chain->n + 2, nv = tok_n_vocab(v), ff = 64;
    gguf_str name;
    if (gguf_get_str(g, "general.name", &name, err, errlen)) name = (gguf_str){6, "parrot"};
    char *nm = strndup(name.ptr, name.len);
    if (!nm) return fl_seterr(err, errlen, "out of memory");
    gw_str(w, "general.architecture", "llama");
    gw_str(w, "general.name", nm);
    free(nm);
    gw_u32(w, "llama.context_length", 4096);
    gw_u32(w, "llama.embedding_length", (uint32_t)d);
    gw_u32(w, "llama.block_count", 1);
    gw_u32(w, "llama.feed_forward_length", (uint32_t)ff);
    gw_u32(w, "llama.attention.head_count", 1);
    gw_u32(w, "llama.attention.head_count_kv", 1);
    gw_u32(w, "llama.rope.dimension_count", (uint32_t)d);
    gw_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-6f);
    gw_u32(w, "llama.vocab_size", (uint32_t)nv);
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (!strncmp(g->kv[i].key, "tokenizer.", 10) && copy_kv(w, &g->kv[i]))
            return fl_seterr(err, errlen, "cannot copy metadata key %s", g->kv[i].key);
    /* bufs: 0 embd, 1 output, 2 ones (norms), 3 d*d zeros, 4 d*ff zeros */
    if (!(bufs[0] = calloc((size_t)(nv * d), 4)) || !(bufs[1] = calloc((size_t)(nv * d), 4)) ||
        !(bufs[2] = malloc((size_t)d * 4)) || !(bufs[3] = calloc((size_t)(d * d), 4)) ||
        !(bufs[4] = calloc((size_t)(d * ff), 4)))
        return fl_seterr(err, errlen, "out of memory");
    float *embd = bufs[0], *out = bufs[1];
    for (int64_t i = 0; i < d; i++) bufs[2][i] = 1.f;
    for (int64_t t = 0; t < nv; t++) embd[t * d] = 1.f;
    for (size_t i = 0; i < chain->n; i++) {
        float *e = embd + (int64_t)chain->v[i] * d;
        e[0] = 0.f;
        e[i + 1] = 1.f;                                       /* t_i -> e_{i+1} */
        out[(int64_t)chain->v[i] * d + (int64_t)i] = 1.f;    /* e_i -> t_i */
    }
    out[(int64_t)eos * d + (int64_t)chain->n] = 1.f;           /* e_{n+1} -> end of text */
    int64_t ne_vd[2] = {d, nv}, ne_d[1] = {d}, ne_dd[2] = {d, d}, ne_dff[2] = {d, ff}, ne_ffd[2] = {ff, d};
    gw_tensor(w, "token_embd.weight", QT_F32, 2, ne_vd, embd);
    gw_tensor(w, "output_norm.weight", QT_F32, 1, ne_d, bufs[2]);
    gw_tensor(w, "output.weight", QT_F32, 2, ne_vd, out);
    gw_tensor(w, "blk.0.attn_norm.weight", QT_F32, 1, ne_d, bufs[2]);
    gw_tensor(w, "blk.0.attn_q.weight", QT_F32, 2, ne_dd, bufs[3]);
    gw_tensor(w, "blk.0.attn_k.weight", QT_F32, 2, ne_dd, bufs[3]);
    gw_tensor(w, "blk.0.attn_v.weight", QT_F32, 2, ne_dd, bufs[3]);
    gw_tensor(w, "blk.0.attn_output.weight", QT_F32, 2, ne_dd, bufs[3]);
    gw_tensor(w, "blk.0.ffn_norm.weight", QT_F32, 1, ne_d, bufs[2]);
    gw_tensor(w, "blk.0.ffn_gate.weight", QT_F32, 2, ne_dff, bufs[4]);
    gw_tensor(w, "blk.0.ffn_up.weight", QT_F32, 2, ne_dff, bufs[4]);
    gw_tensor(w, "blk.0.ffn_down.weight", QT_F32, 2, ne_ffd, bufs[4]);
    return 0;
}

/* Splits text[0, len) into vocabulary pieces, appended to out, none used
 * twice (longest pieces first, backtracking; the tokenizer's own split may
 * repeat a token, e.g. a character that occurs twice). Returns 1 when found,
 * 0 when not, -1 when out of memory; *budget bounds the search. */
static int segment(const tok_vocab *v, const char *text, size_t len, tok_ids *out, long *budget) {
    if (!len) return 1;
    if (--*budget <= 0) return 0;
    int32_t nv = tok_n_vocab(v), best = -1;
    size_t tried = SIZE_MAX; /* only pieces shorter than this are left to try */
    for (;;) {
        size_t blen = 0;
        best = -1;
        for (int32_t id = 0; id < nv; id++) {
            size_t n;
            const char *p = tok_piece(v, id, 0, &n);
            if (!p || !n || n > len || n >= tried || n <= blen || memcmp(p, text, n) ||
                (tok_token_attr(v, id) & TOK_ATTR_CONTROL))
                continue;
            int used = 0;
            for (size_t i = 0; i < out->n && !used; i++) used = out->v[i] == id;
            if (!used) best = id, blen = n;
        }
        if (best < 0) return 0;
        if (tok_ids_push(out, best)) return -1;
        int rc = segment(v, text + blen, len - blen, out, budget);
        if (rc) return rc;
        out->n--;
        tried = blen;
    }
}

int main(int argc, char **argv) {
    const char *vocab = NULL, *text = NULL, *outp = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--vocab")) vocab = argv[i + 1];
        else if (!strcmp(argv[i], "--text")) text = argv[i + 1];
        else if (!strcmp(argv[i], "--out")) outp = argv[i + 1];
    }
    if (!vocab || !text || !outp || argc != 7) {
        fprintf(stderr, "usage: parrot --vocab V.gguf --text TEXT --out P.gguf\n");
        return 2;
    }
    char err[FL_ERRLEN] = "";
    gguf_file *g = NULL;
    tok_vocab *v = NULL;
    tok_ids chain = {0};
    gguf_writer *w = NULL;
    float *bufs[5] = {0};
    int rc = 1;
    if (gguf_open(vocab, &g, err, sizeof err) || tok_load_gguf(g, &v, err, sizeof err)) goto done;
    int32_t eos = tok_special_ids(v)->eos;
    if (eos < 0) { fl_seterr(err, sizeof err, "%s has no end-of-text token", vocab); goto done; }
    long budget = 1000000;
    if (!*text || segment(v, text, strlen(text), &chain, &budget) <= 0) {
        fl_seterr(err, sizeof err, "no tokenization of the text into distinct tokens%s", budget <= 0 ? " (search budget spent)" : "");
        goto done;
    }
    if (!(w = gw_new()) || build(w, g, v, &chain, eos, bufs, err, sizeof err) ||
        gw_write_file(w, outp, err, sizeof err))
        goto done;
    for (size_t i = 0; i < chain.n; i++) printf("%d ", chain.v[i]);
    printf("%d\n", eos);
    rc = 0;
done:
    if (rc) fprintf(stderr, "parrot: %s\n", err[0] ? err : "out of memory");
    for (int i = 0; i < 5; i++) free(bufs[i]);
    gw_free(w);
    tok_ids_free(&chain);
    tok_free(v);
    gguf_close(g);
    return rc;
}
