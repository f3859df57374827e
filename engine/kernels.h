/* kernels.h: the engine's compute kernels, one operation per function, F32
 * compute, shapes in the comments ("rows" are tokens), OpenMP inside.
 *
 * engine/kernels.c holds them once and is compiled once per instruction set
 * (generic, avx2, avx512, amx on x86-64; generic, neon on aarch64), each time
 * with its own target flags, into a table lcx_kernels. A model picks its
 * table when it loads (common/isa.h: the best the CPU runs, or LCX_ISA). */
#ifndef LCX_KERNELS_H
#define LCX_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/isa.h"
#include "engine/safetensors.h"

/* A weight matrix [rows, cols] as stored in the file (F32, F16 or BF16),
 * read in place from the memory map; F16/BF16 rows are converted to F32 on
 * the fly into small per-thread panels. */
typedef struct lcx_weight {
    const void *data;
    lcx_dtype dtype;
    int rows, cols;
    /* NULL, or the same matrix in the kernel variant's own layout, packed
     * once when the model loads (lcx_kernels.pack); matmul then reads it
     * instead of data for prefill. */
    const void *packed;
} lcx_weight;

/* Key blocks of the K cache: keys are stored transposed in blocks of
 * LCX_KBLOCK positions, [block][head_dim_pad][LCX_KBLOCK]. */
#define LCX_KBLOCK 16
/* Keys per attention tile (two K blocks); a cache holds whole tiles. */
#define LCX_AT_KT 32

/* head_dim rounded up to a multiple of 16 (cache and query padding). */
static inline int lcx_hd_pad(int hd) { return (hd + 15) / 16 * 16; }

/* Blocking shared by every variant (the scratch is sized from them). */
#define LCX_MM_KB 1024    /* matmul: inner dimension per packed panel */
#define LCX_MM_NB_MAX 32 /* matmul: widest panel (output rows) of any variant */
#define LCX_AT_MR 8      /* attention: query rows per micro tile */
#define LCX_AT_QB 256    /* attention: query rows per work item */
#define LCX_AMX_TB 32    /* amx matmul: tokens per block (two tiles of 16) */

/* Per-thread work memory of the kernels, allocated once per session so a
 * kernel never allocates (and never fails) mid-pass. Thread i of a kernel's
 * team uses mem + i * stride; the team has at most n_threads threads. */
typedef struct lcx_kscratch {
    int n_threads;
    int head_dim, group; /* the attention shape it was sized for */
    size_t stride;       /* floats per thread, a multiple of 16 */
    float *mem;          /* n_threads * stride floats, 64-byte aligned */
} lcx_kscratch;

/* Size and allocate for n_threads threads and attention with head_dim and
 * group = n_heads / n_kv_heads. */
int lcx_kscratch_init(lcx_kscratch *ks, int n_threads, int head_dim, int group, lcx_err *err);
/* The bytes lcx_kscratch_init allocates for these arguments. */
size_t lcx_kscratch_bytes(int n_threads, int head_dim, int group);
void lcx_kscratch_free(lcx_kscratch *ks);

typedef struct lcx_kernels {
    lcx_isa isa;

    /* y[n_tok, w.rows] = x[n_tok, w.cols] . w^T (+ bias[w.rows] if not NULL). */
    void (*matmul)(float *y, const float *x, const lcx_weight *w, const float *bias, int n_tok,
                   const lcx_kscratch *ks);

    /* out[n, dim] = x / sqrt(mean(x^2) + eps) * weight[dim], per row; out may
     * equal x. */
    void (*rmsnorm)(float *out, const float *x, const float *weight, int n, int dim, float eps);

    /* Rotate vec[n_tok][n_heads][stride] in place, the first rot_dim dims of
     * each head, pairing i with i + rot_dim/2 (HF rotate_half; docs/model.md,
     * "RoPE"). cos/sin are [n_tok][rot_dim/2] and already carry the magnitude
     * factor. */
    void (*rope_apply)(float *vec, const float *cos_t, const float *sin_t, int n_tok,
                       int n_heads, int stride, int rot_dim);

    /* Causal softmax(q.k) v for a chunk of queries, tiled with an online
     * softmax (memory linear in the context).
     *   q        [n_q][n_heads][hd_pad], roped and already multiplied by the
     *            softmax scale; pad dims are 0
     *   k_cache  [n_kv_heads][kv_blocks][hd_pad][LCX_KBLOCK] (transposed blocks)
     *   v_cache  [n_kv_heads][kv_blocks * LCX_KBLOCK][hd_pad]
     *            both of kv_dtype: LCX_DT_F32 (floats, read in place) or
     *            LCX_DT_BF16 / LCX_DT_F16 (uint16_t patterns, converted to
     *            F32 one tile of LCX_AT_KT keys at a time, into the
     *            scratch; the arithmetic is then the F32 path's)
     *   out      [n_q][n_heads][hd]  (unpadded)
     * Query t sits at position pos0 + t and sees keys j <= pos0 + t (and
     * j > pos - window when window > 0). Keys [0, pos0 + n_q) must be cached.
     * sink: NULL or [n_heads][n_q], receives the softmax weight on key 0.
     * entropy: NULL or [n_heads][n_q], receives each query's softmax
     *          entropy -sum p ln p in nats, accumulated online with the
     *          softmax (no second pass over the keys).
     * ks must have been sized for hd and n_heads / n_kv_heads. */
    void (*attention)(float *out, const float *q, const void *k_cache, const void *v_cache,
                      lcx_dtype kv_dtype, int n_q, int pos0, int n_heads, int n_kv_heads, int hd,
                      int kv_blocks, int window, float *sink, float *entropy,
                      const lcx_kscratch *ks);

    /* Element-wise, vectorized and split over ks->n_threads when n is large:
     * x[i] = silu(x[i]) * u[i] (SwiGLU's gate times up), and
     * x[i] = sigmoid(x[i]) (the attention output gate). exp is the
     * kernels' vector exp (relative error ~2e-7), not libm's. */
    void (*silu_mul)(float *x, const float *u, size_t n, const lcx_kscratch *ks);
    void (*sigmoid)(float *x, size_t n, const lcx_kscratch *ks);

    /* dst[0..n) = src[0..n) as F32, src holding BF16 (dtype LCX_DT_BF16)
     * or F16 (LCX_DT_F16) patterns: the conversion attention applies to
     * each K/V tile (a shift for BF16; F16C, NEON or integer arithmetic
     * for F16), exact for every pattern. */
    void (*to_f32)(float *dst, const uint16_t *src, size_t n, lcx_dtype dtype);

    /* Weights packed once per session, for variants whose matmul wants its
     * own layout (amx: BF16 weights as AMX B tiles). pack_bytes: the bytes
     * pack writes for w, 0 when this variant does not pack w (then
     * w->packed stays NULL); pack: writes them to dst (64-byte aligned).
     * Both NULL in the variants that read weights as stored. */
    size_t (*pack_bytes)(const lcx_weight *w);
    void (*pack)(void *dst, const lcx_weight *w);
} lcx_kernels;

/* The table of a variant, NULL when this build does not contain it. */
const lcx_kernels *lcx_kernels_get(lcx_isa isa);

/* dst[0..w.cols) = row `row` of w as F32 (portable, any variant). */
void lcx_weight_row_f32(float *dst, const lcx_weight *w, int row);

/* Scalar conversions. To 16 bits: round to nearest, ties to even (F16
 * subnormals included); NaN stays NaN. F16 saturates at +-65504 (infinity
 * too) instead of becoming infinite: a KV entry past F16's range would
 * otherwise turn whole attention outputs into NaN (inf - inf, 0 * inf). */
float lcx_bf16_to_f32(uint16_t h);
float lcx_f16_to_f32(uint16_t h);
uint16_t lcx_f32_to_bf16(float f);
uint16_t lcx_f32_to_f16(float f);

#endif
