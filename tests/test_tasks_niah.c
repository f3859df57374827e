/* Tests of tasks/niah.c against docs/ruler.md. */
#include <ctype.h>

#include "tasks_fixture.h"

static const char SINGULAR_HEAD[] =
    "A special magic number is hidden within the following text. Make sure to memorize it. I "
    "will quiz you about the number afterwards.\n";
static const char PLURAL_HEAD[] =
    "Some special magic numbers are hidden within the following text. Make sure to memorize it. "
    "I will quiz you about the numbers afterwards.\n";

TEST(single_1_prompt_is_singularised_noise)
{
    lcx_sample s;
    CHECK(gen_one("niah_single_1", "base", 4096, 42, 0, &s) == 0);
    CHECK(starts_with(s.input, SINGULAR_HEAD));
    CHECK(starts_with(s.input + strlen(SINGULAR_HEAD),
                      "The grass is green. The sky is blue. The sun is yellow. Here we go. There "
                      "and back again.\n") ||
          starts_with(s.input + strlen(SINGULAR_HEAD), "One of the special magic numbers for "));
    CHECK_INT(s.n_outputs, 1);
    /* suffix: "\nWhat is the special magic number for KEY mentioned in the provided text?" */
    const char *q = strstr(s.input, "\nWhat is the special magic number for ");
    CHECK(q != NULL);
    CHECK(ends_with(s.input, " mentioned in the provided text?"));
    char key[128] = {0};
    if (q)
        sscanf(q, "\nWhat is the special magic number for %127s", key);
    char needle[256];
    snprintf(needle, sizeof needle, "One of the special magic numbers for %s is: %s.", key,
             s.outputs[0]);
    CHECK_MSG(count_occurrences(s.input, needle) == 1, "needle '%s' not found once", needle);
    char prefix[256];
    snprintf(prefix, sizeof prefix,
             " The special magic number for %s mentioned in the provided text is", key);
    CHECK_STR(s.answer_prefix, prefix);
    /* 7-digit value in [1000000, 9999999] */
    CHECK_INT(strlen(s.outputs[0]), 7);
    CHECK(s.outputs[0][0] >= '1');
    check_budget(&s, 90); /* one noise line with its newline */
    lcx_sample_free(&s);
}

TEST(multi_value_prompt_stays_plural)
{
    lcx_sample s;
    CHECK(gen_one("niah_multivalue", "base", 4096, 42, 3, &s) == 0);
    CHECK(starts_with(s.input, PLURAL_HEAD));
    CHECK(strstr(s.input, "\nWhat are all the special magic numbers for ") != NULL);
    CHECK(starts_with(s.answer_prefix, " The special magic numbers for "));
    CHECK(ends_with(s.answer_prefix, " mentioned in the provided text are"));
    CHECK_INT(s.n_outputs, 4);
    for (size_t i = 0; i < s.n_outputs; i++)
        CHECK(strstr(s.input, s.outputs[i]) != NULL);
    lcx_sample_free(&s);
}

TEST(multi_query_joins_keys_with_and)
{
    lcx_sample s;
    CHECK(gen_one("niah_multiquery", "base", 8192, 7, 1, &s) == 0);
    const char *q = strstr(s.input, "\nWhat are all the special magic numbers for ");
    CHECK(q != NULL);
    if (q) {
        /* "a, b, c, and d mentioned" */
        q += strlen("\nWhat are all the special magic numbers for ");
        const char *end = strstr(q, " mentioned in the provided text?");
        CHECK(end != NULL);
        size_t commas = 0;
        for (const char *p = q; p < end; p++)
            commas += *p == ',';
        CHECK_INT(commas, 3);
        CHECK(strstr(q, ", and ") != NULL && strstr(q, ", and ") < end);
    }
    CHECK_INT(s.n_outputs, 4);
    lcx_sample_free(&s);
}

TEST(uuid_values_are_version_4)
{
    lcx_sample s;
    CHECK(gen_one("niah_multikey_3", "base", 4096, 42, 2, &s) == 0);
    CHECK(starts_with(s.input, "A special magic uuid is hidden within the following text."));
    const char *u = s.outputs[0];
    CHECK_INT(strlen(u), 36);
    CHECK(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
    CHECK(u[14] == '4');
    CHECK(strchr("89ab", u[19]) != NULL);
    /* needle haystack: every line is a needle sentence */
    const char *body = s.input + strlen("A special magic uuid is hidden within the following "
                                        "text. Make sure to memorize it. I will quiz you about "
                                        "the uuid afterwards.\n");
    CHECK(starts_with(body, "One of the special magic uuids for "));
    /* keys are uuids too */
    CHECK(strstr(s.input, "\nWhat is the special magic uuid for ") != NULL);
    CHECK(count_occurrences(s.input, u) == 1);
    lcx_sample_free(&s);
}

TEST(multikey_1_essay_has_four_needles)
{
    lcx_sample s;
    CHECK(gen_one("niah_multikey_1", "base", 16384, 42, 0, &s) == 0);
    CHECK_INT(count_occurrences(s.input, "One of the special magic numbers for "), 4);
    CHECK_INT(s.n_outputs, 1);
    check_budget(&s, 20); /* one more essay word */
    lcx_sample_free(&s);
}

TEST(budget_holds_at_4k_and_128k)
{
    static const char *tasks[] = {"niah_single_1", "niah_single_2", "niah_single_3",
                                  "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
                                  "niah_multivalue", "niah_multiquery"};
    /* one unit: a noise line (90 bytes), a needle line (~110), an essay word (<= 30) */
    static const size_t unit[] = {90, 30, 30, 30, 120, 130, 30, 30};
    size_t lengths[] = {4096, 131072};
    for (size_t t = 0; t < 8; t++)
        for (size_t l = 0; l < 2; l++) {
            lcx_sample s;
            CHECK(gen_one(tasks[t], "base", lengths[l], 42, 5, &s) == 0);
            char *p = full_prompt(&s);
            for (size_t i = 0; i < s.n_outputs; i++)
                CHECK_MSG(strstr(s.input, s.outputs[i]) != NULL, "%s: answer %s missing",
                          tasks[t], s.outputs[i]);
            check_budget(&s, unit[t]);
            free(p);
            lcx_sample_free(&s);
        }
}

TEST(essay_needle_depth_positions_are_sentence_boundaries)
{
    lcx_sample s;
    CHECK(gen_one("niah_single_2", "base", 8192, 11, 4, &s) == 0);
    const char *n = strstr(s.input, "One of the special magic numbers for ");
    CHECK(n != NULL);
    if (n && n > s.input + 2) {
        /* The needle follows a sentence end and a space (or opens the context). */
        CHECK(n[-1] == ' ' || n[-1] == '\n');
        if (n[-1] == ' ')
            CHECK(strchr(".!?\"')", n[-2]) != NULL || n[-2] == '\n');
    }
    lcx_sample_free(&s);
}

TEST(chat_templates_wrap_and_answer_prefix_goes_in_the_assistant_turn)
{
    lcx_sample s;
    CHECK(gen_one("niah_single_1", "chatml", 4096, 42, 0, &s) == 0);
    CHECK(starts_with(s.input, "<|im_start|>user\nA special magic number is hidden"));
    CHECK(ends_with(s.input, " mentioned in the provided text?<|im_end|>\n<|im_start|>assistant\n"));
    CHECK(starts_with(s.answer_prefix, " The special magic number for "));
    lcx_sample_free(&s);
    CHECK(gen_one("niah_multivalue", "llama3", 4096, 42, 0, &s) == 0);
    CHECK(starts_with(s.input, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nSome special magic numbers are hidden"));
    CHECK(ends_with(s.input, "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
    lcx_sample_free(&s);
    CHECK(gen_one("niah_single_2", "meta-chat", 4096, 42, 0, &s) == 0);
    CHECK(starts_with(s.input, "[INST] A special magic number is hidden"));
    CHECK(ends_with(s.input, " mentioned in the provided text? [/INST]"));
    lcx_sample_free(&s);
}

TEST(same_seed_same_bytes_other_seed_other_bytes)
{
    lcx_sample a, b, c;
    CHECK(gen_one("niah_multikey_2", "base", 8192, 42, 9, &a) == 0);
    CHECK(gen_one("niah_multikey_2", "base", 8192, 42, 9, &b) == 0);
    CHECK(gen_one("niah_multikey_2", "base", 8192, 43, 9, &c) == 0);
    CHECK_STR(a.input, b.input);
    CHECK_STR(a.outputs[0], b.outputs[0]);
    CHECK(strcmp(a.input, c.input) != 0);
    lcx_sample_free(&a);
    lcx_sample_free(&b);
    lcx_sample_free(&c);
}

TEST(too_short_length_is_an_error)
{
    lcx_sample s;
    lcx_counter c = lcx_byte_counter();
    lcx_gen_ctx ctx = {lcx_task_find("niah_single_2"), fixture_data(), lcx_template_find("base"),
                       &c, 200, 42, 0};
    lcx_err err = {0};
    CHECK_INT(lcx_gen_sample(&ctx, 0, &s, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "too short for task niah_single_2") != NULL);
    CHECK_INT(lcx_gen_check_length(&ctx, &err), LCX_EINPUT);
}

/* A niah row the registry does not have: 11 keys x 4 values in an essay. */
static lcx_task custom_niah(lcx_haystack hay, int keys, int values, int queries)
{
    lcx_task t = *lcx_task_find("niah_multikey_1");
    t.name = "niah_custom";
    t.haystack = hay;
    t.num_keys = keys;
    t.num_values = values;
    t.num_queries = queries;
    return t;
}

/* Each impossible needle count is its own input error, never "out of memory"
 * (essay depths: 40; the needle arrays: 16 keys, 16 values). */
TEST(too_many_needles_is_an_input_error)
{
    lcx_counter c = lcx_byte_counter();
    struct {
        lcx_task t;
        const char *msg;
    } cases[] = {
        {custom_niah(HAYSTACK_ESSAY, 11, 4, 1),
         "niah_custom: 44 needles, at most 40 in an essay haystack (one per depth; 11 keys x 4 "
         "values)"},
        {custom_niah(HAYSTACK_ESSAY, 1, 4, 11), "niah_custom: 44 needles, at most 40"},
        {custom_niah(HAYSTACK_NOISE, 17, 1, 1), "niah_custom: 17 keys, at most 16"},
        {custom_niah(HAYSTACK_NEEDLE, 1, 17, 1), "niah_custom: 17 values per key, at most 16"},
        {custom_niah(HAYSTACK_ESSAY, 0, 1, 1), "niah_custom: num_keys 0, num_values 1, "
                                               "num_queries 1: each must be at least 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lcx_gen_ctx ctx = {&cases[i].t, fixture_data(), lcx_template_find("base"), &c, 16384, 42, 0};
        lcx_sample s;
        lcx_err err = {0};
        CHECK_INT(lcx_gen_sample(&ctx, 0, &s, &err), LCX_EINPUT);
        CHECK_MSG(!strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)), "case %zu: %s", i, err.msg);
        CHECK(strchr(err.msg, '\n') == NULL);
        lcx_err err2 = {0};
        CHECK_INT(lcx_gen_check_length(&ctx, &err2), LCX_EINPUT);
        CHECK_STR(err2.msg, err.msg);
    }
    /* 40 needles in an essay and 16 x 16 in lines still generate. */
    lcx_task ok[] = {custom_niah(HAYSTACK_ESSAY, 10, 4, 1), custom_niah(HAYSTACK_NOISE, 16, 16, 2)};
    for (size_t i = 0; i < 2; i++) {
        lcx_gen_ctx ctx = {&ok[i], fixture_data(), lcx_template_find("base"), &c, 65536, 42, 0};
        lcx_sample s;
        lcx_err err = {0};
        int rc = lcx_gen_sample(&ctx, 0, &s, &err);
        CHECK_MSG(rc == 0, "ok case %zu: %s", i, err.msg);
        if (rc)
            continue;
        CHECK_INT(s.n_outputs, i == 0 ? 4 : 32);
        for (size_t k = 0; k < s.n_outputs; k++)
            CHECK(strstr(s.input, s.outputs[k]) != NULL);
        lcx_sample_free(&s);
    }
}

/* lcx_niah_needles: written by hand from RULER's needle sentence (docs/ruler.md). */
TEST(needles_are_found_in_text)
{
    const char *text =
        "Intro. One of the special magic numbers for calm-river is: 1234567. Filler text.\n"
        "One of the special magic uuids for 3f63ddc6-3b6e-491c-83d1-e1e8abfb33ae is: "
        "54c94971-75ae-4a17-9689-e631904739bb.\n"
        "One of the special magic numbers for two words is: 7654321.\n" /* a key with a space */
        "One of the special magic numbers for dry-leaf is: 42\n"        /* no full stop */
        "One of the special magic numbers for last-one is: 7000001.";
    lcx_needle_span nd[4];
    size_t n = lcx_niah_needles(text, nd, 4);
    CHECK_INT(n, 3);
    if (n != 3)
        return;
    CHECK(nd[0].key_len == 10 && !strncmp(nd[0].key, "calm-river", 10));
    CHECK(nd[0].value_len == 7 && !strncmp(nd[0].value, "1234567", 7));
    CHECK(nd[1].key_len == 36 && !strncmp(nd[1].key, "3f63ddc6-3b6e-491c-83d1-e1e8abfb33ae", 36));
    CHECK(nd[1].value_len == 36 && !strncmp(nd[1].value, "54c94971-75ae-4a17-9689-e631904739bb", 36));
    CHECK(nd[2].key_len == 8 && !strncmp(nd[2].key, "last-one", 8));
    CHECK(nd[2].value_len == 7 && !strncmp(nd[2].value, "7000001", 7));
    /* counted beyond max, stored up to it */
    CHECK_INT(lcx_niah_needles(text, nd, 1), 3);
    CHECK_INT(lcx_niah_needles("no needles here", nd, 4), 0);
}

int main(void)
{
    RUN(single_1_prompt_is_singularised_noise);
    RUN(multi_value_prompt_stays_plural);
    RUN(multi_query_joins_keys_with_and);
    RUN(uuid_values_are_version_4);
    RUN(multikey_1_essay_has_four_needles);
    RUN(budget_holds_at_4k_and_128k);
    RUN(essay_needle_depth_positions_are_sentence_boundaries);
    RUN(chat_templates_wrap_and_answer_prefix_goes_in_the_assistant_turn);
    RUN(same_seed_same_bytes_other_seed_other_bytes);
    RUN(too_short_length_is_an_error);
    RUN(needles_are_found_in_text);
    RUN(too_many_needles_is_an_input_error);
    lcx_task_data_free(fixture_data());
    return check_summary();
}
