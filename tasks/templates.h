/* templates.h (private to tasks/): every RULER prompt string, in one place.
 * They are protocol: byte-identical to RULER's (main, c3f5e3b:
 * scripts/data/synthetic/constants.py; docs/ruler.md). */
#ifndef LCX_TASKS_TEMPLATES_H
#define LCX_TASKS_TEMPLATES_H

#include "tasks/tasks.h"

typedef struct task_template {
    const char *body;          /* with {placeholders} */
    const char *answer_prefix; /* with {placeholders} */
} task_template;

const task_template *tasks_template_for_family(lcx_family f);

extern const char TASKS_NIAH_NEEDLE[];      /* "One of the special magic {type_needle_v} for {key} is: {value}." */
extern const char TASKS_NOISE_SENTENCE[];   /* the noise haystack sentence */
extern const char TASKS_QA_DOCUMENT[];      /* "Document {i}:\n{document}" */

#endif
