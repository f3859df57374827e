/* generate.h: prefill a prompt, then decode: greedy, or sampled with
 * temperature/top-k/top-p from a seed; stops at EOS, a stop string or the
 * token budget. The one decoding loop of `lcx complete` and `lcx run`. */
#ifndef LCX_GENERATE_H
#define LCX_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/model.h"

typedef struct lcx_gen_opts {
    size_t max_tokens;
    float temperature; /* <= 0: greedy */
    int top_k;         /* <= 0: all */
    float top_p;       /* <= 0 or >= 1: all */
    uint64_t seed;
    const char *const *stops; /* stop strings (need a tokenizer) */
    int n_stops;
} lcx_gen_opts;

typedef struct lcx_gen_result {
    int32_t *ids;        /* generated ids, EOS excluded */
    size_t n;
    char *text;          /* decoded (cut at a stop string); NULL without a tokenizer */
    const char *finish;  /* "eos", "stop" or "length" */
    double prefill_seconds, decode_seconds;
} lcx_gen_result;

/* The session must be empty (or rewound) and hold n + max_tokens positions.
 * all_fn, when given, receives the prompt logits (see lcx_session_eval). */
int lcx_generate(lcx_session *s, const lcx_model *m, const int32_t *prompt, size_t n,
                 const lcx_gen_opts *o, lcx_logits_fn all_fn, void *all_ctx,
                 lcx_gen_result *out, lcx_err *err);
void lcx_gen_result_free(lcx_gen_result *r);

#endif
