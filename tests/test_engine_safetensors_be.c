/* test_engine_safetensors_be.c: engine/safetensors.c built as on a
 * big-endian host (LCX_ST_HOST_LITTLE_ENDIAN 0, the file compiled in here
 * in place of the library's): loading refuses with one line naming the
 * file, before the file is even opened. */
#define LCX_ST_HOST_LITTLE_ENDIAN 0
#include "engine/safetensors.c"

#include "check.h"

TEST(big_endian_host_refuses_to_load)
{
    const char *path = "tests/reference/models/llama_f32/model.safetensors";
    lcx_st_file f;
    lcx_err err = {0};
    CHECK_INT(lcx_st_open(path, &f, &err), LCX_EINPUT);
    CHECK_STR(err.msg, "tests/reference/models/llama_f32/model.safetensors: safetensors tensors "
                       "are little-endian and this host is not; the engine reads them in place "
                       "and cannot load them");
    CHECK(f.map == NULL && f.tensors == NULL && f.path == NULL);
    /* parsing a header is byte-order free and still works */
    lcx_st_tensor *ts = NULL;
    size_t n = 0, start = 0;
    static const char file[] = "\x02\0\0\0\0\0\0\0{}";
    CHECK_INT(lcx_st_parse((const uint8_t *)file, sizeof file - 1, "x", &ts, &n, &start, &err), 0);
    CHECK_INT(n, 0);
    lcx_st_free_tensors(ts, n);
}

int main(void)
{
    RUN(big_endian_host_refuses_to_load);
    return check_summary();
}
