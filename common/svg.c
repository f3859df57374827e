/* svg.c: shared SVG primitives (see svg.h). */
#include "common/svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- document and text ---- */

void lcx_svg_begin(strbuf *sb, double w, double h)
{
    sb_printf(sb,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
              "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
              w, h, w, h);
    sb_printf(sb, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", w, h);
}

void lcx_svg_end(strbuf *sb)
{
    sb_puts(sb, "</svg>\n");
}

void lcx_svg_escape(strbuf *sb, const char *s)
{
    if (!s)
        return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': sb_puts(sb, "&amp;"); break;
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&apos;"); break;
        default:
            /* XML 1.0 forbids most control characters even as references. */
            if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                sb_putc(sb, ' ');
            else
                sb_putc(sb, *p);
        }
    }
}

double lcx_svg_text_width(const char *s, double font_size)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        if ((*p & 0xC0) != 0x80)
            chars++;
    return 0.6 * font_size * (double)chars;
}

void lcx_svg_text(strbuf *sb, double x, double y, const char *anchor, const char *attrs,
                  const char *text)
{
    sb_printf(sb, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
    if (anchor && strcmp(anchor, "start") != 0)
        sb_printf(sb, " text-anchor=\"%s\"", anchor);
    if (attrs && *attrs)
        sb_printf(sb, " %s", attrs);
    sb_putc(sb, '>');
    lcx_svg_escape(sb, text);
    sb_puts(sb, "</text>\n");
}

void lcx_svg_text_rot(strbuf *sb, double x, double y, double deg, const char *attrs,
                      const char *text)
{
    sb_printf(sb, "<text transform=\"translate(%.1f %.1f) rotate(%g)\" text-anchor=\"middle\"", x,
              y, deg);
    if (attrs && *attrs)
        sb_printf(sb, " %s", attrs);
    sb_putc(sb, '>');
    lcx_svg_escape(sb, text);
    sb_puts(sb, "</text>\n");
}

/* ---- numbers and ticks ---- */

double lcx_svg_nice_step(double range, int target)
{
    if (!(range > 0) || !isfinite(range) || target < 1)
        return 1;
    double raw = range / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return mag * (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10);
}

size_t lcx_svg_tick_values(double lo, double hi, double step, double *out, size_t max)
{
    size_t n = 0;
    if (!(step > 0) || !isfinite(lo) || !isfinite(hi))
        return 0;
    for (double k = ceil(lo / step - 1e-9); n < max && k * step <= hi + step * 1e-9; k++)
        out[n++] = k * step;
    return n;
}

void lcx_svg_fmt_num(char *buf, size_t n, double v, double step)
{
    int dec = !(step > 0) || step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 9)
        dec = 9;
    if (fabs(v) < (step > 0 ? step : 1) * 1e-9)
        v = 0;
    snprintf(buf, n, "%.*f", dec, v);
}

void lcx_svg_fmt_len(char *buf, size_t n, double v, double step)
{
    (void)step;
    const double K = 1024, M = 1024 * 1024;
    if (v >= M && fmod(v * 10, M) == 0)
        snprintf(buf, n, "%gM", v / M);
    else if (v >= K && fmod(v * 10, K) == 0)
        snprintf(buf, n, "%gK", v / K);
    else
        snprintf(buf, n, "%.0f", v);
}

void lcx_svg_fmt_si(char *buf, size_t n, double v, double step)
{
    double e = log10(fabs(v));
    if (v > 0 && fabs(e - round(e)) < 1e-9) {
        int k = (int)round(e);
        if (k >= 6)
            snprintf(buf, n, "%.0fM", pow(10, k - 6));
        else if (k >= 3)
            snprintf(buf, n, "%.0fK", pow(10, k - 3));
        else if (k >= 0)
            snprintf(buf, n, "%.0f", pow(10, k));
        else
            snprintf(buf, n, "%.*f", -k, pow(10, k));
        return;
    }
    lcx_svg_fmt_num(buf, n, v, step);
}

/* ---- axes ---- */

static double frac(double v, double lo, double hi, int logscale)
{
    if (logscale) {
        v = log(v);
        lo = log(lo);
        hi = log(hi);
    }
    return hi == lo ? 0.5 : (v - lo) / (hi - lo);
}

double lcx_svg_px(const lcx_svg_axes *a, double x)
{
    return a->x + a->w * frac(x, a->x0, a->x1, a->xlog2);
}

double lcx_svg_py(const lcx_svg_axes *a, double y)
{
    return a->y + a->h * (1 - frac(y, a->y0, a->y1, a->ylog10));
}

void lcx_svg_xticks(strbuf *sb, const lcx_svg_axes *a, const double *v, size_t n, double step,
                    lcx_svg_fmt_fn fmt, int flags)
{
    char lab[48];
    double bot = a->y + a->h;
    for (size_t i = 0; i < n; i++) {
        double x = lcx_svg_px(a, v[i]);
        if (flags & LCX_SVG_GRID)
            sb_printf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>",
                      x, a->y, x, bot);
        sb_printf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>", x,
                  bot, x, bot + 5);
        if (!(flags & LCX_SVG_NOLABELS)) {
            fmt(lab, sizeof lab, v[i], step);
            lcx_svg_text(sb, x, bot + 19, "middle", NULL, lab);
        } else {
            sb_putc(sb, '\n');
        }
    }
}

void lcx_svg_yticks(strbuf *sb, const lcx_svg_axes *a, const double *v, size_t n, double step,
                    lcx_svg_fmt_fn fmt, int flags)
{
    char lab[48];
    int right = flags & LCX_SVG_RIGHT;
    double edge = right ? a->x + a->w : a->x, out = right ? 5 : -5;
    for (size_t i = 0; i < n; i++) {
        double y = lcx_svg_py(a, v[i]);
        if (flags & LCX_SVG_GRID)
            sb_printf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>",
                      a->x, y, a->x + a->w, y);
        sb_printf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>",
                  edge + out, y, edge, y);
        if (!(flags & LCX_SVG_NOLABELS)) {
            fmt(lab, sizeof lab, v[i], step);
            lcx_svg_text(sb, edge + (right ? 8 : -8), y + 4, right ? "start" : "end", NULL, lab);
        } else {
            sb_putc(sb, '\n');
        }
    }
}

void lcx_svg_frame(strbuf *sb, const lcx_svg_axes *a)
{
    sb_printf(sb,
              "<rect class=\"plot-area\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
              "fill=\"none\" stroke=\"black\"/>\n",
              a->x, a->y, a->w, a->h);
}

/* ---- data ---- */

void lcx_svg_polyline(strbuf *sb, const lcx_svg_axes *a, size_t n, const double *x,
                      const double *y, const char *attrs)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !(isfinite(x[i]) && isfinite(y[i])))
            i++;
        size_t j = i;
        while (j < n && isfinite(x[j]) && isfinite(y[j]))
            j++;
        if (j - i >= 2) {
            sb_printf(sb, "<polyline fill=\"none\"%s%s points=\"", attrs ? " " : "",
                      attrs ? attrs : "");
            for (size_t k = i; k < j; k++)
                sb_printf(sb, "%s%.1f,%.1f", k > i ? " " : "", lcx_svg_px(a, x[k]),
                          lcx_svg_py(a, y[k]));
            sb_puts(sb, "\"/>\n");
        }
        i = j;
    }
}

void lcx_svg_marker(strbuf *sb, size_t shape, double x, double y, double r, const char *color,
                    const char *attrs)
{
    const char *sp = attrs && *attrs ? " " : "";
    attrs = attrs ? attrs : "";
    switch (shape % LCX_SVG_N_MARKERS) {
    case 0:
        sb_printf(sb, "<circle%s%s cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", sp, attrs,
                  x, y, r, color);
        break;
    case 1:
        r *= 0.9;
        sb_printf(sb,
                  "<rect%s%s x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                  sp, attrs, x - r, y - r, 2 * r, 2 * r, color);
        break;
    case 2:
        r *= 1.2;
        sb_printf(sb, "<polygon%s%s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", sp,
                  attrs, x, y - r, x + r * 0.866, y + r * 0.5, x - r * 0.866, y + r * 0.5, color);
        break;
    case 3:
        r *= 1.25;
        sb_printf(sb,
                  "<polygon%s%s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n",
                  sp, attrs, x, y - r, x + r, y, x, y + r, x - r, y, color);
        break;
    case 4:
        r *= 1.2;
        sb_printf(sb, "<polygon%s%s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", sp,
                  attrs, x, y + r, x + r * 0.866, y - r * 0.5, x - r * 0.866, y - r * 0.5, color);
        break;
    default: /* an x-shaped cross, drawn as a filled polygon so fill= applies */
    {
        double o = r * 1.05, t = r * 0.35;
        sb_printf(sb,
                  "<polygon%s%s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f "
                  "%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
                  "fill=\"%s\"/>\n",
                  sp, attrs, x - o, y - o + t, x - o + t, y - o, x, y - t, x + o - t, y - o, x + o,
                  y - o + t, x + t, y, x + o, y + o - t, x + o - t, y + o, x, y + t, x - o + t,
                  y + o, x - o, y + o - t, x - t, y, color);
        break;
    }
    }
}

const char *lcx_svg_color(size_t i)
{
    /* Okabe & Ito (2008), without the yellow, which is unreadable on white. */
    static const char *const pal[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000"};
    return pal[i % (sizeof pal / sizeof pal[0])];
}

/* ---- legends ---- */

enum { LEG_ROW = 18, LEG_TOP = 14, LEG_TEXT = 38 };

static double item_width(const lcx_svg_legend_item *it)
{
    return LEG_TEXT + lcx_svg_text_width(it->name, 12);
}

void lcx_svg_legend_size(const lcx_svg_legend_item *it, size_t n, int horizontal, double *w,
                         double *h)
{
    double width = 0;
    for (size_t i = 0; i < n; i++) {
        double iw = item_width(&it[i]);
        if (horizontal)
            width += iw + (i + 1 < n ? 18 : 0);
        else if (iw > width)
            width = iw;
    }
    *w = width + 10;
    *h = LEG_TOP + 12 + (horizontal || n == 0 ? 0 : LEG_ROW * (double)(n - 1));
}

void lcx_svg_legend(strbuf *sb, double x, double y, const lcx_svg_legend_item *it, size_t n,
                    int horizontal, int boxed)
{
    double w, h;
    lcx_svg_legend_size(it, n, horizontal, &w, &h);
    if (boxed)
        sb_printf(sb,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"white\" "
                  "stroke=\"#999\"/>\n",
                  x, y, w, h);
    double cx = x, cy = y + LEG_TOP;
    for (size_t i = 0; i < n; i++) {
        if (it[i].stroke_width > 0) {
            sb_printf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"", cx + 8,
                      cy, cx + 32, cy, it[i].color);
            if (it[i].stroke_width != 1)
                sb_printf(sb, " stroke-width=\"%g\"", it[i].stroke_width);
            sb_puts(sb, "/>");
        }
        if (it[i].marker >= 0)
            lcx_svg_marker(sb, (size_t)it[i].marker, cx + 20, cy, 4, it[i].color, NULL);
        lcx_svg_text(sb, cx + LEG_TEXT, cy + 4, "start", NULL, it[i].name);
        if (horizontal)
            cx += item_width(&it[i]) + 18;
        else
            cy += LEG_ROW;
    }
}

/* ---- colour scales ---- */

static const unsigned char viridis[9][3] = {
    {0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x49, 0x89}, {0x31, 0x68, 0x8e}, {0x26, 0x82, 0x8e},
    {0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6e, 0xce, 0x58}, {0xfd, 0xe7, 0x25}};

void lcx_svg_viridis(double t, char out[8])
{
    if (!(t > 0))
        t = 0;
    if (t > 1)
        t = 1;
    double f = t * 8;
    int i = (int)f;
    if (i > 7)
        i = 7;
    f -= i;
    int c[3];
    for (int k = 0; k < 3; k++)
        c[k] = (int)lround(viridis[i][k] + (viridis[i + 1][k] - viridis[i][k]) * f);
    snprintf(out, 8, "#%02x%02x%02x", c[0] & 0xff, c[1] & 0xff, c[2] & 0xff);
}

static double channel(unsigned v)
{
    double c = v / 255.0;
    return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

int lcx_svg_light(const char *hex)
{
    unsigned r = 0, g = 0, b = 0;
    if (!hex || sscanf(hex, "#%02x%02x%02x", &r, &g, &b) != 3)
        return 1;
    double lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    /* WCAG contrast against black (lum + .05) / .05 vs white 1.05 / (lum + .05). */
    return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05);
}

void lcx_svg_viridis_gradient(strbuf *sb, const char *id)
{
    sb_printf(sb, "<linearGradient id=\"%s\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n", id);
    for (int i = 0; i < 9; i++)
        sb_printf(sb, "<stop offset=\"%g\" stop-color=\"#%02x%02x%02x\"/>\n", i / 8.0,
                  viridis[i][0], viridis[i][1], viridis[i][2]);
    sb_puts(sb, "</linearGradient>\n");
}
