#include "suite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/args.h"

void lcx_suite_opts_init(lcx_suite_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tasks = "all";
    o->lengths = "4k,8k,16k,32k,64k,128k";
    o->template_name = "base";
    o->samples = "500";
    o->seed = "42";
    o->fit = "tight";
}

int lcx_suite_opt(lcx_suite_opts *o, int argc, char **argv, int *i, lcx_err *err)
{
    static const struct {
        const char *name;
        size_t offset;
    } opts[] = {
        {"--tasks", offsetof(lcx_suite_opts, tasks)},
        {"--lengths", offsetof(lcx_suite_opts, lengths)},
        {"--template", offsetof(lcx_suite_opts, template_name)},
        {"--tokenizer", offsetof(lcx_suite_opts, tokenizer)},
        {"--essay-corpus", offsetof(lcx_suite_opts, essay_corpus)},
        {"--squad", offsetof(lcx_suite_opts, squad)},
        {"--hotpotqa", offsetof(lcx_suite_opts, hotpotqa)},
        {"--samples", offsetof(lcx_suite_opts, samples)},
        {"--seed", offsetof(lcx_suite_opts, seed)},
        {"--fit", offsetof(lcx_suite_opts, fit)},
        {"--tokens-to-generate", offsetof(lcx_suite_opts, tokens_to_generate)},
        {"--tokens-scale", offsetof(lcx_suite_opts, tokens_scale)},
    };
    if (!strcmp(argv[*i], "--verify-counts")) {
        o->verify_counts = 1;
        return 1;
    }
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        const char *v;
        int r = lcx_arg_value(argc, argv, i, opts[k].name, &v, err);
        if (r) {
            if (r > 0)
                *(const char **)((char *)o + opts[k].offset) = v;
            return r;
        }
    }
    return 0;
}

static int parse_tasks(const char *spec, lcx_suite *s, lcx_err *err)
{
    if (!strcmp(spec, "all")) {
        for (size_t i = 0; i < lcx_task_count(); i++)
            s->tasks[s->n_tasks++] = lcx_task_at(i);
        return 0;
    }
    char buf[4096], *items[LCX_MAX_TASKS];
    snprintf(buf, sizeof buf, "%s", spec);
    size_t n = lcx_arg_split(buf, items, LCX_MAX_TASKS);
    if (n == 0)
        return lcx_errf(err, LCX_EINPUT, "--tasks: no task named");
    for (size_t i = 0; i < n; i++) {
        const lcx_task *t = lcx_task_find(items[i]);
        if (!t)
            return lcx_errf(err, LCX_EINPUT, "--tasks: unknown task '%s' (see lcx tasks)", items[i]);
        for (size_t k = 0; k < s->n_tasks; k++)
            if (s->tasks[k] == t)
                return lcx_errf(err, LCX_EINPUT, "--tasks: '%s' named twice", items[i]);
        s->tasks[s->n_tasks++] = t;
    }
    return 0;
}

int lcx_suite_parse_lengths(const char *spec, size_t *lengths, size_t *n_lengths, lcx_err *err)
{
    char buf[4096], *items[LCX_MAX_LENGTHS];
    snprintf(buf, sizeof buf, "%s", spec);
    size_t n = lcx_arg_split(buf, items, LCX_MAX_LENGTHS);
    *n_lengths = 0;
    if (n == 0)
        return lcx_errf(err, LCX_EINPUT, "--lengths: no length given");
    for (size_t i = 0; i < n; i++) {
        size_t v;
        if (lcx_parse_length(items[i], &v, err))
            return lcx_err_prefix(err, "--lengths");
        for (size_t k = 0; k < *n_lengths; k++)
            if (lengths[k] == v)
                return lcx_errf(err, LCX_EINPUT, "--lengths: %zu named twice", v);
        lengths[(*n_lengths)++] = v;
    }
    return 0;
}

/* --tokens-to-generate N (absolute) or --tokens-scale X (each task's own
 * budget times X, rounded up): copies of the tasks with that budget. */
static int set_tokens(const lcx_suite_opts *o, lcx_suite *s, lcx_err *err)
{
    s->tokens_scale = 1;
    if (o->tokens_to_generate && o->tokens_scale)
        return lcx_errf(err, LCX_EINPUT, "give --tokens-to-generate or --tokens-scale, not both");
    if (o->tokens_to_generate) {
        size_t n;
        if (lcx_arg_size("--tokens-to-generate", o->tokens_to_generate, &n, err))
            return err->code;
        if (n < 1 || n > 1048576)
            return lcx_errf(err, LCX_EINPUT, "--tokens-to-generate: %zu is not in [1, 1048576]", n);
        s->tokens_to_generate = (int)n;
    }
    if (o->tokens_scale) {
        char *end;
        double x = strtod(o->tokens_scale, &end);
        if (end == o->tokens_scale || *end || !(x > 0 && x <= 1024))
            return lcx_errf(err, LCX_EINPUT, "--tokens-scale: '%s' is not a number in (0, 1024]",
                            o->tokens_scale);
        s->tokens_scale = x;
    }
    for (size_t i = 0; i < s->n_tasks; i++) {
        s->task_copies[i] = *s->tasks[i];
        lcx_task *t = &s->task_copies[i];
        if (s->tokens_to_generate) {
            t->tokens_to_generate = s->tokens_to_generate;
        } else if (s->tokens_scale != 1) {
            double g = ceil(t->tokens_to_generate * s->tokens_scale);
            t->tokens_to_generate = g < 1 ? 1 : g > 1048576 ? 1048576 : (int)g;
        }
        s->tasks[i] = t;
    }
    return 0;
}

int lcx_suite_open(const lcx_suite_opts *o, lcx_suite *s, lcx_err *err)
{
    memset(s, 0, sizeof *s);
    unsigned long long seed;
    int rc = parse_tasks(o->tasks, s, err);
    if (!rc)
        rc = set_tokens(o, s, err);
    if (!rc)
        rc = lcx_suite_parse_lengths(o->lengths, s->lengths, &s->n_lengths, err);
    if (!rc)
        rc = lcx_arg_size("--samples", o->samples, &s->samples, err);
    if (!rc && s->samples == 0)
        rc = lcx_errf(err, LCX_EINPUT, "--samples: must be at least 1");
    if (!rc && !(rc = lcx_arg_u64("--seed", o->seed, &seed, err)))
        s->seed = seed;
    if (!rc && !(s->tmpl = lcx_template_find(o->template_name)))
        rc = lcx_errf(err, LCX_EINPUT, "--template: unknown template '%s' (%s)", o->template_name,
                      lcx_template_names());
    if (!rc && lcx_fit_parse(o->fit, &s->fit.method))
        rc = lcx_errf(err, LCX_EINPUT, "--fit: unknown method '%s' (tight, ruler)", o->fit);
    if (!rc && o->counter && !o->tokenizer) {
        s->counter.counter = *o->counter;
        s->fit.chunks = o->counter_is_tokenizer;
    } else if (!rc) {
        rc = lcx_counter_select(o->tokenizer, &s->counter, err);
        s->fit.chunks = o->tokenizer != NULL;
    }
    s->fit.verify = o->verify_counts;
    if (!rc) {
        size_t max_length = 0;
        for (size_t i = 0; i < s->n_lengths; i++)
            if (s->lengths[i] > max_length)
                max_length = s->lengths[i];
        lcx_data_opts d = {o->essay_corpus, o->squad, o->hotpotqa, max_length};
        rc = lcx_task_data_load(&d, &s->data, err);
    }
    if (rc)
        lcx_suite_close(s);
    return rc;
}

int lcx_suite_check_fits(const lcx_suite *s, unsigned char *skip, size_t *n_skipped, lcx_err *err)
{
    if (skip) {
        memset(skip, 0, LCX_MAX_TASKS * LCX_MAX_LENGTHS);
        *n_skipped = 0;
    }
    for (size_t l = 0; l < s->n_lengths; l++)
        for (size_t t = 0; t < s->n_tasks; t++) {
            lcx_gen_ctx ctx = lcx_suite_ctx(s, t, l);
            int rc = lcx_gen_check_length(&ctx, err);
            if (rc == LCX_EINPUT && skip) {
                skip[l * s->n_tasks + t] = 1;
                ++*n_skipped;
            } else if (rc) {
                return rc;
            }
        }
    return 0;
}

lcx_gen_ctx lcx_suite_ctx(const lcx_suite *s, size_t task, size_t length)
{
    lcx_gen_ctx c = {s->tasks[task], s->data, s->tmpl, &s->counter.counter, s->lengths[length],
                     s->seed, 0};
    return c;
}

void lcx_suite_close(lcx_suite *s)
{
    lcx_task_data_free(s->data);
    s->data = NULL;
    lcx_counter_release(&s->counter);
}
