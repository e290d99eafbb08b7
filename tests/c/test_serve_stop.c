/* test_serve_stop.c — stop rules and the refactor fence filter, fed whole
 * and byte by byte (the result must not depend on how tokens split). */
#include <stdlib.h>
#include <string.h>

#include "serve/internal.h"
#include "tap.h"

typedef struct {
    const char *what, *prefix, *suffix;
    int mode;
    const char *gen;      /* the model's output */
    const char *want;     /* the completion */
    const char *reason;   /* NULL: generation ended first (finish) */
} stop_case;

static const stop_case cases[] = {
    {"line: a copy of the rest of the line is dropped", "x = foo(", ")\n", SRV_MODE_AUTO, "a, b)", "a, b", NULL},
    {"line: ends at the newline", "    return ", "\n", SRV_MODE_LINE, "x + 1\n    foo()", "x + 1", "stop"},
    {"line: rest kept when it is not at the end", "f(", ")", SRV_MODE_AUTO, "a) + g(b", "a) + g(b", NULL},
    {"block: a less indented line ends it", "def f():\n    ", "\n", SRV_MODE_AUTO, "a = 1\n    b = 2\nc = 3\n",
     "a = 1\n    b = 2", "indent"},
    {"block: a block opened below the cursor closes", "def f():", "", SRV_MODE_AUTO,
     "\n    return 1\n\ndef g():\n    pass\n", "\n    return 1", "indent"},
    {"block: a closing bracket is kept", "int f() {", "", SRV_MODE_AUTO, "\n    return 1;\n}\nint g(void);\n",
     "\n    return 1;\n}", "indent"},
    {"block: 'end' closes a Lua block", "function f()", "", SRV_MODE_AUTO, "\n  return 1\nend\nlocal x\n",
     "\n  return 1\nend", "indent"},
    {"block: repeating the suffix stops", "    x = 1\n    ", "\n    return x\n", SRV_MODE_AUTO,
     "y = 2\n    return x\n    more\n", "y = 2", "stop"},
    {"block: blank lines before the stop are dropped", "def f():\n    ", "", SRV_MODE_AUTO, "a\n\n\nb\n", "a", "indent"},
    {"block: trailing blank lines dropped at the end", "def f():\n    ", "", SRV_MODE_AUTO, "a\n    b\n\n", "a\n    b", NULL},
    {"block: a closer repeating the suffix is not doubled", "int f() {", "\n}\n", SRV_MODE_AUTO, "\n    return 1;\n}\n",
     "\n    return 1;", "stop"},
    {"block: a line repeating the one before it stops (a model looping)", "def f(items):\n    item = items[0]\n    item.qu",
     "", SRV_MODE_AUTO, "antity = 1\n    item = x\n    item = x\n    item = x\n", "antity = 1\n    item = x", "stop"},
    {"block: the first line below repeating the whole cursor line stops", "def f():\n    a = ", "", SRV_MODE_AUTO,
     "1\n    a = 1\n", "1", "stop"},
    {"block: a repeat after blank lines stops, the blank lines dropped", "def f():\n    ", "", SRV_MODE_AUTO,
     "a = 1\n\n    a = 1\n", "a = 1", "stop"},
    {"block: a line that only starts like the one before goes on", "def f():\n    ", "", SRV_MODE_AUTO,
     "x = 1\n    x = 12\n", "x = 1\n    x = 12", NULL},
    {"block: the same line at another indentation goes on", "if a:\n    ", "", SRV_MODE_AUTO,
     "if b:\n        if b:\n", "if b:\n        if b:", NULL},
    {"block: closing lines may repeat", "{\n", "", SRV_MODE_AUTO, "}\n}\n", "}\n}", NULL},
    {"line: a loop inside the line ends it (reason repeat) after at most two periods", "    y = f(", "\n", SRV_MODE_AUTO,
     "a, out, out, out, out, out, out, out)", "a, out, out", "repeat"},
    {"line: three periods are not a loop", "def f(t: Tuple[", "\n", SRV_MODE_AUTO, "int, int, int]):\n",
     "int, int, int]):", NULL},
    {"line: periods without a letter are not a loop", "zeros = [", "\n", SRV_MODE_AUTO, "0, 0, 0, 0, 0, 0, 0]\n",
     "0, 0, 0, 0, 0, 0, 0]", NULL},
    {"block: a loop in a line below the cursor", "def f():\n    ", "", SRV_MODE_AUTO,
     "a = 1\n    print('John', 'John', 'John', 'John', 'John', 'John')\n", "a = 1\n    print('John', 'John',",
     "repeat"},
    {"block: tabs count to the tab stop", "\tif (x) {\n\t", "", SRV_MODE_AUTO, "y();\n        z();\nw();\n",
     "y();\n        z();", "indent"},
};

static void run_case(const stop_case *c, size_t step, tok_text *out, const char **reason) {
    srv_request r = {.prefix = (char *)c->prefix, .prefix_len = strlen(c->prefix), .suffix = (char *)c->suffix,
                     .suffix_len = strlen(c->suffix), .mode = c->mode, .tabstop = 8};
    srv_stop s;
    srv_stop_init(&s, &r);
    *reason = NULL;
    size_t n = strlen(c->gen);
    for (size_t i = 0; i < n && !*reason; i += step)
        *reason = srv_stop_feed(&s, c->gen + i, n - i < step ? n - i : step, out);
    if (!*reason) srv_stop_finish(&s, out);
    srv_stop_free(&s);
}

static void test_stop(void) {
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const stop_case *c = &cases[k];
        int ok = 1;
        for (size_t step = 1; step <= strlen(c->gen); step++) {
            tok_text out = {0};
            const char *reason;
            run_case(c, step, &out, &reason);
            const char *got = out.s ? out.s : "";
            int same = !strcmp(got, c->want) && (reason == c->reason || (reason && c->reason && !strcmp(reason, c->reason)));
            if (!same && ok) NOTE("step %zu: got '%s' reason %s", step, got, reason ? reason : "-");
            ok &= same;
            tok_text_free(&out);
        }
        CHECK(ok, "%s", c->what);
    }
}

static void fence_case(const char *what, const char *gen, int add_nl, const char *want, int want_closed) {
    int ok = 1;
    size_t n = strlen(gen);
    for (size_t step = 1; step <= n; step++) {
        srv_fence f;
        srv_fence_init(&f, add_nl);
        tok_text out = {0};
        const char *r = NULL;
        for (size_t i = 0; i < n && !r; i += step) r = srv_fence_feed(&f, gen + i, n - i < step ? n - i : step, &out);
        if (!r) srv_fence_finish(&f, &out);
        const char *got = out.s ? out.s : "";
        if ((strcmp(got, want) || !!r != want_closed) && ok) NOTE("step %zu: got '%s'", step, got);
        ok &= !strcmp(got, want) && !!r == want_closed;
        tok_text_free(&out);
        srv_fence_free(&f);
    }
    CHECK(ok, "fence: %s", what);
}

int main(void) {
    test_stop();
    fence_case("fenced reply, final newline restored", "```python\nx = 2\ny = 3\n```", 1, "x = 2\ny = 3\n", 1);
    fence_case("fenced reply, no newline to restore", "```c\nint x;\n```\n", 0, "int x;", 1);
    fence_case("unfenced reply kept whole", "x = 2\n", 1, "x = 2\n", 0);
    fence_case("backticks inside the code are kept", "```md\na ``` b\n``x``\n```", 0, "a ``` b\n``x``", 1);
    fence_case("empty reply", "```lua\n```", 0, "", 1);
    fence_case("reply cut after the opening fence", "```\n", 1, "", 0);
    fence_case("reply cut inside the opening fence", "```py", 1, "", 0);
    CHECK(srv_indent_cols("\t  x", 4, 8) == 10 && srv_indent_cols("    ", 4, 8) == 4 && srv_indent_cols("x", 1, 8) == 0,
          "indent columns: tabs to the tab stop, spaces count one");
    return tap_done();
}
