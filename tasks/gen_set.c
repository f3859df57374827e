/* gen_set.c: many samples of one (task, length), in parallel, and the gen
 * record format. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/tasks.h"

int lcx_gen_samples(const lcx_gen_ctx *ctx, size_t n, lcx_sample *out,
                    void (*on_done)(void *arg), void *arg, lcx_err *err)
{
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return 0;
    /* Sample 0: a full search; its haystack size seeds the others. */
    lcx_gen_ctx first = *ctx;
    first.hint = 0;
    int rc = lcx_gen_sample(&first, 0, &out[0], err);
    if (rc)
        return rc;
    if (on_done)
        on_done(arg);
    lcx_gen_ctx rest = *ctx;
    rest.hint = out[0].haystack;

    lcx_err *errs = calloc(n, sizeof *errs);
    if (!errs) {
        lcx_sample_free(&out[0]);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 1; i < n; i++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop)
            continue;
        if (lcx_gen_sample(&rest, i, &out[i], &errs[i])) {
#pragma omp atomic write
            failed = 1;
        } else if (on_done) {
#pragma omp critical(lcx_gen_progress)
            on_done(arg);
        }
    }
    if (failed) {
        for (size_t i = 1; i < n; i++)
            if (errs[i].code) {
                *err = errs[i];
                rc = errs[i].code;
                break;
            }
        for (size_t i = 0; i < n; i++)
            lcx_sample_free(&out[i]);
    }
    free(errs);
    return rc;
}

struct json_t *lcx_sample_json(const lcx_sample *s, const char *task)
{
    json_t *o = json_object();
    json_t *outputs = json_array();
    for (size_t i = 0; i < s->n_outputs; i++)
        json_array_append_new(outputs, json_string(s->outputs[i]));
    json_object_set_new(o, "index", json_integer((json_int_t)s->index));
    json_object_set_new(o, "task", json_string(task));
    json_object_set_new(o, "input", json_string(s->input));
    json_object_set_new(o, "answer_prefix", json_string(s->answer_prefix));
    json_object_set_new(o, "outputs", outputs);
    json_object_set_new(o, "length", json_integer((json_int_t)s->length));
    json_object_set_new(o, "max_length", json_integer((json_int_t)s->max_length));
    json_object_set_new(o, "tokens_to_generate", json_integer(s->tokens_to_generate));
    return o;
}
