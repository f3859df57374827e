/* run_dir.h: the results directories, the one place that names their files.
 *
 * A run directory (lcx run --out DIR), which survives being killed:
 *   run.json                    what reproduces the run; its "config" must
 *                               match on resume, or the run is refused
 *   pred/<length>/<task>.jsonl  one record per sample (results/pred_file.h)
 *   summary.json, summary.csv   RULER scores, written at the end
 *   probe.json                  lcx probe's measurements, when put there
 *                               (lcx report shows them)
 * A sweep directory (lcx sweep --out DIR) holds sweep.json and one run
 * directory per setting.
 *
 * Reading a run directory into a report is results/report.h's job; this
 * module writes run.json, sweep.json and the summaries and builds every
 * path. */
#ifndef LCX_RUN_DIR_H
#define LCX_RUN_DIR_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

#define LCX_RUNDIR_RUN_JSON "run.json"
#define LCX_RUNDIR_PRED "pred"
#define LCX_RUNDIR_SUMMARY_JSON "summary.json"
#define LCX_RUNDIR_SUMMARY_CSV "summary.csv"
#define LCX_RUNDIR_PROBE_JSON "probe.json"
#define LCX_RUNDIR_SWEEP_JSON "sweep.json"

/* dir/name into buf (size bytes, cut to fit). */
void lcx_rundir_path(char *buf, size_t size, const char *dir, const char *name);

/* The prediction file of a cell relative to its run directory,
 * "pred/<length>/<task>.jsonl"; with task NULL, the length's directory
 * "pred/<length>". */
void lcx_rundir_pred_name(char *buf, size_t size, size_t length, const char *task);
/* The same joined to the run directory: dir/pred/<length>/<task>.jsonl. */
void lcx_rundir_pred_path(char *buf, size_t size, const char *dir, size_t length,
                          const char *task);

/* DIR/name as a JSON object into *root (a new reference; path gets the
 * file's path, n bytes). A missing file is LCX_EINPUT "DIR: no NAME (not
 * WHAT directory)", e.g. what = "an lcx run". */
int lcx_rundir_read_json(const char *dir, const char *name, const char *what, char *path,
                         size_t n, json_t **root, lcx_err *err);

/* 1 when dir is a sweep directory (holds sweep.json). */
int lcx_rundir_is_sweep(const char *dir);

/* Create dir and run.json, or check an existing run.json: its "config"
 * must equal config, else LCX_EINPUT naming every differing key. Takes a
 * reference to nothing; run is the whole run.json object to write when new.
 * defaults (NULL for none) is shaped like "config" and holds keys added
 * after runs were made without them, with the value such a run had: an
 * existing run.json lacking one is compared as if it held it (so a run
 * from before `backend.kv_dtype` was recorded resumes with the F32 cache
 * it ran with). */
int lcx_rundir_open(const char *dir, json_t *run, json_t *defaults, lcx_err *err);

/* The resume check of lcx_rundir_open on run.json's contents (data) found
 * in dir: LCX_EINPUT when it is not a run.json or its "config" differs
 * from run's (naming every differing key), after defaults. */
int lcx_rundir_check(const char *data, size_t len, const char *dir, json_t *run,
                     json_t *defaults, lcx_err *err);

/* Update the "runtime" object of run.json (atomically). */
int lcx_rundir_set_runtime(const char *dir, json_t *runtime, lcx_err *err);

/* Create dir and sweep.json (sweep, the lcx-sweep record of
 * results/sweep_grid.h), or check that the one there describes the same
 * grid: kind, model, lengths, yarn_factors and attn_temperatures, else
 * LCX_EINPUT naming the first that differs. */
int lcx_rundir_sweep_open(const char *dir, json_t *sweep, lcx_err *err);

/* Score dir/pred and write summary.json and summary.csv; print the table
 * (results/summary.h) to stdout unless quiet. */
int lcx_rundir_summarize(const char *dir, int quiet, lcx_err *err);

#endif
