/* counter.h: the token-counting interface that length fitting uses.
 * tasks/ knows nothing about tokenizers: it is handed a counter. The byte
 * counter (one token per UTF-8 byte) ships here; a Hugging Face tokenizer
 * plugs in through the same struct (see harness/counter_select.h). */
#ifndef LCX_TASKS_COUNTER_H
#define LCX_TASKS_COUNTER_H

#include <stddef.h>

typedef struct lcx_counter {
    const char *name; /* "bytes", or what the tokenizer was loaded from */
    /* Tokens in text[0..len), with no special tokens (no BOS) added.
     * Must be safe to call from several threads at once. */
    size_t (*count)(void *ctx, const char *text, size_t len);
    void *ctx;
    /* Where counts add up exactly (LCX_COUNT_CUT_*): a text cut there into
     * a and b has count(a + b) == count(a) + count(b). 0 when not known;
     * the fitting then checks its chunk sums with a full count. */
    unsigned cuts;
} lcx_counter;

/* The same rules as tokenizer/tokenizer.h's LCX_TOK_CUT_* ("printable": an
 * ASCII character from '!' to '~'): before a single space between two
 * printable characters; after a run of newlines that a printable character
 * follows; after a single newline between two printable characters. */
enum { LCX_COUNT_CUT_SPACE = 1, LCX_COUNT_CUT_NEWLINES = 2, LCX_COUNT_CUT_NEWLINE_SINGLE = 4 };

/* One token per byte (additive everywhere). */
lcx_counter lcx_byte_counter(void);

#endif
