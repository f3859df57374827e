/* report_plot.c: the report's figures as SVG (lcx report --plot): mean
 * score against length per run, and the attention-sink probe per layer when
 * every run has one. The drawing is results/plot.c's. */
#include "results/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/fsio.h"
#include "results/plot.h"

int lcx_report_plot(const char *dir, const lcx_run *runs, size_t n, double orig_ctx, lcx_err *err)
{
    int rc = lcx_mkdir_p(dir, err);
    if (rc)
        return rc;
    lcx_plot_series *s = calloc(n ? n : 1, sizeof *s);
    lcx_plot_bars *bars = calloc(n ? n : 1, sizeof *bars);
    double **xs = calloc(n ? n : 1, sizeof *xs);
    if (!s || !xs || !bars) {
        free(s);
        free(xs);
        free(bars);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    /* error bars: each mean's 95% interval (report.h, "intervals") */
    lcx_report_ci ci = {0};
    const char **tasks = calloc(1, sizeof *tasks);
    lcx_err ci_err = {0}; /* without intervals the plot has no bars */
    int have_ci = tasks && lcx_report_ci_compute(runs, n, tasks, 0, &ci, &ci_err) == 0;
    if (!tasks)
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        size_t nl = runs[i].n_lengths;
        xs[i] = calloc(3 * (nl ? nl : 1), sizeof **xs);
        if (!xs[i]) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        double *lo = xs[i] + nl, *hi = lo + nl;
        for (size_t j = 0; j < nl; j++) {
            xs[i][j] = (double)runs[i].lengths[j];
            long jr = have_ci ? lcx_run_length_index(&runs[0], runs[i].lengths[j]) : -1;
            const lcx_interval *v = jr >= 0 ? &ci.mean[i * ci.n_lengths + (size_t)jr] : NULL;
            lo[j] = v && v->present ? v->lo : NAN;
            hi[j] = v && v->present ? v->hi : NAN;
        }
        s[i].name = runs[i].name;
        s[i].n = nl;
        s[i].x = xs[i];
        s[i].y = runs[i].means;
        bars[i] = (lcx_plot_bars){lo, hi};
    }
    if (have_ci)
        lcx_report_ci_free(&ci);
    free(tasks);
    char path[4200];
    if (!rc) {
        snprintf(path, sizeof path, "%s/scores.svg", dir);
        rc = lcx_plot_scores_bars_svg(path, "RULER mean score by length (bars: 95% interval)", s,
                                      bars, n, orig_ctx, err);
    }
    for (size_t i = 0; i < n; i++)
        free(xs[i]);
    free(xs);
    free(s);
    free(bars);
    int all_probe = n > 0;
    for (size_t i = 0; i < n; i++)
        all_probe &= runs[i].probe.present;
    if (rc || !all_probe)
        return rc;
    lcx_probe_profile *p = calloc(n, sizeof *p);
    if (!p)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        p[i].name = runs[i].name;
        p[i].n_layers = runs[i].probe.n_layers;
        p[i].sink_share = runs[i].probe.sink_share;
        p[i].max_abs_hidden = runs[i].probe.max_abs_hidden;
        p[i].gate_mean = runs[i].probe.gate_mean;
    }
    snprintf(path, sizeof path, "%s/probe.svg", dir);
    rc = lcx_plot_probe_svg(path, "Attention-sink probe per layer", p, n, err);
    free(p);
    return rc;
}
