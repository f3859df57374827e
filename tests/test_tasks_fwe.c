/* Tests of tasks/fwe.c against docs/ruler.md. */
#include "tasks_fixture.h"

static const char FWE_HEAD[] = "Read the following coded text and track the frequency of each "
                               "coded word. Find the three most frequently appeared coded words. ";
static const char FWE_TAIL[] = "\nQuestion: Do not provide any explanation. Please ignore the "
                               "dots '....'. What are the three most frequently appeared words "
                               "in the above coded text?";

TEST(prompt_and_zeta_counts)
{
    lcx_sample s;
    CHECK(gen_one("fwe", "base", 16384, 42, 0, &s) == 0);
    CHECK(starts_with(s.input, FWE_HEAD));
    CHECK(ends_with(s.input, FWE_TAIL));
    CHECK_STR(s.answer_prefix, " Answer: According to the coded text above, the three most "
                               "frequently appeared words are:");
    CHECK_INT(s.n_outputs, 3);
    /* counts follow int(N k^-2 / zeta(2)): rank 1 (the noise word "...",
     * three dots as RULER writes it; the question says '....'), 2, 3, 4 */
    CHECK_INT(count_occurrences(s.input, "...."), 1); /* only the question's */
    size_t dots = count_occurrences(s.input, " ...") - 1; /* " ...." in the question */
    size_t c2 = count_occurrences(s.input, s.outputs[0]);
    size_t c3 = count_occurrences(s.input, s.outputs[1]);
    size_t c4 = count_occurrences(s.input, s.outputs[2]);
    for (int i = 0; i < 3; i++)
        CHECK_INT(strlen(s.outputs[i]), 6);
    double n = (double)dots * 1.6449340668482264; /* N ~ dots * zeta(2) */
    CHECK_NEAR((double)c2, n / 4 / 1.6449340668482264, 1.5);
    CHECK_NEAR((double)c3, n / 9 / 1.6449340668482264, 1.5);
    CHECK_NEAR((double)c4, n / 16 / 1.6449340668482264, 1.5);
    CHECK(c2 > c3 && c3 > c4);
    check_budget(&s, 40);
    lcx_sample_free(&s);
}

TEST(budget_at_4k_and_128k)
{
    size_t lengths[] = {4096, 131072};
    for (int i = 0; i < 2; i++) {
        lcx_sample s;
        CHECK(gen_one("fwe", "base", lengths[i], 42, 1, &s) == 0);
        check_budget(&s, 40);
        lcx_sample_free(&s);
    }
}

int main(void)
{
    RUN(prompt_and_zeta_counts);
    RUN(budget_at_4k_and_128k);
    lcx_task_data_free(fixture_data());
    return check_summary();
}
