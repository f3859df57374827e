/* report_ci.c: the report's intervals (report.h, "intervals"): Wilson or
 * bootstrap for each run's cells, means and overall score (which is
 * computed here too), the paired bootstrap for the deltas against the
 * reference run. */
#include "results/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "results/stats.h"

#define Z95 1.959963984540054 /* Phi^-1(0.975), for LCX_STATS_LEVEL */

void lcx_report_ci_free(lcx_report_ci *ci)
{
    free(ci->cell);
    free(ci->cell_delta);
    free(ci->mean);
    free(ci->mean_delta);
    free(ci->overall);
    free(ci->overall_delta);
    memset(ci, 0, sizeof *ci);
}

int lcx_interval_excludes_zero(const lcx_interval *v)
{
    return v->present && (v->lo > 0 || v->hi < 0);
}

static uint64_t seed_for(const char *what, size_t length, uint64_t kind)
{
    return lcx_seed_mix(LCX_STATS_SEED, what, length, kind);
}

/* One run's cell: Wilson for 0/1 scores, else the bootstrap. */
static int cell_interval(const lcx_run *r, const char *task, size_t length, lcx_interval *out,
                         lcx_err *err)
{
    const lcx_cell *c = lcx_run_cell(r, task, length);
    const lcx_sample_set *s = lcx_run_samples(r, task, length);
    if (!c || !s || s->n != c->count || s->n == 0)
        return 0;
    double lo, hi;
    int rc;
    if (lcx_sample_set_binary(s)) {
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++)
            k += s->score[i] == 1;
        rc = lcx_stats_wilson(k, s->n, Z95, &lo, &hi, err);
        out->method = "wilson";
    } else {
        const double *x[1] = {s->score};
        size_t n[1] = {s->n};
        rc = lcx_stats_bootstrap(x, n, 1, LCX_STATS_RESAMPLES, seed_for(task, length, 1),
                                 LCX_STATS_LEVEL, &lo, &hi, err);
        out->method = "bootstrap";
    }
    if (rc)
        return rc;
    out->present = 1;
    out->lo = 100 * lo;
    out->hi = 100 * hi;
    out->n = s->n;
    return 0;
}

/* The differences cur - ref over the samples both sets hold, into d (room
 * for cur->n); -1 when a shared sample's id differs. */
static long paired_diffs(const lcx_sample_set *ref, const lcx_sample_set *cur, double *d)
{
    if (ref->by_input != cur->by_input)
        return -1;
    size_t i = 0, j = 0, k = 0;
    while (i < ref->n && j < cur->n) {
        if (ref->index[i] < cur->index[j]) {
            i++;
        } else if (ref->index[i] > cur->index[j]) {
            j++;
        } else {
            if (ref->input_id[i] != cur->input_id[j])
                return -1;
            d[k++] = cur->score[j] - ref->score[i];
            i++, j++;
        }
    }
    return (long)k;
}

/* A delta's interval: the paired bootstrap over strata (tasks) of
 * differences. */
static int delta_interval(double **d, const size_t *n, size_t strata, const char *what,
                          size_t length, lcx_interval *out, lcx_err *err)
{
    double lo, hi;
    size_t total = 0;
    for (size_t s = 0; s < strata; s++)
        total += n[s];
    int rc = lcx_stats_bootstrap((const double *const *)d, n, strata, LCX_STATS_RESAMPLES,
                                 seed_for(what, length, 2), LCX_STATS_LEVEL, &lo, &hi, err);
    if (rc)
        return rc;
    *out = (lcx_interval){1, 100 * lo, 100 * hi, total, "paired-bootstrap"};
    return 0;
}

/* Run r's cells at a length as bootstrap strata, appended at x[*k] and
 * n[*k]: 1 when every cell it holds there has its samples, else 0. */
static int add_sample_strata(const lcx_run *r, size_t length, const double **x, size_t *n,
                             size_t *k)
{
    for (size_t t = 0; t < r->n_tasks; t++) {
        const lcx_cell *c = lcx_run_cell(r, r->tasks[t], length);
        if (!c)
            continue; /* the mean is over the tasks present */
        const lcx_sample_set *s = lcx_run_samples(r, r->tasks[t], length);
        if (!s || s->n != c->count || s->n == 0)
            return 0;
        x[*k] = s->score;
        n[(*k)++] = s->n;
    }
    return 1;
}

/* Run r's mean over its cells at lengths[0..nl): the bootstrap resampling
 * samples within each cell (stratified), seeded with seed. */
static int samples_interval(const lcx_run *r, const size_t *lengths, size_t nl, uint64_t seed,
                            lcx_interval *out, lcx_err *err)
{
    size_t cap = r->n_tasks * nl, k = 0, total = 0;
    const double **x = calloc(cap ? cap : 1, sizeof *x);
    size_t *n = calloc(cap ? cap : 1, sizeof *n);
    if (!x || !n) {
        free(x), free(n);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    int whole = 1;
    for (size_t j = 0; j < nl && whole; j++)
        whole = add_sample_strata(r, lengths[j], x, n, &k);
    for (size_t s = 0; s < k; s++)
        total += n[s];
    int rc = 0;
    if (whole && k) {
        double lo, hi;
        rc = lcx_stats_bootstrap(x, n, k, LCX_STATS_RESAMPLES, seed, LCX_STATS_LEVEL, &lo, &hi,
                                 err);
        if (!rc)
            *out = (lcx_interval){1, 100 * lo, 100 * hi, total, "bootstrap"};
    }
    free(x), free(n);
    return rc;
}

/* The paired differences of ref's and cur's cells at a length as strata,
 * appended at d[*k] (allocated here) and n[*k]: 1 when both runs hold the
 * same tasks there and every cell pairs, 0 when not, -1 out of memory. */
static int add_diff_strata(const lcx_run *ref, const lcx_run *cur, size_t length, double **d,
                           size_t *n, size_t *k)
{
    size_t in_cur = 0, both = 0;
    for (size_t t = 0; t < cur->n_tasks; t++)
        in_cur += lcx_run_cell(cur, cur->tasks[t], length) != NULL;
    for (size_t t = 0; t < ref->n_tasks; t++) {
        const char *task = ref->tasks[t];
        const lcx_cell *a = lcx_run_cell(ref, task, length), *b = lcx_run_cell(cur, task, length);
        if (!a && !b)
            continue;
        const lcx_sample_set *sa = lcx_run_samples(ref, task, length),
                             *sb = lcx_run_samples(cur, task, length);
        if (!a || !b || !sa || !sb)
            return 0;
        if (!(d[*k] = calloc(sb->n ? sb->n : 1, sizeof **d)))
            return -1;
        long m = paired_diffs(sa, sb, d[(*k)++]);
        if (m <= 0)
            return 0;
        n[*k - 1] = (size_t)m;
        both++;
    }
    return both == in_cur;
}

/* Run cur's mean minus ref's over their cells at lengths[0..nl), when at
 * each length both hold the same tasks and every cell pairs; the seed from
 * what and length (delta_interval). */
static int diffs_interval(const lcx_run *ref, const lcx_run *cur, const size_t *lengths, size_t nl,
                          const char *what, size_t length, lcx_interval *out, lcx_err *err)
{
    size_t cap = ref->n_tasks * nl, k = 0;
    double **d = calloc(cap ? cap : 1, sizeof *d);
    size_t *n = calloc(cap ? cap : 1, sizeof *n);
    int rc = 0, ok = d && n;
    if (!ok)
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t j = 0; ok && j < nl; j++) {
        int r = add_diff_strata(ref, cur, lengths[j], d, n, &k);
        ok = r > 0;
        if (r < 0)
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    if (ok && k)
        rc = delta_interval(d, n, k, what, length, out, err);
    for (size_t i = 0; d && i < k; i++)
        free(d[i]);
    free(d), free(n);
    return rc;
}

/* Run i's mean at a length: the stratified bootstrap of its tasks' samples. */
static int mean_interval(const lcx_run *r, size_t length, lcx_interval *out, lcx_err *err)
{
    return samples_interval(r, &length, 1, seed_for("mean", length, 1), out, err);
}

/* Run cur's mean minus ref's at a length, when both hold the same tasks
 * there and every cell pairs. */
static int mean_delta_interval(const lcx_run *ref, const lcx_run *cur, size_t length,
                               lcx_interval *out, lcx_err *err)
{
    return diffs_interval(ref, cur, &length, 1, "mean", length, out, err);
}

lcx_overall lcx_run_overall(const lcx_run *r, const size_t *lengths, size_t nl)
{
    lcx_overall o = {0, 0, 0, 0, 1};
    double sum = 0;
    for (size_t j = 0; j < nl; j++) {
        o.covers &= lcx_run_length_index(r, lengths[j]) >= 0;
        for (size_t t = 0; t < r->n_tasks; t++) {
            const lcx_cell *c = lcx_run_cell(r, r->tasks[t], lengths[j]);
            if (!c || !c->count)
                continue; /* as lcx_table_mean */
            sum += lcx_cell_score(c);
            o.cells++;
            o.samples += c->count;
            o.nulls += c->nulls;
        }
    }
    o.score = o.cells ? lcx_round2(sum / (double)o.cells) : 0.0;
    return o;
}

/* Run i's overall score over the reference's lengths, and for runs after
 * the first its delta (interval absent unless every length pairs). */
static int overall_intervals(const lcx_run *runs, size_t i, lcx_report_ci *ci, lcx_err *err)
{
    const lcx_run *ref = &runs[0];
    int rc = samples_interval(&runs[i], ref->lengths, ref->n_lengths, seed_for("overall", 0, 1),
                              &ci->overall[i], err);
    if (!rc && i > 0)
        rc = diffs_interval(ref, &runs[i], ref->lengths, ref->n_lengths, "overall", 0,
                            &ci->overall_delta[i], err);
    return rc;
}

int lcx_report_ci_compute(const lcx_run *runs, size_t n, const char *const *tasks, size_t nt,
                          lcx_report_ci *ci, lcx_err *err)
{
    memset(ci, 0, sizeof *ci);
    if (n == 0)
        return 0;
    const lcx_run *ref = &runs[0];
    size_t nl = ref->n_lengths;
    ci->n_runs = n;
    ci->n_tasks = nt;
    ci->n_lengths = nl;
    size_t ncell = n * nt * nl, nmean = n * nl;
    ci->cell = calloc(ncell ? ncell : 1, sizeof *ci->cell);
    ci->cell_delta = calloc(ncell ? ncell : 1, sizeof *ci->cell_delta);
    ci->mean = calloc(nmean ? nmean : 1, sizeof *ci->mean);
    ci->mean_delta = calloc(nmean ? nmean : 1, sizeof *ci->mean_delta);
    ci->overall = calloc(n, sizeof *ci->overall);
    ci->overall_delta = calloc(n, sizeof *ci->overall_delta);
    if (!ci->cell || !ci->cell_delta || !ci->mean || !ci->mean_delta || !ci->overall ||
        !ci->overall_delta) {
        lcx_report_ci_free(ci);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t j = 0; j < nl && !rc; j++) {
            size_t length = ref->lengths[j];
            for (size_t t = 0; t < nt && !rc; t++) {
                lcx_interval *c = &ci->cell[(i * nt + t) * nl + j];
                rc = cell_interval(&runs[i], tasks[t], length, c, err);
                if (rc || i == 0)
                    continue;
                const lcx_sample_set *sa = lcx_run_samples(ref, tasks[t], length),
                                     *sb = lcx_run_samples(&runs[i], tasks[t], length);
                if (!sa || !sb || !lcx_run_cell(ref, tasks[t], length) ||
                    !lcx_run_cell(&runs[i], tasks[t], length))
                    continue;
                double *d = calloc(sb->n ? sb->n : 1, sizeof *d);
                if (!d) {
                    rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
                    break;
                }
                long m = paired_diffs(sa, sb, d);
                if (m > 0) {
                    size_t mm = (size_t)m;
                    rc = delta_interval(&d, &mm, 1, tasks[t], length,
                                        &ci->cell_delta[(i * nt + t) * nl + j], err);
                }
                free(d);
            }
            if (!rc && lcx_run_length_index(&runs[i], length) >= 0)
                rc = mean_interval(&runs[i], length, &ci->mean[i * nl + j], err);
            if (!rc && i > 0)
                rc = mean_delta_interval(ref, &runs[i], length, &ci->mean_delta[i * nl + j], err);
        }
    for (size_t i = 0; i < n && !rc; i++)
        rc = overall_intervals(runs, i, ci, err);
    if (rc)
        lcx_report_ci_free(ci);
    return rc;
}
