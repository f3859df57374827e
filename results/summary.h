/* summary.h: a score table (results/score.h) as text, JSON and CSV: what
 * lcx score prints and a run directory's summary.json and summary.csv hold. */
#ifndef LCX_SUMMARY_H
#define LCX_SUMMARY_H

#include <jansson.h>
#include <stdio.h>

#include "results/score.h"

/* Tasks as rows, lengths as columns, then the per-length mean over tasks and
 * the null count (and the backend error count when there are any). */
void lcx_table_print(FILE *fp, const lcx_table *t);

/* {"scores": {"<length>": {"<task>": score}}, "means": {"<length>": mean},
 *  "nulls": {"<length>": {"<task>": count}}} (+ "errors" when any). */
json_t *lcx_table_json(const lcx_table *t);

/* One row per cell, "length,task,score,samples,nulls,errors" (score empty
 * when nothing was scored), then "length,mean,<mean>,,<nulls>," per length;
 * lengths outer, at most 256 lengths and 256 tasks. */
void lcx_table_csv(FILE *fp, const lcx_table *t);

#endif
