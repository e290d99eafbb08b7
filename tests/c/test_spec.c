/* test_spec.c — greedy speculative decoding is exact: for every fixture model
 * (tests/fixtures/models/manifest.json) and the default model with its draft
 * (models/flint-coder-{moe,draft}.*.gguf, when present), greedy output with
 * each speculation mode equals plain greedy output token for token over 100
 * prompts: random tokens of varied length, and repeated segments with edits
 * so that n-gram drafts trigger. Modes, the first three with fixed draft
 * lengths (16, 8, 4) so that long drafts and deep rollbacks are exercised
 * on models where adaptation would keep drafts short: ngram, draft (a sibling
 * quantization of the same model: high acceptance), self (top-1 experts, or
 * half the layers on dense models); then adaptive: auto (all of them), and
 * ngram+draft with an unrelated draft model (low acceptance). Steps get random token budgets; none may be
 * exceeded, and the total must come out exact. */
#include <glob.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "engine/engine.h"
#include "engine/spec.h"
#include "fixtures.h"
#include "tap.h"

#define N_PROMPTS 100
#define N_GEN 32
#define MAX_PROMPT 64

static uint64_t rng_state = 42;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

/* Prompt i: even i random tokens (1..64), odd i a segment repeated with edits. */
static int make_prompt(int i, int n_vocab, int32_t *p) {
    if (i % 2 == 0) {
        int n = 1 + (int)rnd(MAX_PROMPT);
        for (int j = 0; j < n; j++) p[j] = (int32_t)rnd((uint32_t)n_vocab);
        return n;
    }
    int seg = 3 + (int)rnd(14), n = 0;
    int32_t s[16];
    for (int j = 0; j < seg; j++) s[j] = (int32_t)rnd((uint32_t)n_vocab);
    while (n + seg <= MAX_PROMPT) {
        for (int j = 0; j < seg; j++) p[n++] = rnd(8) ? s[j] : (int32_t)rnd((uint32_t)n_vocab);
        if (rnd(4) == 0) break;
    }
    return n;
}

typedef struct {
    int32_t prompt[N_PROMPTS][MAX_PROMPT];
    int np[N_PROMPTS];
    int32_t want[N_PROMPTS][N_GEN];
} workload;

/* Plain greedy decoding of every prompt (the reference). */
static int reference(eng_model *m, workload *w) {
    char err[FL_ERRLEN];
    int nv = eng_model_hparams(m)->n_vocab, rc = 0;
    eng_ctx_params cp = {.n_ctx = MAX_PROMPT + N_GEN, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    float *lg = malloc((size_t)nv * sizeof(float));
    if (!c || !lg) rc = -1;
    for (int i = 0; !rc && i < N_PROMPTS; i++) {
        w->np[i] = make_prompt(i, nv, w->prompt[i]);
        eng_ctx_truncate(c, 0);
        rc = eng_decode(c, w->prompt[i], w->np[i], ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
        for (int g = 0; !rc && g < N_GEN; g++) {
            w->want[i][g] = samp_argmax(lg, nv);
            if (g + 1 < N_GEN) rc = eng_decode(c, &w->want[i][g], 1, ENG_LOGITS_LAST, lg, NULL, err, sizeof err);
        }
    }
    if (rc) NOTE("reference: %s", err);
    free(lg);
    eng_ctx_free(c);
    return rc;
}

/* Every prompt through one generator in mode p; CHECKs equality with the reference. */
static void run_mode(eng_model *m, const char *name, const char *mode, const spec_params *p, const workload *w) {
    char err[FL_ERRLEN] = "";
    int nv = eng_model_hparams(m)->n_vocab, equal = 0, budget_ok = 1, rc = 0;
    samp_params sp = {.temp = 0, .top_p = 1};
    eng_ctx_params cp = {.n_ctx = MAX_PROMPT + N_GEN, .n_threads = 1};
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    samp *s = samp_new(&sp, nv);
    spec_gen *g = c && s ? spec_new(c, s, p, err, sizeof err) : NULL;
    if (!g) rc = -1;
    for (int i = 0; !rc && i < N_PROMPTS; i++) {
        int32_t out[N_GEN];
        spec_rewind(g, 0);
        rc = spec_feed(g, w->prompt[i], w->np[i], NULL, err, sizeof err);
        for (int n = 0; !rc && n < N_GEN;) {
            int max = i % 2 ? N_GEN - n : 1 + (int)rnd((uint32_t)(N_GEN - n));
            int got = spec_step(g, out + n, max, NULL, err, sizeof err);
            if (got < 0) rc = -1;
            else if (got < 1 || got > max) budget_ok = 0, rc = -1;
            else n += got;
        }
        if (!rc && !memcmp(out, w->want[i], sizeof out)) equal++;
    }
    spec_stats st = {0};
    if (g) spec_get_stats(g, &st);
    CHECK(!rc && budget_ok && equal == N_PROMPTS,
          "%s --spec %s: greedy output equals plain on %d/%d prompts (drafted %ld, accepted %ld, %ld verify calls)", name,
          mode, equal, N_PROMPTS, st.drafted, st.accepted, st.verify_calls);
    if (rc) NOTE("%s", budget_ok ? err : "a step returned more tokens than allowed");
    spec_free(g);
    samp_free(s);
    eng_ctx_free(c);
}

/* All modes for one target. sibling: a close draft model (NULL: none);
 * foreign: an unrelated one (NULL: none). */
static void test_target(const char *name, const char *path, const char *sibling, const char *foreign) {
    char err[FL_ERRLEN];
    double t0 = fl_now();
    eng_model *m = eng_model_load(path, err, sizeof err), *sm = NULL, *fm = NULL;
    if (sibling) sm = eng_model_load(sibling, err, sizeof err);
    if (foreign) fm = eng_model_load(foreign, err, sizeof err);
    workload *w = calloc(1, sizeof *w);
    if (!CHECK(m && w && (!sibling || sm) && (!foreign || fm) && !reference(m, w), "%s: models load, reference runs",
               name)) {
        NOTE("%s", err);
        goto done;
    }
    int moe = eng_model_hparams(m)->n_expert > 0;
    if (moe || eng_model_hparams(m)->n_layer > 1) {
        spec_params p = {.sources = SPEC_SRC_SELF, .draft_max = 4, .fixed_length = 1};
        run_mode(m, name, "self", &p, w);
    }
    spec_params ng = {.sources = SPEC_SRC_NGRAM, .fixed_length = 1};
    run_mode(m, name, "ngram", &ng, w);
    if (sm) {
        spec_params p = {.sources = SPEC_SRC_DRAFT, .draft = sm, .draft_max = 8, .fixed_length = 1};
        run_mode(m, name, "draft", &p, w);
        spec_params a = {.sources = SPEC_SRC_DRAFT | SPEC_SRC_NGRAM | (moe ? SPEC_SRC_SELF : 0), .fallback = 1,
                         .draft = sm};
        run_mode(m, name, "auto", &a, w);
    }
    if (fm) {
        spec_params p = {.sources = SPEC_SRC_DRAFT | SPEC_SRC_NGRAM, .draft = fm, .draft_max = 5};
        run_mode(m, name, "ngram+draft (unrelated draft)", &p, w);
    }
done:
    NOTE("%s: %.1f s", name, fl_now() - t0);
    free(w);
    eng_model_free(m);
    eng_model_free(sm);
    eng_model_free(fm);
}

/* spec_memory: what one generator measured is where the next one starts
 * (a server makes a generator per request); a reset, or a generator that
 * failed to start, leaves nothing behind; outputs stay equal to plain. */
static void test_memory(const char *path) {
    char err[FL_ERRLEN] = "";
    eng_model *m = eng_model_load(path, err, sizeof err);
    workload *w = calloc(1, sizeof *w);
    spec_memory *mem = spec_memory_new();
    if (!CHECK(m && w && mem && !reference(m, w), "spec_memory: model loads, reference runs")) goto done;
    int nv = eng_model_hparams(m)->n_vocab;
    samp_params sp = {.temp = 0, .top_p = 1};
    eng_ctx_params cp = {.n_ctx = MAX_PROMPT + N_GEN, .n_threads = 1};
    spec_params p = {.sources = SPEC_SRC_NGRAM, .fallback = 1, .memory = mem};
    spec_params bad = p;
    bad.draft_max = SPEC_K_MAX + 1;
    eng_ctx *c = eng_ctx_new(m, &cp, err, sizeof err);
    samp *s = samp_new(&sp, nv);
    CHECK(c && s && !spec_new(c, s, &bad, err, sizeof err), "spec_memory: a generator with bad parameters fails");
    double before[2] = {0}, after[2] = {0};
    int equal = 0;
    for (int r = 0; r < 2 && c && s; r++) { /* two generators in turn, as two requests */
        spec_gen *g = spec_new(c, s, &p, err, sizeof err);
        if (!g) break;
        spec_stats st;
        int32_t out[N_GEN];
        spec_rewind(g, 0); /* the context still holds the previous request */
        int n = 0, rc = spec_feed(g, w->prompt[r], w->np[r], NULL, err, sizeof err);
        spec_get_stats(g, &st);
        before[r] = st.verify_time[0];
        while (!rc && n < N_GEN) {
            int got = spec_step(g, out + n, N_GEN - n, NULL, err, sizeof err);
            if (got < 1) rc = -1;
            else n += got;
        }
        spec_get_stats(g, &st);
        after[r] = st.verify_time[0];
        equal += !rc && !memcmp(out, w->want[r], sizeof out);
        spec_free(g);
    }
    CHECK(before[0] == 0 && after[0] > 0, "spec_memory: the first generator starts unmeasured (a failed one left nothing)");
    CHECK(before[1] > 0, "spec_memory: the second starts from the first's measurements (plain step %.3g ms)",
          before[1] * 1e3);
    CHECK(equal == 2, "spec_memory: both outputs equal plain decoding");
    spec_memory_reset(mem);
    spec_gen *g = c && s ? spec_new(c, s, &p, err, sizeof err) : NULL;
    spec_stats st = {0};
    if (g) spec_get_stats(g, &st);
    CHECK(g && st.verify_time[0] == 0, "spec_memory: after a reset a generator starts unmeasured");
    spec_free(g);
    samp_free(s);
    eng_ctx_free(c);
done:
    spec_memory_free(mem);
    free(w);
    eng_model_free(m);
}

/* The first match of pattern under the repository root, or NULL (static buffer). */
static const char *first_match(const char *pattern) {
    static char buf[2][4096];
    static int which;
    glob_t gl;
    const char *r = NULL;
    if (!glob(fixture_path(pattern), 0, NULL, &gl) && gl.gl_pathc > 0) {
        which ^= 1;
        snprintf(buf[which], sizeof buf[which], "%s", gl.gl_pathv[0]);
        r = buf[which];
    }
    globfree(&gl);
    return r;
}

int main(void) {
    json_error_t je;
    json_t *man = json_load_file(fixture_path("tests/fixtures/models/manifest.json"), 0, &je);
    if (!CHECK(man != NULL, "manifest.json parses")) return tap_done();
    json_t *models = json_object_get(man, "models"), *e;
    size_t n = json_array_size(models), i;
    json_array_foreach(models, i, e) {
        /* sibling: the next entry of the same base (wrapping); foreign: an entry of another base */
        json_t *sib = NULL, *far = NULL;
        const char *base = json_string_value(json_object_get(e, "base"));
        for (size_t j = 1; j < n && (!sib || !far); j++) {
            json_t *o = json_array_get(models, (i + j) % n);
            int same = !strcmp(base, json_string_value(json_object_get(o, "base")));
            if (same && !sib) sib = o;
            if (!same && !far && !strncmp(json_string_value(json_object_get(o, "base")), "tiny-", 5)) far = o;
        }
        char path[3][4096], rel[512];
        json_t *which[3] = {e, sib, far};
        for (int k = 0; k < 3; k++) {
            if (!which[k]) continue;
            snprintf(rel, sizeof rel, "tests/fixtures/models/%s", json_string_value(json_object_get(which[k], "file")));
            snprintf(path[k], sizeof path[k], "%s", fixture_path(rel));
        }
        test_target(json_string_value(json_object_get(e, "name")), path[0], sib ? path[1] : NULL, far ? path[2] : NULL);
    }
    json_decref(man);
    const char *moe = first_match("models/flint-coder-moe.*.gguf"), *draft = first_match("models/flint-coder-draft.*.gguf");
    if (moe) test_target("flint-coder-moe", moe, draft, NULL);
    else NOTE("models/flint-coder-moe.*.gguf not present: default model skipped");
    if (moe) test_memory(moe);
    return tap_done();
}
