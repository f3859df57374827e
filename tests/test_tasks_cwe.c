/* Tests of tasks/cwe.c against docs/ruler.md. */
#include "tasks_fixture.h"

static const char CWE_HEAD[] = "Below is a numbered list of words. In these words, some appear "
                               "more often than others. Memorize the ones that appear most "
                               "often.\n";
static const char CWE_QUESTION[] = "\nQuestion: What are the 10 most common words in the above list?";
static const char CWE_PREFIX[] = " Answer: The top 10 words that appear most often in the list are:";

/* Count " N. word" entries of `word` in the list part of text. */
static size_t entries_of(const char *list, const char *end, const char *word)
{
    size_t n = 0, len = strlen(word);
    for (const char *p = list; p < end; p++) {
        if (*p != '.' || p[1] != ' ')
            continue;
        const char *w = p + 2;
        if (!strncmp(w, word, len) && (w[len] == ' ' || w + len == end || w[len] == '\n'))
            n++;
    }
    return n;
}

static void check_counts(size_t length, size_t common_reps, size_t uncommon_reps)
{
    lcx_sample s;
    CHECK(gen_one("cwe", "base", length, 42, 0, &s) == 0);
    CHECK(starts_with(s.input, CWE_HEAD));
    CHECK_INT(count_occurrences(s.input, CWE_HEAD), 2);
    CHECK(ends_with(s.input, CWE_QUESTION));
    CHECK_STR(s.answer_prefix, CWE_PREFIX);
    CHECK_INT(s.n_outputs, 10);
    /* the example's answer follows its answer prefix after a space, then a
     * newline and the task */
    const char *ex_answer = strstr(s.input, " most often in the list are: 1. ");
    CHECK(ex_answer != NULL);
    CHECK(ex_answer && strstr(ex_answer, " 10. ") && strchr(ex_answer, '\n') &&
          starts_with(strchr(ex_answer, '\n') + 1, CWE_HEAD));
    const char *task = strstr(s.input + 1, CWE_HEAD);
    CHECK(task != NULL);
    if (!task) {
        lcx_sample_free(&s);
        return;
    }
    const char *list = task + strlen(CWE_HEAD), *end = strstr(list, CWE_QUESTION);
    CHECK(starts_with(list, "1. "));
    for (size_t i = 0; i < s.n_outputs; i++)
        CHECK_MSG(entries_of(list, end, s.outputs[i]) == common_reps, "%s: %zu times",
                  s.outputs[i], entries_of(list, end, s.outputs[i]));
    /* the first listed word that is not common appears uncommon_reps times */
    char first[64] = {0};
    for (const char *p = list; p < end && !first[0]; p = strstr(p + 1, ". ")) {
        char w[64];
        if (sscanf(p + (p == list ? 3 : 2), "%63s", w) != 1)
            break;
        int common = 0;
        for (size_t i = 0; i < s.n_outputs; i++)
            common |= !strcmp(w, s.outputs[i]);
        if (!common)
            strcpy(first, w);
    }
    CHECK(first[0] != 0);
    CHECK_INT(entries_of(list, end, first), uncommon_reps);
    lcx_sample_free(&s);
}

TEST(counts_at_128k_are_30_and_3) { check_counts(131072, 30, 3); }

TEST(counts_below_4k_are_6_and_1) { check_counts(3000, 6, 1); }

TEST(budget_holds_and_is_tight)
{
    lcx_sample s;
    CHECK(gen_one("cwe", "base", 32768, 3, 2, &s) == 0);
    check_budget(&s, 3 * 24); /* one more uncommon word: 3 entries */
    lcx_sample_free(&s);
}

TEST(pseudo_words_extend_the_vocabulary)
{
    /* 1M bytes needs ~26000 distinct words, more than the real word lists. */
    size_t real = 0;
    lcx_data_opts o = {NULL, NULL, NULL, 1 << 20};
    lcx_task_data *d = NULL;
    lcx_err err = {0};
    CHECK(lcx_task_data_load(&o, &d, &err) == 0);
    real = lcx_task_data_cwe_vocab(fixture_data());
    CHECK(real >= 3000);
    CHECK(lcx_task_data_cwe_vocab(d) >= (1 << 20) / 3);
    lcx_task_data_free(d);
}

int main(void)
{
    RUN(counts_at_128k_are_30_and_3);
    RUN(counts_below_4k_are_6_and_1);
    RUN(budget_holds_and_is_tight);
    RUN(pseudo_words_extend_the_vocabulary);
    lcx_task_data_free(fixture_data());
    return check_summary();
}
