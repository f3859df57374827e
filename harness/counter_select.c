/* counter_select.c: the token counter for length fitting: one token per
 * byte, or a Hugging Face tokenizer.json (tokenizer/tokenizer.h), whose count
 * is thread-safe as tasks/ requires. */
#include "counter_select.h"

#include <string.h>

#include "tokenizer/tokenizer.h"

_Static_assert((int)LCX_TOK_CUT_SPACE == (int)LCX_COUNT_CUT_SPACE &&
                   (int)LCX_TOK_CUT_NEWLINES == (int)LCX_COUNT_CUT_NEWLINES &&
                   (int)LCX_TOK_CUT_NEWLINE_SINGLE == (int)LCX_COUNT_CUT_NEWLINE_SINGLE,
               "the tokenizer's cut rules and the counter's are the same flags");

static size_t tokenizer_count(void *ctx, const char *text, size_t len)
{
    return lcx_tokenizer_count(ctx, text, len);
}

int lcx_counter_select(const char *tokenizer_path, lcx_counter_choice *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    if (!tokenizer_path) {
        out->counter = lcx_byte_counter();
        return 0;
    }
    lcx_tokenizer *tok;
    int rc = lcx_tokenizer_load(tokenizer_path, &tok, err);
    if (rc)
        return rc;
    out->owned = tok;
    out->counter.name = tokenizer_path;
    out->counter.count = tokenizer_count;
    out->counter.ctx = tok;
    out->counter.cuts = lcx_tokenizer_cut_rules(tok);
    return 0;
}

void lcx_counter_release(lcx_counter_choice *c)
{
    lcx_tokenizer_free(c->owned);
    memset(c, 0, sizeof *c);
}
