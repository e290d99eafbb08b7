/* cli.h — flint's subcommands.
 *
 * Each subcommand is one function `int cmd_NAME(int argc, char **argv)`, with
 * argv[0] the subcommand's name. It returns the process exit status (0 on
 * success) and prints its own error line to stderr; only main() calls exit().
 * Flags are stable: other tools, tests and the editor plugins rely on them.
 */
#ifndef FLINT_CLI_H
#define FLINT_CLI_H

int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_scan(int argc, char **argv);

#endif
