/* fuzz_http_chat.c: libFuzzer target: arbitrary bytes as the body of a 200
 * reply to POST /v1/chat/completions (OpenAI chat) (harness/backend_http.c,
 * lcx_http_parse_reply). Parsing must fail cleanly (no text) or give a text
 * no longer than the body and a finish reason, both valid JSON strings. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_response resp;
    memset(&resp, 0, sizeof resp);
    lcx_err err = {0};
    int rc = lcx_http_parse_reply(API_CHAT, (const char *)data, size, &resp, &err);
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
