/* data.h: the training sequences, streamed from the project's own RULER
 * generators (tasks/).
 *
 * The small models are trained on RULER-format data at short length: every
 * sequence is one sample of one of the 13 RULER tasks, generated with a
 * training seed (>= LCX_TRAIN_SEED_MIN, train/vocab.h; evaluation uses small
 * seeds, 42 by default) and fitted to the sequence length T (<= 1024 tokens)
 * with the model's own tokenizer as the counter. A sequence is
 *
 *     BOS  ids(input + answer_prefix)  ids(" " + answers joined by ", ")  EOS  pad...
 *
 * with exactly T ids. BOS and EOS are both `<|endoftext|>`; the prompt part is
 * encoded on its own, exactly as the engine encodes a prompt (BOS added by
 * the tokenizer's post-processor), so evaluation sees the same ids.
 *
 * Loss weights: weight[t] is the weight of predicting ids[t] from ids[<t]
 * (the trainer shifts). Answer tokens and the EOS after them weigh 1, prompt
 * tokens weigh prompt_weight (e.g. 0.05), BOS and pads weigh 0.
 *
 * Sequence i of a stream is a pure function of (seed, i, T, mix, template,
 * prompt_weight, tokenizer, task data): the caller picks T per batch (a
 * curriculum, short first), and a run resumes from step s by asking for
 * sequences s*B onwards. Which task sequence i holds is drawn from the mix
 * (weights), among the tasks whose smallest prompt fits T.
 *
 * Extra questions (opts.rounds > 0): a niah sequence with several keys and a
 * single queried value (niah_multikey_1/2/3) also asks about other needles of
 * its context, so that every distractor is a target too and the sequence
 * carries several answers instead of one. Such a sample is generated with a
 * third of T held back; then up to `rounds` questions, in random order over
 * the other needles, go between the context and the final question, each
 * the final question and answer prefix with the key swapped, then " " value
 * "\n":
 *
 *     ...context\n  Q(k2) A(k2) " v2\n"  Q(k3) A(k3) " v3\n"  Q(k1) A(k1)  " v1"  EOS
 *
 * The values v2, v3 weigh 1 like the answer; their questions weigh
 * prompt_weight. Only as many as fit T are asked. The final question is the
 * generator's own, so scoring the last answer is scoring the RULER sample; a
 * held-out stream is built with rounds = 0, exactly the evaluation format.
 *
 * Fitting: tasks/ reserves tokens_to_generate (up to 128) after the prompt;
 * the stream instead fits the whole sequence to T. It asks tasks/ for
 * max_length = T - 2 - r + tokens_to_generate, with r an allowance for the
 * answer; when the encoded sequence still exceeds T, it retries with
 * max_length lowered by the excess (the retry is a new sample: lengths are
 * part of the generator's seed). */
#ifndef LCX_TRAIN_DATA_H
#define LCX_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tokenizer/tokenizer.h"
#include "tasks/tasks.h"
#include "train/vocab.h"

#define LCX_DATA_MAX_T 1024
#define LCX_DATA_MAX_ROUNDS 16 /* extra questions per sequence (opts.rounds) */

typedef struct lcx_data_mix {
    const char *task; /* a RULER task name, e.g. "niah_single_1" */
    double weight;    /* > 0; relative */
} lcx_data_mix;

typedef struct lcx_data_stream_opts {
    uint64_t seed;              /* >= LCX_TRAIN_SEED_MIN; 0 = LCX_TRAIN_SEED_MIN */
    const lcx_data_mix *mix;    /* NULL = all 13 tasks, weight 1 each */
    size_t n_mix;
    float prompt_weight;        /* loss weight of prompt tokens, in [0, 1] */
    const char *template_name;  /* model template; NULL = "base" */
    int rounds;                 /* extra questions per multi-key niah sequence, 0 to LCX_DATA_MAX_ROUNDS */
} lcx_data_stream_opts;

typedef struct lcx_data_stream lcx_data_stream;

/* The tokenizer must have `<|endoftext|>` and `<|pad|>` (train/vocab.h
 * writes both). tok and data must outlive the stream. */
int lcx_data_stream_new(const lcx_tokenizer *tok, const lcx_task_data *data, const lcx_data_stream_opts *opts,
                        lcx_data_stream **out, lcx_err *err);
void lcx_data_stream_free(lcx_data_stream *s);

/* What one sequence holds. */
typedef struct lcx_data_info {
    const char *task;  /* the task's name (static) */
    size_t n_prompt;   /* prompt ids, BOS and extra questions included */
    size_t n_rounds;   /* extra questions asked */
    size_t n_answer;   /* answer ids, EOS included */
    size_t n_pad;      /* T - n_prompt - n_answer */
} lcx_data_info;

/* Sequence i at length T (2 <= T <= LCX_DATA_MAX_T): ids[T], weights[T].
 * info may be NULL. sample, when not NULL, receives the generated sample
 * (prompt and reference answers, for measuring answer accuracy on held-out
 * sequences; free it with lcx_sample_free). Safe to call from several
 * threads at once. */
int lcx_data_sequence(const lcx_data_stream *s, uint64_t i, size_t T, int32_t *ids, float *weights,
                      lcx_data_info *info, lcx_sample *sample, lcx_err *err);

/* Sequences first .. first+B-1 at length T, in parallel (OpenMP): ids[B*T] and
 * weights[B*T], row b = sequence first+b. info (B entries) may be NULL. The
 * result does not depend on the thread count. */
int lcx_data_batch(const lcx_data_stream *s, uint64_t first, size_t B, size_t T, int32_t *ids,
                   float *weights, lcx_data_info *info, lcx_err *err);

/* Token ids the stream uses. */
int32_t lcx_data_bos_id(const lcx_data_stream *s);
int32_t lcx_data_eos_id(const lcx_data_stream *s);
int32_t lcx_data_pad_id(const lcx_data_stream *s);

#endif
