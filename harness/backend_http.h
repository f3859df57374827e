/* backend_http.h: the remote backend kind, a server over HTTP (see
 * backend_http.c); harness/backend.c dispatches to it. The parsers of the
 * servers' replies are here too, for the tests and fuzzers. */
#ifndef LCX_BACKEND_HTTP_H
#define LCX_BACKEND_HTTP_H

#include "harness/backend.h"

typedef struct http_backend http_backend;

int lcx_backend_http_open(const lcx_backend_opts *o, http_backend **out, lcx_err *err);
void lcx_backend_http_close(http_backend *b);
int lcx_backend_http_run(http_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg,
                         lcx_err *err);
json_t *lcx_backend_http_describe(const http_backend *b);
/* Send these RoPE overrides from the next request on (lcx sweep
 * --endpoint), and require every reply to confirm them in lcx serve's
 * "lcx.rope": a reply without it, or with other values, stops the run
 * (LCX_EINPUT), since the server would have ignored the setting. */
/* lcx_backend_deterministic for a server: 0 when sampling, 1 when every
 * answer came from lcx serve (its "lcx" object), else -1. */
int lcx_backend_http_deterministic(const http_backend *b);
int lcx_backend_http_set_rope(http_backend *b, const lcx_rope_opts *rope, lcx_err *err);

/* The body of a 200 reply to a generation request of the given API (the
 * OpenAI completions "choices[0].text", chat "choices[0].message.content",
 * llama.cpp /completion "content") into resp: text (new string), finish
 * reason and token counts (-1 when absent). LCX_EINPUT when the body is not
 * such a reply (the backend retries it as malformed). */
int lcx_backend_http_parse_reply(lcx_api api, const char *body, size_t len, lcx_response *resp,
                                 lcx_err *err);

/* The model a GET /v1/models reply names first (data[0].id) into model, a
 * buffer of size bytes; LCX_EINPUT when there is none or it does not fit. */
int lcx_backend_http_parse_models(const char *body, size_t len, char *model, size_t size,
                                  lcx_err *err);

#endif
