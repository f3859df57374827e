/* remote_count.c: token counts from a server's POST /tokenize, in the vLLM
 * or the llama.cpp form (docs/model.md, "Remote APIs"). */
#include "remote_count.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"
#include "harness/http.h"

enum { FORM_UNKNOWN, FORM_VLLM, FORM_LLAMACPP };

struct remote_counter {
    char url[2300];
    char *model_name;
    double timeout;
    struct curl_slist *headers;
    pthread_mutex_t lock; /* guards form and error */
    int form;
    lcx_err error;
    size_t max_bytes; /* the largest text sent (0: no bound) */
    size_t requests, bytes_sent; /* for the statistics */
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    sb_append(arg, data, size * n);
    return size * n;
}

/* One POST; returns the HTTP status (0 on transport failure). */
static long post(remote_counter *rc, const char *body, strbuf *reply, char *why, size_t why_size)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, why_size, "curl_easy_init failed");
        return 0;
    }
    curl_easy_setopt(c, CURLOPT_URL, rc->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, rc->headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(rc->timeout * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long status = 0;
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(why, why_size, "%s", curl_easy_strerror(cc));
    curl_easy_cleanup(c);
    return status;
}

static char *tokenize_body(const remote_counter *rc, int form, const char *text, size_t len)
{
    json_t *o = json_object();
    if (rc->model_name)
        json_object_set_new(o, "model", json_string(rc->model_name));
    json_t *t = json_stringn(text, len);
    if (form == FORM_VLLM) {
        json_object_set_new(o, "prompt", t);
        json_object_set_new(o, "add_special_tokens", json_false());
    } else {
        json_object_set_new(o, "content", t);
        json_object_set_new(o, "add_special", json_false());
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int lcx_remote_count_parse_reply(const char *body, size_t len, long *count, lcx_err *err)
{
    json_error_t je;
    json_t *r = json_loadb(body, len, 0, &je);
    long n = -1;
    json_t *jc = json_object_get(r, "count"), *tokens = json_object_get(r, "tokens");
    if (json_is_integer(jc))
        n = (long)json_integer_value(jc);
    else if (json_is_array(tokens))
        n = (long)json_array_size(tokens);
    json_decref(r);
    *count = n < 0 ? -1 : n;
    if (n < 0)
        return lcx_errf(err, LCX_EINPUT, "reply has neither 'count' nor 'tokens'");
    return 0;
}

static void latch(remote_counter *rc, const char *fmt, const char *a, const char *b)
{
    pthread_mutex_lock(&rc->lock);
    if (!rc->error.code)
        lcx_errf(&rc->error, LCX_EIO, fmt, a, b);
    pthread_mutex_unlock(&rc->lock);
}

/* A count no tokenizer gives for this text: none for a non-empty text,
 * more tokens than bytes (plus a few special tokens a server may add), or
 * more than 64 bytes a token over a long text. */
static int absurd(long n, size_t len)
{
    if (len == 0)
        return n < 0 || n > 8;
    return n < 1 || (size_t)n > len + 8 || (len >= 1024 && (size_t)n * 64 < len);
}

static size_t count_remote(void *ctx, const char *text, size_t len)
{
    remote_counter *rc = ctx;
    pthread_mutex_lock(&rc->lock);
    int form = rc->form, failed = rc->error.code != 0;
    size_t max_bytes = rc->max_bytes;
    if (!failed) {
        rc->requests++;
        rc->bytes_sent += len;
    }
    pthread_mutex_unlock(&rc->lock);
    if (failed)
        return SIZE_MAX;
    if (max_bytes && len > max_bytes) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%zu", len);
        snprintf(b, sizeof b, "%zu", max_bytes);
        latch(rc, "--remote-tokenize: a %s-byte prompt is past the bound of %s bytes for these "
                  "lengths (a length search gone wrong; nothing was sent)", a, b);
        return SIZE_MAX;
    }
    int forms[2] = {FORM_VLLM, FORM_LLAMACPP};
    int first = form == FORM_UNKNOWN ? 0 : (form == FORM_VLLM ? 0 : 1);
    int last = form == FORM_UNKNOWN ? 1 : first;
    char why[512] = "";
    for (int f = first; f <= last; f++) {
        char *body = tokenize_body(rc, forms[f], text, len);
        strbuf reply;
        sb_init(&reply);
        long status = body ? post(rc, body, &reply, why, sizeof why) : 0;
        free(body);
        long n = -1;
        if (status == 200)
            lcx_remote_count_parse_reply(sb_str(&reply), reply.len, &n, NULL);
        if (status && status != 200)
            snprintf(why, sizeof why, "HTTP %ld", status);
        else if (status == 200 && n < 0)
            snprintf(why, sizeof why, "reply has neither 'count' nor 'tokens'");
        else if (status == 200 && absurd(n, len)) {
            /* While the form is unknown, a server that ignores the other
             * form's field counts nothing: try the next form. */
            snprintf(why, sizeof why, "absurd token count %ld for %zu bytes", n, len);
            n = -1;
        }
        sb_free(&reply);
        if (n >= 0) {
            pthread_mutex_lock(&rc->lock);
            rc->form = forms[f];
            pthread_mutex_unlock(&rc->lock);
            return (size_t)n;
        }
        if (status == 0)
            break; /* transport failure: the other form will not help */
    }
    latch(rc, "--remote-tokenize: %s: %s", rc->url, why);
    return SIZE_MAX;
}

int lcx_remote_count_open(const char *endpoint, const char *model_name, double timeout,
                      remote_counter **out, lcx_err *err)
{
    *out = NULL;
    remote_counter *rc = calloc(1, sizeof *rc);
    if (!rc)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    char base[2048];
    lcx_http_base_url(endpoint, base, sizeof base);
    snprintf(rc->url, sizeof rc->url, "%s/tokenize", base);
    rc->model_name = model_name ? strdup(model_name) : NULL;
    rc->timeout = timeout;
    rc->headers = lcx_http_headers();
    if ((model_name && !rc->model_name) || !rc->headers) {
        curl_slist_free_all(rc->headers);
        free(rc->model_name);
        free(rc);
        return lcx_errf(err, LCX_ENOMEM, "--remote-tokenize: out of memory");
    }
    pthread_mutex_init(&rc->lock, NULL);
    *out = rc;
    /* Find the form now, so a server without /tokenize (or one that counts
     * nothing) fails before any work. */
    static const char probe[] = "lcx counts tokens";
    if (count_remote(rc, probe, sizeof probe - 1) == SIZE_MAX)
        return lcx_remote_count_error(rc, err);
    return 0;
}

void lcx_remote_count_set_limit(remote_counter *rc, size_t max_bytes)
{
    pthread_mutex_lock(&rc->lock);
    rc->max_bytes = max_bytes;
    pthread_mutex_unlock(&rc->lock);
}

void lcx_remote_count_stats(remote_counter *rc, size_t *requests, size_t *bytes)
{
    pthread_mutex_lock(&rc->lock);
    *requests = rc->requests;
    *bytes = rc->bytes_sent;
    pthread_mutex_unlock(&rc->lock);
}

void lcx_remote_count_close(remote_counter *rc)
{
    if (!rc)
        return;
    curl_slist_free_all(rc->headers);
    free(rc->model_name);
    pthread_mutex_destroy(&rc->lock);
    free(rc);
}

lcx_counter lcx_remote_count_counter(remote_counter *rc)
{
    lcx_counter c = {"remote /tokenize", count_remote, rc, 0}; /* its cut rules are unknown */
    return c;
}

int lcx_remote_count_error(remote_counter *rc, lcx_err *err)
{
    pthread_mutex_lock(&rc->lock);
    int code = rc->error.code;
    if (code && err)
        *err = rc->error;
    pthread_mutex_unlock(&rc->lock);
    return code;
}

const char *lcx_remote_count_form(const remote_counter *rc)
{
    return rc->form == FORM_VLLM ? "vllm" : rc->form == FORM_LLAMACPP ? "llamacpp" : "unknown";
}
