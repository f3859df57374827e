/* backend.h: where prompts go. A backend answers a batch of requests,
 * calling on_done as each finishes (in any order, one call at a time), so
 * the runner can record it at once. Two kinds: the local engine and remote
 * servers over HTTP (OpenAI completions or chat, llama.cpp). */
#ifndef LCX_BACKEND_H
#define LCX_BACKEND_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "harness/engine_opts.h"
#include "rope/opts.h"
#include "tasks/counter.h"

typedef struct lcx_request {
    const char *input;         /* prompt without the answer prefix */
    const char *answer_prefix; /* always sent */
    int max_tokens;
    size_t length;             /* the length the prompt was fitted to (0 = unknown) */
    void *tag;                 /* the caller's: handed back with the answer */
} lcx_request;

typedef struct lcx_response {
    char *text;              /* the model's continuation (NULL on error) */
    long prompt_tokens;      /* -1 when the backend does not say */
    long output_tokens;      /* -1 when the backend does not say */
    char finish_reason[32];  /* "stop", "length", "eos", ... */
    char *error;             /* NULL, or why the request failed for good */
    const char *endpoint;    /* with replicas: the base URL that answered (the
                                backend's string, valid while it is open); else NULL */
    double latency;          /* seconds, last attempt */
    int attempts;
} lcx_response;

void lcx_response_free(lcx_response *r);

typedef enum { API_COMPLETIONS, API_CHAT, API_LLAMACPP } lcx_api;

typedef struct lcx_backend_opts {
    /* local */
    const char *model_dir;
    lcx_rope_opts rope;
    lcx_engine_opts engine; /* --kv-dtype, --max-memory */
    /* remote */
    const char *endpoint;   /* base URL, e.g. http://127.0.0.1:8000 (the first replica) */
    /* Replicas of one model: n_endpoints base URLs (endpoints[0] is
     * endpoint); n_endpoints 0 means endpoint alone. Requests go to the
     * replica with the fewest outstanding, up to `concurrency` each; a
     * replica that fails (connection errors, or 3 failed attempts in a row)
     * is set aside for replica_cooldown seconds and its requests go to the
     * others. */
    const char *const *endpoints;
    int n_endpoints;
    double replica_cooldown;
    int quiet;              /* no notes on stderr (a replica set aside) */
    lcx_api api;
    const char *model_name; /* "model" field; NULL = server default */
    int concurrency;
    double timeout;         /* seconds per request */
    int max_retries;
    double backoff;         /* first retry delay in seconds, doubling per attempt */
    double backoff_max;     /* cap on the delay */
    int fail_fast;
    /* decoding */
    double temperature;     /* 0 = greedy */
    unsigned long long seed;
} lcx_backend_opts;

typedef struct lcx_backend lcx_backend;

int lcx_backend_open(const lcx_backend_opts *o, lcx_backend **out, lcx_err *err);
void lcx_backend_close(lcx_backend *b);

/* Answer requests as long as next() hands them out (it returns 1 with a
 * request, 0 when there are no more, or an error code). done() runs as each
 * request finishes, in any order, one call at a time; it owns resp's
 * strings. Requests stay valid until their done() call. Returns 0 when
 * every request got an answer or a recorded error; an error code when the
 * run must stop (--fail-fast, or next/done failed). */
typedef int (*lcx_next_fn)(void *arg, lcx_request *req, lcx_err *err);
typedef int (*lcx_done_fn)(void *arg, const lcx_request *req, lcx_response *resp, lcx_err *err);
int lcx_backend_run(lcx_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg, lcx_err *err);

/* What run.json records about the backend (effective RoPE values, model
 * hashes, endpoint, API, how the answer prefix was sent). New reference. */
json_t *lcx_backend_describe(const lcx_backend *b);

/* Whether the same request gets the same answer: 1 (the local engine, or
 * lcx serve, greedy), 0 (sampling: temperature > 0), -1 unknown (other
 * servers: batching can change greedy outputs, as vLLM documents). Known
 * after a run (a server says it is lcx serve in its replies). */
int lcx_backend_deterministic(const lcx_backend *b);

/* The RoPE values the local engine uses for prompts of this length (they
 * depend on it with --yarn-factor auto), as describe's "rope"; NULL for
 * remote backends. New reference. */
json_t *lcx_backend_rope_at(const lcx_backend *b, size_t length);

/* Run with other RoPE overrides from the next request on (lcx sweep: one
 * loaded model, or one server, for every setting). The local engine checks
 * them against the model's config; a remote backend sends them with each
 * request and requires each reply to confirm them (lcx serve's per-request
 * RoPE; backend_http.h). */
int lcx_backend_set_rope(lcx_backend *b, const lcx_rope_opts *rope, lcx_err *err);
/* Before a run: the memory the local engine's largest session will take
 * (a prompt of `length` tokens plus max_tokens to generate), checked as
 * lcx_engine_check_memory does (LCX_EINPUT, one line, when it does not
 * fit); line receives the summary to print. A remote backend: 0 and an
 * empty line. */
int lcx_backend_check_memory(const lcx_backend *b, size_t length, int max_tokens, char *line,
                             size_t size, lcx_err *err);
/* The counter that fits prompts for this backend when no --tokenizer is
 * given: the local model's tokenizer, or NULL for remote backends. */
const lcx_counter *lcx_backend_counter(const lcx_backend *b);

#endif
