/* chat_detect.c — which format a `tokenizer.chat_template` text renders,
 * from substrings that only that family's templates contain. The order
 * matters where families share markers: Phi-4 and SmolVLM use <|im_start|>
 * without being ChatML; Llama 2 and Mistral share [INST]. */
#include <string.h>

#include "chat/chat.h"

/* Does t[0, n) contain the NUL-terminated string s? */
static int has(const char *t, size_t n, const char *s) {
    size_t m = strlen(s);
    if (m > n) return 0;
    for (const char *p = t, *end = t + n - m; p <= end; p++) {
        p = memchr(p, s[0], (size_t)(end - p) + 1);
        if (!p) return 0;
        if (!memcmp(p, s, m)) return 1;
    }
    return 0;
}

chat_format chat_detect(const char *t, size_t n) {
    if (!t || !n) return CHAT_PLAIN;
    if (has(t, n, "<|im_start|>"))
        return has(t, n, "<|im_sep|>") || has(t, n, "<end_of_utterance>") ? CHAT_PLAIN : CHAT_CHATML;
    if (has(t, n, "<|start_header_id|>") && has(t, n, "<|end_header_id|>"))
        return has(t, n, "Cutting Knowledge Date") ? CHAT_LLAMA31 : CHAT_LLAMA3;
    if (has(t, n, "<|start_of_role|>") && has(t, n, "<|end_of_role|>")) return CHAT_GRANITE;
    if (has(t, n, "### Instruction:") && has(t, n, "<|EOT|>")) return CHAT_DEEPSEEK_CODER;
    if (has(t, n, "[SYSTEM_PROMPT]")) return has(t, n, "[SYSTEM_PROMPT] ") ? CHAT_MISTRAL_V7 : CHAT_MISTRAL_V7_TEKKEN;
    if (has(t, n, "[INST]")) {
        if (has(t, n, "<<SYS>>")) return CHAT_LLAMA2;
        if (has(t, n, " [/INST]")) return CHAT_MISTRAL_V1;
        return has(t, n, "[INST] ") ? CHAT_MISTRAL_V3 : CHAT_MISTRAL_V3_TEKKEN;
    }
    return CHAT_PLAIN;
}
