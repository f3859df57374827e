/* sampler.c: greedy and temperature / top-k / top-p sampling. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

int lcx_sampler_init(lcx_sampler *s, int vocab, float temperature, int top_k, float top_p,
                     uint64_t seed)
{
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->vocab = vocab;
    lcx_rng_seed(&s->rng, seed);
    s->cand = malloc((size_t)vocab * sizeof *s->cand);
    return s->cand ? 0 : -1;
}

void lcx_sampler_free(lcx_sampler *s)
{
    free(s->cand);
    s->cand = NULL;
}

int32_t lcx_argmax(const float *logits, int n)
{
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best])
            best = i;
    return best;
}

static int cmp_cand(const void *a, const void *b)
{
    const struct lcx_sampler_cand *x = a, *y = b;
    if (x->p != y->p)
        return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int32_t lcx_sample(lcx_sampler *s, const float *logits)
{
    if (s->temperature <= 0)
        return lcx_argmax(logits, s->vocab);
    float mx = logits[lcx_argmax(logits, s->vocab)];
    double sum = 0;
    for (int i = 0; i < s->vocab; i++) {
        float p = expf((logits[i] - mx) / s->temperature);
        s->cand[i].p = p;
        s->cand[i].id = i;
        sum += p;
    }
    int n = s->vocab;
    int filter = (s->top_k > 0 && s->top_k < n) || (s->top_p > 0 && s->top_p < 1);
    if (filter) {
        qsort(s->cand, (size_t)n, sizeof *s->cand, cmp_cand);
        if (s->top_k > 0 && s->top_k < n)
            n = s->top_k;
        if (s->top_p > 0 && s->top_p < 1) {
            double cum = 0, total = 0;
            for (int i = 0; i < n; i++)
                total += s->cand[i].p;
            for (int i = 0; i < n; i++) {
                cum += s->cand[i].p;
                if (cum >= s->top_p * total) {
                    n = i + 1;
                    break;
                }
            }
        }
        sum = 0;
        for (int i = 0; i < n; i++)
            sum += s->cand[i].p;
    }
    double r = lcx_rng_double(&s->rng) * sum, cum = 0;
    for (int i = 0; i < n; i++) {
        cum += s->cand[i].p;
        if (r < cum)
            return s->cand[i].id;
    }
    return s->cand[n - 1].id;
}
