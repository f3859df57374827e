/* yarn.h: RoPE frequency and magnitude tables, as Hugging Face transformers
 * computes them (docs/model.md, "RoPE", "YaRN" and "Other RoPE types").
 *
 *   inv_freq[i] = base^(-2i/d), i in [0, d/2), d = head_dim * partial_rotary_factor
 *
 * then, per rope type:
 *   default  unchanged, magnitude 1
 *   linear   inv_freq / s (positions divided by s), magnitude 1
 *   dynamic  NTK: base' = base * ((s*n/L) - (s-1))^(d/(d-2)) once n > L, magnitude 1
 *   yarn     ramp between interpolation (inv_freq/s) and extrapolation over
 *            the dimensions [low, high] given by beta_fast / beta_slow;
 *            magnitude = attention_factor (cos and sin are both multiplied
 *            by it, so q.k logits grow by its square)
 *   llama3   Llama 3.1 wavelength bands (low_freq_factor, high_freq_factor)
 *
 * The factor is always the configured `factor`; it is never replaced by
 * max_position_embeddings / original_max_position_embeddings (a bug in some
 * transformers releases). */
#ifndef LCX_ROPE_H
#define LCX_ROPE_H

#include <stddef.h>

#include "common/err.h"

typedef enum lcx_rope_type {
    LCX_ROPE_DEFAULT = 0,
    LCX_ROPE_LINEAR,
    LCX_ROPE_DYNAMIC,
    LCX_ROPE_YARN,
    LCX_ROPE_LLAMA3
} lcx_rope_type;

/* Everything the tables depend on. Fields marked "0 = unset" take the
 * defaults documented beside them. */
typedef struct lcx_rope_params {
    lcx_rope_type type;
    double theta;            /* rope_theta (base) */
    int head_dim;            /* per-head dimension */
    double partial_rotary;   /* partial_rotary_factor, (0, 1]; 0 = 1 */
    double factor;           /* s; 0 = 1 */
    int orig_ctx;            /* L: original_max_position_embeddings; 0 = max_position_embeddings */
    int max_pos;             /* max_position_embeddings of the config */
    double beta_fast;        /* yarn; 0 = 32 */
    double beta_slow;        /* yarn; 0 = 1 */
    double mscale;           /* yarn; 0 = unset */
    double mscale_all_dim;   /* yarn; 0 = unset */
    double attention_factor; /* yarn magnitude from config or override; < 0 = unset */
    int truncate;            /* yarn: floor/ceil the correction range (default 1) */
    double low_freq_factor;  /* llama3; 0 = 1 */
    double high_freq_factor; /* llama3; 0 = 4 */
    double temperature;      /* attention logits divided by this; 0 = 1 (lcx extension) */
    double llama4_beta;      /* llama_4_scaling_beta: queries at position p times
                              * lcx_rope_query_scale (Llama-4, Ministral-3); 0 = off */
} lcx_rope_params;

/* Defaults: type default, truncate 1, attention_factor unset, the rest 0. */
void lcx_rope_params_init(lcx_rope_params *p);
/* 1 when a and b give the same tables (every field equal). */
int lcx_rope_params_equal(const lcx_rope_params *a, const lcx_rope_params *b);

/* "default", "linear", "dynamic", "yarn", "llama3"; "none" reads as default,
 * "su"/"longrope" and others are rejected. Returns -1 if unknown. */
int lcx_rope_type_parse(const char *name);
const char *lcx_rope_type_name(lcx_rope_type t);

/* The position-dependent query factor of Llama-4 / Ministral-3
 * (llama_4_scaling_beta): 1 + beta * ln(1 + floor(pos / L)), L the original
 * context (orig_ctx, else max_pos); exactly 1 when beta is 0 or L unknown. */
double lcx_rope_query_scale(const lcx_rope_params *p, long pos);

/* Rotated dimensions d (even, <= head_dim). */
int lcx_rope_rot_dim(const lcx_rope_params *p);

/* The YaRN correction range [low, high] over the d/2 frequency pairs, after
 * truncation and clamping (high has +0.001 when low == high). */
void lcx_yarn_corr_range(const lcx_rope_params *p, double *low, double *high);

/* mscale(s, m) = 1 if s <= 1 else 0.1*m*ln(s) + 1 */
double lcx_yarn_mscale(double s, double m);

/* Fill inv_freq[0 .. d/2) and *magnitude (the factor on cos and sin).
 * seq_len is the sequence length the table serves (used by dynamic NTK
 * only; pass the total number of positions). Returns LCX_EINPUT for
 * inconsistent parameters (factor <= 0, theta <= 0, odd rotary dim...). */
int lcx_rope_table(const lcx_rope_params *p, int seq_len, double *inv_freq, double *magnitude,
                   lcx_err *err);

/* The values a session of seq_len positions uses with parameters p (dynamic
 * NTK depends on seq_len), for printing and run records. */
typedef struct lcx_rope_info {
    lcx_rope_params params;
    int rot_dim;
    double magnitude;   /* factor on cos and sin (attention_factor) */
    double logit_scale; /* magnitude^2 / temperature: total change of q.k logits */
    double low, high;   /* YaRN correction range (yarn only) */
    double inv_freq_first, inv_freq_last;
} lcx_rope_info;
/* Fill *out; LCX_EINPUT (as lcx_rope_table) when p is inconsistent, which
 * makes it the check of a set of parameters too. */
int lcx_rope_describe(const lcx_rope_params *p, int seq_len, lcx_rope_info *out, lcx_err *err);
/* One line: "rope yarn: theta 1e+06 rot_dim 128 factor 4 orig_ctx 32768
 * beta_fast 32 beta_slow 1 truncate 1 corr [11, 20] attention_factor 1.13863
 * temperature 1 logit_scale 1.29648". */
void lcx_rope_info_format(const lcx_rope_info *ri, char *buf, size_t size);

#endif
