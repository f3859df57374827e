/* test_backend.c: harness/backend*.c and harness/remote_count.c: a failed
 * request's token counts are unknown (-1), a session length that does not
 * fit the engine's int is an error, and a curl_easy_init that fails is an
 * error wherever curl handles are made.
 *
 * curl_easy_init and curl_easy_perform are replaced here (the program's
 * definitions take precedence over libcurl's for the library code linked
 * in): the first fails once a count of successes runs out, the second
 * answers without a network, so an endpoint "is reachable". */
#include <curl/curl.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "harness/backend.h"
#include "harness/backend_local.h"
#include "harness/remote_count.h"

/* curl_easy_init calls that still succeed; -1: all of them. Test-only state. */
static int easy_inits_left = -1;

CURL *curl_easy_init(void)
{
    if (easy_inits_left == 0)
        return NULL;
    if (easy_inits_left > 0)
        easy_inits_left--;
    CURL *(*real)(void);
    void *sym = dlsym(RTLD_NEXT, "curl_easy_init");
    memcpy(&real, &sym, sizeof real);
    return sym ? real() : NULL;
}

CURLcode curl_easy_perform(CURL *c)
{
    (void)c;
    return CURLE_OK; /* no reply: HTTP status 0 */
}

/* ---- requests handed out by a test ---- */

typedef struct feed {
    int max_tokens;
    int to_send, nexts, dones;
    long prompt_tokens, output_tokens;
    int had_error;
} feed;

static int feed_next(void *arg, lcx_request *req, lcx_err *err)
{
    (void)err;
    feed *f = arg;
    f->nexts++;
    if (!f->to_send)
        return 0;
    f->to_send--;
    memset(req, 0, sizeof *req);
    req->input = "Hello";
    req->answer_prefix = " world";
    req->max_tokens = f->max_tokens;
    req->length = 64;
    return 1;
}

static int feed_done(void *arg, const lcx_request *req, lcx_response *resp, lcx_err *err)
{
    (void)req;
    (void)err;
    feed *f = arg;
    f->dones++;
    f->prompt_tokens = resp->prompt_tokens;
    f->output_tokens = resp->output_tokens;
    f->had_error = resp->error != NULL;
    lcx_response_free(resp);
    return 0;
}

TEST(session_len_checks_the_int_range)
{
    int n = -7;
    lcx_err err = {0};
    CHECK_INT(lcx_backend_local_session_len(10, 5, &n, &err), 0);
    CHECK_INT(n, 16);
    CHECK_INT(lcx_backend_local_session_len((size_t)INT_MAX - 1, 0, &n, &err), 0);
    CHECK_INT(n, INT_MAX);
    /* (int)(n + max_tokens + 1) would wrap to a negative or small length */
    CHECK_INT(lcx_backend_local_session_len((size_t)INT_MAX, 0, &n, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "prompt of 2147483647 tokens plus 0 to generate needs more than") != NULL);
    CHECK_INT(n, 0);
    CHECK_INT(lcx_backend_local_session_len(100, INT_MAX, &n, &err), LCX_EINPUT);
    CHECK_INT(lcx_backend_local_session_len((size_t)1 << 32, 10, &n, &err), LCX_EINPUT);
    CHECK_INT(lcx_backend_local_session_len(SIZE_MAX, 1, &n, &err), LCX_EINPUT);
    CHECK_INT(lcx_backend_local_session_len(3, -1, &n, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "max_tokens -1 is negative") != NULL);
}

/* A prompt the local engine refuses is recorded as an error with unknown
 * counts (-1, written as null), not 0 tokens. */
TEST(local_failed_request_has_unknown_counts)
{
    lcx_backend_opts o;
    memset(&o, 0, sizeof o);
    lcx_rope_opts_init(&o.rope);
    o.model_dir = "tests/fixtures/run_model";
    lcx_backend *b = NULL;
    lcx_err err = {0};
    int rc = lcx_backend_open(&o, &b, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc)
        return;
    /* A prompt plus INT_MAX tokens to generate: more positions than an int. */
    feed f = {.max_tokens = INT_MAX, .to_send = 1, .prompt_tokens = 99, .output_tokens = 99};
    CHECK_INT(lcx_backend_run(b, feed_next, feed_done, &f, &err), 0);
    CHECK_INT(f.dones, 1);
    CHECK(f.had_error);
    CHECK_INT(f.prompt_tokens, -1);
    CHECK_INT(f.output_tokens, -1);
    /* The same backend answers a sane request with known counts. */
    f = (feed){.max_tokens = 2, .to_send = 1, .prompt_tokens = -5, .output_tokens = -5};
    CHECK_INT(lcx_backend_run(b, feed_next, feed_done, &f, &err), 0);
    CHECK(!f.had_error);
    CHECK(f.prompt_tokens > 0);
    CHECK(f.output_tokens >= 0 && f.output_tokens <= 2);
    lcx_backend_close(b);
}

TEST(http_curl_easy_init_failures_are_errors)
{
    lcx_backend_opts o;
    memset(&o, 0, sizeof o);
    lcx_rope_opts_init(&o.rope);
    o.endpoint = "http://127.0.0.1:9";
    o.api = API_COMPLETIONS;
    o.model_name = "m";
    o.concurrency = 4;
    o.timeout = 1;
    lcx_backend *b = NULL;
    lcx_err err = {0};

    /* Opening: the multi handle (libcurl may make an easy handle inside
     * curl_multi_init) or the reachability check's handle. */
    easy_inits_left = 0;
    CHECK_INT(lcx_backend_open(&o, &b, &err), LCX_EINTERNAL);
    CHECK_MSG(strstr(err.msg, "curl") != NULL, "%s", err.msg);
    CHECK(b == NULL);

    /* Running: the request slots' handles; the third of four fails. */
    easy_inits_left = -1;
    lcx_err_clear(&err);
    int rc = lcx_backend_open(&o, &b, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (!rc) {
        feed f = {.max_tokens = 4, .to_send = 1};
        easy_inits_left = 2;
        CHECK_INT(lcx_backend_run(b, feed_next, feed_done, &f, &err), LCX_EINTERNAL);
        CHECK_STR(err.msg, "curl_easy_init failed (request slot 3 of 4)");
        CHECK_INT(f.nexts, 0); /* nothing was asked for, nothing sent */
        CHECK_INT(f.dones, 0);
        lcx_backend_close(b);
    }

    /* --remote-tokenize's handle per count */
    easy_inits_left = 0;
    remote_counter *rcount = NULL;
    lcx_err_clear(&err);
    CHECK(lcx_remote_count_open(o.endpoint, NULL, 1, &rcount, &err) != 0);
    CHECK(strstr(err.msg, "--remote-tokenize") && strstr(err.msg, "curl_easy_init failed"));
    lcx_remote_count_close(rcount);
    easy_inits_left = -1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(session_len_checks_the_int_range);
    RUN(local_failed_request_has_unknown_counts);
    RUN(http_curl_easy_init_failures_are_errors);
    curl_global_cleanup();
    return check_summary();
}
