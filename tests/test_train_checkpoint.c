/* test_train_checkpoint.c: save, resume bit for bit, and corrupt
 * checkpoints (flipped byte, truncation, bad magic) rejected with a one-line
 * error naming the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/rng.h"
#include "common/sha256.h"
#include "tests/check.h"
#include "train/checkpoint.h"

static train_config small_config(void)
{
    train_config c = {.vocab_size = 32, .dim = 16, .hidden_dim = 24, .n_layers = 2, .n_heads = 2,
                      .n_kv_heads = 1, .head_dim = 8, .max_seq = 32, .tie_embeddings = 0,
                      .gate = TRAIN_GATE_HEADWISE, .rope_theta = 1e4, .norm_eps = 1e-6};
    return c;
}

static void step(train_model *m, train_state *st, double *loss)
{
    int32_t x[32], y[32];
    for (int i = 0; i < 32; i++) {
        x[i] = (int32_t)lcx_rng_below(&st->rng, 32);
        y[i] = (int32_t)lcx_rng_below(&st->rng, 32);
    }
    lcx_err err;
    train_zero_grad(m);
    CHECK(train_forward(m, x, y, NULL, loss, &err) == 0);
    CHECK(train_backward(m, &err) == 0);
    train_adamw_update(m, &st->optim, st->step, NULL);
    st->step++;
}

static char dir[64];

static void path_in_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

TEST(resume_is_bit_exact)
{
    train_config c = small_config();
    train_model m, r;
    lcx_err err;
    CHECK(train_model_init(&m, &c, 2, 16, 3, &err) == 0);
    train_state st = {.optim = train_optim_default(), .step = 0};
    st.optim.warmup_steps = 2;
    lcx_rng_seed(&st.rng, 5);
    double l;
    for (int i = 0; i < 3; i++)
        step(&m, &st, &l);
    char path[128];
    path_in_dir(path, sizeof path, "a.ckpt");
    CHECK(train_checkpoint_save(path, &m, &st, &err) == 0);
    double a[3], b[3];
    for (int i = 0; i < 3; i++)
        step(&m, &st, &a[i]);
    train_state rs;
    CHECK(train_checkpoint_load(path, 2, 16, &r, &rs, &err) == 0);
    CHECK(rs.step == 3 && rs.optim.warmup_steps == 2);
    for (int i = 0; i < 3; i++)
        step(&r, &rs, &b[i]);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(m.params_memory, r.params_memory, m.num_params * sizeof(float)) == 0);
    CHECK(memcmp(m.v_memory, r.v_memory, m.num_params * sizeof(float)) == 0);
    train_model_free(&m);
    train_model_free(&r);
}

/* Load a damaged copy of a.ckpt; the error must be one line naming it. */
static void expect_rejected(const char *name, long flip_at, long truncate_to, const char *want)
{
    char src[128], path[128];
    path_in_dir(src, sizeof src, "a.ckpt");
    path_in_dir(path, sizeof path, name);
    char *buf;
    size_t len;
    lcx_err err;
    CHECK(lcx_read_file(src, &buf, &len, &err) == 0);
    if (flip_at >= 0)
        buf[flip_at < (long)len ? flip_at : (long)len - 1] ^= 0x10;
    if (truncate_to >= 0)
        len = (size_t)truncate_to;
    CHECK(lcx_write_file_atomic(path, buf, len, &err) == 0);
    free(buf);
    train_model m;
    train_state st;
    int rc = train_checkpoint_load(path, 2, 16, &m, &st, &err);
    CHECK(rc == LCX_EINPUT);
    CHECK_MSG(strstr(err.msg, path) != NULL && strstr(err.msg, want) != NULL &&
                  strchr(err.msg, '\n') == NULL,
              "%s", err.msg);
    printf("     %s\n", err.msg);
    train_model_free(&m); /* zeroed on failure: safe */
}

TEST(corrupt_checkpoints_rejected)
{
    char src[128];
    path_in_dir(src, sizeof src, "a.ckpt");
    char *buf;
    size_t len;
    lcx_err err;
    CHECK(lcx_read_file(src, &buf, &len, &err) == 0);
    free(buf);
    expect_rejected("flip_data.ckpt", 256 + 1000, -1, "checksum mismatch in bytes [256,");
    expect_rejected("flip_header.ckpt", 20, -1, "header checksum mismatch");
    expect_rejected("flip_magic.ckpt", 0, -1, "bad magic at offset 0");
    expect_rejected("flip_table.ckpt", (long)len - 40, -1, "block table");
    expect_rejected("trunc.ckpt", -1, (long)len - 100, "truncated at offset");
    expect_rejected("trunc_header.ckpt", -1, 100, "truncated at offset 100");
    train_model m;
    train_state st;
    CHECK(train_checkpoint_load("/nonexistent/x.ckpt", 2, 16, &m, &st, &err) != 0);
    CHECK(strstr(err.msg, "/nonexistent/x.ckpt") != NULL);
}

/* A checkpoint with these header fields, zero parameters and every
 * checksum right, as a writer would make it (and as tests/fuzz_checkpoint.c
 * repairs its inputs). cfg: vocab, dim, hidden, layers, heads, kv heads,
 * head_dim, max_seq, tie, gate. */
static unsigned char *forge(const uint32_t cfg[10], double theta, double eps, uint64_t step,
                            uint64_t num_params, size_t *len)
{
    size_t data_end = 256 + 12 * (size_t)num_params, blocks = (data_end - 256 + (1 << 20) - 1) >> 20;
    *len = data_end + 32 * blocks + 32;
    unsigned char *b = calloc(*len, 1);
    if (!b)
        return NULL;
    uint64_t u64[12] = {0};
    memcpy(b, "LCXCKPT1", 8);
    uint32_t u32[2] = {1, 256};
    memcpy(b + 8, u32, 8);
    memcpy(b + 16, cfg, 40);
    memcpy(b + 56, &theta, 8);
    memcpy(b + 64, &eps, 8);
    memcpy(b + 72, &step, 8);
    memcpy(b + 80, u64, 12 * 8); /* RNG state, optimiser, warmup, total */
    memcpy(b + 184, &num_params, 8);
    uint64_t size = *len;
    memcpy(b + 192, &size, 8);
    lcx_sha256 s;
    for (size_t k = 0; k < blocks; k++) {
        size_t start = 256 + (k << 20), end = start + (1 << 20) < data_end ? start + (1 << 20) : data_end;
        lcx_sha256_init(&s);
        lcx_sha256_update(&s, b + start, end - start);
        lcx_sha256_final(&s, b + data_end + 32 * k);
    }
    lcx_sha256_init(&s);
    lcx_sha256_update(&s, b + data_end, 32 * blocks);
    lcx_sha256_final(&s, b + data_end + 32 * blocks);
    lcx_sha256_init(&s);
    lcx_sha256_update(&s, b, 224);
    lcx_sha256_final(&s, b + 224);
    return b;
}

static const uint32_t TINY[10] = {4, 2, 2, 1, 1, 1, 2, 8, 1, 0}; /* 46 parameters */

TEST(forged_checkpoint_loads)
{
    size_t len;
    unsigned char *b = forge(TINY, 1e4, 1e-6, 12, 46, &len);
    train_model m;
    train_state st;
    lcx_err err = {0};
    CHECK(train_checkpoint_parse(b, len, "tiny.ckpt", 1, 2, &m, &st, &err) == 0);
    CHECK(m.num_params == 46 && st.step == 12);
    train_model_free(&m);
    free(b);
}

/* Found by fuzz_checkpoint: a 288-byte checkpoint (header parameter count
 * 0) whose config asks for a 275 GB model was allocated (and initialised)
 * before the count was compared. */
TEST(small_file_with_a_huge_config_allocates_nothing)
{
    static const uint32_t cfg[10] = {1024, 512, 512, 256, 256, 256, 512, 2048, 256, 0};
    size_t len;
    unsigned char *b = forge(cfg, 7.68463292287551e+49, 2.9248814014573093e-307,
                             4666723172467343424ull, 0, &len);
    CHECK(len == 288);
    train_model m;
    train_state st;
    lcx_err err = {0};
    int rc = train_checkpoint_parse(b, len, "huge.ckpt", 1, 2, &m, &st, &err);
    CHECK_MSG(rc == LCX_EINPUT && strstr(err.msg, "huge.ckpt: parameter count at offset 184"),
              "rc %d: %s", rc, err.msg);
    CHECK(m.params_memory == NULL);
    train_model_free(&m);
    free(b);
}

/* Found by fuzz_checkpoint: a negative step was accepted (and a resumed
 * run would have trained from it with a negative learning rate). */
TEST(negative_step_is_refused)
{
    size_t len;
    unsigned char *b = forge(TINY, 1e4, 1e-6, (uint64_t)-288230376151711732ll, 46, &len);
    train_model m;
    train_state st;
    lcx_err err = {0};
    int rc = train_checkpoint_parse(b, len, "neg.ckpt", 1, 2, &m, &st, &err);
    CHECK_MSG(rc == LCX_EINPUT && strstr(err.msg, "neg.ckpt: step -288230376151711732 at offset 72 "
                                                  "is negative"),
              "rc %d: %s", rc, err.msg);
    train_model_free(&m);
    free(b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lcx_test_ckpt.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(resume_is_bit_exact);
    RUN(corrupt_checkpoints_rejected);
    RUN(forged_checkpoint_loads);
    RUN(small_file_with_a_huge_config_allocates_nothing);
    RUN(negative_step_is_refused);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
