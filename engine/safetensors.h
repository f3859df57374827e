/* safetensors.h: read and validate .safetensors files (memory-mapped).
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
 * then the data; offsets are relative to the end of the header
 * (docs/model.md, "safetensors files").
 *
 * Validation is complete before any tensor is used, and as strict as the
 * reference Rust library: header length within the file, every entry well
 * formed, known dtype, end - begin == prod(shape) * dtype size (no overflow),
 * offsets inside the data, and the tensors, sorted by offset, tile the data
 * exactly (no overlap, no hole, no trailing bytes). Duplicate names are
 * rejected. */
#ifndef LCX_SAFETENSORS_H
#define LCX_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef enum lcx_dtype {
    LCX_DT_F32 = 0,
    LCX_DT_F16,
    LCX_DT_BF16,
    LCX_DT_OTHER /* valid in a file, but not usable as model weights */
} lcx_dtype;

#define LCX_ST_MAX_DIMS 8

typedef struct lcx_st_tensor {
    char *name;
    lcx_dtype dtype;
    char dtype_name[12];            /* as written in the file, e.g. "BF16" */
    size_t elsize;                  /* bytes per element */
    int ndim;
    int64_t shape[LCX_ST_MAX_DIMS];
    uint64_t begin, end;            /* data_offsets, relative to the data */
} lcx_st_tensor;

typedef struct lcx_st_file {
    char *path;
    uint8_t *map;           /* whole file, read-only mapping */
    size_t size;            /* file size */
    const uint8_t *data;    /* map + 8 + header length */
    size_t data_size;
    lcx_st_tensor *tensors; /* n entries */
    size_t n;
} lcx_st_file;

/* Parse and validate a whole file image buf[0..len). path names the file in
 * messages. On success *tensors (caller frees with lcx_st_free_tensors),
 * *n and *data_start (offset of the data in buf) are set. */
int lcx_st_parse(const uint8_t *buf, size_t len, const char *path, lcx_st_tensor **tensors,
                 size_t *n, size_t *data_start, lcx_err *err);
void lcx_st_free_tensors(lcx_st_tensor *tensors, size_t n);

/* Map and validate a file. */
int lcx_st_open(const char *path, lcx_st_file *f, lcx_err *err);
void lcx_st_close(lcx_st_file *f);

/* The tensor with this name, or NULL. */
const lcx_st_tensor *lcx_st_find(const lcx_st_file *f, const char *name);

/* Bytes per element of a safetensors dtype name, 0 if unknown. */
size_t lcx_st_dtype_size(const char *name);

#endif
