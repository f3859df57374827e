/* http.h: what lcx's HTTP clients share: the generation backend
 * (backend_http.c) and the /tokenize counter (remote_count.c). The server's
 * base URL, the request headers with the API key, and keeping the key out
 * of every message. libcurl's global set-up is the caller's. */
#ifndef LCX_HTTP_H
#define LCX_HTTP_H

#include <stddef.h>

struct curl_slist;

/* The API key from LCX_API_KEY or OPENAI_API_KEY, or NULL. */
const char *lcx_http_api_key(void);

/* Remove every occurrence of the API key from s (in place). */
void lcx_http_scrub_key(char *s);

/* The server's base URL: endpoint without trailing '/' or "/v1". */
void lcx_http_base_url(const char *endpoint, char *out, size_t size);

/* Request headers: JSON content type, and the key when one is set; NULL
 * when memory runs out. Free with curl_slist_free_all. */
struct curl_slist *lcx_http_headers(void);

#endif
