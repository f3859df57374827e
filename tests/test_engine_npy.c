/* test_engine_npy.c: engine/npy.c: a written header reads back, and a
 * header whose shape overflows rows x cols x 4 bytes is refused instead of
 * wrapping to a small size that happens to match the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "engine/npy.h"

/* A version-1 .npy file: header dict `dict` padded to 64 bytes, then
 * `data_bytes` zero bytes. Returns 0. */
static int write_npy(const char *path, const char *dict, size_t data_bytes)
{
    size_t n = strlen(dict), total = 10 + n + 1, pad = (64 - total % 64) % 64, hlen = n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    fwrite(pre, 1, 10, fp);
    fputs(dict, fp);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', fp);
    fputc('\n', fp);
    for (size_t i = 0; i < data_bytes; i++)
        fputc(0, fp);
    return fclose(fp) ? -1 : 0;
}

static void temp_path(char *path)
{
    strcpy(path, "/tmp/lcx_test_npy_XXXXXX");
    int fd = mkstemp(path);
    if (fd >= 0)
        close(fd);
}

TEST(written_header_reads_back)
{
    char path[64];
    temp_path(path);
    FILE *fp = fopen(path, "wb");
    lcx_err err = {0};
    CHECK(fp != NULL);
    if (!fp)
        return;
    CHECK_INT(lcx_npy_write_header(fp, 2, 3, &err), 0);
    float v[6] = {1, 2, 3, 4, 5, 6.5f};
    fwrite(v, sizeof(float), 6, fp);
    fclose(fp);
    float *data = NULL;
    size_t rows = 0, cols = 0;
    CHECK_INT(lcx_npy_read_f32(path, &data, &rows, &cols, &err), 0);
    CHECK_INT(rows, 2);
    CHECK_INT(cols, 3);
    CHECK(data && data[0] == 1 && data[5] == 6.5f);
    free(data);
    unlink(path);
}

TEST(overflowing_shape_is_refused)
{
    /* 2^62 + 1 floats take 2^64 + 4 bytes: 4 modulo 2^64, which a 4-byte
     * payload matches; 2^33 x 2^33 wraps to 0 elements; 2^63 rows with no
     * payload wrap count x 4 to 0 too. */
    struct {
        const char *dict;
        size_t data_bytes;
        const char *shape;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387905,), }", 4,
         "shape (4611686018427387905, 0) overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (8589934592, 8589934592), }", 0,
         "shape (8589934592, 8589934592) overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808, 1), }", 0,
         "shape (9223372036854775808, 1) overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615,), }", 0,
         "shape (18446744073709551615, 0) overflows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        temp_path(path);
        CHECK_INT(write_npy(path, cases[i].dict, cases[i].data_bytes), 0);
        float *data = NULL;
        size_t rows = 0, cols = 0;
        lcx_err err = {0};
        CHECK_INT(lcx_npy_read_f32(path, &data, &rows, &cols, &err), LCX_EINPUT);
        CHECK_MSG(strstr(err.msg, cases[i].shape) != NULL, "case %zu: %s", i, err.msg);
        CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "offset 10") != NULL);
        CHECK(data == NULL);
        free(data);
        unlink(path);
    }
    /* a shape that fits but disagrees with the payload is still that error */
    char path[64];
    temp_path(path);
    CHECK_INT(write_npy(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8), 0);
    float *data = NULL;
    size_t rows, cols;
    lcx_err err = {0};
    CHECK_INT(lcx_npy_read_f32(path, &data, &rows, &cols, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "data size does not match the shape") != NULL);
    unlink(path);
}

int main(void)
{
    RUN(written_header_reads_back);
    RUN(overflowing_shape_is_refused);
    return check_summary();
}
