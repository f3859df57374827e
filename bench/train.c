/* bench/train.c: training throughput of train/ (forward + backward + AdamW)
 * for a realistic small config: hidden 192, 4 layers, 6 query / 2 KV heads,
 * head_dim 32, FFN 512, vocab 2048 (tied), elementwise gate, T 512, batch 8.
 *
 * Effective GFLOPS = (6 x params x tokens + attention) / step time, with
 * attention = 12 x head_dim x heads x causal (query, key) pairs x layers
 * (forward 4, backward 8). Threads: OMP_NUM_THREADS (default 2); waiting:
 * OMP_WAIT_POLICY=passive unless the environment sets a policy (spinning
 * threads lose badly on a shared 2-core machine, as bench/engine found).
 *   usage: build/bench/train [steps] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/rng.h"
#include "train/model.h"

int main(int argc, char **argv)
{
    if (!getenv("OMP_WAIT_POLICY")) { /* read when the runtime starts: re-exec */
        setenv("OMP_WAIT_POLICY", "passive", 1);
        execv("/proc/self/exe", argv);
    }
    int steps = argc > 1 ? atoi(argv[1]) : 4;
    if (steps < 1)
        steps = 1;
    if (!getenv("OMP_NUM_THREADS"))
        omp_set_num_threads(2);
    train_config c = {.vocab_size = 2048, .dim = 192, .hidden_dim = 512, .n_layers = 4,
                      .n_heads = 6, .n_kv_heads = 2, .head_dim = 32, .max_seq = 1024,
                      .tie_embeddings = 1, .gate = TRAIN_GATE_ELEMENTWISE, .rope_theta = 1e4,
                      .norm_eps = 1e-6};
    const int B = 8, T = 512, N = B * T;
    train_model m;
    lcx_err err;
    if (train_model_init(&m, &c, B, T, 1, &err)) {
        fprintf(stderr, "bench/train: %s\n", err.msg);
        return 2;
    }
    int32_t *x = malloc(sizeof(int32_t) * N), *y = malloc(sizeof(int32_t) * N);
    lcx_rng r;
    lcx_rng_seed(&r, 2);
    for (int i = 0; i < N; i++) {
        x[i] = (int32_t)lcx_rng_below(&r, c.vocab_size);
        y[i] = (int32_t)lcx_rng_below(&r, c.vocab_size);
    }
    train_optim o = train_optim_default();
    double pairs = (double)B * T * (T + 1) / 2;
    double flops = 6.0 * (double)m.num_params * N +
                   12.0 * c.head_dim * c.n_heads * pairs * c.n_layers;
    double fwd = 0, bwd = 0, upd = 0, loss = 0;
    for (int s = 0; s <= steps; s++) { /* step 0 warms up */
        double t0 = omp_get_wtime();
        train_zero_grad(&m);
        if (train_forward(&m, x, y, NULL, &loss, &err)) {
            fprintf(stderr, "bench/train: %s\n", err.msg);
            return 2;
        }
        double t1 = omp_get_wtime();
        train_backward(&m, &err);
        double t2 = omp_get_wtime();
        train_adamw_update(&m, &o, s, NULL);
        double t3 = omp_get_wtime();
        if (s > 0)
            fwd += t1 - t0, bwd += t2 - t1, upd += t3 - t2;
    }
    double step_s = (fwd + bwd + upd) / steps;
    printf("train: hidden %d, %d layers, %d/%d heads x %d, FFN %d, vocab %d, %s gate; "
           "batch %d x T %d; %zu params; %d threads, OMP_WAIT_POLICY=%s\n",
           c.dim, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim, c.hidden_dim, c.vocab_size,
           "elementwise", B, T, m.num_params, omp_get_max_threads(), getenv("OMP_WAIT_POLICY"));
    printf("step %.3f s (forward %.3f, backward %.3f, AdamW %.3f), %.0f tokens/s, %.1f effective "
           "GFLOPS (%.2f GFLOP/step, attention %.0f%%), loss %.3f\n",
           step_s, fwd / steps, bwd / steps, upd / steps, N / step_s, flops / step_s * 1e-9,
           flops * 1e-9, 100.0 * 12.0 * c.head_dim * c.n_heads * pairs * c.n_layers / flops, loss);
    free(x);
    free(y);
    train_model_free(&m);
    return 0;
}
