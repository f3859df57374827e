/* tokenizer.h: Hugging Face tokenizers (tokenizer.json) in C.
 * BPE with ByteLevel / Split / Metaspace pre-tokenization, normalizers,
 * added and special tokens, post-processors and decoders, matching the
 * Rust `tokenizers` library id for id. */
#ifndef LCX_TOKENIZER_H
#define LCX_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct lcx_tokenizer lcx_tokenizer;

/* Load from a directory holding tokenizer.json, or from the file itself. */
int lcx_tokenizer_load(const char *path, lcx_tokenizer **out, lcx_err *err);
void lcx_tokenizer_free(lcx_tokenizer *tok);

/* Load from tokenizer.json text already in memory; name is what error
 * messages call it. */
int lcx_tokenizer_load_json(const char *json, size_t len, const char *name, lcx_tokenizer **out,
                            lcx_err *err);

/* Encode text[0..len) into *ids (caller frees), *n ids. add_special applies
 * the post-processor (BOS and the like). Thread-safe. */
int lcx_tokenizer_encode(const lcx_tokenizer *tok, const char *text, size_t len,
                         int add_special, int32_t **ids, size_t *n, lcx_err *err);

/* Token count of text without special tokens; thread-safe and fast. */
size_t lcx_tokenizer_count(const lcx_tokenizer *tok, const char *text, size_t len);

/* Where the count is additive: cutting text at such a place into a and b
 * gives count(a + b) == count(a) + count(b) exactly, because no pre-token,
 * added token or normalization crosses the cut. Printable means an ASCII
 * character from '!' to '~'.
 *   SPACE: before a single ' ' that has a printable character on each side;
 *   NEWLINES: after a run of '\n' that a printable character follows;
 *   NEWLINE_SINGLE: after one '\n' that has a printable character on each
 *   side.
 * lcx_tokenizer_cut_rules gives the set that holds for this tokenizer (0
 * for pipelines lcx has not reasoned about); docs/tokenizer.md says why
 * each holds. */
enum { LCX_TOK_CUT_SPACE = 1, LCX_TOK_CUT_NEWLINES = 2, LCX_TOK_CUT_NEWLINE_SINGLE = 4 };
unsigned lcx_tokenizer_cut_rules(const lcx_tokenizer *tok);

/* Decode ids to UTF-8 text (caller frees *text). skip_special drops special
 * tokens from the output. */
int lcx_tokenizer_decode(const lcx_tokenizer *tok, const int32_t *ids, size_t n,
                         int skip_special, char **text, size_t *len, lcx_err *err);

/* Vocabulary size (model vocab plus added tokens). */
size_t lcx_tokenizer_vocab_size(const lcx_tokenizer *tok);

/* Id of a token string (added tokens included), or -1. */
int32_t lcx_tokenizer_token_id(const lcx_tokenizer *tok, const char *token);

/* Token string of an id (added tokens included), or NULL. */
const char *lcx_tokenizer_id_token(const lcx_tokenizer *tok, int32_t id);

/* 1 when id is an added token marked special. */
int lcx_tokenizer_is_special(const lcx_tokenizer *tok, int32_t id);

/* Byte offset of the first invalid UTF-8 sequence in text, or len when the
 * text is valid. (Encoding reads invalid input lossily, as U+FFFD.) */
size_t lcx_tokenizer_invalid_utf8_at(const char *text, size_t len);

/* The first id the post-processor puts before the text (BOS), or -1. */
int32_t lcx_tokenizer_bos_id(const lcx_tokenizer *tok);

#endif
