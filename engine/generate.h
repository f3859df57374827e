/* generate.h: prefill a prompt, then decode: greedy, or sampled with
 * temperature/top-k/top-p from a seed; stops at EOS, a stop string or the
 * token budget. The one decoding loop of `lcx complete` and `lcx run`. */
#ifndef LCX_GENERATE_H
#define LCX_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/model.h"

/* Called with each generated token (EOS excluded) and the logits it was
 * chosen from (vocab floats), before the stop strings are checked; ids[0..n)
 * are the tokens so far, id included. Return nonzero (and fill err) to stop
 * generating: lcx_generate then returns that code (a server's client went
 * away). */
typedef int (*lcx_gen_token_fn)(void *ctx, const int32_t *ids, size_t n, const float *logits,
                                lcx_err *err);

typedef struct lcx_gen_opts {
    size_t max_tokens;
    float temperature; /* <= 0: greedy */
    int top_k;         /* <= 0: all */
    float top_p;       /* <= 0 or >= 1: all */
    uint64_t seed;
    const char *const *stops; /* stop strings (need a tokenizer) */
    int n_stops;
    lcx_gen_token_fn on_token; /* may be NULL */
    void *on_token_ctx;
    /* Polled between prefill chunks when not NULL: nonzero stops with that
     * code (and err filled), as on_token does during decoding. The chunks
     * are the session's own, so the numbers do not change. */
    int (*cancelled)(void *ctx, lcx_err *err);
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
