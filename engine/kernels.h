/* kernels.h: the engine's compute kernels, one operation per function, F32
 * compute. Shapes are in the comments; "rows" are tokens. OpenMP inside. */
#ifndef LCX_KERNELS_H
#define LCX_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/safetensors.h"

/* A weight matrix [rows, cols] as stored in the file (F32, F16 or BF16),
 * read in place from the memory map; F16/BF16 rows are converted to F32 on
 * the fly into small per-thread panels. */
typedef struct lcx_weight {
    const void *data;
    lcx_dtype dtype;
    int rows, cols;
} lcx_weight;

/* Key blocks of the K cache: keys are stored transposed in blocks of
 * LCX_KBLOCK positions, [block][head_dim_pad][LCX_KBLOCK]. */
#define LCX_KBLOCK 16

/* head_dim rounded up to a multiple of 16 (cache and query padding). */
static inline int lcx_hd_pad(int hd) { return (hd + 15) / 16 * 16; }

/* dst[0..n) = row `row` of w as F32. */
void weight_row_f32(float *dst, const lcx_weight *w, int row);

/* matmul: y[n_tok, w.rows] = x[n_tok, w.cols] . w^T (+ bias[w.rows] if not NULL). */
void matmul(float *y, const float *x, const lcx_weight *w, const float *bias, int n_tok);

/* rmsnorm: out[n, dim] = x / sqrt(mean(x^2) + eps) * weight[dim], per row.
 * out may equal x. */
void rmsnorm(float *out, const float *x, const float *weight, int n, int dim, float eps);

/* rope_apply: rotate vec[n_tok][n_heads][stride] in place, the first rot_dim
 * dims of each head, pairing i with i + rot_dim/2 (HF rotate_half).
 * cos/sin are [n_tok][rot_dim/2] and already carry the magnitude factor. */
void rope_apply(float *vec, const float *cos_t, const float *sin_t, int n_tok, int n_heads,
                int stride, int rot_dim);

/* attention_tiled: causal softmax(q.k) v for a chunk of queries, tiled with
 * an online softmax (memory linear in the context).
 *   q        [n_q][n_heads][hd_pad], roped and already multiplied by the
 *            softmax scale; pad dims are 0
 *   k_cache  [n_kv_heads][kv_blocks][hd_pad][LCX_KBLOCK] (transposed blocks)
 *   v_cache  [n_kv_heads][kv_blocks * LCX_KBLOCK][hd_pad]
 *   out      [n_q][n_heads][hd]  (unpadded)
 * Query t sits at position pos0 + t and sees keys j <= pos0 + t (and
 * j > pos - window when window > 0). Keys [0, pos0 + n_q) must be cached.
 * sink: NULL or [n_heads][n_q], receives the softmax weight on key 0. */
void attention_tiled(float *out, const float *q, const float *k_cache, const float *v_cache,
                     int n_q, int pos0, int n_heads, int n_kv_heads, int hd, int kv_blocks,
                     int window, float *sink);

/* Scalar conversions. */
float lcx_bf16_to_f32(uint16_t h);
float lcx_f16_to_f32(uint16_t h);

#endif
