/* cache.c: the word caches (piece bytes -> ids) and the per-call
 * scratch. The per-call cache lives in a tok_work and grows as needed; the
 * shared cache belongs to the tokenizer and is lock-free and write-once
 * (see internal.h), so that calls and threads reuse each other's
 * words. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

enum { CACHE_MAX_ENTRIES = 1 << 16 };

/* ---- per-call cache ---- */

tok_cache_entry *tok_cache_slot(tok_work *w, uint64_t hash, const char *s, size_t n)
{
    size_t i = hash & w->cache_mask;
    for (;;) {
        tok_cache_entry *e = &w->cache[i];
        if (!e->key_len)
            return e;
        if (e->hash == hash && e->key_len == n && memcmp(w->cache_keys.data + e->key_off, s, n) == 0)
            return e;
        i = (i + 1) & w->cache_mask;
    }
}

static int cache_grow(tok_work *w)
{
    size_t size = (w->cache_mask + 1) * 2;
    tok_cache_entry *old = w->cache, *fresh = calloc(size, sizeof *fresh);
    if (!fresh)
        return -1;
    size_t old_size = w->cache_mask + 1;
    w->cache = fresh;
    w->cache_mask = size - 1;
    for (size_t i = 0; i < old_size; i++) {
        if (!old[i].key_len)
            continue;
        size_t j = old[i].hash & w->cache_mask;
        while (fresh[j].key_len)
            j = (j + 1) & w->cache_mask;
        fresh[j] = old[i];
    }
    free(old);
    return 0;
}

int tok_cache_store(tok_work *w, uint64_t hash, const char *s, size_t n, const int32_t *ids,
                       size_t n_ids)
{
    if (w->cache_n * 2 >= w->cache_mask + 1) {
        if (w->cache_n >= CACHE_MAX_ENTRIES)
            return 0; /* full: stop caching, never evict */
        if (cache_grow(w))
            return -1;
    }
    tok_cache_entry *e = tok_cache_slot(w, hash, s, n);
    e->hash = hash;
    e->key_off = (uint32_t)w->cache_keys.len;
    e->key_len = (uint32_t)n;
    e->ids_off = (uint32_t)w->cache_ids.n;
    e->ids_n = (uint32_t)n_ids;
    sb_append(&w->cache_keys, s, n);
    for (size_t i = 0; i < n_ids; i++)
        if (tok_ids_push(&w->cache_ids, ids[i]))
            return -1;
    w->cache_n++;
    return w->cache_keys.oom ? -1 : 0;
}

/* ---- shared cache ---- */

static uint64_t shared_tag(uint64_t hash)
{
    return hash | 2; /* never 0 (empty) or 1 (being written) */
}

const tok_shared_entry *tok_shared_find(const tok_shared_entry *table, uint64_t hash, const char *s,
                                           size_t n)
{
    uint64_t tag = shared_tag(hash);
    for (size_t p = 0; p < SHARED_PROBES; p++) {
        const tok_shared_entry *e = &table[(hash + p) & (SHARED_SLOTS - 1)];
        uint64_t t = atomic_load_explicit(&e->tag, memory_order_acquire);
        if (t == 0)
            return NULL;
        if (t == tag && e->key_len == n && memcmp(e->key, s, n) == 0)
            return e;
    }
    return NULL;
}

void tok_shared_store(tok_shared_entry *table, uint64_t hash, const char *s, size_t n, const int32_t *ids,
                         size_t n_ids)
{
    if (n > SHARED_KEY_MAX || n_ids > SHARED_IDS_MAX)
        return;
    for (size_t p = 0; p < SHARED_PROBES; p++) {
        tok_shared_entry *e = &table[(hash + p) & (SHARED_SLOTS - 1)];
        uint64_t empty = 0;
        if (atomic_load_explicit(&e->tag, memory_order_relaxed) != 0 ||
            !atomic_compare_exchange_strong_explicit(&e->tag, &empty, 1, memory_order_acquire,
                                                     memory_order_relaxed))
            continue;
        e->key_len = (uint8_t)n;
        e->n_ids = (uint8_t)n_ids;
        memcpy(e->key, s, n);
        if (n_ids)
            memcpy(e->ids, ids, n_ids * sizeof *ids);
        atomic_store_explicit(&e->tag, shared_tag(hash), memory_order_release);
        return;
    }
}

tok_shared_entry *tok_shared_cache_new(void)
{
    return calloc(SHARED_SLOTS, sizeof(tok_shared_entry)); /* all tags 0: empty */
}

/* ---- per-call scratch ---- */

int tok_work_init(tok_work *w, const lcx_tokenizer *tok, tok_ids *out)
{
    memset(w, 0, sizeof *w);
    w->tok = tok;
    w->out = out;
    sb_init(&w->norm_text);
    sb_init(&w->norm_tmp);
    sb_init(&w->word_text);
    sb_init(&w->cache_keys);
    size_t stages = tok->n_pretoks ? tok->n_pretoks : 1;
    w->stage_text = calloc(2 * stages, sizeof *w->stage_text);
    w->stage_spans = calloc(stages, sizeof *w->stage_spans);
    w->md = pcre2_match_data_create(16, NULL);
    w->cache_mask = 256 - 1;
    w->cache = calloc(w->cache_mask + 1, sizeof *w->cache);
    if (!w->stage_text || !w->stage_spans || !w->md || !w->cache) {
        tok_work_free(w);
        return -1;
    }
    for (size_t i = 0; i < 2 * stages; i++)
        sb_init(&w->stage_text[i]);
    return 0;
}

void tok_work_free(tok_work *w)
{
    size_t stages = w->tok && w->tok->n_pretoks ? w->tok->n_pretoks : 1;
    for (size_t i = 0; w->stage_text && i < 2 * stages; i++)
        sb_free(&w->stage_text[i]);
    for (size_t i = 0; w->stage_spans && i < stages; i++)
        free(w->stage_spans[i].v);
    free(w->stage_text);
    free(w->stage_spans);
    free(w->matches.v);
    free(w->parts);
    sb_free(&w->norm_text);
    sb_free(&w->norm_tmp);
    sb_free(&w->word_text);
    sb_free(&w->cache_keys);
    free(w->cache_ids.v);
    free(w->cache);
    free(w->syms);
    free(w->heap);
    if (w->md)
        pcre2_match_data_free(w->md);
    memset(w, 0, sizeof *w);
}
