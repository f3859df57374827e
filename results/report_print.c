/* report_print.c: the report in every format: table, markdown and CSV print
 * the rows built once in "the rows" below; the report JSON (also lcx
 * check's baseline format, read back by report_load.c) is written here too. */
#include "results/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "results/stats.h"

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

/* A CSV field, quoted when it needs to be. */
void lcx_report_csv_field(FILE *fp, const char *s)
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

void lcx_report_json_print(FILE *fp, json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fprintf(fp, "%s\n", s ? s : "{}");
    free(s);
}

/* ---- the rows ------------------------------------------------------------- */

static size_t name_width(const lcx_run *runs, size_t n, size_t min);

/* Table, markdown and CSV print the same values, built here and only here: a
 * score per task, run and length, a mean per run and length, and each run's
 * weighted averages, each with its delta against the reference (the first
 * run). The runs cover the reference's lengths (lcx_runs_check_lengths). */

enum { MAX_TASKS = 256 };

typedef struct report_rows {
    const lcx_run *runs; /* runs[0] is the reference */
    size_t n;
    const char *tasks[MAX_TASKS]; /* the union of the runs' tasks, standard order */
    size_t nt;
    lcx_report_ci ci;    /* over tasks and the reference's lengths */
    int have_ci;         /* 0: the intervals could not be computed (out of memory) */
} report_rows;

/* A score or a mean at one length, or a weighted average. */
typedef struct report_value {
    int present;           /* 0: the run lacks the cell, shown as "-" */
    double value;          /* 0..100 */
    size_t samples, nulls; /* scored samples, and the nulls among them */
    int has_delta;         /* a run after the first, and the reference has the value */
    double delta;          /* value minus the reference's, rounded to 2 decimals */
    lcx_interval ci;       /* the value's interval (not present: none) */
    lcx_interval delta_ci; /* the delta's */
} report_value;

static void rows_init(report_rows *rw, const lcx_run *runs, size_t n)
{
    rw->runs = runs;
    rw->n = n;
    rw->nt = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < runs[i].n_tasks; t++) {
            size_t k = 0;
            while (k < rw->nt && strcmp(rw->tasks[k], runs[i].tasks[t]))
                k++;
            if (k == rw->nt && rw->nt < MAX_TASKS)
                rw->tasks[rw->nt++] = runs[i].tasks[t];
        }
    qsort(rw->tasks, rw->nt, sizeof *rw->tasks, lcx_run_task_cmp);
    lcx_err err = {0};
    rw->have_ci = lcx_report_ci_compute(runs, n, rw->tasks, rw->nt, &rw->ci, &err) == 0;
}

static void rows_free(report_rows *rw)
{
    if (rw->have_ci)
        lcx_report_ci_free(&rw->ci);
    rw->have_ci = 0;
}

static lcx_interval no_interval(void)
{
    lcx_interval v = {0};
    return v;
}

/* The interval of task t (or the mean, t = SIZE_MAX) of run i at the j-th length. */
static lcx_interval ci_at(const report_rows *rw, size_t t, size_t i, size_t j, int delta)
{
    if (!rw->have_ci || j >= rw->ci.n_lengths || i >= rw->ci.n_runs)
        return no_interval();
    if (t == (size_t)-1)
        return (delta ? rw->ci.mean_delta : rw->ci.mean)[i * rw->ci.n_lengths + j];
    return (delta ? rw->ci.cell_delta : rw->ci.cell)[(i * rw->ci.n_tasks + t) * rw->ci.n_lengths + j];
}

static size_t rows_lengths(const report_rows *rw) { return rw->runs[0].n_lengths; }

/* Task t's score in run i at the j-th length. */
static report_value score_value(const report_rows *rw, size_t t, size_t i, size_t j)
{
    const lcx_run *ref = &rw->runs[0];
    size_t length = ref->lengths[j];
    const lcx_cell *c = lcx_run_cell(&rw->runs[i], rw->tasks[t], length);
    const lcx_cell *rc = lcx_run_cell(ref, rw->tasks[t], length);
    report_value v = {0};
    if (!c)
        return v;
    v.present = 1;
    v.value = lcx_cell_score(c);
    v.samples = c->count;
    v.nulls = c->nulls;
    if (i > 0 && rc) {
        v.has_delta = 1;
        v.delta = lcx_score_delta(v.value, lcx_cell_score(rc));
        v.delta_ci = ci_at(rw, t, i, j, 1);
    }
    v.ci = ci_at(rw, t, i, j, 0);
    return v;
}

/* Run i's mean over its tasks at the j-th length. */
static report_value mean_value(const report_rows *rw, size_t i, size_t j)
{
    const lcx_run *r = &rw->runs[i], *ref = &rw->runs[0];
    report_value v = {1, r->means[j], r->scored[j], r->nulls[j], i > 0, 0, no_interval(),
                      no_interval()};
    if (i > 0) {
        v.delta = lcx_score_delta(r->means[j], ref->means[j]);
        v.delta_ci = ci_at(rw, (size_t)-1, i, j, 1);
    }
    v.ci = ci_at(rw, (size_t)-1, i, j, 0);
    return v;
}

/* The interval of run i's overall score, or of its delta. */
static lcx_interval overall_ci(const report_rows *rw, size_t i, int delta)
{
    if (!rw->have_ci || i >= rw->ci.n_runs)
        return no_interval();
    return (delta ? rw->ci.overall_delta : rw->ci.overall)[i];
}

/* Run i's overall score: the mean of its cells over the reference's
 * lengths (lcx_run_overall); a delta when it holds every one of them. */
static report_value overall_value(const report_rows *rw, size_t i)
{
    const lcx_run *ref = &rw->runs[0];
    lcx_overall o = lcx_run_overall(&rw->runs[i], ref->lengths, ref->n_lengths);
    report_value v = {1, o.score, o.samples, o.nulls, i > 0 && o.covers, 0, no_interval(),
                      no_interval()};
    if (v.has_delta) {
        lcx_overall r = lcx_run_overall(ref, ref->lengths, ref->n_lengths);
        v.delta = lcx_score_delta(o.score, r.score);
        v.delta_ci = overall_ci(rw, i, 1);
    }
    v.ci = overall_ci(rw, i, 0);
    return v;
}

/* Run i's wAvg (increasing or decreasing weights). */
static report_value wavg_value(const report_rows *rw, size_t i, int increasing)
{
    const lcx_run *r = &rw->runs[i], *ref = &rw->runs[0];
    double v = increasing ? r->wavg_inc : r->wavg_dec;
    report_value out = {1, v, 0, 0, i > 0, 0, no_interval(), no_interval()};
    if (i > 0)
        out.delta = lcx_score_delta(v, increasing ? ref->wavg_inc : ref->wavg_dec);
    return out;
}

/* The score grid of table and markdown, (nt + 2) * n rows: for each task a
 * row per run, then a mean row per run, then a nulls row per run. */
typedef enum { ROW_SCORE, ROW_MEAN, ROW_NULLS } row_kind;

static size_t grid_rows(const report_rows *rw) { return (rw->nt + 2) * rw->n; }

/* Row k: its kind, task (ROW_SCORE) and run. */
static row_kind grid_row(const report_rows *rw, size_t k, size_t *t, size_t *i)
{
    *t = k / rw->n;
    *i = k % rw->n;
    return *t < rw->nt ? ROW_SCORE : *t == rw->nt ? ROW_MEAN : ROW_NULLS;
}

static report_value grid_value(const report_rows *rw, row_kind kind, size_t t, size_t i, size_t j)
{
    return kind == ROW_SCORE ? score_value(rw, t, i, j) : mean_value(rw, i, j);
}

/* "80.00", "80.00 (-20.00)" with a delta, "80.00 (-20.00*)" when the
 * delta's interval excludes zero, "-" when missing. */
static void value_text(char *buf, size_t size, const report_value *v)
{
    if (!v->present)
        snprintf(buf, size, "-");
    else if (v->has_delta)
        snprintf(buf, size, "%.2f (%+.2f%s)", v->value, v->delta,
                 lcx_interval_excludes_zero(&v->delta_ci) ? "*" : "");
    else
        snprintf(buf, size, "%.2f", v->value);
}

/* "[49.02, 94.33]", or "-" without an interval. */
static void interval_text(char *buf, size_t size, const lcx_interval *v)
{
    if (!v->present)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "[%.2f, %.2f]", v->lo, v->hi);
}

static int any_interval(const report_rows *rw)
{
    if (!rw->have_ci)
        return 0;
    for (size_t k = 0; k < rw->n * rw->ci.n_lengths; k++)
        if (rw->ci.mean[k].present)
            return 1;
    for (size_t k = 0; k < rw->n * rw->ci.n_tasks * rw->ci.n_lengths; k++)
        if (rw->ci.cell[k].present)
            return 1;
    return 0;
}

#define INTERVAL_NOTE                                                                             \
    "95%% intervals: Wilson for a cell scored 0/1 per sample; bootstrap over samples for other\n" \
    "cells and the means (within each task), %d resamples, fixed seed; deltas: paired bootstrap\n" \
    "over the n samples both runs share; *: the delta's interval excludes 0; all: the mean of\n"  \
    "every task and length shown, bootstrap within each task and length"

/* The texts of a value's intervals section row: its interval (a), its
 * delta marked with star when the delta's interval excludes 0 (b), that
 * interval (c), and the paired samples (n); b and c empty without a delta,
 * n without paired samples. */
static void interval_row_texts(const report_value *v, const char *star, char a[64], char b[64],
                               char c[64], char n[32])
{
    interval_text(a, 64, &v->ci);
    b[0] = c[0] = n[0] = '\0';
    if (v->has_delta) {
        snprintf(b, 64, "%+.2f%s", v->delta, lcx_interval_excludes_zero(&v->delta_ci) ? star : "");
        interval_text(c, 64, &v->delta_ci);
    }
    if (v->delta_ci.present)
        snprintf(n, 32, "%zu", v->delta_ci.n);
}

/* An intervals section row's value: the mean (or task t's score) of run i
 * at the j-th length, or after the lengths (j == nl) the run's overall
 * score, "all"; its length as text into len. */
static report_value interval_row_value(const report_rows *rw, int mean, size_t t, size_t i,
                                       size_t j, char len[32])
{
    if (mean && j == rows_lengths(rw)) {
        snprintf(len, 32, "all");
        return overall_value(rw, i);
    }
    snprintf(len, 32, "%zu", rw->runs[0].lengths[j]);
    return mean ? mean_value(rw, i, j) : score_value(rw, t, i, j);
}

/* The intervals section of the table: per run and length, the mean and its
 * delta, then the overall score and its delta ("all"); with cells, every
 * task's too. */
static void print_intervals_table(FILE *fp, const report_rows *rw, int cells)
{
    const lcx_run *runs = rw->runs;
    size_t nw = name_width(runs, rw->n, 3), nl = rows_lengths(rw);
    char a[64], b[64], c[64], n[32], len[32];
    fprintf(fp, "\n" INTERVAL_NOTE "\n", LCX_STATS_RESAMPLES);
    fprintf(fp, "%-18s %-*s %8s %8s %-18s %9s %-18s %6s\n", "task", (int)nw, "run", "length", "score",
            "interval", "delta", "delta interval", "n");
    size_t ntask = cells ? rw->nt : 0;
    for (size_t t = 0; t <= ntask; t++)
        for (size_t i = 0; i < rw->n; i++)
            for (size_t j = 0; j < nl + (t == ntask); j++) {
                int mean = t == ntask;
                report_value v = interval_row_value(rw, mean, t, i, j, len);
                if (!v.present)
                    continue;
                interval_row_texts(&v, "*", a, b, c, n);
                char line[1024];
                int w = snprintf(line, sizeof line, "%-18s %-*s %8s %8.2f %-18s %9s %-18s %6s",
                                 i == 0 && j == 0 ? (mean ? "mean" : rw->tasks[t]) : "", (int)nw,
                                 j == 0 ? runs[i].name : "", len, v.value, a, b, c, n);
                size_t len = w < 0 ? 0 : (size_t)w < sizeof line ? (size_t)w : sizeof line - 1;
                while (len > 0 && line[len - 1] == ' ')
                    len--;
                fprintf(fp, "%.*s\n", (int)len, line);
            }
}

static void print_intervals_markdown(FILE *fp, const report_rows *rw, int cells)
{
    const lcx_run *runs = rw->runs;
    size_t nl = rows_lengths(rw);
    char a[64], b[64], c[64], n[32], len[32];
    fprintf(fp, "\n" INTERVAL_NOTE ".\n", LCX_STATS_RESAMPLES);
    /* (markdown joins the note's lines into one paragraph) */
    fprintf(fp, "\n| task | run | length | score | interval | delta | delta interval | n |\n"
                "|---|---|---:|---:|---|---:|---|---:|\n");
    size_t ntask = cells ? rw->nt : 0;
    for (size_t t = 0; t <= ntask; t++)
        for (size_t i = 0; i < rw->n; i++)
            for (size_t j = 0; j < nl + (t == ntask); j++) {
                int mean = t == ntask;
                report_value v = interval_row_value(rw, mean, t, i, j, len);
                if (!v.present)
                    continue;
                interval_row_texts(&v, "\\*", a, b, c, n);
                fprintf(fp, "| %s | %s | %s | %.2f | %s | %s | %s | %s |\n",
                        mean ? "**mean**" : rw->tasks[t], runs[i].name, len, v.value, a, b, c, n);
            }
}

/* A grid value as text: value_text, or "nulls/samples" in a nulls row. */
static void grid_text(char *buf, size_t size, row_kind kind, const report_value *v)
{
    if (kind == ROW_NULLS)
        snprintf(buf, size, "%zu/%zu", v->nulls, v->samples);
    else
        value_text(buf, size, v);
}

/* ---- table and markdown -------------------------------------------------- */

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

static void print_table(FILE *fp, const report_rows *rw, double threshold, unsigned flags)
{
    const lcx_run *runs = rw->runs, *ref = &runs[0];
    size_t n = rw->n, nl = rows_lengths(rw);
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
    for (size_t k = 0; k < grid_rows(rw); k++) {
        size_t t, i;
        row_kind kind = grid_row(rw, k, &t, &i);
        const char *label = kind == ROW_SCORE ? rw->tasks[t] : kind == ROW_MEAN ? "mean" : "nulls";
        fprintf(fp, "%-18s", i == 0 ? label : "");
        if (multi)
            fprintf(fp, " %-*s", (int)nw, runs[i].name);
        for (size_t j = 0; j < nl; j++) {
            report_value v = grid_value(rw, kind, t, i, j);
            grid_text(buf, sizeof buf, kind, &v);
            fprintf(fp, " %*s", cw, buf);
        }
        fputc('\n', fp);
    }
    if (!same_tasks(runs, n))
        fprintf(fp, "(runs cover different tasks: '-' marks a task a run lacks; each mean is over "
                    "the run's own tasks)\n");
    if (any_interval(rw))
        print_intervals_table(fp, rw, (flags & LCX_REPORT_CELL_INTERVALS) != 0);
    fputc('\n', fp);
    char eff[64], inc[64], dec[64];
    fprintf(fp, "%-*s  %-22s %-16s %-16s\n", (int)nw, "run", "effective length", "wAvg inc",
            "wAvg dec");
    for (size_t i = 0; i < n; i++) {
        report_value vi = wavg_value(rw, i, 1), vd = wavg_value(rw, i, 0);
        effective_text(eff, sizeof eff, &runs[i]);
        value_text(inc, sizeof inc, &vi);
        value_text(dec, sizeof dec, &vd);
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

static void print_markdown(FILE *fp, const report_rows *rw, double threshold, unsigned flags)
{
    const lcx_run *runs = rw->runs, *ref = &runs[0];
    size_t n = rw->n, nl = rows_lengths(rw);
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
    for (size_t k = 0; k < grid_rows(rw); k++) {
        size_t t, i;
        row_kind kind = grid_row(rw, k, &t, &i);
        const char *label = kind == ROW_SCORE ? rw->tasks[t] : kind == ROW_MEAN ? "**mean**" : "nulls";
        fprintf(fp, "| %s |", i == 0 ? label : "");
        if (multi)
            fprintf(fp, " %s |", runs[i].name);
        for (size_t j = 0; j < nl; j++) {
            report_value v = grid_value(rw, kind, t, i, j);
            grid_text(buf, sizeof buf, kind, &v);
            fprintf(fp, " %s |", buf);
        }
        fputc('\n', fp);
    }
    if (!same_tasks(runs, n))
        fprintf(fp, "\nRuns cover different tasks: `-` marks a task a run lacks; each mean is over the "
                    "run's own tasks.\n");
    if (any_interval(rw))
        print_intervals_markdown(fp, rw, (flags & LCX_REPORT_CELL_INTERVALS) != 0);
    fprintf(fp, "\n| run | effective length (mean > %g) | wAvg inc | wAvg dec |\n|---|---|---:|---:|\n",
            threshold);
    char eff[64], inc[64], dec[64];
    for (size_t i = 0; i < n; i++) {
        report_value vi = wavg_value(rw, i, 1), vd = wavg_value(rw, i, 0);
        effective_text(eff, sizeof eff, &runs[i]);
        value_text(inc, sizeof inc, &vi);
        value_text(dec, sizeof dec, &vd);
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

/* A CSV value, then its delta, the intervals and the delta's paired
 * samples (each empty when absent), ending the line. */
static void csv_value_end(FILE *fp, const report_value *v)
{
    if (v->has_delta)
        fprintf(fp, "%.2f", v->delta);
    if (v->ci.present)
        fprintf(fp, ",%.2f,%.2f,%s", v->ci.lo, v->ci.hi, v->ci.method);
    else
        fprintf(fp, ",,,");
    if (v->delta_ci.present)
        fprintf(fp, ",%.2f,%.2f,%s,%zu", v->delta_ci.lo, v->delta_ci.hi, v->delta_ci.method,
                v->delta_ci.n);
    else
        fprintf(fp, ",,,,");
    fputc('\n', fp);
}

/* One tidy table, run by run (metric: score, mean, overall, effective_length,
 * wavg_inc, wavg_dec, probe_...): run,metric,task,length,value,samples,nulls,delta,
 * then the 95% intervals: lo,hi,interval (the method),delta_lo,delta_hi,
 * delta_interval,delta_n. */
static void print_csv(FILE *fp, const report_rows *rw)
{
    size_t nl = rows_lengths(rw);
    fprintf(fp, "run,metric,task,length,value,samples,nulls,delta,lo,hi,interval,delta_lo,delta_hi,"
                "delta_interval,delta_n\n");
    for (size_t i = 0; i < rw->n; i++) {
        const lcx_run *r = &rw->runs[i];
        for (size_t t = 0; t < rw->nt; t++)
            for (size_t j = 0; j < nl; j++) {
                report_value v = score_value(rw, t, i, j);
                if (!v.present)
                    continue;
                lcx_report_csv_field(fp, r->name);
                fprintf(fp, ",score,%s,%zu,%.2f,%zu,%zu,", rw->tasks[t], r->lengths[j], v.value,
                        v.samples, v.nulls);
                csv_value_end(fp, &v);
            }
        for (size_t j = 0; j < nl; j++) {
            report_value v = mean_value(rw, i, j);
            lcx_report_csv_field(fp, r->name);
            fprintf(fp, ",mean,,%zu,%.2f,%zu,%zu,", r->lengths[j], v.value, v.samples, v.nulls);
            csv_value_end(fp, &v);
        }
        report_value ov = overall_value(rw, i);
        lcx_report_csv_field(fp, r->name);
        fprintf(fp, ",overall,,,%.2f,%zu,%zu,", ov.value, ov.samples, ov.nulls);
        csv_value_end(fp, &ov);
        lcx_report_csv_field(fp, r->name);
        if (r->effective >= 0)
            fprintf(fp, ",effective_length,,,%zu,,,,,,,,,,\n", r->lengths[r->effective]);
        else
            fprintf(fp, ",effective_length,,,none,,,,,,,,,,\n");
        for (int inc = 1; inc >= 0; inc--) {
            report_value v = wavg_value(rw, i, inc);
            lcx_report_csv_field(fp, r->name);
            fprintf(fp, ",%s,,,%.2f,,,", inc ? "wavg_inc" : "wavg_dec", v.value);
            csv_value_end(fp, &v);
        }
        const lcx_probe_sum *p = &r->probe;
        if (p->present) {
            lcx_report_csv_field(fp, r->name);
            fprintf(fp, ",probe_first_token_share_pct,,,%.2f,,,,,,,,,,\n", 100.0 * p->mean_sink_share);
            lcx_report_csv_field(fp, r->name);
            fprintf(fp, ",probe_max_abs_hidden,,,%.2f,,,,,,,,,,\n", p->max_hidden);
            if (p->gate_mean) {
                lcx_report_csv_field(fp, r->name);
                fprintf(fp, ",probe_gate_mean,,,%.4f,,,,,,,,,,\n", p->mean_gate);
            }
        }
    }
}

/* ---- the report JSON ----------------------------------------------------- */

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

/* A cell's samples: indices, scores (0..1) and input ids (16 hex digits). */
static json_t *per_sample_json(const lcx_sample_set *s)
{
    json_t *o = json_object(), *idx = json_array(), *score = json_array(), *ids = json_array();
    for (size_t i = 0; i < s->n; i++) {
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)s->input_id[i]);
        json_array_append_new(idx, json_integer((json_int_t)s->index[i]));
        json_array_append_new(score, s->score[i] == 0 || s->score[i] == 1
                                         ? json_integer((json_int_t)s->score[i])
                                         : json_real(s->score[i]));
        json_array_append_new(ids, json_string(hex));
    }
    json_object_set_new(o, "ids_from", json_string(s->by_input ? "input" : "outputs"));
    json_object_set_new(o, "index", idx);
    json_object_set_new(o, "score", score);
    json_object_set_new(o, "input_id", ids);
    return o;
}

/* An interval as {"lo", "hi", "method", "n"}, or null. */
static json_t *interval_json(const lcx_interval *v)
{
    if (!v->present)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "lo", json_real(lcx_round2(v->lo)));
    json_object_set_new(o, "hi", json_real(lcx_round2(v->hi)));
    json_object_set_new(o, "method", json_string(v->method));
    json_object_set_new(o, "n", json_integer((json_int_t)v->n));
    return o;
}

/* Run i's "overall": score, cells, samples, interval; after the first run
 * delta (null unless it holds every length of the reference) and
 * delta_interval. */
static json_t *overall_json(const report_rows *rw, size_t i)
{
    const lcx_run *ref = &rw->runs[0];
    lcx_overall o = lcx_run_overall(&rw->runs[i], ref->lengths, ref->n_lengths);
    report_value v = overall_value(rw, i);
    json_t *j = json_object();
    json_object_set_new(j, "score", json_real(v.value));
    json_object_set_new(j, "cells", json_integer((json_int_t)o.cells));
    json_object_set_new(j, "samples", json_integer((json_int_t)o.samples));
    json_object_set_new(j, "interval", interval_json(&v.ci));
    if (i > 0) {
        json_object_set_new(j, "delta", v.has_delta ? json_real(v.delta) : json_null());
        json_object_set_new(j, "delta_interval", interval_json(&v.delta_ci));
    }
    return j;
}

static size_t task_pos(const report_rows *rw, const char *task)
{
    for (size_t t = 0; t < rw->nt; t++)
        if (!strcmp(rw->tasks[t], task))
            return t;
    return (size_t)-2;
}

json_t *lcx_report_json(const lcx_run *runs, size_t n, double threshold)
{
    report_rows rw;
    memset(&rw, 0, sizeof rw);
    if (n)
        rows_init(&rw, runs, n);
    json_t *root = json_object(), *list = json_array();
    json_object_set_new(root, "kind", json_string("lcx-report"));
    json_object_set_new(root, "version", json_integer(LCX_REPORT_VERSION));
    json_object_set_new(root, "threshold", json_real(threshold));
    json_object_set_new(root, "reference", n ? jstr(runs[0].name) : json_null());
    json_t *iv = json_object();
    json_object_set_new(iv, "level", json_real(LCX_STATS_LEVEL));
    json_object_set_new(iv, "cell", json_string("wilson when every per-sample score is 0 or 1, else bootstrap"));
    json_object_set_new(iv, "mean", json_string("bootstrap, resampling samples within each task"));
    json_object_set_new(iv, "overall",
                        json_string("bootstrap, resampling samples within each task and length"));
    json_object_set_new(iv, "delta", json_string("paired-bootstrap over the samples both runs share"));
    json_object_set_new(iv, "resamples", json_integer(LCX_STATS_RESAMPLES));
    char seed[32];
    snprintf(seed, sizeof seed, "0x%016llx", (unsigned long long)LCX_STATS_SEED);
    json_object_set_new(iv, "seed", json_string(seed));
    json_object_set_new(root, "intervals", iv);
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
                size_t tp = task_pos(&rw, c->task);
                long jp = lcx_run_length_index(ref, c->length);
                lcx_interval none = {0};
                lcx_interval cv = jp >= 0 ? ci_at(&rw, tp, i, (size_t)jp, 0) : none;
                json_object_set_new(jc, "interval", interval_json(&cv));
                if (i > 0) {
                    const lcx_cell *rc = lcx_run_cell(ref, c->task, c->length);
                    json_object_set_new(jc, "delta",
                                        rc ? json_real(lcx_score_delta(lcx_cell_score(c),
                                                                       lcx_cell_score(rc)))
                                           : json_null());
                    lcx_interval dv = jp >= 0 && rc ? ci_at(&rw, tp, i, (size_t)jp, 1) : none;
                    json_object_set_new(jc, "delta_interval", interval_json(&dv));
                }
                const lcx_sample_set *ss = lcx_run_samples(r, c->task, c->length);
                if (ss)
                    json_object_set_new(jc, "per_sample", per_sample_json(ss));
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
        json_t *mi = json_array();
        for (size_t j = 0; j < r->n_lengths; j++) {
            long jp = lcx_run_length_index(ref, r->lengths[j]);
            lcx_interval v = {0};
            if (jp >= 0)
                v = ci_at(&rw, (size_t)-1, i, (size_t)jp, 0);
            json_array_append_new(mi, interval_json(&v));
        }
        json_object_set_new(o, "mean_intervals", mi);
        json_object_set_new(o, "wavg_inc", json_real(r->wavg_inc));
        json_object_set_new(o, "wavg_dec", json_real(r->wavg_dec));
        if (i > 0) {
            json_t *md = json_array();
            for (size_t j = 0; j < r->n_lengths; j++) {
                long k = lcx_run_length_index(ref, r->lengths[j]);
                json_array_append_new(md, k >= 0 ? json_real(lcx_score_delta(r->means[j], ref->means[k]))
                                                 : json_null());
            }
            json_object_set_new(o, "mean_deltas", md);
            json_t *mdi = json_array();
            for (size_t j = 0; j < r->n_lengths; j++) {
                long jp = lcx_run_length_index(ref, r->lengths[j]);
                lcx_interval v = {0};
                if (jp >= 0)
                    v = ci_at(&rw, (size_t)-1, i, (size_t)jp, 1);
                json_array_append_new(mdi, interval_json(&v));
            }
            json_object_set_new(o, "mean_delta_intervals", mdi);
            json_object_set_new(o, "wavg_inc_delta", json_real(lcx_score_delta(r->wavg_inc, ref->wavg_inc)));
            json_object_set_new(o, "wavg_dec_delta", json_real(lcx_score_delta(r->wavg_dec, ref->wavg_dec)));
        }
        json_object_set_new(o, "overall", overall_json(&rw, i));
        if (r->probe.present)
            json_object_set_new(o, "probe", probe_json(&r->probe));
        json_array_append_new(list, o);
    }
    json_object_set_new(root, "runs", list);
    rows_free(&rw);
    return root;
}

/* ---- every format -------------------------------------------------------- */

void lcx_report_print(FILE *fp, const lcx_run *runs, size_t n, double threshold,
                      lcx_report_format fmt)
{
    lcx_report_print_with(fp, runs, n, threshold, fmt, 0);
}

void lcx_report_print_with(FILE *fp, const lcx_run *runs, size_t n, double threshold,
                           lcx_report_format fmt, unsigned flags)
{
    if (n == 0)
        return;
    if (fmt == LCX_FMT_JSON) {
        json_t *j = lcx_report_json(runs, n, threshold);
        lcx_report_json_print(fp, j);
        json_decref(j);
        return;
    }
    report_rows rw;
    rows_init(&rw, runs, n);
    switch (fmt) {
    case LCX_FMT_TABLE:
        print_table(fp, &rw, threshold, flags);
        break;
    case LCX_FMT_MARKDOWN:
        print_markdown(fp, &rw, threshold, flags);
        break;
    case LCX_FMT_CSV:
        print_csv(fp, &rw);
        break;
    case LCX_FMT_JSON:
        break;
    }
    rows_free(&rw);
}
