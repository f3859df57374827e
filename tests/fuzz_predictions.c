/* fuzz_predictions.c: libFuzzer target: arbitrary bytes as a prediction
 * file pred/<length>/<task>.jsonl, what `lcx score` and `lcx report` read
 * (results/score.c, lcx_score_stream) and what `lcx run` keeps of it when
 * it resumes into the directory (results/pred_file.c, lcx_pred_file_scan).
 * Every scored cell must be consistent (0 <= sum <= count, nulls <= count),
 * the summary table and JSON are written from what was read, and the resume
 * scan marks exactly as many samples done as it counts. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "results/pred_file.h"
#include "results/score.h"
#include "results/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void)
{
    static FILE *fp; /* opened once per fuzzing process */
    if (!fp && !(fp = fopen("/dev/null", "w")))
        abort();
    return fp;
}

static void resume_scan(const uint8_t *data, size_t size, size_t n)
{
    unsigned char *done = calloc(n ? n : 1, 1);
    if (!done)
        return;
    size_t good = 0, marked = 0;
    int dirty = 0;
    lcx_err err = {0};
    if (lcx_pred_file_scan((const char *)data, size, n, done, &good, &dirty, &err) == 0) {
        for (size_t i = 0; i < n; i++)
            marked += done[i] != 0;
        if (marked != good || good > n || (size && data[size - 1] != '\n' && !dirty))
            abort();
    }
    free(done);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    resume_scan(data, size, 16);
    resume_scan(data, size, 0);
    if (size == 0)
        return 0; /* fmemopen needs a buffer */
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return 0;
    lcx_table t;
    lcx_table_init(&t);
    lcx_err err = {0};
    int rc = lcx_score_stream(fp, "run/pred/4096/niah_single_1.jsonl", &t, &err);
    fclose(fp);
    if (rc && !err.msg[0])
        abort();
    for (size_t i = 0; i < t.n; i++) {
        const lcx_cell *c = &t.cells[i];
        if (!(c->sum >= 0 && c->sum <= (double)c->count) || c->nulls > c->count || !c->length)
            abort();
    }
    if (!rc) {
        lcx_table_print(devnull(), &t);
        json_t *j = lcx_table_json(&t);
        char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
            abort();
        free(s);
        json_decref(j);
    }
    lcx_table_free(&t);
    return 0;
}
