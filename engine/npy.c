/* npy.c: minimal .npy (version 1.0) writer and reader for float32. */
#include "npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"

int lcx_npy_write_header(FILE *fp, size_t rows, size_t cols, lcx_err *err)
{
    char dict[128];
    int n = cols ? snprintf(dict, sizeof dict,
                            "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", rows,
                            cols)
                 : snprintf(dict, sizeof dict,
                            "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu,), }", rows);
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    if (fwrite(pre, 1, 10, fp) != 10 || fwrite(dict, 1, (size_t)n, fp) != (size_t)n)
        return lcx_errf(err, LCX_EIO, "npy: write failed");
    for (size_t i = 0; i < pad; i++)
        fputc(' ', fp);
    fputc('\n', fp);
    return ferror(fp) ? lcx_errf(err, LCX_EIO, "npy: write failed") : 0;
}

int lcx_npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols, lcx_err *err)
{
    char *buf;
    size_t len;
    *data = NULL;
    int rc = lcx_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) || buf[6] != 1) {
        free(buf);
        return lcx_errf(err, LCX_EINPUT, "%s: not a version-1 .npy file", path);
    }
    size_t hlen = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8);
    if (10 + hlen > len) {
        free(buf);
        return lcx_errf(err, LCX_EINPUT, "%s: header length past the end of the file", path);
    }
    char head[1024];
    snprintf(head, sizeof head, "%.*s", (int)(hlen < 1000 ? hlen : 1000), buf + 10);
    const char *sh = strstr(head, "'shape': (");
    if (!strstr(head, "'descr': '<f4'") || strstr(head, "'fortran_order': True") || !sh) {
        free(buf);
        return lcx_errf(err, LCX_EINPUT, "%s: not a C-order float32 array", path);
    }
    unsigned long long a = 0, b = 0;
    int k = sscanf(sh, "'shape': (%llu, %llu)", &a, &b);
    if (k < 1) {
        free(buf);
        return lcx_errf(err, LCX_EINPUT, "%s: unreadable shape", path);
    }
    if (k == 1)
        b = 0;
    /* The shape comes from the file: rows x cols x 4 bytes must not wrap. */
    size_t count, bytes;
    if (__builtin_mul_overflow(a, b ? b : 1ULL, &count) ||
        __builtin_mul_overflow(count, sizeof(float), &bytes) || bytes > SIZE_MAX - 4) {
        free(buf);
        return lcx_errf(err, LCX_EINPUT, "%s: header at offset 10: shape (%llu, %llu) overflows "
                        "the size of a float32 array", path, a, b);
    }
    if (bytes != len - 10 - hlen) {
        free(buf);
        return lcx_errf(err, LCX_EINPUT, "%s: data size does not match the shape", path);
    }
    float *out = malloc(bytes + 4);
    if (!out) {
        free(buf);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    memcpy(out, buf + 10 + hlen, bytes);
    free(buf);
    *data = out;
    *rows = (size_t)a;
    *cols = (size_t)b;
    return 0;
}
