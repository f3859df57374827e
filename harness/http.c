/* http.c: the HTTP helpers every client of a server shares (see http.h). */
#include "harness/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

const char *lcx_http_api_key(void)
{
    const char *k = getenv("LCX_API_KEY");
    if (!k || !*k)
        k = getenv("OPENAI_API_KEY");
    return k && *k ? k : NULL;
}

void lcx_http_scrub_key(char *s)
{
    const char *key = lcx_http_api_key();
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

void lcx_http_base_url(const char *endpoint, char *out, size_t size)
{
    snprintf(out, size, "%s", endpoint);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/')
        out[--n] = '\0';
    /* Accept ".../v1" as the base of OpenAI-style servers. */
    if (n >= 3 && !strcmp(out + n - 3, "/v1"))
        out[n - 3] = '\0';
}

struct curl_slist *lcx_http_headers(void)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = lcx_http_api_key();
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
