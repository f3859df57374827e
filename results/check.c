/* check.c: the regression gate; the test is described in check.h. */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double lcx_normal_quantile(double p)
{
    if (!(p > 0 && p < 1))
        return NAN;
    /* Phi(x) = erfc(-x / sqrt 2) / 2 is increasing; bisect on [-40, 40]. */
    double lo = -40, hi = 40;
    for (int i = 0; i < 200 && hi - lo > 1e-12; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

void lcx_check_eval(double baseline, size_t n_baseline, double current, size_t n_current,
                    double tolerance, double z, lcx_check_cell *out)
{
    double pb = baseline / 100.0, pc = current / 100.0;
    double nb = (double)n_baseline, nc = (double)n_current;
    double tb = (pb * nb + 1) / (nb + 2), tc = (pc * nc + 1) / (nc + 2);
    double se = sqrt(tb * (1 - tb) / (nb + 2) + tc * (1 - tc) / (nc + 2));
    double lower = (tb - tc) - z * se;
    out->baseline = baseline;
    out->current = current;
    out->n_baseline = n_baseline;
    out->n_current = n_current;
    out->drop = lcx_round2(baseline - current);
    out->lower = 100.0 * lower;
    double allowed = tolerance + 100.0 * (z * se + (pb - pc) - (tb - tc));
    out->allowed = allowed > tolerance ? allowed : tolerance;
    out->regressed = out->drop > tolerance && out->lower > tolerance;
}

void lcx_check_result_free(lcx_check_result *res)
{
    free(res->cells);
    memset(res, 0, sizeof *res);
}

int lcx_check_runs(const lcx_run *baseline, const lcx_run *current, double tolerance,
                   double confidence, lcx_check_result *res, lcx_err *err)
{
    memset(res, 0, sizeof *res);
    lcx_run pair[2] = {*baseline, *current};
    int rc = lcx_runs_check_lengths(pair, 2, err);
    if (rc)
        return rc;
    res->tolerance = tolerance;
    res->confidence = confidence;
    res->z = lcx_normal_quantile(confidence);
    size_t cap = baseline->n_tasks * baseline->n_lengths;
    res->cells = calloc(cap ? cap : 1, sizeof *res->cells);
    if (!res->cells)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t j = 0; j < baseline->n_lengths; j++)
        for (size_t t = 0; t < baseline->n_tasks; t++) {
            const char *task = baseline->tasks[t];
            size_t length = baseline->lengths[j];
            const lcx_cell *b = lcx_run_cell(baseline, task, length);
            if (!b)
                continue;
            const lcx_cell *c = lcx_run_cell(current, task, length);
            if (!c) {
                lcx_check_result_free(res);
                return lcx_errf(err, LCX_EINPUT,
                                "cell %s @ %zu of the baseline %s is missing from the current run %s",
                                task, length, baseline->path, current->path);
            }
            lcx_check_cell *out = &res->cells[res->n++];
            snprintf(out->task, sizeof out->task, "%s", task);
            out->length = length;
            lcx_check_eval(lcx_cell_score(b), b->count, lcx_cell_score(c), c->count, tolerance,
                           res->z, out);
            res->n_regressed += (size_t)out->regressed;
        }
    if (res->n == 0) {
        lcx_check_result_free(res);
        return lcx_errf(err, LCX_EINPUT, "the baseline %s has no scored cells", baseline->path);
    }
    return 0;
}

void lcx_check_print(FILE *fp, const lcx_check_result *res, const lcx_run *baseline,
                     const lcx_run *current)
{
    if (res->n_regressed == 0) {
        /* The cell closest to failing: the largest drop relative to what is allowed. */
        const lcx_check_cell *worst = NULL;
        for (size_t i = 0; i < res->n; i++)
            if (res->cells[i].drop > 0 &&
                (!worst || res->cells[i].drop - res->cells[i].allowed > worst->drop - worst->allowed))
                worst = &res->cells[i];
        fprintf(fp, "OK: %s against %s: %zu cells, none dropped more than %g points beyond "
                    "sampling noise (%g%% confidence)",
                current->name, baseline->name, res->n, res->tolerance, 100 * res->confidence);
        if (worst)
            fprintf(fp, "; closest: %s @ %zu dropped %.2f, allowed %.2f", worst->task, worst->length,
                    worst->drop, worst->allowed);
        fputc('\n', fp);
        return;
    }
    fprintf(fp, "REGRESSED: %s against %s: %zu of %zu cells dropped more than %g points beyond "
                "sampling noise (%g%% confidence)\n\n",
            current->name, baseline->name, res->n_regressed, res->n, res->tolerance,
            100 * res->confidence);
    fprintf(fp, "%-18s %8s %14s %14s %8s %13s\n", "task", "length", "baseline (n)", "current (n)",
            "drop", "allowed drop");
    for (size_t i = 0; i < res->n; i++) {
        const lcx_check_cell *c = &res->cells[i];
        if (!c->regressed)
            continue;
        char b[48], cur[48];
        snprintf(b, sizeof b, "%.2f (%zu)", c->baseline, c->n_baseline);
        snprintf(cur, sizeof cur, "%.2f (%zu)", c->current, c->n_current);
        fprintf(fp, "%-18s %8zu %14s %14s %8.2f %13.2f\n", c->task, c->length, b, cur, c->drop,
                c->allowed);
    }
    fprintf(fp, "\nallowed drop = tolerance + the one-sided Agresti-Caffo noise margin at the cells' "
                "sample counts\n");
}
