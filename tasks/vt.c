/* vt.c: variable tracking (../shared/spec/ruler.md, "vt"; RULER
 * scripts/data/synthetic/variable_tracking.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/gen_internal.h"
#include "tasks/templates.h"

enum { MAX_CHAIN_VARS = 64, ICL_BUDGET = 500 };

typedef struct chains {
    char vars[MAX_CHAIN_VARS][8]; /* all variable names, chain after chain */
    strbuf lines[MAX_CHAIN_VARS]; /* "VAR X = 12345", "VAR Y = VAR X " ... */
    char value[16];               /* the first chain's value */
    int num_chains, hops;
} chains;

static int name_taken(const chains *c, int upto, const char *name)
{
    for (int i = 0; i < upto; i++)
        if (!strcmp(c->vars[i], name))
            return 1;
    return 0;
}

/* Distinct upper-case names of `letters` letters; the first chain's value is
 * fixed_value when given (the one-shot example uses 12345). */
static void make_chains(lcx_rng *rng, int num_chains, int hops, int letters, int fixed_value,
                        chains *c)
{
    c->num_chains = num_chains;
    c->hops = hops;
    int n = num_chains * (hops + 1);
    for (int i = 0; i < n; i++) {
        do {
            for (int k = 0; k < letters; k++)
                c->vars[i][k] = (char)('A' + lcx_rng_below(rng, 26));
            c->vars[i][letters] = '\0';
        } while (name_taken(c, i, c->vars[i]) || !strcmp(c->vars[i], "VAR"));
    }
    for (int ch = 0; ch < num_chains; ch++) {
        char (*v)[8] = &c->vars[ch * (hops + 1)];
        strbuf *l = &c->lines[ch * (hops + 1)];
        int value = fixed_value ? fixed_value : (int)lcx_rng_range(rng, 10000, 99998);
        if (ch == 0)
            snprintf(c->value, sizeof c->value, "%d", value);
        sb_init(&l[0]);
        sb_printf(&l[0], "VAR %s = %d", v[0], value);
        for (int j = 0; j < hops; j++) {
            sb_init(&l[j + 1]);
            sb_printf(&l[j + 1], "VAR %s = VAR %s ", v[j + 1], v[j]);
        }
    }
}

static void chains_free(chains *c)
{
    for (int i = 0; i < c->num_chains * (c->hops + 1); i++)
        sb_free(&c->lines[i]);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* noises noise lines with each chain's lines inserted in order at sorted
 * random positions; " ".join(...).replace(". \n", ".\n"). */
static int chain_context(lcx_rng *rng, size_t noises, const chains *c, strbuf *ctx)
{
    static const char noise_line[] =
        "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n";
    size_t per = (size_t)c->hops + 1, total = noises + per * (size_t)c->num_chains, n = noises;
    const char **lines = malloc(total * sizeof *lines);
    size_t *pos = malloc(per * sizeof *pos);
    if (!lines || !pos) {
        free(lines);
        free(pos);
        return -1;
    }
    for (size_t i = 0; i < noises; i++)
        lines[i] = noise_line;
    for (int ch = 0; ch < c->num_chains; ch++) {
        if (lcx_rng_sample(rng, n, per, pos)) {
            free(lines);
            free(pos);
            return -1;
        }
        qsort(pos, per, sizeof *pos, cmp_size);
        for (size_t j = 0; j < per; j++) {
            size_t at = pos[j] + j;
            memmove(&lines[at + 1], &lines[at], (n - at) * sizeof *lines);
            lines[at] = sb_str(&c->lines[(size_t)ch * per + j]);
            n++;
        }
    }
    strbuf joined;
    sb_init(&joined);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_putc(&joined, ' ');
        sb_puts(&joined, lines[i]);
    }
    sb_append_replace(ctx, sb_str(&joined), ". \n", ".\n");
    int oom = joined.oom;
    sb_free(&joined);
    free(lines);
    free(pos);
    return oom ? -1 : 0;
}

/* Fill the task template for these chains at this many noise lines. */
static int fill_vt(const prompt_parts *parts, lcx_rng *rng, size_t noises, const chains *c,
                   strbuf *task, strbuf *answer_prefix)
{
    strbuf context;
    sb_init(&context);
    if (chain_context(rng, noises, c, &context)) {
        sb_free(&context);
        return -1;
    }
    char num_v[16];
    snprintf(num_v, sizeof num_v, "%d", c->hops + 1);
    const char *names[] = {"context", "query", "num_v"};
    const char *values[] = {sb_str(&context), c->value, num_v};
    fill_template(task, sb_str(&parts->body), names, values, 3);
    fill_template(answer_prefix, sb_str(&parts->answer_prefix), names, values, 3);
    sb_free(&context);
    return 0;
}

/* The one-shot example: 3-letter names, value 12345, sized to about 500
 * tokens; its text is the task prompt with the answer prefix and the
 * answer: `input + " " + " ".join(outputs)` as RULER writes it. */
typedef struct icl_search {
    const lcx_gen_ctx *ctx;
    const prompt_parts *parts;
    uint64_t seed;
    strbuf text;
} icl_search;

static int icl_build(icl_search *s, size_t noises)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, s->seed);
    const lcx_task *t = s->ctx->task;
    chains c;
    int hops = t->num_hops < 10 ? t->num_hops : 10;
    make_chains(&rng, t->num_chains, hops, 3, 12345, &c);
    strbuf prefix;
    sb_init(&prefix);
    sb_clear(&s->text);
    int rc = fill_vt(s->parts, &rng, noises, &c, &s->text, &prefix);
    if (!rc) {
        sb_append(&s->text, sb_str(&prefix), prefix.len);
        sb_putc(&s->text, ' ');
        for (int i = 0; i <= hops; i++) {
            if (i)
                sb_putc(&s->text, ' ');
            sb_puts(&s->text, c.vars[i]);
        }
    }
    sb_free(&prefix);
    chains_free(&c);
    return rc || s->text.oom ? -1 : 0;
}

static int icl_fits(void *arg, size_t noises)
{
    icl_search *s = arg;
    if (icl_build(s, noises))
        return -1;
    size_t n = count_tokens(s->ctx, &s->text);
    return n + (size_t)s->ctx->task->tokens_to_generate <= ICL_BUDGET;
}

static int vt_build(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                    const prompt_parts *parts, built_sample *out, lcx_err *err)
{
    (void)index;
    const lcx_task *t = ctx->task;
    icl_search icl = {.ctx = ctx, .parts = parts, .seed = lcx_rng_next(rng)};
    sb_init(&icl.text);
    size_t icl_noises = 0, min = (size_t)t->num_hops + 2;
    /* When even the smallest example passes the budget (the byte counter
     * makes tokens small), the smallest example is used. */
    int found = search_largest(icl_fits, &icl, min, 64, 0, &icl_noises);
    int rc = found < 0 ? -1 : icl_build(&icl, found ? icl_noises : min);
    if (!rc)
        sb_append(&out->example, sb_str(&icl.text), icl.text.len);
    sb_free(&icl.text);

    chains c;
    make_chains(rng, t->num_chains, t->num_hops, 5, 0, &c);
    if (!rc)
        rc = fill_vt(parts, rng, haystack, &c, &out->task, &out->answer_prefix);
    if (!rc) {
        const char *answers[MAX_CHAIN_VARS];
        for (int i = 0; i <= t->num_hops; i++)
            answers[i] = c.vars[i];
        rc = set_outputs(out, answers, (size_t)t->num_hops + 1);
    }
    chains_free(&c);
    if (rc)
        return lcx_errf(err, LCX_EINPUT, "%s: cannot build the one-shot example within %d tokens",
                        t->name, ICL_BUDGET);
    return 0;
}

static void vt_limits(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack)
{
    *unit = 10;
    *min_haystack = (size_t)ctx->task->num_hops + 2;
}

const family_ops vt_ops = {.limits = vt_limits, .build = vt_build};
