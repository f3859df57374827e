/* report.c: runs side by side, the report JSON, and the sweep grid. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsio.h"
#include "common/utf8.h"
#include "results/plot.h"
#include "results/run_dir.h"
#include "tasks/tasks.h"

/* ---- small helpers -------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static int path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static size_t task_rank(const char *name)
{
    for (size_t i = 0; i < lcx_task_count(); i++)
        if (!strcmp(lcx_task_at(i)->name, name))
            return i;
    return lcx_task_count();
}

static int cmp_task_name(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t rx = task_rank(x), ry = task_rank(y);
    return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x, y);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static long length_index(const lcx_run *r, size_t length)
{
    for (size_t j = 0; j < r->n_lengths; j++)
        if (r->lengths[j] == length)
            return (long)j;
    return -1;
}

static void fmt_num(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%g", v);
}

/* ---- runs ----------------------------------------------------------------- */

void lcx_run_init(lcx_run *r)
{
    memset(r, 0, sizeof *r);
    lcx_table_init(&r->table);
    r->effective = -1;
}

static void probe_free(lcx_probe_sum *p)
{
    free(p->sink_share);
    free(p->max_abs_hidden);
    free(p->gate_mean);
    memset(p, 0, sizeof *p);
}

int lcx_run_skips(const lcx_run *r, const char *task, size_t length)
{
    char cell[128];
    snprintf(cell, sizeof cell, "%s@%zu", task, length);
    size_t i;
    json_t *v;
    json_array_foreach(r->skipped, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), cell))
            return 1;
    return 0;
}

void lcx_run_free(lcx_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_tasks; i++)
        free(r->tasks[i]);
    free(r->tasks);
    free(r->lengths);
    free(r->length_complete);
    free(r->means);
    free(r->nulls);
    free(r->scored);
    json_decref(r->rope);
    json_decref(r->skipped);
    lcx_table_free(&r->table);
    probe_free(&r->probe);
    lcx_run_init(r);
}

const lcx_cell *lcx_run_cell(const lcx_run *r, const char *task, size_t length)
{
    const lcx_cell *c = lcx_table_find(&r->table, task, length);
    return c && c->count ? c : NULL;
}

/* Allocate the per-length arrays once lengths are known. */
static int run_alloc_lengths(lcx_run *r, size_t n, lcx_err *err)
{
    r->n_lengths = n;
    r->lengths = calloc(n ? n : 1, sizeof *r->lengths);
    r->length_complete = calloc(n ? n : 1, sizeof *r->length_complete);
    r->means = calloc(n ? n : 1, sizeof *r->means);
    r->nulls = calloc(n ? n : 1, sizeof *r->nulls);
    r->scored = calloc(n ? n : 1, sizeof *r->scored);
    if (!r->lengths || !r->length_complete || !r->means || !r->nulls || !r->scored)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    return 0;
}

/* ---- figures -------------------------------------------------------------- */

long lcx_effective_length(const double *means, size_t n, double threshold)
{
    for (size_t j = n; j-- > 0;)
        if (means[j] > threshold)
            return (long)j;
    return -1;
}

double lcx_wavg(const double *means, size_t n, int increasing)
{
    if (n == 0)
        return 0;
    double sum = 0;
    for (size_t j = 0; j < n; j++)
        sum += (double)(increasing ? j + 1 : n - j) * means[j];
    return sum / ((double)n * (double)(n + 1) / 2.0);
}

double lcx_score_delta(double cur, double ref) { return lcx_round2(cur - ref); }

void lcx_run_compute(lcx_run *r, double threshold)
{
    for (size_t j = 0; j < r->n_lengths; j++) {
        r->means[j] = lcx_table_mean(&r->table, r->lengths[j]);
        r->nulls[j] = lcx_table_nulls(&r->table, r->lengths[j]);
        r->scored[j] = 0;
        for (size_t i = 0; i < r->table.n; i++)
            if (r->table.cells[i].length == r->lengths[j])
                r->scored[j] += r->table.cells[i].count;
    }
    r->effective = lcx_effective_length(r->means, r->n_lengths, threshold);
    r->wavg_inc = lcx_round2(lcx_wavg(r->means, r->n_lengths, 1));
    r->wavg_dec = lcx_round2(lcx_wavg(r->means, r->n_lengths, 0));
}

/* ---- probe.json ------------------------------------------------------------ */

static int probe_parse(json_t *root, const char *file, lcx_probe_sum *p, lcx_err *err)
{
    json_t *layers = json_object_get(root, "layers");
    if (!json_is_array(layers) || json_array_size(layers) == 0)
        return lcx_errf(err, LCX_EINPUT, "%s: missing field 'layers' (non-empty array)", file);
    size_t n = json_array_size(layers);
    p->n_layers = n;
    p->sink_share = calloc(n, sizeof *p->sink_share);
    p->max_abs_hidden = calloc(n, sizeof *p->max_abs_hidden);
    p->gate_mean = calloc(n, sizeof *p->gate_mean);
    if (!p->sink_share || !p->max_abs_hidden || !p->gate_mean)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", file);
    size_t gated = 0;
    double gsum = 0, ssum = 0, hmax = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *l = json_array_get(layers, i);
        json_t *s = json_object_get(l, "sink_share"), *h = json_object_get(l, "max_abs_hidden"),
               *g = json_object_get(l, "gate_mean");
        if (!json_is_number(s))
            return lcx_errf(err, LCX_EINPUT, "%s: field 'layers[%zu].sink_share' is not a number",
                            file, i);
        if (!json_is_number(h))
            return lcx_errf(err, LCX_EINPUT,
                            "%s: field 'layers[%zu].max_abs_hidden' is not a number", file, i);
        if (g && !json_is_null(g) && !json_is_number(g))
            return lcx_errf(err, LCX_EINPUT, "%s: field 'layers[%zu].gate_mean' is not a number",
                            file, i);
        p->sink_share[i] = json_number_value(s);
        p->max_abs_hidden[i] = json_number_value(h);
        ssum += p->sink_share[i];
        if (i == 0 || p->max_abs_hidden[i] > hmax)
            hmax = p->max_abs_hidden[i];
        if (json_is_number(g)) {
            p->gate_mean[i] = json_number_value(g);
            gsum += p->gate_mean[i];
            gated++;
        } else {
            p->gate_mean[i] = NAN;
        }
    }
    if (!gated) {
        free(p->gate_mean);
        p->gate_mean = NULL;
    }
    p->mean_sink_share = ssum / (double)n;
    p->max_hidden = hmax;
    p->mean_gate = gated ? gsum / (double)gated : NAN;
    json_t *m = json_object_get(root, "model"), *g = json_object_get(root, "gate"),
           *t = json_object_get(root, "tokens");
    snprintf(p->model, sizeof p->model, "%s", json_is_string(m) ? json_string_value(m) : "");
    snprintf(p->gate, sizeof p->gate, "%s",
             json_is_string(g) ? json_string_value(g) : (gated ? "gated" : "none"));
    p->tokens = json_is_integer(t) && json_integer_value(t) > 0 ? (size_t)json_integer_value(t) : 0;
    p->present = 1;
    return 0;
}

static int probe_load(const char *dir, lcx_probe_sum *p, lcx_err *err)
{
    char path[4200];
    lcx_rundir_path(path, sizeof path, dir, LCX_RUNDIR_PROBE_JSON);
    if (!path_exists(path))
        return 0;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return lcx_errf(err, LCX_EINPUT, "%s: not a JSON object: line %d: %s", path, je.line,
                        root ? "wrong type" : je.text);
    }
    int rc = probe_parse(root, path, p, err);
    json_decref(root);
    if (rc)
        probe_free(p);
    return rc;
}

/* ---- run directories -------------------------------------------------------- */

/* The parts of run.json (root, read from path) the report uses. */
static int run_json_fields(json_t *root, const char *path, lcx_run *r, lcx_err *err)
{
    int rc = 0;
    json_t *config = json_object_get(root, "config");
    json_t *tasks = json_object_get(config, "tasks"), *lengths = json_object_get(config, "lengths"),
           *samples = json_object_get(config, "samples");
    if (!json_is_object(config)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: missing object 'config'", path);
        goto done;
    }
    if (!json_is_array(tasks) || json_array_size(tasks) == 0) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'config.tasks' is not a non-empty array", path);
        goto done;
    }
    if (!json_is_array(lengths) || json_array_size(lengths) == 0) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'config.lengths' is not a non-empty array", path);
        goto done;
    }
    if (!json_is_integer(samples) || json_integer_value(samples) <= 0) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'config.samples' is not a positive integer", path);
        goto done;
    }
    r->samples = (size_t)json_integer_value(samples);
    size_t nl = json_array_size(lengths);
    if ((rc = run_alloc_lengths(r, nl, err)))
        goto done;
    for (size_t j = 0; j < nl; j++) {
        json_t *l = json_array_get(lengths, j);
        if (!json_is_integer(l) || json_integer_value(l) <= 0) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'config.lengths[%zu]' is not a positive integer",
                          path, j);
            goto done;
        }
        r->lengths[j] = (size_t)json_integer_value(l);
    }
    qsort(r->lengths, nl, sizeof *r->lengths, cmp_size);
    for (size_t j = 1; j < nl; j++)
        if (r->lengths[j] == r->lengths[j - 1]) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'config.lengths' repeats %zu", path,
                          r->lengths[j]);
            goto done;
        }
    size_t nt = json_array_size(tasks);
    r->tasks = calloc(nt, sizeof *r->tasks);
    if (!r->tasks) {
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nt; i++) {
        json_t *t = json_array_get(tasks, i);
        if (!json_is_string(t) || !lcx_task_find(json_string_value(t))) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'config.tasks[%zu]' is not a known task", path, i);
            goto done;
        }
        if (!(r->tasks[r->n_tasks] = xstrdup(json_string_value(t)))) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            goto done;
        }
        r->n_tasks++;
    }
    qsort(r->tasks, r->n_tasks, sizeof *r->tasks, cmp_task_name);
    json_t *skipped = json_object_get(config, "skipped");
    if (skipped && !json_is_array(skipped)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'config.skipped' is not an array", path);
        goto done;
    }
    r->skipped = json_incref(skipped);

    /* The backend: a model name, the RoPE setting, the original context. */
    json_t *b = json_object_get(config, "backend");
    const char *keys[] = {"model", "model_name", "endpoint"};
    for (size_t k = 0; k < 3 && !r->model[0]; k++) {
        json_t *v = json_object_get(b, keys[k]);
        if (json_is_string(v))
            snprintf(r->model, sizeof r->model, "%s", json_string_value(v));
    }
    json_t *rope = json_object_get(b, "rope");
    json_t *mpe = json_object_get(b, "max_position_embeddings");
    if (json_is_object(rope)) {
        json_t *f = json_object_get(rope, "factor"), *t = json_object_get(rope, "attention_temperature"),
               *o = json_object_get(rope, "original_max_position_embeddings");
        if (json_is_number(f))
            fmt_num(r->rope_factor, sizeof r->rope_factor, json_number_value(f));
        else if (json_is_string(f))
            snprintf(r->rope_factor, sizeof r->rope_factor, "%s", json_string_value(f));
        if (json_is_number(t))
            r->attn_temperature = json_number_value(t);
        if (json_is_integer(o) && json_integer_value(o) > 0)
            r->orig_ctx = (size_t)json_integer_value(o);
        r->rope = json_object();
        const char *copy[] = {"type", "factor", "factors", "attention_temperature",
                              "original_max_position_embeddings"};
        for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++) {
            json_t *v = json_object_get(rope, copy[k]);
            if (v)
                json_object_set(r->rope, copy[k], v);
        }
    }
    if (!r->orig_ctx && json_is_integer(mpe) && json_integer_value(mpe) > 0)
        r->orig_ctx = (size_t)json_integer_value(mpe);
done:
    return rc;
}

static int parse_run_json(const char *dir, lcx_run *r, lcx_err *err)
{
    char path[4200];
    json_t *root;
    int rc = lcx_rundir_read_json(dir, LCX_RUNDIR_RUN_JSON, "an lcx run", path, sizeof path, &root, err);
    if (rc)
        return rc;
    rc = run_json_fields(root, path, r, err);
    json_decref(root);
    return rc;
}

int lcx_run_json_parse(const char *data, size_t len, const char *path, lcx_run *r, lcx_err *err)
{
    lcx_run_init(r);
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    int rc;
    if (!json_is_object(root))
        rc = lcx_errf(err, LCX_EINPUT, "%s: not a JSON object: line %d: %s", path, je.line,
                      root ? "wrong type" : je.text);
    else
        rc = run_json_fields(root, path, r, err);
    json_decref(root);
    if (rc)
        lcx_run_free(r);
    return rc;
}

/* Score dir/pred/<length>/<task>.jsonl into r->table. Returns 0 and sets
 * *why (empty when complete) or an error for a broken file. */
static int load_cell(const char *dir, lcx_run *r, const char *task, size_t length, char *why,
                     size_t why_size, lcx_err *err)
{
    why[0] = '\0';
    char path[4400], name[300];
    lcx_rundir_pred_path(path, sizeof path, dir, length, task);
    lcx_rundir_pred_name(name, sizeof name, length, task);
    if (!path_exists(path)) {
        snprintf(why, why_size, "no predictions (%s missing)", name);
        return 0;
    }
    char *data;
    size_t len;
    int rc = lcx_read_file(path, &data, &len, err);
    if (rc)
        return rc;
    int torn = len > 0 && data[len - 1] != '\n';
    free(data);
    if (torn) {
        snprintf(why, why_size, "torn last record in %s (run killed mid-write?)", name);
        return 0;
    }
    lcx_table t;
    lcx_table_init(&t);
    if ((rc = lcx_score_path(path, &t, err))) {
        lcx_table_free(&t);
        return rc;
    }
    lcx_cell *dst = lcx_table_cell(&r->table, task, length);
    if (!dst) {
        lcx_table_free(&t);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < t.n; i++) {
        const lcx_cell *c = &t.cells[i];
        if (c->length != length || strcmp(c->task, task)) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: holds records of task %s at length %zu", path,
                          c->task, c->length);
            break;
        }
        *dst = *c;
    }
    lcx_table_free(&t);
    if (rc)
        return rc;
    if (dst->count > r->samples)
        return lcx_errf(err, LCX_EINPUT, "%s: %zu scored records, more than config.samples (%zu)",
                        path, dst->count, r->samples);
    if (dst->count < r->samples) {
        int n = snprintf(why, why_size, "%zu of %zu samples done", dst->count, r->samples);
        if (dst->errors && n > 0 && (size_t)n < why_size)
            snprintf(why + n, why_size - (size_t)n,
                     " (%zu failed with a backend error and count as not done; resume with lcx run)",
                     dst->errors);
    }
    return 0;
}

static void strip_trailing_slashes(char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
}

static int run_load(const char *dir, double threshold, int strict, lcx_run *r, lcx_err *err)
{
    lcx_run_init(r);
    snprintf(r->path, sizeof r->path, "%s", dir);
    strip_trailing_slashes(r->path);
    if (!lcx_is_dir(dir)) {
        if (!strict)
            return 0;
        return lcx_errf(err, LCX_EINPUT, "%s: %s", r->path,
                        path_exists(dir) ? "not a run directory" : "no such directory");
    }
    char runjson[4200];
    lcx_rundir_path(runjson, sizeof runjson, r->path, LCX_RUNDIR_RUN_JSON);
    if (!strict && !path_exists(runjson))
        return 0;
    int rc = parse_run_json(r->path, r, err);
    for (size_t j = 0; !rc && j < r->n_lengths; j++) {
        r->length_complete[j] = 1;
        for (size_t i = 0; !rc && i < r->n_tasks; i++) {
            if (lcx_run_skips(r, r->tasks[i], r->lengths[j]))
                continue; /* too short for the task: never run, shown as "-" */
            char why[1100];
            lcx_err cell_err = {0};
            rc = load_cell(r->path, r, r->tasks[i], r->lengths[j], why, sizeof why, &cell_err);
            if (rc && !strict) { /* a broken file in a sweep cell: not complete */
                rc = 0;
                snprintf(why, sizeof why, "%s", cell_err.msg);
            } else if (rc) {
                *err = cell_err;
                break;
            }
            if (why[0]) {
                r->length_complete[j] = 0;
                if (strict)
                    rc = lcx_errf(err, LCX_EINPUT, "%s: partial run: cell %s @ %zu: %s", r->path,
                                  r->tasks[i], r->lengths[j], why);
            }
        }
    }
    if (!rc) {
        lcx_err perr = {0};
        int prc = probe_load(r->path, &r->probe, &perr);
        if (prc && strict) {
            *err = perr;
            rc = prc;
        }
    }
    if (rc) {
        lcx_run_free(r);
        return rc;
    }
    lcx_run_compute(r, threshold);
    return 0;
}

int lcx_run_load(const char *dir, double threshold, lcx_run *r, lcx_err *err)
{
    return run_load(dir, threshold, 1, r, err);
}

int lcx_run_load_lenient(const char *dir, double threshold, lcx_run *r, lcx_err *err)
{
    return run_load(dir, threshold, 0, r, err);
}

/* ---- report JSON files ------------------------------------------------------- */

/* What a JSON file that is not a report is, for the error message. */
static const char *json_kind_hint(json_t *root)
{
    json_t *kind = json_object_get(root, "kind");
    if (json_is_string(kind) && !strcmp(json_string_value(kind), "lcx-sweep"))
        return "a sweep.json (lcx sweep's index)";
    if (json_object_get(root, "scores") && json_object_get(root, "means"))
        return "a summary.json (lcx run's scores)";
    if (json_object_get(root, "config") && json_object_get(root, "lcx_version"))
        return "a run.json (pass the run directory instead)";
    if (json_object_get(root, "layers") && json_object_get(root, "tokens"))
        return "a probe.json (lcx probe's output)";
    if (json_is_string(kind))
        return "of another kind";
    return NULL;
}

static int json_size_field(json_t *o, const char *key, size_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (size_t)json_integer_value(v);
    return 0;
}

static int probe_from_report(json_t *p, const char *file, size_t k, lcx_probe_sum *out, lcx_err *err)
{
    json_t *per = json_object_get(p, "per_layer");
    json_t *ss = json_object_get(per, "sink_share"), *mh = json_object_get(per, "max_abs_hidden"),
           *gm = json_object_get(per, "gate_mean");
    size_t n = json_array_size(ss);
    if (!json_is_array(ss) || n == 0 || json_array_size(mh) != n ||
        (json_is_array(gm) && json_array_size(gm) != n))
        return lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].probe.per_layer' is not per-layer arrays",
                        file, k);
    json_t *root = json_object(), *layers = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *l = json_object();
        json_object_set(l, "sink_share", json_array_get(ss, i));
        json_object_set(l, "max_abs_hidden", json_array_get(mh, i));
        if (json_is_array(gm))
            json_object_set(l, "gate_mean", json_array_get(gm, i));
        json_array_append_new(layers, l);
    }
    json_object_set_new(root, "layers", layers);
    const char *keys[] = {"model", "gate", "tokens"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(p, keys[i]))
            json_object_set(root, keys[i], json_object_get(p, keys[i]));
    char where[4200];
    snprintf(where, sizeof where, "%s: runs[%zu].probe", file, k);
    int rc = probe_parse(root, where, out, err);
    json_decref(root);
    if (rc)
        probe_free(out);
    return rc;
}

static int run_from_report(json_t *o, const char *file, size_t k, double threshold, lcx_run *r,
                           lcx_err *err)
{
    lcx_run_init(r);
    json_t *name = json_object_get(o, "name"), *path = json_object_get(o, "path"),
           *lengths = json_object_get(o, "lengths"), *cells = json_object_get(o, "cells");
    if (!json_is_object(o))
        return lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu]' is not an object", file, k);
    if (!json_is_string(name) || !json_string_length(name))
        return lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].name' is not a non-empty string", file, k);
    if (!json_is_array(lengths) || json_array_size(lengths) == 0)
        return lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].lengths' is not a non-empty array",
                        file, k);
    if (!json_is_array(cells))
        return lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].cells' is not an array", file, k);
    snprintf(r->name, sizeof r->name, "%s", json_string_value(name));
    snprintf(r->path, sizeof r->path, "%s", json_is_string(path) ? json_string_value(path) : file);
    json_t *model = json_object_get(o, "model"), *rope = json_object_get(o, "rope");
    if (json_is_string(model))
        snprintf(r->model, sizeof r->model, "%s", json_string_value(model));
    size_t v;
    if (!json_size_field(o, "samples", &v))
        r->samples = v;
    if (!json_size_field(o, "original_context", &v))
        r->orig_ctx = v;
    if (json_is_object(rope)) {
        r->rope = json_deep_copy(rope);
        json_t *f = json_object_get(rope, "factor"), *t = json_object_get(rope, "attention_temperature");
        if (json_is_number(f))
            fmt_num(r->rope_factor, sizeof r->rope_factor, json_number_value(f));
        else if (json_is_string(f))
            snprintf(r->rope_factor, sizeof r->rope_factor, "%s", json_string_value(f));
        if (json_is_number(t))
            r->attn_temperature = json_number_value(t);
    }
    int rc = run_alloc_lengths(r, json_array_size(lengths), err);
    for (size_t j = 0; !rc && j < r->n_lengths; j++) {
        json_t *l = json_array_get(lengths, j);
        if (!json_is_integer(l) || json_integer_value(l) <= 0)
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].lengths[%zu]' is not a positive integer",
                          file, k, j);
        else
            r->lengths[j] = (size_t)json_integer_value(l);
        r->length_complete[j] = 1;
    }
    if (!rc)
        qsort(r->lengths, r->n_lengths, sizeof *r->lengths, cmp_size);
    for (size_t j = 1; !rc && j < r->n_lengths; j++)
        if (r->lengths[j] == r->lengths[j - 1])
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].lengths' repeats %zu", file, k,
                          r->lengths[j]);
    size_t nc = json_array_size(cells);
    if (!rc && !(r->tasks = calloc(nc ? nc : 1, sizeof *r->tasks)))
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < nc; i++) {
        json_t *c = json_array_get(cells, i);
        json_t *task = json_object_get(c, "task"), *score = json_object_get(c, "score");
        size_t length = 0, n = 0, nulls = 0;
        if (!json_is_string(task) || !json_string_length(task) || json_string_length(task) >= 64)
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].cells[%zu].task' is not a task name",
                          file, k, i);
        else if (json_size_field(c, "length", &length) || length_index(r, length) < 0)
            rc = lcx_errf(err, LCX_EINPUT,
                          "%s: field 'runs[%zu].cells[%zu].length' is not one of the run's lengths",
                          file, k, i);
        else if (!json_is_number(score) || json_number_value(score) < 0 ||
                 json_number_value(score) > 100)
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'runs[%zu].cells[%zu].score' is not a number in 0..100",
                          file, k, i);
        else if (json_size_field(c, "samples", &n) || n == 0)
            rc = lcx_errf(err, LCX_EINPUT,
                          "%s: field 'runs[%zu].cells[%zu].samples' is not a positive integer", file, k, i);
        else if (json_object_get(c, "nulls") && json_size_field(c, "nulls", &nulls))
            rc = lcx_errf(err, LCX_EINPUT,
                          "%s: field 'runs[%zu].cells[%zu].nulls' is not a non-negative integer", file, k, i);
        else if (lcx_table_find(&r->table, json_string_value(task), length))
            rc = lcx_errf(err, LCX_EINPUT, "%s: runs[%zu].cells[%zu]: cell %s @ %zu appears twice",
                          file, k, i, json_string_value(task), length);
        if (rc)
            break;
        lcx_cell *cell = lcx_table_cell(&r->table, json_string_value(task), length);
        if (!cell) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        cell->sum = json_number_value(score) / 100.0 * (double)n;
        cell->count = n;
        cell->nulls = nulls;
        size_t t = 0;
        while (t < r->n_tasks && strcmp(r->tasks[t], cell->task))
            t++;
        if (t == r->n_tasks && !(r->tasks[r->n_tasks++] = xstrdup(cell->task)))
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    if (!rc)
        qsort(r->tasks, r->n_tasks, sizeof *r->tasks, cmp_task_name);
    json_t *probe = json_object_get(o, "probe");
    if (!rc && json_is_object(probe))
        rc = probe_from_report(probe, file, k, &r->probe, err);
    if (rc) {
        lcx_run_free(r);
        return rc;
    }
    lcx_run_compute(r, threshold);
    return 0;
}

/* The runs of a report JSON (root, read from path; takes the reference). */
static int report_from_root(json_t *root, const char *path, double threshold, lcx_run **runs,
                            size_t *n, lcx_err *err)
{
    int rc = 0;
    json_t *kind = json_object_get(root, "kind"), *version = json_object_get(root, "version"),
           *list = json_object_get(root, "runs");
    if (!json_is_object(root) || !json_is_string(kind) ||
        strcmp(json_string_value(kind), "lcx-report")) {
        const char *hint = json_is_object(root) ? json_kind_hint(root) : NULL;
        if (hint && json_is_string(kind) && !strcmp(hint, "of another kind"))
            rc = lcx_errf(err, LCX_EINPUT, "%s: kind '%s' is not an lcx-report JSON", path,
                          json_string_value(kind));
        else if (hint)
            rc = lcx_errf(err, LCX_EINPUT,
                          "%s is %s, not an lcx-report JSON (make one with: lcx report RUN_DIR --format json)",
                          path, hint);
        else
            rc = lcx_errf(err, LCX_EINPUT,
                          "%s: not an lcx-report JSON (no \"kind\": \"lcx-report\"; make one with: lcx "
                          "report RUN_DIR --format json)", path);
        goto done;
    }
    if (!json_is_integer(version) || json_integer_value(version) < 1)
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'version' is not a positive integer", path);
    else if (json_integer_value(version) > LCX_REPORT_VERSION)
        rc = lcx_errf(err, LCX_EINPUT, "%s: report version %lld is newer than this lcx reads (%d)", path,
                      (long long)json_integer_value(version), LCX_REPORT_VERSION);
    else if (!json_is_array(list) || json_array_size(list) == 0)
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'runs' is not a non-empty array", path);
    if (rc)
        goto done;
    size_t nr = json_array_size(list);
    *runs = calloc(nr, sizeof **runs);
    if (!*runs) {
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nr; k++) {
        if ((rc = run_from_report(json_array_get(list, k), path, k, threshold, &(*runs)[k], err))) {
            for (size_t i = 0; i < k; i++)
                lcx_run_free(&(*runs)[i]);
            free(*runs);
            *runs = NULL;
            goto done;
        }
    }
    *n = nr;
done:
    json_decref(root);
    return rc;
}

int lcx_report_file_load(const char *path, double threshold, lcx_run **runs, size_t *n,
                         lcx_err *err)
{
    *runs = NULL;
    *n = 0;
    if (!path_exists(path))
        return lcx_errf(err, LCX_EINPUT, "%s: no such file or directory", path);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return lcx_errf(err, LCX_EINPUT, "%s: not an lcx-report JSON (not JSON: line %d: %s)", path,
                        je.line, je.text);
    return report_from_root(root, path, threshold, runs, n, err);
}

int lcx_report_parse(const char *data, size_t len, const char *path, double threshold,
                     lcx_run **runs, size_t *n, lcx_err *err)
{
    *runs = NULL;
    *n = 0;
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    if (!root)
        return lcx_errf(err, LCX_EINPUT, "%s: not an lcx-report JSON (not JSON: line %d: %s)", path,
                        je.line, je.text);
    return report_from_root(root, path, threshold, runs, n, err);
}

int lcx_run_load_any(const char *path, double threshold, lcx_run *r, lcx_err *err)
{
    lcx_run_init(r);
    if (lcx_is_dir(path)) {
        if (lcx_rundir_is_sweep(path))
            return lcx_errf(err, LCX_EINPUT,
                            "%s is a sweep directory, not a run (pass one of its cell directories)", path);
        return lcx_run_load(path, threshold, r, err);
    }
    if (!path_exists(path))
        return lcx_errf(err, LCX_EINPUT, "%s: no such file or directory", path);
    lcx_run *runs;
    size_t n;
    int rc = lcx_report_file_load(path, threshold, &runs, &n, err);
    if (rc)
        return rc;
    if (n != 1) {
        for (size_t i = 0; i < n; i++)
            lcx_run_free(&runs[i]);
        free(runs);
        return lcx_errf(err, LCX_EINPUT,
                        "%s holds a report of %zu runs; this needs exactly one (lcx report RUN_DIR "
                        "--format json)", path, n);
    }
    *r = runs[0];
    free(runs);
    return 0;
}

/* ---- names and lengths ------------------------------------------------------ */

/* The last k components of path into out. */
static void path_tail(const char *path, size_t k, char *out, size_t size)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n, seen = 0;
    while (start > 0) {
        if (path[start - 1] == '/') {
            if (++seen == k)
                break;
        }
        start--;
    }
    size_t len = n - start;
    if (len >= size)
        len = size - 1;
    memcpy(out, path + start, len);
    out[len] = '\0';
}

void lcx_run_default_names(lcx_run *runs, size_t n)
{
    int *fixed = calloc(n ? n : 1, sizeof *fixed);
    if (!fixed)
        return;
    for (size_t i = 0; i < n; i++)
        fixed[i] = runs[i].name[0] != '\0';
    for (size_t k = 1; k <= 16; k++) {
        for (size_t i = 0; i < n; i++)
            if (!fixed[i])
                path_tail(runs[i].path, k, runs[i].name, sizeof runs[i].name);
        int distinct = 1;
        for (size_t i = 0; i < n && distinct; i++)
            for (size_t j = i + 1; j < n; j++)
                if (!strcmp(runs[i].name, runs[j].name)) {
                    distinct = 0;
                    break;
                }
        if (distinct)
            break;
    }
    free(fixed);
}

static void lengths_str(const lcx_run *r, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < r->n_lengths && off < size; j++) {
        int w = snprintf(buf + off, size - off, "%s%zu", j ? "," : "", r->lengths[j]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

int lcx_runs_check_lengths(const lcx_run *runs, size_t n, lcx_err *err)
{
    for (size_t i = 1; i < n; i++) {
        int same = runs[i].n_lengths == runs[0].n_lengths;
        for (size_t j = 0; same && j < runs[0].n_lengths; j++)
            same = runs[i].lengths[j] == runs[0].lengths[j];
        if (!same) {
            char a[256], b[256];
            lengths_str(&runs[0], a, sizeof a);
            lengths_str(&runs[i], b, sizeof b);
            return lcx_errf(err, LCX_EINPUT,
                            "runs cover different lengths: %s (%s) has %s, %s (%s) has %s",
                            runs[0].name, runs[0].path, a, runs[i].name, runs[i].path, b);
        }
    }
    return 0;
}

int lcx_report_format_parse(const char *s)
{
    if (!strcmp(s, "table"))
        return LCX_FMT_TABLE;
    if (!strcmp(s, "markdown") || !strcmp(s, "md"))
        return LCX_FMT_MARKDOWN;
    if (!strcmp(s, "csv"))
        return LCX_FMT_CSV;
    if (!strcmp(s, "json"))
        return LCX_FMT_JSON;
    return -1;
}

/* ---- output ----------------------------------------------------------------- */

enum { MAX_TASKS = 256 };

/* The union of the runs' tasks, in the standard order. */
static size_t union_tasks(const lcx_run *runs, size_t n, const char **out, size_t max)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < runs[i].n_tasks; t++) {
            size_t k = 0;
            while (k < m && strcmp(out[k], runs[i].tasks[t]))
                k++;
            if (k == m && m < max)
                out[m++] = runs[i].tasks[t];
        }
    qsort(out, m, sizeof *out, cmp_task_name);
    return m;
}

static int same_tasks(const lcx_run *runs, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (runs[i].n_tasks != runs[0].n_tasks)
            return 0;
        for (size_t t = 0; t < runs[0].n_tasks; t++)
            if (strcmp(runs[i].tasks[t], runs[0].tasks[t]))
                return 0;
    }
    return 1;
}

/* "80.00" or "80.00 (-20.00)"; "-" when missing. */
static void cell_text(char *buf, size_t size, const lcx_cell *c, const lcx_cell *ref, int show_delta)
{
    if (!c) {
        snprintf(buf, size, "-");
        return;
    }
    double s = lcx_cell_score(c);
    if (show_delta && ref)
        snprintf(buf, size, "%.2f (%+.2f)", s, lcx_score_delta(s, lcx_cell_score(ref)));
    else
        snprintf(buf, size, "%.2f", s);
}

static void value_text(char *buf, size_t size, double v, double ref, int show_delta)
{
    if (show_delta)
        snprintf(buf, size, "%.2f (%+.2f)", v, lcx_score_delta(v, ref));
    else
        snprintf(buf, size, "%.2f", v);
}

static void effective_text(char *buf, size_t size, const lcx_run *r)
{
    if (r->effective >= 0)
        snprintf(buf, size, "%zu", r->lengths[r->effective]);
    else if (r->n_lengths)
        snprintf(buf, size, "none (< %zu)", r->lengths[0]);
    else
        snprintf(buf, size, "none");
}

static void run_describe(char *buf, size_t size, const lcx_run *r)
{
    size_t off = 0;
#define ADD(...)                                                                      \
    do {                                                                              \
        if (off < size) {                                                             \
            int w_ = snprintf(buf + off, size - off, __VA_ARGS__);                    \
            if (w_ > 0)                                                               \
                off += (size_t)w_;                                                    \
        }                                                                             \
    } while (0)
    buf[0] = '\0';
    if (r->model[0])
        ADD("model %s", r->model);
    if (r->rope_factor[0])
        ADD("%srope factor %s", off ? ", " : "", r->rope_factor);
    if (r->attn_temperature > 0 && r->attn_temperature != 1.0)
        ADD("%sattention temperature %g", off ? ", " : "", r->attn_temperature);
    if (r->orig_ctx)
        ADD("%soriginal context %zu", off ? ", " : "", r->orig_ctx);
    if (r->samples)
        ADD("%s%zu samples per cell", off ? ", " : "", r->samples);
#undef ADD
}

static void probe_cells(const lcx_probe_sum *p, char *share, char *hidden, char *gate, size_t size)
{
    snprintf(share, size, "%.2f%%", 100.0 * p->mean_sink_share);
    snprintf(hidden, size, "%.2f", p->max_hidden);
    if (p->gate_mean)
        snprintf(gate, size, "%.3f", p->mean_gate);
    else
        snprintf(gate, size, "- (no gate)");
}

static int any_probe(const lcx_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (runs[i].probe.present)
            return 1;
    return 0;
}

static size_t name_width(const lcx_run *runs, size_t n, size_t min)
{
    size_t w = min;
    for (size_t i = 0; i < n; i++)
        if (strlen(runs[i].name) > w)
            w = strlen(runs[i].name);
    return w;
}

#define SKIPPED_NOTE                                                                               \
    "a cell too short for the task's smallest prompt (lcx run --skip-unfit); the mean at that "  \
    "length is over the other tasks"

/* 1 when a run left cells out with lcx run --skip-unfit. */
static int any_skipped(const lcx_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_array_size(runs[i].skipped))
            return 1;
    return 0;
}

/* The start of a table row: its label, then the run's name when there are several. */
static void row_head(FILE *fp, const char *label, int multi, size_t nw, const char *name)
{
    fprintf(fp, "%-18s", label);
    if (multi)
        fprintf(fp, " %-*s", (int)nw, name);
}

static void print_table(FILE *fp, const lcx_run *runs, size_t n, double threshold)
{
    const char *tasks[MAX_TASKS];
    size_t nt = union_tasks(runs, n, tasks, MAX_TASKS);
    const lcx_run *ref = &runs[0];
    size_t nl = ref->n_lengths;
    char buf[128], desc[1024];
    int multi = n > 1;
    size_t nw = name_width(runs, n, 3);
    int cw = multi ? 16 : 9;
    for (size_t i = 0; i < n; i++) {
        run_describe(desc, sizeof desc, &runs[i]);
        fprintf(fp, "%s%-*s  %s%s%s%s\n", multi ? "" : "run ", multi ? (int)nw : 0, runs[i].name,
                runs[i].path, desc[0] ? " (" : "", desc, desc[0] ? ")" : "");
    }
    if (multi)
        fprintf(fp, "deltas: each run minus %s (the first)\n", ref->name);
    if (any_skipped(runs, n))
        fprintf(fp, "-: %s\n", SKIPPED_NOTE);
    fputc('\n', fp);
    fprintf(fp, "%-18s", "task");
    if (multi)
        fprintf(fp, " %-*s", (int)nw, "run");
    for (size_t j = 0; j < nl; j++)
        fprintf(fp, " %*zu", cw, ref->lengths[j]);
    fputc('\n', fp);
    for (size_t t = 0; t < nt; t++)
        for (size_t i = 0; i < n; i++) {
            row_head(fp, i == 0 ? tasks[t] : "", multi, nw, runs[i].name);
            for (size_t j = 0; j < nl; j++) {
                cell_text(buf, sizeof buf, lcx_run_cell(&runs[i], tasks[t], ref->lengths[j]),
                          lcx_run_cell(ref, tasks[t], ref->lengths[j]), i > 0);
                fprintf(fp, " %*s", cw, buf);
            }
            fputc('\n', fp);
        }
    for (size_t i = 0; i < n; i++) {
        row_head(fp, i == 0 ? "mean" : "", multi, nw, runs[i].name);
        for (size_t j = 0; j < nl; j++) {
            value_text(buf, sizeof buf, runs[i].means[j], ref->means[j], i > 0);
            fprintf(fp, " %*s", cw, buf);
        }
        fputc('\n', fp);
    }
    for (size_t i = 0; i < n; i++) {
        row_head(fp, i == 0 ? "nulls" : "", multi, nw, runs[i].name);
        for (size_t j = 0; j < nl; j++) {
            snprintf(buf, sizeof buf, "%zu/%zu", runs[i].nulls[j], runs[i].scored[j]);
            fprintf(fp, " %*s", cw, buf);
        }
        fputc('\n', fp);
    }
    if (!same_tasks(runs, n))
        fprintf(fp, "(runs cover different tasks: '-' marks a task a run lacks; each mean is over "
                    "the run's own tasks)\n");
    fputc('\n', fp);
    char eff[64], inc[64], dec[64];
    fprintf(fp, "%-*s  %-22s %-16s %-16s\n", (int)nw, "run", "effective length", "wAvg inc",
            "wAvg dec");
    for (size_t i = 0; i < n; i++) {
        effective_text(eff, sizeof eff, &runs[i]);
        value_text(inc, sizeof inc, runs[i].wavg_inc, ref->wavg_inc, i > 0);
        value_text(dec, sizeof dec, runs[i].wavg_dec, ref->wavg_dec, i > 0);
        fprintf(fp, "%-*s  %-22s %-16s %-16s\n", (int)nw, runs[i].name, eff, inc, dec);
    }
    fprintf(fp, "(effective length: the longest length whose mean exceeds %g)\n", threshold);
    if (any_probe(runs, n)) {
        fprintf(fp, "\nprobe (probe.json; share and gate averaged over layers, |hidden| max over layers)\n");
        fprintf(fp, "%-*s  %6s  %17s  %12s  %-11s  %s\n", (int)nw, "run", "layers",
                "first-token share", "max |hidden|", "gate mean", "model");
        for (size_t i = 0; i < n; i++) {
            const lcx_probe_sum *p = &runs[i].probe;
            if (!p->present) {
                fprintf(fp, "%-*s  (no probe.json)\n", (int)nw, runs[i].name);
                continue;
            }
            char share[64], hidden[64], gate[64];
            probe_cells(p, share, hidden, gate, sizeof share);
            fprintf(fp, "%-*s  %6zu  %17s  %12s  %-11s  %s\n", (int)nw, runs[i].name, p->n_layers,
                    share, hidden, gate, p->model);
        }
    }
}

static void print_markdown(FILE *fp, const lcx_run *runs, size_t n, double threshold)
{
    const char *tasks[MAX_TASKS];
    size_t nt = union_tasks(runs, n, tasks, MAX_TASKS);
    const lcx_run *ref = &runs[0];
    size_t nl = ref->n_lengths;
    char buf[128], desc[1024];
    int multi = n > 1;
    for (size_t i = 0; i < n; i++) {
        run_describe(desc, sizeof desc, &runs[i]);
        fprintf(fp, "- **%s**: `%s`%s%s\n", runs[i].name, runs[i].path, desc[0] ? ", " : "", desc);
    }
    if (multi)
        fprintf(fp, "\nDeltas in parentheses: each run minus **%s**.\n", ref->name);
    if (any_skipped(runs, n))
        fprintf(fp, "\n`-`: %s.\n", SKIPPED_NOTE);
    fprintf(fp, "\n| task |%s", multi ? " run |" : "");
    for (size_t j = 0; j < nl; j++)
        fprintf(fp, " %zu |", ref->lengths[j]);
    fprintf(fp, "\n|---|%s", multi ? "---|" : "");
    for (size_t j = 0; j < nl; j++)
        fprintf(fp, "---:|");
    fputc('\n', fp);
    for (size_t t = 0; t < nt + 2; t++)
        for (size_t i = 0; i < n; i++) {
            const char *row = t < nt ? tasks[t] : t == nt ? "**mean**" : "nulls";
            fprintf(fp, "| %s |", i == 0 ? row : "");
            if (multi)
                fprintf(fp, " %s |", runs[i].name);
            for (size_t j = 0; j < nl; j++) {
                if (t < nt)
                    cell_text(buf, sizeof buf, lcx_run_cell(&runs[i], tasks[t], ref->lengths[j]),
                              lcx_run_cell(ref, tasks[t], ref->lengths[j]), i > 0);
                else if (t == nt)
                    value_text(buf, sizeof buf, runs[i].means[j], ref->means[j], i > 0);
                else
                    snprintf(buf, sizeof buf, "%zu/%zu", runs[i].nulls[j], runs[i].scored[j]);
                fprintf(fp, " %s |", buf);
            }
            fputc('\n', fp);
        }
    if (!same_tasks(runs, n))
        fprintf(fp, "\nRuns cover different tasks: `-` marks a task a run lacks; each mean is over the "
                    "run's own tasks.\n");
    fprintf(fp, "\n| run | effective length (mean > %g) | wAvg inc | wAvg dec |\n|---|---|---:|---:|\n",
            threshold);
    char eff[64], inc[64], dec[64];
    for (size_t i = 0; i < n; i++) {
        effective_text(eff, sizeof eff, &runs[i]);
        value_text(inc, sizeof inc, runs[i].wavg_inc, ref->wavg_inc, i > 0);
        value_text(dec, sizeof dec, runs[i].wavg_dec, ref->wavg_dec, i > 0);
        fprintf(fp, "| %s | %s | %s | %s |\n", runs[i].name, eff, inc, dec);
    }
    if (any_probe(runs, n)) {
        fprintf(fp, "\n| run | layers | first-token share | max \\|hidden\\| | gate mean | model |\n"
                    "|---|---:|---:|---:|---:|---|\n");
        for (size_t i = 0; i < n; i++) {
            const lcx_probe_sum *p = &runs[i].probe;
            if (!p->present) {
                fprintf(fp, "| %s | - | - | - | - | no probe.json |\n", runs[i].name);
                continue;
            }
            char share[64], hidden[64], gate[64];
            probe_cells(p, share, hidden, gate, sizeof share);
            fprintf(fp, "| %s | %zu | %s | %s | %s | %s |\n", runs[i].name, p->n_layers, share,
                    hidden, gate, p->model);
        }
    }
}

/* A CSV field, quoted when it needs to be. */
static void csv_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

/* One tidy table: run,metric,task,length,value,samples,nulls,delta. */
static void print_csv(FILE *fp, const lcx_run *runs, size_t n)
{
    const lcx_run *ref = &runs[0];
    fprintf(fp, "run,metric,task,length,value,samples,nulls,delta\n");
    for (size_t i = 0; i < n; i++) {
        const lcx_run *r = &runs[i];
        for (size_t t = 0; t < r->n_tasks; t++)
            for (size_t j = 0; j < r->n_lengths; j++) {
                const lcx_cell *c = lcx_run_cell(r, r->tasks[t], r->lengths[j]);
                if (!c)
                    continue;
                const lcx_cell *rc = lcx_run_cell(ref, r->tasks[t], r->lengths[j]);
                csv_field(fp, r->name);
                fprintf(fp, ",score,%s,%zu,%.2f,%zu,%zu,", r->tasks[t], r->lengths[j],
                        lcx_cell_score(c), c->count, c->nulls);
                if (i > 0 && rc)
                    fprintf(fp, "%.2f", lcx_score_delta(lcx_cell_score(c), lcx_cell_score(rc)));
                fputc('\n', fp);
            }
        for (size_t j = 0; j < r->n_lengths; j++) {
            csv_field(fp, r->name);
            fprintf(fp, ",mean,,%zu,%.2f,%zu,%zu,", r->lengths[j], r->means[j], r->scored[j],
                    r->nulls[j]);
            if (i > 0)
                fprintf(fp, "%.2f", lcx_score_delta(r->means[j], ref->means[j]));
            fputc('\n', fp);
        }
        csv_field(fp, r->name);
        if (r->effective >= 0)
            fprintf(fp, ",effective_length,,,%zu,,,\n", r->lengths[r->effective]);
        else
            fprintf(fp, ",effective_length,,,none,,,\n");
        csv_field(fp, r->name);
        fprintf(fp, ",wavg_inc,,,%.2f,,,", r->wavg_inc);
        if (i > 0)
            fprintf(fp, "%.2f", lcx_score_delta(r->wavg_inc, ref->wavg_inc));
        fputc('\n', fp);
        csv_field(fp, r->name);
        fprintf(fp, ",wavg_dec,,,%.2f,,,", r->wavg_dec);
        if (i > 0)
            fprintf(fp, "%.2f", lcx_score_delta(r->wavg_dec, ref->wavg_dec));
        fputc('\n', fp);
        const lcx_probe_sum *p = &r->probe;
        if (p->present) {
            csv_field(fp, r->name);
            fprintf(fp, ",probe_first_token_share_pct,,,%.2f,,,\n", 100.0 * p->mean_sink_share);
            csv_field(fp, r->name);
            fprintf(fp, ",probe_max_abs_hidden,,,%.2f,,,\n", p->max_hidden);
            if (p->gate_mean) {
                csv_field(fp, r->name);
                fprintf(fp, ",probe_gate_mean,,,%.4f,,,\n", p->mean_gate);
            }
        }
    }
}

static json_t *jnum_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* A name kept in a fixed buffer as a JSON string: the buffer may end inside
 * a character (a long name cut to fit), which json_string refuses; keep the
 * whole characters. */
static json_t *jstr(const char *s)
{
    size_t n = strlen(s), bad;
    return json_stringn(s, lcx_utf8_valid(s, n, &bad) ? n : bad);
}

static json_t *probe_json(const lcx_probe_sum *p)
{
    json_t *o = json_object(), *per = json_object(), *ss = json_array(), *mh = json_array();
    json_t *gm = p->gate_mean ? json_array() : json_null();
    for (size_t l = 0; l < p->n_layers; l++) {
        json_array_append_new(ss, json_real(p->sink_share[l]));
        json_array_append_new(mh, json_real(p->max_abs_hidden[l]));
        if (p->gate_mean)
            json_array_append_new(gm, jnum_or_null(p->gate_mean[l]));
    }
    json_object_set_new(o, "model", jstr(p->model));
    json_object_set_new(o, "gate", jstr(p->gate));
    json_object_set_new(o, "tokens", p->tokens ? json_integer((json_int_t)p->tokens) : json_null());
    json_object_set_new(o, "layers", json_integer((json_int_t)p->n_layers));
    json_object_set_new(o, "first_token_share", json_real(p->mean_sink_share));
    json_object_set_new(o, "max_abs_hidden", json_real(p->max_hidden));
    json_object_set_new(o, "gate_mean", p->gate_mean ? jnum_or_null(p->mean_gate) : json_null());
    json_object_set_new(per, "sink_share", ss);
    json_object_set_new(per, "max_abs_hidden", mh);
    json_object_set_new(per, "gate_mean", gm);
    json_object_set_new(o, "per_layer", per);
    return o;
}

json_t *lcx_report_json(const lcx_run *runs, size_t n, double threshold)
{
    json_t *root = json_object(), *list = json_array();
    json_object_set_new(root, "kind", json_string("lcx-report"));
    json_object_set_new(root, "version", json_integer(LCX_REPORT_VERSION));
    json_object_set_new(root, "threshold", json_real(threshold));
    json_object_set_new(root, "reference", n ? jstr(runs[0].name) : json_null());
    const lcx_run *ref = n ? &runs[0] : NULL;
    for (size_t i = 0; i < n; i++) {
        const lcx_run *r = &runs[i];
        json_t *o = json_object(), *lengths = json_array(), *tasks = json_array(),
               *cells = json_array(), *means = json_array(), *nulls = json_array();
        json_object_set_new(o, "name", jstr(r->name));
        json_object_set_new(o, "path", jstr(r->path));
        json_object_set_new(o, "model", r->model[0] ? jstr(r->model) : json_null());
        json_object_set_new(o, "samples", r->samples ? json_integer((json_int_t)r->samples) : json_null());
        json_object_set_new(o, "original_context",
                            r->orig_ctx ? json_integer((json_int_t)r->orig_ctx) : json_null());
        json_object_set_new(o, "rope", r->rope ? json_deep_copy(r->rope) : json_null());
        for (size_t j = 0; j < r->n_lengths; j++) {
            json_array_append_new(lengths, json_integer((json_int_t)r->lengths[j]));
            json_array_append_new(means, json_real(r->means[j]));
            json_array_append_new(nulls, json_integer((json_int_t)r->nulls[j]));
        }
        for (size_t t = 0; t < r->n_tasks; t++) {
            json_array_append_new(tasks, json_string(r->tasks[t]));
            for (size_t j = 0; j < r->n_lengths; j++) {
                const lcx_cell *c = lcx_run_cell(r, r->tasks[t], r->lengths[j]);
                if (!c)
                    continue;
                json_t *jc = json_object();
                json_object_set_new(jc, "task", json_string(c->task));
                json_object_set_new(jc, "length", json_integer((json_int_t)c->length));
                json_object_set_new(jc, "score", json_real(lcx_cell_score(c)));
                json_object_set_new(jc, "samples", json_integer((json_int_t)c->count));
                json_object_set_new(jc, "nulls", json_integer((json_int_t)c->nulls));
                if (i > 0) {
                    const lcx_cell *rc = lcx_run_cell(ref, c->task, c->length);
                    json_object_set_new(jc, "delta",
                                        rc ? json_real(lcx_score_delta(lcx_cell_score(c),
                                                                       lcx_cell_score(rc)))
                                           : json_null());
                }
                json_array_append_new(cells, jc);
            }
        }
        json_object_set_new(o, "lengths", lengths);
        json_object_set_new(o, "tasks", tasks);
        if (r->skipped)
            json_object_set_new(o, "skipped", json_deep_copy(r->skipped));
        json_object_set_new(o, "cells", cells);
        json_object_set_new(o, "means", means);
        json_object_set_new(o, "nulls", nulls);
        json_object_set_new(o, "effective_length",
                            r->effective >= 0 ? json_integer((json_int_t)r->lengths[r->effective])
                                              : json_null());
        json_object_set_new(o, "wavg_inc", json_real(r->wavg_inc));
        json_object_set_new(o, "wavg_dec", json_real(r->wavg_dec));
        if (i > 0) {
            json_t *md = json_array();
            for (size_t j = 0; j < r->n_lengths; j++) {
                long k = length_index(ref, r->lengths[j]);
                json_array_append_new(md, k >= 0 ? json_real(lcx_score_delta(r->means[j], ref->means[k]))
                                                 : json_null());
            }
            json_object_set_new(o, "mean_deltas", md);
            json_object_set_new(o, "wavg_inc_delta", json_real(lcx_score_delta(r->wavg_inc, ref->wavg_inc)));
            json_object_set_new(o, "wavg_dec_delta", json_real(lcx_score_delta(r->wavg_dec, ref->wavg_dec)));
        }
        if (r->probe.present)
            json_object_set_new(o, "probe", probe_json(&r->probe));
        json_array_append_new(list, o);
    }
    json_object_set_new(root, "runs", list);
    return root;
}

static void print_json(FILE *fp, json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fprintf(fp, "%s\n", s ? s : "{}");
    free(s);
}

void lcx_report_print(FILE *fp, const lcx_run *runs, size_t n, double threshold,
                      lcx_report_format fmt)
{
    if (n == 0)
        return;
    switch (fmt) {
    case LCX_FMT_TABLE:
        print_table(fp, runs, n, threshold);
        break;
    case LCX_FMT_MARKDOWN:
        print_markdown(fp, runs, n, threshold);
        break;
    case LCX_FMT_CSV:
        print_csv(fp, runs, n);
        break;
    case LCX_FMT_JSON: {
        json_t *j = lcx_report_json(runs, n, threshold);
        print_json(fp, j);
        json_decref(j);
        break;
    }
    }
}

/* ---- plots ------------------------------------------------------------------ */

int lcx_report_plot(const char *dir, const lcx_run *runs, size_t n, double orig_ctx, lcx_err *err)
{
    int rc = lcx_mkdir_p(dir, err);
    if (rc)
        return rc;
    lcx_plot_series *s = calloc(n ? n : 1, sizeof *s);
    double **xs = calloc(n ? n : 1, sizeof *xs);
    if (!s || !xs) {
        free(s);
        free(xs);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !rc; i++) {
        xs[i] = calloc(runs[i].n_lengths ? runs[i].n_lengths : 1, sizeof **xs);
        if (!xs[i]) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < runs[i].n_lengths; j++)
            xs[i][j] = (double)runs[i].lengths[j];
        s[i].name = runs[i].name;
        s[i].n = runs[i].n_lengths;
        s[i].x = xs[i];
        s[i].y = runs[i].means;
    }
    char path[4200];
    if (!rc) {
        snprintf(path, sizeof path, "%s/scores.svg", dir);
        rc = lcx_plot_scores_svg(path, "RULER mean score by length", s, n, orig_ctx, err);
    }
    for (size_t i = 0; i < n; i++)
        free(xs[i]);
    free(xs);
    free(s);
    int all_probe = n > 0;
    for (size_t i = 0; i < n; i++)
        all_probe &= runs[i].probe.present;
    if (rc || !all_probe)
        return rc;
    lcx_probe_profile *p = calloc(n, sizeof *p);
    if (!p)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        p[i].name = runs[i].name;
        p[i].n_layers = runs[i].probe.n_layers;
        p[i].sink_share = runs[i].probe.sink_share;
        p[i].max_abs_hidden = runs[i].probe.max_abs_hidden;
        p[i].gate_mean = runs[i].probe.gate_mean;
    }
    snprintf(path, sizeof path, "%s/probe.svg", dir);
    rc = lcx_plot_probe_svg(path, "Attention-sink probe per layer", p, n, err);
    free(p);
    return rc;
}

/* ---- the sweep grid ----------------------------------------------------------- */

void lcx_sweep_grid_free(lcx_sweep_grid *g)
{
    if (!g)
        return;
    for (size_t r = 0; r < g->rows; r++) {
        if (g->row_labels)
            free(g->row_labels[r]);
        if (g->dirs)
            free(g->dirs[r]);
    }
    for (size_t c = 0; c < g->cols; c++)
        if (g->col_labels)
            free(g->col_labels[c]);
    free(g->row_labels);
    free(g->dirs);
    free(g->col_labels);
    free(g->yarn_factor);
    free(g->attn_temperature);
    free(g->lengths);
    free(g->values);
    free(g->best);
    memset(g, 0, sizeof *g);
}

static void setting_text(char *buf, size_t size, json_t *v)
{
    if (json_is_number(v))
        fmt_num(buf, size, json_number_value(v));
    else if (json_is_string(v))
        snprintf(buf, size, "%.60s", json_string_value(v));
    else
        snprintf(buf, size, "-");
}

int lcx_sweep_grid_load(const char *sweep_dir, lcx_sweep_grid *g, lcx_err *err)
{
    memset(g, 0, sizeof *g);
    char path[4200];
    json_t *root;
    int rc = lcx_rundir_read_json(sweep_dir, LCX_RUNDIR_SWEEP_JSON, "an lcx sweep", path, sizeof path, &root, err);
    if (rc)
        return rc;
    json_t *kind = json_object_get(root, "kind"), *model = json_object_get(root, "model"),
           *lengths = json_object_get(root, "lengths"), *cells = json_object_get(root, "cells");
    if (!json_is_string(kind) || strcmp(json_string_value(kind), "lcx-sweep"))
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'kind' is not \"lcx-sweep\"", path);
    else if (!json_is_array(lengths) || json_array_size(lengths) == 0)
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'lengths' is not a non-empty array", path);
    else if (!json_is_array(cells))
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'cells' is not an array", path);
    if (rc)
        goto done;
    snprintf(g->model, sizeof g->model, "%s", json_is_string(model) ? json_string_value(model) : "");
    g->cols = json_array_size(lengths);
    g->rows = json_array_size(cells);
    size_t R = g->rows ? g->rows : 1, C = g->cols;
    g->lengths = calloc(C, sizeof *g->lengths);
    g->col_labels = calloc(C, sizeof *g->col_labels);
    g->row_labels = calloc(R, sizeof *g->row_labels);
    g->dirs = calloc(R, sizeof *g->dirs);
    g->yarn_factor = calloc(R, sizeof *g->yarn_factor);
    g->attn_temperature = calloc(R, sizeof *g->attn_temperature);
    g->values = calloc(R * C, sizeof *g->values);
    g->best = calloc(R * C, sizeof *g->best);
    if (!g->lengths || !g->col_labels || !g->row_labels || !g->dirs || !g->yarn_factor ||
        !g->attn_temperature || !g->values || !g->best) {
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < C && !rc; c++) {
        json_t *l = json_array_get(lengths, c);
        if (!json_is_integer(l) || json_integer_value(l) <= 0) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'lengths[%zu]' is not a positive integer", path, c);
            break;
        }
        g->lengths[c] = (size_t)json_integer_value(l);
        char b[32];
        snprintf(b, sizeof b, "%zu", g->lengths[c]);
        if (!(g->col_labels[c] = xstrdup(b)))
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < g->rows && !rc; r++) {
        json_t *cell = json_array_get(cells, r);
        json_t *yf = json_object_get(cell, "yarn_factor"), *at = json_object_get(cell, "attn_temperature"),
               *dir = json_object_get(cell, "dir");
        if (!json_is_string(dir) || !json_string_length(dir)) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'cells[%zu].dir' is not a non-empty string", path, r);
            break;
        }
        g->yarn_factor[r] = json_is_number(yf) ? json_number_value(yf) : NAN;
        g->attn_temperature[r] = json_is_number(at) ? json_number_value(at) : NAN;
        /* "yarn F, temp T"; a dimension the sweep does not vary is left out. */
        char f[64], t[64], label[160], full[4200];
        setting_text(f, sizeof f, yf);
        setting_text(t, sizeof t, at);
        int has_f = json_is_number(yf) || json_is_string(yf), has_t = json_is_number(at) || json_is_string(at);
        if (has_f && has_t)
            snprintf(label, sizeof label, "yarn %s, temp %s", f, t);
        else if (has_f || has_t)
            snprintf(label, sizeof label, "%s %s", has_f ? "yarn" : "temp", has_f ? f : t);
        else
            snprintf(label, sizeof label, "default");
        const char *d = json_string_value(dir);
        if (d[0] == '/')
            snprintf(full, sizeof full, "%s", d);
        else
            snprintf(full, sizeof full, "%s/%s", sweep_dir, d);
        if (!(g->row_labels[r] = xstrdup(label)) || !(g->dirs[r] = xstrdup(full))) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        lcx_run run;
        lcx_err rerr = {0};
        int lrc = lcx_run_load_lenient(full, LCX_DEFAULT_THRESHOLD, &run, &rerr);
        if (lrc == LCX_ENOMEM) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        if (!lrc && !g->n_tasks && run.n_tasks)
            g->n_tasks = run.n_tasks;
        for (size_t c = 0; c < C; c++) {
            long k = lrc ? -1 : length_index(&run, g->lengths[c]);
            g->values[r * C + c] = k >= 0 && run.length_complete[k] ? run.means[k] : NAN;
        }
        if (!lrc)
            lcx_run_free(&run);
    }
    if (rc)
        goto done;
    for (size_t c = 0; c < C; c++) {
        double best = NAN;
        for (size_t r = 0; r < g->rows; r++) {
            double v = g->values[r * C + c];
            if (!isnan(v) && (isnan(best) || v > best))
                best = v;
        }
        for (size_t r = 0; r < g->rows; r++)
            g->best[r * C + c] = !isnan(best) && !isnan(g->values[r * C + c]) &&
                                 g->values[r * C + c] >= best;
    }
done:
    json_decref(root);
    if (rc)
        lcx_sweep_grid_free(g);
    return rc;
}

static size_t grid_label_width(const lcx_sweep_grid *g)
{
    size_t w = strlen("setting");
    for (size_t r = 0; r < g->rows; r++)
        if (strlen(g->row_labels[r]) > w)
            w = strlen(g->row_labels[r]);
    return w;
}

void lcx_sweep_grid_print(FILE *fp, const lcx_sweep_grid *g)
{
    size_t w = grid_label_width(g);
    char tasks[64] = "the tasks";
    if (g->n_tasks)
        snprintf(tasks, sizeof tasks, "%zu task%s", g->n_tasks, g->n_tasks == 1 ? "" : "s");
    fprintf(fp, "sweep%s%s: mean score over %s (* best per length, - not complete)\n",
            g->model[0] ? " of " : "", g->model, tasks);
    fprintf(fp, "%-*s", (int)w, "setting");
    for (size_t c = 0; c < g->cols; c++)
        fprintf(fp, " %9zu ", g->lengths[c]);
    fputc('\n', fp);
    for (size_t r = 0; r < g->rows; r++) {
        fprintf(fp, "%-*s", (int)w, g->row_labels[r]);
        for (size_t c = 0; c < g->cols; c++) {
            double v = g->values[r * g->cols + c];
            if (isnan(v))
                fprintf(fp, " %9s ", "-");
            else
                fprintf(fp, " %9.2f%c", v, g->best[r * g->cols + c] ? '*' : ' ');
        }
        fputc('\n', fp);
    }
}

json_t *lcx_sweep_grid_json(const lcx_sweep_grid *g)
{
    json_t *root = json_object(), *lengths = json_array(), *settings = json_array();
    json_object_set_new(root, "kind", json_string("lcx-sweep-grid"));
    json_object_set_new(root, "model", g->model[0] ? json_string(g->model) : json_null());
    for (size_t c = 0; c < g->cols; c++)
        json_array_append_new(lengths, json_integer((json_int_t)g->lengths[c]));
    json_object_set_new(root, "lengths", lengths);
    for (size_t r = 0; r < g->rows; r++) {
        json_t *s = json_object(), *means = json_array(), *best = json_array();
        json_object_set_new(s, "setting", json_string(g->row_labels[r]));
        json_object_set_new(s, "yarn_factor", jnum_or_null(g->yarn_factor[r]));
        json_object_set_new(s, "attn_temperature", jnum_or_null(g->attn_temperature[r]));
        json_object_set_new(s, "dir", json_string(g->dirs[r]));
        for (size_t c = 0; c < g->cols; c++) {
            json_array_append_new(means, jnum_or_null(g->values[r * g->cols + c]));
            json_array_append_new(best, json_boolean(g->best[r * g->cols + c]));
        }
        json_object_set_new(s, "means", means);
        json_object_set_new(s, "best", best);
        json_array_append_new(settings, s);
    }
    json_object_set_new(root, "settings", settings);
    return root;
}

void lcx_sweep_grid_write(FILE *fp, const lcx_sweep_grid *g, lcx_report_format fmt)
{
    switch (fmt) {
    case LCX_FMT_TABLE:
        lcx_sweep_grid_print(fp, g);
        break;
    case LCX_FMT_MARKDOWN:
        fprintf(fp, "Mean score over the tasks%s%s; **bold** = best per length, - = not complete.\n\n",
                g->model[0] ? ", model " : "", g->model);
        fprintf(fp, "| setting |");
        for (size_t c = 0; c < g->cols; c++)
            fprintf(fp, " %zu |", g->lengths[c]);
        fprintf(fp, "\n|---|");
        for (size_t c = 0; c < g->cols; c++)
            fprintf(fp, "---:|");
        fputc('\n', fp);
        for (size_t r = 0; r < g->rows; r++) {
            fprintf(fp, "| %s |", g->row_labels[r]);
            for (size_t c = 0; c < g->cols; c++) {
                double v = g->values[r * g->cols + c];
                if (isnan(v))
                    fprintf(fp, " - |");
                else if (g->best[r * g->cols + c])
                    fprintf(fp, " **%.2f** |", v);
                else
                    fprintf(fp, " %.2f |", v);
            }
            fputc('\n', fp);
        }
        break;
    case LCX_FMT_CSV:
        fprintf(fp, "setting,yarn_factor,attn_temperature,length,mean,best\n");
        for (size_t r = 0; r < g->rows; r++)
            for (size_t c = 0; c < g->cols; c++) {
                double v = g->values[r * g->cols + c];
                csv_field(fp, g->row_labels[r]);
                fputc(',', fp);
                if (!isnan(g->yarn_factor[r]))
                    fprintf(fp, "%g", g->yarn_factor[r]);
                fputc(',', fp);
                if (!isnan(g->attn_temperature[r]))
                    fprintf(fp, "%g", g->attn_temperature[r]);
                fprintf(fp, ",%zu,", g->lengths[c]);
                if (!isnan(v))
                    fprintf(fp, "%.2f", v);
                fprintf(fp, ",%d\n", g->best[r * g->cols + c]);
            }
        break;
    case LCX_FMT_JSON: {
        json_t *j = lcx_sweep_grid_json(g);
        print_json(fp, j);
        json_decref(j);
        break;
    }
    }
}

int lcx_sweep_grid_plot(const char *path, const lcx_sweep_grid *g, lcx_err *err)
{
    char title[640];
    snprintf(title, sizeof title, "Sweep%s%s: mean score", g->model[0] ? " of " : "", g->model);
    return lcx_plot_heatmap_svg(path, title, "length", "setting", g->rows,
                                (const char *const *)g->row_labels, g->cols,
                                (const char *const *)g->col_labels, g->values, g->best, err);
}
