/* args.h — small helpers shared by the subcommands' flag parsing. */
#ifndef FLINT_ARGS_H
#define FLINT_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* argv[*i] is a flag that takes a value: return argv[*i + 1] and advance *i,
 * or print "flint CMD: FLAG needs a value" and return NULL. */
const char *arg_value(int argc, char **argv, int *i);

/* Parse a decimal integer in [lo, hi] for flag; on error print and return -1. */
int arg_int(const char *flag, const char *s, long lo, long hi, long *out);

/* Parse a float for flag; on error print and return -1. */
int arg_float(const char *flag, const char *s, float *out);

/* Parse "1,2,3" (commas or spaces) into a malloc'd array. Returns the count,
 * or -1 after printing an error. */
int arg_token_list(const char *s, int32_t **out);

/* Print "flint CMD: unknown option 'X'" and return 2 (the usage exit code). */
int arg_unknown(const char *cmd, const char *opt);

#endif
