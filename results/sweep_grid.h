/* sweep_grid.h: the grid of a sweep directory (`lcx sweep`, `lcx report
 * DIR`).
 *
 * DIR/sweep.json = {"kind": "lcx-sweep", "model", "lengths": [...],
 * "cells": [{"yarn_factor", "attn_temperature", "dir"}]}; each cell dir
 * (relative to DIR) a run directory. Rows are settings, columns lengths, a
 * value the mean score over the tasks at that length, NAN while the length
 * is not complete in that cell's run. best marks the highest complete value
 * of each column (every setting that reaches it). */
#ifndef LCX_SWEEP_GRID_H
#define LCX_SWEEP_GRID_H

#include <jansson.h>
#include <stdio.h>

#include "common/err.h"
#include "results/report.h"

typedef struct lcx_sweep_grid {
    char model[512];
    size_t rows, cols;
    char **row_labels;        /* "yarn 4, temp 1" ("yarn 4" / "temp 1" when the
                                 sweep varies one; "default" when neither) */
    char **col_labels;        /* "4096" */
    char **dirs;              /* run directory per row (joined with DIR) */
    double *yarn_factor;      /* per row; NAN when the cell has none */
    double *attn_temperature; /* per row; NAN when the cell has none */
    size_t *lengths;          /* per column */
    double *values;           /* rows x cols */
    int *best;                /* rows x cols */
    size_t n_tasks;           /* tasks of the first loaded run (for the caption) */
} lcx_sweep_grid;

/* Read DIR/sweep.json and load each cell's run (lcx_run_load_lenient). */
int lcx_sweep_grid_load(const char *sweep_dir, lcx_sweep_grid *g, lcx_err *err);
/* The grid as a table, with a caption line. */
void lcx_sweep_grid_print(FILE *fp, const lcx_sweep_grid *g);
/* The grid in another format (table = lcx_sweep_grid_print). */
void lcx_sweep_grid_write(FILE *fp, const lcx_sweep_grid *g, lcx_report_format fmt);
json_t *lcx_sweep_grid_json(const lcx_sweep_grid *g);
/* The heatmap, one file. */
int lcx_sweep_grid_plot(const char *path, const lcx_sweep_grid *g, lcx_err *err);
void lcx_sweep_grid_free(lcx_sweep_grid *g);

#endif
