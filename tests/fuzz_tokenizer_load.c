/* fuzz_tokenizer_load.c: libFuzzer target: arbitrary bytes as tokenizer.json.
 * Loading must fail cleanly or succeed; a loaded tokenizer must encode and
 * decode a fixed text without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    if (lcx_tokenizer_load_json((const char *)data, size, "fuzz.json", &tok, &err))
        return 0;
    static const char text[] = "Hello world's  THE'LL\r\n 123 \xe4\xbd\xa0 <s> <|im_start|> e\xcc\x81 \xff";
    int32_t *ids = NULL;
    size_t n = 0;
    if (lcx_tokenizer_encode(tok, text, sizeof text - 1, 1, &ids, &n, &err) == 0) {
        char *out = NULL;
        size_t len = 0;
        if (lcx_tokenizer_decode(tok, ids, n, 0, &out, &len, &err) == 0)
            free(out);
        free(ids);
    }
    lcx_tokenizer_count(tok, text, sizeof text - 1);
    lcx_tokenizer_free(tok);
    return 0;
}
