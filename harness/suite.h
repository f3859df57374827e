/* suite.h: the options every suite-running command shares (`lcx gen`, and
 * later `lcx run` and `lcx sweep`): tasks, lengths, samples, seed,
 * template, token counter and data files, validated in one place. */
#ifndef LCX_SUITE_H
#define LCX_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "harness/counter_select.h"
#include "tasks/tasks.h"

enum { LCX_MAX_TASKS = 64, LCX_MAX_LENGTHS = 64 };

typedef struct lcx_suite_opts {
    const char *tasks;    /* "all" or comma-separated names */
    const char *lengths;  /* comma-separated */
    const char *template_name;
    const char *tokenizer; /* NULL: bytes */
    const char *essay_corpus, *squad, *hotpotqa;
    const char *samples, *seed; /* as given */
    const char *fit;            /* --fit: tight (default) or ruler */
    const lcx_counter *counter;  /* used when no --tokenizer is given; NULL = bytes */
    int counter_is_tokenizer;   /* counter is a local tokenizer (chunk-count fitting) */
    int verify_counts;          /* --verify-counts: count fitted prompts in full too */
    const char *tokens_to_generate; /* --tokens-to-generate N: every task's budget, or NULL */
    const char *tokens_scale;       /* --tokens-scale X: each task's budget times X, or NULL */
} lcx_suite_opts;

void lcx_suite_opts_init(lcx_suite_opts *o);
/* Consume argv[*i] if it is a suite option: 1 consumed, 0 not ours, -1 error. */
int lcx_suite_opt(lcx_suite_opts *o, int argc, char **argv, int *i, lcx_err *err);

typedef struct lcx_suite {
    const lcx_task *tasks[LCX_MAX_TASKS]; /* point into task_copies */
    size_t n_tasks;
    /* The tasks with their tokens to generate as --tokens-to-generate or
     * --tokens-scale set them (prompts are fitted to length minus these). */
    lcx_task task_copies[LCX_MAX_TASKS];
    int tokens_to_generate; /* --tokens-to-generate, 0 when not given */
    double tokens_scale;    /* --tokens-scale, 1 when not given */
    size_t lengths[LCX_MAX_LENGTHS];
    size_t n_lengths;
    size_t samples;
    uint64_t seed;
    const lcx_template *tmpl;
    lcx_fit_opts fit;
    lcx_counter_choice counter;
    lcx_task_data *data;
} lcx_suite;

/* Parse a --lengths list ("4k,8192,...") into lengths[LCX_MAX_LENGTHS]. */
int lcx_suite_parse_lengths(const char *spec, size_t *lengths, size_t *n_lengths, lcx_err *err);

/* Validate the options and load the data and counter. s must stay where
 * it is while in use (its tasks point into it). */
int lcx_suite_open(const lcx_suite_opts *o, lcx_suite *s, lcx_err *err);
/* Fail early, before anything is written, when a length is too short for
 * a task's smallest prompt. With skip (LCX_MAX_TASKS * LCX_MAX_LENGTHS
 * entries, index length * n_tasks + task), such cells are marked 1 there
 * and counted in *n_skipped instead. */
int lcx_suite_check_fits(const lcx_suite *s, unsigned char *skip, size_t *n_skipped, lcx_err *err);
lcx_gen_ctx lcx_suite_ctx(const lcx_suite *s, size_t task, size_t length);
void lcx_suite_close(lcx_suite *s);

#endif
