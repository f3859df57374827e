/* Tests of results/stats.c against values computed by hand (in the
 * comments) and published ones: exact McNemar, the sign-flip test by
 * enumeration and by Monte Carlo, Holm and Benjamini-Hochberg, Wilson
 * intervals, the bootstrap. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "results/stats.h"

#define Z95 1.959963984540054

TEST(mcnemar_exact_binomial)
{
    /* b = 0, c = 5: n = 5, k = 0: 2 * C(5,0) / 2^5 = 2/32 = 0.0625 */
    CHECK_NEAR(lcx_stats_mcnemar(0, 5), 0.0625, 1e-12);
    CHECK_NEAR(lcx_stats_mcnemar(5, 0), 0.0625, 1e-12);
    /* b = 1, c = 9: n = 10: 2 * (C(10,0) + C(10,1)) / 1024 = 22/1024 */
    CHECK_NEAR(lcx_stats_mcnemar(1, 9), 0.021484375, 1e-12);
    /* b = 2, c = 8: 2 * (1 + 10 + 45) / 1024 = 112/1024 = 0.109375 */
    CHECK_NEAR(lcx_stats_mcnemar(2, 8), 0.109375, 1e-12);
    /* b = 20, c = 0: 2 / 2^20 */
    CHECK_NEAR(lcx_stats_mcnemar(20, 0), 2.0 / 1048576.0, 1e-15);
    /* balanced tables and no discordant pairs: p = 1 (capped) */
    CHECK_NEAR(lcx_stats_mcnemar(10, 10), 1.0, 1e-12);
    CHECK_NEAR(lcx_stats_mcnemar(0, 0), 1.0, 1e-12);
    /* b = 3, c = 4: 2 * P(X <= 3), X ~ Bin(7, 1/2) = 2 * (1+7+21+35)/128 = 1 */
    CHECK_NEAR(lcx_stats_mcnemar(3, 4), 1.0, 1e-12);
    /* a large table stays finite: 200 vs 260, well inside (0, 1) */
    double p = lcx_stats_mcnemar(200, 260);
    CHECK(p > 0.001 && p < 0.02);
}

TEST(sign_flip_exact)
{
    /* d = (1, 0.5, 0.5): 8 assignments, sums +-1 +-0.5 +-0.5 =
     * 2, 1, 1, 0, 0, -1, -1, -2; |sum| >= 2 in 2 of 8: p = 0.25. */
    double d1[] = {1, 0.5, 0.5};
    lcx_stats_flip f;
    lcx_err err = {0};
    CHECK_INT(lcx_stats_sign_flip(d1, 3, 20, 0, 1, &f, &err), 0);
    CHECK_NEAR(f.p, 0.25, 1e-12);
    CHECK_INT(f.nonzero, 3);
    CHECK_INT(f.exact, 1);
    /* d = (0.5, 0.25, -0.25, 0.75, 0): the 0 is dropped, m = 4, observed
     * sum 1.25. Of the 16 sums of +-0.5 +-0.25 +-0.25 +-0.75, those >= 1.25
     * are 1.75 (all +) and 1.25 (one 0.25 negative: 2 ways): 3; by symmetry
     * 3 more <= -1.25: p = 6/16 = 0.375. */
    double d2[] = {0.5, 0.25, -0.25, 0.75, 0};
    CHECK_INT(lcx_stats_sign_flip(d2, 5, 20, 0, 1, &f, &err), 0);
    CHECK_NEAR(f.p, 0.375, 1e-12);
    CHECK_INT(f.nonzero, 4);
    /* all zero: p = 1 */
    double z[] = {0, 0};
    CHECK_INT(lcx_stats_sign_flip(z, 2, 20, 0, 1, &f, &err), 0);
    CHECK_NEAR(f.p, 1.0, 1e-12);
    /* 0/1 differences: the sign-flip test is the exact binomial test
     * (5 all one way: 2/32). */
    double d3[] = {1, 1, 1, 1, 1, 0, 0};
    CHECK_INT(lcx_stats_sign_flip(d3, 7, 20, 0, 1, &f, &err), 0);
    CHECK_NEAR(f.p, 0.0625, 1e-12);
    /* a NAN is refused */
    double bad[] = {1, NAN};
    CHECK_INT(lcx_stats_sign_flip(bad, 2, 20, 0, 1, &f, &err), LCX_EINPUT);
}

TEST(sign_flip_monte_carlo)
{
    /* d2 again, forced to Monte Carlo: near 0.375 and the same every time. */
    double d2[] = {0.5, 0.25, -0.25, 0.75, 0};
    lcx_stats_flip f, g;
    lcx_err err = {0};
    CHECK_INT(lcx_stats_sign_flip(d2, 5, 2, 20000, 7, &f, &err), 0);
    CHECK_INT(f.exact, 0);
    CHECK_INT(f.draws, 20000);
    CHECK_NEAR(f.p, 0.375, 0.015);
    CHECK_INT(lcx_stats_sign_flip(d2, 5, 2, 20000, 7, &g, &err), 0);
    CHECK(f.p == g.p);
    /* 100 differences all +1: the Monte Carlo p is its floor 1/(draws + 1) */
    double d[100];
    for (int i = 0; i < 100; i++)
        d[i] = 1;
    CHECK_INT(lcx_stats_sign_flip(d, 100, 20, 999, 3, &f, &err), 0);
    CHECK_NEAR(f.p, 1.0 / 1000.0, 1e-15);
    CHECK_INT(lcx_stats_sign_flip(d, 100, 20, 0, 3, &f, &err), LCX_EINPUT);
}

TEST(holm_and_bh)
{
    /* p = (0.01, 0.04, 0.03, 0.005), m = 4; sorted 0.005, 0.01, 0.03, 0.04.
     * Holm: 4*0.005 = 0.02, 3*0.01 = 0.03, 2*0.03 = 0.06, 1*0.04 = 0.04 ->
     * running max 0.02, 0.03, 0.06, 0.06.
     * BH: 0.04*4/4 = 0.04, 0.03*4/3 = 0.04, 0.01*4/2 = 0.02, 0.005*4/1 = 0.02
     * -> running min from the top 0.04, 0.04, 0.02, 0.02.
     * (R: p.adjust(c(.01,.04,.03,.005), "holm") / "BH" give the same.) */
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    lcx_err err = {0};
    CHECK_INT(lcx_stats_adjust(p, 4, LCX_STATS_HOLM, adj, &err), 0);
    CHECK_NEAR(adj[0], 0.03, 1e-12);
    CHECK_NEAR(adj[1], 0.06, 1e-12);
    CHECK_NEAR(adj[2], 0.06, 1e-12);
    CHECK_NEAR(adj[3], 0.02, 1e-12);
    CHECK_INT(lcx_stats_adjust(p, 4, LCX_STATS_BH, adj, &err), 0);
    CHECK_NEAR(adj[0], 0.02, 1e-12);
    CHECK_NEAR(adj[1], 0.04, 1e-12);
    CHECK_NEAR(adj[2], 0.04, 1e-12);
    CHECK_NEAR(adj[3], 0.02, 1e-12);
    /* capped at 1; one p-value is left alone */
    double q[] = {0.5, 0.9}, one[] = {0.2};
    CHECK_INT(lcx_stats_adjust(q, 2, LCX_STATS_HOLM, adj, &err), 0);
    CHECK_NEAR(adj[0], 1.0, 1e-12);
    CHECK_NEAR(adj[1], 1.0, 1e-12);
    CHECK_INT(lcx_stats_adjust(one, 1, LCX_STATS_HOLM, adj, &err), 0);
    CHECK_NEAR(adj[0], 0.2, 1e-12);
    CHECK_INT(lcx_stats_adjust(one, 1, LCX_STATS_BH, adj, &err), 0);
    CHECK_NEAR(adj[0], 0.2, 1e-12);
    double bad[] = {1.5};
    CHECK_INT(lcx_stats_adjust(bad, 1, LCX_STATS_HOLM, adj, &err), LCX_EINPUT);
    CHECK_INT(lcx_stats_correction_parse("holm"), LCX_STATS_HOLM);
    CHECK_INT(lcx_stats_correction_parse("bh"), LCX_STATS_BH);
    CHECK_INT(lcx_stats_correction_parse("bonferroni"), -1);
}

TEST(wilson_published_values)
{
    /* 8/10 at 95%: 0.4902-0.9433 and 0/10: 0-0.2775 (by hand: centre
     * (0.8 + z^2/20) / (1 + z^2/10) = 0.71674, half-width
     * z / 1.38415 * sqrt(0.016 + z^2/400) = 0.22656). Newcombe (1998),
     * "Two-sided confidence intervals for the single proportion", Stat Med
     * 17:857-872, Table I, method 3 (score, no continuity correction):
     * 81/263 0.2553-0.3662, 15/148 0.0624-0.1605, 0/20 0-0.1611,
     * 1/29 0.0061-0.1718. */
    struct {
        size_t k, n;
        double lo, hi;
    } cases[] = {{8, 10, 0.4902, 0.9433},   {0, 10, 0, 0.2775},      {81, 263, 0.2553, 0.3662},
                 {15, 148, 0.0624, 0.1605}, {0, 20, 0, 0.1611},      {1, 29, 0.0061, 0.1718}};
    lcx_err err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double lo, hi;
        CHECK_INT(lcx_stats_wilson(cases[i].k, cases[i].n, Z95, &lo, &hi, &err), 0);
        CHECK_NEAR(lo, cases[i].lo, 5e-5);
        CHECK_NEAR(hi, cases[i].hi, 5e-5);
    }
    double lo, hi;
    CHECK_INT(lcx_stats_wilson(10, 10, Z95, &lo, &hi, &err), 0);
    CHECK_NEAR(lo, 1 - 0.2775, 5e-5);
    CHECK_NEAR(hi, 1.0, 0);
    CHECK_INT(lcx_stats_wilson(0, 0, Z95, &lo, &hi, &err), LCX_EINPUT);
    CHECK_INT(lcx_stats_wilson(3, 2, Z95, &lo, &hi, &err), LCX_EINPUT);
}

TEST(bootstrap_intervals)
{
    lcx_err err = {0};
    double lo, hi, lo2, hi2;
    /* a constant sample has a zero-width interval */
    double c[] = {0.5, 0.5, 0.5, 0.5};
    const double *cs[] = {c};
    size_t cn[] = {4};
    CHECK_INT(lcx_stats_bootstrap(cs, cn, 1, 500, 1, 0.95, &lo, &hi, &err), 0);
    CHECK_NEAR(lo, 0.5, 1e-12);
    CHECK_NEAR(hi, 0.5, 1e-12);
    /* 100 samples at 50%: near the Wilson interval 0.4038-0.5962, and the
     * same for the same seed */
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = i % 2;
    const double *xs[] = {x};
    size_t xn[] = {100};
    CHECK_INT(lcx_stats_bootstrap(xs, xn, 1, 2000, 42, 0.95, &lo, &hi, &err), 0);
    CHECK_NEAR(lo, 0.40, 0.03);
    CHECK_NEAR(hi, 0.60, 0.03);
    CHECK_INT(lcx_stats_bootstrap(xs, xn, 1, 2000, 42, 0.95, &lo2, &hi2, &err), 0);
    CHECK(lo == lo2 && hi == hi2);
    /* strata: the mean of stratum means; a constant stratum (1.0) beside
     * the 50% one halves the spread around 0.75 */
    double one[] = {1, 1, 1};
    const double *ss[] = {x, one};
    size_t sn[] = {100, 3};
    CHECK_INT(lcx_stats_bootstrap(ss, sn, 2, 2000, 42, 0.95, &lo, &hi, &err), 0);
    CHECK_NEAR(lo, 0.70, 0.02);
    CHECK_NEAR(hi, 0.80, 0.02);
    CHECK(lo < 0.75 && hi > 0.75);
    size_t zero[] = {0};
    CHECK_INT(lcx_stats_bootstrap(xs, zero, 1, 10, 1, 0.95, &lo, &hi, &err), LCX_EINPUT);
    CHECK_INT(lcx_stats_bootstrap(xs, xn, 1, 0, 1, 0.95, &lo, &hi, &err), LCX_EINPUT);
}

int main(void)
{
    RUN(mcnemar_exact_binomial);
    RUN(sign_flip_exact);
    RUN(sign_flip_monte_carlo);
    RUN(holm_and_bh);
    RUN(wilson_published_values);
    RUN(bootstrap_intervals);
    return check_summary();
}
