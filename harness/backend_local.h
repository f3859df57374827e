/* backend_local.h: the local backend kind, the C engine (see
 * backend_local.c); harness/backend.c dispatches to it. */
#ifndef LCX_BACKEND_LOCAL_H
#define LCX_BACKEND_LOCAL_H

#include "harness/backend.h"

typedef struct local_backend local_backend;

int lcx_backend_local_open(const lcx_backend_opts *o, local_backend **out, lcx_err *err);
void lcx_backend_local_close(local_backend *b);
int lcx_backend_local_run(local_backend *b, lcx_next_fn next, lcx_done_fn done, void *arg,
                          lcx_err *err);
int lcx_backend_local_deterministic(const local_backend *b);
json_t *lcx_backend_local_describe(const local_backend *b);
json_t *lcx_backend_local_rope_at(const local_backend *b, size_t length);
const lcx_counter *lcx_backend_local_counter(const local_backend *b);
int lcx_backend_local_set_rope(local_backend *b, const lcx_rope_opts *rope, lcx_err *err);
int lcx_backend_local_check_memory(const local_backend *b, size_t length, int max_tokens,
                                   char *line, size_t size, lcx_err *err);

/* The RoPE values of ri as run.json records them (and lcx serve's answers
 * state them): type, theta, factor, original context, betas, attention
 * factor and temperature, logit scale, rotary dim. New reference. */
json_t *lcx_backend_local_rope_json(const lcx_rope_info *ri, int max_pos);

/* The positions a local session needs for a prompt of n_prompt tokens and
 * max_tokens to generate (n_prompt + max_tokens + 1), as the engine's int;
 * LCX_EINPUT when that does not fit an int. */
int lcx_backend_local_session_len(size_t n_prompt, int max_tokens, int *out, lcx_err *err);

#endif
