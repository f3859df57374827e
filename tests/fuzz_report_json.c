/* fuzz_report_json.c: libFuzzer target: arbitrary bytes as a report JSON
 * (lcx report --format json), what `lcx report` adds as runs and `lcx check
 * --baseline` reads (results/report.c, lcx_report_parse). An accepted report
 * is printed in every format, checked against itself, and the report JSON
 * written from it must read back with the same runs. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/check.h"
#include "results/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void)
{
    static FILE *fp; /* opened once per fuzzing process */
    if (!fp && !(fp = fopen("/dev/null", "w")))
        abort();
    return fp;
}

static void free_runs(lcx_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lcx_run_free(&runs[i]);
    free(runs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_run *runs;
    size_t n;
    lcx_err err = {0};
    if (lcx_report_parse((const char *)data, size, "report.json", LCX_DEFAULT_THRESHOLD, &runs, &n,
                         &err)) {
        if (!err.msg[0] || runs || n)
            abort();
        return 0;
    }
    if (n == 0)
        abort();
    lcx_run_default_names(runs, n);
    if (lcx_runs_check_lengths(runs, n, &err) == 0) {
        for (int f = LCX_FMT_TABLE; f <= LCX_FMT_JSON; f++)
            lcx_report_print(devnull(), runs, n, LCX_DEFAULT_THRESHOLD, (lcx_report_format)f);
        lcx_check_result res;
        if (lcx_check_runs(&runs[0], &runs[n - 1], 0.0, 0.95, &res, &err) == 0) {
            lcx_check_print(devnull(), &res, &runs[0], &runs[n - 1]);
            lcx_check_result_free(&res);
        }
    }
    /* What lcx report writes must read back: same runs, lengths and cells. */
    json_t *j = lcx_report_json(runs, n, LCX_DEFAULT_THRESHOLD);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(j);
    if (!text)
        abort();
    lcx_run *back;
    size_t m;
    lcx_err err2 = {0};
    if (lcx_report_parse(text, strlen(text), "written.json", LCX_DEFAULT_THRESHOLD, &back, &m,
                         &err2)) {
        fprintf(stderr, "report JSON written from an accepted one does not read back: %s\n",
                err2.msg);
        abort();
    }
    if (m != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (back[i].n_lengths != runs[i].n_lengths || strcmp(back[i].name, runs[i].name) ||
            back[i].table.n > runs[i].table.n)
            abort();
    free_runs(back, m);
    free(text);
    free_runs(runs, n);
    return 0;
}
