/* Tests of tasks/vt.c against docs/ruler.md. */
#include "tasks_fixture.h"

static const char VT_HEAD[] =
    "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n";

/* The variable assigned on the line where `pat` occurs ("VAR X<pat>"). */
static int assigned_var(const char *text, const char *pat, char *out)
{
    const char *p = strstr(text, pat);
    if (!p)
        return 0;
    const char *q = p;
    while (q > text && strncmp(q, "VAR ", 4))
        q--;
    return sscanf(q, "VAR %7[A-Z]", out) == 1;
}

/* Follow the chain from "VAR X = value" through "VAR Y = VAR X " lines. */
static size_t follow_chain(const char *text, const char *value, char vars[][8], size_t max)
{
    char pat[96];
    snprintf(pat, sizeof pat, " = %s\n", value);
    size_t n = 0;
    if (!assigned_var(text, pat, vars[n]))
        return 0;
    for (n = 1; n < max; n++) {
        snprintf(pat, sizeof pat, " = VAR %s ", vars[n - 1]);
        if (!assigned_var(text, pat, vars[n]))
            break;
    }
    return n;
}

TEST(prompt_shape_example_and_answer)
{
    lcx_sample s;
    CHECK(gen_one("vt", "base", 4096, 42, 0, &s) == 0);
    /* one-shot example first, then the task, joined with "\n" */
    CHECK(starts_with(s.input, VT_HEAD));
    CHECK_INT(count_occurrences(s.input, VT_HEAD), 2);
    CHECK(strstr(s.input, "VAR ") != NULL);
    /* the example's value is re-randomised: no 12345 (RULER's randomize_icl) */
    CHECK(strstr(s.input, "12345") == NULL);
    const char *task = strstr(s.input + 1, VT_HEAD);
    /* a blank line between the example (which ends with "\n") and the task */
    CHECK(task != NULL && task[-1] == '\n' && task[-2] == '\n');
    /* the noise lines and chain lines are joined with "\n" */
    CHECK(strstr(s.input, "There and back again.\nThe grass is green.") != NULL);
    CHECK(strstr(s.input, "There and back again. The grass") == NULL);
    CHECK(strstr(s.input, ", they are:  ") != NULL && strstr(s.input, ", they are:  ") < task);
    CHECK(ends_with(s.input, " in the text above."));
    CHECK(starts_with(s.answer_prefix, " Answer: According to the chain(s) of variable assignment "
                                       "in the text above, 5 variables are assigned the value "));
    CHECK(ends_with(s.answer_prefix, ", they are: "));
    /* the answer is the five 5-letter variables of the chain */
    CHECK_INT(s.n_outputs, 5);
    char value[16] = {0};
    const char *v = strstr(s.answer_prefix, "assigned the value ");
    if (v)
        sscanf(v, "assigned the value %15[0-9]", value);
    CHECK_INT(strlen(value), 5);
    char vars[8][8];
    size_t n = task ? follow_chain(task, value, vars, 8) : 0;
    CHECK_INT(n, 5);
    for (size_t i = 0; i < n && i < s.n_outputs; i++)
        CHECK_STR(vars[i], s.outputs[i]);
    for (size_t i = 0; i < s.n_outputs; i++)
        CHECK_INT(strlen(s.outputs[i]), 5);
    check_budget(&s, 90);
    lcx_sample_free(&s);
}

TEST(budget_at_128k)
{
    lcx_sample s;
    CHECK(gen_one("vt", "base", 131072, 42, 1, &s) == 0);
    check_budget(&s, 90);
    lcx_sample_free(&s);
}

TEST(deterministic)
{
    lcx_sample a, b;
    CHECK(gen_one("vt", "base", 8192, 5, 3, &a) == 0);
    CHECK(gen_one("vt", "base", 8192, 5, 3, &b) == 0);
    CHECK_STR(a.input, b.input);
    lcx_sample_free(&a);
    lcx_sample_free(&b);
}

int main(void)
{
    RUN(prompt_shape_example_and_answer);
    RUN(budget_at_128k);
    RUN(deterministic);
    lcx_task_data_free(fixture_data());
    return check_summary();
}
