/* fuzz_essay.c: libFuzzer target: arbitrary bytes as a user's essay corpus
 * (--essay-corpus: plain text or RULER's {"text": ...} JSON; tasks/data.c,
 * lcx_task_data_set_essay). An accepted corpus is the haystack of a niah
 * sample. */
#include <stdint.h>

#include "fuzz_task_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_err err = {0};
    if (lcx_task_data_set_essay(fuzz_data(), (const char *)data, size, "essays.json", &err)) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    fuzz_gen("niah_single_2", FUZZ_MAX_LENGTH, 0);
    fuzz_gen("niah_multikey_1", 512, 1);
    return 0;
}
