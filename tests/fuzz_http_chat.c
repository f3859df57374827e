/* fuzz_http_chat.c: libFuzzer target: arbitrary bytes as the body of a 200
 * reply to POST /v1/chat/completions (OpenAI chat) (harness/backend_http.c,
 * lcx_backend_http_parse_reply). */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz_http_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_http_reply(API_CHAT, data, size);
}
