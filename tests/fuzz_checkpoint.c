/* fuzz_checkpoint.c: libFuzzer target: arbitrary bytes as a training
 * checkpoint (lcx train --resume; train/checkpoint.c,
 * train_checkpoint_parse). Checksums guard the format, so a random file is
 * refused at once: each input is also tried "repaired" as a writer would
 * have made it. Byte REPAIR of the header says how: bit 0 repairs (magic,
 * version, the parameter count's file size, every checksum), bit 1 also
 * sets the parameter count from the header's config; the rest of the input
 * fills the parameters. An accepted checkpoint must hold a valid config,
 * its parameter count and a step >= 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha256.h"
#include "train/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    HEADER = 256, HASHED = 224, BLOCK = 1 << 20,
    H_CONFIG = 16, H_THETA = 56, H_EPS = 64, H_STEP = 72, H_NPARAMS = 184, H_FILE_SIZE = 192,
    REPAIR = 223,                /* an unused header byte */
    MAX_PARAMS = 1 << 15         /* repaired files stay small */
};

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void sha(const uint8_t *p, size_t n, uint8_t *out)
{
    lcx_sha256 s;
    lcx_sha256_init(&s);
    lcx_sha256_update(&s, p, n);
    lcx_sha256_final(&s, out);
}

static void try_load(const uint8_t *buf, size_t len)
{
    train_model m;
    train_state st;
    lcx_err err = {0};
    if (train_checkpoint_parse(buf, len, "fuzz.ckpt", 1, 2, &m, &st, &err)) {
        if (!err.msg[0])
            abort();
        return;
    }
    lcx_err e2 = {0};
    if (train_config_check(&m.config, &e2) || m.num_params != get_u64(buf + H_NPARAMS) ||
        st.step < 0) {
        fprintf(stderr, "accepted checkpoint: config '%s', %zu parameters (header %llu), step %ld\n",
                e2.msg, m.num_params, (unsigned long long)get_u64(buf + H_NPARAMS), st.step);
        abort();
    }
    train_model_free(&m);
}

/* The input as a checkpoint a writer could have made. */
static void try_repaired(const uint8_t *data, size_t size)
{
    uint8_t h[HEADER];
    memcpy(h, data, HEADER);
    memcpy(h, "LCXCKPT1", 8);
    h[8] = 1, h[9] = h[10] = h[11] = 0;
    if (h[REPAIR] & 2) {
        train_config c = {0};
        int *f[9] = {&c.vocab_size, &c.dim,      &c.hidden_dim, &c.n_layers,      &c.n_heads,
                     &c.n_kv_heads, &c.head_dim, &c.max_seq,    &c.tie_embeddings};
        for (int i = 0; i < 9; i++)
            *f[i] = (int)(uint32_t)(h[H_CONFIG + 4 * i] | h[H_CONFIG + 4 * i + 1] << 8 |
                                    h[H_CONFIG + 4 * i + 2] << 16 |
                                    (uint32_t)h[H_CONFIG + 4 * i + 3] << 24);
        c.gate = (train_gate)h[H_CONFIG + 36];
        memcpy(&c.rope_theta, h + H_THETA, 8);
        memcpy(&c.norm_eps, h + H_EPS, 8);
        if (train_config_check(&c, NULL) == 0)
            put_u64(h + H_NPARAMS, train_config_num_params(&c));
    }
    uint64_t np = get_u64(h + H_NPARAMS);
    if (np > MAX_PARAMS)
        return;
    size_t data_end = HEADER + 3 * (size_t)np * 4, blocks = (data_end - HEADER + BLOCK - 1) / BLOCK;
    size_t len = data_end + 32 * blocks + 32;
    put_u64(h + H_FILE_SIZE, len);
    uint8_t *buf = calloc(len, 1);
    if (!buf)
        return;
    size_t rest = size - HEADER < data_end - HEADER ? size - HEADER : data_end - HEADER;
    memcpy(buf + HEADER, data + HEADER, rest);
    for (size_t b = 0; b < blocks; b++) {
        size_t start = HEADER + b * BLOCK, end = start + BLOCK < data_end ? start + BLOCK : data_end;
        sha(buf + start, end - start, buf + data_end + 32 * b);
    }
    sha(buf + data_end, 32 * blocks, buf + data_end + 32 * blocks);
    sha(h, HASHED, h + HASHED);
    memcpy(buf, h, HEADER);
    try_load(buf, len);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);
    if (size >= HEADER && (data[REPAIR] & 1))
        try_repaired(data, size);
    return 0;
}
