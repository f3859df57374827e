/* utf8.h: UTF-8 validation. */
#ifndef LCX_UTF8_H
#define LCX_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF); otherwise 0 and *bad = offset of the first bad byte. */
int lcx_utf8_valid(const char *s, size_t len, size_t *bad);

#endif
