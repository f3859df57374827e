/* plot.c: score-by-length, sweep heatmap and probe profile charts as SVG
 * (see plot.h). Input is checked before anything is drawn; the document is
 * built in memory and written atomically. */
#include "results/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "common/strbuf.h"
#include "common/svg.h"

enum { MAX_NAME = 48, MAX_TICKS = 64 };

/* A label of at most MAX_NAME characters: long names (run directories) keep
 * their tail, which is where they differ. */
static void short_name(char *out, size_t n, const char *s)
{
    size_t chars = 0, len = strlen(s);
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    if (chars <= MAX_NAME) {
        snprintf(out, n, "%s", s);
        return;
    }
    const char *p = s + len;
    for (size_t kept = 0; p > s && kept < MAX_NAME - 1;) {
        p--;
        if (((unsigned char)*p & 0xC0) != 0x80)
            kept++;
    }
    snprintf(out, n, "\xe2\x80\xa6%s", p); /* U+2026 */
}

static int finish(strbuf *sb, char **svg, lcx_err *err)
{
    if (sb->oom) {
        sb_free(sb);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    *svg = sb_take(sb);
    return *svg ? 0 : lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
}

static int write_svg(const char *path, int rc, char *svg, lcx_err *err)
{
    if (!rc) {
        rc = lcx_write_file_atomic(path, svg, strlen(svg), err);
        if (rc)
            lcx_err_prefix(err, "plot");
    }
    free(svg);
    return rc;
}

static int check_path(const char *path, lcx_err *err)
{
    if (!path || !*path)
        return lcx_errf(err, LCX_EINPUT, "plot: no output path");
    return 0;
}

/* One data line: the polyline through the finite points (gaps at the rest)
 * and a marker at each finite point. */
static void draw_series(strbuf *sb, const lcx_svg_axes *a, size_t k, size_t n, const double *x,
                        const double *y, double r, const char *cls)
{
    const char *color = lcx_svg_color(k);
    char attrs[160];
    snprintf(attrs, sizeof attrs,
             "class=\"line s%zu%s%s\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"", k,
             cls ? " " : "", cls ? cls : "", color);
    lcx_svg_polyline(sb, a, n, x, y, attrs);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        snprintf(attrs, sizeof attrs,
                 "class=\"pt s%zu%s%s\" data-x=\"%g\" data-y=\"%g\" stroke=\"white\" "
                 "stroke-width=\"1\"",
                 k, cls ? " " : "", cls ? cls : "", x[i], y[i]);
        lcx_svg_marker(sb, k, lcx_svg_px(a, x[i]), lcx_svg_py(a, y[i]), r, color, attrs);
    }
}

/* ---- score against length ---- */

typedef struct xy {
    double x, y, lo, hi;
} xy;

static int cmp_xy(const void *pa, const void *pb)
{
    const xy *a = pa, *b = pb;
    return (a->x > b->x) - (a->x < b->x);
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static int check_series(const lcx_plot_series *s, size_t ns, double *xmin, double *xmax,
                        size_t *total, lcx_err *err)
{
    if (!s || ns == 0)
        return lcx_errf(err, LCX_EINPUT, "plot: no series to plot");
    *xmin = INFINITY;
    *xmax = -INFINITY;
    *total = 0;
    for (size_t k = 0; k < ns; k++) {
        if (!s[k].name)
            return lcx_errf(err, LCX_EINPUT, "plot: series %zu has no name", k);
        if (s[k].n && (!s[k].x || !s[k].y))
            return lcx_errf(err, LCX_EINPUT, "plot: series '%s' has no %s values", s[k].name,
                            s[k].x ? "y" : "x");
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            if (!isfinite(x) || x <= 0)
                return lcx_errf(err, LCX_EINPUT,
                                "plot: series '%s': length %g at point %zu is not a positive number",
                                s[k].name, x, i);
            if (isinf(y))
                return lcx_errf(err, LCX_EINPUT, "plot: series '%s': score at point %zu is %g",
                                s[k].name, i, y);
            *xmin = fmin(*xmin, x);
            *xmax = fmax(*xmax, x);
        }
        *total += s[k].n;
    }
    if (*total == 0)
        return lcx_errf(err, LCX_EINPUT, "plot: no points to plot");
    return 0;
}

/* Length ticks: each distinct data length, left to right, skipping one whose
 * label would touch the previous; then the powers of two in between that fit. */
static size_t length_ticks(const lcx_svg_axes *a, double *xs, size_t nx, double *out, size_t max)
{
    char lab[48];
    size_t n = 0;
    qsort(xs, nx, sizeof *xs, cmp_double);
    double last_right = -INFINITY;
    for (size_t i = 0; i < nx && n < max; i++) {
        if (i && xs[i] == xs[i - 1])
            continue;
        lcx_svg_fmt_len(lab, sizeof lab, xs[i], 0);
        double px = lcx_svg_px(a, xs[i]), half = lcx_svg_text_width(lab, 12) / 2;
        if (px - half < last_right + 8)
            continue;
        out[n++] = xs[i];
        last_right = px + half;
    }
    for (double p = exp2(ceil(log2(a->x0))); p <= a->x1 && n < max; p *= 2) {
        lcx_svg_fmt_len(lab, sizeof lab, p, 0);
        double px = lcx_svg_px(a, p), half = lcx_svg_text_width(lab, 12) / 2;
        int fits = 1;
        for (size_t i = 0; i < n && fits; i++) {
            char other[48];
            lcx_svg_fmt_len(other, sizeof other, out[i], 0);
            double opx = lcx_svg_px(a, out[i]), ohalf = lcx_svg_text_width(other, 12) / 2;
            fits = px + half + 8 <= opx - ohalf || px - half - 8 >= opx + ohalf;
        }
        if (fits)
            out[n++] = p;
    }
    qsort(out, n, sizeof *out, cmp_double);
    return n;
}

static int check_bars(const lcx_plot_series *s, const lcx_plot_bars *bars, size_t ns, lcx_err *err)
{
    for (size_t k = 0; bars && k < ns; k++) {
        if (!bars[k].lo && !bars[k].hi)
            continue;
        if (!bars[k].lo || !bars[k].hi)
            return lcx_errf(err, LCX_EINPUT, "plot: series '%s' has error bars without %s ends",
                            s[k].name, bars[k].lo ? "upper" : "lower");
        for (size_t i = 0; i < s[k].n; i++) {
            double lo = bars[k].lo[i], hi = bars[k].hi[i];
            if (isnan(lo) || isnan(hi))
                continue;
            if (isinf(lo) || isinf(hi) || lo > hi)
                return lcx_errf(err, LCX_EINPUT,
                                "plot: series '%s': error bar %g..%g at point %zu is not an interval",
                                s[k].name, lo, hi, i);
        }
    }
    return 0;
}

/* Vertical bars with caps, clamped to the axis, under the markers. */
static void draw_bars(strbuf *sb, const lcx_svg_axes *a, size_t k, size_t n, const xy *pts)
{
    const char *color = lcx_svg_color(k);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(pts[i].lo) || !isfinite(pts[i].hi) || !isfinite(pts[i].y))
            continue;
        double x = lcx_svg_px(a, pts[i].x);
        double y0 = lcx_svg_py(a, fmin(100, fmax(0, pts[i].lo)));
        double y1 = lcx_svg_py(a, fmin(100, fmax(0, pts[i].hi)));
        sb_printf(sb,
                  "<line class=\"err s%zu\" data-x=\"%g\" data-lo=\"%g\" data-hi=\"%g\" "
                  "x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                  "stroke-width=\"1.5\" stroke-opacity=\"0.7\"/>\n",
                  k, pts[i].x, pts[i].lo, pts[i].hi, x, y0, x, y1, color);
        for (int e = 0; e < 2; e++) {
            double y = e ? y1 : y0;
            sb_printf(sb,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-width=\"1.5\" stroke-opacity=\"0.7\"/>\n",
                      x - 4, y, x + 4, y, color);
        }
    }
}

/* Lines against length on a 0..100 y axis labelled ylabel, with an error
 * bar per point where bars give one: the score chart, and
 * lcx_plot_lines_svg's. */
static int lines_svg(const char *title, const char *ylabel, const lcx_plot_series *s,
                     const lcx_plot_bars *bars, size_t ns, double shade_from, char **svg,
                     lcx_err *err)
{
    if (!svg)
        return lcx_errf(err, LCX_EINTERNAL, "plot: no output");
    *svg = NULL;
    double xmin = 1, xmax = 1;
    size_t total = 0;
    int rc = check_series(s, ns, &xmin, &xmax, &total, err);
    if (!rc)
        rc = check_bars(s, bars, ns, err);
    if (rc)
        return rc;
    if (isnan(shade_from) || isinf(shade_from))
        return lcx_errf(err, LCX_EINPUT, "plot: the original context length is %g", shade_from);
    if (!title)
        title = "Score by length";

    char name[4 * MAX_NAME + 8];
    lcx_svg_legend_item *items = calloc(ns, sizeof *items);
    char *names = calloc(ns, sizeof name);
    xy *pts = malloc(total * sizeof *pts);
    double *px = malloc(2 * total * sizeof *px), *py = px ? px + total : NULL;
    double *xs = malloc(total * sizeof *xs);
    if (!items || !names || !pts || !px || !xs) {
        free(items), free(names), free(pts), free(px), free(xs);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    for (size_t k = 0; k < ns; k++) {
        short_name(names + k * sizeof name, sizeof name, s[k].name);
        items[k] = (lcx_svg_legend_item){names + k * sizeof name, lcx_svg_color(k), (int)k, 2};
    }

    /* Layout: plot area, legend to its right (never over the data). */
    const double L = 64, TOP = 58, PW = 560, PH = 320, BOT = 58;
    double legw, legh;
    lcx_svg_legend_size(items, ns, 0, &legw, &legh);
    double W = L + PW + 24 + legw + 16, H = fmax(TOP + PH + BOT, TOP + legh + 16);
    W = fmax(W, lcx_svg_text_width(title, 15) + 40);
    lcx_svg_axes a = {.x = L, .y = TOP, .w = PW, .h = PH, .y0 = 0, .y1 = 100, .xlog2 = 1};
    a.x0 = exp2(log2(xmin) - 0.5);
    a.x1 = exp2(log2(xmax) + 0.5);

    strbuf sb;
    sb_init(&sb);
    lcx_svg_begin(&sb, W, H);
    lcx_svg_text(&sb, W / 2, 26, "middle", "font-size=\"15\" font-weight=\"bold\"", title);

    /* the region beyond the original context, under the grid and the data */
    if (shade_from > 0 && shade_from < a.x1) {
        double x0 = fmax(a.x, lcx_svg_px(&a, shade_from)), x1 = a.x + a.w;
        char lab[96], len[48];
        lcx_svg_fmt_len(len, sizeof len, shade_from, 0);
        snprintf(lab, sizeof lab, "beyond original context (> %s)", len);
        sb_printf(&sb,
                  "<rect class=\"beyond\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                  "fill=\"#888888\" fill-opacity=\"0.14\"/>\n",
                  x0, a.y, x1 - x0, a.h);
        if (shade_from > a.x0)
            sb_printf(&sb,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
                      "stroke-dasharray=\"5 4\"/>\n",
                      x0, a.y, x0, a.y + a.h);
        double tw = lcx_svg_text_width(lab, 11);
        if (x0 + 4 + tw <= x1)
            lcx_svg_text(&sb, x0 + 4, TOP - 7, "start", "fill=\"#444\" font-size=\"11\"", lab);
        else
            lcx_svg_text(&sb, x1, TOP - 7, "end", "fill=\"#444\" font-size=\"11\"", lab);
    }

    /* axes */
    size_t nx = 0;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++)
            xs[nx++] = s[k].x[i];
    double tv[MAX_TICKS];
    size_t nt = length_ticks(&a, xs, nx, tv, MAX_TICKS);
    lcx_svg_xticks(&sb, &a, tv, nt, 0, lcx_svg_fmt_len, LCX_SVG_GRID);
    nt = lcx_svg_tick_values(0, 100, 20, tv, MAX_TICKS);
    lcx_svg_yticks(&sb, &a, tv, nt, 20, lcx_svg_fmt_num, LCX_SVG_GRID);
    lcx_svg_frame(&sb, &a);
    lcx_svg_text(&sb, a.x + a.w / 2, a.y + a.h + 42, "middle", NULL,
                 "length (tokens, log scale)");
    lcx_svg_text_rot(&sb, 20, a.y + a.h / 2, -90, NULL, ylabel);

    /* the data, in x order, scores clamped to the axis */
    for (size_t k = 0; k < ns; k++) {
        size_t n = s[k].n;
        int has_bars = bars && bars[k].lo && bars[k].hi;
        for (size_t i = 0; i < n; i++)
            pts[i] = (xy){s[k].x[i], s[k].y[i], has_bars ? bars[k].lo[i] : NAN,
                          has_bars ? bars[k].hi[i] : NAN};
        qsort(pts, n, sizeof *pts, cmp_xy);
        draw_bars(&sb, &a, k, n, pts);
        for (size_t i = 0; i < n; i++) {
            px[i] = pts[i].x;
            py[i] = isnan(pts[i].y) ? NAN : fmin(100, fmax(0, pts[i].y));
        }
        draw_series(&sb, &a, k, n, px, py, 4.5, NULL);
    }

    lcx_svg_legend(&sb, a.x + a.w + 24, TOP, items, ns, 0, 1);
    lcx_svg_end(&sb);
    free(items), free(names), free(pts), free(px), free(xs);
    return finish(&sb, svg, err);
}

int lcx_plot_scores_svg_str(const char *title, const lcx_plot_series *s, size_t ns,
                            double shade_from, char **svg, lcx_err *err)
{
    return lines_svg(title, "score", s, NULL, ns, shade_from, svg, err);
}

int lcx_plot_scores_bars_svg_str(const char *title, const lcx_plot_series *s,
                                 const lcx_plot_bars *bars, size_t ns, double shade_from,
                                 char **svg, lcx_err *err)
{
    return lines_svg(title, "score", s, bars, ns, shade_from, svg, err);
}

int lcx_plot_lines_svg_str(const char *title, const char *ylabel, const lcx_plot_series *s,
                           size_t n_series, double shade_from, char **svg, lcx_err *err)
{
    return lines_svg(title, ylabel ? ylabel : "", s, NULL, n_series, shade_from, svg, err);
}

int lcx_plot_lines_svg(const char *path, const char *title, const char *ylabel,
                       const lcx_plot_series *s, size_t n_series, double shade_from, lcx_err *err)
{
    int rc = check_path(path, err);
    if (rc)
        return rc;
    char *svg = NULL;
    rc = lcx_plot_lines_svg_str(title, ylabel, s, n_series, shade_from, &svg, err);
    return write_svg(path, rc, svg, err);
}

int lcx_plot_scores_svg(const char *path, const char *title, const lcx_plot_series *s,
                        size_t n_series, double shade_from, lcx_err *err)
{
    return lcx_plot_scores_bars_svg(path, title, s, NULL, n_series, shade_from, err);
}

int lcx_plot_scores_bars_svg(const char *path, const char *title, const lcx_plot_series *s,
                             const lcx_plot_bars *bars, size_t n_series, double shade_from,
                             lcx_err *err)
{
    int rc = check_path(path, err);
    if (rc)
        return rc;
    char *svg = NULL;
    rc = lcx_plot_scores_bars_svg_str(title, s, bars, n_series, shade_from, &svg, err);
    return write_svg(path, rc, svg, err);
}

/* ---- heatmap ---- */

/* A 14 px key square drawn with attrs, its label to the right. */
static void key_box(strbuf *sb, double x, double y, const char *attrs, const char *label)
{
    sb_printf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" %s/>\n", x, y, attrs);
    lcx_svg_text(sb, x + 20, y + 11, "start", "font-size=\"11\"", label);
}

int lcx_plot_heatmap_svg_str(const char *title, const char *xlabel, const char *ylabel,
                             size_t rows, const char *const *row_labels, size_t cols,
                             const char *const *col_labels, const double *values,
                             const int *best, char **svg, lcx_err *err)
{
    if (!svg)
        return lcx_errf(err, LCX_EINTERNAL, "plot: no output");
    *svg = NULL;
    if (rows == 0 || cols == 0)
        return lcx_errf(err, LCX_EINPUT, "plot: the heatmap has %zu rows and %zu columns", rows,
                        cols);
    if (rows > 4096 || cols > 4096)
        return lcx_errf(err, LCX_EINPUT, "plot: the heatmap is too large (%zu x %zu)", rows, cols);
    if (!row_labels || !col_labels || !values)
        return lcx_errf(err, LCX_EINPUT, "plot: the heatmap has no %s",
                        !values ? "values" : !row_labels ? "row labels" : "column labels");
    for (size_t r = 0; r < rows; r++)
        if (!row_labels[r])
            return lcx_errf(err, LCX_EINPUT, "plot: heatmap row %zu has no label", r);
    for (size_t c = 0; c < cols; c++)
        if (!col_labels[c])
            return lcx_errf(err, LCX_EINPUT, "plot: heatmap column %zu has no label", c);
    for (size_t i = 0; i < rows * cols; i++)
        if (isinf(values[i]))
            return lcx_errf(err, LCX_EINPUT, "plot: heatmap cell (%zu, %zu) is %g", i / cols,
                            i % cols, values[i]);
    if (!title)
        title = "Mean score";
    int has_ylabel = ylabel && *ylabel, has_xlabel = xlabel && *xlabel;

    /* Layout: row labels | cells | colour bar and key. */
    char lab[4 * MAX_NAME + 8];
    double rlw = 0, cw = 64, ch = 34;
    for (size_t r = 0; r < rows; r++) {
        short_name(lab, sizeof lab, row_labels[r]);
        rlw = fmax(rlw, lcx_svg_text_width(lab, 12));
    }
    for (size_t c = 0; c < cols; c++) {
        short_name(lab, sizeof lab, col_labels[c]);
        cw = fmax(cw, lcx_svg_text_width(lab, 12) + 14);
    }
    const double TOP = 48;
    double L = (has_ylabel ? 34 : 12) + rlw + 10;
    double gw = cw * (double)cols, gh = ch * (double)rows;
    double bx = L + gw + 28, bh = fmax(gh, 110), bw = 16;
    int any_missing = 0;
    for (size_t i = 0; i < rows * cols; i++)
        any_missing |= isnan(values[i]);
    double W = bx + fmax(bw + 70, 20 + lcx_svg_text_width("n/a: no data", 11) + 12);
    double H = fmax(TOP + gh + (has_xlabel ? 58 : 36), TOP + bh + 20 + (best ? 22 : 0) + (any_missing ? 22 : 0));
    W = fmax(W, lcx_svg_text_width(title, 15) + 40);

    strbuf sb;
    sb_init(&sb);
    lcx_svg_begin(&sb, W, H);
    sb_puts(&sb, "<defs>\n");
    lcx_svg_viridis_gradient(&sb, "lcx-viridis");
    sb_puts(&sb, "</defs>\n");
    lcx_svg_text(&sb, W / 2, 26, "middle", "font-size=\"15\" font-weight=\"bold\"", title);

    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            double v = values[r * cols + c], x = L + cw * (double)c, y = TOP + ch * (double)r;
            int is_best = best && best[r * cols + c] && !isnan(v);
            char fill[8] = "#f2f2f2", num[32];
            if (!isnan(v))
                lcx_svg_viridis(v / 100, fill);
            sb_printf(&sb,
                      "<rect class=\"cell\" data-row=\"%zu\" data-col=\"%zu\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"white\"/>\n",
                      r, c, x, y, cw, ch, fill);
            if (is_best)
                sb_printf(&sb,
                          "<rect class=\"best\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"none\" stroke=\"black\" stroke-width=\"3\"/>"
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                          "stroke=\"white\" stroke-width=\"1.5\"/>\n",
                          x + 2.5, y + 2.5, cw - 5, ch - 5, x + 5, y + 5, cw - 10, ch - 10);
            const char *tc = isnan(v) ? "#777" : lcx_svg_light(fill) ? "black" : "white";
            char attrs[96];
            snprintf(attrs, sizeof attrs, "fill=\"%s\"%s", tc,
                     is_best ? " font-weight=\"bold\"" : "");
            if (isnan(v))
                snprintf(num, sizeof num, "n/a");
            else
                snprintf(num, sizeof num, "%.1f", v);
            lcx_svg_text(&sb, x + cw / 2, y + ch / 2 + 4, "middle", attrs, num);
        }
    for (size_t r = 0; r < rows; r++) {
        short_name(lab, sizeof lab, row_labels[r]);
        lcx_svg_text(&sb, L - 8, TOP + ch * ((double)r + 0.5) + 4, "end", NULL, lab);
    }
    for (size_t c = 0; c < cols; c++) {
        short_name(lab, sizeof lab, col_labels[c]);
        lcx_svg_text(&sb, L + cw * ((double)c + 0.5), TOP + gh + 18, "middle", NULL, lab);
    }
    if (has_xlabel)
        lcx_svg_text(&sb, L + gw / 2, TOP + gh + 42, "middle", NULL, xlabel);
    if (has_ylabel)
        lcx_svg_text_rot(&sb, 18, TOP + gh / 2, -90, NULL, ylabel);

    /* colour bar: 0 at the bottom, 100 at the top */
    sb_printf(&sb,
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"url(#lcx-viridis)\" "
              "stroke=\"#666\"/>\n",
              bx, TOP, bw, bh);
    lcx_svg_axes bar = {.x = bx, .y = TOP, .w = bw, .h = bh, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 100};
    double tv[MAX_TICKS];
    double bstep = bh >= 140 ? 20 : 25;
    size_t nt = lcx_svg_tick_values(0, 100, bstep, tv, MAX_TICKS);
    lcx_svg_yticks(&sb, &bar, tv, nt, bstep, lcx_svg_fmt_num, LCX_SVG_RIGHT);
    lcx_svg_text(&sb, bx + bw / 2, TOP - 8, "middle", "font-size=\"11\" fill=\"#444\"", "score");
    /* key: the best mark and a missing cell */
    double ky = TOP + bh + 16;
    if (best) {
        key_box(&sb, bx, ky, "fill=\"#3e4989\" stroke=\"black\" stroke-width=\"2.5\"", "best");
        ky += 22;
    }
    if (any_missing)
        key_box(&sb, bx, ky, "fill=\"#f2f2f2\" stroke=\"#999\"", "n/a: no data");
    lcx_svg_end(&sb);
    return finish(&sb, svg, err);
}

int lcx_plot_heatmap_svg(const char *path, const char *title, const char *xlabel,
                         const char *ylabel, size_t rows, const char *const *row_labels,
                         size_t cols, const char *const *col_labels, const double *values,
                         const int *best, lcx_err *err)
{
    int rc = check_path(path, err);
    if (rc)
        return rc;
    char *svg = NULL;
    rc = lcx_plot_heatmap_svg_str(title, xlabel, ylabel, rows, row_labels, cols, col_labels,
                                  values, best, &svg, err);
    return write_svg(path, rc, svg, err);
}

/* ---- probe profile ---- */

static int check_values(const char *name, const char *what, const double *v, size_t n,
                        lcx_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (isinf(v[i]))
            return lcx_errf(err, LCX_EINPUT, "plot: model '%s': %s at layer %zu is %g", name, what,
                            i, v[i]);
    return 0;
}

int lcx_plot_probe_svg_str(const char *title, const lcx_probe_profile *p, size_t n, char **svg,
                           lcx_err *err)
{
    if (!svg)
        return lcx_errf(err, LCX_EINTERNAL, "plot: no output");
    *svg = NULL;
    if (!p || n == 0)
        return lcx_errf(err, LCX_EINPUT, "plot: no probe profiles to plot");
    size_t layers = 0, n_gated = 0;
    double hmax = 0, hmin = INFINITY;
    for (size_t k = 0; k < n; k++) {
        if (!p[k].name)
            return lcx_errf(err, LCX_EINPUT, "plot: probe profile %zu has no name", k);
        if (p[k].n_layers == 0 || p[k].n_layers > 100000)
            return lcx_errf(err, LCX_EINPUT, "plot: model '%s' has %zu layers", p[k].name,
                            p[k].n_layers);
        if (!p[k].sink_share || !p[k].max_abs_hidden)
            return lcx_errf(err, LCX_EINPUT, "plot: model '%s' has no %s values", p[k].name,
                            p[k].sink_share ? "max |hidden|" : "attention share");
        int rc = check_values(p[k].name, "the first-token attention share", p[k].sink_share,
                              p[k].n_layers, err);
        if (!rc)
            rc = check_values(p[k].name, "max |hidden|", p[k].max_abs_hidden, p[k].n_layers, err);
        if (!rc && p[k].gate_mean)
            rc = check_values(p[k].name, "the gate mean", p[k].gate_mean, p[k].n_layers, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < p[k].n_layers; i++) {
            double h = p[k].max_abs_hidden[i];
            if (h < 0)
                return lcx_errf(err, LCX_EINPUT, "plot: model '%s': max |hidden| at layer %zu is %g",
                                p[k].name, i, h);
            if (h > hmax)
                hmax = h;
            if (h > 0 && h < hmin)
                hmin = h;
        }
        layers = p[k].n_layers > layers ? p[k].n_layers : layers;
        n_gated += p[k].gate_mean != NULL;
    }
    if (!title)
        title = "Probe profile by layer";

    char name[4 * MAX_NAME + 8];
    lcx_svg_legend_item *items = calloc(n, sizeof *items);
    char *names = calloc(n, sizeof name);
    double *xs = malloc(2 * layers * sizeof *xs), *ys = xs ? xs + layers : NULL;
    if (!items || !names || !xs) {
        free(items), free(names), free(xs);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    for (size_t k = 0; k < n; k++) {
        short_name(names + k * sizeof name, sizeof name, p[k].name);
        items[k] = (lcx_svg_legend_item){names + k * sizeof name, lcx_svg_color(k), (int)k, 2};
    }

    /* Layout: three panels side by side, the legend centred below them. */
    const double L = 64, TOP = 80, PW = 250, PH = 210, GAP = 78;
    double W = L + 3 * PW + 2 * GAP + 24;
    double legw, legh;
    int horizontal = 1;
    lcx_svg_legend_size(items, n, 1, &legw, &legh);
    if (legw > W - 40) {
        horizontal = 0;
        lcx_svg_legend_size(items, n, 0, &legw, &legh);
    }
    double legy = TOP + PH + 50, H = legy + legh + 16;
    W = fmax(W, fmax(legw + 40, lcx_svg_text_width(title, 15) + 40));

    /* max |hidden| on a log scale when it spans more than two decades */
    int hlog = hmax > 0 && hmax / hmin > 100;
    lcx_svg_axes ax[3];
    for (int j = 0; j < 3; j++)
        ax[j] = (lcx_svg_axes){.x = L + j * (PW + GAP), .y = TOP, .w = PW, .h = PH, .x0 = -0.5,
                               .x1 = (double)layers - 0.5, .y0 = 0, .y1 = 1};
    ax[0].y1 = 100;
    double hstep;
    if (hlog) {
        ax[1].ylog10 = 1;
        ax[1].y0 = pow(10, floor(log10(hmin)));
        ax[1].y1 = pow(10, ceil(log10(hmax)));
        hstep = 1;
    } else {
        hstep = lcx_svg_nice_step(hmax > 0 ? hmax : 1, 5);
        ax[1].y1 = ceil((hmax > 0 ? hmax : 1) / hstep) * hstep;
        if (ax[1].y1 - hmax < 0.05 * hstep) /* headroom: no marker on the frame */
            ax[1].y1 += hstep;
    }
    static const char *const titles[3] = {"first-token attention share (%)", "max |hidden|",
                                          "gate mean"};

    strbuf sb;
    sb_init(&sb);
    lcx_svg_begin(&sb, W, H);
    lcx_svg_text(&sb, W / 2, 26, "middle", "font-size=\"15\" font-weight=\"bold\"", title);
    double xstep = layers > 10 ? lcx_svg_nice_step((double)layers, 8) : 1;
    double tv[MAX_TICKS];
    for (int j = 0; j < 3; j++) {
        const lcx_svg_axes *a = &ax[j];
        size_t nt = lcx_svg_tick_values(0, (double)layers - 1, xstep, tv, MAX_TICKS);
        lcx_svg_xticks(&sb, a, tv, nt, xstep, lcx_svg_fmt_num, LCX_SVG_GRID);
        if (j == 1 && hlog) {
            nt = 0;
            for (double v = a->y0; v <= a->y1 * 1.0001 && nt < MAX_TICKS; v *= 10)
                tv[nt++] = v;
            lcx_svg_yticks(&sb, a, tv, nt, 1, lcx_svg_fmt_si, LCX_SVG_GRID);
        } else {
            double st = j == 0 ? 20 : j == 1 ? hstep : 0.2;
            nt = lcx_svg_tick_values(a->y0, a->y1, st, tv, MAX_TICKS);
            lcx_svg_yticks(&sb, a, tv, nt, st, j == 1 ? lcx_svg_fmt_si : lcx_svg_fmt_num,
                           LCX_SVG_GRID);
        }
        lcx_svg_frame(&sb, a);
        char t[64];
        snprintf(t, sizeof t, "%s%s", titles[j], j == 1 && hlog ? " (log scale)" : "");
        lcx_svg_text(&sb, a->x + a->w / 2, TOP - 26, "middle", "font-weight=\"bold\"", t);
        lcx_svg_text(&sb, a->x + a->w / 2, TOP + PH + 38, "middle", NULL, "layer");
    }

    /* the gate panel names the ungated models */
    if (n_gated == 0) {
        lcx_svg_text(&sb, ax[2].x + ax[2].w / 2, TOP + PH / 2 + 6, "middle",
                     "font-size=\"16\" fill=\"#777\"", "no gate");
    } else if (n_gated < n) {
        double y = TOP - 9;
        sb_printf(&sb, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#444\">no gate:",
                  ax[2].x, y);
        int first = 1;
        for (size_t k = 0; k < n; k++)
            if (!p[k].gate_mean) {
                sb_printf(&sb, "%s<tspan fill=\"%s\">", first ? " " : ", ", lcx_svg_color(k));
                lcx_svg_escape(&sb, items[k].name);
                sb_puts(&sb, "</tspan>");
                first = 0;
            }
        sb_puts(&sb, "</text>\n");
    }

    /* markers shrink when layers crowd: at most a third of their spacing */
    double mr = fmax(1.5, fmin(4.5, PW / (double)layers / 3));
    for (size_t k = 0; k < n; k++) {
        size_t nl = p[k].n_layers;
        for (size_t i = 0; i < nl; i++)
            xs[i] = (double)i;
        for (size_t i = 0; i < nl; i++)
            ys[i] = isnan(p[k].sink_share[i]) ? NAN
                                              : fmin(100, fmax(0, 100 * p[k].sink_share[i]));
        draw_series(&sb, &ax[0], k, nl, xs, ys, mr, "p0");
        for (size_t i = 0; i < nl; i++)
            ys[i] = hlog && !(p[k].max_abs_hidden[i] > 0) ? NAN : p[k].max_abs_hidden[i];
        draw_series(&sb, &ax[1], k, nl, xs, ys, mr, "p1");
        if (p[k].gate_mean) {
            for (size_t i = 0; i < nl; i++)
                ys[i] = isnan(p[k].gate_mean[i]) ? NAN : fmin(1, fmax(0, p[k].gate_mean[i]));
            draw_series(&sb, &ax[2], k, nl, xs, ys, mr, "p2");
        }
    }

    lcx_svg_legend(&sb, (W - legw) / 2, legy, items, n, horizontal, 1);
    lcx_svg_end(&sb);
    free(items), free(names), free(xs);
    return finish(&sb, svg, err);
}

int lcx_plot_probe_svg(const char *path, const char *title, const lcx_probe_profile *p, size_t n,
                       lcx_err *err)
{
    int rc = check_path(path, err);
    if (rc)
        return rc;
    char *svg = NULL;
    rc = lcx_plot_probe_svg_str(title, p, n, &svg, err);
    return write_svg(path, rc, svg, err);
}
