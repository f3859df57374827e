/* report_figures.c: what the report computes of a loaded run: its cells,
 * the per-length means and nulls, the effective length, RULER's weighted
 * averages and the deltas against the reference run. */
#include "results/report.h"

#include <stdio.h>
#include <string.h>

const lcx_cell *lcx_run_cell(const lcx_run *r, const char *task, size_t length)
{
    const lcx_cell *c = lcx_table_find(&r->table, task, length);
    return c && c->count ? c : NULL;
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

long lcx_run_length_index(const lcx_run *r, size_t length)
{
    for (size_t j = 0; j < r->n_lengths; j++)
        if (r->lengths[j] == length)
            return (long)j;
    return -1;
}

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
