/* niah.c: needle in a haystack, the eight niah_* tasks
 * (docs/ruler.md, "What is byte-identical", niah; RULER
 * scripts/data/synthetic/niah.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/gen_internal.h"
#include "tasks/templates.h"

enum { MAX_NEEDLE_KEYS = 16, MAX_NEEDLE_VALUES = 16, MAX_TOKEN = 64, ESSAY_DEPTHS = 40 };

/* Depths in percent: round(linspace(0, 100, 40)), as integers. 100*i/39 is
 * never exactly k + 1/2, so rounding half up and half to even agree. */
static int depth_percent(int i) { return (200 * i + 39) / 78; }

static void random_token(lcx_rng *rng, lcx_needle_type type, const lcx_task_data *d,
                         char *buf)
{
    switch (type) {
    case NEEDLE_NUMBERS:
        snprintf(buf, MAX_TOKEN, "%d", (int)lcx_rng_range(rng, 1000000, 9999999));
        break;
    case NEEDLE_WORDS: {
        /* RULER draws uniformly from the adjective-noun pairs. */
        const char *adj = d->adjectives.words[lcx_rng_below(rng, d->adjectives.n)];
        const char *noun = d->nouns.words[lcx_rng_below(rng, d->nouns.n)];
        snprintf(buf, MAX_TOKEN, "%s-%s", adj, noun);
        break;
    }
    case NEEDLE_UUIDS: {
        /* uuid.UUID(int=getrandbits(128), version=4) */
        unsigned char b[16];
        uint64_t hi = lcx_rng_next(rng), lo = lcx_rng_next(rng);
        for (int i = 0; i < 8; i++) {
            b[i] = (unsigned char)(hi >> (56 - 8 * i));
            b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
        }
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
        snprintf(buf, MAX_TOKEN,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
        break;
    }
    }
}

static const char *type_plural(lcx_needle_type t)
{
    return t == NEEDLE_UUIDS ? "uuids" : t == NEEDLE_WORDS ? "words" : "numbers";
}

static void format_needle(strbuf *out, lcx_needle_type vtype, const char *key, const char *value)
{
    const char *names[] = {"type_needle_v", "key", "value"};
    const char *values[] = {type_plural(vtype), key, value};
    tasks_fill_template(out, TASKS_NIAH_NEEDLE, names, values, 3);
}

typedef struct needles {
    char keys[MAX_NEEDLE_KEYS][MAX_TOKEN];
    char values[MAX_NEEDLE_KEYS][MAX_NEEDLE_VALUES][MAX_TOKEN];
    int num_keys, num_values;
    strbuf text[MAX_NEEDLE_KEYS * MAX_NEEDLE_VALUES]; /* the needle sentences, shuffled */
    int n;
} needles;

static int key_taken(const needles *nd, int upto, const char *key)
{
    for (int i = 0; i < upto; i++)
        if (!strcmp(nd->keys[i], key))
            return 1;
    return 0;
}

/* The task's needle counts fit the arrays above (and the essay's depths). */
static int check_needles(const lcx_task *t, lcx_err *err)
{
    int keys = t->num_keys > t->num_queries ? t->num_keys : t->num_queries;
    if (t->num_keys < 1 || t->num_values < 1 || t->num_queries < 1)
        return lcx_errf(err, LCX_EINPUT, "%s: num_keys %d, num_values %d, num_queries %d: each "
                        "must be at least 1", t->name, t->num_keys, t->num_values, t->num_queries);
    if (keys > MAX_NEEDLE_KEYS)
        return lcx_errf(err, LCX_EINPUT, "%s: %d keys, at most %d", t->name, keys, MAX_NEEDLE_KEYS);
    if (t->num_values > MAX_NEEDLE_VALUES)
        return lcx_errf(err, LCX_EINPUT, "%s: %d values per key, at most %d", t->name,
                        t->num_values, MAX_NEEDLE_VALUES);
    if (t->haystack == HAYSTACK_ESSAY && keys * t->num_values > ESSAY_DEPTHS)
        return lcx_errf(err, LCX_EINPUT, "%s: %d needles, at most %d in an essay haystack (one "
                        "per depth; %d keys x %d values)", t->name, keys * t->num_values,
                        ESSAY_DEPTHS, keys, t->num_values);
    return 0;
}

static void make_needles(const lcx_task *t, const lcx_task_data *d, lcx_rng *rng, needles *nd)
{
    nd->num_keys = t->num_keys > t->num_queries ? t->num_keys : t->num_queries;
    nd->num_values = t->num_values;
    nd->n = 0;
    for (int k = 0; k < nd->num_keys; k++) {
        /* Keys are distinct, so every query has one answer set. */
        do
            random_token(rng, t->key_type, d, nd->keys[k]);
        while (key_taken(nd, k, nd->keys[k]));
        for (int v = 0; v < nd->num_values; v++) {
            random_token(rng, t->value_type, d, nd->values[k][v]);
            sb_init(&nd->text[nd->n]);
            format_needle(&nd->text[nd->n], t->value_type, nd->keys[k], nd->values[k][v]);
            nd->n++;
        }
    }
    lcx_rng_shuffle(rng, nd->text, (size_t)nd->n, sizeof(strbuf));
}

static void needles_free(needles *nd)
{
    for (int i = 0; i < nd->n; i++)
        sb_free(&nd->text[i]);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Essay haystack: the first `haystack` words of the (repeating) corpus,
 * split into sentences; needles go between sentences at depths drawn
 * without replacement from round(linspace(0, 100, 40)). */
static int essay_context(const lcx_task *t, const lcx_task_data *d, size_t haystack,
                         lcx_rng *rng, const needles *nd, strbuf *ctx, lcx_err *err)
{
    const essay_corpus *e = &d->essay;
    size_t nw = e->words.n;
    if (nd->n > ESSAY_DEPTHS) /* check_needles refuses it first */
        return lcx_errf(err, LCX_EINPUT, "%s: %d needles, at most %d in an essay haystack",
                        t->name, nd->n, ESSAY_DEPTHS);
    /* Sentence starts over the first `haystack` words. */
    size_t cap = haystack / 4 + 2, nsent = 0;
    size_t *starts = malloc((cap + 1) * sizeof *starts);
    if (!starts)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory for %zu sentence starts", t->name,
                        cap);
    for (size_t w = 0; w < haystack; w++) {
        if (w == 0 || e->ends_sentence[(w - 1) % nw]) {
            if (nsent == cap) {
                cap *= 2;
                size_t *s = realloc(starts, (cap + 1) * sizeof *s);
                if (!s) {
                    free(starts);
                    return lcx_errf(err, LCX_ENOMEM, "%s: out of memory for %zu sentence starts",
                                    t->name, cap);
                }
                starts = s;
            }
            starts[nsent++] = w;
        }
    }
    starts[nsent] = haystack;

    size_t depth_idx[ESSAY_DEPTHS], pos[ESSAY_DEPTHS + 2];
    if (lcx_rng_sample(rng, ESSAY_DEPTHS, (size_t)nd->n, depth_idx)) { /* n <= 40: only memory */
        free(starts);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory drawing needle depths", t->name);
    }
    pos[0] = 0;
    for (int i = 0; i < nd->n; i++)
        pos[i + 1] = (size_t)((double)nsent * (depth_percent((int)depth_idx[i]) / 100.0));
    qsort(pos + 1, (size_t)nd->n, sizeof(size_t), cmp_size);
    pos[nd->n + 1] = nsent;

    /* " ".join(segments), where segments alternate sentence runs and needles. */
    for (int i = 1; i <= nd->n + 1; i++) {
        if (i > 1)
            sb_putc(ctx, ' ');
        for (size_t w = starts[pos[i - 1]]; w < starts[pos[i]]; w++) {
            if (w > starts[pos[i - 1]])
                sb_putc(ctx, ' ');
            sb_puts(ctx, e->words.words[w % nw]);
        }
        if (i - 1 < nd->n) {
            sb_putc(ctx, ' ');
            sb_append(ctx, sb_str(&nd->text[i - 1]), nd->text[i - 1].len);
        }
    }
    free(starts);
    return ctx->oom ? lcx_errf(err, LCX_ENOMEM, "%s: out of memory for the haystack", t->name) : 0;
}

/* Noise and needle haystacks: `haystack` lines, needles inserted as lines
 * at distinct random positions, joined with newlines. */
static int line_context(const lcx_task *t, const lcx_task_data *d, size_t haystack,
                        lcx_rng *rng, const needles *nd, strbuf *ctx, lcx_err *err)
{
    if ((size_t)nd->n > haystack) /* niah_limits keeps a line per needle */
        return lcx_errf(err, LCX_EINPUT, "%s: %d needles, more than the %zu haystack lines to "
                        "insert them before", t->name, nd->n, haystack);
    strbuf *lines = NULL;
    if (t->haystack == HAYSTACK_NEEDLE) {
        /* Distractor needles with random keys (never one of the real keys). */
        lines = calloc(haystack ? haystack : 1, sizeof *lines);
        if (!lines)
            return lcx_errf(err, LCX_ENOMEM, "%s: out of memory for %zu haystack lines", t->name,
                            haystack);
        for (size_t i = 0; i < haystack; i++) {
            char key[MAX_TOKEN], value[MAX_TOKEN];
            do
                random_token(rng, t->key_type, d, key);
            while (key_taken(nd, nd->num_keys, key));
            random_token(rng, t->value_type, d, value);
            format_needle(&lines[i], t->value_type, key, value);
        }
    }
    size_t idx[MAX_NEEDLE_KEYS * MAX_NEEDLE_VALUES];
    int rc = lcx_rng_sample(rng, haystack, (size_t)nd->n, idx) /* n <= haystack: only memory */
                 ? lcx_errf(err, LCX_ENOMEM, "%s: out of memory drawing needle positions", t->name)
                 : 0;
    if (!rc) {
        /* RULER inserts needle i at the i-th largest index: needle i comes
         * right before original line idx_desc[i]. */
        qsort(idx, (size_t)nd->n, sizeof(size_t), cmp_size);
        int next = 0; /* ascending position -> needle nd->n - 1 - next */
        int first = 1;
        for (size_t i = 0; i < haystack; i++) {
            if (next < nd->n && idx[next] == i) {
                if (!first)
                    sb_putc(ctx, '\n');
                const strbuf *needle = &nd->text[nd->n - 1 - next];
                sb_append(ctx, sb_str(needle), needle->len);
                first = 0;
                next++;
            }
            if (!first)
                sb_putc(ctx, '\n');
            if (lines)
                sb_append(ctx, sb_str(&lines[i]), lines[i].len);
            else
                sb_puts(ctx, TASKS_NOISE_SENTENCE);
            first = 0;
        }
    }
    int lines_oom = 0;
    if (lines) {
        for (size_t i = 0; i < haystack; i++) {
            lines_oom |= lines[i].oom;
            sb_free(&lines[i]);
        }
        free(lines);
    }
    if (!rc && (ctx->oom || lines_oom))
        rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory for the haystack", t->name);
    return rc;
}

static int niah_build(const lcx_gen_ctx *ctx, size_t index, size_t haystack, lcx_rng *rng,
                      const prompt_parts *parts, built_sample *out, lcx_err *err)
{
    (void)index;
    const lcx_task *t = ctx->task;
    int rc = check_needles(t, err);
    if (rc)
        return rc;
    needles nd;
    make_needles(t, ctx->data, rng, &nd);
    for (int i = 0; i < nd.n && !rc; i++)
        if (nd.text[i].oom)
            rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory for the needles", t->name);

    strbuf context;
    sb_init(&context);
    if (!rc)
        rc = t->haystack == HAYSTACK_ESSAY
                 ? essay_context(t, ctx->data, haystack, rng, &nd, &context, err)
                 : line_context(t, ctx->data, haystack, rng, &nd, &context, err);

    /* The query picks num_queries keys; the answers are all their values. */
    size_t picks[MAX_NEEDLE_KEYS];
    char *queries[MAX_NEEDLE_KEYS];
    const char *answers[MAX_NEEDLE_KEYS * MAX_NEEDLE_VALUES];
    size_t n_answers = 0;
    if (!rc && lcx_rng_sample(rng, (size_t)nd.num_keys, (size_t)t->num_queries, picks))
        rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory drawing the queried keys", t->name);
    strbuf query;
    sb_init(&query);
    if (!rc) {
        for (int q = 0; q < t->num_queries; q++) {
            queries[q] = nd.keys[picks[q]];
            for (int v = 0; v < nd.num_values; v++)
                answers[n_answers++] = nd.values[picks[q]][v];
        }
        tasks_join_query(&query, queries, (size_t)t->num_queries);

        int singular = t->num_queries * t->num_values == 1;
        const char *type = singular ? (t->value_type == NEEDLE_UUIDS ? "uuid" : "number")
                                    : type_plural(t->value_type);
        const char *names[] = {"type_needle_v", "context", "query"};
        const char *values[] = {type, sb_str(&context), sb_str(&query)};
        tasks_fill_template(&out->task, sb_str(&parts->body), names, values, 3);
        tasks_fill_template(&out->answer_prefix, sb_str(&parts->answer_prefix), names, values, 3);
        if (tasks_set_outputs(out, answers, n_answers) || query.oom || out->answer_prefix.oom)
            rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory for the prompt", t->name);
    }
    sb_free(&query);
    sb_free(&context);
    needles_free(&nd);
    return rc;
}

/* RULER's units: 500 essay words, 25 lines (5 below 4K). Line haystacks
 * need a line per needle to insert before. */
static void niah_limits(const lcx_gen_ctx *ctx, size_t *unit, size_t *min_haystack)
{
    const lcx_task *t = ctx->task;
    if (t->haystack == HAYSTACK_ESSAY) {
        *unit = 500;
        *min_haystack = 1;
    } else {
        int keys = t->num_keys > t->num_queries ? t->num_keys : t->num_queries;
        *unit = ctx->max_length < 4096 ? 5 : 25;
        *min_haystack = (size_t)(keys * t->num_values);
        /* The search's first build is one unit: never fewer lines than
         * needles (only a task with more needles than a unit has lines). */
        if (keys > 0 && t->num_values > 0 && *min_haystack > *unit)
            *unit = *min_haystack;
    }
}

const family_ops tasks_niah_ops = {.limits = niah_limits, .build = niah_build};

/* The template's text between placeholder `from` (NULL: the start) and
 * placeholder `to` (NULL: the end). */
static int template_piece(const char *from, const char *to, const char **start, size_t *len)
{
    const char *a = TASKS_NIAH_NEEDLE;
    if (from) {
        a = strstr(TASKS_NIAH_NEEDLE, from);
        if (!a)
            return -1;
        a += strlen(from);
    }
    const char *b = to ? strstr(a, to) : a + strlen(a);
    if (!b)
        return -1;
    *start = a;
    *len = (size_t)(b - a);
    return 0;
}

static size_t run_of_nonspace(const char *p)
{
    size_t n = 0;
    while (p[n] && !strchr(" \t\r\n", p[n]))
        n++;
    return n;
}

size_t lcx_niah_needles(const char *text, lcx_needle_span *out, size_t max)
{
    const char *head, *mid, *is, *tail;
    size_t head_len, mid_len, is_len, tail_len;
    if (template_piece(NULL, "{type_needle_v}", &head, &head_len) ||
        template_piece("{type_needle_v}", "{key}", &mid, &mid_len) ||
        template_piece("{key}", "{value}", &is, &is_len) || template_piece("{value}", NULL, &tail, &tail_len) ||
        !head_len || !mid_len || !is_len)
        return 0;
    size_t n = 0;
    const char *p = text, *end = text + strlen(text);
    while ((p = memmem(p, (size_t)(end - p), head, head_len)) != NULL) {
        const char *t = p + head_len;
        p++;
        while (*t >= 'a' && *t <= 'z')
            t++;
        if (strncmp(t, mid, mid_len))
            continue;
        const char *key = t + mid_len;
        size_t key_len = run_of_nonspace(key);
        if (!key_len || strncmp(key + key_len, is, is_len))
            continue;
        const char *value = key + key_len + is_len;
        size_t run = run_of_nonspace(value);
        if (run <= tail_len || strncmp(value + run - tail_len, tail, tail_len))
            continue;
        if (n < max)
            out[n] = (lcx_needle_span){key, value, key_len, run - tail_len};
        n++;
        p = value + run;
    }
    return n;
}
