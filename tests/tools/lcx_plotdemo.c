/* lcx_plotdemo OUT_DIR: write one chart of each kind (results/plot.h) with
 * realistic figures, for tests/test_plot_svg.sh and for looking at them in a
 * browser (scripts/svg_screenshot.sh):
 *   scores.svg    baseline vs gated, 512..8K, one missing point, shaded > 512
 *   heatmap.svg   YaRN factor x length, best per length marked, one missing
 *   probe.svg     4 layers, a baseline without a gate against a gated model
 *   odd.svg       names that need escaping, many series, odd lengths
 *   probe_deep.svg  24 layers, no model gated, max |hidden| over 3 decades
 *                   (log scale), one missing layer
 *   heatmap_row.svg one row, six columns, no best mark, no axis labels */
#include <math.h>
#include <stdio.h>

#include "results/plot.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lcx_plotdemo OUT_DIR\n");
        return 2;
    }
    char path[4096];
    lcx_err err = {0};

    const double len[] = {512, 2048, 4096, 8192};
    const double base[] = {96.2, 41.5, 12.3, 3.1}, gated[] = {97.4, 68.8, NAN, 22.6};
    const lcx_plot_series s[] = {{"tiny-baseline", 4, len, base}, {"tiny-gated", 4, len, gated}};
    snprintf(path, sizeof path, "%s/scores.svg", argv[1]);
    if (lcx_plot_scores_svg(path, "Mean RULER score by length (YaRN beyond 512)", s, 2, 512, &err))
        goto fail;

    const char *rows[] = {"factor 1", "factor 2", "factor 4", "factor 8"};
    const char *cols[] = {"512", "2K", "4K", "8K"};
    const double v[] = {96.2, 14.0, 2.5, 0.0,  95.8, 55.1, 20.4, 4.9,
                        93.0, 61.7, 44.9, 18.2, 88.4, 52.3, NAN, 30.6};
    const int best[] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1};
    snprintf(path, sizeof path, "%s/heatmap.svg", argv[1]);
    if (lcx_plot_heatmap_svg(path, "tiny-gated: mean score by YaRN factor", "length (tokens)",
                             "YaRN factor", 4, rows, 4, cols, v, best, &err))
        goto fail;

    const double sb[] = {0.08, 0.62, 0.71, 0.66}, hb[] = {18.5, 412.0, 655.3, 701.9};
    const double sg[] = {0.05, 0.09, 0.12, 0.07}, hg[] = {12.1, 21.4, 25.0, 30.2};
    const double gm[] = {0.41, 0.27, 0.19, 0.23};
    const lcx_probe_profile p[] = {{"tiny-baseline", 4, sb, hb, NULL},
                                   {"tiny-gated", 4, sg, hg, gm}};
    snprintf(path, sizeof path, "%s/probe.svg", argv[1]);
    if (lcx_plot_probe_svg(path, "Attention-sink probe at 2K", p, 2, &err))
        goto fail;

    const double ol[] = {1000, 3000, 16384, 131072}, y0[] = {100, 80, 60, 40};
    const double y1[] = {NAN, 70, NAN, 35}, y2[] = {90, 90, 90, 90}, y3[] = {0, 10, 20, 5};
    const double y4[] = {50, 50, 50, 50}, y5[] = {20, 30, 40, 45}, y6[] = {5, 5, 5, 5};
    const lcx_plot_series o[] = {
        {"a<b&\"c\"", 4, ol, y0},
        {"runs/a-very-long-directory-name/that-keeps-going/and-going/model-yarn-x4", 4, ol, y1},
        {"s2", 4, ol, y2}, {"s3", 4, ol, y3}, {"s4", 4, ol, y4}, {"s5", 4, ol, y5},
        {"s6 'quoted'", 4, ol, y6}};
    snprintf(path, sizeof path, "%s/odd.svg", argv[1]);
    if (lcx_plot_scores_svg(path, "Odd <input> & names", o, 7, 2048, &err))
        goto fail;

    double sa[24], ha[24], sc[24], hc[24];
    for (int i = 0; i < 24; i++) {
        sa[i] = i < 2 ? 0.1 + 0.2 * i : 0.75 + 0.1 * sin(i);
        ha[i] = i < 2 ? 20 + 100 * i : 3000 + 500 * cos(i / 3.0);
        sc[i] = 0.3 + 0.02 * i;
        hc[i] = 8 + i;
    }
    sc[7] = NAN;
    hc[7] = NAN;
    const lcx_probe_profile q[] = {{"qwen-like-baseline", 24, sa, ha, NULL},
                                   {"baseline-yarn-x8", 24, sc, hc, NULL}};
    snprintf(path, sizeof path, "%s/probe_deep.svg", argv[1]);
    if (lcx_plot_probe_svg(path, NULL, q, 2, &err))
        goto fail;

    const char *r1[] = {"attn temperature 0.1"};
    const char *c6[] = {"4K", "8K", "16K", "32K", "64K", "128K"};
    const double v6[] = {100, 88.25, 71.5, 50, 33.3, 0.04};
    snprintf(path, sizeof path, "%s/heatmap_row.svg", argv[1]);
    if (lcx_plot_heatmap_svg(path, NULL, NULL, NULL, 1, r1, 6, c6, v6, NULL, &err))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "lcx_plotdemo: %s\n", err.msg);
    return 1;
}
