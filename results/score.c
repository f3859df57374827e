/* score.c: RULER's metrics and the score table. */
#include "score.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/strbuf.h"
#include "results/pylower.h"
#include "tasks/tasks.h"

/* ---- clean-up ----------------------------------------------------------- */

/* Length of the Python-whitespace character at s (str.isspace), or 0. */
static size_t space_len(const unsigned char *s)
{
    if (*s == ' ' || (*s >= '\t' && *s <= '\r') || (*s >= 0x1c && *s <= 0x1f))
        return 1;
    if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
        return 3;
    if (s[0] == 0xe2 && s[1] == 0x80 &&
        ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
        return 3; /* U+2000-200A, U+2028, U+2029, U+202F */
    if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
        return 3;
    if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
        return 3;
    return 0;
}

/* Python's str.strip(): [begin, end) of s without leading/trailing space. */
static void strip_bounds(const char *s, size_t len, size_t *begin, size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t b = 0, e = len, n;
    while (b < len && (n = space_len(u + b)) > 0)
        b += n;
    /* From the right: step back over whole characters. */
    while (e > b) {
        size_t start = e - 1;
        while (start > b && (u[start] & 0xc0) == 0x80)
            start--;
        if (space_len(u + start) == e - start)
            e = start;
        else
            break;
    }
    *begin = b;
    *end = e;
}

char *lcx_postprocess_predn(const char *pred, size_t len, size_t *out_len)
{
    size_t b, e;
    strip_bounds(pred, len, &b, &e);
    char *out = malloc(e - b + 1);
    if (!out)
        return NULL;
    for (size_t i = b; i < e; i++)
        out[i - b] = (unsigned char)pred[i] < 0x20 ? '\n' : pred[i];
    out[e - b] = '\0';
    strip_bounds(out, e - b, &b, &e);
    memmove(out, out + b, e - b);
    out[e - b] = '\0';
    if (out_len)
        *out_len = e - b;
    return out;
}

char *lcx_postprocess_pred(const char *pred)
{
    return lcx_postprocess_predn(pred, strlen(pred), NULL);
}

/* ---- reasoning models ------------------------------------------------------ */

char *lcx_strip_think(const char *pred, const char *open, const char *close)
{
    size_t n = strlen(pred), lo = strlen(open), lc = strlen(close), len = 0, depth = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        if (lo && !strncmp(pred + i, open, lo)) {
            depth++;
            i += lo;
        } else if (lc && !strncmp(pred + i, close, lc)) {
            if (depth)
                depth--;
            else
                len = 0; /* a close tag outside any span: all before it was thinking */
            i += lc;
        } else {
            if (!depth)
                out[len++] = pred[i];
            i++;
        }
    }
    out[len] = '\0';
    return out;
}

/* ---- matching ----------------------------------------------------------- */

int lcx_contains_ci(const char *haystack, const char *needle)
{
    /* Python: needle.lower() in haystack.lower(). */
    if (!*needle)
        return 1;
    strbuf h, n;
    sb_init(&h);
    sb_init(&n);
    lcx_py_lower(haystack, strlen(haystack), &h);
    lcx_py_lower(needle, strlen(needle), &n);
    int found = h.oom || n.oom ? strstr(haystack, needle) != NULL
                               : strstr(sb_str(&h), sb_str(&n)) != NULL;
    sb_free(&h);
    sb_free(&n);
    return found;
}

/* Each reference against the lowered prediction; a reference that holds a
 * NUL (refs_len[i] > strlen) can never be found: the clean-up turned every
 * NUL of the prediction into a newline. */
static size_t count_found(const char *pred, const char *const *refs, const size_t *refs_len,
                          size_t n, int stop_at_first)
{
    strbuf p, r;
    sb_init(&p);
    sb_init(&r);
    lcx_py_lower(pred, strlen(pred), &p);
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = refs_len ? refs_len[i] : strlen(refs[i]);
        if (memchr(refs[i], '\0', len))
            continue;
        sb_clear(&r);
        lcx_py_lower(refs[i], len, &r);
        if (r.len == 0 || strstr(sb_str(&p), sb_str(&r))) {
            hit++;
            if (stop_at_first)
                break;
        }
    }
    sb_free(&p);
    sb_free(&r);
    return hit;
}

double lcx_match_all(const char *pred, const char *const *refs, size_t n)
{
    if (n == 0)
        return 0;
    return (double)count_found(pred, refs, NULL, n, 0) / (double)n;
}

double lcx_match_part(const char *pred, const char *const *refs, size_t n)
{
    return count_found(pred, refs, NULL, n, 1) ? 1 : 0;
}

double lcx_round2(double x)
{
    /* Python's round(x, 2) rounds the exact binary value half to even;
     * printf does the same. */
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f", x);
    return strtod(buf, NULL);
}

/* ---- the table ---------------------------------------------------------- */

void lcx_table_init(lcx_table *t) { memset(t, 0, sizeof *t); }

void lcx_table_free(lcx_table *t)
{
    free(t->cells);
    lcx_table_init(t);
}

const lcx_cell *lcx_table_find(const lcx_table *t, const char *task, size_t length)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->cells[i].length == length && !strcmp(t->cells[i].task, task))
            return &t->cells[i];
    return NULL;
}

lcx_cell *lcx_table_cell(lcx_table *t, const char *task, size_t length)
{
    lcx_cell *c = (lcx_cell *)lcx_table_find(t, task, length);
    if (c)
        return c;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        lcx_cell *cells = realloc(t->cells, cap * sizeof *cells);
        if (!cells)
            return NULL;
        t->cells = cells;
        t->cap = cap;
    }
    c = &t->cells[t->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->task, sizeof c->task, "%s", task);
    c->length = length;
    return c;
}

double lcx_cell_score(const lcx_cell *c)
{
    /* RULER: sum(scores) / len(preds) * 100, in this order, then round(x, 2). */
    return c->count ? lcx_round2(c->sum / (double)c->count * 100.0) : 0.0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

size_t lcx_table_lengths(const lcx_table *t, size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = 0;
        while (k < n && out[k] != t->cells[i].length)
            k++;
        if (k == n && n < max)
            out[n++] = t->cells[i].length;
    }
    qsort(out, n, sizeof *out, cmp_size);
    return n;
}

static size_t task_rank(const char *name)
{
    for (size_t i = 0; i < lcx_task_count(); i++)
        if (!strcmp(lcx_task_at(i)->name, name))
            return i;
    return lcx_task_count();
}

static int cmp_task(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t rx = task_rank(x), ry = task_rank(y);
    return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x, y);
}

size_t lcx_table_tasks(const lcx_table *t, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = 0;
        while (k < n && strcmp(out[k], t->cells[i].task))
            k++;
        if (k == n && n < max)
            out[n++] = t->cells[i].task;
    }
    qsort(out, n, sizeof *out, cmp_task);
    return n;
}

double lcx_table_mean(const lcx_table *t, size_t length)
{
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->cells[i].length == length && t->cells[i].count) {
            sum += lcx_cell_score(&t->cells[i]);
            n++;
        }
    return n ? lcx_round2(sum / (double)n) : 0.0;
}

size_t lcx_table_nulls(const lcx_table *t, size_t length)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->cells[i].length == length)
            n += t->cells[i].nulls;
    return n;
}

/* ---- reading prediction records ----------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Task name from ".../<task>.jsonl"; length from ".../<length>/<task>.jsonl". */
static void names_from_path(const char *path, char *task, size_t tsize, size_t *length)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    n = n > strlen(".jsonl") ? n - strlen(".jsonl") : 0;
    if (n >= tsize)
        n = tsize - 1;
    memcpy(task, base, n);
    task[n] = '\0';
    *length = 0;
    if (base > path + 1) {
        const char *end = base - 1, *start = end;
        while (start > path && start[-1] != '/')
            start--;
        char *stop;
        unsigned long long v = strtoull(start, &stop, 10);
        if (stop == end && start != end)
            *length = (size_t)v;
    }
}

static int score_record(json_t *rec, const char *path, size_t line, const char *file_task,
                        size_t dir_length, lcx_table *t, lcx_err *err)
{
    json_t *jtask = json_object_get(rec, "task");
    const char *task = json_is_string(jtask) ? json_string_value(jtask) : file_task;
    const lcx_task *def = lcx_task_find(task);
    if (!def)
        return lcx_errf(err, LCX_EINPUT, "%s:%zu: unknown task '%s' (field 'task' or the file name)",
                        path, line, task);
    json_t *jlen = json_object_get(rec, "max_length");
    size_t length = json_is_integer(jlen) ? (size_t)json_integer_value(jlen) : dir_length;
    if (!length)
        return lcx_errf(err, LCX_EINPUT,
                        "%s:%zu: missing field 'max_length' (and no <length>/ directory)", path, line);
    lcx_cell *c = lcx_table_cell(t, def->name, length);
    if (!c)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    json_t *jerr = json_object_get(rec, "error");
    if (jerr && !json_is_null(jerr)) {
        c->errors++;
        return 0;
    }
    double score;
    int is_null;
    int rc = lcx_score_record(rec, def->metric == METRIC_MATCH_PART, path, line, &score, &is_null, err);
    if (rc)
        return rc;
    c->sum += score;
    c->count++;
    c->nulls += (size_t)is_null;
    return 0;
}

int lcx_score_record(json_t *rec, int match_part, const char *path, size_t line, double *score,
                     int *is_null, lcx_err *err)
{
    json_t *pred = json_object_get(rec, "pred");
    if (!json_is_string(pred))
        return lcx_errf(err, LCX_EINPUT, "%s:%zu: missing string field 'pred'", path, line);
    json_t *outputs = json_object_get(rec, "outputs");
    if (!json_is_array(outputs) || json_array_size(outputs) == 0)
        return lcx_errf(err, LCX_EINPUT, "%s:%zu: missing field 'outputs' (non-empty array of strings)",
                        path, line);
    size_t n = json_array_size(outputs);
    const char **refs = malloc(n * sizeof *refs);
    size_t *refs_len = malloc(n * sizeof *refs_len);
    if (!refs || !refs_len) {
        free(refs);
        free(refs_len);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(outputs, i);
        if (!json_is_string(r)) {
            free(refs);
            free(refs_len);
            return lcx_errf(err, LCX_EINPUT, "%s:%zu: field 'outputs[%zu]' is not a string", path,
                            line, i);
        }
        refs[i] = json_string_value(r);
        refs_len[i] = json_string_length(r);
    }
    /* A NUL in the prediction is a control character like any other. */
    char *clean = lcx_postprocess_predn(json_string_value(pred), json_string_length(pred), NULL);
    if (!clean) {
        free(refs);
        free(refs_len);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    }
    size_t found = count_found(clean, refs, refs_len, n, match_part);
    *score = match_part ? (found ? 1.0 : 0.0) : (double)found / (double)n;
    if (is_null)
        *is_null = clean[0] == '\0';
    free(clean);
    free(refs);
    free(refs_len);
    return 0;
}

int lcx_score_stream(FILE *fp, const char *path, lcx_table *t, lcx_err *err)
{
    char task[256];
    size_t dir_length;
    names_from_path(path, task, sizeof task, &dir_length);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int rc = 0;
    while (!rc && (got = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (got == 0 || (got == 1 && line[0] == '\n'))
            continue;
        json_error_t je;
        json_t *rec = json_loadb(line, (size_t)got, JSON_ALLOW_NUL, &je);
        if (!json_is_object(rec))
            rc = lcx_errf(err, LCX_EINPUT, "%s:%zu: not a JSON object: %s", path, lineno,
                          rec ? "wrong type" : je.text);
        else
            rc = score_record(rec, path, lineno, task, dir_length, t, err);
        json_decref(rec);
    }
    free(line);
    return rc;
}

static int score_file(const char *path, lcx_table *t, lcx_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return lcx_errf(err, LCX_EINPUT, "%s: cannot open", path);
    int rc = lcx_score_stream(fp, path, t, err);
    fclose(fp);
    return rc;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int score_dir(const char *dir, lcx_table *t, size_t *files, lcx_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return lcx_errf(err, LCX_EINPUT, "%s: cannot open directory", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_cstr);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = score_dir(path, t, files, err);
        else if (ends_with(names[i], ".jsonl")) {
            rc = score_file(path, t, err);
            (*files)++;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int lcx_score_path(const char *path, lcx_table *t, lcx_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return lcx_errf(err, LCX_EINPUT, "%s: no such file or directory", path);
    if (!S_ISDIR(st.st_mode))
        return score_file(path, t, err);
    size_t files = 0;
    int rc = score_dir(path, t, &files, err);
    if (!rc && files == 0)
        return lcx_errf(err, LCX_EINPUT, "%s: no .jsonl prediction files found", path);
    return rc;
}
