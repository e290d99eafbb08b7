/* cmd_tokenize.c — `flint tokenize` and `flint detokenize`: the tokenizer of a
 * GGUF file (vocab-only or full model) from the command line.
 *
 *   flint tokenize --model M [--parse-special] [--add-special] < text
 *       prints the ids of stdin, space-separated, on one line
 *   flint detokenize --model M --tokens 1,2,3 [--special]
 *       prints the text of the ids (no newline added; always valid UTF-8)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/common.h"
#include "tokenizer/tokenizer.h"

static int read_all(FILE *f, tok_text *t) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (tok_text_append(t, buf, n)) return -1;
    return ferror(f) ? -1 : tok_text_append(t, "", 0);
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model")) { if (!(model = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(argv[i], "--parse-special")) flags |= TOK_PARSE_SPECIAL;
        else if (!strcmp(argv[i], "--add-special")) flags |= TOK_ADD_SPECIAL;
        else return arg_unknown(argv[0], argv[i]);
    }
    if (!model) { fprintf(stderr, "flint tokenize: --model is required\n"); return 2; }
    char err[FL_ERRLEN];
    tok_vocab *v;
    if (tok_load_file(model, &v, err, sizeof err)) { fprintf(stderr, "flint tokenize: %s\n", err); return 1; }
    tok_text in = {0};
    tok_ids ids = {0};
    int rc = 0;
    if (read_all(stdin, &in)) { fprintf(stderr, "flint tokenize: cannot read stdin\n"); rc = 1; }
    else if (tok_tokenize(v, in.s, in.n, flags, &ids)) { fprintf(stderr, "flint tokenize: out of memory\n"); rc = 1; }
    else {
        for (size_t i = 0; i < ids.n; i++) printf(i ? " %d" : "%d", ids.v[i]);
        printf("\n");
    }
    tok_text_free(&in);
    tok_ids_free(&ids);
    tok_free(v);
    return rc;
}

int cmd_detokenize(int argc, char **argv) {
    const char *model = NULL, *tokens = NULL;
    unsigned flags = TOK_DETOK_STRIP_SPACE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model")) { if (!(model = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(argv[i], "--tokens")) { if (!(tokens = arg_value(argc, argv, &i))) return 2; }
        else if (!strcmp(argv[i], "--special")) flags |= TOK_DETOK_SPECIAL;
        else return arg_unknown(argv[0], argv[i]);
    }
    if (!model || !tokens) { fprintf(stderr, "flint detokenize: --model and --tokens are required\n"); return 2; }
    int32_t *ids;
    int n = arg_token_list(tokens, &ids);
    if (n < 0) return 2;
    char err[FL_ERRLEN];
    tok_vocab *v;
    if (tok_load_file(model, &v, err, sizeof err)) {
        fprintf(stderr, "flint detokenize: %s\n", err);
        free(ids);
        return 1;
    }
    tok_text out = {0};
    int rc = 0;
    if (tok_detokenize(v, ids, (size_t)n, flags, &out, err, sizeof err)) {
        fprintf(stderr, "flint detokenize: %s\n", err);
        rc = 1;
    } else {
        fwrite(out.s, 1, out.n, stdout);
    }
    tok_text_free(&out);
    free(ids);
    tok_free(v);
    return rc;
}
