/* serve_api.c: requests and responses of `lcx serve` (see serve_api.h and
 * docs/serve.md). Every field of a request is known to this file: a field
 * of no route, a wrong type, a value out of range or one lcx does not
 * implement (n > 1, penalties) is an error naming the field, never
 * silently ignored, so a typo such as "max_token" cannot turn into the
 * default budget. */
#include "harness/serve_api.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/utf8.h"

enum { MAX_STOPS = 16, MAX_LOGPROBS = 5, DEFAULT_MAX_PROMPTS = 64 };

int lcx_serve_errorf(lcx_serve_error *e, int status, const char *param, const char *code,
                     const char *fmt, ...)
{
    if (!e)
        return LCX_EINPUT;
    e->status = status;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return LCX_EINPUT;
}

const char *lcx_serve_error_type(int status)
{
    return status == 401   ? "authentication_error"
           : status == 429 ? "rate_limit_error"
           : status >= 500 ? "server_error"
                           : "invalid_request_error";
}

json_t *lcx_serve_json_text(const char *s, size_t n)
{
    size_t bad;
    if (lcx_utf8_valid(s, n, &bad))
        return json_stringn(s, n);
    strbuf sb;
    sb_init(&sb);
    while (n) {
        if (lcx_utf8_valid(s, n, &bad))
            bad = n;
        sb_append(&sb, s, bad);
        if (bad == n)
            break;
        sb_puts(&sb, "\xEF\xBF\xBD"); /* U+FFFD for the bad byte */
        s += bad + 1;
        n -= bad + 1;
    }
    json_t *j = sb.oom ? NULL : json_stringn(sb_str(&sb), sb.len);
    sb_free(&sb);
    return j;
}

char *lcx_serve_error_body(const lcx_serve_error *e)
{
    json_t *o = json_object(), *in = json_object();
    json_object_set_new(in, "message", lcx_serve_json_text(e->message, strlen(e->message)));
    json_object_set_new(in, "type", json_string(lcx_serve_error_type(e->status)));
    json_object_set_new(in, "param", e->param[0] ? lcx_serve_json_text(e->param, strlen(e->param))
                                                 : json_null());
    json_object_set_new(in, "code", e->code[0] ? json_string(e->code) : json_null());
    json_object_set_new(o, "error", in);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* ---- field readers: each names the field in its error ------------------- */

static const char *type_name(const json_t *v)
{
    if (!v)
        return "missing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int wrong_type(lcx_serve_error *e, const char *field, const char *want, const json_t *v)
{
    return lcx_serve_errorf(e, 400, field, "invalid_type", "%s must be %s, not %s", field, want,
                            type_name(v));
}

static int read_bool(const json_t *v, const char *field, int *out, lcx_serve_error *e)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return wrong_type(e, field, "a boolean", v);
    *out = json_is_true(v);
    return 0;
}

static int read_num(const json_t *v, const char *field, double lo, double hi, double *out,
                    lcx_serve_error *e)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return wrong_type(e, field, "a number", v);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return lcx_serve_errorf(e, 400, field, "invalid_value", "%s must lie in [%g, %g], not %g",
                                field, lo, hi, x);
    *out = x;
    return 0;
}

static int read_int(const json_t *v, const char *field, long long lo, long long hi, long long *out,
                    lcx_serve_error *e)
{
    if (!v || json_is_null(v))
        return 0;
    if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
        fabs(json_real_value(v)) < 9e15) {
        /* 16.0 is an integer to Python clients */
    } else if (!json_is_integer(v)) {
        return wrong_type(e, field, "an integer", v);
    }
    long long x = json_is_integer(v) ? (long long)json_integer_value(v)
                                     : (long long)json_real_value(v);
    if (x < lo || x > hi)
        return lcx_serve_errorf(e, 400, field, "invalid_value", "%s must lie in [%lld, %lld], not %lld",
                                field, lo, hi, x);
    *out = x;
    return 0;
}

/* A field lcx accepts only at its default (n = 1, penalties 0, ...). */
static int only_default(const json_t *v, const char *field, double dflt, lcx_serve_error *e)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return wrong_type(e, field, "a number", v);
    if (json_number_value(v) != dflt)
        return lcx_serve_errorf(e, 422, field, "unsupported_value",
                                "%s: lcx serve supports only %g", field, dflt);
    return 0;
}

static int only_false(const json_t *v, const char *field, lcx_serve_error *e)
{
    int b = 0;
    int rc = read_bool(v, field, &b, e);
    if (!rc && b)
        rc = lcx_serve_errorf(e, 422, field, "unsupported_value", "%s: lcx serve supports only false",
                              field);
    return rc;
}

/* A string that must be valid UTF-8 (jansson guarantees it for parsed
 * text); copied. */
static int read_text(const json_t *v, const char *field, char **out, lcx_serve_error *e)
{
    if (!json_is_string(v))
        return wrong_type(e, field, "a string", v);
    *out = strndup(json_string_value(v), json_string_length(v));
    if (!*out)
        return lcx_serve_errorf(e, 500, NULL, NULL, "out of memory");
    if (strlen(*out) != json_string_length(v)) {
        free(*out);
        *out = NULL;
        return lcx_serve_errorf(e, 400, field, "invalid_value", "%s holds a NUL character", field);
    }
    return 0;
}

/* An array of token ids in [0, vocab). */
static int read_ids(const json_t *v, const char *field, int vocab, lcx_serve_prompt *p,
                    lcx_serve_error *e)
{
    size_t n = json_array_size(v);
    p->ids = malloc((n ? n : 1) * sizeof *p->ids);
    if (!p->ids)
        return lcx_serve_errorf(e, 500, NULL, NULL, "out of memory");
    p->n_ids = n;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(v, i);
        if (!json_is_integer(x))
            return lcx_serve_errorf(e, 400, field, "invalid_type",
                                    "%s[%zu] must be a token id (an integer), not %s", field, i,
                                    type_name(x));
        json_int_t id = json_integer_value(x);
        if (id < 0 || id >= vocab)
            return lcx_serve_errorf(e, 400, field, "invalid_value",
                                    "%s[%zu]: token id %lld is outside the vocabulary [0, %d)", field,
                                    i, (long long)id, vocab);
        p->ids[i] = (int32_t)id;
    }
    return 0;
}

/* "prompt": a string, an array of token ids, or an array of either. */
static int read_prompts(const json_t *v, const lcx_serve_parse_ctx *ctx, int many,
                        lcx_serve_request *r, lcx_serve_error *e)
{
    size_t max = ctx->max_prompts ? ctx->max_prompts : DEFAULT_MAX_PROMPTS;
    size_t n = 1;
    int batch = 0;
    if (json_is_array(v)) {
        json_t *first = json_array_get(v, 0);
        if (json_array_size(v) == 0)
            return lcx_serve_errorf(e, 400, "prompt", "invalid_value", "prompt is an empty array");
        batch = json_is_string(first) || json_is_array(first);
        n = batch ? json_array_size(v) : 1;
    } else if (!json_is_string(v)) {
        return wrong_type(e, "prompt", "a string, an array of token ids, or an array of those", v);
    }
    if (batch && !many)
        return lcx_serve_errorf(e, 400, "prompt", "invalid_type",
                                "prompt must be one string or one array of token ids here");
    if (n > max)
        return lcx_serve_errorf(e, 400, "prompt", "invalid_value",
                                "%zu prompts in one request; at most %zu", n, max);
    r->prompts = calloc(n, sizeof *r->prompts);
    if (!r->prompts)
        return lcx_serve_errorf(e, 500, NULL, NULL, "out of memory");
    r->n_prompts = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = batch ? json_array_get(v, i) : v;
        char field[48];
        if (batch)
            snprintf(field, sizeof field, "prompt[%zu]", i);
        else
            snprintf(field, sizeof field, "prompt");
        int rc;
        if (json_is_string(p))
            rc = read_text(p, field, &r->prompts[i].text, e);
        else if (json_is_array(p) && json_array_size(p) > 0)
            rc = read_ids(p, field, ctx->vocab_size, &r->prompts[i], e);
        else if (json_is_array(p))
            rc = lcx_serve_errorf(e, 400, field, "invalid_value", "%s is an empty array", field);
        else
            rc = wrong_type(e, field, "a string or an array of token ids", p);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_stops(const json_t *v, lcx_serve_request *r, lcx_serve_error *e)
{
    if (!v || json_is_null(v))
        return 0;
    size_t n = json_is_string(v) ? 1 : json_array_size(v);
    if (!json_is_string(v) && !json_is_array(v))
        return wrong_type(e, "stop", "a string or an array of strings", v);
    if (n > MAX_STOPS)
        return lcx_serve_errorf(e, 400, "stop", "invalid_value", "%zu stop strings; at most %d", n,
                                MAX_STOPS);
    r->stops = calloc(n ? n : 1, sizeof *r->stops);
    if (!r->stops)
        return lcx_serve_errorf(e, 500, NULL, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_is_string(v) ? v : json_array_get(v, i);
        char field[32];
        snprintf(field, sizeof field, json_is_string(v) ? "stop" : "stop[%zu]", i);
        int rc = read_text(s, field, &r->stops[r->n_stops], e);
        if (rc)
            return rc;
        r->n_stops++;
        if (!r->stops[r->n_stops - 1][0])
            return lcx_serve_errorf(e, 400, field, "invalid_value", "%s is an empty string", field);
    }
    return 0;
}

/* ---- per-request RoPE ---------------------------------------------------- */

static int read_rope(const json_t *v, lcx_serve_request *r, lcx_serve_error *e)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return wrong_type(e, "rope_scaling", "an object", v);
    const char *key;
    json_t *x;
    lcx_rope_opts *o = &r->rope;
    json_object_foreach((json_t *)v, key, x)
    {
        char field[96];
        snprintf(field, sizeof field, "rope_scaling.%.60s", key);
        int rc = 0;
        double d = -1;
        long long i = -1;
        if (!strcmp(key, "rope_type") || !strcmp(key, "type")) {
            if (!json_is_string(x))
                return wrong_type(e, field, "a string", x);
            int t = lcx_rope_type_parse(json_string_value(x));
            if (t < 0)
                return lcx_serve_errorf(e, 400, field, "invalid_value",
                                        "%s: unknown RoPE type '%.60s' (default, linear, dynamic, "
                                        "yarn or llama3)", field, json_string_value(x));
            o->type = t;
        } else if (!strcmp(key, "factor")) {
            if (json_is_string(x) && !strcmp(json_string_value(x), "auto")) {
                o->factor_auto = 1;
            } else {
                rc = read_num(x, field, 1e-6, 1e6, &d, e);
                if (!rc && d > 0)
                    o->factor = d;
            }
        } else if (!strcmp(key, "original_max_position_embeddings")) {
            rc = read_int(x, field, 1, 1 << 28, &i, e);
            if (!rc && i > 0)
                o->orig_ctx = (int)i;
        } else if (!strcmp(key, "beta_fast") || !strcmp(key, "beta_slow")) {
            rc = read_num(x, field, 1e-6, 1e6, &d, e);
            if (!rc && d > 0)
                *(key[5] == 'f' ? &o->beta_fast : &o->beta_slow) = d;
        } else if (!strcmp(key, "attention_factor")) {
            rc = read_num(x, field, 0, 1e6, &d, e);
            if (!rc && d >= 0)
                o->attn_factor = d;
        } else if (!strcmp(key, "llama_4_scaling_beta")) {
            rc = read_num(x, field, 0, 100, &d, e);
            if (!rc && d >= 0)
                o->llama4_beta = d;
        } else if (!strcmp(key, "truncate")) {
            int b = -1;
            rc = read_bool(x, field, &b, e);
            if (!rc && b >= 0)
                o->truncate = b;
        } else {
            return lcx_serve_errorf(e, 400, field, "unknown_field",
                                    "unknown field %s (rope_type, factor, "
                                    "original_max_position_embeddings, beta_fast, beta_slow, "
                                    "attention_factor, truncate)", field);
        }
        if (rc)
            return rc;
        r->rope_given = 1;
    }
    return 0;
}

int lcx_serve_rope_request_fields(const lcx_rope_opts *o, json_t *body)
{
    json_t *rs = json_object();
    if (o->type >= 0)
        json_object_set_new(rs, "rope_type", json_string(lcx_rope_type_name((lcx_rope_type)o->type)));
    if (o->factor_auto)
        json_object_set_new(rs, "factor", json_string("auto"));
    else if (o->factor > 0)
        json_object_set_new(rs, "factor", json_real(o->factor));
    if (o->orig_ctx > 0)
        json_object_set_new(rs, "original_max_position_embeddings", json_integer(o->orig_ctx));
    if (o->beta_fast > 0)
        json_object_set_new(rs, "beta_fast", json_real(o->beta_fast));
    if (o->beta_slow > 0)
        json_object_set_new(rs, "beta_slow", json_real(o->beta_slow));
    if (o->attn_factor >= 0)
        json_object_set_new(rs, "attention_factor", json_real(o->attn_factor));
    if (o->truncate >= 0)
        json_object_set_new(rs, "truncate", json_boolean(o->truncate));
    if (o->llama4_beta >= 0)
        json_object_set_new(rs, "llama_4_scaling_beta", json_real(o->llama4_beta));
    int any = json_object_size(rs) > 0;
    if (any)
        json_object_set_new(body, "rope_scaling", rs);
    else
        json_decref(rs);
    if (o->temperature > 0) {
        json_object_set_new(body, "attn_temperature", json_real(o->temperature));
        any = 1;
    }
    return any;
}

void lcx_serve_rope_fields(const lcx_serve_request *r, char *buf, size_t size)
{
    const lcx_rope_opts *o = &r->rope;
    strbuf sb;
    sb_init(&sb);
    if (o->type >= 0)
        sb_printf(&sb, " rope_type=%s", lcx_rope_type_name((lcx_rope_type)o->type));
    if (o->factor_auto)
        sb_puts(&sb, " factor=auto");
    else if (o->factor > 0)
        sb_printf(&sb, " factor=%g", o->factor);
    if (o->orig_ctx > 0)
        sb_printf(&sb, " original_max_position_embeddings=%d", o->orig_ctx);
    if (o->beta_fast > 0)
        sb_printf(&sb, " beta_fast=%g", o->beta_fast);
    if (o->beta_slow > 0)
        sb_printf(&sb, " beta_slow=%g", o->beta_slow);
    if (o->attn_factor >= 0)
        sb_printf(&sb, " attention_factor=%g", o->attn_factor);
    if (o->truncate >= 0)
        sb_printf(&sb, " truncate=%d", o->truncate);
    if (o->temperature > 0)
        sb_printf(&sb, " attn_temperature=%g", o->temperature);
    if (o->llama4_beta >= 0)
        sb_printf(&sb, " llama_4_scaling_beta=%g", o->llama4_beta);
    snprintf(buf, size, "%s", sb.len ? sb_str(&sb) + 1 : "");
    sb_free(&sb);
}

/* ---- chat messages ---------------------------------------------------------- */

/* A message's content: a string, or an array of {"type": "text", "text"}
 * parts (joined). */
static int read_content(const json_t *c, const char *field, strbuf *out, lcx_serve_error *e)
{
    if (json_is_string(c)) {
        sb_append(out, json_string_value(c), json_string_length(c));
        return 0;
    }
    if (!json_is_array(c))
        return wrong_type(e, field, "a string or an array of text parts", c);
    for (size_t i = 0; i < json_array_size(c); i++) {
        json_t *part = json_array_get(c, i), *type = json_object_get(part, "type"),
               *text = json_object_get(part, "text");
        char f[128];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        if (!json_is_object(part) || !json_is_string(type) || !json_is_string(text) ||
            strcmp(json_string_value(type), "text"))
            return lcx_serve_errorf(e, 400, f, "invalid_value",
                                    "%s must be {\"type\": \"text\", \"text\": \"...\"} (lcx serve "
                                    "takes text only)", f);
        sb_append(out, json_string_value(text), json_string_length(text));
    }
    return 0;
}

/* The built-in templates hold one user turn, so the messages are one user
 * message, optionally followed by an assistant message that the model
 * continues (continue_final_message). */
static int render_chat(const json_t *msgs, const lcx_template *tmpl, int continue_final,
                       int add_generation_prompt, lcx_serve_request *r, lcx_serve_error *e)
{
    if (!json_is_array(msgs))
        return wrong_type(e, "messages", "an array of messages", msgs);
    size_t n = json_array_size(msgs);
    if (n == 0)
        return lcx_serve_errorf(e, 400, "messages", "invalid_value", "messages is empty");
    if (continue_final && add_generation_prompt)
        return lcx_serve_errorf(e, 400, "continue_final_message", "invalid_value",
                                "continue_final_message and add_generation_prompt cannot both be "
                                "true (send \"add_generation_prompt\": false)");
    strbuf user, asst;
    sb_init(&user);
    sb_init(&asst);
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *m = json_array_get(msgs, i);
        char field[64];
        snprintf(field, sizeof field, "messages[%zu]", i);
        if (!json_is_object(m)) {
            rc = wrong_type(e, field, "an object", m);
            break;
        }
        const char *key;
        json_t *x;
        json_object_foreach(m, key, x)
        {
            if (strcmp(key, "role") && strcmp(key, "content") && strcmp(key, "name")) {
                char f[128];
                snprintf(f, sizeof f, "%s.%.60s", field, key);
                rc = lcx_serve_errorf(e, 400, f, "unknown_field",
                                      "unknown field %s (role, content, name)", f);
                break;
            }
        }
        if (rc)
            break;
        json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        char rf[80], cf[80];
        snprintf(rf, sizeof rf, "%s.role", field);
        snprintf(cf, sizeof cf, "%s.content", field);
        if (!json_is_string(role)) {
            rc = wrong_type(e, rf, "a string", role);
            break;
        }
        const char *rs = json_string_value(role);
        int is_user = !strcmp(rs, "user"), is_asst = !strcmp(rs, "assistant");
        if (!is_user && !is_asst) {
            rc = lcx_serve_errorf(e, 422, rf, "unsupported_value",
                                  "%s: role '%.40s' is not supported: the built-in templates hold "
                                  "one user turn (and an assistant message to continue)", rf, rs);
            break;
        }
        if ((i == 0 && !is_user) || (i == 1 && !is_asst) || i > 1) {
            rc = lcx_serve_errorf(e, 422, field, "unsupported_value",
                                  "%s: the built-in templates hold one user message, optionally "
                                  "followed by one assistant message to continue", field);
            break;
        }
        rc = read_content(content, cf, is_user ? &user : &asst, e);
    }
    if (!rc && n == 2 && !continue_final)
        rc = lcx_serve_errorf(e, 422, "messages", "unsupported_value",
                              "a final assistant message needs \"continue_final_message\": true "
                              "(and \"add_generation_prompt\": false)");
    if (!rc && n == 1 && continue_final)
        rc = lcx_serve_errorf(e, 400, "continue_final_message", "invalid_value",
                              "continue_final_message needs a final assistant message");
    if (!rc && n == 1 && !add_generation_prompt && strcmp(tmpl->format, "{task_template}"))
        rc = lcx_serve_errorf(e, 422, "add_generation_prompt", "unsupported_value",
                              "template %s always ends with the assistant's header; "
                              "add_generation_prompt false needs continue_final_message",
                              tmpl->name);
    if (!rc) {
        strbuf out;
        sb_init(&out);
        sb_append_replace(&out, tmpl->format, "{task_template}", sb_str(&user));
        sb_append(&out, sb_str(&asst), asst.len);
        if (user.oom || asst.oom || out.oom || !(r->prompts = calloc(1, sizeof *r->prompts))) {
            rc = lcx_serve_errorf(e, 500, NULL, NULL, "out of memory");
            sb_free(&out);
        } else {
            r->n_prompts = 1;
            r->prompts[0].text = sb_take(&out);
            if (memchr(sb_str(&user), '\0', user.len) || memchr(sb_str(&asst), '\0', asst.len))
                rc = lcx_serve_errorf(e, 400, "messages", "invalid_value",
                                      "a message holds a NUL character");
        }
    }
    sb_free(&user);
    sb_free(&asst);
    return rc;
}

/* ---- the routes' fields --------------------------------------------------- */

enum {
    R_CMPL = 1 << LCX_SERVE_COMPLETIONS,
    R_CHAT = 1 << LCX_SERVE_CHAT,
    R_PROBE = 1 << LCX_SERVE_PROBE,
    R_TOK = 1 << LCX_SERVE_TOKENIZE,
    R_DETOK = 1 << LCX_SERVE_DETOKENIZE,
    R_GEN = R_CMPL | R_CHAT,
    R_ALL = R_GEN | R_PROBE | R_TOK | R_DETOK
};

static const struct {
    const char *name;
    int routes;
} known_fields[] = {
    {"model", R_ALL},
    {"prompt", R_CMPL | R_PROBE | R_TOK},
    {"messages", R_CHAT | R_TOK},
    {"max_tokens", R_GEN},
    {"max_completion_tokens", R_CHAT},
    {"temperature", R_GEN},
    {"top_p", R_GEN},
    {"top_k", R_GEN},
    {"seed", R_GEN},
    {"stop", R_GEN},
    {"stream", R_GEN},
    {"stream_options", R_GEN},
    {"echo", R_CMPL},
    {"logprobs", R_GEN},
    {"top_logprobs", R_CHAT},
    {"n", R_GEN},
    {"best_of", R_CMPL},
    {"presence_penalty", R_GEN},
    {"frequency_penalty", R_GEN},
    {"repetition_penalty", R_GEN},
    {"logit_bias", R_GEN},
    {"user", R_GEN},
    {"suffix", R_CMPL},
    {"ignore_eos", R_GEN},
    {"min_tokens", R_GEN},
    {"skip_special_tokens", R_GEN},
    {"include_stop_str_in_output", R_GEN},
    {"add_special_tokens", R_CMPL | R_CHAT | R_PROBE | R_TOK},
    {"add_generation_prompt", R_CHAT | R_TOK},
    {"continue_final_message", R_CHAT | R_TOK},
    {"chat_template", R_CHAT | R_TOK},
    {"rope_scaling", R_GEN | R_PROBE},
    {"attn_temperature", R_GEN | R_PROBE},
    {"return_token_strs", R_TOK},
    {"content", R_TOK},
    {"add_special", R_TOK},
    {"with_pieces", R_TOK},
    {"tokens", R_DETOK},
};

static const char *route_name(lcx_serve_route route)
{
    static const char *const names[] = {"/v1/completions", "/v1/chat/completions", "/v1/probe",
                                        "/tokenize", "/detokenize"};
    return names[route];
}

static int check_fields(const json_t *root, lcx_serve_route route, lcx_serve_error *e)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof known_fields / sizeof known_fields[0]; i++)
            if (!strcmp(key, known_fields[i].name)) {
                known = known_fields[i].routes & (1 << route) ? 1 : -1;
                break;
            }
        if (known <= 0)
            return lcx_serve_errorf(e, 400, key, "unknown_field",
                                    known < 0 ? "field '%.60s' does not belong to %s"
                                              : "unknown field '%.60s' in a %s request "
                                                "(docs/serve.md lists the fields)",
                                    key, route_name(route));
    }
    return 0;
}

void lcx_serve_request_free(lcx_serve_request *r)
{
    for (size_t i = 0; i < r->n_prompts; i++) {
        free(r->prompts[i].text);
        free(r->prompts[i].ids);
    }
    free(r->prompts);
    for (int i = 0; i < r->n_stops; i++)
        free(r->stops[i]);
    free(r->stops);
    memset(r, 0, sizeof *r);
}

static int parse_fields(const json_t *root, lcx_serve_route route, const lcx_serve_parse_ctx *ctx,
                        lcx_serve_request *r, lcx_serve_error *e)
{
    int rc = check_fields(root, route, e);
    if (rc)
        return rc;
    json_t *v;
    /* model: the served name, or absent */
    if ((v = json_object_get(root, "model")) && !json_is_null(v)) {
        if (!json_is_string(v))
            return wrong_type(e, "model", "a string", v);
        if (ctx->model_name && strcmp(json_string_value(v), ctx->model_name))
            return lcx_serve_errorf(e, 404, "model", "model_not_found",
                                    "the model '%.200s' does not exist (this server serves '%.200s')",
                                    json_string_value(v), ctx->model_name);
    }
    long long ll;
    double d;
    int b;
    /* decoding */
    if ((v = json_object_get(root, "max_tokens")) || (v = json_object_get(root, "max_completion_tokens"))) {
        const char *f = json_object_get(root, "max_tokens") ? "max_tokens" : "max_completion_tokens";
        ll = -1;
        if ((rc = read_int(v, f, 0, 1 << 28, &ll, e)))
            return rc;
        r->max_tokens = (int)ll;
    }
    if ((v = json_object_get(root, "temperature")) && (rc = read_num(v, "temperature", 0, 100, &r->temperature, e)))
        return rc;
    if ((v = json_object_get(root, "top_p")) && (rc = read_num(v, "top_p", 1e-9, 1, &r->top_p, e)))
        return rc;
    if ((v = json_object_get(root, "top_k"))) {
        ll = 0;
        if ((rc = read_int(v, "top_k", -1, 1 << 24, &ll, e)))
            return rc;
        r->top_k = (int)ll;
    }
    if ((v = json_object_get(root, "seed"))) {
        ll = 0;
        if ((rc = read_int(v, "seed", -(1LL << 62), 1LL << 62, &ll, e)))
            return rc;
        r->seed = (unsigned long long)ll;
    }
    if ((v = json_object_get(root, "stop")) && (rc = read_stops(v, r, e)))
        return rc;
    if ((v = json_object_get(root, "stream")) && (rc = read_bool(v, "stream", &r->stream, e)))
        return rc;
    if ((v = json_object_get(root, "stream_options")) && !json_is_null(v)) {
        if (!json_is_object(v))
            return wrong_type(e, "stream_options", "an object", v);
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x)
        {
            if (strcmp(key, "include_usage") && strcmp(key, "continuous_usage_stats"))
                return lcx_serve_errorf(e, 400, "stream_options", "unknown_field",
                                        "unknown field stream_options.%.60s (include_usage)", key);
        }
        if ((rc = read_bool(json_object_get(v, "include_usage"), "stream_options.include_usage",
                            &r->include_usage, e)) ||
            (rc = only_false(json_object_get(v, "continuous_usage_stats"),
                             "stream_options.continuous_usage_stats", e)))
            return rc;
    }
    if ((v = json_object_get(root, "echo")) && (rc = read_bool(v, "echo", &r->echo, e)))
        return rc;
    if ((v = json_object_get(root, "logprobs")) && !json_is_null(v)) {
        if (route == LCX_SERVE_CHAT) {
            if ((rc = only_false(v, "logprobs", e)))
                return rc;
        } else {
            ll = -1;
            if ((rc = read_int(v, "logprobs", 0, MAX_LOGPROBS, &ll, e)))
                return rc;
            r->logprobs = (int)ll;
        }
    }
    if ((v = json_object_get(root, "top_logprobs")) && !json_is_null(v) &&
        (rc = only_default(v, "top_logprobs", 0, e)))
        return rc;
    if (((v = json_object_get(root, "n")) && (rc = only_default(v, "n", 1, e))) ||
        ((v = json_object_get(root, "best_of")) && (rc = only_default(v, "best_of", 1, e))) ||
        ((v = json_object_get(root, "presence_penalty")) && (rc = only_default(v, "presence_penalty", 0, e))) ||
        ((v = json_object_get(root, "frequency_penalty")) && (rc = only_default(v, "frequency_penalty", 0, e))) ||
        ((v = json_object_get(root, "repetition_penalty")) && (rc = only_default(v, "repetition_penalty", 1, e))) ||
        ((v = json_object_get(root, "min_tokens")) && (rc = only_default(v, "min_tokens", 0, e))) ||
        ((v = json_object_get(root, "ignore_eos")) && (rc = only_false(v, "ignore_eos", e))) ||
        ((v = json_object_get(root, "include_stop_str_in_output")) &&
         (rc = only_false(v, "include_stop_str_in_output", e))))
        return rc;
    if ((v = json_object_get(root, "skip_special_tokens"))) {
        b = 1;
        if ((rc = read_bool(v, "skip_special_tokens", &b, e)))
            return rc;
        if (!b)
            return lcx_serve_errorf(e, 422, "skip_special_tokens", "unsupported_value",
                                    "skip_special_tokens: lcx serve supports only true");
    }
    if ((v = json_object_get(root, "logit_bias")) && !json_is_null(v) &&
        !(json_is_object(v) && json_object_size(v) == 0))
        return lcx_serve_errorf(e, 422, "logit_bias", "unsupported_value",
                                "logit_bias is not supported");
    if ((v = json_object_get(root, "suffix")) && !json_is_null(v) &&
        !(json_is_string(v) && json_string_length(v) == 0))
        return lcx_serve_errorf(e, 422, "suffix", "unsupported_value", "suffix is not supported");
    if ((v = json_object_get(root, "user")) && !json_is_null(v) && !json_is_string(v))
        return wrong_type(e, "user", "a string", v);
    /* RoPE */
    if ((v = json_object_get(root, "rope_scaling")) && (rc = read_rope(v, r, e)))
        return rc;
    if ((v = json_object_get(root, "attn_temperature")) && !json_is_null(v)) {
        d = -1;
        if ((rc = read_num(v, "attn_temperature", 1e-6, 1e6, &d, e)))
            return rc;
        r->rope.temperature = d;
        r->rope_given = 1;
    }
    /* tokenize flags */
    if ((v = json_object_get(root, "add_special_tokens")) &&
        (rc = read_bool(v, "add_special_tokens", &r->add_special, e)))
        return rc;
    if ((v = json_object_get(root, "add_special")) && (rc = read_bool(v, "add_special", &r->add_special, e)))
        return rc;
    if ((v = json_object_get(root, "with_pieces")) && (rc = read_bool(v, "with_pieces", &r->with_pieces, e)))
        return rc;
    if ((v = json_object_get(root, "return_token_strs")) &&
        (rc = read_bool(v, "return_token_strs", &r->return_token_strs, e)))
        return rc;
    return 0;
}

/* The prompt of a route: "prompt", "messages" or "content". */
static int parse_prompt(const json_t *root, lcx_serve_route route, const lcx_serve_parse_ctx *ctx,
                        lcx_serve_request *r, lcx_serve_error *e)
{
    json_t *prompt = json_object_get(root, "prompt"), *msgs = json_object_get(root, "messages"),
           *content = json_object_get(root, "content"), *tmpl = json_object_get(root, "chat_template");
    if (route == LCX_SERVE_DETOKENIZE) {
        json_t *t = json_object_get(root, "tokens");
        if (!t)
            return lcx_serve_errorf(e, 400, "tokens", "missing_field", "tokens is required");
        if (!json_is_array(t))
            return wrong_type(e, "tokens", "an array of token ids", t);
        if (!(r->prompts = calloc(1, sizeof *r->prompts)))
            return lcx_serve_errorf(e, 500, NULL, NULL, "out of memory");
        r->n_prompts = 1;
        return read_ids(t, "tokens", ctx->vocab_size, &r->prompts[0], e);
    }
    r->tmpl = ctx->tmpl;
    if (tmpl && !json_is_null(tmpl)) {
        if (!json_is_string(tmpl))
            return wrong_type(e, "chat_template", "a template name", tmpl);
        if (!(r->tmpl = lcx_template_find(json_string_value(tmpl))))
            return lcx_serve_errorf(e, 400, "chat_template", "invalid_value",
                                    "unknown template '%.100s' (lcx serve takes a built-in template "
                                    "name: %s)", json_string_value(tmpl), lcx_template_names());
    }
    if (route == LCX_SERVE_TOKENIZE) {
        int given = !!prompt + !!msgs + !!content;
        if (given != 1)
            return lcx_serve_errorf(e, 400, given ? "content" : "prompt",
                                    given ? "invalid_value" : "missing_field",
                                    "give exactly one of prompt and messages (vLLM) or content "
                                    "(llama.cpp)");
        r->form = content ? LCX_SERVE_FORM_LLAMACPP : LCX_SERVE_FORM_VLLM;
        if (content) {
            if (json_object_get(root, "add_special_tokens"))
                return lcx_serve_errorf(e, 400, "add_special_tokens", "invalid_value",
                                        "the llama.cpp form takes add_special");
            if (!(r->prompts = calloc(1, sizeof *r->prompts)))
                return lcx_serve_errorf(e, 500, NULL, NULL, "out of memory");
            r->n_prompts = 1;
            return read_text(content, "content", &r->prompts[0].text, e);
        }
        if (json_object_get(root, "add_special") || json_object_get(root, "with_pieces"))
            return lcx_serve_errorf(e, 400, json_object_get(root, "add_special") ? "add_special"
                                                                               : "with_pieces",
                                    "invalid_value", "the vLLM form (prompt, messages) takes "
                                    "add_special_tokens and return_token_strs");
    } else if (route == LCX_SERVE_CHAT) {
        if (!msgs)
            return lcx_serve_errorf(e, 400, "messages", "missing_field", "messages is required");
    } else if (!prompt) {
        return lcx_serve_errorf(e, 400, "prompt", "missing_field", "prompt is required");
    }
    if (msgs) {
        int cont = 0, gen = 1;
        json_t *v;
        int rc;
        if (((v = json_object_get(root, "continue_final_message")) &&
             (rc = read_bool(v, "continue_final_message", &cont, e))) ||
            ((v = json_object_get(root, "add_generation_prompt")) &&
             (rc = read_bool(v, "add_generation_prompt", &gen, e))))
            return rc;
        return render_chat(msgs, r->tmpl, cont, gen, r, e);
    }
    return read_prompts(prompt, ctx, route == LCX_SERVE_COMPLETIONS, r, e);
}

int lcx_serve_parse(lcx_serve_route route, const char *body, size_t len,
                    const lcx_serve_parse_ctx *ctx, lcx_serve_request *out, lcx_serve_error *e)
{
    memset(out, 0, sizeof *out);
    out->route = route;
    out->max_tokens = -1;
    out->top_p = 1;
    out->logprobs = -1;
    out->add_special = route == LCX_SERVE_TOKENIZE ? -1 : 1;
    lcx_rope_opts_init(&out->rope);
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    int rc;
    if (!root)
        rc = lcx_serve_errorf(e, 400, NULL, "invalid_json", "the body is not valid JSON: %s "
                              "(line %d, column %d)", je.text, je.line, je.column);
    else if (!json_is_object(root))
        rc = lcx_serve_errorf(e, 400, NULL, "invalid_json", "the body must be a JSON object, not %s",
                              type_name(root));
    else if (!(rc = parse_fields(root, route, ctx, out, e)))
        rc = parse_prompt(root, route, ctx, out, e);
    if (!rc && out->add_special < 0)
        /* tokenize: vLLM's prompt form adds special tokens, its messages
         * form and the llama.cpp form do not, unless asked */
        out->add_special = route == LCX_SERVE_TOKENIZE && out->form == LCX_SERVE_FORM_VLLM &&
                           !json_object_get(root, "messages");
    if (!rc && out->stream && out->logprobs >= 0)
        rc = lcx_serve_errorf(e, 422, "logprobs", "unsupported_value",
                              "logprobs with stream is not supported");
    if (!rc && out->echo && out->stream)
        rc = lcx_serve_errorf(e, 422, "echo", "unsupported_value", "echo with stream is not supported");
    if (!rc && out->include_usage && !out->stream)
        rc = lcx_serve_errorf(e, 400, "stream_options", "invalid_value",
                              "stream_options is only for \"stream\": true");
    if (!rc && out->rope.factor_auto && out->rope.factor > 0)
        rc = lcx_serve_errorf(e, 400, "rope_scaling.factor", "invalid_value", "factor given twice");
    json_decref(root);
    if (rc)
        lcx_serve_request_free(out);
    return rc;
}

/* ---- responses ---------------------------------------------------------------- */

void lcx_serve_choice_free(lcx_serve_choice *c)
{
    free(c->text);
    for (size_t i = 0; i < c->n_lp; i++) {
        if (c->lp_tokens)
            free(c->lp_tokens[i]);
        if (c->lp_top)
            json_decref(c->lp_top[i]);
    }
    free(c->lp_tokens);
    free(c->lp_values);
    free(c->text_offset);
    free(c->lp_top);
    memset(c, 0, sizeof *c);
}

static json_t *usage_json(long prompt, long completion)
{
    json_t *u = json_object();
    json_object_set_new(u, "prompt_tokens", json_integer(prompt));
    json_object_set_new(u, "completion_tokens", json_integer(completion));
    json_object_set_new(u, "total_tokens", json_integer(prompt + completion));
    return u;
}

static json_t *logprobs_json(const lcx_serve_choice *c)
{
    json_t *lp = json_object(), *tokens = json_array(), *values = json_array(), *top = json_array(),
           *off = json_array();
    for (size_t i = 0; i < c->n_lp; i++) {
        const char *t = c->lp_tokens[i] ? c->lp_tokens[i] : "";
        json_array_append_new(tokens, lcx_serve_json_text(t, strlen(t)));
        json_array_append_new(values, isnan(c->lp_values[i]) ? json_null() : json_real(c->lp_values[i]));
        json_array_append(top, c->lp_top && c->lp_top[i] ? c->lp_top[i] : json_null());
        json_array_append_new(off, json_integer(c->text_offset ? c->text_offset[i] : 0));
    }
    json_object_set_new(lp, "tokens", tokens);
    json_object_set_new(lp, "token_logprobs", values);
    json_object_set_new(lp, "top_logprobs", top);
    json_object_set_new(lp, "text_offset", off);
    return lp;
}

/* The fields every answer and stream event starts with. */
static json_t *answer_head(const char *id, const char *object, long created, const char *model)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "object", json_string(object));
    json_object_set_new(o, "created", json_integer(created));
    json_object_set_new(o, "model", json_string(model));
    return o;
}

json_t *lcx_serve_answer_json(const lcx_serve_request *r, const char *id, long created,
                              const char *model, const lcx_serve_choice *choices, size_t n,
                              json_t *lcx)
{
    int chat = r->route == LCX_SERVE_CHAT;
    json_t *o = answer_head(id, chat ? "chat.completion" : "text_completion", created, model),
           *arr = json_array();
    long prompt = 0, completion = 0;
    for (size_t i = 0; i < n; i++) {
        const lcx_serve_choice *c = &choices[i];
        json_t *ch = json_object();
        json_object_set_new(ch, "index", json_integer((json_int_t)i));
        json_t *text = lcx_serve_json_text(c->text ? c->text : "", c->text ? strlen(c->text) : 0);
        if (chat) {
            json_t *msg = json_object();
            json_object_set_new(msg, "role", json_string("assistant"));
            json_object_set_new(msg, "content", text);
            json_object_set_new(ch, "message", msg);
            json_object_set_new(ch, "logprobs", json_null());
        } else {
            json_object_set_new(ch, "text", text);
            json_object_set_new(ch, "logprobs", r->logprobs >= 0 ? logprobs_json(c) : json_null());
        }
        json_object_set_new(ch, "finish_reason", json_string(c->finish ? c->finish : "stop"));
        json_array_append_new(arr, ch);
        prompt += (long)c->prompt_tokens;
        completion += (long)c->completion_tokens;
    }
    json_object_set_new(o, "choices", arr);
    json_object_set_new(o, "usage", usage_json(prompt, completion));
    if (lcx)
        json_object_set_new(o, "lcx", lcx);
    return o;
}

void lcx_serve_stream_event(strbuf *out, const lcx_serve_request *r, const char *id, long created,
                            const char *model, const char *delta, size_t delta_len, int first,
                            const char *finish, long usage_prompt, long usage_completion,
                            const json_t *lcx)
{
    int chat = r->route == LCX_SERVE_CHAT;
    json_t *o = answer_head(id, chat ? "chat.completion.chunk" : "text_completion", created, model),
           *arr = json_array();
    if (delta || finish) {
        json_t *ch = json_object();
        json_object_set_new(ch, "index", json_integer(0));
        json_t *text = lcx_serve_json_text(delta ? delta : "", delta ? delta_len : 0);
        if (chat) {
            json_t *d = json_object();
            if (first)
                json_object_set_new(d, "role", json_string("assistant"));
            if (delta)
                json_object_set_new(d, "content", text);
            else
                json_decref(text);
            json_object_set_new(ch, "delta", d);
        } else {
            json_object_set_new(ch, "text", text);
        }
        json_object_set_new(ch, "logprobs", json_null());
        json_object_set_new(ch, "finish_reason", finish ? json_string(finish) : json_null());
        json_array_append_new(arr, ch);
    }
    json_object_set_new(o, "choices", arr);
    if (usage_prompt >= 0)
        json_object_set_new(o, "usage", usage_json(usage_prompt, usage_completion));
    if (lcx)
        json_object_set(o, "lcx", (json_t *)lcx);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) {
        out->oom = 1;
        return;
    }
    sb_puts(out, "data: ");
    sb_puts(out, s);
    sb_puts(out, "\n\n");
    free(s);
}

size_t lcx_serve_stream_safe(const char *text, size_t len, size_t hold)
{
    size_t n = len > hold ? len - hold : 0;
    /* back off an incomplete character at the cut */
    size_t k = n;
    while (k > 0 && ((unsigned char)text[k - 1] & 0xC0) == 0x80)
        k--;
    if (k > 0) {
        unsigned char lead = (unsigned char)text[k - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (n - (k - 1) < need)
            n = k - 1;
    }
    /* and any U+FFFD at the end: a decoder's stand-in for bytes to come */
    while (n >= 3 && !memcmp(text + n - 3, "\xEF\xBF\xBD", 3))
        n -= 3;
    return n;
}

int lcx_serve_key_matches(const char *header, const char *key)
{
    static const char bearer[] = "Bearer ";
    size_t hn = header ? strlen(header) : 0, kn = strlen(key), bn = sizeof bearer - 1;
    size_t want = bn + kn;
    /* every byte of the expected value is compared, whatever the header */
    unsigned diff = (unsigned)(hn != want);
    for (size_t i = 0; i < want; i++) {
        unsigned char expect = (unsigned char)(i < bn ? bearer[i] : key[i - bn]);
        unsigned char got = (unsigned char)(i < hn ? header[i] : 0);
        diff |= (unsigned)(expect ^ got);
    }
    return diff == 0;
}
