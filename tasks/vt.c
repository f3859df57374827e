/* vt.c: variable tracking (docs/ruler.md, "vt"; RULER
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

/* noises noise sentences with each chain's lines inserted in order at
 * sorted random positions, one item per line: "\n".join(...), then
 * .replace(". \n", ".\n") (RULER's noise haystack). */
static int chain_context(lcx_rng *rng, size_t noises, const chains *c, strbuf *ctx)
{
    size_t per = (size_t)c->hops + 1, total = noises + per * (size_t)c->num_chains, n = noises;
    const char **lines = malloc(total * sizeof *lines);
    size_t *pos = malloc(per * sizeof *pos);
    if (!lines || !pos) {
        free(lines);
        free(pos);
        return -1;
    }
    for (size_t i = 0; i < noises; i++)
        lines[i] = TASKS_NOISE_SENTENCE;
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
            sb_putc(&joined, '\n');
        sb_puts(&joined, lines[i]);
    }
    sb_append_replace(ctx, sb_str(&joined), ". \n", ".\n");
    int oom = joined.oom;
    sb_free(&joined);
    free(lines);
    free(pos);
    return oom ? -1 : 0;
}

/* Fill the task template (and answer prefix) for these chains at this many
 * noise lines. */
static int fill_vt(const char *body, const char *answer_prefix_tmpl, lcx_rng *rng,
                   size_t noises, const chains *c, strbuf *task, strbuf *answer_prefix)
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
    tasks_fill_template(task, body, names, values, 3);
    tasks_fill_template(answer_prefix, answer_prefix_tmpl, names, values, 3);
    sb_free(&context);
    return 0;
}

/* ---- the one-shot example (RULER's icl_example) ---------------------------
 * Built once per seed, like a task sample but with 3-letter names and value
 * 12345, from the task template and answer prefix alone (no model
 * template); sized by RULER's search: the largest number of noise lines in
 * [5, max(int(500 / (tokens at 5 / 5) * 3), 10)] whose prompt (without the
 * answer) takes at most 500 tokens, or 5. Its text is the prompt, " ", the
 * variables joined with " ", and "\n". Each sample then re-randomises it
 * (randomize_icl). */
enum { ICL_MIN_NOISES = 5 };

typedef struct icl_search {
    const lcx_gen_ctx *ctx;
    uint64_t seed;
    strbuf prompt;
    chains c;
    int have_chains;
} icl_search;

static int icl_build(icl_search *s, size_t noises)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, s->seed);
    const lcx_task *t = s->ctx->task;
    const task_template *tt = tasks_template_for_family(FAMILY_VT);
    if (s->have_chains)
        chains_free(&s->c);
    int hops = t->num_hops < 10 ? t->num_hops : 10;
    make_chains(&rng, t->num_chains, hops, 3, 12345, &s->c);
    s->have_chains = 1;
    sb_clear(&s->prompt);
    strbuf prefix;
    sb_init(&prefix);
    int rc = fill_vt(tt->body, tt->answer_prefix, &rng, noises, &s->c, &s->prompt, &prefix);
    sb_append(&s->prompt, sb_str(&prefix), prefix.len);
    sb_free(&prefix);
    return rc || s->prompt.oom ? -1 : 0;
}

static size_t icl_tokens(void *arg, size_t noises)
{
    icl_search *s = arg;
    if (icl_build(s, noises))
        return SIZE_MAX;
    return tasks_count_tokens(s->ctx, &s->prompt);
}

static int vt_prepare(const lcx_gen_ctx *ctx, const prompt_parts *parts, lcx_gen_prep *prep,
                      lcx_err *err)
{
    (void)parts;
    icl_search s = {.ctx = ctx, .seed = lcx_seed_mix(ctx->seed, "vt-icl-example", 0, 0)};
    sb_init(&s.prompt);
    size_t best = ICL_MIN_NOISES, tokens = 0;
    size_t at_min = icl_tokens(&s, ICL_MIN_NOISES);
    int rc = at_min == SIZE_MAX ? -1 : 0;
    if (!rc) {
        double per = (double)at_min / ICL_MIN_NOISES;
        size_t hi = (size_t)((double)ICL_BUDGET / (per > 0 ? per : 1) * 3);
        if (hi < 2 * ICL_MIN_NOISES)
            hi = 2 * ICL_MIN_NOISES;
        int found = tasks_fit_search(icl_tokens, &s, ICL_MIN_NOISES, hi, 0, 0, ICL_BUDGET, &best,
                               &tokens, NULL);
        if (found < 0)
            rc = -1;
        else if (found == 0)
            best = ICL_MIN_NOISES;
    }
    if (!rc)
        rc = icl_build(&s, best);
    if (!rc) {
        const chains *c = &s.c;
        sb_putc(&s.prompt, ' ');
        for (int i = 0; i <= c->hops; i++) {
            if (i)
                sb_putc(&s.prompt, ' ');
            sb_puts(&s.prompt, c->vars[i]);
        }
        sb_putc(&s.prompt, '\n');
        if (s.prompt.oom || !(prep->vt_example = strdup(sb_str(&s.prompt))))
            rc = -1;
    }
    if (s.have_chains)
        chains_free(&s.c);
    sb_free(&s.prompt);
    if (rc)
        return lcx_errf(err, LCX_EIO, "%s: cannot build the one-shot example (token counter failed)",
                        ctx->task->name);
    return 0;
}

/* RULER's randomize_icl: the last hops + 1 words of the example (its answer)
 * get new random upper-case names of the same length, replaced everywhere
 * in the example, and 12345 becomes a random value in [10000, 99998]. The
 * new names avoid every old and new name and "VAR", so that the
 * replacements cannot touch each other. */
static int randomize_example(const char *example, int hops, lcx_rng *rng, strbuf *out)
{
    char old[MAX_CHAIN_VARS][8], fresh[MAX_CHAIN_VARS][8];
    int n = hops + 1;
    /* The answer words, from the end of the stripped example. */
    size_t end = strlen(example);
    for (int i = n - 1; i >= 0; i--) {
        while (end > 0 && (example[end - 1] == ' ' || example[end - 1] == '\n'))
            end--;
        size_t start = end;
        while (start > 0 && example[start - 1] != ' ' && example[start - 1] != '\n')
            start--;
        if (end - start == 0 || end - start >= sizeof old[i])
            return -1;
        memcpy(old[i], example + start, end - start);
        old[i][end - start] = '\0';
        end = start;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(old[i]);
        int clash;
        do {
            for (size_t k = 0; k < len; k++)
                fresh[i][k] = (char)('A' + lcx_rng_below(rng, 26));
            fresh[i][len] = '\0';
            clash = !strcmp(fresh[i], "VAR");
            for (int j = 0; j < n && !clash; j++)
                clash = !strcmp(fresh[i], old[j]) || (j < i && !strcmp(fresh[i], fresh[j]));
        } while (clash);
    }
    char value[16];
    snprintf(value, sizeof value, "%d", (int)lcx_rng_range(rng, 10000, 99998));
    strbuf a, b;
    sb_init(&a);
    sb_init(&b);
    sb_puts(&a, example);
    for (int i = 0; i < n; i++) {
        sb_clear(&b);
        sb_append_replace(&b, sb_str(&a), old[i], fresh[i]);
        strbuf t = a;
        a = b;
        b = t;
    }
    sb_append_replace(out, sb_str(&a), "12345", value);
    int oom = a.oom || b.oom;
    sb_free(&a);
    sb_free(&b);
    return oom || out->oom ? -1 : 0;
}

static int vt_build(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                    const prompt_parts *parts, built_sample *out, lcx_err *err)
{
    (void)index;
    const lcx_task *t = ctx->task;
    /* The example, re-randomised, then "\n": a blank line before the task. */
    int rc = randomize_example(parts->prep->vt_example, t->num_hops < 10 ? t->num_hops : 10, rng,
                               &out->example);
    sb_putc(&out->example, '\n');
    chains c;
    make_chains(rng, t->num_chains, t->num_hops, 5, 0, &c);
    if (!rc)
        rc = fill_vt(sb_str(&parts->body), sb_str(&parts->answer_prefix), rng, haystack, &c,
                     &out->task, &out->answer_prefix);
    if (!rc) {
        const char *answers[MAX_CHAIN_VARS];
        for (int i = 0; i <= t->num_hops; i++)
            answers[i] = c.vars[i];
        rc = tasks_set_outputs(out, answers, (size_t)t->num_hops + 1);
    }
    chains_free(&c);
    if (rc)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", t->name);
    return 0;
}

/* RULER's increment: 10 noise lines (5 below 4096). */
static void vt_limits(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack)
{
    *unit = ctx->max_length < 4096 ? 5 : 10;
    *min_haystack = (size_t)ctx->task->num_hops + 2;
}

const family_ops tasks_vt_ops = {.limits = vt_limits, .prepare = vt_prepare, .build = vt_build};
