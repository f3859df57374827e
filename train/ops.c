/* ops.c: the trainer's operations (see ops.h). Each op's forward sits
 * directly above its backward, with the same argument order.
 *
 * Written over `real`: the library builds it as float, once per instruction
 * set like engine/kernels.c (the Makefile passes -DLCX_KV_<VARIANT> and the
 * variant's target flags; the FMA variants contract a * b + c into fused
 * instructions, the generic one does not), each copy static behind its
 * table lcx_train_ops_<variant>. tests/test_train_ops.c defines TRAIN_REAL
 * double and TRAIN_OP(name) name##_f64 and includes this file, so the
 * gradient checks run the same code in double precision. <tgmath.h> picks
 * expf/exp by type. */
#ifndef TRAIN_REAL
#define TRAIN_REAL float
#define TRAIN_OP(name) name
#define TRAIN_API static
#endif
#include "train/ops.h"
#ifndef TRAIN_API
#define TRAIN_API
#endif

#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

typedef TRAIN_REAL real;

/* One vector register of reals (GCC vector extension): 64 bytes with
 * AVX-512, 32 with AVX2, 16 otherwise (generic, NEON, the double test). */
#if defined(LCX_KV_AVX512)
#define VBYTES 64
#elif defined(LCX_KV_AVX2)
#define VBYTES 32
#else
#define VBYTES 16
#endif
typedef real vreal __attribute__((vector_size(VBYTES)));
enum { VL = VBYTES / sizeof(real) };

static inline vreal vload(const real *p)
{
    vreal v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vstore(real *p, vreal v)
{
    memcpy(p, &v, sizeof v);
}

/* The lanes of v summed pairwise (halves, then quarters, ...): a fixed
 * order, and a chain of log2(VL) adds instead of VL. */
static inline real lanes_sum(vreal v)
{
    real t[VL];
    vstore(t, v);
    for (int w = VL / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            t[l] += t[l + w];
    return t[0];
}

/* An integer vector of the lanes' width: what a vector comparison gives. */
typedef __typeof__((vreal){0} < (vreal){0}) vmask;

static inline vreal vsplat(real x)
{
    return x + (vreal){0};
}

/* a > b ? a : b and a < b ? a : b lane by lane (b when either is NaN): one
 * max/min instruction on x86, where a select (compare, and, or) is a
 * compare and a two-uop blend. */
static inline vreal vmax(vreal a, vreal b)
{
#if defined(__AVX512F__) && VBYTES == 64
    if (sizeof(real) == 4)
        return (vreal)_mm512_max_ps((__m512)a, (__m512)b);
    return (vreal)_mm512_max_pd((__m512d)a, (__m512d)b);
#elif defined(__AVX__) && VBYTES == 32
    if (sizeof(real) == 4)
        return (vreal)_mm256_max_ps((__m256)a, (__m256)b);
    return (vreal)_mm256_max_pd((__m256d)a, (__m256d)b);
#elif defined(__SSE2__) && VBYTES == 16
    if (sizeof(real) == 4)
        return (vreal)_mm_max_ps((__m128)a, (__m128)b);
    return (vreal)_mm_max_pd((__m128d)a, (__m128d)b);
#else
    vmask m = a > b;
    return (vreal)((m & (vmask)a) | (~m & (vmask)b));
#endif
}

static inline vreal vmin(vreal a, vreal b)
{
#if defined(__AVX512F__) && VBYTES == 64
    if (sizeof(real) == 4)
        return (vreal)_mm512_min_ps((__m512)a, (__m512)b);
    return (vreal)_mm512_min_pd((__m512d)a, (__m512d)b);
#elif defined(__AVX__) && VBYTES == 32
    if (sizeof(real) == 4)
        return (vreal)_mm256_min_ps((__m256)a, (__m256)b);
    return (vreal)_mm256_min_pd((__m256d)a, (__m256d)b);
#elif defined(__SSE2__) && VBYTES == 16
    if (sizeof(real) == 4)
        return (vreal)_mm_min_ps((__m128)a, (__m128)b);
    return (vreal)_mm_min_pd((__m128d)a, (__m128d)b);
#else
    vmask m = a < b;
    return (vreal)((m & (vmask)a) | (~m & (vmask)b));
#endif
}

static inline real lanes_max(vreal v)
{
    real t[VL];
    vstore(t, v);
    for (int w = VL / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            t[l] = t[l + w] > t[l] ? t[l + w] : t[l];
    return t[0];
}

/* exp lane by lane. Float: Cephes' expf, vectorised: x = n ln2 + r with n
 * rounded to nearest, a degree-6 polynomial for e^r (about 1 ulp), 2^n put
 * into the exponent; below ln(FLT_MIN) the result is 0 (so exp(-inf) is 0),
 * above 88 it is exp(88), NaN stays NaN. The double copy (the tests) calls
 * libm per lane. */
static inline vreal vexp(vreal x)
{
    if (sizeof(real) != sizeof(float)) {
        real t[VL];
        vstore(t, x);
        for (int l = 0; l < VL; l++)
            t[l] = exp(t[l]);
        return vload(t);
    }
    const real lo = (real)-87.33654475, hi = (real)88.0, magic = (real)12582912.0; /* 1.5 * 2^23 */
    vmask under = x < vsplat(lo);
    x = vmax(vsplat(lo), vmin(vsplat(hi), x)); /* NaN passes through */
    vreal n = (x * (real)1.44269504088896341 + magic) - magic; /* round(x / ln2) */
    vreal r = x - n * (real)0.693359375;
    r = r + n * (real)2.12194440e-4; /* ln2 in two parts */
    vreal y = vsplat((real)1.9875691500e-4);
    y = y * r + (real)1.3981999507e-3;
    y = y * r + (real)8.3334519073e-3;
    y = y * r + (real)4.1665795894e-2;
    y = y * r + (real)1.6666665459e-1;
    y = y * r + (real)5.0000001201e-1;
    y = y * r * r + r + 1;
    vmask e = (__builtin_convertvector(n, vmask) + 127) << 23; /* 2^n, n in [-126, 127] */
    return (vreal)(~under & (vmask)(y * (vreal)e));
}

static inline vreal vsigmoid(vreal x)
{
    return (real)1 / ((real)1 + vexp(-x));
}

/* y[0..n) += alpha * x[0..n) */
static inline void axpy(real *y, real alpha, const real *x, int n)
{
    int i = 0;
    for (; i + VL <= n; i += VL)
        vstore(y + i, vload(y + i) + alpha * vload(x + i));
    for (; i < n; i++)
        y[i] += alpha * x[i];
}

/* sum_i a[i] * b[i]: whole vectors (then lanes_sum), then the tail */
static inline real dot(const real *a, const real *b, int n)
{
    vreal acc = vsplat(0);
    int i = 0;
    for (; i + VL <= n; i += VL)
        acc += vload(a + i) * vload(b + i);
    real s = lanes_sum(acc);
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static inline real sigmoid(real x)
{
    return (real)1 / ((real)1 + exp(-x));
}

/* ---- embedding ---- */

TRAIN_API void TRAIN_OP(encoder_forward)(real *out, const int32_t *tokens, const real *wte, int N, int C)
{
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, wte + (size_t)tokens[n] * C, (size_t)C * sizeof(real));
}

TRAIN_API void TRAIN_OP(encoder_backward)(real *dwte, const real *dout, const int32_t *tokens, int N, int C)
{
    for (int n = 0; n < N; n++) /* serial: tokens repeat */
        axpy(dwte + (size_t)tokens[n] * C, 1, dout + (size_t)n * C, C);
}

/* ---- RMSNorm ---- */

TRAIN_API void TRAIN_OP(rmsnorm_forward)(real *out, real *rstd, const real *inp, const real *weight, int N,
                               int C, real eps)
{
#pragma omp parallel for schedule(static) if ((size_t)N * C > (1u << 16))
    for (int n = 0; n < N; n++) {
        const real *x = inp + (size_t)n * C;
        real *o = out + (size_t)n * C;
        real s = (real)(1.0 / sqrt((double)dot(x, x, C) / C + eps));
        int i = 0;
        for (; i + VL <= C; i += VL)
            vstore(o + i, vload(x + i) * s * vload(weight + i));
        for (; i < C; i++)
            o[i] = x[i] * s * weight[i];
        rstd[n] = s;
    }
}

/* y_j = w_j x_j r, r = (mean(x^2) + eps)^-1/2:
 * dx_j = r (g_j w_j - x_j r^2 mean_i(g_i w_i x_i)), dw_j = sum_n g_j x_j r. */
TRAIN_API void TRAIN_OP(rmsnorm_backward)(real *dinp, real *dweight, const real *dout, const real *inp,
                                const real *weight, const real *rstd, int N, int C)
{
#pragma omp parallel for schedule(static) if ((size_t)N * C > (1u << 16))
    for (int n = 0; n < N; n++) {
        const real *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
        real *dx = dinp + (size_t)n * C;
        vreal acc = vsplat(0);
        int i = 0;
        for (; i + VL <= C; i += VL)
            acc += vload(g + i) * vload(weight + i) * vload(x + i);
        real gwx = lanes_sum(acc);
        for (; i < C; i++)
            gwx += g[i] * weight[i] * x[i];
        real r = rstd[n], coef = gwx / C * r * r * r;
        for (i = 0; i + VL <= C; i += VL)
            vstore(dx + i, vload(dx + i) + vload(g + i) * vload(weight + i) * r - vload(x + i) * coef);
        for (; i < C; i++)
            dx[i] += g[i] * weight[i] * r - x[i] * coef;
    }
    /* weight gradient by blocks of 4 vectors of columns, each column summed
     * over n in order (in registers) */
    int W = 4 * VL, blocks = (C + W - 1) / W;
#pragma omp parallel for schedule(static) if ((size_t)N * C > (1u << 16))
    for (int bk = 0; bk < blocks; bk++) {
        int i0 = bk * W, i1 = i0 + W < C ? i0 + W : C, nv = (i1 - i0) / VL;
        vreal acc[4];
        for (int v = 0; v < nv; v++)
            acc[v] = vload(dweight + i0 + v * VL);
        for (int n = 0; n < N; n++) {
            const real *x = inp + (size_t)n * C + i0, *g = dout + (size_t)n * C + i0;
            for (int v = 0; v < nv; v++)
                acc[v] += vload(g + v * VL) * vload(x + v * VL) * rstd[n];
        }
        for (int v = 0; v < nv; v++)
            vstore(dweight + i0 + v * VL, acc[v]);
        for (int i = i0 + nv * VL; i < i1; i++) /* columns past the last whole vector */
            for (int n = 0; n < N; n++)
                dweight[i] += dout[(size_t)n * C + i] * inp[(size_t)n * C + i] * rstd[n];
    }
}

TRAIN_API void TRAIN_OP(head_rmsnorm_forward)(real *out, real *rstd, const real *inp, const real *weight,
                                    int N, int nh, int hd, real eps)
{
    TRAIN_OP(rmsnorm_forward)(out, rstd, inp, weight, N * nh, hd, eps);
}

TRAIN_API void TRAIN_OP(head_rmsnorm_backward)(real *dinp, real *dweight, const real *dout, const real *inp,
                                     const real *weight, const real *rstd, int N, int nh, int hd)
{
    TRAIN_OP(rmsnorm_backward)(dinp, dweight, dout, inp, weight, rstd, N * nh, hd);
}

/* ---- RoPE ---- */

TRAIN_API void TRAIN_OP(rope_tables)(real *cos_t, real *sin_t, int T, int hd, double theta)
{
    int half = hd / 2;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double a = (double)t * (1.0 / pow(theta, (2.0 * i) / hd));
            cos_t[(size_t)t * half + i] = (real)cos(a);
            sin_t[(size_t)t * half + i] = (real)sin(a);
        }
}

TRAIN_API void TRAIN_OP(rope_forward)(real *out, const real *inp, const real *cos_t, const real *sin_t,
                            int N, int T, int nh, int hd)
{
    int half = hd / 2;
#pragma omp parallel for schedule(static) if ((size_t)N * nh * hd > (1u << 16))
    for (int n = 0; n < N; n++) {
        const real *c = cos_t + (size_t)(n % T) * half, *s = sin_t + (size_t)(n % T) * half;
        for (int h = 0; h < nh; h++) {
            const real *x = inp + ((size_t)n * nh + h) * hd;
            real *o = out + ((size_t)n * nh + h) * hd;
            for (int i = 0; i < half; i++) {
                real a = x[i], b = x[i + half];
                o[i] = a * c[i] - b * s[i];
                o[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}

/* The transpose of the rotation. */
TRAIN_API void TRAIN_OP(rope_backward)(real *dinp, const real *dout, const real *cos_t, const real *sin_t,
                             int N, int T, int nh, int hd)
{
    int half = hd / 2;
#pragma omp parallel for schedule(static) if ((size_t)N * nh * hd > (1u << 16))
    for (int n = 0; n < N; n++) {
        const real *c = cos_t + (size_t)(n % T) * half, *s = sin_t + (size_t)(n % T) * half;
        for (int h = 0; h < nh; h++) {
            const real *g = dout + ((size_t)n * nh + h) * hd;
            real *dx = dinp + ((size_t)n * nh + h) * hd;
            for (int i = 0; i < half; i++) {
                dx[i] += g[i] * c[i] + g[i + half] * s[i];
                dx[i + half] += g[i + half] * c[i] - g[i] * s[i];
            }
        }
    }
}

/* ---- fused q_proj: queries and gate logits ---- */

TRAIN_API void TRAIN_OP(qgate_split_forward)(real *q, real *gate, const real *qg, int N, int H, int KV,
                                   int hd, int gw)
{
    int G = H / KV, QR = H * hd + H * gw;
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++) {
            const real *grp = qg + (size_t)n * QR + (size_t)(h / G) * (G * hd + G * gw);
            memcpy(q + ((size_t)n * H + h) * hd, grp + (size_t)(h % G) * hd,
                   (size_t)hd * sizeof(real));
            if (gw)
                memcpy(gate + ((size_t)n * H + h) * gw, grp + (size_t)G * hd + (h % G) * gw,
                       (size_t)gw * sizeof(real));
        }
}

TRAIN_API void TRAIN_OP(qgate_split_backward)(real *dqg, const real *dq, const real *dgate, int N, int H,
                                    int KV, int hd, int gw)
{
    int G = H / KV, QR = H * hd + H * gw;
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++) {
            real *grp = dqg + (size_t)n * QR + (size_t)(h / G) * (G * hd + G * gw);
            axpy(grp + (size_t)(h % G) * hd, 1, dq + ((size_t)n * H + h) * hd, hd);
            if (gw)
                axpy(grp + (size_t)G * hd + (h % G) * gw, 1, dgate + ((size_t)n * H + h) * gw, gw);
        }
}

/* ---- small tile products (attention) ---- */

/* C[m, n] (= or +=) A . B over kc steps, for the attention's tiles, with A
 * either by rows, A(r, p) = a[r*lda + p] (rows of q, of probabilities), or
 * by columns, A(r, p) = a[p*lda + r] (a block of probabilities transposed);
 * B by rows of contiguous columns, B(p, j) = b[p*ldb + j], or in panels of
 * TN columns, B(p, j) = b[(j / TN)*ldb*TN + p*TN + j % TN] (k^T and v^T,
 * packed so that a tile's steps read one contiguous block); C row-major.
 * Register tiles of TM rows x TN = 2 vectors (12 accumulators: AVX2's 16
 * ymm registers hold them with the two B vectors and a broadcast); each C
 * element sums p in increasing order, then is stored or added once. */
enum { TM = 6, TN = 2 * VL };

static inline __attribute__((always_inline)) void tile_micro(real *c, size_t ldc, int add,
                                                              const real *a, size_t lda,
                                                              int by_rows, const real *b,
                                                              size_t ldb, int mr, int kc, int nv)
{
    vreal acc0[TM], acc1[TM];
    const real *ar[TM];
#pragma GCC unroll 6
    for (int r = 0; r < TM; r++) {
        acc0[r] = acc1[r] = vsplat(0);
        ar[r] = a + (r < mr ? r : 0) * (by_rows ? lda : 1); /* spare rows recompute row 0 */
    }
    for (int p = 0; p < kc; p++) {
        const real *bp = b + (size_t)p * ldb;
        vreal b0 = vload(bp), b1 = nv == 2 ? vload(bp + VL) : b0;
#pragma GCC unroll 6
        for (int r = 0; r < TM; r++) {
            real x = by_rows ? ar[r][p] : ar[r][(size_t)p * lda];
            acc0[r] += x * b0;
            if (nv == 2)
                acc1[r] += x * b1;
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < TM; r++) { /* unrolled: the accumulators stay registers */
        real *cr = c + (size_t)r * ldc;
        if (r < mr) {
            vstore(cr, add ? vload(cr) + acc0[r] : acc0[r]);
            if (nv == 2)
                vstore(cr + VL, add ? vload(cr + VL) + acc1[r] : acc1[r]);
        }
    }
}

static inline __attribute__((always_inline)) void tile_mm_any(real *c, size_t ldc, int add,
                                                               const real *a, size_t lda,
                                                               int by_rows, const real *b,
                                                               size_t ldb, int b_panels, int m,
                                                               int n, int kc)
{
    size_t sa_i = by_rows ? lda : 1, sa_p = by_rows ? 1 : lda;
    size_t b_ld = b_panels ? TN : ldb, b_step = b_panels ? ldb * TN : TN; /* rows, tiles */
    for (int i = 0; i < m; i += TM) {
        int mr = m - i < TM ? m - i : TM;
        const real *ai = a + i * sa_i;
        real *ci = c + (size_t)i * ldc;
        int j = 0;
        for (; j + TN <= n; j += TN)
            tile_micro(ci + j, ldc, add, ai, lda, by_rows, b + j / TN * b_step, b_ld, mr, kc, 2);
        for (; j + VL <= n; j += VL)
            tile_micro(ci + j, ldc, add, ai, lda, by_rows, b + j / TN * b_step + j % TN, b_ld, mr,
                       kc, 1);
        for (; j < n; j++) /* columns past the last whole vector */
            for (int r = 0; r < mr; r++) {
                real sum = 0;
                for (int p = 0; p < kc; p++)
                    sum += ai[r * sa_i + p * sa_p] * b[j / TN * b_step + p * b_ld + j % TN];
                ci[(size_t)r * ldc + j] = add ? ci[(size_t)r * ldc + j] + sum : sum;
            }
    }
}

/* A by rows, B by rows */
static void tile_mm(real *c, size_t ldc, int add, const real *a, size_t lda, const real *b,
                    size_t ldb, int m, int n, int kc)
{
    tile_mm_any(c, ldc, add, a, lda, 1, b, ldb, 0, m, n, kc);
}

/* A by columns, B by rows */
static void tile_mm_t(real *c, size_t ldc, int add, const real *a, size_t lda, const real *b,
                      size_t ldb, int m, int n, int kc)
{
    tile_mm_any(c, ldc, add, a, lda, 0, b, ldb, 0, m, n, kc);
}

/* A by rows, B in panels of kc x TN */
static void tile_mm_panels(real *c, size_t ldc, const real *a, size_t lda, const real *b, int m,
                           int n, int kc)
{
    tile_mm_any(c, ldc, 0, a, lda, 1, b, (size_t)kc, 1, m, n, kc);
}

/* ---- causal GQA attention ---- */

/* Flash-attention style: the T x T probabilities are never stored. Each task
 * is one (batch, KV head) with its G query heads; it owns those heads' rows
 * of out/dq and its KV head's rows of dk/dv, and its slice of scratch.
 * Queries go in blocks of ATTN_ROWS rows (groups of TM rows each); for a
 * group only the keys up to its last row are computed, with the tile
 * kernels, over k^T and v^T packed into panels once per task (scores and
 * probabilities of a block live in scratch rows of lcx_train_attention_ld(T)
 * values). The softmax of a row is vectorised (vexp)
 * and the forward keeps its log-sum-exp, from which the backward recomputes
 * the probabilities. Every sum runs in a fixed order within the task. */
enum { ATTN_ROWS = LCX_TRAIN_ATTN_ROWS };

/* The transpose of src's rows j < n (src[j*stride + d], d < hd) in panels of
 * TN columns: dst[(j / TN)*hd*TN + d*TN + j % TN], 0 for j in [n, width);
 * width a multiple of TN (at most lcx_train_attention_ld(T)). */
static void pack_panels(real *dst, int width, const real *src, size_t stride, int n, int hd)
{
    for (int j = 0; j < width; j++) {
        real *col = dst + (size_t)(j / TN) * hd * TN + j % TN;
        for (int d = 0; d < hd; d++)
            col[(size_t)d * TN] = j < n ? src[(size_t)j * stride + d] : 0;
    }
}

/* End (exclusive) of the keys that rows [r0, r0 + TM) of a block starting
 * at query i0 with `rows` rows see: one past the group's last row. */
static inline int group_keys(int i0, int r0, int rows)
{
    return i0 + (r0 + TM < rows ? r0 + TM : rows);
}

/* row[0..n) raw scores -> e_j = exp(scale (row_j - max)) in place, row[n..end)
 * zeroed; returns the sum of the e_j, and the log-sum-exp of scale * row[0..n)
 * in *lse. The caller divides by the sum after the product with v (hd
 * values a row instead of n). Lanes past n (up to a whole vector, inside end
 * rounded up to VL) hold -inf for the max and exp. */
static real softmax_row(real *row, int n, int end, real scale, real *lse)
{
    int nv = (n + VL - 1) / VL * VL;
    for (int j = n; j < nv; j++)
        row[j] = -INFINITY;
    vreal vm = vsplat(-INFINITY);
    for (int j = 0; j < nv; j += VL)
        vm = vmax(vm, vload(row + j));
    real maxv = lanes_max(vm) * scale; /* scale > 0 */
    vreal vs = vsplat(0);
    for (int j = 0; j < nv; j += VL) {
        vreal e = vexp(vload(row + j) * scale - maxv);
        vstore(row + j, e);
        vs += e;
    }
    for (int j = nv; j < end; j++)
        row[j] = 0;
    real sum = lanes_sum(vs);
    *lse = maxv + log(sum);
    return sum;
}

/* The backward of one row: p_j = exp(scale s_j - lse) (s -> p in place),
 * D = sum_j p_j dp_j, ds_j = p_j (dp_j - D) scale (dp -> ds in place), for
 * j < n; both rows zeroed on [n, end). */
static void softmax_row_backward(real *s, real *dp, int n, int end, real lse, real scale)
{
    int nv = (n + VL - 1) / VL * VL;
    for (int j = n; j < nv; j++)
        s[j] = -INFINITY;
    vreal vd = vsplat(0);
    for (int j = 0; j < nv; j += VL) {
        vreal p = vexp(vload(s + j) * scale - lse);
        vstore(s + j, p);
        vd += p * vload(dp + j);
    }
    real dsum = lanes_sum(vd);
    for (int j = 0; j < nv; j += VL)
        vstore(dp + j, vload(s + j) * (vload(dp + j) - dsum) * scale);
    for (int j = nv; j < end; j++)
        s[j] = dp[j] = 0;
}

/* out [B, T, H, hd], lse [B, H, T] */
TRAIN_API void TRAIN_OP(attention_forward)(real *out, real *lse, real *scratch, const real *q,
                                           const real *k, const real *v, int B, int T, int H,
                                           int KV, int hd)
{
    int G = H / KV, Tp = (int)lcx_train_attention_ld(T);
    size_t ldq = (size_t)H * hd, ldk = (size_t)KV * hd;
    size_t per_task = lcx_train_attention_scratch(1, T, 1, hd);
    real scale = (real)(1.0 / sqrt((double)hd));
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int g = 0; g < KV; g++) { /* one KV head and its G query heads */
            real *kt = scratch + ((size_t)b * KV + g) * per_task; /* K^T, panels */
            real *s = kt + 2 * (size_t)hd * Tp;                   /* scores [ATTN_ROWS, Tp] */
            const real *kb = k + ((size_t)b * T * KV + g) * hd, *vb = v + ((size_t)b * T * KV + g) * hd;
            pack_panels(kt, (T + TN - 1) / TN * TN, kb, ldk, T, hd);
            for (int h = g * G; h < (g + 1) * G; h++)
                for (int i0 = 0; i0 < T; i0 += ATTN_ROWS) {
                    int rows = T - i0 < ATTN_ROWS ? T - i0 : ATTN_ROWS;
                    size_t qoff = (((size_t)b * T + i0) * H + h) * hd;
                    for (int r0 = 0; r0 < rows; r0 += TM) { /* s = q . k^T */
                        int keys = group_keys(i0, r0, rows);
                        tile_mm_panels(s + (size_t)r0 * Tp, Tp, q + qoff + r0 * ldq, ldq, kt,
                                       rows - r0 < TM ? rows - r0 : TM, (keys + VL - 1) / VL * VL,
                                       hd);
                    }
                    real inv[ATTN_ROWS];
                    for (int r = 0; r < rows; r++)
                        inv[r] = 1 / softmax_row(s + (size_t)r * Tp, i0 + r + 1,
                                                 group_keys(i0, r / TM * TM, rows), scale,
                                                 lse + ((size_t)b * H + h) * T + i0 + r);
                    for (int r0 = 0; r0 < rows; r0 += TM) /* out = e . v, then / sum */
                        tile_mm(out + qoff + r0 * ldq, ldq, 0, s + (size_t)r0 * Tp, Tp, vb, ldk,
                                rows - r0 < TM ? rows - r0 : TM, hd, group_keys(i0, r0, rows));
                    for (int r = 0; r < rows; r++) {
                        real *o = out + qoff + r * ldq;
                        for (int i = 0; i < hd; i++)
                            o[i] *= inv[r];
                    }
                }
        }
}

/* With p the probabilities and dp_j = dout . v_j: ds_j = p_j (dp_j - sum_i
 * p_i dp_i) * scale; dq += ds . k, dk += ds^T . q, dv += p^T . dout. */
TRAIN_API void TRAIN_OP(attention_backward)(real *dq, real *dk, real *dv, real *scratch,
                                            const real *dout, const real *q, const real *k,
                                            const real *v, const real *lse, int B, int T, int H,
                                            int KV, int hd)
{
    int G = H / KV, Tp = (int)lcx_train_attention_ld(T);
    size_t ldq = (size_t)H * hd, ldk = (size_t)KV * hd;
    size_t per_task = lcx_train_attention_scratch(1, T, 1, hd);
    real scale = (real)(1.0 / sqrt((double)hd));
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int g = 0; g < KV; g++) {
            real *kt = scratch + ((size_t)b * KV + g) * per_task; /* K^T, panels */
            real *vt = kt + (size_t)hd * Tp;                      /* V^T, panels */
            real *s = vt + (size_t)hd * Tp;                       /* scores, p [ATTN_ROWS, Tp] */
            real *ds = s + (size_t)ATTN_ROWS * Tp;                /* dp, ds [ATTN_ROWS, Tp] */
            size_t koff = ((size_t)b * T * KV + g) * hd;
            pack_panels(kt, (T + TN - 1) / TN * TN, k + koff, ldk, T, hd);
            pack_panels(vt, (T + TN - 1) / TN * TN, v + koff, ldk, T, hd);
            for (int h = g * G; h < (g + 1) * G; h++)
                for (int i0 = 0; i0 < T; i0 += ATTN_ROWS) {
                    int rows = T - i0 < ATTN_ROWS ? T - i0 : ATTN_ROWS;
                    size_t qoff = (((size_t)b * T + i0) * H + h) * hd;
                    for (int r0 = 0; r0 < rows; r0 += TM) { /* s = q . k^T, dp = dout . v^T */
                        int mr = rows - r0 < TM ? rows - r0 : TM, keys = group_keys(i0, r0, rows);
                        int nk = (keys + VL - 1) / VL * VL;
                        tile_mm_panels(s + (size_t)r0 * Tp, Tp, q + qoff + r0 * ldq, ldq, kt, mr,
                                       nk, hd);
                        tile_mm_panels(ds + (size_t)r0 * Tp, Tp, dout + qoff + r0 * ldq, ldq, vt,
                                       mr, nk, hd);
                    }
                    for (int r = 0; r < rows; r++)
                        softmax_row_backward(s + (size_t)r * Tp, ds + (size_t)r * Tp, i0 + r + 1,
                                             group_keys(i0, r / TM * TM, rows),
                                             lse[((size_t)b * H + h) * T + i0 + r], scale);
                    for (int r0 = 0; r0 < rows; r0 += TM) /* dq += ds . k */
                        tile_mm(dq + qoff + r0 * ldq, ldq, 1, ds + (size_t)r0 * Tp, Tp, k + koff,
                                ldk, rows - r0 < TM ? rows - r0 : TM, hd, group_keys(i0, r0, rows));
                    /* dk_j += sum_r ds[r][j] q_r, dv_j += sum_r p[r][j] dout_r, keys j in
                     * groups of TM; a group starting at j0 >= i0 sees rows r >= j0 - i0
                     * (ds and p of earlier rows are 0 there, and were zeroed up to their
                     * group's keys, which reach j0 + TM). */
                    for (int j0 = 0; j0 < i0 + rows; j0 += TM) {
                        int mj = i0 + rows - j0 < TM ? i0 + rows - j0 : TM;
                        int r0 = j0 > i0 ? j0 - i0 : 0;
                        size_t off = (size_t)r0 * Tp + j0;
                        tile_mm_t(dk + koff + j0 * ldk, ldk, 1, ds + off, Tp, q + qoff + r0 * ldq,
                                ldq, mj, hd, rows - r0);
                        tile_mm_t(dv + koff + j0 * ldk, ldk, 1, s + off, Tp, dout + qoff + r0 * ldq,
                                ldq, mj, hd, rows - r0);
                    }
                }
        }
}

/* ---- SDPA-output gate ---- */

TRAIN_API void TRAIN_OP(gate_forward)(real *out, const real *inp, const real *gate, int N, int H, int hd,
                            int gw)
{
    if (gw == hd) { /* elementwise: gate has the layout of inp */
        size_t n = (size_t)N * H * hd;
#pragma omp parallel for schedule(static) if (n > (1u << 16))
        for (size_t i = 0; i < n / VL * VL; i += VL)
            vstore(out + i, vload(inp + i) * vsigmoid(vload(gate + i)));
        for (size_t i = n / VL * VL; i < n; i++)
            out[i] = inp[i] * sigmoid(gate[i]);
        return;
    }
#pragma omp parallel for schedule(static) if ((size_t)N * H * hd > (1u << 16))
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++) { /* headwise: one scalar per head */
            size_t r = (size_t)n * H + h;
            real s = sigmoid(gate[r]);
            for (int i = 0; i < hd; i++)
                out[r * hd + i] = inp[r * hd + i] * s;
        }
}

TRAIN_API void TRAIN_OP(gate_backward)(real *dinp, real *dgate, const real *dout, const real *inp,
                             const real *gate, int N, int H, int hd, int gw)
{
    if (gw == hd) {
        size_t n = (size_t)N * H * hd;
#pragma omp parallel for schedule(static) if (n > (1u << 16))
        for (size_t i = 0; i < n / VL * VL; i += VL) {
            vreal s = vsigmoid(vload(gate + i)), g = vload(dout + i);
            vstore(dinp + i, vload(dinp + i) + g * s);
            vstore(dgate + i, vload(dgate + i) + g * vload(inp + i) * s * (1 - s));
        }
        for (size_t i = n / VL * VL; i < n; i++) {
            real s = sigmoid(gate[i]), g = dout[i];
            dinp[i] += g * s;
            dgate[i] += g * inp[i] * s * (1 - s);
        }
        return;
    }
#pragma omp parallel for schedule(static) if ((size_t)N * H * hd > (1u << 16))
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++) {
            size_t r = (size_t)n * H + h;
            real s = sigmoid(gate[r]);
            for (int i = 0; i < hd; i++)
                dinp[r * hd + i] += dout[r * hd + i] * s;
            dgate[r] += dot(dout + r * hd, inp + r * hd, hd) * s * (1 - s);
        }
}

/* ---- SwiGLU ---- */

TRAIN_API void TRAIN_OP(swiglu_forward)(real *out, const real *gate, const real *up, size_t n)
{
#pragma omp parallel for schedule(static) if (n > (1u << 16))
    for (size_t i = 0; i < n / VL * VL; i += VL) {
        vreal x = vload(gate + i);
        vstore(out + i, x * vsigmoid(x) * vload(up + i));
    }
    for (size_t i = n / VL * VL; i < n; i++)
        out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

TRAIN_API void TRAIN_OP(swiglu_backward)(real *dgate, real *dup, const real *dout, const real *gate,
                               const real *up, size_t n)
{
#pragma omp parallel for schedule(static) if (n > (1u << 16))
    for (size_t i = 0; i < n / VL * VL; i += VL) {
        vreal x = vload(gate + i), s = vsigmoid(x), g = vload(dout + i);
        vstore(dgate + i, vload(dgate + i) + g * vload(up + i) * s * (1 + x * (1 - s)));
        vstore(dup + i, vload(dup + i) + g * x * s);
    }
    for (size_t i = n / VL * VL; i < n; i++) {
        real s = sigmoid(gate[i]), silu = gate[i] * s;
        dgate[i] += dout[i] * up[i] * s * (1 + gate[i] * (1 - s));
        dup[i] += dout[i] * silu;
    }
}

/* ---- matmul ---- */

/* C[M, J] (=|+=) A . B with A(i, p) = a[i*sa_i + p*sa_p] and B(p, j) =
 * b[p*sb_p + j*sb_j], BLIS style. For each block of KC inner indices, B is
 * packed once into panels of KC x NR (all threads packing); then each task
 * (MC rows x a run of panels) packs its rows of A into panels of MR x KC and
 * runs an MR x NR register micro-kernel over them. Both operands of the
 * micro-kernel are read contiguously, whatever the strides (the weight
 * gradient reads A = dout transposed: unpacked, a new page for every p).
 * Every C element sums p in increasing order, whatever the thread count and
 * the task split: deterministic. MR x NR: 6 x 2 vectors (12 accumulators,
 * two B vectors and a broadcast fill AVX2's 16 ymm registers); 12 x 2 with
 * AVX-512's 32. */
#if defined(LCX_KV_AVX512)
enum { MR = 12 };
#else
enum { MR = 6 };
#endif
enum { NR = 2 * VL, KC = 256, MC = 96 / MR * MR };

static void gemm_micro(real *c, size_t ldc, int mr, int nr, int add, const real *a,
                       ptrdiff_t a_r, ptrdiff_t a_p, const real *bp, int kc)
{
    vreal acc0[MR], acc1[MR];
    const real *ar[MR];
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        acc0[r] = acc1[r] = vsplat(0);
        ar[r] = a + (r < mr ? r : 0) * a_r; /* spare rows recompute row 0 */
        if (add && r < mr) { /* C's tile is read at the end: fetch it meanwhile */
            __builtin_prefetch(c + (size_t)r * ldc);
            __builtin_prefetch(c + (size_t)r * ldc + NR - 1);
        }
    }
#pragma GCC unroll 2
    for (int p = 0; p < kc; p++) {
        vreal b0 = vload(bp + (size_t)p * NR), b1 = vload(bp + (size_t)p * NR + VL);
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            real x = ar[r][p * a_p];
            acc0[r] += x * b0;
            acc1[r] += x * b1;
        }
    }
    if (nr == NR) { /* whole vectors (a scalar loop here cost a third of the time) */
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) { /* unrolled: the accumulators stay registers */
            real *cr = c + (size_t)r * ldc;
            if (r < mr) {
                vstore(cr, add ? vload(cr) + acc0[r] : acc0[r]);
                vstore(cr + VL, add ? vload(cr + VL) + acc1[r] : acc1[r]);
            }
        }
        return;
    }
    for (int r = 0; r < mr; r++) {
        real row[NR];
        vstore(row, acc0[r]);
        vstore(row + VL, acc1[r]);
        real *cr = c + (size_t)r * ldc;
        for (int j = 0; j < nr; j++)
            cr[j] = add ? cr[j] + row[j] : row[j];
    }
}

/* panel[p][0..NR) = B(p0 + p, j0 ..), zero past nr columns */
static void gemm_pack_b(real *panel, const real *b, ptrdiff_t sb_p, ptrdiff_t sb_j, int p0,
                        int kc, int j0, int nr)
{
    const real *bp = b + p0 * sb_p + j0 * sb_j;
    if (nr < NR)
        memset(panel, 0, (size_t)kc * NR * sizeof(real));
    if (sb_j == 1 && nr == NR) { /* rows of B: whole vectors */
        for (int p = 0; p < kc; p++) {
            vstore(panel + p * NR, vload(bp + p * sb_p));
            vstore(panel + p * NR + VL, vload(bp + p * sb_p + VL));
        }
    } else if (sb_p == 1) { /* read along p */
        for (int j = 0; j < nr; j++)
            for (int p = 0; p < kc; p++)
                panel[p * NR + j] = bp[p + j * sb_j];
    } else {
        for (int p = 0; p < kc; p++)
            for (int j = 0; j < nr; j++)
                panel[p * NR + j] = bp[p * sb_p + j * sb_j];
    }
}

/* The rows [i0, i0 + mi) of A in panels of MR x kc, panel[i / MR][p][i % MR]
 * = A(i0 + i, p0 + p), zero past mi; for an A whose rows are not contiguous
 * (dout transposed, in the weight gradient). Walks p outermost, so that each
 * step reads mi contiguous values when sa_i is 1. */
static void gemm_pack_a(real *packed, const real *a, ptrdiff_t sa_i, ptrdiff_t sa_p, int i0,
                        int mi, int p0, int kc)
{
    const real *ap = a + i0 * sa_i + p0 * sa_p;
    int full = mi / MR * MR;
    if (full < mi) /* the last panel, part empty */
        memset(packed + (size_t)full * kc, 0, (size_t)kc * MR * sizeof(real));
    for (int p = 0; p < kc; p++) {
        const real *src = ap + p * sa_p;
        if (sa_i == 1)
            for (int i = 0; i < full; i += MR)
                memcpy(packed + (size_t)i * kc + (size_t)p * MR, src + i, MR * sizeof(real));
        else
            for (int i = 0; i < full; i++)
                packed[(size_t)(i / MR * MR) * kc + (size_t)p * MR + i % MR] = src[i * sa_i];
        for (int i = full; i < mi; i++)
            packed[(size_t)full * kc + (size_t)p * MR + (i - full)] = src[i * sa_i];
    }
}

/* Rows [i0, i0 + mi) x panels [jb0, jb1) of one K block. Rows of A that are
 * contiguous (sa_p 1) are read in place, six streams the prefetchers follow;
 * any other A is packed first. */
static void gemm_block(real *c, size_t ldc, int add, const real *a, ptrdiff_t sa_i,
                       ptrdiff_t sa_p, const real *bpacked, real *apacked, int i0, int mi,
                       int jb0, int jb1, int J, int p0, int kc)
{
    int in_place = sa_p == 1;
    if (!in_place)
        gemm_pack_a(apacked, a, sa_i, sa_p, i0, mi, p0, kc);
    for (int jb = jb0; jb < jb1; jb++) {
        int j0 = jb * NR, nr = J - j0 < NR ? J - j0 : NR;
        for (int i = 0; i < mi; i += MR) {
            real *ci = c + (size_t)(i0 + i) * ldc + j0;
            int mr = mi - i < MR ? mi - i : MR;
            const real *bp = bpacked + (size_t)(jb - jb0) * KC * NR;
            if (in_place)
                gemm_micro(ci, ldc, mr, nr, add, a + (i0 + i) * sa_i + p0, sa_i, 1, bp, kc);
            else
                gemm_micro(ci, ldc, mr, nr, add, apacked + (size_t)i * kc, 1, MR, bp, kc);
        }
    }
}

static void gemm(real *c, size_t ldc, int accumulate, const real *a, ptrdiff_t sa_i,
                 ptrdiff_t sa_p, const real *b, ptrdiff_t sb_p, ptrdiff_t sb_j, int M, int J, int P)
{
    if (P == 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++)
                memset(c + (size_t)i * ldc, 0, (size_t)J * sizeof(real));
        return;
    }
    int ni = (M + MC - 1) / MC, nj = (J + NR - 1) / NR, nk = (P + KC - 1) / KC;
    int par = (double)M * J * P > 2e5, nthreads = par ? omp_get_max_threads() : 1;
    /* with fewer row blocks than two per thread, split the panels too (each
     * task packs its rows of A: the split costs repacking, not determinism) */
    int nsplit = ni >= 2 * nthreads ? 1 : (2 * nthreads + ni - 1) / ni;
    nsplit = nsplit < nj ? nsplit : nj;
    int ntasks = ni * nsplit;
    /* all of B packed (nk x nj panels of KC x NR), and a block of A per thread */
    size_t bfloats = (size_t)nk * nj * KC * NR, afloats = (size_t)MC * KC;
    real *packed = aligned_alloc(64, (bfloats + (size_t)nthreads * afloats) * sizeof(real));
    if (!packed) { /* no memory for it: one panel at a time, serially, on the stack */
        real bpanel[KC * NR] __attribute__((aligned(64)));
        real apanel[MC * KC] __attribute__((aligned(64)));
        for (int p0 = 0; p0 < P; p0 += KC) {
            int kc = P - p0 < KC ? P - p0 : KC;
            for (int jb = 0; jb < nj; jb++) {
                gemm_pack_b(bpanel, b, sb_p, sb_j, p0, kc, jb * NR, J - jb * NR < NR ? J - jb * NR : NR);
                for (int i0 = 0; i0 < M; i0 += MC)
                    gemm_block(c, ldc, accumulate || p0 > 0, a, sa_i, sa_p, bpanel, apanel, i0,
                               M - i0 < MC ? M - i0 : MC, jb, jb + 1, J, p0, kc);
            }
        }
        return;
    }
#pragma omp parallel if (par)
    {
        real *apacked = packed + bfloats + (size_t)omp_get_thread_num() * afloats;
#pragma omp for schedule(static)
        for (int kj = 0; kj < nk * nj; kj++) {
            int p0 = kj / nj * KC, jb = kj % nj;
            gemm_pack_b(packed + (size_t)kj * KC * NR, b, sb_p, sb_j, p0, P - p0 < KC ? P - p0 : KC,
                        jb * NR, J - jb * NR < NR ? J - jb * NR : NR);
        }
        /* each task: its rows x panels, all K blocks in order, C's block staying in cache */
#pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < ntasks; task++) {
            int i0 = task / nsplit * MC, s = task % nsplit;
            int jb0 = (int)((long)nj * s / nsplit), jb1 = (int)((long)nj * (s + 1) / nsplit);
            for (int kb = 0; kb < nk; kb++) {
                int p0 = kb * KC;
                gemm_block(c, ldc, accumulate || kb > 0, a, sa_i, sa_p,
                           packed + ((size_t)kb * nj + jb0) * KC * NR, apacked, i0,
                           M - i0 < MC ? M - i0 : MC, jb0, jb1, J, p0, P - p0 < KC ? P - p0 : KC);
            }
        }
    }
    free(packed);
}

TRAIN_API void TRAIN_OP(matmul_forward)(real *out, const real *inp, const real *weight, int N, int IC,
                              int OC)
{
    gemm(out, (size_t)OC, 0, inp, IC, 1, weight, 1, IC, N, OC, IC);
}

TRAIN_API void TRAIN_OP(matmul_backward)(real *dinp, real *dweight, const real *dout, const real *inp,
                               const real *weight, int N, int IC, int OC)
{
    if (dinp) /* dinp[N, IC] += dout[N, OC] . weight[OC, IC] */
        gemm(dinp, (size_t)IC, 1, dout, OC, 1, weight, IC, 1, N, IC, OC);
    /* dweight[OC, IC] += dout^T . inp */
    gemm(dweight, (size_t)IC, 1, dout, 1, OC, inp, IC, 1, OC, IC, N);
}

/* ---- residual ---- */

TRAIN_API void TRAIN_OP(residual_forward)(real *out, const real *a, const real *b, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        vstore(out + i, vload(a + i) + vload(b + i));
    for (; i < n; i++)
        out[i] = a[i] + b[i];
}

TRAIN_API void TRAIN_OP(residual_backward)(real *da, real *db, const real *dout, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        vreal g = vload(dout + i);
        vstore(da + i, vload(da + i) + g);
        vstore(db + i, vload(db + i) + g);
    }
    for (; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

/* ---- softmax cross-entropy ---- */

TRAIN_API double TRAIN_OP(crossentropy_forward)(real *losses, real *probs, const real *logits,
                                      const int32_t *targets, const real *weights, int N, int V)
{
    int nv = V / VL * VL;
#pragma omp parallel for schedule(static) if ((size_t)N * V > (1u << 16))
    for (int n = 0; n < N; n++) {
        const real *l = logits + (size_t)n * V;
        real *p = probs + (size_t)n * V;
        vreal vm = vsplat(-INFINITY);
        for (int i = 0; i < nv; i += VL)
            vm = vmax(vm, vload(l + i));
        real maxv = lanes_max(vm);
        for (int i = nv; i < V; i++)
            maxv = l[i] > maxv ? l[i] : maxv;
        vreal vs = vsplat(0);
        for (int i = 0; i < nv; i += VL) {
            vreal e = vexp(vload(l + i) - maxv);
            vstore(p + i, e);
            vs += e;
        }
        real sum = lanes_sum(vs);
        for (int i = nv; i < V; i++)
            sum += (p[i] = exp(l[i] - maxv));
        real inv = 1 / sum;
        for (int i = 0; i < nv; i += VL)
            vstore(p + i, vload(p + i) * inv);
        for (int i = nv; i < V; i++)
            p[i] *= inv;
        losses[n] = (real)(log((double)sum) - ((double)l[targets[n]] - maxv));
    }
    double total = 0, wsum = 0;
    for (int n = 0; n < N; n++) {
        double w = weights ? weights[n] : 1.0;
        total += w * losses[n];
        wsum += w;
    }
    return wsum > 0 ? total / wsum : 0.0;
}

TRAIN_API void TRAIN_OP(crossentropy_backward)(real *dlogits, double dloss, const real *probs,
                                     const int32_t *targets, const real *weights, int N, int V)
{
    double wsum = 0;
    for (int n = 0; n < N; n++)
        wsum += weights ? weights[n] : 1.0;
    if (!(wsum > 0))
        return;
#pragma omp parallel for schedule(static) if ((size_t)N * V > (1u << 16))
    for (int n = 0; n < N; n++) {
        real coef = (real)((weights ? weights[n] : 1.0) / wsum * dloss);
        const real *p = probs + (size_t)n * V;
        real *d = dlogits + (size_t)n * V;
        int i = 0;
        for (; i + VL <= V; i += VL)
            vstore(d + i, vload(d + i) + vload(p + i) * coef);
        for (; i < V; i++)
            d[i] += p[i] * coef;
        d[targets[n]] -= coef; /* the one-hot target */
    }
}

#if defined(LCX_KV_GENERIC) || defined(LCX_KV_AVX2) || defined(LCX_KV_AVX512) || defined(LCX_KV_NEON)
#if defined(LCX_KV_AMX) /* the avx512 code: training has no tile kernels */
#define OPS_TABLE lcx_train_ops_amx
#define OPS_ISA LCX_ISA_AMX
#elif defined(LCX_KV_AVX512)
#define OPS_TABLE lcx_train_ops_avx512
#define OPS_ISA LCX_ISA_AVX512
#elif defined(LCX_KV_AVX2)
#define OPS_TABLE lcx_train_ops_avx2
#define OPS_ISA LCX_ISA_AVX2
#elif defined(LCX_KV_NEON)
#define OPS_TABLE lcx_train_ops_neon
#define OPS_ISA LCX_ISA_NEON
#else
#define OPS_TABLE lcx_train_ops_generic
#define OPS_ISA LCX_ISA_GENERIC
#endif
const lcx_train_ops OPS_TABLE = {
    .isa = OPS_ISA,
    .encoder_forward = encoder_forward,
    .encoder_backward = encoder_backward,
    .rmsnorm_forward = rmsnorm_forward,
    .rmsnorm_backward = rmsnorm_backward,
    .head_rmsnorm_forward = head_rmsnorm_forward,
    .head_rmsnorm_backward = head_rmsnorm_backward,
    .rope_tables = rope_tables,
    .rope_forward = rope_forward,
    .rope_backward = rope_backward,
    .qgate_split_forward = qgate_split_forward,
    .qgate_split_backward = qgate_split_backward,
    .attention_forward = attention_forward,
    .attention_backward = attention_backward,
    .gate_forward = gate_forward,
    .gate_backward = gate_backward,
    .swiglu_forward = swiglu_forward,
    .swiglu_backward = swiglu_backward,
    .matmul_forward = matmul_forward,
    .matmul_backward = matmul_backward,
    .residual_forward = residual_forward,
    .residual_backward = residual_backward,
    .crossentropy_forward = crossentropy_forward,
    .crossentropy_backward = crossentropy_backward,
};
#endif
