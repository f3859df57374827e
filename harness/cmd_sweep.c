/* cmd_sweep.c: `lcx sweep`: one model over a grid of YaRN factors and/or
 * attention temperatures, every setting run over the same lengths and
 * tasks as `lcx run` would, one results directory per setting:
 *
 *   OUT/sweep.json                the grid (the lcx-sweep record lcx report reads)
 *   OUT/yarn<F>-temp<T>/          an lcx run directory per setting
 *
 * Three ways to reach the model:
 *   --model DIR     the local engine, loaded once, RoPE set per setting;
 *   --endpoint URL  a server that takes RoPE per request (lcx serve): sent
 *                   with each request, and each reply must confirm it;
 *   --launch CMD    a server per setting, for engines that fix RoPE at
 *                   start (llama-server, vLLM, SGLang): lcx starts CMD with
 *                   {factor}, {temperature} and {port} filled in, waits for
 *                   /health, runs the setting, and stops it (harness/launch.h).
 * The other options are parsed once as `lcx run` options, and each setting
 * is lcx_run_suite (harness/run_suite.h), so a killed sweep resumes like a
 * run: the same command again skips what is recorded. At the end the grid
 * of mean scores is printed with the best setting per length marked. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "harness/launch.h"
#include "harness/run_suite.h"
#include "harness/serve_api.h"
#include "harness/suite.h"
#include "common/fsio.h"
#include "results/run_dir.h"
#include "results/sweep_grid.h"

enum { MAX_GRID = 32 };

typedef struct sweep_opts {
    const char *out, *model, *lengths;
    const char *launch;        /* --launch command template, or NULL */
    int remote;                /* --endpoint / --endpoints-file given */
    double launch_timeout, launch_grace;
    double factors[MAX_GRID], temps[MAX_GRID];
    size_t n_factors, n_temps; /* 0: not swept (the model's own value) */
    int quiet;
    char **pass;               /* arguments handed to every lcx run */
    int n_pass;
} sweep_opts;

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx sweep --out DIR (--model DIR | --endpoint URL | --launch CMD)\n"
            "                 (--yarn-factors LIST | --attn-temperatures LIST) [lcx run options]\n"
            "  --yarn-factors F,F,..        YaRN factors (1 = no scaling)\n"
            "  --attn-temperatures T,T,..   attention logits divided by T\n"
            "  --out DIR                    DIR/sweep.json and one run directory per setting\n"
            "  --model DIR                  the local engine (loaded once)\n"
            "  --endpoint URL               a server taking RoPE per request (lcx serve); each\n"
            "                               reply must confirm it (replicas: give it again)\n"
            "  --launch 'CMD'               start a server per setting: /bin/sh runs CMD with\n"
            "                               {factor}, {temperature} and {port} replaced; lcx\n"
            "                               waits for GET /health, runs the setting, stops it\n"
            "                               (SIGTERM, SIGKILL after the grace); its output goes\n"
            "                               to DIR/<setting>/server.log\n"
            "  --launch-timeout S           wait for /health at most S seconds (default 600)\n"
            "  --launch-grace S             SIGTERM to SIGKILL (default 10)\n"
            "With --endpoint or --launch, give --api and --tokenizer or --remote-tokenize as\n"
            "for lcx run. llama-server: --launch 'llama-server -m M.gguf --port {port}\n"
            "--rope-scaling yarn --rope-scale {factor} --yarn-orig-ctx N' --api llamacpp.\n"
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
    o->launch_timeout = 600;
    o->launch_grace = 10;
    static const char *const owned[] = {"--yarn-factor", "--rope-scale", "--attn-temperature",
                                        "--rope-scaling"};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = lcx_arg_value(argc, argv, &i, "--out", &o->out, err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--model", &o->model, err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--launch", &o->launch, err))) {
            if (r < 0)
                return LCX_EINPUT;
            continue;
        }
        const char *names[] = {"--launch-timeout", "--launch-grace"};
        double *values[] = {&o->launch_timeout, &o->launch_grace};
        for (int k = 0; !r && k < 2; k++)
            if ((r = lcx_arg_value(argc, argv, &i, names[k], &v, err)) > 0) {
                char *end;
                *values[k] = strtod(v, &end);
                if (end == v || *end || !(*values[k] >= 0) || *values[k] > 86400)
                    return lcx_errf(err, LCX_EINPUT, "%s: '%s' is not a number of seconds in [0, 86400]",
                                    names[k], v);
            }
        if (r < 0)
            return LCX_EINPUT;
        if (r)
            continue;
        if (!strcmp(argv[i], "--endpoint") || !strncmp(argv[i], "--endpoint=", 11) ||
            !strcmp(argv[i], "--endpoints-file") || !strncmp(argv[i], "--endpoints-file=", 17))
            o->remote = 1;
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
                                "RoPE of each setting)", owned[k]);
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
    if (!!o->model + o->remote + !!o->launch != 1)
        return lcx_errf(err, LCX_EINPUT, "give one of --model DIR (the local engine), --endpoint URL "
                        "(a server taking RoPE per request) or --launch CMD (a server per setting)");
    if (!o->n_factors && !o->n_temps)
        return lcx_errf(err, LCX_EINPUT, "give --yarn-factors and/or --attn-temperatures");
    if (o->launch)
        return lcx_launch_check(o->launch, o->n_factors > 0, o->n_temps > 0, err);
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
static json_t *sweep_record(const sweep_opts *o, const char *model_name, const size_t *lengths,
                            size_t n_lengths)
{
    json_t *r = json_object(), *ls = json_array(), *cells = json_array();
    for (size_t i = 0; i < n_lengths; i++)
        json_array_append_new(ls, json_integer((json_int_t)lengths[i]));
    json_object_set_new(r, "kind", json_string("lcx-sweep"));
    json_object_set_new(r, "version", json_integer(1));
    /* Compared on resume: the local model, or the served model's name (a
     * server's address may change between a sweep and its resume). */
    json_object_set_new(r, "model", o->model ? json_string(o->model)
                                    : model_name ? json_string(model_name) : json_null());
    json_object_set_new(r, "backend", json_string(o->model ? "local" : o->launch ? "launch" : "endpoint"));
    if (o->launch)
        json_object_set_new(r, "launch", json_string(o->launch));
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
 * have been given (the record only; nothing parses it). With --launch, the
 * server's command ({port} left as is: it changes on every start). */
static char **setting_argv(const sweep_opts *o, const char *dir, json_t *cell, const char *launched,
                           char *fbuf, char *tbuf, int *n_out)
{
    char **v = calloc((size_t)o->n_pass + 10, sizeof *v);
    int n = 0;
    if (!v)
        return NULL;
    v[n++] = "run";
    v[n++] = "--out";
    v[n++] = (char *)dir;
    if (o->model) {
        v[n++] = "--model";
        v[n++] = (char *)o->model;
    }
    json_t *f = json_object_get(cell, "yarn_factor"), *t = json_object_get(cell, "attn_temperature");
    if (launched) {
        v[n++] = "--launch";
        v[n++] = (char *)launched;
    }
    if (json_is_number(f) && !launched) {
        snprintf(fbuf, 32, "%.17g", json_number_value(f));
        v[n++] = "--yarn-factor";
        v[n++] = fbuf;
    }
    if (json_is_number(t) && !launched) {
        snprintf(tbuf, 32, "%.17g", json_number_value(t));
        v[n++] = "--attn-temperature";
        v[n++] = tbuf;
    }
    for (int k = 0; k < o->n_pass; k++)
        v[n++] = o->pass[k];
    *n_out = n;
    return v;
}

/* --launch: start the setting's server and point ro at it. */
static int launch_setting(const sweep_opts *o, json_t *cell, const char *dir, lcx_run_opts *ro,
                          char *url, size_t url_size, char **recorded, lcx_launch **server,
                          lcx_err *err)
{
    char fs[32] = "", ts[32] = "", log[4300];
    json_t *f = json_object_get(cell, "yarn_factor"), *t = json_object_get(cell, "attn_temperature");
    if (json_is_number(f))
        snprintf(fs, sizeof fs, "%.17g", json_number_value(f));
    if (json_is_number(t))
        snprintf(ts, sizeof ts, "%.17g", json_number_value(t));
    int port = 0;
    char *cmd = NULL;
    int rc = lcx_launch_free_port(&port, err);
    if (!rc)
        rc = lcx_launch_expand(o->launch, port, fs[0] ? fs : NULL, ts[0] ? ts : NULL, &cmd, err);
    if (!rc)
        rc = lcx_launch_expand(o->launch, -1, fs[0] ? fs : NULL, ts[0] ? ts : NULL, recorded, err);
    if (!rc)
        rc = lcx_mkdir_p(dir, err);
    lcx_rundir_path(log, sizeof log, dir, "server.log");
    if (!rc && !o->quiet)
        fprintf(stderr, "lcx sweep: starting %s\n", cmd);
    if (!rc)
        rc = lcx_launch_start(cmd, log, o->launch_grace, server, err);
    snprintf(url, url_size, "http://127.0.0.1:%d", port);
    if (!rc)
        rc = lcx_launch_wait_healthy(*server, url, o->launch_timeout, o->quiet, err);
    free(cmd);
    ro->backend.endpoint = url;
    ro->backend.endpoints = NULL;
    ro->backend.n_endpoints = 0;
    return rc;
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
        /* --launch: the address is known once each server is up. */
        if (o.launch)
            base.backend.endpoint = "http://127.0.0.1:0";
        rc = lcx_run_opts_check(&base, &err);
    }
    json_t *probe = json_object();
    if (!rc && o.launch && lcx_serve_rope_request_fields(&base.backend.rope, probe))
        rc = lcx_errf(&err, LCX_EINPUT, "--launch: RoPE options go in the server's command (the "
                      "server fixes its RoPE at start)");
    json_decref(probe);
    if (!rc)
        rc = lcx_suite_parse_lengths(o.lengths, lengths, &n_lengths, &err);
    /* One model (or one server) for every setting. */
    lcx_backend *b = NULL;
    if (!rc && !o.launch)
        rc = lcx_backend_open(&base.backend, &b, &err);
    json_t *rec = rc ? NULL : sweep_record(&o, base.backend.model_name, lengths, n_lengths);
    if (!rc)
        rc = lcx_rundir_sweep_open(o.out, rec, &err);
    size_t n_cells = rec ? json_array_size(json_object_get(rec, "cells")) : 0;
    for (size_t c = 0; !rc && c < n_cells; c++) {
        json_t *cell = json_array_get(json_object_get(rec, "cells"), c);
        const char *name = json_string_value(json_object_get(cell, "dir"));
        char dir[4200], fbuf[32], tbuf[32], url[64];
        lcx_rundir_path(dir, sizeof dir, o.out, name);
        if (!o.quiet)
            fprintf(stderr, "lcx sweep: setting %zu/%zu: %s\n", c + 1, n_cells, name);
        lcx_run_opts ro = base;
        ro.out = dir;
        json_t *f = json_object_get(cell, "yarn_factor"), *t = json_object_get(cell, "attn_temperature");
        if (json_is_number(f) && !o.launch) {
            ro.backend.rope.factor = json_number_value(f);
            ro.backend.rope.factor_auto = 0;
        }
        if (json_is_number(t) && !o.launch)
            ro.backend.rope.temperature = json_number_value(t);
        lcx_launch *server = NULL;
        char *launched = NULL;
        if (o.launch)
            rc = launch_setting(&o, cell, dir, &ro, url, sizeof url, &launched, &server, &err);
        ro.argv = rc ? NULL : setting_argv(&o, dir, cell, launched, fbuf, tbuf, &ro.argc);
        if (!rc && !ro.argv)
            rc = lcx_errf(&err, LCX_ENOMEM, "out of memory");
        if (!rc && b)
            rc = lcx_backend_set_rope(b, &ro.backend.rope, &err);
        if (!rc)
            rc = lcx_run_suite(&ro, b, &err);
        free(ro.argv);
        free(launched);
        if (server && lcx_launch_stop(server) && !o.quiet)
            fprintf(stderr, "lcx sweep: the server of %s did not stop within %g s of SIGTERM: "
                    "killed\n", name, o.launch_grace);
        if (rc) {
            fprintf(stderr, "lcx sweep: stopped at setting %s: %s (rerun the same command to resume)\n",
                    name, err.msg);
            lcx_backend_close(b);
            json_decref(rec);
            lcx_run_opts_free(&base);
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
    lcx_run_opts_free(&base);
    free(o.pass);
    return rc ? lcx_arg_fail("sweep", &err) : 0;
}
