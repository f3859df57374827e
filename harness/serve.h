/* serve.h: `lcx serve`, an OpenAI-compatible HTTP server on the local
 * engine (docs/serve.md), built on libmicrohttpd.
 *
 * Threads: libmicrohttpd runs one thread per connection
 * (MHD_USE_THREAD_PER_CONNECTION), which parses the request, answers the
 * cheap routes itself (health, models, tokenize) and puts generation and
 * probe jobs on a bounded queue; `parallel` worker threads, each with its
 * own lcx_session of the one loaded model, take jobs from it. A full queue
 * is answered 429 with Retry-After. A connection thread waiting for its job
 * watches its socket, so a client that goes away cancels the job (between
 * prefill chunks and decode steps). */
#ifndef LCX_SERVE_H
#define LCX_SERVE_H

#include <stddef.h>

#include "common/err.h"
#include "harness/engine_opts.h"
#include "rope/opts.h"

typedef struct lcx_serve_opts {
    const char *model_dir;
    const char *model_name;    /* the served name (NULL: the directory's base name) */
    const char *host;          /* address to bind (NULL: 127.0.0.1) */
    int port;                  /* 0: any free port (see port_file) */
    const char *port_file;     /* when not NULL, the bound port is written here */
    const char *template_name; /* chat template (NULL: base) */
    int parallel;              /* sessions and worker threads (0: 1) */
    int queue;                 /* jobs waiting beyond the running ones (0: 16) */
    int threads;               /* OpenMP threads per session (0: cores / parallel) */
    int max_context;           /* prompt + max_tokens per request (0: max_position_embeddings) */
    size_t max_body;           /* request body bytes (0: 16 MiB) */
    const char *api_key;       /* NULL: no key required */
    double idle_timeout;       /* seconds a connection may stall (0: 30) */
    double shutdown_timeout;   /* seconds in-flight work may take after SIGTERM (0: 30) */
    lcx_rope_opts rope;        /* server-wide RoPE overrides */
    lcx_engine_opts engine;    /* --kv-dtype, --max-memory */
} lcx_serve_opts;

void lcx_serve_opts_init(lcx_serve_opts *o);

/* Load the model, serve until stop_fd becomes readable (the command's
 * signal handler writes to a self-pipe), then shut down gracefully: stop
 * accepting, let queued and running requests finish for up to
 * shutdown_timeout seconds, answer the rest 503, and return 0. Errors
 * before serving (model, port, memory) return their code with err filled. */
int lcx_serve_run(const lcx_serve_opts *o, int stop_fd, lcx_err *err);

#endif
