/* serve_api.h: the request and response side of `lcx serve` without
 * sockets or a model: parsing the JSON bodies of the OpenAI-compatible
 * routes into checked requests, rendering chat messages with a built-in
 * template, and writing response bodies, stream chunks and OpenAI-style
 * error bodies. harness/serve.c runs the server around it; the unit tests
 * (tests/test_serve_api.c) and the fuzz target
 * (tests/fuzz_serve_request.c) call it directly. docs/serve.md lists
 * every field. */
#ifndef LCX_SERVE_API_H
#define LCX_SERVE_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "rope/opts.h"
#include "tasks/tasks.h"

typedef enum lcx_serve_route {
    LCX_SERVE_COMPLETIONS, /* POST /v1/completions */
    LCX_SERVE_CHAT,        /* POST /v1/chat/completions */
    LCX_SERVE_PROBE,       /* POST /v1/probe */
    LCX_SERVE_TOKENIZE,    /* POST /tokenize (vLLM or llama.cpp form) */
    LCX_SERVE_DETOKENIZE   /* POST /detokenize (both forms) */
} lcx_serve_route;

/* An answer that is not a 200: the HTTP status and the OpenAI-style body
 * {"error": {"message", "type", "param", "code"}}. */
typedef struct lcx_serve_error {
    int status;       /* 400, 401, 404, 405, 413, 422, 429, 500, 503 */
    char param[128];  /* the request field at fault ("" -> null) */
    char code[48];    /* "invalid_type", "unknown_field", ... ("" -> null) */
    char message[768];
} lcx_serve_error;

/* Fill e; returns LCX_EINPUT (the status says the rest). param and code may
 * be NULL. */
int lcx_serve_errorf(lcx_serve_error *e, int status, const char *param, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The error body as JSON text (caller frees); NULL when memory runs out. */
char *lcx_serve_error_body(const lcx_serve_error *e);
/* The "type" of the body for a status: invalid_request_error (4xx),
 * authentication_error (401), rate_limit_error (429), server_error (5xx). */
const char *lcx_serve_error_type(int status);

/* Tokenize request forms. */
enum { LCX_SERVE_FORM_VLLM = 1, LCX_SERVE_FORM_LLAMACPP = 2 };

typedef struct lcx_serve_prompt {
    char *text;    /* the prompt text; NULL when given as token ids */
    int32_t *ids;  /* the token ids given, or (set by the server) encoded */
    size_t n_ids;
} lcx_serve_prompt;

/* What parsing needs to know about the server. */
typedef struct lcx_serve_parse_ctx {
    const lcx_template *tmpl; /* the server's chat template (--template) */
    const char *model_name;   /* the served name: another "model" is a 404 */
    int vocab_size;           /* token ids must lie in [0, vocab_size) */
    size_t max_prompts;       /* prompts in one completions request (0: 64) */
} lcx_serve_parse_ctx;

typedef struct lcx_serve_request {
    lcx_serve_route route;
    lcx_serve_prompt *prompts; /* completions: 1 or more; chat, probe, tokenize: 1 */
    size_t n_prompts;
    int max_tokens;            /* -1: not given */
    double temperature;        /* 0: greedy (the default) */
    double top_p;              /* 1: all */
    int top_k;                 /* <= 0: all */
    unsigned long long seed;   /* 0 when not given */
    char **stops;
    int n_stops;
    int stream, include_usage;
    int echo;                  /* completions: the prompt before the text */
    int logprobs;              /* completions: -1 none, else alternatives 0..5 */
    int add_special;           /* encode strings with special tokens (BOS) */
    int form;                  /* tokenize: LCX_SERVE_FORM_* */
    int with_pieces;           /* tokenize (llama.cpp): {"id", "piece"} pairs */
    int return_token_strs;     /* tokenize (vLLM): "token_strs" */
    const lcx_template *tmpl;  /* chat: the template used (chat_template or the server's) */
    lcx_rope_opts rope;        /* per-request RoPE (rope_scaling, attn_temperature) */
    int rope_given;            /* 1 when any RoPE field was given */
} lcx_serve_request;

/* Parse and check body as a request of route. Chat messages (and the
 * tokenize form with "messages") are rendered with the template into
 * prompts[0].text. On error, LCX_EINPUT (LCX_ENOMEM) with e filled and *out
 * empty. */
int lcx_serve_parse(lcx_serve_route route, const char *body, size_t len,
                    const lcx_serve_parse_ctx *ctx, lcx_serve_request *out, lcx_serve_error *e);
void lcx_serve_request_free(lcx_serve_request *r);

/* The one line of the RoPE fields a request gave, for the access log:
 * "rope_type=yarn factor=4 ..." ("" when none). */
void lcx_serve_rope_fields(const lcx_serve_request *r, char *buf, size_t size);

/* The request fields that carry the RoPE overrides o (what `lcx run
 * --endpoint` sends with --yarn-factor and the other RoPE options): sets
 * "rope_scaling" (and "attn_temperature") in body, only the fields o gives.
 * Returns 1 when it set anything. */
int lcx_serve_rope_request_fields(const lcx_rope_opts *o, json_t *body);

/* ---- responses ---------------------------------------------------------- */

/* One choice of a completions or chat answer. */
typedef struct lcx_serve_choice {
    char *text;               /* completions with echo: the prompt text first */
    const char *finish;       /* "stop" or "length" */
    size_t prompt_tokens, completion_tokens;
    /* completions logprobs (request logprobs >= 0): one row per token, the
     * prompt's first (echo) then the generated ones */
    size_t n_lp;
    char **lp_tokens;         /* the token's text */
    double *lp_values;        /* its log-probability; NAN: null (first prompt token) */
    long *text_offset;        /* byte offset of the token in text */
    json_t **lp_top;          /* {token text: logprob} objects, or NULL for null */
} lcx_serve_choice;

void lcx_serve_choice_free(lcx_serve_choice *c);

/* {"id", "object", "created", "model", "choices", "usage"} of a completions
 * or chat answer; lcx (may be NULL, reference stolen) goes in as "lcx".
 * New reference, NULL when memory runs out. */
json_t *lcx_serve_answer_json(const lcx_serve_request *r, const char *id, long created,
                              const char *model, const lcx_serve_choice *choices, size_t n,
                              json_t *lcx);

/* One server-sent event, "data: {...}\n\n", of a streamed answer: a text
 * delta (chat: the first one carries the role), a finish reason, usage,
 * or the lcx object; appended to out. finish may be NULL; usage_prompt < 0:
 * no usage. lcx may be NULL (not stolen). */
void lcx_serve_stream_event(strbuf *out, const lcx_serve_request *r, const char *id, long created,
                            const char *model, const char *delta, size_t delta_len, int first,
                            const char *finish, long usage_prompt, long usage_completion,
                            const json_t *lcx);

/* A JSON string of s[0..n) with invalid UTF-8 bytes replaced by U+FFFD. */
json_t *lcx_serve_json_text(const char *s, size_t n);

/* How many bytes of text[0..len) a stream can send now: all but the last
 * hold bytes (the longest stop string less one, so a stop string that is
 * still arriving is never sent) and any trailing U+FFFD or incomplete
 * character (a multi-byte character split across tokens). */
size_t lcx_serve_stream_safe(const char *text, size_t len, size_t hold);

/* Constant-time comparison of an Authorization header value against
 * "Bearer <key>": 1 when equal. The time depends on the lengths only. */
int lcx_serve_key_matches(const char *header, const char *key);

#endif
