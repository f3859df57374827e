/* ops.h: the trainer's operations for the Qwen3-style model the engine runs,
 * in the style of llm.c: each op's forward directly above its backward, with
 * the same argument order. Plain float arrays, shapes in the comments; "N" is
 * rows (batch x time, B*T), positions are n % T.
 *
 * Every backward ACCUMULATES (+=) into its gradient outputs, so callers zero
 * them first. All functions are deterministic: each output element is reduced
 * in a fixed order whatever the number of OpenMP threads.
 *
 * ops.c is written over a type `real` so the unit test can compile a double
 * precision copy of the very same code (names suffixed _f64) for the
 * finite-difference gradient checks. The library compiles it as float once
 * per instruction set (like engine/kernels.c), into one table of function
 * pointers per variant; a train_model takes the table this CPU runs (or the
 * one LCX_ISA forces). Results are deterministic within a variant; across
 * variants they agree to float rounding (FMA contraction, vector width). */
#ifndef LCX_TRAIN_OPS_H
#define LCX_TRAIN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/isa.h"

typedef struct lcx_train_ops {
    lcx_isa isa;

    /* embedding: out[N, C] = wte[tokens[n], :]; wte [V, C] */
    void (*encoder_forward)(float *out, const int32_t *tokens, const float *wte, int N, int C);
    void (*encoder_backward)(float *dwte, const float *dout, const int32_t *tokens, int N, int C);

    /* RMSNorm with weight: out[N, C] = inp / sqrt(mean(inp^2) + eps) * weight[C];
     * rstd[N] keeps 1 / sqrt(mean + eps) for the backward. */
    void (*rmsnorm_forward)(float *out, float *rstd, const float *inp, const float *weight, int N, int C,
                         float eps);
    void (*rmsnorm_backward)(float *dinp, float *dweight, const float *dout, const float *inp,
                          const float *weight, const float *rstd, int N, int C);

    /* Per-head q/k RMSNorm (Qwen3): inp/out [N, nh, hd], one weight[hd] shared
     * by every head, rstd [N, nh]. */
    void (*head_rmsnorm_forward)(float *out, float *rstd, const float *inp, const float *weight, int N,
                              int nh, int hd, float eps);
    void (*head_rmsnorm_backward)(float *dinp, float *dweight, const float *dout, const float *inp,
                               const float *weight, const float *rstd, int N, int nh, int hd);

    /* Default RoPE tables: cos/sin [T, hd/2] for positions 0..T-1,
     * inv_freq[i] = 1 / theta^(2i/hd), angles in double (as the engine does). */
    void (*rope_tables)(float *cos_t, float *sin_t, int T, int hd, double theta);

    /* RoPE, rotate_half layout (dim i pairs with i + hd/2): inp/out [N, nh, hd]
     * at positions n % T; out may equal inp. */
    void (*rope_forward)(float *out, const float *inp, const float *cos_t, const float *sin_t, int N,
                      int T, int nh, int hd);
    void (*rope_backward)(float *dinp, const float *dout, const float *cos_t, const float *sin_t, int N,
                       int T, int nh, int hd);

    /* Split the fused q_proj output (released gated-attention layout, per KV
     * group [queries of its G heads | gates of its G heads]) into queries and
     * gate logits. qg [N, QR], QR = H*hd + H*gw; q [N, H, hd]; gate [N, H, gw];
     * gw = 0 (no gate), 1 (headwise) or hd (elementwise). */
    void (*qgate_split_forward)(float *q, float *gate, const float *qg, int N, int H, int KV, int hd,
                             int gw);
    void (*qgate_split_backward)(float *dqg, const float *dq, const float *dgate, int N, int H, int KV,
                              int hd, int gw);

    /* GQA causal attention, tiled (flash-attention style: the T x T
     * probabilities are not stored). q [B, T, H, hd], k/v [B, T, KV, hd]
     * (query head h reads KV head h / (H/KV)), out [B, T, H, hd]; scale
     * 1/sqrt(hd). lse [B, H, T] keeps each query row's log-sum-exp of the
     * scaled scores, from which the backward recomputes the probabilities.
     * scratch: lcx_train_attention_scratch(B, T, KV, hd) elements, for both. */
    void (*attention_forward)(float *out, float *lse, float *scratch, const float *q,
                              const float *k, const float *v, int B, int T, int H, int KV, int hd);
    void (*attention_backward)(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                               const float *q, const float *k, const float *v, const float *lse,
                               int B, int T, int H, int KV, int hd);

    /* SDPA-output sigmoid gate (G1): out[N, H, hd] = inp * sigmoid(gate), gate
     * [N, H, gw] with gw = 1 (headwise, one scalar per head) or hd
     * (elementwise). */
    void (*gate_forward)(float *out, const float *inp, const float *gate, int N, int H, int hd, int gw);
    void (*gate_backward)(float *dinp, float *dgate, const float *dout, const float *inp,
                       const float *gate, int N, int H, int hd, int gw);

    /* SwiGLU: out[n] = silu(gate[n]) * up[n] over n elements. */
    void (*swiglu_forward)(float *out, const float *gate, const float *up, size_t n);
    void (*swiglu_backward)(float *dgate, float *dup, const float *dout, const float *gate,
                         const float *up, size_t n);

    /* matmul: out[N, OC] = inp[N, IC] . weight^T, weight [OC, IC] (Linear
     * layout). Blocked, OpenMP, vectorised. Used for the LM head too (tied:
     * weight = wte, and the gradient goes to dwte). */
    void (*matmul_forward)(float *out, const float *inp, const float *weight, int N, int IC, int OC);
    void (*matmul_backward)(float *dinp, float *dweight, const float *dout, const float *inp,
                         const float *weight, int N, int IC, int OC);

    /* residual: out = a + b over n elements. */
    void (*residual_forward)(float *out, const float *a, const float *b, size_t n);
    void (*residual_backward)(float *da, float *db, const float *dout, size_t n);

    /* Softmax cross-entropy with per-token weights: probs [N, V] = softmax of
     * logits, losses[N] = -log probs[target]; returns sum(w*loss) / sum(w)
     * (0 when the weights sum to 0). weights may be NULL (all 1). The backward
     * adds d(mean loss)/d(logits) * dloss to dlogits. */
    double (*crossentropy_forward)(float *losses, float *probs, const float *logits,
                                const int32_t *targets, const float *weights, int N, int V);
    void (*crossentropy_backward)(float *dlogits, double dloss, const float *probs,
                               const int32_t *targets, const float *weights, int N, int V);
} lcx_train_ops;

/* The attention's tiles: query rows per block (a multiple of the 6-row
 * register tile), and the padding of the key count. */
enum { LCX_TRAIN_ATTN_ROWS = 48, LCX_TRAIN_ATTN_PAD = 16 };

/* Row length of the attention's blocks: T rounded up to LCX_TRAIN_ATTN_PAD,
 * plus one more LCX_TRAIN_ATTN_PAD so that rows are not a multiple of 4 KiB
 * apart (loads then falsely wait on stores to other rows). */
static inline size_t lcx_train_attention_ld(int T)
{
    return ((size_t)T + 2 * LCX_TRAIN_ATTN_PAD - 1) / LCX_TRAIN_ATTN_PAD * LCX_TRAIN_ATTN_PAD;
}

/* Scratch (in elements) of attention_forward/backward: per (batch, KV head)
 * task, K^T and V^T (hd x ld each) and two blocks of rows [LCX_TRAIN_ATTN_ROWS, ld],
 * ld = lcx_train_attention_ld(T). */
static inline size_t lcx_train_attention_scratch(int B, int T, int KV, int hd)
{
    return (size_t)B * KV * (2 * (size_t)hd + 2 * LCX_TRAIN_ATTN_ROWS) * lcx_train_attention_ld(T);
}

/* The table of a variant, NULL when this build does not contain it. */
const lcx_train_ops *lcx_train_ops_get(lcx_isa isa);

#endif
