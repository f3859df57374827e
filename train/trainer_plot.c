/* trainer_plot.c: the training log drawn as SVG (loss.svg): the loss and the
 * held-out answer accuracy against the step, the curriculum's stages
 * marked. */
#include "train/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/strbuf.h"
#include "common/svg.h"
#include "train/trainer_log.h"

int trainer_plot_svg(const char *csv, char **svg, lcx_err *err)
{
    trainer_log lg = {0};
    if (trainer_log_parse(csv, &lg)) {
        trainer_log_free(&lg);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    const double W = 820, H = 460, L = 72, R = 78, TOP = 46, BOT = 62;
    const double pw = W - L - R, ph = H - TOP - BOT;
    const char *LOSS = "#1f5fbf", *ACC = "#d9620b";
    double max_step = 1, max_loss = 0;
    /* the points of each line, NAN rows left out so the lines run through */
    size_t n = lg.n, nl = 0, na = 0;
    double *buf = malloc((4 * n + 1) * sizeof *buf);
    if (!buf) {
        trainer_log_free(&lg);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    double *lx = buf, *ly = buf + n, *ax = buf + 2 * n, *ay = buf + 3 * n;
    for (size_t i = 0; i < n; i++) {
        const trainer_log_row *r = &lg.rows[i];
        max_step = fmax(max_step, (double)r->step);
        if (!isnan(r->loss)) {
            max_loss = fmax(max_loss, r->loss);
            lx[nl] = (double)r->step;
            ly[nl++] = r->loss;
        }
        if (!isnan(r->acc)) {
            ax[na] = (double)r->step;
            ay[na++] = r->acc;
        }
    }
    if (max_loss <= 0)
        max_loss = 1;
    double xt = fmax(1, lcx_svg_nice_step(max_step, 6)), yt = lcx_svg_nice_step(max_loss, 5);
    max_step = ceil(max_step / xt) * xt;
    max_loss = ceil(max_loss / yt) * yt;
    lcx_svg_axes a = {.x = L, .y = TOP, .w = pw, .h = ph, .x0 = 0, .x1 = max_step, .y0 = 0,
                      .y1 = max_loss};
    lcx_svg_axes acc = a;
    acc.y1 = 100;
    strbuf sb;
    sb_init(&sb);
    lcx_svg_begin(&sb, W, H);
    lcx_svg_text(&sb, L + pw / 2, 24, "middle", "font-size=\"15\"",
                 "lcx train: loss and held-out answer accuracy");
    /* grid and ticks */
    double tv[64];
    size_t nt = lcx_svg_tick_values(0, max_step, xt, tv, 64);
    lcx_svg_xticks(&sb, &a, tv, nt, xt, lcx_svg_fmt_num, LCX_SVG_GRID);
    nt = lcx_svg_tick_values(0, max_loss, yt, tv, 64);
    lcx_svg_yticks(&sb, &a, tv, nt, yt, lcx_svg_fmt_num, LCX_SVG_GRID);
    nt = lcx_svg_tick_values(0, 100, 20, tv, 64);
    lcx_svg_yticks(&sb, &acc, tv, nt, 20, lcx_svg_fmt_num, LCX_SVG_RIGHT);
    /* curriculum stages, labelled above the plot, clear of the legend */
    for (size_t i = 1; i < n; i++)
        if (lg.rows[i].seq_len != lg.rows[i - 1].seq_len) {
            double x = lcx_svg_px(&a, (double)lg.rows[i].step);
            char lab[32];
            snprintf(lab, sizeof lab, "T=%d", lg.rows[i].seq_len);
            sb_printf(&sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
                           "stroke-dasharray=\"4 3\"/>",
                      x, TOP, x, TOP + ph);
            lcx_svg_text(&sb, x + 3, TOP - 4, "start", "fill=\"#555\" font-size=\"11\"", lab);
        }
    lcx_svg_frame(&sb, &a);
    lcx_svg_text(&sb, L + pw / 2, H - 22, "middle", NULL, "step");
    lcx_svg_text_rot(&sb, 20, TOP + ph / 2, -90, "fill=\"#1f5fbf\"",
                     "training loss (weighted cross-entropy)");
    lcx_svg_text_rot(&sb, W - 22, TOP + ph / 2, 90, "fill=\"#d9620b\"", "held-out exact match (%)");
    /* the lines */
    lcx_svg_polyline(&sb, &a, nl, lx, ly, "stroke=\"#1f5fbf\" stroke-width=\"1\"");
    lcx_svg_polyline(&sb, &acc, na, ax, ay, "stroke=\"#d9620b\" stroke-width=\"2\"");
    for (size_t i = 0; i < na; i++)
        lcx_svg_marker(&sb, 0, lcx_svg_px(&acc, ax[i]), lcx_svg_py(&acc, ay[i]), 2.5, ACC, NULL);
    /* legend, top right inside the plot */
    const lcx_svg_legend_item items[] = {{"training loss", LOSS, -1, 1},
                                         {"held-out exact match", ACC, -1, 2}};
    double legw, legh;
    lcx_svg_legend_size(items, 2, 0, &legw, &legh);
    lcx_svg_legend(&sb, L + pw - 10 - legw, TOP + 6, items, 2, 0, 1);
    lcx_svg_end(&sb);
    free(buf);
    trainer_log_free(&lg);
    if (sb.oom) {
        sb_free(&sb);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    *svg = sb_take(&sb);
    return 0;
}
