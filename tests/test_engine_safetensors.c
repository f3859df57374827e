/* test_engine_safetensors.c: engine/safetensors.c on this (little-endian)
 * host: a mapped file's tensors read back as the numbers written, and a
 * model loads. The big-endian refusal is test_engine_safetensors_be.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "engine/model.h"
#include "engine/safetensors.h"

/* Write a one-tensor file: "w", F32, shape [3], the values 1.5, -2, 3e9 as
 * little-endian bytes (spelled out, not copied from host floats). */
static int write_tiny(const char *path)
{
    static const char header[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
    uint64_t hlen = sizeof header - 1;
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(hlen >> (8 * i));
    static const uint8_t data[12] = {0x00, 0x00, 0xc0, 0x3f,  /* 1.5 */
                                     0x00, 0x00, 0x00, 0xc0,  /* -2 */
                                     0x5e, 0xd0, 0x32, 0x4f}; /* 3e9 */
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    int bad = fwrite(len, 1, 8, fp) != 8 || fwrite(header, 1, hlen, fp) != hlen ||
              fwrite(data, 1, 12, fp) != 12;
    return fclose(fp) != 0 || bad ? -1 : 0;
}

TEST(little_endian_tensors_read_in_place)
{
    char path[] = "/tmp/lcx_test_st_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    CHECK_INT(write_tiny(path), 0);
    lcx_st_file f;
    lcx_err err = {0};
    int rc = lcx_st_open(path, &f, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (!rc) {
        const lcx_st_tensor *t = lcx_st_find(&f, "w");
        CHECK(t != NULL);
        if (t) {
            float v[3];
            memcpy(v, f.data + t->begin, sizeof v);
            CHECK(v[0] == 1.5f && v[1] == -2.0f && v[2] == 3e9f);
        }
        lcx_st_close(&f);
    }
    unlink(path);
}

TEST(a_model_loads)
{
    lcx_model *m = NULL;
    lcx_err err = {0};
    int rc = lcx_model_load("tests/reference/models/llama_f32", &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    lcx_model_free(m);
}

int main(void)
{
    RUN(little_endian_tensors_read_in_place);
    RUN(a_model_loads);
    return check_summary();
}
