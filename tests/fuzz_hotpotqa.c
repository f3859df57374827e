/* fuzz_hotpotqa.c: libFuzzer target: arbitrary bytes as a HotpotQA dev-distractor JSON (lcx run --hotpotqa)
 * (tasks/data.c, lcx_task_data_set_qa). An accepted set gives qa_2 samples:
 * the first questions, at two lengths. */
#include <stdint.h>

#include "fuzz_task_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_err err = {0};
    if (lcx_task_data_set_qa(fuzz_data(), QA_HOTPOTQA, (const char *)data, size, "hotpotqa.json", &err)) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    fuzz_gen("qa_2", FUZZ_MAX_LENGTH, 0);
    fuzz_gen("qa_2", 256, 1);
    return 0;
}
