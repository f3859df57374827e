/* check.h: a tiny test framework. Each tests/test_*.c is its own program:
 *
 *   TEST(parses_lengths) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(parses_lengths); return check_summary(); }
 *
 * A test passes when none of its checks fail. The program prints one line
 * "check-summary <passed> <failed>" that tests/run.sh adds up. */
#ifndef LCX_CHECK_H
#define LCX_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures_in_test;
static int check_tests_passed, check_tests_failed;
static const char *check_current_test;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            check_failures_in_test++;                                                 \
            fprintf(stderr, "  FAIL %s (%s:%d): %s\n", check_current_test, __FILE__,  \
                    __LINE__, #cond);                                                 \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        if (!(cond)) {                                                                \
            check_failures_in_test++;                                                 \
            fprintf(stderr, "  FAIL %s (%s:%d): %s: ", check_current_test, __FILE__,  \
                    __LINE__, #cond);                                                 \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

#define CHECK_INT(a, b)                                                               \
    do {                                                                              \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);               \
        CHECK_MSG(check_a_ == check_b_, "%lld != %lld", check_a_, check_b_);          \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *check_a_ = (a), *check_b_ = (b);                                  \
        CHECK_MSG(check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0,            \
                  "\"%s\" != \"%s\"", check_a_ ? check_a_ : "(null)",                  \
                  check_b_ ? check_b_ : "(null)");                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
    do {                                                                              \
        double check_a_ = (a), check_b_ = (b);                                        \
        CHECK_MSG(check_a_ - check_b_ <= (tol) && check_b_ - check_a_ <= (tol),       \
                  "%.10g vs %.10g (tol %g)", check_a_, check_b_, (double)(tol));       \
    } while (0)

#define TEST(name) static void name(void)

#define RUN(name)                                                                     \
    do {                                                                              \
        check_current_test = #name;                                                   \
        check_failures_in_test = 0;                                                   \
        name();                                                                       \
        if (check_failures_in_test) {                                                 \
            check_tests_failed++;                                                     \
            fprintf(stderr, "FAIL %s\n", #name);                                      \
        } else {                                                                      \
            check_tests_passed++;                                                     \
            printf("ok   %s\n", #name);                                               \
        }                                                                             \
        fflush(stdout);                                                               \
    } while (0)

static inline int check_summary(void)
{
    printf("check-summary %d %d\n", check_tests_passed, check_tests_failed);
    return check_tests_failed ? 1 : 0;
}

#endif
