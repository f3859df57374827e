/* test_engine_generate.c: engine/generate.c: a prompt and a token budget
 * whose positions do not fit the engine's int are refused before anything
 * is narrowed or allocated; a sane request still generates. */
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
    lcx_gen_opts go = {1, 0, 0, 0, 0, NULL, 0};
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

int main(void)
{
    RUN(positions_past_int_are_refused);
    return check_summary();
}
