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

/* The templates a build fills, after any rewriting (niah singularisation),
 * and what the samples of the (task, length) share. */
typedef struct prompt_parts {
    const lcx_gen_prep *prep; /* never NULL during a build */
    strbuf model_prefix;  /* model template before {task_template} */
    strbuf model_suffix;  /* model template after {task_template} */
    strbuf body;          /* task template, with {placeholders} */
    strbuf answer_prefix; /* answer prefix, with {placeholders} */
} prompt_parts;

/* What a family build produces. The prompt is assembled as
 *   before + model_prefix + example + task + model_suffix + answer_prefix
 * (tasks_assemble_prompt); `before` and `example` are copied as they are, with
 * whatever separators RULER writes after them. */
typedef struct built_sample {
    strbuf before;        /* text before the model template (cwe's example, which
                           * carries its own model template), or empty */
    strbuf example;       /* text between the model prefix and the task (vt's
                           * example), or empty */
    strbuf task;          /* the filled task template */
    strbuf answer_prefix; /* the filled answer prefix */
    char **outputs;       /* references (owned) */
    size_t n_outputs;
} built_sample;

/* What the samples of one (task, length) share (tasks.h, lcx_gen_prepare). */
typedef struct count_cache count_cache;
struct lcx_gen_prep {
    lcx_fit_method method;
    char *vt_example;      /* vt: the one-shot example before re-randomisation:
                            * prompt, answer prefix, " " + answer, "\n" */
    int cwe_small;         /* cwe: 1 = the small repeats (6/1, example 20 words 3/1) */
    size_t ruler_haystack; /* LCX_FIT_RULER: the haystack size of every sample */
    size_t start;          /* LCX_FIT_TIGHT: where each sample's search starts (0: lo) */
    double slope;          /* tokens per haystack item near the fit (0: unknown) */
    count_cache *chunks;   /* chunk-count cache, or NULL: count whole prompts */
    int exact;             /* chunk sums are exact counts (the counter's cut
                            * rules, not --verify-counts): no full counts */
};

typedef struct family_ops {
    /* The search unit (RULER's increment) and the smallest haystack. */
    void (*limits)(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack);
    /* Fill the family's part of the shared state (may be NULL). */
    int (*prepare)(const lcx_gen_ctx *ctx, const prompt_parts *parts, lcx_gen_prep *prep,
                   lcx_err *err);
    /* Build the sample at this haystack size. rng is freshly seeded for the
     * sample; parts holds the unfilled templates and the shared state. */
    int (*build)(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                 const prompt_parts *parts, built_sample *out, lcx_err *err);
} family_ops;

extern const family_ops tasks_niah_ops, tasks_vt_ops, tasks_cwe_ops, tasks_fwe_ops, tasks_qa_ops;

/* Fill {name} placeholders in tmpl: names[i] -> values[i]. Unknown {...}
 * and lone braces are copied as they are. */
void tasks_fill_template(strbuf *out, const char *tmpl, const char *const *names,
                   const char *const *values, size_t n);

/* Set the sample's references (copies the strings). */
int tasks_set_outputs(built_sample *b, const char *const *refs, size_t n);

void tasks_built_reset(built_sample *b);
void tasks_built_free(built_sample *b);

/* The fitted prompt as it is sent: model template, example, task, answer
 * prefix; `split` is where the answer prefix starts. */
void tasks_assemble_prompt(const prompt_parts *parts, const built_sample *b, strbuf *full,
                     size_t *split);

/* Count tokens of a full prompt. */
size_t tasks_count_tokens(const lcx_gen_ctx *ctx, const strbuf *full);

/* Find the largest haystack h in [lo, hi] whose prompt takes at most
 * `budget` tokens (tokens(h) taken as non-decreasing). `probe` returns the
 * tokens at h, or SIZE_MAX on error. The search starts at `start` (lo when
 * outside (lo, hi]) and steps by the measured tokens per item (secant, with
 * `slope` as the first guess when > 0; otherwise tokens/h, which over-rates
 * an item and so aims low), then brackets and interpolates, bisecting when
 * that stalls: it never asks for a prompt much above the budget. Returns 1
 * (best, its tokens, and the slope seen last), 0 when lo does not fit
 * (*best_tokens = its tokens), -1 on error. */
typedef size_t (*fit_probe)(void *arg, size_t haystack);
int tasks_fit_search(fit_probe probe, void *arg, size_t lo, size_t hi, size_t start, double slope,
               size_t budget, size_t *best, size_t *best_tokens, double *slope_out);

/* The chunk-count cache (count_cache.c): a prompt's tokens estimated as the
 * sum of the tokens of its chunks, each chunk counted once and remembered
 * (by a 64-bit hash) across the probes and samples of a (task, length).
 * Chunks end after a run of newlines, and before a space that follows a
 * sentence end ('.', '?', '!', ':') or precedes a digit (cwe's "1. w 2. w"),
 * or at the first space past 2 KiB (spaces after a non-space only). When
 * the counter has cut rules (counter.h), chunks end only where the rules
 * allow, and the sum is the exact count of the whole text; otherwise it is
 * an estimate that the caller verifies with one full count. Thread-safe. */
count_cache *tasks_count_cache_new(void);
void tasks_count_cache_free(count_cache *c);
/* A small lock-free memo in front of the cache, for one thread (one
 * sample's search): its later probes find their chunks without a lock. */
enum { COUNT_MEMO_SLOTS = 4096 };
typedef struct count_memo {
    uint64_t key[COUNT_MEMO_SLOTS];
    uint32_t count[COUNT_MEMO_SLOTS];
} count_memo;
/* The sum of the chunks' counts; memo may be NULL. SIZE_MAX when the
 * counter failed. */
size_t tasks_count_cache_sum(count_cache *c, count_memo *memo, const lcx_counter *counter,
                       const char *text, size_t len);

/* "a, b, c, and d" (RULER's query join). */
void tasks_join_query(strbuf *out, char **items, size_t n);

#endif
