/* opts.h: the RoPE scaling command-line options shared by `lcx complete`,
 * `lcx probe`, `lcx run` and `lcx sweep`. Overrides win over config.json
 * (docs/model.md, "Where the RoPE settings come from").
 *
 *   --rope-scaling TYPE     default|none|linear|dynamic|yarn|llama3
 *   --yarn-factor S         scaling factor s (alias --rope-scale); implies yarn
 *                           when the config has no scaling and no --rope-scaling
 *   --yarn-orig-ctx L       original_max_position_embeddings
 *   --yarn-beta-fast B      default 32
 *   --yarn-beta-slow B      default 1
 *   --yarn-truncate 0|1     floor/ceil the correction range (default 1)
 *   --attn-factor F         magnitude factor on cos and sin (overrides yarn's)
 *   --attn-temperature T    divide attention logits by T on top of everything
 *   --llama4-scaling-beta B queries at position p times 1 + B ln(1 + floor(p / L))
 *
 * Usage in a command's argument loop:
 *     int used = lcx_rope_opts_parse(&ro, argc, argv, &i, &err);
 *     if (used < 0) { print err; return 2; }
 *     if (used) continue;
 */
#ifndef LCX_ROPE_OPTS_H
#define LCX_ROPE_OPTS_H

#include <stddef.h>

#include "common/err.h"
#include "rope/rope.h"

typedef struct lcx_rope_opts {
    int type;           /* lcx_rope_type, or -1 when not given */
    double factor;      /* <= 0: not given */
    int factor_auto;    /* --yarn-factor auto: per length, see lcx_rope_auto_factor */
    int orig_ctx;       /* <= 0: not given */
    double beta_fast;   /* <= 0: not given */
    double beta_slow;   /* <= 0: not given */
    int truncate;       /* -1: not given */
    double attn_factor; /* < 0: not given */
    double temperature; /* <= 0: not given */
    double llama4_beta; /* --llama4-scaling-beta; < 0: not given (0 turns it off) */
} lcx_rope_opts;

void lcx_rope_opts_init(lcx_rope_opts *o);

/* If argv[*i] is one of the options above ("--opt V" or "--opt=V"), store it,
 * advance *i to the last argument consumed and return 1. Return 0 when
 * argv[*i] is not ours, -1 (err filled) when its value is missing or bad. */
int lcx_rope_opts_parse(lcx_rope_opts *o, int argc, char **argv, int *i, lcx_err *err);

/* out = base with every override that `over` gives put on top (lcx
 * serve: the server's options, then a request's own fields). */
void lcx_rope_opts_merge(const lcx_rope_opts *base, const lcx_rope_opts *over, lcx_rope_opts *out);

/* Apply the overrides to parameters read from config.json. */
void lcx_rope_opts_apply(const lcx_rope_opts *o, lcx_rope_params *p);
/* The RoPE for a prompt of `length` tokens: the model's own parameters
 * (base, from config.json) with the overrides o (may be NULL) applied.
 * With --yarn-factor auto the factor is max(1, length / L), L the original
 * context (--yarn-orig-ctx, else original_max_position_embeddings, else
 * max_position_embeddings); above 1 the type becomes yarn unless
 * --rope-scaling says otherwise, at 1 the config's own RoPE is kept.
 * length 0 (not known) reads as factor 1. */
void lcx_rope_resolve(const lcx_rope_params *base, const lcx_rope_opts *o, size_t length,
                      lcx_rope_params *out);

/* The factor `--yarn-factor auto` uses at a length: length / orig_ctx when
 * that is above 1 (YaRN scaled to just cover the length), else 1 (no
 * scaling). Only lcx run and lcx sweep, which know each prompt's length,
 * accept auto. */
double lcx_rope_auto_factor(size_t length, int orig_ctx);

/* The option lines for a --help text. */
const char *lcx_rope_opts_usage(void);

#endif
