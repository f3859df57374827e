/* model_internal.h: the engine's three kinds of memory, shared by model.c
 * (loading) and forward.c (the forward pass). Private to engine/. */
#ifndef LCX_MODEL_INTERNAL_H
#define LCX_MODEL_INTERNAL_H

#include "engine/kernels.h"
#include "engine/model.h"
#include "engine/safetensors.h"

/* Parameters of one transformer layer. Linear weights are [out, in]. */
typedef struct LayerWeights {
    float *rms_att;   /* [dim] input_layernorm */
    lcx_weight wq;    /* [q_rows, dim]: queries (+ fused gates) */
    lcx_weight wk;    /* [n_kv_heads * head_dim, dim] */
    lcx_weight wv;    /* [n_kv_heads * head_dim, dim] */
    lcx_weight wo;    /* [dim, n_heads * head_dim] */
    float *bq, *bk, *bv, *bo; /* biases or NULL */
    float *q_norm;    /* [head_dim] (Qwen3) or NULL */
    float *k_norm;    /* [head_dim] (Qwen3) or NULL */
    float *rms_ffn;   /* [dim] post_attention_layernorm */
    lcx_weight w1;    /* [hidden_dim, dim] gate_proj */
    lcx_weight w3;    /* [hidden_dim, dim] up_proj */
    lcx_weight w2;    /* [dim, hidden_dim] down_proj */
} LayerWeights;

typedef struct Weights {
    lcx_weight token_embedding; /* [vocab, dim] */
    LayerWeights *layers;       /* [n_layers] */
    float *rms_final;           /* [dim] model.norm */
    lcx_weight lm_head;         /* [vocab, dim]; the embedding when tied */
    float *small;               /* one allocation: norms and biases in F32 */
    void **copies;              /* misaligned tensors copied to aligned memory */
    size_t n_copies;
} Weights;

struct lcx_model {
    char *dir;
    lcx_config config;          /* the blueprint, overrides applied */
    Weights weights;
    lcx_st_file *files;         /* mapped safetensors files */
    size_t n_files;
    lcx_tokenizer *tokenizer;   /* NULL if none */
    char tokenizer_note[1100];
    char weight_dtype[16];
    const lcx_kernels *kern;    /* the kernel variant this CPU runs (or LCX_ISA) */
    size_t weight_bytes;        /* mapped + packed */
    size_t packed_bytes;        /* the kernel variant's packed copies */
};

/* The wave of activations for one chunk of C tokens, plus the KV cache. */
typedef struct RunState {
    float *x;        /* [C, dim] residual stream */
    float *xb;       /* [C, dim] normalised input of a block */
    float *xb2;      /* [C, dim] block output before the residual add */
    float *qg;       /* [C, q_rows] q_proj output (queries + fused gates) */
    float *q;        /* [C, n_heads, hd_pad] queries, padded */
    float *gate;     /* [C, n_heads * gate_width] gate logits, then scores */
    float *k;        /* [C, n_kv_heads * head_dim] */
    float *v;        /* [C, n_kv_heads * head_dim] */
    float *att;      /* [C, n_heads * head_dim] attention output */
    float *hb;       /* [C, hidden_dim] */
    float *hb2;      /* [C, hidden_dim] */
    float *logits;   /* [C, vocab] */
    float *rope_cos; /* [C, rot_dim / 2] */
    float *rope_sin; /* [C, rot_dim / 2] */
    float *sink;     /* [n_heads, C] softmax weight on key 0 (probe) */
    float *ent;      /* [n_heads, C] softmax entropy per query (probe) */
    /* of kv_dtype: float (F32) or uint16_t (BF16, F16) */
    void *key_cache;    /* [n_layers][n_kv_heads][kv_blocks][hd_pad][LCX_KBLOCK] */
    void *value_cache;  /* [n_layers][n_kv_heads][kv_blocks * LCX_KBLOCK][hd_pad] */
    lcx_kscratch scratch; /* the kernels' per-thread work memory */
} RunState;

struct lcx_session {
    const lcx_model *model;
    RunState state;
    int chunk;        /* C */
    int max_seq;
    int kv_blocks;
    int pos;          /* positions in the cache */
    lcx_rope_params rope; /* what the tables below were computed from */
    int rot_dim;
    double *inv_freq; /* [rot_dim / 2] */
    double *inv_freq_next; /* the same size: where set_rope computes */
    double magnitude; /* attention_factor on cos and sin */
    float q_scale;    /* 1 / sqrt(head_dim) / temperature */
    lcx_dtype kv_dtype; /* of key_cache and value_cache */
    lcx_session_mem mem; /* what it holds */
    lcx_session_stats stats;
};

#endif
