/* prompt_chat.c — the refactor prompt: a system message and a user message
 * rendered in the model's chat format (csrc/chat/), then tokenized with
 * control tokens placed by the server and everything else as text. For
 * flint-coder this is byte for byte the ChatML layout of
 * tools/train/FORMATS.md. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "serve/internal.h"

/* The system prompt flint-coder was trained with (tools/train/FORMATS.md). */
#define SYSTEM_TEXT "You rewrite code as instructed. Reply with the rewritten code only."
/* Marks where the selection sits inside the context lines. */
#define CONTEXT_HOLE "[the code to rewrite]"

int srv_chat_tokens(const srv_model *m, const chat_out *c, tok_ids *out) {
    size_t run = 0, end = 0; /* the pending text run c->s[run, end) */
    for (size_t i = 0; i <= c->nspan; i++) {
        int32_t id = -1;
        if (i < c->nspan && c->span[i].special) {
            id = tok_find(m->vocab, c->s + c->span[i].off, c->span[i].len);
            if (id >= 0 && !(tok_token_attr(m->vocab, id) & (TOK_ATTR_CONTROL | TOK_ATTR_USER_DEFINED))) id = -1;
        }
        if (i < c->nspan && id < 0) { /* text, or a control text the vocabulary lacks */
            if (run == end) run = c->span[i].off;
            end = c->span[i].off + c->span[i].len;
            continue;
        }
        if (end > run && tok_tokenize(m->vocab, c->s + run, end - run, 0, out)) return -1;
        run = end = 0;
        if (id >= 0 && tok_ids_push(out, id)) return -1;
    }
    return 0;
}

/* flint-coder was trained without context; other models get it. */
static int wants_context(const srv_model *m) { return !(m->fim.family && !strcmp(m->fim.family, "flint-coder")); }

static int append(tok_text *t, const char *s, size_t n) { return tok_text_append(t, s, n); }
static int append_s(tok_text *t, const char *s) { return tok_text_append(t, s, strlen(s)); }

/* "Context ...\n```ft\n{before}\n[hole]\n{after}\n```\n\n", the lines
 * trimmed to T tokens (two thirds before the selection). Empty when there
 * is no context or no room. -1 on OOM. */
static int context_block(const srv_model *m, const scan_rules *rules, const srv_request *r, int T, tok_text *out) {
    if (T < 16 || (!r->before_len && !r->after_len)) return 0;
    long bs = srv_fit_tail(m, r->before, r->before_len, T * 2 / 3);
    long ae = srv_fit_head(m, r->after, r->after_len, T / 3);
    if (bs < 0 || ae < 0) return -1;
    size_t bl, al;
    char *b = srv_masked(rules, r->filetype, r->before + bs, r->before_len - (size_t)bs, &bl);
    char *a = srv_masked(rules, r->filetype, r->after, (size_t)ae, &al);
    const char *ft = r->filetype ? r->filetype : "";
    int rc = !b || !a;
    if (!rc && (bl || al)) {
        rc = append_s(out, "The code comes from a larger file. Lines around it, for reference only:\n```") ||
             append_s(out, ft) || append_s(out, "\n") || append(out, b, bl) ||
             (bl && b[bl - 1] != '\n' && append_s(out, "\n")) || append_s(out, CONTEXT_HOLE "\n") ||
             append(out, a, al) || (al && a[al - 1] != '\n' && append_s(out, "\n")) || append_s(out, "```\n\n");
    }
    free(b);
    free(a);
    return rc ? -1 : 0;
}

/* Renders the prompt with the given context block and tokenizes it into out
 * (cleared first). Returns 0 or -1 (OOM). */
static int build(const srv_model *m, const srv_request *r, const tok_text *ctx, const char *code, size_t code_len,
                 tok_ids *out) {
    const char *ft = r->filetype ? r->filetype : "";
    int glued = chat_system_glued(m->chat);
    tok_text user = {0};
    int rc = (glued && append_s(&user, SYSTEM_TEXT "\n\n")) || (ctx->n && append(&user, ctx->s, ctx->n)) ||
             append_s(&user, r->instruction) || append_s(&user, "\n```") || append_s(&user, ft) ||
             append_s(&user, "\n") || append(&user, code, code_len) || append_s(&user, "\n```");
    chat_msg msgs[2] = {{CHAT_SYSTEM, SYSTEM_TEXT, sizeof SYSTEM_TEXT - 1}, {CHAT_USER, user.s, user.n}};
    const tok_specials *sp = tok_special_ids(m->vocab);
    const char *bos = sp->bos >= 0 ? tok_token_text(m->vocab, sp->bos, NULL) : NULL;
    chat_out c = {0};
    out->n = 0;
    if (!rc) rc = chat_render(m->chat, glued ? msgs + 1 : msgs, glued ? 1 : 2, 1, bos, &c);
    if (!rc && m->chat == CHAT_PLAIN && tok_add_bos(m->vocab) && sp->bos >= 0) rc = tok_ids_push(out, sp->bos);
    if (!rc) rc = srv_chat_tokens(m, &c, out);
    chat_out_free(&c);
    tok_text_free(&user);
    return rc ? -1 : 0;
}

int srv_prompt_chat(const srv_model *m, const scan_rules *rules, const srv_request *r, int budget, tok_ids *out,
                    char *err, size_t errlen) {
    size_t code_len = r->code_len;
    if (code_len && r->code[code_len - 1] == '\n') code_len--; /* restored after the reply */
    size_t ml;
    char *code = srv_masked(rules, r->filetype, r->code, code_len, &ml);
    tok_text ctx = {0};
    int rc = code ? build(m, r, &ctx, code, ml, out) : -1;
    int n0 = (int)out->n;
    if (!rc && n0 > budget) {
        free(code);
        return fl_seterr(err, errlen, "the code is too long: the prompt has %d tokens, the model's context leaves %d",
                         n0, budget);
    }
    if (!rc && wants_context(m)) {
        int room = budget - n0 < budget / 4 ? budget - n0 : budget / 4;
        rc = context_block(m, rules, r, room - 32, &ctx);
        if (!rc && ctx.n) {
            rc = build(m, r, &ctx, code, ml, out);
            if (!rc && (int)out->n > budget) { /* masking grew it: go without */
                ctx.n = 0;
                rc = build(m, r, &ctx, code, ml, out);
            }
        }
    }
    free(code);
    tok_text_free(&ctx);
    return rc ? fl_seterr(err, errlen, "out of memory while building the prompt") : 0;
}
