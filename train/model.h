/* model.h: the trainer's model, in the style of llm.c's train_gpt2.c.
 *
 *   train_config   the blueprint (a Qwen3ForCausalLM the engine runs)
 *   train_params   named pointers into ONE allocation; the gradients and
 *                  AdamW's m and v are three more allocations of the same
 *                  layout, with their own named pointers
 *   train_acts     every activation the backward needs, ONE allocation
 *
 * Sizes are computed in one place (train_param_sizes / train_act_sizes in
 * model.c). Batches are [B, T] token ids; the model is built for one B and
 * T. Everything is deterministic for a given seed, whatever the number of
 * OpenMP threads. Library code: errors are values, nothing is printed. */
#ifndef LCX_TRAIN_MODEL_H
#define LCX_TRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "train/ops.h"

typedef enum train_gate {
    TRAIN_GATE_NONE = 0,
    TRAIN_GATE_HEADWISE,   /* one sigmoid gate per head (headwise_attn_output_gate) */
    TRAIN_GATE_ELEMENTWISE /* one per head dimension (elementwise_attn_output_gate) */
} train_gate;

typedef struct train_config {
    int vocab_size;     /* V */
    int dim;            /* C, hidden_size */
    int hidden_dim;     /* F, intermediate_size (SwiGLU) */
    int n_layers;       /* L */
    int n_heads;        /* H */
    int n_kv_heads;     /* KV (GQA), divides H */
    int head_dim;       /* hd, even */
    int max_seq;        /* max_position_embeddings written on export */
    int tie_embeddings; /* lm_head = embed_tokens */
    train_gate gate;
    double rope_theta;
    double norm_eps;
} train_config;

/* Gate width per head: 0, 1 or head_dim. */
int train_gate_width(const train_config *c);
/* q_proj rows: H*hd queries + H*gate width gates, fused per KV group. */
int train_q_rows(const train_config *c);
/* Check a config; a one-line error names the field. */
int train_config_check(const train_config *c, lcx_err *err);

/* Parameters of a model with a checked config (what train_model_init
 * allocates, without allocating). */
size_t train_config_num_params(const train_config *c);

#define TRAIN_NUM_PARAMS 14
typedef struct train_params {
    float *wte;     /* [V, C] model.embed_tokens */
    float *ln1w;    /* [L, C] input_layernorm */
    float *wq;      /* [L, QR, C] q_proj, per KV group [queries of G heads | gates of G heads] */
    float *wk;      /* [L, KV*hd, C] k_proj */
    float *wv;      /* [L, KV*hd, C] v_proj */
    float *q_norm;  /* [L, hd] */
    float *k_norm;  /* [L, hd] */
    float *wo;      /* [L, C, H*hd] o_proj */
    float *ln2w;    /* [L, C] post_attention_layernorm */
    float *w_gate;  /* [L, F, C] mlp.gate_proj */
    float *w_up;    /* [L, F, C] mlp.up_proj */
    float *w_down;  /* [L, C, F] mlp.down_proj */
    float *lnfw;    /* [C] model.norm */
    float *lm_head; /* [V, C]; NULL when tied (the head is wte) */
} train_params;

#define TRAIN_NUM_ACTS 29
typedef struct train_acts {
    float *encoded;   /* [N, C] embeddings, the residual stream into layer 0 */
    float *ln1;       /* [L, N, C] */
    float *ln1_rstd;  /* [L, N] */
    float *qg;        /* [L, N, QR] fused q_proj output */
    float *q_pre;     /* [L, N, H, hd] queries before q_norm */
    float *q_rstd;    /* [L, N, H] */
    float *q;         /* [L, N, H, hd] after q_norm and RoPE */
    float *gate_pre;  /* [L, N, H, gw] gate logits */
    float *k_pre;     /* [L, N, KV, hd] */
    float *k_rstd;    /* [L, N, KV] */
    float *k;         /* [L, N, KV, hd] after k_norm and RoPE */
    float *v;         /* [L, N, KV, hd] */
    float *lse;       /* [L, B, H, T] log-sum-exp of each query row's scaled scores */
    float *atty;      /* [L, N, H*hd] SDPA output */
    float *gated;     /* [L, N, H*hd] atty * sigmoid(gate) (unused without a gate) */
    float *attproj;   /* [L, N, C] o_proj output */
    float *residual2; /* [L, N, C] after the attention residual */
    float *ln2;       /* [L, N, C] */
    float *ln2_rstd;  /* [L, N] */
    float *fc_gate;   /* [L, N, F] */
    float *fc_up;     /* [L, N, F] */
    float *swiglu;    /* [L, N, F] */
    float *fcproj;    /* [L, N, C] down_proj output */
    float *residual3; /* [L, N, C] after the MLP residual: the layer's output */
    float *lnf;       /* [N, C] */
    float *lnf_rstd;  /* [N] */
    float *logits;    /* [N, V] */
    float *probs;     /* [N, V] */
    float *losses;    /* [N] per-token cross-entropy */
} train_acts;

/* Gradients of activations, sized for ONE layer and reused layer by layer
 * (from dln on, zeroed before each layer), and the attention's workspace. */
#define TRAIN_NUM_GRAD_ACTS 18
typedef struct train_grad_acts {
    float *dresidual; /* [N, C] gradient of the residual stream */
    float *dlogits;   /* [N, V] */
    float *attn_scratch; /* lcx_train_attention_scratch(B, T, KV, hd): forward and backward */
    float *dln;       /* [N, C] */
    float *dqg;       /* [N, QR] */
    float *dq_pre;    /* [N, H, hd] */
    float *dq_normed; /* [N, H, hd] */
    float *dq;        /* [N, H, hd] */
    float *dgate;     /* [N, H, gw] */
    float *dk_pre;    /* [N, KV, hd] */
    float *dk_normed; /* [N, KV, hd] */
    float *dk;        /* [N, KV, hd] */
    float *dv;        /* [N, KV, hd] */
    float *datty;     /* [N, H*hd] */
    float *dgated;    /* [N, H*hd] */
    float *dfc_gate;  /* [N, F] */
    float *dfc_up;    /* [N, F] */
    float *dswiglu;   /* [N, F] */
} train_grad_acts;

typedef struct train_model {
    train_config config;
    const lcx_train_ops *ops; /* the kernel variant this CPU runs (or LCX_ISA) */
    int B, T; /* batch shape the activations are built for */
    size_t param_sizes[TRAIN_NUM_PARAMS];
    size_t num_params;
    train_params params, grads, m, v; /* AdamW moments m, v */
    float *params_memory, *grads_memory, *m_memory, *v_memory;
    size_t act_sizes[TRAIN_NUM_ACTS];
    size_t num_acts;
    train_acts acts;
    float *acts_memory;
    size_t grad_act_sizes[TRAIN_NUM_GRAD_ACTS];
    train_grad_acts grad_acts;
    float *grad_acts_memory;
    float *rope_cos, *rope_sin; /* [T, hd/2] */
    int32_t *inputs, *targets;  /* [N] of the last forward */
    float *weights;             /* [N] */
    int have_targets;
    double mean_loss; /* of the last forward with targets */
} train_model;

/* Build a model for batches [B, T] with deterministic initialisation from
 * seed: matrices N(0, 0.02), o_proj and down_proj N(0, 0.02/sqrt(2L)), norm
 * weights 1. */
int train_model_init(train_model *m, const train_config *c, int B, int T, uint64_t seed,
                     lcx_err *err);
void train_model_free(train_model *m);

/* Forward a batch tokens [B, T]. With targets [B, T] (weights [B, T] or NULL
 * for all 1) *loss (may be NULL) receives the weighted mean cross-entropy;
 * targets NULL computes logits only (acts.logits [B*T, V]). */
int train_forward(train_model *m, const int32_t *tokens, const int32_t *targets,
                  const float *weights, double *loss, lcx_err *err);
/* Gradients of the last forward's mean loss, ADDED to m->grads. */
int train_backward(train_model *m, lcx_err *err);
void train_zero_grad(train_model *m);

typedef struct train_optim {
    double lr;           /* peak learning rate */
    double min_lr;       /* floor of the cosine */
    long warmup_steps;   /* linear warmup from lr/warmup to lr */
    long total_steps;    /* cosine from lr at warmup to min_lr at total_steps */
    double beta1, beta2, eps;
    double weight_decay; /* decoupled, on matrices only (not norms) */
    double grad_clip;    /* global L2 norm clip; <= 0: off */
} train_optim;

/* Defaults: lr 1e-3, min_lr 1e-4, warmup 100, total 1000, betas 0.9/0.95,
 * eps 1e-8, weight decay 0.1, clip 1.0. */
train_optim train_optim_default(void);
/* Learning rate at step (0-based). */
double train_lr(const train_optim *o, long step);
/* One AdamW step (step is 0-based) with clipping; *grad_norm (may be NULL)
 * gets the norm before clipping. */
void train_adamw_update(train_model *m, const train_optim *o, long step, double *grad_norm);

/* Hugging Face name, shape and data of each exported tensor, in file order.
 * Returns the count; fills at most max entries. */
typedef struct train_tensor {
    char name[96];
    int ndim;
    int shape[2];
    const float *data;
} train_tensor;
int train_model_tensors(const train_model *m, train_tensor *out, int max);

#endif
