/* check.h: the CI regression gate (`lcx check`).
 *
 * Every task x length cell of the baseline is compared with the current run
 * and gets a p-value for "the current run scores the same as the baseline";
 * the p-values of all cells are adjusted together (Holm by default, or
 * Benjamini-Hochberg), and a cell regresses when its adjusted p is below
 * alpha = 1 - confidence and its observed drop exceeds the tolerance.
 *
 * When both runs hold the same samples (the same indices, and each sample's
 * input, answer prefix and answers hash alike; or its answers alone when the
 * records carry no input) the test is paired (results/stats.h):
 *   - cells where every per-sample score is 0 or 1: exact McNemar on the
 *     samples that flipped (two-sided);
 *   - other cells (partial credit): the paired sign-flip test on the
 *     per-sample differences (two-sided).
 * A regressed paired cell lists the samples it lost and won.
 *
 * Otherwise (a report JSON without per-sample records, different samples)
 * the cell falls back to the unpaired test: score p = score / 100 over n
 * samples (x = p * n "successes", not necessarily an integer), and a
 * one-sided Agresti-Caffo bound on the drop p_b - p_c (Agresti & Caffo
 * 2000: add one success and one failure to each sample):
 *
 *   p~_b = (x_b + 1) / (n_b + 2),   p~_c = (x_c + 1) / (n_c + 2)
 *   SE   = sqrt(p~_b (1 - p~_b) / (n_b + 2) + p~_c (1 - p~_c) / (n_c + 2))
 *   L    = (p~_b - p~_c) - z * SE        z = Phi^-1(confidence)
 *
 * Its p-value is 1 - Phi(((p~_b - p~_c) - tolerance / 100) / SE), so that
 * for one cell "p < 1 - confidence" is "100 L > tolerance", the gate lcx
 * check always had. `allowed` is the largest drop that passes one cell on
 * its own: max(tolerance, tolerance + 100 (z SE + (p_b - p_c) - (p~_b -
 * p~_c))). The +1/+2 keeps the width non-zero at 0% and 100%, so a
 * 5-sample cell falling from 100 to 80 passes while a 500-sample one fails. */
#ifndef LCX_RESULTS_CHECK_H
#define LCX_RESULTS_CHECK_H

#include <stdio.h>

#include "common/err.h"
#include "results/report.h"
#include "results/stats.h"

typedef enum {
    LCX_CHECK_UNPAIRED, /* Agresti-Caffo bound, the samples differ */
    LCX_CHECK_MCNEMAR,  /* paired, 0/1 scores */
    LCX_CHECK_SIGNFLIP  /* paired, fractional scores */
} lcx_check_test;

/* "unpaired", "mcnemar", "sign-flip". */
const char *lcx_check_test_name(lcx_check_test t);

typedef struct lcx_check_cell {
    char task[64];
    size_t length;
    double baseline, current; /* scores, 0..100 */
    size_t n_baseline, n_current;
    double drop;              /* baseline - current, points */
    double allowed;           /* unpaired: largest drop that passes one cell alone, points */
    double lower;             /* unpaired: 100 L, lower bound on the true drop, points */
    lcx_check_test test;
    char unpaired_why[160];   /* why the cell is not paired ("" when it is) */
    size_t n_pairs;           /* paired: samples compared */
    size_t lost, won;         /* paired: samples scoring lower / higher now */
    size_t *lost_idx, *won_idx; /* their indices, ascending */
    int exact;                /* sign-flip: enumerated (1) or Monte Carlo (0) */
    size_t draws;             /* sign-flip Monte Carlo draws */
    double p;                 /* the cell's p-value */
    double p_adj;             /* adjusted over all cells */
    int regressed;
} lcx_check_cell;

typedef struct lcx_check_opts {
    double tolerance;     /* points, >= 0 */
    double confidence;    /* alpha = 1 - confidence */
    lcx_stats_correction correction;
    int unpaired;         /* 1: the unpaired test for every cell */
} lcx_check_opts;

typedef struct lcx_check_result {
    lcx_check_cell *cells;
    size_t n;
    size_t n_regressed;
    size_t n_paired;       /* cells with a paired test */
    int by_input;          /* paired cells compared inputs (1) or answers only (0) */
    double tolerance, confidence, z, alpha;
    lcx_stats_correction correction;
} lcx_check_result;

/* Phi^-1(p) for 0 < p < 1 (bisection on erfc to 1e-12). */
double lcx_normal_quantile(double p);

/* The unpaired test on one cell; fills the numbers of out (not task/length)
 * and its p-value (out->p, and out->p_adj = p as if it were alone). */
void lcx_check_eval(double baseline, size_t n_baseline, double current, size_t n_current,
                    double tolerance, double z, lcx_check_cell *out);

/* Compare every cell of baseline with current. LCX_EINPUT when the lengths
 * differ or a baseline cell is missing from current. */
int lcx_check_runs_opts(const lcx_run *baseline, const lcx_run *current, const lcx_check_opts *o,
                        lcx_check_result *res, lcx_err *err);
/* The same with Holm's correction and paired tests where possible. */
int lcx_check_runs(const lcx_run *baseline, const lcx_run *current, double tolerance,
                   double confidence, lcx_check_result *res, lcx_err *err);

/* A first line "OK: ..." or "REGRESSED: ...", then every cell with its
 * test and p-values, the samples each regressed cell lost, and what the
 * tests are. */
void lcx_check_print(FILE *fp, const lcx_check_result *res, const lcx_run *baseline,
                     const lcx_run *current);

void lcx_check_result_free(lcx_check_result *res);

#endif
