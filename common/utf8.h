/* utf8.h: UTF-8 validation. */
#ifndef LCX_UTF8_H
#define LCX_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..len) is valid UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF); otherwise 0 and *bad = offset of the first bad byte. */
int lcx_utf8_valid(const char *s, size_t len, size_t *bad);

/* A closed range of code points; tables of them are sorted and disjoint. */
typedef struct lcx_cp_range {
    uint32_t lo, hi;
} lcx_cp_range;
/* 1 when cp lies in one of r[0..n) (binary search). */
int lcx_cp_in_ranges(const lcx_cp_range *r, size_t n, uint32_t cp);

#endif
