/* check.c: the regression gate; the test is described in check.h. */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"

double lcx_normal_quantile(double p)
{
    if (!(p > 0 && p < 1))
        return NAN;
    /* Phi(x) = erfc(-x / sqrt 2) / 2 is increasing; bisect on [-40, 40]. */
    double lo = -40, hi = 40;
    for (int i = 0; i < 200 && hi - lo > 1e-12; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

const char *lcx_check_test_name(lcx_check_test t)
{
    return t == LCX_CHECK_MCNEMAR ? "mcnemar" : t == LCX_CHECK_SIGNFLIP ? "sign-flip" : "unpaired";
}

void lcx_check_eval(double baseline, size_t n_baseline, double current, size_t n_current,
                    double tolerance, double z, lcx_check_cell *out)
{
    double pb = baseline / 100.0, pc = current / 100.0;
    double nb = (double)n_baseline, nc = (double)n_current;
    double tb = (pb * nb + 1) / (nb + 2), tc = (pc * nc + 1) / (nc + 2);
    double se = sqrt(tb * (1 - tb) / (nb + 2) + tc * (1 - tc) / (nc + 2));
    double lower = (tb - tc) - z * se;
    out->baseline = baseline;
    out->current = current;
    out->n_baseline = n_baseline;
    out->n_current = n_current;
    out->drop = lcx_round2(baseline - current);
    out->lower = 100.0 * lower;
    double allowed = tolerance + 100.0 * (z * se + (pb - pc) - (tb - tc));
    out->allowed = allowed > tolerance ? allowed : tolerance;
    out->test = LCX_CHECK_UNPAIRED;
    /* P(Z > ((p~_b - p~_c) - tol) / SE): below 1 - confidence iff 100 L > tol */
    out->p = 0.5 * erfc(((tb - tc) - tolerance / 100.0) / se / sqrt(2.0));
    out->p_adj = out->p;
    out->regressed = out->drop > tolerance && out->lower > tolerance;
}

static void cell_free(lcx_check_cell *c)
{
    free(c->lost_idx);
    free(c->won_idx);
    c->lost_idx = c->won_idx = NULL;
}

void lcx_check_result_free(lcx_check_result *res)
{
    for (size_t i = 0; i < res->n; i++)
        cell_free(&res->cells[i]);
    free(res->cells);
    memset(res, 0, sizeof *res);
}

/* Whether the two sets hold the same samples; why not into why. */
static int same_samples(const lcx_sample_set *b, const lcx_sample_set *c, char *why, size_t size)
{
    if (!b || !c) {
        snprintf(why, size, "the %s has no per-sample records", !b ? "baseline" : "current run");
        return 0;
    }
    if (b->n != c->n) {
        snprintf(why, size, "different samples (%zu and %zu)", b->n, c->n);
        return 0;
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->index[i] != c->index[i]) {
            snprintf(why, size, "different sample indices (%zu and %zu)", b->index[i], c->index[i]);
            return 0;
        }
    if (b->by_input != c->by_input) {
        snprintf(why, size, "only one run's records carry the input");
        return 0;
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->input_id[i] != c->input_id[i]) {
            snprintf(why, size, "sample %zu differs (its %s)", b->index[i],
                     b->by_input ? "input or answers" : "answers");
            return 0;
        }
    return 1;
}

static int paired_test(const lcx_sample_set *b, const lcx_sample_set *c, lcx_check_cell *out,
                       lcx_err *err)
{
    size_t n = b->n;
    out->n_pairs = n;
    out->lost_idx = calloc(n ? n : 1, sizeof *out->lost_idx);
    out->won_idx = calloc(n ? n : 1, sizeof *out->won_idx);
    double *d = calloc(n ? n : 1, sizeof *d);
    if (!out->lost_idx || !out->won_idx || !d) {
        free(d);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = b->score[i] - c->score[i];
        if (d[i] > 0)
            out->lost_idx[out->lost++] = b->index[i];
        else if (d[i] < 0)
            out->won_idx[out->won++] = b->index[i];
    }
    int rc = 0;
    if (lcx_sample_set_binary(b) && lcx_sample_set_binary(c)) {
        out->test = LCX_CHECK_MCNEMAR;
        out->p = lcx_stats_mcnemar(out->lost, out->won);
        out->exact = 1;
    } else {
        lcx_stats_flip f;
        uint64_t seed = lcx_seed_mix(LCX_STATS_SEED, out->task, out->length, 0);
        rc = lcx_stats_sign_flip(d, n, LCX_STATS_EXACT_MAX, LCX_STATS_FLIP_DRAWS, seed, &f, err);
        out->test = LCX_CHECK_SIGNFLIP;
        out->p = f.p;
        out->exact = f.exact;
        out->draws = f.draws;
    }
    free(d);
    return rc;
}

int lcx_check_runs_opts(const lcx_run *baseline, const lcx_run *current, const lcx_check_opts *o,
                        lcx_check_result *res, lcx_err *err)
{
    memset(res, 0, sizeof *res);
    lcx_run pair[2] = {*baseline, *current};
    int rc = lcx_runs_check_lengths(pair, 2, err);
    if (rc)
        return rc;
    res->tolerance = o->tolerance;
    res->confidence = o->confidence;
    res->alpha = 1 - o->confidence;
    res->correction = o->correction;
    res->z = lcx_normal_quantile(o->confidence);
    res->by_input = 1;
    size_t cap = baseline->n_tasks * baseline->n_lengths;
    res->cells = calloc(cap ? cap : 1, sizeof *res->cells);
    if (!res->cells)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t j = 0; j < baseline->n_lengths; j++)
        for (size_t t = 0; t < baseline->n_tasks; t++) {
            const char *task = baseline->tasks[t];
            size_t length = baseline->lengths[j];
            const lcx_cell *b = lcx_run_cell(baseline, task, length);
            if (!b)
                continue;
            const lcx_cell *c = lcx_run_cell(current, task, length);
            if (!c) {
                lcx_check_result_free(res);
                return lcx_errf(err, LCX_EINPUT,
                                "cell %s @ %zu of the baseline %s is missing from the current run %s",
                                task, length, baseline->path, current->path);
            }
            lcx_check_cell *out = &res->cells[res->n++];
            snprintf(out->task, sizeof out->task, "%s", task);
            out->length = length;
            lcx_check_eval(lcx_cell_score(b), b->count, lcx_cell_score(c), c->count, o->tolerance,
                           res->z, out);
            const lcx_sample_set *sb = lcx_run_samples(baseline, task, length),
                                 *sc = lcx_run_samples(current, task, length);
            if (o->unpaired) {
                snprintf(out->unpaired_why, sizeof out->unpaired_why, "--unpaired");
            } else if (same_samples(sb, sc, out->unpaired_why, sizeof out->unpaired_why)) {
                out->unpaired_why[0] = '\0';
                if ((rc = paired_test(sb, sc, out, err))) {
                    lcx_check_result_free(res);
                    return rc;
                }
                res->n_paired++;
                res->by_input &= sb->by_input;
            }
        }
    if (res->n == 0) {
        lcx_check_result_free(res);
        return lcx_errf(err, LCX_EINPUT, "the baseline %s has no scored cells", baseline->path);
    }
    double *p = calloc(res->n, sizeof *p);
    if (!p) {
        lcx_check_result_free(res);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < res->n; i++)
        p[i] = res->cells[i].p;
    rc = lcx_stats_adjust(p, res->n, o->correction, p, err);
    for (size_t i = 0; !rc && i < res->n; i++) {
        lcx_check_cell *c = &res->cells[i];
        c->p_adj = p[i];
        c->regressed = c->drop > o->tolerance && c->p_adj < res->alpha;
        res->n_regressed += (size_t)c->regressed;
    }
    free(p);
    if (rc)
        lcx_check_result_free(res);
    return rc;
}

int lcx_check_runs(const lcx_run *baseline, const lcx_run *current, double tolerance,
                   double confidence, lcx_check_result *res, lcx_err *err)
{
    lcx_check_opts o = {tolerance, confidence, LCX_STATS_HOLM, 0};
    return lcx_check_runs_opts(baseline, current, &o, res, err);
}

/* "3, 17, 20" (at most max, then "and N more"), or "none". */
static void print_indices(FILE *fp, const size_t *idx, size_t n, size_t max)
{
    if (n == 0) {
        fputs("none", fp);
        return;
    }
    for (size_t i = 0; i < n && i < max; i++)
        fprintf(fp, "%s%zu", i ? " " : "", idx[i]);
    if (n > max)
        fprintf(fp, " ... and %zu more", n - max);
}

void lcx_check_print(FILE *fp, const lcx_check_result *res, const lcx_run *baseline,
                     const lcx_run *current)
{
    const char *corr = lcx_stats_correction_name(res->correction);
    if (res->n_regressed == 0)
        fprintf(fp, "OK: %s against %s: %zu cells, none dropped by more than %g points with "
                    "p < %g (%s-adjusted)\n",
                current->name, baseline->name, res->n, res->tolerance, res->alpha, corr);
    else
        fprintf(fp, "REGRESSED: %s against %s: %zu of %zu cells dropped by more than %g points "
                    "with p < %g (%s-adjusted)\n",
                current->name, baseline->name, res->n_regressed, res->n, res->tolerance,
                res->alpha, corr);
    fprintf(fp, "\n%-18s %8s  %-9s %5s %9s %9s %8s %5s %5s %9s %9s  %s\n", "task", "length", "test",
            "n", "baseline", "current", "drop", "lost", "won", "p", "adj. p", "verdict");
    for (size_t i = 0; i < res->n; i++) {
        const lcx_check_cell *c = &res->cells[i];
        char n[32], lost[32], won[32];
        if (c->test == LCX_CHECK_UNPAIRED) {
            snprintf(n, sizeof n, "%zu/%zu", c->n_baseline, c->n_current);
            snprintf(lost, sizeof lost, "-");
            snprintf(won, sizeof won, "-");
        } else {
            snprintf(n, sizeof n, "%zu", c->n_pairs);
            snprintf(lost, sizeof lost, "%zu", c->lost);
            snprintf(won, sizeof won, "%zu", c->won);
        }
        fprintf(fp, "%-18s %8zu  %-9s %7s %9.2f %9.2f %8.2f %5s %5s %9.3g %9.3g  %s\n", c->task,
                c->length, lcx_check_test_name(c->test), n, c->baseline, c->current, c->drop, lost,
                won, c->p, c->p_adj, c->regressed ? "REGRESSED" : "ok");
    }
    int header = 0;
    for (size_t i = 0; i < res->n; i++) {
        const lcx_check_cell *c = &res->cells[i];
        if (!c->regressed)
            continue;
        if (!header++)
            fputc('\n', fp);
        if (c->test == LCX_CHECK_UNPAIRED) {
            fprintf(fp, "%s @ %zu: dropped %.2f, allowed %.2f on its own (unpaired: %s)\n", c->task,
                    c->length, c->drop, c->allowed, c->unpaired_why);
            continue;
        }
        fprintf(fp, "%s @ %zu: lost %zu sample%s (lower than in the baseline): ", c->task, c->length,
                c->lost, c->lost == 1 ? "" : "s");
        print_indices(fp, c->lost_idx, c->lost, 100);
        fprintf(fp, "\n%*s  won %zu: ", (int)(strlen(c->task) + 3 + snprintf(NULL, 0, "%zu", c->length)),
                "", c->won);
        print_indices(fp, c->won_idx, c->won, 100);
        fputc('\n', fp);
    }
    fprintf(fp, "\ntests: mcnemar = exact McNemar (two-sided binomial on the samples that flipped); "
                "sign-flip = paired sign-flip permutation test on per-sample score differences "
                "(two-sided; exact up to 2^%d sign assignments, else %d Monte Carlo draws, fixed "
                "seed); unpaired = one-sided Agresti-Caffo bound (the runs' samples differ)\n",
            LCX_STATS_EXACT_MAX, LCX_STATS_FLIP_DRAWS);
    fprintf(fp, "adj. p: %s's correction over all %zu cells; a cell regresses when adj. p < %g "
                "and it dropped by more than %g points\n",
            corr, res->n, res->alpha, res->tolerance);
    if (res->n_paired)
        fprintf(fp, "paired: %zu of %zu cells, samples matched by index and %s\n", res->n_paired,
                res->n,
                res->by_input ? "a SHA-256 of input, answer prefix and answers"
                              : "a SHA-256 of their answers (the records carry no input)");
    /* why cells are unpaired: one line when they share the reason */
    const char *why = NULL;
    int same = 1;
    for (size_t i = 0; i < res->n; i++)
        if (res->cells[i].test == LCX_CHECK_UNPAIRED) {
            if (why && strcmp(why, res->cells[i].unpaired_why))
                same = 0;
            why = res->cells[i].unpaired_why;
        }
    if (why && same && res->n_paired == 0)
        fprintf(fp, "unpaired: every cell: %s\n", why);
    else if (why)
        for (size_t i = 0; i < res->n; i++)
            if (res->cells[i].test == LCX_CHECK_UNPAIRED)
                fprintf(fp, "unpaired: %s @ %zu: %s\n", res->cells[i].task, res->cells[i].length,
                        res->cells[i].unpaired_why);
}
