/* prompt.c — prompt injection in context: instructions aimed at the model
 * hidden in comments, docstrings, strings or prose.
 *
 * The context is read line by line. Each line's words (comment markers
 * stripped, lower-cased) are matched against phrase patterns that address
 * the model rather than a human reader:
 *   - overriding instructions: ignore/disregard/forget ... previous/above ...
 *     instructions/prompt/rules; "new/real/updated instructions";
 *   - talking to the model: "dear LLM", "hey model", "if you are an AI",
 *     "note to the assistant", "model instruction";
 *   - prompt extraction: print/reveal ... system/initial prompt or instructions;
 *   - smuggled code: "... the following/subsequent code snippet/block ..."
 *     combined with "your implementation/solution/response/...";
 *   - standing orders: "every time / whenever / when asked ... reply/respond with";
 *   - jailbreak markers: developer mode, do anything now, safe mode off.
 * A hit covers its line and the rest of the comment block it sits in (the
 * following lines with the same comment marker, or the paragraph for plain
 * text; at most BLOCK_MAX_BYTES), which is where smuggled payloads live; the
 * block is left out of the prompt (action redact). Long lines are read in
 * segments (SEG_BYTES), each matched together with the one before it; a hit
 * starts at its segment. A stream holds back the unfinished segment and,
 * once a segment hit, the whole block until it ends.
 */
#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"

const scan_rule_meta scan_prompt_rules[] = {
    {"prompt-injection", SCAN_KIND_PROMPT, SCAN_SEV_HIGH, SCAN_ACT_REDACT,
     "instructions aimed at the AI model inside the context (left out of the prompt)"},
};
const size_t scan_prompt_nrules = sizeof scan_prompt_rules / sizeof scan_prompt_rules[0];

/* Lines are read in segments of at most SEG_BYTES (cut after a blank when
 * one is in the second half), so the unread tail a stream holds back stays
 * under SCAN_HOLD_MAX and a hit never starts before what was emitted. */
#define SEG_BYTES (SCAN_HOLD_MAX - 20)
#define BLOCK_MAX_BYTES 65536   /* a hit's block ends here at the latest */
#define MAXW 160

enum { MK_PLAIN, MK_HASH, MK_SLASH, MK_STAR, MK_DASH, MK_HTML, MK_SEMI, MK_PCT };

struct scan_prompt {
    size_t pos;          /* start of the line not yet analysed */
    int in_block;        /* a hit is open, extending over its block */
    int block_marker;
    size_t hit_start;    /* start of the line that hit */
    int in_star;         /* inside a C block comment */
    int midline;         /* the last segment ended inside its line */
    int line_marker;     /* comment marker of the line being read */
    char prev[SEG_BYTES];/* that segment's text: phrases may straddle the cut */
    size_t nprev;
};

scan_prompt *scan_prompt_new(const char *filetype) {
    return calloc(1, sizeof(scan_prompt));
}

void scan_prompt_free(scan_prompt *a) {
    if (a) sodium_memzero(a, sizeof *a);
    free(a);
}

/* ---- words ---------------------------------------------------------------- */

typedef struct {
    char w[MAXW][24];
    size_t end[MAXW];    /* offset just past each word in the line */
    int n;
} words;

/* Word bytes: ASCII letters (lower-cased) and digits; '\'' is 1 (dropped
 * inside a word), anything else 0. Filled once by gtab_build(). */
static uint8_t wchar[256];

static int alnum(uint8_t c) { return wchar[c] > 1; }

/* Splits the line into lower-cased ASCII words (apostrophes dropped:
 * "don't" -> "dont"; words cut at 23 bytes). */
static void split_words(const char *s, size_t n, words *ws) {
    ws->n = 0;
    size_t i = 0;
    while (i < n && ws->n < MAXW) {
        while (i < n && !alnum((uint8_t)s[i])) i++;
        size_t k = 0;
        char *w = ws->w[ws->n];
        while (i < n && (alnum((uint8_t)s[i]) || s[i] == '\'')) {
            if (k < 23 && s[i] != '\'') w[k++] = (char)wchar[(uint8_t)s[i]];
            i++;
        }
        if (k) { w[k] = 0; ws->end[ws->n++] = i; }
    }
}

static int in(const char *w, const char *const *set) {
    for (int i = 0; set[i]; i++)
        if (!strcmp(w, set[i])) return 1;
    return 0;
}

/* Index of the first word in set at or after `from` within `span` words, or -1. */
static int find(const words *ws, int from, int span, const char *const *set) {
    for (int i = from; i < ws->n && i < from + span; i++)
        if (in(ws->w[i], set)) return i;
    return -1;
}

static int has_seq(const words *ws, const char *a, const char *b) {
    for (int i = 0; i + 1 < ws->n; i++)
        if (!strcmp(ws->w[i], a) && !strcmp(ws->w[i + 1], b)) return 1;
    return 0;
}

/* ---- patterns --------------------------------------------------------------- */

static const char *const override_verbs[] = {"ignore", "disregard", "forget", "override", "bypass",
                                             "skip", "drop", "discard", "abandon", "neglect", NULL};
static const char *const prior[] = {"previous", "prior", "above", "earlier", "preceding", "all", "any",
                                    "your", "these", "those", "system", "original", "initial",
                                    "former", "old", "existing", "other", NULL};
static const char *const directives[] = {"instructions", "instruction", "directions", "direction",
                                         "prompt", "prompts", "prompting", "rules", "guidelines", "context",
                                         "commands", "messages", "guidance", "constraints",
                                         "policies", "restrictions", "orders", "programming", NULL};
static const char *const model_words[] = {"ai", "llm", "llms", "model", "models", "assistant",
                                          "assistants", "copilot", "chatgpt", "gpt", "claude", "gemini",
                                          "chatbot", "agent", "agents", "bot", "codex", "engine",
                                          "engines", "autocompletion", "autocomplete", NULL};
static const char *const vocative[] = {"dear", "hey", "attention", "attn", NULL};
/* Words that only name an AI (not "engine", "agent", "bot", "models" as a verb). */
static const char *const strong_models[] = {"ai", "llm", "llms", "model", "assistant", "copilot",
                                            "chatgpt", "gpt", "claude", "gemini", "chatbot", "codex", NULL};
/* Role nouns a vocative may end with: "AI helper:", "coding agent:". */
static const char *const roles[] = {"helper", "agent", "assistant", "reviewer", "bot", "engine",
                                    "tool", "model", "models", "agents", NULL};
static const char *const reveal_verbs[] = {"print", "reveal", "output", "show", "repeat", "display",
                                           "leak", "dump", "disclose", "tell", "return", "echo", "list",
                                           "write", "reply", "respond", NULL};
static const char *const secret_prompts[] = {"prompt", "instructions", "exemplars", NULL};
static const char *const targets[] = {"implementation", "solution", "response", "answer", "code",
                                      "algorithm", "output", "elucidation", "script", "program",
                                      "function", "approach", "work", "reply", "project", "module",
                                      "codebase", "application", "app", "program", NULL};
static const char *const placement[] = {"following", "subsequent", "below", "attached", "provided",
                                        NULL};
static const char *const fragments[] = {"snippet", "block", "excerpt", "section", "fragment", "code",
                                        "segment", "piece", "sample", NULL};
static const char *const standing[] = {"every", "whenever", "always", "anytime", NULL};
static const char *const respond[] = {"reply", "respond", "answer", "recommend", "suggest", "insert",
                                      "add", "include", "say", "output", "print", NULL};

static int overriding(const words *ws) {
    for (int i = 0; i < ws->n; i++) {
        if (!in(ws->w[i], override_verbs)) continue;
        int p = find(ws, i + 1, 4, prior);
        int d = find(ws, p >= 0 ? p + 1 : i + 1, 4, directives);
        if (p >= 0 && d >= 0) return 1;
    }
    return 0;
}

static int addressing_model(const words *ws) {
    static const char *const ai_kinds[] = {"reviewer", "review", "language", "coding", "completion",
                                           "code", "ai", "generative", NULL};
    for (int i = 0; i < ws->n; i++) {
        if (!in(ws->w[i], model_words)) continue;
        /* a word that names an AI ("model" only with a qualifier: not "the cost model") */
        int ai = in(ws->w[i], strong_models) && (strcmp(ws->w[i], "model") || (i > 0 && in(ws->w[i - 1], ai_kinds)));
        /* "note to (the) (code completion) model", "instructions for AI agents",
         * "to any language model" */
        for (int j = i - 1; j >= 1 && j >= i - 4; j--) {
            int prep = !strcmp(ws->w[j], "to") || !strcmp(ws->w[j], "for");
            if (prep && (!strcmp(ws->w[j - 1], "note") || !strcmp(ws->w[j - 1], "message") ||
                         !strcmp(ws->w[j - 1], "instructions") || !strcmp(ws->w[j - 1], "instruction") ||
                         !strcmp(ws->w[j - 1], "important")))
                return 1;
            if (!strcmp(ws->w[j - 1], "to") && (!strcmp(ws->w[j], "any") || !strcmp(ws->w[j], "all") ||
                                                 !strcmp(ws->w[j], "every")))
                return 1;
        }
        /* "the reviewer model must approve" (not "the cost model should") */
        if (ai && i + 1 < ws->n &&
            (!strcmp(ws->w[i + 1], "must") || !strcmp(ws->w[i + 1], "should") || !strcmp(ws->w[i + 1], "shall")))
            return 1;
        /* "dear LLM", "hey model", "note to the AI" */
        if (i >= 1 && in(ws->w[i - 1], vocative)) return 1;
        /* "if you are an AI", "you are an AI reading this" */
        if (i >= 3 && !strcmp(ws->w[i - 3], "you") && !strcmp(ws->w[i - 2], "are") &&
            (!strcmp(ws->w[i - 1], "an") || !strcmp(ws->w[i - 1], "a")))
            return 1;
        /* "model instruction", "AI instructions" */
        if (ai && i + 1 < ws->n && (!strcmp(ws->w[i + 1], "instruction") || !strcmp(ws->w[i + 1], "instructions")))
            return 1;
        /* "any AI/assistant reading this" */
        if (i + 2 < ws->n && !strcmp(ws->w[i + 1], "reading") && !strcmp(ws->w[i + 2], "this")) return 1;
        if (i >= 1 && (!strcmp(ws->w[i - 1], "language") || !strcmp(ws->w[i - 1], "coding")) &&
            (!strcmp(ws->w[i], "model") || !strcmp(ws->w[i], "assistant")) && i >= 2 &&
            (!strcmp(ws->w[i - 2], "an") || !strcmp(ws->w[i - 2], "a") || !strcmp(ws->w[i - 2], "dear")))
            return 1;
    }
    static const char *const become[] = {"a", "an", "dan", "free", "unrestricted", "jailbroken", "my",
                                         "evil", "going", "able", "allowed", NULL};
    for (int i = 0; i + 3 < ws->n; i++)
        if (!strcmp(ws->w[i], "you") && !strcmp(ws->w[i + 1], "are") && !strcmp(ws->w[i + 2], "now") &&
            in(ws->w[i + 3], become))
            return 1;
    return 0;
}

static int extracting(const words *ws) {
    for (int i = 0; i < ws->n; i++) {
        if (!in(ws->w[i], reveal_verbs)) continue;
        for (int j = i + 1; j < ws->n && j < i + 8; j++)
            if (in(ws->w[j], secret_prompts)) {
                for (int k = i + 1; k < j; k++)
                    if (!strcmp(ws->w[k], "system") || !strcmp(ws->w[k], "initial") ||
                        !strcmp(ws->w[k], "your") || !strcmp(ws->w[k], "above") ||
                        !strcmp(ws->w[k], "full") || !strcmp(ws->w[k], "hidden") ||
                        !strcmp(ws->w[k], "original"))
                        return 1;
            }
    }
    return 0;
}

/* Verbs that ask to merge foreign code into the answer. */
static const char *const embed_verbs[] = {"integrate", "incorporate", "embed", "embedding", "include",
                                          "utilize", "employ", "leverage", "execute", "insert", "inject",
                                          "infuse", "blend", "weave", "interweave", "meld", "merge",
                                          "absorb", "introduce", "fuse", "assimilate", "incorporating",
                                          "integrating", "including", "run", NULL};

static int smuggling_code(const words *ws) {
    int yours = 0, placed = -1, embed = 0;
    for (int i = 0; i + 1 < ws->n; i++)
        if (!strcmp(ws->w[i], "your") && in(ws->w[i + 1], targets)) yours = 1;
    for (int i = 0; i < ws->n && placed < 0; i++)
        if (in(ws->w[i], placement) && find(ws, i + 1, 3, fragments) >= 0) placed = i;
    if (placed < 0) return 0;
    for (int i = placed - 1; i >= 0 && i >= placed - 4; i--)
        if (in(ws->w[i], embed_verbs)) embed = 1;
    return yours || embed;
}

static const char *const task[] = {"task", "goal", "job", "mission", "objective", "purpose", "role", NULL};
static const char *const conceal[] = {"tell", "mention", "reveal", "inform", "warn", "alert",
                                      "notify", "report", "flag", "disclose", "show", "repeat", NULL};

/* "your new task", "do not tell the user", "instructions you were given" */
static int redirecting(const words *ws) {
    static const char *const fresh[] = {"new", "real", "actual", "next", "true", "only", NULL};
    static const char *const nots[] = {"not", "dont", "never", "without", NULL};
    static const char *const whom[] = {"user", "users", "anyone", "human", "developer", "this",
                                       "reviewer", NULL};
    for (int i = 0; i + 2 < ws->n; i++) {
        if (!strcmp(ws->w[i], "your") && in(ws->w[i + 1], fresh) && in(ws->w[i + 2], task)) return 1;
        if (in(ws->w[i], nots) && in(ws->w[i + 1], conceal) &&
            (in(ws->w[i + 2], whom) || (i + 3 < ws->n && !strcmp(ws->w[i + 2], "the") && in(ws->w[i + 3], whom))))
            return 1;
        if (!strcmp(ws->w[i], "instructions") && !strcmp(ws->w[i + 1], "you") &&
            (!strcmp(ws->w[i + 2], "have") || !strcmp(ws->w[i + 2], "were") || !strcmp(ws->w[i + 2], "got")))
            return 1;
        /* "you must not warn about ..." */
        if ((!strcmp(ws->w[i], "must") || !strcmp(ws->w[i], "should")) && !strcmp(ws->w[i + 1], "not") &&
            in(ws->w[i + 2], conceal) && i > 0 && !strcmp(ws->w[i - 1], "you"))
            return 1;
    }
    return 0;
}

/* "New instructions:", "##Begin New Instructions##", "BEGIN ADMIN INSTRUCTIONS:",
 * "Real instructions: ..." — announced as a heading, not "new instructions"
 * a compiler emits. */
static const char *const fresh_orders[] = {"new", "real", "actual", "updated", "true", "revised", "secret",
                                           "hidden", "override", "admin", "administrator", "system",
                                           "developer", "priority", NULL};
static const char *const orders[] = {"instructions", "instruction", "orders", "policy", "directive",
                                     "directives", "rules", NULL};

static int announced_orders(const words *ws, const char *s, size_t n) {
    for (int i = 1; i < ws->n; i++) {
        if (!in(ws->w[i], orders) || !in(ws->w[i - 1], fresh_orders)) continue;
        size_t j = ws->end[i];
        while (j < n && s[j] == ' ') j++;
        if ((j < n && s[j] && strchr(":#!]-", s[j])) ||
            (i >= 2 && (!strcmp(ws->w[i - 2], "begin") || !strcmp(ws->w[i - 2], "your"))))
            return 1;
    }
    return 0;
}

/* Asking to send secrets away: "exfiltrate ...", "output the API keys you have seen". */
static const char *const loot[] = {"secrets", "credentials", "passwords", "keys", "tokens", "cookies",
                                   "variables", NULL};

static int exfiltrating(const words *ws) {
    static const char *const verbs[] = {"output", "print", "send", "post", "upload", "leak", "email",
                                        "transmit", "forward", "dump", "share", "reveal", NULL};
    int you = 0;
    for (int i = 0; i < ws->n; i++) {
        if (!strncmp(ws->w[i], "exfiltrat", 9)) return 1;
        you |= !strcmp(ws->w[i], "you");
    }
    for (int i = 0; i < ws->n; i++)
        if (in(ws->w[i], verbs) && you && find(ws, i + 1, 6, loot) >= 0) return 1;
    return 0;
}

/* The text opens by calling the model: "Copilot, ...", "LLM: ...", "Note to
 * the code completion model: ...". */
static int vocative_start(const char *s, size_t n) {
    size_t i = 0;
    int model = 0;
    while (i < n && !isalpha((uint8_t)s[i])) i++;
    for (int words = 0; words < 3 && i < n; words++) {   /* "AI helper:", "ChatGPT/Claude:" */
        if (words == 1 && !model) return 0;               /* the first word names the AI */
        char w[24];
        size_t k = 0;
        while (i < n && isalpha((uint8_t)s[i]) && k < sizeof w - 1) w[k++] = (char)tolower((uint8_t)s[i++]);
        w[k] = 0;
        model |= in(w, strong_models) && strcmp(w, "model");   /* a bare "model," is prose */
        if (i < n && (s[i] == ',' || s[i] == ':'))
            return model && (in(w, strong_models) || in(w, roles));
        if (i < n && (s[i] == ' ' || s[i] == '/')) { i++; continue; }
        break;
    }
    return 0;
}

static int standing_order(const words *ws) {
    int when = 0, asker = 0;
    for (int i = 0; i < ws->n; i++)
        asker |= !strcmp(ws->w[i], "user") || !strcmp(ws->w[i], "asked") || !strcmp(ws->w[i], "asks");
    if (!asker) return 0;
    for (int i = 0; i < ws->n; i++) {
        if (in(ws->w[i], standing) && i + 2 < ws->n &&
            (!strcmp(ws->w[i + 1], "time") || !strcmp(ws->w[i + 1], "user") || !strcmp(ws->w[i + 1], "someone")))
            when = 1;
        if (!strcmp(ws->w[i], "whenever") || (!strcmp(ws->w[i], "when") && i + 1 < ws->n &&
                                                !strcmp(ws->w[i + 1], "asked")))
            when = 1;
    }
    if (!when) return 0;
    for (int i = 0; i < ws->n; i++)
        if (in(ws->w[i], respond)) return 1;
    return 0;
}

static int jailbreak(const words *ws) {
    return has_seq(ws, "developer", "mode") || has_seq(ws, "jailbreak", "mode") ||
           has_seq(ws, "stop", "everything") ||
           (has_seq(ws, "do", "anything") && has_seq(ws, "anything", "now")) || (has_seq(ws, "safe", "mode") && has_seq(ws, "mode", "off")) ||
           has_seq(ws, "dan", "mode") || has_seq(ws, "without", "restrictions");
}

/* ---- vocabulary gate -------------------------------------------------------
 * Every pattern needs certain words; a line is matched only when its words
 * could satisfy one. Word -> bit set of the word classes below, hashed once. */
enum {
    G_OVR = 1 << 0, G_DIR = 1 << 1, G_MODEL = 1 << 2, G_NOW = 1 << 3, G_REVEAL = 1 << 4,
    G_SECP = 1 << 5, G_PLACE = 1 << 6, G_FRAG = 1 << 7, G_ASKER = 1 << 8, G_STAND = 1 << 9,
    G_JB = 1 << 10, G_TASK = 1 << 11, G_CONCEAL = 1 << 12, G_INSTR = 1 << 13, G_LOOT = 1 << 14,
    G_ORDERS = 1 << 15, G_EXFIL = 1 << 16, G_YOU = 1 << 17, G_YOUR = 1 << 18, G_NOTS = 1 << 19,
    G_JB1 = 1 << 20, G_FRESHO = 1 << 21,
};
#define GSLOTS 1024
static struct { const char *w; uint32_t h, bits; } gtab[GSLOTS];
static pthread_once_t gtab_once = PTHREAD_ONCE_INIT;

static uint32_t ghash_step(uint32_t h, uint8_t c) { return (h << 5 | h >> 27) ^ c; }

static uint32_t ghash(const char *s) {
    uint32_t h = 0;
    for (; *s; s++) h = ghash_step(h, (uint8_t)*s);
    return h;
}

static void gtab_add(const char *const *list, uint32_t bit) {
    for (int i = 0; list[i]; i++)
        for (uint32_t h = ghash(list[i]), k = h % GSLOTS;; k = (k + 1) % GSLOTS) {
            if (!gtab[k].w) { gtab[k].w = list[i]; gtab[k].h = h; gtab[k].bits = bit; break; }
            if (!strcmp(gtab[k].w, list[i])) { gtab[k].bits |= bit; break; }
        }
}

static void gtab_build(void) {
    for (int c = 0; c < 256; c++)
        wchar[c] = c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? (uint8_t)c
                 : c == '\'' ? 1 : 0;
    static const char *const now[] = {"now", NULL}, *const askers[] = {"user", "asked", "asks", NULL};
    static const char *const when[] = {"when", NULL}, *const instr[] = {"instructions", NULL};
    static const char *const jb[] = {"mode", "everything", "anything", "restrictions", NULL};
    static const char *const jb1[] = {"developer", "jailbreak", "dan", "safe", "stop", "do", "without", NULL};
    static const char *const you[] = {"you", NULL}, *const your[] = {"your", NULL};
    static const char *const nots[] = {"not", "dont", "never", "without", NULL};
    gtab_add(override_verbs, G_OVR);
    gtab_add(directives, G_DIR);
    gtab_add(model_words, G_MODEL);
    gtab_add(now, G_NOW);
    gtab_add(reveal_verbs, G_REVEAL);
    gtab_add(secret_prompts, G_SECP);
    gtab_add(placement, G_PLACE);
    gtab_add(fragments, G_FRAG);
    gtab_add(askers, G_ASKER);
    gtab_add(standing, G_STAND);
    gtab_add(when, G_STAND);
    gtab_add(jb, G_JB);
    gtab_add(task, G_TASK);
    gtab_add(conceal, G_CONCEAL);
    gtab_add(instr, G_INSTR);
    gtab_add(loot, G_LOOT);
    gtab_add(orders, G_ORDERS);
    gtab_add(jb1, G_JB1);
    gtab_add(you, G_YOU);
    gtab_add(your, G_YOUR);
    gtab_add(nots, G_NOTS);
    gtab_add(fresh_orders, G_FRESHO);
}

static uint32_t gbits(const char *w, uint32_t h) {
    if (w[0] == 'e' && !strncmp(w, "exfiltrat", 9)) return G_EXFIL;
    for (uint32_t k = h % GSLOTS; gtab[k].w; k = (k + 1) % GSLOTS)
        if (gtab[k].h == h && !strcmp(gtab[k].w, w)) return gtab[k].bits;
    return 0;
}

/* 1 when the line's words could match some pattern (a necessary condition:
 * every pattern needs words of certain classes; most lines have none). */
static int may_inject(const char *s, size_t n) {
    uint32_t m = 0;
    int nw = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && wchar[(uint8_t)s[i]] < 2) i++;
        if (i == n) break;
        char w[24];
        size_t k = 0;
        uint32_t h = 0;
        for (uint8_t c; i < n && (c = wchar[(uint8_t)s[i]]); i++)
            if (c > 1 && k < 23) { w[k++] = (char)c; h = ghash_step(h, c); }
        w[k] = 0;
        nw++;
        m |= gbits(w, h);
    }
#define ALL(bits) ((m & (bits)) == (bits))
    return nw >= 3 && (ALL(G_MODEL) || ALL(G_EXFIL) || ALL(G_NOW | G_YOU) || ALL(G_JB | G_JB1) ||
                       ALL(G_TASK | G_YOUR) || ALL(G_CONCEAL | G_NOTS) || ALL(G_INSTR | G_YOU) ||
                       ALL(G_LOOT | G_YOU) || ALL(G_ORDERS | G_FRESHO) || ALL(G_OVR | G_DIR) ||
                       ALL(G_REVEAL | G_SECP) || ALL(G_PLACE | G_FRAG) || ALL(G_ASKER | G_STAND));
#undef ALL
}

static int injected(const char *s, size_t n) {
    if (!may_inject(s, n)) return 0;
    words ws;
    split_words(s, n, &ws);
    return overriding(&ws) || addressing_model(&ws) || extracting(&ws) || smuggling_code(&ws) ||
           standing_order(&ws) || jailbreak(&ws) || redirecting(&ws) || exfiltrating(&ws) ||
           vocative_start(s, n) || announced_orders(&ws, s, n);
}

/* ---- lines and blocks ------------------------------------------------------ */

/* The comment marker a line starts with, and where its text begins. */
static int marker(const char *s, size_t n, size_t *text) {
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    *text = i;
    if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') { *text = i + 2; return MK_SLASH; }
    if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') { *text = i + 2; return MK_STAR; }
    if (i < n && s[i] == '*') { *text = i + 1; return MK_STAR; }
    if (i < n && s[i] == '#') { *text = i + 1; return MK_HASH; }
    if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') { *text = i + 2; return MK_DASH; }
    if (i + 3 < n && !memcmp(s + i, "<!--", 4)) { *text = i + 4; return MK_HTML; }
    if (i < n && s[i] == ';') { *text = i + 1; return MK_SEMI; }
    if (i < n && s[i] == '%') { *text = i + 1; return MK_PCT; }
    return MK_PLAIN;
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isspace((uint8_t)s[i])) return 0;
    return 1;
}

/* Does this line continue the block a hit sits in? */
static int continues(scan_prompt *a, int mk, const char *s, size_t n, size_t at) {
    if (at - a->hit_start >= BLOCK_MAX_BYTES) return 0;
    if (a->block_marker == MK_PLAIN) return !blank(s, n);
    if (a->block_marker == MK_STAR || a->block_marker == MK_HTML) return !a->in_star || mk == a->block_marker;
    return mk == a->block_marker;
}

/* Does the line open a C comment (opens), or close one or an HTML comment (closes)? */
static void comment_ends(const char *s, size_t n, int *opens, int *closes) {
    *opens = *closes = 0;
    for (const char *q = memchr(s, '*', n); q; q = memchr(q + 1, '*', n - (size_t)(q + 1 - s))) {
        *opens |= q > s && q[-1] == '/';
        *closes |= q + 1 < s + n && q[1] == '/';
    }
    for (const char *q = memchr(s, '>', n); q && !*closes; q = memchr(q + 1, '>', n - (size_t)(q + 1 - s)))
        *closes = q >= s + 2 && q[-1] == '-' && q[-2] == '-';
}

static void close_hit(scan_prompt *a, size_t end, scan_hit_cb cb, void *ctx) {
    scan_hit h = {0, a->hit_start, end, NULL};
    cb(ctx, &h);
    a->in_block = 0;
}

size_t scan_prompt_feed(scan_prompt *a, scan_view *v, scan_hit_cb cb, void *ctx, size_t *hold) {
    size_t end = sv_end(v);
    pthread_once(&gtab_once, gtab_build);
    while (a->pos < end) {
        size_t p = a->pos, avail = end - p;
        const char *line = (const char *)v->p + (p - v->base);
        const char *nl = memchr(line, '\n', avail < SEG_BYTES ? avail : SEG_BYTES);
        size_t k = nl ? (size_t)(nl - line) : avail;
        if (!nl && avail < SEG_BYTES && !v->eof) break;      /* the segment may go on */
        if (!nl && avail >= SEG_BYTES) {                     /* a long line: cut after a blank */
            k = SEG_BYTES;
            for (size_t q = SEG_BYTES; q > SEG_BYTES / 2; q--)
                if (line[q - 1] == ' ' || line[q - 1] == '\t') { k = q; break; }
        }
        size_t n = k + (nl != NULL), text = 0;
        int mk = a->midline ? a->line_marker : marker(line, k, &text);
        a->line_marker = mk;
        int was_star = a->in_star, opens, closes;
        comment_ends(line, k, &opens, &closes);
        if (mk == MK_STAR && opens) a->in_star = 1;
        if (was_star && mk == MK_PLAIN) mk = MK_STAR;       /* a C comment's inner line */
        if (a->in_block && (a->midline ? p - a->hit_start >= BLOCK_MAX_BYTES : !continues(a, mk, line, k, p)))
            close_hit(a, p, cb, ctx);
        int hit = 0;
        if (!a->in_block && a->midline) {                   /* with the segment before */
            char both[2 * SEG_BYTES];
            memcpy(both, a->prev, a->nprev);
            memcpy(both + a->nprev, line, k);
            hit = injected(both, a->nprev + k);
            sodium_memzero(both, sizeof both);
        } else if (!a->in_block) {
            hit = injected(line + text, k - text);
        }
        if (hit) {
            a->in_block = 1;
            a->block_marker = mk;
            a->hit_start = p;
        }
        if (closes) {
            a->in_star = 0;
            if (a->in_block && (a->block_marker == MK_STAR || a->block_marker == MK_HTML))
                close_hit(a, p + n, cb, ctx);
        }
        a->midline = nl == NULL;
        a->nprev = a->midline ? k - text : 0;
        memcpy(a->prev, line + text, a->nprev);
        a->pos = p + n;
    }
    if (v->eof && a->in_block) close_hit(a, end, cb, ctx);
    if (a->in_block) *hold = a->hit_start;            /* suppressed until the block ends */
    else *hold = a->pos;                              /* less than SEG_BYTES back */
    return a->in_block ? a->hit_start : a->pos;
}

int scan_prompt_in_block(const scan_prompt *a) { return a->in_block; }
