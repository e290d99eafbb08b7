/* tok_vocab.c — build a tok_vocab from `tokenizer.ggml.*` metadata: model
 * and pre-tokenizer, token texts/scores/types, BPE merges, byte tokens. The
 * special ids come from tok_special.c, the detokenized pieces from tok_detok.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"

/* `tokenizer.ggml.pre` names (llama.cpp's spelling) and what they select. */
static const struct {
    const char *name;
    enum tok_pre pre;
    int clean_spaces, ignore_merges, add_bos;
} PRE_NAMES[] = {
    {"default", TOK_PRE_DEFAULT, 1, 0, 0},
    {"llama3", TOK_PRE_LLAMA3, 1, 1, 1},       {"llama-v3", TOK_PRE_LLAMA3, 1, 1, 1},
    {"llama-bpe", TOK_PRE_LLAMA3, 1, 1, 1},    {"falcon3", TOK_PRE_LLAMA3, 1, 1, 1},
    {"falcon-h1", TOK_PRE_LLAMA3, 1, 1, 1},    {"pixtral", TOK_PRE_LLAMA3, 1, 1, 1},
    {"midm-2.0", TOK_PRE_LLAMA3, 1, 1, 1},     {"lfm2", TOK_PRE_LLAMA3, 1, 1, 1},
    {"dbrx", TOK_PRE_LLAMA3, 1, 0, 0},         {"smaug-bpe", TOK_PRE_LLAMA3, 1, 0, 0},
    {"deepseek-llm", TOK_PRE_DEEPSEEK_LLM, 0, 0, 0},
    {"deepseek-coder", TOK_PRE_DEEPSEEK_CODER, 0, 0, 0},
    {"falcon", TOK_PRE_FALCON, 1, 0, 0},
    {"mpt", TOK_PRE_GPT2, 1, 0, 0},            {"gpt-2", TOK_PRE_GPT2, 1, 0, 0},
    {"gpt2", TOK_PRE_GPT2, 1, 0, 0},           {"phi-2", TOK_PRE_GPT2, 1, 0, 0},
    {"olmo", TOK_PRE_GPT2, 1, 0, 0},           {"jais", TOK_PRE_GPT2, 1, 0, 0},
    {"gigachat", TOK_PRE_GPT2, 1, 0, 0},       {"mellum", TOK_PRE_GPT2, 1, 0, 0},
    {"a.x-4.0", TOK_PRE_GPT2, 1, 0, 0},        {"exaone4", TOK_PRE_GPT2, 1, 0, 0},
    {"trillion", TOK_PRE_GPT2, 0, 0, 0},       {"granite-docling", TOK_PRE_GPT2, 0, 0, 0},
    {"starcoder", TOK_PRE_STARCODER, 1, 0, 0}, {"refact", TOK_PRE_STARCODER, 1, 0, 0},
    {"command-r", TOK_PRE_STARCODER, 0, 0, 0}, {"smollm", TOK_PRE_STARCODER, 0, 0, 0},
    {"codeshell", TOK_PRE_STARCODER, 1, 0, 0}, {"exaone", TOK_PRE_STARCODER, 1, 0, 0},
    {"minerva-7b", TOK_PRE_STARCODER, 1, 0, 0},
    {"qwen2", TOK_PRE_QWEN2, 0, 0, 0},         {"deepseek-r1-qwen", TOK_PRE_QWEN2, 0, 0, 0},
    {"megrez", TOK_PRE_QWEN2, 1, 0, 0},        {"stablelm2", TOK_PRE_QWEN2, 1, 0, 0},
    {"hunyuan", TOK_PRE_QWEN2, 0, 0, 0},
};

static uint32_t attr_of_type(int64_t t) {
    switch (t) {
    case 1: return TOK_ATTR_NORMAL;
    case 2: return TOK_ATTR_UNKNOWN;
    case 3: return TOK_ATTR_CONTROL;
    case 4: return TOK_ATTR_USER_DEFINED;
    case 5: return TOK_ATTR_UNUSED;
    case 6: return TOK_ATTR_BYTE;
    default: return TOK_ATTR_UNDEFINED;
    }
}

static int is_int_type(uint32_t t) {
    return t == GGUF_INT8 || t == GGUF_UINT8 || t == GGUF_INT16 || t == GGUF_UINT16 || t == GGUF_INT32 ||
           t == GGUF_UINT32 || t == GGUF_INT64 || t == GGUF_UINT64;
}

/* Add a text as a token or merge-only string; returns its id or -1 (OOM). */
static int32_t intern(tok_vocab *v, const char *s, size_t n, int32_t *cap) {
    int32_t id = tok_smap_get(&v->ids, v->text.p, s, n);
    if (id >= 0) return id;
    if (v->n_ext == *cap) {
        int32_t nc = *cap * 2;
        tok_span *t = realloc(v->tok, (size_t)nc * sizeof *t);
        if (!t) return -1;
        v->tok = t;
        *cap = nc;
    }
    int64_t off = tok_arena_add(&v->text, s, n);
    if (off < 0) return -1;
    id = v->n_ext++;
    v->tok[id] = (tok_span){(uint32_t)off, (uint32_t)n};
    return tok_smap_put(&v->ids, v->text.p, (uint32_t)off, (uint32_t)n, id) ? -1 : id;
}

static int load_tokens(tok_vocab *v, const gguf_file *g, int32_t *cap, char *err, size_t errlen) {
    const gguf_kv *kt = gguf_find(g, "tokenizer.ggml.tokens");
    if (!kt || kt->type != GGUF_ARRAY || kt->arr_type != GGUF_STRING)
        return fl_seterr(err, errlen, "tokenizer.ggml.tokens: missing or not a string array");
    if (kt->arr_n == 0 || kt->arr_n > INT32_MAX / 2)
        return fl_seterr(err, errlen, "tokenizer.ggml.tokens: bad count %llu", (unsigned long long)kt->arr_n);
    int32_t n = (int32_t)kt->arr_n;
    const gguf_kv *ks = gguf_find(g, "tokenizer.ggml.scores");
    if (ks && (ks->type != GGUF_ARRAY || ks->arr_type != GGUF_FLOAT32 || ks->arr_n != kt->arr_n))
        return fl_seterr(err, errlen, "tokenizer.ggml.scores: not %d float32 values", n);
    const gguf_kv *ky = gguf_find(g, "tokenizer.ggml.token_type");
    if (ky && (ky->type != GGUF_ARRAY || !is_int_type(ky->arr_type) || ky->arr_n != kt->arr_n))
        return fl_seterr(err, errlen, "tokenizer.ggml.token_type: not %d integers", n);
    *cap = n + 1024;
    v->tok = fl_malloc_array((size_t)*cap, sizeof *v->tok);
    v->score = fl_calloc_array((size_t)n, sizeof *v->score);
    v->attr = fl_calloc_array((size_t)n, sizeof *v->attr);
    if (!v->tok || !v->score || !v->attr) return fl_seterr(err, errlen, "tokenizer: out of memory");
    for (int32_t i = 0; i < n; i++) {
        gguf_str s = kt->arr_strs[i];
        char empty[32];
        if (!s.len) {   /* llama.cpp renames empty tokens */
            snprintf(empty, sizeof empty, "[EMPTY_%d]", i);
            s = (gguf_str){strlen(empty), empty};
        }
        int64_t off = tok_arena_add(&v->text, s.ptr, (size_t)s.len);
        if (off < 0) return fl_seterr(err, errlen, "tokenizer: out of memory");
        v->tok[i] = (tok_span){(uint32_t)off, (uint32_t)s.len};
        v->score[i] = ks ? (float)gguf_arr_float(ks, (uint64_t)i) : 0.0f;
        v->attr[i] = ky ? attr_of_type(gguf_arr_int(ky, (uint64_t)i)) : TOK_ATTR_NORMAL;
    }
    v->n_vocab = v->n_ext = n;
    for (int32_t i = 0; i < n; i++)   /* a duplicated text maps to its last id, as in llama.cpp */
        if (tok_smap_put(&v->ids, v->text.p, v->tok[i].off, v->tok[i].len, i))
            return fl_seterr(err, errlen, "tokenizer: out of memory");
    return 0;
}

/* Merges "left right" (split at the first space after the first byte). */
static int load_merges(tok_vocab *v, const gguf_file *g, int32_t *cap, char *err, size_t errlen) {
    const gguf_kv *km = gguf_find(g, "tokenizer.ggml.merges");
    if (!km || km->type != GGUF_ARRAY || km->arr_type != GGUF_STRING)
        return fl_seterr(err, errlen, "tokenizer.ggml.merges: missing or not a string array (needed by a gpt2 tokenizer)");
    if (km->arr_n > INT32_MAX / 2) return fl_seterr(err, errlen, "tokenizer.ggml.merges: too many");
    for (uint64_t r = 0; r < km->arr_n; r++) {
        gguf_str m = km->arr_strs[r];
        const char *sp = m.len > 1 ? memchr(m.ptr + 1, ' ', (size_t)m.len - 1) : NULL;
        if (!sp) continue;   /* llama.cpp files it under ("", "") which never matches */
        size_t ln = (size_t)(sp - m.ptr), rn = (size_t)m.len - ln - 1;
        int32_t l = intern(v, m.ptr, ln, cap), rr = intern(v, sp + 1, rn, cap);
        if (l < 0 || rr < 0) return fl_seterr(err, errlen, "tokenizer: out of memory");
        char *both = malloc(ln + rn + 1);
        if (!both) return fl_seterr(err, errlen, "tokenizer: out of memory");
        memcpy(both, m.ptr, ln);
        memcpy(both + ln, sp + 1, rn);
        int32_t res = intern(v, both, ln + rn, cap);
        free(both);
        int64_t off = tok_arena_add(&v->merge_text, m.ptr, (size_t)m.len);
        if (res < 0 || off < 0 || tok_pmap_add(&v->merges, l, rr, (int32_t)r, res))
            return fl_seterr(err, errlen, "tokenizer: out of memory");
        if (tok_smap_get(&v->merge_rank, v->merge_text.p, m.ptr, (size_t)m.len) < 0 &&
            tok_smap_put(&v->merge_rank, v->merge_text.p, (uint32_t)off, (uint32_t)m.len, (int32_t)r))
            return fl_seterr(err, errlen, "tokenizer: out of memory");
    }
    return 0;
}

static int load_model(tok_vocab *v, const gguf_file *g, char *err, size_t errlen) {
    gguf_str model, pre = {0, ""};
    if (gguf_get_str(g, "tokenizer.ggml.model", &model, err, errlen))
        return fl_seterr(err, errlen, "tokenizer.ggml.model: missing or not a string");
    int rc = gguf_get_str(g, "tokenizer.ggml.pre", &pre, err, errlen);
    if (rc < 0) return -1;
    if (gguf_str_eq(model, "llama")) {
        v->model = TOK_MODEL_SPM;
        v->pre = TOK_PRE_DEFAULT;
        v->add_space_prefix = 1;
        v->add_bos = 1;
        return 0;
    }
    if (!gguf_str_eq(model, "gpt2"))
        return fl_seterr(err, errlen, "tokenizer.ggml.model '%.*s' is not supported (gpt2 and llama are)",
                         (int)(model.len > 64 ? 64 : model.len), model.ptr);
    v->model = TOK_MODEL_BPE;
    if (rc == 1 || !pre.len) pre = (gguf_str){7, "default"};
    for (size_t i = 0; i < sizeof PRE_NAMES / sizeof PRE_NAMES[0]; i++) {
        if (!gguf_str_eq(pre, PRE_NAMES[i].name)) continue;
        v->pre = PRE_NAMES[i].pre;
        v->clean_spaces = PRE_NAMES[i].clean_spaces;
        v->ignore_merges = PRE_NAMES[i].ignore_merges;
        v->add_bos = PRE_NAMES[i].add_bos;
        snprintf(v->pre_name, sizeof v->pre_name, "%s", PRE_NAMES[i].name);
        return 0;
    }
    return fl_seterr(err, errlen, "tokenizer.ggml.pre '%.*s' is not a known pre-tokenizer",
                     (int)(pre.len > 64 ? 64 : pre.len), pre.ptr);
}

static void find_byte_tokens(tok_vocab *v) {
    for (int b = 0; b < 256; b++) {
        char buf[8];
        v->byte_sym[b] = v->byte_tok[b] = -1;
        if (v->model == TOK_MODEL_BPE) {
            int k = tok_utf8_put(tok_byte_to_cpt((uint8_t)b), buf);
            v->byte_sym[b] = tok_smap_get(&v->ids, v->text.p, buf, (size_t)k);
        } else {
            snprintf(buf, sizeof buf, "<0x%02X>", b);
            int32_t id = tok_smap_get(&v->ids, v->text.p, buf, 6);
            if (id < 0) {
                buf[0] = (char)b;
                id = tok_smap_get(&v->ids, v->text.p, buf, 1);
            }
            v->byte_tok[b] = id;
        }
    }
}

int tok_load_gguf(const gguf_file *g, tok_vocab **out, char *err, size_t errlen) {
    *out = NULL;
    tok_vocab *v = calloc(1, sizeof *v);
    if (!v) return fl_seterr(err, errlen, "tokenizer: out of memory");
    pthread_mutex_init(&v->cache_mu, NULL);
    int32_t cap = 0;
    if (load_model(v, g, err, errlen) || load_tokens(v, g, &cap, err, errlen) ||
        (v->model == TOK_MODEL_BPE && load_merges(v, g, &cap, err, errlen))) {
        tok_free(v);
        return -1;
    }
    int b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b, NULL, 0) == 0) v->add_space_prefix = b;
    find_byte_tokens(v);
    v->nl_free = !memchr(v->text.p, '\n', v->text.n);
    gguf_str ct;
    if (gguf_get_str(g, "tokenizer.chat_template", &ct, NULL, 0) == 0) {
        v->chat_template = malloc((size_t)ct.len + 1);
        if (v->chat_template) {
            memcpy(v->chat_template, ct.ptr, (size_t)ct.len);
            v->chat_template[ct.len] = 0;
            v->chat_template_len = (size_t)ct.len;
        }
    }
    if (tok_load_specials(v, g, err, errlen) || tok_build_pieces(v)) {
        fl_seterr(err, errlen, "tokenizer: out of memory");
        tok_free(v);
        return -1;
    }
    if (v->model == TOK_MODEL_SPM) {
        v->sp.nl = v->byte_tok['\n'];
    } else {   /* the first token of "\n" */
        tok_ids nl = {0};
        if (tok_tokenize(v, "\n", 1, 0, &nl) == 0 && nl.n) v->sp.nl = nl.v[0];
        tok_ids_free(&nl);
    }
    *out = v;
    return 0;
}

int tok_load_file(const char *path, tok_vocab **out, char *err, size_t errlen) {
    gguf_file *g;
    if (gguf_open(path, &g, err, errlen)) return -1;
    int rc = tok_load_gguf(g, out, err, errlen);
    gguf_close(g);
    return rc;
}

void tok_free(tok_vocab *v) {
    if (!v) return;
    free(v->text.p);
    free(v->tok);
    free(v->score);
    free(v->attr);
    tok_smap_free(&v->ids);
    tok_pmap_free(&v->merges);
    free(v->merge_text.p);
    tok_smap_free(&v->merge_rank);
    free(v->eog);
    free(v->special);
    free(v->by_byte);
    free(v->piece_text.p);
    free(v->piece);
    free(v->chat_template);
    tok_wcache_free(&v->cache);
    pthread_mutex_destroy(&v->cache_mu);
    free(v);
}

/* ---- accessors ---- */

int32_t tok_n_vocab(const tok_vocab *v) { return v->n_vocab; }
enum tok_model tok_model_type(const tok_vocab *v) { return v->model; }
const char *tok_pre_name(const tok_vocab *v) { return v->pre_name; }
const tok_specials *tok_special_ids(const tok_vocab *v) { return &v->sp; }
int tok_add_bos(const tok_vocab *v) { return v->add_bos; }
int tok_add_eos(const tok_vocab *v) { return v->add_eos; }
int tok_add_space_prefix(const tok_vocab *v) { return v->add_space_prefix; }

const char *tok_token_text(const tok_vocab *v, int32_t id, size_t *len) {
    if (id < 0 || id >= v->n_vocab) return NULL;
    if (len) *len = v->tok[id].len;
    return v->text.p + v->tok[id].off;
}

unsigned tok_token_attr(const tok_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_vocab ? v->attr[id] : 0;
}

float tok_token_score(const tok_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_vocab ? v->score[id] : 0.0f;
}

int32_t tok_find(const tok_vocab *v, const char *text, size_t len) {
    int32_t id = tok_smap_get(&v->ids, v->text.p, text, len);
    return id < v->n_vocab ? id : -1;
}

const char *tok_chat_template(const tok_vocab *v, size_t *len) {
    if (len) *len = v->chat_template_len;
    return v->chat_template;
}
