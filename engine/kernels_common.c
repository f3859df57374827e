/* kernels_common.c: what every kernel variant shares (see kernels.h): the
 * variant tables, the per-session scratch, scalar conversions. */
#include "engine/kernels.h"

#include <stdlib.h>
#include <string.h>

/* Defined by engine/kernels.c, compiled once per variant. */
extern const lcx_kernels lcx_kernels_generic;
#if defined(__x86_64__)
extern const lcx_kernels lcx_kernels_avx2;
extern const lcx_kernels lcx_kernels_avx512;
extern const lcx_kernels lcx_kernels_amx;
#endif
#if defined(__aarch64__)
extern const lcx_kernels lcx_kernels_neon;
#endif

const lcx_kernels *lcx_kernels_get(lcx_isa isa)
{
    switch (isa) {
    case LCX_ISA_GENERIC:
        return &lcx_kernels_generic;
#if defined(__x86_64__)
    case LCX_ISA_AVX2:
        return &lcx_kernels_avx2;
    case LCX_ISA_AVX512:
        return &lcx_kernels_avx512;
    case LCX_ISA_AMX:
        return &lcx_kernels_amx;
#endif
#if defined(__aarch64__)
    case LCX_ISA_NEON:
        return &lcx_kernels_neon;
#endif
    default:
        return NULL;
    }
}

/* Floats per thread, a multiple of 16. */
static size_t kscratch_stride(int head_dim, int group)
{
    size_t hdp = (size_t)lcx_hd_pad(head_dim);
    /* matmul: one packed panel; attention: queries, outputs, 4 running
     * statistics and a position per row, for up to rmax rows, and a tile
     * of keys and one of values converted to F32 (BF16/F16 caches). */
    size_t rmax = (size_t)(group > LCX_AT_QB ? group : LCX_AT_QB) + LCX_AT_MR;
    size_t mm = (size_t)LCX_MM_KB * LCX_MM_NB_MAX;
    /* amx: a block of LCX_AMX_TB tokens split into three BF16 terms, and
     * one 32 x 32 tile of outputs */
    size_t amx = (size_t)3 * LCX_AMX_TB * LCX_MM_KB / 2 + 32 * 32;
    mm = mm > amx ? mm : amx;
    size_t at = 2 * rmax * hdp + 2 * (size_t)LCX_AT_KT * hdp + 5 * rmax;
    size_t stride = mm > at ? mm : at;
    return (stride + 15) / 16 * 16;
}

size_t lcx_kscratch_bytes(int n_threads, int head_dim, int group)
{
    if (n_threads < 1)
        n_threads = 1;
    if (head_dim < 1 || group < 1)
        return 0;
    return (size_t)n_threads * kscratch_stride(head_dim, group) * sizeof(float);
}

int lcx_kscratch_init(lcx_kscratch *ks, int n_threads, int head_dim, int group, lcx_err *err)
{
    memset(ks, 0, sizeof *ks);
    if (n_threads < 1)
        n_threads = 1;
    if (head_dim < 1 || group < 1)
        return lcx_errf(err, LCX_EINTERNAL, "kernel scratch: head_dim %d, group %d", head_dim,
                        group);
    size_t stride = kscratch_stride(head_dim, group);
    ks->mem = aligned_alloc(64, (size_t)n_threads * stride * sizeof(float));
    if (!ks->mem)
        return lcx_errf(err, LCX_ENOMEM, "out of memory for %d threads' kernel scratch (%zu KiB "
                        "each)", n_threads, stride * sizeof(float) >> 10);
    ks->n_threads = n_threads;
    ks->head_dim = head_dim;
    ks->group = group;
    ks->stride = stride;
    return 0;
}

void lcx_kscratch_free(lcx_kscratch *ks)
{
    free(ks->mem);
    memset(ks, 0, sizeof *ks);
}

float lcx_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float lcx_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
    if (exp == 0) {
        if (mant == 0) {
            u = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ff;
            u = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (mant << 13);
    } else {
        u = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void lcx_weight_row_f32(float *dst, const lcx_weight *w, int row)
{
    size_t off = (size_t)row * w->cols;
    const uint16_t *h = (const uint16_t *)w->data + off;
    switch (w->dtype) {
    case LCX_DT_F32:
        memcpy(dst, (const float *)w->data + off, (size_t)w->cols * sizeof(float));
        break;
    case LCX_DT_BF16:
        for (int i = 0; i < w->cols; i++)
            dst[i] = lcx_bf16_to_f32(h[i]);
        break;
    case LCX_DT_F16:
        for (int i = 0; i < w->cols; i++)
            dst[i] = lcx_f16_to_f32(h[i]);
        break;
    default:
        memset(dst, 0, (size_t)w->cols * sizeof(float));
    }
}

uint16_t lcx_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it one, quiet */
        return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

uint16_t lcx_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) /* NaN: quiet, with the payload's top bits */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477fe000u) /* >= 65504 (and infinity): saturate */
        return (uint16_t)(sign | 0x7bffu);
    if (a >= 0x38800000u) { /* normal in F16 (>= 2^-14): rebias, round the 13 bits dropped */
        uint32_t r = a - (112u << 23);
        return (uint16_t)(sign | ((r + 0xfffu + ((r >> 13) & 1)) >> 13));
    }
    /* subnormal or zero in F16: adding 0.5 leaves a float whose last bit
     * is worth 2^-24, so the float addition itself rounds to nearest even
     * at F16's subnormal step; the bits above 0.5's count those steps. */
    float x, half = 0.5f;
    memcpy(&x, &a, sizeof x);
    float s = x + half;
    uint32_t su, hu;
    memcpy(&su, &s, sizeof su);
    memcpy(&hu, &half, sizeof hu);
    return (uint16_t)(sign | (su - hu));
}
