/* Tests of results/check.c: the Agresti-Caffo noise bound computed by hand at
 * small and large sample counts, pass, fail, exactly at the tolerance, and
 * the comparison of two runs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "results/check.h"

#define FIX "tests/fixtures/report"
#define Z95 1.6448536269514722

TEST(normal_quantile)
{
    CHECK_NEAR(lcx_normal_quantile(0.95), Z95, 1e-9);
    CHECK_NEAR(lcx_normal_quantile(0.975), 1.9599639845400538, 1e-9);
    CHECK_NEAR(lcx_normal_quantile(0.5), 0.0, 1e-9);
    CHECK(isnan(lcx_normal_quantile(1.0)));
}

TEST(small_n_drop_is_noise)
{
    /* 5 samples, 100 -> 80: p~b = 6/7, p~c = 5/7,
     * SE = sqrt((6/7 * 1/7 + 5/7 * 2/7) / 7) = sqrt(16/343) = 0.2159797,
     * L = 1/7 - 1.6448536 * 0.2159797 = 0.1428571 - 0.3552550 = -0.2123978. */
    lcx_check_cell c;
    lcx_check_eval(100, 5, 80, 5, 0, Z95, &c);
    CHECK_NEAR(c.drop, 20.0, 1e-9);
    CHECK_NEAR(c.lower, 100.0 * (1.0 / 7.0 - Z95 * sqrt(16.0 / 343.0)), 1e-9);
    CHECK_NEAR(c.lower, -21.23978, 1e-4);
    /* allowed = 0 + 100 (z SE + 0.2 - 1/7) = 35.5255 + 5.7143 = 41.2398 */
    CHECK_NEAR(c.allowed, 41.23978, 1e-4);
    CHECK_INT(c.regressed, 0);
}

TEST(large_n_drop_regresses)
{
    /* 500 samples, 100 -> 80: p~b = 501/502, p~c = 401/502,
     * SE^2 = (501 * 1 + 401 * 101) / 502^3 = 41002 / 126506008, SE = 0.0180031,
     * L = 100/502 - 1.6448536 * 0.0180031 = 0.1992032 - 0.0296125 = 0.1695907. */
    lcx_check_cell c;
    lcx_check_eval(100, 500, 80, 500, 0, Z95, &c);
    CHECK_NEAR(c.lower, 100.0 * (100.0 / 502.0 - Z95 * sqrt(41002.0 / 126506008.0)), 1e-9);
    CHECK_NEAR(c.lower, 16.95907, 1e-4);
    CHECK_NEAR(c.allowed, 3.04093, 1e-4);
    CHECK_INT(c.regressed, 1);
    CHECK_INT(c.n_baseline, 500);
    CHECK_INT(c.n_current, 500);
}

TEST(tolerance_is_added_to_the_noise)
{
    lcx_check_cell c;
    /* The bound on the drop is 16.96 points: tolerance 10 fails, 17 passes. */
    lcx_check_eval(100, 500, 80, 500, 10, Z95, &c);
    CHECK_INT(c.regressed, 1);
    CHECK_NEAR(c.allowed, 13.04093, 1e-4);
    lcx_check_eval(100, 500, 80, 500, 17, Z95, &c);
    CHECK_INT(c.regressed, 0);
    CHECK_NEAR(c.allowed, 20.04093, 1e-4);
    /* Exactly at the tolerance: a drop of 20 with tolerance 20 passes. */
    lcx_check_eval(100, 500, 80, 500, 20, Z95, &c);
    CHECK_INT(c.regressed, 0);
    /* A rise never regresses. */
    lcx_check_eval(80, 500, 100, 500, 0, Z95, &c);
    CHECK_INT(c.regressed, 0);
    CHECK_NEAR(c.drop, -20.0, 1e-9);
}

TEST(unpaired_p_value_matches_the_bound)
{
    /* For one cell, p < 1 - confidence exactly when 100 L > tolerance. */
    lcx_check_cell c;
    double tol[] = {0, 10, 15, 17};
    for (size_t i = 0; i < 4; i++) {
        lcx_check_eval(100, 500, 80, 500, tol[i], Z95, &c);
        CHECK_INT(c.p < 0.05, c.lower > tol[i]);
        CHECK_INT(c.regressed, c.p < 0.05);
    }
    /* L = 0 exactly when (p~b - p~c) = z SE: p = 0.05 there. With
     * tolerance = 100 (p~b - p~c - z SE) the bound sits on it. */
    lcx_check_eval(100, 500, 80, 500, 0, Z95, &c);
    double at = c.lower;
    lcx_check_eval(100, 500, 80, 500, at, Z95, &c);
    CHECK_NEAR(c.p, 0.05, 1e-9);
}

TEST(zero_and_full_cells_have_width)
{
    /* 0% vs 0% at n = 5: p~ = 1/7 each, SE = sqrt(2 * (1/7)(6/7) / 7) = 0.1870439;
     * the bound is -z SE = -30.766 points, not 0. */
    lcx_check_cell c;
    lcx_check_eval(0, 5, 0, 5, 0, Z95, &c);
    CHECK_NEAR(c.lower, -100.0 * Z95 * sqrt(12.0 / 343.0), 1e-9);
    CHECK_NEAR(c.allowed, 30.76598, 1e-4);
    CHECK_INT(c.regressed, 0);
    /* Partial credit: 50 -> 25 at n = 4 (x = 2 and 1): p~b = 3/6, p~c = 2/6,
     * SE = sqrt((1/2 * 1/2 + 1/3 * 2/3) / 6) = sqrt(17/216) = 0.2805418. */
    lcx_check_eval(50, 4, 25, 4, 0, Z95, &c);
    CHECK_NEAR(c.lower, 100.0 * (1.0 / 6.0 - Z95 * sqrt(17.0 / 216.0)), 1e-9);
    CHECK_INT(c.regressed, 0);
    /* 100 -> 95 at n = 200 is significant: L = 2.20 points. */
    lcx_check_eval(100, 200, 95, 200, 0, Z95, &c);
    CHECK_NEAR(c.lower, 2.20163, 1e-4);
    CHECK_INT(c.regressed, 1);
}

TEST(runs_pass_and_fail)
{
    lcx_run base, gated;
    lcx_err err = {0};
    CHECK_INT(lcx_run_load(FIX "/base", 85.6, &base, &err), 0);
    CHECK_INT(lcx_run_load(FIX "/gated", 85.6, &gated, &err), 0);
    if (err.code)
        return;
    lcx_check_result res;
    /* gated against the base: every cell rose or held. */
    CHECK_INT(lcx_check_runs(&base, &gated, 0, 0.95, &res, &err), 0);
    CHECK_INT(res.n, 6);
    CHECK_INT(res.n_regressed, 0);
    lcx_check_result_free(&res);
    /* base against gated: drops of up to 50 points at n = 4, all noise:
     * 75 -> 25 is p~ 4/6 -> 2/6, SE = sqrt(2 * (2/9) / 6) = 0.2721655,
     * L = 1/3 - 0.4476776 < 0. */
    CHECK_INT(lcx_check_runs(&gated, &base, 0, 0.95, &res, &err), 0);
    CHECK_INT(res.n_regressed, 0);
    const lcx_check_cell *worst = NULL;
    for (size_t i = 0; i < res.n; i++)
        if (!strcmp(res.cells[i].task, "niah_single_1") && res.cells[i].length == 4096)
            worst = &res.cells[i];
    CHECK(worst != NULL);
    if (worst) {
        CHECK_NEAR(worst->drop, 50.0, 1e-9);
        CHECK_NEAR(worst->lower, 100.0 * (1.0 / 3.0 - Z95 * sqrt(4.0 / 54.0)), 1e-9);
    }
    /* The fixtures hold the same samples: every cell is paired, McNemar;
     * niah_single_1 @ 4096 lost samples 0 and 3 of 4 (p = 2 * 1/4 = 0.5). */
    CHECK_INT(res.n_paired, 6);
    if (worst) {
        CHECK_INT(worst->test, LCX_CHECK_MCNEMAR);
        CHECK_INT(worst->lost, 2);
        CHECK_INT(worst->won, 0);
        CHECK_NEAR(worst->p, 0.5, 1e-12);
        CHECK_INT(worst->lost_idx[0], 0);
        CHECK_INT(worst->lost_idx[1], 3); /* base misses 0 and 3, gated has them */
    }
    lcx_check_result_free(&res);
    /* Unpaired at 50% confidence (z = 0): L = 1/3 > 0 for the 50-point
     * drops; each cell alone would fail, but Holm over six cells (smallest
     * p 0.0952 * 6 = 0.571) passes them all, and Benjamini-Hochberg (step
     * up: 0.276 * 6/5 = 0.331 for the five smallest) fails five. */
    lcx_check_opts o = {0, 0.5, LCX_STATS_HOLM, 1};
    CHECK_INT(lcx_check_runs_opts(&gated, &base, &o, &res, &err), 0);
    CHECK_INT(res.n_paired, 0);
    CHECK_INT(res.n_regressed, 0);
    for (size_t i = 0; i < res.n; i++)
        if (res.cells[i].drop == 50.0)
            CHECK(res.cells[i].lower > 0 && res.cells[i].p < 0.5);
    lcx_check_result_free(&res);
    o.correction = LCX_STATS_BH;
    CHECK_INT(lcx_check_runs_opts(&gated, &base, &o, &res, &err), 0);
    CHECK_INT(res.n_regressed, 5);
    lcx_check_result_free(&res);
    lcx_run_free(&base);
    lcx_run_free(&gated);
}

int main(void)
{
    RUN(normal_quantile);
    RUN(small_n_drop_is_noise);
    RUN(large_n_drop_regresses);
    RUN(tolerance_is_added_to_the_noise);
    RUN(unpaired_p_value_matches_the_bound);
    RUN(zero_and_full_cells_have_width);
    RUN(runs_pass_and_fail);
    return check_summary();
}
