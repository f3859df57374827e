/* args.h: the command-line conventions every subcommand shares. */
#ifndef LCX_ARGS_H
#define LCX_ARGS_H

#include <stddef.h>

#include "common/err.h"

/* If argv[*i] is `name` (as "--name VALUE" or "--name=VALUE"), set *value,
 * advance *i past it and return 1. Return 0 when it is another option, -1
 * (with err) when the value is missing. */
int lcx_arg_value(int argc, char **argv, int *i, const char *name, const char **value, lcx_err *err);

/* Parse a non-negative integer option value. */
int lcx_arg_size(const char *name, const char *value, size_t *out, lcx_err *err);
int lcx_arg_u64(const char *name, const char *value, unsigned long long *out, lcx_err *err);

/* Split a comma-separated list in place (modifies s); returns the count. */
size_t lcx_arg_split(char *s, char **items, size_t max);

/* Print "lcx <cmd>: <message>" on stderr and return 2. */
int lcx_arg_fail(const char *cmd, const lcx_err *err);

#endif
