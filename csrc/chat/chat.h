/* chat.h — chat prompt formats, rendered natively (module prefix chat_).
 *
 * A model's `tokenizer.chat_template` is a Jinja program. flint does not run
 * Jinja: chat_detect() recognises the common templates by distinctive
 * substrings of their text (never by model name) and chat_render() writes
 * the same bytes those templates produce for a list of system/user/assistant
 * messages, from a table of the format's fixed strings. Anything not
 * recognised gets a plain-prompt fallback.
 *
 * Formats (the sources of each are cited in tests/fixtures/chat/README.md):
 *   chatml            <|im_start|>role\n...<|im_end|>\n        (Qwen, flint-coder)
 *   llama3            <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
 *   llama3.1          llama3 with the 3.1+ system preamble (knowledge/today date)
 *   llama2            [INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST]   (CodeLlama)
 *   granite           <|start_of_role|>role<|end_of_role|>...<|end_of_text|>\n
 *   deepseek-coder    ### Instruction:\n...\n### Response:\n ... <|EOT|>
 *   mistral-v1        [INST] ... [/INST]          (system before the first user message)
 *   mistral-v3        [INST] ...[/INST]           (system before the last user message)
 *   mistral-v3-tekken [INST]...[/INST]
 *   mistral-v7        [SYSTEM_PROMPT] ...[/SYSTEM_PROMPT][INST] ...[/INST]
 *   mistral-v7-tekken [SYSTEM_PROMPT]...[/SYSTEM_PROMPT][INST]...[/INST]
 *   plain             system\n\n### Instruction:\n...\n\n### Response:\n  (fallback)
 *
 * Output is the prompt's bytes plus spans that mark which bytes are a
 * control token's text written by the template (<|im_start|>, [INST], the
 * BOS, ...) and which are text. Message contents are always text: a message
 * that contains "<|im_end|>" cannot close its turn. The caller tokenizes
 * text spans as text and maps control spans to token ids (a control text the
 * vocabulary lacks, like Mistral v1's "[INST]", is text there).
 *
 * Contract
 *  - chat_detect never fails: unknown or absent templates give CHAT_PLAIN.
 *  - chat_render returns 0, or -1 when out of memory or when a system
 *    message is not the first message (the output is then unusable but
 *    safe to free).
 *  - All strings are UTF-8; nothing here allocates except chat_out.
 */
#ifndef FLINT_CHAT_H
#define FLINT_CHAT_H

#include <stddef.h>

typedef enum {
    CHAT_PLAIN,
    CHAT_CHATML,
    CHAT_LLAMA3,
    CHAT_LLAMA31,
    CHAT_LLAMA2,
    CHAT_GRANITE,
    CHAT_DEEPSEEK_CODER,
    CHAT_MISTRAL_V1,
    CHAT_MISTRAL_V3,
    CHAT_MISTRAL_V3_TEKKEN,
    CHAT_MISTRAL_V7,
    CHAT_MISTRAL_V7_TEKKEN,
    CHAT_NFORMATS
} chat_format;

typedef enum { CHAT_SYSTEM, CHAT_USER, CHAT_ASSISTANT } chat_role;

typedef struct {
    chat_role role;
    const char *text;
    size_t len;
} chat_msg;

/* s[off, off + len) of the rendered prompt; special: a control token's text. */
typedef struct {
    size_t off, len;
    int special;
} chat_span;

/* The rendered prompt (zero-initialise; chat_out_free when done). Adjacent
 * text spans are merged; s is NUL-terminated. */
typedef struct {
    char *s;
    size_t n, cap;
    chat_span *span;
    size_t nspan, capspan;
    int oom;
} chat_out;

/* The format of a template text (NULL or len 0: CHAT_PLAIN). */
chat_format chat_detect(const char *tmpl, size_t len);

/* The format's name ("chatml", "llama3", ...; see the top). */
const char *chat_name(chat_format f);

/* Renders msgs as the format's template does, followed by the generation
 * prompt when add_generation_prompt. A system message must come first if
 * there is one. bos: the vocabulary's BOS text for templates that write
 * {{ bos_token }} (NULL or "": the format's usual one). Returns 0 or -1. */
int chat_render(chat_format f, const chat_msg *msgs, int n, int add_generation_prompt, const char *bos,
                chat_out *out);

void chat_out_free(chat_out *o);

/* Texts of the tokens that end an assistant turn (NULL-terminated; empty
 * for CHAT_PLAIN, which relies on the vocabulary's end-of-generation ids). */
const char *const *chat_stops(chat_format f);

/* 1 when the template glues a system message to what follows without any
 * separator (deepseek-coder writes it raw before "### Instruction:", and
 * writes its own default system text when there is none): a caller may
 * prefer to put its system text into the user message. 0 otherwise. */
int chat_system_glued(chat_format f);

#endif
