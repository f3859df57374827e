#include "counter.h"

static size_t count_bytes(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    (void)text;
    return len;
}

lcx_counter lcx_byte_counter(void)
{
    lcx_counter c = {"bytes", count_bytes, NULL};
    return c;
}
