/* kernels.c: matmul, rmsnorm, rope_apply, attention and to_f32 (see kernels.h),
 * written once over a vector type `vf` of VL floats (GCC/Clang vector
 * extensions) and compiled once per instruction set by the Makefile, with
 * -DLCX_KV_<VARIANT> and that variant's target flags:
 *
 *   variant  vector       FMA                 flags
 *   generic  16 B (4 f)   no (separate mul, add)  the base flags only
 *   avx2     32 B (8 f)   yes (contracted)    -mavx2 -mfma -mf16c
 *   avx512   64 B (16 f)  yes (contracted)    -mavx512f/bw/dq/vl + avx2 set
 *   amx      as avx512, and prefill matmul of BF16 weights on AMX tiles
 *                                             + -mavx512bf16 -mamx-tile/bf16
 *   neon     16 B (4 f)   yes (contracted)    aarch64 base
 *
 * Only the table lcx_kernels_<variant> is visible outside this file. The
 * register blocking of each loop nest is chosen per variant below so that
 * the accumulators and their operands fit the register file (16 vector
 * registers on x86 before AVX-512, 32 with AVX-512 and on aarch64). FMA
 * comes from -ffp-contract=fast in the FMA variants; the generic variant
 * compiles with -ffp-contract=off, the portable reference. */
#include "engine/kernels.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#if defined(LCX_KV_AVX512)
#if !defined(__AVX512F__) || !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "the avx512 variant needs -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c"
#endif
#include <immintrin.h>
#define VBYTES 64
#if defined(LCX_KV_AMX) /* the avx512 variant, with matmul on AMX tiles */
#if !defined(__AVX512BF16__) || !(defined(__AMX_TILE__) || defined(__AMXTILE__)) ||          \
    !(defined(__AMX_BF16__) || defined(__AMXBF16__)) /* gcc's and clang's names */
#error "the amx variant needs -mavx512bf16 -mamx-tile -mamx-bf16 as well"
#endif
#define KV_TABLE lcx_kernels_amx
#define KV_ISA LCX_ISA_AMX
#else
#define KV_TABLE lcx_kernels_avx512
#define KV_ISA LCX_ISA_AVX512
#endif
enum { MM_NV = 2, MM_TT = 8, AT_MR = 8, QK_R = 8, PV_R = 4, PV_NV = 4 };
#elif defined(LCX_KV_AVX2)
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "the avx2 variant needs -mavx2 -mfma -mf16c"
#endif
#include <immintrin.h>
#define VBYTES 32
#define KV_TABLE lcx_kernels_avx2
#define KV_ISA LCX_ISA_AVX2
/* attention: 6-row micro tiles, so QK and PV each keep 12 accumulators
 * (6 rows x 2 vectors) in flight: 8 chains only just cover the FMA latency
 * of two pipes, 12 leave slack, and 12 + 2 operands + 1 broadcast fit 16 */
enum { MM_NV = 2, MM_TT = 6, AT_MR = 6, QK_R = 6, PV_R = 6, PV_NV = 2 };
#elif defined(LCX_KV_NEON)
#if !defined(__aarch64__)
#error "the neon variant is for aarch64"
#endif
#include <arm_neon.h>
#define VBYTES 16
#define KV_TABLE lcx_kernels_neon
#define KV_ISA LCX_ISA_NEON
enum { MM_NV = 4, MM_TT = 6, AT_MR = 8, QK_R = 4, PV_R = 4, PV_NV = 4 };
#elif defined(LCX_KV_GENERIC)
#define VBYTES 16
#define KV_TABLE lcx_kernels_generic
#define KV_ISA LCX_ISA_GENERIC
enum { MM_NV = 2, MM_TT = 6, AT_MR = 8, QK_R = 2, PV_R = 4, PV_NV = 2 };
#else
#error "compile engine/kernels.c with one of -DLCX_KV_GENERIC, _AVX2, _AVX512, _NEON"
#endif

typedef float vf __attribute__((vector_size(VBYTES)));
typedef int32_t vi __attribute__((vector_size(VBYTES)));
enum { VL = VBYTES / 4 };

/* panel widths: the matmul's output rows per panel, the key vectors of one
 * K block */
enum { MM_NB = MM_NV * VL, KB_NV = LCX_KBLOCK / VL };
_Static_assert(MM_NB <= LCX_MM_NB_MAX, "matmul panel wider than the scratch");
_Static_assert(LCX_KBLOCK % VL == 0, "a K block is whole vectors");

static inline vf vload(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vstore(float *p, vf v)
{
    memcpy(p, &v, sizeof v);
}

/* x in every lane. Not (vf){0} + x: without -ffast-math that is a real
 * addition (-0 + 0 is +0), an extra instruction before every broadcast in
 * the hot loops, and it keeps the broadcast from reading memory directly. */
static inline vf vset1(float x)
{
#if defined(LCX_KV_AVX512)
    return (vf)_mm512_set1_ps(x);
#elif defined(LCX_KV_AVX2)
    return (vf)_mm256_set1_ps(x);
#elif defined(LCX_KV_NEON)
    return (vf)vdupq_n_f32(x);
#else
    vf v;
    for (int i = 0; i < VL; i++)
        v[i] = x;
    return v;
#endif
}

/* a * b + c: one fused instruction in the FMA variants (-ffp-contract=fast). */
static inline vf vfma(vf a, vf b, vf c)
{
    return a * b + c;
}

/* lane-wise maximum (neither operand is NaN here) */
static inline vf vmaxv(vf a, vf b)
{
#if defined(LCX_KV_AVX512)
    return (vf)_mm512_max_ps((__m512)a, (__m512)b);
#elif defined(LCX_KV_AVX2)
    return (vf)_mm256_max_ps((__m256)a, (__m256)b);
#elif defined(LCX_KV_NEON)
    return (vf)vmaxq_f32((float32x4_t)a, (float32x4_t)b);
#else
    vi gt = a > b;
    return (vf)(((vi)a & gt) | ((vi)b & ~gt));
#endif
}

/* Horizontal sum and maximum: halving trees on x86 and NEON (three or four
 * dependent steps instead of a chain of VL - 1), lane by lane in the
 * generic variant. */
#if defined(LCX_KV_AVX512) || defined(LCX_KV_AVX2)
static inline __m128 vhalves(vf v, int max)
{
#if defined(LCX_KV_AVX512)
    __m256 lo = _mm512_castps512_ps256((__m512)v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd((__m512)v), 1));
    __m256 h = max ? _mm256_max_ps(lo, hi) : _mm256_add_ps(lo, hi);
#else
    __m256 h = (__m256)v;
#endif
    __m128 a = _mm256_castps256_ps128(h), b = _mm256_extractf128_ps(h, 1);
    return max ? _mm_max_ps(a, b) : _mm_add_ps(a, b);
}
#endif

static inline float vsum(vf v)
{
#if defined(LCX_KV_AVX512) || defined(LCX_KV_AVX2)
    __m128 x = vhalves(v, 0);
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
#elif defined(LCX_KV_NEON)
    return vaddvq_f32((float32x4_t)v);
#else
    float s = 0;
    for (int i = 0; i < VL; i++)
        s += v[i];
    return s;
#endif
}

static inline float vmax(vf v)
{
#if defined(LCX_KV_AVX512) || defined(LCX_KV_AVX2)
    __m128 x = vhalves(v, 1);
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_max_ss(x, _mm_movehdup_ps(x)));
#elif defined(LCX_KV_NEON)
    return vmaxvq_f32((float32x4_t)v);
#else
    float m = v[0];
    for (int i = 1; i < VL; i++)
        m = v[i] > m ? v[i] : m;
    return m;
#endif
}

/* exp(x) per lane for x <= 0 (softmax weights, and the rescale factors of
 * the online softmax), relative error ~2e-7; x below -87.3 (and -inf)
 * -> 0. With no upper clamp, the lower one is a single max. */
static inline vf vexp(vf x)
{
    const vf lo = vset1(-87.3365447504f);
    vi under = x < lo;
    x = vmaxv(x, lo);
    const vf magic = vset1(12582912.0f); /* 1.5 * 2^23: round to nearest */
    vf t = vfma(x, vset1(1.44269504088896341f), magic);
    vf n = t - magic;
    vi ni = (vi)t - (vi)magic;
    vf r = vfma(n, vset1(-0.693359375f), x);
    r = vfma(n, vset1(2.12194440e-4f), r);
    vf p = vset1(1.9875691500E-4f);
    p = vfma(p, r, vset1(1.3981999507E-3f));
    p = vfma(p, r, vset1(8.3334519073E-3f));
    p = vfma(p, r, vset1(4.1665795894E-2f));
    p = vfma(p, r, vset1(1.6666665459E-1f));
    p = vfma(p, r, vset1(5.0000001201E-1f));
    vf y = vfma(p * r, r, r) + vset1(1.0f);
    vi e = (ni + 127) << 23;
    y = y * (vf)e;
    return (vf)((vi)y & ~under);
}

/* ---- BF16 / F16 to F32, VL values at a time (the KV cache's tiles) ---- */

typedef uint16_t vh __attribute__((vector_size(VBYTES / 2))); /* VL 16-bit patterns */
typedef uint32_t vu __attribute__((vector_size(VBYTES)));     /* bits, shifted unsigned */

/* BF16 is the top half of an F32: widen and shift. */
static inline vf bf16_load(const uint16_t *p)
{
    vh h;
    memcpy(&h, p, sizeof h);
    return (vf)(__builtin_convertvector(h, vu) << 16);
}

/* F16: the hardware conversion where the variant has one (F16C, NEON);
 * the generic variant rebiases the exponent in integer arithmetic and
 * renormalises subnormals with one exact float subtraction. */
static inline vf f16_load(const uint16_t *p)
{
#if defined(LCX_KV_AVX512)
    return (vf)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
#elif defined(LCX_KV_AVX2)
    return (vf)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
#elif defined(LCX_KV_NEON)
    float16x4_t h;
    memcpy(&h, p, sizeof h);
    return (vf)vcvt_f32_f16(h);
#else
    vh h;
    memcpy(&h, p, sizeof h);
    vu x = __builtin_convertvector(h, vu);
    vu sign = (x & 0x8000u) << 16;
    vu o = (x & 0x7fffu) << 13;         /* exponent and mantissa in F32 position */
    vu e = o & (0x1fu << 23);           /* the F16 exponent, still biased by 15 */
    o += (127u - 15) << 23;             /* rebias */
    o += (vu)(e == (0x1fu << 23)) & ((128u - 16) << 23); /* inf / NaN: exponent 255 */
    vu sub = (vu)(e == 0);              /* zero or subnormal: all ones */
    vf norm = (vf)(o + (1u << 23)) - (vf)((vu){0} + (113u << 23)); /* - 2^-14 */
    o = (o & ~sub) | ((vu)norm & sub);
    return (vf)(o | sign);
#endif
}

static void to_f32(float *dst, const uint16_t *src, size_t n, lcx_dtype dtype)
{
    size_t i = 0;
    if (dtype == LCX_DT_BF16) {
        for (; i + VL <= n; i += VL)
            vstore(dst + i, bf16_load(src + i));
        for (; i < n; i++)
            dst[i] = lcx_bf16_to_f32(src[i]);
    } else {
        for (; i + VL <= n; i += VL)
            vstore(dst + i, f16_load(src + i));
        for (; i < n; i++)
            dst[i] = lcx_f16_to_f32(src[i]);
    }
}

/* Below this many multiply-adds a kernel runs on the calling thread: a
 * parallel region costs microseconds, more than a small model's whole
 * matmul (and under load its spinning threads cost far more). */
#define PAR_MIN_WORK (1u << 18)

/* ---- weights ---- */

/* dst[0..n) = w[row][k0 .. k0+n) as F32. */
static void weight_segment_f32(float *dst, const lcx_weight *w, int row, int k0, int n)
{
    size_t off = (size_t)row * w->cols + k0;
    switch (w->dtype) {
    case LCX_DT_F32:
        memcpy(dst, (const float *)w->data + off, (size_t)n * sizeof(float));
        break;
    case LCX_DT_BF16: {
        const uint16_t *src = (const uint16_t *)w->data + off;
        for (int i = 0; i < n; i++) {
            uint32_t u = (uint32_t)src[i] << 16;
            memcpy(&dst[i], &u, sizeof u);
        }
        break;
    }
    case LCX_DT_F16: {
        const uint16_t *src = (const uint16_t *)w->data + off;
        int i = 0;
#if defined(LCX_KV_AVX512)
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
#elif defined(LCX_KV_AVX2)
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
#elif defined(LCX_KV_NEON)
        for (; i + 4 <= n; i += 4) {
            float16x4_t h;
            memcpy(&h, src + i, sizeof h);
            vst1q_f32(dst + i, vcvt_f32_f16(h));
        }
#endif
        for (; i < n; i++)
            dst[i] = lcx_f16_to_f32(src[i]);
        break;
    }
    default:
        memset(dst, 0, (size_t)n * sizeof(float));
    }
}

/* ---- matmul ---- */

/* panel[k][MM_NB] = w[n0 + n][k0 + k], zero for n >= nn. */
static void mm_pack(float *panel, float *rowbuf, const lcx_weight *w, int n0, int nn, int k0,
                    int kb)
{
    for (int n = 0; n < MM_NB; n++) {
        if (n < nn)
            weight_segment_f32(rowbuf, w, n0 + n, k0, kb);
        else
            memset(rowbuf, 0, (size_t)kb * sizeof(float));
        for (int k = 0; k < kb; k++)
            panel[k * MM_NB + n] = rowbuf[k];
    }
}

/* y[t][0..nn) (+)= sum_k x[t][k] panel[k][.] for MM_TT tokens (rows past nt
 * are duplicates whose results are dropped): MM_TT x MM_NV accumulators. */
static void mm_micro(float *y, int ldy, const float *const xr[MM_TT], const float *panel, int kb,
                     int nt, int nn, const float *init)
{
    vf c[MM_TT][MM_NV];
    float tmp[MM_NB];
#pragma GCC unroll 8
    for (int t = 0; t < MM_TT; t++) {
        const float *src = init;
        if (!init && t < nt) {
            src = y + (size_t)t * ldy;
            if (nn < MM_NB) {
                memset(tmp, 0, sizeof tmp);
                memcpy(tmp, src, (size_t)nn * sizeof(float));
                src = tmp;
            }
        }
#pragma GCC unroll 4
        for (int v = 0; v < MM_NV; v++)
            c[t][v] = src ? vload(src + v * VL) : vset1(0);
    }
    for (int k = 0; k < kb; k++) {
        vf w[MM_NV];
#pragma GCC unroll 4
        for (int v = 0; v < MM_NV; v++)
            w[v] = vload(panel + k * MM_NB + v * VL);
#pragma GCC unroll 8
        for (int t = 0; t < MM_TT; t++) {
            vf xt = vset1(xr[t][k]);
#pragma GCC unroll 4
            for (int v = 0; v < MM_NV; v++)
                c[t][v] = vfma(xt, w[v], c[t][v]);
        }
    }
    for (int t = 0; t < nt; t++) {
        float *dst = nn == MM_NB ? y + (size_t)t * ldy : tmp;
        for (int v = 0; v < MM_NV; v++)
            vstore(dst + v * VL, c[t][v]);
        if (nn < MM_NB)
            memcpy(y + (size_t)t * ldy, tmp, (size_t)nn * sizeof(float));
    }
}

static float dot_f32(const float *a, const float *b, int n)
{
    vf acc0 = vset1(0), acc1 = vset1(0);
    int i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        acc0 = vfma(vload(a + i), vload(b + i), acc0);
        acc1 = vfma(vload(a + i + VL), vload(b + i + VL), acc1);
    }
    for (; i + VL <= n; i += VL)
        acc0 = vfma(vload(a + i), vload(b + i), acc0);
    float s = vsum(acc0 + acc1);
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* VL weights w[0..VL) as floats: BF16 is the top half of an F32; F16 goes
 * through the F16C / NEON conversion where there is one. */
static inline vf vload_bf16(const uint16_t *w)
{
#if defined(LCX_KV_AVX512)
    return (vf)_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)w)), 16);
#elif defined(LCX_KV_AVX2)
    return (vf)_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)w)), 16);
#elif defined(LCX_KV_NEON)
    return (vf)vshll_n_u16(vld1_u16(w), 16);
#else
    typedef uint16_t vh __attribute__((vector_size(VBYTES / 2)));
    typedef uint32_t vu __attribute__((vector_size(VBYTES)));
    vh h;
    memcpy(&h, w, sizeof h);
    return (vf)(__builtin_convertvector(h, vu) << 16);
#endif
}

static inline vf vload_f16(const uint16_t *w)
{
#if defined(LCX_KV_AVX512)
    return (vf)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
#elif defined(LCX_KV_AVX2)
    return (vf)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w));
#elif defined(LCX_KV_NEON)
    float16x4_t h;
    memcpy(&h, w, sizeof h);
    return (vf)vcvt_f32_f16(h);
#else
    vf v;
    for (int i = 0; i < VL; i++)
        v[i] = lcx_f16_to_f32(w[i]);
    return v;
#endif
}

/* sum_i w[i] x[i] for a BF16 or F16 row, converted in registers (decode
 * reads every weight once per token: no staging copy). */
static float dot_half(const uint16_t *w, const float *x, int n, int is_bf16)
{
    /* four chains, so the FMA latency does not bound the row */
    vf acc0 = vset1(0), acc1 = vset1(0), acc2 = vset1(0), acc3 = vset1(0);
    int i = 0;
    if (is_bf16)
        for (; i + 4 * VL <= n; i += 4 * VL) {
            acc0 = vfma(vload_bf16(w + i), vload(x + i), acc0);
            acc1 = vfma(vload_bf16(w + i + VL), vload(x + i + VL), acc1);
            acc2 = vfma(vload_bf16(w + i + 2 * VL), vload(x + i + 2 * VL), acc2);
            acc3 = vfma(vload_bf16(w + i + 3 * VL), vload(x + i + 3 * VL), acc3);
        }
    else
        for (; i + 4 * VL <= n; i += 4 * VL) {
            acc0 = vfma(vload_f16(w + i), vload(x + i), acc0);
            acc1 = vfma(vload_f16(w + i + VL), vload(x + i + VL), acc1);
            acc2 = vfma(vload_f16(w + i + 2 * VL), vload(x + i + 2 * VL), acc2);
            acc3 = vfma(vload_f16(w + i + 3 * VL), vload(x + i + 3 * VL), acc3);
        }
    for (; i + VL <= n; i += VL)
        acc0 = vfma(is_bf16 ? vload_bf16(w + i) : vload_f16(w + i), vload(x + i), acc0);
    float s = vsum((acc0 + acc1) + (acc2 + acc3));
    for (; i < n; i++) {
        float wi;
        if (is_bf16) {
            uint32_t u = (uint32_t)w[i] << 16;
            memcpy(&wi, &u, sizeof wi);
        } else {
            wi = lcx_f16_to_f32(w[i]);
        }
        s += wi * x[i];
    }
    return s;
}

#if defined(LCX_KV_AVX512) || defined(LCX_KV_AVX2)
/* One token against BF16 rows, whole vectors of weight pairs: a load of
 * 2 VL BF16 weights gives the even ones as floats by a shift and the odd
 * ones by a mask, each multiplied with x's even or odd elements, which xeo
 * holds deinterleaved: per block of 2 VL, VL evens then VL odds. Fewer
 * instructions per weight byte than widening VL at a time, so decode,
 * which streams every weight once per token, keeps more loads in flight.
 * The elements past the last whole block come from x. */
static void deinterleave_x(float *xeo, const float *x, int n)
{
    for (int b = 0; b + 2 * VL <= n; b += 2 * VL)
        for (int i = 0; i < VL; i++) {
            xeo[b + i] = x[b + 2 * i];
            xeo[b + VL + i] = x[b + 2 * i + 1];
        }
}

static float dot_bf16_pairs(const uint16_t *w, const float *xeo, const float *x, int n)
{
    vf acc0 = vset1(0), acc1 = vset1(0), acc2 = vset1(0), acc3 = vset1(0);
    int i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        vu p0, p1;
        /* 8 KiB ahead, both lines of the next iteration's 128 bytes (AVX-512) */
        __builtin_prefetch(w + i + 4096);
        __builtin_prefetch(w + i + 4096 + 32);
        memcpy(&p0, w + i, sizeof p0);
        memcpy(&p1, w + i + 2 * VL, sizeof p1);
        acc0 = vfma((vf)(p0 << 16), vload(xeo + i), acc0);
        acc1 = vfma((vf)(p0 & 0xffff0000u), vload(xeo + i + VL), acc1);
        acc2 = vfma((vf)(p1 << 16), vload(xeo + i + 2 * VL), acc2);
        acc3 = vfma((vf)(p1 & 0xffff0000u), vload(xeo + i + 3 * VL), acc3);
    }
    for (; i + 2 * VL <= n; i += 2 * VL) {
        vu p0;
        memcpy(&p0, w + i, sizeof p0);
        acc0 = vfma((vf)(p0 << 16), vload(xeo + i), acc0);
        acc1 = vfma((vf)(p0 & 0xffff0000u), vload(xeo + i + VL), acc1);
    }
    float s = vsum((acc0 + acc1) + (acc2 + acc3));
    for (; i < n; i++)
        s += lcx_bf16_to_f32(w[i]) * x[i];
    return s;
}
#endif

/* Few tokens (decode): one pass over the weights, rows converted in pieces
 * (one token: converted in registers, see dot_half). */
static void matmul_gemv(float *y, const float *x, const lcx_weight *w, const float *bias, int n_tok,
                        const lcx_kscratch *ks)
{
    int n_out = w->rows, n_in = w->cols;
    int par = (size_t)n_tok * n_out * n_in >= PAR_MIN_WORK;
#pragma omp parallel num_threads(ks->n_threads) if (par)
    {
        float seg[LCX_MM_KB] __attribute__((aligned(64)));
#if defined(LCX_KV_AVX512) || defined(LCX_KV_AVX2)
        /* one token, BF16: x deinterleaved once per thread, in its scratch */
        float *xeo = ks->mem + (size_t)omp_get_thread_num() * ks->stride;
        int pairs = n_tok == 1 && w->dtype == LCX_DT_BF16 && (size_t)n_in <= ks->stride;
        if (pairs)
            deinterleave_x(xeo, x, n_in);
#endif
#pragma omp for schedule(static)
        for (int n = 0; n < n_out; n++) {
            float acc[4] = {0, 0, 0, 0};
            if (w->dtype == LCX_DT_F32) {
                const float *row = (const float *)w->data + (size_t)n * n_in;
                for (int t = 0; t < n_tok; t++)
                    acc[t] = dot_f32(row, x + (size_t)t * n_in, n_in);
#if defined(LCX_KV_AVX512) || defined(LCX_KV_AVX2)
            } else if (pairs) {
                acc[0] = dot_bf16_pairs((const uint16_t *)w->data + (size_t)n * n_in, xeo, x, n_in);
#endif
            } else if (n_tok == 1 && (w->dtype == LCX_DT_BF16 || w->dtype == LCX_DT_F16)) {
                acc[0] = dot_half((const uint16_t *)w->data + (size_t)n * n_in, x, n_in,
                                  w->dtype == LCX_DT_BF16);
            } else {
                for (int k0 = 0; k0 < n_in; k0 += LCX_MM_KB) {
                    int kb = n_in - k0 < LCX_MM_KB ? n_in - k0 : LCX_MM_KB;
                    weight_segment_f32(seg, w, n, k0, kb);
                    for (int t = 0; t < n_tok; t++)
                        acc[t] += dot_f32(seg, x + (size_t)t * n_in + k0, kb);
                }
            }
            for (int t = 0; t < n_tok; t++)
                y[(size_t)t * n_out + n] = acc[t] + (bias ? bias[n] : 0.0f);
        }
    }
}

#if defined(LCX_KV_AMX)
/* ---- matmul on AMX tiles (the amx variant, BF16 weights, prefill) ----
 *
 * y = x . w^T with TDPBF16PS: C[16 tokens][16 outputs] (F32) += A[16
 * tokens][32 k] (BF16) . B[16 k pairs][16 outputs][2] (BF16). The weights
 * are B tiles, packed once when the model loads (amx_pack); the tokens are
 * A tiles, straight from a row-major block.
 *
 * Precision: each activation is split into three BF16 terms, x = hi + mid
 * + lo (hi = bf16(x), mid = bf16(x - hi), lo = bf16(x - hi - mid)), which
 * hold x's 24-bit significand exactly (up to the rare term that falls
 * below BF16's normal range, which the tiles flush to 0), and every term
 * is multiplied on the tiles: a BF16 product is exact in F32 and the sums
 * are F32, so the result is an F32 matmul of the same numbers with another
 * summation order, not a BF16 one. Three passes cost three times the tile
 * work of one, and still run several times faster than the F32 FMA kernel
 * (bench/kernels). */
enum { AMX_TB = LCX_AMX_TB, AMX_NB = 32, AMX_PASSES = 3 };

typedef struct amx_tilecfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_tilecfg;

/* every tile 16 rows of 64 bytes: tmm0-3 the 2 x 2 C tiles, tmm4-5 A, tmm6-7 B */
static void amx_begin(void)
{
    amx_tilecfg c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < 8; i++) {
        c.colsb[i] = 64;
        c.rows[i] = 16;
    }
    _tile_loadconfig(&c);
}

/* The packed layout: panels of AMX_NB outputs, each [k steps of 32][2 B
 * tiles of 16 outputs][16 k pairs][16 outputs][2], zero past rows and
 * cols. */
static size_t amx_kpad(int cols)
{
    return (size_t)(cols + 31) / 32 * 32;
}

static size_t amx_pack_bytes(const lcx_weight *w)
{
    if (w->dtype != LCX_DT_BF16 || w->rows < 1 || w->cols < 1)
        return 0;
    return (size_t)(w->rows + AMX_NB - 1) / AMX_NB * AMX_NB * amx_kpad(w->cols) * sizeof(uint16_t);
}

static void amx_pack(void *dst, const lcx_weight *w)
{
    const uint16_t *src = w->data;
    size_t kp = amx_kpad(w->cols), steps = kp / 32;
    int panels = (w->rows + AMX_NB - 1) / AMX_NB;
#pragma omp parallel for schedule(static)
    for (int pn = 0; pn < panels; pn++) {
        uint32_t *panel = (uint32_t *)dst + (size_t)pn * AMX_NB * kp / 2;
        for (int c = 0; c < AMX_NB; c++) {
            int n = pn * AMX_NB + c;
            const uint16_t *row = n < w->rows ? src + (size_t)n * w->cols : NULL;
            for (size_t s = 0; s < steps; s++) {
                uint32_t *tile = panel + (s * 2 + c / 16) * 256;
                for (int r = 0; r < 16; r++) {
                    size_t k = s * 32 + 2 * (size_t)r;
                    uint32_t lo = row && k < (size_t)w->cols ? row[k] : 0;
                    uint32_t hi = row && k + 1 < (size_t)w->cols ? row[k + 1] : 0;
                    tile[r * 16 + c % 16] = lo | hi << 16;
                }
            }
        }
    }
}

/* 16 BF16 patterns as floats */
static inline __m512 amx_bf16_up(__m256i h)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* xs = the three terms of x[0..nt)[0..kb), each [AMX_TB][kbp] BF16, zero
 * past nt rows and kb columns. */
static void amx_split(uint16_t *xs, const float *x, size_t ldx, int nt, int kb, int kbp)
{
    for (int t = 0; t < AMX_TB; t++) {
        uint16_t *h = xs + (size_t)t * kbp, *m = h + (size_t)AMX_TB * kbp;
        uint16_t *l = m + (size_t)AMX_TB * kbp;
        const float *xr = x + (size_t)t * ldx;
        for (int k = 0; k < kbp; k += 16) {
            int rem = t < nt ? kb - k : 0;
            __m512 v = rem >= 16 ? _mm512_loadu_ps(xr + k)
                       : rem > 0 ? _mm512_maskz_loadu_ps((__mmask16)((1u << rem) - 1), xr + k)
                                 : _mm512_setzero_ps();
            __m256i a = (__m256i)_mm512_cvtneps_pbh(v);
            v = _mm512_sub_ps(v, amx_bf16_up(a));
            __m256i b = (__m256i)_mm512_cvtneps_pbh(v);
            v = _mm512_sub_ps(v, amx_bf16_up(b));
            _mm256_storeu_si256((__m256i *)(h + k), a);
            _mm256_storeu_si256((__m256i *)(m + k), b);
            _mm256_storeu_si256((__m256i *)(l + k), (__m256i)_mm512_cvtneps_pbh(v));
        }
    }
}

/* The 2 x 2 C tiles (tmm0-3) from and to a [32][ld] block of floats. */
static inline void amx_c_tiles_load(const float *c, size_t ld)
{
    _tile_loadd(0, c, ld * 4);
    _tile_loadd(1, c + 16, ld * 4);
    _tile_loadd(2, c + 16 * ld, ld * 4);
    _tile_loadd(3, c + 16 * ld + 16, ld * 4);
}

static inline void amx_c_tiles_store(float *c, size_t ld)
{
    _tile_stored(0, c, ld * 4);
    _tile_stored(1, c + 16, ld * 4);
    _tile_stored(2, c + 16 * ld, ld * 4);
    _tile_stored(3, c + 16 * ld + 16, ld * 4);
}

/* The C tiles of tokens [t0, t0 + nt) x outputs [n0, n0 + nn) from y (or
 * from init, a row of AMX_NB starting values, when not NULL), and back.
 * Whole tiles go straight between y and the tiles; partial ones through
 * buf [32][32]. */
static void amx_c_load(const float *y, size_t ldy, int nt, int nn, const float *init, float *buf)
{
    if (!init && nt == AMX_TB && nn == AMX_NB) {
        amx_c_tiles_load(y, ldy);
        return;
    }
    for (int t = 0; t < 32; t++)
        for (int n = 0; n < 32; n++)
            buf[t * 32 + n] = init ? init[n] : t < nt && n < nn ? y[t * ldy + n] : 0.0f;
    amx_c_tiles_load(buf, 32);
}

static void amx_c_store(float *y, size_t ldy, int nt, int nn, float *buf)
{
    if (nt == AMX_TB && nn == AMX_NB) {
        amx_c_tiles_store(y, ldy);
        return;
    }
    amx_c_tiles_store(buf, 32);
    for (int t = 0; t < nt; t++)
        memcpy(y + t * ldy, buf + t * 32, (size_t)nn * sizeof(float));
}

/* Work items: blocks of AMX_TB tokens, each with a range of output panels
 * (more ranges when there are few token blocks, so every thread has work);
 * an item splits its tokens once per K block and runs them through all of
 * its panels. */
static void matmul_amx(float *y, const float *x, const lcx_weight *w, const float *bias, int n_tok,
                       const lcx_kscratch *ks)
{
    int n_out = w->rows, n_in = w->cols;
    size_t kp = amx_kpad(n_in), steps = kp / 32;
    int n_tb = (n_tok + AMX_TB - 1) / AMX_TB, n_pan = (n_out + AMX_NB - 1) / AMX_NB;
    int n_ranges = 1;
    while (n_tb * n_ranges < 2 * ks->n_threads && n_ranges < n_pan)
        n_ranges++;
    int items = n_tb * n_ranges;
    int par = (size_t)n_tok * n_out * n_in >= PAR_MIN_WORK;
#pragma omp parallel num_threads(ks->n_threads) if (par)
    {
        float *mem = ks->mem + (size_t)omp_get_thread_num() * ks->stride;
        float *cbuf = mem;                      /* [32][32] */
        uint16_t *xs = (uint16_t *)(mem + 32 * 32); /* [3][AMX_TB][LCX_MM_KB] */
        float init[AMX_NB];
        amx_begin();
#pragma omp for schedule(dynamic, 1)
        for (int it = 0; it < items; it++) {
            int tb = it / n_ranges, rg = it % n_ranges;
            int t0 = tb * AMX_TB, nt = n_tok - t0 < AMX_TB ? n_tok - t0 : AMX_TB;
            int p0 = (int)((long)n_pan * rg / n_ranges), p1 = (int)((long)n_pan * (rg + 1) / n_ranges);
            for (int k0 = 0; k0 < n_in; k0 += LCX_MM_KB) {
                int kb = n_in - k0 < LCX_MM_KB ? n_in - k0 : LCX_MM_KB;
                int kbp = (kb + 31) / 32 * 32;
                amx_split(xs, x + (size_t)t0 * n_in + k0, (size_t)n_in, nt, kb, kbp);
                for (int pn = p0; pn < p1; pn++) {
                    int n0 = pn * AMX_NB, nn = n_out - n0 < AMX_NB ? n_out - n0 : AMX_NB;
                    float *yt = y + (size_t)t0 * n_out + n0;
                    const float *ini = NULL;
                    if (k0 == 0) {
                        for (int n = 0; n < AMX_NB; n++)
                            init[n] = bias && n < nn ? bias[n0 + n] : 0.0f;
                        ini = init;
                    }
                    amx_c_load(yt, (size_t)n_out, nt, nn, ini, cbuf);
                    const uint16_t *b = (const uint16_t *)w->packed +
                                        ((size_t)pn * steps + (size_t)k0 / 32) * 2 * 512;
                    for (int s = 0; s < kbp / 32; s++) {
                        _tile_loadd(6, b + (size_t)s * 1024, 64);
                        _tile_loadd(7, b + (size_t)s * 1024 + 512, 64);
                        for (int p = 0; p < AMX_PASSES; p++) {
                            const uint16_t *a = xs + (size_t)p * AMX_TB * kbp + (size_t)s * 32;
                            _tile_loadd(4, a, (size_t)kbp * 2);
                            _tile_loadd(5, a + (size_t)16 * kbp, (size_t)kbp * 2);
                            _tile_dpbf16ps(0, 4, 6);
                            _tile_dpbf16ps(1, 4, 7);
                            _tile_dpbf16ps(2, 5, 6);
                            _tile_dpbf16ps(3, 5, 7);
                        }
                    }
                    amx_c_store(yt, (size_t)n_out, nt, nn, cbuf);
                }
            }
        }
        _tile_release();
    }
}
#endif

static void matmul(float *y, const float *x, const lcx_weight *w, const float *bias, int n_tok,
                   const lcx_kscratch *ks)
{
    int n_out = w->rows, n_in = w->cols;
    if (n_tok <= 0)
        return;
    if (n_tok < 4) {
        matmul_gemv(y, x, w, bias, n_tok, ks);
        return;
    }
#if defined(LCX_KV_AMX)
    if (w->packed && w->dtype == LCX_DT_BF16) {
        matmul_amx(y, x, w, bias, n_tok, ks);
        return;
    }
#endif
    int n_blocks = (n_out + MM_NB - 1) / MM_NB;
    int par = (size_t)n_tok * n_out * n_in >= PAR_MIN_WORK;
#pragma omp parallel num_threads(ks->n_threads) if (par)
    {
        float *panel = ks->mem + (size_t)omp_get_thread_num() * ks->stride;
        float rowbuf[LCX_MM_KB] __attribute__((aligned(64)));
        float init[MM_NB] __attribute__((aligned(64)));
#pragma omp for schedule(dynamic, 1)
        for (int b = 0; b < n_blocks; b++) {
            int n0 = b * MM_NB, nn = n_out - n0 < MM_NB ? n_out - n0 : MM_NB;
            for (int n = 0; n < MM_NB; n++)
                init[n] = (bias && n < nn) ? bias[n0 + n] : 0.0f;
            for (int k0 = 0; k0 < n_in; k0 += LCX_MM_KB) {
                int kb = n_in - k0 < LCX_MM_KB ? n_in - k0 : LCX_MM_KB;
                mm_pack(panel, rowbuf, w, n0, nn, k0, kb);
                for (int t0 = 0; t0 < n_tok; t0 += MM_TT) {
                    int nt = n_tok - t0 < MM_TT ? n_tok - t0 : MM_TT;
                    const float *xr[MM_TT];
                    for (int t = 0; t < MM_TT; t++)
                        xr[t] = x + (size_t)(t0 + (t < nt ? t : nt - 1)) * n_in + k0;
                    /* the next group's outputs, which it reloads after the
                     * first K block: they are far out of cache by now, and
                     * their misses would stall it at its start */
                    if (k0 > 0 && t0 + MM_TT < n_tok)
                        for (int t = t0 + MM_TT; t < t0 + 2 * MM_TT && t < n_tok; t++)
                            for (int n = 0; n < nn; n += 16)
                                __builtin_prefetch(y + (size_t)t * n_out + n0 + n, 1);
                    mm_micro(y + (size_t)t0 * n_out + n0, n_out, xr, panel, kb, nt, nn,
                             k0 == 0 ? init : NULL);
                }
            }
        }
    }
}

/* ---- rmsnorm, rope ---- */

static void rmsnorm(float *out, const float *x, const float *weight, int n, int dim, float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)n * dim >= (1u << 15))
    for (int t = 0; t < n; t++) {
        const float *xi = x + (size_t)t * dim;
        float *oi = out + (size_t)t * dim;
        double ss = 0;
        for (int i = 0; i < dim; i++)
            ss += (double)xi[i] * xi[i];
        float scale = (float)(1.0 / sqrt(ss / dim + eps));
        for (int i = 0; i < dim; i++)
            oi[i] = xi[i] * scale * weight[i];
    }
}

static void rope_apply(float *vec, const float *cos_t, const float *sin_t, int n_tok, int n_heads,
                       int stride, int rot_dim)
{
    int half = rot_dim / 2;
#pragma omp parallel for schedule(static) if ((size_t)n_tok * n_heads * rot_dim >= (1u << 15))
    for (int t = 0; t < n_tok; t++) {
        const float *c = cos_t + (size_t)t * half, *s = sin_t + (size_t)t * half;
        for (int h = 0; h < n_heads; h++) {
            float *v = vec + ((size_t)t * n_heads + h) * stride;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}

/* ---- element-wise: SwiGLU, sigmoid ---- */

/* Below this many elements an element-wise op runs on the calling thread. */
#define ELT_PAR_MIN (1u << 15)

/* sigmoid(x) per lane from exp(-|x|) (never an argument above 0):
 * 1 / (1 + e) for x >= 0, e / (1 + e) below. */
static inline vf vsigmoid(vf x)
{
    vi neg = x < vset1(0);
    vf ax = (vf)((vi)x & ~(vi)vset1(-0.0f)); /* |x| */
    vf e = vexp(-ax);
    vf r = vset1(1.0f) / (vset1(1.0f) + e);
    return (vf)(((vi)(e * r) & neg) | ((vi)r & ~neg));
}

static void silu_mul(float *x, const float *u, size_t n, const lcx_kscratch *ks)
{
    size_t nv = n / VL;
#pragma omp parallel for schedule(static) num_threads(ks->n_threads) if (n >= ELT_PAR_MIN)
    for (size_t i = 0; i < nv; i++) {
        vf g = vload(x + i * VL);
        vstore(x + i * VL, g * vsigmoid(g) * vload(u + i * VL));
    }
    for (size_t i = nv * VL; i < n; i++)
        x[i] = x[i] / (1.0f + expf(-x[i])) * u[i];
}

static void sigmoid(float *x, size_t n, const lcx_kscratch *ks)
{
    size_t nv = n / VL;
#pragma omp parallel for schedule(static) num_threads(ks->n_threads) if (n >= ELT_PAR_MIN)
    for (size_t i = 0; i < nv; i++)
        vstore(x + i * VL, vsigmoid(vload(x + i * VL)));
    for (size_t i = nv * VL; i < n; i++)
        x[i] = 1.0f / (1.0f + expf(-x[i]));
}

/* ---- attention ---- */

#define AT_KT LCX_AT_KT /* keys per tile: two K blocks */
_Static_assert(AT_KT == 2 * LCX_KBLOCK, "a tile is two K blocks");
_Static_assert(AT_MR <= LCX_AT_MR && AT_MR % QK_R == 0 && AT_MR % PV_R == 0,
               "a micro tile is whole QK and PV row groups, within the scratch");
#define AT_QB LCX_AT_QB
enum { AT_NV = AT_KT / VL }; /* vectors across one tile's scores */
/* the micro tile's rows rounded up to whole vectors (AVX-512 holds 16) */
enum { AT_MRV = (AT_MR + VL - 1) / VL * VL };

/* K blocks a QK pass covers at once: both of a tile with AVX-512 (a
 * vector each, so 8 rows x 2 accumulators take 16 of the 32 registers and
 * two key loads serve 16 FMAs), one elsewhere (16 registers; the avx2
 * rows already hold 6 x 2 accumulators). */
#if defined(LCX_KV_AVX512)
enum { QK_NB = 2 };
#else
enum { QK_NB = 1 };
#endif

/* s[r0 + r][keys of K blocks b0 .. b0 + NB) = q_r . k_j for R rows (R and
 * NB constants at every call, so the R x NB KB_NV accumulators stay in
 * registers). */
static inline __attribute__((always_inline)) void at_qk_rows(float s[AT_MR][AT_KT],
                                                            const float *const qr[AT_MR],
                                                            const float *const kt[2], int hdp,
                                                            int r0, int b0, const int R,
                                                            const int NB)
{
    vf acc[QK_R][QK_NB * KB_NV];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int i = 0; i < NB * KB_NV; i++)
            acc[r][i] = vset1(0);
    for (int d = 0; d < hdp; d++) {
        vf kv[QK_NB * KB_NV];
#pragma GCC unroll 2
        for (int b = 0; b < NB; b++)
#pragma GCC unroll 4
            for (int v = 0; v < KB_NV; v++)
                kv[b * KB_NV + v] = vload(kt[b0 + b] + d * LCX_KBLOCK + v * VL);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            vf qd = vset1(qr[r0 + r][d]);
#pragma GCC unroll 4
            for (int i = 0; i < NB * KB_NV; i++)
                acc[r][i] = vfma(qd, kv[i], acc[r][i]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int b = 0; b < NB; b++)
#pragma GCC unroll 4
            for (int v = 0; v < KB_NV; v++)
                vstore(s[r0 + r] + (b0 + b) * LCX_KBLOCK + v * VL, acc[r][b * KB_NV + v]);
}

/* s[r][0..32) = q_r . k_j for the first nr (<= AT_MR) rows against one
 * tile of transposed keys (its two K blocks kt0, kt1), QK_R rows x QK_NB K
 * blocks at a time; a last group of fewer rows (decode: a few query heads
 * per KV head) computes only those. */
static void at_qk(float s[AT_MR][AT_KT], const float *const qr[AT_MR], const float *kt0,
                  const float *kt1, int hdp, int nr)
{
    const float *const kt[2] = {kt0, kt1};
    for (int b0 = 0; b0 < 2; b0 += QK_NB) {
        int r0 = 0;
        for (; r0 + QK_R <= nr; r0 += QK_R)
            at_qk_rows(s, qr, kt, hdp, r0, b0, QK_R, QK_NB);
        switch (nr - r0) {
        case 0: break;
        case 1: at_qk_rows(s, qr, kt, hdp, r0, b0, 1, QK_NB); break;
        case 2: at_qk_rows(s, qr, kt, hdp, r0, b0, 2 < QK_R ? 2 : QK_R, QK_NB); break;
        case 3: at_qk_rows(s, qr, kt, hdp, r0, b0, 3 < QK_R ? 3 : QK_R, QK_NB); break;
        case 4: at_qk_rows(s, qr, kt, hdp, r0, b0, 4 < QK_R ? 4 : QK_R, QK_NB); break;
        default: at_qk_rows(s, qr, kt, hdp, r0, b0, QK_R, QK_NB); break; /* rows past nr: padding */
        }
    }
}

/* o_r[dc .. dc + VL NV) = o_r * corr_r + sum_j p[r][j] v_j[...] for R rows;
 * R and NV are constants at every call, so the R x NV accumulators stay in
 * registers. */
static inline __attribute__((always_inline)) void at_pv_part(float *const orow[PV_R],
                                                            const float corr[PV_R],
                                                            const float p[PV_R][AT_KT],
                                                            const float *v, int hdp, int dc,
                                                            const int R, const int NV)
{
    vf acc[PV_R][PV_NV];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int i = 0; i < NV; i++)
            acc[r][i] = vload(orow[r] + dc + VL * i) * corr[r];
    for (int j = 0; j < AT_KT; j++) {
        const float *vj = v + (size_t)j * hdp + dc;
        vf vv[PV_NV];
#pragma GCC unroll 4
        for (int i = 0; i < NV; i++)
            vv[i] = vload(vj + VL * i);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            vf pr = vset1(p[r][j]);
#pragma GCC unroll 4
            for (int i = 0; i < NV; i++)
                acc[r][i] = vfma(pr, vv[i], acc[r][i]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int i = 0; i < NV; i++)
            vstore(orow[r] + dc + VL * i, acc[r][i]);
}

/* o_r = o_r * corr_r + sum_j p[r][j] v_j for R rows over all hdp dims
 * (hdp is a multiple of 16, so of VL). */
static inline __attribute__((always_inline)) void at_pv_rows(float *const orow[PV_R],
                                                            const float corr[PV_R],
                                                            const float p[PV_R][AT_KT],
                                                            const float *v, int hdp, const int R)
{
    int dc = 0;
    for (; dc + PV_NV * VL <= hdp; dc += PV_NV * VL)
        at_pv_part(orow, corr, p, v, hdp, dc, R, PV_NV);
    switch ((hdp - dc) / VL) { /* fewer than PV_NV vectors left */
    case 3: at_pv_part(orow, corr, p, v, hdp, dc, R, 3 < PV_NV ? 3 : PV_NV); break;
    case 2: at_pv_part(orow, corr, p, v, hdp, dc, R, 2 < PV_NV ? 2 : PV_NV); break;
    case 1: at_pv_part(orow, corr, p, v, hdp, dc, R, 1); break;
    default: break;
    }
}

/* at_pv_rows for the nr (<= PV_R) rows starting at orow: a full group, or
 * the few rows of a decode step (fewer than 4: those only). */
static void at_pv(float *const orow[PV_R], const float corr[PV_R], const float p[PV_R][AT_KT],
                  const float *v, int hdp, int nr)
{
    switch (nr) {
    case 1: at_pv_rows(orow, corr, p, v, hdp, 1); break;
    case 2: at_pv_rows(orow, corr, p, v, hdp, 2 < PV_R ? 2 : PV_R); break;
    case 3: at_pv_rows(orow, corr, p, v, hdp, 3 < PV_R ? 3 : PV_R); break;
    default: at_pv_rows(orow, corr, p, v, hdp, PV_R); break; /* rows past nr: padding */
    }
}

static void attention(float *out, const float *q, const void *k_cache, const void *v_cache,
                      lcx_dtype kv_dtype, int n_q, int pos0, int n_heads, int n_kv_heads, int hd,
                      int kv_blocks, int window, float *sink, float *entropy,
                      const lcx_kscratch *ks)
{
    const int narrow = kv_dtype != LCX_DT_F32; /* BF16 / F16 tiles, converted */
    const size_t elsize = narrow ? sizeof(uint16_t) : sizeof(float);
    const int G = n_heads / n_kv_heads, hdp = lcx_hd_pad(hd);
    /* positions per work item: about qb rows, a whole number of micro
     * tiles where G allows (lcm(G, AT_MR) divides ppi * G). Each item
     * reads all the keys and values its rows see, so long contexts take
     * the scratch's full AT_QB rows (a quarter of the cache traffic: +9 %
     * at 16K on the Qwen3 shape); short ones 64, for more items to share
     * among the threads (-3 % at 4K with 256). */
    const int qb = pos0 + n_q >= 8192 ? AT_QB : AT_QB < 64 ? AT_QB : 64;
    int ppi = G >= qb ? 1 : qb / G, lcm = G;
    while (lcm % AT_MR)
        lcm += G;
    if (lcm <= qb)
        ppi = qb / lcm * lcm / G;
    const int rmax = ppi * G + AT_MR;           /* + dummy rows for the last micro tile */
    const int n_pblocks = (n_q + ppi - 1) / ppi;
    const int n_items = n_kv_heads * n_pblocks;
    /* no more threads than work items: decode has one per KV head */
    const int team = n_items < 1 ? 1 : n_items < ks->n_threads ? n_items : ks->n_threads;
    const int par = team > 1 && (size_t)n_q * (pos0 + n_q) * n_heads * hd >= PAR_MIN_WORK;
#pragma omp parallel num_threads(team) if (par)
    {
        /* this thread's scratch: queries, outputs, one tile of keys and of
         * values as F32 (narrow caches), m, l, s0, u and positions */
        float *qbuf = ks->mem + (size_t)omp_get_thread_num() * ks->stride;
        float *obuf = qbuf + (size_t)rmax * hdp;
        float *ktile = obuf + (size_t)rmax * hdp;
        float *vtile = ktile + (size_t)AT_KT * hdp;
        float *m = vtile + (size_t)AT_KT * hdp;
        float *l = m + rmax, *s0 = m + 2 * rmax;
        /* u: sum of p (s - m) over the keys so far, for the entropy
         * ln l - u / l (when entropy is wanted) */
        float *u = m + 3 * rmax;
        int *rowpos = (int *)(m + 4 * rmax);
        float s[AT_MR][AT_KT] __attribute__((aligned(64)));
        float p[AT_MR][AT_KT] __attribute__((aligned(64)));
#pragma omp for schedule(dynamic, 1)
        for (int item = n_items - 1; item >= 0; item--) { /* longest rows first */
            int g = item / n_pblocks, pb = item % n_pblocks;
            int t0 = pb * ppi, npos = n_q - t0 < ppi ? n_q - t0 : ppi, R = npos * G;
            int nr_pad = (R + AT_MR - 1) / AT_MR * AT_MR;
            for (int r = 0; r < nr_pad; r++) {
                float *qd = qbuf + (size_t)r * hdp;
                if (r < R) {
                    int t = t0 + r / G, h = g * G + r % G;
                    memcpy(qd, q + ((size_t)t * n_heads + h) * hdp, (size_t)hdp * sizeof(float));
                    rowpos[r] = pos0 + t;
                } else {
                    memset(qd, 0, (size_t)hdp * sizeof(float));
                    rowpos[r] = -1;
                }
                memset(obuf + (size_t)r * hdp, 0, (size_t)hdp * sizeof(float));
                m[r] = -INFINITY;
                l[r] = 0;
                u[r] = 0;
                s0[r] = -INFINITY;
            }
            int min_pos = pos0 + t0, max_pos = pos0 + t0 + npos - 1;
            int j_lo = window > 0 && min_pos - window + 1 > 0 ? min_pos - window + 1 : 0;
            /* A head's keys and values; the tile at key kt starts kt * hdp
             * elements in, in both caches (its two K blocks are adjacent). */
            const char *kh = (const char *)k_cache + (size_t)g * kv_blocks * LCX_KBLOCK * hdp * elsize;
            const char *vh = (const char *)v_cache + (size_t)g * kv_blocks * LCX_KBLOCK * hdp * elsize;
            for (int kt = j_lo / AT_KT * AT_KT; kt <= max_pos; kt += AT_KT) {
                const size_t tile_off = (size_t)kt * hdp * elsize;
                /* F32 tiles are read in place; narrow ones are converted
                 * once, when the first row group needs them */
                const float *kt0 = narrow ? NULL : (const float *)(kh + tile_off);
                const float *vt = narrow ? NULL : (const float *)(vh + tile_off);
                for (int r0 = 0; r0 < R; r0 += AT_MR) {
                    int rlast = r0 + AT_MR - 1 < R ? r0 + AT_MR - 1 : R - 1;
                    if (kt > rowpos[rlast])
                        continue; /* the whole tile is in these rows' future */
                    if (window > 0 && kt + AT_KT - 1 <= rowpos[r0] - window)
                        continue;
                    if (!kt0) {
                        to_f32(ktile, (const uint16_t *)(kh + tile_off), (size_t)AT_KT * hdp,
                               kv_dtype);
                        to_f32(vtile, (const uint16_t *)(vh + tile_off), (size_t)AT_KT * hdp,
                               kv_dtype);
                        kt0 = ktile;
                        vt = vtile;
                    }
                    const float *qr[AT_MR];
                    for (int r = 0; r < AT_MR; r++)
                        qr[r] = qbuf + (size_t)(r0 + r) * hdp;
                    /* Rows past R are padding (decode with few query heads
                     * per KV head): their groups are not computed, and
                     * the mask below gives them no weight. */
                    int nr = R - r0 < AT_MR ? R - r0 : AT_MR;
                    at_qk(s, qr, kt0, kt0 + (size_t)hdp * LCX_KBLOCK, hdp, nr);
                    /* The online softmax, in phases over all rows so that
                     * the rows' dependency chains overlap: masks and tile
                     * maxima; new running maxima; weights and their sums;
                     * the rescale factors in one vexp. */
                    float corr[AT_MRV] __attribute__((aligned(64)));
                    float mdiff[AT_MRV] __attribute__((aligned(64)));
                    float mt[AT_MR], tsum[AT_MR], tu[AT_MR];
                    for (int r = 0; r < AT_MR; r++) {
                        int rr = r0 + r, pos = rowpos[rr];
                        int full = kt + AT_KT - 1 <= pos && (window <= 0 || kt > pos - window);
                        if (!full)
                            for (int c = 0; c < AT_KT; c++) {
                                int j = kt + c;
                                if (j > pos || (window > 0 && j <= pos - window))
                                    s[r][c] = -INFINITY;
                            }
                        if (kt == 0)
                            s0[rr] = s[r][0];
                        vf mx = vload(s[r]);
                        for (int i = 1; i < AT_NV; i++)
                            mx = vmaxv(mx, vload(s[r] + i * VL));
                        mt[r] = vmax(mx);
                    }
                    for (int r = 0; r < AT_MR; r++) {
                        int rr = r0 + r;
                        if (mt[r] == -INFINITY) {
                            /* every key masked: weights exp(-inf - 0) = 0,
                             * no rescale, the running maximum kept */
                            mt[r] = 0;
                            mdiff[r] = 0;
                        } else {
                            float m_new = m[rr] > mt[r] ? m[rr] : mt[r];
                            mdiff[r] = m[rr] - m_new; /* -inf on a row's first tile: corr 0 */
                            m[rr] = mt[r] = m_new;
                        }
                    }
                    if (!entropy)
                        for (int r = 0; r < AT_MR; r++) {
                            vf mv = vset1(mt[r]), psum = vset1(0);
                            for (int i = 0; i < AT_NV; i++) {
                                vf pv = vexp(vload(s[r] + i * VL) - mv);
                                vstore(p[r] + i * VL, pv);
                                psum += pv;
                            }
                            tsum[r] = vsum(psum);
                        }
                    else /* and sum p (s - m): masked keys have p = 0 and
                          * a clamped, finite s - m */
                        for (int r = 0; r < AT_MR; r++) {
                            vf mv = vset1(mt[r]), psum = vset1(0), usum = vset1(0);
                            for (int i = 0; i < AT_NV; i++) {
                                vf d = vload(s[r] + i * VL) - mv;
                                vf pv = vexp(d);
                                vstore(p[r] + i * VL, pv);
                                psum += pv;
                                usum = vfma(pv, vmaxv(d, vset1(-1e30f)), usum);
                            }
                            tsum[r] = vsum(psum);
                            tu[r] = vsum(usum);
                        }
                    for (int r = AT_MR; r < AT_MRV; r++)
                        mdiff[r] = 0;
                    for (int r = 0; r < AT_MRV; r += VL)
                        vstore(corr + r, vexp(vload(mdiff + r)));
                    /* a new maximum m' scales the old terms by corr and
                     * adds m - m' to each one's s - m */
                    if (entropy)
                        for (int r = 0; r < AT_MR; r++)
                            u[r0 + r] = (l[r0 + r] > 0 ? corr[r] * (u[r0 + r] + mdiff[r] * l[r0 + r])
                                                       : 0.0f) + tu[r];
                    for (int r = 0; r < AT_MR; r++)
                        l[r0 + r] = l[r0 + r] * corr[r] + tsum[r];
                    for (int rp = 0; rp < nr; rp += PV_R) {
                        float *orow[PV_R];
                        for (int r = 0; r < PV_R; r++)
                            orow[r] = obuf + (size_t)(r0 + rp + r) * hdp;
                        at_pv(orow, corr + rp, (const float(*)[AT_KT])p[rp], vt, hdp,
                              nr - rp < PV_R ? nr - rp : PV_R);
                    }
                }
            }
            for (int r = 0; r < R; r++) {
                int t = t0 + r / G, h = g * G + r % G;
                float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;
                float *o = out + ((size_t)t * n_heads + h) * hd;
                const float *src = obuf + (size_t)r * hdp;
                for (int i = 0; i < hd; i++)
                    o[i] = src[i] * inv;
                if (sink)
                    sink[(size_t)h * n_q + t] = l[r] > 0 ? expf(s0[r] - m[r]) * inv : 0.0f;
                if (entropy) {
                    float e = l[r] > 0 ? logf(l[r]) - u[r] * inv : 0.0f;
                    entropy[(size_t)h * n_q + t] = e > 0 ? e : 0.0f; /* one key: 0 */
                }
            }
        }
    }
}

const lcx_kernels KV_TABLE = {
    .isa = KV_ISA,
    .matmul = matmul,
    .rmsnorm = rmsnorm,
    .rope_apply = rope_apply,
    .attention = attention,
    .silu_mul = silu_mul,
    .sigmoid = sigmoid,
    .to_f32 = to_f32,
#if defined(LCX_KV_AMX)
    .pack_bytes = amx_pack_bytes,
    .pack = amx_pack,
#endif
};
