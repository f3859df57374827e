/* cmd_sweep.c: `lcx sweep`: one local model over a grid of YaRN factors
 * and/or attention temperatures, every setting run over the same lengths
 * and tasks as `lcx run` would, one results directory per setting:
 *
 *   OUT/sweep.json                the grid (the lcx-sweep record lcx report reads)
 *   OUT/yarn<F>-temp<T>/          an lcx run directory per setting
 *
 * The other options are parsed once as `lcx run` options; the model is
 * loaded once, and each setting is lcx_run_suite (harness/run_suite.h) on
 * that backend with the setting's RoPE overrides, so a killed sweep resumes
 * like a run: the same command again skips what is recorded. At the end the
 * grid of mean scores is printed with the best setting per length marked. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "harness/run_suite.h"
#include "harness/suite.h"
#include "results/run_dir.h"
#include "results/sweep_grid.h"

enum { MAX_GRID = 32 };

typedef struct sweep_opts {
    const char *out, *model, *lengths;
    double factors[MAX_GRID], temps[MAX_GRID];
    size_t n_factors, n_temps; /* 0: not swept (the model's own value) */
    int quiet;
    char **pass;               /* arguments handed to every lcx run */
    int n_pass;
} sweep_opts;

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx sweep --out DIR --model DIR (--yarn-factors LIST | --attn-temperatures LIST)\n"
            "                 [lcx run options]\n"
            "  --yarn-factors F,F,..        YaRN factors (1 = no scaling)\n"
            "  --attn-temperatures T,T,..   attention logits divided by T\n"
            "  --out DIR                    DIR/sweep.json and one run directory per setting\n"
            "  --model DIR                  the local model (a server's RoPE cannot be changed)\n"
            "Every other option goes to each lcx run (--tasks, --lengths, --samples, --seed,\n"
            "--yarn-orig-ctx, --yarn-beta-fast, --quiet, ...). Settings run one after the other;\n"
            "rerunning the same command resumes. At the end the grid of mean scores (settings x\n"
            "lengths) is printed with the best setting of each length marked *; lcx report DIR\n"
            "prints it again and --plot writes it as a heatmap.\n");
}

static int parse_list(const char *name, const char *value, double *out, size_t *n, lcx_err *err)
{
    char *copy = strdup(value);
    char *items[MAX_GRID + 1];
    if (!copy)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    size_t k = lcx_arg_split(copy, items, MAX_GRID + 1);
    int rc = 0;
    if (k == 0 || k > MAX_GRID)
        rc = lcx_errf(err, LCX_EINPUT, "%s: give 1 to %d values", name, MAX_GRID);
    for (size_t i = 0; !rc && i < k; i++) {
        char *end;
        double v = strtod(items[i], &end);
        if (end == items[i] || *end || !isfinite(v) || !(v > 0) || v > 1e6)
            rc = lcx_errf(err, LCX_EINPUT, "%s: '%s' is not a positive number", name, items[i]);
        for (size_t j = 0; !rc && j < i; j++)
            if (out[j] == v)
                rc = lcx_errf(err, LCX_EINPUT, "%s: %s is given twice", name, items[i]);
        out[i] = v;
    }
    *n = rc ? 0 : k;
    free(copy);
    return rc;
}

static int parse_args(int argc, char **argv, sweep_opts *o, lcx_err *err)
{
    memset(o, 0, sizeof *o);
    o->lengths = "4k,8k,16k,32k,64k,128k";
    o->pass = calloc((size_t)argc + 1, sizeof *o->pass);
    if (!o->pass)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    static const char *const owned[] = {"--yarn-factor", "--rope-scale", "--attn-temperature",
                                        "--rope-scaling", "--endpoint", "--api"};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = lcx_arg_value(argc, argv, &i, "--out", &o->out, err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--model", &o->model, err))) {
            if (r < 0)
                return LCX_EINPUT;
            continue;
        }
        if ((r = lcx_arg_value(argc, argv, &i, "--yarn-factors", &v, err)) > 0) {
            if (parse_list("--yarn-factors", v, o->factors, &o->n_factors, err))
                return LCX_EINPUT;
            continue;
        }
        if (r == 0 && (r = lcx_arg_value(argc, argv, &i, "--attn-temperatures", &v, err)) > 0) {
            if (parse_list("--attn-temperatures", v, o->temps, &o->n_temps, err))
                return LCX_EINPUT;
            continue;
        }
        if (r < 0)
            return LCX_EINPUT;
        for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++) {
            size_t n = strlen(owned[k]);
            if (!strncmp(argv[i], owned[k], n) && (argv[i][n] == '\0' || argv[i][n] == '='))
                return lcx_errf(err, LCX_EINPUT, "%s: not an lcx sweep option (the sweep sets the "
                                "RoPE of each setting; a sweep runs the local --model)", owned[k]);
        }
        if (!strcmp(argv[i], "--quiet"))
            o->quiet = 1;
        /* Remember --lengths for sweep.json; everything else goes to lcx run as is. */
        int j = i;
        if ((r = lcx_arg_value(argc, argv, &j, "--lengths", &v, err)) > 0)
            o->lengths = v;
        else if (r < 0)
            return LCX_EINPUT;
        for (; i <= j; i++)
            o->pass[o->n_pass++] = argv[i];
        i = j;
    }
    if (!o->out)
        return lcx_errf(err, LCX_EINPUT, "--out DIR is required");
    if (!o->model)
        return lcx_errf(err, LCX_EINPUT, "--model DIR is required (a sweep runs the local engine)");
    if (!o->n_factors && !o->n_temps)
        return lcx_errf(err, LCX_EINPUT, "give --yarn-factors and/or --attn-temperatures");
    return 0;
}

/* The name of a setting's directory: yarn4-temp1, config-temp1.2, ... */
static void cell_name(char *buf, size_t n, const sweep_opts *o, double f, double t)
{
    char fs[32] = "config", ts[32] = "config";
    if (o->n_factors)
        snprintf(fs, sizeof fs, "%g", f);
    if (o->n_temps)
        snprintf(ts, sizeof ts, "%g", t);
    snprintf(buf, n, "yarn%s-temp%s", fs, ts);
}

static json_t *number_list(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* sweep.json: the grid, its cells and their directories. */
static json_t *sweep_record(const sweep_opts *o, const size_t *lengths, size_t n_lengths)
{
    json_t *r = json_object(), *ls = json_array(), *cells = json_array();
    for (size_t i = 0; i < n_lengths; i++)
        json_array_append_new(ls, json_integer((json_int_t)lengths[i]));
    json_object_set_new(r, "kind", json_string("lcx-sweep"));
    json_object_set_new(r, "version", json_integer(1));
    json_object_set_new(r, "model", json_string(o->model));
    json_object_set_new(r, "lengths", ls);
    json_object_set_new(r, "yarn_factors", o->n_factors ? number_list(o->factors, o->n_factors) : json_null());
    json_object_set_new(r, "attn_temperatures", o->n_temps ? number_list(o->temps, o->n_temps) : json_null());
    size_t nf = o->n_factors ? o->n_factors : 1, nt = o->n_temps ? o->n_temps : 1;
    for (size_t fi = 0; fi < nf; fi++)
        for (size_t ti = 0; ti < nt; ti++) {
            char name[96];
            cell_name(name, sizeof name, o, o->factors[fi], o->temps[ti]);
            json_t *c = json_object();
            json_object_set_new(c, "yarn_factor", o->n_factors ? json_real(o->factors[fi]) : json_null());
            json_object_set_new(c, "attn_temperature", o->n_temps ? json_real(o->temps[ti]) : json_null());
            json_object_set_new(c, "dir", json_string(name));
            json_array_append_new(cells, c);
        }
    json_object_set_new(r, "cells", cells);
    return r;
}

/* The command line run.json records for a setting: what `lcx run` would
 * have been given (the record only; nothing parses it). */
static char **setting_argv(const sweep_opts *o, const char *dir, json_t *cell, char *fbuf,
                           char *tbuf, int *n_out)
{
    char **v = calloc((size_t)o->n_pass + 10, sizeof *v);
    int n = 0;
    if (!v)
        return NULL;
    v[n++] = "run";
    v[n++] = "--out";
    v[n++] = (char *)dir;
    v[n++] = "--model";
    v[n++] = (char *)o->model;
    json_t *f = json_object_get(cell, "yarn_factor"), *t = json_object_get(cell, "attn_temperature");
    if (json_is_number(f)) {
        snprintf(fbuf, 32, "%.17g", json_number_value(f));
        v[n++] = "--yarn-factor";
        v[n++] = fbuf;
    }
    if (json_is_number(t)) {
        snprintf(tbuf, 32, "%.17g", json_number_value(t));
        v[n++] = "--attn-temperature";
        v[n++] = tbuf;
    }
    for (int k = 0; k < o->n_pass; k++)
        v[n++] = o->pass[k];
    *n_out = n;
    return v;
}

int lcx_cmd_sweep(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    lcx_err err = {0};
    sweep_opts o;
    int rc = parse_args(argc, argv, &o, &err);
    size_t lengths[LCX_MAX_LENGTHS], n_lengths = 0;
    /* Every other option is an lcx run option, parsed once. */
    lcx_run_opts base;
    lcx_run_opts_init(&base);
    if (!rc)
        rc = lcx_run_opts_parse(&base, o.n_pass, o.pass, 0, &err);
    if (!rc) {
        base.out = o.out;
        base.backend.model_dir = o.model;
        rc = lcx_run_opts_check(&base, &err);
    }
    if (!rc)
        rc = lcx_suite_parse_lengths(o.lengths, lengths, &n_lengths, &err);
    json_t *rec = rc ? NULL : sweep_record(&o, lengths, n_lengths);
    if (!rc)
        rc = lcx_rundir_sweep_open(o.out, rec, &err);
    /* One model for every setting. */
    lcx_backend *b = NULL;
    if (!rc)
        rc = lcx_backend_open(&base.backend, &b, &err);
    size_t n_cells = rec ? json_array_size(json_object_get(rec, "cells")) : 0;
    for (size_t c = 0; !rc && c < n_cells; c++) {
        json_t *cell = json_array_get(json_object_get(rec, "cells"), c);
        const char *name = json_string_value(json_object_get(cell, "dir"));
        char dir[4200], fbuf[32], tbuf[32];
        lcx_rundir_path(dir, sizeof dir, o.out, name);
        if (!o.quiet)
            fprintf(stderr, "lcx sweep: setting %zu/%zu: %s\n", c + 1, n_cells, name);
        lcx_run_opts ro = base;
        ro.out = dir;
        json_t *f = json_object_get(cell, "yarn_factor"), *t = json_object_get(cell, "attn_temperature");
        if (json_is_number(f)) {
            ro.backend.rope.factor = json_number_value(f);
            ro.backend.rope.factor_auto = 0;
        }
        if (json_is_number(t))
            ro.backend.rope.temperature = json_number_value(t);
        ro.argv = setting_argv(&o, dir, cell, fbuf, tbuf, &ro.argc);
        if (!ro.argv)
            rc = lcx_errf(&err, LCX_ENOMEM, "out of memory");
        if (!rc)
            rc = lcx_backend_set_rope(b, &ro.backend.rope, &err);
        if (!rc)
            rc = lcx_run_suite(&ro, b, &err);
        free(ro.argv);
        if (rc) {
            fprintf(stderr, "lcx run: %s\n", err.msg);
            fprintf(stderr, "lcx sweep: stopped at setting %s (rerun the same command to resume)\n", name);
            lcx_backend_close(b);
            json_decref(rec);
            free(o.pass);
            return 2;
        }
    }
    lcx_backend_close(b);
    if (!rc) {
        lcx_sweep_grid g;
        rc = lcx_sweep_grid_load(o.out, &g, &err);
        if (!rc) {
            lcx_sweep_grid_print(stdout, &g);
            lcx_sweep_grid_free(&g);
        }
    }
    json_decref(rec);
    free(o.pass);
    return rc ? lcx_arg_fail("sweep", &err) : 0;
}
