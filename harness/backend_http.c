/* backend_http.c: remote models over HTTP through libcurl's multi interface:
 * OpenAI-compatible /v1/completions and /v1/chat/completions, and
 * llama.cpp's /completion. Up to `concurrency` requests in flight, a timeout
 * per request, and retries with capped exponential backoff and jitter on
 * 429, 5xx, timeouts, connection errors and malformed replies, honouring
 * Retry-After (docs/model.md, "Remote APIs"). Several endpoints are
 * replicas of one model: each request goes to the replica with the fewest
 * outstanding requests (up to `concurrency` each), and a replica that fails
 * is set aside for a while, its requests retried at once on the others. */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/progress.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "harness/backend_http.h"
#include "harness/http.h"
#include "harness/serve_api.h"

enum { PREFIX_ASSISTANT = 0, PREFIX_USER = 1 };

/* One server of the replica set. */
typedef struct replica {
    char base[2048];        /* endpoint without a trailing '/' */
    char url[2300];         /* the generation URL */
    char model[512];        /* data[0].id of its GET /v1/models ("" unknown) */
    int outstanding;        /* requests in flight to it */
    long served;            /* answers it gave (requests done) */
    long failed;            /* attempts that failed on it */
    long set_asides;        /* times it was set aside */
    int in_a_row;           /* failed attempts since its last answer */
    int said_down;          /* a note said it is set aside (until it answers again) */
    double down_until;      /* lcx_now() time before which it gets no request */
    char last_error[160];   /* why its last attempt failed */
} replica;

enum { REPLICA_FAILS_IN_A_ROW = 3 };

struct http_backend {
    lcx_backend_opts o;
    replica *reps;
    int n_reps;
    struct curl_slist *headers;
    CURLM *multi;
    lcx_rng jitter;
    int prefix_mode;        /* chat: answer prefix as assistant prefill, or appended to the user turn */
    int prefix_mode_known;
    size_t prefix_echoes;   /* chat replies that repeated the prefilled prefix (removed) */
    char model_from_server[512]; /* data[0].id of GET /v1/models when no --model-name */
    int rope_confirm;       /* every reply must state the RoPE it used (lcx_backend_http_set_rope) */
    long answers, lcx_answers; /* answers, and those carrying lcx serve's "lcx" object */
};

static const char *const *endpoint_list(const lcx_backend_opts *o, int *n)
{
    *n = o->n_endpoints > 0 ? o->n_endpoints : 1;
    return o->n_endpoints > 0 ? o->endpoints : &o->endpoint;
}

static const char *api_name(lcx_api a)
{
    return a == API_CHAT ? "chat" : a == API_LLAMACPP ? "llamacpp" : "completions";
}

static size_t write_body(char *data, size_t size, size_t n, void *arg)
{
    strbuf *sb = arg;
    sb_append(sb, data, size * n);
    return sb->oom ? 0 : size * n;
}

/* ---- one request slot ---------------------------------------------------- */

typedef struct work work;

typedef struct slot {
    CURL *easy;
    work *w;             /* the request in this slot, NULL when idle */
    int rep;             /* the replica it went to */
    strbuf body, reply;
    double retry_after;  /* seconds from the last reply's Retry-After, or -1 */
    double started;
} slot;

static size_t read_header(char *data, size_t size, size_t n, void *arg)
{
    slot *s = arg;
    size_t len = size * n;
    if (len > 12 && !strncasecmp(data, "Retry-After:", 12)) {
        char value[128];
        size_t vlen = len - 12 < sizeof value - 1 ? len - 12 : sizeof value - 1;
        memcpy(value, data + 12, vlen);
        value[vlen] = '\0';
        char *end;
        double secs = strtod(value, &end);
        if (end != value) {
            s->retry_after = secs;
        } else {
            time_t when = curl_getdate(value, NULL);
            if (when > 0)
                s->retry_after = difftime(when, time(NULL));
        }
        if (s->retry_after < 0)
            s->retry_after = 0;
    }
    return len;
}

/* ---- request bodies and replies ------------------------------------------ */

static char *request_body(const http_backend *b, const lcx_request *r, int prefix_mode)
{
    json_t *o = json_object();
    if (b->o.model_name)
        json_object_set_new(o, "model", json_string(b->o.model_name));
    strbuf full;
    sb_init(&full);
    sb_puts(&full, r->input);
    sb_puts(&full, r->answer_prefix);
    if (b->o.api == API_CHAT) {
        json_t *msgs = json_array(), *user = json_object();
        json_object_set_new(user, "role", json_string("user"));
        json_object_set_new(user, "content",
                            json_string(prefix_mode == PREFIX_USER ? sb_str(&full) : r->input));
        json_array_append_new(msgs, user);
        /* No answer prefix (--no-answer-prefix): the user turn alone, the
         * server opens the assistant turn. */
        if (prefix_mode == PREFIX_ASSISTANT && r->answer_prefix[0]) {
            json_t *asst = json_object();
            json_object_set_new(asst, "role", json_string("assistant"));
            json_object_set_new(asst, "content", json_string(r->answer_prefix));
            json_array_append_new(msgs, asst);
            /* vLLM / SGLang: continue the final assistant message */
            json_object_set_new(o, "continue_final_message", json_true());
            json_object_set_new(o, "add_generation_prompt", json_false());
        }
        json_object_set_new(o, "messages", msgs);
        json_object_set_new(o, "max_tokens", json_integer(r->max_tokens));
    } else if (b->o.api == API_LLAMACPP) {
        json_object_set_new(o, "prompt", json_string(sb_str(&full)));
        json_object_set_new(o, "n_predict", json_integer(r->max_tokens));
        json_object_set_new(o, "cache_prompt", json_false());
    } else {
        json_object_set_new(o, "prompt", json_string(sb_str(&full)));
        json_object_set_new(o, "max_tokens", json_integer(r->max_tokens));
    }
    json_object_set_new(o, "temperature", json_real(b->o.temperature));
    json_object_set_new(o, "seed", json_integer((json_int_t)b->o.seed));
    /* RoPE options: lcx serve's per-request RoPE (docs/serve.md) */
    lcx_serve_rope_request_fields(&b->o.rope, o);
    sb_free(&full);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static long json_long(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

/* lcx_backend_http_parse_reply on the parsed body (a JSON object). */
static int reply_fields(lcx_api api, json_t *root, lcx_response *resp, lcx_err *err)
{
    const char *text = NULL, *finish = NULL;
    if (api == API_LLAMACPP) {
        json_t *c = json_object_get(root, "content");
        text = json_is_string(c) ? json_string_value(c) : NULL;
        resp->prompt_tokens = json_long(root, "tokens_evaluated");
        resp->output_tokens = json_long(root, "tokens_predicted");
        json_t *st = json_object_get(root, "stop_type");
        if (json_is_string(st))
            finish = !strcmp(json_string_value(st), "limit") ? "length" : "stop";
        else if (json_is_true(json_object_get(root, "stopped_limit")))
            finish = "length";
        else
            finish = "stop";
    } else {
        json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
        json_t *c = api == API_CHAT ? json_object_get(json_object_get(choice, "message"), "content")
                                    : json_object_get(choice, "text");
        text = json_is_string(c) ? json_string_value(c) : NULL;
        json_t *f = json_object_get(choice, "finish_reason");
        finish = json_is_string(f) ? json_string_value(f) : "unknown";
        json_t *usage = json_object_get(root, "usage");
        resp->prompt_tokens = json_long(usage, "prompt_tokens");
        resp->output_tokens = json_long(usage, "completion_tokens");
    }
    int rc;
    if (!text) {
        rc = lcx_errf(err, LCX_EINPUT, "reply: no string field '%s'",
                      api == API_LLAMACPP ? "content"
                      : api == API_CHAT   ? "choices[0].message.content"
                                          : "choices[0].text");
    } else {
        resp->text = strdup(text);
        snprintf(resp->finish_reason, sizeof resp->finish_reason, "%s", finish);
        /* Cut a long reason at a character boundary: run records hold it
         * as a JSON string, which must be valid UTF-8. */
        size_t bad;
        if (!lcx_utf8_valid(resp->finish_reason, strlen(resp->finish_reason), &bad))
            resp->finish_reason[bad] = '\0';
        rc = resp->text ? 0 : lcx_errf(err, LCX_ENOMEM, "reply: out of memory");
    }
    return rc;
}

/* The body as a JSON object (NULL, with err filled, when it is not one). */
static json_t *reply_root(const char *body, size_t len, lcx_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!json_is_object(root)) {
        lcx_errf(err, LCX_EINPUT, "reply: %s", root ? "not a JSON object" : je.text);
        json_decref(root);
        return NULL;
    }
    return root;
}

int lcx_backend_http_parse_reply(lcx_api api, const char *body, size_t len, lcx_response *resp,
                                 lcx_err *err)
{
    json_t *root = reply_root(body, len, err);
    if (!root)
        return err ? err->code : LCX_EINPUT;
    int rc = reply_fields(api, root, resp, err);
    json_decref(root);
    return rc;
}

int lcx_backend_http_parse_models(const char *body, size_t len, char *model, size_t size,
                                  lcx_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    json_t *id = json_object_get(json_array_get(json_object_get(root, "data"), 0), "id");
    int rc = 0;
    if (!json_is_string(id))
        rc = lcx_errf(err, LCX_EINPUT, "/v1/models reply: no string field 'data[0].id'");
    else if (json_string_length(id) >= size)
        rc = lcx_errf(err, LCX_EINPUT, "/v1/models reply: 'data[0].id' is longer than %zu bytes",
                      size ? size - 1 : 0);
    else
        snprintf(model, size, "%s", json_string_value(id));
    json_decref(root);
    return rc;
}

/* ---- open / close ---------------------------------------------------------- */

/* GET /health (llama.cpp) or /v1/models of a replica: 0 when it answers
 * at all; an OpenAI-style server's model name goes to r->model. */
static int check_reachable(http_backend *b, replica *r, lcx_err *err)
{
    CURL *c = curl_easy_init();
    if (!c)
        return lcx_errf(err, LCX_EINTERNAL, "curl_easy_init failed");
    char url[2400];
    snprintf(url, sizeof url, "%s%s", r->base, b->o.api == API_LLAMACPP ? "/health" : "/v1/models");
    strbuf sink;
    sb_init(&sink);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, b->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(1000 * (b->o.timeout < 10 ? b->o.timeout : 10)));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    /* OpenAI-style servers name their model: requests then carry it, and
     * run.json records it. */
    if (cc == CURLE_OK && status == 200 && b->o.api != API_LLAMACPP &&
        lcx_backend_http_parse_models(sb_str(&sink), sink.len, r->model, sizeof r->model, NULL))
        r->model[0] = '\0';
    sb_free(&sink);
    if (cc != CURLE_OK)
        return lcx_errf(err, LCX_EINPUT, "endpoint %s is unreachable: %s", r->base,
                        curl_easy_strerror(cc));
    return 0;
}

/* Every replica is asked first: those that do not answer are set aside
 * (said on stderr), and the run goes on with the others; all of them
 * down is an error. Replicas must serve one model. */
static int check_replicas(http_backend *b, lcx_err *err)
{
    int up = 0;
    lcx_err first = {0};
    for (int i = 0; i < b->n_reps; i++) {
        replica *r = &b->reps[i];
        lcx_err e = {0};
        if (check_reachable(b, r, &e)) {
            if (!first.code)
                first = e;
            snprintf(r->last_error, sizeof r->last_error, "%.150s", e.msg);
            r->down_until = lcx_now() + b->o.replica_cooldown;
            r->set_asides++;
            r->in_a_row = 1; /* after the cooldown: one request, to see if it is back */
            continue;
        }
        up++;
        if (b->o.model_name || !r->model[0])
            continue;
        if (!b->model_from_server[0])
            snprintf(b->model_from_server, sizeof b->model_from_server, "%s", r->model);
        else if (strcmp(b->model_from_server, r->model))
            return lcx_errf(err, LCX_EINPUT, "replicas serve different models: '%s' and '%s' (at %s); "
                            "give --model-name or one model's endpoints", b->model_from_server,
                            r->model, r->base);
    }
    if (!up) {
        if (b->n_reps == 1)
            return *err = first, first.code;
        return lcx_errf(err, LCX_EINPUT, "every endpoint is unreachable (%d replicas; first: %s)",
                        b->n_reps, first.msg);
    }
    for (int i = 0; i < b->n_reps; i++)
        if (b->reps[i].set_asides && (b->reps[i].said_down = 1) && !b->o.quiet)
            fprintf(stderr, "lcx: %s; set aside for %g s, the other replicas go on\n",
                    b->reps[i].last_error, b->o.replica_cooldown);
    if (!b->o.model_name && b->model_from_server[0])
        b->o.model_name = b->model_from_server;
    return 0;
}

int lcx_backend_http_open(const lcx_backend_opts *o, http_backend **out, lcx_err *err)
{
    *out = NULL;
    int n;
    const char *const *urls = endpoint_list(o, &n);
    for (int i = 0; i < n; i++) {
        if (!urls[i] || !urls[i][0])
            return lcx_errf(err, LCX_EINPUT, "--endpoint: an empty URL");
        if (strncmp(urls[i], "http://", 7) && strncmp(urls[i], "https://", 8))
            return lcx_errf(err, LCX_EINPUT, "--endpoint %s: expected an http:// or https:// URL",
                            urls[i]);
        if (strlen(urls[i]) >= 2000)
            return lcx_errf(err, LCX_EINPUT, "--endpoint: URL too long");
    }
    http_backend *b = calloc(1, sizeof *b);
    if (!b || !(b->reps = calloc((size_t)n, sizeof *b->reps))) {
        free(b);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    b->o = *o;
    b->n_reps = n;
    if (!(b->o.replica_cooldown > 0))
        b->o.replica_cooldown = 30;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        replica *r = &b->reps[i];
        lcx_http_base_url(urls[i], r->base, sizeof r->base);
        snprintf(r->url, sizeof r->url, "%s%s", r->base,
                 o->api == API_CHAT       ? "/v1/chat/completions"
                 : o->api == API_LLAMACPP ? "/completion"
                                          : "/v1/completions");
        for (int j = 0; j < i && !rc; j++)
            if (!strcmp(b->reps[j].base, r->base))
                rc = lcx_errf(err, LCX_EINPUT, "--endpoint %s is given twice", r->base);
    }
    b->o.endpoint = b->reps[0].base;
    b->o.endpoints = NULL;
    b->o.n_endpoints = 0;
    b->headers = lcx_http_headers();
    b->multi = curl_multi_init();
    lcx_rng_seed(&b->jitter, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
    if (!rc)
        rc = b->multi && b->headers ? check_replicas(b, err)
                                    : lcx_errf(err, LCX_EINTERNAL, "curl setup failed");
    if (rc) {
        lcx_backend_http_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

void lcx_backend_http_close(http_backend *b)
{
    if (!b)
        return;
    if (b->multi)
        curl_multi_cleanup(b->multi);
    curl_slist_free_all(b->headers);
    free(b->reps);
    free(b);
}

json_t *lcx_backend_http_describe(const http_backend *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("remote"));
    json_object_set_new(o, "endpoint", json_string(b->reps[0].base));
    if (b->n_reps > 1) {
        json_t *reps = json_array();
        for (int i = 0; i < b->n_reps; i++) {
            const replica *r = &b->reps[i];
            json_array_append_new(reps, json_pack("{s:s, s:I, s:I, s:I}", "url", r->base, "served",
                                                  (json_int_t)r->served, "failed_attempts",
                                                  (json_int_t)r->failed, "set_aside",
                                                  (json_int_t)r->set_asides));
        }
        json_object_set_new(o, "endpoints", reps);
    }
    json_object_set_new(o, "api", json_string(api_name(b->o.api)));
    json_object_set_new(o, "model_name", b->o.model_name ? json_string(b->o.model_name) : json_null());
    json_object_set_new(o, "temperature", json_real(b->o.temperature));
    if (b->o.api == API_CHAT)
        json_object_set_new(o, "answer_prefix_sent_as",
                            !b->prefix_mode_known ? json_null()
                            : json_string(b->prefix_mode == PREFIX_ASSISTANT ? "assistant prefill"
                                                                             : "end of user turn"));
    json_t *rope = json_object();
    if (lcx_serve_rope_request_fields(&b->o.rope, rope))
        json_object_set_new(o, "rope_request", rope);
    else
        json_decref(rope);
    if (b->o.api == API_CHAT && b->prefix_echoes)
        json_object_set_new(o, "answer_prefix_echoed", json_integer((json_int_t)b->prefix_echoes));
    return o;
}

/* ---- the request loop ------------------------------------------------------ */

/* A request between next() and done(): in a slot, or waiting to retry. */
struct work {
    lcx_request req;
    lcx_response resp;
    int attempts;
    double not_before; /* lcx_now() time of the next attempt */
    int sent_mode;     /* chat: how the answer prefix went out on the last attempt */
    int last_rep;      /* the replica of the last attempt, -1 before the first */
};

static void start_slot(http_backend *b, slot *s, work *w, int rep)
{
    sb_clear(&s->reply);
    sb_clear(&s->body);
    w->sent_mode = b->prefix_mode;
    char *body = request_body(b, &w->req, b->prefix_mode);
    sb_puts(&s->body, body ? body : "");
    free(body);
    w->attempts++;
    w->last_rep = rep;
    b->reps[rep].outstanding++;
    s->w = w;
    s->rep = rep;
    s->retry_after = -1;
    s->started = lcx_now();
    CURL *c = s->easy;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, b->reps[rep].url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, b->headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, sb_str(&s->body));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s->reply);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(b->o.timeout * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    curl_multi_add_handle(b->multi, c);
}

static int retryable_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Seconds to wait before attempt `attempt + 1`: Retry-After when the server
 * sent one, else --backoff (0.5 s) doubling per attempt, capped at
 * --backoff-max (30 s), with jitter (a uniform factor in [0.5, 1]). */
static double backoff(http_backend *b, int attempt, double retry_after)
{
    if (retry_after >= 0)
        return retry_after < 300 ? retry_after : 300;
    double d = b->o.backoff * pow(2.0, attempt - 1);
    if (d > b->o.backoff_max)
        d = b->o.backoff_max;
    return d * (0.5 + 0.5 * lcx_rng_double(&b->jitter));
}

typedef enum { OUTCOME_DONE, OUTCOME_RETRY, OUTCOME_FAILED, OUTCOME_SWITCH_PREFIX, OUTCOME_FATAL } outcome;

int lcx_backend_http_deterministic(const http_backend *b)
{
    if (b->o.temperature > 0)
        return 0;
    return b->answers > 0 && b->lcx_answers == b->answers ? 1 : -1;
}

int lcx_backend_http_set_rope(http_backend *b, const lcx_rope_opts *rope, lcx_err *err)
{
    if (rope->factor_auto)
        return lcx_errf(err, LCX_EINPUT, "--yarn-factor auto goes with a local --model");
    b->o.rope = *rope;
    b->rope_confirm = 1;
    return 0;
}

/* lcx_backend_http_set_rope: the reply's "lcx.rope" (lcx serve; lcx is
 * that object of the reply, or NULL) must be the RoPE asked for; a server
 * that does not say, or used another, would make every setting of a sweep
 * the same. */
static int rope_confirmed(const http_backend *b, json_t *lcx, char *why, size_t why_size)
{
    json_t *rope = json_object_get(lcx, "rope");
    double f = json_number_value(json_object_get(rope, "factor"));
    double t = json_number_value(json_object_get(rope, "attention_temperature"));
    int ok = 1;
    if (!json_is_object(rope)) {
        snprintf(why, why_size, "the server at %.200s does not say which RoPE it used (no 'lcx.rope' in "
                 "its reply): per-request RoPE needs lcx serve; for other servers use lcx sweep "
                 "--launch", b->reps[0].base);
        ok = 0;
    } else if ((b->o.rope.factor > 0 && fabs(f - b->o.rope.factor) > 1e-9 * b->o.rope.factor) ||
               (b->o.rope.temperature > 0 && fabs(t - b->o.rope.temperature) > 1e-9 * b->o.rope.temperature)) {
        snprintf(why, why_size, "the server used RoPE factor %g, attention temperature %g, where "
                 "%g and %g were asked", f, t, b->o.rope.factor > 0 ? b->o.rope.factor : f,
                 b->o.rope.temperature > 0 ? b->o.rope.temperature : t);
        ok = 0;
    }
    return ok;
}

/* The server, not the request, failed: *fault is 2 for a connection that
 * could not be made or broke (the replica is set aside at once), 1 for a
 * 5xx, a timeout or a malformed reply (set aside after a few in a row), 0
 * otherwise (an answer, 429 "busy", or a request the server refused).
 * *from_lcx: the answer came from lcx serve (its "lcx" object). */
static outcome judge(http_backend *b, slot *s, CURLcode cc, lcx_response *resp, char *why,
                     size_t why_size, int *fault, int *from_lcx)
{
    *from_lcx = 0;
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    resp->latency = lcx_now() - s->started;
    *fault = 0;
    if (cc != CURLE_OK) {
        snprintf(why, why_size, "%s", curl_easy_strerror(cc));
        *fault = cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_PARTIAL_FILE ? 1
                 : retryable_curl(cc)                                       ? 2
                                                                            : 0;
        return retryable_curl(cc) ? OUTCOME_RETRY : OUTCOME_FAILED;
    }
    if (status == 200) {
        /* The body is parsed once: the answer, and what lcx serve adds. */
        json_t *root = reply_root(sb_str(&s->reply), s->reply.len, NULL);
        if (root && reply_fields(b->o.api, root, resp, NULL) == 0) {
            json_t *lcx = json_object_get(root, "lcx");
            *from_lcx = json_is_object(lcx);
            outcome oc = !b->rope_confirm || rope_confirmed(b, lcx, why, why_size) ? OUTCOME_DONE
                                                                                 : OUTCOME_FATAL;
            json_decref(root);
            return oc;
        }
        json_decref(root);
        snprintf(why, why_size, "malformed reply (%zu bytes)", s->reply.len);
        *fault = 1;
        return OUTCOME_RETRY;
    }
    snprintf(why, why_size, "HTTP %ld: %.200s", status, sb_str(&s->reply));
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (status >= 500)
        *fault = 1;
    if (status == 429 || status >= 500)
        return OUTCOME_RETRY;
    if (b->o.api == API_CHAT && b->prefix_mode == PREFIX_ASSISTANT && !b->prefix_mode_known &&
        (status == 400 || status == 422))
        return OUTCOME_SWITCH_PREFIX;
    return OUTCOME_FAILED;
}

/* Finish a request for good: an answer, or a recorded error. */
static int finish(http_backend *b, work *w, outcome oc, const char *why, lcx_done_fn done,
                  void *arg, lcx_err *err)
{
    w->resp.attempts = w->attempts;
    int rc = 0;
    if (oc != OUTCOME_DONE) {
        strbuf e;
        sb_init(&e);
        sb_printf(&e, "%s (after %d attempt%s)", why, w->attempts, w->attempts == 1 ? "" : "s");
        free(w->resp.error);
        w->resp.error = sb_take(&e);
        lcx_http_scrub_key(w->resp.error);
        free(w->resp.text);
        w->resp.text = NULL;
        /* A malformed reply may have carried counts: a failed request has none. */
        w->resp.prompt_tokens = w->resp.output_tokens = -1;
        if (b->o.fail_fast)
            rc = lcx_errf(err, LCX_EIO, "a request failed for good (--fail-fast): %s", w->resp.error);
    }
    /* Some servers (llama-server) return a prefilled assistant message with
     * its continuation; vLLM and SGLang return the continuation alone. A
     * leading copy of the prefix is removed, so predictions mean the same. */
    const char *ap = w->req.answer_prefix;
    size_t apn = ap ? strlen(ap) : 0;
    if (!rc && oc == OUTCOME_DONE && b->o.api == API_CHAT && w->sent_mode == PREFIX_ASSISTANT && apn &&
        w->resp.text && !strncmp(w->resp.text, ap, apn)) {
        memmove(w->resp.text, w->resp.text + apn, strlen(w->resp.text + apn) + 1);
        b->prefix_echoes++;
    }
    if (!rc)
        rc = done(arg, &w->req, &w->resp, err);
    else
        lcx_response_free(&w->resp);
    free(w);
    return rc;
}

/* The replica for a request: not set aside, below its concurrency (one
 * request while a set-aside replica is tried again), the fewest
 * outstanding, then the fewest served; `avoid` (where the request just
 * failed) only when no other will do. -1 when none can take it now. */
static int pick_replica(const http_backend *b, double now, int avoid, int conc)
{
    int best = -1;
    for (int i = 0; i < b->n_reps; i++) {
        const replica *r = &b->reps[i];
        int cap = r->set_asides && r->in_a_row ? 1 : conc;
        if (r->down_until > now || r->outstanding >= cap)
            continue;
        if (best >= 0) {
            const replica *q = &b->reps[best];
            if ((i == avoid) != (best == avoid)) {
                if (best == avoid)
                    best = i;
                continue;
            }
            if (r->outstanding > q->outstanding ||
                (r->outstanding == q->outstanding && r->served >= q->served))
                continue;
        }
        best = i;
    }
    return best;
}

static int replicas_up(const http_backend *b, double now)
{
    int n = 0;
    for (int i = 0; i < b->n_reps; i++)
        n += b->reps[i].down_until <= now;
    return n;
}

/* An attempt on replica r failed by the server's fault: after a broken
 * connection, or REPLICA_FAILS_IN_A_ROW failures in a row, it is set
 * aside (with replicas; one endpoint is retried as before). */
static void replica_failed(http_backend *b, replica *r, int fault, const char *why)
{
    r->failed++;
    r->in_a_row++;
    snprintf(r->last_error, sizeof r->last_error, "%.150s", why);
    if (b->n_reps == 1 || (fault < 2 && r->in_a_row < REPLICA_FAILS_IN_A_ROW) ||
        r->down_until > lcx_now())
        return;
    r->down_until = lcx_now() + b->o.replica_cooldown;
    r->set_asides++;
    if (!b->o.quiet && !r->said_down)
        fprintf(stderr, "\nlcx: endpoint %s set aside for %g s (%s); its requests go to the other "
                "replicas, and it is tried again after that\n", r->base, b->o.replica_cooldown, why);
    r->said_down = 1;
}

int lcx_backend_http_run(http_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg,
                         lcx_err *err)
{
    int conc = b->o.concurrency > 0 ? b->o.concurrency : 1;
    int total = conc * b->n_reps; /* request slots: `concurrency` per replica */
    slot *slots = calloc((size_t)total, sizeof *slots);
    work **waiting = calloc((size_t)total, sizeof *waiting); /* requests waiting to retry */
    if (!slots || !waiting) {
        free(slots);
        free(waiting);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    int rc = 0, in_flight = 0, n_waiting = 0, exhausted = 0;
    for (int k = 0; k < total; k++) {
        sb_init(&slots[k].body);
        sb_init(&slots[k].reply);
        if (!rc && !(slots[k].easy = curl_easy_init()))
            rc = lcx_errf(err, LCX_EINTERNAL, "curl_easy_init failed (request slot %d of %d)",
                          k + 1, total);
    }
    /* Until the chat prefix mode is known, one request at a time. */
    int limit = b->o.api == API_CHAT && !b->prefix_mode_known ? 1 : total;
    while (!rc && (!exhausted || in_flight || n_waiting)) {
        double now = lcx_now(), next_due = now + 0.1;
        int up = replicas_up(b, now);
        /* Fill idle slots: due retries first, then new work, keeping at most
         * `concurrency` requests per replica that is up outstanding (in
         * flight or waiting). */
        for (int k = 0; !rc && k < total && in_flight < limit; k++) {
            if (slots[k].w)
                continue;
            work *w = NULL;
            int rep = -1;
            for (int q = 0; q < n_waiting && !w; q++)
                if (waiting[q]->not_before <= now &&
                    (rep = pick_replica(b, now, waiting[q]->last_rep, conc)) >= 0) {
                    w = waiting[q];
                    waiting[q] = waiting[--n_waiting];
                }
            if (!w && !exhausted && in_flight + n_waiting < conc * (up ? up : 1) &&
                (rep = pick_replica(b, now, -1, conc)) >= 0) {
                w = calloc(1, sizeof *w);
                if (w) { /* unknown until a reply says (backend.h) */
                    w->resp.prompt_tokens = w->resp.output_tokens = -1;
                    w->last_rep = -1;
                }
                int got = w ? next(arg, &w->req, err) : lcx_errf(err, LCX_ENOMEM, "out of memory");
                if (got != 1) { /* 0: no more; else an error code */
                    free(w);
                    w = NULL;
                    exhausted = 1;
                    rc = got;
                }
            }
            if (!w)
                break;
            start_slot(b, &slots[k], w, rep);
            in_flight++;
        }
        for (int q = 0; q < n_waiting; q++)
            if (waiting[q]->not_before < next_due)
                next_due = waiting[q]->not_before;
        int running;
        curl_multi_perform(b->multi, &running);
        int wait_ms = (int)((next_due - lcx_now()) * 1000);
        curl_multi_poll(b->multi, NULL, 0, wait_ms > 0 ? (wait_ms < 100 ? wait_ms : 100) : 0, NULL);
        curl_multi_perform(b->multi, &running);
        CURLMsg *msg;
        int left;
        while (!rc && (msg = curl_multi_info_read(b->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            slot *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode cc = msg->data.result;
            curl_multi_remove_handle(b->multi, s->easy);
            in_flight--;
            work *w = s->w;
            replica *r = &b->reps[s->rep];
            r->outstanding--;
            s->w = NULL;
            char why[512];
            int fault, from_lcx;
            outcome oc = judge(b, s, cc, &w->resp, why, sizeof why, &fault, &from_lcx);
            if (oc == OUTCOME_FATAL) {
                rc = lcx_errf(err, LCX_EINPUT, "%s", why);
                lcx_response_free(&w->resp);
                free(w);
                break;
            }
            if (oc == OUTCOME_SWITCH_PREFIX) {
                /* The server refused the assistant prefill: append the
                 * prefix to the user turn from now on. */
                b->prefix_mode = PREFIX_USER;
                b->prefix_mode_known = 1;
                limit = total;
                w->attempts--;
                w->not_before = 0;
                waiting[n_waiting++] = w;
                continue;
            }
            if (oc == OUTCOME_DONE) {
                b->answers++;
                b->lcx_answers += from_lcx;
                r->served++;
                r->in_a_row = 0;
                if (r->said_down && !b->o.quiet)
                    fprintf(stderr, "\nlcx: endpoint %s answers again\n", r->base);
                r->said_down = 0;
                if (b->n_reps > 1)
                    w->resp.endpoint = r->base;
                if (b->o.api == API_CHAT && !b->prefix_mode_known) {
                    b->prefix_mode_known = 1;
                    limit = total;
                }
            }
            if (fault)
                replica_failed(b, r, fault, why);
            if (oc == OUTCOME_RETRY && w->attempts <= b->o.max_retries) {
                /* Another replica takes it at once; the same one after
                 * the backoff. */
                now = lcx_now();
                int other = replicas_up(b, now) - (r->down_until <= now) > 0;
                w->not_before = other && fault ? now : now + backoff(b, w->attempts, s->retry_after);
                waiting[n_waiting++] = w;
                continue;
            }
            if (oc == OUTCOME_RETRY && b->n_reps > 1 && !replicas_up(b, lcx_now())) {
                /* Every replica is down: stop (what is recorded stays; the
                 * rest is asked again on the rerun) rather than record
                 * the remaining samples as failures. */
                rc = lcx_errf(err, LCX_EINPUT, "every endpoint is down (%d replicas; last: %s: %s); "
                              "rerun the same command to resume", b->n_reps, r->base, r->last_error);
                lcx_response_free(&w->resp);
                free(w);
                break;
            }
            rc = finish(b, w, oc, why, done, arg, err);
        }
    }
    for (int k = 0; k < total; k++) {
        if (slots[k].w) {
            curl_multi_remove_handle(b->multi, slots[k].easy);
            b->reps[slots[k].rep].outstanding--;
            lcx_response_free(&slots[k].w->resp);
            free(slots[k].w);
        }
        if (slots[k].easy)
            curl_easy_cleanup(slots[k].easy);
        sb_free(&slots[k].body);
        sb_free(&slots[k].reply);
    }
    for (int q = 0; q < n_waiting; q++) {
        lcx_response_free(&waiting[q]->resp);
        free(waiting[q]);
    }
    free(slots);
    free(waiting);
    return rc;
}
