/* pylower.c: Python's str.lower() (pylower.h). */
#include "results/pylower.h"

/* Decode one UTF-8 character at s[0..n): its length, or 0 when invalid. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] > 0xf4 || len == 0 || len > n)
        return 0;
    uint32_t v = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) || (len == 4 && (v < 0x10000 || v > 0x10ffff)))
        return 0;
    *cp = v;
    return len;
}

static void encode(uint32_t cp, strbuf *out)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    sb_append(out, b, n);
}

static int cased(uint32_t cp) { return lcx_cp_in_ranges(lcx_pylower_cased, lcx_pylower_cased_n, cp); }
static int ignorable(uint32_t cp) { return lcx_cp_in_ranges(lcx_pylower_ignorable, lcx_pylower_ignorable_n, cp); }

static uint32_t lower_single(uint32_t cp)
{
    size_t lo = 0, hi = lcx_pylower_single_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < lcx_pylower_single[mid].cp)
            hi = mid;
        else if (cp > lcx_pylower_single[mid].cp)
            lo = mid + 1;
        else
            return lcx_pylower_single[mid].lower;
    }
    return cp;
}

/* The character that starts before byte i (i > 0): its start. */
static size_t prev_start(const unsigned char *s, size_t i)
{
    size_t j = i - 1;
    while (j > 0 && (s[j] & 0xc0) == 0x80 && i - j < 4)
        j--;
    return j;
}

/* CPython's handle_capital_sigma: final when a cased character precedes
 * (skipping case-ignorable ones) and none follows. */
static int final_sigma(const unsigned char *s, size_t n, size_t at, size_t len)
{
    uint32_t c = 0;
    size_t i = at;
    int found = 0;
    while (i > 0) {
        size_t j = prev_start(s, i);
        if (!decode(s + j, n - j, &c)) {
            found = 1; /* an invalid byte: neither cased nor ignorable */
            c = 0;
            break;
        }
        i = j;
        if (!ignorable(c)) {
            found = 1;
            break;
        }
    }
    if (!found || !cased(c))
        return 0;
    for (i = at + len; i < n;) {
        size_t k = decode(s + i, n - i, &c);
        if (!k)
            return 1;
        if (!ignorable(c))
            return !cased(c);
        i += k;
    }
    return 1;
}

void lcx_py_lower(const char *str, size_t n, strbuf *out)
{
    const unsigned char *s = (const unsigned char *)str;
    sb_reserve(out, n);
    for (size_t i = 0; i < n;) {
        /* ASCII runs: the common case. */
        if (s[i] < 0x80) {
            char c = (char)s[i];
            sb_putc(out, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = decode(s + i, n - i, &cp);
        if (!k) {
            sb_append(out, (const char *)s + i, 1);
            i++;
            continue;
        }
        if (cp == 0x3a3) {
            encode(final_sigma(s, n, i, k) ? 0x3c2 : 0x3c3, out);
        } else {
            int done = 0;
            for (size_t m = 0; m < lcx_pylower_multi_n && !done; m++)
                if (lcx_pylower_multi_map[m].cp == cp) {
                    for (int q = 0; q < lcx_pylower_multi_map[m].n; q++)
                        encode(lcx_pylower_multi_map[m].lower[q], out);
                    done = 1;
                }
            if (!done)
                encode(lower_single(cp), out);
        }
        i += k;
    }
}
