/* sweep_grid.c: the grid of a sweep directory (lcx sweep, lcx report DIR):
 * sweep.json's settings as rows, lengths as columns, each cell's run loaded
 * leniently; printed in every report format and drawn as a heatmap. */
#include "results/sweep_grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/plot.h"
#include "results/run_dir.h"

void lcx_sweep_grid_free(lcx_sweep_grid *g)
{
    if (!g)
        return;
    for (size_t r = 0; r < g->rows; r++) {
        if (g->row_labels)
            free(g->row_labels[r]);
        if (g->dirs)
            free(g->dirs[r]);
    }
    for (size_t c = 0; c < g->cols; c++)
        if (g->col_labels)
            free(g->col_labels[c]);
    free(g->row_labels);
    free(g->dirs);
    free(g->col_labels);
    free(g->yarn_factor);
    free(g->attn_temperature);
    free(g->lengths);
    free(g->values);
    free(g->best);
    memset(g, 0, sizeof *g);
}

static void setting_text(char *buf, size_t size, json_t *v)
{
    if (json_is_number(v))
        snprintf(buf, size, "%g", json_number_value(v));
    else if (json_is_string(v))
        snprintf(buf, size, "%.60s", json_string_value(v));
    else
        snprintf(buf, size, "-");
}

int lcx_sweep_grid_load(const char *sweep_dir, lcx_sweep_grid *g, lcx_err *err)
{
    memset(g, 0, sizeof *g);
    char path[4200];
    json_t *root;
    int rc = lcx_rundir_read_json(sweep_dir, LCX_RUNDIR_SWEEP_JSON, "an lcx sweep", path,
                                  sizeof path, &root, err);
    if (rc)
        return rc;
    json_t *kind = json_object_get(root, "kind"), *model = json_object_get(root, "model"),
           *lengths = json_object_get(root, "lengths"), *cells = json_object_get(root, "cells");
    if (!json_is_string(kind) || strcmp(json_string_value(kind), "lcx-sweep"))
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'kind' is not \"lcx-sweep\"", path);
    else if (!json_is_array(lengths) || json_array_size(lengths) == 0)
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'lengths' is not a non-empty array", path);
    else if (!json_is_array(cells))
        rc = lcx_errf(err, LCX_EINPUT, "%s: field 'cells' is not an array", path);
    if (rc)
        goto done;
    snprintf(g->model, sizeof g->model, "%s", json_is_string(model) ? json_string_value(model) : "");
    g->cols = json_array_size(lengths);
    g->rows = json_array_size(cells);
    size_t R = g->rows ? g->rows : 1, C = g->cols;
    g->lengths = calloc(C, sizeof *g->lengths);
    g->col_labels = calloc(C, sizeof *g->col_labels);
    g->row_labels = calloc(R, sizeof *g->row_labels);
    g->dirs = calloc(R, sizeof *g->dirs);
    g->yarn_factor = calloc(R, sizeof *g->yarn_factor);
    g->attn_temperature = calloc(R, sizeof *g->attn_temperature);
    g->values = calloc(R * C, sizeof *g->values);
    g->best = calloc(R * C, sizeof *g->best);
    if (!g->lengths || !g->col_labels || !g->row_labels || !g->dirs || !g->yarn_factor ||
        !g->attn_temperature || !g->values || !g->best) {
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < C && !rc; c++) {
        json_t *l = json_array_get(lengths, c);
        if (!json_is_integer(l) || json_integer_value(l) <= 0) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'lengths[%zu]' is not a positive integer", path, c);
            break;
        }
        g->lengths[c] = (size_t)json_integer_value(l);
        char b[32];
        snprintf(b, sizeof b, "%zu", g->lengths[c]);
        if (!(g->col_labels[c] = strdup(b)))
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < g->rows && !rc; r++) {
        json_t *cell = json_array_get(cells, r);
        json_t *yf = json_object_get(cell, "yarn_factor"), *at = json_object_get(cell, "attn_temperature"),
               *dir = json_object_get(cell, "dir");
        if (!json_is_string(dir) || !json_string_length(dir)) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field 'cells[%zu].dir' is not a non-empty string", path, r);
            break;
        }
        g->yarn_factor[r] = json_is_number(yf) ? json_number_value(yf) : NAN;
        g->attn_temperature[r] = json_is_number(at) ? json_number_value(at) : NAN;
        /* "yarn F, temp T"; a dimension the sweep does not vary is left out. */
        char f[64], t[64], label[160], full[4200];
        setting_text(f, sizeof f, yf);
        setting_text(t, sizeof t, at);
        int has_f = json_is_number(yf) || json_is_string(yf), has_t = json_is_number(at) || json_is_string(at);
        if (has_f && has_t)
            snprintf(label, sizeof label, "yarn %s, temp %s", f, t);
        else if (has_f || has_t)
            snprintf(label, sizeof label, "%s %s", has_f ? "yarn" : "temp", has_f ? f : t);
        else
            snprintf(label, sizeof label, "default");
        const char *d = json_string_value(dir);
        if (d[0] == '/')
            snprintf(full, sizeof full, "%s", d);
        else
            snprintf(full, sizeof full, "%s/%s", sweep_dir, d);
        if (!(g->row_labels[r] = strdup(label)) || !(g->dirs[r] = strdup(full))) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        lcx_run run;
        lcx_err rerr = {0};
        int lrc = lcx_run_load_lenient(full, LCX_DEFAULT_THRESHOLD, &run, &rerr);
        if (lrc == LCX_ENOMEM) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            break;
        }
        if (!lrc && !g->n_tasks && run.n_tasks)
            g->n_tasks = run.n_tasks;
        for (size_t c = 0; c < C; c++) {
            long k = lrc ? -1 : lcx_run_length_index(&run, g->lengths[c]);
            g->values[r * C + c] = k >= 0 && run.length_complete[k] ? run.means[k] : NAN;
        }
        if (!lrc)
            lcx_run_free(&run);
    }
    if (rc)
        goto done;
    for (size_t c = 0; c < C; c++) {
        double best = NAN;
        for (size_t r = 0; r < g->rows; r++) {
            double v = g->values[r * C + c];
            if (!isnan(v) && (isnan(best) || v > best))
                best = v;
        }
        for (size_t r = 0; r < g->rows; r++)
            g->best[r * C + c] = !isnan(best) && !isnan(g->values[r * C + c]) &&
                                 g->values[r * C + c] >= best;
    }
done:
    json_decref(root);
    if (rc)
        lcx_sweep_grid_free(g);
    return rc;
}

static size_t grid_label_width(const lcx_sweep_grid *g)
{
    size_t w = strlen("setting");
    for (size_t r = 0; r < g->rows; r++)
        if (strlen(g->row_labels[r]) > w)
            w = strlen(g->row_labels[r]);
    return w;
}

void lcx_sweep_grid_print(FILE *fp, const lcx_sweep_grid *g)
{
    size_t w = grid_label_width(g);
    char tasks[64] = "the tasks";
    if (g->n_tasks)
        snprintf(tasks, sizeof tasks, "%zu task%s", g->n_tasks, g->n_tasks == 1 ? "" : "s");
    fprintf(fp, "sweep%s%s: mean score over %s (* best per length, - not complete)\n",
            g->model[0] ? " of " : "", g->model, tasks);
    fprintf(fp, "%-*s", (int)w, "setting");
    for (size_t c = 0; c < g->cols; c++)
        fprintf(fp, " %9zu ", g->lengths[c]);
    fputc('\n', fp);
    for (size_t r = 0; r < g->rows; r++) {
        fprintf(fp, "%-*s", (int)w, g->row_labels[r]);
        for (size_t c = 0; c < g->cols; c++) {
            double v = g->values[r * g->cols + c];
            if (isnan(v))
                fprintf(fp, " %9s ", "-");
            else
                fprintf(fp, " %9.2f%c", v, g->best[r * g->cols + c] ? '*' : ' ');
        }
        fputc('\n', fp);
    }
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *lcx_sweep_grid_json(const lcx_sweep_grid *g)
{
    json_t *root = json_object(), *lengths = json_array(), *settings = json_array();
    json_object_set_new(root, "kind", json_string("lcx-sweep-grid"));
    json_object_set_new(root, "model", g->model[0] ? json_string(g->model) : json_null());
    for (size_t c = 0; c < g->cols; c++)
        json_array_append_new(lengths, json_integer((json_int_t)g->lengths[c]));
    json_object_set_new(root, "lengths", lengths);
    for (size_t r = 0; r < g->rows; r++) {
        json_t *s = json_object(), *means = json_array(), *best = json_array();
        json_object_set_new(s, "setting", json_string(g->row_labels[r]));
        json_object_set_new(s, "yarn_factor", num_or_null(g->yarn_factor[r]));
        json_object_set_new(s, "attn_temperature", num_or_null(g->attn_temperature[r]));
        json_object_set_new(s, "dir", json_string(g->dirs[r]));
        for (size_t c = 0; c < g->cols; c++) {
            json_array_append_new(means, num_or_null(g->values[r * g->cols + c]));
            json_array_append_new(best, json_boolean(g->best[r * g->cols + c]));
        }
        json_object_set_new(s, "means", means);
        json_object_set_new(s, "best", best);
        json_array_append_new(settings, s);
    }
    json_object_set_new(root, "settings", settings);
    return root;
}

void lcx_sweep_grid_write(FILE *fp, const lcx_sweep_grid *g, lcx_report_format fmt)
{
    switch (fmt) {
    case LCX_FMT_TABLE:
        lcx_sweep_grid_print(fp, g);
        break;
    case LCX_FMT_MARKDOWN:
        fprintf(fp, "Mean score over the tasks%s%s; **bold** = best per length, - = not complete.\n\n",
                g->model[0] ? ", model " : "", g->model);
        fprintf(fp, "| setting |");
        for (size_t c = 0; c < g->cols; c++)
            fprintf(fp, " %zu |", g->lengths[c]);
        fprintf(fp, "\n|---|");
        for (size_t c = 0; c < g->cols; c++)
            fprintf(fp, "---:|");
        fputc('\n', fp);
        for (size_t r = 0; r < g->rows; r++) {
            fprintf(fp, "| %s |", g->row_labels[r]);
            for (size_t c = 0; c < g->cols; c++) {
                double v = g->values[r * g->cols + c];
                if (isnan(v))
                    fprintf(fp, " - |");
                else if (g->best[r * g->cols + c])
                    fprintf(fp, " **%.2f** |", v);
                else
                    fprintf(fp, " %.2f |", v);
            }
            fputc('\n', fp);
        }
        break;
    case LCX_FMT_CSV:
        fprintf(fp, "setting,yarn_factor,attn_temperature,length,mean,best\n");
        for (size_t r = 0; r < g->rows; r++)
            for (size_t c = 0; c < g->cols; c++) {
                double v = g->values[r * g->cols + c];
                lcx_report_csv_field(fp, g->row_labels[r]);
                fputc(',', fp);
                if (!isnan(g->yarn_factor[r]))
                    fprintf(fp, "%g", g->yarn_factor[r]);
                fputc(',', fp);
                if (!isnan(g->attn_temperature[r]))
                    fprintf(fp, "%g", g->attn_temperature[r]);
                fprintf(fp, ",%zu,", g->lengths[c]);
                if (!isnan(v))
                    fprintf(fp, "%.2f", v);
                fprintf(fp, ",%d\n", g->best[r * g->cols + c]);
            }
        break;
    case LCX_FMT_JSON: {
        json_t *j = lcx_sweep_grid_json(g);
        lcx_report_json_print(fp, j);
        json_decref(j);
        break;
    }
    }
}

int lcx_sweep_grid_plot(const char *path, const lcx_sweep_grid *g, lcx_err *err)
{
    char title[640];
    snprintf(title, sizeof title, "Sweep%s%s: mean score", g->model[0] ? " of " : "", g->model);
    return lcx_plot_heatmap_svg(path, title, "length", "setting", g->rows,
                                (const char *const *)g->row_labels, g->cols,
                                (const char *const *)g->col_labels, g->values, g->best, err);
}
