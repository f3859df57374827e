/* cmd_report.c: `lcx report RUN_DIR...`, runs side by side with deltas, the
 * effective length and wAvg; or the grid of a sweep directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/suite.h"
#include "results/report.h"
#include "results/run_dir.h"
#include "results/sweep_grid.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx report RUN_DIR... [options]\n"
            "       lcx report SWEEP_DIR [options]\n"
            "  RUN_DIR             an lcx run --out directory (complete), or a report JSON\n"
            "                      (lcx report --format json) whose runs are added\n"
            "  SWEEP_DIR           an lcx sweep --out directory: the grid of mean scores\n"
            "  --format F          table (default), markdown, csv or json\n"
            "  --threshold T       effective length = the longest length whose mean\n"
            "                      exceeds T (default 85.6, RULER's)\n"
            "  --names a,b,...     names of the runs (default: the directory names)\n"
            "  --plot DIR          write DIR/scores.svg, DIR/probe.svg (when every run has\n"
            "                      probe.json) or DIR/sweep.svg (a sweep)\n"
            "  --orig-ctx N        shade scores.svg beyond N (default: the first run's\n"
            "                      original context from run.json)\n"
            "  --lengths L,L,..    only these lengths of each run directory (a run still\n"
            "                      going at longer lengths, reported on the finished ones)\n"
            "  --intervals         every cell's 95%% interval too (table, markdown; the means'\n"
            "                      are always shown, and json and csv carry all of them)\n"
            "The first run is the reference: every other run shows its delta against it,\n"
            "marked * when its paired 95%% interval excludes 0.\n"
            "A baseline for lcx check: lcx report RUN_DIR --format json > baseline.json\n");
}

static void free_runs(lcx_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lcx_run_free(&runs[i]);
    free(runs);
}

static int add_runs(lcx_run **runs, size_t *n, size_t *cap, lcx_run *more, size_t m, lcx_err *err)
{
    if (*n + m > *cap) {
        size_t c = (*n + m) * 2;
        lcx_run *p = realloc(*runs, c * sizeof *p);
        if (!p)
            return lcx_errf(err, LCX_ENOMEM, "out of memory");
        *runs = p;
        *cap = c;
    }
    memcpy(*runs + *n, more, m * sizeof *more);
    *n += m;
    return 0;
}

static int report_sweep(const char *dir, int fmt, const char *plot, lcx_err *err)
{
    lcx_sweep_grid g;
    int rc = lcx_sweep_grid_load(dir, &g, err);
    if (rc)
        return rc;
    lcx_sweep_grid_write(stdout, &g, (lcx_report_format)fmt);
    if (plot) {
        char path[4200];
        snprintf(path, sizeof path, "%s/sweep.svg", plot);
        rc = lcx_mkdir_p(plot, err);
        if (!rc)
            rc = lcx_sweep_grid_plot(path, &g, err);
        if (!rc)
            fprintf(stderr, "lcx report: wrote %s\n", path);
    }
    lcx_sweep_grid_free(&g);
    return rc;
}

int lcx_cmd_report(int argc, char **argv)
{
    lcx_err err = {0};
    const char *format = "table", *threshold_s = NULL, *names = NULL, *plot = NULL, *orig_s = NULL;
    const char *lengths_s = NULL;
    size_t keep[LCX_MAX_LENGTHS], n_keep = 0;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    size_t npaths = 0;
    unsigned flags = 0;
    if (!paths)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--intervals")) {
            flags |= LCX_REPORT_CELL_INTERVALS;
            continue;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(paths);
            return 0;
        }
        if ((r = lcx_arg_value(argc, argv, &i, "--format", &format, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--threshold", &threshold_s, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--names", &names, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--plot", &plot, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--orig-ctx", &orig_s, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--lengths", &lengths_s, &err))) {
            if (r < 0) {
                free(paths);
                return lcx_arg_fail("report", &err);
            }
            continue;
        }
        v = argv[i];
        if (v[0] == '-' && v[1]) {
            free(paths);
            lcx_errf(&err, LCX_EINPUT, "unknown option '%s' (see --help)", v);
            return lcx_arg_fail("report", &err);
        }
        paths[npaths++] = v;
    }
    int rc = 0;
    int fmt = lcx_report_format_parse(format);
    double threshold = LCX_DEFAULT_THRESHOLD;
    size_t orig_ctx = 0;
    if (fmt < 0)
        rc = lcx_errf(&err, LCX_EINPUT, "--format: '%s' is not table, markdown, csv or json", format);
    else if (npaths == 0)
        rc = lcx_errf(&err, LCX_EINPUT, "no run directory given (see --help)");
    if (!rc && threshold_s) {
        char *end;
        threshold = strtod(threshold_s, &end);
        if (!*threshold_s || *end || !isfinite(threshold))
            rc = lcx_errf(&err, LCX_EINPUT, "--threshold: '%s' is not a number", threshold_s);
    }
    if (!rc && orig_s)
        rc = lcx_arg_size("--orig-ctx", orig_s, &orig_ctx, &err);
    if (!rc && lengths_s && (rc = lcx_suite_parse_lengths(lengths_s, keep, &n_keep, &err)))
        lcx_err_prefix(&err, "--lengths");
    if (rc) {
        free(paths);
        return lcx_arg_fail("report", &err);
    }

    /* A sweep directory is reported on its own. */
    for (size_t i = 0; i < npaths; i++)
        if (lcx_rundir_is_sweep(paths[i])) {
            if (npaths > 1 || names)
                rc = lcx_errf(&err, LCX_EINPUT, "%s is a sweep directory: report it on its own "
                              "(no other runs, no --names)", paths[i]);
            else
                rc = report_sweep(paths[i], fmt, plot, &err);
            free(paths);
            return rc ? lcx_arg_fail("report", &err) : 0;
        }

    lcx_run *runs = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < npaths && !rc; i++) {
        if (lcx_is_dir(paths[i])) {
            lcx_run r;
            rc = lengths_s ? lcx_run_load_lengths(paths[i], threshold, keep, n_keep, &r, &err)
                           : lcx_run_load(paths[i], threshold, &r, &err);
            if (!rc && (rc = add_runs(&runs, &n, &cap, &r, 1, &err)))
                lcx_run_free(&r);
        } else if (lengths_s) {
            rc = lcx_errf(&err, LCX_EINPUT, "%s: --lengths goes with run directories, not a report "
                          "JSON", paths[i]);
        } else {
            lcx_run *more;
            size_t m;
            rc = lcx_report_file_load(paths[i], threshold, &more, &m, &err);
            if (!rc && (rc = add_runs(&runs, &n, &cap, more, m, &err)))
                for (size_t k = 0; k < m; k++)
                    lcx_run_free(&more[k]);
            if (!rc)
                free(more);
        }
    }
    if (!rc && names) {
        char *copy = strdup(names);
        char **items = calloc(n + 1, sizeof *items);
        size_t k = copy && items ? lcx_arg_split(copy, items, n + 1) : 0;
        if (!copy || !items)
            rc = lcx_errf(&err, LCX_ENOMEM, "out of memory");
        else if (k != n)
            rc = lcx_errf(&err, LCX_EINPUT, "--names: %zu name%s for %zu run%s", k, k == 1 ? "" : "s", n,
                          n == 1 ? "" : "s");
        for (size_t i = 0; !rc && i < n; i++)
            snprintf(runs[i].name, sizeof runs[i].name, "%s", items[i]);
        free(items);
        free(copy);
    }
    if (!rc && !names)
        lcx_run_default_names(runs, n);
    if (!rc)
        rc = lcx_runs_check_lengths(runs, n, &err);
    for (size_t i = 0; !rc && i < n; i++)
        if (runs[i].deterministic == 0)
            fprintf(stderr, "lcx report: warning: %s (%s) says its backend is not deterministic "
                            "(runtime.deterministic false): its scores vary from run to "
                            "run on their own\n", runs[i].name, runs[i].path);
    if (!rc)
        lcx_report_print_with(stdout, runs, n, threshold, (lcx_report_format)fmt, flags);
    if (!rc && plot) {
        fflush(stdout);
        double shade = orig_ctx ? (double)orig_ctx : (double)runs[0].orig_ctx;
        rc = lcx_report_plot(plot, runs, n, shade, &err);
        if (!rc) {
            int all_probe = 1;
            for (size_t i = 0; i < n; i++)
                all_probe &= runs[i].probe.present;
            fprintf(stderr, "lcx report: wrote %s/scores.svg%s%s%s\n", plot,
                    all_probe ? ", " : "", all_probe ? plot : "", all_probe ? "/probe.svg" : "");
        }
    }
    free_runs(runs, n);
    free(paths);
    return rc ? lcx_arg_fail("report", &err) : 0;
}
