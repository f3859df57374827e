#include "generate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/progress.h"
#include "engine/sampler.h"

static int is_eos(const lcx_config *c, int32_t id)
{
    for (int e = 0; e < c->n_eos; e++)
        if (id == c->eos_ids[e])
            return 1;
    return 0;
}

/* Offset of the earliest stop string in text, or -1. */
static long find_stop(const lcx_gen_opts *o, const char *text)
{
    long best = -1;
    for (int i = 0; i < o->n_stops; i++) {
        const char *p = strstr(text, o->stops[i]);
        if (p && (best < 0 || p - text < best))
            best = p - text;
    }
    return best;
}

static int decode_text(const lcx_tokenizer *tok, const lcx_gen_result *r, char **text,
                       lcx_err *err)
{
    size_t len;
    free(*text);
    *text = NULL;
    return lcx_tokenizer_decode(tok, r->ids, r->n, 1, text, &len, err);
}

int lcx_generate(lcx_session *s, const lcx_model *m, const int32_t *prompt, size_t n,
                 const lcx_gen_opts *o, lcx_logits_fn all_fn, void *all_ctx,
                 lcx_gen_result *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    /* Positions are ints in the engine: check before narrowing n. */
    if (n > (size_t)INT_MAX || o->max_tokens > (size_t)INT_MAX - n)
        return lcx_errf(err, LCX_EINPUT, "prompt of %zu tokens plus %zu to generate needs more "
                        "than the engine's %d positions", n, o->max_tokens, INT_MAX);
    const lcx_config *c = lcx_model_config(m);
    const lcx_tokenizer *tok = lcx_model_tokenizer(m);
    lcx_sampler sampler;
    float *logits = malloc(sizeof(float) * (size_t)c->vocab_size);
    out->ids = malloc(sizeof(int32_t) * (o->max_tokens + 1));
    if (!logits || !out->ids ||
        lcx_sampler_init(&sampler, c->vocab_size, o->temperature, o->top_k, o->top_p, o->seed)) {
        free(logits);
        lcx_gen_result_free(out);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    out->finish = "length";
    double t0 = lcx_now();
    int rc = 0;
    if (o->cancelled) {
        /* chunk by chunk, as lcx_session_eval cuts them, with a poll between */
        size_t chunk = (size_t)lcx_session_chunk(s);
        for (size_t done = 0; !rc && done < n; done += chunk) {
            size_t len = n - done < chunk ? n - done : chunk;
            rc = o->cancelled(o->on_token_ctx, err);
            if (!rc)
                rc = lcx_session_eval(s, prompt + done, (int)len, done + len == n ? logits : NULL,
                                      all_fn, all_ctx, NULL, err);
        }
    } else {
        rc = lcx_session_eval(s, prompt, (int)n, logits, all_fn, all_ctx, NULL, err);
    }
    double t1 = lcx_now();
    long stop_at = -1;
    while (!rc && out->n < o->max_tokens) {
        int32_t next = lcx_sample(&sampler, logits);
        if (is_eos(c, next)) {
            out->finish = "eos";
            break;
        }
        out->ids[out->n++] = next;
        if (o->on_token && (rc = o->on_token(o->on_token_ctx, out->ids, out->n, logits, err)))
            break;
        if (tok && o->n_stops) {
            if ((rc = decode_text(tok, out, &out->text, err)))
                break;
            if ((stop_at = find_stop(o, out->text)) >= 0) {
                out->finish = "stop";
                break;
            }
        }
        if (out->n == o->max_tokens)
            break;
        rc = lcx_session_eval(s, &next, 1, logits, NULL, NULL, NULL, err);
    }
    if (!rc && tok) {
        rc = decode_text(tok, out, &out->text, err);
        if (!rc && stop_at >= 0)
            out->text[stop_at] = '\0';
    }
    out->prefill_seconds = t1 - t0;
    out->decode_seconds = lcx_now() - t1;
    lcx_sampler_free(&sampler);
    free(logits);
    if (rc)
        lcx_gen_result_free(out);
    return rc;
}

void lcx_gen_result_free(lcx_gen_result *r)
{
    free(r->ids);
    free(r->text);
    memset(r, 0, sizeof *r);
}
