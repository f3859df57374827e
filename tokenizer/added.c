/* added.c: added and special tokens, found in the text the way
 * the Rust AddedVocabulary does: leftmost-longest matches, then the
 * single_word, lstrip and rstrip rules. Tokens with normalized=false are
 * searched in the raw text, those with normalized=true in normalized text. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"
#include "tokenizer/unicode.h"

typedef struct added_ref { uint32_t index; const tok_added *tok; } added_ref;

static int by_first_byte_then_longest(const void *a, const void *b)
{
    const tok_added *x = ((const added_ref *)a)->tok, *y = ((const added_ref *)b)->tok;
    unsigned char fx = (unsigned char)x->match[0], fy = (unsigned char)y->match[0];
    if (fx != fy)
        return fx < fy ? -1 : 1;
    if (x->match_len != y->match_len)
        return x->match_len > y->match_len ? -1 : 1;
    uint32_t ix = ((const added_ref *)a)->index, iy = ((const added_ref *)b)->index;
    return ix < iy ? -1 : ix > iy;
}

static int set_build(const lcx_tokenizer *tok, tok_added_set *set, int normalized)
{
    size_t n = 0;
    for (size_t i = 0; i < tok->n_added; i++)
        n += tok->added[i].normalized == normalized && tok->added[i].match_len > 0;
    added_ref *refs = calloc(n ? n : 1, sizeof *refs);
    set->order = calloc(n ? n : 1, sizeof *set->order);
    if (!refs || !set->order) {
        free(refs);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < tok->n_added; i++)
        if (tok->added[i].normalized == normalized && tok->added[i].match_len > 0)
            refs[k++] = (added_ref){(uint32_t)i, &tok->added[i]};
    qsort(refs, n, sizeof *refs, by_first_byte_then_longest);
    memset(set->first, 0, sizeof set->first);
    for (size_t i = 0; i < n; i++) {
        set->order[i] = refs[i].index;
        set->first[(unsigned char)refs[i].tok->match[0] + 1]++;
    }
    for (int b = 0; b < 256; b++)
        set->first[b + 1] += set->first[b];
    set->n = n;
    free(refs);
    return 0;
}

int tok_added_build(lcx_tokenizer *tok, lcx_err *err)
{
    if (set_build(tok, &tok->raw_set, 0) || set_build(tok, &tok->norm_set, 1))
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory building added tokens", tok->source);
    return 0;
}

void tok_added_set_free(tok_added_set *set)
{
    free(set->order);
    memset(set, 0, sizeof *set);
}

/* The longest token of the set starting at s[0..n), or NULL. */
static const tok_added *longest_at(const lcx_tokenizer *tok, const tok_added_set *set, const char *s,
                                   size_t n)
{
    unsigned char b = (unsigned char)s[0];
    for (uint32_t i = set->first[b]; i < set->first[b + 1]; i++) {
        const tok_added *a = &tok->added[set->order[i]];
        if (a->match_len <= n && memcmp(s, a->match, a->match_len) == 0)
            return a;
    }
    return NULL;
}

static uint32_t last_char(const char *s, size_t n, size_t *start)
{
    size_t b = n - 1, k;
    while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
        b--;
    *start = b;
    return tok_utf8_decode(s + b, n - b, &k);
}

/* \w of the Rust regex crate, which the reference uses for single_word. */
static int is_word_char(uint32_t cp)
{
    return tok_is_word(cp);
}

static int ends_with_word(const char *s, size_t n)
{
    size_t b;
    return n > 0 && is_word_char(last_char(s, n, &b));
}

static int starts_with_word(const char *s, size_t n)
{
    size_t k;
    return n > 0 && is_word_char(tok_utf8_decode(s, n, &k));
}

/* Where the trailing whitespace of s[0..n) starts. */
static size_t trailing_space_start(const char *s, size_t n)
{
    size_t b;
    while (n > 0 && tok_is_whitespace(last_char(s, n, &b)))
        n = b;
    return n;
}

static size_t leading_space_len(const char *s, size_t n)
{
    size_t i = 0, k;
    while (i < n && tok_is_whitespace(tok_utf8_decode(s + i, n - i, &k)))
        i += k;
    return i;
}

static int pieces_push(tok_added_pieces *p, size_t start, size_t end, int32_t id)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        tok_added_piece *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (tok_added_piece){start, end, id};
    return 0;
}

int tok_added_split(const lcx_tokenizer *tok, const tok_added_set *set, const char *s, size_t n,
                    tok_added_pieces *out)
{
    size_t done = 0, pos = 0;
    out->n = 0;
    while (set->n && pos < n) {
        const tok_added *a = longest_at(tok, set, s + pos, n - pos);
        if (!a) {
            pos++;
            continue;
        }
        size_t start = pos, stop = pos + a->match_len;
        pos = stop; /* the search goes on after the match itself */
        if (a->single_word && ((start > 0 && ends_with_word(s, start)) ||
                               (stop < n && starts_with_word(s + stop, n - stop))))
            continue;
        if (a->lstrip) {
            size_t ls = trailing_space_start(s, start);
            start = ls > done ? ls : done;
        }
        if (a->rstrip)
            stop += leading_space_len(s + stop, n - stop);
        if (start < done)
            start = done;
        if (start > done && pieces_push(out, done, start, -1))
            return -1;
        if (pieces_push(out, start, stop, a->id))
            return -1;
        done = stop;
        if (pos < done)
            pos = done;
    }
    if (done < n || n == 0)
        return pieces_push(out, done, n, -1);
    return 0;
}
