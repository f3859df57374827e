/* internal.h (private to the files of tokenizer/): the loaded
 * tokenizer and the per-call scratch the encoder works in.
 *
 * Encoding follows the Rust `tokenizers` pipeline:
 *   raw text -> split on non-normalized added tokens -> normalize each piece
 *   -> split on normalized added tokens -> pre-tokenize (a chain of stages)
 *   -> BPE each word -> post-process (only with add_special).
 * The loaded tokenizer is immutable; every call owns its scratch (tok_work),
 * so encode and count are thread-safe. */
#ifndef LCX_TOKENIZER_INTERNAL_H
#define LCX_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/strbuf.h"
#include "tokenizer/tokenizer.h"

/* ---- small containers ---- */
typedef struct tok_span { size_t start, end; } tok_span;
typedef struct tok_spans { tok_span *v; size_t n, cap; } tok_spans;
typedef struct tok_ids { int32_t *v; size_t n, cap; } tok_ids;

int tok_spans_push(tok_spans *s, size_t start, size_t end);
int tok_ids_push(tok_ids *ids, int32_t id);
uint64_t tok_hash(const char *s, size_t n);
size_t tok_table_size_for(size_t n); /* a power of two, at least 2n */

/* ---- string -> id map (the model vocabulary) ---- */
typedef struct tok_vocab_entry { uint32_t off, len; int32_t id; } tok_vocab_entry;
typedef struct tok_vocab {
    char *pool;               /* all token strings, NUL-separated */
    size_t pool_len;
    tok_vocab_entry *entries; /* [n] */
    size_t n;
    uint32_t *slots;          /* [mask+1] entry index + 1, 0 = empty */
    size_t mask;
    int32_t *by_id;           /* [max_id+1] entry index, -1 = no token */
    int32_t max_id;
} tok_vocab;

int tok_vocab_build(tok_vocab *v, void *json_vocab, const char *path, lcx_err *err);
void tok_vocab_free(tok_vocab *v);
int32_t tok_vocab_find(const tok_vocab *v, const char *s, size_t n);
const char *tok_vocab_token(const tok_vocab *v, int32_t id, size_t *len);

/* ---- a pattern: a literal string or a PCRE2 regex ---- */
typedef struct tok_pattern {
    pcre2_code *re;   /* NULL for a literal */
    char *literal;
    size_t literal_len;
} tok_pattern;

/* Matches of the pattern in s[0..n), onig-style: after an empty match the
 * search moves on one character. */
int tok_pattern_find_all(const tok_pattern *p, pcre2_match_data *md, const char *s, size_t n,
                         tok_spans *out);
int tok_pattern_compile_regex(tok_pattern *p, const char *regex, const char *where, lcx_err *err);
int tok_pattern_set_literal(tok_pattern *p, const char *s, size_t n);
int tok_pattern_from_json(tok_pattern *p, void *json_pattern, const char *where, lcx_err *err);
void tok_pattern_free(tok_pattern *p);

/* ---- normalizers (a Sequence is flattened into a list) ---- */
enum { NORM_NFC, NORM_REPLACE, NORM_PREPEND, NORM_STRIP };
typedef struct tok_normalizer {
    int kind;
    tok_pattern pattern; /* replace */
    char *content;       /* replace, prepend */
    size_t content_len;
    int strip_left, strip_right;
} tok_normalizer;

/* ---- pre-tokenizer stages (a Sequence is flattened) ---- */
enum { PRETOK_SPLIT, PRETOK_BYTELEVEL, PRETOK_METASPACE };
enum { SPLIT_REMOVED, SPLIT_ISOLATED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS };
enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };
typedef struct tok_pretok {
    int kind;
    tok_pattern pattern;  /* split; bytelevel with use_regex */
    int behavior, invert; /* split */
    int use_regex, add_prefix_space; /* bytelevel */
    char replacement[8];  /* metaspace, UTF-8 */
    size_t replacement_len;
    int prepend_scheme, split;
    int regex_family;     /* split, bytelevel: TOK_RE_* (load.c) */
} tok_pretok;

/* Pre-tokenizer regexes whose splits lcx knows to be local around a single
 * space or a newline run (lcx_tokenizer_cut_rules); anything else is OTHER. */
enum { TOK_RE_OTHER, TOK_RE_GPT2, TOK_RE_CL100K };

/* ---- decoders (a Sequence is flattened) ---- */
enum { DEC_BYTELEVEL, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_METASPACE };
typedef struct tok_decoder {
    int kind;
    tok_pattern pattern; /* replace */
    char *content;       /* replace: the replacement */
    size_t content_len;
    uint32_t strip_char;
    size_t strip_start, strip_stop;
    char replacement[8]; /* metaspace */
    size_t replacement_len;
    int prepend_scheme;
} tok_decoder;

/* ---- BPE ---- */
typedef struct tok_merge_slot { uint64_t key; uint32_t rank; int32_t new_id; } tok_merge_slot;
typedef struct tok_bpe {
    tok_vocab vocab;
    tok_merge_slot *merges; /* [merge_mask+1], key 0 = empty */
    size_t merge_mask, n_merges;
    int32_t byte_ids[256];  /* <0xXX> tokens for byte_fallback, -1 when absent */
    int byte_fallback, fuse_unk, ignore_merges;
    int split_at_meta;      /* no token joins a character to a following U+2581: long
                               words may be merged piecewise, cut before each U+2581 */
    int32_t unk_id;         /* -1: no unk_token */
    int32_t small_char_ids[0x800]; /* id of the one-character token of code points
                                      below U+0800, -1 when it is not a token */
    char *prefix, *suffix;  /* continuing_subword_prefix, end_of_word_suffix, or NULL */
    size_t prefix_len, suffix_len;
} tok_bpe;

int tok_bpe_load(tok_bpe *bpe, void *json_model, const char *path, lcx_err *err);
void tok_bpe_free(tok_bpe *bpe);
int tok_bpe_merge_find(const tok_bpe *bpe, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id);

/* ---- added tokens ---- */
typedef struct tok_added {
    char *content; /* as written; normalized tokens hold the normalized form in `match` */
    char *match;   /* the bytes searched for */
    size_t match_len;
    int32_t id;
    int special, lstrip, rstrip, single_word, normalized;
} tok_added;

/* Leftmost-longest matcher over one group of added tokens. */
typedef struct tok_added_set {
    uint32_t *order;       /* indices into tok->added, by first byte then length desc */
    uint32_t first[257];   /* order[first[b]..first[b+1]) start with byte b */
    size_t n;
} tok_added_set;

/* ---- the word cache shared by all calls (and threads) ----
 * Lock-free and write-once: a writer claims an empty slot by moving its tag
 * from 0 to 1, fills it, then publishes tag = hash | 2 with release order; a
 * reader acquires the tag before it reads the slot. Slots are never evicted
 * or rewritten, so a reader never sees a half-written entry. Short words with
 * few ids only; the rest use the per-call cache. */
enum { SHARED_KEY_MAX = 22, SHARED_IDS_MAX = 8, SHARED_SLOTS = 1 << 16, SHARED_PROBES = 8 };
typedef struct tok_shared_entry {
    _Atomic uint64_t tag;
    uint8_t key_len, n_ids;
    char key[SHARED_KEY_MAX];
    int32_t ids[SHARED_IDS_MAX];
} tok_shared_entry;

/* ---- the tokenizer ---- */
struct lcx_tokenizer {
    char *source;                  /* path it was loaded from */
    tok_normalizer *norms;
    size_t n_norms;
    tok_pretok *pretoks;
    size_t n_pretoks;
    tok_bpe bpe;
    tok_shared_entry *shared_cache; /* [SHARED_SLOTS]; written through a const tokenizer, see above */
    tok_added *added;
    size_t n_added;
    tok_added_set raw_set, norm_set; /* normalized=false / true tokens */
    tok_decoder *decoders;
    size_t n_decoders;
    int has_decoder;
    tok_ids post_prefix, post_suffix; /* post-processor ids around the sequence */
    size_t vocab_size;
    char byte_char[256][3];           /* ByteLevel: byte -> UTF-8 of its char */
    uint8_t byte_char_len[256];
    int16_t char_byte[0x144];         /* ByteLevel: code point -> byte, -1 */
    unsigned cut_rules;               /* LCX_TOK_CUT_* (tokenizer.c) */
};

/* ---- per-call scratch ---- */
typedef struct tok_cache_entry { uint64_t hash; uint32_t key_off, key_len, ids_off, ids_n; } tok_cache_entry;
typedef struct tok_work {
    const lcx_tokenizer *tok;
    tok_ids *out;
    pcre2_match_data *md;
    strbuf *stage_text;     /* [2 * n_pretoks] text a stage produced */
    tok_spans *stage_spans; /* [n_pretoks] pieces a stage produced */
    tok_spans matches;
    struct tok_part { size_t start, end; int is_match; } *parts; /* split scratch */
    size_t parts_cap;
    strbuf norm_text, norm_tmp, word_text;
    /* BPE scratch */
    struct tok_sym { int32_t id, prev, next; uint32_t len; } *syms;
    size_t syms_cap;
    struct tok_heap_item { uint32_t rank, pos; int32_t new_id; } *heap;
    size_t heap_n, heap_cap;
    /* word cache: piece bytes -> ids */
    tok_cache_entry *cache;
    size_t cache_mask, cache_n;
    strbuf cache_keys;
    tok_ids cache_ids;
    int oom;
} tok_work;

int tok_work_init(tok_work *w, const lcx_tokenizer *tok, tok_ids *out);

/* Word caches (cache.c). tok_cache_slot returns the entry for the
 * word, or the empty slot where it would go (key_len 0). */
tok_cache_entry *tok_cache_slot(tok_work *w, uint64_t hash, const char *s, size_t n);
int tok_cache_store(tok_work *w, uint64_t hash, const char *s, size_t n, const int32_t *ids, size_t n_ids);
tok_shared_entry *tok_shared_cache_new(void);
const tok_shared_entry *tok_shared_find(const tok_shared_entry *table, uint64_t hash, const char *s, size_t n);
void tok_shared_store(tok_shared_entry *table, uint64_t hash, const char *s, size_t n, const int32_t *ids,
                      size_t n_ids);
void tok_work_free(tok_work *w);

/* Encode one word (a pre-token) with the model, appending ids to w->out. */
int tok_bpe_word(tok_work *w, const char *s, size_t n);
/* Normalize s[0..n) into out (appends). */
int tok_normalize(const lcx_tokenizer *tok, tok_work *w, const char *s, size_t n, strbuf *out);
/* Pre-tokenize s[0..n) and encode every word; at_origin: the text starts at
 * offset 0 of the input (Metaspace prepend_scheme "first"). */
int tok_pretokenize_and_encode(tok_work *w, const char *s, size_t n, int at_origin);
/* Split s[0..n) on the added tokens of `set` into pieces: an added token
 * (id >= 0, its span including what lstrip/rstrip took) or text (id -1). */
typedef struct tok_added_piece { size_t start, end; int32_t id; } tok_added_piece;
typedef struct tok_added_pieces { tok_added_piece *v; size_t n, cap; } tok_added_pieces;
int tok_added_split(const lcx_tokenizer *tok, const tok_added_set *set, const char *s, size_t n,
                    tok_added_pieces *out);
int tok_added_build(lcx_tokenizer *tok, lcx_err *err);
void tok_added_set_free(tok_added_set *set);

/* Loading pieces (load.c). */
int tok_load_normalizer(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err);
int tok_load_pretokenizer(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err);
int tok_load_decoder(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err);
int tok_load_post_processor(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err);

/* Decoding (decode.c). */
int tok_decode_tokens(const lcx_tokenizer *tok, char **tokens, size_t *lens, size_t n, strbuf *out);

#endif
