/* npy.h: NumPy .npy files of little-endian float32, 1-D or 2-D. */
#ifndef LCX_NPY_H
#define LCX_NPY_H

#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

/* Write the header of a float32 array [rows, cols] (cols 0: 1-D [rows]);
 * the caller then writes rows*cols floats. */
int lcx_npy_write_header(FILE *fp, size_t rows, size_t cols, lcx_err *err);

/* Read a float32 .npy file of 1 or 2 dimensions (caller frees *data). */
int lcx_npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols, lcx_err *err);

#endif
