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
    CHECK(lcx_contains_ci("ΣΟΦΙΑ", "σοφια")); /* Σ first: not final, σ */
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

/* Python's lower() on both sides, not Unicode case folding (RULER:
 * `r.lower() in pred.lower()`). Expected values are Python's, worked out by
 * hand from its rules. */
TEST(case_folding_is_python_lower)
{
    /* Final sigma: "ΟΔΟΣ".lower() == "οδος" (ς after a cased letter at the
     * end), so the reference "οδοσ" (σ) is not in it; folding would say yes. */
    CHECK(lcx_contains_ci("ΟΔΟΣ", "οδος"));
    CHECK(!lcx_contains_ci("ΟΔΟΣ", "οδοσ"));
    CHECK(lcx_contains_ci("ΟΔΟΣΟ", "οδοσο")); /* not final: σ */
    CHECK(!lcx_contains_ci("ΟΔΟΣΟ", "οδοςο"));
    CHECK(lcx_contains_ci("Σ", "σ"));           /* nothing cased before: σ */
    CHECK(lcx_contains_ci("A'Σ", "a'ς"));       /* the apostrophe is case-ignorable */
    CHECK(!lcx_contains_ci("ς", "σ"));          /* lower() leaves ς alone */
    /* İ lowers to "i" + U+0307 (SpecialCasing): "istanbul" is not in
     * "i̇stanbul", but "i̇stanbul" and "İSTANBUL" match. */
    CHECK(!lcx_contains_ci("İstanbul", "istanbul"));
    CHECK(lcx_contains_ci("İstanbul", "i\xcc\x87stanbul"));
    CHECK(lcx_contains_ci("xİSTANBUL", "İstanbul"));
    /* U+0345 (combining ypogegrammeni) lowers to itself; folding maps it to ι. */
    CHECK(!lcx_contains_ci("\xcd\x85", "\xce\xb9"));
    CHECK(!lcx_contains_ci("\xce\xb9", "\xcd\x85"));
    CHECK(lcx_contains_ci("\xcd\x85", "\xcd\x85"));
    /* Kelvin sign K (U+212A) lowers to ASCII k. */
    CHECK(lcx_contains_ci("5 \xe2\x84\xaa", "5 k"));
}

/* RULER computes sum / n * 100 before round(x, 2). Each case here has
 * 100 * sum / n exactly on a tie (a multiple of 1/8), while sum / n is not
 * a dyadic fraction and rounds below it. */
TEST(rounding_order_is_sum_over_n_times_100)
{
    char dir[] = "/tmp/lcx-round-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/qa_1.jsonl", dir);
    /* qa, 160 samples, 23 answered: 23 / 160 = 0.14375 is stored as
     * 0.14374999999999998890, times 100 gives 14.374999999999998 -> 14.37;
     * 100 * 23 / 160 = 14.375 exactly would round half to even: 14.38. */
    FILE *fp = fopen(path, "w");
    for (int i = 0; i < 160; i++)
        fprintf(fp, "{\"max_length\":4096,\"outputs\":[\"Rome\"],\"pred\":\"%s\"}\n",
                i < 23 ? "Rome" : "Milan");
    fclose(fp);
    lcx_table t;
    lcx_table_init(&t);
    lcx_err err = {0};
    CHECK_INT(lcx_score_path(path, &t, &err), 0);
    const lcx_cell *c = lcx_table_find(&t, "qa_1", 4096);
    CHECK(c && c->count == 160);
    if (c)
        CHECK_MSG(lcx_cell_score(c) == 14.37, "%.17g", lcx_cell_score(c));
    lcx_table_free(&t);
    /* vt, 160 samples, 7 of 800 references (one of five in seven samples):
     * 0.2 added seven times is 1.3999999999999999, / 160 * 100 =
     * 0.8749999999999999 -> 0.87 (100 * sum / 160 = 0.875 -> 0.88). */
    snprintf(path, sizeof path, "%s/vt.jsonl", dir);
    fp = fopen(path, "w");
    for (int i = 0; i < 160; i++)
        fprintf(fp, "{\"max_length\":4096,\"outputs\":[\"AAAAA\",\"BBBBB\",\"CCCCC\",\"DDDDD\","
                    "\"EEEEE\"],\"pred\":\"%s\"}\n", i < 7 ? "AAAAA" : "none");
    fclose(fp);
    lcx_table_init(&t);
    CHECK_INT(lcx_score_path(path, &t, &err), 0);
    c = lcx_table_find(&t, "vt", 4096);
    if (c)
        CHECK_MSG(lcx_cell_score(c) == 0.87, "%.17g", lcx_cell_score(c));
    lcx_table_free(&t);
    unlink(path);
    snprintf(path, sizeof path, "%s/qa_1.jsonl", dir);
    unlink(path);
    rmdir(dir);
}

/* Control characters, NUL included, are cleaned up, never rejected. */
TEST(control_characters_in_predictions)
{
    char dir[] = "/tmp/lcx-ctl-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/niah_multivalue.jsonl", dir);
    /* 1: NUL inside: "1111111\n2222222" finds both of 4 -> 0.5
     * 2: a leading NUL and a \x1f: both become newlines, stripped or kept
     *    -> "3333333\n4444444": 2 of 4 -> 0.5
     * 3: only control characters: a null prediction -> 0
     * mean 1 / 3 * 100 = 33.33 */
    write_file(path,
               "{\"max_length\":4096,\"outputs\":[\"1111111\",\"2222222\",\"3333333\",\"4444444\"],"
               "\"pred\":\"1111111\\u00002222222\"}\n"
               "{\"max_length\":4096,\"outputs\":[\"1111111\",\"2222222\",\"3333333\",\"4444444\"],"
               "\"pred\":\"\\u00003333333\\u001f4444444\"}\n"
               "{\"max_length\":4096,\"outputs\":[\"1111111\",\"2222222\",\"3333333\",\"4444444\"],"
               "\"pred\":\" \\u0000\\u0001 \"}\n");
    lcx_table t;
    lcx_table_init(&t);
    lcx_err err = {0};
    CHECK_INT(lcx_score_path(path, &t, &err), 0);
    const lcx_cell *c = lcx_table_find(&t, "niah_multivalue", 4096);
    CHECK(c && c->count == 3 && c->nulls == 1);
    if (c)
        CHECK_MSG(lcx_cell_score(c) == 33.33, "%.17g", lcx_cell_score(c));
    lcx_table_free(&t);
    size_t n;
    char *p = lcx_postprocess_predn("\0 a\0b \0", 8, &n);
    CHECK_STR(p, "a\nb");
    CHECK_INT(n, 3);
    free(p);
    unlink(path);
    rmdir(dir);
}

/* More lengths than any fixed column count: all are scored and shown. */
TEST(many_lengths)
{
    lcx_table t;
    lcx_table_init(&t);
    for (size_t l = 1; l <= 300; l++) {
        lcx_cell *c = lcx_table_cell(&t, "qa_1", 1000 + l);
        c->sum = 1;
        c->count = 2;
    }
    json_t *j = lcx_table_json(&t);
    CHECK_INT(json_object_size(json_object_get(j, "scores")), 300);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(json_object_get(j, "scores"), "1300"),
                                               "qa_1")),
               50.0, 1e-9);
    json_decref(j);
    FILE *fp = tmpfile();
    lcx_table_print(fp, &t);
    rewind(fp);
    char line[8192];
    CHECK(fgets(line, sizeof line, fp) != NULL);
    CHECK(strstr(line, " 1300") != NULL);
    fclose(fp);
    lcx_table_free(&t);
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

/* lcx_strip_think with the default tags, then with tags given. */
static void check_strip(const char *pred, const char *open, const char *close, const char *want)
{
    char *p = lcx_strip_think(pred, open, close);
    CHECK_STR(p, want);
    free(p);
}

TEST(strip_think_spans)
{
    const char *o = "<think>", *c = "</think>";
    /* no tags: unchanged */
    check_strip("", o, c, "");
    check_strip(" 1234567 and 7654321", o, c, " 1234567 and 7654321");
    check_strip("think about <thin k> it", o, c, "think about <thin k> it");
    /* one closed span */
    check_strip("<think>maybe 42?</think> 1234567", o, c, " 1234567");
    check_strip("a<think>x</think>b", o, c, "ab");
    check_strip("<think></think>", o, c, "");
    /* several spans, nested spans */
    check_strip("<think>1</think>a<think>2</think>b<think>3</think>", o, c, "ab");
    check_strip("<think>a<think>b</think>c</think>d", o, c, "d");
    check_strip("x<think><think><think></think></think></think>y", o, c, "xy");
    /* unclosed: everything from the open tag is dropped */
    check_strip("answer 7 <think>but maybe 8", o, c, "answer 7 ");
    check_strip("<think>cut off while thinking", o, c, "");
    check_strip("a<think>b</think>c<think>d<think>e</think>", o, c, "ac");
    /* a close tag outside any span: all before it was thinking */
    check_strip("the open tag was in the prompt</think> 42", o, c, " 42");
    check_strip("a</think>b</think>c", o, c, "c");
    check_strip("a<think>b</think></think>c", o, c, "c");
    /* tags are case-sensitive, exact */
    check_strip("<THINK>x</THINK> y", o, c, "<THINK>x</THINK> y");
    /* custom tags */
    check_strip("[[reasoning]]answer [[x]]", "[[", "]]", "answer ");
    check_strip("<reasoning>r</reasoning>ok <think>t</think>", "<reasoning>", "</reasoning>",
                "ok <think>t</think>");
    check_strip("\xe2\x9f\xa8\xce\xb8\xe2\x9f\xa9 \xc3\xa9t\xc3\xa9", "\xe2\x9f\xa8", "\xe2\x9f\xa9",
                " \xc3\xa9t\xc3\xa9"); /* multi-byte tags */
}

int main(void)
{
    RUN(postprocess_strips_and_replaces_control_chars);
    RUN(match_all_gives_partial_credit);
    RUN(match_part_is_any);
    RUN(unicode_case_insensitive);
    RUN(round2_matches_python);
    RUN(case_folding_is_python_lower);
    RUN(rounding_order_is_sum_over_n_times_100);
    RUN(control_characters_in_predictions);
    RUN(many_lengths);
    RUN(table_from_directory);
    RUN(strip_think_spans);
    return check_summary();
}
