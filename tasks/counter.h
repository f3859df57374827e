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
} lcx_counter;

/* One token per byte. */
lcx_counter lcx_byte_counter(void);

#endif
