/* test_cli_engine.c — the engine's command-line contract, through the real binary:
 * `flint eval` (full batch and --batch 1) writes logits within the manifest's
 * tolerance, `flint generate` prints the reference greedy ids, `flint info`
 * prints JSON with the architecture. Every fixture model. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/sample.h"
#include "fixtures.h"
#include "tap.h"

static const char *bin(void) {
    const char *b = getenv("FLINT_BIN");
    return b && *b ? b : "build/flint";
}

static char *ids_csv(json_t *arr) {
    static char buf[4096];
    size_t i, o = 0;
    json_t *v;
    buf[0] = 0;
    json_array_foreach(arr, i, v) o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%lld", i ? "," : "", json_integer_value(v));
    return buf;
}

/* Run a shell command; return its stdout (malloc'd) and exit status. */
static char *run(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    if (!p) { *status = -1; return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    size_t r;
    while (out && (r = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (n + 1 == cap) out = realloc(out, cap *= 2);
    }
    int rc = pclose(p);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    if (out) out[n] = 0;
    return out;
}

static void check_eval(json_t *e, const char *model, int batch) {
    json_t *ev = json_object_get(e, "eval"), *tol = json_object_get(e, "tolerance");
    const char *name = json_string_value(json_object_get(e, "name"));
    int nt = (int)json_integer_value(json_object_get(ev, "n_tokens")), nv = (int)json_integer_value(json_object_get(ev, "n_vocab"));
    char out[] = "/tmp/flint-cli-eval-XXXXXX", cmd[8192];
    int fd = mkstemp(out);
    if (fd >= 0) close(fd);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --tokens %s --logits %s --batch %d --threads 2 2>/dev/null", bin(),
             model, ids_csv(json_object_get(ev, "prompt_ids")), out, batch);
    int st;
    free(run(cmd, &st));
    size_t len = 0;
    float *mine = (float *)fl_read_file(out, &len);
    char rel[512];
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s",
             json_string_value(json_object_get(json_object_get(json_object_get(ev, "logits"), "batch"), "file")));
    float *ref = (float *)fl_read_file(fixture_path(rel), NULL);
    char excluded[64] = {0};
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ev, "excluded_positions"), i, v) excluded[json_integer_value(v)] = 1;
    double mx = 0;
    int ok = st == 0 && mine && ref && len == (size_t)nt * nv * sizeof(float);
    for (int p = 0; ok && p < nt; p++)
        for (int k = 0; k < nv && !excluded[p]; k++) {
            double d = fabs((double)mine[p * nv + k] - ref[p * nv + k]);
            if (!(d <= mx)) mx = d;
        }
    CHECK(ok && mx <= json_real_value(json_object_get(tol, "max_abs")), "flint eval %s --batch %d: %zu bytes, max |d| %.5f",
          name, batch, len, mx);
    free(mine);
    free(ref);
    remove(out);
}

static void check_generate(json_t *e, const char *model) {
    json_t *g = json_object_get(e, "greedy");
    const char *name = json_string_value(json_object_get(e, "name"));
    int need = (int)json_integer_value(json_object_get(g, "exact_prefix_required"));
    json_t *want = json_object_get(g, "ids");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' generate --model '%s' --tokens %s -n %zu --temp 0 --threads 2 2>/dev/null", bin(), model,
             ids_csv(json_object_get(g, "prompt_ids")), json_array_size(want));
    int st;
    char *out = run(cmd, &st);
    int match = 0, count = 0;
    char *p = out, *end;
    while (p && *p && *p != '\n') {
        long id = strtol(p, &end, 10);
        if (end == p) break;
        if (count == match && count < (int)json_array_size(want) && id == json_integer_value(json_array_get(want, count)))
            match++;
        count++;
        p = end;
        while (*p == ' ') p++;
    }
    CHECK(st == 0 && count == (int)json_array_size(want) && match >= need,
          "flint generate %s: %d ids, %d leading equal (need %d)", name, count, match, need);
    free(out);
}

int main(void) {
    json_t *man = json_load_file(fixture_path("tests/fixtures/models/manifest.json"), 0, NULL);
    if (!CHECK(man != NULL, "manifest parses")) return tap_done();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(man, "models"), i, e) {
        char model[8192];
        snprintf(model, sizeof model, "%s", fixture_path("tests/fixtures/models/"));
        strncat(model, json_string_value(json_object_get(e, "file")), sizeof model - strlen(model) - 1);
        check_eval(e, model, 512);
        check_eval(e, model, 1);
        check_generate(e, model);
        if (i == 0) {
            char cmd[2048];
            int st;
            snprintf(cmd, sizeof cmd, "'%s' info --model '%s'", bin(), model);
            char *out = run(cmd, &st);
            json_t *info = out ? json_loads(out, 0, NULL) : NULL;
            CHECK(st == 0 && info && !strcmp(json_string_value(json_object_get(info, "arch")), "llama") &&
                      json_integer_value(json_object_get(json_object_get(info, "hparams"), "n_vocab")) == 520,
                  "flint info prints JSON with arch and n_vocab");
            json_decref(info);
            free(out);
        }
    }
    json_decref(man);
    return tap_done();
}
