/* backend.c: dispatch to the local engine or the HTTP backend. */
#include "harness/backend.h"

#include <stdlib.h>
#include <string.h>

#include "harness/backend_http.h"
#include "harness/backend_local.h"

struct lcx_backend {
    http_backend *http;
    local_backend *local;
};

void lcx_response_free(lcx_response *r)
{
    free(r->text);
    free(r->error);
    memset(r, 0, sizeof *r);
}

int lcx_backend_open(const lcx_backend_opts *o, lcx_backend **out, lcx_err *err)
{
    *out = NULL;
    lcx_backend *b = calloc(1, sizeof *b);
    if (!b)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    int rc = o->endpoint ? lcx_backend_http_open(o, &b->http, err)
                         : lcx_backend_local_open(o, &b->local, err);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void lcx_backend_close(lcx_backend *b)
{
    if (!b)
        return;
    if (b->http)
        lcx_backend_http_close(b->http);
    if (b->local)
        lcx_backend_local_close(b->local);
    free(b);
}

int lcx_backend_run(lcx_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg, lcx_err *err)
{
    return b->http ? lcx_backend_http_run(b->http, next, done, arg, err)
                   : lcx_backend_local_run(b->local, next, done, arg, err);
}

json_t *lcx_backend_describe(const lcx_backend *b)
{
    return b->http ? lcx_backend_http_describe(b->http) : lcx_backend_local_describe(b->local);
}

int lcx_backend_deterministic(const lcx_backend *b)
{
    return b->http ? lcx_backend_http_deterministic(b->http) : lcx_backend_local_deterministic(b->local);
}

json_t *lcx_backend_rope_at(const lcx_backend *b, size_t length)
{
    return b->local ? lcx_backend_local_rope_at(b->local, length) : NULL;
}

const lcx_counter *lcx_backend_counter(const lcx_backend *b)
{
    return b->local ? lcx_backend_local_counter(b->local) : NULL;
}

int lcx_backend_check_memory(const lcx_backend *b, size_t length, int max_tokens, char *line,
                             size_t size, lcx_err *err)
{
    if (line && size)
        line[0] = '\0';
    if (!b->local)
        return 0;
    return lcx_backend_local_check_memory(b->local, length, max_tokens, line, size, err);
}

int lcx_backend_set_rope(lcx_backend *b, const lcx_rope_opts *rope, lcx_err *err)
{
    if (b->http)
        return lcx_backend_http_set_rope(b->http, rope, err);
    return lcx_backend_local_set_rope(b->local, rope, err);
}
