/* stats.h: the statistics behind lcx check and lcx report's intervals.
 * Pure functions of their arguments: no global state, random draws from the
 * project's PRNG (common/rng.h) seeded by the caller, so every figure is the
 * same on every machine and run.
 *
 * Tests:
 *   - exact McNemar: for paired 0/1 scores, b samples lost (right before,
 *     wrong now) and c won; under "no change" each discordant pair is a fair
 *     coin, so p = min(1, 2 * P(X <= min(b, c))), X ~ Binomial(b + c, 1/2)
 *     (two-sided; p = 1 when b + c = 0).
 *   - paired sign-flip (permutation) test on differences d_i: under "no
 *     change" each non-zero d_i is as likely to have either sign; the
 *     statistic is |sum d_i| and p is the share of the 2^m sign assignments
 *     of the m non-zero differences whose |sum| is at least the observed one
 *     (two-sided). Exact enumeration when m <= exact_max; otherwise `draws`
 *     random assignments from the seeded PRNG, p = (1 + hits) / (1 + draws)
 *     (never 0, deterministic for a given seed).
 * Multiple comparisons: Holm's step-down (family-wise error rate) or
 * Benjamini-Hochberg (false discovery rate) adjusted p-values.
 * Intervals (as proportions 0..1):
 *   - Wilson score interval for k successes of n;
 *   - percentile bootstrap of a mean of stratum means: each resample draws
 *     n_s values with replacement inside each stratum s, takes each
 *     stratum's mean and averages them over strata (one stratum: the plain
 *     mean). With strata of paired differences it is the paired bootstrap.
 *     Quantiles interpolate linearly between order statistics. */
#ifndef LCX_STATS_H
#define LCX_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* The fixed parameters lcx check and lcx report use (README, "Statistics"). */
#define LCX_STATS_EXACT_MAX 20         /* sign-flip: enumerate up to 2^20 assignments */
#define LCX_STATS_FLIP_DRAWS 20000     /* sign-flip: Monte Carlo draws beyond that */
#define LCX_STATS_RESAMPLES 2000       /* bootstrap resamples */
#define LCX_STATS_LEVEL 0.95           /* two-sided level of every interval */
#define LCX_STATS_SEED 0x6c63782d73746174ull /* "lcx-stat": base seed, mixed per cell */

/* Exact two-sided McNemar p-value of b and c discordant pairs. */
double lcx_stats_mcnemar(size_t b, size_t c);

typedef struct lcx_stats_flip {
    double p;        /* two-sided p-value */
    size_t nonzero;  /* m: the non-zero differences */
    int exact;       /* 1: enumerated all 2^m assignments; 0: Monte Carlo */
    size_t draws;    /* Monte Carlo draws (0 when exact) */
} lcx_stats_flip;

/* Sign-flip test of d[0..n) (NANs refused). Exact when the non-zero
 * differences number at most exact_max (<= 30), else `draws` (> 0) random
 * assignments from a PRNG seeded with seed. */
int lcx_stats_sign_flip(const double *d, size_t n, size_t exact_max, size_t draws, uint64_t seed,
                        lcx_stats_flip *out, lcx_err *err);

typedef enum { LCX_STATS_HOLM, LCX_STATS_BH } lcx_stats_correction;

/* "holm" or "bh"; -1 when neither. */
int lcx_stats_correction_parse(const char *s);
/* "Holm" or "Benjamini-Hochberg". */
const char *lcx_stats_correction_name(lcx_stats_correction c);

/* Adjusted p-values of p[0..n) (each in [0, 1]) into adj[0..n) (may be p). */
int lcx_stats_adjust(const double *p, size_t n, lcx_stats_correction method, double *adj,
                     lcx_err *err);

/* Wilson score interval of k successes in n trials (k <= n, n > 0) with
 * the normal quantile z (1.959964 for 95%). */
int lcx_stats_wilson(size_t k, size_t n, double z, double *lo, double *hi, lcx_err *err);

/* Percentile bootstrap interval (two-sided level, e.g. 0.95) of the mean of
 * stratum means: strata x[s][0..n[s]), n[s] > 0. resamples > 0. */
int lcx_stats_bootstrap(const double *const *x, const size_t *n, size_t strata, size_t resamples,
                        uint64_t seed, double level, double *lo, double *hi, lcx_err *err);

#endif
