#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void flatten_newlines(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

int lcx_errf(lcx_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    flatten_newlines(err->msg);
    err->code = code;
    return code;
}

int lcx_err_prefix(lcx_err *err, const char *fmt, ...)
{
    if (!err)
        return LCX_EINTERNAL;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), cap = sizeof err->msg;
    if (plen + 2 >= cap)
        plen = cap - 3;
    size_t mlen = strlen(err->msg);
    if (plen + 2 + mlen >= cap)
        mlen = cap - plen - 3;
    memmove(err->msg + plen + 2, err->msg, mlen);
    err->msg[plen + 2 + mlen] = '\0';
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    flatten_newlines(err->msg);
    if (!err->code)
        err->code = LCX_EINTERNAL;
    return err->code;
}

void lcx_err_clear(lcx_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
