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
    lcx_check_result_free(&res);
    /* At 50% confidence (z = 0) a 50-point drop over 4 samples fails:
     * L = 1/3 > 0. */
    CHECK_INT(lcx_check_runs(&gated, &base, 0, 0.5, &res, &err), 0);
    CHECK(res.n_regressed > 0);
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
    RUN(zero_and_full_cells_have_width);
    RUN(runs_pass_and_fail);
    return check_summary();
}
