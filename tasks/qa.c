/* qa.c: question answering over SQuAD v2 (qa_1) and HotpotQA (qa_2)
 * documents (docs/ruler.md, "qa"; RULER scripts/data/synthetic/qa.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/gen_internal.h"
#include "tasks/templates.h"

static int contains(const size_t *a, size_t n, size_t x)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] == x)
            return 1;
    return 0;
}

/* The documents of a sample: the gold paragraphs, then (SQuAD) the other
 * paragraphs of the same article, then random others. When the set has
 * fewer documents than asked for, the distractors are used again in turn
 * (RULER would stop at the set's size; the bundled sets are small). */
static size_t *choose_docs(const qa_set *q, const qa_item *it, size_t num_docs, lcx_rng *rng)
{
    size_t *docs = malloc(num_docs * sizeof *docs), n = 0;
    if (!docs)
        return NULL;
    for (size_t i = 0; i < it->n_gold && n < num_docs; i++)
        docs[n++] = it->gold[i];
    size_t want = num_docs - n;
    if (want <= it->n_more) {
        size_t *pick = malloc((want ? want : 1) * sizeof *pick);
        if (!pick || lcx_rng_sample(rng, it->n_more, want, pick)) {
            free(pick);
            free(docs);
            return NULL;
        }
        for (size_t i = 0; i < want; i++)
            docs[n++] = it->more[pick[i]];
        free(pick);
        return docs;
    }
    for (size_t i = 0; i < it->n_more; i++)
        docs[n++] = it->more[i];
    /* Others: every document not already in, sampled without replacement,
     * cycling when there are not enough. */
    size_t n_other = 0;
    size_t *other = malloc((q->n_docs ? q->n_docs : 1) * sizeof *other);
    if (!other) {
        free(docs);
        return NULL;
    }
    for (size_t d = 0; d < q->n_docs; d++)
        if (!contains(it->gold, it->n_gold, d) && !contains(it->more, it->n_more, d))
            other[n_other++] = d;
    while (n < num_docs && n_other > 0) {
        size_t take = num_docs - n < n_other ? num_docs - n : n_other;
        size_t *pick = malloc(take * sizeof *pick);
        if (!pick || lcx_rng_sample(rng, n_other, take, pick)) {
            free(pick);
            free(other);
            free(docs);
            return NULL;
        }
        for (size_t i = 0; i < take; i++)
            docs[n++] = other[pick[i]];
        free(pick);
    }
    free(other);
    if (n < num_docs) { /* no distractors at all: only the gold documents */
        free(docs);
        return NULL;
    }
    return docs;
}

static int qa_build(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                    const prompt_parts *parts, built_sample *out, lcx_err *err)
{
    const lcx_task *t = ctx->task;
    const qa_set *q = t->qa_set == QA_SQUAD ? &ctx->data->squad : &ctx->data->hotpot;
    /* Sample i uses question i (cycling when the set is smaller). */
    const qa_item *it = &q->items[index % q->n_items];
    size_t num_docs = haystack < it->n_gold ? it->n_gold : haystack;
    size_t *docs = choose_docs(q, it, num_docs, rng);
    if (!docs)
        return lcx_errf(err, LCX_EINPUT, "%s: %s: not enough documents for %zu", t->name,
                        q->source, num_docs);
    lcx_rng_shuffle(rng, docs, num_docs, sizeof *docs);
    strbuf context;
    sb_init(&context);
    for (size_t i = 0; i < num_docs; i++) {
        char num[32];
        snprintf(num, sizeof num, "%zu", i + 1);
        const char *names[] = {"i", "document"};
        const char *values[] = {num, q->docs[docs[i]]};
        if (i)
            sb_puts(&context, "\n\n");
        tasks_fill_template(&context, TASKS_QA_DOCUMENT, names, values, 2);
    }
    const char *names[] = {"context", "query"};
    const char *values[] = {sb_str(&context), it->query};
    tasks_fill_template(&out->task, sb_str(&parts->body), names, values, 2);
    tasks_fill_template(&out->answer_prefix, sb_str(&parts->answer_prefix), names, values, 2);
    int rc = context.oom || tasks_set_outputs(out, (const char *const *)it->outputs, it->n_outputs);
    sb_free(&context);
    free(docs);
    if (rc)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", t->name);
    return 0;
}

static void qa_limits(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack)
{
    (void)ctx;
    *unit = 10;
    *min_haystack = 1; /* the gold documents are always in */
}

const family_ops tasks_qa_ops = {.limits = qa_limits, .build = qa_build};
