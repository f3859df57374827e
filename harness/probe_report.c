/* probe_report.c: per-layer probe figures and their means (see
 * probe_report.h). */
#include "harness/probe_report.h"

#include <math.h>
#include <stdlib.h>

#include "common/rng.h"

/* ---- lcx probe over many prompts ---- */

const char *lcx_probe_figure_key(int f)
{
    static const char *const keys[LCX_PF_COUNT] = {
        "sink_share", "gu_sink", "entropy", "entropy_norm", "max_abs_hidden", "gate_mean",
        "gate_lt_0_1"};
    return f >= 0 && f < LCX_PF_COUNT ? keys[f] : "?";
}

double lcx_gu_sink_share(const double *head_first_sum, long count, int n_heads, double eps)
{
    if (count <= 0 || n_heads <= 0)
        return 0;
    int over = 0;
    for (int h = 0; h < n_heads; h++)
        over += head_first_sum[h] / (double)count > eps;
    return (double)over / n_heads;
}

void lcx_probe_figures(const lcx_config *c, const lcx_probe *p, double eps, double *out)
{
    int gated = c->gate != LCX_GATE_NONE, L = p->n_layers;
    double *mean = out + (size_t)L * LCX_PF_COUNT;
    for (int f = 0; f < LCX_PF_COUNT; f++)
        mean[f] = 0;
    for (int l = 0; l < L; l++) {
        const lcx_probe_layer *pl = &p->layers[l];
        double *row = out + (size_t)l * LCX_PF_COUNT;
        double ec = pl->entropy_count ? (double)pl->entropy_count : 1;
        row[LCX_PF_SINK] = pl->sink_count ? pl->sink_sum / pl->sink_count : 0;
        row[LCX_PF_GU_SINK] = lcx_gu_sink_share(pl->head_first_sum, pl->head_first_count,
                                                c->n_heads, eps);
        row[LCX_PF_ENTROPY] = pl->entropy_sum / ec;
        row[LCX_PF_ENTROPY_NORM] = pl->entropy_norm_sum / ec;
        row[LCX_PF_MAX_HIDDEN] = pl->max_abs_hidden;
        row[LCX_PF_GATE_MEAN] = !gated ? NAN : pl->gate_count ? pl->gate_sum / pl->gate_count : 0;
        row[LCX_PF_GATE_LOW] = !gated ? NAN
                               : pl->gate_count ? (double)pl->gate_low / pl->gate_count : 0;
        for (int f = 0; f < LCX_PF_COUNT; f++)
            mean[f] += row[f];
    }
    for (int f = 0; f < LCX_PF_COUNT; f++)
        mean[f] /= L ? L : 1;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n) by linear interpolation (type 7). */
static double quantile(const double *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t i = (size_t)h;
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

int lcx_bootstrap_mean(const double *x, size_t n, size_t stride, size_t resamples,
                       unsigned long long seed, lcx_interval *out, lcx_err *err)
{
    if (n == 0 || resamples == 0)
        return lcx_errf(err, LCX_EINPUT, "bootstrap: no values or no resamples");
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i * stride];
    out->mean = sum / (double)n;
    if (isnan(out->mean) || n == 1) {
        out->lo = out->hi = out->mean;
        return 0;
    }
    double *means = malloc(resamples * sizeof *means);
    if (!means)
        return lcx_errf(err, LCX_ENOMEM, "bootstrap: out of memory");
    lcx_rng rng;
    lcx_rng_seed(&rng, seed);
    for (size_t b = 0; b < resamples; b++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += x[lcx_rng_below(&rng, n) * stride];
        means[b] = s / (double)n;
    }
    qsort(means, resamples, sizeof *means, cmp_dbl);
    out->lo = quantile(means, resamples, 0.025);
    out->hi = quantile(means, resamples, 0.975);
    free(means);
    return 0;
}

/* key: mean and key_ci: [lo, hi] of figure f over the prompts, row r. */
static int put_figure(json_t *o, int f, const double *figures, size_t n_prompts, size_t row_stride,
                      size_t r, unsigned long long seed, lcx_err *err)
{
    lcx_interval iv;
    int rc = lcx_bootstrap_mean(figures + r * LCX_PF_COUNT + f, n_prompts, row_stride,
                                LCX_PROBE_RESAMPLES, seed, &iv, err);
    if (rc)
        return rc;
    char ci[32];
    snprintf(ci, sizeof ci, "%s_ci", lcx_probe_figure_key(f));
    json_object_set_new(o, lcx_probe_figure_key(f), json_real(iv.mean));
    json_t *a = json_array();
    json_array_append_new(a, json_real(iv.lo));
    json_array_append_new(a, json_real(iv.hi));
    json_object_set_new(o, ci, a);
    return 0;
}

int lcx_probe_summary(const lcx_config *c, int n_layers, const double *figures, size_t n_prompts,
                      unsigned long long seed, json_t **out, lcx_err *err)
{
    int gated = c->gate != LCX_GATE_NONE, rc = 0;
    size_t row_stride = (size_t)(n_layers + 1) * LCX_PF_COUNT;
    json_t *root = json_object(), *jl = json_array(), *mean = json_object();
    for (int r = 0; r <= n_layers && !rc; r++) {
        json_t *o = r < n_layers ? json_object() : mean;
        if (r < n_layers) {
            json_object_set_new(o, "layer", json_integer(r));
            json_array_append_new(jl, o);
        }
        for (int f = 0; f < LCX_PF_COUNT && !rc; f++)
            if (gated || (f != LCX_PF_GATE_MEAN && f != LCX_PF_GATE_LOW))
                rc = put_figure(o, f, figures, n_prompts, row_stride, (size_t)r, seed, err);
    }
    json_object_set_new(root, "layers", jl);
    json_object_set_new(root, "mean", mean);
    if (rc) {
        json_decref(root);
        root = NULL;
    }
    *out = root;
    return rc;
}

json_t *lcx_probe_report(const lcx_config *c, const lcx_probe *p)
{
    lcx_err err = {0};
    json_t *out = NULL;
    double *fig = malloc((size_t)(p->n_layers + 1) * LCX_PF_COUNT * sizeof *fig);
    if (!fig)
        return NULL;
    lcx_probe_figures(c, p, LCX_PROBE_SINK_EPS, fig);
    if (lcx_probe_summary(c, p->n_layers, fig, 1, 0, &out, &err))
        out = NULL;
    free(fig);
    return out;
}
