#include "counter.h"

static size_t count_bytes(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    (void)text;
    return len;
}

lcx_counter lcx_byte_counter(void)
{
    lcx_counter c = {"bytes", count_bytes, NULL,
                     LCX_COUNT_CUT_SPACE | LCX_COUNT_CUT_NEWLINES | LCX_COUNT_CUT_NEWLINE_SINGLE};
    return c;
}
