#include "remote_count.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "harness/backend_internal.h"

enum { FORM_UNKNOWN, FORM_VLLM, FORM_LLAMACPP };

struct remote_counter {
    char url[2300];
    char *model_name;
    double timeout;
    struct curl_slist *headers;
    pthread_mutex_t lock; /* guards form and error */
    int form;
    lcx_err error;
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

/* Token count from a reply: "count", else the length of "tokens". */
static long reply_count(const strbuf *reply)
{
    json_error_t je;
    json_t *r = json_loadb(sb_str(reply), reply->len, 0, &je);
    long n = -1;
    json_t *count = json_object_get(r, "count"), *tokens = json_object_get(r, "tokens");
    if (json_is_integer(count))
        n = (long)json_integer_value(count);
    else if (json_is_array(tokens))
        n = (long)json_array_size(tokens);
    json_decref(r);
    return n;
}

static void latch(remote_counter *rc, const char *fmt, const char *a, const char *b)
{
    pthread_mutex_lock(&rc->lock);
    if (!rc->error.code)
        lcx_errf(&rc->error, LCX_EIO, fmt, a, b);
    pthread_mutex_unlock(&rc->lock);
}

static size_t count_remote(void *ctx, const char *text, size_t len)
{
    remote_counter *rc = ctx;
    pthread_mutex_lock(&rc->lock);
    int form = rc->form, failed = rc->error.code != 0;
    pthread_mutex_unlock(&rc->lock);
    if (failed)
        return SIZE_MAX;
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
        long n = status == 200 ? reply_count(&reply) : -1;
        if (status && status != 200)
            snprintf(why, sizeof why, "HTTP %ld", status);
        else if (status == 200 && n < 0)
            snprintf(why, sizeof why, "reply has neither 'count' nor 'tokens'");
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

int remote_count_open(const char *endpoint, const char *model_name, double timeout,
                      remote_counter **out, lcx_err *err)
{
    *out = NULL;
    remote_counter *rc = calloc(1, sizeof *rc);
    if (!rc)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    char base[2048];
    backend_base_url(endpoint, base, sizeof base);
    snprintf(rc->url, sizeof rc->url, "%s/tokenize", base);
    rc->model_name = model_name ? strdup(model_name) : NULL;
    rc->timeout = timeout;
    rc->headers = backend_headers();
    if ((model_name && !rc->model_name) || !rc->headers) {
        curl_slist_free_all(rc->headers);
        free(rc->model_name);
        free(rc);
        return lcx_errf(err, LCX_ENOMEM, "--remote-tokenize: out of memory");
    }
    pthread_mutex_init(&rc->lock, NULL);
    *out = rc;
    /* Find the form now, so a server without /tokenize fails before any work. */
    if (count_remote(rc, "lcx", 3) == SIZE_MAX)
        return remote_count_error(rc, err);
    return 0;
}

void remote_count_close(remote_counter *rc)
{
    if (!rc)
        return;
    curl_slist_free_all(rc->headers);
    free(rc->model_name);
    pthread_mutex_destroy(&rc->lock);
    free(rc);
}

lcx_counter remote_count_counter(remote_counter *rc)
{
    lcx_counter c = {"remote /tokenize", count_remote, rc};
    return c;
}

int remote_count_error(remote_counter *rc, lcx_err *err)
{
    pthread_mutex_lock(&rc->lock);
    int code = rc->error.code;
    if (code && err)
        *err = rc->error;
    pthread_mutex_unlock(&rc->lock);
    return code;
}

const char *remote_count_form(const remote_counter *rc)
{
    return rc->form == FORM_VLLM ? "vllm" : rc->form == FORM_LLAMACPP ? "llamacpp" : "unknown";
}
