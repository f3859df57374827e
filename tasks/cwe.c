/* cwe.c: common words extraction (docs/ruler.md, "cwe"; RULER
 * scripts/data/synthetic/common_words_extraction.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/gen_internal.h"

/* "1. w" (i = 0) or " 12. w": RULER's ' '.join(f"{i + 1}. {word}"). */
static void append_item(strbuf *sb, size_t i, const char *w)
{
    char buf[32];
    size_t k = sizeof buf, v = i + 1;
    buf[--k] = ' ';
    buf[--k] = '.';
    do
        buf[--k] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    if (i)
        buf[--k] = ' ';
    sb_append(sb, buf + k, sizeof buf - k);
    sb_puts(sb, w);
}

/* A numbered list: num_words distinct words drawn from the pool; the first
 * common_nums appear common_repeats times, the rest uncommon_repeats times;
 * shuffled; written "1. w 2. w ...". */
static int numbered_list(lcx_rng *rng, const char *const *pool, size_t pool_n, size_t num_words,
                     int common_repeats, int uncommon_repeats, int common_nums,
                     strbuf *context, const char **common)
{
    size_t *pick = malloc(num_words * sizeof *pick);
    size_t total = (size_t)common_nums * (size_t)common_repeats +
                   (num_words - (size_t)common_nums) * (size_t)uncommon_repeats;
    const char **list = malloc((total ? total : 1) * sizeof *list);
    if (!pick || !list || lcx_rng_sample(rng, pool_n, num_words, pick)) {
        free(pick);
        free(list);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < num_words; i++) {
        const char *w = pool[pick[i]];
        int common_word = i < (size_t)common_nums;
        if (common_word)
            common[i] = w;
        for (int r = 0; r < (common_word ? common_repeats : uncommon_repeats); r++)
            list[n++] = w;
    }
    lcx_rng_shuffle(rng, list, n, sizeof *list);
    sb_reserve(context, n * 16);
    for (size_t i = 0; i < n; i++)
        append_item(context, i, list[i]);
    free(pick);
    free(list);
    return context->oom ? -1 : 0;
}

/* The words to draw from: RULER shuffles the sorted vocabulary once with
 * the run's seed. Real words come first; pseudo-words join the pool only
 * when the list needs more words than there are real ones. */
static const char **word_pool(const lcx_gen_ctx *ctx, size_t haystack, size_t *pool_n)
{
    const word_list *vocab = &ctx->data->cwe_vocab;
    size_t nreal = ctx->data->cwe_real, n = haystack > nreal ? haystack : nreal;
    const char **pool = malloc(n * sizeof *pool);
    if (!pool)
        return NULL;
    for (size_t i = 0; i < n; i++)
        pool[i] = vocab->words[i];
    lcx_rng r;
    lcx_rng_seed(&r, lcx_seed_mix(ctx->seed, "cwe-vocabulary", 0, 0));
    lcx_rng_shuffle(&r, pool, nreal, sizeof *pool);
    lcx_rng_shuffle(&r, pool + nreal, n - nreal, sizeof *pool);
    *pool_n = n;
    return pool;
}

typedef struct cwe_regime {
    int ex_words, ex_common, ex_uncommon; /* the one-shot example */
    int common, uncommon;                 /* repeats in the task list */
} cwe_regime;

/* Build example and task lists at this haystack size. */
static int cwe_fill(const lcx_gen_ctx *ctx, size_t haystack, lcx_rng *rng,
                    const prompt_parts *parts, const cwe_regime *g, const char *const *pool,
                    size_t pool_n, built_sample *out)
{
    const lcx_task *t = ctx->task;
    const char *common_ex[64], *common[64];
    strbuf ctx_ex, ctx_task;
    sb_init(&ctx_ex);
    sb_init(&ctx_task);
    int rc = numbered_list(rng, pool, pool_n, (size_t)g->ex_words, g->ex_common, g->ex_uncommon,
                           t->num_cw, &ctx_ex, common_ex);
    if (!rc)
        rc = numbered_list(rng, pool, pool_n, haystack, g->common, g->uncommon, t->num_cw,
                           &ctx_task, common);
    if (!rc) {
        /* The example (RULER's few-shot): the whole prompt, model template
         * and answer prefix included, then " " and its answer "1. w1 2. w2
         * ...", then "\n"; the task's own whole prompt follows. */
        const char *names[] = {"context"};
        const char *values_ex[] = {sb_str(&ctx_ex)};
        strbuf *ex = &out->before;
        sb_append(ex, sb_str(&parts->model_prefix), parts->model_prefix.len);
        tasks_fill_template(ex, sb_str(&parts->body), names, values_ex, 1);
        sb_append(ex, sb_str(&parts->model_suffix), parts->model_suffix.len);
        tasks_fill_template(ex, sb_str(&parts->answer_prefix), names, values_ex, 1);
        sb_putc(ex, ' ');
        for (int i = 0; i < t->num_cw; i++)
            append_item(ex, (size_t)i, common_ex[i]);
        sb_putc(ex, '\n');
        const char *values[] = {sb_str(&ctx_task)};
        tasks_fill_template(&out->task, sb_str(&parts->body), names, values, 1);
        tasks_fill_template(&out->answer_prefix, sb_str(&parts->answer_prefix), names, values, 1);
        rc = tasks_set_outputs(out, common, (size_t)t->num_cw);
    }
    sb_free(&ctx_ex);
    sb_free(&ctx_task);
    return rc;
}

/* RULER repeats common words 30 times and uncommon 3 (example: 40 words,
 * 10/3), and below 4K switches to 6/1 (example: 20 words, 3/1). lcx also
 * switches when the standard list cannot fit at all, which happens at 4K
 * with the byte counter, whose "tokens" are bytes. Decided once per
 * (task, length), on a fixed draw. */
static const cwe_regime small_regime = {20, 3, 1, 6, 1};

static cwe_regime standard_regime(const lcx_task *t)
{
    cwe_regime g = {40, 10, 3, t->freq_cw, t->freq_ucw};
    return g;
}

static int cwe_prepare(const lcx_gen_ctx *ctx, const prompt_parts *parts, lcx_gen_prep *prep,
                       lcx_err *err)
{
    prep->cwe_small = 1;
    if (ctx->max_length < 4096)
        return 0;
    size_t haystack = (size_t)ctx->task->num_cw, pool_n;
    const char **pool = word_pool(ctx, haystack, &pool_n);
    if (!pool)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", ctx->task->name);
    cwe_regime standard = standard_regime(ctx->task);
    built_sample probe;
    memset(&probe, 0, sizeof probe);
    lcx_rng rng;
    lcx_rng_seed(&rng, lcx_seed_mix(ctx->seed, "cwe-regime", ctx->max_length, 0));
    int rc = cwe_fill(ctx, haystack, &rng, parts, &standard, pool, pool_n, &probe);
    if (!rc) {
        strbuf full;
        size_t split;
        sb_init(&full);
        tasks_assemble_prompt(parts, &probe, &full, &split);
        size_t tokens = tasks_count_tokens(ctx, &full);
        if (tokens == SIZE_MAX)
            rc = lcx_errf(err, LCX_EIO, "%s: the token counter failed", ctx->task->name);
        else
            prep->cwe_small =
                tokens + (size_t)ctx->task->tokens_to_generate > ctx->max_length;
        sb_free(&full);
    } else {
        rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", ctx->task->name);
    }
    tasks_built_free(&probe);
    free(pool);
    return rc;
}

static int cwe_build(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                     const prompt_parts *parts, built_sample *out, lcx_err *err)
{
    (void)index;
    const lcx_task *t = ctx->task;
    if (haystack > ctx->data->cwe_vocab.n)
        return lcx_errf(err, LCX_EINPUT, "%s: needs %zu distinct words, the vocabulary has %zu",
                        t->name, haystack, ctx->data->cwe_vocab.n);
    size_t pool_n;
    const char **pool = word_pool(ctx, haystack, &pool_n);
    if (!pool)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", t->name);
    cwe_regime g = parts->prep->cwe_small ? small_regime : standard_regime(t);
    int rc = cwe_fill(ctx, haystack, rng, parts, &g, pool, pool_n, out);
    free(pool);
    if (rc)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", t->name);
    return 0;
}

static void cwe_limits(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack)
{
    *unit = 10;
    *min_haystack = (size_t)ctx->task->num_cw;
}

const family_ops tasks_cwe_ops = {.limits = cwe_limits, .prepare = cwe_prepare, .build = cwe_build};
