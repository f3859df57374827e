/* backend_local.c: the local C engine as a backend. Prompts are encoded
 * with the model's tokenizer (special tokens as the tokenizer's
 * post-processor adds them, as a server would), decoded greedily unless a
 * temperature is given, one sample at a time (the engine parallelises
 * inside each forward pass), with the KV cache dtype --kv-dtype gives. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "common/strbuf.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "harness/backend_local.h"
#include "common/sha256.h"

struct local_backend {
    lcx_backend_opts o;
    lcx_model *model;
    lcx_session *session;
    int session_len;
    lcx_counter counter;
    char config_sha256[65], tokenizer_sha256[65];
};

/* The RoPE a prompt of this length runs with: the config's, with the
 * command line's overrides (and --yarn-factor auto) applied. */
static void rope_for(const local_backend *b, size_t length, lcx_rope_params *out)
{
    lcx_rope_resolve(&lcx_model_config(b->model)->rope, &b->o.rope, length, out);
}

static size_t count_with_model(void *ctx, const char *text, size_t len)
{
    const local_backend *b = ctx;
    return lcx_tokenizer_count(lcx_model_tokenizer(b->model), text, len);
}

/* The overrides must give usable tables with this model (per length, with
 * auto, they are checked again when a session takes them). */
static int check_rope(const local_backend *b, const lcx_rope_opts *o, lcx_err *err)
{
    lcx_rope_params p;
    lcx_rope_info ri;
    lcx_rope_resolve(&lcx_model_config(b->model)->rope, o, 0, &p);
    int rc = lcx_rope_describe(&p, lcx_model_config(b->model)->max_pos, &ri, err);
    if (rc)
        lcx_err_prefix(err, "%s", b->o.model_dir);
    return rc;
}

int lcx_backend_local_set_rope(local_backend *b, const lcx_rope_opts *rope, lcx_err *err)
{
    int rc = check_rope(b, rope, err);
    if (!rc)
        b->o.rope = *rope; /* sessions switch when a request needs it */
    return rc;
}

int lcx_backend_local_open(const lcx_backend_opts *o, local_backend **out, lcx_err *err)
{
    *out = NULL;
    local_backend *b = calloc(1, sizeof *b);
    if (!b)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    b->o = *o;
    int rc = lcx_model_load(o->model_dir, &b->model, err);
    if (!rc)
        rc = check_rope(b, &o->rope, err);
    if (!rc && !lcx_model_tokenizer(b->model))
        rc = lcx_errf(err, LCX_EINPUT, "%s: the model has no usable tokenizer: %s", o->model_dir,
                      lcx_model_tokenizer_note(b->model));
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", o->model_dir);
    if (!rc)
        rc = lcx_sha256_file(path, b->config_sha256, err);
    snprintf(path, sizeof path, "%s/tokenizer.json", o->model_dir);
    if (!rc)
        rc = lcx_sha256_file(path, b->tokenizer_sha256, err);
    if (rc) {
        lcx_backend_local_close(b);
        return rc;
    }
    b->counter = (lcx_counter){"model tokenizer", count_with_model, b,
                               lcx_tokenizer_cut_rules(lcx_model_tokenizer(b->model))};
    *out = b;
    return 0;
}

void lcx_backend_local_close(local_backend *b)
{
    if (!b)
        return;
    lcx_session_free(b->session);
    lcx_model_free(b->model);
    free(b);
}

const lcx_counter *lcx_backend_local_counter(const local_backend *b) { return &b->counter; }

json_t *lcx_backend_local_rope_json(const lcx_rope_info *ri, int max_pos)
{
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string(lcx_rope_type_name(ri->params.type)));
    json_object_set_new(r, "theta", json_real(ri->params.theta));
    json_object_set_new(r, "factor", json_real(ri->params.factor > 0 ? ri->params.factor : 1.0));
    json_object_set_new(r, "original_max_position_embeddings",
                        json_integer(ri->params.orig_ctx > 0 ? ri->params.orig_ctx : max_pos));
    json_object_set_new(r, "beta_fast", json_real(ri->params.beta_fast > 0 ? ri->params.beta_fast : 32));
    json_object_set_new(r, "beta_slow", json_real(ri->params.beta_slow > 0 ? ri->params.beta_slow : 1));
    json_object_set_new(r, "attention_factor", json_real(ri->magnitude));
    json_object_set_new(r, "attention_temperature",
                        json_real(ri->params.temperature > 0 ? ri->params.temperature : 1.0));
    json_object_set_new(r, "logit_scale", json_real(ri->logit_scale));
    if (ri->params.llama4_beta != 0)
        json_object_set_new(r, "llama_4_scaling_beta", json_real(ri->params.llama4_beta));
    json_object_set_new(r, "rotary_dim", json_integer(ri->rot_dim));
    return r;
}

int lcx_backend_local_deterministic(const local_backend *b)
{
    return b->o.temperature > 0 ? 0 : 1;
}

json_t *lcx_backend_local_describe(const local_backend *b)
{
    const lcx_config *c = lcx_model_config(b->model);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("local"));
    json_object_set_new(o, "model", json_string(b->o.model_dir));
    json_object_set_new(o, "config_sha256", json_string(b->config_sha256));
    json_object_set_new(o, "tokenizer_sha256", json_string(b->tokenizer_sha256));
    json_object_set_new(o, "architecture", json_string(c->arch_name));
    json_object_set_new(o, "gate", json_string(lcx_gate_name(c->gate)));
    json_object_set_new(o, "weights", json_string(lcx_model_weight_dtype(b->model)));
    json_object_set_new(o, "kv_dtype", json_string(lcx_kv_dtype_name(b->o.engine.kv_dtype)));
    json_object_set_new(o, "temperature", json_real(b->o.temperature));
    json_object_set_new(o, "max_position_embeddings", json_integer(c->max_pos));
    lcx_rope_params p;
    lcx_rope_info ri;
    lcx_err err = {0};
    rope_for(b, 0, &p);
    if (lcx_rope_describe(&p, c->max_pos > 0 ? c->max_pos : 4096, &ri, &err) == 0)
        json_object_set_new(o, "rope", lcx_backend_local_rope_json(&ri, c->max_pos));
    return o;
}

json_t *lcx_backend_local_rope_at(const local_backend *b, size_t length)
{
    lcx_rope_params p;
    lcx_rope_info ri;
    lcx_err err = {0};
    int n = length > 0 && length < (1u << 30) ? (int)length : 4096;
    rope_for(b, length, &p);
    if (lcx_rope_describe(&p, n, &ri, &err))
        return NULL;
    return lcx_backend_local_rope_json(&ri, lcx_model_config(b->model)->max_pos);
}

int lcx_backend_local_session_len(size_t n_prompt, int max_tokens, int *out, lcx_err *err)
{
    *out = 0;
    if (max_tokens < 0)
        return lcx_errf(err, LCX_EINPUT, "max_tokens %d is negative", max_tokens);
    /* prompt + generated tokens + the position after the last one */
    if (max_tokens == INT_MAX || n_prompt > (size_t)(INT_MAX - 1 - max_tokens))
        return lcx_errf(err, LCX_EINPUT, "prompt of %zu tokens plus %d to generate needs more "
                        "than the engine's %d positions", n_prompt, max_tokens, INT_MAX);
    *out = (int)n_prompt + max_tokens + 1;
    return 0;
}

int lcx_backend_local_check_memory(const local_backend *b, size_t length, int max_tokens,
                                   char *line, size_t size, lcx_err *err)
{
    int positions;
    int rc = lcx_backend_local_session_len(length, max_tokens, &positions, err);
    if (!rc)
        rc = lcx_engine_check_memory(&b->o.engine, b->model, positions, 0, line, size, err);
    if (rc)
        lcx_err_prefix(err, "%s", b->o.model_dir);
    return rc;
}

/* A session long enough for n positions, running with the RoPE rope
 * (grown as needed; reused, with its RoPE switched when a prompt needs
 * another: the model is loaded once whatever the settings). */
static int ensure_session(local_backend *b, int n, const lcx_rope_params *rope, lcx_err *err)
{
    if (b->session && b->session_len >= n) {
        lcx_session_rewind(b->session, 0);
        if (lcx_rope_params_equal(lcx_session_rope(b->session), rope))
            return 0;
        return lcx_session_set_rope(b->session, rope, err);
    }
    lcx_session_free(b->session);
    b->session = NULL;
    lcx_session_opts so = {.rope = rope, .kv_dtype = b->o.engine.kv_dtype};
    int rc = lcx_session_new_opts(b->model, n, &so, &b->session, err);
    b->session_len = rc ? 0 : n;
    return rc;
}

static int answer_one(local_backend *b, const lcx_request *r, lcx_response *resp, lcx_err *err)
{
    lcx_rope_params rope;
    rope_for(b, r->length, &rope);
    strbuf prompt;
    sb_init(&prompt);
    sb_puts(&prompt, r->input);
    sb_puts(&prompt, r->answer_prefix);
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = lcx_tokenizer_encode(lcx_model_tokenizer(b->model), sb_str(&prompt), prompt.len, 1, &ids, &n,
                                  err);
    sb_free(&prompt);
    int positions = 0;
    if (!rc)
        rc = lcx_backend_local_session_len(n, r->max_tokens, &positions, err);
    if (!rc)
        rc = ensure_session(b, positions, &rope, err);
    lcx_gen_result g;
    if (!rc) {
        lcx_gen_opts go = {.max_tokens = (size_t)r->max_tokens,
                           .temperature = (float)b->o.temperature, .seed = b->o.seed};
        rc = lcx_generate(b->session, b->model, ids, n, &go, NULL, NULL, &g, err);
    }
    if (!rc) {
        resp->text = g.text;
        g.text = NULL;
        resp->prompt_tokens = (long)n;
        resp->output_tokens = (long)g.n;
        snprintf(resp->finish_reason, sizeof resp->finish_reason, "%s",
                 !strcmp(g.finish, "eos") ? "stop" : g.finish);
        resp->latency = g.prefill_seconds + g.decode_seconds;
        resp->attempts = 1;
        lcx_gen_result_free(&g);
    }
    free(ids);
    return rc;
}

int lcx_backend_local_run(local_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg,
                          lcx_err *err)
{
    for (;;) {
        lcx_request req;
        int got = next(arg, &req, err);
        if (got != 1) /* 0: no more; else an error code */
            return got;
        lcx_response resp;
        memset(&resp, 0, sizeof resp);
        resp.prompt_tokens = resp.output_tokens = -1; /* unknown until answered */
        lcx_err e = {0};
        if (answer_one(b, &req, &resp, &e)) {
            /* The engine failing on one prompt is recorded like a remote error. */
            lcx_response_free(&resp);
            resp.prompt_tokens = resp.output_tokens = -1;
            resp.attempts = 1;
            if (b->o.fail_fast)
                return lcx_errf(err, e.code ? e.code : LCX_EINTERNAL, "%s", e.msg);
            if (!(resp.error = strdup(e.msg[0] ? e.msg : "the engine failed")))
                return lcx_errf(err, LCX_ENOMEM, "out of memory");
        }
        int rc = done(arg, &req, &resp, err);
        if (rc)
            return rc;
    }
}
