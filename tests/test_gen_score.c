/* End to end through tasks/ and results/: every task's samples, answered
 * with their references, score 100; answered with the first reference
 * only, string_match_all gives partial credit and string_match_part full. */
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "results/score.h"
#include "tasks_fixture.h"

static void write_preds(const char *path, const char *task, size_t length, int first_only,
                        double *expect)
{
    FILE *fp = fopen(path, "w");
    double sum = 0;
    for (size_t i = 0; i < 3; i++) {
        lcx_sample s;
        CHECK(gen_one(task, "base", length, 42, i, &s) == 0);
        json_t *rec = lcx_sample_json(&s, task);
        strbuf pred;
        sb_init(&pred);
        for (size_t k = 0; k < (first_only ? 1 : s.n_outputs); k++)
            sb_printf(&pred, " %s,", s.outputs[k]);
        json_object_set_new(rec, "pred", json_string(sb_str(&pred)));
        char *line = json_dumps(rec, JSON_COMPACT);
        fprintf(fp, "%s\n", line);
        free(line);
        json_decref(rec);
        sb_free(&pred);
        const lcx_task *t = lcx_task_find(task);
        sum += first_only && t->metric == METRIC_MATCH_ALL ? 1.0 / (double)s.n_outputs : 1.0;
        lcx_sample_free(&s);
    }
    fclose(fp);
    *expect = lcx_round2(sum / 3.0 * 100.0); /* RULER's order */
}

TEST(references_score_100_and_partial_answers_score_partially)
{
    char dir[] = "/tmp/lcx-e2e-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    for (int first_only = 0; first_only < 2; first_only++) {
        lcx_table t;
        lcx_table_init(&t);
        for (size_t i = 0; i < lcx_task_count(); i++) {
            const char *task = lcx_task_at(i)->name;
            char path[512];
            snprintf(path, sizeof path, "%s/%s.jsonl", dir, task);
            double expect;
            write_preds(path, task, 4096, first_only, &expect);
            lcx_err err = {0};
            CHECK_MSG(lcx_score_path(path, &t, &err) == 0, "%s", err.msg);
            const lcx_cell *c = lcx_table_find(&t, task, 4096);
            CHECK(c != NULL);
            if (c)
                CHECK_MSG(lcx_cell_score(c) == expect, "%s: %.2f != %.2f", task,
                          lcx_cell_score(c), expect);
            if (!first_only)
                CHECK(c && lcx_cell_score(c) == 100.0);
            unlink(path);
        }
        lcx_table_free(&t);
    }
    rmdir(dir);
}

/* lcx_sample_jsonl writes what jansson's json_dumps writes (jansson is the
 * reference), for every task's samples and for strings with every control
 * character, quotes, backslashes, DEL, '/' and multi-byte UTF-8. */
static void check_line(const lcx_sample *s, const char *task)
{
    json_t *rec = lcx_sample_json(s, task);
    char *want = json_dumps(rec, JSON_COMPACT);
    strbuf got;
    sb_init(&got);
    CHECK(lcx_sample_jsonl(s, task, &got) == 0);
    CHECK(got.len > 0 && got.data[got.len - 1] == '\n');
    if (got.len)
        got.data[--got.len] = '\0';
    CHECK_MSG(want && strcmp(want, sb_str(&got)) == 0, "%s: line differs from json_dumps", task);
    free(want);
    json_decref(rec);
    sb_free(&got);
}

TEST(jsonl_lines_match_jansson)
{
    for (size_t i = 0; i < lcx_task_count(); i++) {
        const char *task = lcx_task_at(i)->name;
        lcx_sample s;
        CHECK(gen_one(task, "chatml", 4096, 7, 0, &s) == 0);
        check_line(&s, task);
        lcx_sample_free(&s);
    }
    char all[160];
    size_t k = 0;
    for (int c = 1; c < 0x20; c++)
        all[k++] = (char)c;
    snprintf(all + k, sizeof all - k, "%s", "\"\\/\x7f a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xe2\x80\xa8 end");
    char *outs[] = {all, (char *)"", (char *)"plain"};
    lcx_sample s = {0};
    s.index = 12345;
    s.input = all;
    s.answer_prefix = (char *)"Answer: \"quoted\"\t\\";
    s.outputs = outs;
    s.n_outputs = 3;
    s.length = 99;
    s.max_length = 4096;
    s.tokens_to_generate = 128;
    check_line(&s, "task\n\"x\"");
    /* Invalid UTF-8 is refused and nothing is appended. */
    strbuf got;
    sb_init(&got);
    sb_puts(&got, "kept");
    s.input = (char *)"bad \xff byte";
    CHECK(lcx_sample_jsonl(&s, "t", &got) == -1);
    CHECK_STR(sb_str(&got), "kept");
    sb_free(&got);
}

int main(void)
{
    RUN(jsonl_lines_match_jansson);
    RUN(references_score_100_and_partial_answers_score_partially);
    lcx_task_data_free(fixture_data());
    return check_summary();
}
