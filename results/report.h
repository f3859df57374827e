/* report.h: runs side by side (`lcx report`) and the report JSON that is
 * also `lcx check`'s baseline format. One module in five files:
 *   report_load.c     runs from run directories and report JSON files
 *   report_figures.c  a run's cells, means, effective length, wAvg, deltas
 *   report_print.c    table, markdown, CSV (the same rows) and JSON
 *   report_ci.c       the 95% intervals of cells, means and deltas
 *   report_plot.c     the SVG plots
 * The sweep grid is results/sweep_grid.h; the files of a run directory are
 * named in results/run_dir.h.
 *
 * A run comes from a run directory (run.json + pred/<length>/<task>.jsonl,
 * scored with results/score.h; probe.json when present) or from one entry of
 * a report JSON. Figures, per run over its own lengths L_1 < ... < L_n:
 *   - mean_j: RULER's score at L_j, the plain mean of the task scores;
 *   - effective length: the longest L_j whose mean strictly exceeds the
 *     threshold (RULER: 85.6), or none;
 *   - wAvg inc = sum_j j * mean_j / (n(n+1)/2), wAvg dec = sum_j (n+1-j) *
 *     mean_j / (n(n+1)/2);
 *   - deltas: run minus the first run (the reference), per cell, per mean
 *     and per wAvg, rounded to 2 decimals.
 *
 * The report JSON (--format json), version 1:
 *   {"kind": "lcx-report", "version": 1, "threshold": 85.6,
 *    "reference": "<name of runs[0]>",
 *    "intervals": {"level": 0.95, "cell", "mean", "overall", "delta" (the
 *                  methods in words), "resamples", "seed"},
 *    "runs": [{"name", "path", "model" (or null), "samples" (config.samples,
 *              or null), "original_context" (or null),
 *              "rope": {"type", "factor" (number or "auto"), "factors",
 *                       "attention_temperature"} (or null),
 *              "lengths": [L...], "tasks": [task...],
 *              "cells": [{"task", "length", "score" (0..100, 2 decimals),
 *                         "samples" (n scored), "nulls",
 *                         "interval": {"lo", "hi" (points), "method"
 *                                      ("wilson" or "bootstrap"), "n"} or null,
 *                         "delta" (runs after the first; null when the
 *                         reference lacks the cell),
 *                         "delta_interval": {"lo", "hi", "method":
 *                                      "paired-bootstrap", "n" (shared samples)}
 *                                      or null (runs after the first),
 *                         "per_sample": {"ids_from": "input" or "outputs",
 *                                        "index": [...], "score": [0..1 ...],
 *                                        "input_id": ["16 hex digits" ...]}
 *                                       (when the records allow pairing)}],
 *              "means": [per length], "nulls": [per length],
 *              "mean_intervals": [interval or null per length],
 *              "mean_delta_intervals": [...] (runs after the first),
 *              "overall": {"score" (mean of the cells of the reference's
 *                          lengths), "cells", "samples", "interval" (or
 *                          null), "delta", "delta_interval" (runs after the
 *                          first; delta null unless the run holds every one
 *                          of those lengths)},
 *              "effective_length": L or null, "wavg_inc", "wavg_dec",
 *              "mean_deltas", "wavg_inc_delta", "wavg_dec_delta" (runs after
 *              the first),
 *              "probe": {"model", "gate", "tokens", "layers": n,
 *                        "first_token_share" (0..1, mean over layers),
 *                        "max_abs_hidden" (max over layers),
 *                        "gate_mean" (mean over layers, null ungated),
 *                        "per_layer": {"sink_share": [...],
 *                                      "max_abs_hidden": [...],
 *                                      "gate_mean": [...] or null}}
 *                       (only when the run has probe.json)}]}
 * Reading one back (lcx check --baseline) needs only kind, version, and per
 * run name, lengths and cells (task, length, score, samples, nulls); a
 * cell's per_sample, when there, lets lcx check pair it. Intervals are
 * recomputed, never read. */
#ifndef LCX_REPORT_H
#define LCX_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "results/score.h"

#define LCX_REPORT_VERSION 1
#define LCX_DEFAULT_THRESHOLD 85.6

/* probe.json of a run, per layer and summarised. */
typedef struct lcx_probe_sum {
    int present;
    char model[512];
    char gate[32];            /* "none", "headwise", "elementwise", ... */
    size_t tokens;
    size_t n_layers;
    double *sink_share;       /* per layer, 0..1 */
    double *max_abs_hidden;   /* per layer */
    double *gate_mean;        /* per layer; NULL when ungated */
    double mean_sink_share;   /* mean over layers, 0..1 */
    double max_hidden;        /* max over layers */
    double mean_gate;         /* mean over layers; NAN when ungated */
} lcx_probe_sum;

/* A cell's samples one by one, for paired comparisons (results/stats.h).
 * From a run directory's pred file, or from a report JSON's "per_sample". */
typedef struct lcx_sample_set {
    char task[64];
    size_t length;
    size_t n;
    size_t *index;      /* sample indices, ascending, distinct */
    double *score;      /* 0..1 */
    uint64_t *input_id; /* the first 8 bytes of a SHA-256 of what identifies the sample */
    int by_input;       /* 1: the id covers input, answer_prefix and outputs; 0: the
                           records carry no 'input', the id covers outputs only */
} lcx_sample_set;

typedef struct lcx_run {
    char name[256];
    char path[4096];
    char model[512];          /* "" when unknown */
    char rope_factor[64];     /* "4", "auto", "" when unknown */
    double attn_temperature;  /* 0 when unknown */
    size_t orig_ctx;          /* original context; 0 when unknown */
    size_t samples;           /* config.samples; 0 when unknown */
    json_t *rope;             /* the rope summary for the JSON, or NULL */
    size_t n_lengths;
    size_t *lengths;          /* ascending */
    size_t n_tasks;
    char **tasks;             /* standard task order */
    lcx_table table;          /* exactly the cells of tasks x lengths */
    int *length_complete;     /* per length: every task's cell complete */
    /* Figures (lcx_run_compute). */
    double *means;            /* per length; mean over the run's tasks */
    size_t *nulls;            /* per length */
    size_t *scored;           /* per length: samples scored over all tasks */
    long effective;           /* index into lengths; -1 when none qualifies */
    double wavg_inc, wavg_dec;
    lcx_probe_sum probe;
    json_t *skipped;          /* config.skipped ("task@length" cells lcx run --skip-unfit left out), or NULL */
    lcx_sample_set *sample_sets; /* per cell, when the records allow pairing */
    size_t n_sample_sets;
    int deterministic;        /* config.backend.deterministic: 1, 0, or -1 when absent */
} lcx_run;

void lcx_run_init(lcx_run *r);
void lcx_run_free(lcx_run *r);
/* 1 when lcx run --skip-unfit left the cell out (config.skipped). */
int lcx_run_skips(const lcx_run *r, const char *task, size_t length);

/* Load a run directory. Refuses (LCX_EINPUT, one line naming the run and
 * the cell) a missing directory or run.json, a missing pred file, a cell
 * with fewer records than config.samples (records with "error" count as not
 * done) or a torn last record. The figures are computed with threshold. */
int lcx_run_load(const char *dir, double threshold, lcx_run *r, lcx_err *err);

/* The same, but an incomplete cell is not an error: length_complete says
 * which lengths are whole (the sweep grid uses it). A missing directory or
 * run.json leaves every length incomplete (n_lengths stays 0). */
int lcx_run_load_lenient(const char *dir, double threshold, lcx_run *r, lcx_err *err);

/* lcx_run_load of only these lengths (each one of the run's; LCX_EINPUT
 * naming it otherwise): the others are not read, so a run still going at
 * its longer lengths can be reported and checked on the finished ones. */
int lcx_run_load_lengths(const char *dir, double threshold, const size_t *keep, size_t n_keep,
                         lcx_run *r, lcx_err *err);

/* Read a report JSON: every run in it (caller frees each and the array).
 * A JSON file of another kind is refused naming what it is (a
 * summary.json, sweep.json, run.json, probe.json). */
int lcx_report_file_load(const char *path, double threshold, lcx_run **runs, size_t *n,
                         lcx_err *err);

/* The same from a report JSON's contents (path names it in messages). */
int lcx_report_parse(const char *data, size_t len, const char *path, double threshold,
                     lcx_run **runs, size_t *n, lcx_err *err);

/* What a run.json's contents (read from path) say of the run: samples,
 * lengths (ascending), tasks (standard order), skipped cells, model and
 * RoPE; no cells, no figures. r is freed on error. */
int lcx_run_json_parse(const char *data, size_t len, const char *path, lcx_run *r, lcx_err *err);

/* A run directory, or a report JSON file holding exactly one run. */
int lcx_run_load_any(const char *path, double threshold, lcx_run *r, lcx_err *err);

/* Cell of a run (NULL when the run does not have it). */
const lcx_cell *lcx_run_cell(const lcx_run *r, const char *task, size_t length);
/* A cell's samples (NULL when the run has none for it: a report JSON
 * without "per_sample", records without an index). */
const lcx_sample_set *lcx_run_samples(const lcx_run *r, const char *task, size_t length);
/* 1 when every per-sample score of the set is 0 or 1. */
int lcx_sample_set_binary(const lcx_sample_set *s);
/* Index of length among the run's lengths; -1 when it has not got it. */
long lcx_run_length_index(const lcx_run *r, size_t length);
/* qsort's comparison of two task names (char * elements): the standard
 * task order (tasks/tasks.h), unknown names last in byte order. */
int lcx_run_task_cmp(const void *a, const void *b);

/* (Re)compute means, nulls, effective length and wAvg. */
void lcx_run_compute(lcx_run *r, double threshold);

/* Index of the longest length whose mean strictly exceeds threshold; -1
 * when none does. means[i] belongs to the i-th length, ascending. */
long lcx_effective_length(const double *means, size_t n, double threshold);
/* RULER's weighted average over n lengths: weights 1..n (increasing = 1)
 * or n..1, divided by n(n+1)/2. 0 when n == 0. */
double lcx_wavg(const double *means, size_t n, int increasing);
/* cur - ref rounded to 2 decimals, as the report shows it. */
double lcx_score_delta(double cur, double ref);

/* Default names: the directory basenames, or as many trailing path
 * components as it takes to tell them apart. Runs that already have a name
 * (from a report JSON) keep it. */
void lcx_run_default_names(lcx_run *runs, size_t n);

/* Every run covers the lengths of the first; else LCX_EINPUT naming both. */
int lcx_runs_check_lengths(const lcx_run *runs, size_t n, lcx_err *err);

/* ---- intervals (report_ci.c) ----
 * 95% intervals, in points, of what the report shows (results/stats.h):
 *   - a cell: Wilson when every per-sample score is 0 or 1, else the
 *     percentile bootstrap of the mean over its samples;
 *   - a mean at a length: the bootstrap resampling samples within each task
 *     (stratified), the mean of the task means;
 *   - the overall score (lcx_run_overall): the bootstrap resampling samples
 *     within each (task, length) cell of the reference's lengths, the mean
 *     of the cell means;
 *   - a delta against the reference run (cell, mean or overall): the same
 *     bootstrap of the per-sample differences over the samples both runs
 *     share (same index and id); absent when a shared sample's id differs,
 *     and for a mean (overall: at any length) unless both runs hold the
 *     same tasks at that length.
 * Bootstraps draw LCX_STATS_RESAMPLES resamples from a PRNG seeded with
 * LCX_STATS_SEED mixed with the task (or "mean", "overall") and length (0
 * for the overall score), so that the
 * figures do not depend on the order or number of runs. Intervals need the
 * runs' per-sample records; without them they are absent. */
typedef struct lcx_interval {
    int present;
    double lo, hi;      /* points */
    size_t n;           /* samples (shared samples for a delta) */
    const char *method; /* "wilson", "bootstrap", "paired-bootstrap" */
} lcx_interval;

typedef struct lcx_report_ci {
    size_t n_runs, n_tasks, n_lengths; /* lengths: the reference's */
    lcx_interval *cell;       /* [(run * n_tasks + task) * n_lengths + length] */
    lcx_interval *cell_delta; /* the same, runs after the first */
    lcx_interval *mean;       /* [run * n_lengths + length] */
    lcx_interval *mean_delta;
    lcx_interval *overall;    /* [run]: the overall score's (lcx_run_overall) */
    lcx_interval *overall_delta;
} lcx_report_ci;

/* A run's overall score over some lengths (the reference's, those shown):
 * the plain mean of the scores of every (task, length) cell it holds there,
 * rounded to 2 decimals as the means at one length are; with every task at
 * every length, the mean of those means. */
typedef struct lcx_overall {
    double score;           /* 0..100; 0 without cells */
    size_t cells;           /* cells averaged */
    size_t samples, nulls;  /* over those cells */
    int covers;             /* 1: the run holds every one of the lengths */
} lcx_overall;
lcx_overall lcx_run_overall(const lcx_run *r, const size_t *lengths, size_t nl);

/* The intervals of runs (runs[0] the reference) over tasks[0..nt) and the
 * reference's lengths. */
int lcx_report_ci_compute(const lcx_run *runs, size_t n, const char *const *tasks, size_t nt,
                          lcx_report_ci *ci, lcx_err *err);
void lcx_report_ci_free(lcx_report_ci *ci);
/* 1 when a delta's interval excludes zero (the report marks it with '*'). */
int lcx_interval_excludes_zero(const lcx_interval *v);

typedef enum { LCX_FMT_TABLE, LCX_FMT_MARKDOWN, LCX_FMT_CSV, LCX_FMT_JSON } lcx_report_format;
/* "table", "markdown" (or "md"), "csv", "json"; -1 when unknown. */
int lcx_report_format_parse(const char *s);

/* The report of runs (runs[0] is the reference) in a format. Every run
 * covers the reference's lengths (lcx_runs_check_lengths). */
json_t *lcx_report_json(const lcx_run *runs, size_t n, double threshold);
void lcx_report_print(FILE *fp, const lcx_run *runs, size_t n, double threshold,
                      lcx_report_format fmt);
/* The same; LCX_REPORT_CELL_INTERVALS adds every cell's interval to the
 * table and markdown (the means' are always there). */
#define LCX_REPORT_CELL_INTERVALS 1u
void lcx_report_print_with(FILE *fp, const lcx_run *runs, size_t n, double threshold,
                           lcx_report_format fmt, unsigned flags);

/* A CSV field, quoted when it needs to be. */
void lcx_report_csv_field(FILE *fp, const char *s);
/* JSON as the report writes it: indented, 10 significant digits, newline. */
void lcx_report_json_print(FILE *fp, json_t *j);

/* DIR/scores.svg (mean score against length, one line per run, shaded
 * beyond orig_ctx when > 0) and DIR/probe.svg when every run has a probe
 * (creates DIR). */
int lcx_report_plot(const char *dir, const lcx_run *runs, size_t n, double orig_ctx,
                    lcx_err *err);

#endif
