/* engine_opts.h: the local engine's session options shared by `lcx run`,
 * `lcx sweep`, `lcx complete` and `lcx probe`, and the memory check they
 * make before a session starts.
 *
 *   --kv-dtype f32|bf16|f16   element type of the KV cache (default f32:
 *                             the exact numerics; bf16 and f16 halve it)
 *   --max-memory SIZE|off     refuse a session that needs more than SIZE
 *                             (24G, 512M, ...) instead of more than
 *                             MemAvailable; off: never refuse
 */
#ifndef LCX_ENGINE_OPTS_H
#define LCX_ENGINE_OPTS_H

#include <stddef.h>

#include "common/err.h"
#include "engine/model.h"

typedef struct lcx_engine_opts {
    lcx_dtype kv_dtype; /* LCX_DT_F32 unless --kv-dtype says otherwise */
    int check_memory;   /* 0 with --max-memory off */
    size_t max_memory;  /* --max-memory SIZE; 0: MemAvailable */
} lcx_engine_opts;

void lcx_engine_opts_init(lcx_engine_opts *o);

/* If argv[*i] is one of the options above ("--opt V" or "--opt=V"), store
 * it, advance *i past its value and return 1; 0 when it is another
 * option; -1 (err names the option) when the value is missing or bad. */
int lcx_engine_opts_parse(lcx_engine_opts *o, int argc, char **argv, int *i, lcx_err *err);

/* The options' help lines. */
const char *lcx_engine_opts_usage(void);

/* The memory a session of max_seq positions (prefill chunk `chunk`, 0 =
 * the default) of model m takes with these options: weights + KV cache +
 * activations, against the budget (--max-memory, else MemAvailable from
 * /proc/meminfo). When it fits, or nothing is checked (--max-memory off,
 * or MemAvailable unreadable), 0 with the one-line summary in line:
 *   memory: 1.27 GiB = weights 1.11 GiB + KV cache 112.0 MiB (bf16, 4128
 *   positions) + activations 45.3 MiB; 21.60 GiB available (MemAvailable)
 * ("20.00 GiB allowed (--max-memory)", "not checked (--max-memory off)" or
 * "not checked (<why MemAvailable is unknown>)" at the end instead).
 * When it does not fit, LCX_EINPUT with one line in err saying what it
 * needs, what there is, and how to need less. */
int lcx_engine_check_memory(const lcx_engine_opts *o, const lcx_model *m, int max_seq, int chunk,
                            char *line, size_t size, lcx_err *err);

#endif
