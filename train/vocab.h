/* vocab.h: learn a GPT-2-style byte-level BPE vocabulary from text and write
 * it as a Hugging Face tokenizer.json that engine/ and the Rust `tokenizers`
 * library both load.
 *
 * Learning is the standard BPE algorithm: split the text into words with the
 * GPT-2 ByteLevel regex (PCRE2, as engine/ does), start every word from its
 * bytes (the 256 symbols of GPT-2's bytes-to-unicode map), count adjacent
 * pairs over word types weighted by their counts, and merge the most frequent
 * pair, again and again. Pair counts are updated incrementally, so a few
 * thousand merges over a few MB take seconds. Ties go to the pair whose left
 * token, then right token, is smallest as raw bytes (memcmp, shorter first on
 * a common prefix), so the same text and merge count always give the same
 * merges and a byte-identical tokenizer.json.
 *
 * The tokenizer.json: a BPE model (ids 0..255 are the bytes in GPT-2's order,
 * then one id per merge result in merge order, a result that already exists
 * reuses its id), ByteLevel pre-tokenizer (add_prefix_space false, use_regex
 * true), no normalizer, ByteLevel decoder, and two special added tokens,
 * `<|endoftext|>` (BOS and EOS) and `<|pad|>`, which are also in the model
 * vocabulary. Its post-processor puts `<|endoftext|>` before the text (so the
 * engine, which encodes prompts with special tokens, starts them with BOS as
 * the training sequences do; see train/data.h). It appends no EOS. */
#ifndef LCX_TRAIN_VOCAB_H
#define LCX_TRAIN_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tasks/tasks.h"

#define LCX_VOCAB_EOS "<|endoftext|>" /* BOS and EOS */
#define LCX_VOCAB_PAD "<|pad|>"

/* ---- the training text ---- */

/* Seeds at or above this are training seeds. Evaluation uses small seeds
 * (its default is 42), so training text and sequences never repeat an
 * evaluation sample. */
#define LCX_TRAIN_SEED_MIN 1000000000ull

/* Default a training seed (0 -> LCX_TRAIN_SEED_MIN) and refuse one in the
 * evaluation range; `what` names the caller in the message. */
int lcx_train_seed(uint64_t *seed, const char *what, lcx_err *err);

typedef struct lcx_vocab_text_opts {
    uint64_t seed;          /* generator seed, >= LCX_TRAIN_SEED_MIN; 0 = LCX_TRAIN_SEED_MIN */
    size_t samples;         /* samples per (task, length); 0 = 64 */
    const size_t *lengths;  /* lengths in bytes; NULL = {512, 1024} */
    size_t n_lengths;
    const char *template_name; /* model template; NULL = "base" */
} lcx_vocab_text_opts;

/* Text from the RULER generators: for each of the 13 tasks and each length
 * (byte counter, lcx_byte_counter()), samples 0..samples-1 of that seed, each
 * written as input + answer_prefix + " " + answers joined by ", " + "\n". A
 * (task, length) whose smallest prompt does not fit is skipped; a task that
 * fits none of the lengths is generated at the smallest length that fits
 * (doubling from the largest), so all 13 tasks are always in the text.
 * *text is NUL-terminated (caller frees). */
int lcx_vocab_sample_text(const lcx_task_data *data, const lcx_vocab_text_opts *opts, char **text,
                          size_t *len, lcx_err *err);

/* ---- learning ---- */

typedef struct lcx_vocab lcx_vocab;

/* Learn up to n_merges merges from text[0..len) (valid UTF-8; an error names
 * the offset of the first invalid byte). Fewer merges are learnt when no
 * pair is left. */
int lcx_vocab_learn(const char *text, size_t len, size_t n_merges, lcx_vocab **out, lcx_err *err);
void lcx_vocab_free(lcx_vocab *v);

/* Merges learnt, and the size of the model vocabulary (bytes + distinct merge
 * results, without the two special tokens). */
size_t lcx_vocab_merge_count(const lcx_vocab *v);
size_t lcx_vocab_size(const lcx_vocab *v);

/* Merge k as written in tokenizer.json: "left right", in the byte-level
 * alphabet (e.g. "Ġ t"). NUL-terminated; valid until lcx_vocab_free. */
const char *lcx_vocab_merge(const lcx_vocab *v, size_t k);

/* The tokenizer.json text (caller frees *json). */
int lcx_vocab_json(const lcx_vocab *v, char **json, size_t *len, lcx_err *err);

/* Write the tokenizer.json to path atomically (common/fsio.h). */
int lcx_vocab_save(const lcx_vocab *v, const char *path, lcx_err *err);

#endif
