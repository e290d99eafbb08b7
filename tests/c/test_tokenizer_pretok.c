/* test_tokenizer_pretok.c — every pre-tokenizer scanner against the regex
 * splits in tests/fixtures/tokenizer/pretok_cases.json (made by gen_pretok.py
 * with Python's `regex`), including the families the vocab fixtures do not
 * cover (default, llama3, deepseek-llm). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tokenizer/internal.h"

static const struct {
    const char *name;
    enum tok_pre pre;
} PRES[] = {
    {"default", TOK_PRE_DEFAULT}, {"gpt-2", TOK_PRE_GPT2}, {"starcoder", TOK_PRE_STARCODER},
    {"falcon", TOK_PRE_FALCON}, {"qwen2", TOK_PRE_QWEN2}, {"llama3", TOK_PRE_LLAMA3},
    {"deepseek-coder", TOK_PRE_DEEPSEEK_CODER}, {"deepseek-llm", TOK_PRE_DEEPSEEK_LLM},
};

int main(void) {
    char path[512];
    const char *r = getenv("FLINT_ROOT");
    snprintf(path, sizeof path, "%s/tests/fixtures/tokenizer/pretok_cases.json", r && *r ? r : ".");
    json_error_t je;
    json_t *all = json_load_file(path, 0, &je);
    if (!CHECK(json_is_array(all), "pretok_cases.json parses")) return tap_done();
    tok_scratch s = {0};
    size_t gi;
    json_t *group;
    json_array_foreach(all, gi, group) {
        const char *name = json_string_value(json_object_get(group, "pre"));
        int pre = -1;
        for (size_t i = 0; i < sizeof PRES / sizeof PRES[0]; i++)
            if (name && !strcmp(name, PRES[i].name)) pre = (int)PRES[i].pre;
        if (!CHECK(pre >= 0, "known pre-tokenizer '%s'", name ? name : "?")) continue;
        json_t *cases = json_object_get(group, "cases"), *c;
        size_t ci, good = 0;
        json_array_foreach(cases, ci, c) {
            json_t *text = json_object_get(c, "text"), *words = json_object_get(c, "words");
            const char *bytes;
            int ok = tok_pretokenize((enum tok_pre)pre, json_string_value(text), json_string_length(text), &s, &bytes) == 0 &&
                     s.n_seg == json_array_size(words);
            size_t at = 0;
            for (size_t w = 0; ok && w < s.n_seg; w++) {
                json_t *want = json_array_get(words, w);
                size_t b0 = s.boff[at], b1 = s.boff[at + s.seg[w]];
                at += s.seg[w];
                ok = b1 - b0 == json_string_length(want) && !memcmp(bytes + b0, json_string_value(want), b1 - b0);
            }
            if (ok) good++;
            else NOTE("%s: '%s' splits differently", name, json_string_value(text));
        }
        CHECK(good == json_array_size(cases) && good > 0, "%s: %zu/%zu regex splits reproduced", name, good,
              json_array_size(cases));
    }
    tok_scratch_free(&s);
    json_decref(all);
    return tap_done();
}
