/* fuzz_task_data.h: what the task-data fuzz targets (fuzz_essay.c,
 * fuzz_squad.c, fuzz_hotpotqa.c) share: the bundled data, loaded once per
 * fuzzing process, and one sample generated from it. */
#ifndef LCX_FUZZ_TASK_DATA_H
#define LCX_FUZZ_TASK_DATA_H

#include <stdio.h>
#include <stdlib.h>

#include "tasks/counter.h"
#include "tasks/tasks.h"

enum { FUZZ_MAX_LENGTH = 1024 };

static lcx_task_data *fuzz_data(void)
{
    static lcx_task_data *data; /* loaded once per fuzzing process */
    if (!data) {
        lcx_data_opts o = {NULL, NULL, NULL, FUZZ_MAX_LENGTH};
        lcx_err err = {0};
        if (lcx_task_data_load(&o, &data, &err)) {
            fprintf(stderr, "fuzz: cannot load the bundled task data: %s\n", err.msg);
            abort();
        }
    }
    return data;
}

/* Generate sample `index` of task at length with the byte counter: it may
 * fail (the data may be too small or too large for the length), but an
 * accepted sample has its references and fits. */
static void fuzz_gen(const char *task, size_t length, size_t index)
{
    lcx_counter counter = lcx_byte_counter();
    lcx_gen_ctx ctx = {lcx_task_find(task), fuzz_data(), lcx_template_find("base"), &counter,
                       length, 7, 0};
    lcx_sample s;
    lcx_err err = {0};
    if (lcx_gen_sample(&ctx, index, &s, &err)) {
        if (!err.msg[0])
            abort();
        return;
    }
    if (!s.input || !s.answer_prefix || s.n_outputs == 0 ||
        s.length + (size_t)s.tokens_to_generate > length)
        abort();
    for (size_t i = 0; i < s.n_outputs; i++)
        if (!s.outputs[i])
            abort();
    lcx_sample_free(&s);
}

#endif
