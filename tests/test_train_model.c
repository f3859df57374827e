/* test_train_model.c: train/model.c end to end.
 *   - the whole model's backward (float) against central finite differences
 *     of its forward, per parameter tensor, along the gradient direction:
 *     fd = (L(p + e u) - L(p - e u)) / 2e with u = g/|g|, e = 1e-2, must
 *     equal |g| within 3% + 1e-3 (float forward: loss noise ~1e-6), for no
 *     gate / headwise / elementwise, tied and untied heads;
 *   - a copy task: 100 AdamW steps must cut the loss to below 40% of its
 *     first value, and two runs give the same losses bit for bit, also with
 *     1 thread against 2 (every reduction has a fixed order). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "tests/check.h"
#include "train/model.h"

static train_config tiny_config(train_gate gate, int tie)
{
    train_config c = {.vocab_size = 16, .dim = 32, .hidden_dim = 48, .n_layers = 2, .n_heads = 4,
                      .n_kv_heads = 2, .head_dim = 8, .max_seq = 64, .tie_embeddings = tie,
                      .gate = gate, .rope_theta = 10000.0, .norm_eps = 1e-6};
    return c;
}

static double loss_at(train_model *m, const int32_t *x, const int32_t *y, const float *w)
{
    double loss = 0;
    lcx_err err;
    CHECK(train_forward(m, x, y, w, &loss, &err) == 0);
    return loss;
}

static void check_model_grads(train_gate gate, int tie)
{
    train_config c = tiny_config(gate, tie);
    train_model m;
    lcx_err err;
    const int B = 2, T = 8, N = B * T;
    CHECK(train_model_init(&m, &c, B, T, 5, &err) == 0);
    lcx_rng r;
    lcx_rng_seed(&r, 77);
    /* a random point with larger weights than the init, so every tensor matters */
    for (size_t i = 0; i < m.num_params; i++)
        m.params_memory[i] = (float)(lcx_rng_double(&r) * 0.6 - 0.3);
    float *norms[] = {m.params.ln1w, m.params.q_norm, m.params.k_norm, m.params.ln2w,
                      m.params.lnfw};
    size_t norm_sizes[] = {(size_t)c.n_layers * c.dim, (size_t)c.n_layers * c.head_dim,
                           (size_t)c.n_layers * c.head_dim, (size_t)c.n_layers * c.dim,
                           (size_t)c.dim};
    for (int t = 0; t < 5; t++)
        for (size_t i = 0; i < norm_sizes[t]; i++)
            norms[t][i] = (float)(0.7 + 0.6 * lcx_rng_double(&r));
    int32_t x[16], y[16];
    float w[16];
    for (int n = 0; n < N; n++) {
        x[n] = (int32_t)lcx_rng_below(&r, 16);
        y[n] = (int32_t)lcx_rng_below(&r, 16);
        w[n] = n % 5 == 0 ? 0.0f : (float)(0.5 + lcx_rng_double(&r));
    }
    train_zero_grad(&m);
    loss_at(&m, x, y, w);
    CHECK(train_backward(&m, &err) == 0);
    const char *names[TRAIN_NUM_PARAMS] = {"wte",  "ln1w",   "wq",   "wk",     "wv",
                                           "q_norm", "k_norm", "wo", "ln2w", "w_gate",
                                           "w_up", "w_down", "lnfw", "lm_head"};
    size_t off = 0;
    double worst = 0;
    for (int t = 0; t < TRAIN_NUM_PARAMS; t++) {
        size_t n = m.param_sizes[t];
        if (!n)
            continue;
        float *p = m.params_memory + off, *g = m.grads_memory + off;
        double gn = 0;
        for (size_t i = 0; i < n; i++)
            gn += (double)g[i] * g[i];
        gn = sqrt(gn);
        float *keep = malloc(n * sizeof(float));
        memcpy(keep, p, n * sizeof(float));
        const double e = 1e-2;
        for (size_t i = 0; i < n; i++)
            p[i] = keep[i] + (float)(e * g[i] / gn);
        double lp = loss_at(&m, x, y, w);
        for (size_t i = 0; i < n; i++)
            p[i] = keep[i] - (float)(e * g[i] / gn);
        double lm = loss_at(&m, x, y, w);
        memcpy(p, keep, n * sizeof(float));
        free(keep);
        double fd = (lp - lm) / (2 * e), rel = fabs(fd - gn) / gn;
        worst = rel > worst ? rel : worst;
        CHECK_MSG(gn > 1e-3 && fabs(fd - gn) <= 0.03 * gn + 1e-3,
                  "gate %d tie %d tensor %s: |g| %.6g, fd %.6g", (int)gate, tie, names[t], gn, fd);
        off += n;
    }
    printf("     gate %d tie %d: worst per-tensor rel err %.2e (tol 3%%)\n", (int)gate, tie, worst);
    train_model_free(&m);
}

TEST(model_grads_no_gate_tied) { check_model_grads(TRAIN_GATE_NONE, 1); }
TEST(model_grads_headwise_untied) { check_model_grads(TRAIN_GATE_HEADWISE, 0); }
TEST(model_grads_elementwise_tied) { check_model_grads(TRAIN_GATE_ELEMENTWISE, 1); }

/* Copy task: BOS, 8 random tokens, the same 8 again; loss on the copy. */
static void copy_batch(lcx_rng *r, int B, int T, int32_t *x, int32_t *y, float *w)
{
    int half = T / 2;
    for (int b = 0; b < B; b++) {
        int32_t seq[65];
        seq[0] = 0;
        for (int i = 0; i < half; i++)
            seq[1 + i] = seq[1 + half + i] = (int32_t)(1 + lcx_rng_below(r, 15));
        for (int t = 0; t < T; t++) {
            x[b * T + t] = seq[t];
            y[b * T + t] = seq[t + 1];
            w[b * T + t] = t >= half ? 1.0f : 0.0f;
        }
    }
}

static void train_copy(double *losses, int steps, int threads)
{
    int saved_threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    train_config c = tiny_config(TRAIN_GATE_ELEMENTWISE, 1);
    train_model m;
    lcx_err err;
    const int B = 16, T = 16;
    CHECK(train_model_init(&m, &c, B, T, 1234, &err) == 0);
    train_optim o = train_optim_default();
    o.lr = 1e-2, o.min_lr = 1e-3, o.warmup_steps = 10, o.total_steps = steps, o.weight_decay = 0;
    lcx_rng data;
    lcx_rng_seed(&data, 99);
    int32_t x[256], y[256];
    float w[256];
    for (int s = 0; s < steps; s++) {
        copy_batch(&data, B, T, x, y, w);
        train_zero_grad(&m);
        CHECK(train_forward(&m, x, y, w, &losses[s], &err) == 0);
        CHECK(train_backward(&m, &err) == 0);
        train_adamw_update(&m, &o, s, NULL);
    }
    train_model_free(&m);
    omp_set_num_threads(saved_threads);
}

TEST(copy_task_learns_deterministically)
{
    enum { STEPS = 100 };
    double a[STEPS], b[STEPS], one[STEPS];
    train_copy(a, STEPS, 2);
    train_copy(b, STEPS, 2);
    train_copy(one, STEPS, 1);
    double last = 0;
    for (int s = STEPS - 10; s < STEPS; s++)
        last += a[s] / 10;
    printf("     copy task: loss %.4f at step 0, mean of steps 90-99 %.4f\n", a[0], last);
    CHECK_MSG(last < 0.4 * a[0], "loss %.4f -> %.4f", a[0], last);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, one, sizeof a) == 0);
}

TEST(lr_schedule)
{
    train_optim o = train_optim_default();
    o.lr = 1.0, o.min_lr = 0.1, o.warmup_steps = 10, o.total_steps = 110;
    CHECK_NEAR(train_lr(&o, 0), 0.1, 1e-12);
    CHECK_NEAR(train_lr(&o, 9), 1.0, 1e-12);
    CHECK_NEAR(train_lr(&o, 60), 0.55, 1e-12); /* half way down the cosine */
    CHECK_NEAR(train_lr(&o, 110), 0.1, 1e-12);
}

TEST(bad_inputs)
{
    train_config c = tiny_config(TRAIN_GATE_NONE, 1);
    train_model m;
    lcx_err err;
    c.n_kv_heads = 3;
    CHECK(train_model_init(&m, &c, 1, 8, 1, &err) == LCX_EINPUT);
    CHECK(strstr(err.msg, "n_kv_heads") != NULL);
    c = tiny_config(TRAIN_GATE_NONE, 1);
    CHECK(train_model_init(&m, &c, 1, 128, 1, &err) == LCX_EINPUT); /* T > max_seq */
    CHECK(train_model_init(&m, &c, 1, 8, 1, &err) == 0);
    int32_t x[8] = {0, 1, 2, 3, 4, 5, 6, 16};
    CHECK(train_forward(&m, x, NULL, NULL, NULL, &err) == LCX_EINPUT);
    CHECK(strstr(err.msg, "index 7") != NULL);
    CHECK(train_backward(&m, &err) != 0); /* no forward with targets yet */
    train_model_free(&m);
}

int main(void)
{
    RUN(model_grads_no_gate_tied);
    RUN(model_grads_headwise_untied);
    RUN(model_grads_elementwise_tied);
    RUN(copy_task_learns_deterministically);
    RUN(lr_schedule);
    RUN(bad_inputs);
    return check_summary();
}
