/* svg.h: the SVG primitives every chart in lcx shares (results/plot.c, the
 * training loss plot in train/trainer.c): the document frame, text escaping,
 * "nice" ticks and their labels, axes with grid lines, lines that break at
 * missing points, markers, legends and the colour scales.
 *
 * Everything appends to a strbuf; an allocation failure sets sb->oom, which
 * the caller checks once at the end. Coordinates are SVG pixels, y down. */
#ifndef LCX_SVG_H
#define LCX_SVG_H

#include <stddef.h>

#include "common/strbuf.h"

/* ---- document and text ---- */

/* XML declaration, <svg> with width/height/viewBox, sans-serif 12px, and a
 * white background. */
void lcx_svg_begin(strbuf *sb, double w, double h);
void lcx_svg_end(strbuf *sb);

/* Append s with &, <, >, " and ' escaped (for text and attribute values). */
void lcx_svg_escape(strbuf *sb, const char *s);

/* Rough rendered width in pixels of UTF-8 text in a sans-serif font (0.6 em
 * per character: generous for most fonts, so layout leaves room). */
double lcx_svg_text_width(const char *s, double font_size);

/* <text x y text-anchor attrs>escaped text</text>; anchor is "start",
 * "middle" or "end"; attrs (raw, trusted, may be NULL) is added verbatim. */
void lcx_svg_text(strbuf *sb, double x, double y, const char *anchor, const char *attrs,
                  const char *text);
/* The same, with the text rotated by deg degrees about (x, y). */
void lcx_svg_text_rot(strbuf *sb, double x, double y, double deg, const char *attrs,
                      const char *text);

/* ---- numbers and ticks ---- */

/* A tick step of 1, 2 or 5 x 10^k giving about `target` intervals over range
 * (range <= 0 or not finite: 1). */
double lcx_svg_nice_step(double range, int target);

/* Multiples of step from lo to hi inclusive (within half a step) into out;
 * returns the count (at most max). */
size_t lcx_svg_tick_values(double lo, double hi, double step, double *out, size_t max);

/* A tick label: as many decimals as step needs, never "-0". */
void lcx_svg_fmt_num(char *buf, size_t n, double v, double step);
/* A length in tokens: 512, 1.5K, 2K, 128K, 1M (K = 1024). step is ignored. */
void lcx_svg_fmt_len(char *buf, size_t n, double v, double step);
/* Powers of ten as 1, 10, 100, 1K, 10K, 1M; other values as lcx_svg_fmt_num. */
void lcx_svg_fmt_si(char *buf, size_t n, double v, double step);

typedef void (*lcx_svg_fmt_fn)(char *buf, size_t n, double v, double step);

/* ---- axes ---- */

typedef struct lcx_svg_axes {
    double x, y, w, h;     /* the plot area in pixels */
    double x0, x1, y0, y1; /* data at its left, right, bottom and top edges */
    int xlog2;             /* x on a log2 scale (x0, x1 > 0) */
    int ylog10;            /* y on a log10 scale (y0, y1 > 0) */
} lcx_svg_axes;

double lcx_svg_px(const lcx_svg_axes *a, double x);
double lcx_svg_py(const lcx_svg_axes *a, double y);

enum {
    LCX_SVG_GRID = 1,  /* light grid lines across the plot area */
    LCX_SVG_RIGHT = 2, /* y ticks and labels on the right edge */
    LCX_SVG_NOLABELS = 4
};

/* Ticks (and grid lines) at the given data values, labelled with fmt(v, step). */
void lcx_svg_xticks(strbuf *sb, const lcx_svg_axes *a, const double *v, size_t n, double step,
                    lcx_svg_fmt_fn fmt, int flags);
void lcx_svg_yticks(strbuf *sb, const lcx_svg_axes *a, const double *v, size_t n, double step,
                    lcx_svg_fmt_fn fmt, int flags);
/* The black frame of the plot area (draw it after the grid, before data). */
void lcx_svg_frame(strbuf *sb, const lcx_svg_axes *a);

/* ---- data ---- */

/* The line through points (x[i], y[i]) in the given order, broken where a
 * coordinate is not finite: one <polyline> per run of two or more points.
 * attrs (raw) styles it, e.g. "stroke=\"#0072B2\" stroke-width=\"2\"". */
void lcx_svg_polyline(strbuf *sb, const lcx_svg_axes *a, size_t n, const double *x,
                      const double *y, const char *attrs);

/* Marker shapes, cycled with the palette: circle, square, triangle, diamond,
 * inverted triangle, cross. r is the half-size; attrs (raw) is added. */
enum { LCX_SVG_N_MARKERS = 6 };
void lcx_svg_marker(strbuf *sb, size_t shape, double x, double y, double r, const char *color,
                    const char *attrs);

/* Series colour i (Okabe-Ito, colour-blind safe; cycles after 7). */
const char *lcx_svg_color(size_t i);

/* ---- legends ---- */

typedef struct lcx_svg_legend_item {
    const char *name;
    const char *color;
    int marker;          /* marker shape, or -1 for none */
    double stroke_width; /* line sample width; 0 for no line */
} lcx_svg_legend_item;

/* Size of a legend (vertical: one item a row; else all on one row). */
void lcx_svg_legend_size(const lcx_svg_legend_item *it, size_t n, int horizontal, double *w,
                         double *h);
/* Draw it with its top-left corner at (x, y), in a white box with a grey
 * border when boxed. */
void lcx_svg_legend(strbuf *sb, double x, double y, const lcx_svg_legend_item *it, size_t n,
                    int horizontal, int boxed);

/* ---- colour scales ---- */

/* Viridis at t in [0, 1] (clamped) as "#rrggbb" into out[8]. */
void lcx_svg_viridis(double t, char out[8]);
/* 1 when black text is more readable than white on "#rrggbb". */
int lcx_svg_light(const char *hex);
/* A <linearGradient id=id> running viridis from bottom (0) to top (1); put it
 * inside <defs>. */
void lcx_svg_viridis_gradient(strbuf *sb, const char *id);

#endif
