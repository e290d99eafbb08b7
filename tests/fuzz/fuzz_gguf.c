/* fuzz_gguf.c — libFuzzer target: any byte string through the GGUF reader and
 * the model loader; if a model loads, decode two tokens. Must never crash,
 * leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* own copy: the reader keeps pointers into the buffer */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    char err[FL_ERRLEN];
    gguf_file *g;
    if (gguf_open_mem(buf, size, &g, err, sizeof err) == 0) {
        for (uint64_t i = 0; i < g->n_kv; i++) (void)gguf_find(g, g->kv[i].key);
        eng_model *m = eng_model_from_gguf(g, err, sizeof err);
        if (m) {
            eng_ctx_params p = {.n_ctx = 8, .n_batch = 4, .n_threads = 1};
            eng_ctx *c = eng_ctx_new(m, &p, err, sizeof err);
            const eng_hparams *hp = eng_model_hparams(m);
            if (c && hp->n_vocab > 0 && (size_t)hp->n_embd * hp->n_vocab < (1u << 24)) {
                float *lg = malloc((size_t)hp->n_vocab * sizeof(float));
                int32_t t[2] = {0, hp->n_vocab - 1};
                if (lg) eng_decode(c, t, 2, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
                free(lg);
            }
            eng_ctx_free(c);
            eng_model_free(m);
        }
    }
    free(buf);
    return 0;
}
