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

/* ---- the overall row, by hand ---------------------------------------------
 * Crafted runs: niah_single_1 and qa_1 at 1024 and 2048, ten samples a cell.
 * Cell c (0: niah_single_1 @ 1024, 1: qa_1 @ 1024, 2: niah_single_1 @ 2048,
 * 3: qa_1 @ 2048) scores 1 on the samples marked '1' in right[c], 0 on the
 * others; right[c] NULL leaves the cell out, bit c of bare leaves out its
 * per_sample. Sample i of cell c has the id c * 100 + i + 1 in every run, so
 * that the runs pair. */
static json_t *crafted_run(const char *name, const char *const right[4], unsigned bare)
{
    static const char *const task[4] = {"niah_single_1", "qa_1", "niah_single_1", "qa_1"};
    json_t *run = json_pack("{s:s, s:[i, i]}", "name", name, "lengths", 1024, 2048);
    json_t *cells = json_array();
    for (int c = 0; c < 4; c++) {
        if (!right[c])
            continue;
        json_t *idx = json_array(), *score = json_array(), *ids = json_array();
        int hits = 0;
        for (int i = 0; i < 10; i++) {
            char hex[17];
            snprintf(hex, sizeof hex, "%016x", c * 100 + i + 1);
            hits += right[c][i] == '1';
            json_array_append_new(idx, json_integer(i));
            json_array_append_new(score, json_integer(right[c][i] == '1'));
            json_array_append_new(ids, json_string(hex));
        }
        json_t *cell = json_pack("{s:s, s:i, s:f, s:i, s:i}", "task", task[c], "length",
                                 c < 2 ? 1024 : 2048, "score", 10.0 * hits, "samples", 10, "nulls", 0);
        if (!(bare >> c & 1))
            json_object_set_new(cell, "per_sample",
                                json_pack("{s:s, s:o, s:o, s:o}", "ids_from", "input", "index", idx,
                                          "score", score, "input_id", ids));
        else
            json_decref(idx), json_decref(score), json_decref(ids);
        json_array_append_new(cells, cell);
    }
    json_object_set_new(run, "cells", cells);
    return run;
}

/* The crafted runs as lcx report reads them (a report JSON of them all). */
static int crafted_runs(json_t *list, lcx_run **runs, size_t *n)
{
    json_t *j = json_pack("{s:s, s:i, s:o}", "kind", "lcx-report", "version", 1, "runs", list);
    char *text = json_dumps(j, 0);
    json_decref(j);
    lcx_err err = {0};
    int rc = lcx_report_parse(text, strlen(text), "crafted.json", 85.6, runs, n, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    free(text);
    return rc;
}

static void free_runs(lcx_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lcx_run_free(&runs[i]);
    free(runs);
}

/* base: 80, 60 at 1024 and 50, 30 at 2048 (means 70, 40), overall
 * (80 + 60 + 50 + 30) / 4 = 55. better: every cell gains 2, 3, 3, 4 samples
 * and loses none: 100, 90, 80, 70, overall 85, delta +30. swapped: base
 * with one sample lost and one won in two cells: the same scores, delta 0. */
static const char *const crafted_base[4] = {"1111111100", "1111110000", "1111100000", "1110000000"};
static const char *const crafted_better[4] = {"1111111111", "1111111110", "1111111100",
                                              "1111111000"};
static const char *const crafted_swapped[4] = {"0111111110", "1111110000", "1111100000",
                                               "0111000000"};

TEST(overall_by_hand)
{
    lcx_run *runs;
    size_t n;
    json_t *list = json_pack("[o, o, o]", crafted_run("base", crafted_base, 0),
                             crafted_run("better", crafted_better, 0),
                             crafted_run("swapped", crafted_swapped, 0));
    if (crafted_runs(list, &runs, &n))
        return;
    CHECK_INT(n, 3);
    CHECK_NEAR(runs[0].means[0], 70.0, 0);
    CHECK_NEAR(runs[0].means[1], 40.0, 0);
    size_t lengths[] = {1024, 2048};
    lcx_overall o = lcx_run_overall(&runs[0], lengths, 2);
    CHECK(o.score == 55.0);
    CHECK_INT(o.cells, 4);
    CHECK_INT(o.samples, 40);
    CHECK(o.covers);
    CHECK(lcx_run_overall(&runs[1], lengths, 2).score == 85.0);
    CHECK(lcx_run_overall(&runs[2], lengths, 2).score == 55.0);
    /* over the shorter length only (lcx report --lengths 1024): (80 + 60) / 2 */
    CHECK(lcx_run_overall(&runs[0], lengths, 1).score == 70.0);

    const char *tasks[] = {"niah_single_1", "qa_1"};
    lcx_report_ci ci;
    lcx_err err = {0};
    CHECK_INT(lcx_report_ci_compute(runs, n, tasks, 2, &ci, &err), 0);
    if (err.code) {
        free_runs(runs, n);
        return;
    }
    const lcx_interval *a = &ci.overall[0], *d = &ci.overall_delta[1], *z = &ci.overall_delta[2];
    CHECK(a->present && a->lo < 55 && 55 < a->hi);
    CHECK_STR(a->method, "bootstrap");
    CHECK_INT(a->n, 40);
    CHECK(!ci.overall_delta[0].present); /* the reference has no delta */
    /* better - base: per cell 2, 3, 3, 4 of 10 differences are 1, the rest
     * 0; the mean of the cell means is 0.30 with a standard error of
     * sqrt(.2*.8 + 2*.3*.7 + .4*.6) / (4 sqrt(10)) = 0.072: about
     * [16, 44] points. No resample can go below 0. */
    CHECK(d->present);
    CHECK_STR(d->method, "paired-bootstrap");
    CHECK_INT(d->n, 40);
    CHECK_MSG(d->lo > 10 && d->lo < 30 && d->hi > 30 && d->hi < 50, "[%g, %g]", d->lo, d->hi);
    CHECK(lcx_interval_excludes_zero(d));
    /* swapped - base: one +1 and one -1 in two cells, symmetric about 0 */
    CHECK(z->present && z->n == 40);
    CHECK_MSG(z->lo < 0 && z->hi > 0, "[%g, %g]", z->lo, z->hi);
    CHECK(!lcx_interval_excludes_zero(z));
    /* the seeds depend on neither the order nor the number of runs */
    lcx_run pair[2] = {runs[0], runs[2]};
    lcx_report_ci again;
    CHECK_INT(lcx_report_ci_compute(pair, 2, tasks, 2, &again, &err), 0);
    if (!err.code) {
        CHECK(again.overall_delta[1].lo == z->lo && again.overall_delta[1].hi == z->hi);
        CHECK(again.overall[0].lo == a->lo && again.overall[0].hi == a->hi);
        lcx_report_ci_free(&again);
    }
    lcx_report_ci_free(&ci);

    /* the report JSON's "overall" */
    json_t *j = lcx_report_json(runs, n, 85.6);
    json_t *ob = json_object_get(find_run(j, 0), "overall"),
           *og = json_object_get(find_run(j, 1), "overall"),
           *os = json_object_get(find_run(j, 2), "overall");
    CHECK(json_real_value(json_object_get(ob, "score")) == 55.0);
    CHECK_INT(json_integer_value(json_object_get(ob, "cells")), 4);
    CHECK_INT(json_integer_value(json_object_get(ob, "samples")), 40);
    CHECK(json_object_get(ob, "delta") == NULL);
    CHECK(json_real_value(json_object_get(og, "score")) == 85.0);
    CHECK(json_real_value(json_object_get(og, "delta")) == 30.0);
    json_t *gi = json_object_get(og, "delta_interval");
    CHECK_INT(json_integer_value(json_object_get(gi, "n")), 40);
    CHECK(json_real_value(json_object_get(gi, "lo")) > 0);
    CHECK(json_real_value(json_object_get(os, "delta")) == 0.0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(ob, "interval"), "method")),
              "bootstrap");
    json_decref(j);
    free_runs(runs, n);
}

TEST(overall_over_cells_and_when_absent)
{
    /* holes: base without qa_1 @ 2048. Its overall is the mean of its three
     * cells, (80 + 60 + 50) / 3 = 63.33, as each per-length mean is of the
     * cells present (70, 50), not the mean of those means (60). bare: base
     * without per_sample at qa_1 @ 2048. */
    const char *const holes[4] = {crafted_base[0], crafted_base[1], crafted_base[2], NULL};
    lcx_run *runs;
    size_t n;
    json_t *list = json_pack("[o, o, o]", crafted_run("base", crafted_base, 0),
                             crafted_run("holes", holes, 0), crafted_run("bare", crafted_base, 8));
    if (crafted_runs(list, &runs, &n))
        return;
    size_t lengths[] = {1024, 2048};
    CHECK_NEAR(runs[1].means[1], 50.0, 0);
    lcx_overall o = lcx_run_overall(&runs[1], lengths, 2);
    CHECK(o.score == 63.33);
    CHECK_INT(o.cells, 3);
    const char *tasks[] = {"niah_single_1", "qa_1"};
    lcx_report_ci ci;
    lcx_err err = {0};
    CHECK_INT(lcx_report_ci_compute(runs, n, tasks, 2, &ci, &err), 0);
    if (err.code) {
        free_runs(runs, n);
        return;
    }
    /* holes: its own interval (every cell it holds has samples); no paired
     * delta, the runs hold different tasks at 2048, as the mean delta there */
    CHECK(ci.overall[1].present && ci.overall[1].n == 30);
    CHECK(!ci.overall_delta[1].present);
    CHECK(ci.mean_delta[1 * 2 + 0].present && !ci.mean_delta[1 * 2 + 1].present);
    /* bare: a cell without samples leaves out its overall interval and delta
     * interval, as the mean's at 2048 (1024 keeps its) */
    CHECK(!ci.overall[2].present && !ci.overall_delta[2].present);
    CHECK(ci.mean[2 * 2 + 0].present && !ci.mean[2 * 2 + 1].present);
    lcx_report_ci_free(&ci);
    /* the deltas themselves stay: 63.33 - 55 and 0 */
    json_t *j = lcx_report_json(runs, n, 85.6);
    json_t *oh = json_object_get(find_run(j, 1), "overall"),
           *ob = json_object_get(find_run(j, 2), "overall");
    CHECK_NEAR(json_real_value(json_object_get(oh, "delta")), 8.33, 1e-9);
    CHECK(json_is_null(json_object_get(oh, "delta_interval")));
    CHECK(json_real_value(json_object_get(ob, "delta")) == 0.0);
    CHECK(json_is_null(json_object_get(ob, "interval")));
    json_decref(j);
    free_runs(runs, n);
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
    RUN(overall_by_hand);
    RUN(overall_over_cells_and_when_absent);
    return check_summary();
}
