/* cmd_check.c: `lcx check CURRENT --baseline FILE_OR_RUN`, the CI gate.
 * Exit 0: no cell regressed; 1: some did (listed on stdout); 2: unusable
 * input. The test is described in results/check.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/suite.h"
#include "results/check.h"
#include "results/report.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx check CURRENT --baseline FILE_OR_RUN [--tolerance POINTS] [--confidence C]\n"
            "                 [--correction holm|bh] [--unpaired] [--lengths LIST]\n"
            "  CURRENT             a run directory, or a report JSON with one run\n"
            "  --baseline F        a report JSON with one run (make it with\n"
            "                      lcx report RUN_DIR --format json > baseline.json), or a run directory\n"
            "  --tolerance POINTS  drop allowed on top of sampling noise (default 0)\n"
            "  --confidence C      alpha = 1 - C for the adjusted p-values (default 0.95)\n"
            "  --correction M      holm (default: family-wise error) or bh (Benjamini-Hochberg,\n"
            "                      false discovery rate), over all cells\n"
            "  --unpaired          the unpaired Agresti-Caffo test for every cell\n"
            "  --lengths L,L,..    only these lengths of run directories (a run still going\n"
            "                      at longer lengths, checked on the finished ones)\n"
            "Runs with the same samples are compared sample by sample: exact McNemar for\n"
            "0/1 cells, a paired sign-flip test for partial-credit cells; otherwise the\n"
            "unpaired Agresti-Caffo bound. A cell regresses when its adjusted p-value is\n"
            "below 1 - C and its score dropped by more than the tolerance.\n"
            "Exit 0: no regression; 1: regressions (listed); 2: unusable input.\n");
}

static int parse_double(const char *name, const char *s, double *out, lcx_err *err)
{
    char *end;
    *out = strtod(s, &end);
    if (!*s || *end || !isfinite(*out))
        return lcx_errf(err, LCX_EINPUT, "%s: '%s' is not a number", name, s);
    return 0;
}

/* A run directory or report JSON; with --lengths, only those lengths of a
 * run directory. */
static int load(const char *path, const size_t *keep, size_t n_keep, lcx_run *r, lcx_err *err)
{
    if (!keep)
        return lcx_run_load_any(path, LCX_DEFAULT_THRESHOLD, r, err);
    if (!lcx_is_dir(path))
        return lcx_errf(err, LCX_EINPUT, "%s: --lengths goes with run directories, not a report JSON",
                        path);
    return lcx_run_load_lengths(path, LCX_DEFAULT_THRESHOLD, keep, n_keep, r, err);
}

int lcx_cmd_check(int argc, char **argv)
{
    lcx_err err = {0};
    const char *baseline = NULL, *tol_s = NULL, *conf_s = NULL, *current = NULL, *corr_s = NULL;
    const char *lengths_s = NULL;
    size_t keep[LCX_MAX_LENGTHS], n_keep = 0;
    int rc = 0, unpaired = 0;
    for (int i = 1; i < argc && !rc; i++) {
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--unpaired")) {
            unpaired = 1;
            continue;
        }
        if ((r = lcx_arg_value(argc, argv, &i, "--baseline", &baseline, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--correction", &corr_s, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--tolerance", &tol_s, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--confidence", &conf_s, &err)) ||
            (r = lcx_arg_value(argc, argv, &i, "--lengths", &lengths_s, &err))) {
            if (r < 0)
                rc = LCX_EINPUT;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            rc = lcx_errf(&err, LCX_EINPUT, "unknown option '%s' (see --help)", argv[i]);
        else if (current)
            rc = lcx_errf(&err, LCX_EINPUT, "one CURRENT run only ('%s' and '%s')", current, argv[i]);
        else
            current = argv[i];
    }
    double tolerance = 0, confidence = 0.95;
    if (!rc && !current)
        rc = lcx_errf(&err, LCX_EINPUT, "no CURRENT run given (see --help)");
    if (!rc && !baseline)
        rc = lcx_errf(&err, LCX_EINPUT, "--baseline FILE_OR_RUN is required");
    if (!rc && tol_s && !(rc = parse_double("--tolerance", tol_s, &tolerance, &err)) && tolerance < 0)
        rc = lcx_errf(&err, LCX_EINPUT, "--tolerance: %s is negative", tol_s);
    if (!rc && conf_s && !(rc = parse_double("--confidence", conf_s, &confidence, &err)) &&
        !(confidence >= 0.5 && confidence < 1))
        rc = lcx_errf(&err, LCX_EINPUT, "--confidence: %s is not in [0.5, 1)", conf_s);
    int correction = LCX_STATS_HOLM;
    if (!rc && corr_s && (correction = lcx_stats_correction_parse(corr_s)) < 0)
        rc = lcx_errf(&err, LCX_EINPUT, "--correction: '%s' is not holm or bh", corr_s);
    if (!rc && lengths_s && (rc = lcx_suite_parse_lengths(lengths_s, keep, &n_keep, &err)))
        lcx_err_prefix(&err, "--lengths");
    if (rc)
        return lcx_arg_fail("check", &err);

    lcx_run base, cur;
    if ((rc = load(baseline, lengths_s ? keep : NULL, n_keep, &base, &err)))
        return lcx_arg_fail("check", &err);
    if ((rc = load(current, lengths_s ? keep : NULL, n_keep, &cur, &err))) {
        lcx_run_free(&base);
        return lcx_arg_fail("check", &err);
    }
    lcx_run pair[2] = {base, cur};
    lcx_run_default_names(pair, 2);
    snprintf(base.name, sizeof base.name, "%s", pair[0].name);
    snprintf(cur.name, sizeof cur.name, "%s", pair[1].name);
    for (int k = 0; k < 2; k++) {
        const lcx_run *r = k ? &cur : &base;
        if (r->deterministic == 0)
            fprintf(stderr, "lcx check: warning: %s (%s) says its backend is not deterministic "
                            "(runtime.deterministic false): its scores vary from run to "
                            "run on their own\n", r->name, r->path);
    }
    lcx_check_opts opts = {tolerance, confidence, (lcx_stats_correction)correction, unpaired};
    lcx_check_result res;
    rc = lcx_check_runs_opts(&base, &cur, &opts, &res, &err);
    int code;
    if (rc) {
        code = lcx_arg_fail("check", &err);
    } else {
        lcx_check_print(stdout, &res, &base, &cur);
        code = res.n_regressed ? 1 : 0;
        lcx_check_result_free(&res);
    }
    lcx_run_free(&base);
    lcx_run_free(&cur);
    return code;
}
