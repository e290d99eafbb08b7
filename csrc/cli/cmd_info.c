/* cmd_info.c — `flint info --model M`: architecture, hyper-parameters, tensor
 * types, vocabulary size and parameter counts as one JSON object on stdout. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "engine/engine.h"
#include "engine/qtypes.h"

static json_t *gguf_string_or_null(const gguf_file *g, const char *key) {
    gguf_str s;
    if (gguf_get_str(g, key, &s, NULL, 0)) return json_null();
    return json_stringn_nocheck(s.ptr, (size_t)s.len);
}

static json_t *info_json(const eng_model *m, const char *path) {
    const eng_hparams *hp = eng_model_hparams(m);
    const gguf_file *g = eng_model_gguf(m);
    json_t *o = json_object(), *h = json_object(), *types = json_object();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "gguf_version", json_integer(g->version));
    json_object_set_new(o, "arch", json_string(hp->arch));
    json_object_set_new(o, "name", gguf_string_or_null(g, "general.name"));
    json_object_set_new(h, "n_vocab", json_integer(hp->n_vocab));
    json_object_set_new(h, "n_ctx_train", json_integer(hp->n_ctx_train));
    json_object_set_new(h, "n_embd", json_integer(hp->n_embd));
    json_object_set_new(h, "n_layer", json_integer(hp->n_layer));
    json_object_set_new(h, "n_head", json_integer(hp->n_head));
    json_object_set_new(h, "n_head_kv", json_integer(hp->n_head_kv));
    json_object_set_new(h, "head_dim", json_integer(hp->head_dim));
    json_object_set_new(h, "n_rot", json_integer(hp->n_rot));
    json_object_set_new(h, "n_ff", json_integer(hp->n_ff));
    json_object_set_new(h, "n_expert", json_integer(hp->n_expert));
    json_object_set_new(h, "n_expert_used", json_integer(hp->n_expert_used));
    json_object_set_new(h, "n_ff_exp", json_integer(hp->n_ff_exp));
    json_object_set_new(h, "rope_freq_base", json_real(hp->rope_freq_base));
    json_object_set_new(h, "rms_norm_eps", json_real(hp->norm_eps));
    json_object_set_new(h, "tied_output", json_boolean(hp->tied_output));
    if (strstr(hp->arch, "granite")) {
        json_object_set_new(h, "embedding_scale", json_real(hp->embedding_scale));
        json_object_set_new(h, "residual_scale", json_real(hp->residual_scale));
        json_object_set_new(h, "attention_scale", json_real(hp->attention_scale));
        json_object_set_new(h, "logit_scale", json_real(hp->logit_scale));
    }
    json_object_set_new(o, "hparams", h);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const char *tn = qtype_get(g->tensors[i].type)->name;
        json_t *cnt = json_object_get(types, tn);
        json_object_set_new(types, tn, json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
    }
    json_object_set_new(o, "tensor_type_counts", types);
    json_object_set_new(o, "n_tensors", json_integer((json_int_t)g->n_tensors));
    json_object_set_new(o, "n_params", json_integer(hp->n_params));
    json_object_set_new(o, "n_params_active", json_integer(hp->n_params_active));
    json_object_set_new(o, "weight_bytes", json_integer((json_int_t)hp->weight_bytes));
    json_object_set_new(o, "weight_bytes_per_token", json_integer((json_int_t)hp->weight_bytes_active));
    json_t *tok = json_object();
    json_object_set_new(tok, "model", gguf_string_or_null(g, "tokenizer.ggml.model"));
    json_object_set_new(tok, "pre", gguf_string_or_null(g, "tokenizer.ggml.pre"));
    const gguf_kv *toks = gguf_find(g, "tokenizer.ggml.tokens");
    json_object_set_new(tok, "n_tokens", toks ? json_integer((json_int_t)toks->arr_n) : json_null());
    json_object_set_new(o, "tokenizer", tok);
    return o;
}

int cmd_info(int argc, char **argv) {
    const char *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") || !strcmp(argv[i], "-m")) {
            if (!(model = arg_value(argc, argv, &i))) return 2;
        } else return arg_unknown("info", argv[i]);
    }
    if (!model) {
        fprintf(stderr, "usage: flint info --model M\n");
        return 2;
    }
    char err[FL_ERRLEN];
    eng_model *m = eng_model_load(model, err, sizeof err);
    if (!m) {
        fprintf(stderr, "flint info: %s\n", err);
        return 1;
    }
    json_t *o = info_json(m, model);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    puts(s ? s : "{}");
    free(s);
    json_decref(o);
    eng_model_free(m);
    return 0;
}
