/* qwen3_weights.h: what bench/engine.c and bench/prefill.c share to write a
 * random Qwen3-shaped model: its tensor list in the Hugging Face names, the
 * safetensors header for BF16 tensors, and rounding to BF16. Each program
 * draws its own values. Header-only (static functions): each bench is one
 * program. */
#ifndef LCX_BENCH_QWEN3_WEIGHTS_H
#define LCX_BENCH_QWEN3_WEIGHTS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"

typedef struct tensor_spec {
    char name[96];
    int rows, cols; /* cols 0: a vector */
} tensor_spec;

typedef struct qwen3_shape {
    int hidden, ffn, layers, heads, kv_heads, head_dim, vocab;
    int q_rows;  /* q_proj's rows: heads * head_dim, plus the gate's if any */
    int lm_head; /* 1: a separate lm_head.weight after model.norm.weight */
} qwen3_shape;

/* The tensors in file order; ts needs 3 + 11 * layers entries. Returns
 * the count. */
static int qwen3_tensors(const qwen3_shape *q, tensor_spec *ts)
{
    int n = 0;
#define ADD(r, c, ...) (snprintf(ts[n].name, sizeof ts[n].name, __VA_ARGS__), ts[n].rows = r, ts[n].cols = c, n++)
    ADD(q->vocab, q->hidden, "model.embed_tokens.weight");
    ADD(q->hidden, 0, "model.norm.weight");
    if (q->lm_head)
        ADD(q->vocab, q->hidden, "lm_head.weight");
    for (int l = 0; l < q->layers; l++) {
        ADD(q->hidden, 0, "model.layers.%d.input_layernorm.weight", l);
        ADD(q->hidden, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(q->q_rows, q->hidden, "model.layers.%d.self_attn.q_proj.weight", l);
        ADD(q->kv_heads * q->head_dim, q->hidden, "model.layers.%d.self_attn.k_proj.weight", l);
        ADD(q->kv_heads * q->head_dim, q->hidden, "model.layers.%d.self_attn.v_proj.weight", l);
        ADD(q->hidden, q->heads * q->head_dim, "model.layers.%d.self_attn.o_proj.weight", l);
        ADD(q->head_dim, 0, "model.layers.%d.self_attn.q_norm.weight", l);
        ADD(q->head_dim, 0, "model.layers.%d.self_attn.k_norm.weight", l);
        ADD(q->ffn, q->hidden, "model.layers.%d.mlp.gate_proj.weight", l);
        ADD(q->ffn, q->hidden, "model.layers.%d.mlp.up_proj.weight", l);
        ADD(q->hidden, q->ffn, "model.layers.%d.mlp.down_proj.weight", l);
    }
#undef ADD
    return n;
}

/* The safetensors header of ts[0..n) as consecutive BF16 tensors, padded
 * with spaces to a multiple of 8 bytes, into hdr (appended). */
static void st_header_bf16(const tensor_spec *ts, int n, strbuf *hdr)
{
    sb_putc(hdr, '{');
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t bytes = (size_t)ts[i].rows * (ts[i].cols ? ts[i].cols : 1) * 2;
        if (ts[i].cols)
            sb_printf(hdr, "%s\"%s\":{\"dtype\":\"BF16\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
                      i ? "," : "", ts[i].name, ts[i].rows, ts[i].cols, off, off + bytes);
        else
            sb_printf(hdr, "%s\"%s\":{\"dtype\":\"BF16\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
                      i ? "," : "", ts[i].name, ts[i].rows, off, off + bytes);
        off += bytes;
    }
    sb_putc(hdr, '}');
    while (hdr->len % 8)
        sb_putc(hdr, ' ');
}

/* f rounded to the nearest BF16, ties to even. */
static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

#endif
