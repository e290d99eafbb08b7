/* test_membudget.c — flint refuses, with a clear message, what would not fit in
 * memory: the weights of a model, or a KV cache too large for what is left.
 * FLINT_MEM_AVAILABLE simulates a smaller machine (and an empty page cache). */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/engine.h"
#include "fixtures.h"
#include "tap.h"

int main(void) {
    const char *path = fixture_path("tests/fixtures/models/small-qwen3moe.F32.gguf"); /* 15.2 MB of weights */
    char err[FL_ERRLEN] = "";
    setenv("FLINT_MEM_AVAILABLE", "10000000", 1);
    eng_model *m = eng_model_load(path, err, sizeof err);
    CHECK(!m && strstr(err, "loading this model needs 14.6 MiB") && strstr(err, "smaller"),
          "a model larger than available memory is refused: %s", err);
    eng_model_free(m);

    setenv("FLINT_MEM_AVAILABLE", "100000000", 1);
    m = eng_model_load(path, err, sizeof err);
    CHECK(m != NULL, "the same model loads with 100 MB available");
    if (m) {
        eng_ctx_params p = {.n_ctx = 200000}; /* 2 layers × 200k × 128 × 2 × 4 B = 410 MB of KV */
        eng_ctx *c = eng_ctx_new(m, &p, err, sizeof err);
        CHECK(!c && strstr(err, "KV cache of 200000 tokens") && strstr(err, "n_ctx"),
              "a KV cache that does not fit is refused: %s", err);
        eng_ctx_free(c);
        p.n_ctx = 4096;
        c = eng_ctx_new(m, &p, err, sizeof err);
        CHECK(c != NULL, "a 4096-token context fits");
        eng_ctx_free(c);
        eng_model_free(m);
    }
    unsetenv("FLINT_MEM_AVAILABLE");
    return tap_done();
}
