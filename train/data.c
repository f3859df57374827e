/* data.c: training sequences from the RULER generators (see data.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/strbuf.h"
#include "train/data.h"

enum { MAX_MIX = 64, FIT_ATTEMPTS = 8, ANSWER_ALLOWANCE = 8 };

struct lcx_data_stream {
    const lcx_tokenizer *tok;
    const lcx_task_data *data;
    const lcx_template *tmpl;
    lcx_counter counter; /* the tokenizer, counting without special tokens */
    uint64_t seed;
    float prompt_weight;
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
    const lcx_template *tmpl = lcx_template_find(o.template_name ? o.template_name : "base");
    if (!tmpl)
        return lcx_errf(err, LCX_EINPUT, "data: unknown template \"%.60s\"", o.template_name);
    lcx_data_stream *s = calloc(1, sizeof *s);
    if (!s)
        return lcx_errf(err, LCX_ENOMEM, "data: out of memory");
    s->tok = tok;
    s->data = data;
    s->tmpl = tmpl;
    s->counter = (lcx_counter){"tokenizer", count_tokens, (void *)tok};
    s->seed = o.seed;
    s->prompt_weight = o.prompt_weight;
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

/* The encoded parts of one sample. */
typedef struct encoded {
    int32_t *prompt, *answer;
    size_t n_prompt, n_answer;
} encoded;

static void encoded_free(encoded *e)
{
    free(e->prompt);
    free(e->answer);
    memset(e, 0, sizeof *e);
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

/* Fit task t's sample i into T ids. Returns 0 with *e filled, 1 when the task
 * cannot fit T, or an error code. */
static int fit_task(const lcx_data_stream *s, const lcx_task *t, uint64_t i, size_t T, encoded *e,
                    lcx_sample *keep, lcx_err *err)
{
    size_t ttg = (size_t)t->tokens_to_generate;
    if (T < 2 + ANSWER_ALLOWANCE + 1)
        return 1;
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
            if (keep)
                *keep = smp;
            else
                lcx_sample_free(&smp);
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
    int k;
    for (;;) {
        k = draw_task(s, &rng, excluded);
        if (k < 0)
            return lcx_errf(err, LCX_EINPUT, "data: no task of the mix fits T=%zu tokens (sequence %llu)", T,
                            (unsigned long long)i);
        int rc = fit_task(s, s->tasks[k], i, T, &e, sample, err);
        if (rc == 0)
            break;
        if (rc != 1)
            return rc;
        excluded[k] = 1;
    }
    size_t t = 0;
    ids[t] = s->bos;
    weights[t++] = 0.0f;
    for (size_t j = 0; j < e.n_prompt; j++, t++) {
        ids[t] = e.prompt[j];
        weights[t] = s->prompt_weight;
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
