/* pylower.h: Python's str.lower() on UTF-8, which RULER's metrics apply to
 * the prediction and to each reference before the substring test
 * (`r.lower() in pred.lower()`): the full lowercase mapping (İ becomes
 * "i̇", two characters), and U+03A3 Σ becomes final ς or σ by the
 * Final_Sigma rule (cased letter before, none after, skipping
 * case-ignorable characters), exactly as CPython's lower() does. Nothing
 * else is folded: ς, σ and U+0345 stay as they are (unlike casefold() or
 * PCRE2's caseless matching). Unicode data: up to 13.0, the version of
 * Python 3.10 in RULER's Docker image (scripts/gen_pylower_tables.py). */
#ifndef LCX_PYLOWER_H
#define LCX_PYLOWER_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "common/utf8.h"

/* Append lower(s[0..n)) to out. Invalid UTF-8 bytes are copied as they are. */
void lcx_py_lower(const char *s, size_t n, strbuf *out);

/* The tables (results/pylower_tables.c). */
typedef struct pylower_pair {
    uint32_t cp, lower;
} pylower_pair;
typedef struct pylower_multi {
    uint32_t cp;
    int n;
    uint32_t lower[3];
} pylower_multi;
typedef lcx_cp_range pylower_range; /* common/utf8.h */

extern const pylower_pair lcx_pylower_single[];
extern const size_t lcx_pylower_single_n;
extern const pylower_multi lcx_pylower_multi_map[];
extern const size_t lcx_pylower_multi_n;
extern const pylower_range lcx_pylower_cased[];
extern const size_t lcx_pylower_cased_n;
extern const pylower_range lcx_pylower_ignorable[];
extern const size_t lcx_pylower_ignorable_n;

#endif
