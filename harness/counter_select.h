/* counter_select.h: choose the token counter for length fitting from the
 * command line: the byte counter, or a Hugging Face tokenizer.json. */
#ifndef LCX_COUNTER_SELECT_H
#define LCX_COUNTER_SELECT_H

#include "common/err.h"
#include "tasks/counter.h"

typedef struct lcx_counter_choice {
    lcx_counter counter; /* pass this to tasks/ */
    void *owned;         /* what to free afterwards (a tokenizer), or NULL */
} lcx_counter_choice;

/* tokenizer_path NULL: the byte counter. Otherwise a directory holding
 * tokenizer.json, or the file itself. */
int lcx_counter_select(const char *tokenizer_path, lcx_counter_choice *out, lcx_err *err);
void lcx_counter_release(lcx_counter_choice *c);

#endif
