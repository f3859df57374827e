/* fuzz_safetensors.c: libFuzzer target for the safetensors header validator
 * (engine/safetensors.c). Every accepted file must satisfy the invariants
 * the loader relies on. Built by `make fuzz` (clang). */
#include <stdint.h>
#include <stdlib.h>

#include "engine/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_st_tensor *ts;
    size_t n, start;
    lcx_err err = {0};
    if (lcx_st_parse(data, size, "fuzz.safetensors", &ts, &n, &start, &err) == 0) {
        size_t data_size = size - start;
        uint64_t covered = 0;
        for (size_t i = 0; i < n; i++) {
            if (ts[i].begin > ts[i].end || ts[i].end > data_size)
                abort();
            covered += ts[i].end - ts[i].begin;
            /* touch the first and last byte, as the loader would */
            if (ts[i].end > ts[i].begin) {
                volatile uint8_t a = data[start + ts[i].begin], b = data[start + ts[i].end - 1];
                (void)a;
                (void)b;
            }
        }
        if (covered != data_size)
            abort();
        lcx_st_free_tensors(ts, n);
    }
    return 0;
}
