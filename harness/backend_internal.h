/* backend_internal.h (private to harness/): the two backend kinds. */
#ifndef LCX_BACKEND_INTERNAL_H
#define LCX_BACKEND_INTERNAL_H

#include "harness/backend.h"

typedef struct http_backend http_backend;
typedef struct local_backend local_backend;

int http_backend_open(const lcx_backend_opts *o, http_backend **out, lcx_err *err);
void http_backend_close(http_backend *b);
int http_backend_run(http_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg, lcx_err *err);
json_t *http_backend_describe(const http_backend *b);

int local_backend_open(const lcx_backend_opts *o, local_backend **out, lcx_err *err);
void local_backend_close(local_backend *b);
int local_backend_run(local_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg, lcx_err *err);
json_t *local_backend_describe(const local_backend *b);
json_t *local_backend_rope_at(const local_backend *b, size_t length);
const lcx_counter *local_backend_counter(const local_backend *b);

/* The positions a local session needs for a prompt of n_prompt tokens and
 * max_tokens to generate (n_prompt + max_tokens + 1), as the engine's int;
 * LCX_EINPUT when that does not fit an int. */
int backend_session_len(size_t n_prompt, int max_tokens, int *out, lcx_err *err);

/* The API key from LCX_API_KEY or OPENAI_API_KEY, or NULL. */
const char *backend_api_key(void);
/* Remove every occurrence of the API key from s (in place). */
void backend_scrub_key(char *s);

/* The server's base URL: endpoint without trailing '/' or "/v1". */
void backend_base_url(const char *endpoint, char *out, size_t size);

/* Request headers: JSON content type, and the key when one is set. */
struct curl_slist *backend_headers(void);

#endif
