/* Tests of common/svg.c and results/plot.c: escaping, ticks and labels, the
 * data-to-pixel mapping on a hand-computed case, gaps at missing points, the
 * heatmap's colours and marks, the probe panels, and bad input (an error and
 * no file). tests/test_plot_svg.sh parses whole documents as XML. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/fsio.h"
#include "common/svg.h"
#include "results/plot.h"
#include "train/trainer.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The value of attribute `name` in the element containing `at`. */
static double attr_in(const char *svg, const char *at, const char *name)
{
    const char *p = strstr(svg, at);
    if (!p)
        return NAN;
    const char *end = strchr(p, '>');
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    while (p > svg && *p != '<')
        p--;
    const char *q = strstr(p, key);
    if (!q || q > end)
        return NAN;
    return strtod(q + strlen(key), NULL);
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

TEST(escapes_text)
{
    strbuf sb;
    sb_init(&sb);
    lcx_svg_escape(&sb, "a<b&\"c\" 'd' >\x01");
    CHECK_STR(sb_str(&sb), "a&lt;b&amp;&quot;c&quot; &apos;d&apos; &gt; ");
    sb_clear(&sb);
    lcx_svg_text(&sb, 10, 20, "middle", "fill=\"red\"", "x<y");
    CHECK_STR(sb_str(&sb), "<text x=\"10.0\" y=\"20.0\" text-anchor=\"middle\" fill=\"red\">x&lt;y</text>\n");
    sb_free(&sb);

    const double x[] = {512, 1024}, y[] = {50, 60};
    const lcx_plot_series s[] = {{"a<b&\"c\"", 2, x, y}};
    char *svg = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_plot_scores_svg_str("t<1> & \"2\"", s, 1, 0, &svg, &err), 0);
    CHECK(svg && strstr(svg, ">a&lt;b&amp;&quot;c&quot;</text>"));
    CHECK(svg && strstr(svg, ">t&lt;1&gt; &amp; &quot;2&quot;</text>"));
    CHECK(svg && !strstr(svg, "a<b") && !strstr(svg, "t<1"));
    free(svg);
}

TEST(ticks_and_labels)
{
    CHECK_NEAR(lcx_svg_nice_step(10, 5), 2, 1e-12);
    CHECK_NEAR(lcx_svg_nice_step(1200, 6), 200, 1e-9);
    CHECK_NEAR(lcx_svg_nice_step(0.9, 5), 0.2, 1e-12);
    CHECK_NEAR(lcx_svg_nice_step(7, 2), 5, 1e-12);
    CHECK_NEAR(lcx_svg_nice_step(0, 5), 1, 0);
    double t[16];
    CHECK_INT(lcx_svg_tick_values(0, 1, 0.2, t, 16), 6);
    CHECK_NEAR(t[5], 1.0, 1e-12);
    CHECK_INT(lcx_svg_tick_values(3, 17, 5, t, 16), 3); /* 5, 10, 15 */
    CHECK_NEAR(t[0], 5, 0);
    CHECK_INT(lcx_svg_tick_values(0, 100, 20, t, 3), 3); /* capped */
    char b[32];
    lcx_svg_fmt_num(b, sizeof b, 0.6000000001, 0.2);
    CHECK_STR(b, "0.6");
    lcx_svg_fmt_num(b, sizeof b, -1e-17, 0.2);
    CHECK_STR(b, "0.0");
    lcx_svg_fmt_num(b, sizeof b, 400, 200);
    CHECK_STR(b, "400");
    lcx_svg_fmt_num(b, sizeof b, 0.05, 0.05);
    CHECK_STR(b, "0.05");
    const struct {
        double v;
        const char *s;
    } len[] = {{512, "512"},   {1024, "1K"},      {1536, "1.5K"},   {2048, "2K"},
               {4096, "4K"},   {131072, "128K"},  {1048576, "1M"},  {3000, "3000"}};
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) {
        lcx_svg_fmt_len(b, sizeof b, len[i].v, 0);
        CHECK_STR(b, len[i].s);
    }
    lcx_svg_fmt_si(b, sizeof b, 1000, 1);
    CHECK_STR(b, "1K");
    lcx_svg_fmt_si(b, sizeof b, 10, 1);
    CHECK_STR(b, "10");
    lcx_svg_fmt_si(b, sizeof b, 0.1, 1);
    CHECK_STR(b, "0.1");
    lcx_svg_fmt_si(b, sizeof b, 250, 50);
    CHECK_STR(b, "250");
}

TEST(axes_map_data_to_pixels)
{
    lcx_svg_axes a = {.x = 100, .y = 50, .w = 400, .h = 200, .x0 = 256, .x1 = 4096, .y0 = 0,
                      .y1 = 100, .xlog2 = 1};
    CHECK_NEAR(lcx_svg_px(&a, 256), 100, 1e-9);
    CHECK_NEAR(lcx_svg_px(&a, 1024), 300, 1e-9); /* 2 of 4 octaves */
    CHECK_NEAR(lcx_svg_px(&a, 512), 200, 1e-9);
    CHECK_NEAR(lcx_svg_py(&a, 0), 250, 1e-9);
    CHECK_NEAR(lcx_svg_py(&a, 75), 100, 1e-9);
    a.ylog10 = 1;
    a.y0 = 1;
    a.y1 = 1000;
    CHECK_NEAR(lcx_svg_py(&a, 10), 250 - 200.0 / 3, 1e-9);
}

/* Lengths 512, 2048, 8192: the axis runs half an octave past each end, 5
 * octaves in all, so 512 sits at 0.1 of the width, 2048 at the middle and
 * 8192 at 0.9; scores 0, 50, 100 at the bottom, middle and top. */
TEST(scores_points_land_where_computed)
{
    const double x[] = {8192, 512, 2048}, y[] = {100, 0, 50}; /* any order */
    const lcx_plot_series s[] = {{"base", 3, x, y}};
    char *svg = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_plot_scores_svg_str("t", s, 1, 0, &svg, &err), 0);
    if (!svg)
        return;
    double ax = attr_in(svg, "class=\"plot-area\"", "x"), ay = attr_in(svg, "class=\"plot-area\"", "y");
    double aw = attr_in(svg, "class=\"plot-area\"", "width");
    double ah = attr_in(svg, "class=\"plot-area\"", "height");
    CHECK(aw > 100 && ah > 100);
    CHECK_NEAR(attr_in(svg, "data-x=\"2048\"", "cx"), ax + aw / 2, 0.051);
    CHECK_NEAR(attr_in(svg, "data-x=\"2048\"", "cy"), ay + ah / 2, 0.051);
    CHECK_NEAR(attr_in(svg, "data-x=\"512\"", "cx"), ax + 0.1 * aw, 0.051);
    CHECK_NEAR(attr_in(svg, "data-x=\"512\"", "cy"), ay + ah, 0.051);
    CHECK_NEAR(attr_in(svg, "data-x=\"8192\"", "cx"), ax + 0.9 * aw, 0.051);
    CHECK_NEAR(attr_in(svg, "data-x=\"8192\"", "cy"), ay, 0.051);
    /* one line, drawn left to right */
    CHECK_INT(count(svg, "class=\"line s0\""), 1);
    char pts[128];
    snprintf(pts, sizeof pts, "points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"", ax + 0.1 * aw, ay + ah,
             ax + aw / 2, ay + ah / 2, ax + 0.9 * aw, ay);
    CHECK_MSG(strstr(svg, pts) != NULL, "%s not in the document", pts);
    /* length labels */
    CHECK(strstr(svg, ">512</text>") && strstr(svg, ">2K</text>") && strstr(svg, ">8K</text>"));
    CHECK(!strstr(svg, "beyond original context"));
    free(svg);
}

TEST(missing_scores_leave_gaps)
{
    const double x[] = {512, 1024, 2048, 4096, 8192}, y[] = {10, 20, NAN, 30, 40};
    const double y2[] = {NAN, 50, NAN, 60, NAN};
    const lcx_plot_series s[] = {{"a", 5, x, y}, {"b", 5, x, y2}};
    char *svg = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_plot_scores_svg_str("t", s, 2, 1024, &svg, &err), 0);
    if (!svg)
        return;
    CHECK_INT(count(svg, "class=\"line s0\""), 2); /* 512-1K and 4K-8K */
    CHECK_INT(count(svg, "class=\"pt s0\""), 4);
    CHECK_INT(count(svg, "class=\"line s1\""), 0); /* no two neighbours present */
    CHECK_INT(count(svg, "class=\"pt s1\""), 2);
    CHECK(!strstr(svg, "data-x=\"2048\" data-y"));
    CHECK(!strstr(svg, "nan") && !strstr(svg, "NAN"));
    CHECK(strstr(svg, "beyond original context (&gt; 1K)"));
    CHECK_INT(count(svg, "class=\"beyond\""), 1);
    free(svg);

    /* the primitive: one polyline per run of two or more points */
    strbuf sb;
    sb_init(&sb);
    lcx_svg_axes a = {.x = 0, .y = 0, .w = 10, .h = 10, .x0 = 0, .x1 = 10, .y0 = 0, .y1 = 10};
    const double px[] = {1, 2, 3, 4, 5, 6}, py[] = {1, NAN, 3, 4, INFINITY, 6};
    lcx_svg_polyline(&sb, &a, 6, px, py, NULL);
    CHECK_STR(sb_str(&sb), "<polyline fill=\"none\" points=\"3.0,7.0 4.0,6.0\"/>\n");
    sb_free(&sb);
}

TEST(heatmap_colours_marks_and_labels)
{
    const char *rows[] = {"x1", "x<2>"}, *cols[] = {"4K", "8K"};
    const double v[] = {0, 100, 55.55, NAN};
    const int best[] = {0, 1, 0, 1}; /* the missing cell cannot be best */
    char *svg = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_plot_heatmap_svg_str("h", "length", "factor", 2, rows, 2, cols, v, best, &svg,
                                       &err),
              0);
    if (!svg)
        return;
    CHECK_INT(count(svg, "class=\"cell\""), 4);
    CHECK_INT(count(svg, "class=\"best\""), 1);
    CHECK(strstr(svg, "fill=\"white\">0.0</text>"));                    /* dark purple cell */
    CHECK(strstr(svg, "fill=\"black\" font-weight=\"bold\">100.0</text>")); /* yellow, best */
    CHECK(strstr(svg, ">55.5</text>") || strstr(svg, ">55.6</text>"));
    CHECK(strstr(svg, ">n/a</text>"));
    CHECK(strstr(svg, ">x&lt;2&gt;</text>"));
    CHECK(strstr(svg, "url(#lcx-viridis)"));
    CHECK(strstr(svg, ">best</text>"));
    free(svg);

    char c[8];
    lcx_svg_viridis(0, c);
    CHECK_STR(c, "#440154");
    lcx_svg_viridis(1, c);
    CHECK_STR(c, "#fde725");
    lcx_svg_viridis(0.5, c);
    CHECK_STR(c, "#26828e");
    lcx_svg_viridis(7, c); /* clamped */
    CHECK_STR(c, "#fde725");
    CHECK_INT(lcx_svg_light("#fde725"), 1);
    CHECK_INT(lcx_svg_light("#440154"), 0);
    CHECK_INT(lcx_svg_light("#ffffff"), 1);
}

TEST(probe_panels_and_no_gate)
{
    const double s0[] = {0.1, 0.6, 0.7}, h0[] = {10, 400, 600};
    const double s1[] = {0.05, NAN, 0.1}, h1[] = {8, 12, 15}, g1[] = {0.4, 0.3, 0.2};
    const lcx_probe_profile p[] = {{"baseline", 3, s0, h0, NULL}, {"gated", 3, s1, h1, g1}};
    char *svg = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_plot_probe_svg_str("probe", p, 2, &svg, &err), 0);
    if (!svg)
        return;
    CHECK_INT(count(svg, "class=\"pt s0 p0\""), 3);
    CHECK_INT(count(svg, "class=\"pt s1 p0\""), 2); /* NAN share: a gap */
    CHECK_INT(count(svg, "class=\"pt s0 p2\""), 0); /* ungated: nothing in the gate panel */
    CHECK_INT(count(svg, "class=\"pt s1 p2\""), 3);
    CHECK(strstr(svg, "no gate:"));
    CHECK(strstr(svg, ">baseline</tspan>"));
    CHECK(strstr(svg, "first-token attention share (%)"));
    CHECK(strstr(svg, ">layer</text>"));
    /* share in percent: 0.6 at layer 1 is 60 */
    CHECK(strstr(svg, "class=\"pt s0 p0\" data-x=\"1\" data-y=\"60\""));
    free(svg);

    const lcx_probe_profile q[] = {{"only", 3, s0, h0, NULL}};
    CHECK_INT(lcx_plot_probe_svg_str(NULL, q, 1, &svg, &err), 0);
    CHECK(svg && strstr(svg, ">no gate</text>"));
    free(svg);
}

TEST(bad_input_errors_and_leaves_no_file)
{
    char dir[] = "/tmp/lcx-test-plot-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char path[256], sub[256], file[256];
    snprintf(path, sizeof path, "%s/out.svg", dir);
    snprintf(file, sizeof file, "%s/file", dir);
    snprintf(sub, sizeof sub, "%s/file/out.svg", dir);
    FILE *f = fopen(file, "w");
    if (f)
        fclose(f);
    lcx_err err = {0};
    const double x[] = {512, 1024}, y[] = {1, 2};
    const double bad_x[] = {512, INFINITY}, nan_x[] = {NAN, 1024}, zero_x[] = {0, 1024};
    const lcx_plot_series ok[] = {{"a", 2, x, y}};
    const lcx_plot_series no_y[] = {{"a", 2, x, NULL}};
    const lcx_plot_series inf_x[] = {{"a", 2, bad_x, y}};
    const lcx_plot_series nanx[] = {{"a", 2, nan_x, y}};
    const lcx_plot_series zerox[] = {{"a", 2, zero_x, y}};
    const lcx_plot_series noname[] = {{NULL, 2, x, y}};
    const lcx_plot_series empty[] = {{"a", 0, NULL, NULL}};

    CHECK_INT(lcx_plot_scores_svg(path, "t", ok, 0, 0, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "no series"));
    CHECK_INT(lcx_plot_scores_svg(path, "t", NULL, 1, 0, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_svg(path, "t", no_y, 1, 0, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_svg(path, "t", inf_x, 1, 0, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "'a'") && strstr(err.msg, "point 1"));
    CHECK_INT(lcx_plot_scores_svg(path, "t", nanx, 1, 0, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_svg(path, "t", zerox, 1, 0, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_svg(path, "t", noname, 1, 0, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_svg(path, "t", empty, 1, 0, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_svg(path, "t", ok, 1, NAN, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_svg(NULL, "t", ok, 1, 0, &err), LCX_EINPUT);

    const char *rl[] = {"r"}, *cl[] = {"c"};
    const double hv[] = {50}, hinf[] = {INFINITY};
    CHECK_INT(lcx_plot_heatmap_svg(path, "h", "x", "y", 0, rl, 1, cl, hv, NULL, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_heatmap_svg(path, "h", "x", "y", 1, rl, 1, cl, NULL, NULL, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_heatmap_svg(path, "h", "x", "y", 1, NULL, 1, cl, hv, NULL, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_heatmap_svg(path, "h", "x", "y", 1, rl, 1, cl, hinf, NULL, &err), LCX_EINPUT);

    const double sh[] = {0.5}, mh[] = {3}, neg[] = {-1};
    const lcx_probe_profile p0[] = {{"m", 0, sh, mh, NULL}};
    const lcx_probe_profile p1[] = {{"m", 1, NULL, mh, NULL}};
    const lcx_probe_profile p2[] = {{"m", 1, sh, neg, NULL}};
    CHECK_INT(lcx_plot_probe_svg(path, "p", p0, 1, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_probe_svg(path, "p", p1, 1, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_probe_svg(path, "p", p2, 1, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_probe_svg(path, "p", NULL, 1, &err), LCX_EINPUT);
    CHECK_INT(dir_entries(dir), 1); /* only "file" */

    /* unwritable paths: an error naming the path, nothing left behind */
    CHECK_INT(lcx_plot_scores_svg(sub, "t", ok, 1, 0, &err), LCX_EIO);
    CHECK(strstr(err.msg, "file/out.svg"));
    CHECK_INT(lcx_plot_heatmap_svg(sub, "h", "x", "y", 1, rl, 1, cl, hv, NULL, &err), LCX_EIO);
    const lcx_probe_profile pg[] = {{"m", 1, sh, mh, NULL}};
    CHECK_INT(lcx_plot_probe_svg(sub, "p", pg, 1, &err), LCX_EIO);
    CHECK_INT(lcx_plot_scores_svg("/nonexistent-lcx-dir/out.svg", "t", ok, 1, 0, &err), LCX_EIO);
    CHECK_INT(dir_entries(dir), 1);

    /* and a good one lands, equal to the string variant */
    CHECK_INT(lcx_plot_scores_svg(path, "t", ok, 1, 600, &err), 0);
    char *disk = NULL, *mem = NULL;
    size_t n = 0;
    CHECK_INT(lcx_read_file(path, &disk, &n, &err), 0);
    CHECK_INT(lcx_plot_scores_svg_str("t", ok, 1, 600, &mem, &err), 0);
    CHECK(disk && mem && strcmp(disk, mem) == 0);
    CHECK(mem && strncmp(mem, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
    CHECK(mem && strstr(mem, "</svg>\n"));
    CHECK_INT(dir_entries(dir), 2);
    free(disk);
    free(mem);
    unlink(path);
    unlink(file);
    rmdir(dir);
}

TEST(training_plot_uses_the_shared_writer)
{
    const char *csv = "step,seq_len,lr,loss,grad_norm,tokens,elapsed_s,heldout_acc,heldout_niah_acc\n"
                      "1,256,0.001,5.0,1,100,0.1,,\n"
                      "2,256,0.001,4.0,1,200,0.2,10.00,20.00\n"
                      "3,512,0.001,3.5,1,300,0.3,,\n"
                      "4,512,0.001,3.0,1,400,0.4,30.00,40.00\n";
    char *svg = NULL;
    lcx_err err = {0};
    CHECK_INT(trainer_plot_svg(csv, &svg, &err), 0);
    if (!svg)
        return;
    CHECK(strncmp(svg, "<?xml", 5) == 0 && strstr(svg, "</svg>\n"));
    CHECK(strstr(svg, ">T=512</text>"));
    CHECK_INT(count(svg, "<polyline"), 2);
    CHECK_INT(count(svg, "<circle"), 2); /* the two accuracy points */
    CHECK(strstr(svg, ">held-out exact match</text>"));
    CHECK(strstr(svg, ">held-out exact match (%)</text>"));
    free(svg);
}

TEST(score_error_bars)
{
    /* bars under the markers, ends clamped to the axis; NAN: no bar */
    const double x[] = {1024, 2048, 4096}, y[] = {80, 50, 10};
    const double lo[] = {60, NAN, -5}, hi[] = {95, 70, 30};
    const lcx_plot_series s[] = {{"a", 3, x, y}};
    const lcx_plot_bars bars[] = {{lo, hi}};
    char *svg = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_plot_scores_bars_svg_str("t", s, bars, 1, 0, &svg, &err), 0);
    if (!svg)
        return;
    CHECK(strstr(svg, "class=\"err s0\" data-x=\"1024\" data-lo=\"60\" data-hi=\"95\"") != NULL);
    CHECK(strstr(svg, "data-x=\"2048\" data-lo") == NULL);
    CHECK(strstr(svg, "class=\"err s0\" data-x=\"4096\" data-lo=\"-5\" data-hi=\"30\"") != NULL);
    /* the bar comes before (under) the point's marker */
    CHECK(strstr(svg, "class=\"err s0\"") < strstr(svg, "class=\"pt s0\""));
    free(svg);
    /* without bars: none */
    CHECK_INT(lcx_plot_scores_bars_svg_str("t", s, NULL, 1, 0, &svg, &err), 0);
    CHECK(svg && strstr(svg, "class=\"err") == NULL);
    free(svg);
    /* lo > hi, an infinite end, one end missing: refused */
    const double bad_lo[] = {96, 0, 0}, inf_hi[] = {INFINITY, 1, 1};
    const lcx_plot_bars b1[] = {{bad_lo, hi}}, b2[] = {{lo, inf_hi}}, b3[] = {{lo, NULL}};
    svg = NULL;
    CHECK_INT(lcx_plot_scores_bars_svg_str("t", s, b1, 1, 0, &svg, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "error bar 96..95 at point 0") != NULL);
    CHECK_INT(lcx_plot_scores_bars_svg_str("t", s, b2, 1, 0, &svg, &err), LCX_EINPUT);
    CHECK_INT(lcx_plot_scores_bars_svg_str("t", s, b3, 1, 0, &svg, &err), LCX_EINPUT);
    CHECK(svg == NULL);
}

int main(void)
{
    RUN(escapes_text);
    RUN(ticks_and_labels);
    RUN(axes_map_data_to_pixels);
    RUN(scores_points_land_where_computed);
    RUN(missing_scores_leave_gaps);
    RUN(heatmap_colours_marks_and_labels);
    RUN(probe_panels_and_no_gate);
    RUN(bad_input_errors_and_leaves_no_file);
    RUN(training_plot_uses_the_shared_writer);
    RUN(score_error_bars);
    return check_summary();
}
