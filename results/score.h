/* score.h: RULER's scoring (scripts/eval/synthetic/constants.py): the
 * prediction clean-up, string_match_all and string_match_part, and the
 * task x length table with per-length means and null counts. */
#ifndef LCX_SCORE_H
#define LCX_SCORE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"

/* Clean a prediction as RULER does: strip, replace every character in
 * [\x00-\x1f] with '\n', strip again. Returns a new string. */
char *lcx_postprocess_pred(const char *pred);
/* The same for pred[0..len), which may hold NUL characters (they become
 * '\n' like every other control character); *out_len (may be NULL) gets the
 * result's length. */
char *lcx_postprocess_predn(const char *pred, size_t len, size_t *out_len);

/* A reasoning model's prediction without its thinking: a new string, or
 * NULL when out of memory. Tags are matched exactly (case-sensitive), open
 * first where both start. Each span from `open` to its matching `close` is
 * dropped, tags included; spans may nest (an open inside a span deepens
 * it) and repeat. An open tag never closed drops everything from it to the
 * end (the model was cut off while thinking). A close tag outside any span
 * drops everything before it (templates such as Qwen3's or DeepSeek-R1's
 * put the open tag in the prompt). Text without tags comes back unchanged.
 * open and close must be non-empty and differ. */
char *lcx_strip_think(const char *pred, const char *open, const char *close);

/* Fraction (0..1) of references found case-insensitively in pred. */
double lcx_match_all(const char *pred, const char *const *refs, size_t n);
/* 1 if any reference is found case-insensitively in pred, else 0. */
double lcx_match_part(const char *pred, const char *const *refs, size_t n);

/* RULER's case-insensitive test, `needle.lower() in haystack.lower()`, with
 * Python's lower() (results/pylower.h). */
int lcx_contains_ci(const char *haystack, const char *needle);

/* RULER's round(x, 2). */
double lcx_round2(double x);

/* A score table: cells keyed by (task, length). */
typedef struct lcx_cell {
    char task[64];
    size_t length;
    double sum;     /* sum of per-sample scores in [0, 1] */
    size_t count;   /* samples */
    size_t nulls;   /* empty predictions after clean-up */
    size_t errors;  /* samples whose backend failed (not scored) */
} lcx_cell;

typedef struct lcx_table {
    lcx_cell *cells;
    size_t n, cap;
} lcx_table;

void lcx_table_init(lcx_table *t);
void lcx_table_free(lcx_table *t);
lcx_cell *lcx_table_cell(lcx_table *t, const char *task, size_t length); /* creates */
const lcx_cell *lcx_table_find(const lcx_table *t, const char *task, size_t length);
/* Score of a cell: RULER's round(sum / count * 100, 2), in that order. */
double lcx_cell_score(const lcx_cell *c);

/* Sorted distinct lengths and tasks (tasks in the standard order first). */
size_t lcx_table_lengths(const lcx_table *t, size_t *out, size_t max);
size_t lcx_table_tasks(const lcx_table *t, const char **out, size_t max);
/* Mean of the task scores at a length (over tasks present), and its nulls. */
double lcx_table_mean(const lcx_table *t, size_t length);
size_t lcx_table_nulls(const lcx_table *t, size_t length);

/* Add every prediction record of a .jsonl file, or of every .jsonl file
 * under a directory, to the table. A record needs `outputs` (array of
 * strings) and `pred` (string); the task comes from its `task` field or the
 * file name, the length from `max_length` or the parent directory name. */
int lcx_score_path(const char *path, lcx_table *t, lcx_err *err);

/* The score (0..1) of one prediction record (its `pred` against its
 * `outputs`), as the table adds it: string_match_part when match_part, else
 * string_match_all. *is_null (may be NULL): the cleaned prediction is
 * empty. path and line name the record in messages. The record's `error`
 * field is not looked at (a failed request is not scored at all). */
int lcx_score_record(json_t *rec, int match_part, const char *path, size_t line, double *score,
                     int *is_null, lcx_err *err);

/* The records of one open .jsonl stream, as lcx_score_path reads a file;
 * path names it (task and length as above, and messages). */
int lcx_score_stream(FILE *fp, const char *path, lcx_table *t, lcx_err *err);

#endif
