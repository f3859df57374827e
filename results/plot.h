/* plot.h: the charts lcx writes, as standalone SVG files (common/svg.h draws
 * them). Each writer checks its input first, builds the whole document in
 * memory and writes it atomically: on any error it returns a code with a
 * one-line message and leaves no file behind.
 *
 * The *_str variants return the document instead (caller frees *svg). */
#ifndef LCX_PLOT_H
#define LCX_PLOT_H

#include <stddef.h>

#include "common/err.h"

typedef struct lcx_plot_series {
    const char *name;
    size_t n;
    const double *x; /* lengths, finite and > 0 */
    const double *y; /* scores 0..100; NAN = missing (the line has a gap) */
} lcx_plot_series;

/* Score (0..100) against length (log2 x axis), one line per series; lengths >
 * shade_from are shaded ("beyond the original context"); shade_from <= 0: no
 * shading. Points are drawn in x order whatever the input order. The plot area
 * is the element <rect class="plot-area" .../>; point i of series k is
 * <circle class="pt s<k>" data-x=".." data-y=".." cx=".." cy=".."/> (or another
 * marker shape with the same class and data attributes). */
int lcx_plot_scores_svg(const char *path, const char *title, const lcx_plot_series *s,
                        size_t n_series, double shade_from, lcx_err *err);
int lcx_plot_scores_svg_str(const char *title, const lcx_plot_series *s, size_t n_series,
                            double shade_from, char **svg, lcx_err *err);

/* Error bars of a series: point i spans lo[i]..hi[i] (scores 0..100; NAN
 * in either: no bar; lo <= hi). */
typedef struct lcx_plot_bars {
    const double *lo, *hi;
} lcx_plot_bars;

/* The score chart with an error bar per point: bars[k] belongs to series k
 * (bars NULL, or both its arrays NULL: none). Bar i of series k is
 * <line class="err s<k>" data-lo=".." data-hi=".." .../> under the markers. */
int lcx_plot_scores_bars_svg(const char *path, const char *title, const lcx_plot_series *s,
                             const lcx_plot_bars *bars, size_t n_series, double shade_from,
                             lcx_err *err);
int lcx_plot_scores_bars_svg_str(const char *title, const lcx_plot_series *s,
                                 const lcx_plot_bars *bars, size_t n_series, double shade_from,
                                 char **svg, lcx_err *err);

/* The same chart for other values on a 0..100 scale: the y axis says
 * ylabel instead of "score" (lcx probe's figures against length). */
int lcx_plot_lines_svg(const char *path, const char *title, const char *ylabel,
                       const lcx_plot_series *s, size_t n_series, double shade_from, lcx_err *err);
int lcx_plot_lines_svg_str(const char *title, const char *ylabel, const lcx_plot_series *s,
                           size_t n_series, double shade_from, char **svg, lcx_err *err);

/* Heatmap: rows x cols values (row-major, NAN = missing), 0..100 colour scale,
 * each cell labelled; best[r*cols+c] != 0 marks a cell (may be NULL). */
int lcx_plot_heatmap_svg(const char *path, const char *title, const char *xlabel,
                         const char *ylabel, size_t rows, const char *const *row_labels,
                         size_t cols, const char *const *col_labels, const double *values,
                         const int *best, lcx_err *err);
int lcx_plot_heatmap_svg_str(const char *title, const char *xlabel, const char *ylabel,
                             size_t rows, const char *const *row_labels, size_t cols,
                             const char *const *col_labels, const double *values,
                             const int *best, char **svg, lcx_err *err);

typedef struct lcx_probe_profile {
    const char *name;
    size_t n_layers;
    const double *sink_share;     /* 0..1, per layer */
    const double *max_abs_hidden; /* per layer */
    const double *gate_mean;      /* per layer; NULL when ungated */
} lcx_probe_profile;

/* Per-layer probe profile: three panels (first-token attention share %, max
 * |hidden|, gate mean), one line per model, layer index on x, one shared
 * legend. Ungated models are named in the gate panel as "no gate". NAN values
 * leave gaps. */
int lcx_plot_probe_svg(const char *path, const char *title, const lcx_probe_profile *p,
                       size_t n, lcx_err *err);
int lcx_plot_probe_svg_str(const char *title, const lcx_probe_profile *p, size_t n, char **svg,
                           lcx_err *err);

#endif
