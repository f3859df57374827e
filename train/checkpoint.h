/* checkpoint.h: training checkpoints (resume) and Hugging Face export.
 *
 * Checkpoint file (little-endian), written atomically (common/fsio.h):
 *   [0, 256)        header: magic "LCXCKPT1", version, config, step, RNG
 *                   state, optimiser settings, parameter count, file size;
 *                   SHA-256 of bytes [0, 224) at [224, 256)
 *   [256, D)        params, AdamW m, AdamW v: float32 each
 *   [D, D + 32k)    SHA-256 of each 1 MiB block of [256, D)
 *   last 32 bytes   SHA-256 of that block table
 * A flipped byte or a truncated file is rejected with a one-line error
 * naming the file and the offset or byte range.
 *
 * Export: a Hugging Face directory (config.json for Qwen3ForCausalLM with
 * the gated-attention flags, model.safetensors in F32 or BF16, optionally
 * tokenizer.json), built in "<dir>.tmp.<pid>" and renamed into place, so no
 * half-written directory is ever left at <dir>. */
#ifndef LCX_TRAIN_CHECKPOINT_H
#define LCX_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "common/err.h"
#include "common/rng.h"
#include "train/model.h"

/* What a resumed run needs besides the model. */
typedef struct train_state {
    train_optim optim;
    long step;   /* steps completed */
    lcx_rng rng; /* the data stream's generator */
} train_state;

int train_checkpoint_save(const char *path, const train_model *m, const train_state *st,
                          lcx_err *err);
/* Read and verify path, then build *m (train_model_init with the file's
 * config and batch [B, T]) holding its parameters and AdamW moments. */
int train_checkpoint_load(const char *path, int B, int T, train_model *m, train_state *st,
                          lcx_err *err);

/* The same on a checkpoint's bytes (path names it in messages). */
int train_checkpoint_parse(const void *data, size_t len, const char *path, int B, int T,
                           train_model *m, train_state *st, lcx_err *err);

typedef enum train_dtype { TRAIN_DT_F32 = 0, TRAIN_DT_BF16 } train_dtype;

/* float -> bfloat16 bits, round to nearest even (NaN stays a quiet NaN). */
uint16_t train_f32_to_bf16(float x);
float train_bf16_to_f32(uint16_t h);

typedef struct train_export_opts {
    train_dtype dtype;
    const char *tokenizer_json; /* contents for tokenizer.json, or NULL */
    int bos_id, eos_id;         /* written to config.json when >= 0 */
} train_export_opts;

/* Write the model as a Hugging Face directory at dir (replacing an existing
 * one only once the new one is complete). */
int train_export_hf(const train_model *m, const char *dir, const train_export_opts *o,
                    lcx_err *err);

#endif
