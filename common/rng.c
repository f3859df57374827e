#include "rng.h"

#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void lcx_rng_seed(lcx_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t lcx_seed_mix(uint64_t base, const char *label, uint64_t a, uint64_t b)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the label */
    for (const unsigned char *p = (const unsigned char *)label; p && *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    uint64_t x = base ^ h;
    uint64_t v = splitmix64(&x);
    x = v ^ a;
    v = splitmix64(&x);
    x = v ^ b;
    return splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lcx_rng_next(lcx_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t lcx_rng_below(lcx_rng *r, uint64_t n)
{
    /* Lemire's nearly divisionless method with rejection. */
    unsigned __int128 m = (unsigned __int128)lcx_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (unsigned __int128)lcx_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

int64_t lcx_rng_range(lcx_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)lcx_rng_below(r, (uint64_t)(hi - lo) + 1);
}

double lcx_rng_double(lcx_rng *r)
{
    return (double)(lcx_rng_next(r) >> 11) * 0x1.0p-53;
}

void lcx_rng_shuffle(lcx_rng *r, void *base, size_t n, size_t size)
{
    if (n < 2)
        return;
    unsigned char *a = base;
    unsigned char tmp[256];
    if (size == 8) { /* pointers and indices: the same swaps, without calls */
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)lcx_rng_below(r, i + 1);
            uint64_t x, y;
            memcpy(&x, a + i * 8, 8);
            memcpy(&y, a + j * 8, 8);
            memcpy(a + i * 8, &y, 8);
            memcpy(a + j * 8, &x, 8);
        }
        return;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)lcx_rng_below(r, i + 1);
        if (j == i)
            continue;
        for (size_t off = 0; off < size; off += sizeof tmp) {
            size_t len = size - off < sizeof tmp ? size - off : sizeof tmp;
            memcpy(tmp, a + i * size + off, len);
            memcpy(a + i * size + off, a + j * size + off, len);
            memcpy(a + j * size + off, tmp, len);
        }
    }
}

/* Partial Fisher-Yates over the virtual array [0, n): swapped slots are kept
 * in a small open-addressing map, so memory is O(k) even when n is huge. */
typedef struct {
    size_t key, val;
    int used;
} slot;

static size_t map_get(slot *t, size_t cap, size_t key)
{
    size_t h = (key * 0x9E3779B97F4A7C15ull) & (cap - 1);
    while (t[h].used) {
        if (t[h].key == key)
            return t[h].val;
        h = (h + 1) & (cap - 1);
    }
    return key;
}

static void map_put(slot *t, size_t cap, size_t key, size_t val)
{
    size_t h = (key * 0x9E3779B97F4A7C15ull) & (cap - 1);
    while (t[h].used && t[h].key != key)
        h = (h + 1) & (cap - 1);
    t[h].used = 1;
    t[h].key = key;
    t[h].val = val;
}

int lcx_rng_sample(lcx_rng *r, size_t n, size_t k, size_t *out)
{
    if (k > n)
        return -1;
    size_t cap = 16;
    while (cap < 4 * k + 4)
        cap <<= 1;
    slot *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)lcx_rng_below(r, n - i);
        size_t vj = map_get(t, cap, j);
        size_t vi = map_get(t, cap, i);
        out[i] = vj;
        map_put(t, cap, j, vi);
    }
    free(t);
    return 0;
}
