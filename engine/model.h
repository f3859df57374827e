/* model.h: the white-box inference engine's API.
 *
 *   lcx_model    a loaded Hugging Face model directory: config, weights
 *                (memory-mapped, F32/F16/BF16; computed in F32, F16/BF16
 *                rows converted on the fly), tokenizer when available.
 *   lcx_session  the KV cache and activations for one sequence, and the
 *                RoPE it runs with (a session property: one loaded model
 *                serves any RoPE setting, see rope/opts.h). The cache holds
 *                F32 (default), BF16 or F16 keys and values.
 *
 * Architectures: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
 * Qwen3ForCausalLM; GQA, tied embeddings, partial rotary, head_dim; gated
 * attention (headwise / elementwise fused per KV group, Qwen3-Next
 * interleaved). */
#ifndef LCX_MODEL_H
#define LCX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/config.h"
#include "engine/safetensors.h"
#include "rope/rope.h"
#include "tokenizer/tokenizer.h"

typedef struct lcx_model lcx_model;
typedef struct lcx_session lcx_session;

/* Load dir (config.json, model.safetensors or model.safetensors.index.json,
 * tokenizer.json). Every tensor is validated before use, and the config's
 * own RoPE (lcx_model_config(m)->rope) must be computable. A missing or
 * unloadable tokenizer is not an error: lcx_model_tokenizer returns NULL
 * and lcx_model_tokenizer_note says why. */
int lcx_model_load(const char *dir, lcx_model **out, lcx_err *err);
void lcx_model_free(lcx_model *m);

const lcx_config *lcx_model_config(const lcx_model *m);
const lcx_tokenizer *lcx_model_tokenizer(const lcx_model *m);
const char *lcx_model_tokenizer_note(const lcx_model *m);
/* Dtype of the largest weights ("F32", "F16", "BF16", or "mixed"). */
const char *lcx_model_weight_dtype(const lcx_model *m);
/* The kernel variant the model runs ("generic", "avx2", "avx512", "neon"):
 * the best this CPU runs, or the one LCX_ISA forces (common/isa.h). */
const char *lcx_model_isa(const lcx_model *m);
/* Bytes the weights take: the data mapped, plus the copies the kernel
 * variant packed into its own layout (lcx_model_packed_bytes). */
size_t lcx_model_weight_bytes(const lcx_model *m);
/* Bytes of those packed copies (0 but for the amx variant). */
size_t lcx_model_packed_bytes(const lcx_model *m);

/* Per-layer measurements of the attention-sink probe. Query heads beyond
 * LCX_PROBE_MAX_HEADS are refused by lcx_session_eval when probing. */
#define LCX_PROBE_MAX_HEADS 256
typedef struct lcx_probe_layer {
    double sink_sum;   /* sum of softmax weight on key 0 ... */
    long sink_count;   /* ... over heads x query positions >= probe.from_pos */
    float max_abs_hidden; /* max |residual stream| after the layer, all positions */
    double gate_sum;   /* sum of sigmoid gate scores (gated models) */
    long gate_count;
    long gate_low;     /* gate scores < 0.1 */
    /* Attention entropy -sum_j p_j ln p_j (nats) of each head's softmax
     * over the keys it sees, summed over heads x query positions >=
     * probe.from_pos; entropy_norm_sum adds each entropy divided by
     * ln(keys seen), 0 where a query sees one key. */
    double entropy_sum, entropy_norm_sum;
    long entropy_count;
    /* Per query head: softmax weight on key 0 summed over every query
     * position (Gu et al.'s first-token score before the mean), and the
     * positions summed. */
    double head_first_sum[LCX_PROBE_MAX_HEADS];
    long head_first_count;
} lcx_probe_layer;

typedef struct lcx_probe {
    int n_layers;
    int from_pos;            /* sink share and entropy count query positions >= from_pos */
    lcx_probe_layer *layers; /* n_layers entries, caller allocated and zeroed */
} lcx_probe;

/* Entropy in nats of softmax(scores[0..n)), n >= 1, computed as the probe
 * does: with m = max scores and Z = sum exp(s - m),
 * H = ln Z - sum exp(s - m) (s - m) / Z. Entries of -inf have weight 0. */
double lcx_softmax_entropy(const float *scores, int n);

/* How a session is set up; all zero is the default. */
typedef struct lcx_session_opts {
    int chunk;                   /* prefill chunk size (0 = 256) */
    const lcx_rope_params *rope; /* the RoPE it runs with (NULL: the config's own) */
    lcx_dtype kv_dtype;          /* element type of the KV cache: LCX_DT_F32 (0,
                                  * exact), LCX_DT_BF16 or LCX_DT_F16 (half the
                                  * memory; keys and values rounded to nearest
                                  * when stored, F16 saturating at +-65504,
                                  * attention still computed in F32) */
} lcx_session_opts;

/* A session holding up to max_seq positions, set up as o says (NULL: the
 * defaults). The RoPE parameters and the KV dtype are checked here
 * (LCX_EINPUT when unusable). */
int lcx_session_new_opts(const lcx_model *m, int max_seq, const lcx_session_opts *o,
                         lcx_session **out, lcx_err *err);
/* The same with an F32 KV cache: lcx_session_new_opts with {chunk, rope}. */
int lcx_session_new(const lcx_model *m, int max_seq, int chunk, const lcx_rope_params *rope,
                    lcx_session **out, lcx_err *err);

/* The memory a session takes, in bytes. */
typedef struct lcx_session_mem {
    size_t weights;     /* the model's weights (lcx_model_weight_bytes) */
    size_t kv_cache;    /* keys and values of every layer */
    size_t activations; /* one chunk's activations, RoPE tables, kernel scratch */
} lcx_session_mem;

/* What lcx_session_new_opts(m, max_seq, o) would allocate, without
 * allocating it (the same arithmetic; LCX_EINPUT for what it would
 * refuse). */
int lcx_session_mem_estimate(const lcx_model *m, int max_seq, const lcx_session_opts *o,
                             lcx_session_mem *out, lcx_err *err);
/* What s holds. */
lcx_session_mem lcx_session_memory(const lcx_session *s);

/* "f32", "bf16", "f16" <-> LCX_DT_F32, LCX_DT_BF16, LCX_DT_F16 (the KV
 * dtypes); parse returns LCX_EINPUT for any other name. */
int lcx_kv_dtype_parse(const char *name, lcx_dtype *out);
const char *lcx_kv_dtype_name(lcx_dtype dt);
/* Run with other RoPE parameters from now on: the cache is emptied (its keys
 * were rotated with the old ones); nothing is reallocated. On error the
 * session keeps its old parameters. */
int lcx_session_set_rope(lcx_session *s, const lcx_rope_params *rope, lcx_err *err);
const lcx_rope_params *lcx_session_rope(const lcx_session *s);
void lcx_session_free(lcx_session *s);
int lcx_session_pos(const lcx_session *s); /* positions already in the cache */
/* The prefill chunk: lcx_session_eval runs its tokens this many at a time. */
int lcx_session_chunk(const lcx_session *s);
/* Drop everything after position pos (pos <= current). */
void lcx_session_rewind(lcx_session *s, int pos);
/* Bytes of KV cache allocated. */
size_t lcx_session_kv_bytes(const lcx_session *s);
/* The KV cache's element type. */
lcx_dtype lcx_session_kv_dtype(const lcx_session *s);

/* Time spent, for benchmarks and speed lines. */
typedef struct lcx_session_stats {
    double attn_seconds; /* inside attention_tiled */
    double attn_flops;   /* 4 * head_dim * (query, key) pairs * heads */
    double total_seconds; /* inside lcx_session_eval */
} lcx_session_stats;
lcx_session_stats lcx_session_get_stats(const lcx_session *s);

/* Called with the logits of n consecutive positions starting at first
 * (n x vocab floats). Return nonzero (and fill err) to stop. */
typedef int (*lcx_logits_fn)(void *ctx, int first, int n, const float *logits, lcx_err *err);

/* Run tokens[0..n) at the next positions, in chunks. last_logits (vocab
 * floats) receives the logits of the final token when not NULL; all_fn, when
 * not NULL, receives the logits of every position; probe, when not NULL,
 * accumulates per-layer measurements. */
int lcx_session_eval(lcx_session *s, const int32_t *tokens, int n, float *last_logits,
                     lcx_logits_fn all_fn, void *all_ctx, lcx_probe *probe, lcx_err *err);

#endif
