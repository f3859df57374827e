/* test_train_checkpoint.c: save, resume bit for bit, and corrupt
 * checkpoints (flipped byte, truncation, bad magic) rejected with a one-line
 * error naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/rng.h"
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

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lcx_test_ckpt.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(resume_is_bit_exact);
    RUN(corrupt_checkpoints_rejected);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
