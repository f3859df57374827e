#include "counter_select.h"

#include <string.h>

int lcx_counter_select(const char *tokenizer_path, lcx_counter_choice *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    if (!tokenizer_path) {
        out->counter = lcx_byte_counter();
        return 0;
    }
    return lcx_errf(err, LCX_EINPUT, "%s: --tokenizer needs the Hugging Face tokenizer, "
                    "which this build does not have yet", tokenizer_path);
}

void lcx_counter_release(lcx_counter_choice *c)
{
    (void)c;
}
