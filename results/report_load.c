/* report_load.c: runs for the report, loaded from a run directory (run.json,
 * pred/<length>/<task>.jsonl scored with results/score.h, probe.json) or
 * from a report JSON (lcx report --format json); their default names and
 * the lengths check before they are compared. */
#include "results/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsio.h"
#include "common/sha256.h"
#include "results/run_dir.h"
#include "tasks/tasks.h"

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

int lcx_run_task_cmp(const void *a, const void *b)
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

static void fmt_num(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%g", v);
}

/* ---- runs ------------------------------------------------------------------ */

void lcx_run_init(lcx_run *r)
{
    memset(r, 0, sizeof *r);
    lcx_table_init(&r->table);
    r->effective = -1;
    r->deterministic = -1;
}

static void sample_set_free(lcx_sample_set *s)
{
    free(s->index);
    free(s->score);
    free(s->input_id);
    memset(s, 0, sizeof *s);
}

static void probe_free(lcx_probe_sum *p)
{
    free(p->sink_share);
    free(p->max_abs_hidden);
    free(p->gate_mean);
    memset(p, 0, sizeof *p);
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
    for (size_t i = 0; i < r->n_sample_sets; i++)
        sample_set_free(&r->sample_sets[i]);
    free(r->sample_sets);
    lcx_run_init(r);
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
        if (!(r->tasks[r->n_tasks] = strdup(json_string_value(t)))) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            goto done;
        }
        r->n_tasks++;
    }
    qsort(r->tasks, r->n_tasks, sizeof *r->tasks, lcx_run_task_cmp);
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
    /* Whether the backend gives the same answer to the same prompt
     * (runtime.deterministic, learnt while running; null or absent:
     * unknown). */
    json_t *det = json_object_get(json_object_get(root, "runtime"), "deterministic");
    if (json_is_boolean(det))
        r->deterministic = json_is_true(det);
done:
    return rc;
}

static int parse_run_json(const char *dir, lcx_run *r, lcx_err *err)
{
    char path[4200];
    json_t *root;
    int rc = lcx_rundir_read_json(dir, LCX_RUNDIR_RUN_JSON, "an lcx run", path, sizeof path, &root,
                                  err);
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

/* ---- per-sample records ------------------------------------------------------ */

const lcx_sample_set *lcx_run_samples(const lcx_run *r, const char *task, size_t length)
{
    for (size_t i = 0; i < r->n_sample_sets; i++)
        if (r->sample_sets[i].length == length && !strcmp(r->sample_sets[i].task, task))
            return &r->sample_sets[i];
    return NULL;
}

int lcx_sample_set_binary(const lcx_sample_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->score[i] != 0 && s->score[i] != 1)
            return 0;
    return 1;
}

/* A new, empty set for a cell of at most cap samples. */
static lcx_sample_set *sample_set_add(lcx_run *r, const char *task, size_t length, size_t cap,
                                      lcx_err *err)
{
    lcx_sample_set *p = realloc(r->sample_sets, (r->n_sample_sets + 1) * sizeof *p);
    if (!p) {
        lcx_errf(err, LCX_ENOMEM, "out of memory");
        return NULL;
    }
    r->sample_sets = p;
    lcx_sample_set *s = &p[r->n_sample_sets];
    memset(s, 0, sizeof *s);
    snprintf(s->task, sizeof s->task, "%s", task);
    s->length = length;
    s->index = calloc(cap ? cap : 1, sizeof *s->index);
    s->score = calloc(cap ? cap : 1, sizeof *s->score);
    s->input_id = calloc(cap ? cap : 1, sizeof *s->input_id);
    if (!s->index || !s->score || !s->input_id) {
        sample_set_free(s);
        lcx_errf(err, LCX_ENOMEM, "out of memory");
        return NULL;
    }
    r->n_sample_sets++;
    return s;
}

static void sha_string(lcx_sha256 *h, json_t *v)
{
    /* length first, so that no two lists of strings hash alike */
    uint64_t n = json_is_string(v) ? (uint64_t)json_string_length(v) : UINT64_MAX;
    lcx_sha256_update(h, &n, sizeof n);
    if (json_is_string(v))
        lcx_sha256_update(h, json_string_value(v), json_string_length(v));
}

/* What identifies a record's sample: its input and answer prefix when it
 * carries them, and its references. */
static uint64_t record_id(json_t *rec, int *by_input)
{
    lcx_sha256 h;
    lcx_sha256_init(&h);
    json_t *input = json_object_get(rec, "input");
    *by_input = json_is_string(input);
    if (*by_input) {
        sha_string(&h, input);
        sha_string(&h, json_object_get(rec, "answer_prefix"));
    }
    json_t *outputs = json_object_get(rec, "outputs"), *o;
    size_t i;
    json_array_foreach(outputs, i, o)
        sha_string(&h, o);
    unsigned char d[32];
    lcx_sha256_final(&h, d);
    uint64_t id = 0;
    for (int k = 0; k < 8; k++)
        id = id << 8 | d[k];
    return id;
}

static int cmp_sample(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

/* The per-sample scores of a scored pred file (lcx_score_path accepted it).
 * A file whose records cannot be told apart (no index, an index twice)
 * gets no set: its cell is compared as a whole. */
static int load_samples(const char *path, lcx_run *r, const char *task, size_t length, size_t count,
                        lcx_err *err)
{
    const lcx_task *def = lcx_task_find(task);
    if (!def)
        return 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return lcx_errf(err, LCX_EINPUT, "%s: cannot open", path);
    lcx_sample_set tmp = {0};
    tmp.index = calloc(count ? count : 1, sizeof *tmp.index);
    tmp.score = calloc(count ? count : 1, sizeof *tmp.score);
    tmp.input_id = calloc(count ? count : 1, sizeof *tmp.input_id);
    size_t *order = calloc(count ? count : 1, sizeof *order * 2);
    int rc = 0, usable = 1, by_input = -1;
    if (!tmp.index || !tmp.score || !tmp.input_id || !order)
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while (!rc && usable && (got = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (got == 0 || (got == 1 && line[0] == '\n'))
            continue;
        json_t *rec = json_loadb(line, (size_t)got, JSON_ALLOW_NUL, NULL);
        json_t *jerr = json_object_get(rec, "error"), *jidx = json_object_get(rec, "index");
        if (!json_is_object(rec) || (jerr && !json_is_null(jerr))) {
            json_decref(rec);
            continue;
        }
        if (!json_is_integer(jidx) || json_integer_value(jidx) < 0 || tmp.n >= count) {
            usable = 0;
        } else {
            double score;
            int b;
            rc = lcx_score_record(rec, def->metric == METRIC_MATCH_PART, path, lineno, &score, NULL,
                                  err);
            if (!rc) {
                tmp.index[tmp.n] = (size_t)json_integer_value(jidx);
                tmp.score[tmp.n] = score;
                tmp.input_id[tmp.n] = record_id(rec, &b);
                if (by_input < 0)
                    by_input = b;
                else if (by_input != b)
                    by_input = 0; /* mixed: compare by what every record has */
                tmp.n++;
            }
        }
        json_decref(rec);
    }
    free(line);
    fclose(fp);
    if (!rc && usable && tmp.n == count) {
        /* sort by index (pairs of index, position) and refuse repeats */
        for (size_t i = 0; i < tmp.n; i++)
            order[2 * i] = tmp.index[i], order[2 * i + 1] = i;
        qsort(order, tmp.n, 2 * sizeof *order, cmp_sample);
        for (size_t i = 1; i < tmp.n; i++)
            if (order[2 * i] == order[2 * i - 2])
                usable = 0;
    }
    if (!rc && usable && tmp.n == count) {
        lcx_sample_set *s = sample_set_add(r, task, length, tmp.n, err);
        if (!s) {
            rc = LCX_ENOMEM;
        } else {
            for (size_t i = 0; i < tmp.n; i++) {
                size_t k = order[2 * i + 1];
                s->index[i] = tmp.index[k];
                s->score[i] = tmp.score[k];
                s->input_id[i] = tmp.input_id[k];
            }
            s->n = tmp.n;
            s->by_input = by_input > 0;
        }
    }
    free(order);
    sample_set_free(&tmp);
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
    if (dst->count > 0 && dst->count <= r->samples &&
        (rc = load_samples(path, r, task, length, dst->count, err)))
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

/* Keep only the lengths in keep[0..n) (lcx_run_load_lengths). */
static int keep_lengths(lcx_run *r, const size_t *keep, size_t n, lcx_err *err)
{
    for (size_t k = 0; k < n; k++)
        if (lcx_run_length_index(r, keep[k]) < 0)
            return lcx_errf(err, LCX_EINPUT, "%s: the run has no length %zu (--lengths)", r->path, keep[k]);
    size_t m = 0;
    for (size_t j = 0; j < r->n_lengths; j++)
        for (size_t k = 0; k < n; k++)
            if (r->lengths[j] == keep[k]) {
                r->lengths[m++] = r->lengths[j];
                break;
            }
    r->n_lengths = m;
    return 0;
}

static int run_load(const char *dir, double threshold, int strict, const size_t *keep, size_t n_keep,
                    lcx_run *r, lcx_err *err)
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
    if (!rc && keep)
        rc = keep_lengths(r, keep, n_keep, err);
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
    return run_load(dir, threshold, 1, NULL, 0, r, err);
}

int lcx_run_load_lengths(const char *dir, double threshold, const size_t *keep, size_t n_keep,
                         lcx_run *r, lcx_err *err)
{
    return run_load(dir, threshold, 1, keep, n_keep, r, err);
}

int lcx_run_load_lenient(const char *dir, double threshold, lcx_run *r, lcx_err *err)
{
    return run_load(dir, threshold, 0, NULL, 0, r, err);
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

/* A cell's "per_sample" of a report JSON (lcx_report_json writes it). */
static int per_sample_from_report(json_t *ps, const char *file, size_t k, size_t ci, lcx_run *r,
                                  const char *task, size_t length, size_t count, lcx_err *err)
{
    json_t *idx = json_object_get(ps, "index"), *score = json_object_get(ps, "score"),
           *ids = json_object_get(ps, "input_id"), *from = json_object_get(ps, "ids_from");
    size_t n = json_array_size(idx);
    if (!json_is_object(ps) || !json_is_array(idx) || !json_is_array(score) || !json_is_array(ids) ||
        n != count || json_array_size(score) != n || json_array_size(ids) != n ||
        !json_is_string(from))
        return lcx_errf(err, LCX_EINPUT,
                        "%s: field 'runs[%zu].cells[%zu].per_sample' is not index, score and "
                        "input_id arrays of the cell's samples, and ids_from", file, k, ci);
    lcx_sample_set *s = sample_set_add(r, task, length, n, err);
    if (!s)
        return LCX_ENOMEM;
    s->by_input = !strcmp(json_string_value(from), "input");
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(idx, i), *v = json_array_get(score, i), *id = json_array_get(ids, i);
        const char *hex = json_string_value(id);
        char *end = NULL;
        unsigned long long u = hex ? strtoull(hex, &end, 16) : 0;
        if (!json_is_integer(x) || json_integer_value(x) < 0 ||
            (i > 0 && (size_t)json_integer_value(x) <= s->index[i - 1]) || !json_is_number(v) ||
            !(json_number_value(v) >= 0 && json_number_value(v) <= 1) || !hex ||
            json_string_length(id) != 16 || *end) {
            s->n = i;
            return lcx_errf(err, LCX_EINPUT,
                            "%s: field 'runs[%zu].cells[%zu].per_sample' sample %zu: index (ascending), "
                            "score (0..1) or input_id (16 hex digits) is wrong", file, k, ci, i);
        }
        s->index[i] = (size_t)json_integer_value(x);
        s->score[i] = json_number_value(v);
        s->input_id[i] = (uint64_t)u;
        s->n = i + 1;
    }
    return 0;
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
        else if (json_size_field(c, "length", &length) || lcx_run_length_index(r, length) < 0)
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
        json_t *ps = json_object_get(c, "per_sample");
        if (ps && (rc = per_sample_from_report(ps, file, k, i, r, json_string_value(task), length, n,
                                               err)))
            break;
        size_t t = 0;
        while (t < r->n_tasks && strcmp(r->tasks[t], cell->task))
            t++;
        if (t == r->n_tasks && !(r->tasks[r->n_tasks++] = strdup(cell->task)))
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    if (!rc)
        qsort(r->tasks, r->n_tasks, sizeof *r->tasks, lcx_run_task_cmp);
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
