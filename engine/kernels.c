/* kernels.c: matmul, rmsnorm, rope_apply and attention_tiled (see kernels.h).
 * Written with GCC/Clang vector extensions (16 floats, one AVX-512 register);
 * FMA through intrinsics because -std=c11 turns off FP contraction. */
#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__) || defined(__FMA__) || defined(__F16C__)
#include <immintrin.h>
#endif

typedef float v16 __attribute__((vector_size(64)));

static inline v16 vload(const float *p)
{
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vstore(float *p, v16 v)
{
    memcpy(p, &v, sizeof v);
}

static inline v16 vset1(float x)
{
#if defined(__AVX512F__)
    return (v16)_mm512_set1_ps(x);
#else
    return (v16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
#endif
}

#if defined(__AVX512F__)
static inline v16 vfma(v16 a, v16 b, v16 c)
{
    return (v16)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
}
#elif defined(__FMA__)
static inline v16 vfma(v16 a, v16 b, v16 c)
{
    union {
        v16 v;
        __m256 h[2];
    } A = {a}, B = {b}, C = {c};
    C.h[0] = _mm256_fmadd_ps(A.h[0], B.h[0], C.h[0]);
    C.h[1] = _mm256_fmadd_ps(A.h[1], B.h[1], C.h[1]);
    return C.v;
}
#else
static inline v16 vfma(v16 a, v16 b, v16 c)
{
    return a * b + c;
}
#endif

static inline float vsum(v16 v)
{
#if defined(__AVX512F__)
    return _mm512_reduce_add_ps((__m512)v);
#endif
    float s = 0;
    for (int i = 0; i < 16; i++)
        s += v[i];
    return s;
}

static inline float vmax(v16 v)
{
#if defined(__AVX512F__)
    return _mm512_reduce_max_ps((__m512)v);
#endif
    float m = v[0];
    for (int i = 1; i < 16; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* exp(x) for 16 lanes, relative error ~2e-7; x below -87.3 (and -inf) -> 0. */
static inline v16 vexp(v16 x)
{
    typedef int32_t v16i __attribute__((vector_size(64)));
    const v16 hi = vset1(88.3762626647949f), lo = vset1(-87.3365447504f);
    v16i under = x < lo;
    v16i over = x > hi;
    x = (v16)(((v16i)x & ~over) | ((v16i)hi & over));
    x = (v16)(((v16i)x & ~under) | ((v16i)lo & under));
    const v16 magic = vset1(12582912.0f); /* 1.5 * 2^23: round to nearest */
    v16 t = vfma(x, vset1(1.44269504088896341f), magic);
    v16 n = t - magic;
    v16i ni = (v16i)t - (v16i)magic;
    v16 r = vfma(n, vset1(-0.693359375f), x);
    r = vfma(n, vset1(2.12194440e-4f), r);
    v16 p = vset1(1.9875691500E-4f);
    p = vfma(p, r, vset1(1.3981999507E-3f));
    p = vfma(p, r, vset1(8.3334519073E-3f));
    p = vfma(p, r, vset1(4.1665795894E-2f));
    p = vfma(p, r, vset1(1.6666665459E-1f));
    p = vfma(p, r, vset1(5.0000001201E-1f));
    v16 y = vfma(p * r, r, r) + vset1(1.0f);
    v16i e = (ni + 127) << 23;
    y = y * (v16)e;
    return (v16)((v16i)y & ~under);
}

/* ---- conversions ---- */

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
#if defined(__AVX512F__)
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
#endif
        for (; i < n; i++)
            dst[i] = lcx_f16_to_f32(src[i]);
        break;
    }
    default:
        memset(dst, 0, (size_t)n * sizeof(float));
    }
}

void weight_row_f32(float *dst, const lcx_weight *w, int row)
{
    weight_segment_f32(dst, w, row, 0, w->cols);
}

/* ---- matmul ---- */

#define MM_NB 32  /* output rows per panel (two vectors) */
#define MM_KB 256 /* inner dimension per panel */
#define MM_TT 8   /* tokens per micro tile */

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
 * are duplicates whose results are dropped). */
static void mm_micro(float *y, int ldy, const float *const xr[MM_TT], const float *panel, int kb,
                     int nt, int nn, const float *init)
{
    v16 c[MM_TT][2];
    float tmp[MM_NB];
#pragma GCC unroll 8
    for (int t = 0; t < MM_TT; t++) {
        if (init) {
            c[t][0] = vload(init);
            c[t][1] = vload(init + 16);
        } else if (t < nt) {
            if (nn == MM_NB) {
                c[t][0] = vload(y + (size_t)t * ldy);
                c[t][1] = vload(y + (size_t)t * ldy + 16);
            } else {
                memset(tmp, 0, sizeof tmp);
                memcpy(tmp, y + (size_t)t * ldy, (size_t)nn * sizeof(float));
                c[t][0] = vload(tmp);
                c[t][1] = vload(tmp + 16);
            }
        } else {
            c[t][0] = c[t][1] = vset1(0);
        }
    }
    for (int k = 0; k < kb; k++) {
        v16 w0 = vload(panel + k * MM_NB), w1 = vload(panel + k * MM_NB + 16);
#pragma GCC unroll 8
        for (int t = 0; t < MM_TT; t++) {
            v16 xt = vset1(xr[t][k]);
            c[t][0] = vfma(xt, w0, c[t][0]);
            c[t][1] = vfma(xt, w1, c[t][1]);
        }
    }
    for (int t = 0; t < nt; t++) {
        if (nn == MM_NB) {
            vstore(y + (size_t)t * ldy, c[t][0]);
            vstore(y + (size_t)t * ldy + 16, c[t][1]);
        } else {
            vstore(tmp, c[t][0]);
            vstore(tmp + 16, c[t][1]);
            memcpy(y + (size_t)t * ldy, tmp, (size_t)nn * sizeof(float));
        }
    }
}

static float dot_f32(const float *a, const float *b, int n)
{
    v16 acc0 = vset1(0), acc1 = vset1(0);
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = vfma(vload(a + i), vload(b + i), acc0);
        acc1 = vfma(vload(a + i + 16), vload(b + i + 16), acc1);
    }
    for (; i + 16 <= n; i += 16)
        acc0 = vfma(vload(a + i), vload(b + i), acc0);
    float s = vsum(acc0 + acc1);
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Few tokens (decode): one pass over the weights, rows converted in pieces. */
static void matmul_gemv(float *y, const float *x, const lcx_weight *w, const float *bias, int n_tok)
{
    int n_out = w->rows, n_in = w->cols;
#pragma omp parallel
    {
        float seg[MM_KB] __attribute__((aligned(64)));
#pragma omp for schedule(static)
        for (int n = 0; n < n_out; n++) {
            float acc[4] = {0, 0, 0, 0};
            if (w->dtype == LCX_DT_F32) {
                const float *row = (const float *)w->data + (size_t)n * n_in;
                for (int t = 0; t < n_tok; t++)
                    acc[t] = dot_f32(row, x + (size_t)t * n_in, n_in);
            } else {
                for (int k0 = 0; k0 < n_in; k0 += MM_KB) {
                    int kb = n_in - k0 < MM_KB ? n_in - k0 : MM_KB;
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

void matmul(float *y, const float *x, const lcx_weight *w, const float *bias, int n_tok)
{
    int n_out = w->rows, n_in = w->cols;
    if (n_tok <= 0)
        return;
    if (n_tok < 4) {
        matmul_gemv(y, x, w, bias, n_tok);
        return;
    }
    int n_blocks = (n_out + MM_NB - 1) / MM_NB;
#pragma omp parallel
    {
        float *panel = aligned_alloc(64, MM_KB * MM_NB * sizeof(float));
        float rowbuf[MM_KB] __attribute__((aligned(64)));
        float init[MM_NB] __attribute__((aligned(64)));
#pragma omp for schedule(dynamic, 1)
        for (int b = 0; b < n_blocks; b++) {
            if (!panel)
                continue;
            int n0 = b * MM_NB, nn = n_out - n0 < MM_NB ? n_out - n0 : MM_NB;
            for (int n = 0; n < MM_NB; n++)
                init[n] = (bias && n < nn) ? bias[n0 + n] : 0.0f;
            for (int k0 = 0; k0 < n_in; k0 += MM_KB) {
                int kb = n_in - k0 < MM_KB ? n_in - k0 : MM_KB;
                mm_pack(panel, rowbuf, w, n0, nn, k0, kb);
                for (int t0 = 0; t0 < n_tok; t0 += MM_TT) {
                    int nt = n_tok - t0 < MM_TT ? n_tok - t0 : MM_TT;
                    const float *xr[MM_TT];
                    for (int t = 0; t < MM_TT; t++)
                        xr[t] = x + (size_t)(t0 + (t < nt ? t : nt - 1)) * n_in + k0;
                    mm_micro(y + (size_t)t0 * n_out + n0, n_out, xr, panel, kb, nt, nn,
                             k0 == 0 ? init : NULL);
                }
            }
        }
        free(panel);
    }
}

/* ---- rmsnorm, rope ---- */

void rmsnorm(float *out, const float *x, const float *weight, int n, int dim, float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)n * dim > (1u << 20))
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

void rope_apply(float *vec, const float *cos_t, const float *sin_t, int n_tok, int n_heads,
                int stride, int rot_dim)
{
    int half = rot_dim / 2;
#pragma omp parallel for schedule(static) if ((size_t)n_tok * n_heads * rot_dim > (1u << 20))
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

/* ---- attention ---- */

#define AT_KT 32 /* keys per tile: two K blocks */
#define AT_MR 8  /* query rows per micro tile */
#define AT_QB 64 /* query rows per work item (positions x heads of a KV group) */

/* s[r][0..32) = q_r . k_j for 8 rows against one tile of transposed keys. */
static void at_qk(float s[AT_MR][AT_KT], const float *const qr[AT_MR], const float *kt0,
                  const float *kt1, int hdp)
{
    v16 acc[AT_MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < AT_MR; r++)
        acc[r][0] = acc[r][1] = vset1(0);
    for (int d = 0; d < hdp; d++) {
        v16 k0 = vload(kt0 + d * LCX_KBLOCK), k1 = vload(kt1 + d * LCX_KBLOCK);
#pragma GCC unroll 8
        for (int r = 0; r < AT_MR; r++) {
            v16 qd = vset1(qr[r][d]);
            acc[r][0] = vfma(qd, k0, acc[r][0]);
            acc[r][1] = vfma(qd, k1, acc[r][1]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < AT_MR; r++) {
        vstore(s[r], acc[r][0]);
        vstore(s[r] + 16, acc[r][1]);
    }
}

/* o_r[dc .. dc + 16 NV) = o_r * corr_r + sum_j p[r][j] v_j[...] for 4 rows;
 * NV is a constant at every call, so the 4 x NV accumulators stay in registers. */
static inline __attribute__((always_inline)) void at_pv_part(float *const orow[4],
                                                            const float corr[4],
                                                            const float p[4][AT_KT],
                                                            const float *v, int hdp, int dc,
                                                            const int NV)
{
    v16 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int i = 0; i < NV; i++)
            acc[r][i] = vload(orow[r] + dc + 16 * i) * corr[r];
    for (int j = 0; j < AT_KT; j++) {
        const float *vj = v + (size_t)j * hdp + dc;
        v16 vv[4];
#pragma GCC unroll 4
        for (int i = 0; i < NV; i++)
            vv[i] = vload(vj + 16 * i);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            v16 pr = vset1(p[r][j]);
#pragma GCC unroll 4
            for (int i = 0; i < NV; i++)
                acc[r][i] = vfma(pr, vv[i], acc[r][i]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int i = 0; i < NV; i++)
            vstore(orow[r] + dc + 16 * i, acc[r][i]);
}

/* o_r = o_r * corr_r + sum_j p[r][j] v_j for 4 rows over all hdp dims. */
static void at_pv(float *const orow[4], const float corr[4], const float p[4][AT_KT],
                  const float *v, int hdp)
{
    int dc = 0;
    for (; dc + 64 <= hdp; dc += 64)
        at_pv_part(orow, corr, p, v, hdp, dc, 4);
    switch ((hdp - dc) / 16) {
    case 3: at_pv_part(orow, corr, p, v, hdp, dc, 3); break;
    case 2: at_pv_part(orow, corr, p, v, hdp, dc, 2); break;
    case 1: at_pv_part(orow, corr, p, v, hdp, dc, 1); break;
    default: break;
    }
}

void attention_tiled(float *out, const float *q, const float *k_cache, const float *v_cache,
                     int n_q, int pos0, int n_heads, int n_kv_heads, int hd, int kv_blocks,
                     int window, float *sink)
{
    const int G = n_heads / n_kv_heads, hdp = lcx_hd_pad(hd);
    const int ppi = G >= AT_QB ? 1 : AT_QB / G; /* positions per work item */
    const int rmax = ppi * G + AT_MR;           /* + dummy rows for the last micro tile */
    const int n_pblocks = (n_q + ppi - 1) / ppi;
    const int n_items = n_kv_heads * n_pblocks;
#pragma omp parallel
    {
        float *qbuf = aligned_alloc(64, (size_t)rmax * hdp * sizeof(float));
        float *obuf = aligned_alloc(64, (size_t)rmax * hdp * sizeof(float));
        float *m = malloc((size_t)rmax * sizeof(float) * 3);
        int *rowpos = malloc((size_t)rmax * sizeof(int));
        float s[AT_MR][AT_KT] __attribute__((aligned(64)));
        float p[AT_MR][AT_KT] __attribute__((aligned(64)));
#pragma omp for schedule(dynamic, 1)
        for (int item = n_items - 1; item >= 0; item--) { /* longest rows first */
            if (!qbuf || !obuf || !m || !rowpos)
                continue;
            float *l = m + rmax, *s0 = m + 2 * rmax;
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
                s0[r] = -INFINITY;
            }
            int min_pos = pos0 + t0, max_pos = pos0 + t0 + npos - 1;
            int j_lo = window > 0 && min_pos - window + 1 > 0 ? min_pos - window + 1 : 0;
            const float *kh = k_cache + (size_t)g * kv_blocks * LCX_KBLOCK * hdp;
            const float *vh = v_cache + (size_t)g * kv_blocks * LCX_KBLOCK * hdp;
            for (int kt = j_lo / AT_KT * AT_KT; kt <= max_pos; kt += AT_KT) {
                const float *kt0 = kh + (size_t)(kt / LCX_KBLOCK) * hdp * LCX_KBLOCK;
                const float *kt1 = kt0 + (size_t)hdp * LCX_KBLOCK;
                const float *vt = vh + (size_t)kt * hdp;
                for (int r0 = 0; r0 < R; r0 += AT_MR) {
                    int rlast = r0 + AT_MR - 1 < R ? r0 + AT_MR - 1 : R - 1;
                    if (kt > rowpos[rlast])
                        continue; /* the whole tile is in these rows' future */
                    if (window > 0 && kt + AT_KT - 1 <= rowpos[r0] - window)
                        continue;
                    const float *qr[AT_MR];
                    for (int r = 0; r < AT_MR; r++)
                        qr[r] = qbuf + (size_t)(r0 + r) * hdp;
                    at_qk(s, qr, kt0, kt1, hdp);
                    float corr[AT_MR];
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
                        v16 sa = vload(s[r]), sb = vload(s[r] + 16);
                        float mt = fmaxf(vmax(sa), vmax(sb));
                        if (mt == -INFINITY) {
                            memset(p[r], 0, sizeof p[r]);
                            corr[r] = 1.0f;
                            continue;
                        }
                        float m_new = fmaxf(m[rr], mt);
                        corr[r] = expf(m[rr] - m_new);
                        v16 mv = vset1(m_new);
                        v16 pa = vexp(sa - mv), pb2 = vexp(sb - mv);
                        vstore(p[r], pa);
                        vstore(p[r] + 16, pb2);
                        l[rr] = l[rr] * corr[r] + vsum(pa + pb2);
                        m[rr] = m_new;
                    }
                    for (int r4 = 0; r4 < AT_MR; r4 += 4) {
                        float *orow[4];
                        for (int r = 0; r < 4; r++)
                            orow[r] = obuf + (size_t)(r0 + r4 + r) * hdp;
                        at_pv(orow, corr + r4, (const float(*)[AT_KT])p[r4], vt, hdp);
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
            }
        }
        free(qbuf);
        free(obuf);
        free(m);
        free(rowpos);
    }
}
