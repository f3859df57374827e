/* tasks.h: the 13 RULER tasks (NVIDIA RULER, arXiv 2404.06654), generated
 * deterministically and fitted to a token length.
 *
 * The tasks are rows of one table (tasks/registry.c) over five generator
 * families (niah, vt, cwe, fwe, qa); every prompt string lives in
 * tasks/templates.c. A sample is a pure function of (seed, task, length,
 * index, template, data, counter): the same arguments give byte-identical
 * samples on any machine, in any thread. */
#ifndef LCX_TASKS_H
#define LCX_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/strbuf.h"
#include "tasks/counter.h"

typedef enum { FAMILY_NIAH, FAMILY_VT, FAMILY_CWE, FAMILY_FWE, FAMILY_QA } lcx_family;
typedef enum { HAYSTACK_NOISE, HAYSTACK_ESSAY, HAYSTACK_NEEDLE } lcx_haystack;
typedef enum { NEEDLE_WORDS, NEEDLE_NUMBERS, NEEDLE_UUIDS } lcx_needle_type;
typedef enum { METRIC_MATCH_ALL, METRIC_MATCH_PART } lcx_metric;
typedef enum { QA_SQUAD, QA_HOTPOTQA } lcx_qa_set;

typedef struct lcx_task {
    const char *name;
    lcx_family family;
    int tokens_to_generate;
    lcx_metric metric;
    /* niah */
    lcx_haystack haystack;
    lcx_needle_type key_type, value_type;
    int num_keys, num_values, num_queries;
    /* vt */
    int num_chains, num_hops;
    /* cwe */
    int freq_cw, freq_ucw, num_cw;
    /* fwe: zeta-law exponent */
    double alpha;
    /* qa */
    lcx_qa_set qa_set;
} lcx_task;

size_t lcx_task_count(void);
const lcx_task *lcx_task_at(size_t i);
const lcx_task *lcx_task_find(const char *name); /* NULL when unknown */
const char *lcx_family_name(lcx_family f);
/* One line describing the task's parameters, for `lcx tasks`. */
void lcx_task_describe(const lcx_task *t, char *buf, size_t size);

/* Model templates wrap the task prompt; the answer prefix always follows. */
typedef struct lcx_template {
    const char *name;
    const char *format;     /* contains {task_template} exactly once */
    const char *ruler_name; /* RULER's name for it (template.py), also accepted; NULL: not RULER's */
} lcx_template;

size_t lcx_template_count(void);
const lcx_template *lcx_template_at(size_t i);
const lcx_template *lcx_template_find(const char *name); /* lcx's or RULER's name */
/* "base, chatml, llama3, ..." (lcx's names), for messages. */
const char *lcx_template_names(void);

/* Read-only data every generator draws from: word lists, the essay corpus,
 * the QA sets. Load once; share across threads. */
typedef struct lcx_task_data lcx_task_data;

typedef struct lcx_data_opts {
    const char *essay_corpus; /* plain text or {"text": ...} JSON; NULL = bundled */
    const char *squad;        /* SQuAD v2 dev JSON; NULL = bundled */
    const char *hotpotqa;     /* HotpotQA dev-distractor JSON; NULL = bundled */
    size_t max_length;        /* longest length to be generated (sizes the cwe vocabulary) */
} lcx_data_opts;

int lcx_task_data_load(const lcx_data_opts *opts, lcx_task_data **out, lcx_err *err);
void lcx_task_data_free(lcx_task_data *d);
/* Replace one part of loaded data with a user file's contents, as
 * lcx_task_data_load reads --essays (plain text or {"text": ...}) and the
 * SQuAD v2 / HotpotQA JSON; src names it in messages. On error d is
 * unchanged. Not while samples are being generated from d. */
int lcx_task_data_set_essay(lcx_task_data *d, const char *text, size_t len, const char *src,
                            lcx_err *err);
int lcx_task_data_set_qa(lcx_task_data *d, lcx_qa_set which, const char *json, size_t len,
                         const char *src, lcx_err *err);
/* Number of distinct words available to cwe (real words plus pseudo-words). */
size_t lcx_task_data_cwe_vocab(const lcx_task_data *d);

/* One generated sample. */
typedef struct lcx_sample {
    size_t index;
    char *input;          /* the prompt as sent, without the answer prefix */
    char *answer_prefix;  /* appended to input to form the full prompt */
    char **outputs;       /* reference answers */
    size_t n_outputs;
    size_t length;        /* tokens(input + answer_prefix), no special tokens; with
                           * LCX_FIT_RULER plus tokens_to_generate, as RULER records it */
    size_t max_length;
    int tokens_to_generate;
    size_t haystack;      /* haystack size used, in the family's units */
} lcx_sample;

/* How prompts are fitted to the length (docs/ruler.md, "Fitting").
 * TIGHT: every sample gets the largest haystack that fits it.
 * RULER: RULER's method: one haystack size per (task, length), found by a
 * search on one draw, used for every sample; a sample that overflows is
 * shrunk by one unit (RULER's increment) until it fits. */
typedef enum { LCX_FIT_TIGHT = 0, LCX_FIT_RULER = 1 } lcx_fit_method;
const char *lcx_fit_name(lcx_fit_method m);            /* "tight", "ruler" */
int lcx_fit_parse(const char *s, lcx_fit_method *out); /* 0, or -1 when unknown */

typedef struct lcx_fit_opts {
    lcx_fit_method method;
    /* The counter is a local tokenizer: prompts are counted as sums of
     * cached chunk counts. When the counter's cut rules make those sums
     * exact (counter.h), they are the counts; otherwise the tight search
     * runs on them as estimates and verifies its result with one full count
     * (falling back to full counts when the two differ), and the RULER
     * method counts in full. */
    int chunks;
    /* Count every fitted prompt in full as well, whatever the cut rules
     * (--verify-counts): the fitting then works as without them. */
    int verify;
} lcx_fit_opts;

/* What a (task, length) shares across its samples: the vt one-shot
 * example, the cwe regime, the RULER-method haystack size, the size and
 * slope the tight search starts from, and the chunk-count cache (see
 * lcx_gen_prepare). Opaque; safe to share between threads. */
typedef struct lcx_gen_prep lcx_gen_prep;

/* What generation of one (task, length) needs. */
typedef struct lcx_gen_ctx {
    const lcx_task *task;
    const lcx_task_data *data;
    const lcx_template *tmpl;
    const lcx_counter *counter;
    size_t max_length;
    uint64_t seed;
    size_t hint; /* lcx_gen_sample: haystack size to start the search from; 0 = none */
} lcx_gen_ctx;

/* Compute what the samples of ctx's (task, length) share, with this
 * fitting (NULL: tight, whole-prompt counts). The result does not depend on
 * how many samples are generated, nor on the thread count. */
int lcx_gen_prepare(const lcx_gen_ctx *ctx, const lcx_fit_opts *fit, lcx_gen_prep **out,
                    lcx_err *err);
void lcx_gen_prep_free(lcx_gen_prep *p);

/* Generate sample `index` with a prepared (task, length), fitted so that
 * tokens(input + answer_prefix) + tokens_to_generate <= max_length: with
 * LCX_FIT_TIGHT the largest haystack that fits, with LCX_FIT_RULER RULER's
 * size (shrunk by a unit while the sample overflows). */
int lcx_gen_sample_prep(const lcx_gen_ctx *ctx, const lcx_gen_prep *prep, size_t index,
                        lcx_sample *out, lcx_err *err);

/* The same, tight, preparing just what this sample needs (whole-prompt
 * counts; the search starts at ctx->hint). */
int lcx_gen_sample(const lcx_gen_ctx *ctx, size_t index, lcx_sample *out, lcx_err *err);
void lcx_sample_free(lcx_sample *s);

/* Fail when even the smallest haystack does not fit the length (the error
 * names the task, template and the tokens the smallest prompt takes). */
int lcx_gen_check_length(const lcx_gen_ctx *ctx, lcx_err *err);

/* Generate samples 0..n-1 of one (task, length) in parallel (OpenMP),
 * sharing one lcx_gen_prepare with `fit` (NULL: tight, whole-prompt
 * counts); the result does not depend on n or on the thread count. on_done, when given, is
 * called once per finished sample, one call at a time. On error, the
 * lowest-index failure is reported and out[] is freed. */
int lcx_gen_samples(const lcx_gen_ctx *ctx, const lcx_fit_opts *fit, size_t n, lcx_sample *out,
                    void (*on_done)(void *arg), void *arg, lcx_err *err);

/* The gen record of a sample as a JSON object (jansson json_t *, caller
 * owns): index, task, input, answer_prefix, outputs, length, max_length,
 * tokens_to_generate. */
struct json_t;
struct json_t *lcx_sample_json(const lcx_sample *s, const char *task);
/* The same record as one line of JSON ending in '\n', appended to out: the
 * bytes json_dumps(lcx_sample_json(s, task), JSON_COMPACT) gives, written
 * without building the object. -1 (out unchanged) when a string is not
 * valid UTF-8, which JSON cannot carry. */
int lcx_sample_jsonl(const lcx_sample *s, const char *task, strbuf *out);

/* The niah needles written in `text`: every sentence of the needle template
 * ("One of the special magic {type_needle_v} for {key} is: {value}.") with a
 * key and a value free of white space, in order of appearance. Keys and
 * values are spans of `text`. Returns how many were found; at most `max` are
 * stored. (Training asks extra questions about them, train/data.h.) */
typedef struct lcx_needle_span {
    const char *key, *value;
    size_t key_len, value_len;
} lcx_needle_span;
size_t lcx_niah_needles(const char *text, lcx_needle_span *out, size_t max);

/* Parse "4k", "128K", "4096" into tokens (k = 1024). */
int lcx_parse_length(const char *s, size_t *out, lcx_err *err);

#endif
