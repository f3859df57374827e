/* check.h: the CI regression gate (`lcx check`).
 *
 * Every task x length cell of the baseline is compared with the current run.
 * A cell's score is a proportion: p = score / 100 over its n samples (with
 * partial credit, x = p * n "successes" need not be an integer). The test is
 * a one-sided Agresti-Caffo bound on the drop p_b - p_c (Agresti & Caffo
 * 2000: add one success and one failure to each sample):
 *
 *   p~_b = (x_b + 1) / (n_b + 2),   p~_c = (x_c + 1) / (n_c + 2)
 *   SE   = sqrt(p~_b (1 - p~_b) / (n_b + 2) + p~_c (1 - p~_c) / (n_c + 2))
 *   L    = (p~_b - p~_c) - z * SE        z = Phi^-1(confidence)
 *
 * L is the lower confidence bound on the true drop. The cell regresses when
 * L exceeds the tolerance and the observed drop does too:
 *
 *   regressed  <=>  100 L > tolerance  and  drop > tolerance,
 *
 * with drop = score_b - score_c in points. In points of the observed drop
 * this reads drop > allowed, allowed = max(tolerance, tolerance + 100 (z SE +
 * (p_b - p_c) - (p~_b - p~_c))): the tolerance plus the sampling noise at
 * these counts.
 * The +1/+2 keeps the width non-zero at 0% and 100%, so a 5-sample cell
 * falling from 100 to 80 passes while a 500-sample one fails. */
#ifndef LCX_RESULTS_CHECK_H
#define LCX_RESULTS_CHECK_H

#include <stdio.h>

#include "common/err.h"
#include "results/report.h"

typedef struct lcx_check_cell {
    char task[64];
    size_t length;
    double baseline, current; /* scores, 0..100 */
    size_t n_baseline, n_current;
    double drop;              /* baseline - current, points */
    double allowed;           /* largest drop that passes, points */
    double lower;             /* 100 L: lower bound on the true drop, points */
    int regressed;
} lcx_check_cell;

typedef struct lcx_check_result {
    lcx_check_cell *cells;
    size_t n;
    size_t n_regressed;
    double tolerance, confidence, z;
} lcx_check_result;

/* Phi^-1(p) for 0 < p < 1 (bisection on erfc to 1e-12). */
double lcx_normal_quantile(double p);

/* The test on one cell; fills the numbers of out (not task/length). */
void lcx_check_eval(double baseline, size_t n_baseline, double current, size_t n_current,
                    double tolerance, double z, lcx_check_cell *out);

/* Compare every cell of baseline with current. LCX_EINPUT when the lengths
 * differ or a baseline cell is missing from current. */
int lcx_check_runs(const lcx_run *baseline, const lcx_run *current, double tolerance,
                   double confidence, lcx_check_result *res, lcx_err *err);

/* One line "OK: ..." when nothing regressed, else the list of regressions. */
void lcx_check_print(FILE *fp, const lcx_check_result *res, const lcx_run *baseline,
                     const lcx_run *current);

void lcx_check_result_free(lcx_check_result *res);

#endif
