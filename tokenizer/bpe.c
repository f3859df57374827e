/* bpe.c: the BPE model. The merge map (pair of ids -> rank and
 * new id) is an open addressing hash table built once at load; a word is
 * merged with a binary heap of candidate pairs (lowest rank first, then
 * leftmost), exactly the order of the Rust `tokenizers` Word::merge_all.
 * Words shorter than 256 bytes go through the word caches
 * (cache.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"
#include "tokenizer/unicode.h"

enum { CACHE_MAX_WORD = 256 };

static const char META[] = "\xE2\x96\x81"; /* U+2581, SentencePiece's space */

/* ---- merges ---- */

static uint64_t merge_key(int32_t a, int32_t b)
{
    return ((uint64_t)(uint32_t)(a + 1) << 32) | (uint32_t)(b + 1);
}

int tok_bpe_merge_find(const tok_bpe *bpe, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id)
{
    if (!bpe->merges)
        return 0;
    uint64_t key = merge_key(a, b);
    size_t i = (key * 0x9E3779B97F4A7C15ull >> 20) & bpe->merge_mask;
    for (;;) {
        const tok_merge_slot *m = &bpe->merges[i];
        if (!m->key)
            return 0;
        if (m->key == key) {
            *rank = m->rank;
            *new_id = m->new_id;
            return 1;
        }
        i = (i + 1) & bpe->merge_mask;
    }
}

static void merge_insert(tok_bpe *bpe, int32_t a, int32_t b, uint32_t rank, int32_t new_id)
{
    uint64_t key = merge_key(a, b);
    size_t i = (key * 0x9E3779B97F4A7C15ull >> 20) & bpe->merge_mask;
    while (bpe->merges[i].key && bpe->merges[i].key != key)
        i = (i + 1) & bpe->merge_mask;
    bpe->merges[i].key = key; /* a later duplicate wins, as in a Rust HashMap collect */
    bpe->merges[i].rank = rank;
    bpe->merges[i].new_id = new_id;
}

/* One merge entry as (a, b): "a b" or ["a", "b"]. */
static int merge_parts(json_t *m, const char **a, size_t *a_len, const char **b, size_t *b_len)
{
    if (json_is_string(m)) {
        const char *s = json_string_value(m);
        const char *space = strchr(s, ' ');
        if (!space)
            return -1;
        *a = s;
        *a_len = (size_t)(space - s);
        *b = space + 1;
        *b_len = strlen(space + 1);
        return 0;
    }
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        *a = json_string_value(json_array_get(m, 0));
        *a_len = json_string_length(json_array_get(m, 0));
        *b = json_string_value(json_array_get(m, 1));
        *b_len = json_string_length(json_array_get(m, 1));
        return 0;
    }
    return -1;
}

static int merges_build(tok_bpe *bpe, json_t *merges, const char *path, lcx_err *err)
{
    size_t n = json_array_size(merges);
    bpe->merge_mask = tok_table_size_for(n) - 1;
    bpe->merges = calloc(bpe->merge_mask + 1, sizeof *bpe->merges);
    if (!bpe->merges)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory loading model.merges", path);
    strbuf joined;
    sb_init(&joined);
    for (size_t i = 0; i < n; i++) {
        const char *a, *b;
        size_t a_len, b_len;
        if (merge_parts(json_array_get(merges, i), &a, &a_len, &b, &b_len)) {
            sb_free(&joined);
            return lcx_errf(err, LCX_EINPUT, "%s: model.merges[%zu]: expected \"a b\" or [a, b]", path, i);
        }
        int32_t a_id = tok_vocab_find(&bpe->vocab, a, a_len);
        int32_t b_id = tok_vocab_find(&bpe->vocab, b, b_len);
        size_t skip = b_len >= bpe->prefix_len ? bpe->prefix_len : 0;
        sb_clear(&joined);
        sb_append(&joined, a, a_len);
        sb_append(&joined, b + skip, b_len - skip);
        int32_t new_id = tok_vocab_find(&bpe->vocab, sb_str(&joined), joined.len);
        if (a_id < 0 || b_id < 0 || new_id < 0) {
            lcx_errf(err, LCX_EINPUT, "%s: model.merges[%zu]: token \"%.60s\" is not in model.vocab", path,
                     i, a_id < 0 ? a : b_id < 0 ? b : sb_str(&joined));
            sb_free(&joined);
            return LCX_EINPUT;
        }
        merge_insert(bpe, a_id, b_id, (uint32_t)i, new_id);
    }
    bpe->n_merges = n;
    sb_free(&joined);
    return 0;
}

static int optional_string(json_t *model, const char *field, char **out, size_t *len, const char *path,
                           lcx_err *err)
{
    json_t *v = json_object_get(model, field);
    *out = NULL;
    *len = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return lcx_errf(err, LCX_EINPUT, "%s: model.%s: expected a string", path, field);
    if (!json_string_length(v))
        return 0;
    *out = strdup(json_string_value(v));
    *len = json_string_length(v);
    return *out ? 0 : lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
}

static int flag(json_t *obj, const char *field)
{
    return json_is_true(json_object_get(obj, field));
}

/* 1 when U+2581 is a token and no token has it right after another
 * character (runs of U+2581 aside): then no merge ever crosses the point
 * before a U+2581 that follows another character, and a long word can be
 * merged piece by piece with the same result. */
static int meta_split_safe(const tok_vocab *v)
{
    if (tok_vocab_find(v, META, 3) < 0)
        return 0;
    for (size_t i = 0; i < v->n; i++) {
        const char *t = v->pool + v->entries[i].off;
        size_t len = v->entries[i].len;
        for (size_t p = 1; p + 3 <= len; p++)
            if (memcmp(t + p, META, 3) == 0 && (p < 3 || memcmp(t + p - 3, META, 3) != 0))
                return 0;
    }
    return 1;
}

int tok_bpe_load(tok_bpe *bpe, void *json_model, const char *path, lcx_err *err)
{
    json_t *model = json_model;
    memset(bpe, 0, sizeof *bpe);
    bpe->unk_id = -1;
    if (!json_is_object(model))
        return lcx_errf(err, LCX_EINPUT, "%s: model: missing or not an object", path);
    json_t *type = json_object_get(model, "type");
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "BPE") != 0))
        return lcx_errf(err, LCX_EINPUT, "%s: model.type: unsupported model \"%.40s\" (only BPE)", path,
                        json_is_string(type) ? json_string_value(type) : "?");
    json_t *vocab = json_object_get(model, "vocab");
    json_t *merges = json_object_get(model, "merges");
    if (!json_is_object(vocab))
        return lcx_errf(err, LCX_EINPUT, "%s: model.vocab: missing or not an object", path);
    if (!json_object_size(vocab))
        return lcx_errf(err, LCX_EINPUT, "%s: model.vocab: the vocabulary is empty", path);
    if (merges && !json_is_array(merges))
        return lcx_errf(err, LCX_EINPUT, "%s: model.merges: expected an array", path);
    json_t *dropout = json_object_get(model, "dropout");
    if (dropout && json_is_number(dropout) && json_number_value(dropout) > 0.0)
        return lcx_errf(err, LCX_EINPUT, "%s: model.dropout: BPE dropout is not supported", path);
    int rc = optional_string(model, "continuing_subword_prefix", &bpe->prefix, &bpe->prefix_len, path, err);
    if (!rc)
        rc = optional_string(model, "end_of_word_suffix", &bpe->suffix, &bpe->suffix_len, path, err);
    if (!rc)
        rc = tok_vocab_build(&bpe->vocab, vocab, path, err);
    if (!rc && merges)
        rc = merges_build(bpe, merges, path, err);
    if (rc)
        return rc;
    bpe->byte_fallback = flag(model, "byte_fallback");
    bpe->fuse_unk = flag(model, "fuse_unk");
    bpe->ignore_merges = flag(model, "ignore_merges");
    json_t *unk = json_object_get(model, "unk_token");
    if (json_is_string(unk))
        bpe->unk_id = tok_vocab_find(&bpe->vocab, json_string_value(unk), json_string_length(unk));
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        bpe->byte_ids[b] = tok_vocab_find(&bpe->vocab, name, 6);
    }
    bpe->split_at_meta = !bpe->prefix && !bpe->suffix && meta_split_safe(&bpe->vocab);
    for (uint32_t cp = 0; cp < 0x800; cp++) {
        char c[4];
        size_t k = tok_utf8_encode(cp, c);
        bpe->small_char_ids[cp] = tok_vocab_find(&bpe->vocab, c, k);
    }
    return 0;
}

void tok_bpe_free(tok_bpe *bpe)
{
    tok_vocab_free(&bpe->vocab);
    free(bpe->merges);
    free(bpe->prefix);
    free(bpe->suffix);
    memset(bpe, 0, sizeof *bpe);
}

/* ---- merging one word ---- */

static int heap_less(const struct tok_heap_item *a, const struct tok_heap_item *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static int heap_push(tok_work *w, uint32_t rank, uint32_t pos, int32_t new_id)
{
    if (w->heap_n == w->heap_cap) {
        size_t cap = w->heap_cap ? w->heap_cap * 2 : 256;
        struct tok_heap_item *h = realloc(w->heap, cap * sizeof *h);
        if (!h)
            return -1;
        w->heap = h;
        w->heap_cap = cap;
    }
    size_t i = w->heap_n++;
    struct tok_heap_item item = {rank, pos, new_id};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(&item, &w->heap[parent]))
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = item;
    return 0;
}

static struct tok_heap_item heap_pop(tok_work *w)
{
    struct tok_heap_item top = w->heap[0];
    struct tok_heap_item last = w->heap[--w->heap_n];
    size_t i = 0, n = w->heap_n;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && heap_less(&w->heap[child + 1], &w->heap[child]))
            child++;
        if (!heap_less(&w->heap[child], &last))
            break;
        w->heap[i] = w->heap[child];
        i = child;
    }
    if (n)
        w->heap[i] = last;
    return top;
}

static int syms_reserve(tok_work *w, size_t n)
{
    if (n <= w->syms_cap)
        return 0;
    size_t cap = w->syms_cap ? w->syms_cap : 256;
    while (cap < n)
        cap *= 2;
    struct tok_sym *s = realloc(w->syms, cap * sizeof *s);
    if (!s)
        return -1;
    w->syms = s;
    w->syms_cap = cap;
    return 0;
}

static void sym_add(tok_work *w, size_t *n, int32_t id, size_t len)
{
    struct tok_sym *s = &w->syms[*n];
    s->id = id;
    s->len = (uint32_t)len;
    s->prev = (int32_t)*n - 1;
    s->next = (int32_t)*n + 1;
    (*n)++;
}

/* The id of one character of the word, with the prefix / suffix the model
 * asks for; -1 when it is not in the vocabulary. */
static int32_t char_id(tok_work *w, const char *c, size_t len, int first, int last)
{
    const tok_bpe *bpe = &w->tok->bpe;
    if ((first || !bpe->prefix) && (!last || !bpe->suffix)) {
        unsigned char b0 = (unsigned char)c[0];
        if (len == 1 && b0 < 0x80)
            return bpe->small_char_ids[b0];
        if (len == 2 && b0 >= 0xC2 && b0 < 0xE0)
            return bpe->small_char_ids[((uint32_t)(b0 & 0x1F) << 6) | ((unsigned char)c[1] & 0x3F)];
        return tok_vocab_find(&bpe->vocab, c, len);
    }
    strbuf *t = &w->word_text;
    sb_clear(t);
    if (!first && bpe->prefix)
        sb_append(t, bpe->prefix, bpe->prefix_len);
    sb_append(t, c, len);
    if (last && bpe->suffix)
        sb_append(t, bpe->suffix, bpe->suffix_len);
    return tok_vocab_find(&bpe->vocab, sb_str(t), t->len);
}

static int byte_fallback_ok(const tok_bpe *bpe, const char *s, size_t k)
{
    for (size_t b = 0; b < k; b++)
        if (bpe->byte_ids[(unsigned char)s[b]] < 0)
            return 0;
    return 1;
}

/* Initial symbols: one per character, byte fallback or unk for unknown
 * characters (BPE::merge_word). Returns the symbol count. */
static size_t word_symbols(tok_work *w, const char *s, size_t n)
{
    const tok_bpe *bpe = &w->tok->bpe;
    size_t count = 0, i = 0;
    int32_t unk_id = -1;
    size_t unk_len = 0;
    while (i < n) {
        size_t k = tok_utf8_seq_len((unsigned char)s[i]);
        if (i + k > n)
            k = n - i;
        int32_t id = char_id(w, s + i, k, i == 0, i + k == n);
        if (id >= 0) {
            if (unk_id >= 0) {
                sym_add(w, &count, unk_id, unk_len);
                unk_id = -1;
            }
            sym_add(w, &count, id, k);
        } else if (bpe->byte_fallback && byte_fallback_ok(bpe, s + i, k)) {
            for (size_t b = 0; b < k; b++)
                sym_add(w, &count, bpe->byte_ids[(unsigned char)s[i + b]], 1);
        } else if (bpe->unk_id >= 0) {
            if (unk_id >= 0 && bpe->fuse_unk) {
                unk_len += k;
            } else {
                if (unk_id >= 0)
                    sym_add(w, &count, unk_id, unk_len);
                unk_id = bpe->unk_id;
                unk_len = k;
            }
        }
        i += k;
    }
    if (unk_id >= 0)
        sym_add(w, &count, unk_id, unk_len);
    if (count)
        w->syms[count - 1].next = -1;
    return count;
}

/* Word::merge_all: apply the lowest-ranked merge (leftmost on ties) until
 * none applies; stale heap entries are skipped. */
static int merge_all(tok_work *w, size_t count)
{
    const tok_bpe *bpe = &w->tok->bpe;
    struct tok_sym *sy = w->syms;
    uint32_t rank;
    int32_t new_id;
    w->heap_n = 0;
    for (size_t i = 0; i + 1 < count; i++)
        if (tok_bpe_merge_find(bpe, sy[i].id, sy[i + 1].id, &rank, &new_id) &&
            heap_push(w, rank, (uint32_t)i, new_id))
            return -1;
    while (w->heap_n) {
        struct tok_heap_item top = heap_pop(w);
        struct tok_sym *cur = &sy[top.pos];
        if (cur->len == 0 || cur->next < 0)
            continue;
        struct tok_sym *right = &sy[cur->next];
        int32_t check_id;
        if (!tok_bpe_merge_find(bpe, cur->id, right->id, &rank, &check_id) || check_id != top.new_id)
            continue;
        cur->id = top.new_id;
        cur->len += right->len;
        cur->next = right->next;
        right->len = 0;
        if (cur->next >= 0)
            sy[cur->next].prev = (int32_t)top.pos;
        if (cur->prev >= 0 && tok_bpe_merge_find(bpe, sy[cur->prev].id, cur->id, &rank, &new_id) &&
            heap_push(w, rank, (uint32_t)cur->prev, new_id))
            return -1;
        if (cur->next >= 0 && tok_bpe_merge_find(bpe, cur->id, sy[cur->next].id, &rank, &new_id) &&
            heap_push(w, rank, top.pos, new_id))
            return -1;
    }
    return 0;
}

static int merge_word(tok_work *w, const char *s, size_t n)
{
    if (syms_reserve(w, n + 1))
        return -1;
    size_t count = word_symbols(w, s, n);
    if (merge_all(w, count))
        return -1;
    for (size_t i = 0; i < count; i++)
        if (w->syms[i].len && tok_ids_push(w->out, w->syms[i].id))
            return -1;
    return 0;
}

static int push_ids(tok_work *w, const int32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tok_ids_push(w->out, ids[i]))
            return -1;
    return 0;
}

/* A word through the caches: the shared one for short words with few ids,
 * the per-call one for the rest (below CACHE_MAX_WORD bytes). */
static int cached_word(tok_work *w, const char *s, size_t n)
{
    if (n >= CACHE_MAX_WORD)
        return merge_word(w, s, n);
    uint64_t hash = tok_hash(s, n);
    tok_shared_entry *shared = n <= SHARED_KEY_MAX ? w->tok->shared_cache : NULL;
    const tok_shared_entry *hit = shared ? tok_shared_find(shared, hash, s, n) : NULL;
    if (hit)
        return push_ids(w, hit->ids, hit->n_ids);
    tok_cache_entry *e = tok_cache_slot(w, hash, s, n);
    if (e->key_len)
        return push_ids(w, e->ids_n ? w->cache_ids.v + e->ids_off : NULL, e->ids_n);
    size_t start = w->out->n;
    if (merge_word(w, s, n))
        return -1;
    size_t n_ids = w->out->n - start;
    const int32_t *ids = n_ids ? w->out->v + start : NULL;
    if (shared && n_ids <= SHARED_IDS_MAX) {
        tok_shared_store(shared, hash, s, n, ids, n_ids);
        return 0;
    }
    return tok_cache_store(w, hash, s, n, ids, n_ids);
}

/* A long word cut before each U+2581 that follows another character. */
static int word_by_meta_pieces(tok_work *w, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 3; i + 3 <= n; i++) {
        if (memcmp(s + i, META, 3) != 0 || memcmp(s + i - 3, META, 3) == 0)
            continue;
        if (cached_word(w, s + start, i - start))
            return -1;
        start = i;
        i += 2;
    }
    return cached_word(w, s + start, n - start);
}

int tok_bpe_word(tok_work *w, const char *s, size_t n)
{
    const tok_bpe *bpe = &w->tok->bpe;
    if (!n)
        return 0;
    if (bpe->ignore_merges) {
        int32_t id = tok_vocab_find(&bpe->vocab, s, n);
        if (id >= 0)
            return tok_ids_push(w->out, id);
    }
    if (n >= CACHE_MAX_WORD && bpe->split_at_meta)
        return word_by_meta_pieces(w, s, n);
    return cached_word(w, s, n);
}
