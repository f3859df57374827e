/* cmd_gen.c: `lcx gen`, RULER samples fitted to token lengths, written as
 * DIR/<length>/<task>.jsonl. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/counter_select.h"
#include "harness/suite.h"
#include "tasks/tasks.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx gen --out DIR [options]\n"
            "  --tasks LIST        task names, comma-separated, or all (default all)\n"
            "  --lengths LIST      4k,8k,...,128k (k = 1024) or integers (default 4k..128k)\n"
            "  --samples N         samples per task and length (default 500)\n"
            "  --seed N            (default 42)\n"
            "  --template NAME     base, chatml, llama3, meta-chat, ... (default base;\n"
            "                      RULER's names are accepted too, see lcx tasks)\n"
            "  --tokenizer PATH    fit with this tokenizer.json (default: bytes)\n"
            "  --fit METHOD        tight: each sample's largest haystack (default);\n"
            "                      ruler: RULER's one size per task and length\n"
            "  --verify-counts     count each fitted prompt in full as well (prompts are\n"
            "                      fitted on chunk counts, exact for known tokenizers)\n"
            "  --tokens-to-generate N   every task's tokens to generate (reasoning models;\n"
            "                      prompts are fitted to the length minus N)\n"
            "  --tokens-scale X    each task's own tokens to generate times X, rounded up\n"
            "  --essay-corpus F    essay haystack: plain text or {\"text\": ...} JSON\n"
            "  --squad F           SQuAD v2 dev JSON for qa_1\n"
            "  --hotpotqa F        HotpotQA dev-distractor JSON for qa_2\n"
            "  --quiet             no progress\n");
}

typedef struct progress_arg {
    lcx_progress *p;
} progress_arg;

static void on_sample(void *arg) { lcx_progress_add(((progress_arg *)arg)->p, 1, 0); }

static int write_samples(const char *path, const lcx_sample *s, size_t n, const char *task,
                         lcx_err *err)
{
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc)
        return rc;
    /* The lines are built on every thread, then written in order. */
    strbuf *lines = calloc(n ? n : 1, sizeof *lines);
    int bad = 0, oom = 0;
    if (!lines) {
        lcx_atomic_abort(&f);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
#pragma omp parallel for schedule(dynamic, 1) reduction(| : bad, oom)
    for (size_t i = 0; i < n; i++) {
        sb_init(&lines[i]);
        bad |= lcx_sample_jsonl(&s[i], task, &lines[i]) != 0;
        oom |= lines[i].oom;
    }
    if (bad || oom)
        rc = bad ? lcx_errf(err, LCX_EINPUT, "%s: a sample is not valid UTF-8 (check the data files)", path)
                 : lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n && !rc; i++)
        if (fwrite(lines[i].data, 1, lines[i].len, f.fp) != lines[i].len)
            rc = lcx_errf(err, LCX_EIO, "%s: write failed", path);
    for (size_t i = 0; i < n; i++)
        sb_free(&lines[i]);
    free(lines);
    if (rc) {
        lcx_atomic_abort(&f);
        return rc;
    }
    return lcx_atomic_commit(&f, err);
}

/* Rename staging/<length>/<task>.jsonl to out/<length>/<task>.jsonl. */
static int move_into_place(const lcx_suite *s, const char *staging, const char *out, lcx_err *err)
{
    for (size_t l = 0; l < s->n_lengths; l++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%zu", out, s->lengths[l]);
        int rc = lcx_mkdir_p(dir, err);
        if (rc)
            return rc;
        for (size_t t = 0; t < s->n_tasks; t++) {
            char from[4300], to[4300];
            snprintf(from, sizeof from, "%s/%zu/%s.jsonl", staging, s->lengths[l], s->tasks[t]->name);
            snprintf(to, sizeof to, "%s/%s.jsonl", dir, s->tasks[t]->name);
            if (rename(from, to) != 0)
                return lcx_errf(err, LCX_EIO, "%s: cannot move into place", to);
        }
    }
    return 0;
}

/* Remove what is left of the staging directory (all of it after an error). */
static void remove_staging(const lcx_suite *s, const char *staging)
{
    for (size_t l = 0; l < s->n_lengths; l++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%zu", staging, s->lengths[l]);
        for (size_t t = 0; t < s->n_tasks; t++) {
            char path[4300];
            snprintf(path, sizeof path, "%s/%s.jsonl", dir, s->tasks[t]->name);
            unlink(path);
        }
        rmdir(dir);
    }
    rmdir(staging);
}

int lcx_cmd_gen(int argc, char **argv)
{
    lcx_err err = {0};
    lcx_suite_opts so;
    lcx_suite_opts_init(&so);
    const char *out = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if ((r = lcx_arg_value(argc, argv, &i, "--out", &v, &err))) {
            if (r < 0)
                return lcx_arg_fail("gen", &err);
            out = v;
        } else if ((r = lcx_suite_opt(&so, argc, argv, &i, &err))) {
            if (r < 0)
                return lcx_arg_fail("gen", &err);
        } else {
            lcx_errf(&err, LCX_EINPUT, "unknown option '%s' (see --help)", argv[i]);
            return lcx_arg_fail("gen", &err);
        }
    }
    if (!out) {
        lcx_errf(&err, LCX_EINPUT, "--out DIR is required");
        return lcx_arg_fail("gen", &err);
    }
    lcx_suite suite;
    if (lcx_suite_open(&so, &suite, &err))
        return lcx_arg_fail("gen", &err);
    int rc = lcx_suite_check_fits(&suite, NULL, NULL, &err);
    int existed = lcx_is_dir(out);
    if (!rc)
        rc = lcx_mkdir_p(out, &err);
    if (!rc && access(out, W_OK) != 0)
        rc = lcx_errf(&err, LCX_EIO, "%s: directory is not writable", out);

    /* Everything is written under a staging directory first and moved into
     * place only when the whole generation succeeded. */
    char staging[4096];
    snprintf(staging, sizeof staging, "%s/.lcx-gen.%ld", out, (long)getpid());
    if (!rc)
        rc = lcx_mkdir_p(staging, &err);

    lcx_progress prog;
    lcx_progress_init(&prog, stderr, suite.n_tasks * suite.n_lengths * suite.samples, quiet);
    progress_arg pa = {&prog};
    lcx_sample *samples = calloc(suite.samples, sizeof *samples);
    if (!samples && !rc)
        rc = lcx_errf(&err, LCX_ENOMEM, "out of memory");
    for (size_t l = 0; l < suite.n_lengths && !rc; l++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%zu", staging, suite.lengths[l]);
        rc = lcx_mkdir_p(dir, &err);
        for (size_t t = 0; t < suite.n_tasks && !rc; t++) {
            char label[128], path[4300];
            snprintf(label, sizeof label, "%s @ %zu", suite.tasks[t]->name, suite.lengths[l]);
            lcx_progress_label(&prog, label);
            lcx_gen_ctx ctx = lcx_suite_ctx(&suite, t, l);
            rc = lcx_gen_samples(&ctx, &suite.fit, suite.samples, samples, on_sample, &pa, &err);
            if (rc)
                break;
            snprintf(path, sizeof path, "%s/%s.jsonl", dir, suite.tasks[t]->name);
            rc = write_samples(path, samples, suite.samples, suite.tasks[t]->name, &err);
            for (size_t i = 0; i < suite.samples; i++)
                lcx_sample_free(&samples[i]);
        }
    }
    free(samples);
    if (!rc)
        rc = move_into_place(&suite, staging, out, &err);
    remove_staging(&suite, staging);
    if (rc && !existed)
        rmdir(out); /* only when empty: nothing partial is left */
    if (!rc) {
        lcx_progress_finish(&prog);
        if (!quiet)
            fprintf(stderr, "wrote %zu tasks x %zu lengths x %zu samples to %s (counter: %s, fit: %s)\n",
                    suite.n_tasks, suite.n_lengths, suite.samples, out, suite.counter.counter.name,
                    lcx_fit_name(suite.fit.method));
    }
    lcx_suite_close(&suite);
    return rc ? lcx_arg_fail("gen", &err) : 0;
}
