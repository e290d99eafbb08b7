/* main.c — flint's entry point: pick the subcommand, run it, exit with its status.
 * This is the only place in flint that calls exit(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"info",     cmd_info,     "info --model M: architecture, hyper-parameters and tensor types as JSON"},
    {"eval",     cmd_eval,     "eval --model M --tokens 1,2,3 --logits OUT.f32: logits of every position"},
    {"serve",    cmd_serve,    "serve [--model M] [--framing msgpack|json] [--threads N]: the editor co-process (doc/protocol.md)"},
    {"generate", cmd_generate, "generate --model M --tokens 1,2,3 -n 32: generated token ids"},
    {"bench",    cmd_bench,    "bench --model M | --bandwidth: engine speed (JSON)"},
    {"tokenize", cmd_tokenize, "tokenize --model M [--parse-special] [--add-special] < text: token ids"},
    {"detokenize", cmd_detokenize, "detokenize --model M --tokens 1,2,3 [--special]: the text of the ids"},
    {"synth",    cmd_synth,    "synth --preset P [--layers N] --type T --out F: random-weight model of real shapes"},
    {"scan",     cmd_scan,     "scan [--role output|context] [--filetype FT] < file: scanner findings as JSON lines"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: flint COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); exit(2); }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        exit(0);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) exit(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "flint: unknown command '%s' (try 'flint help')\n", argv[1]);
    exit(2);
}
