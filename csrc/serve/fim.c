/* fim.c — which fill-in-the-middle format a model speaks, from its
 * vocabulary's FIM tokens. One row per family (see doc/protocol.md, "Prompt
 * formats"). */
#include <string.h>

#include "serve/internal.h"

typedef struct {
    const char *family;
    const char *pre, *suf, *mid;    /* token texts */
    const char *repo, *sep;         /* repo-context token texts, NULL if none */
    srv_repo_style style;
} fim_family;

static const fim_family families[] = {
    /* Qwen2.5-Coder, Qwen3-Coder (and flint-coder, see below) */
    {"qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>", SRV_REPO_QWEN},
    /* DeepSeek-Coder: <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜> */
    {"deepseek", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
     "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", NULL, NULL, SRV_REPO_NONE},
    /* StarCoder, StarCoder2, Granite code */
    {"starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<repo_name>", "<file_sep>", SRV_REPO_QWEN},
    /* CodeLlama (SentencePiece texts carry the ▁) */
    {"codellama", "\xe2\x96\x81<PRE>", "\xe2\x96\x81<SUF>", "\xe2\x96\x81<MID>", NULL, NULL, SRV_REPO_NONE},
    {"codellama", "<PRE>", "<SUF>", "<MID>", NULL, NULL, SRV_REPO_NONE},
};

static int32_t find(const tok_vocab *v, const char *text) { return text ? tok_find(v, text, strlen(text)) : -1; }

void srv_fim_detect(srv_fim *f, const tok_vocab *v, const char *model_name, int order) {
    memset(f, 0, sizeof *f);
    f->pre = f->suf = f->mid = f->repo = f->sep = -1;
    const tok_specials *sp = tok_special_ids(v);
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        const fim_family *fam = &families[i];
        int32_t pre = find(v, fam->pre), suf = find(v, fam->suf), mid = find(v, fam->mid);
        if (pre < 0 || suf < 0 || mid < 0) continue;
        *f = (srv_fim){fam->family, pre, suf, mid, find(v, fam->repo), find(v, fam->sep), fam->style, 0};
        break;
    }
    if (!f->family && sp->fim_pre >= 0 && sp->fim_suf >= 0 && sp->fim_mid >= 0) /* declared in the GGUF only */
        *f = (srv_fim){"gguf", sp->fim_pre, sp->fim_suf, sp->fim_mid, -1, -1, SRV_REPO_NONE, 0};
    if (!f->family) return;
    /* flint-coder uses Qwen's tokens, was trained on PSM and SPM alike and
     * lays repository context out as bare <|file_sep|> blocks
     * (tools/train/FORMATS.md). SPM keeps the suffix's KV cache while the
     * user types at the end of the prefix; bench/bench_serve.sh measures it. */
    int flint = !strcmp(f->family, "qwen") && model_name && !strncmp(model_name, "flint-coder", 11);
    if (flint) {
        f->family = "flint-coder";
        f->repo_style = f->sep >= 0 ? SRV_REPO_FILE_SEP : SRV_REPO_NONE;
    }
    if (f->repo_style == SRV_REPO_QWEN && f->sep < 0) f->repo_style = SRV_REPO_NONE;
    f->spm = order == SRV_FIM_SPM || (order == SRV_FIM_AUTO && flint);
}
