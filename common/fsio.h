/* fsio.h: whole-file reads, directories, and atomic writes (temporary file,
 * fsync, rename), so that nothing is ever half-written. */
#ifndef LCX_FSIO_H
#define LCX_FSIO_H

#include <stdio.h>

#include "err.h"

/* Read a whole file; *out is NUL-terminated (caller frees). */
int lcx_read_file(const char *path, char **out, size_t *len, lcx_err *err);

/* mkdir -p. */
int lcx_mkdir_p(const char *path, lcx_err *err);

/* 1 if path is an existing directory. */
int lcx_is_dir(const char *path);

/* An atomic file writer: write to `<path>.tmp.<pid>`, then commit renames it
 * over `path`; abort (or a crash) leaves `path` untouched. */
typedef struct lcx_atomic_file {
    FILE *fp;         /* write here */
    char path[4096];  /* final name */
    char tmp[4160];   /* temporary name */
} lcx_atomic_file;

int lcx_atomic_open(lcx_atomic_file *f, const char *path, lcx_err *err);
int lcx_atomic_commit(lcx_atomic_file *f, lcx_err *err);
void lcx_atomic_abort(lcx_atomic_file *f);

/* Write a whole buffer atomically. */
int lcx_write_file_atomic(const char *path, const void *data, size_t len, lcx_err *err);

#endif
