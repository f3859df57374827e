/* test_engine_generate.c: engine/generate.c: a prompt and a token budget
 * whose positions do not fit the engine's int are refused before anything
 * is narrowed or allocated; a sane request still generates. The per-token
 * hook sees every generated token, and stopping through it or through the
 * prefill poll ends generation with its code; polling between prefill
 * chunks changes no number. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "engine/generate.h"
#include "engine/model.h"

TEST(positions_past_int_are_refused)
{
    lcx_model *m = NULL;
    lcx_session *s = NULL;
    lcx_err err = {0};
    int rc = lcx_model_load("tests/reference/models/llama_f32", &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (!rc)
        rc = lcx_session_new(m, 16, 0, NULL, &s, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) {
        lcx_model_free(m);
        return;
    }
    int32_t ids[4] = {1, 2, 3, 4};
    lcx_gen_result g;
    /* n itself past INT_MAX ((int)n would be negative): refused before the
     * prompt is read, so a 4-token array stands in. */
    lcx_gen_opts go = {.max_tokens = 1};
    CHECK_INT(lcx_generate(s, m, ids, (size_t)INT_MAX + 1, &go, NULL, NULL, &g, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "prompt of 2147483648 tokens plus 1 to generate needs more than") != NULL);
    CHECK(g.ids == NULL && g.text == NULL);
    /* a budget that wraps max_tokens + 1 */
    go.max_tokens = SIZE_MAX;
    CHECK_INT(lcx_generate(s, m, ids, 4, &go, NULL, NULL, &g, &err), LCX_EINPUT);
    go.max_tokens = (size_t)INT_MAX;
    CHECK_INT(lcx_generate(s, m, ids, 4, &go, NULL, NULL, &g, &err), LCX_EINPUT);
    /* and a sane request generates */
    go.max_tokens = 2;
    lcx_session_rewind(s, 0);
    rc = lcx_generate(s, m, ids, 4, &go, NULL, NULL, &g, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (!rc) {
        CHECK(g.n <= 2);
        lcx_gen_result_free(&g);
    }
    lcx_session_free(s);
    lcx_model_free(m);
}

typedef struct hook_log {
    int32_t ids[64];
    size_t n;
    int stop_after; /* stop once this many tokens were seen (0: never) */
    int polls, cancel_at_poll;
} hook_log;

static int on_token(void *ctx, const int32_t *ids, size_t n, const float *logits, lcx_err *err)
{
    hook_log *h = ctx;
    (void)logits;
    if (n == h->n + 1 && n <= 64)
        h->ids[h->n++] = ids[n - 1];
    if (h->stop_after && (int)n >= h->stop_after)
        return lcx_errf(err, LCX_EIO, "stopped by the hook");
    return 0;
}

static int poll_cancel(void *ctx, lcx_err *err)
{
    hook_log *h = ctx;
    if (++h->polls == h->cancel_at_poll)
        return lcx_errf(err, LCX_EIO, "cancelled in prefill");
    return 0;
}

TEST(token_hook_and_cancel)
{
    lcx_model *m = NULL;
    lcx_session *s = NULL;
    lcx_err err = {0};
    int rc = lcx_model_load("tests/reference/models/llama_f32", &m, &err);
    /* chunk 3: a 7-token prompt is prefilled in three chunks */
    if (!rc)
        rc = lcx_session_new(m, 32, 3, NULL, &s, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) {
        lcx_model_free(m);
        return;
    }
    int32_t ids[7] = {1, 5, 9, 2, 7, 3, 4};
    lcx_gen_result plain, hooked;
    lcx_gen_opts go = {.max_tokens = 6};
    CHECK_INT(lcx_generate(s, m, ids, 7, &go, NULL, NULL, &plain, &err), 0);
    hook_log h = {0};
    go.on_token = on_token;
    go.cancelled = poll_cancel;
    go.on_token_ctx = &h;
    lcx_session_rewind(s, 0);
    CHECK_INT(lcx_generate(s, m, ids, 7, &go, NULL, NULL, &hooked, &err), 0);
    CHECK_INT(h.polls, 3);
    CHECK_INT((long)hooked.n, (long)plain.n);
    CHECK_INT((long)h.n, (long)plain.n);
    CHECK(h.n == plain.n && !memcmp(h.ids, plain.ids, plain.n * sizeof *plain.ids));
    CHECK(hooked.n == plain.n && !memcmp(hooked.ids, plain.ids, plain.n * sizeof *plain.ids));
    lcx_gen_result_free(&hooked);
    /* the hook stops decoding */
    if (plain.n >= 2) {
        memset(&h, 0, sizeof h);
        h.stop_after = 2;
        lcx_session_rewind(s, 0);
        CHECK_INT(lcx_generate(s, m, ids, 7, &go, NULL, NULL, &hooked, &err), LCX_EIO);
        CHECK(strstr(err.msg, "stopped by the hook") != NULL);
        CHECK_INT((long)h.n, 2);
    }
    /* the poll stops prefill after the first chunk */
    memset(&h, 0, sizeof h);
    h.cancel_at_poll = 2;
    lcx_session_rewind(s, 0);
    CHECK_INT(lcx_generate(s, m, ids, 7, &go, NULL, NULL, &hooked, &err), LCX_EIO);
    CHECK(strstr(err.msg, "cancelled in prefill") != NULL);
    CHECK_INT(lcx_session_pos(s), 3);
    CHECK_INT((long)h.n, 0);
    lcx_gen_result_free(&plain);
    lcx_session_free(s);
    lcx_model_free(m);
}

int main(void)
{
    RUN(positions_past_int_are_refused);
    RUN(token_hook_and_cancel);
    return check_summary();
}
