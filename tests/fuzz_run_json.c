/* fuzz_run_json.c: libFuzzer target: arbitrary bytes as a run directory's
 * run.json, read by `lcx report` / `lcx check` (results/report_load.c,
 * lcx_run_json_parse) and by `lcx run` resuming into the directory
 * (results/run_dir.c, lcx_rundir_check against a fixed configuration).
 * An accepted run.json must give strictly ascending positive lengths and
 * known tasks; the report of such a run is printed in every format. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/report.h"
#include "results/run_dir.h"
#include "tasks/tasks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void)
{
    static FILE *fp; /* opened once per fuzzing process */
    if (!fp && !(fp = fopen("/dev/null", "w")))
        abort();
    return fp;
}

/* The run a resume would write: what lcx run puts in run.json. */
static json_t *resumed_run(void)
{
    static json_t *run; /* built once per fuzzing process */
    if (!run) {
        json_error_t je;
        run = json_loads("{\"lcx_version\": \"0.1.0\", \"command\": [\"lcx\", \"run\"],"
                         " \"config\": {\"tasks\": [\"niah_single_1\", \"qa_1\"],"
                         " \"lengths\": [1024, 2048], \"samples\": 4, \"seed\": 42,"
                         " \"template\": \"base\", \"backend\": {\"kind\": \"remote\","
                         " \"endpoint\": \"http://127.0.0.1:8000\", \"api\": \"completions\","
                         " \"model_name\": null, \"temperature\": 0.0,"
                         " \"rope\": {\"factor\": 2.5, \"type\": \"yarn\"}}}}",
                         0, &je);
        if (!run)
            abort();
    }
    return run;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_err err = {0};
    if (lcx_rundir_check((const char *)data, size, "run", resumed_run(), NULL, &err) && !err.msg[0])
        abort();
    lcx_run r;
    if (lcx_run_json_parse((const char *)data, size, "run/run.json", &r, &err)) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    if (!r.n_lengths || !r.n_tasks || !r.samples)
        abort();
    for (size_t j = 0; j < r.n_lengths; j++)
        if (!r.lengths[j] || (j && r.lengths[j] <= r.lengths[j - 1]))
            abort();
    for (size_t i = 0; i < r.n_tasks; i++)
        if (!lcx_task_find(r.tasks[i]))
            abort();
    snprintf(r.path, sizeof r.path, "run");
    lcx_run_default_names(&r, 1);
    for (size_t j = 0; j < r.n_lengths; j++)
        for (size_t i = 0; i < r.n_tasks; i++)
            lcx_run_skips(&r, r.tasks[i], r.lengths[j]);
    lcx_run_compute(&r, LCX_DEFAULT_THRESHOLD);
    for (int f = LCX_FMT_TABLE; f <= LCX_FMT_JSON; f++)
        lcx_report_print(devnull(), &r, 1, LCX_DEFAULT_THRESHOLD, (lcx_report_format)f);
    lcx_run_free(&r);
    return 0;
}
