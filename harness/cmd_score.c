/* cmd_score.c: `lcx score FILE_OR_DIR...`, RULER's scores of prediction
 * records. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "results/score.h"
#include "results/summary.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: lcx score [--json] FILE_OR_DIR...\n"
                "  Scores prediction records (gen records plus `pred`): *.jsonl files, or\n"
                "  directories searched for them (<length>/<task>.jsonl).\n");
}

int lcx_cmd_score(int argc, char **argv)
{
    lcx_err err = {0};
    int json = 0, npaths = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            lcx_errf(&err, LCX_EINPUT, "unknown option '%s' (see --help)", argv[i]);
            return lcx_arg_fail("score", &err);
        } else {
            npaths++;
        }
    }
    if (npaths == 0) {
        lcx_errf(&err, LCX_EINPUT, "no prediction file or directory given (see --help)");
        return lcx_arg_fail("score", &err);
    }
    lcx_table table;
    lcx_table_init(&table);
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++)
        if (argv[i][0] != '-' || !argv[i][1])
            rc = lcx_score_path(argv[i], &table, &err);
    if (!rc) {
        if (json) {
            json_t *j = lcx_table_json(&table);
            char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
            printf("%s\n", s ? s : "{}");
            free(s);
            json_decref(j);
        } else {
            lcx_table_print(stdout, &table);
        }
    }
    lcx_table_free(&table);
    return rc ? lcx_arg_fail("score", &err) : 0;
}
