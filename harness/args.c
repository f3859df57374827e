#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lcx_arg_value(int argc, char **argv, int *i, const char *name, const char **value, lcx_err *err)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n))
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        lcx_errf(err, LCX_EINPUT, "option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int lcx_arg_u64(const char *name, const char *value, unsigned long long *out, lcx_err *err)
{
    char *end;
    if (!*value || *value == '-')
        return lcx_errf(err, LCX_EINPUT, "option %s: '%s' is not a non-negative integer", name, value);
    *out = strtoull(value, &end, 10);
    if (*end)
        return lcx_errf(err, LCX_EINPUT, "option %s: '%s' is not a non-negative integer", name, value);
    return 0;
}

int lcx_arg_size(const char *name, const char *value, size_t *out, lcx_err *err)
{
    unsigned long long v = 0;
    int rc = lcx_arg_u64(name, value, &v, err);
    if (!rc)
        *out = (size_t)v;
    return rc;
}

size_t lcx_arg_split(char *s, char **items, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save))
        items[n++] = tok;
    return n;
}

int lcx_arg_fail(const char *cmd, const lcx_err *err)
{
    fprintf(stderr, "lcx %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
    return 2;
}
