/* backend.c: dispatch to the local engine or the HTTP backend. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

#include "harness/backend_internal.h"

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

const char *backend_api_key(void)
{
    const char *k = getenv("LCX_API_KEY");
    if (!k || !*k)
        k = getenv("OPENAI_API_KEY");
    return k && *k ? k : NULL;
}

void backend_scrub_key(char *s)
{
    const char *key = backend_api_key();
    if (!s || !key)
        return;
    size_t n = strlen(key);
    char *p = s;
    while ((p = strstr(p, key))) {
        /* "***" in place of the key (or stars over it when shorter) */
        size_t keep = n < 3 ? n : 3;
        memset(p, '*', keep);
        memmove(p + keep, p + n, strlen(p + n) + 1);
        p += keep;
    }
}

void backend_base_url(const char *endpoint, char *out, size_t size)
{
    snprintf(out, size, "%s", endpoint);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/')
        out[--n] = '\0';
    /* Accept ".../v1" as the base of OpenAI-style servers. */
    if (n >= 3 && !strcmp(out + n - 3, "/v1"))
        out[n - 3] = '\0';
}

struct curl_slist *backend_headers(void)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = backend_api_key();
    if (h && key) {
        strbuf auth;
        sb_init(&auth);
        sb_printf(&auth, "Authorization: Bearer %s", key);
        struct curl_slist *more = curl_slist_append(h, sb_str(&auth));
        sb_free(&auth);
        if (!more) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = more;
    }
    return h;
}

int lcx_backend_open(const lcx_backend_opts *o, lcx_backend **out, lcx_err *err)
{
    *out = NULL;
    lcx_backend *b = calloc(1, sizeof *b);
    if (!b)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    int rc = o->endpoint ? http_backend_open(o, &b->http, err)
                         : local_backend_open(o, &b->local, err);
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
        http_backend_close(b->http);
    if (b->local)
        local_backend_close(b->local);
    free(b);
}

int lcx_backend_run(lcx_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg, lcx_err *err)
{
    return b->http ? http_backend_run(b->http, next, done, arg, err)
                   : local_backend_run(b->local, next, done, arg, err);
}

json_t *lcx_backend_describe(const lcx_backend *b)
{
    return b->http ? http_backend_describe(b->http) : local_backend_describe(b->local);
}

json_t *lcx_backend_rope_at(const lcx_backend *b, size_t length)
{
    return b->local ? local_backend_rope_at(b->local, length) : NULL;
}

const lcx_counter *lcx_backend_counter(const lcx_backend *b)
{
    return b->local ? local_backend_counter(b->local) : NULL;
}
