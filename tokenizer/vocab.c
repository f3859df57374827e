/* vocab.c: the model vocabulary (an open addressing hash table from
 * token string to id, and an array from id to string) and the small growable
 * containers the tokenizer shares. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

/* ---- small containers ---- */

int tok_spans_push(tok_spans *s, size_t start, size_t end)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        tok_span *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].start = start;
    s->v[s->n].end = end;
    s->n++;
    return 0;
}

int tok_ids_push(tok_ids *ids, int32_t id)
{
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 256;
        int32_t *v = realloc(ids->v, cap * sizeof *v);
        if (!v)
            return -1;
        ids->v = v;
        ids->cap = cap;
    }
    ids->v[ids->n++] = id;
    return 0;
}

uint64_t tok_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, s, 8);
        h = (h ^ (k * 0x87C37B91114253D5ull)) * 0x4CF5AD432745937Full;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t k = 0;
    memcpy(&k, s, n);
    h = (h ^ (k * 0x87C37B91114253D5ull)) * 0x4CF5AD432745937Full;
    h ^= h >> 32;
    return h;
}

size_t tok_table_size_for(size_t n)
{
    size_t size = 16;
    while (size < n * 2)
        size *= 2;
    return size;
}

/* ---- vocabulary ---- */

int32_t tok_vocab_find(const tok_vocab *v, const char *s, size_t n)
{
    if (!v->slots)
        return -1;
    size_t i = tok_hash(s, n) & v->mask;
    for (;;) {
        uint32_t slot = v->slots[i];
        if (!slot)
            return -1;
        const tok_vocab_entry *e = &v->entries[slot - 1];
        if (e->len == n && memcmp(v->pool + e->off, s, n) == 0)
            return e->id;
        i = (i + 1) & v->mask;
    }
}

const char *tok_vocab_token(const tok_vocab *v, int32_t id, size_t *len)
{
    if (id < 0 || id > v->max_id || v->by_id[id] < 0)
        return NULL;
    const tok_vocab_entry *e = &v->entries[v->by_id[id]];
    *len = e->len;
    return v->pool + e->off;
}

int tok_vocab_build(tok_vocab *v, void *json_vocab, const char *path, lcx_err *err)
{
    json_t *vocab = json_vocab;
    size_t n = json_object_size(vocab), pool_len = 0;
    const char *key;
    json_t *value;
    json_object_foreach(vocab, key, value) {
        if (!json_is_integer(value) || json_integer_value(value) < 0 ||
            json_integer_value(value) > INT32_MAX - 1)
            return lcx_errf(err, LCX_EINPUT, "%s: model.vocab[\"%.60s\"]: id must be a non-negative integer",
                            path, key);
        pool_len += strlen(key) + 1;
    }
    v->pool = malloc(pool_len ? pool_len : 1);
    v->entries = calloc(n ? n : 1, sizeof *v->entries);
    v->mask = tok_table_size_for(n) - 1;
    v->slots = calloc(v->mask + 1, sizeof *v->slots);
    if (!v->pool || !v->entries || !v->slots)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory loading model.vocab", path);
    v->max_id = -1;
    json_object_foreach(vocab, key, value) {
        size_t len = strlen(key);
        int32_t id = (int32_t)json_integer_value(value);
        tok_vocab_entry *e = &v->entries[v->n];
        e->off = (uint32_t)v->pool_len;
        e->len = (uint32_t)len;
        e->id = id;
        memcpy(v->pool + v->pool_len, key, len + 1);
        v->pool_len += len + 1;
        size_t i = tok_hash(key, len) & v->mask;
        while (v->slots[i])
            i = (i + 1) & v->mask;
        v->slots[i] = (uint32_t)++v->n;
        if (id > v->max_id)
            v->max_id = id;
    }
    v->by_id = malloc(((size_t)v->max_id + 1 + 1) * sizeof *v->by_id);
    if (!v->by_id)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory loading model.vocab", path);
    for (int32_t i = 0; i <= v->max_id; i++)
        v->by_id[i] = -1;
    for (size_t i = 0; i < v->n; i++)
        v->by_id[v->entries[i].id] = (int32_t)i;
    return 0;
}

void tok_vocab_free(tok_vocab *v)
{
    free(v->pool);
    free(v->entries);
    free(v->slots);
    free(v->by_id);
    memset(v, 0, sizeof *v);
}
