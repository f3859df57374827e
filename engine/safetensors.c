/* safetensors.c: validate and map safetensors files (see safetensors.h). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER (100u << 20) /* the Rust library's limit */

/* The engine uses tensors in place from the map, as host numbers, and the
 * format stores them little-endian: right on a little-endian host only (as
 * train/checkpoint.c requires). Tests may predefine it to 0 to reach the
 * refusal on a little-endian machine. */
#ifndef LCX_ST_HOST_LITTLE_ENDIAN
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LCX_ST_HOST_LITTLE_ENDIAN 1
#else
#define LCX_ST_HOST_LITTLE_ENDIAN 0
#endif
#endif

static const struct {
    const char *name;
    size_t size;
    lcx_dtype dtype;
} st_dtypes[] = {
    {"F32", 4, LCX_DT_F32},      {"F16", 2, LCX_DT_F16},       {"BF16", 2, LCX_DT_BF16},
    {"F64", 8, LCX_DT_OTHER},    {"I64", 8, LCX_DT_OTHER},     {"U64", 8, LCX_DT_OTHER},
    {"I32", 4, LCX_DT_OTHER},    {"U32", 4, LCX_DT_OTHER},     {"I16", 2, LCX_DT_OTHER},
    {"U16", 2, LCX_DT_OTHER},    {"I8", 1, LCX_DT_OTHER},      {"U8", 1, LCX_DT_OTHER},
    {"BOOL", 1, LCX_DT_OTHER},   {"F8_E5M2", 1, LCX_DT_OTHER}, {"F8_E4M3", 1, LCX_DT_OTHER},
};

size_t lcx_st_dtype_size(const char *name)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (!strcmp(name, st_dtypes[i].name))
            return st_dtypes[i].size;
    return 0;
}

void lcx_st_free_tensors(lcx_st_tensor *tensors, size_t n)
{
    if (!tensors)
        return;
    for (size_t i = 0; i < n; i++)
        free(tensors[i].name);
    free(tensors);
}

/* A non-negative JSON integer that fits in uint64_t. */
static int json_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int parse_entry(const char *path, const char *name, json_t *obj, lcx_st_tensor *t,
                       uint64_t data_size, lcx_err *err)
{
    if (!json_is_object(obj))
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': entry is not an object", path, name);
    json_t *dt = json_object_get(obj, "dtype"), *shape = json_object_get(obj, "shape"),
           *offs = json_object_get(obj, "data_offsets");
    if (!json_is_string(dt))
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': missing or non-string dtype", path,
                        name);
    const char *dts = json_string_value(dt);
    size_t k;
    for (k = 0; k < sizeof st_dtypes / sizeof st_dtypes[0]; k++)
        if (!strcmp(dts, st_dtypes[k].name))
            break;
    if (k == sizeof st_dtypes / sizeof st_dtypes[0])
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': unknown dtype '%.16s'", path, name,
                        dts);
    t->dtype = st_dtypes[k].dtype;
    t->elsize = st_dtypes[k].size;
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", st_dtypes[k].name);
    if (!json_is_array(shape) || json_array_size(shape) > LCX_ST_MAX_DIMS)
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': shape must be an array of at most %d "
                        "dimensions", path, name, LCX_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(shape);
    uint64_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t v;
        if (json_u64(json_array_get(shape, d), &v) || v > INT64_MAX)
            return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': shape[%d] is not a non-negative "
                            "integer", path, name, d);
        t->shape[d] = (int64_t)v;
        if (__builtin_mul_overflow(count, v, &count))
            return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': shape overflows", path, name);
    }
    uint64_t bytes;
    if (__builtin_mul_overflow(count, (uint64_t)t->elsize, &bytes))
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': shape overflows", path, name);
    if (!json_is_array(offs) || json_array_size(offs) != 2 ||
        json_u64(json_array_get(offs, 0), &t->begin) ||
        json_u64(json_array_get(offs, 1), &t->end))
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': data_offsets must be [begin, end] of "
                        "non-negative integers", path, name);
    if (t->begin > t->end)
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': data_offsets [%llu, %llu] end before "
                        "begin", path, name, (unsigned long long)t->begin,
                        (unsigned long long)t->end);
    if (t->end > data_size)
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': data_offsets [%llu, %llu] past the end "
                        "of the data (%llu bytes)", path, name, (unsigned long long)t->begin,
                        (unsigned long long)t->end, (unsigned long long)data_size);
    if (t->end - t->begin != bytes)
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu "
                        "bytes but shape x %s needs %llu", path, name,
                        (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)(t->end - t->begin), t->dtype_name,
                        (unsigned long long)bytes);
    return 0;
}

static int cmp_by_offset(const void *a, const void *b)
{
    const lcx_st_tensor *x = *(const lcx_st_tensor *const *)a, *y = *(const lcx_st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

int lcx_st_parse(const uint8_t *buf, size_t len, const char *path, lcx_st_tensor **tensors,
                 size_t *n, size_t *data_start, lcx_err *err)
{
    *tensors = NULL;
    *n = 0;
    *data_start = 0;
    if (len < 8)
        return lcx_errf(err, LCX_EINPUT, "%s: truncated: %zu bytes, shorter than the 8-byte "
                        "header length", path, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | buf[i];
    if (hlen > len - 8)
        return lcx_errf(err, LCX_EINPUT, "%s: header length %llu at offset 0 runs past the end of "
                        "the file (%zu bytes)", path, (unsigned long long)hlen, len);
    if (hlen > ST_MAX_HEADER)
        return lcx_errf(err, LCX_EINPUT, "%s: header length %llu exceeds the %u-byte limit", path,
                        (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen < 2 || buf[8] != '{')
        return lcx_errf(err, LCX_EINPUT, "%s: header at offset 8 is not a JSON object", path);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return lcx_errf(err, LCX_EINPUT, "%s: header JSON at offset %lld: %s", path,
                        (long long)(8 + (jerr.position > 0 ? jerr.position : 0)), jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return lcx_errf(err, LCX_EINPUT, "%s: header at offset 8 is not a JSON object", path);
    }
    uint64_t data_size = len - 8 - hlen;
    size_t cap = json_object_size(root), count = 0;
    lcx_st_tensor *ts = calloc(cap ? cap : 1, sizeof *ts);
    lcx_st_tensor **order = calloc(cap ? cap : 1, sizeof *order);
    int rc = 0;
    if (!ts || !order) {
        rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                rc = lcx_errf(err, LCX_EINPUT, "%s: __metadata__ is not an object", path);
                goto out;
            }
            continue;
        }
        lcx_st_tensor *t = &ts[count];
        if ((rc = parse_entry(path, key, val, t, data_size, err)))
            goto out;
        if (!(t->name = strdup(key))) {
            rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
            goto out;
        }
        order[count] = t;
        count++;
    }
    qsort(order, count, sizeof *order, cmp_by_offset);
    uint64_t expect = 0;
    for (size_t i = 0; i < count; i++) {
        if (order[i]->begin < expect) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': data_offsets [%llu, %llu] overlap "
                          "tensor '%s' (ends at %llu)", path, order[i]->name,
                          (unsigned long long)order[i]->begin, (unsigned long long)order[i]->end,
                          order[i - 1]->name, (unsigned long long)expect);
            goto out;
        }
        if (order[i]->begin > expect) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': data_offsets begin %llu leaves a hole "
                          "after offset %llu", path, order[i]->name,
                          (unsigned long long)order[i]->begin, (unsigned long long)expect);
            goto out;
        }
        expect = order[i]->end;
    }
    if (expect != data_size) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: tensors cover %llu data bytes but the file holds %llu "
                      "(trailing or truncated data)", path, (unsigned long long)expect,
                      (unsigned long long)data_size);
        goto out;
    }
out:
    free(order);
    json_decref(root);
    if (rc) {
        lcx_st_free_tensors(ts, count);
        return rc;
    }
    *tensors = ts;
    *n = count;
    *data_start = 8 + (size_t)hlen;
    return 0;
}

int lcx_st_open(const char *path, lcx_st_file *f, lcx_err *err)
{
    memset(f, 0, sizeof *f);
    if (!LCX_ST_HOST_LITTLE_ENDIAN)
        return lcx_errf(err, LCX_EINPUT, "%s: safetensors tensors are little-endian and this host "
                        "is not; the engine reads them in place and cannot load them", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lcx_errf(err, LCX_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lcx_errf(err, LCX_EINPUT, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    void *map = NULL;
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return lcx_errf(err, LCX_EIO, "%s: mmap failed: %s", path, strerror(errno));
        }
    }
    close(fd);
    static const uint8_t empty[1];
    size_t data_start;
    int rc = lcx_st_parse(map ? map : empty, size, path, &f->tensors, &f->n, &data_start, err);
    if (rc) {
        if (map)
            munmap(map, size);
        return rc;
    }
    f->map = map;
    f->size = size;
    f->data = (const uint8_t *)map + data_start;
    f->data_size = size - data_start;
    if (!(f->path = strdup(path))) {
        lcx_st_close(f);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    }
    return 0;
}

void lcx_st_close(lcx_st_file *f)
{
    if (f->map)
        munmap(f->map, f->size);
    lcx_st_free_tensors(f->tensors, f->n);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const lcx_st_tensor *lcx_st_find(const lcx_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->tensors[i].name, name))
            return &f->tensors[i];
    return NULL;
}
