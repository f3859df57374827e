/* remote_count.h: a token counter that asks the server: POST /tokenize in
 * vLLM form ({"prompt": ..., "add_special_tokens": false} -> {"count"}) or
 * llama.cpp form ({"content": ...} -> {"tokens": [...]}), found out on the
 * first call. Safe from several threads. A failure is latched: count()
 * then returns SIZE_MAX (the length search stops) and lcx_remote_count_error
 * says why. Failures: transport errors, HTTP errors, replies without a
 * count, absurd counts (none for a non-empty text, more tokens than bytes,
 * more than 64 bytes a token over 1 KiB), and texts past the size bound. */
#ifndef LCX_REMOTE_COUNT_H
#define LCX_REMOTE_COUNT_H

#include "common/err.h"
#include "tasks/counter.h"

typedef struct remote_counter remote_counter;

int lcx_remote_count_open(const char *endpoint, const char *model_name, double timeout,
                      remote_counter **out, lcx_err *err);
void lcx_remote_count_close(remote_counter *rc);
lcx_counter lcx_remote_count_counter(remote_counter *rc);
/* 0 when every call succeeded, else the first error. */
int lcx_remote_count_error(remote_counter *rc, lcx_err *err);
/* The token count of a /tokenize reply body: "count" (vLLM), else the
 * length of "tokens" (llama.cpp). LCX_EINPUT, *count = -1, when it has
 * neither (or a negative count). */
int lcx_remote_count_parse_reply(const char *body, size_t len, long *count, lcx_err *err);
const char *lcx_remote_count_form(const remote_counter *rc); /* "vllm", "llamacpp" or "unknown" */
/* Refuse (without sending) any text longer than max_bytes (0: no bound). */
void lcx_remote_count_set_limit(remote_counter *rc, size_t max_bytes);
/* Requests made and text bytes sent so far. */
void lcx_remote_count_stats(remote_counter *rc, size_t *requests, size_t *bytes);

#endif
