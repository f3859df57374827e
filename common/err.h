/* err.h: errors are values. A function that can fail returns an int status
 * (0 = ok) and fills an lcx_err with a one-line message naming the file,
 * field or offset. Only the CLI turns an error into text and an exit code. */
#ifndef LCX_ERR_H
#define LCX_ERR_H

#include <stddef.h>

enum {
    LCX_OK = 0,
    LCX_EINPUT = 2,   /* bad input: file contents, arguments, fields */
    LCX_EIO = 3,      /* the operating system refused: open, write, rename */
    LCX_ENOMEM = 4,   /* out of memory */
    LCX_EINTERNAL = 5 /* a broken invariant */
};

typedef struct lcx_err {
    int code;       /* one of the codes above, 0 when no error */
    char msg[1024]; /* one line, no trailing newline */
} lcx_err;

/* Fill err (may be NULL) with a printf-style message; returns code. */
int lcx_errf(lcx_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "prefix: old message". Returns err->code. */
int lcx_err_prefix(lcx_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to "no error". */
void lcx_err_clear(lcx_err *err);

#endif
