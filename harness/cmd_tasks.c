/* cmd_tasks.c: `lcx tasks`, the task table and the model templates. */
#include <stdio.h>
#include <string.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "tasks/tasks.h"

int lcx_cmd_tasks(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: lcx tasks\n  Lists the RULER tasks with their parameters, and the templates.\n");
        return 0;
    }
    if (argc > 1) {
        lcx_err err;
        lcx_errf(&err, LCX_EINPUT, "unknown argument '%s'", argv[1]);
        return lcx_arg_fail("tasks", &err);
    }
    printf("%-16s %-6s %-7s %-18s %s\n", "task", "family", "tokens", "metric", "parameters");
    for (size_t i = 0; i < lcx_task_count(); i++) {
        const lcx_task *t = lcx_task_at(i);
        char desc[256];
        lcx_task_describe(t, desc, sizeof desc);
        printf("%-16s %-6s %-7d %-18s %s\n", t->name, lcx_family_name(t->family),
               t->tokens_to_generate,
               t->metric == METRIC_MATCH_PART ? "string_match_part" : "string_match_all", desc);
    }
    printf("\ntemplates (RULER's name in brackets; either is accepted):");
    for (size_t i = 0; i < lcx_template_count(); i++) {
        const lcx_template *t = lcx_template_at(i);
        if (!t->ruler_name)
            printf(" %s (not in RULER)", t->name);
        else if (strcmp(t->ruler_name, t->name))
            printf(" %s [%s]", t->name, t->ruler_name);
        else
            printf(" %s", t->name);
    }
    printf("\n");
    return 0;
}
