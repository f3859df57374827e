/* run_store.h: a results directory that survives being killed.
 *
 *   run.json                    what reproduces the run; its "config" must
 *                               match on resume, or the run is refused
 *   pred/<length>/<task>.jsonl  one record per sample, appended and flushed
 *                               one at a time; sorted by index when the
 *                               cell is complete
 *   summary.json, summary.csv   RULER scores, written at the end
 *
 * Resume: a torn last line (a kill mid-write) and records of failed
 * requests are dropped (rewritten atomically), and only what is missing
 * runs again. */
#ifndef LCX_RUN_STORE_H
#define LCX_RUN_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* Create dir and run.json, or check an existing run.json: its "config"
 * must equal config, else LCX_EINPUT naming every differing key. Takes a
 * reference to nothing; run is the whole run.json object to write when new. */
int run_store_open(const char *dir, json_t *run, lcx_err *err);

/* The resume check of run_store_open on run.json's contents (data) found
 * in dir: LCX_EINPUT when it is not a run.json or its "config" differs
 * from run's (naming every differing key). */
int run_store_check(const char *data, size_t len, const char *dir, json_t *run, lcx_err *err);

/* Update the "runtime" object of run.json (atomically). */
int run_store_set_runtime(const char *dir, json_t *runtime, lcx_err *err);

typedef struct pred_file {
    char path[4200];
    int fd;             /* open for appending, or -1 */
    unsigned char *done; /* done[i]: sample i has a good record */
    size_t n;           /* samples in the cell */
    size_t n_done;
} pred_file;

/* Open dir/pred/<length>/<task>.jsonl for a cell of n samples: read what is
 * there, drop torn and failed records, note what is done. */
int pred_open(const char *dir, size_t length, const char *task, size_t n, pred_file *pf,
              lcx_err *err);
/* What pred_open keeps of a pred file's contents (data) for a cell of n
 * samples: done[i] set (done holds n zeroed bytes) for each good record,
 * *n_good of them; *dirty when a line was dropped (torn, not a JSON object,
 * no index in [0, n), a failed request, a repeated index). */
int pred_scan(const char *data, size_t len, size_t n, unsigned char *done, size_t *n_good,
              int *dirty, lcx_err *err);
/* Append one record (a JSON object with "index") as one line, flushed. */
int pred_append(pred_file *pf, json_t *record, lcx_err *err);
/* Close; when every sample is done, rewrite the file sorted by index. */
int pred_close(pred_file *pf, lcx_err *err);

/* Score dir/pred and write summary.json and summary.csv. */
int run_store_summarize(const char *dir, int quiet, lcx_err *err);

#endif
