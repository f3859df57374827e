/* gen.c: one sample of any task: choose the family, wrap its prompt in the
 * model template, and fit it to the length by binary search
 * (../shared/spec/ruler.md, "Fitting a sample to a length"). */
#include <stdlib.h>
#include <string.h>

#include "tasks/gen_internal.h"
#include "tasks/templates.h"

static const family_ops *ops_for(lcx_family f)
{
    switch (f) {
    case FAMILY_NIAH: return &niah_ops;
    case FAMILY_VT: return &vt_ops;
    case FAMILY_CWE: return &cwe_ops;
    case FAMILY_FWE: return &fwe_ops;
    case FAMILY_QA: return &qa_ops;
    }
    return NULL;
}

void fill_template(strbuf *out, const char *tmpl, const char *const *names,
                   const char *const *values, size_t n)
{
    const char *p = tmpl;
    while (*p) {
        const char *open = strchr(p, '{');
        if (!open) {
            sb_puts(out, p);
            return;
        }
        sb_append(out, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        size_t i = n;
        if (close)
            for (i = 0; i < n; i++)
                if (strlen(names[i]) == (size_t)(close - open - 1) &&
                    !strncmp(open + 1, names[i], (size_t)(close - open - 1)))
                    break;
        if (i < n) {
            sb_puts(out, values[i]);
            p = close + 1;
        } else {
            sb_putc(out, '{');
            p = open + 1;
        }
    }
}

int set_outputs(built_sample *b, const char *const *refs, size_t n)
{
    b->outputs = calloc(n ? n : 1, sizeof(char *));
    if (!b->outputs)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!(b->outputs[i] = strdup(refs[i])))
            return -1;
        b->n_outputs++;
    }
    return 0;
}

void built_reset(built_sample *b)
{
    sb_clear(&b->example);
    sb_clear(&b->task);
    sb_clear(&b->answer_prefix);
    for (size_t i = 0; i < b->n_outputs; i++)
        free(b->outputs[i]);
    free(b->outputs);
    b->outputs = NULL;
    b->n_outputs = 0;
}

void built_free(built_sample *b)
{
    built_reset(b);
    sb_free(&b->example);
    sb_free(&b->task);
    sb_free(&b->answer_prefix);
}

void join_query(strbuf *out, char **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sb_puts(out, i + 1 == n ? ", and " : ", ");
        sb_puts(out, items[i]);
    }
}

void assemble_prompt(const prompt_parts *parts, const built_sample *b, strbuf *full,
                     size_t *split)
{
    sb_clear(full);
    sb_append(full, sb_str(&parts->model_prefix), parts->model_prefix.len);
    if (b->example.len) {
        sb_append(full, sb_str(&b->example), b->example.len);
        sb_putc(full, '\n');
    }
    sb_append(full, sb_str(&b->task), b->task.len);
    sb_append(full, sb_str(&parts->model_suffix), parts->model_suffix.len);
    *split = full->len;
    sb_append(full, sb_str(&b->answer_prefix), b->answer_prefix.len);
}

size_t count_tokens(const lcx_gen_ctx *ctx, const strbuf *full)
{
    return ctx->counter->count(ctx->counter->ctx, sb_str(full), full->len);
}

int search_largest(fit_probe probe, void *arg, size_t lo, size_t hi, size_t hint, size_t *best)
{
    int r = probe(arg, lo);
    if (r <= 0)
        return r;
    size_t good = lo, bad = hi + 1; /* fits(good), !fits(bad) (bad may be virtual) */
    if (hint > lo && hint <= hi) {
        /* Gallop outwards from the hint to bracket the answer. */
        r = probe(arg, hint);
        if (r < 0)
            return r;
        size_t step = 1;
        if (r) {
            good = hint;
            while (good + step <= hi) {
                r = probe(arg, good + step);
                if (r < 0)
                    return r;
                if (!r) {
                    bad = good + step;
                    break;
                }
                good += step;
                step *= 2;
            }
        } else {
            bad = hint;
            while (bad - good > step) {
                r = probe(arg, bad - step);
                if (r < 0)
                    return r;
                if (r) {
                    good = bad - step;
                    break;
                }
                bad -= step;
                step *= 2;
            }
        }
    }
    while (bad - good > 1) {
        size_t mid = good + (bad - good) / 2;
        r = probe(arg, mid);
        if (r < 0)
            return r;
        if (r)
            good = mid;
        else
            bad = mid;
    }
    *best = good;
    return 1;
}

/* ---- one sample --------------------------------------------------------- */

typedef struct sample_search {
    const lcx_gen_ctx *ctx;
    const family_ops *ops;
    prompt_parts parts_store;
    const prompt_parts *parts; /* = &parts_store */
    size_t index;
    uint64_t seed;
    built_sample built;
    strbuf full;
    size_t split, tokens;
    lcx_err *err;
} sample_search;

static int build_at(sample_search *s, size_t haystack)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, s->seed);
    built_reset(&s->built);
    if (s->ops->build(s->ctx, s->index, haystack, &rng, s->parts, &s->built, s->err))
        return -1;
    assemble_prompt(s->parts, &s->built, &s->full, &s->split);
    if (s->full.oom || s->built.task.oom || s->built.example.oom) {
        lcx_errf(s->err, LCX_ENOMEM, "%s: out of memory", s->ctx->task->name);
        return -1;
    }
    s->tokens = count_tokens(s->ctx, &s->full);
    return 0;
}

static int probe_fits(void *arg, size_t haystack)
{
    sample_search *s = arg;
    if (build_at(s, haystack))
        return -1;
    return s->tokens + (size_t)s->ctx->task->tokens_to_generate <= s->ctx->max_length;
}

static int split_model_template(const lcx_template *t, prompt_parts *parts)
{
    const char *at = strstr(t->format, "{task_template}");
    if (!at)
        return -1;
    sb_append(&parts->model_prefix, t->format, (size_t)(at - t->format));
    sb_puts(&parts->model_suffix, at + strlen("{task_template}"));
    return 0;
}

/* RULER's singularisation of niah prompts when queries x values == 1: plain
 * string replacement over the whole template, before it is filled. */
static void singularise(strbuf *s)
{
    static const char *const rules[][2] = {
        {"Some", "A"}, {"are all", "is"}, {"are", "is"}, {"answers", "answer"}};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        strbuf t;
        sb_init(&t);
        sb_append_replace(&t, sb_str(s), rules[r][0], rules[r][1]);
        sb_free(s);
        *s = t;
    }
}

static void parts_free(prompt_parts *p)
{
    sb_free(&p->model_prefix);
    sb_free(&p->model_suffix);
    sb_free(&p->body);
    sb_free(&p->answer_prefix);
}

static int make_parts(const lcx_gen_ctx *ctx, prompt_parts *parts, lcx_err *err)
{
    memset(parts, 0, sizeof *parts);
    const task_template *tt = template_for_family(ctx->task->family);
    if (split_model_template(ctx->tmpl, parts))
        return lcx_errf(err, LCX_EINPUT, "template %s: no {task_template}", ctx->tmpl->name);
    sb_puts(&parts->body, tt->body);
    sb_puts(&parts->answer_prefix, tt->answer_prefix);
    const lcx_task *t = ctx->task;
    if (t->family == FAMILY_NIAH && t->num_queries * t->num_values == 1) {
        singularise(&parts->model_prefix);
        singularise(&parts->body);
        singularise(&parts->model_suffix);
        singularise(&parts->answer_prefix);
    }
    return 0;
}

static char *sb_copy(const strbuf *sb, size_t from, size_t to)
{
    char *s = malloc(to - from + 1);
    if (s) {
        memcpy(s, sb_str(sb) + from, to - from);
        s[to - from] = '\0';
    }
    return s;
}

static int too_short(const lcx_gen_ctx *ctx, size_t tokens, lcx_err *err)
{
    return lcx_errf(err, LCX_EINPUT,
                    "length %zu is too short for task %s with template %s: the smallest prompt "
                    "takes %zu tokens plus %d to generate",
                    ctx->max_length, ctx->task->name, ctx->tmpl->name, tokens,
                    ctx->task->tokens_to_generate);
}

/* Set up the search for sample `index`: its seed and its templates. */
static int search_open(sample_search *s, const lcx_gen_ctx *ctx, size_t index, lcx_err *err)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->ops = ops_for(ctx->task->family);
    s->parts = &s->parts_store;
    s->index = index;
    s->err = err;
    s->seed = lcx_seed_mix(ctx->seed, ctx->task->name, ctx->max_length, index);
    return make_parts(ctx, &s->parts_store, err);
}

static void search_close(sample_search *s)
{
    built_free(&s->built);
    sb_free(&s->full);
    parts_free(&s->parts_store);
}

int lcx_gen_check_length(const lcx_gen_ctx *ctx, lcx_err *err)
{
    sample_search s;
    int rc = search_open(&s, ctx, 0, err);
    size_t unit, lo;
    s.ops->limits(ctx, &unit, &lo);
    if (!rc) {
        int fits = probe_fits(&s, lo);
        rc = fits < 0 ? err->code : fits == 0 ? too_short(ctx, s.tokens, err) : 0;
    }
    search_close(&s);
    return rc;
}

int lcx_gen_sample(const lcx_gen_ctx *ctx, size_t index, lcx_sample *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    sample_search s;
    int rc = search_open(&s, ctx, index, err);
    if (rc) {
        search_close(&s);
        return rc;
    }
    const family_ops *ops = s.ops;

    /* Bound the search as RULER does: about 3x an estimate from one unit. */
    size_t lo, unit, best = 0;
    ops->limits(ctx, &unit, &lo);
    rc = -1;
    if (build_at(&s, unit) == 0) {
        double per_unit = (double)s.tokens / (double)unit;
        size_t hi = (size_t)((double)ctx->max_length / per_unit * 3.0);
        if (hi < 2 * unit)
            hi = 2 * unit;
        int found = search_largest(probe_fits, &s, lo, hi, ctx->hint, &best);
        /* The estimate can fall short (a large fixed part such as the cwe
         * example makes one unit look expensive): while the search ends at
         * its ceiling, raise the ceiling. */
        while (found > 0 && best == hi && hi < ((size_t)1 << 40)) {
            lo = best;
            hi *= 2;
            found = search_largest(probe_fits, &s, lo, hi, 0, &best);
        }
        if (found == 0) {
            build_at(&s, lo);
            rc = too_short(ctx, s.tokens, err);
        } else if (found > 0) {
            rc = build_at(&s, best) ? -1 : 0;
        }
    }
    if (rc == 0) {
        out->index = index;
        out->input = sb_copy(&s.full, 0, s.split);
        out->answer_prefix = sb_copy(&s.full, s.split, s.full.len);
        out->outputs = s.built.outputs;
        out->n_outputs = s.built.n_outputs;
        s.built.outputs = NULL;
        s.built.n_outputs = 0;
        out->length = s.tokens;
        out->max_length = ctx->max_length;
        out->tokens_to_generate = ctx->task->tokens_to_generate;
        out->haystack = best;
        if (!out->input || !out->answer_prefix) {
            lcx_sample_free(out);
            rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", ctx->task->name);
        }
    } else if (!err || !err->code) {
        lcx_errf(err, LCX_EINTERNAL, "%s: generation failed", ctx->task->name);
    }
    search_close(&s);
    return rc ? (err && err->code ? err->code : LCX_EINTERNAL) : 0;
}

void lcx_sample_free(lcx_sample *s)
{
    free(s->input);
    free(s->answer_prefix);
    for (size_t i = 0; i < s->n_outputs; i++)
        free(s->outputs[i]);
    free(s->outputs);
    memset(s, 0, sizeof *s);
}
