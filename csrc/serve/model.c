/* model.c — loading the model bundle the server runs: weights, tokenizer,
 * prompt formats (FIM and chat), draft model; and finding the default model. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "serve/internal.h"

static int readable(const char *p) { return access(p, R_OK) == 0; }

int srv_find_default_model(const char *exe_path, char *out, size_t outlen, char *err, size_t errlen) {
    static const char *const names[] = {"flint-coder-moe.Q8_0.gguf", "flint-coder-moe.Q4_K_M.gguf",
                                        "flint-coder-moe.Q4_0.gguf", "flint-coder-moe.F16.gguf",
                                        "flint-coder-moe.F32.gguf"};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", exe_path && *exe_path ? exe_path : ".");
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    const char *const subdirs[] = {"../models", "models"};
    for (size_t d = 0; d < 2; d++) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            snprintf(out, outlen, "%s/%s/%s", dir, subdirs[d], names[i]);
            if (readable(out)) return 0;
        }
        char pattern[1200];
        snprintf(pattern, sizeof pattern, "%s/%s/flint-coder-moe*.gguf", dir, subdirs[d]);
        glob_t g;
        int found = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
        if (found) snprintf(out, outlen, "%s", g.gl_pathv[0]);
        globfree(&g);
        if (found) return 0;
    }
    out[0] = 0;
    return fl_seterr(err, errlen, "no model given (--model) and no flint-coder-moe*.gguf in %s/../models or %s/models",
                     dir, dir);
}

/* general.name, else the file name without directory. */
static void model_name(const eng_model *em, const char *path, char *out, size_t outlen) {
    gguf_str s;
    if (gguf_get_str(eng_model_gguf(em), "general.name", &s, NULL, 0) == 0 && s.len) {
        snprintf(out, outlen, "%.*s", (int)(s.len < outlen ? s.len : outlen - 1), s.ptr);
        return;
    }
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n >= outlen) n = outlen - 1;
    memcpy(out, b, n);
    out[n] = 0;
}

/* The chat format (see internal.h): from tokenizer.chat_template, else ChatML when the
 * vocabulary has its tokens (a GGUF without a template), else plain; and
 * the ids of the format's end-of-turn tokens. */
void srv_chat_detect(srv_model *m) {
    size_t len;
    const char *t = tok_chat_template(m->vocab, &len);
    m->chat = chat_detect(t, t ? len : 0);
    if (!t && m->im_start >= 0 && m->im_end >= 0) m->chat = CHAT_CHATML;
    m->n_chat_stop = 0;
    for (const char *const *s = chat_stops(m->chat); *s && m->n_chat_stop < 4; s++) {
        int32_t id = tok_find(m->vocab, *s, strlen(*s));
        if (id >= 0) m->chat_stop[m->n_chat_stop++] = id;
    }
}

int srv_model_load(srv_model *m, const srv_config *cfg, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    m->im_start = m->im_end = -1;
    char path[1024];
    if (cfg->model_path[0]) snprintf(path, sizeof path, "%s", cfg->model_path);
    else if (srv_find_default_model(cfg->exe_path, path, sizeof path, err, errlen)) return -1;
    snprintf(m->path, sizeof m->path, "%s", path);
    if (!(m->model = eng_model_load(path, err, errlen))) goto fail;
    m->hp = *eng_model_hparams(m->model);
    char why[FL_ERRLEN];
    if (tok_load_gguf(eng_model_gguf(m->model), &m->vocab, why, sizeof why)) {
        fl_seterr(err, errlen, "%s: tokenizer: %s", path, why);
        goto fail;
    }
    if (tok_n_vocab(m->vocab) > m->hp.n_vocab) {
        fl_seterr(err, errlen, "%s: the tokenizer has %d tokens but the model only %d", path, tok_n_vocab(m->vocab),
                  m->hp.n_vocab);
        goto fail;
    }
    model_name(m->model, path, m->name, sizeof m->name);
    srv_fim_detect(&m->fim, m->vocab, m->name, cfg->fim_order);
    m->im_start = tok_special_ids(m->vocab)->im_start;
    m->im_end = tok_special_ids(m->vocab)->im_end;
    srv_chat_detect(m);
    if (srv_heal_index(m)) {
        fl_seterr(err, errlen, "%s: out of memory (token healing index)", path);
        goto fail;
    }
    int train = m->hp.n_ctx_train > 0 ? m->hp.n_ctx_train : 4096;
    m->n_ctx = cfg->n_ctx > 0 ? cfg->n_ctx : train < 4096 ? train : 4096;
    if (cfg->draft_path[0]) {
        snprintf(m->draft_path, sizeof m->draft_path, "%s", cfg->draft_path);
        if (!(m->draft = eng_model_load(cfg->draft_path, why, sizeof why))) {
            fl_seterr(err, errlen, "draft model: %s", why);
            goto fail;
        }
        if (eng_model_hparams(m->draft)->n_vocab != m->hp.n_vocab) {
            fl_seterr(err, errlen, "draft model %s has %d tokens, the model %d: they must share the vocabulary",
                      cfg->draft_path, eng_model_hparams(m->draft)->n_vocab, m->hp.n_vocab);
            goto fail;
        }
    }
    return 0;
fail:
    srv_model_free(m);
    snprintf(m->path, sizeof m->path, "%s", path);
    return -1;
}

void srv_model_free(srv_model *m) {
    tok_free(m->vocab);
    eng_model_free(m->model);
    eng_model_free(m->draft);
    free(m->by_text);
    memset(m, 0, sizeof *m);
    m->im_start = m->im_end = -1;
}
