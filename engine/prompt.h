/* prompt.h: turning a prompt into token ids for the engine, and describing
 * the effective RoPE settings in one line. */
#ifndef LCX_PROMPT_H
#define LCX_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/model.h"

/* Read a JSON array of token ids (caller frees *ids). */
int lcx_read_ids_file(const char *path, int32_t **ids, size_t *n, lcx_err *err);

/* Encode text with the model's tokenizer, special tokens (BOS) added by its
 * post-processor. Fails when the model has no tokenizer. */
int lcx_encode_prompt(const lcx_model *m, const char *text, size_t len, int32_t **ids, size_t *n,
                      lcx_err *err);

/* The prompt from a JSON id file (ids_file) or a text file (text_file,
 * encoded with lcx_encode_prompt); exactly one is non-NULL. */
int lcx_load_prompt(const lcx_model *m, const char *ids_file, const char *text_file, int32_t **ids,
                    size_t *n, lcx_err *err);


#endif
