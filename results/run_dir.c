/* run_dir.c: the paths of a results directory, run.json (written, checked on
 * resume, its runtime updated), a sweep's sweep.json and the summaries lcx
 * run writes at the end. */
#include "results/run_dir.h"

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

/* ---- paths ------------------------------------------------------------------ */

void lcx_rundir_path(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

void lcx_rundir_pred_name(char *buf, size_t size, size_t length, const char *task)
{
    if (task)
        snprintf(buf, size, "%s/%zu/%s.jsonl", LCX_RUNDIR_PRED, length, task);
    else
        snprintf(buf, size, "%s/%zu", LCX_RUNDIR_PRED, length);
}

void lcx_rundir_pred_path(char *buf, size_t size, const char *dir, size_t length,
                          const char *task)
{
    int n = snprintf(buf, size, "%s/", dir);
    if (n >= 0 && (size_t)n < size)
        lcx_rundir_pred_name(buf + n, size - (size_t)n, length, task);
}

static int path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int lcx_rundir_read_json(const char *dir, const char *name, const char *what, char *path,
                         size_t n, json_t **root, lcx_err *err)
{
    *root = NULL;
    lcx_rundir_path(path, n, dir, name);
    if (!path_exists(path))
        return lcx_errf(err, LCX_EINPUT, "%s: no %s (not %s directory)", dir, name, what);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return lcx_errf(err, LCX_EINPUT, "%s: not a JSON object: line %d: %s", path, je.line,
                        j ? "wrong type" : je.text);
    }
    *root = j;
    return 0;
}

int lcx_rundir_is_sweep(const char *dir)
{
    char p[4200];
    struct stat st;
    lcx_rundir_path(p, sizeof p, dir, LCX_RUNDIR_SWEEP_JSON);
    return lcx_is_dir(dir) && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- run.json ---------------------------------------------------------------- */

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

/* Give old each key of defaults it lacks (objects merged key by key). */
static void fill_defaults(json_t *old, json_t *defaults)
{
    const char *key;
    json_t *dv;
    json_object_foreach(defaults, key, dv) {
        json_t *ov = json_object_get(old, key);
        if (!ov)
            json_object_set(old, key, dv);
        else if (json_is_object(ov) && json_is_object(dv))
            fill_defaults(ov, dv);
    }
}

/* The run.json found at path (old, NULL when it is not JSON: je says why;
 * the reference is taken) against the run to be written. */
static int check_run_json(json_t *old, const json_error_t *read_err, const char *dir,
                          const char *path, json_t *run, json_t *defaults, lcx_err *err)
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
    /* A run made before a configuration key existed ran with its default. */
    if (json_is_object(defaults))
        fill_defaults(oc, defaults);
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

int lcx_rundir_open(const char *dir, json_t *run, json_t *defaults, lcx_err *err)
{
    int rc = lcx_mkdir_p(dir, err);
    if (rc)
        return rc;
    if (access(dir, W_OK) != 0)
        return lcx_errf(err, LCX_EIO, "%s: directory is not writable", dir);
    char path[4200];
    lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_RUN_JSON);
    if (access(path, F_OK) != 0)
        return write_json_atomic(path, run, err);
    json_error_t je;
    json_t *old = json_load_file(path, 0, &je);
    if (!old && json_error_code(&je) == json_error_out_of_memory)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory reading it", path);
    return check_run_json(old, &je, dir, path, run, defaults, err);
}

int lcx_rundir_check(const char *data, size_t len, const char *dir, json_t *run,
                     json_t *defaults, lcx_err *err)
{
    char path[4200];
    lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_RUN_JSON);
    json_error_t je;
    return check_run_json(json_loadb(data, len, 0, &je), &je, dir, path, run, defaults, err);
}

int lcx_rundir_set_runtime(const char *dir, json_t *runtime, lcx_err *err)
{
    char path[4200];
    lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_RUN_JSON);
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

/* ---- sweep.json ----------------------------------------------------------- */

int lcx_rundir_sweep_open(const char *dir, json_t *sweep, lcx_err *err)
{
    int rc = lcx_mkdir_p(dir, err);
    if (rc)
        return rc;
    char path[4200];
    lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_SWEEP_JSON);
    char *text = json_dumps(sweep, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (!text)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    if (access(path, F_OK) != 0) {
        size_t len = strlen(text);
        text[len] = '\n'; /* json_dumps leaves room for its NUL: overwrite it */
        rc = lcx_write_file_atomic(path, text, len + 1, err);
        free(text);
        return rc;
    }
    json_error_t je;
    json_t *want = json_loads(text, 0, &je); /* numbers as the file holds them */
    free(text);
    json_t *old = json_load_file(path, 0, &je);
    if (!json_is_object(old)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: line %d: not a sweep.json (%s)", path, je.line, je.text);
    } else {
        static const char *const keys[] = {"kind", "model", "lengths", "yarn_factors",
                                           "attn_temperatures"};
        for (size_t k = 0; !rc && k < sizeof keys / sizeof keys[0]; k++)
            if (!json_equal(json_object_get(old, keys[k]), json_object_get(want, keys[k])))
                rc = lcx_errf(err, LCX_EINPUT, "%s holds a sweep with other %s; use another --out or "
                              "the same options", dir, keys[k]);
    }
    json_decref(old);
    json_decref(want);
    return rc;
}

/* ---- summaries ------------------------------------------------------------- */

static int write_csv(const char *path, const lcx_table *t, lcx_err *err)
{
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc)
        return rc;
    lcx_table_csv(f.fp, t);
    return lcx_atomic_commit(&f, err);
}

int lcx_rundir_summarize(const char *dir, int quiet, lcx_err *err)
{
    char path[4200];
    lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_PRED);
    lcx_table t;
    lcx_table_init(&t);
    int rc = lcx_score_path(path, &t, err);
    if (!rc) {
        json_t *j = lcx_table_json(&t);
        lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_SUMMARY_JSON);
        rc = write_json_atomic(path, j, err);
        json_decref(j);
    }
    if (!rc) {
        lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_SUMMARY_CSV);
        rc = write_csv(path, &t, err);
    }
    if (!rc && !quiet)
        lcx_table_print(stdout, &t);
    lcx_table_free(&t);
    return rc;
}
