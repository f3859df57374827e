/* test_counter_select.c: harness/counter_select: the byte counter without a
 * tokenizer, a tokenizer.json's count with one, errors for a bad path. */
#include <string.h>

#include "check.h"
#include "tokenizer/tokenizer.h"
#include "harness/counter_select.h"

TEST(no_tokenizer_counts_bytes)
{
    lcx_counter_choice c;
    lcx_err err = {0};
    CHECK(lcx_counter_select(NULL, &c, &err) == 0);
    CHECK_INT(c.counter.count(c.counter.ctx, "h\xC3\xA9llo", 6), 6);
    CHECK(c.owned == NULL);
    lcx_counter_release(&c);
}

TEST(tokenizer_counts_tokens_without_bos)
{
    lcx_counter_choice c;
    lcx_err err = {0};
    const char *path = "tests/fixtures/tokenizer/metaspace.json";
    CHECK_MSG(lcx_counter_select(path, &c, &err) == 0, "%s", err.msg);
    if (!c.owned)
        return;
    /* "▁hi▁hi" + byte fallback for \n, é: 5 tokens, and no <s> */
    CHECK_INT(c.counter.count(c.counter.ctx, "hi hi\n\xC3\xA9", 8), 5);
    CHECK_INT(c.counter.count(c.counter.ctx, "", 0), 0);
    CHECK_STR(c.counter.name, path);
    lcx_counter_release(&c);
    CHECK(c.owned == NULL);
}

TEST(bad_tokenizer_path_is_an_error)
{
    lcx_counter_choice c;
    lcx_err err = {0};
    CHECK(lcx_counter_select("tests/fixtures/tokenizer/missing.json", &c, &err) != 0);
    CHECK(strstr(err.msg, "missing.json") != NULL);
    CHECK(c.owned == NULL);
}

int main(void)
{
    RUN(no_tokenizer_counts_bytes);
    RUN(tokenizer_counts_tokens_without_bos);
    RUN(bad_tokenizer_path_is_an_error);
    return check_summary();
}
