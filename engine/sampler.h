/* sampler.h: choose the next token from logits: greedy, or temperature with
 * top-k and top-p, drawn with the project PRNG (seeded, reproducible). */
#ifndef LCX_SAMPLER_H
#define LCX_SAMPLER_H

#include <stdint.h>

#include "common/rng.h"

typedef struct lcx_sampler {
    float temperature; /* <= 0: greedy (argmax) */
    int top_k;         /* <= 0: all */
    float top_p;       /* >= 1 or <= 0: all */
    lcx_rng rng;
    int vocab;
    struct lcx_sampler_cand { float p; int32_t id; } *cand; /* [vocab] scratch */
} lcx_sampler;

/* Returns 0, or -1 when memory runs out. */
int lcx_sampler_init(lcx_sampler *s, int vocab, float temperature, int top_k, float top_p,
                     uint64_t seed);
void lcx_sampler_free(lcx_sampler *s);

/* Argmax (lowest id on ties). */
int32_t lcx_argmax(const float *logits, int n);

/* The next token; logits[vocab] are not modified. */
int32_t lcx_sample(lcx_sampler *s, const float *logits);

#endif
