/* fuzz_http_tokenize.c: libFuzzer target: arbitrary bytes as the body of a
 * 200 reply to POST /tokenize, vLLM's {"count", "tokens"} or llama.cpp's
 * {"tokens": [...]} (harness/remote_count.c, lcx_remote_count_parse_reply).
 * A count is returned exactly when it is >= 0. */
#include <stdint.h>
#include <stdlib.h>

#include "harness/remote_count.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long count = 0;
    lcx_err err = {0};
    int rc = lcx_remote_count_parse_reply((const char *)data, size, &count, &err);
    if ((rc == 0) != (count >= 0) || (rc && !err.msg[0]))
        abort();
    return 0;
}
