/* gen.c: one sample of any task: choose the family, wrap its prompt in the
 * model template, and fit it to the length (docs/ruler.md, "Fitting a
 * prompt to a length"): tight (the largest haystack for each sample) or
 * RULER's method (one size per task and length, shrunk on overflow). The
 * search (tasks_fit_search) steps by measured tokens per item, so no probe is far
 * above the length; with a local tokenizer it runs on chunk-count
 * estimates (count_cache.c) and verifies the result with one full count. */
#include <stdlib.h>
#include <string.h>

#include "tasks/gen_internal.h"
#include "tasks/templates.h"

static const family_ops *ops_for(lcx_family f)
{
    switch (f) {
    case FAMILY_NIAH: return &tasks_niah_ops;
    case FAMILY_VT: return &tasks_vt_ops;
    case FAMILY_CWE: return &tasks_cwe_ops;
    case FAMILY_FWE: return &tasks_fwe_ops;
    case FAMILY_QA: return &tasks_qa_ops;
    }
    return NULL;
}

void tasks_fill_template(strbuf *out, const char *tmpl, const char *const *names,
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

int tasks_set_outputs(built_sample *b, const char *const *refs, size_t n)
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

void tasks_built_reset(built_sample *b)
{
    sb_clear(&b->before);
    sb_clear(&b->example);
    sb_clear(&b->task);
    sb_clear(&b->answer_prefix);
    for (size_t i = 0; i < b->n_outputs; i++)
        free(b->outputs[i]);
    free(b->outputs);
    b->outputs = NULL;
    b->n_outputs = 0;
}

void tasks_built_free(built_sample *b)
{
    tasks_built_reset(b);
    sb_free(&b->before);
    sb_free(&b->example);
    sb_free(&b->task);
    sb_free(&b->answer_prefix);
}

void tasks_join_query(strbuf *out, char **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sb_puts(out, i + 1 == n ? ", and " : ", ");
        sb_puts(out, items[i]);
    }
}

void tasks_assemble_prompt(const prompt_parts *parts, const built_sample *b, strbuf *full,
                     size_t *split)
{
    sb_clear(full);
    sb_append(full, sb_str(&b->before), b->before.len);
    sb_append(full, sb_str(&parts->model_prefix), parts->model_prefix.len);
    sb_append(full, sb_str(&b->example), b->example.len);
    sb_append(full, sb_str(&b->task), b->task.len);
    sb_append(full, sb_str(&parts->model_suffix), parts->model_suffix.len);
    *split = full->len;
    sb_append(full, sb_str(&b->answer_prefix), b->answer_prefix.len);
}

size_t tasks_count_tokens(const lcx_gen_ctx *ctx, const strbuf *full)
{
    return ctx->counter->count(ctx->counter->ctx, sb_str(full), full->len);
}

/* ---- the length search -------------------------------------------------- */

int tasks_fit_search(fit_probe probe, void *arg, size_t lo, size_t hi, size_t start, double slope,
               size_t budget, size_t *best, size_t *best_tokens, double *slope_out)
{
    size_t gh = 0, gt = 0, bh = hi + 1, bt = 0; /* fits(gh); !fits(bh) (hi + 1: virtual) */
    int have_g = 0, have_b = 0;
    size_t h = start > lo && start <= hi ? start : lo;
    size_t prev_h = 0, prev_t = 0;
    int have_prev = 0, stalls = 0;
    size_t step = 1, width = (size_t)-1;
    for (int iter = 0; iter < 256; iter++) {
        size_t t = probe(arg, h);
        if (t == SIZE_MAX)
            return -1;
        if (have_prev && h != prev_h && t > prev_t && h > prev_h)
            slope = ((double)t - (double)prev_t) / (double)(h - prev_h);
        else if (have_prev && h != prev_h && t < prev_t && h < prev_h)
            slope = ((double)prev_t - (double)t) / (double)(prev_h - h);
        prev_h = h;
        prev_t = t;
        have_prev = 1;
        if (t <= budget) {
            if (!have_g || h > gh) {
                gh = h;
                gt = t;
                have_g = 1;
            }
        } else if (h < bh) {
            bh = h;
            bt = t;
            have_b = 1;
        }
        if (!have_g && h == lo) {
            *best_tokens = t;
            return 0;
        }
        if (have_g && bh == gh + 1)
            break;
        double s = slope > 0 ? slope : (double)t / (double)(h ? h : 1);
        if (s <= 0)
            s = 1;
        size_t next;
        if (have_g && have_b) {
            /* Bracketed: interpolate; bisect when the bracket stops halving. */
            size_t w = bh - gh;
            stalls = w * 2 > width ? stalls + 1 : 0;
            width = w;
            double sb = ((double)bt - (double)gt) / (double)w;
            double d = ((double)budget - (double)gt) / (sb > 0 ? sb : s);
            next = d >= (double)w ? bh - 1 : gh + (size_t)d;
            if (stalls >= 2) {
                next = gh + w / 2;
                stalls = 0;
            }
            if (next <= gh)
                next = gh + 1;
            if (next >= bh)
                next = bh - 1;
        } else if (have_g) {
            /* Everything fitted so far: aim at the budget; when the aim is
             * within the minimum step, step instead, doubling it. */
            double d = ((double)budget - (double)gt) / s;
            size_t aim = d >= (double)(hi - gh) ? hi : gh + (size_t)d;
            if (aim > gh + step) {
                next = aim;
                step = 1;
            } else {
                next = gh + step;
                step *= 2;
            }
            if (next > hi || next < gh)
                next = hi;
        } else {
            /* Nothing fitted yet (the start was too big): aim down. */
            double d = ((double)bt - (double)budget) / s;
            size_t down = d >= (double)(bh - lo) ? bh - lo : (size_t)d + 1;
            if (down < step)
                down = step;
            step *= 2;
            next = down >= bh - lo ? lo : bh - down;
        }
        h = next;
    }
    if (!have_g)
        return -1;
    *best = gh;
    *best_tokens = gt;
    if (slope_out)
        *slope_out = slope;
    return 1;
}

const char *lcx_fit_name(lcx_fit_method m) { return m == LCX_FIT_RULER ? "ruler" : "tight"; }

int lcx_fit_parse(const char *s, lcx_fit_method *out)
{
    if (s && !strcmp(s, "tight"))
        *out = LCX_FIT_TIGHT;
    else if (s && !strcmp(s, "ruler"))
        *out = LCX_FIT_RULER;
    else
        return -1;
    return 0;
}

/* ---- one sample --------------------------------------------------------- */

/* A built prompt. The search keeps two: the largest that fitted so far and
 * the one being probed, so the result never has to be built again. */
typedef struct prompt_slot {
    built_sample built;
    strbuf full;
    size_t split, tokens, haystack;
} prompt_slot;

typedef struct sample_search {
    const lcx_gen_ctx *ctx;
    const lcx_gen_prep *prep;
    const family_ops *ops;
    prompt_parts parts_store;
    const prompt_parts *parts; /* = &parts_store */
    size_t index;
    uint64_t seed;
    prompt_slot slot[2];
    int cur;       /* the slot the next build writes */
    int best;      /* the slot of the largest prompt that fitted, or -1 */
    size_t budget; /* tokens a prompt may take */
    count_memo *memo; /* with a chunk cache: this search's memo */
    lcx_err *err;
} sample_search;

static int build_at(sample_search *s, size_t haystack)
{
    prompt_slot *p = &s->slot[s->cur];
    lcx_rng rng;
    lcx_rng_seed(&rng, s->seed);
    tasks_built_reset(&p->built);
    p->haystack = haystack;
    p->tokens = SIZE_MAX;
    if (s->ops->build(s->ctx, s->index, haystack, &rng, s->parts, &p->built, s->err))
        return -1;
    tasks_assemble_prompt(s->parts, &p->built, &p->full, &p->split);
    if (p->full.oom || p->built.task.oom || p->built.example.oom || p->built.before.oom) {
        lcx_errf(s->err, LCX_ENOMEM, "%s: out of memory", s->ctx->task->name);
        return -1;
    }
    return 0;
}

/* Record the current slot's tokens; a prompt that fits and is the largest
 * so far is kept (the next build goes to the other slot). */
static size_t record(sample_search *s, size_t tokens)
{
    prompt_slot *p = &s->slot[s->cur];
    p->tokens = tokens;
    if (tokens == SIZE_MAX) {
        if (s->err && !s->err->code)
            lcx_errf(s->err, LCX_EIO, "%s: the token counter failed", s->ctx->task->name);
        return SIZE_MAX;
    }
    if (tokens <= s->budget && (s->best < 0 || p->haystack >= s->slot[s->best].haystack)) {
        s->best = s->cur;
        s->cur = 1 - s->cur;
    }
    return tokens;
}

static size_t probe_chunks(void *arg, size_t haystack);

/* The prompt's tokens at this haystack size, counted in full (or as an
 * exact chunk sum, which is the same number). */
static size_t probe_full(void *arg, size_t haystack)
{
    sample_search *s = arg;
    if (s->prep->exact)
        return probe_chunks(arg, haystack);
    if (build_at(s, haystack))
        return SIZE_MAX;
    const prompt_slot *p = &s->slot[s->cur];
    return record(s, s->ctx->counter->count(s->ctx->counter->ctx, sb_str(&p->full), p->full.len));
}

/* The same, estimated from the chunk-count cache. */
static size_t probe_chunks(void *arg, size_t haystack)
{
    sample_search *s = arg;
    if (build_at(s, haystack))
        return SIZE_MAX;
    const prompt_slot *p = &s->slot[s->cur];
    if (!s->memo && !(s->memo = calloc(1, sizeof *s->memo)))
        return record(s, SIZE_MAX);
    return record(s, tasks_count_cache_sum(s->prep->chunks, s->memo, s->ctx->counter, sb_str(&p->full),
                                     p->full.len));
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
 * string replacement over the whole template (model template included),
 * before it is filled. */
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
    const task_template *tt = tasks_template_for_family(ctx->task->family);
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

static size_t budget_of(const lcx_gen_ctx *ctx)
{
    size_t g = (size_t)ctx->task->tokens_to_generate;
    return ctx->max_length > g ? ctx->max_length - g : 0;
}

/* Set up the search for sample `index`: its seed and its templates. */
static int search_open(sample_search *s, const lcx_gen_ctx *ctx, const lcx_gen_prep *prep,
                       size_t index, lcx_err *err)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->prep = prep;
    s->ops = ops_for(ctx->task->family);
    s->parts = &s->parts_store;
    s->index = index;
    s->err = err;
    s->best = -1;
    s->budget = budget_of(ctx);
    s->seed = lcx_seed_mix(ctx->seed, ctx->task->name, ctx->max_length, index);
    int rc = make_parts(ctx, &s->parts_store, err);
    s->parts_store.prep = prep;
    return rc;
}

static void search_close(sample_search *s)
{
    free(s->memo);
    for (int i = 0; i < 2; i++) {
        tasks_built_free(&s->slot[i].built);
        sb_free(&s->slot[i].full);
    }
    parts_free(&s->parts_store);
}

/* The unit a RULER-method sample shrinks by, and the smallest haystack. */
static void fit_limits(const lcx_gen_ctx *ctx, size_t *unit, size_t *lo)
{
    ops_for(ctx->task->family)->limits(ctx, unit, lo);
    if (ctx->task->family == FAMILY_FWE) {
        /* RULER's fwe steps by (length - tokens_to_generate) / 32 words. */
        size_t l = ctx->max_length, g = (size_t)ctx->task->tokens_to_generate;
        *unit = l > g && (l - g) / 32 > 0 ? (l - g) / 32 : 1;
    }
}

enum { HI_LIMIT = 1 << 30 };

/* The tight search of one sample: the largest haystack that fits. With a
 * chunk cache whose sums are exact, the search runs on them. With one whose
 * sums are estimates, the search runs on those and the result is verified
 * with one full count; when that disagrees, the search is redone on full
 * counts from there (*chunks_ok = 0). Returns 1 found (s->best holds the prompt
 * and its full count), 0 too short, -1 error. */
static int search_tight(sample_search *s, size_t start, double slope, size_t *best,
                        double *slope_out, int *chunks_ok)
{
    const lcx_gen_ctx *ctx = s->ctx;
    size_t unit, lo, tokens;
    fit_limits(ctx, &unit, &lo);
    int r;
    if (chunks_ok)
        *chunks_ok = s->prep->chunks != NULL;
    if (s->prep->chunks && !s->prep->exact) {
        r = tasks_fit_search(probe_chunks, s, lo, HI_LIMIT, start, slope, s->budget, best, &tokens,
                       slope_out);
        if (r < 0)
            return r;
        if (r == 1 && s->best >= 0) {
            prompt_slot *p = &s->slot[s->best];
            size_t full = ctx->counter->count(ctx->counter->ctx, sb_str(&p->full), p->full.len);
            if (full == SIZE_MAX)
                return record(s, SIZE_MAX), -1;
            if (full == tokens && p->haystack == *best) {
                p->tokens = full;
                return 1;
            }
            start = *best;
        }
        if (chunks_ok)
            *chunks_ok = 0;
        s->best = -1; /* the kept prompt's count was an estimate */
    }
    r = tasks_fit_search(probe_full, s, lo, HI_LIMIT, start, slope, s->budget, best, &tokens, slope_out);
    if (r == 1 && (s->best < 0 || s->slot[s->best].haystack != *best))
        r = probe_full(s, *best) == SIZE_MAX ? -1 : 1; /* (never: kept while searching) */
    return r;
}

/* RULER's fwe search: from (L - g) / 6 words up by (L - g) / 32 while the
 * prompt takes fewer than L - g tokens, then one step back. */
static int search_fwe_ruler(sample_search *s, size_t *best)
{
    size_t unit, lo;
    fit_limits(s->ctx, &unit, &lo);
    size_t budget = budget_of(s->ctx), h = budget / 6 > lo ? budget / 6 : lo;
    for (int i = 0; i < 100000; i++) {
        size_t t = probe_full(s, h);
        if (t == SIZE_MAX)
            return -1;
        if (t >= budget)
            break;
        h += unit;
    }
    *best = h > lo + unit ? h - unit : lo;
    return 1;
}

/* ---- what samples share -------------------------------------------------- */

void lcx_gen_prep_free(lcx_gen_prep *p)
{
    if (!p)
        return;
    free(p->vt_example);
    tasks_count_cache_free(p->chunks);
    free(p);
}

/* full: also the search state (RULER size, or the tight start, slope and
 * chunk cache); otherwise only what the families need (and, for the RULER
 * method, its size). */
static int prepare(const lcx_gen_ctx *ctx, const lcx_fit_opts *fit, int full, lcx_gen_prep **out,
                   lcx_err *err)
{
    *out = NULL;
    lcx_gen_prep *p = calloc(1, sizeof *p);
    if (!p)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    p->method = fit ? fit->method : LCX_FIT_TIGHT;
    /* The chunk cache: for the tight search (estimates, or exact counts),
     * and for the RULER method when its sums are exact counts. */
    p->exact = fit && fit->chunks && ctx->counter->cuts != 0 && !fit->verify;
    if (fit && fit->chunks && (full || p->method == LCX_FIT_RULER) &&
        (p->method == LCX_FIT_TIGHT || p->exact) && !(p->chunks = tasks_count_cache_new())) {
        free(p);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    const family_ops *ops = ops_for(ctx->task->family);
    prompt_parts parts;
    int rc = make_parts(ctx, &parts, err);
    if (!rc && ops->prepare)
        rc = ops->prepare(ctx, &parts, p, err);
    parts_free(&parts);
    if (!rc && (full || p->method == LCX_FIT_RULER)) {
        /* The search on sample 0's draw. */
        sample_search s;
        rc = search_open(&s, ctx, p, 0, err);
        size_t unit, lo, best = 0, tokens = 0;
        fit_limits(ctx, &unit, &lo);
        int r = -1;
        if (!rc && p->method == LCX_FIT_RULER) {
            r = ctx->task->family == FAMILY_FWE
                    ? search_fwe_ruler(&s, &best)
                    : tasks_fit_search(probe_full, &s, lo, HI_LIMIT, 0, 0, s.budget, &best, &tokens,
                                 NULL);
            p->ruler_haystack = best;
        } else if (!rc) {
            int chunks_ok = 0;
            r = search_tight(&s, 0, 0, &best, &p->slope, &chunks_ok);
            /* Keep the chunk path only when its estimate was exact here. */
            if (!chunks_ok && !p->exact) {
                tasks_count_cache_free(p->chunks);
                p->chunks = NULL;
            }
            p->start = best;
        }
        if (!rc && r == 0)
            rc = too_short(ctx, s.slot[s.cur].tokens, err);
        else if (!rc && r < 0)
            rc = err && err->code ? err->code
                                  : lcx_errf(err, LCX_EINTERNAL, "%s: search failed",
                                             ctx->task->name);
        search_close(&s);
    }
    if (rc) {
        lcx_gen_prep_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int lcx_gen_prepare(const lcx_gen_ctx *ctx, const lcx_fit_opts *fit, lcx_gen_prep **out,
                    lcx_err *err)
{
    return prepare(ctx, fit, 1, out, err);
}

int lcx_gen_check_length(const lcx_gen_ctx *ctx, lcx_err *err)
{
    lcx_gen_prep *prep = NULL;
    int rc = prepare(ctx, NULL, 0, &prep, err);
    if (rc)
        return rc;
    sample_search s;
    rc = search_open(&s, ctx, prep, 0, err);
    size_t unit, lo;
    fit_limits(ctx, &unit, &lo);
    if (!rc) {
        size_t t = probe_full(&s, lo);
        rc = t == SIZE_MAX ? (err && err->code ? err->code : LCX_EINTERNAL)
             : t > budget_of(ctx) || ctx->max_length < (size_t)ctx->task->tokens_to_generate
                 ? too_short(ctx, t, err)
                 : 0;
    }
    search_close(&s);
    lcx_gen_prep_free(prep);
    return rc;
}

int lcx_gen_sample_prep(const lcx_gen_ctx *ctx, const lcx_gen_prep *prep, size_t index,
                        lcx_sample *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    sample_search s;
    int rc = search_open(&s, ctx, prep, index, err);
    size_t unit, lo, best = 0;
    fit_limits(ctx, &unit, &lo);
    int r = -1;
    if (!rc && prep->method == LCX_FIT_RULER) {
        /* RULER's size; shrink by one unit while the sample overflows. */
        best = prep->ruler_haystack;
        for (;;) {
            size_t t = probe_full(&s, best);
            if (t == SIZE_MAX)
                break;
            if (t <= s.budget) {
                r = 1;
                break;
            }
            if (best <= lo) {
                r = 0;
                break;
            }
            best = best > lo + unit ? best - unit : lo;
        }
    } else if (!rc) {
        r = search_tight(&s, prep->start, prep->slope, &best, NULL, NULL);
        if (r == 0)
            probe_full(&s, lo);
    }
    if (!rc && r == 0)
        rc = too_short(ctx, s.slot[s.cur].tokens, err);
    else if (!rc && r < 0)
        rc = err && err->code ? err->code
                              : lcx_errf(err, LCX_EINTERNAL, "%s: generation failed",
                                         ctx->task->name);
    if (rc == 0 && s.best < 0)
        rc = lcx_errf(err, LCX_EINTERNAL, "%s: no prompt kept", ctx->task->name);
    if (rc == 0) {
        prompt_slot *p = &s.slot[s.best];
        out->index = index;
        out->input = sb_copy(&p->full, 0, p->split);
        out->answer_prefix = sb_copy(&p->full, p->split, p->full.len);
        out->outputs = p->built.outputs;
        out->n_outputs = p->built.n_outputs;
        p->built.outputs = NULL;
        p->built.n_outputs = 0;
        out->length = p->tokens;
        best = p->haystack;
        if (prep->method == LCX_FIT_RULER)
            out->length += (size_t)ctx->task->tokens_to_generate;
        out->max_length = ctx->max_length;
        out->tokens_to_generate = ctx->task->tokens_to_generate;
        out->haystack = best;
        if (!out->input || !out->answer_prefix) {
            lcx_sample_free(out);
            rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", ctx->task->name);
        }
    }
    search_close(&s);
    return rc;
}

int lcx_gen_sample(const lcx_gen_ctx *ctx, size_t index, lcx_sample *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    lcx_gen_prep *prep = NULL;
    int rc = prepare(ctx, NULL, 0, &prep, err);
    if (rc)
        return rc;
    prep->start = ctx->hint;
    rc = lcx_gen_sample_prep(ctx, prep, index, out, err);
    lcx_gen_prep_free(prep);
    return rc;
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
