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
#ifndef LCX_YARN_H
#define LCX_YARN_H

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
} lcx_rope_params;

/* Defaults: type default, truncate 1, attention_factor unset, the rest 0. */
void lcx_rope_params_init(lcx_rope_params *p);

/* "default", "linear", "dynamic", "yarn", "llama3"; "none" reads as default,
 * "su"/"longrope" and others are rejected. Returns -1 if unknown. */
int lcx_rope_type_parse(const char *name);
const char *lcx_rope_type_name(lcx_rope_type t);

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

#endif
