/* config.h: a Hugging Face config.json read into the engine's blueprint
 * (docs/model.md, "config.json"). */
#ifndef LCX_ENGINE_CONFIG_H
#define LCX_ENGINE_CONFIG_H

#include <stddef.h>

#include "common/err.h"
#include "rope/rope.h"

typedef enum lcx_arch {
    LCX_ARCH_LLAMA = 0, /* LlamaForCausalLM */
    LCX_ARCH_MISTRAL,   /* MistralForCausalLM (sliding_window honoured) */
    LCX_ARCH_QWEN2,     /* Qwen2ForCausalLM: q/k/v bias */
    LCX_ARCH_QWEN3      /* Qwen3ForCausalLM: per-head q/k RMSNorm */
} lcx_arch;

/* Where q_proj keeps the gate logits: docs/model.md, "Gate layouts". */
typedef enum lcx_gate {
    LCX_GATE_NONE = 0,
    LCX_GATE_HEADWISE,    /* headwise_attn_output_gate: one scalar per head, fused per KV group */
    LCX_GATE_ELEMENTWISE, /* elementwise_attn_output_gate: head_dim per head, fused per KV group */
    LCX_GATE_INTERLEAVED  /* attn_output_gate (Qwen3-Next): [query h | gate h] per head */
} lcx_gate;

#define LCX_MAX_EOS 8

typedef struct lcx_config {
    lcx_arch arch;
    char arch_name[64];
    int dim;            /* hidden_size */
    int hidden_dim;     /* intermediate_size (FFN) */
    int n_layers;       /* num_hidden_layers */
    int n_heads;        /* num_attention_heads */
    int n_kv_heads;     /* num_key_value_heads (GQA) */
    int head_dim;       /* head_dim, default hidden_size / num_attention_heads */
    int vocab_size;
    int max_pos;        /* max_position_embeddings */
    double norm_eps;    /* rms_norm_eps */
    int tie_embeddings; /* lm_head = embed_tokens */
    int qkv_bias;       /* q/k/v_proj have .bias (Qwen2, or attention_bias) */
    int o_bias;         /* o_proj has .bias (attention_bias) */
    int qk_norm;        /* q_norm / k_norm per head (Qwen3) */
    lcx_gate gate;
    int sliding_window; /* keys visible to a query: i - j < window; 0 = all */
    int bos_id;         /* -1 if none */
    int eos_ids[LCX_MAX_EOS];
    int n_eos;
    lcx_rope_params rope; /* theta, head_dim, partial rotary and rope_scaling */
} lcx_config;

/* Parse config.json text json[0..len); path names the file in messages.
 * Unknown architectures, rope types and activations are errors. */
int lcx_config_parse(const char *json, size_t len, const char *path, lcx_config *c, lcx_err *err);

const char *lcx_gate_name(lcx_gate g);

/* q_proj output rows for this config (queries plus fused gates). */
int lcx_config_q_rows(const lcx_config *c);

#endif
