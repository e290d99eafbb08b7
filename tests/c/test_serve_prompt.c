/* test_serve_prompt.c — FIM format detection per vocabulary, prompt layouts
 * (PSM, SPM, repository context), trimming to a token budget by whole lines,
 * the sticky prefix cut that keeps the prompt's start while typing, and the
 * ChatML refactor prompt (with the flint-coder vocabulary when present). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/internal.h"
#include "tap.h"

#define VOCAB(n) "tests/fixtures/vocab/ggml-vocab-" n ".gguf"

static int load(srv_model *m, const char *path, const char *name, int order) {
    memset(m, 0, sizeof *m);
    char err[256];
    if (tok_load_file(path, &m->vocab, err, sizeof err)) {
        NOTE("%s: %s", path, err);
        return -1;
    }
    snprintf(m->name, sizeof m->name, "%s", name);
    srv_fim_detect(&m->fim, m->vocab, name, order);
    m->im_start = tok_special_ids(m->vocab)->im_start;
    m->im_end = tok_special_ids(m->vocab)->im_end;
    return 0;
}

static void test_detect(void) {
    static const struct { const char *file, *family; } cases[] = {
        {VOCAB("tiny-bpe"), "qwen"}, {VOCAB("deepseek-coder"), "deepseek"}, {VOCAB("starcoder"), "starcoder"},
        {VOCAB("gpt-2"), NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv_model m;
        if (load(&m, cases[i].file, "x", SRV_FIM_AUTO)) { CHECK(0, "load %s", cases[i].file); continue; }
        int ok = cases[i].family ? m.fim.family && !strcmp(m.fim.family, cases[i].family) && !m.fim.spm : !m.fim.family;
        CHECK(ok, "fim: %s -> %s", strrchr(cases[i].file, '/') + 1, cases[i].family ? cases[i].family : "no FIM");
        tok_free(m.vocab);
    }
    srv_model m;
    load(&m, VOCAB("tiny-bpe"), "flint-coder-moe", SRV_FIM_AUTO);
    CHECK(!strcmp(m.fim.family, "flint-coder") && m.fim.spm && m.fim.repo_style == SRV_REPO_FILE_SEP,
          "fim: flint-coder (Qwen tokens, flint name) -> SPM with <|file_sep|> context");
    tok_free(m.vocab);
    load(&m, VOCAB("tiny-bpe"), "flint-coder-moe", SRV_FIM_PSM);
    CHECK(!m.fim.spm, "fim: the configured order wins");
    tok_free(m.vocab);
}

static void enc(srv_model *m, const char *s, tok_ids *out) { tok_tokenize(m->vocab, s, strlen(s), 0, out); }

static int same(const tok_ids *a, const tok_ids *b) {
    return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof(int32_t)));
}

static srv_request req(const char *prefix, const char *suffix) {
    srv_request r = {.prefix = (char *)prefix, .prefix_len = strlen(prefix), .suffix = (char *)suffix,
                     .suffix_len = strlen(suffix), .filetype = "python", .path = "a.py", .max_tokens = 16};
    return r;
}

static void test_layouts(void) {
    srv_model m;
    load(&m, VOCAB("tiny-bpe"), "tiny", SRV_FIM_AUTO);
    const tok_specials *sp = tok_special_ids(m.vocab);
    char err[256];
    srv_request r = req("def f(x):\n    return ", "\n\nprint(f(2))\n");
    tok_ids got = {0}, want = {0};
    int cut = 0;
    CHECK(srv_prompt_fim(&m, NULL, &r, 400, &cut, NULL, NULL, &got, err, sizeof err) == 0, "psm: builds");
    tok_ids_push(&want, sp->fim_pre);
    enc(&m, r.prefix, &want);
    tok_ids_push(&want, sp->fim_suf);
    enc(&m, r.suffix, &want);
    tok_ids_push(&want, sp->fim_mid);
    CHECK(same(&got, &want), "psm: <|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>, pieces tokenized as text");
    m.fim.spm = 1;
    got.n = want.n = 0;
    srv_prompt_fim(&m, NULL, &r, 400, &cut, NULL, NULL, &got, err, sizeof err);
    tok_ids_push(&want, sp->fim_suf);
    enc(&m, r.suffix, &want);
    tok_ids_push(&want, sp->fim_pre);
    enc(&m, r.prefix, &want);
    tok_ids_push(&want, sp->fim_mid);
    CHECK(same(&got, &want), "spm: <|fim_suffix|>S<|fim_prefix|>P<|fim_middle|>");
    /* control-token text inside code stays text */
    srv_request inj = req("x = '<|fim_middle|>'", "");
    got.n = 0;
    srv_prompt_fim(&m, NULL, &inj, 400, &cut, NULL, NULL, &got, err, sizeof err);
    int mids = 0;
    for (size_t i = 0; i < got.n; i++) mids += got.v[i] == sp->fim_mid;
    CHECK(mids == 1, "code containing '<|fim_middle|>' does not become a control token");
    /* repository context, flint-coder style */
    srv_extra ex = {.path = "b.py", .text = "def g():\n    pass\n", .text_len = 18};
    r.extra = &ex;
    r.n_extra = 1;
    m.fim.repo_style = SRV_REPO_FILE_SEP;
    got.n = want.n = 0;
    srv_prompt_fim(&m, NULL, &r, 400, &cut, NULL, NULL, &got, err, sizeof err);
    tok_ids_push(&want, sp->fim_sep);
    enc(&m, "b.py\ndef g():\n    pass\n", &want);
    tok_ids_push(&want, sp->fim_suf);
    enc(&m, r.suffix, &want);
    tok_ids_push(&want, sp->fim_pre);
    enc(&m, r.prefix, &want);
    tok_ids_push(&want, sp->fim_mid);
    CHECK(same(&got, &want), "repo context (flint): <|file_sep|>path\\ncontent before the FIM part");
    /* Qwen style: repo name, files, then the current file's path */
    m.fim.repo_style = SRV_REPO_QWEN;
    m.fim.spm = 0;
    r.repo = "proj";
    got.n = want.n = 0;
    srv_prompt_fim(&m, NULL, &r, 400, &cut, NULL, NULL, &got, err, sizeof err);
    tok_ids_push(&want, sp->fim_rep);
    enc(&m, "proj\n", &want);
    tok_ids_push(&want, sp->fim_sep);
    enc(&m, "b.py\ndef g():\n    pass\n", &want);
    tok_ids_push(&want, sp->fim_sep);
    enc(&m, "a.py\n", &want);
    tok_ids_push(&want, sp->fim_pre);
    enc(&m, r.prefix, &want);
    tok_ids_push(&want, sp->fim_suf);
    enc(&m, r.suffix, &want);
    tok_ids_push(&want, sp->fim_mid);
    CHECK(same(&got, &want), "repo context (Qwen): <|repo_name|>, files, current path, then PSM");
    tok_ids_free(&got);
    tok_ids_free(&want);
    tok_free(m.vocab);
}

/* The text of ids[a, b). */
static char *text_of(srv_model *m, const int32_t *ids, size_t n) {
    tok_text t = {0};
    char err[128];
    tok_detokenize(m->vocab, ids, n, 0, &t, err, sizeof err);
    return t.s ? t.s : strdup("");
}

static size_t index_of(const tok_ids *t, int32_t id) {
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i] == id) return i;
    return t->n;
}

static void test_budget(void) {
    srv_model m;
    load(&m, VOCAB("tiny-bpe"), "flint-coder-moe", SRV_FIM_AUTO); /* SPM */
    const tok_specials *sp = tok_special_ids(m.vocab);
    char *prefix = malloc(1 << 16), *suffix = malloc(1 << 16), err[256];
    size_t pn = 0, sn = 0;
    for (int i = 0; i < 200; i++) pn += (size_t)sprintf(prefix + pn, "value_%d = compute(%d, 'line')\n", i, i);
    pn += (size_t)sprintf(prefix + pn, "    result = ");
    for (int i = 0; i < 200; i++) sn += (size_t)sprintf(suffix + sn, "after_%d = other(%d)\n", i, i);
    srv_request r = req(prefix, suffix);
    tok_ids a = {0};
    int cut = 0, budget = 300;
    int rc = srv_prompt_fim(&m, NULL, &r, budget, &cut, NULL, NULL, &a, err, sizeof err);
    CHECK(rc == 0 && (int)a.n <= budget && (int)a.n > budget / 2, "budget: a long file fits %d tokens (%zu)", budget, a.n);
    size_t ip = index_of(&a, sp->fim_pre), is = index_of(&a, sp->fim_suf);
    char *kept_pre = text_of(&m, a.v + ip + 1, a.n - ip - 2), *kept_suf = text_of(&m, a.v + is + 1, ip - is - 1);
    size_t kp = strlen(kept_pre), ks = strlen(kept_suf);
    CHECK(cut > 0 && kp < pn && !strcmp(prefix + pn - kp, kept_pre) && prefix[pn - kp - 1] == '\n',
          "budget: the prefix keeps its end, cut at a line start (%d lines dropped)", cut);
    CHECK(ks < sn && !strncmp(suffix, kept_suf, ks) && kept_suf[ks - 1] == '\n' && (int)(ip - is - 1) <= (budget - 3) / 3,
          "budget: the suffix keeps its start, cut after a newline, at most a third");
    free(kept_pre);
    free(kept_suf);
    /* typing: the same lines stay dropped, the prompt only grows at its end */
    int cut0 = cut, sticky = 1;
    tok_ids b = {0};
    for (int k = 0; k < 20; k++) {
        prefix[pn++] = "abcdefghij"[k % 10];
        prefix[pn] = 0;
        r = req(prefix, suffix);
        b.n = 0;
        srv_prompt_fim(&m, NULL, &r, budget, &cut, NULL, NULL, &b, err, sizeof err);
        size_t common = 0;
        while (common < a.n && common < b.n && a.v[common] == b.v[common]) common++;
        sticky &= cut == cut0 && common + 4 >= a.n && (int)b.n <= budget;
        tok_ids tmp = a;
        a = b;
        b = tmp;
    }
    CHECK(sticky, "sticky cut: 20 typed characters keep the cut (%d) and all but the last tokens", cut0);
    /* once the prefix outgrows the budget the cut moves down */
    for (int i = 0; i < 40; i++) pn += (size_t)sprintf(prefix + pn, "\nmore_%d = 1", i);
    r = req(prefix, suffix);
    b.n = 0;
    rc = srv_prompt_fim(&m, NULL, &r, budget, &cut, NULL, NULL, &b, err, sizeof err);
    CHECK(rc == 0 && cut > cut0 && (int)b.n <= budget, "sticky cut: recomputed when the rest no longer fits (%d -> %d lines)",
          cut0, cut);
    /* a single line longer than the budget is cut inside the line */
    char *one = malloc(20000);
    memset(one, 'x', 19999);
    one[19999] = 0;
    r = req(one, "");
    b.n = 0;
    cut = 0;
    rc = srv_prompt_fim(&m, NULL, &r, budget, &cut, NULL, NULL, &b, err, sizeof err);
    CHECK(rc == 0 && (int)b.n <= budget && b.n > 10, "budget: one huge line is cut to fit (%zu tokens)", b.n);
    free(one);
    tok_ids_free(&a);
    tok_ids_free(&b);
    free(prefix);
    free(suffix);
    tok_free(m.vocab);
}

/* Text that ends with a newline (a cursor at the start of a line) is
 * trimmed by whole lines too; this once looped forever. */
static void test_fit_final_newline(void) {
    srv_model m;
    load(&m, VOCAB("tiny-bpe"), "tiny", SRV_FIM_AUTO);
    const char *t = "alpha = 1\nbeta = 2\ngamma = 3\n";
    long s = srv_fit_tail(&m, t, strlen(t), 6);
    CHECK(s > 0 && t[s - 1] == '\n', "fit_tail: text ending in a newline keeps whole lines (from byte %ld)", s);
    tok_free(m.vocab);
}

static void test_chat(void) {
    srv_model m;
    char err[256];
    load(&m, VOCAB("tiny-bpe"), "tiny", SRV_FIM_AUTO);
    srv_chat_detect(&m);
    srv_request r = {.code = "x = 1\n", .code_len = 6, .instruction = "rename x to y", .filetype = "python"};
    tok_ids t = {0}, plain = {0};
    const char *p = "You rewrite code as instructed. Reply with the rewritten code only.\n\n### Instruction:\n"
                    "rename x to y\n```python\nx = 1\n```\n\n### Response:\n";
    tok_tokenize(m.vocab, p, strlen(p), 0, &plain);
    CHECK(m.chat == CHAT_PLAIN && srv_prompt_chat(&m, NULL, &r, 500, &t, err, sizeof err) == 0 && same(&t, &plain),
          "chat: a vocabulary without a chat format gets the plain prompt");
    r.before = "import os\n";
    r.before_len = 10;
    r.after = "print(y)\n";
    r.after_len = 9;
    t.n = 0;
    srv_prompt_chat(&m, NULL, &r, 500, &t, err, sizeof err);
    tok_text back = {0};
    tok_detokenize(m.vocab, t.v, t.n, 0, &back, err, sizeof err);
    CHECK(back.s && strstr(back.s, "```python\nimport os\n[the code to rewrite]\nprint(y)\n```\n\nrename x to y"),
          "chat: context lines go before the instruction for models other than flint-coder");
    tok_text_free(&back);
    CHECK(srv_prompt_chat(&m, NULL, &r, 20, &t, err, sizeof err) == -1 && strstr(err, "too long"),
          "chat: code that does not fit the budget is refused");
    r.before = r.after = NULL;
    r.before_len = r.after_len = 0;
    tok_ids_free(&plain);
    tok_free(m.vocab);
    const char *flint = "tests/fixtures/vocab-flint/flint-coder.vocab.gguf";
    if (access(flint, R_OK)) flint = "models/flint-coder-moe.Q8_0.gguf";
    if (access(flint, R_OK)) {
        CHECK(1, "chat: no flint-coder vocabulary here; ChatML prompt bytes not checked");
        return;
    }
    load(&m, flint, "flint-coder-moe", SRV_FIM_AUTO);
    srv_chat_detect(&m);
    r.before = "import os\n"; /* flint-coder's format has no place for context */
    r.before_len = 10;
    t.n = 0;
    CHECK(srv_prompt_chat(&m, NULL, &r, 1000, &t, err, sizeof err) == 0, "chat: builds with the flint-coder vocabulary");
    tok_ids want = {0};
    const char *expect =
        "<|im_start|>system\nYou rewrite code as instructed. Reply with the rewritten code only.<|im_end|>\n"
        "<|im_start|>user\nrename x to y\n```python\nx = 1\n```<|im_end|>\n<|im_start|>assistant\n";
    tok_tokenize(m.vocab, expect, strlen(expect), TOK_PARSE_SPECIAL, &want);
    CHECK(same(&t, &want), "chat: exactly the FORMATS.md prompt (code's final newline moved out of the fence)");
    tok_ids_free(&want);
    tok_ids_free(&t);
    tok_free(m.vocab);
}

int main(void) {
    test_detect();
    test_layouts();
    test_budget();
    test_fit_final_newline();
    test_chat();
    return tap_done();
}
