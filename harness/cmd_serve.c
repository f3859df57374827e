/* cmd_serve.c: `lcx serve`: an OpenAI-compatible HTTP server on the local
 * engine (harness/serve.c, docs/serve.md).
 *
 *   lcx serve --model DIR [--host 127.0.0.1] [--port 8000] [--model-name N]
 *             [--template base] [--parallel 1] [--queue 16] [--threads N]
 *             [--max-context N] [--max-body SIZE] [--api-key KEY]
 *             [--idle-timeout S] [--shutdown-timeout S] [--port-file F]
 *             [--kv-dtype T] [--max-memory SIZE|off] [rope options]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/meminfo.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/serve.h"

/* The write end of the self-pipe that SIGTERM and SIGINT wake the server
 * through. The one piece of global mutable state: a signal handler can
 * reach nothing else (docs/CONTRIBUTING.md, "No global mutable state"). */
static volatile sig_atomic_t serve_signal_fd = -1;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (serve_signal_fd >= 0) {
        char b = 1;
        ssize_t w = write(serve_signal_fd, &b, 1);
        (void)w;
    }
    errno = saved;
}

static void serve_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx serve --model DIR [options]\n"
            "An OpenAI-compatible server on the local engine (docs/serve.md):\n"
            "GET /health, /v1/models, /tokenizer_info; POST /v1/completions,\n"
            "/v1/chat/completions, /v1/probe, /tokenize, /detokenize.\n"
            "  --host ADDR           address to listen on (default 127.0.0.1)\n"
            "  --port N              port (default 8000; 0: any free port)\n"
            "  --port-file F         write the port listened on to F\n"
            "  --model-name NAME     the served model's name (default: the directory's)\n"
            "  --template NAME       chat template of /v1/chat/completions (default base;\n"
            "                        the templates of lcx gen)\n"
            "  --parallel N          sessions answering at once, one worker thread each\n"
            "                        (default 1)\n"
            "  --queue N             requests waiting beyond the running ones; more get\n"
            "                        429 with Retry-After (default 16)\n"
            "  --threads N           OpenMP threads per session (default cores / parallel)\n"
            "  --max-context N       prompt + max_tokens per request (default the config's\n"
            "                        max_position_embeddings); every session holds N positions\n"
            "  --max-body SIZE       request body limit (default 16M); larger gets 413\n"
            "  --api-key KEY         require \"Authorization: Bearer KEY\" (or set LCX_API_KEY)\n"
            "  --idle-timeout S      close a connection stalled for S seconds (default 30)\n"
            "  --shutdown-timeout S  on SIGTERM, let running requests finish for S seconds\n"
            "                        (default 30), then answer them 503\n"
            "%s%s"
            "Per-request RoPE: the request fields rope_scaling and attn_temperature\n"
            "(docs/serve.md) apply on top of these options for that request alone.\n",
            lcx_engine_opts_usage(), lcx_rope_opts_usage());
}

static int int_opt(const char *name, const char *v, long lo, long hi, int *out, lcx_err *err)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi)
        return lcx_errf(err, LCX_EINPUT, "%s: '%s' is not an integer in [%ld, %ld]", name, v, lo, hi);
    *out = (int)x;
    return 0;
}

static int seconds_opt(const char *name, const char *v, double *out, lcx_err *err)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x > 0 && x <= 86400))
        return lcx_errf(err, LCX_EINPUT, "%s: '%s' is not a number of seconds in (0, 86400]", name, v);
    *out = x;
    return 0;
}

static int parse_opts(int argc, char **argv, lcx_serve_opts *o, lcx_err *err)
{
    lcx_serve_opts_init(o);
    const char *port = NULL, *parallel = NULL, *queue = NULL, *threads = NULL, *ctx = NULL,
               *body = NULL, *idle = NULL, *shut = NULL;
    for (int i = 1; i < argc; i++) {
        int rc = lcx_rope_opts_parse(&o->rope, argc, argv, &i, err);
        if (!rc)
            rc = lcx_engine_opts_parse(&o->engine, argc, argv, &i, err);
        if (!rc)
            (void)((rc = lcx_arg_value(argc, argv, &i, "--model", &o->model_dir, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--host", &o->host, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--port", &port, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--port-file", &o->port_file, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--model-name", &o->model_name, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--template", &o->template_name, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--parallel", &parallel, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--queue", &queue, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--threads", &threads, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--max-context", &ctx, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--max-body", &body, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--api-key", &o->api_key, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--idle-timeout", &idle, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--shutdown-timeout", &shut, err)));
        if (rc < 0)
            return LCX_EINPUT;
        if (rc)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return -1;
        return lcx_errf(err, LCX_EINPUT, "unknown option '%s' (try --help)", argv[i]);
    }
    if ((port && int_opt("--port", port, 0, 65535, &o->port, err)) ||
        (parallel && int_opt("--parallel", parallel, 1, 256, &o->parallel, err)) ||
        (queue && int_opt("--queue", queue, 1, 100000, &o->queue, err)) ||
        (threads && int_opt("--threads", threads, 1, 1024, &o->threads, err)) ||
        (ctx && int_opt("--max-context", ctx, 2, 1 << 28, &o->max_context, err)) ||
        (idle && seconds_opt("--idle-timeout", idle, &o->idle_timeout, err)) ||
        (shut && seconds_opt("--shutdown-timeout", shut, &o->shutdown_timeout, err)))
        return LCX_EINPUT;
    if (body) {
        lcx_err e = {0};
        if (lcx_bytes_parse(body, &o->max_body, &e) || o->max_body < 1024)
            return lcx_errf(err, LCX_EINPUT, "--max-body: %s", e.msg[0] ? e.msg : "at least 1K");
    }
    if (!o->model_dir)
        return lcx_errf(err, LCX_EINPUT, "--model DIR is required");
    if (!o->api_key) {
        const char *k = getenv("LCX_API_KEY");
        o->api_key = k && *k ? k : NULL;
    } else if (!*o->api_key) {
        return lcx_errf(err, LCX_EINPUT, "--api-key: empty key");
    }
    return 0;
}

int lcx_cmd_serve(int argc, char **argv)
{
    lcx_serve_opts o;
    lcx_err err = {0};
    int rc = parse_opts(argc, argv, &o, &err);
    if (rc == -1) {
        serve_usage(stdout);
        return 0;
    }
    if (rc)
        return lcx_arg_fail("serve", &err);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK)) {
        lcx_errf(&err, LCX_EIO, "pipe: %s", strerror(errno));
        return lcx_arg_fail("serve", &err);
    }
    serve_signal_fd = pipefd[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is an error return, not a signal */
    rc = lcx_serve_run(&o, pipefd[0], &err);
    serve_signal_fd = -1;
    close(pipefd[0]);
    close(pipefd[1]);
    if (rc)
        return lcx_arg_fail("serve", &err);
    return 0;
}
