/* Tests of results/report.c: the effective length, wAvg and deltas on
 * hand-computed values, the hand-made runs under tests/fixtures/report, the
 * report JSON read back, files of the wrong kind, and the sweep grid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "results/report.h"
#include "results/sweep_grid.h"

#define FIX "tests/fixtures/report"

TEST(effective_length_strictly_exceeds)
{
    /* RULER: the longest length whose mean exceeds 85.6; 85.6 itself does not. */
    double a[] = {90.0, 85.6, 86.0};
    CHECK_INT(lcx_effective_length(a, 3, 85.6), 2);
    double b[] = {90.0, 85.6};
    CHECK_INT(lcx_effective_length(b, 2, 85.6), 0);
    double c[] = {85.61, 85.6};
    CHECK_INT(lcx_effective_length(c, 2, 85.6), 0);
    /* The longest, even past a dip (as specified). */
    double d[] = {95.0, 50.0, 88.0, 40.0};
    CHECK_INT(lcx_effective_length(d, 4, 85.6), 2);
    /* Another threshold. */
    CHECK_INT(lcx_effective_length(d, 4, 49.99), 2);
    CHECK_INT(lcx_effective_length(d, 4, 30.0), 3);
}

TEST(effective_length_none_qualifies)
{
    double a[] = {85.6, 85.6, 85.6};
    CHECK_INT(lcx_effective_length(a, 3, 85.6), -1);
    double b[] = {50.0, 40.0, 0.0};
    CHECK_INT(lcx_effective_length(b, 3, 85.6), -1);
    CHECK_INT(lcx_effective_length(b, 0, 85.6), -1);
}

TEST(wavg_three_lengths)
{
    /* (1*87.5 + 2*62.5 + 3*12.5) / 6 = 250/6; (3*87.5 + 2*62.5 + 1*12.5) / 6 = 400/6. */
    double m[] = {87.5, 62.5, 12.5};
    CHECK_NEAR(lcx_wavg(m, 3, 1), 250.0 / 6.0, 1e-12);
    CHECK_NEAR(lcx_wavg(m, 3, 0), 400.0 / 6.0, 1e-12);
    CHECK_NEAR(lcx_wavg(m, 3, 1), 41.6666666667, 1e-9);
    CHECK_NEAR(lcx_wavg(m, 3, 0), 66.6666666667, 1e-9);
}

TEST(wavg_six_lengths)
{
    /* RULER's 4K..128K: weights 1..6 or 6..1, divided by 21.
     * inc: 96 + 2*94 + 3*90 + 4*84 + 5*78 + 6*60 = 1640 -> 78.095238...
     * dec: 6*96 + 5*94 + 4*90 + 3*84 + 2*78 + 60 = 1874 -> 89.238095... */
    double m[] = {96, 94, 90, 84, 78, 60};
    CHECK_NEAR(lcx_wavg(m, 6, 1), 1640.0 / 21.0, 1e-12);
    CHECK_NEAR(lcx_wavg(m, 6, 0), 1874.0 / 21.0, 1e-12);
    CHECK_NEAR(lcx_wavg(m, 6, 1), 78.0952380952, 1e-9);
    CHECK_NEAR(lcx_wavg(m, 6, 0), 89.2380952381, 1e-9);
    /* Flat scores: both equal the score. */
    double f[] = {50, 50, 50, 50, 50, 50};
    CHECK_NEAR(lcx_wavg(f, 6, 1), 50.0, 1e-12);
    CHECK_NEAR(lcx_wavg(f, 6, 0), 50.0, 1e-12);
    CHECK_NEAR(lcx_wavg(m, 0, 1), 0.0, 0);
}

TEST(deltas_round_to_two_decimals)
{
    CHECK_NEAR(lcx_score_delta(77.08, 41.67), 35.41, 1e-9);
    CHECK_NEAR(lcx_score_delta(25.0, 75.0), -50.0, 1e-9);
    CHECK_NEAR(lcx_score_delta(33.33, 33.33), 0.0, 1e-9);
}

/* base: niah_single_1 4/4, 3/4, 1/4 and qa_1 3/4, 2/4, 0/4 (one empty pred)
 * at 1024, 2048, 4096; gated: 4/4, 4/4, 3/4 and 4/4, 3/4, 2/4. */
TEST(fixture_base_figures)
{
    lcx_run r;
    lcx_err err = {0};
    CHECK_INT(lcx_run_load(FIX "/base/", 85.6, &r, &err), 0);
    if (err.code) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_STR(r.path, FIX "/base");
    CHECK_INT(r.n_lengths, 3);
    CHECK_INT(r.lengths[0], 1024);
    CHECK_INT(r.lengths[2], 4096);
    CHECK_INT(r.n_tasks, 2);
    CHECK_STR(r.tasks[0], "niah_single_1");
    CHECK_STR(r.tasks[1], "qa_1");
    CHECK_INT(r.samples, 4);
    CHECK_INT(r.orig_ctx, 1024);
    CHECK_STR(r.rope_factor, "1");
    CHECK_STR(r.model, "models/tiny-baseline");
    CHECK_NEAR(lcx_cell_score(lcx_run_cell(&r, "niah_single_1", 2048)), 75.0, 1e-9);
    CHECK_NEAR(lcx_cell_score(lcx_run_cell(&r, "qa_1", 4096)), 0.0, 1e-9);
    CHECK_INT(lcx_run_cell(&r, "qa_1", 4096)->nulls, 1);
    CHECK_NEAR(r.means[0], 87.5, 1e-9);
    CHECK_NEAR(r.means[1], 62.5, 1e-9);
    CHECK_NEAR(r.means[2], 12.5, 1e-9);
    CHECK_INT(r.nulls[2], 1);
    CHECK_INT(r.scored[2], 8);
    CHECK_INT(r.effective, 0); /* 87.5 > 85.6 at 1024 only */
    CHECK_NEAR(r.wavg_inc, 41.67, 1e-9);
    CHECK_NEAR(r.wavg_dec, 66.67, 1e-9);
    /* probe.json: sink 0.6, 0.8; |hidden| 100, 250; ungated. */
    CHECK(r.probe.present);
    CHECK_INT(r.probe.n_layers, 2);
    CHECK_NEAR(r.probe.mean_sink_share, 0.7, 1e-12);
    CHECK_NEAR(r.probe.max_hidden, 250.0, 1e-12);
    CHECK(r.probe.gate_mean == NULL);
    CHECK(isnan(r.probe.mean_gate));
    /* A higher threshold: nothing qualifies; a lower one: 2048. */
    lcx_run_compute(&r, 87.5);
    CHECK_INT(r.effective, -1);
    lcx_run_compute(&r, 62.49);
    CHECK_INT(r.effective, 1);
    lcx_run_free(&r);
}

TEST(fixture_gated_figures_and_auto_factor)
{
    lcx_run r;
    lcx_err err = {0};
    CHECK_INT(lcx_run_load(FIX "/gated", 85.6, &r, &err), 0);
    if (err.code)
        return;
    CHECK_STR(r.rope_factor, "auto");
    CHECK_NEAR(r.means[0], 100.0, 1e-9);
    CHECK_NEAR(r.means[1], 87.5, 1e-9);
    CHECK_NEAR(r.means[2], 62.5, 1e-9);
    CHECK_INT(r.effective, 1); /* 2048: 87.5 > 85.6; 4096: 62.5 */
    /* (100 + 2*87.5 + 3*62.5)/6 = 462.5/6 = 77.083; (300 + 175 + 62.5)/6 = 89.583 */
    CHECK_NEAR(r.wavg_inc, 77.08, 1e-9);
    CHECK_NEAR(r.wavg_dec, 89.58, 1e-9);
    CHECK_NEAR(r.probe.mean_sink_share, 0.1, 1e-12);
    CHECK_NEAR(r.probe.max_hidden, 20.0, 1e-12);
    CHECK(r.probe.gate_mean != NULL);
    CHECK_NEAR(r.probe.mean_gate, 0.3, 1e-12);
    lcx_run_free(&r);
}

static json_t *find_run(json_t *report, size_t i) { return json_array_get(json_object_get(report, "runs"), i); }

static json_t *find_cell(json_t *run, const char *task, long length)
{
    json_t *cells = json_object_get(run, "cells");
    for (size_t i = 0; i < json_array_size(cells); i++) {
        json_t *c = json_array_get(cells, i);
        if (!strcmp(json_string_value(json_object_get(c, "task")), task) &&
            json_integer_value(json_object_get(c, "length")) == length)
            return c;
    }
    return NULL;
}

TEST(report_json_deltas_against_the_first)
{
    lcx_run runs[2];
    lcx_err err = {0};
    CHECK_INT(lcx_run_load(FIX "/base", 85.6, &runs[0], &err), 0);
    CHECK_INT(lcx_run_load(FIX "/gated", 85.6, &runs[1], &err), 0);
    if (err.code)
        return;
    lcx_run_default_names(runs, 2);
    CHECK_STR(runs[0].name, "base");
    CHECK_STR(runs[1].name, "gated");
    CHECK_INT(lcx_runs_check_lengths(runs, 2, &err), 0);
    json_t *j = lcx_report_json(runs, 2, 85.6);
    CHECK_STR(json_string_value(json_object_get(j, "kind")), "lcx-report");
    CHECK_INT(json_integer_value(json_object_get(j, "version")), 1);
    CHECK_NEAR(json_real_value(json_object_get(j, "threshold")), 85.6, 1e-12);
    json_t *b = find_run(j, 0), *g = find_run(j, 1);
    CHECK(json_object_get(find_cell(b, "qa_1", 2048), "delta") == NULL); /* the reference */
    json_t *c = find_cell(g, "niah_single_1", 4096);
    CHECK_NEAR(json_real_value(json_object_get(c, "score")), 75.0, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(c, "delta")), 50.0, 1e-9);
    CHECK_INT(json_integer_value(json_object_get(c, "samples")), 4);
    CHECK_NEAR(json_real_value(json_object_get(find_cell(g, "qa_1", 1024), "delta")), 25.0, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(find_cell(g, "niah_single_1", 1024), "delta")), 0.0, 1e-9);
    json_t *md = json_object_get(g, "mean_deltas");
    CHECK_NEAR(json_real_value(json_array_get(md, 0)), 12.5, 1e-9);
    CHECK_NEAR(json_real_value(json_array_get(md, 1)), 25.0, 1e-9);
    CHECK_NEAR(json_real_value(json_array_get(md, 2)), 50.0, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(g, "wavg_inc_delta")), 35.41, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(g, "wavg_dec_delta")), 22.91, 1e-9);
    CHECK_INT(json_integer_value(json_object_get(b, "effective_length")), 1024);
    CHECK_INT(json_integer_value(json_object_get(g, "effective_length")), 2048);
    CHECK_INT(json_integer_value(json_object_get(b, "original_context")), 1024);
    json_t *gp = json_object_get(g, "probe"), *bp = json_object_get(b, "probe");
    CHECK_NEAR(json_real_value(json_object_get(gp, "gate_mean")), 0.3, 1e-12);
    CHECK(json_is_null(json_object_get(bp, "gate_mean")));
    CHECK_NEAR(json_real_value(json_object_get(bp, "first_token_share")), 0.7, 1e-12);

    /* Written and read back: the same cells and figures. */
    char path[] = "/tmp/lcx-test-report-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd);
        CHECK_INT(json_dump_file(j, path, JSON_REAL_PRECISION(10)), 0);
        lcx_run *back = NULL;
        size_t n = 0;
        CHECK_INT(lcx_report_file_load(path, 85.6, &back, &n, &err), 0);
        CHECK_INT(n, 2);
        if (n == 2) {
            CHECK_STR(back[1].name, "gated");
            CHECK_INT(back[1].effective, 1);
            CHECK_NEAR(back[1].wavg_inc, 77.08, 1e-9);
            CHECK_NEAR(back[0].means[2], 12.5, 1e-9);
            CHECK_NEAR(lcx_cell_score(lcx_run_cell(&back[0], "niah_single_1", 2048)), 75.0, 1e-9);
            CHECK_INT(lcx_run_cell(&back[0], "qa_1", 4096)->nulls, 1);
            CHECK_INT(lcx_run_cell(&back[0], "qa_1", 4096)->count, 4);
            CHECK_NEAR(back[1].probe.mean_gate, 0.3, 1e-12);
            CHECK_INT(back[0].orig_ctx, 1024);
        }
        for (size_t i = 0; i < n; i++)
            lcx_run_free(&back[i]);
        free(back);
        /* A report with two runs is not a baseline. */
        lcx_run one;
        CHECK_INT(lcx_run_load_any(path, 85.6, &one, &err), LCX_EINPUT);
        CHECK(strstr(err.msg, "report of 2 runs") != NULL);
        unlink(path);
    }
    json_decref(j);
    lcx_run_free(&runs[0]);
    lcx_run_free(&runs[1]);
}

static int load_text_as_report(const char *text, lcx_err *err)
{
    char path[] = "/tmp/lcx-test-kind-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *fp = fdopen(fd, "w");
    fputs(text, fp);
    fclose(fp);
    lcx_run r;
    int rc = lcx_run_load_any(path, 85.6, &r, err);
    if (!rc)
        lcx_run_free(&r);
    unlink(path);
    return rc;
}

TEST(wrong_kind_of_file_is_named)
{
    lcx_err err = {0};
    CHECK_INT(load_text_as_report("{\"scores\": {}, \"means\": {}, \"nulls\": {}}", &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "is a summary.json") != NULL);
    CHECK_INT(load_text_as_report("{\"kind\": \"lcx-sweep\", \"cells\": []}", &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "is a sweep.json") != NULL);
    CHECK_INT(load_text_as_report("{\"lcx_version\": \"0.1.0\", \"config\": {}}", &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "is a run.json") != NULL);
    CHECK_INT(load_text_as_report("{\"kind\": \"lcx-report\", \"version\": 9, \"runs\": []}", &err),
              LCX_EINPUT);
    CHECK(strstr(err.msg, "version 9 is newer") != NULL);
    CHECK_INT(load_text_as_report("[1, 2]", &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "not an lcx-report JSON") != NULL);
    CHECK_INT(load_text_as_report("{\"index\": 0, \"pred\": \"x\"}\n{\"index\": 1}\n", &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "not an lcx-report JSON") != NULL);
    CHECK_INT(load_text_as_report("{\"kind\": \"lcx-report\", \"version\": 1, \"runs\": [{\"name\": \"a\", "
                                  "\"lengths\": [1024], \"cells\": [{\"task\": \"vt\", \"length\": 1024, "
                                  "\"score\": 101, \"samples\": 5}]}]}",
                                  &err),
              LCX_EINPUT);
    CHECK(strstr(err.msg, "runs[0].cells[0].score") != NULL);
    CHECK_INT(load_text_as_report("{\"kind\": \"lcx-report\", \"version\": 1, \"runs\": [{\"name\": \"a\", "
                                  "\"lengths\": [1024], \"cells\": [{\"task\": \"vt\", \"length\": 2048, "
                                  "\"score\": 10, \"samples\": 5}]}]}",
                                  &err),
              LCX_EINPUT);
    CHECK(strstr(err.msg, "runs[0].cells[0].length") != NULL);
}

TEST(mismatched_lengths_name_both_runs)
{
    lcx_run runs[2];
    lcx_run_init(&runs[0]);
    lcx_run_init(&runs[1]);
    size_t a[] = {1024, 2048}, b[] = {1024, 4096};
    snprintf(runs[0].name, sizeof runs[0].name, "base");
    snprintf(runs[1].name, sizeof runs[1].name, "other");
    runs[0].lengths = a;
    runs[0].n_lengths = 2;
    runs[1].lengths = b;
    runs[1].n_lengths = 2;
    lcx_err err = {0};
    CHECK_INT(lcx_runs_check_lengths(runs, 2, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "base") && strstr(err.msg, "1024,2048"));
    CHECK(strstr(err.msg, "other") && strstr(err.msg, "1024,4096"));
    runs[1].lengths = a;
    CHECK_INT(lcx_runs_check_lengths(runs, 2, &err), 0);
}

TEST(default_names_tell_runs_apart)
{
    lcx_run r[3];
    for (int i = 0; i < 3; i++)
        lcx_run_init(&r[i]);
    snprintf(r[0].path, sizeof r[0].path, "runs/a/x/out/");
    snprintf(r[1].path, sizeof r[1].path, "runs/b/x/out");
    snprintf(r[2].path, sizeof r[2].path, "/abs/c/x/out");
    lcx_run_default_names(r, 3);
    CHECK_STR(r[0].name, "a/x/out");
    CHECK_STR(r[1].name, "b/x/out");
    CHECK_STR(r[2].name, "c/x/out");
    snprintf(r[1].path, sizeof r[1].path, "runs/gated");
    r[0].name[0] = r[1].name[0] = '\0';
    snprintf(r[2].name, sizeof r[2].name, "kept"); /* from a report JSON */
    lcx_run_default_names(r, 3);
    CHECK_STR(r[0].name, "out");
    CHECK_STR(r[1].name, "gated");
    CHECK_STR(r[2].name, "kept");
}

TEST(sweep_grid_marks_best_and_incomplete)
{
    lcx_sweep_grid g;
    lcx_err err = {0};
    CHECK_INT(lcx_sweep_grid_load(FIX "/sweep", &g, &err), 0);
    if (err.code) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_INT(g.rows, 3);
    CHECK_INT(g.cols, 3);
    CHECK_STR(g.row_labels[0], "yarn 1, temp 1");
    CHECK_STR(g.row_labels[2], "yarn 8, temp 1.2");
    CHECK_STR(g.col_labels[1], "2048");
    CHECK_NEAR(g.yarn_factor[1], 4.0, 0);
    CHECK_NEAR(g.attn_temperature[2], 1.2, 1e-12);
    /* rows: base (87.5, 62.5, 12.5), gated (100, 87.5, 62.5), not started */
    CHECK_NEAR(g.values[0 * 3 + 0], 87.5, 1e-9);
    CHECK_NEAR(g.values[1 * 3 + 2], 62.5, 1e-9);
    CHECK(isnan(g.values[2 * 3 + 0]) && isnan(g.values[2 * 3 + 2]));
    for (int c = 0; c < 3; c++) {
        CHECK_INT(g.best[0 * 3 + c], 0);
        CHECK_INT(g.best[1 * 3 + c], 1);
        CHECK_INT(g.best[2 * 3 + c], 0);
    }
    CHECK_INT(g.n_tasks, 2);
    lcx_sweep_grid_free(&g);
    CHECK_INT(lcx_sweep_grid_load(FIX "/base", &g, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "no sweep.json") != NULL);
}

/* The report JSON lcx writes reads back. A run name of 256 bytes ending in
 * a two-byte character (fuzz_report_json's write-and-read-back check) was
 * cut inside it to fit the 255 bytes kept, and the written report had no
 * "name": lcx check refused it. */
TEST(long_utf8_name_reads_back)
{
    char name[300], json[1024];
    memset(name, 'a', 254);
    strcpy(name + 254, "\xc3\xa9"); /* é, bytes 255 and 256 */
    snprintf(json, sizeof json,
             "{\"kind\": \"lcx-report\", \"version\": 1, \"runs\": [{\"name\": \"%s\", "
             "\"lengths\": [4096], \"cells\": [{\"task\": \"vt\", \"length\": 4096, "
             "\"score\": 50, \"samples\": 2}]}]}",
             name);
    lcx_run *runs, *back;
    size_t n, m;
    lcx_err err = {0};
    CHECK(lcx_report_parse(json, strlen(json), "long.json", LCX_DEFAULT_THRESHOLD, &runs, &n, &err) == 0);
    json_t *j = lcx_report_json(runs, n, LCX_DEFAULT_THRESHOLD);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    CHECK(text != NULL);
    int rc = text ? lcx_report_parse(text, strlen(text), "written.json", LCX_DEFAULT_THRESHOLD,
                                     &back, &m, &err)
                  : -1;
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc == 0) {
        name[254] = '\0'; /* the whole characters that fit */
        CHECK_STR(back[0].name, name);
        lcx_run_free(&back[0]);
        free(back);
    }
    free(text);
    lcx_run_free(&runs[0]);
    free(runs);
}

/* Found by fuzz_report_json: a run whose lengths repeat was accepted, and
 * the report JSON written from it held each of its cells twice, which lcx
 * check then refused ("appears twice"). Refused when read, as in run.json. */
TEST(repeated_lengths_refused)
{
    static const char json[] =
        "{\"kind\": \"lcx-report\", \"version\": 1, \"runs\": [{\"name\": \"baseline\", "
        "\"lengths\": [8192, 8192], \"cells\": [{\"task\": \"niah_single~_vt\", \"length\": "
        "8192, \"score\": 33.33, \"samples\": 3, \"nulls\": 0}]}]}";
    lcx_run *runs;
    size_t n;
    lcx_err err = {0};
    int rc = lcx_report_parse(json, strlen(json), "dup.json", LCX_DEFAULT_THRESHOLD, &runs, &n, &err);
    CHECK_MSG(rc == LCX_EINPUT && strstr(err.msg, "dup.json: field 'runs[0].lengths' repeats 8192"),
              "rc %d: %s", rc, err.msg);
    if (rc == 0) {
        lcx_run_free(&runs[0]);
        free(runs);
    }
}

TEST(intervals_of_the_fixtures)
{
    /* base and gated hold the same 4 samples per cell (same answers). */
    lcx_run runs[2];
    lcx_err err = {0};
    CHECK_INT(lcx_run_load(FIX "/base", 85.6, &runs[0], &err), 0);
    CHECK_INT(lcx_run_load(FIX "/gated", 85.6, &runs[1], &err), 0);
    if (err.code)
        return;
    const lcx_sample_set *s = lcx_run_samples(&runs[0], "niah_single_1", 4096);
    CHECK(s != NULL);
    if (s) {
        CHECK_INT(s->n, 4);
        CHECK_INT(s->by_input, 0);
        CHECK_INT(lcx_sample_set_binary(s), 1);
        CHECK_NEAR(s->score[1], 1.0, 0); /* base has only sample 1 right at 4096 */
        CHECK_NEAR(s->score[0] + s->score[2] + s->score[3], 0.0, 0);
    }
    const char *tasks[] = {"niah_single_1", "qa_1"};
    lcx_report_ci ci;
    CHECK_INT(lcx_report_ci_compute(runs, 2, tasks, 2, &ci, &err), 0);
    if (err.code)
        return;
    /* base niah_single_1 @ 4096: 1 of 4, Wilson 0.0456-0.6994 (centre
     * (0.25 + z^2/8) / (1 + z^2/4) = 0.3722, half-width 0.3269) */
    const lcx_interval *c = &ci.cell[(0 * 2 + 0) * 3 + 2];
    CHECK(c->present);
    CHECK_STR(c->method, "wilson");
    CHECK_NEAR(c->lo, 4.56, 0.005);
    CHECK_NEAR(c->hi, 69.94, 0.005);
    CHECK_INT(c->n, 4);
    /* gated niah_single_1 @ 1024 against base: both 4 of 4, all
     * differences 0: the delta's interval is [0, 0] */
    const lcx_interval *d = &ci.cell_delta[(1 * 2 + 0) * 3 + 0];
    CHECK(d->present);
    CHECK_STR(d->method, "paired-bootstrap");
    CHECK_NEAR(d->lo, 0, 0);
    CHECK_NEAR(d->hi, 0, 0);
    CHECK(!lcx_interval_excludes_zero(d));
    /* the reference has no deltas */
    CHECK(!ci.cell_delta[(0 * 2 + 0) * 3 + 0].present);
    /* mean delta at 4096: 4 samples gained over 8 (2 per task), none lost:
     * a resample with no gain in either task has probability (1/2)^8 <
     * 2.5%, so the interval excludes 0 */
    const lcx_interval *md = &ci.mean_delta[1 * 3 + 2];
    CHECK(md->present);
    CHECK_INT(md->n, 8);
    CHECK(lcx_interval_excludes_zero(md));
    CHECK(md->lo > 0 && md->hi <= 100);
    /* the same figures every time */
    lcx_report_ci again;
    CHECK_INT(lcx_report_ci_compute(runs, 2, tasks, 2, &again, &err), 0);
    CHECK(again.mean_delta[1 * 3 + 2].lo == md->lo && again.mean[1 * 3 + 1].hi == ci.mean[1 * 3 + 1].hi);
    lcx_report_ci_free(&again);
    lcx_report_ci_free(&ci);

    /* per_sample survives the report JSON: indices, scores, ids */
    lcx_run_default_names(runs, 2);
    json_t *j = lcx_report_json(runs, 2, 85.6);
    char *text = json_dumps(j, 0);
    json_decref(j);
    lcx_run *back = NULL;
    size_t nb = 0;
    CHECK_INT(lcx_report_parse(text, strlen(text), "mem.json", 85.6, &back, &nb, &err), 0);
    free(text);
    if (back && nb == 2) {
        const lcx_sample_set *a = lcx_run_samples(&runs[1], "qa_1", 2048),
                             *b = lcx_run_samples(&back[1], "qa_1", 2048);
        CHECK(a && b);
        if (a && b) {
            CHECK_INT(b->n, a->n);
            for (size_t i = 0; i < a->n && i < b->n; i++) {
                CHECK_INT(b->index[i], a->index[i]);
                CHECK(b->score[i] == a->score[i]);
                CHECK(b->input_id[i] == a->input_id[i]);
            }
        }
    }
    for (size_t i = 0; i < nb; i++)
        lcx_run_free(&back[i]);
    free(back);
    /* a broken per_sample is refused naming the field */
    const char *bad = "{\"kind\": \"lcx-report\", \"version\": 1, \"runs\": [{\"name\": \"x\", "
                      "\"lengths\": [1024], \"cells\": [{\"task\": \"qa_1\", \"length\": 1024, "
                      "\"score\": 50, \"samples\": 2, \"per_sample\": {\"ids_from\": \"input\", "
                      "\"index\": [1, 0], \"score\": [1, 0], \"input_id\": [\"0000000000000001\", "
                      "\"0000000000000002\"]}}]}]}";
    CHECK_INT(lcx_report_parse(bad, strlen(bad), "bad.json", 85.6, &back, &nb, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "runs[0].cells[0].per_sample") != NULL);
    lcx_run_free(&runs[0]);
    lcx_run_free(&runs[1]);
}

int main(void)
{
    RUN(effective_length_strictly_exceeds);
    RUN(effective_length_none_qualifies);
    RUN(wavg_three_lengths);
    RUN(wavg_six_lengths);
    RUN(deltas_round_to_two_decimals);
    RUN(fixture_base_figures);
    RUN(fixture_gated_figures_and_auto_factor);
    RUN(report_json_deltas_against_the_first);
    RUN(wrong_kind_of_file_is_named);
    RUN(mismatched_lengths_name_both_runs);
    RUN(default_names_tell_runs_apart);
    RUN(sweep_grid_marks_best_and_incomplete);
    RUN(long_utf8_name_reads_back);
    RUN(repeated_lengths_refused);
    RUN(intervals_of_the_fixtures);
    return check_summary();
}
