/* trainer.h: the training run behind `lcx train`: vocabulary, data stream,
 * curriculum over the sequence length, AdamW steps, held-out answer
 * accuracy, checkpoints that resume bit for bit, the training log (CSV and
 * an SVG plot) and the Hugging Face export.
 *
 * A run lives in one directory:
 *   tokenizer.json   the byte-level BPE vocabulary (learnt, or --vocab)
 *   train.cfg        the settings, "key value" lines (trainer_settings_text)
 *   checkpoint.bin   the latest checkpoint (train/checkpoint.h), atomic
 *   train_log.csv    one row per step; held-out accuracy on evaluation rows
 *   loss.svg         loss and held-out accuracy against step
 *   model/           the Hugging Face export, written at the end (atomic)
 *
 * Held-out accuracy: a fixed set of sequences from the data stream with the
 * seed trainer_heldout_seed(seed), a seed range training never uses (training
 * seeds are in [1e9, 2e9), held-out ones in [2e9, 3e9), evaluation uses small
 * seeds), at the last length of the curriculum. A sample counts as correct
 * when greedy decoding after its prompt reproduces its answer tokens exactly;
 * that is computed in one teacher-forced forward pass: greedy decoding yields
 * the answer exactly iff the argmax at every answer position, given the
 * correct earlier tokens, is the answer's token.
 *
 * Library code: errors are values, nothing is printed; progress goes to a
 * callback.
 *
 * The module's files: trainer_settings.c (the settings, train.cfg and the
 * options), trainer.c (the run), trainer_log.c (train_log.csv, its own
 * header trainer_log.h) and trainer_plot.c (loss.svg). */
#ifndef LCX_TRAIN_TRAINER_H
#define LCX_TRAIN_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "train/model.h"

#define TRAINER_MAX_PHASES 16

/* One stage of the curriculum: sequences of seq_len tokens from step on. */
typedef struct trainer_phase {
    long step;
    int seq_len;
} trainer_phase;

typedef struct trainer_opts {
    /* model (vocab_size comes from the tokenizer; head_dim 0 = dim / heads) */
    train_gate gate;
    int dim, layers, heads, kv_heads, head_dim, ffn;
    size_t vocab_merges;
    /* schedule */
    long steps;
    int batch; /* sequences per step */
    trainer_phase phases[TRAINER_MAX_PHASES];
    int n_phases;
    double lr, min_lr, weight_decay, clip;
    long warmup;
    uint64_t seed; /* data, vocabulary text and initialisation; in [1e9, 2e9) */
    double prompt_weight;
    int rounds; /* extra questions per multi-key niah sequence (train/data.h); held-out has none */
    long eval_every, ckpt_every; /* 0 = only at the end */
    int eval_samples;
    /* task mix of the training stream: "all" (the 13 tasks, weight 1 each)
     * or "task:weight,..." (the held-out set uses the same mix) */
    char mix[1024];
} trainer_opts;

/* The defaults of `lcx train` (a ~2.2M-parameter model, under 5 MB BF16). */
void trainer_opts_default(trainer_opts *o);

/* Parse "256:0,512:2000,1024:4000" (seq_len:first_step, steps increasing,
 * the first at 0). */
int trainer_parse_schedule(const char *s, trainer_opts *o, lcx_err *err);

/* Parse a --mix value into at most max entries (task names point to the
 * static task table); *n = 0 for "all". */
struct lcx_data_mix;
int trainer_parse_mix(const char *s, struct lcx_data_mix *out, size_t max, size_t *n, lcx_err *err);

/* Check every setting; the one-line error names the option ("--heads"). */
int trainer_check(const trainer_opts *o, lcx_err *err);

/* Sequence length at a step, and the longest of the curriculum. */
int trainer_seq_len_at(const trainer_opts *o, long step);
int trainer_max_seq_len(const trainer_opts *o);

/* The model blueprint for a vocabulary of vocab_size ids. */
train_config trainer_model_config(const trainer_opts *o, int vocab_size);

/* The settings as "key value" lines, one per setting, in a fixed order
 * (caller frees); what train.cfg holds. */
char *trainer_settings_text(const trainer_opts *o);

/* The command-line form of the settings: "--kv-heads 2" sets kv_heads. One
 * table serves both train.cfg and the options, so they cannot drift apart.
 * trainer_set_option's errors name the option. */
int trainer_is_option(const char *option);
int trainer_set_option(trainer_opts *o, const char *option, const char *value, lcx_err *err);
/* Read train.cfg text back (a missing or unknown key is an error naming it
 * and the file). */
int trainer_settings_parse(const char *text, const char *name, trainer_opts *o, lcx_err *err);

/* The held-out stream's seed for a training seed. */
uint64_t trainer_heldout_seed(uint64_t seed);

/* What the callback sees after each step (and after each evaluation). */
typedef struct trainer_event {
    int kind;            /* TRAINER_EV_* */
    long step, steps;    /* steps completed, total */
    int seq_len;
    double loss, lr, grad_norm;
    double tokens_per_s; /* since this process started training */
    double heldout_acc;  /* last evaluation, percent; < 0 before the first */
    double heldout_niah_acc;
    const char *message; /* TRAINER_EV_STAGE: what is being done */
} trainer_event;

enum { TRAINER_EV_STAGE = 0, TRAINER_EV_STEP, TRAINER_EV_EVAL, TRAINER_EV_CHECKPOINT };

typedef void (*trainer_callback)(void *ctx, const trainer_event *ev);

typedef struct trainer_run_opts {
    const char *dir;        /* the run directory */
    const char *vocab_path; /* tokenizer.json to reuse, or NULL to learn one */
    int resume;             /* continue from dir/checkpoint.bin */
    trainer_callback callback;
    void *callback_ctx;
} trainer_run_opts;

/* Run (or resume) a training run in ro->dir, which must exist. With resume,
 * o must be the settings of dir/train.cfg. */
int trainer_run(const trainer_opts *o, const trainer_run_opts *ro, lcx_err *err);

/* The SVG plot of a log (the text of train_log.csv); caller frees *svg. */
int trainer_plot_svg(const char *csv, char **svg, lcx_err *err);

#endif
