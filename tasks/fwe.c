/* fwe.c: frequent words extraction (docs/ruler.md, "fwe"; RULER
 * scripts/data/synthetic/freq_words_extraction.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/gen_internal.h"

enum { CODED_WORDLEN = 6 };

/* zeta(alpha) = sum k^-alpha. alpha = 2 (the standard task) is pi^2/6 and
 * takes no libm call, so counts are identical on every machine. */
static double zeta(double alpha)
{
    if (alpha == 2.0)
        return 1.6449340668482264;
    double s = 0;
    for (int k = 1; k < 1000000; k++)
        s += pow(k, -alpha);
    return s;
}

static double power_law(size_t k, double alpha)
{
    return alpha == 2.0 ? 1.0 / ((double)k * (double)k) : pow((double)k, -alpha);
}

static int cmp_word(const void *a, const void *b)
{
    return memcmp(a, b, CODED_WORDLEN + 1);
}

/* vocab_size distinct random 6-letter lowercase words, sorted, then
 * shuffled (RULER: sorted(set(...)) then Random(seed).shuffle). */
static char (*coded_vocab(lcx_rng *rng, size_t vocab_size))[CODED_WORDLEN + 1]
{
    char (*v)[CODED_WORDLEN + 1] = malloc(vocab_size * sizeof *v);
    if (!v)
        return NULL;
    size_t n = 0;
    while (n < vocab_size) {
        for (size_t i = n; i < vocab_size; i++) {
            for (int k = 0; k < CODED_WORDLEN; k++)
                v[i][k] = (char)('a' + lcx_rng_below(rng, 26));
            v[i][CODED_WORDLEN] = '\0';
        }
        qsort(v, vocab_size, sizeof *v, cmp_word);
        n = 0;
        for (size_t i = 0; i < vocab_size; i++)
            if (n == 0 || memcmp(v[n - 1], v[i], CODED_WORDLEN))
                memcpy(v[n++], v[i], sizeof *v);
    }
    lcx_rng_shuffle(rng, v, vocab_size, sizeof *v);
    return v;
}

static int fwe_build(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                     const prompt_parts *parts, built_sample *out, lcx_err *err)
{
    (void)index;
    const lcx_task *t = ctx->task;
    /* RULER: (length - tokens_to_generate) // 50 (80 at 4096). */
    size_t g = (size_t)t->tokens_to_generate;
    size_t vocab_size = ctx->max_length > g ? (ctx->max_length - g) / 50 : 0;
    if (vocab_size < 4)
        vocab_size = 4;
    char (*vocab)[CODED_WORDLEN + 1] = coded_vocab(rng, vocab_size);
    if (!vocab)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", t->name);
    /* Rank 1 is noise: three dots, as RULER writes them (its prompt says
     * to ignore '....'). */
    const char *noise = "...";

    /* Counts int(N k^-alpha / zeta(alpha)) for ranks k = 1..V. */
    double z = zeta(t->alpha);
    size_t total = 0;
    size_t *counts = malloc(vocab_size * sizeof *counts);
    if (!counts) {
        free(vocab);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", t->name);
    }
    for (size_t k = 1; k <= vocab_size; k++) {
        counts[k - 1] = (size_t)((double)haystack * power_law(k, t->alpha) / z);
        total += counts[k - 1];
    }
    const char **words = malloc((total ? total : 1) * sizeof *words);
    int rc = words ? 0 : -1;
    if (!rc) {
        size_t n = 0;
        for (size_t k = 0; k < vocab_size; k++)
            for (size_t c = 0; c < counts[k]; c++)
                words[n++] = k == 0 ? noise : vocab[k];
        lcx_rng_shuffle(rng, words, n, sizeof *words);
        strbuf context;
        sb_init(&context);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_putc(&context, ' ');
            sb_puts(&context, words[i]);
        }
        const char *names[] = {"context", "query"};
        const char *values[] = {sb_str(&context), ""};
        tasks_fill_template(&out->task, sb_str(&parts->body), names, values, 2);
        tasks_fill_template(&out->answer_prefix, sb_str(&parts->answer_prefix), names, values, 2);
        const char *answers[3] = {vocab[1], vocab[2], vocab[3]};
        rc = context.oom || tasks_set_outputs(out, answers, 3) ? -1 : 0;
        sb_free(&context);
    }
    free(words);
    free(counts);
    free(vocab);
    if (rc)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", t->name);
    return 0;
}

/* The haystack is the number of words N in the zeta law. */
static void fwe_limits(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack)
{
    (void)ctx;
    *unit = 10;
    /* Enough words that ranks 2-4 each appear at least once (N/(9 zeta) >= 1). */
    *min_haystack = 15;
}

const family_ops tasks_fwe_ops = {.limits = fwe_limits, .build = fwe_build};
