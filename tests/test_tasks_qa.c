/* Tests of tasks/qa.c against docs/ruler.md. */
#include "tasks_fixture.h"

static const char QA_HEAD[] = "Answer the question based on the given documents. Only give me "
                              "the answer and do not output any other words.\n\nThe following "
                              "are given documents.\n\nDocument 1:\n";
static const char QA_MID[] = "\n\nAnswer the question based on the given documents. Only give "
                             "me the answer and do not output any other words.\n\nQuestion: ";

static void check_qa(const char *task, size_t length, size_t index)
{
    lcx_sample s;
    CHECK(gen_one(task, "base", length, 42, index, &s) == 0);
    CHECK(starts_with(s.input, QA_HEAD));
    CHECK_INT(count_occurrences(s.input, QA_MID), 1);
    CHECK(strstr(s.input, QA_MID) != NULL && strchr(strstr(s.input, QA_MID) + strlen(QA_MID), '\n') == NULL);
    CHECK_STR(s.answer_prefix, " Answer:");
    CHECK(s.n_outputs >= 1);
    /* the answer is in the documents (gold paragraph present) */
    int found = 0;
    for (size_t i = 0; i < s.n_outputs; i++)
        found |= strstr(s.input, s.outputs[i]) != NULL;
    CHECK_MSG(found, "%s@%zu #%zu: no answer in the documents", task, length, index);
    /* documents are numbered 1..n in order */
    size_t docs = count_occurrences(s.input, "\n\nDocument ");
    char last[64];
    snprintf(last, sizeof last, "\n\nDocument %zu:\n", docs);
    CHECK(docs < 2 || strstr(s.input, last) != NULL);
    check_budget(&s, 4000); /* one unit = 10 documents */
    lcx_sample_free(&s);
}

TEST(squad_prompt_and_gold) { for (size_t i = 0; i < 5; i++) check_qa("qa_1", 4096, i); }
TEST(hotpot_prompt_and_gold) { for (size_t i = 0; i < 5; i++) check_qa("qa_2", 4096, i); }
TEST(budget_at_128k)
{
    check_qa("qa_1", 131072, 0);
    check_qa("qa_2", 131072, 0);
}

TEST(sample_i_uses_question_i)
{
    lcx_sample a, b;
    CHECK(gen_one("qa_1", "base", 4096, 42, 0, &a) == 0);
    CHECK(gen_one("qa_1", "base", 4096, 99, 0, &b) == 0);
    /* another seed shuffles other documents but asks the same question */
    const char *qa = strstr(a.input, "Question: "), *qb = strstr(b.input, "Question: ");
    CHECK(qa && qb && strcmp(qa, qb) == 0);
    CHECK(strcmp(a.input, b.input) != 0);
    lcx_sample_free(&a);
    lcx_sample_free(&b);
}

int main(void)
{
    RUN(squad_prompt_and_gold);
    RUN(hotpot_prompt_and_gold);
    RUN(budget_at_128k);
    RUN(sample_i_uses_question_i);
    lcx_task_data_free(fixture_data());
    return check_summary();
}
