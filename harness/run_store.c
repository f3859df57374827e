#include "run_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/strbuf.h"
#include "results/score.h"
#include "results/summary.h"

/* run.json keeps 10 significant digits of its numbers. */
#define RUN_JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(10))

static int write_json_atomic(const char *path, json_t *j, lcx_err *err)
{
    char *s = json_dumps(j, RUN_JSON_FLAGS);
    if (!s)
        return lcx_errf(err, LCX_ENOMEM, "%s: cannot serialise", path);
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, s);
    sb_putc(&sb, '\n');
    free(s);
    int rc = sb.oom ? lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path)
                    : lcx_write_file_atomic(path, sb_str(&sb), sb.len, err);
    sb_free(&sb);
    return rc;
}

/* Describe the keys where a and b differ ("key: old -> new"). */
static void diff_objects(const char *prefix, json_t *a, json_t *b, strbuf *out)
{
    const char *key;
    json_t *va;
    json_object_foreach(a, key, va) {
        json_t *vb = json_object_get(b, key);
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (vb && json_is_object(va) && json_is_object(vb)) {
            diff_objects(path, va, vb, out);
        } else if (!json_equal(va, vb)) {
            char *sa = json_dumps(va, JSON_COMPACT | JSON_ENCODE_ANY);
            char *sb_ = vb ? json_dumps(vb, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            sb_printf(out, "%s%s: %.60s -> %.60s", out->len ? "; " : "", path, sa ? sa : "?",
                      !vb ? "(absent)" : sb_ ? sb_ : "?");
            free(sa);
            free(sb_);
        }
    }
    json_t *vb;
    json_object_foreach(b, key, vb) {
        if (!json_object_get(a, key)) {
            char *s = json_dumps(vb, JSON_COMPACT | JSON_ENCODE_ANY);
            sb_printf(out, "%s%s%s%s: (absent) -> %.60s", out->len ? "; " : "", prefix,
                      *prefix ? "." : "", key, s ? s : "?");
            free(s);
        }
    }
}

/* The run.json found at path (old, NULL when it is not JSON: je says why;
 * the reference is taken) against the run to be written. */
static int check_run_json(json_t *old, const json_error_t *read_err, const char *dir,
                          const char *path, json_t *run, lcx_err *err)
{
    int rc = 0;
    json_error_t je = *read_err;
    if (!json_is_object(old)) {
        json_decref(old);
        return lcx_errf(err, LCX_EINPUT, "%s: line %d: not a run.json (%s)", path, je.line, je.text);
    }
    json_t *oc = json_object_get(old, "config");
    if (!json_is_object(oc)) {
        json_decref(old);
        return lcx_errf(err, LCX_EINPUT, "%s: field 'config' missing: not an lcx run", path);
    }
    /* Compare the configuration as the file would hold it (numbers rounded
     * as written), so a resume with the same options is not refused. */
    char *text = json_dumps(json_object_get(run, "config"), RUN_JSON_FLAGS);
    json_t *nc = text ? json_loads(text, 0, &je) : NULL;
    free(text);
    if (!nc) {
        json_decref(old);
        return lcx_errf(err, LCX_ENOMEM, "%s: cannot serialise the configuration", path);
    }
    if (!json_equal(oc, nc)) {
        strbuf d;
        sb_init(&d);
        diff_objects("", oc, nc, &d);
        rc = lcx_errf(err, LCX_EINPUT,
                      "%s holds a run with another configuration (%s); use another --out or the "
                      "same options", dir, sb_str(&d));
        sb_free(&d);
    }
    json_decref(nc);
    json_decref(old);
    return rc;
}

int run_store_open(const char *dir, json_t *run, lcx_err *err)
{
    int rc = lcx_mkdir_p(dir, err);
    if (rc)
        return rc;
    if (access(dir, W_OK) != 0)
        return lcx_errf(err, LCX_EIO, "%s: directory is not writable", dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (access(path, F_OK) != 0)
        return write_json_atomic(path, run, err);
    json_error_t je;
    json_t *old = json_load_file(path, 0, &je);
    if (!old && json_error_code(&je) == json_error_out_of_memory)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory reading it", path);
    return check_run_json(old, &je, dir, path, run, err);
}

int run_store_check(const char *data, size_t len, const char *dir, json_t *run, lcx_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t je;
    return check_run_json(json_loadb(data, len, 0, &je), &je, dir, path, run, err);
}

int run_store_set_runtime(const char *dir, json_t *runtime, lcx_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t je;
    json_t *run = json_load_file(path, 0, &je);
    if (!run)
        return lcx_errf(err, LCX_EIO, "%s: cannot read back", path);
    int rc = json_object_set(run, "runtime", runtime)
                 ? lcx_errf(err, LCX_ENOMEM, "%s: out of memory setting 'runtime'", path)
                 : write_json_atomic(path, run, err);
    json_decref(run);
    return rc;
}

/* ---- prediction files ---------------------------------------------------- */

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

int pred_scan(const char *data, size_t len, size_t n, unsigned char *done, size_t *n_good,
              int *dirty, lcx_err *err)
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

int pred_open(const char *dir, size_t length, const char *task, size_t n, pred_file *pf,
              lcx_err *err)
{
    memset(pf, 0, sizeof *pf);
    pf->fd = -1;
    pf->n = n;
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/pred/%zu", dir, length);
    int rc = lcx_mkdir_p(sub, err);
    if (rc)
        return rc;
    snprintf(pf->path, sizeof pf->path, "%s/%s.jsonl", sub, task);
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

int pred_append(pred_file *pf, json_t *record, lcx_err *err)
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

int pred_close(pred_file *pf, lcx_err *err)
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

/* ---- summaries ------------------------------------------------------------- */

static int write_csv(const char *path, const lcx_table *t, lcx_err *err)
{
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc)
        return rc;
    size_t lengths[256];
    const char *tasks[256];
    size_t nl = lcx_table_lengths(t, lengths, 256), nt = lcx_table_tasks(t, tasks, 256);
    fprintf(f.fp, "length,task,score,samples,nulls,errors\n");
    for (size_t l = 0; l < nl; l++) {
        for (size_t k = 0; k < nt; k++) {
            const lcx_cell *c = lcx_table_find(t, tasks[k], lengths[l]);
            if (!c)
                continue;
            if (c->count)
                fprintf(f.fp, "%zu,%s,%.2f,%zu,%zu,%zu\n", lengths[l], tasks[k], lcx_cell_score(c),
                        c->count, c->nulls, c->errors);
            else
                fprintf(f.fp, "%zu,%s,,%zu,%zu,%zu\n", lengths[l], tasks[k], c->count, c->nulls,
                        c->errors);
        }
        fprintf(f.fp, "%zu,mean,%.2f,,%zu,\n", lengths[l], lcx_table_mean(t, lengths[l]),
                lcx_table_nulls(t, lengths[l]));
    }
    return lcx_atomic_commit(&f, err);
}

int run_store_summarize(const char *dir, int quiet, lcx_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/pred", dir);
    lcx_table t;
    lcx_table_init(&t);
    int rc = lcx_score_path(path, &t, err);
    if (!rc) {
        json_t *j = lcx_table_json(&t);
        snprintf(path, sizeof path, "%s/summary.json", dir);
        rc = write_json_atomic(path, j, err);
        json_decref(j);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/summary.csv", dir);
        rc = write_csv(path, &t, err);
    }
    if (!rc && !quiet)
        lcx_table_print(stdout, &t);
    lcx_table_free(&t);
    return rc;
}
