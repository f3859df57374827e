/* report_plot.c: the report's figures as SVG (lcx report --plot): mean
 * score against length per run, and the attention-sink probe per layer when
 * every run has one. The drawing is results/plot.c's. */
#include "results/report.h"

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
    double **xs = calloc(n ? n : 1, sizeof *xs);
    if (!s || !xs) {
        free(s);
        free(xs);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !rc; i++) {
        xs[i] = calloc(runs[i].n_lengths ? runs[i].n_lengths : 1, sizeof **xs);
        if (!xs[i]) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < runs[i].n_lengths; j++)
            xs[i][j] = (double)runs[i].lengths[j];
        s[i].name = runs[i].name;
        s[i].n = runs[i].n_lengths;
        s[i].x = xs[i];
        s[i].y = runs[i].means;
    }
    char path[4200];
    if (!rc) {
        snprintf(path, sizeof path, "%s/scores.svg", dir);
        rc = lcx_plot_scores_svg(path, "RULER mean score by length", s, n, orig_ctx, err);
    }
    for (size_t i = 0; i < n; i++)
        free(xs[i]);
    free(xs);
    free(s);
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
