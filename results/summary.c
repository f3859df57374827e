/* summary.c: a score table as text, JSON and CSV (see summary.h). */
#include "results/summary.h"

#include <stdlib.h>
#include <string.h>

/* The table's distinct lengths and tasks, as many as it holds (a table has
 * no column limit). Returns -1 when memory runs out. */
static int axes(const lcx_table *t, size_t **lengths, size_t *nl, const char ***tasks, size_t *nt)
{
    size_t cap = t->n ? t->n : 1;
    *lengths = malloc(cap * sizeof **lengths);
    *tasks = malloc(cap * sizeof **tasks);
    if (!*lengths || !*tasks) {
        free(*lengths);
        free(*tasks);
        *lengths = NULL;
        *tasks = NULL;
        *nl = *nt = 0;
        return -1;
    }
    *nl = lcx_table_lengths(t, *lengths, cap);
    *nt = lcx_table_tasks(t, *tasks, cap);
    return 0;
}

void lcx_table_print(FILE *fp, const lcx_table *t)
{
    size_t *lengths, nl, nt;
    const char **tasks;
    if (axes(t, &lengths, &nl, &tasks, &nt)) {
        fprintf(fp, "out of memory\n");
        return;
    }
    fprintf(fp, "%-18s", "task");
    for (size_t j = 0; j < nl; j++)
        fprintf(fp, " %9zu", lengths[j]);
    fputc('\n', fp);
    size_t errors = 0;
    for (size_t i = 0; i < nt; i++) {
        fprintf(fp, "%-18s", tasks[i]);
        for (size_t j = 0; j < nl; j++) {
            const lcx_cell *c = lcx_table_find(t, tasks[i], lengths[j]);
            if (c && c->count)
                fprintf(fp, " %9.2f", lcx_cell_score(c));
            else
                fprintf(fp, " %9s", "-");
            if (c)
                errors += c->errors;
        }
        fputc('\n', fp);
    }
    fprintf(fp, "%-18s", "mean");
    for (size_t j = 0; j < nl; j++)
        fprintf(fp, " %9.2f", lcx_table_mean(t, lengths[j]));
    fputc('\n', fp);
    fprintf(fp, "%-18s", "nulls");
    for (size_t j = 0; j < nl; j++) {
        size_t total = 0;
        for (size_t i = 0; i < t->n; i++)
            if (t->cells[i].length == lengths[j])
                total += t->cells[i].count;
        char buf[32];
        snprintf(buf, sizeof buf, "%zu/%zu", lcx_table_nulls(t, lengths[j]), total);
        fprintf(fp, " %9s", buf);
    }
    fputc('\n', fp);
    if (errors) {
        fprintf(fp, "%-18s", "errors");
        for (size_t j = 0; j < nl; j++) {
            size_t e = 0;
            for (size_t i = 0; i < t->n; i++)
                if (t->cells[i].length == lengths[j])
                    e += t->cells[i].errors;
            fprintf(fp, " %9zu", e);
        }
        fputc('\n', fp);
    }
    free(lengths);
    free(tasks);
}

json_t *lcx_table_json(const lcx_table *t)
{
    size_t *lengths, nl, nt;
    const char **tasks;
    if (axes(t, &lengths, &nl, &tasks, &nt))
        return NULL;
    json_t *root = json_object(), *scores = json_object(), *means = json_object(),
           *nulls = json_object(), *errors = json_object();
    size_t total_errors = 0;
    for (size_t j = 0; j < nl; j++) {
        char key[32];
        snprintf(key, sizeof key, "%zu", lengths[j]);
        json_t *s = json_object(), *n = json_object(), *e = json_object();
        for (size_t i = 0; i < nt; i++) {
            const lcx_cell *c = lcx_table_find(t, tasks[i], lengths[j]);
            if (!c)
                continue;
            json_object_set_new(s, tasks[i], c->count ? json_real(lcx_cell_score(c)) : json_null());
            json_object_set_new(n, tasks[i], json_integer((json_int_t)c->nulls));
            json_object_set_new(e, tasks[i], json_integer((json_int_t)c->errors));
            total_errors += c->errors;
        }
        json_object_set_new(scores, key, s);
        json_object_set_new(nulls, key, n);
        json_object_set_new(errors, key, e);
        json_object_set_new(means, key, json_real(lcx_table_mean(t, lengths[j])));
    }
    json_object_set_new(root, "scores", scores);
    json_object_set_new(root, "means", means);
    json_object_set_new(root, "nulls", nulls);
    if (total_errors)
        json_object_set_new(root, "errors", errors);
    else
        json_decref(errors);
    free(lengths);
    free(tasks);
    return root;
}

void lcx_table_csv(FILE *fp, const lcx_table *t)
{
    size_t lengths[256];
    const char *tasks[256];
    size_t nl = lcx_table_lengths(t, lengths, 256), nt = lcx_table_tasks(t, tasks, 256);
    fprintf(fp, "length,task,score,samples,nulls,errors\n");
    for (size_t l = 0; l < nl; l++) {
        for (size_t k = 0; k < nt; k++) {
            const lcx_cell *c = lcx_table_find(t, tasks[k], lengths[l]);
            if (!c)
                continue;
            if (c->count)
                fprintf(fp, "%zu,%s,%.2f,%zu,%zu,%zu\n", lengths[l], tasks[k], lcx_cell_score(c),
                        c->count, c->nulls, c->errors);
            else
                fprintf(fp, "%zu,%s,,%zu,%zu,%zu\n", lengths[l], tasks[k], c->count, c->nulls,
                        c->errors);
        }
        fprintf(fp, "%zu,mean,%.2f,,%zu,\n", lengths[l], lcx_table_mean(t, lengths[l]),
                lcx_table_nulls(t, lengths[l]));
    }
}
