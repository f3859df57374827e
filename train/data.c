/* data.c: training sequences from the RULER generators (see data.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/strbuf.h"
#include "train/data.h"

enum { MAX_MIX = 64, FIT_ATTEMPTS = 8, ANSWER_ALLOWANCE = 8, MAX_NEEDLES = 256 };

struct lcx_data_stream {
    const lcx_tokenizer *tok;
    const lcx_task_data *data;
    const lcx_template *tmpl;
    lcx_counter counter; /* the tokenizer, counting without special tokens */
    uint64_t seed;
    float prompt_weight;
    int rounds;
    const lcx_task *tasks[MAX_MIX];
    double weights[MAX_MIX];
    size_t n_tasks;
    int32_t bos, eos, pad;
};

static size_t count_tokens(void *ctx, const char *text, size_t len)
{
    return lcx_tokenizer_count(ctx, text, len);
}

int lcx_data_stream_new(const lcx_tokenizer *tok, const lcx_task_data *data, const lcx_data_stream_opts *opts,
                        lcx_data_stream **out, lcx_err *err)
{
    *out = NULL;
    lcx_data_stream_opts o = opts ? *opts : (lcx_data_stream_opts){0};
    int rc = lcx_train_seed(&o.seed, "data", err);
    if (rc)
        return rc;
    if (!(o.prompt_weight >= 0.0f && o.prompt_weight <= 1.0f))
        return lcx_errf(err, LCX_EINPUT, "data: prompt_weight %g is not in [0, 1]", (double)o.prompt_weight);
    if (o.rounds < 0 || o.rounds > LCX_DATA_MAX_ROUNDS)
        return lcx_errf(err, LCX_EINPUT, "data: rounds %d is not in [0, %d]", o.rounds, LCX_DATA_MAX_ROUNDS);
    const lcx_template *tmpl = lcx_template_find(o.template_name ? o.template_name : "base");
    if (!tmpl)
        return lcx_errf(err, LCX_EINPUT, "data: unknown template \"%.60s\"", o.template_name);
    lcx_data_stream *s = calloc(1, sizeof *s);
    if (!s)
        return lcx_errf(err, LCX_ENOMEM, "data: out of memory");
    s->tok = tok;
    s->data = data;
    s->tmpl = tmpl;
    s->counter = (lcx_counter){"tokenizer", count_tokens, (void *)tok, lcx_tokenizer_cut_rules(tok)};
    s->seed = o.seed;
    s->prompt_weight = o.prompt_weight;
    s->rounds = o.rounds;
    s->bos = lcx_tokenizer_token_id(tok, LCX_VOCAB_EOS);
    s->eos = s->bos;
    s->pad = lcx_tokenizer_token_id(tok, LCX_VOCAB_PAD);
    rc = 0;
    if (s->bos < 0 || s->pad < 0)
        rc = lcx_errf(err, LCX_EINPUT, "data: the tokenizer has no %s token",
                      s->bos < 0 ? LCX_VOCAB_EOS : LCX_VOCAB_PAD);
    if (!o.mix) {
        for (size_t t = 0; t < lcx_task_count(); t++) {
            s->tasks[s->n_tasks] = lcx_task_at(t);
            s->weights[s->n_tasks++] = 1.0;
        }
    } else if (!rc && (o.n_mix == 0 || o.n_mix > MAX_MIX)) {
        rc = lcx_errf(err, LCX_EINPUT, "data: mix has %zu tasks (1 to %d)", o.n_mix, MAX_MIX);
    }
    for (size_t k = 0; o.mix && !rc && k < o.n_mix; k++) {
        const lcx_task *t = o.mix[k].task ? lcx_task_find(o.mix[k].task) : NULL;
        if (!t)
            rc = lcx_errf(err, LCX_EINPUT, "data: mix[%zu]: unknown task \"%.60s\"", k,
                          o.mix[k].task ? o.mix[k].task : "(null)");
        else if (!(o.mix[k].weight > 0.0 && isfinite(o.mix[k].weight)))
            rc = lcx_errf(err, LCX_EINPUT, "data: mix[%zu] (%s): weight %g is not positive", k, t->name,
                          o.mix[k].weight);
        else {
            s->tasks[s->n_tasks] = t;
            s->weights[s->n_tasks++] = o.mix[k].weight;
        }
    }
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void lcx_data_stream_free(lcx_data_stream *s)
{
    free(s);
}

int32_t lcx_data_bos_id(const lcx_data_stream *s)
{
    return s->bos;
}

int32_t lcx_data_eos_id(const lcx_data_stream *s)
{
    return s->eos;
}

int32_t lcx_data_pad_id(const lcx_data_stream *s)
{
    return s->pad;
}

/* A task drawn by weight among those not excluded, or -1 when none is left. */
static int draw_task(const lcx_data_stream *s, lcx_rng *rng, const int *excluded)
{
    double total = 0;
    for (size_t k = 0; k < s->n_tasks; k++)
        total += excluded[k] ? 0 : s->weights[k];
    if (total <= 0)
        return -1;
    double u = lcx_rng_double(rng) * total;
    int last = -1;
    for (size_t k = 0; k < s->n_tasks; k++) {
        if (excluded[k])
            continue;
        last = (int)k;
        if (u < s->weights[k])
            return (int)k;
        u -= s->weights[k];
    }
    return last; /* rounding */
}

/* The encoded parts of one sample. hot, when not NULL, marks the prompt ids
 * that are answers to extra questions (weight 1). */
typedef struct encoded {
    int32_t *prompt, *answer;
    unsigned char *hot;
    size_t n_prompt, n_answer, n_rounds;
} encoded;

static void encoded_free(encoded *e)
{
    free(e->prompt);
    free(e->answer);
    free(e->hot);
    memset(e, 0, sizeof *e);
}

/* Tasks whose samples have other keys to ask about: one queried key with one
 * value among several keys (niah_multikey_*). */
static int has_rounds(const lcx_task *t)
{
    return t->family == FAMILY_NIAH && t->num_queries == 1 && t->num_values == 1 &&
           (t->num_keys > 1 || t->haystack == HAYSTACK_NEEDLE);
}

static int encode_sample(const lcx_data_stream *s, const lcx_sample *smp, encoded *e, lcx_err *err)
{
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, smp->input);
    sb_puts(&sb, smp->answer_prefix);
    int rc = sb.oom ? lcx_errf(err, LCX_ENOMEM, "data: out of memory")
                    : lcx_tokenizer_encode(s->tok, sb_str(&sb), sb.len, 0, &e->prompt, &e->n_prompt, err);
    sb_clear(&sb);
    sb_putc(&sb, ' ');
    for (size_t k = 0; k < smp->n_outputs; k++) {
        if (k)
            sb_puts(&sb, ", ");
        sb_puts(&sb, smp->outputs[k]);
    }
    if (!rc)
        rc = sb.oom ? lcx_errf(err, LCX_ENOMEM, "data: out of memory")
                    : lcx_tokenizer_encode(s->tok, sb_str(&sb), sb.len, 0, &e->answer, &e->n_answer, err);
    sb_free(&sb);
    return rc;
}

/* Fit task t's sample i into T - reserve ids. Returns 0 with *e and *keep
 * filled (the caller frees both), 1 when the task cannot fit, or an error
 * code. */
static int fit_task(const lcx_data_stream *s, const lcx_task *t, uint64_t i, size_t T, size_t reserve,
                    encoded *e, lcx_sample *keep, lcx_err *err)
{
    size_t ttg = (size_t)t->tokens_to_generate;
    if (T < reserve + 2 + ANSWER_ALLOWANCE + 1)
        return 1;
    T -= reserve;
    size_t max_length = T - 2 - ANSWER_ALLOWANCE + ttg;
    for (size_t attempt = 0; attempt < FIT_ATTEMPTS; attempt++) {
        lcx_gen_ctx ctx = {t, s->data, s->tmpl, &s->counter, max_length, s->seed, 0};
        lcx_sample smp;
        lcx_err gen_err;
        int rc = lcx_gen_sample(&ctx, (size_t)i, &smp, &gen_err);
        if (rc == LCX_EINPUT)
            return 1; /* even the smallest haystack is too long */
        if (rc) {
            *err = gen_err;
            return lcx_err_prefix(err, "data: %s sequence %llu at T=%zu", t->name, (unsigned long long)i, T);
        }
        rc = encode_sample(s, &smp, e, err);
        if (rc) {
            lcx_sample_free(&smp);
            return rc;
        }
        size_t total = 2 + e->n_prompt + e->n_answer;
        if (total <= T) {
            *keep = smp;
            return 0;
        }
        lcx_sample_free(&smp);
        encoded_free(e);
        size_t cut = total - T + attempt;
        if (max_length <= ttg + cut + 1)
            return 1;
        max_length -= cut;
    }
    return 1;
}

/* Prompt ids under construction, each marked hot (weight 1) or not. */
typedef struct idbuf {
    int32_t *ids;
    unsigned char *hot;
    size_t n, cap;
    int oom;
} idbuf;

static void idbuf_add(idbuf *b, const int32_t *ids, size_t n, int hot)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t c = (b->n + n) * 2;
        int32_t *p = realloc(b->ids, c * sizeof *p);
        if (p)
            b->ids = p;
        unsigned char *h = p ? realloc(b->hot, c) : NULL;
        if (h)
            b->hot = h;
        if (!p || !h) {
            b->oom = 1;
            return;
        }
        b->cap = c;
    }
    memcpy(b->ids + b->n, ids, n * sizeof *ids);
    memset(b->hot + b->n, hot, n);
    b->n += n;
}

/* The ids of text (no special tokens), appended to b. */
static int idbuf_encode(const lcx_data_stream *s, idbuf *b, const char *text, size_t len, int hot,
                        size_t *n_added, lcx_err *err)
{
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = lcx_tokenizer_encode(s->tok, text, len, 0, &ids, &n, err);
    if (!rc)
        idbuf_add(b, ids, n, hot);
    free(ids);
    if (!rc && b->oom)
        rc = lcx_errf(err, LCX_ENOMEM, "data: out of memory");
    if (n_added)
        *n_added = n;
    return rc;
}

static int same_key(const lcx_needle_span *a, const lcx_needle_span *b)
{
    return a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len);
}

/* The queried needle of a one-answer niah sample: the one whose value is the
 * answer (NULL when there is not exactly one such key). */
static const lcx_needle_span *queried_needle(const lcx_sample *smp, const lcx_needle_span *nd, size_t n)
{
    if (smp->n_outputs != 1)
        return NULL;
    const char *v = smp->outputs[0];
    const lcx_needle_span *q = NULL;
    for (size_t k = 0; k < n; k++) {
        if (nd[k].value_len != strlen(v) || memcmp(nd[k].value, v, nd[k].value_len))
            continue;
        if (q && !same_key(q, &nd[k]))
            return NULL;
        q = &nd[k];
    }
    return q;
}

/* Ask up to s->rounds extra questions about the other needles of the sample
 * (data.h), rebuilding e->prompt around them within T ids. Leaves e alone
 * when the sample has no other needle or its final line does not name the
 * queried key. */
static int add_rounds(const lcx_data_stream *s, const lcx_sample *smp, size_t T, lcx_rng *rng, encoded *e,
                      lcx_err *err)
{
    lcx_needle_span *nd = malloc(MAX_NEEDLES * sizeof *nd);
    size_t *order = malloc(MAX_NEEDLES * sizeof *order);
    if (!nd || !order) {
        free(nd);
        free(order);
        return lcx_errf(err, LCX_ENOMEM, "data: out of memory");
    }
    size_t n = lcx_niah_needles(smp->input, nd, MAX_NEEDLES);
    n = n < MAX_NEEDLES ? n : MAX_NEEDLES;
    const lcx_needle_span *q = queried_needle(smp, nd, n);
    const char *nl = strrchr(smp->input, '\n');
    char *qkey = q ? strndup(q->key, q->key_len) : NULL;
    /* other keys, each once, in random order */
    size_t n_other = 0;
    for (size_t k = 0; q && k < n; k++) {
        int seen = same_key(&nd[k], q);
        for (size_t j = 0; !seen && j < n_other; j++)
            seen = same_key(&nd[order[j]], &nd[k]);
        if (!seen)
            order[n_other++] = k;
    }
    int rc = 0;
    if (!qkey || !nl || !strstr(nl + 1, qkey) || !n_other) {
        free(qkey);
        free(nd);
        free(order);
        return q && !qkey ? lcx_errf(err, LCX_ENOMEM, "data: out of memory") : 0;
    }
    lcx_rng_shuffle(rng, order, n_other, sizeof *order);

    /* the final question (last line and answer prefix), asked last */
    strbuf final, text;
    sb_init(&final);
    sb_init(&text);
    sb_puts(&final, nl + 1);
    sb_puts(&final, smp->answer_prefix);
    idbuf tail = {0}, b = {0}, newline = {0};
    size_t n_rounds = 0;
    rc = final.oom ? lcx_errf(err, LCX_ENOMEM, "data: out of memory")
                   : idbuf_encode(s, &tail, sb_str(&final), final.len, 0, NULL, err);
    if (!rc)
        rc = idbuf_encode(s, &newline, "\n", 1, 0, NULL, err);
    /* the prompt up to and with its last newline */
    if (!rc)
        rc = idbuf_encode(s, &b, smp->input, (size_t)(nl + 1 - smp->input), 0, NULL, err);
    size_t used = 2 + b.n + tail.n + e->n_answer;
    for (size_t r = 0; !rc && r < n_other && (int)n_rounds < s->rounds; r++) {
        const lcx_needle_span *k = &nd[order[r]];
        char *key = strndup(k->key, k->key_len);
        sb_clear(&text);
        if (key)
            sb_append_replace(&text, sb_str(&final), qkey, key);
        size_t qlen = text.len; /* the question, then " " value */
        sb_putc(&text, ' ');
        sb_append(&text, k->value, k->value_len);
        free(key);
        if (!key || text.oom) {
            rc = lcx_errf(err, LCX_ENOMEM, "data: out of memory");
            break;
        }
        size_t before = b.n, nq, nv, nn = newline.n;
        rc = idbuf_encode(s, &b, sb_str(&text), qlen, 0, &nq, err);
        if (!rc)
            rc = idbuf_encode(s, &b, sb_str(&text) + qlen, text.len - qlen, 1, &nv, err);
        idbuf_add(&b, newline.ids, nn, 0);
        if (!rc && b.oom)
            rc = lcx_errf(err, LCX_ENOMEM, "data: out of memory");
        if (!rc && used + nq + nv + nn > T) {
            b.n = before; /* does not fit: stop here */
            break;
        }
        used += nq + nv + nn;
        n_rounds++;
    }
    if (!rc && n_rounds) {
        idbuf_add(&b, tail.ids, tail.n, 0);
        if (b.oom)
            rc = lcx_errf(err, LCX_ENOMEM, "data: out of memory");
    }
    if (!rc && n_rounds) {
        free(e->prompt);
        free(e->hot);
        e->prompt = b.ids;
        e->hot = b.hot;
        e->n_prompt = b.n;
        e->n_rounds = n_rounds;
        b.ids = NULL;
        b.hot = NULL;
    }
    free(b.ids);
    free(b.hot);
    free(tail.ids);
    free(tail.hot);
    free(newline.ids);
    free(newline.hot);
    free(qkey);
    sb_free(&final);
    sb_free(&text);
    free(nd);
    free(order);
    return rc;
}

int lcx_data_sequence(const lcx_data_stream *s, uint64_t i, size_t T, int32_t *ids, float *weights,
                      lcx_data_info *info, lcx_sample *sample, lcx_err *err)
{
    if (sample)
        memset(sample, 0, sizeof *sample);
    if (T < 2 || T > LCX_DATA_MAX_T)
        return lcx_errf(err, LCX_EINPUT, "data: sequence length %zu is not in [2, %d]", T, LCX_DATA_MAX_T);
    lcx_rng rng;
    lcx_rng_seed(&rng, lcx_seed_mix(s->seed, "lcx-train-data", T, i));
    int excluded[MAX_MIX] = {0};
    encoded e = {0};
    lcx_sample smp;
    int k, rc;
    for (;;) {
        k = draw_task(s, &rng, excluded);
        if (k < 0)
            return lcx_errf(err, LCX_EINPUT, "data: no task of the mix fits T=%zu tokens (sequence %llu)", T,
                            (unsigned long long)i);
        /* room for extra questions when the task has them, else (or when
         * that does not fit) the whole length */
        size_t reserve = s->rounds && has_rounds(s->tasks[k]) ? T / 3 : 0;
        rc = fit_task(s, s->tasks[k], i, T, reserve, &e, &smp, err);
        if (rc == 1 && reserve)
            rc = fit_task(s, s->tasks[k], i, T, 0, &e, &smp, err);
        if (rc == 0)
            break;
        if (rc != 1)
            return rc;
        excluded[k] = 1;
    }
    rc = s->rounds && has_rounds(s->tasks[k]) ? add_rounds(s, &smp, T, &rng, &e, err) : 0;
    if (sample && !rc)
        *sample = smp;
    else
        lcx_sample_free(&smp);
    if (rc) {
        encoded_free(&e);
        return rc;
    }
    size_t t = 0;
    ids[t] = s->bos;
    weights[t++] = 0.0f;
    for (size_t j = 0; j < e.n_prompt; j++, t++) {
        ids[t] = e.prompt[j];
        weights[t] = e.hot && e.hot[j] ? 1.0f : s->prompt_weight;
    }
    for (size_t j = 0; j < e.n_answer; j++, t++) {
        ids[t] = e.answer[j];
        weights[t] = 1.0f;
    }
    ids[t] = s->eos;
    weights[t++] = 1.0f;
    if (info) {
        info->task = s->tasks[k]->name;
        info->n_prompt = 1 + e.n_prompt;
        info->n_rounds = e.n_rounds;
        info->n_answer = e.n_answer + 1;
        info->n_pad = T - t;
    }
    for (; t < T; t++) {
        ids[t] = s->pad;
        weights[t] = 0.0f;
    }
    encoded_free(&e);
    return 0;
}

int lcx_data_batch(const lcx_data_stream *s, uint64_t first, size_t B, size_t T, int32_t *ids,
                   float *weights, lcx_data_info *info, lcx_err *err)
{
    if (T < 2 || T > LCX_DATA_MAX_T)
        return lcx_errf(err, LCX_EINPUT, "data: sequence length %zu is not in [2, %d]", T, LCX_DATA_MAX_T);
    lcx_err *errs = calloc(B ? B : 1, sizeof *errs);
    if (!errs)
        return lcx_errf(err, LCX_ENOMEM, "data: out of memory");
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t b = 0; b < B; b++)
        lcx_data_sequence(s, first + b, T, ids + b * T, weights + b * T, info ? &info[b] : NULL, NULL,
                          &errs[b]);
    int rc = 0;
    for (size_t b = 0; b < B && !rc; b++)
        if (errs[b].code) {
            *err = errs[b];
            rc = errs[b].code;
        }
    free(errs);
    return rc;
}
