/* test_engine_kernels.c: every kernel variant this build has and this CPU
 * runs, against a plain double-precision reference written here (not
 * against another variant): matmul with F32, BF16 and F16 weights over
 * shapes that hit every tail (decode's few-token path, partial panels,
 * partial inner blocks), and causal tiled attention with GQA, head sizes
 * whose padding is not a whole register block, a sliding window, a start
 * position inside the cache and the key-0 weight the sink probe reads,
 * with the KV cache in F32, BF16 and F16; the BF16/F16 conversions both
 * ways against the formats' definitions, for every 16-bit pattern.
 * Variants the CPU cannot run are named as not run. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "engine/kernels.h"
#include "tests/check.h"

#define MM_TOL 2e-6  /* max |err| / max sum |x w| (measured ~3e-7) */
#define AT_TOL 5e-6  /* max |err| / max |v| (measured ~1.2e-6) */

static const char *dt_name(lcx_dtype dt)
{
    return dt == LCX_DT_F32 ? "f32" : dt == LCX_DT_BF16 ? "bf16" : "f16";
}

static float urand(lcx_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)lcx_rng_double(r);
}

/* Weights as stored: F32, or 16-bit patterns; *vals gets their F32 values
 * (BF16: the top half of the float; F16: decoded here by ldexp). */
static void *make_weights(lcx_rng *r, lcx_dtype dt, int rows, int cols, double **vals)
{
    size_t n = (size_t)rows * cols;
    *vals = malloc(n * sizeof(double));
    if (dt == LCX_DT_F32) {
        float *w = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            (*vals)[i] = w[i] = urand(r, -1, 1);
        return w;
    }
    uint16_t *h = malloc(n * sizeof(uint16_t));
    for (size_t i = 0; i < n; i++) {
        if (dt == LCX_DT_BF16) {
            float f = urand(r, -1, 1);
            uint32_t u;
            memcpy(&u, &f, 4);
            h[i] = (uint16_t)(u >> 16);
            u = (uint32_t)h[i] << 16;
            memcpy(&f, &u, 4);
            (*vals)[i] = f;
        } else { /* F16: sign, exponent 0..29 (subnormals included), mantissa */
            int sign = lcx_rng_double(r) < 0.5, e = (int)(lcx_rng_double(r) * 30);
            int mant = (int)(lcx_rng_double(r) * 1024);
            h[i] = (uint16_t)(sign << 15 | e << 10 | mant);
            double v = e == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, e - 25);
            (*vals)[i] = sign ? -v : v;
        }
    }
    return h;
}

static void check_matmul(const lcx_kernels *K, const lcx_kscratch *ks, lcx_rng *r, lcx_dtype dt,
                         int n_out, int n_in, int n_tok, int with_bias, double *worst,
                         int *n_packed)
{
    double *wv;
    void *wdata = make_weights(r, dt, n_out, n_in, &wv);
    lcx_weight w = {.data = wdata, .dtype = dt, .rows = n_out, .cols = n_in};
    float *x = malloc(sizeof(float) * n_tok * n_in), *bias = malloc(sizeof(float) * n_out);
    float *y = malloc(sizeof(float) * n_tok * n_out);
    for (int i = 0; i < n_tok * n_in; i++)
        x[i] = urand(r, -1, 1);
    for (int i = 0; i < n_out; i++)
        bias[i] = urand(r, -1, 1);
    /* the variant's own weight layout, as a model load packs it */
    size_t pbytes = K->pack_bytes ? K->pack_bytes(&w) : 0;
    void *packed = NULL;
    if (pbytes) {
        packed = aligned_alloc(64, (pbytes + 63) / 64 * 64);
        K->pack(packed, &w);
        w.packed = packed;
        (*n_packed)++;
    }
    K->matmul(y, x, &w, with_bias ? bias : NULL, n_tok, ks);
    double err = 0, scale = 0;
    for (int t = 0; t < n_tok; t++)
        for (int o = 0; o < n_out; o++) {
            double ref = with_bias ? bias[o] : 0, mag = fabs(ref);
            for (int k = 0; k < n_in; k++) {
                ref += (double)x[(size_t)t * n_in + k] * wv[(size_t)o * n_in + k];
                mag += fabs((double)x[(size_t)t * n_in + k] * wv[(size_t)o * n_in + k]);
            }
            double e = fabs(y[(size_t)t * n_out + o] - ref);
            if (!(e <= err)) /* NaN too */
                err = e;
            if (mag > scale)
                scale = mag;
        }
    /* float sums of n_in products: error bounded by ~n_in * eps * sum |x w| */
    double rel = err / (scale > 0 ? scale : 1);
    if (rel > *worst || rel != rel)
        *worst = rel;
    CHECK_MSG(rel < MM_TOL, "%s matmul dtype %d %dx%d, %d tokens: rel err %.3g",
              lcx_isa_name(K->isa), (int)dt, n_out, n_in, n_tok, rel);
    free(wdata), free(wv), free(x), free(bias), free(y), free(packed);
}

TEST(matmul_matches_reference)
{
    for (int i = 0; i < LCX_ISA_COUNT; i++) {
        if (!lcx_isa_built((lcx_isa)i))
            continue;
        if (!lcx_isa_supported((lcx_isa)i)) {
            printf("     %s: not run, this CPU lacks it\n", lcx_isa_name((lcx_isa)i));
            continue;
        }
        const lcx_kernels *K = lcx_kernels_get((lcx_isa)i);
        CHECK(K && K->isa == (lcx_isa)i);
        if (!K)
            continue;
        lcx_kscratch ks;
        lcx_err err = {0};
        CHECK(lcx_kscratch_init(&ks, omp_get_max_threads(), 64, 2, &err) == 0);
        lcx_rng r;
        lcx_rng_seed(&r, 7 + i);
        /* 1100 inputs: two K blocks (LCX_MM_KB); 45 tokens: a whole and a
         * partial block of the amx variant's 32 */
        static const int outs[] = {1, 7, 33, 70}, ins[] = {5, 16, 300, 513, 1100};
        static const int toks[] = {1, 2, 3, 4, 5, 13, 45};
        static const lcx_dtype dts[] = {LCX_DT_F32, LCX_DT_BF16, LCX_DT_F16};
        double worst = 0;
        int n_packed = 0;
        for (int d = 0; d < 3; d++)
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 5; b++)
                    for (int t = 0; t < 7; t++)
                        check_matmul(K, &ks, &r, dts[d], outs[a], ins[b], toks[t], (a + t) % 2,
                                     &worst, &n_packed);
        printf("     %-8s matmul: worst rel err %.2e over 420 shapes, %d of them packed (tol "
               "%g)\n", lcx_isa_name(K->isa), worst, n_packed, MM_TOL);
        /* the amx variant packs every BF16 matrix (4 x 5 x 7 shapes) */
        if (K->isa == LCX_ISA_AMX)
            CHECK(n_packed == 140);
        lcx_kscratch_free(&ks);
    }
}

/* The value of a 16-bit pattern, decoded here from the formats'
 * definitions: BF16 is the top half of an IEEE binary32; F16 is IEEE
 * binary16 (1 sign, 5 exponent bits biased by 15, 10 mantissa bits). */
static double decode16(uint16_t h, lcx_dtype dt)
{
    int sign = h >> 15;
    double v;
    if (dt == LCX_DT_BF16) {
        int e = (h >> 7) & 0xff, mant = h & 0x7f;
        v = e == 255 ? (mant ? NAN : INFINITY)
            : e == 0 ? ldexp(mant, -133) : ldexp(128 + mant, e - 134);
    } else {
        int e = (h >> 10) & 0x1f, mant = h & 0x3ff;
        v = e == 31 ? (mant ? NAN : INFINITY)
            : e == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, e - 25);
    }
    return sign ? -v : v;
}

/* The 16-bit pattern nearest to x, ties to the even pattern, found by
 * bisection over the positive finite patterns (their values increase with
 * the pattern); the sign is x's. F16 above its range gives the largest
 * finite value (the engine saturates); BF16 keeps F32's range and is not
 * asked about values beyond it. */
static uint16_t nearest16(float x, lcx_dtype dt)
{
    uint16_t top = dt == LCX_DT_BF16 ? 0x7f7f : 0x7bff, sign = signbit(x) ? 0x8000 : 0;
    double a = fabs((double)x);
    if (a >= decode16(top, dt))
        return sign | top;
    int lo = 0, hi = top; /* decode(lo) <= a < decode(hi) */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (decode16((uint16_t)mid, dt) <= a)
            lo = mid;
        else
            hi = mid;
    }
    double dlo = a - decode16((uint16_t)lo, dt), dhi = decode16((uint16_t)hi, dt) - a;
    int pick = dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi);
    return (uint16_t)(sign | pick);
}

static float rounded16(float x, lcx_dtype dt)
{
    return (float)decode16(dt == LCX_DT_BF16 ? lcx_f32_to_bf16(x) : lcx_f32_to_f16(x), dt);
}

typedef struct at_case {
    int H, KV, hd, n_q, pos0, window;
} at_case;

/* Fill a cache of P positions (of dtype dt: keys and values rounded as
 * the engine stores them), run the kernel for the last n_q of them,
 * compare with softmax(q.k) v in double over the values the cache holds.
 * The positions past P in the last tile hold large values that the causal
 * mask must hide. */
static void check_attention(const lcx_kernels *K, lcx_rng *r, at_case c, lcx_dtype dt,
                            double *worst)
{
    int hdp = lcx_hd_pad(c.hd), P = c.pos0 + c.n_q, G = c.H / c.KV;
    int kv_blocks = (P + 31) / 32 * 2;
    size_t head = (size_t)kv_blocks * LCX_KBLOCK * hdp, elsize = dt == LCX_DT_F32 ? 4 : 2;
    void *kc = calloc((size_t)c.KV * head, elsize);
    void *vc = calloc((size_t)c.KV * head, elsize);
    float *keys = malloc(sizeof(float) * P * c.KV * c.hd), *vals = malloc(sizeof(float) * P * c.KV * c.hd);
    float *q = calloc((size_t)c.n_q * c.H * hdp, sizeof(float));
    float *out = malloc(sizeof(float) * c.n_q * c.H * c.hd);
    float *sink = malloc(sizeof(float) * c.H * c.n_q), *ent = malloc(sizeof(float) * c.H * c.n_q);
    float *out2 = malloc(sizeof(float) * c.n_q * c.H * c.hd);
    for (int j = 0; j < kv_blocks * LCX_KBLOCK; j++)
        for (int g = 0; g < c.KV; g++)
            for (int d = 0; d < c.hd; d++) {
                float kv = urand(r, -1, 1), vv = urand(r, -2, 2);
                if (j >= P) /* in the future of every query */
                    kv *= 3e4f, vv *= 3e4f;
                size_t ki = g * head + (size_t)(j / LCX_KBLOCK) * hdp * LCX_KBLOCK +
                            (size_t)d * LCX_KBLOCK + j % LCX_KBLOCK;
                size_t vi = g * head + (size_t)j * hdp + d;
                if (dt == LCX_DT_F32) {
                    ((float *)kc)[ki] = kv;
                    ((float *)vc)[vi] = vv;
                } else {
                    uint16_t (*to16)(float) = dt == LCX_DT_BF16 ? lcx_f32_to_bf16 : lcx_f32_to_f16;
                    ((uint16_t *)kc)[ki] = to16(kv);
                    ((uint16_t *)vc)[vi] = to16(vv);
                    kv = rounded16(kv, dt);
                    vv = rounded16(vv, dt);
                }
                if (j < P) {
                    keys[((size_t)j * c.KV + g) * c.hd + d] = kv;
                    vals[((size_t)j * c.KV + g) * c.hd + d] = vv;
                }
            }
    for (int t = 0; t < c.n_q; t++)
        for (int h = 0; h < c.H; h++)
            for (int d = 0; d < c.hd; d++)
                q[((size_t)t * c.H + h) * hdp + d] = urand(r, -0.6f, 0.6f);
    lcx_kscratch ks;
    lcx_err err = {0};
    CHECK(lcx_kscratch_init(&ks, omp_get_max_threads(), c.hd, G, &err) == 0);
    K->attention(out, q, kc, vc, dt, c.n_q, c.pos0, c.H, c.KV, c.hd, kv_blocks, c.window, sink,
                 NULL, &ks);
    /* with the entropy accumulated too: the same outputs, bit for bit */
    K->attention(out2, q, kc, vc, dt, c.n_q, c.pos0, c.H, c.KV, c.hd, kv_blocks, c.window, NULL,
                 ent, &ks);
    CHECK_MSG(!memcmp(out, out2, sizeof(float) * c.n_q * c.H * c.hd),
              "%s attention: outputs differ when the entropy is accumulated", lcx_isa_name(K->isa));
    double e_out = 0, e_sink = 0, e_ent = 0;
    double *p = malloc(sizeof(double) * P);
    for (int t = 0; t < c.n_q; t++)
        for (int h = 0; h < c.H; h++) {
            int pos = c.pos0 + t, g = h / G;
            int lo = c.window > 0 && pos - c.window + 1 > 0 ? pos - c.window + 1 : 0;
            double mx = -INFINITY, sum = 0;
            for (int j = lo; j <= pos; j++) {
                double s = 0;
                for (int d = 0; d < c.hd; d++)
                    s += (double)q[((size_t)t * c.H + h) * hdp + d] *
                         keys[((size_t)j * c.KV + g) * c.hd + d];
                p[j] = s;
                mx = s > mx ? s : mx;
            }
            double us = 0; /* sum of exp(s - mx) (s - mx), for the entropy */
            for (int j = lo; j <= pos; j++) {
                double d = p[j] - mx;
                sum += p[j] = exp(d);
                us += p[j] * d;
            }
            double ent_ref = log(sum) - us / sum, ee = fabs(ent[(size_t)h * c.n_q + t] - ent_ref);
            if (!(ee <= e_ent))
                e_ent = ee;
            for (int d = 0; d < c.hd; d++) {
                double o = 0;
                for (int j = lo; j <= pos; j++)
                    o += p[j] / sum * vals[((size_t)j * c.KV + g) * c.hd + d];
                double e = fabs(out[((size_t)t * c.H + h) * c.hd + d] - o);
                if (!(e <= e_out))
                    e_out = e;
            }
            double sink_ref = lo == 0 ? p[0] / sum : 0;
            double e = fabs(sink[(size_t)h * c.n_q + t] - sink_ref);
            if (!(e <= e_sink))
                e_sink = e;
        }
    double rel = e_out / 2.0; /* |v| <= 2 */
    if (rel > *worst || rel != rel)
        *worst = rel;
    CHECK_MSG(rel < AT_TOL && e_sink < 1e-6 && e_ent < 2e-5,
              "%s attention (KV %s) H %d KV %d hd %d n_q %d pos0 %d window %d: out err %.3g sink "
              "err %.3g entropy err %.3g", lcx_isa_name(K->isa), dt_name(dt), c.H, c.KV, c.hd,
              c.n_q, c.pos0, c.window, rel, e_sink, e_ent);
    lcx_kscratch_free(&ks);
    free(kc), free(vc), free(keys), free(vals), free(q), free(out), free(sink), free(p);
    free(ent), free(out2);
}

TEST(attention_matches_reference)
{
    static const at_case cases[] = {
        {4, 2, 16, 70, 0, 0},  {8, 1, 64, 5, 37, 0},  {6, 3, 80, 33, 0, 0},
        {2, 2, 128, 1, 100, 0}, {4, 4, 48, 40, 10, 20}, {16, 8, 128, 20, 45, 0},
        {3, 1, 32, 9, 0, 5},   {1, 1, 16, 1, 0, 0},   {80, 1, 16, 3, 2, 0},
        /* decode with 3, 4 and 5 query heads per KV head (micro tiles of 6
         * or 8 rows only partly used), and a group that divides no tile */
        {6, 2, 32, 1, 50, 0},  {12, 3, 32, 1, 20, 0}, {10, 2, 64, 1, 7, 0},
        {10, 2, 64, 29, 3, 0}, {14, 2, 16, 12, 0, 0},
    };
    for (int i = 0; i < LCX_ISA_COUNT; i++) {
        if (!lcx_isa_built((lcx_isa)i) || !lcx_isa_supported((lcx_isa)i))
            continue;
        const lcx_kernels *K = lcx_kernels_get((lcx_isa)i);
        CHECK(K != NULL);
        if (!K)
            continue;
        static const lcx_dtype dts[] = {LCX_DT_F32, LCX_DT_BF16, LCX_DT_F16};
        for (int d = 0; d < 3; d++) {
            lcx_rng r;
            lcx_rng_seed(&r, 99 + i);
            double worst = 0;
            for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
                check_attention(K, &r, cases[c], dts[d], &worst);
            printf("     %-8s attention, KV %-4s: worst err %.2e over %zu cases (tol %g)\n",
                   lcx_isa_name(K->isa), dt_name(dts[d]), worst, sizeof cases / sizeof cases[0],
                   AT_TOL);
        }
    }
}

/* Every BF16 and F16 pattern through each variant's to_f32 (whole vectors
 * and scalar tails) against decode16; NaN only needs to stay NaN (F16C
 * sets the quiet bit). */
/* SwiGLU's silu(x) * u and the gate's sigmoid(x) against libm in double,
 * over arguments from 0 to far beyond exp's range on both sides (whole
 * vectors, parallel and serial sizes, and a scalar tail). */
TEST(silu_mul_and_sigmoid_match_reference)
{
    const size_t sizes[] = {37, 70001};
    for (int i = 0; i < LCX_ISA_COUNT; i++) {
        if (!lcx_isa_built((lcx_isa)i) || !lcx_isa_supported((lcx_isa)i))
            continue;
        const lcx_kernels *K = lcx_kernels_get((lcx_isa)i);
        lcx_kscratch ks;
        lcx_err err;
        CHECK(lcx_kscratch_init(&ks, omp_get_max_threads(), 64, 2, &err) == 0);
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t n = sizes[z];
            float *x = malloc(n * sizeof *x), *g = malloc(n * sizeof *g), *u = malloc(n * sizeof *u);
            lcx_rng r;
            lcx_rng_seed(&r, 11);
            for (size_t k = 0; k < n; k++) {
                /* magnitudes 1e-6 .. 1e3, both signs, and exact zeros */
                double mag = pow(10.0, -6 + 9 * lcx_rng_double(&r));
                x[k] = k % 97 == 0 ? 0.0f : (float)(k % 2 ? -mag : mag);
                u[k] = urand(&r, -2, 2);
            }
            x[1] = -200.0f, x[2] = 200.0f, x[3] = -87.0f, x[4] = 90.0f;
            memcpy(g, x, n * sizeof *x);
            K->silu_mul(g, u, n, &ks);
            double worst_s = 0, worst_g = 0;
            for (size_t k = 0; k < n; k++) {
                double sig = 1.0 / (1.0 + exp(-(double)x[k]));
                double want = (double)x[k] * sig * u[k];
                if (sig < 1.2e-38) { /* the vector exp flushes below -87.3 */
                    CHECK_MSG(fabs(g[k]) <= 2 * fabs(want), "silu(%g)*%g = %g", x[k], u[k], g[k]);
                    continue;
                }
                double e = fabs(g[k] - want) / fabs(want);
                if (e > worst_s)
                    worst_s = e;
            }
            memcpy(g, x, n * sizeof *x);
            K->sigmoid(g, n, &ks);
            for (size_t k = 0; k < n; k++) {
                double want = 1.0 / (1.0 + exp(-(double)x[k]));
                /* relative; below float's normal range (x < -87.3) the
                 * vector exp flushes to 0 */
                if (want < 1.2e-38) {
                    CHECK_MSG(g[k] >= 0 && g[k] <= 2 * want, "sigmoid(%g) = %g", x[k], g[k]);
                    continue;
                }
                double e = fabs(g[k] - want) / want;
                if (e > worst_g)
                    worst_g = e;
            }
            printf("     %-8s silu_mul rel err %.2e, sigmoid err %.2e (n %zu, tol 2e-6)\n",
                   lcx_isa_name(K->isa), worst_s, worst_g, n);
            CHECK_MSG(worst_s <= 2e-6, "%s silu_mul: rel err %g", lcx_isa_name(K->isa), worst_s);
            CHECK_MSG(worst_g <= 2e-6, "%s sigmoid: err %g", lcx_isa_name(K->isa), worst_g);
            free(x), free(g), free(u);
        }
        lcx_kscratch_free(&ks);
    }
}

TEST(to_f32_exact_for_every_pattern)
{
    size_t n = 65536 + 7; /* a tail past whole vectors */
    uint16_t *src = malloc(n * sizeof *src);
    float *dst = malloc(n * sizeof *dst);
    for (size_t i = 0; i < n; i++)
        src[i] = (uint16_t)(i * 40503u); /* every pattern once in the first 65536 */
    for (int i = 0; i < LCX_ISA_COUNT; i++) {
        if (!lcx_isa_built((lcx_isa)i) || !lcx_isa_supported((lcx_isa)i))
            continue;
        const lcx_kernels *K = lcx_kernels_get((lcx_isa)i);
        for (int b = 0; b < 2; b++) {
            lcx_dtype dt = b ? LCX_DT_F16 : LCX_DT_BF16;
            for (size_t off = 0; off < 3; off++) { /* unaligned starts */
                memset(dst, 0, n * sizeof *dst);
                K->to_f32(dst + off, src + off, n - off, dt);
                size_t bad = 0;
                for (size_t k = off; k < n; k++) {
                    double want = decode16(src[k], dt);
                    int ok = isnan(want) ? isnan(dst[k])
                                         : (double)dst[k] == want && !signbit(dst[k]) == !signbit(want);
                    if (!ok && bad++ < 3)
                        CHECK_MSG(0, "%s %s 0x%04x -> %.9g, want %.9g", lcx_isa_name(K->isa),
                                  dt_name(dt), src[k], dst[k], want);
                }
                CHECK_INT(bad, 0);
            }
        }
        printf("     %-8s to_f32: every BF16 and F16 pattern exact\n", lcx_isa_name(K->isa));
    }
    free(src);
    free(dst);
}

/* F32 -> BF16 / F16 as the KV cache stores: every midpoint between two
 * neighbouring patterns (ties go to the even one), the values just either
 * side of it, special values and random floats of every magnitude, against
 * nearest16. */
TEST(rounding_to_16_bits)
{
    for (int b = 0; b < 2; b++) {
        lcx_dtype dt = b ? LCX_DT_F16 : LCX_DT_BF16;
        uint16_t (*to16)(float) = b ? lcx_f32_to_f16 : lcx_f32_to_bf16;
        uint16_t top = b ? 0x7bff : 0x7f7f;
        size_t bad = 0, tried = 0;
#define TRY(x)                                                                                     \
    do {                                                                                           \
        float x_ = (x);                                                                            \
        uint16_t got_ = to16(x_), want_ = nearest16(x_, dt);                                       \
        tried++;                                                                                   \
        if (got_ != want_ && bad++ < 5)                                                            \
            CHECK_MSG(0, "%s(%.9g) = 0x%04x, want 0x%04x", dt_name(dt), x_, got_, want_);          \
    } while (0)
        for (int p = 0; p < top; p++) {
            float mid = (float)((decode16((uint16_t)p, dt) + decode16((uint16_t)(p + 1), dt)) / 2);
            for (int s = 0; s < 2; s++) {
                float m = s ? -mid : mid;
                TRY(m);
                TRY(nextafterf(m, 0));
                TRY(nextafterf(m, s ? -INFINITY : INFINITY));
                TRY(s ? -(float)decode16((uint16_t)p, dt) : (float)decode16((uint16_t)p, dt));
            }
        }
        lcx_rng r;
        lcx_rng_seed(&r, 5 + b);
        for (int k = 0; k < 200000; k++) {
            uint32_t u = (uint32_t)lcx_rng_below(&r, 1ull << 32);
            float x;
            memcpy(&x, &u, sizeof x);
            if (isnan(x) || (!b && fabsf(x) > 3.3e38f))
                continue;
            TRY(x);
        }
        TRY(0.0f);
        TRY(-0.0f);
        TRY(1e-30f);
        TRY(-1e-30f);
#undef TRY
        CHECK_INT(bad, 0);
        float inf = INFINITY, qnan = NAN;
        CHECK(isnan(decode16(to16(qnan), dt)) && isnan(decode16(to16(-qnan), dt)));
        if (b) { /* F16 saturates */
            CHECK_INT(to16(inf), 0x7bff);
            CHECK_INT(to16(-inf), 0xfbff);
            CHECK_INT(to16(1e6f), 0x7bff);
            CHECK_INT(to16(65519.0f), 0x7bff);
        } else {
            CHECK_INT(to16(inf), 0x7f80);
            CHECK_INT(to16(-inf), 0xff80);
        }
        printf("     %-4s: %zu values rounded as the reference says\n", dt_name(dt), tried);
    }
}

TEST(tables_and_choice)
{
    lcx_err err = {0};
    lcx_isa isa;
    CHECK(lcx_isa_choose("auto", &isa, &err) == 0 && isa == lcx_isa_best());
    CHECK(lcx_isa_choose(NULL, &isa, &err) == 0 && isa == lcx_isa_best());
    CHECK(lcx_isa_choose("generic", &isa, &err) == 0 && isa == LCX_ISA_GENERIC);
    CHECK(lcx_isa_supported(lcx_isa_best()));
    CHECK_INT(lcx_isa_choose("avx3", &isa, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "unknown kernel variant") != NULL);
    int refused = 0;
    for (int i = 0; i < LCX_ISA_COUNT; i++) {
        const char *name = lcx_isa_name((lcx_isa)i);
        lcx_err_clear(&err);
        int rc = lcx_isa_choose(name, &isa, &err);
        if (lcx_isa_built((lcx_isa)i) && lcx_isa_supported((lcx_isa)i)) {
            CHECK(rc == 0 && isa == (lcx_isa)i);
        } else {
            refused++;
            CHECK_INT(rc, LCX_EINPUT);
            CHECK(strstr(err.msg, name) != NULL && strchr(err.msg, '\n') == NULL);
        }
        CHECK((lcx_kernels_get((lcx_isa)i) != NULL) == lcx_isa_built((lcx_isa)i));
    }
    CHECK(refused >= 1); /* no CPU is both x86-64 and aarch64 */
}

int main(void)
{
    RUN(tables_and_choice);
    RUN(matmul_matches_reference);
    RUN(attention_matches_reference);
    RUN(silu_mul_and_sigmoid_match_reference);
    RUN(to_f32_exact_for_every_pattern);
    RUN(rounding_to_16_bits);
    return check_summary();
}
