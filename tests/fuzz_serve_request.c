/* fuzz_serve_request.c: libFuzzer target: arbitrary bytes as the body of a
 * request to each of lcx serve's JSON routes (harness/serve_api.c,
 * lcx_serve_parse). The first byte picks the route. A body is accepted
 * with prompts that fit the checks (ids inside the vocabulary, text
 * without NUL) or refused with a 4xx status and a message, and the error
 * body is valid JSON either way. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/serve_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    lcx_serve_route route = (lcx_serve_route)(data[0] % 5);
    lcx_serve_parse_ctx ctx = {lcx_template_find(data[0] & 8 ? "chatml" : "base"), "tiny", 1000, 8};
    lcx_serve_request r;
    lcx_serve_error e;
    memset(&e, 0, sizeof e);
    int rc = lcx_serve_parse(route, (const char *)data + 1, size - 1, &ctx, &r, &e);
    if (rc) {
        if (e.status < 400 || e.status > 599 || !e.message[0] || r.prompts)
            abort();
        char *body = lcx_serve_error_body(&e);
        json_t *j = body ? json_loads(body, 0, NULL) : NULL;
        if (!json_is_object(json_object_get(j, "error")))
            abort();
        json_decref(j);
        free(body);
        return 0;
    }
    if (r.n_prompts < 1 || r.n_prompts > 8 || r.route != route)
        abort();
    for (size_t i = 0; i < r.n_prompts; i++) {
        const lcx_serve_prompt *p = &r.prompts[i];
        if (!p->text == !p->ids)
            abort();
        for (size_t k = 0; p->ids && k < p->n_ids; k++)
            if (p->ids[k] < 0 || p->ids[k] >= 1000)
                abort();
    }
    for (int i = 0; i < r.n_stops; i++)
        if (!r.stops[i][0])
            abort();
    char line[256];
    lcx_serve_rope_fields(&r, line, sizeof line);
    lcx_serve_request_free(&r);
    return 0;
}
