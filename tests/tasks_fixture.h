/* tasks_fixture.h: helpers the task-generator tests share. */
#ifndef LCX_TASKS_FIXTURE_H
#define LCX_TASKS_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tasks/counter.h"
#include "tasks/tasks.h"

static inline lcx_task_data *fixture_data(void)
{
    static lcx_task_data *data; /* loaded once per test program */
    if (!data) {
        lcx_data_opts o = {NULL, NULL, NULL, 131072};
        lcx_err err = {0};
        if (lcx_task_data_load(&o, &data, &err)) {
            fprintf(stderr, "cannot load task data: %s\n", err.msg);
            exit(1);
        }
    }
    return data;
}

static lcx_counter fixture_counter;

/* Generate one sample; returns 0 on success. */
static inline int gen_one(const char *task, const char *tmpl, size_t length, uint64_t seed, size_t index,
                   lcx_sample *out)
{
    fixture_counter = lcx_byte_counter();
    lcx_gen_ctx ctx = {lcx_task_find(task), fixture_data(), lcx_template_find(tmpl),
                       &fixture_counter, length, seed, 0};
    lcx_err err = {0};
    int rc = lcx_gen_sample(&ctx, index, out, &err);
    if (rc)
        fprintf(stderr, "gen %s@%zu: %s\n", task, length, err.msg);
    return rc;
}

/* The full prompt: input + answer prefix (caller frees). */
static inline char *full_prompt(const lcx_sample *s)
{
    size_t a = strlen(s->input), b = strlen(s->answer_prefix);
    char *p = malloc(a + b + 1);
    memcpy(p, s->input, a);
    memcpy(p + a, s->answer_prefix, b + 1);
    return p;
}

static inline int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static inline size_t count_occurrences(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

/* The budget holds and the fit is tight: adding one more unit (unit_tokens)
 * would not fit. */
static inline void check_budget(const lcx_sample *s, size_t unit_tokens)
{
    char *p = full_prompt(s);
    CHECK_INT(s->length, strlen(p)); /* byte counter */
    CHECK_MSG(s->length + (size_t)s->tokens_to_generate <= s->max_length, "%zu + %d > %zu",
              s->length, s->tokens_to_generate, s->max_length);
    CHECK_MSG(s->length + (size_t)s->tokens_to_generate + unit_tokens > s->max_length,
              "not tight: %zu + %d + %zu <= %zu", s->length, s->tokens_to_generate, unit_tokens,
              s->max_length);
    free(p);
}

#endif
