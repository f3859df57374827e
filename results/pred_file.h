/* pred_file.h: a cell's prediction file in a run directory,
 * pred/<length>/<task>.jsonl (the path from results/run_dir.h): one JSON
 * record per sample, appended and flushed one at a time while lcx run
 * works, and sorted by index once the cell is complete.
 *
 * Resume: a torn last line (a kill mid-write) and records of failed
 * requests are dropped (the file is rewritten atomically), and only what is
 * missing runs again. */
#ifndef LCX_PRED_FILE_H
#define LCX_PRED_FILE_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

typedef struct lcx_pred_file {
    char path[4200];
    int fd;              /* open for appending, or -1 */
    unsigned char *done; /* done[i]: sample i has a good record */
    size_t n;            /* samples in the cell */
    size_t n_done;
} lcx_pred_file;

/* Open dir/pred/<length>/<task>.jsonl for a cell of n samples: read what is
 * there, drop torn and failed records, note what is done. */
int lcx_pred_file_open(const char *dir, size_t length, const char *task, size_t n,
                       lcx_pred_file *pf, lcx_err *err);
/* What lcx_pred_file_open keeps of a pred file's contents (data) for a cell
 * of n samples: done[i] set (done holds n zeroed bytes) for each good
 * record, *n_good of them; *dirty when a line was dropped (torn, not a JSON
 * object, no index in [0, n), a failed request, a repeated index). */
int lcx_pred_file_scan(const char *data, size_t len, size_t n, unsigned char *done,
                       size_t *n_good, int *dirty, lcx_err *err);
/* Append one record (a JSON object with "index") as one line, flushed. */
int lcx_pred_file_append(lcx_pred_file *pf, json_t *record, lcx_err *err);
/* Close; when every sample is done, rewrite the file sorted by index. */
int lcx_pred_file_close(lcx_pred_file *pf, lcx_err *err);

#endif
