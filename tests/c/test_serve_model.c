/* test_serve_model.c — `flint serve` with the default model found next to
 * the binary (models/flint-coder-moe*.gguf) and its draft: the FIM format
 * (flint-coder, SPM), completions on real code, prompt-cache reuse while
 * typing, refactor through ChatML with the reply's fences removed. Skipped
 * (one passing line says so) when the default model is not present. */
#include <glob.h>

#include "serve_client.h"
#include "tap.h"

#define T 60000

static int valid_reason(const char *r) {
    static const char *const ok[] = {"stop", "eos", "max_tokens", "indent"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (r && !strcmp(r, ok[i])) return 1;
    return 0;
}

/* Greedy speculation changes only the speed: a server with --complete-spec
 * none returns the same text for each completion request in reqs as the
 * speculating server did (its chunks, ids 100+k with k the prefix length). */
static void check_spec_exact(const char *const *draft_args, json_t *reqs, json_t *chunks) {
    const char *args[] = {"--complete-spec", "none", NULL, NULL, NULL};
    if (draft_args) args[2] = draft_args[0], args[3] = draft_args[1];
    sc_client c;
    if (sc_start(&c, 0, args)) { CHECK(0, "spawn with --complete-spec none"); return; }
    json_decref(sc_call(&c, 1, "initialize", json_pack("{s:s}", "client", "test"), NULL, NULL, T));
    int same = 1, n = 0;
    json_t *spec_ids = json_array();
    for (size_t i = 0; i < json_array_size(chunks); i++) { /* the speculating server's ids, in order */
        json_t *ch = json_array_get(chunks, i);
        if (json_is_true(json_object_get(ch, "done"))) json_array_append_new(spec_ids, json_integer(json_integer_value(json_object_get(ch, "id"))));
    }
    for (size_t i = 0; i < json_array_size(reqs) && i < json_array_size(spec_ids); i++) {
        long long sid = json_integer_value(json_array_get(spec_ids, i));
        char want[1 << 12];
        snprintf(want, sizeof want, "%s", sc_text(chunks, sid, 0));
        json_t *plain = json_array();
        json_t *res = sc_call(&c, 1000 + (long long)i, "complete", json_incref(json_array_get(reqs, i)), NULL, plain, T);
        long long pid = json_integer_value(json_object_get(res, "id"));
        json_decref(res);
        same &= sc_collect(&c, pid, 1, plain, T) == 1 && !strcmp(sc_text(plain, pid, 0), want);
        same &= json_object_get(json_object_get(sc_final(plain, pid, 0), "stats"), "spec") == NULL;
        json_decref(plain);
        n++;
    }
    CHECK(same && n == 30, "the same %d completions without speculation: identical text, no speculation stats", n);
    json_decref(spec_ids);
    json_decref(sc_call(&c, 3, "shutdown", json_object(), NULL, NULL, T));
    sc_finish(&c, 10000);
}

int main(void) {
    glob_t g;
    if (glob("models/flint-coder-moe*.gguf", 0, NULL, &g) || !g.gl_pathc) {
        CHECK(1, "default model not present: skipped");
        return tap_done();
    }
    glob_t d;
    int has_draft = !glob("models/flint-coder-draft*.gguf", 0, NULL, &d) && d.gl_pathc;
    sc_client c;
    const char *args[] = {"--draft", has_draft ? d.gl_pathv[0] : "", NULL};
    if (sc_start(&c, 0, has_draft ? args : NULL)) return CHECK(0, "spawn"), tap_done();
    json_t *r = sc_call(&c, 1, "initialize", json_pack("{s:s}", "client", "test"), NULL, NULL, T);
    json_t *model = json_object_get(r, "model");
    CHECK(!strcmp(sc_str(json_object_get(model, "fim")), "flint-coder") &&
              !strcmp(sc_str(json_object_get(model, "fim_order")), "spm") && json_is_true(json_object_get(model, "chat")),
          "default model found without --model: flint-coder FIM (SPM order) and ChatML");
    CHECK(!has_draft || json_is_object(json_object_get(r, "draft")), "the draft model loads and is reported");
    json_decref(r);

    /* completions while typing a C function */
    const char *text = "static int sum(const int *v, int n)\n{\n    int s = 0;\n    for (int i = 0; i < n; i++)\n        s += v[i];\n    return s;\n}\n";
    const char *suffix = "\n\nint main(void)\n{\n    return 0;\n}\n";
    size_t start = strstr(text, "    for") - text, n = strlen(text);
    json_t *chunks = json_array(), *reqs = json_array();
    int all_ok = 1, reuse_ok = 1, count = 0;
    long long evaluated_max = 0;
    for (size_t k = start; k < n && count < 30; k += 2, count++) {
        char prefix[8192];
        int off = snprintf(prefix, sizeof prefix, "#include <stdio.h>\n#include <stdlib.h>\n\n");
        for (int f = 0; f < 20; f++) /* some code above, so the prompt is long */
            off += snprintf(prefix + off, sizeof prefix - (size_t)off,
                            "static int scale_%d(int x)\n{\n    return x * %d + %d;\n}\n\n", f, f + 2, f);
        snprintf(prefix + off, sizeof prefix - (size_t)off, "%.*s", (int)k, text);
        json_t *p = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "buf", 1, "path", "sum.c", "filetype", "c", "prefix", prefix,
                              "suffix", suffix, "max_tokens", 16);
        json_array_append(reqs, p);
        json_t *res = sc_call(&c, 100 + (long long)k, "complete", p, NULL, chunks, T);
        long long id = json_integer_value(json_object_get(res, "id"));
        json_decref(res);
        if (sc_collect(&c, id, 1, chunks, T) != 1) { all_ok = 0; break; }
        json_t *fin = sc_final(chunks, id, 0), *st = json_object_get(fin, "stats");
        all_ok &= valid_reason(sc_str(json_object_get(fin, "reason")));
        long long ev = json_integer_value(json_object_get(st, "evaluated_tokens"));
        long long pt = json_integer_value(json_object_get(st, "prompt_tokens"));
        if (count > 0) { /* two more characters typed at the end of the prefix */
            reuse_ok &= ev <= 6 && pt > 400;
            if (ev > evaluated_max) evaluated_max = ev;
        }
    }
    CHECK(all_ok && count == 30, "30 completions while typing, each ends normally");
    long long drafted = 0;
    for (size_t i = 0; i < json_array_size(chunks); i++) {
        json_t *sp = json_object_get(json_object_get(json_array_get(chunks, i), "stats"), "spec");
        if (sp) drafted += json_integer_value(json_object_get(sp, "drafted"));
    }
    CHECK(drafted > 0, "completions are speculated (n-gram by default): %lld tokens drafted", drafted);
    check_spec_exact(has_draft ? args : NULL, reqs, chunks);
    json_decref(reqs);
    CHECK(reuse_ok, "SPM + prompt cache: each keystroke evaluates at most 6 of 400+ prompt tokens (max %lld)", evaluated_max);
    json_decref(chunks);

    /* refactor: ChatML prompt, fences removed from the streamed reply */
    chunks = json_array();
    r = sc_call(&c, 2, "refactor",
                json_pack("{s:i, s:s, s:s, s:s, s:i}", "buf", 2, "filetype", "python", "text",
                          "def area(w, h):\n    x = w * h\n    return x\n", "instruction", "rename x to result", "max_tokens", 96),
                NULL, chunks, T);
    long long rid = json_integer_value(json_object_get(r, "id"));
    json_decref(r);
    int fin = sc_collect(&c, rid, 1, chunks, T);
    const char *reply = sc_text(chunks, rid, 0);
    json_t *rf = sc_final(chunks, rid, 0);
    NOTE("refactor reply: %s (reason %s)", reply, sc_str(json_object_get(rf, "reason")));
    CHECK(fin == 1 && strncmp(reply, "```", 3) && !strstr(reply, "<|im_end|>") &&
              json_integer_value(json_object_get(json_object_get(rf, "stats"), "prompt_tokens")) > 30,
          "refactor streams the reply without its fences or the end token");
    json_decref(chunks);
    json_decref(sc_call(&c, 3, "shutdown", json_object(), NULL, NULL, T));
    CHECK(sc_finish(&c, 10000) == 0, "clean exit");
    globfree(&g);
    if (has_draft) globfree(&d);
    return tap_done();
}
