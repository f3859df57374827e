/* backend_http.h: the remote backend kind, a server over HTTP (see
 * backend_http.c); harness/backend.c dispatches to it. */
#ifndef LCX_BACKEND_HTTP_H
#define LCX_BACKEND_HTTP_H

#include "harness/backend.h"

typedef struct http_backend http_backend;

int lcx_backend_http_open(const lcx_backend_opts *o, http_backend **out, lcx_err *err);
void lcx_backend_http_close(http_backend *b);
int lcx_backend_http_run(http_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg,
                         lcx_err *err);
json_t *lcx_backend_http_describe(const http_backend *b);

#endif
