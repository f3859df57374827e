/* count_cache.c: token counts of prompt chunks, remembered across the
 * probes of a length search and across the samples of a (task, length), so
 * that a probe costs a pass of hashing instead of a pass of tokenization
 * (gen_internal.h). Keys are 64-bit hashes of the chunk bytes; 64 stripes,
 * each an open-addressing table under its own lock. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tasks/gen_internal.h"

enum { STRIPES = 64, LONG_CHUNK = 2048 };

typedef struct slot {
    uint64_t key; /* 0 = empty */
    size_t count;
} slot;

typedef struct stripe {
    pthread_mutex_t lock;
    slot *slots;
    size_t cap, used; /* cap: a power of two, or 0 */
} stripe;

struct count_cache {
    stripe stripes[STRIPES];
};

count_cache *tasks_count_cache_new(void)
{
    count_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->stripes[i].lock, NULL);
    return c;
}

void tasks_count_cache_free(count_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_destroy(&c->stripes[i].lock);
        free(c->stripes[i].slots);
    }
    free(c);
}

/* A 64-bit hash of the chunk, 8 bytes a step (multiply-xorshift, with the
 * length folded in), never 0. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static uint64_t chunk_hash(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n, a = 0x6a09e667f3bcc909ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        a = (a ^ w) * 0x9fb21c651e98df25ull;
        a ^= a >> 29;
        h = (h ^ a) * 0xff51afd7ed558ccdull;
    }
    uint64_t tail = 0;
    memcpy(&tail, s + i, n - i);
    h = mix(h ^ mix(tail ^ a));
    return h ? h : 1;
}

/* Look key up in a locked stripe: its slot, or the empty slot for it. */
static slot *find_slot(stripe *st, uint64_t key)
{
    size_t mask = st->cap - 1, i = (size_t)(key >> 6) & mask;
    while (st->slots[i].key && st->slots[i].key != key)
        i = (i + 1) & mask;
    return &st->slots[i];
}

static int grow(stripe *st)
{
    size_t cap = st->cap ? st->cap * 2 : 256;
    slot *old = st->slots;
    size_t old_cap = st->cap;
    st->slots = calloc(cap, sizeof *st->slots);
    if (!st->slots) {
        st->slots = old;
        return -1;
    }
    st->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *find_slot(st, old[i].key) = old[i];
    free(old);
    return 0;
}

static size_t chunk_count(count_cache *c, uint64_t key, const lcx_counter *counter, const char *s,
                          size_t n)
{
    stripe *st = &c->stripes[key & (STRIPES - 1)];
    pthread_mutex_lock(&st->lock);
    slot *sl = st->cap ? find_slot(st, key) : NULL;
    int hit = sl && sl->key;
    size_t count = hit ? sl->count : 0;
    pthread_mutex_unlock(&st->lock);
    if (hit)
        return count;
    count = counter->count(counter->ctx, s, n);
    if (count == SIZE_MAX)
        return SIZE_MAX;
    pthread_mutex_lock(&st->lock);
    if ((st->used + 1) * 4 > st->cap * 3 && grow(st) != 0) {
        pthread_mutex_unlock(&st->lock);
        return count; /* out of memory: still a right count, just not kept */
    }
    sl = find_slot(st, key);
    if (!sl->key) {
        sl->key = key;
        sl->count = count;
        st->used++;
    }
    pthread_mutex_unlock(&st->lock);
    return count;
}

static int printable(char c)
{
    return c > ' ' && c < 0x7f;
}

static int sentence_end(char c)
{
    return c == '.' || c == '?' || c == '!' || c == ':';
}

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The run of newlines at s[run]: returns its end, and *cut says whether a
 * chunk may end there (always without cut rules; with them, where the
 * rules make counts add up). */
static size_t newline_run(const char *s, size_t len, size_t run, unsigned cuts, int *cut)
{
    size_t e = run;
    while (e < len && s[e] == '\n')
        e++;
    int single = e - run == 1 && run > 0 && printable(s[run - 1]);
    *cut = !cuts || (e < len && printable(s[e]) &&
                     ((cuts & LCX_COUNT_CUT_NEWLINES) || ((cuts & LCX_COUNT_CUT_NEWLINE_SINGLE) && single)));
    return e;
}

/* May the space at sp end the chunk that starts at start? It must follow a
 * non-space, and the cut rules (if any) must allow it. */
static int space_cut(const char *s, size_t len, size_t start, size_t sp, unsigned cuts)
{
    if (sp <= start || sp >= len || s[sp] != ' ' || s[sp - 1] == ' ')
        return 0;
    char next = sp + 1 < len ? s[sp + 1] : ' ';
    return !cuts || ((cuts & LCX_COUNT_CUT_SPACE) && printable(s[sp - 1]) && printable(next));
}

/* The end of the chunk that starts at s[start], looking from s[i] on.
 * Wanted ends: after a run of newlines; before a space that follows a
 * sentence end or precedes a digit, or that comes 2 KiB into the chunk.
 * With cut rules (counter.h) an end is taken only where the rules make the
 * counts add up exactly. This is the definition; chunk_end finds the same
 * end faster. */
static size_t chunk_end_from(const char *s, size_t len, size_t start, size_t i, unsigned cuts)
{
    while (i < len) {
        while (i < len && s[i] != ' ' && s[i] != '\n')
            i++;
        if (i == len)
            return len;
        if (s[i] == '\n') {
            int cut;
            i = newline_run(s, len, i, cuts, &cut);
            if (cut)
                return i;
            continue;
        }
        int wanted = i > start && (sentence_end(s[i - 1]) || (i + 1 < len && digit(s[i + 1])) ||
                                   i - start >= LONG_CHUNK);
        if (wanted && space_cut(s, len, start, i, cuts))
            return i;
        i++;
    }
    return len;
}

/* The bytes next to which a wanted end below 2 KiB can be: a newline, a
 * sentence end (the space after it) or a digit (the space before it). */
static int candidate(char c)
{
    return c == '\n' || sentence_end(c) || digit(c);
}

/* The first candidate in s[p..limit), or limit. */
static size_t next_candidate(const char *s, size_t p, size_t limit)
{
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n'), dot = _mm_set1_epi8('.'), q = _mm_set1_epi8('?'),
                  ex = _mm_set1_epi8('!'), co = _mm_set1_epi8(':'), zero = _mm_set1_epi8('0'),
                  nine = _mm_set1_epi8(9);
    for (; p + 16 <= limit; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + p));
        __m128i d = _mm_sub_epi8(v, zero); /* a digit: 0..9 unsigned */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, dot)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, ex)));
        m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, co),
                                          _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d)));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return p + (size_t)__builtin_ctz(bits);
    }
#endif
    while (p < limit && !candidate(s[p]))
        p++;
    return p;
}

/* chunk_end_from(s, len, start, start, cuts), visiting only the candidates
 * before the 2 KiB mark (no other byte there can end a chunk) and going on
 * byte by byte past it. */
static size_t chunk_end(const char *s, size_t len, size_t start, unsigned cuts)
{
    size_t limit = len - start > LONG_CHUNK ? start + LONG_CHUNK : len, p = start;
    while (p < limit) {
        size_t j = next_candidate(s, p, limit);
        if (j >= limit)
            break;
        if (s[j] == '\n') {
            int cut;
            p = newline_run(s, len, j, cuts, &cut);
            if (cut)
                return p;
            continue;
        }
        /* the space after a sentence end, or the space before a digit */
        size_t sp = sentence_end(s[j]) ? j + 1 : j - 1;
        if ((sentence_end(s[j]) || j > 0) && space_cut(s, len, start, sp, cuts))
            return sp;
        p = j + 1;
    }
    if (p >= len)
        return len;
    if (p > limit)
        return chunk_end_from(s, len, start, p, cuts);
    /* The space just before the mark, when a digit sits on the mark. */
    if (limit < len && digit(s[limit]) && space_cut(s, len, start, limit - 1, cuts))
        return limit - 1;
    return chunk_end_from(s, len, start, limit, cuts);
}

size_t tasks_count_cache_sum(count_cache *c, count_memo *memo, const lcx_counter *counter,
                       const char *text, size_t len)
{
    size_t total = 0;
    for (size_t i = 0; i < len;) {
        size_t e = chunk_end(text, len, i, counter->cuts), n;
        uint64_t key = chunk_hash(text + i, e - i);
        size_t m = (size_t)(key >> 20) & (COUNT_MEMO_SLOTS - 1);
        if (memo && memo->key[m] == key) {
            n = memo->count[m];
        } else {
            n = chunk_count(c, key, counter, text + i, e - i);
            if (n == SIZE_MAX)
                return SIZE_MAX;
            if (memo && n <= UINT32_MAX) {
                memo->key[m] = key;
                memo->count[m] = (uint32_t)n;
            }
        }
        total += n;
        i = e;
    }
    return total;
}
