/* stats.c: exact McNemar, the paired sign-flip test, Holm and
 * Benjamini-Hochberg, Wilson and bootstrap intervals (see stats.h). */
#include "results/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"

double lcx_stats_mcnemar(size_t b, size_t c)
{
    size_t n = b + c, k = b < c ? b : c;
    if (n == 0)
        return 1.0;
    /* 2 * sum_{i<=k} C(n, i) / 2^n, each term through lgamma so that large
     * n neither overflows nor underflows before the sum. */
    double sum = 0, ln2n = (double)n * log(2.0);
    double lnf = lgamma((double)n + 1);
    for (size_t i = 0; i <= k; i++)
        sum += exp(lnf - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) - ln2n);
    double p = 2 * sum;
    return p > 1 ? 1 : p;
}

int lcx_stats_sign_flip(const double *d, size_t n, size_t exact_max, size_t draws, uint64_t seed,
                        lcx_stats_flip *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    if (exact_max > 30)
        return lcx_errf(err, LCX_EINPUT, "sign-flip: exact enumeration is limited to 2^30");
    size_t m = 0;
    double obs = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(d[i]))
            return lcx_errf(err, LCX_EINPUT, "sign-flip: difference %zu is not a number", i);
        if (d[i] != 0) {
            m++;
            obs += d[i];
            scale += fabs(d[i]);
        }
    }
    out->nonzero = m;
    if (m == 0) {
        out->p = 1.0;
        out->exact = 1;
        return 0;
    }
    double *a = malloc(m * sizeof *a);
    if (!a)
        return lcx_errf(err, LCX_ENOMEM, "sign-flip: out of memory");
    for (size_t i = 0, j = 0; i < n; i++)
        if (d[i] != 0)
            a[j++] = fabs(d[i]);
    /* An assignment counts when |sum| >= |observed|, up to rounding. */
    double target = fabs(obs) - 1e-9 * scale;
    if (m <= exact_max) {
        uint64_t total = (uint64_t)1 << m, hits = 0;
        for (uint64_t mask = 0; mask < total; mask++) {
            double s = 0;
            for (size_t j = 0; j < m; j++)
                s += (mask >> j & 1) ? -a[j] : a[j];
            hits += fabs(s) >= target;
        }
        out->p = (double)hits / (double)total;
        out->exact = 1;
    } else {
        if (draws == 0) {
            free(a);
            return lcx_errf(err, LCX_EINPUT, "sign-flip: %zu non-zero differences need draws > 0", m);
        }
        lcx_rng rng;
        lcx_rng_seed(&rng, seed);
        size_t hits = 0;
        for (size_t k = 0; k < draws; k++) {
            double s = 0;
            uint64_t bits = 0;
            for (size_t j = 0; j < m; j++) {
                if (j % 64 == 0)
                    bits = lcx_rng_next(&rng);
                s += (bits & 1) ? -a[j] : a[j];
                bits >>= 1;
            }
            hits += fabs(s) >= target;
        }
        out->p = (double)(hits + 1) / (double)(draws + 1);
        out->draws = draws;
    }
    free(a);
    return 0;
}

int lcx_stats_correction_parse(const char *s)
{
    if (!strcmp(s, "holm"))
        return LCX_STATS_HOLM;
    if (!strcmp(s, "bh"))
        return LCX_STATS_BH;
    return -1;
}

const char *lcx_stats_correction_name(lcx_stats_correction c)
{
    return c == LCX_STATS_BH ? "Benjamini-Hochberg" : "Holm";
}

typedef struct pv {
    double p;
    size_t i;
} pv;

static int cmp_pv(const void *x, const void *y)
{
    const pv *a = x, *b = y;
    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

int lcx_stats_adjust(const double *p, size_t n, lcx_stats_correction method, double *adj,
                     lcx_err *err)
{
    if (n == 0)
        return 0;
    pv *v = malloc(n * sizeof *v);
    if (!v)
        return lcx_errf(err, LCX_ENOMEM, "p-value adjustment: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1)) {
            free(v);
            return lcx_errf(err, LCX_EINPUT, "p-value adjustment: p[%zu] = %g is not in [0, 1]", i,
                            p[i]);
        }
        v[i] = (pv){p[i], i};
    }
    qsort(v, n, sizeof *v, cmp_pv);
    double m = (double)n;
    if (method == LCX_STATS_HOLM) {
        /* adj_(r) = max_{j <= r} min(1, (m - j + 1) p_(j)), ranks from 1 */
        double run = 0;
        for (size_t r = 0; r < n; r++) {
            double a = fmin(1.0, (m - (double)r) * v[r].p);
            run = fmax(run, a);
            v[r].p = run;
        }
    } else {
        /* adj_(r) = min_{j >= r} min(1, m / j p_(j)) */
        double run = 1;
        for (size_t r = n; r-- > 0;) {
            double a = fmin(1.0, m / (double)(r + 1) * v[r].p);
            run = fmin(run, a);
            v[r].p = run;
        }
    }
    for (size_t r = 0; r < n; r++)
        adj[v[r].i] = v[r].p;
    free(v);
    return 0;
}

int lcx_stats_wilson(size_t k, size_t n, double z, double *lo, double *hi, lcx_err *err)
{
    if (n == 0 || k > n || !(z > 0) || !isfinite(z))
        return lcx_errf(err, LCX_EINPUT, "Wilson interval: %zu of %zu at z = %g", k, n, z);
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double den = 1 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / den;
    double half = z / den * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = k == 0 ? 0 : fmax(0, centre - half);
    *hi = k == n ? 1 : fmin(1, centre + half);
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Quantile u of sorted[0..n), linear between order statistics. */
static double quantile(const double *sorted, size_t n, double u)
{
    double h = u * (double)(n - 1);
    size_t i = (size_t)floor(h);
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (h - (double)i) * (sorted[i + 1] - sorted[i]);
}

int lcx_stats_bootstrap(const double *const *x, const size_t *n, size_t strata, size_t resamples,
                        uint64_t seed, double level, double *lo, double *hi, lcx_err *err)
{
    if (strata == 0 || resamples == 0 || !(level > 0 && level < 1))
        return lcx_errf(err, LCX_EINPUT, "bootstrap: %zu strata, %zu resamples, level %g", strata,
                        resamples, level);
    for (size_t s = 0; s < strata; s++) {
        if (n[s] == 0)
            return lcx_errf(err, LCX_EINPUT, "bootstrap: stratum %zu is empty", s);
        for (size_t i = 0; i < n[s]; i++)
            if (!isfinite(x[s][i]))
                return lcx_errf(err, LCX_EINPUT, "bootstrap: value %zu of stratum %zu is not a number",
                                i, s);
    }
    double *stat = malloc(resamples * sizeof *stat);
    if (!stat)
        return lcx_errf(err, LCX_ENOMEM, "bootstrap: out of memory");
    lcx_rng rng;
    lcx_rng_seed(&rng, seed);
    for (size_t b = 0; b < resamples; b++) {
        double total = 0;
        for (size_t s = 0; s < strata; s++) {
            double sum = 0;
            for (size_t i = 0; i < n[s]; i++)
                sum += x[s][lcx_rng_below(&rng, n[s])];
            total += sum / (double)n[s];
        }
        stat[b] = total / (double)strata;
    }
    qsort(stat, resamples, sizeof *stat, cmp_double);
    double alpha = 1 - level;
    *lo = quantile(stat, resamples, alpha / 2);
    *hi = quantile(stat, resamples, 1 - alpha / 2);
    free(stat);
    return 0;
}
