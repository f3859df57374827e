/* fuzz_http_reply.h: the body the reply-parsing fuzz targets share
 * (fuzz_http_completions, fuzz_http_chat, fuzz_http_llamacpp): arbitrary
 * bytes as the body of a 200 reply (harness/backend_http.c,
 * lcx_backend_http_parse_reply). Parsing must fail cleanly (no text) or
 * give a text no longer than the body and a finish reason, both valid JSON
 * strings. Included by one target each; not a module header. */
#ifndef LCX_FUZZ_HTTP_REPLY_H
#define LCX_FUZZ_HTTP_REPLY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/backend_http.h"

/* Parse data as a 200 reply of api and check what was accepted. */
static int fuzz_http_reply(lcx_api api, const uint8_t *data, size_t size)
{
    lcx_response resp;
    memset(&resp, 0, sizeof resp);
    lcx_err err = {0};
    int rc = lcx_backend_http_parse_reply(api, (const char *)data, size, &resp, &err);
    if (rc == 0) {
        /* the run record holds both as JSON strings */
        json_t *t = resp.text && strlen(resp.text) <= size ? json_string(resp.text) : NULL;
        json_t *f = memchr(resp.finish_reason, '\0', sizeof resp.finish_reason)
                        ? json_string(resp.finish_reason)
                        : NULL;
        if (!t || !f) {
            fprintf(stderr, "accepted reply: text %s, finish reason '%.32s' not a JSON string\n",
                    t ? "ok" : "bad", resp.finish_reason);
            abort();
        }
        json_decref(t);
        json_decref(f);
    } else if (resp.text || !err.msg[0] || err.code != rc) {
        abort();
    }
    lcx_response_free(&resp);
    return 0;
}

#endif
