/* bench/kernels.c: the machine's fp32 peak and the engine's kernels against it.
 *
 *   build/bench/kernels [peak|matmul|attention [HEAD_DIM]|all]      default all
 *
 * peak: GFLOPS of a loop of independent FMAs on registers only (ten
 * accumulator chains, enough to hide the FMA latency on both FMA pipes), on
 * one thread and on every thread: the ceiling the other figures are a share
 * of. x86-64 only (AVX2+FMA, and AVX-512 where the CPU has it); elsewhere it
 * prints that it cannot measure.
 * matmul: the kernel table's matmul (LCX_ISA picks the variant) on the
 * Qwen3 shape of bench/prefill (hidden 1024, FFN 3072) at 512 tokens, with
 * F32 and BF16 weights: GFLOPS = 2 * tokens * rows * cols / time, best of 20.
 * attention: the attention kernel over a whole causal prefill of 4096
 * tokens in chunks of 512 (random roped queries, F32 cache), for the head
 * shapes of the bundled tiny model (6/2 heads of 32), bench/engine (4/2 of
 * 64) and the Qwen3 shape (16/8 of 128): GFLOPS = 4 * head_dim * heads *
 * causal (query, key) pairs / time, best of 3. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/isa.h"
#include "common/rng.h"
#include "engine/kernels.h"

#if defined(__x86_64__)
#define FMA10(r)                                                                               \
    "vfmadd231ps %%" r "1,%%" r "2,%%" r "3\n\t vfmadd231ps %%" r "1,%%" r "2,%%" r "4\n\t"     \
    "vfmadd231ps %%" r "1,%%" r "2,%%" r "5\n\t vfmadd231ps %%" r "1,%%" r "2,%%" r "6\n\t"     \
    "vfmadd231ps %%" r "1,%%" r "2,%%" r "7\n\t vfmadd231ps %%" r "1,%%" r "2,%%" r "8\n\t"     \
    "vfmadd231ps %%" r "1,%%" r "2,%%" r "9\n\t vfmadd231ps %%" r "1,%%" r "2,%%" r "10\n\t"    \
    "vfmadd231ps %%" r "1,%%" r "2,%%" r "11\n\t vfmadd231ps %%" r "1,%%" r "2,%%" r "12\n\t"

/* n iterations of 10 independent FMAs on registers of the named width */
#define FMA_LOOP(name, isa, r)                                                                 \
    __attribute__((target(isa))) static void name(long n)                                          \
    {                                                                                          \
        __asm__ volatile("vxorps %%" r "1,%%" r "1,%%" r "1\n\t vxorps %%" r "2,%%" r "2,%%" r    \
                         "2\n\t1:\n\t" FMA10(r) "dec %0\n\t jnz 1b\n\t vzeroupper"                \
                         : "+r"(n)                                                             \
                         :                                                                     \
                         : "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",      \
                           "xmm9", "xmm10", "xmm11", "xmm12", "cc");                           \
    }
FMA_LOOP(fma_loop_avx2, "avx2,fma", "ymm")
FMA_LOOP(fma_loop_avx512, "avx512f", "zmm")

/* best of 5 runs of n_iter iterations per thread; flops per iteration
 * 10 FMAs x lanes x 2 */
static double peak_gflops(int threads, int wide)
{
    const long iters = 100000000L;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads)
        {
            if (wide)
                fma_loop_avx512(iters);
            else
                fma_loop_avx2(iters);
        }
        double gf = (double)iters * threads * 10 * (wide ? 16 : 8) * 2 / (omp_get_wtime() - t0) / 1e9;
        if (gf > best)
            best = gf;
    }
    return best;
}
#endif

static void bench_peak(void)
{
#if defined(__x86_64__)
    int nt = omp_get_max_threads();
    if (!lcx_isa_supported(LCX_ISA_AVX2)) {
        printf("peak: this CPU has no AVX2+FMA; not measured\n");
        return;
    }
    printf("peak fp32, FMA loop (ymm, 8 lanes): 1 thread %.1f GFLOPS, %d threads %.1f GFLOPS\n",
           peak_gflops(1, 0), nt, peak_gflops(nt, 0));
    if (lcx_isa_supported(LCX_ISA_AVX512))
        printf("peak fp32, FMA loop (zmm, 16 lanes): 1 thread %.1f GFLOPS, %d threads %.1f GFLOPS\n",
               peak_gflops(1, 1), nt, peak_gflops(nt, 1));
#else
    printf("peak: measured on x86-64 only\n");
#endif
}

static void bench_matmul(const lcx_kernels *kv)
{
    lcx_err err;
    lcx_isa isa = kv->isa;
    int nt = omp_get_max_threads();
    lcx_kscratch ks;
    if (lcx_kscratch_init(&ks, nt, 128, 2, &err)) {
        fprintf(stderr, "kernels: %s\n", err.msg);
        return;
    }
    const int tok = 512;
    const int shapes[][2] = {{1024, 1024}, {3072, 1024}, {1024, 3072}};
    lcx_rng rng;
    lcx_rng_seed(&rng, 3);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int rows = shapes[s][0], cols = shapes[s][1];
        float *x = malloc((size_t)tok * cols * sizeof *x);
        float *y = malloc((size_t)tok * rows * sizeof *y);
        float *wf = malloc((size_t)rows * cols * sizeof *wf);
        uint16_t *wb = malloc((size_t)rows * cols * sizeof *wb);
        if (!x || !y || !wf || !wb) {
            fprintf(stderr, "kernels: out of memory\n");
            free(x), free(y), free(wf), free(wb);
            break;
        }
        for (size_t i = 0; i < (size_t)tok * cols; i++)
            x[i] = (float)lcx_rng_double(&rng) - 0.5f;
        for (size_t i = 0; i < (size_t)rows * cols; i++) {
            wb[i] = lcx_f32_to_bf16(((float)lcx_rng_double(&rng) - 0.5f) * 0.05f);
            wf[i] = lcx_bf16_to_f32(wb[i]);
        }
        for (int dt = 0; dt < 2; dt++) {
            lcx_weight w = {dt ? (const void *)wb : (const void *)wf, dt ? LCX_DT_BF16 : LCX_DT_F32,
                            rows, cols, NULL};
            /* packed as a model load packs it (amx: BF16 as tiles) */
            size_t pbytes = kv->pack_bytes ? kv->pack_bytes(&w) : 0;
            void *packed = pbytes ? aligned_alloc(64, (pbytes + 63) / 64 * 64) : NULL;
            if (packed) {
                kv->pack(packed, &w);
                w.packed = packed;
            }
            double best = 1e30;
            for (int rep = 0; rep < 20; rep++) {
                double t0 = omp_get_wtime();
                kv->matmul(y, x, &w, NULL, tok, &ks);
                double t = omp_get_wtime() - t0;
                best = t < best ? t : best;
            }
            printf("matmul %s %d threads: %d tokens x [%d x %d] %s: %.2f ms, %.1f GFLOPS\n",
                   lcx_isa_name(isa), nt, tok, rows, cols, dt ? "bf16" : "f32", best * 1e3,
                   2.0 * tok * rows * cols / best / 1e9);
            free(packed);
        }
        free(x), free(y), free(wf), free(wb);
    }
    lcx_kscratch_free(&ks);
}

static void bench_attention(const lcx_kernels *kv, int only_hd)
{
    lcx_err err;
    lcx_isa isa = kv->isa;
    const int len = 4096, chunk = 512, nt = omp_get_max_threads();
    const int shapes[][3] = {{6, 2, 32}, {4, 2, 64}, {16, 8, 128}};
    lcx_rng rng;
    lcx_rng_seed(&rng, 5);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int nh = shapes[s][0], nkv = shapes[s][1], hd = shapes[s][2], hdp = lcx_hd_pad(hd);
        if (only_hd && hd != only_hd)
            continue;
        int blocks = len / LCX_KBLOCK;
        lcx_kscratch ks;
        if (lcx_kscratch_init(&ks, nt, hd, nh / nkv, &err)) {
            fprintf(stderr, "kernels: %s\n", err.msg);
            return;
        }
        size_t kvn = (size_t)nkv * blocks * LCX_KBLOCK * hdp;
        float *kc = malloc(kvn * sizeof *kc), *vc = malloc(kvn * sizeof *vc);
        float *q = malloc((size_t)chunk * nh * hdp * sizeof *q);
        float *out = malloc((size_t)chunk * nh * hd * sizeof *out);
        if (!kc || !vc || !q || !out) {
            fprintf(stderr, "kernels: out of memory\n");
            free(kc), free(vc), free(q), free(out);
            lcx_kscratch_free(&ks);
            return;
        }
        for (size_t i = 0; i < kvn; i++) {
            kc[i] = (float)lcx_rng_double(&rng) - 0.5f;
            vc[i] = (float)lcx_rng_double(&rng) - 0.5f;
        }
        for (size_t i = 0; i < (size_t)chunk * nh * hdp; i++)
            q[i] = ((float)lcx_rng_double(&rng) - 0.5f) * 0.5f;
        double best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = omp_get_wtime();
            for (int pos0 = 0; pos0 < len; pos0 += chunk)
                kv->attention(out, q, kc, vc, LCX_DT_F32, chunk, pos0, nh, nkv, hd, blocks, 0, NULL, NULL,
                              &ks);
            double t = omp_get_wtime() - t0;
            best = t < best ? t : best;
        }
        double pairs = (double)len * (len + 1) / 2;
        printf("attention %s %d threads: %d tokens, %d/%d heads of %d: %.1f ms, %.1f GFLOPS\n",
               lcx_isa_name(isa), nt, len, nh, nkv, hd, best * 1e3,
               4.0 * hd * nh * pairs / best / 1e9);
        free(kc), free(vc), free(q), free(out);
        lcx_kscratch_free(&ks);
    }
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    lcx_err err;
    const lcx_kernels *kv = NULL;
    lcx_isa isa;
    if (lcx_isa_from_env(&isa, &err) || !(kv = lcx_kernels_get(isa))) { /* LCX_ISA or the best */
        fprintf(stderr, "kernels: %s\n", err.msg);
        return 2;
    }
    if (!strcmp(what, "peak") || !strcmp(what, "all"))
        bench_peak();
    if (!strcmp(what, "matmul") || !strcmp(what, "all"))
        bench_matmul(kv);
    if (!strcmp(what, "attention") || !strcmp(what, "all"))
        bench_attention(kv, argc > 2 ? atoi(argv[2]) : 0);
    return 0;
}
