/* fuzz_http_models.c: libFuzzer target: arbitrary bytes as the body of a
 * GET /v1/models reply, whose data[0].id names the served model when no
 * --model-name is given (harness/backend_http.c,
 * lcx_backend_http_parse_models). The name must fit the buffer,
 * NUL-terminated, or be refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/backend_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = {512, 8, 1};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char *model = malloc(sizes[k]); /* exact size: ASan sees any overrun */
        if (!model)
            return 0;
        lcx_err err = {0};
        if (lcx_backend_http_parse_models((const char *)data, size, model, sizes[k], &err) == 0) {
            if (!memchr(model, '\0', sizes[k]) || strlen(model) > size)
                abort();
        } else if (!err.msg[0]) {
            abort();
        }
        free(model);
    }
    return 0;
}
