/* vocab.c: byte-level BPE learning (see vocab.h) and the tokenizer.json
 * writer.
 *
 * The learner holds word types (with counts) as arrays of symbol ids, a
 * table of adjacent pairs (count, and the words that may contain the pair),
 * and a max-heap of (count, pair). Heap entries go stale when a pair's count
 * drops: a popped entry whose count is no longer the pair's is pushed again
 * with the current count. A pair whose count grows gets a fresh entry. So
 * every live pair always has an entry at least as large as its count, and
 * the first popped entry that is current is the true maximum. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "train/vocab.h"

#define GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

typedef struct vocab_token {
    uint32_t off, len; /* raw bytes in lcx_vocab.token_bytes */
} vocab_token;

struct lcx_vocab {
    strbuf token_bytes;      /* raw bytes of every token, back to back */
    vocab_token *tokens;     /* [n_tokens] by id */
    size_t n_tokens, tokens_cap;
    uint32_t *merge_ids;     /* [2 * n_merges]: left, right */
    uint32_t *merge_text_off; /* [n_merges] offsets into merge_text */
    strbuf merge_text;       /* "left right\0" per merge, byte-level alphabet */
    size_t n_merges, merges_cap;
    uint32_t byte_cp[256];   /* byte -> code point of its byte-level character */
    uint8_t id_byte[256];    /* ids 0..255 -> byte (GPT-2's order) */
};

/* ---- GPT-2's bytes-to-unicode map ---- */

static int printable_byte(int b)
{
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

static void byte_level_init(lcx_vocab *v)
{
    size_t n = 0;
    for (int b = 0; b < 256; b++)
        if (printable_byte(b)) {
            v->byte_cp[b] = (uint32_t)b;
            v->id_byte[n++] = (uint8_t)b;
        }
    uint32_t extra = 0;
    for (int b = 0; b < 256; b++)
        if (!printable_byte(b)) {
            v->byte_cp[b] = 256 + extra++;
            v->id_byte[n++] = (uint8_t)b;
        }
}

/* Append the byte-level spelling of raw bytes (each byte one character of
 * at most two UTF-8 bytes: code points stay below U+0144). */
static void put_byte_level(const lcx_vocab *v, strbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = v->byte_cp[(unsigned char)s[i]];
        if (cp < 0x80) {
            sb_putc(sb, (char)cp);
        } else {
            sb_putc(sb, (char)(0xC0 | (cp >> 6)));
            sb_putc(sb, (char)(0x80 | (cp & 0x3F)));
        }
    }
}

/* ---- hashing ---- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* An open-addressing set of indices into some table of byte strings; the
 * caller supplies how to read entry i's bytes. Slots hold index + 1. */
typedef struct str_index {
    uint32_t *slots;
    size_t mask, n;
} str_index;

typedef const char *(*str_of)(const void *owner, uint32_t i, size_t *len);

static int str_index_grow(str_index *ix, const void *owner, str_of get)
{
    size_t cap = ix->slots ? (ix->mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; ix->slots && i <= ix->mask; i++) {
        if (!ix->slots[i])
            continue;
        size_t len;
        const char *s = get(owner, ix->slots[i] - 1, &len);
        size_t j = hash_bytes(s, len) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = ix->slots[i];
    }
    free(ix->slots);
    ix->slots = slots;
    ix->mask = cap - 1;
    return 0;
}

/* Find s; *slot receives where it is or where it would go. */
static int64_t str_index_find(const str_index *ix, const void *owner, str_of get, const char *s,
                              size_t n, size_t *slot)
{
    size_t j = hash_bytes(s, n) & ix->mask;
    while (ix->slots[j]) {
        size_t len;
        const char *t = get(owner, ix->slots[j] - 1, &len);
        if (len == n && memcmp(s, t, n) == 0) {
            *slot = j;
            return ix->slots[j] - 1;
        }
        j = (j + 1) & ix->mask;
    }
    *slot = j;
    return -1;
}

static void str_index_free(str_index *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}

/* ---- the learner ---- */

typedef struct word {
    uint32_t off, n;  /* symbols in learner.syms[off .. off+n) (n shrinks as merges apply) */
    uint32_t stamp;   /* last merge step that rewrote this word */
    int64_t count;
} word;

typedef struct pair {
    uint32_t a, b;
    int64_t count;
    uint32_t *where; /* words that contained the pair when it was added; may repeat */
    uint32_t n_where, cap_where;
    uint32_t stamp;  /* last merge step whose count increase is pending a heap push */
} pair;

typedef struct heap_item {
    int64_t count;
    uint32_t pair;
} heap_item;

typedef struct learner {
    lcx_vocab *v;
    str_index token_ix;   /* raw bytes -> token id */
    /* words while counting: raw bytes in word_bytes */
    strbuf word_bytes;
    uint32_t *word_byte_off; /* [n_words + 1] */
    str_index word_ix;
    word *words;
    size_t n_words, cap_words;
    int32_t *syms;
    /* pairs */
    pair *pairs;
    size_t n_pairs, cap_pairs;
    uint32_t *pair_slots; /* open addressing: pair index + 1 */
    size_t pair_mask;
    heap_item *heap;
    size_t heap_n, heap_cap;
    uint32_t *touched;    /* pairs whose count grew in this step */
    size_t n_touched, cap_touched;
} learner;

static const char *token_str(const void *owner, uint32_t i, size_t *len)
{
    const lcx_vocab *v = owner;
    *len = v->tokens[i].len;
    return v->token_bytes.data + v->tokens[i].off;
}

static const char *word_str(const void *owner, uint32_t i, size_t *len)
{
    const learner *l = owner;
    *len = l->word_byte_off[i + 1] - l->word_byte_off[i];
    return l->word_bytes.data + l->word_byte_off[i];
}

/* Id of the token with these raw bytes, adding it when new; -1 on OOM. */
static int64_t token_intern(learner *l, const char *s, size_t n)
{
    lcx_vocab *v = l->v;
    if (!l->token_ix.slots || (l->token_ix.n + 1) * 2 > l->token_ix.mask + 1)
        if (str_index_grow(&l->token_ix, v, token_str))
            return -1;
    size_t slot;
    int64_t id = str_index_find(&l->token_ix, v, token_str, s, n, &slot);
    if (id >= 0)
        return id;
    if (v->n_tokens == v->tokens_cap) {
        size_t cap = v->tokens_cap ? v->tokens_cap * 2 : 1024;
        vocab_token *t = realloc(v->tokens, cap * sizeof *t);
        if (!t)
            return -1;
        v->tokens = t;
        v->tokens_cap = cap;
    }
    v->tokens[v->n_tokens].off = (uint32_t)v->token_bytes.len;
    v->tokens[v->n_tokens].len = (uint32_t)n;
    sb_append(&v->token_bytes, s, n);
    if (v->token_bytes.oom)
        return -1;
    l->token_ix.slots[slot] = (uint32_t)v->n_tokens + 1;
    l->token_ix.n++;
    return (int64_t)v->n_tokens++;
}

/* Count one word occurrence. */
static int word_add(learner *l, const char *s, size_t n)
{
    if (!l->word_ix.slots || (l->word_ix.n + 1) * 2 > l->word_ix.mask + 1)
        if (str_index_grow(&l->word_ix, l, word_str))
            return -1;
    size_t slot;
    int64_t w = str_index_find(&l->word_ix, l, word_str, s, n, &slot);
    if (w >= 0) {
        l->words[w].count++;
        return 0;
    }
    if (l->n_words + 1 >= l->cap_words) {
        size_t cap = l->cap_words ? l->cap_words * 2 : 4096;
        word *ws = realloc(l->words, cap * sizeof *ws);
        if (!ws)
            return -1;
        l->words = ws;
        uint32_t *offs = realloc(l->word_byte_off, (cap + 1) * sizeof *offs);
        if (!offs)
            return -1;
        l->word_byte_off = offs;
        l->cap_words = cap;
    }
    if (l->n_words == 0)
        l->word_byte_off[0] = 0;
    sb_append(&l->word_bytes, s, n);
    if (l->word_bytes.oom)
        return -1;
    l->word_byte_off[l->n_words + 1] = (uint32_t)l->word_bytes.len;
    memset(&l->words[l->n_words], 0, sizeof(word));
    l->words[l->n_words].count = 1;
    l->word_ix.slots[slot] = (uint32_t)l->n_words + 1;
    l->word_ix.n++;
    l->n_words++;
    return 0;
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Split text into words with the GPT-2 regex (gaps between matches are words
 * too, as the Isolated split keeps them) and count them. */
static int count_words(learner *l, const char *text, size_t len, lcx_err *err)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)GPT2_REGEX, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                   &code, &at, NULL);
    if (!re)
        return lcx_errf(err, LCX_EINTERNAL, "vocab: the GPT-2 regex does not compile (error %d)", code);
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = md ? 0 : lcx_errf(err, LCX_ENOMEM, "vocab: out of memory");
    size_t pos = 0, gap = 0;
    while (!rc && pos < len) {
        int m = pcre2_match(re, (PCRE2_SPTR)text, len, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (m == PCRE2_ERROR_JIT_STACKLIMIT)
            m = pcre2_match(re, (PCRE2_SPTR)text, len, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
        if (m == PCRE2_ERROR_NOMATCH)
            break;
        if (m < 0) {
            rc = lcx_errf(err, LCX_EINTERNAL, "vocab: regex match failed at byte %zu (error %d)", pos, m);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t start = ov[0], end = ov[1];
        if (start > gap && word_add(l, text + gap, start - gap))
            rc = lcx_errf(err, LCX_ENOMEM, "vocab: out of memory counting words");
        if (!rc && end > start && word_add(l, text + start, end - start))
            rc = lcx_errf(err, LCX_ENOMEM, "vocab: out of memory counting words");
        gap = end;
        pos = end > start ? end : end + utf8_len((unsigned char)text[end]);
    }
    if (!rc && len > gap && word_add(l, text + gap, len - gap))
        rc = lcx_errf(err, LCX_ENOMEM, "vocab: out of memory counting words");
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}

/* ---- pairs ---- */

static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return ((uint64_t)a << 32) | b;
}

static int pairs_grow(learner *l)
{
    size_t cap = l->pair_slots ? (l->pair_mask + 1) * 2 : 1 << 16;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t p = 0; p < l->n_pairs; p++) {
        size_t j = hash_u64(pair_key(l->pairs[p].a, l->pairs[p].b)) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)p + 1;
    }
    free(l->pair_slots);
    l->pair_slots = slots;
    l->pair_mask = cap - 1;
    return 0;
}

/* Index of pair (a, b), created with count 0 when new; -1 on OOM. */
static int64_t pair_get(learner *l, uint32_t a, uint32_t b)
{
    if (!l->pair_slots || (l->n_pairs + 1) * 2 > l->pair_mask + 1)
        if (pairs_grow(l))
            return -1;
    size_t j = hash_u64(pair_key(a, b)) & l->pair_mask;
    while (l->pair_slots[j]) {
        pair *p = &l->pairs[l->pair_slots[j] - 1];
        if (p->a == a && p->b == b)
            return l->pair_slots[j] - 1;
        j = (j + 1) & l->pair_mask;
    }
    if (l->n_pairs == l->cap_pairs) {
        size_t cap = l->cap_pairs ? l->cap_pairs * 2 : 1 << 15;
        pair *ps = realloc(l->pairs, cap * sizeof *ps);
        if (!ps)
            return -1;
        l->pairs = ps;
        l->cap_pairs = cap;
    }
    pair *p = &l->pairs[l->n_pairs];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    p->stamp = UINT32_MAX;
    l->pair_slots[j] = (uint32_t)l->n_pairs + 1;
    return (int64_t)l->n_pairs++;
}

static int pair_add_where(pair *p, uint32_t w)
{
    if (p->n_where && p->where[p->n_where - 1] == w)
        return 0;
    if (p->n_where == p->cap_where) {
        uint32_t cap = p->cap_where ? p->cap_where * 2 : 4;
        uint32_t *ws = realloc(p->where, cap * sizeof *ws);
        if (!ws)
            return -1;
        p->where = ws;
        p->cap_where = cap;
    }
    p->where[p->n_where++] = w;
    return 0;
}

/* Change pair (a, b)'s count by delta in word w; a growing pair is noted for
 * a heap push at the end of the step. */
static int pair_change(learner *l, uint32_t a, uint32_t b, int64_t delta, uint32_t w, uint32_t step)
{
    int64_t pi = pair_get(l, a, b);
    if (pi < 0)
        return -1;
    pair *p = &l->pairs[pi];
    p->count += delta;
    if (delta > 0) {
        if (pair_add_where(p, w))
            return -1;
        if (p->stamp != step) {
            p->stamp = step;
            if (l->n_touched == l->cap_touched) {
                size_t cap = l->cap_touched ? l->cap_touched * 2 : 256;
                uint32_t *t = realloc(l->touched, cap * sizeof *t);
                if (!t)
                    return -1;
                l->touched = t;
                l->cap_touched = cap;
            }
            l->touched[l->n_touched++] = (uint32_t)pi;
        }
    }
    return 0;
}

/* ---- the heap: largest count first, then the smallest (left, right) as raw bytes ---- */

static int bytes_cmp(const lcx_vocab *v, uint32_t x, uint32_t y)
{
    const vocab_token *a = &v->tokens[x], *b = &v->tokens[y];
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(v->token_bytes.data + a->off, v->token_bytes.data + b->off, n);
    if (c)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* 1 when item x should come out before item y. */
static int heap_before(const learner *l, const heap_item *x, const heap_item *y)
{
    if (x->count != y->count)
        return x->count > y->count;
    const pair *p = &l->pairs[x->pair], *q = &l->pairs[y->pair];
    int c = bytes_cmp(l->v, p->a, q->a);
    if (!c)
        c = bytes_cmp(l->v, p->b, q->b);
    return c < 0;
}

static int heap_push(learner *l, int64_t count, uint32_t p)
{
    if (l->heap_n == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 1 << 15;
        heap_item *h = realloc(l->heap, cap * sizeof *h);
        if (!h)
            return -1;
        l->heap = h;
        l->heap_cap = cap;
    }
    size_t i = l->heap_n++;
    heap_item item = {count, p};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(l, &item, &l->heap[parent]))
            break;
        l->heap[i] = l->heap[parent];
        i = parent;
    }
    l->heap[i] = item;
    return 0;
}

static heap_item heap_pop(learner *l)
{
    heap_item top = l->heap[0], last = l->heap[--l->heap_n];
    size_t i = 0, n = l->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_before(l, &l->heap[c + 1], &l->heap[c]))
            c++;
        if (!heap_before(l, &l->heap[c], &last))
            break;
        l->heap[i] = l->heap[c];
        i = c;
    }
    if (n)
        l->heap[i] = last;
    return top;
}

/* ---- merging ---- */

/* Replace every (a, b) in word w, left to right, by c, updating the counts
 * of the neighbouring pairs. */
static int merge_word(learner *l, uint32_t wi, uint32_t a, uint32_t b, uint32_t c, uint32_t step)
{
    word *w = &l->words[wi];
    int32_t *s = l->syms + w->off;
    uint32_t n = w->n, out = 0;
    int64_t k = w->count;
    for (uint32_t i = 0; i < n;) {
        if (i + 1 < n && (uint32_t)s[i] == a && (uint32_t)s[i + 1] == b) {
            if (out > 0 && (pair_change(l, (uint32_t)s[out - 1], a, -k, wi, step) ||
                            pair_change(l, (uint32_t)s[out - 1], c, k, wi, step)))
                return -1;
            if (i + 2 < n && (pair_change(l, b, (uint32_t)s[i + 2], -k, wi, step) ||
                              pair_change(l, c, (uint32_t)s[i + 2], k, wi, step)))
                return -1;
            s[out++] = (int32_t)c;
            i += 2;
        } else {
            s[out++] = s[i++];
        }
    }
    w->n = out;
    return 0;
}

static int record_merge(lcx_vocab *v, uint32_t a, uint32_t b)
{
    if (v->n_merges == v->merges_cap) {
        size_t cap = v->merges_cap ? v->merges_cap * 2 : 1024;
        uint32_t *ids = realloc(v->merge_ids, 2 * cap * sizeof *ids);
        if (!ids)
            return -1;
        v->merge_ids = ids;
        uint32_t *offs = realloc(v->merge_text_off, cap * sizeof *offs);
        if (!offs)
            return -1;
        v->merge_text_off = offs;
        v->merges_cap = cap;
    }
    v->merge_ids[2 * v->n_merges] = a;
    v->merge_ids[2 * v->n_merges + 1] = b;
    v->merge_text_off[v->n_merges] = (uint32_t)v->merge_text.len;
    put_byte_level(v, &v->merge_text, v->token_bytes.data + v->tokens[a].off, v->tokens[a].len);
    sb_putc(&v->merge_text, ' ');
    put_byte_level(v, &v->merge_text, v->token_bytes.data + v->tokens[b].off, v->tokens[b].len);
    sb_putc(&v->merge_text, '\0');
    v->n_merges++;
    return v->merge_text.oom ? -1 : 0;
}

static void learner_free(learner *l)
{
    str_index_free(&l->token_ix);
    str_index_free(&l->word_ix);
    sb_free(&l->word_bytes);
    free(l->word_byte_off);
    free(l->words);
    free(l->syms);
    for (size_t p = 0; p < l->n_pairs; p++)
        free(l->pairs[p].where);
    free(l->pairs);
    free(l->pair_slots);
    free(l->heap);
    free(l->touched);
}

static int learn(learner *l, const char *text, size_t len, size_t n_merges, lcx_err *err)
{
    lcx_vocab *v = l->v;
    for (int i = 0; i < 256; i++) {
        char byte = (char)v->id_byte[i];
        if (token_intern(l, &byte, 1) != i)
            return lcx_errf(err, LCX_ENOMEM, "vocab: out of memory");
    }
    int rc = count_words(l, text, len, err);
    if (rc)
        return rc;
    int32_t byte_id[256];
    for (int i = 0; i < 256; i++)
        byte_id[v->id_byte[i]] = i;
    l->syms = malloc((l->word_bytes.len + 1) * sizeof *l->syms);
    if (!l->syms)
        return lcx_errf(err, LCX_ENOMEM, "vocab: out of memory");
    for (size_t w = 0; w < l->n_words; w++) {
        word *wd = &l->words[w];
        wd->off = l->word_byte_off[w];
        wd->n = l->word_byte_off[w + 1] - wd->off;
        wd->stamp = UINT32_MAX;
        for (uint32_t i = 0; i < wd->n; i++)
            l->syms[wd->off + i] = byte_id[(unsigned char)l->word_bytes.data[wd->off + i]];
    }
    /* initial pair counts */
    for (size_t w = 0; w < l->n_words; w++) {
        const word *wd = &l->words[w];
        const int32_t *s = l->syms + wd->off;
        for (uint32_t i = 0; i + 1 < wd->n; i++)
            if (pair_change(l, (uint32_t)s[i], (uint32_t)s[i + 1], wd->count, (uint32_t)w, 0))
                return lcx_errf(err, LCX_ENOMEM, "vocab: out of memory counting pairs");
    }
    for (size_t t = 0; t < l->n_touched; t++)
        if (heap_push(l, l->pairs[l->touched[t]].count, l->touched[t]))
            return lcx_errf(err, LCX_ENOMEM, "vocab: out of memory");
    l->n_touched = 0;

    strbuf joined;
    sb_init(&joined);
    for (uint32_t step = 1; v->n_merges < n_merges && l->heap_n > 0;) {
        heap_item top = heap_pop(l);
        pair *p = &l->pairs[top.pair];
        if (p->count != top.count) {
            if (p->count > 0 && p->count < top.count && heap_push(l, p->count, top.pair)) {
                rc = -1;
                break;
            }
            continue;
        }
        if (p->count <= 0)
            continue;
        uint32_t a = p->a, b = p->b;
        sb_clear(&joined);
        sb_append(&joined, v->token_bytes.data + v->tokens[a].off, v->tokens[a].len);
        sb_append(&joined, v->token_bytes.data + v->tokens[b].off, v->tokens[b].len);
        int64_t c = joined.oom ? -1 : token_intern(l, joined.data, joined.len);
        if (c < 0 || record_merge(v, a, b)) {
            rc = -1;
            break;
        }
        /* merge_word may grow l->pairs: take the word list out first */
        uint32_t *where = p->where, n_where = p->n_where;
        p->where = NULL;
        p->n_where = p->cap_where = 0;
        for (uint32_t i = 0; i < n_where && !rc; i++) {
            word *wd = &l->words[where[i]];
            if (wd->stamp == step)
                continue;
            wd->stamp = step;
            if (merge_word(l, where[i], a, b, (uint32_t)c, step))
                rc = -1;
        }
        free(where);
        l->pairs[top.pair].count = 0;
        for (size_t t = 0; t < l->n_touched && !rc; t++) {
            const pair *q = &l->pairs[l->touched[t]];
            if (q->count > 0 && heap_push(l, q->count, l->touched[t]))
                rc = -1;
        }
        l->n_touched = 0;
        step++;
    }
    sb_free(&joined);
    return rc ? lcx_errf(err, LCX_ENOMEM, "vocab: out of memory while merging") : 0;
}

int lcx_vocab_learn(const char *text, size_t len, size_t n_merges, lcx_vocab **out, lcx_err *err)
{
    *out = NULL;
    size_t bad;
    if (!lcx_utf8_valid(text, len, &bad))
        return lcx_errf(err, LCX_EINPUT, "vocab: training text: invalid UTF-8 at byte %zu", bad);
    if (len > UINT32_MAX / 2)
        return lcx_errf(err, LCX_EINPUT, "vocab: training text: %zu bytes is more than the 2 GB limit", len);
    lcx_vocab *v = calloc(1, sizeof *v);
    if (!v)
        return lcx_errf(err, LCX_ENOMEM, "vocab: out of memory");
    byte_level_init(v);
    learner l;
    memset(&l, 0, sizeof l);
    l.v = v;
    int rc = learn(&l, text, len, n_merges, err);
    learner_free(&l);
    if (rc) {
        lcx_vocab_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void lcx_vocab_free(lcx_vocab *v)
{
    if (!v)
        return;
    sb_free(&v->token_bytes);
    free(v->tokens);
    free(v->merge_ids);
    free(v->merge_text_off);
    sb_free(&v->merge_text);
    free(v);
}

size_t lcx_vocab_merge_count(const lcx_vocab *v)
{
    return v->n_merges;
}

size_t lcx_vocab_size(const lcx_vocab *v)
{
    return v->n_tokens;
}

const char *lcx_vocab_merge(const lcx_vocab *v, size_t k)
{
    return k < v->n_merges ? v->merge_text.data + v->merge_text_off[k] : NULL;
}

/* ---- tokenizer.json ---- */

/* A JSON string literal of UTF-8 text. */
static void put_json_string(strbuf *sb, const char *s, size_t n)
{
    sb_putc(sb, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            sb_putc(sb, '\\');
            sb_putc(sb, (char)c);
        } else if (c < 0x20) {
            sb_printf(sb, "\\u%04x", c);
        } else {
            sb_putc(sb, (char)c);
        }
    }
    sb_putc(sb, '"');
}

static void put_added(strbuf *sb, size_t id, const char *content)
{
    sb_printf(sb, "    {\"id\": %zu, \"content\": ", id);
    put_json_string(sb, content, strlen(content));
    sb_puts(sb, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                "\"normalized\": false, \"special\": true}");
}

int lcx_vocab_json(const lcx_vocab *v, char **json, size_t *len, lcx_err *err)
{
    size_t eos = v->n_tokens, pad = v->n_tokens + 1;
    strbuf sb, tok;
    sb_init(&sb);
    sb_init(&tok);
    sb_puts(&sb, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
                 "  \"added_tokens\": [\n");
    put_added(&sb, eos, LCX_VOCAB_EOS);
    sb_puts(&sb, ",\n");
    put_added(&sb, pad, LCX_VOCAB_PAD);
    sb_puts(&sb, "\n  ],\n  \"normalizer\": null,\n"
                 "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                 "\"trim_offsets\": true, \"use_regex\": true},\n");
    sb_printf(&sb,
              "  \"post_processor\": {\"type\": \"TemplateProcessing\",\n"
              "    \"single\": [{\"SpecialToken\": {\"id\": \"%s\", \"type_id\": 0}}, "
              "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}],\n"
              "    \"pair\": [{\"SpecialToken\": {\"id\": \"%s\", \"type_id\": 0}}, "
              "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, "
              "{\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}],\n"
              "    \"special_tokens\": {\"%s\": {\"id\": \"%s\", \"ids\": [%zu], \"tokens\": [\"%s\"]}}},\n",
              LCX_VOCAB_EOS, LCX_VOCAB_EOS, LCX_VOCAB_EOS, LCX_VOCAB_EOS, eos, LCX_VOCAB_EOS);
    sb_puts(&sb, "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                 "\"trim_offsets\": true, \"use_regex\": true},\n"
                 "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
                 "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
                 "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
                 "    \"vocab\": {\n");
    for (size_t id = 0; id < v->n_tokens; id++) {
        sb_clear(&tok);
        put_byte_level(v, &tok, v->token_bytes.data + v->tokens[id].off, v->tokens[id].len);
        sb_puts(&sb, "      ");
        put_json_string(&sb, sb_str(&tok), tok.len);
        sb_printf(&sb, ": %zu,\n", id);
    }
    sb_printf(&sb, "      \"%s\": %zu,\n      \"%s\": %zu\n    },\n    \"merges\": [", LCX_VOCAB_EOS, eos,
              LCX_VOCAB_PAD, pad);
    for (size_t k = 0; k < v->n_merges; k++) {
        const char *m = lcx_vocab_merge(v, k);
        sb_puts(&sb, k ? ",\n      " : "\n      ");
        put_json_string(&sb, m, strlen(m));
    }
    sb_puts(&sb, v->n_merges ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n");
    sb_free(&tok);
    if (sb.oom) {
        sb_free(&sb);
        return lcx_errf(err, LCX_ENOMEM, "vocab: out of memory writing tokenizer.json");
    }
    *len = sb.len;
    *json = sb_take(&sb);
    return 0;
}

int lcx_vocab_save(const lcx_vocab *v, const char *path, lcx_err *err)
{
    char *json;
    size_t len;
    int rc = lcx_vocab_json(v, &json, &len, err);
    if (rc)
        return rc;
    rc = lcx_write_file_atomic(path, json, len, err);
    free(json);
    return rc;
}

/* ---- the training text ---- */

static void put_sample(strbuf *sb, const lcx_sample *s)
{
    sb_puts(sb, s->input);
    sb_puts(sb, s->answer_prefix);
    sb_putc(sb, ' ');
    for (size_t k = 0; k < s->n_outputs; k++) {
        if (k)
            sb_puts(sb, ", ");
        sb_puts(sb, s->outputs[k]);
    }
    sb_putc(sb, '\n');
}

/* Samples 0..n-1 of one (task, length); a sample whose smallest prompt does
 * not fit (keys differ in length from sample to sample) is left out. */
static int gen_into(strbuf *sb, const lcx_gen_ctx *ctx, size_t n, lcx_err *err)
{
    lcx_sample *samples = calloc(n, sizeof *samples);
    int *status = calloc(n, sizeof *status);
    if (!samples || !status) {
        free(samples);
        free(status);
        return lcx_errf(err, LCX_ENOMEM, "vocab: out of memory");
    }
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t i = 0; i < n; i++) {
        lcx_err e;
        status[i] = lcx_gen_sample(ctx, i, &samples[i], &e);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (status[i] == LCX_OK)
            put_sample(sb, &samples[i]);
        else if (status[i] != LCX_EINPUT && !rc)
            rc = lcx_errf(err, status[i], "vocab: generating %s sample %zu at %zu bytes failed",
                          ctx->task->name, i, ctx->max_length);
        lcx_sample_free(&samples[i]);
    }
    free(samples);
    free(status);
    return rc;
}

int lcx_train_seed(uint64_t *seed, const char *what, lcx_err *err)
{
    if (!*seed)
        *seed = LCX_TRAIN_SEED_MIN;
    if (*seed < LCX_TRAIN_SEED_MIN)
        return lcx_errf(err, LCX_EINPUT, "%s: seed %llu is in the evaluation range (training seeds are >= %llu)",
                        what, (unsigned long long)*seed, LCX_TRAIN_SEED_MIN);
    return 0;
}

int lcx_vocab_sample_text(const lcx_task_data *data, const lcx_vocab_text_opts *opts, char **text,
                          size_t *len, lcx_err *err)
{
    static const size_t default_lengths[] = {512, 1024};
    lcx_vocab_text_opts o = opts ? *opts : (lcx_vocab_text_opts){0};
    int rc = lcx_train_seed(&o.seed, "vocab", err);
    if (rc)
        return rc;
    if (!o.samples)
        o.samples = 64;
    if (!o.lengths || !o.n_lengths) {
        o.lengths = default_lengths;
        o.n_lengths = sizeof default_lengths / sizeof *default_lengths;
    }
    const lcx_template *tmpl = lcx_template_find(o.template_name ? o.template_name : "base");
    if (!tmpl)
        return lcx_errf(err, LCX_EINPUT, "vocab: unknown template \"%.60s\"", o.template_name);
    lcx_counter counter = lcx_byte_counter();
    strbuf sb;
    sb_init(&sb);
    rc = 0;
    for (size_t t = 0; t < lcx_task_count() && !rc; t++) {
        lcx_gen_ctx ctx = {lcx_task_at(t), data, tmpl, &counter, 0, o.seed, 0};
        size_t done = 0, longest = 0;
        for (size_t k = 0; k < o.n_lengths && !rc; k++) {
            ctx.max_length = o.lengths[k];
            longest = o.lengths[k] > longest ? o.lengths[k] : longest;
            lcx_err fit;
            if (lcx_gen_check_length(&ctx, &fit))
                continue;
            rc = gen_into(&sb, &ctx, o.samples, err);
            done++;
        }
        /* A task too long for every length: the smallest doubling that fits. */
        for (ctx.max_length = longest * 2; !rc && !done && ctx.max_length <= ((size_t)1 << 20);
             ctx.max_length *= 2) {
            lcx_err fit;
            if (lcx_gen_check_length(&ctx, &fit))
                continue;
            rc = gen_into(&sb, &ctx, o.samples, err);
            done++;
        }
        if (!rc && !done)
            rc = lcx_errf(err, LCX_EINPUT, "vocab: task %s fits no length up to 1M bytes", ctx.task->name);
    }
    if (!rc && sb.oom)
        rc = lcx_errf(err, LCX_ENOMEM, "vocab: out of memory building the training text");
    if (rc) {
        sb_free(&sb);
        return rc;
    }
    *len = sb.len;
    *text = sb_take(&sb);
    return 0;
}
