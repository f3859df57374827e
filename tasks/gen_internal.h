/* gen_internal.h (private to tasks/): what the family generators share.
 *
 * A family builds one sample at a given haystack size. tasks/gen.c wraps it
 * in the model template, counts tokens and searches for the largest
 * haystack that fits. Every build of a sample starts from the same seed, so
 * keys, values and answers do not change while the search resizes the
 * haystack. */
#ifndef LCX_TASKS_GEN_INTERNAL_H
#define LCX_TASKS_GEN_INTERNAL_H

#include "common/rng.h"
#include "common/strbuf.h"
#include "tasks/data_internal.h"
#include "tasks/tasks.h"

/* The templates a build fills, after any rewriting (niah singularisation). */
typedef struct prompt_parts {
    strbuf model_prefix;  /* model template before {task_template} */
    strbuf model_suffix;  /* model template after {task_template} */
    strbuf body;          /* task template, with {placeholders} */
    strbuf answer_prefix; /* answer prefix, with {placeholders} */
} prompt_parts;

/* What a family build produces. */
typedef struct built_sample {
    strbuf example;       /* a filled one-shot example (vt, cwe), or empty */
    strbuf task;          /* the filled task template */
    strbuf answer_prefix; /* the filled answer prefix */
    char **outputs;       /* references (owned) */
    size_t n_outputs;
} built_sample;

typedef struct family_ops {
    /* The search unit (RULER's increment) and the smallest haystack. */
    void (*limits)(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack);
    /* Build the sample at this haystack size. rng is freshly seeded for the
     * sample; parts holds the unfilled templates. */
    int (*build)(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                 const prompt_parts *parts, built_sample *out, lcx_err *err);
} family_ops;

extern const family_ops niah_ops, vt_ops, cwe_ops, fwe_ops, qa_ops;

/* Fill {name} placeholders in tmpl: names[i] -> values[i]. Unknown {...}
 * and lone braces are copied as they are. */
void fill_template(strbuf *out, const char *tmpl, const char *const *names,
                   const char *const *values, size_t n);

/* Set the sample's references (copies the strings). */
int set_outputs(built_sample *b, const char *const *refs, size_t n);

void built_reset(built_sample *b);
void built_free(built_sample *b);

/* The fitted prompt as it is sent: model template, example, task, answer
 * prefix; `split` is where the answer prefix starts. */
void assemble_prompt(const prompt_parts *parts, const built_sample *b, strbuf *full,
                     size_t *split);

/* Count tokens of a full prompt. */
size_t count_tokens(const lcx_gen_ctx *ctx, const strbuf *full);

/* Find the largest haystack h in [lo, hi] for which fits(h) holds, with
 * fits() monotone; starts from hint when hint is inside. Returns 0 when even
 * lo does not fit. `probe` returns 1 fits, 0 does not, -1 error. */
typedef int (*fit_probe)(void *arg, size_t haystack);
int search_largest(fit_probe probe, void *arg, size_t lo, size_t hi, size_t hint, size_t *best);

/* "a, b, c, and d" (RULER's query join). */
void join_query(strbuf *out, char **items, size_t n);

#endif
