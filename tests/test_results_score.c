/* Tests of results/score.c: RULER's clean-up and metrics on hand-computed
 * cases (scripts/eval/synthetic/constants.py semantics). */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "results/score.h"
#include "results/summary.h"

TEST(postprocess_strips_and_replaces_control_chars)
{
    char *p = lcx_postprocess_pred("  \t 1234567\x01" "abc\x1f\n ");
    CHECK_STR(p, "1234567\nabc");
    free(p);
    p = lcx_postprocess_pred("\xc2\xa0 x \xe3\x80\x80"); /* NBSP and ideographic space */
    CHECK_STR(p, "x");
    free(p);
    p = lcx_postprocess_pred(" \x1c\x1d ");
    CHECK_STR(p, "");
    free(p);
}

TEST(match_all_gives_partial_credit)
{
    const char *refs[] = {"1111111", "2222222", "3333333", "4444444"};
    CHECK_NEAR(lcx_match_all("the numbers are 1111111 and 3333333", refs, 4), 0.5, 1e-12);
    CHECK_NEAR(lcx_match_all("", refs, 4), 0.0, 1e-12);
    CHECK_NEAR(lcx_match_all("1111111 2222222 3333333 4444444", refs, 4), 1.0, 1e-12);
    const char *words[] = {"Apple", "banana"};
    CHECK_NEAR(lcx_match_all("BANANA apple", words, 2), 1.0, 1e-12);
}

TEST(match_part_is_any)
{
    const char *refs[] = {"in 1887", "1887"};
    CHECK_NEAR(lcx_match_part("It was 1887.", refs, 2), 1.0, 1e-12);
    CHECK_NEAR(lcx_match_part("It was 1888.", refs, 2), 0.0, 1e-12);
}

TEST(unicode_case_insensitive)
{
    CHECK(lcx_contains_ci("Das ist ÄRGER", "ärger"));
    CHECK(lcx_contains_ci("ΣΟΦΙΑ", "σοφια"));
    CHECK(!lcx_contains_ci("Ärger", "arger"));
}

TEST(round2_matches_python)
{
    CHECK_NEAR(lcx_round2(100.0 * 2.0 / 3.0), 66.67, 1e-9);
    CHECK_NEAR(lcx_round2(0.125), 0.12, 1e-9);   /* exact tie: half to even */
    CHECK_NEAR(lcx_round2(0.375), 0.38, 1e-9);
    CHECK_NEAR(lcx_round2(2.675), 2.67, 1e-9);   /* 2.675 is below the tie in binary */
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

TEST(table_from_directory)
{
    char dir[] = "/tmp/lcx-score-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[256], f1[300], f2[300];
    snprintf(sub, sizeof sub, "%s/4096", dir);
    mkdir(sub, 0777);
    snprintf(f1, sizeof f1, "%s/niah_multivalue.jsonl", sub);
    snprintf(f2, sizeof f2, "%s/qa_1.jsonl", sub);
    /* niah: 1/4 + 4/4 + 0 (null) = 1.25 / 3 = 41.67 */
    write_file(f1, "{\"outputs\":[\"1\",\"2\",\"3\",\"4\"],\"pred\":\" 1 x\"}\n"
                   "{\"outputs\":[\"1\",\"2\",\"3\",\"4\"],\"pred\":\"4 3 2 1\"}\n"
                   "{\"outputs\":[\"1\",\"2\",\"3\",\"4\"],\"pred\":\"  \\n\"}\n");
    /* qa: 1 + 0 = 50.00 */
    write_file(f2, "{\"outputs\":[\"Paris\",\"paris, France\"],\"pred\":\"PARIS\"}\n"
                   "{\"outputs\":[\"Rome\"],\"pred\":\"Milan\"}\n");
    lcx_table t;
    lcx_table_init(&t);
    lcx_err err = {0};
    CHECK_INT(lcx_score_path(dir, &t, &err), 0);
    const lcx_cell *c = lcx_table_find(&t, "niah_multivalue", 4096);
    CHECK(c != NULL);
    if (c) {
        CHECK_NEAR(lcx_cell_score(c), 41.67, 1e-9);
        CHECK_INT(c->nulls, 1);
        CHECK_INT(c->count, 3);
    }
    c = lcx_table_find(&t, "qa_1", 4096);
    CHECK(c && lcx_cell_score(c) == 50.0);
    CHECK_NEAR(lcx_table_mean(&t, 4096), 45.84, 1e-9); /* (41.67 + 50) / 2 = 45.835 -> 45.84 */
    CHECK_INT(lcx_table_nulls(&t, 4096), 1);
    json_t *j = lcx_table_json(&t);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(json_object_get(j, "scores"), "4096"), "qa_1")), 50.0, 1e-9);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(j, "nulls"), "4096"), "niah_multivalue")), 1);
    json_decref(j);
    lcx_table_free(&t);

    /* a record missing `pred` names the file, line and field */
    write_file(f2, "{\"outputs\":[\"Rome\"],\"pred\":\"Rome\"}\n{\"outputs\":[\"Rome\"]}\n");
    lcx_table_init(&t);
    CHECK_INT(lcx_score_path(f2, &t, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "qa_1.jsonl:2") != NULL && strstr(err.msg, "'pred'") != NULL);
    lcx_table_free(&t);
    unlink(f1);
    unlink(f2);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    RUN(postprocess_strips_and_replaces_control_chars);
    RUN(match_all_gives_partial_credit);
    RUN(match_part_is_any);
    RUN(unicode_case_insensitive);
    RUN(round2_matches_python);
    RUN(table_from_directory);
    return check_summary();
}
