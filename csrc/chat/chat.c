/* chat.c — the formats as data and the one renderer that walks them.
 *
 * Each format is a row of fixed strings: what its template writes before and
 * after each role's content, the generation prompt, where the system message
 * goes, and which of those strings' substrings are control tokens. The
 * renderer copies template strings (split into control and text spans) and
 * message contents (always text) into a chat_out. */
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"

/* Where a system message goes. */
enum {
    SYS_TURN,       /* a turn of its own: sys_pre text sys_post */
    SYS_RAW,        /* written as is (sys_default when there is none) */
    SYS_FIRST_USER, /* inside the first user turn: user_pre sys_pre text sys_post content user_post */
    SYS_LAST_USER,  /* the same in the last user turn */
};

typedef struct {
    const char *name;
    const char *bos;           /* the usual BOS text of the family */
    int bos_start;             /* the template writes {{ bos_token }} first */
    int bos_per_user;          /* ... or before every user turn (llama2) */
    int sys;                   /* SYS_* */
    int sys_always;            /* the system turn is written even without a system message */
    const char *sys_default;   /* SYS_RAW: written when there is no system message */
    const char *sys_pre, *sys_post;
    const char *user_pre, *user_post;
    const char *asst_pre, *asst_post;
    const char *gen;           /* the generation prompt */
    int trim;                  /* contents are trimmed (Jinja `| trim`, `.strip()`) */
    const char *special[6];    /* control-token texts inside the strings above */
    const char *stops[4];      /* texts of the tokens that end an assistant turn (at most 3; NULL ends) */
} fmt_def;

static const fmt_def formats[CHAT_NFORMATS] = {
    [CHAT_PLAIN] = {.name = "plain", .sys = SYS_TURN, .sys_pre = "", .sys_post = "\n\n",
                    .user_pre = "### Instruction:\n", .user_post = "\n\n", .asst_pre = "### Response:\n",
                    .asst_post = "\n\n", .gen = "### Response:\n"},
    [CHAT_CHATML] = {.name = "chatml", .sys = SYS_TURN, .sys_pre = "<|im_start|>system\n",
                     .sys_post = "<|im_end|>\n", .user_pre = "<|im_start|>user\n", .user_post = "<|im_end|>\n",
                     .asst_pre = "<|im_start|>assistant\n", .asst_post = "<|im_end|>\n",
                     .gen = "<|im_start|>assistant\n", .special = {"<|im_start|>", "<|im_end|>"},
                     .stops = {"<|im_end|>", "<|endoftext|>"}},
    [CHAT_LLAMA3] = {.name = "llama3", .bos = "<|begin_of_text|>", .bos_start = 1, .sys = SYS_TURN,
                     .sys_pre = "<|start_header_id|>system<|end_header_id|>\n\n", .sys_post = "<|eot_id|>",
                     .user_pre = "<|start_header_id|>user<|end_header_id|>\n\n", .user_post = "<|eot_id|>",
                     .asst_pre = "<|start_header_id|>assistant<|end_header_id|>\n\n", .asst_post = "<|eot_id|>",
                     .gen = "<|start_header_id|>assistant<|end_header_id|>\n\n", .trim = 1,
                     .special = {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
                     .stops = {"<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"}},
    [CHAT_LLAMA31] = {.name = "llama3.1", .bos = "<|begin_of_text|>", .bos_start = 1, .sys = SYS_TURN,
                      .sys_always = 1,
                      .sys_pre = "<|start_header_id|>system<|end_header_id|>\n\n"
                                 "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n",
                      .sys_post = "<|eot_id|>", .user_pre = "<|start_header_id|>user<|end_header_id|>\n\n",
                      .user_post = "<|eot_id|>", .asst_pre = "<|start_header_id|>assistant<|end_header_id|>\n\n",
                      .asst_post = "<|eot_id|>", .gen = "<|start_header_id|>assistant<|end_header_id|>\n\n",
                      .trim = 1, .special = {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
                      .stops = {"<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"}},
    [CHAT_LLAMA2] = {.name = "llama2", .bos = "<s>", .bos_per_user = 1, .sys = SYS_FIRST_USER,
                     .sys_pre = "<<SYS>>\n", .sys_post = "\n<</SYS>>\n\n", .user_pre = "[INST] ",
                     .user_post = " [/INST]", .asst_pre = " ", .asst_post = " </s>", .gen = "", .trim = 1,
                     .special = {"</s>"}, .stops = {"</s>"}},
    [CHAT_GRANITE] = {.name = "granite", .sys = SYS_TURN, .sys_pre = "<|start_of_role|>system<|end_of_role|>",
                      .sys_post = "<|end_of_text|>\n", .user_pre = "<|start_of_role|>user<|end_of_role|>",
                      .user_post = "<|end_of_text|>\n", .asst_pre = "<|start_of_role|>assistant<|end_of_role|>",
                      .asst_post = "<|end_of_text|>\n", .gen = "<|start_of_role|>assistant<|end_of_role|>",
                      .special = {"<|start_of_role|>", "<|end_of_role|>", "<|end_of_text|>"},
                      .stops = {"<|end_of_text|>"}},
    [CHAT_DEEPSEEK_CODER] = {.name = "deepseek-coder", .bos = "<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence"
                                                              "\xef\xbd\x9c>",
                             .bos_start = 1, .sys = SYS_RAW,
                             .sys_default = "You are an AI programming assistant, utilizing the Deepseek Coder model, "
                                            "developed by Deepseek Company, and you only answer questions related to "
                                            "computer science. For politically sensitive questions, security and "
                                            "privacy issues, and other non-computer science questions, you will "
                                            "refuse to answer\n",
                             .sys_pre = "", .sys_post = "", .user_pre = "### Instruction:\n", .user_post = "\n",
                             .asst_pre = "### Response:\n", .asst_post = "\n<|EOT|>\n", .gen = "### Response:\n",
                             .special = {"<|EOT|>"}, .stops = {"<|EOT|>"}},
    [CHAT_MISTRAL_V1] = {.name = "mistral-v1", .bos = "<s>", .bos_start = 1, .sys = SYS_FIRST_USER, .sys_pre = "",
                         .sys_post = "\n\n", .user_pre = "[INST] ", .user_post = " [/INST]", .asst_pre = "",
                         .asst_post = "</s>", .gen = "", .special = {"[INST]", "[/INST]", "</s>"},
                         .stops = {"</s>"}},
    [CHAT_MISTRAL_V3] = {.name = "mistral-v3", .bos = "<s>", .bos_start = 1, .sys = SYS_LAST_USER, .sys_pre = "",
                         .sys_post = "\n\n", .user_pre = "[INST] ", .user_post = "[/INST]", .asst_pre = " ",
                         .asst_post = "</s>", .gen = "", .special = {"[INST]", "[/INST]", "</s>"},
                         .stops = {"</s>"}},
    [CHAT_MISTRAL_V3_TEKKEN] = {.name = "mistral-v3-tekken", .bos = "<s>", .bos_start = 1, .sys = SYS_LAST_USER,
                                .sys_pre = "", .sys_post = "\n\n", .user_pre = "[INST]", .user_post = "[/INST]",
                                .asst_pre = "", .asst_post = "</s>", .gen = "",
                                .special = {"[INST]", "[/INST]", "</s>"}, .stops = {"</s>"}},
    [CHAT_MISTRAL_V7] = {.name = "mistral-v7", .bos = "<s>", .bos_start = 1, .sys = SYS_TURN,
                         .sys_pre = "[SYSTEM_PROMPT] ", .sys_post = "[/SYSTEM_PROMPT]", .user_pre = "[INST] ",
                         .user_post = "[/INST]", .asst_pre = " ", .asst_post = "</s>", .gen = "",
                         .special = {"[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[INST]", "[/INST]", "</s>"},
                         .stops = {"</s>"}},
    [CHAT_MISTRAL_V7_TEKKEN] = {.name = "mistral-v7-tekken", .bos = "<s>", .bos_start = 1, .sys = SYS_TURN,
                                .sys_pre = "[SYSTEM_PROMPT]", .sys_post = "[/SYSTEM_PROMPT]", .user_pre = "[INST]",
                                .user_post = "[/INST]", .asst_pre = "", .asst_post = "</s>", .gen = "",
                                .special = {"[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[INST]", "[/INST]", "</s>"},
                                .stops = {"</s>"}},
};

static const fmt_def *def(chat_format f) { return &formats[(unsigned)f < CHAT_NFORMATS ? f : CHAT_PLAIN]; }

const char *chat_name(chat_format f) { return def(f)->name; }

const char *const *chat_stops(chat_format f) { return def(f)->stops; }

int chat_system_glued(chat_format f) { return def(f)->sys == SYS_RAW; }

void chat_out_free(chat_out *o) {
    free(o->s);
    free(o->span);
    memset(o, 0, sizeof *o);
}

/* Room for n more bytes and the NUL. */
static int reserve(chat_out *o, size_t n) {
    if (o->oom) return -1;
    if (o->n + n + 1 <= o->cap) return 0;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->n + n + 1) cap *= 2;
    char *p = realloc(o->s, cap);
    if (!p) { o->oom = 1; return -1; }
    o->s = p;
    o->cap = cap;
    return 0;
}

/* Appends s[0, n) as one span (merged into the previous text span). */
static void put(chat_out *o, const char *s, size_t n, int special) {
    if (!n || reserve(o, n)) return;
    if (!special && o->nspan && !o->span[o->nspan - 1].special) o->span[o->nspan - 1].len += n;
    else {
        if (o->nspan == o->capspan) {
            size_t cap = o->capspan ? 2 * o->capspan : 16;
            chat_span *p = realloc(o->span, cap * sizeof *p);
            if (!p) { o->oom = 1; return; }
            o->span = p;
            o->capspan = cap;
        }
        o->span[o->nspan++] = (chat_span){o->n, n, special};
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = 0;
}

/* A template string: its control-token substrings become control spans. */
static void put_tmpl(chat_out *o, const fmt_def *d, const char *s) {
    size_t n = strlen(s), text = 0;
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (int j = 0; j < 6 && d->special[j] && !k; j++) {
            size_t l = strlen(d->special[j]);
            if (l <= n - i && !memcmp(s + i, d->special[j], l)) k = l;
        }
        if (!k) { i++; continue; }
        put(o, s + text, i - text, 0);
        put(o, s + i, k, 1);
        i += k;
        text = i;
    }
    put(o, s + text, n - text, 0);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* A message content (always text), trimmed when the format trims. */
static void put_content(chat_out *o, const fmt_def *d, const chat_msg *m) {
    const char *s = m->text ? m->text : "";
    size_t a = 0, b = m->text ? m->len : 0;
    if (d->trim) {
        while (a < b && is_space(s[a])) a++;
        while (b > a && is_space(s[b - 1])) b--;
    }
    put(o, s + a, b - a, 0);
}

int chat_render(chat_format f, const chat_msg *msgs, int n, int add_generation_prompt, const char *bos,
                chat_out *out) {
    const fmt_def *d = def(f);
    const char *b = bos && *bos ? bos : d->bos ? d->bos : "";
    const chat_msg *sys = n > 0 && msgs[0].role == CHAT_SYSTEM ? &msgs[0] : NULL;
    int first = sys ? 1 : 0, carrier = -1; /* the user turn that carries a merged system message */
    for (int i = first; i < n; i++) {
        if (msgs[i].role == CHAT_SYSTEM) return -1; /* only first */
        if (msgs[i].role == CHAT_USER && (carrier < 0 || d->sys == SYS_LAST_USER)) carrier = i;
    }
    if (d->bos_start) put(out, b, strlen(b), 1);
    if (d->sys == SYS_TURN && (sys || d->sys_always)) {
        put_tmpl(out, d, d->sys_pre);
        if (sys) put_content(out, d, sys);
        put_tmpl(out, d, d->sys_post);
    } else if (d->sys == SYS_RAW) {
        if (sys) put(out, sys->text, sys->len, 0);
        else put_tmpl(out, d, d->sys_default);
    }
    for (int i = first; i < n; i++) {
        if (msgs[i].role == CHAT_USER) {
            if (d->bos_per_user) put(out, b, strlen(b), 1);
            put_tmpl(out, d, d->user_pre);
            if (sys && i == carrier && (d->sys == SYS_FIRST_USER || d->sys == SYS_LAST_USER)) {
                put_tmpl(out, d, d->sys_pre);
                put_content(out, d, sys);
                put_tmpl(out, d, d->sys_post);
            }
            put_content(out, d, &msgs[i]);
            put_tmpl(out, d, d->user_post);
        } else {
            put_tmpl(out, d, d->asst_pre);
            put_content(out, d, &msgs[i]);
            put_tmpl(out, d, d->asst_post);
        }
    }
    if (add_generation_prompt) put_tmpl(out, d, d->gen);
    if (!reserve(out, 0)) out->s[out->n] = 0; /* an empty prompt is still a string */
    return out->oom ? -1 : 0;
}
