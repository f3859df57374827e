/* unicode.c: UTF-8 helpers, lossy decoding, Unicode classes and
 * NFC (canonical decomposition, canonical ordering, canonical composition). */
#include "tokenizer/unicode.h"

#include <stdlib.h>
#include <string.h>

enum { HANGUL_S = 0xAC00, HANGUL_L = 0x1100, HANGUL_V = 0x1161, HANGUL_T = 0x11A7,
       HANGUL_LCOUNT = 19, HANGUL_VCOUNT = 21, HANGUL_TCOUNT = 28,
       HANGUL_NCOUNT = HANGUL_VCOUNT * HANGUL_TCOUNT, HANGUL_SCOUNT = HANGUL_LCOUNT * HANGUL_NCOUNT };

uint32_t tok_utf8_decode(const char *s, size_t n, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = tok_utf8_seq_len(u[0]);
    if (k > n)
        k = 1;
    *len = k;
    switch (k) {
    case 2: return ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
    case 3: return ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    case 4:
        return ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
               ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
    default: return u[0];
    }
}

size_t tok_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t tok_utf8_seq_len(unsigned char b)
{
    if (b < 0xC0)
        return 1;
    if (b < 0xE0)
        return 2;
    if (b < 0xF0)
        return 3;
    return b < 0xF8 ? 4 : 1;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid; *good
 * gets the length of the longest prefix that could still start a valid
 * sequence (the "maximal subpart" that becomes one U+FFFD). */
static size_t utf8_valid_seq(const unsigned char *s, size_t n, size_t *good)
{
    unsigned char b = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    *good = 1;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF)
        need = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else
        return 0;
    for (size_t i = 1; i < need; i++) {
        if (i >= n)
            return 0;
        unsigned char c = s[i];
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (c < l || c > h)
            return 0;
        *good = i + 1;
    }
    return need;
}

size_t tok_utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, good;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_valid_seq(u + i, n - i, &good);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

void tok_utf8_lossy(strbuf *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, good;
    while (i < n) {
        size_t start = i;
        while (i < n && u[i] < 0x80)
            i++;
        for (;;) {
            if (i >= n || u[i] < 0x80)
                break;
            size_t k = utf8_valid_seq(u + i, n - i, &good);
            if (!k)
                break;
            i += k;
        }
        sb_append(out, s + start, i - start);
        if (i < n && u[i] >= 0x80) {
            utf8_valid_seq(u + i, n - i, &good);
            sb_append(out, "\xEF\xBF\xBD", 3);
            i += good;
        }
    }
}

int tok_is_whitespace(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    return lcx_cp_in_ranges(tok_white_space, tok_white_space_len, cp);
}

int tok_is_alnum(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    return lcx_cp_in_ranges(tok_alnum, tok_alnum_len, cp);
}

int tok_is_word(uint32_t cp)
{
    if (cp < 0x80)
        return cp == '_' || (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    return lcx_cp_in_ranges(tok_word, tok_word_len, cp);
}

static uint8_t ccc_of(uint32_t cp)
{
    if (cp < 0x300)
        return 0;
    size_t lo = 0, hi = tok_ccc_table_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < tok_ccc_table[mid].lo)
            hi = mid;
        else if (cp > tok_ccc_table[mid].hi)
            lo = mid + 1;
        else
            return tok_ccc_table[mid].ccc;
    }
    return 0;
}

static const tok_decomp *decomp_of(uint32_t cp)
{
    size_t lo = 0, hi = tok_decomp_table_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < tok_decomp_table[mid].cp)
            hi = mid;
        else if (cp > tok_decomp_table[mid].cp)
            lo = mid + 1;
        else
            return &tok_decomp_table[mid];
    }
    return NULL;
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= HANGUL_L && a < HANGUL_L + HANGUL_LCOUNT && b >= HANGUL_V && b < HANGUL_V + HANGUL_VCOUNT)
        return HANGUL_S + ((a - HANGUL_L) * HANGUL_VCOUNT + (b - HANGUL_V)) * HANGUL_TCOUNT;
    if (a >= HANGUL_S && a < HANGUL_S + HANGUL_SCOUNT && (a - HANGUL_S) % HANGUL_TCOUNT == 0 &&
        b > HANGUL_T && b < HANGUL_T + HANGUL_TCOUNT)
        return a + (b - HANGUL_T);
    size_t lo = 0, hi = tok_compose_table_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const tok_compose *c = &tok_compose_table[mid];
        if (a < c->first || (a == c->first && b < c->second))
            hi = mid;
        else if (a > c->first || b > c->second)
            lo = mid + 1;
        else
            return c->composite;
    }
    return 0;
}

int tok_nfc_is_stable(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k;
    while (i < n) {
        if (u[i] < 0xCC) { /* below U+0300 every character is stable */
            i++;
            continue;
        }
        uint32_t cp = tok_utf8_decode(s + i, n - i, &k);
        if (cp >= 0x300 && lcx_cp_in_ranges(tok_nfc_unstable, tok_nfc_unstable_len, cp))
            return 0;
        i += k;
    }
    return 1;
}

typedef struct cp_vec {
    uint32_t *v;
    size_t n, cap;
} cp_vec;

static int cp_push(cp_vec *c, uint32_t cp)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        uint32_t *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return -1;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = cp;
    return 0;
}

static int decompose_into(cp_vec *c, uint32_t cp)
{
    if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SCOUNT) {
        uint32_t si = cp - HANGUL_S;
        int rc = cp_push(c, HANGUL_L + si / HANGUL_NCOUNT);
        rc |= cp_push(c, HANGUL_V + (si % HANGUL_NCOUNT) / HANGUL_TCOUNT);
        if (si % HANGUL_TCOUNT)
            rc |= cp_push(c, HANGUL_T + si % HANGUL_TCOUNT);
        return rc;
    }
    const tok_decomp *d = cp >= 0xC0 ? decomp_of(cp) : NULL;
    if (!d)
        return cp_push(c, cp);
    for (size_t i = 0; i < d->len; i++)
        if (cp_push(c, tok_decomp_pool[d->off + i]))
            return -1;
    return 0;
}

/* Stable insertion sort of each run of non-starters by combining class. */
static void canonical_order(cp_vec *c)
{
    for (size_t i = 1; i < c->n; i++) {
        uint8_t cc = ccc_of(c->v[i]);
        if (!cc)
            continue;
        size_t j = i;
        uint32_t cp = c->v[i];
        while (j > 0) {
            uint8_t prev = ccc_of(c->v[j - 1]);
            if (!prev || prev <= cc)
                break;
            c->v[j] = c->v[j - 1];
            j--;
        }
        c->v[j] = cp;
    }
}

static void canonical_compose(cp_vec *c)
{
    if (!c->n)
        return;
    size_t starter = 0, out = 1;
    int have_starter = ccc_of(c->v[0]) == 0;
    int last_ccc = have_starter ? 0 : 256;
    for (size_t i = 1; i < c->n; i++) {
        uint32_t cp = c->v[i];
        int cc = ccc_of(cp);
        if (have_starter && (last_ccc < cc || (last_ccc == 0 && out == starter + 1))) {
            uint32_t comp = compose_pair(c->v[starter], cp);
            if (comp) {
                c->v[starter] = comp;
                continue;
            }
        }
        if (cc == 0) {
            starter = out;
            have_starter = 1;
        }
        last_ccc = cc;
        c->v[out++] = cp;
    }
    c->n = out;
}

void tok_nfc(strbuf *out, const char *s, size_t n)
{
    if (tok_nfc_is_stable(s, n)) {
        sb_append(out, s, n);
        return;
    }
    cp_vec c = {0};
    size_t i = 0, k;
    while (i < n) {
        if (decompose_into(&c, tok_utf8_decode(s + i, n - i, &k))) {
            free(c.v);
            out->oom = 1;
            return;
        }
        i += k;
    }
    canonical_order(&c);
    canonical_compose(&c);
    char buf[4];
    for (size_t j = 0; j < c.n; j++)
        sb_append(out, buf, tok_utf8_encode(c.v[j], buf));
    free(c.v);
}
