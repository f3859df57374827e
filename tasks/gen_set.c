/* gen_set.c: many samples of one (task, length), in parallel, and the gen
 * record format. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_str.h"
#include "common/utf8.h"
#include "tasks/tasks.h"

int lcx_gen_samples(const lcx_gen_ctx *ctx, const lcx_fit_opts *fit, size_t n, lcx_sample *out,
                    void (*on_done)(void *arg), void *arg, lcx_err *err)
{
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return 0;
    lcx_gen_prep *prep;
    int rc = lcx_gen_prepare(ctx, fit, &prep, err);
    if (rc)
        return rc;
    lcx_err *errs = calloc(n, sizeof *errs);
    if (!errs) {
        lcx_gen_prep_free(prep);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < n; i++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop)
            continue;
        if (lcx_gen_sample_prep(ctx, prep, i, &out[i], &errs[i])) {
#pragma omp atomic write
            failed = 1;
        } else if (on_done) {
#pragma omp critical(lcx_gen_progress)
            on_done(arg);
        }
    }
    if (failed) {
        for (size_t i = 0; i < n; i++)
            if (errs[i].code) {
                *err = errs[i];
                rc = errs[i].code;
                break;
            }
        for (size_t i = 0; i < n; i++)
            lcx_sample_free(&out[i]);
    }
    free(errs);
    lcx_gen_prep_free(prep);
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

static int put_checked(strbuf *out, const char *s)
{
    size_t n = strlen(s), bad;
    if (!lcx_utf8_valid(s, n, &bad))
        return -1;
    lcx_json_put_string(out, s, n);
    return 0;
}

int lcx_sample_jsonl(const lcx_sample *s, const char *task, strbuf *out)
{
    size_t mark = out->len;
    int rc = 0;
    sb_printf(out, "{\"index\":%zu,\"task\":", s->index);
    rc |= put_checked(out, task);
    sb_puts(out, ",\"input\":");
    rc |= put_checked(out, s->input);
    sb_puts(out, ",\"answer_prefix\":");
    rc |= put_checked(out, s->answer_prefix);
    sb_puts(out, ",\"outputs\":[");
    for (size_t i = 0; i < s->n_outputs; i++) {
        if (i)
            sb_putc(out, ',');
        rc |= put_checked(out, s->outputs[i]);
    }
    sb_printf(out, "],\"length\":%zu,\"max_length\":%zu,\"tokens_to_generate\":%d}\n", s->length,
              s->max_length, s->tokens_to_generate);
    if (rc) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}
