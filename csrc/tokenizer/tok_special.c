/* tok_special.c — special token ids (metadata keys first, then known token
 * texts), the end-of-generation set, attribute overrides, and the list of
 * tokens matched in raw text before pre-tokenization — all following
 * llama.cpp's llama_vocab::load. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tokenizer/internal.h"

static int32_t find_text(const tok_vocab *v, const char *s) {
    return tok_find(v, s, strlen(s));
}

/* First token (in list order) whose text is one of names, or -1. */
static int32_t find_any(const tok_vocab *v, const char *const *names) {
    for (; *names; names++) {
        int32_t id = find_text(v, *names);
        if (id >= 0) return id;
    }
    return -1;
}

static const char *const EOT_NAMES[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<EOT>", "_<EOT>", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "<end_of_utterance>", NULL};
static const char *const EOM_NAMES[] = {"<|eom_id|>", NULL};
static const char *const FIM_PRE_NAMES[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", NULL};
static const char *const FIM_SUF_NAMES[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", NULL};
static const char *const FIM_MID_NAMES[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", NULL};
static const char *const FIM_PAD_NAMES[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", NULL};
static const char *const FIM_REP_NAMES[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL};
static const char *const FIM_SEP_NAMES[] = {"<|file_sep|>", NULL};
static const char *const EOG_NAMES[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
    "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", NULL};
/* Not in llama.cpp's list: they end generation but keep their attributes. */
static const char *const EOG_EXTRA_NAMES[] = {"</s>", NULL};
static const char *const ALWAYS_RENDER[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};

static int eog_add(tok_vocab *v, int32_t id) {
    if (id < 0) return 0;
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) return 0;
    int32_t *e = realloc(v->eog, (v->n_eog + 1) * sizeof *e);
    if (!e) return -1;
    v->eog = e;
    v->eog[v->n_eog++] = id;
    return 0;
}

static void eog_remove(tok_vocab *v, int32_t id) {
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) { v->eog[i] = v->eog[--v->n_eog]; return; }
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Read the id keys in llama.cpp's order (the deprecated prefix/suffix/middle last). */
static void read_id_keys(tok_vocab *v, const gguf_file *g) {
    static const struct { const char *key; size_t field; } KEYS[] = {
        {"bos_token_id", offsetof(tok_specials, bos)}, {"eos_token_id", offsetof(tok_specials, eos)},
        {"eot_token_id", offsetof(tok_specials, eot)}, {"eom_token_id", offsetof(tok_specials, eom)},
        {"unknown_token_id", offsetof(tok_specials, unk)}, {"seperator_token_id", offsetof(tok_specials, sep)},
        {"padding_token_id", offsetof(tok_specials, pad)},
        {"fim_pre_token_id", offsetof(tok_specials, fim_pre)}, {"fim_suf_token_id", offsetof(tok_specials, fim_suf)},
        {"fim_mid_token_id", offsetof(tok_specials, fim_mid)}, {"fim_pad_token_id", offsetof(tok_specials, fim_pad)},
        {"fim_rep_token_id", offsetof(tok_specials, fim_rep)}, {"fim_sep_token_id", offsetof(tok_specials, fim_sep)},
        {"prefix_token_id", offsetof(tok_specials, fim_pre)}, {"suffix_token_id", offsetof(tok_specials, fim_suf)},
        {"middle_token_id", offsetof(tok_specials, fim_mid)},
    };
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        char key[64];
        uint32_t id;
        snprintf(key, sizeof key, "tokenizer.ggml.%s", KEYS[i].key);
        if (gguf_get_u32(g, key, &id, NULL, 0) == 0 && id < (uint32_t)v->n_vocab)
            *(int32_t *)((char *)&v->sp + KEYS[i].field) = (int32_t)id;
    }
}

/* An id found by its text that is not a control token becomes one (llama.cpp does this). */
static void detect(tok_vocab *v, int32_t *slot, const char *const *names) {
    if (*slot >= 0) return;
    *slot = find_any(v, names);
    if (*slot >= 0 && !(v->attr[*slot] & TOK_ATTR_CONTROL)) v->attr[*slot] = TOK_ATTR_CONTROL;
}

/* Longest text first; ties by id (llama.cpp's sort leaves them unordered). */
static int cmp_special(const void *a, const void *b, void *ctx) {
    const tok_vocab *v = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint32_t lx = v->tok[x].len, ly = v->tok[y].len;
    if (lx != ly) return lx > ly ? -1 : 1;
    return (x > y) - (x < y);
}

static void phi3_strip_rules(tok_vocab *v, const gguf_file *g) {
    gguf_str name;
    char low[128] = {0};
    if (gguf_get_str(g, "general.name", &name, NULL, 0)) return;
    for (size_t i = 0; i < name.len && i + 1 < sizeof low; i++) low[i] = (char)tolower((unsigned char)name.ptr[i]);
    if (!strstr(low, "phi-3") && !strstr(low, "phi3")) return;
    for (size_t i = 0; i < v->n_special; i++) v->attr[v->special[i]] |= TOK_ATTR_RSTRIP;
    int32_t id = find_text(v, "</s>");
    if (id >= 0) v->attr[id] |= TOK_ATTR_RSTRIP;
    static const char *const KEEP[] = {"<unk>", "<s>", "<|endoftext|>"};
    for (size_t i = 0; i < 3; i++)
        if ((id = find_text(v, KEEP[i])) >= 0) v->attr[id] &= ~(uint32_t)TOK_ATTR_RSTRIP;
}

int tok_load_specials(tok_vocab *v, const gguf_file *g, char *err, size_t errlen) {
    tok_specials *sp = &v->sp;
    memset(sp, 0xff, sizeof *sp);   /* all -1 */
    if (v->model == TOK_MODEL_SPM) { sp->bos = 1; sp->eos = 2; sp->unk = 0; }
    else { sp->bos = 11; sp->eos = 11; }
    if (sp->bos >= v->n_vocab) sp->bos = -1;
    if (sp->eos >= v->n_vocab) sp->eos = -1;
    if (sp->unk >= v->n_vocab) sp->unk = -1;
    read_id_keys(v, g);
    int b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b, NULL, 0) == 0) v->add_bos = b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b, NULL, 0) == 0) v->add_eos = b;

    detect(v, &sp->eot, EOT_NAMES);
    detect(v, &sp->eom, EOM_NAMES);
    detect(v, &sp->fim_pre, FIM_PRE_NAMES);
    detect(v, &sp->fim_suf, FIM_SUF_NAMES);
    detect(v, &sp->fim_mid, FIM_MID_NAMES);
    detect(v, &sp->fim_pad, FIM_PAD_NAMES);
    detect(v, &sp->fim_rep, FIM_REP_NAMES);
    detect(v, &sp->fim_sep, FIM_SEP_NAMES);
    sp->im_start = find_text(v, "<|im_start|>");
    sp->im_end = find_text(v, "<|im_end|>");

    if (eog_add(v, sp->fim_pad) || eog_add(v, sp->fim_rep) || eog_add(v, sp->fim_sep)) goto oom;
    for (const char *const *n = EOG_NAMES; *n; n++) {
        int32_t id = find_text(v, *n);
        if (id < 0) continue;
        if (eog_add(v, id)) goto oom;
        if (!(v->attr[id] & TOK_ATTR_CONTROL)) v->attr[id] = TOK_ATTR_CONTROL;
    }
    for (const char *const *n = ALWAYS_RENDER; *n; n++) {
        int32_t id = find_text(v, *n);
        if (id >= 0) v->attr[id] = TOK_ATTR_USER_DEFINED;
    }
    for (const char *const *n = EOG_EXTRA_NAMES; *n; n++)
        if (eog_add(v, find_text(v, *n))) goto oom;
    if (eog_add(v, sp->eos) || eog_add(v, sp->eot) || eog_add(v, sp->eom)) goto oom;
    /* o200k_harmony: with <|return|> and <|call|>, <|end|> does not end generation */
    int32_t ret = find_text(v, "<|return|>"), call = find_text(v, "<|call|>"), end = find_text(v, "<|end|>");
    if (ret >= 0 && call >= 0 && end >= 0 && tok_is_eog(v, ret) && tok_is_eog(v, call) && tok_is_eog(v, end)) {
        eog_remove(v, end);
        v->attr[end] = TOK_ATTR_USER_DEFINED;
    }
    if (v->n_eog) qsort(v->eog, v->n_eog, sizeof *v->eog, cmp_i32);

    v->special = fl_malloc_array((size_t)v->n_vocab, sizeof *v->special);
    if (!v->special) goto oom;
    for (int32_t id = 0; id < v->n_vocab; id++)
        if (v->attr[id] & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED | TOK_ATTR_UNKNOWN)) v->special[v->n_special++] = id;
    qsort_r(v->special, v->n_special, sizeof *v->special, cmp_special, v);
    v->by_byte = fl_malloc_array(v->n_special, sizeof *v->by_byte);
    if (!v->by_byte) goto oom;
    for (size_t i = 0; i < v->n_special; i++) v->by_byte_at[(unsigned char)v->text.p[v->tok[v->special[i]].off] + 1]++;
    for (int c = 0; c < 256; c++) v->by_byte_at[c + 1] += v->by_byte_at[c];
    uint32_t fill[256];
    memcpy(fill, v->by_byte_at, sizeof fill);
    for (size_t i = 0; i < v->n_special; i++)
        v->by_byte[fill[(unsigned char)v->text.p[v->tok[v->special[i]].off]]++] = (uint32_t)i;
    phi3_strip_rules(v, g);
    return 0;
oom:
    return fl_seterr(err, errlen, "tokenizer: out of memory");
}

int tok_is_eog(const tok_vocab *v, int32_t id) {
    for (size_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) return id >= 0;
    return 0;
}

const int32_t *tok_eog_ids(const tok_vocab *v, size_t *n) {
    *n = v->n_eog;
    return v->eog;
}
