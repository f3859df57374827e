/* pred_file.c: prediction files: read back on resume (dropping torn and
 * failed records), appended one flushed record at a time, and sorted by
 * index when the cell is complete (see pred_file.h). */
#include "results/pred_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/strbuf.h"
#include "results/run_dir.h"

typedef struct line_rec {
    size_t index;
    char *text; /* the line, newline excluded */
} line_rec;

static int cmp_line(const void *a, const void *b)
{
    const line_rec *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void free_lines(line_rec *recs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(recs[i].text);
    free(recs);
}

/* The good lines of a pred file's contents: complete (newline-terminated),
 * valid JSON objects with an index < n, no error, no duplicate. */
static int good_lines(const char *buf, size_t len, size_t n, line_rec **out, size_t *count,
                      int *dirty, unsigned char *done, lcx_err *err)
{
    *out = NULL;
    *count = 0;
    *dirty = 0;
    int rc = 0;
    size_t cap = 64;
    line_rec *recs = malloc(cap * sizeof *recs);
    if (!recs)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) { /* torn last line */
            *dirty = 1;
            break;
        }
        json_error_t je;
        json_t *rec = json_loadb(p, (size_t)(nl - p), 0, &je);
        if (!rec && json_error_code(&je) == json_error_out_of_memory) {
            /* not a bad line: dropping it would lose a good record */
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory at offset %zu",
                          (size_t)(p - buf));
            break;
        }
        json_t *jidx = json_object_get(rec, "index");
        json_t *jerr = json_object_get(rec, "error");
        int good = json_is_object(rec) && json_is_integer(jidx) && json_integer_value(jidx) >= 0 &&
                   (size_t)json_integer_value(jidx) < n && (!jerr || json_is_null(jerr)) &&
                   !done[json_integer_value(jidx)];
        if (good) {
            size_t idx = (size_t)json_integer_value(jidx);
            if (*count == cap) {
                line_rec *r = realloc(recs, 2 * cap * sizeof *r);
                if (!r) {
                    json_decref(rec);
                    rc = lcx_errf(err, LCX_ENOMEM, "out of memory reading %zu records",
                                  *count);
                    break;
                }
                recs = r;
                cap *= 2;
            }
            char *text = strndup(p, (size_t)(nl - p));
            if (!text) {
                json_decref(rec);
                rc = lcx_errf(err, LCX_ENOMEM, "out of memory at offset %zu",
                              (size_t)(p - buf));
                break;
            }
            done[idx] = 1;
            recs[*count].index = idx;
            recs[*count].text = text;
            (*count)++;
        } else {
            *dirty = 1;
        }
        json_decref(rec);
        p = nl + 1;
    }
    *out = recs;
    return rc;
}

/* The same from the file at path (none: no lines). */
static int read_good_lines(const char *path, size_t n, line_rec **out, size_t *count,
                           int *dirty, unsigned char *done, lcx_err *err)
{
    *out = NULL;
    *count = 0;
    *dirty = 0;
    char *buf;
    size_t len;
    if (access(path, F_OK) != 0)
        return 0;
    int rc = lcx_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    rc = good_lines(buf, len, n, out, count, dirty, done, err);
    free(buf);
    if (rc)
        lcx_err_prefix(err, "%s", path); /* "<path>: out of memory at offset N" */
    return rc;
}

int lcx_pred_file_scan(const char *data, size_t len, size_t n, unsigned char *done,
                       size_t *n_good, int *dirty, lcx_err *err)
{
    line_rec *recs;
    int rc = good_lines(data, len, n, &recs, n_good, dirty, done, err);
    free_lines(recs, *n_good);
    return rc;
}

static int write_lines(const char *path, line_rec *recs, size_t count, lcx_err *err)
{
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < count; i++)
        if (fputs(recs[i].text, f.fp) == EOF || fputc('\n', f.fp) == EOF) {
            lcx_atomic_abort(&f);
            return lcx_errf(err, LCX_EIO, "%s: write failed", path);
        }
    return lcx_atomic_commit(&f, err);
}

int lcx_pred_file_open(const char *dir, size_t length, const char *task, size_t n,
                       lcx_pred_file *pf, lcx_err *err)
{
    memset(pf, 0, sizeof *pf);
    pf->fd = -1;
    pf->n = n;
    char sub[4096];
    lcx_rundir_pred_path(sub, sizeof sub, dir, length, NULL);
    int rc = lcx_mkdir_p(sub, err);
    if (rc)
        return rc;
    lcx_rundir_pred_path(pf->path, sizeof pf->path, dir, length, task);
    pf->done = calloc(n ? n : 1, 1);
    if (!pf->done)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    line_rec *recs;
    size_t count;
    int dirty;
    rc = read_good_lines(pf->path, n, &recs, &count, &dirty, pf->done, err);
    if (!rc && dirty)
        rc = write_lines(pf->path, recs, count, err);
    free_lines(recs, count);
    if (rc)
        return rc;
    pf->n_done = count;
    pf->fd = open(pf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (pf->fd < 0)
        return lcx_errf(err, LCX_EIO, "%s: cannot append: %s", pf->path, strerror(errno));
    return 0;
}

int lcx_pred_file_append(lcx_pred_file *pf, json_t *record, lcx_err *err)
{
    char *line = json_dumps(record, JSON_COMPACT | JSON_REAL_PRECISION(12));
    if (!line)
        return lcx_errf(err, LCX_ENOMEM, "%s: cannot serialise a record", pf->path);
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, line);
    sb_putc(&sb, '\n');
    free(line);
    if (sb.oom) {
        sb_free(&sb);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", pf->path);
    }
    const char *p = sb_str(&sb);
    size_t left = sb.len;
    while (left) {
        ssize_t w = write(pf->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            sb_free(&sb);
            return lcx_errf(err, LCX_EIO, "%s: write failed: %s", pf->path, strerror(errno));
        }
        p += w;
        left -= (size_t)w;
    }
    sb_free(&sb);
    json_t *jidx = json_object_get(record, "index");
    json_t *jerr = json_object_get(record, "error");
    if (json_is_integer(jidx) && (!jerr || json_is_null(jerr))) {
        size_t i = (size_t)json_integer_value(jidx);
        if (i < pf->n && !pf->done[i]) {
            pf->done[i] = 1;
            pf->n_done++;
        }
    }
    return 0;
}

int lcx_pred_file_close(lcx_pred_file *pf, lcx_err *err)
{
    int rc = 0;
    if (pf->fd >= 0) {
        if (fsync(pf->fd) != 0 && errno != EINVAL)
            rc = lcx_errf(err, LCX_EIO, "%s: fsync failed: %s", pf->path, strerror(errno));
        close(pf->fd);
        pf->fd = -1;
    }
    if (!rc && pf->n_done == pf->n) {
        /* Complete: sort by index, so a resumed run ends with the same file
         * as an uninterrupted one. */
        line_rec *recs;
        size_t count;
        int dirty;
        memset(pf->done, 0, pf->n);
        rc = read_good_lines(pf->path, pf->n, &recs, &count, &dirty, pf->done, err);
        if (!rc) {
            qsort(recs, count, sizeof *recs, cmp_line);
            rc = write_lines(pf->path, recs, count, err);
        }
        free_lines(recs, count);
    }
    free(pf->done);
    pf->done = NULL;
    return rc;
}
