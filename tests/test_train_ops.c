/* test_train_ops.c: every op of train/ops.c, backward against central finite
 * differences in DOUBLE precision. train/ops.c is included here with
 * TRAIN_REAL double, so the checks run the same source as the float library
 * (names suffixed _f64); a few tests then compare the float ops against the
 * double ones.
 *
 * Check: err = max_i |analytic_i - fd_i| / max_i |fd_i| over the tensor,
 * with fd = (L(x+h) - L(x-h)) / 2h, h = 1e-5, L = sum(out * r) for a fixed
 * random r (or the mean loss itself). Tolerance GRAD_TOL = 1e-6 (measured
 * errors are ~1e-10; printed per check). */
#define TRAIN_REAL double
#define TRAIN_OP(name) name##_f64
#include "train/ops.c"

#include <stdio.h>
#include <stdlib.h>

#include "common/rng.h"
#include "tests/check.h"
#include "train/ops.h"

#define GRAD_TOL 1e-6
#define FD_H 1e-5

static double worst_err; /* over the whole program, printed at the end */

static double *rand_vec(lcx_rng *r, size_t n, double lo, double hi)
{
    double *x = malloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * lcx_rng_double(r);
    return x;
}

static double *zeros(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

static double sum_prod(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* max |g - fd| / max |fd| over every stride-th element of x[0..n). */
static double grad_check(const char *what, loss_fn f, void *ctx, double *x, const double *g,
                         size_t n, size_t stride)
{
    double max_err = 0, max_fd = 0;
    for (size_t i = 0; i < n; i += stride) {
        double keep = x[i];
        x[i] = keep + FD_H;
        double lp = f(ctx);
        x[i] = keep - FD_H;
        double lm = f(ctx);
        x[i] = keep;
        double fd = (lp - lm) / (2 * FD_H);
        if (fabs(g[i] - fd) > max_err)
            max_err = fabs(g[i] - fd);
        if (fabs(fd) > max_fd)
            max_fd = fabs(fd);
    }
    double err = max_fd > 0 ? max_err / max_fd : max_err;
    printf("     %-34s max|grad| %.3g  rel err %.2e\n", what, max_fd, err);
    if (err > worst_err)
        worst_err = err;
    CHECK_MSG(err < GRAD_TOL && max_fd > 0, "%s: rel err %.3g (tol %g), max |fd| %.3g", what, err,
              GRAD_TOL, max_fd);
    return err;
}

/* ---- embedding ---- */

typedef struct {
    int N, C;
    int32_t *tok;
    double *wte, *out, *r;
} enc_ctx;

static double enc_loss(void *p)
{
    enc_ctx *c = p;
    encoder_forward_f64(c->out, c->tok, c->wte, c->N, c->C);
    return sum_prod(c->out, c->r, (size_t)c->N * c->C);
}

TEST(encoder_grad)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 1);
    int32_t tok[6] = {3, 0, 3, 6, 1, 3}; /* repeats accumulate */
    enc_ctx c = {6, 5, tok, rand_vec(&rng, 35, -1, 1), zeros(30), rand_vec(&rng, 30, -1, 1)};
    double *dwte = zeros(35);
    encoder_backward_f64(dwte, c.r, tok, c.N, c.C);
    grad_check("encoder dwte", enc_loss, &c, c.wte, dwte, 35, 1);
    free(c.wte), free(c.out), free(c.r), free(dwte);
}

/* ---- RMSNorm and per-head RMSNorm ---- */

typedef struct {
    int N, nh, hd, head; /* head: use head_rmsnorm with N rows of nh heads */
    double *x, *w, *out, *rstd, *r;
} norm_ctx;

static double norm_loss(void *p)
{
    norm_ctx *c = p;
    if (c->head)
        head_rmsnorm_forward_f64(c->out, c->rstd, c->x, c->w, c->N, c->nh, c->hd, 1e-5);
    else
        rmsnorm_forward_f64(c->out, c->rstd, c->x, c->w, c->N, c->hd, 1e-5);
    return sum_prod(c->out, c->r, (size_t)c->N * c->nh * c->hd);
}

static void check_norm(int head)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 2 + head);
    norm_ctx c = {4, head ? 3 : 1, head ? 6 : 9, head, NULL, NULL, NULL, NULL, NULL};
    size_t n = (size_t)c.N * c.nh * c.hd;
    c.x = rand_vec(&rng, n, -2, 2);
    c.w = rand_vec(&rng, c.hd, 0.5, 1.5);
    c.out = zeros(n);
    c.rstd = zeros((size_t)c.N * c.nh);
    c.r = rand_vec(&rng, n, -1, 1);
    double *dx = zeros(n), *dw = zeros(c.hd);
    norm_loss(&c);
    if (head)
        head_rmsnorm_backward_f64(dx, dw, c.r, c.x, c.w, c.rstd, c.N, c.nh, c.hd);
    else
        rmsnorm_backward_f64(dx, dw, c.r, c.x, c.w, c.rstd, c.N, c.hd);
    grad_check(head ? "head_rmsnorm dinp" : "rmsnorm dinp", norm_loss, &c, c.x, dx, n, 1);
    grad_check(head ? "head_rmsnorm dweight" : "rmsnorm dweight", norm_loss, &c, c.w, dw,
               (size_t)c.hd, 1);
    free(c.x), free(c.w), free(c.out), free(c.rstd), free(c.r), free(dx), free(dw);
}

TEST(rmsnorm_grad) { check_norm(0); }
TEST(head_rmsnorm_grad) { check_norm(1); }

/* ---- RoPE ---- */

typedef struct {
    int N, T, nh, hd;
    double *x, *out, *cs, *sn, *r;
} rope_ctx;

static double rope_loss(void *p)
{
    rope_ctx *c = p;
    rope_forward_f64(c->out, c->x, c->cs, c->sn, c->N, c->T, c->nh, c->hd);
    return sum_prod(c->out, c->r, (size_t)c->N * c->nh * c->hd);
}

TEST(rope_grad_and_values)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 4);
    rope_ctx c = {10, 5, 2, 8, NULL, NULL, NULL, NULL, NULL}; /* B = 2 sequences of T = 5 */
    size_t n = (size_t)c.N * c.nh * c.hd;
    c.x = rand_vec(&rng, n, -1, 1);
    c.out = zeros(n);
    c.cs = zeros((size_t)c.T * c.hd / 2);
    c.sn = zeros((size_t)c.T * c.hd / 2);
    c.r = rand_vec(&rng, n, -1, 1);
    rope_tables_f64(c.cs, c.sn, c.T, c.hd, 10000.0);
    /* position 3, pair i = 1: angle 3 * 10000^(-2/8) */
    CHECK_NEAR(c.cs[3 * 4 + 1], cos(3.0 * pow(10000.0, -0.25)), 1e-15);
    rope_loss(&c);
    /* rotate_half: out[i] = x[i] cos - x[i+4] sin at row n = 7 (position 2), head 1, i = 2 */
    size_t base = ((size_t)7 * c.nh + 1) * c.hd;
    double a = 2.0 * pow(10000.0, -0.5);
    CHECK_NEAR(c.out[base + 2], c.x[base + 2] * cos(a) - c.x[base + 6] * sin(a), 1e-14);
    CHECK_NEAR(c.out[base + 6], c.x[base + 6] * cos(a) + c.x[base + 2] * sin(a), 1e-14);
    double *dx = zeros(n);
    rope_backward_f64(dx, c.r, c.cs, c.sn, c.N, c.T, c.nh, c.hd);
    grad_check("rope dinp", rope_loss, &c, c.x, dx, n, 1);
    free(c.x), free(c.out), free(c.cs), free(c.sn), free(c.r), free(dx);
}

/* ---- fused q_proj split ---- */

typedef struct {
    int N, H, KV, hd, gw;
    double *qg, *q, *gate, *rq, *rg;
} split_ctx;

static double split_loss(void *p)
{
    split_ctx *c = p;
    qgate_split_forward_f64(c->q, c->gate, c->qg, c->N, c->H, c->KV, c->hd, c->gw);
    return sum_prod(c->q, c->rq, (size_t)c->N * c->H * c->hd) +
           sum_prod(c->gate, c->rg, (size_t)c->N * c->H * c->gw);
}

static void check_split(int gw)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 5);
    split_ctx c = {2, 4, 2, 4, gw, NULL, NULL, NULL, NULL, NULL};
    int G = c.H / c.KV, QR = c.H * c.hd + c.H * gw;
    size_t nq = (size_t)c.N * c.H * c.hd, ng = (size_t)c.N * c.H * gw, nqg = (size_t)c.N * QR;
    c.qg = zeros(nqg);
    for (size_t i = 0; i < nqg; i++)
        c.qg[i] = (double)i;
    c.q = zeros(nq), c.gate = zeros(ng);
    c.rq = rand_vec(&rng, nq, -1, 1), c.rg = rand_vec(&rng, ng, -1, 1);
    split_loss(&c);
    /* layout: per KV group [queries of its G heads | gates of its G heads] */
    for (int n = 0; n < c.N; n++)
        for (int h = 0; h < c.H; h++) {
            int g = h / G, j = h % G, grp = n * QR + g * (G * c.hd + G * gw);
            for (int i = 0; i < c.hd; i++)
                CHECK(c.q[((size_t)n * c.H + h) * c.hd + i] == grp + j * c.hd + i);
            for (int i = 0; i < gw; i++)
                CHECK(c.gate[((size_t)n * c.H + h) * gw + i] == grp + G * c.hd + j * gw + i);
        }
    double *dqg = zeros(nqg);
    qgate_split_backward_f64(dqg, c.rq, c.rg, c.N, c.H, c.KV, c.hd, gw);
    grad_check(gw == 0 ? "split (no gate) dqg" : gw == 1 ? "split (headwise) dqg"
                                                        : "split (elementwise) dqg",
               split_loss, &c, c.qg, dqg, nqg, 1);
    free(c.qg), free(c.q), free(c.gate), free(c.rq), free(c.rg), free(dqg);
}

TEST(qgate_split_layout_and_grad)
{
    check_split(0);
    check_split(1);
    check_split(4);
}

/* ---- attention ---- */

typedef struct {
    int B, T, H, KV, hd;
    double *q, *k, *v, *out, *lse, *scratch, *r;
} attn_ctx;

static double attn_loss(void *p)
{
    attn_ctx *c = p;
    attention_forward_f64(c->out, c->lse, c->scratch, c->q, c->k, c->v, c->B, c->T, c->H, c->KV,
                          c->hd);
    return sum_prod(c->out, c->r, (size_t)c->B * c->T * c->H * c->hd);
}

/* Gradients of one shape; with reference, also one output against a direct
 * computation (b 1, t 3, head 3 of the shape B 2, T 5, H 4, KV 2, hd 4). */
static void check_attention(int B, int T, int H, int KV, int hd, int reference)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 6);
    attn_ctx c = {B, T, H, KV, hd, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    size_t nq = (size_t)c.B * c.T * c.H * c.hd, nk = (size_t)c.B * c.T * c.KV * c.hd;
    c.q = rand_vec(&rng, nq, -1.5, 1.5), c.k = rand_vec(&rng, nk, -1.5, 1.5);
    c.v = rand_vec(&rng, nk, -1, 1), c.out = zeros(nq);
    c.lse = zeros((size_t)c.B * c.H * c.T), c.r = rand_vec(&rng, nq, -1, 1);
    c.scratch = zeros(lcx_train_attention_scratch(c.B, c.T, c.KV, c.hd));
    attn_loss(&c);
    printf("     shape B %d, T %d, H %d, KV %d, hd %d\n", B, T, H, KV, hd);
    if (reference) { /* one query: b 1, t 3, head 3 (KV head 1) */
        int b = 1, t = 3, h = 3, g = 1;
        double s[5], mx = -1e300, sum = 0, o[4] = {0};
        for (int j = 0; j <= t; j++) {
            s[j] = 0;
            for (int i = 0; i < c.hd; i++)
                s[j] += c.q[(((size_t)b * c.T + t) * c.H + h) * c.hd + i] *
                        c.k[(((size_t)b * c.T + j) * c.KV + g) * c.hd + i];
            s[j] /= 2.0; /* sqrt(hd) */
            mx = s[j] > mx ? s[j] : mx;
        }
        for (int j = 0; j <= t; j++)
            sum += (s[j] = exp(s[j] - mx));
        for (int j = 0; j <= t; j++)
            for (int i = 0; i < c.hd; i++)
                o[i] += s[j] / sum * c.v[(((size_t)b * c.T + j) * c.KV + g) * c.hd + i];
        for (int i = 0; i < c.hd; i++)
            CHECK_NEAR(c.out[(((size_t)b * c.T + t) * c.H + h) * c.hd + i], o[i], 1e-14);
    }
    /* causal: changing the last position's k and v leaves earlier outputs */
    double *before = zeros(nq);
    memcpy(before, c.out, nq * sizeof(double));
    for (int b = 0; b < c.B; b++)
        for (int i = 0; i < c.KV * c.hd; i++) {
            c.k[((size_t)b * c.T + c.T - 1) * c.KV * c.hd + i] += 3;
            c.v[((size_t)b * c.T + c.T - 1) * c.KV * c.hd + i] -= 3;
        }
    attn_loss(&c);
    int same = 1, changed = 0;
    for (int b = 0; b < c.B; b++)
        for (int t = 0; t < c.T; t++)
            for (int i = 0; i < c.H * c.hd; i++) {
                size_t at = ((size_t)b * c.T + t) * c.H * c.hd + i;
                if (t < c.T - 1)
                    same &= c.out[at] == before[at];
                else
                    changed |= c.out[at] != before[at];
            }
    CHECK(same && changed);
    double *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk);
    attn_loss(&c);
    attention_backward_f64(dq, dk, dv, c.scratch, c.r, c.q, c.k, c.v, c.lse, c.B, c.T, c.H, c.KV,
                           c.hd);
    grad_check("attention dq", attn_loss, &c, c.q, dq, nq, 1);
    grad_check("attention dk (GQA, shared)", attn_loss, &c, c.k, dk, nk, 1);
    grad_check("attention dv (GQA, shared)", attn_loss, &c, c.v, dv, nk, 1);
    free(before), free(dq), free(dk), free(dv), free(c.scratch);
    free(c.q), free(c.k), free(c.v), free(c.out), free(c.lse), free(c.r);
}

TEST(attention_gqa_causal_grad)
{
    check_attention(2, 5, 4, 2, 4, 1); /* G = 2 */
    /* more query rows than a block (48), a part block, and a head_dim that is
     * not a whole number of register tiles (3 vectors of 2 doubles) */
    check_attention(1, 53, 3, 1, 6, 0);
}

/* ---- SDPA-output gate ---- */

typedef struct {
    int N, H, hd, gw;
    double *x, *gate, *out, *r;
} gate_ctx;

static double gate_loss(void *p)
{
    gate_ctx *c = p;
    gate_forward_f64(c->out, c->x, c->gate, c->N, c->H, c->hd, c->gw);
    return sum_prod(c->out, c->r, (size_t)c->N * c->H * c->hd);
}

static void check_gate(int gw)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 7);
    gate_ctx c = {3, 2, 4, gw, NULL, NULL, NULL, NULL};
    size_t n = (size_t)c.N * c.H * c.hd, ng = (size_t)c.N * c.H * gw;
    c.x = rand_vec(&rng, n, -1, 1), c.gate = rand_vec(&rng, ng, -3, 3);
    c.out = zeros(n), c.r = rand_vec(&rng, n, -1, 1);
    gate_loss(&c);
    /* out = x * sigmoid(gate): row n 2, head 1, dim 3 */
    size_t at = (2 * 2 + 1) * 4 + 3, gi = (2 * 2 + 1) * gw + (gw == 1 ? 0 : 3);
    CHECK_NEAR(c.out[at], c.x[at] / (1 + exp(-c.gate[gi])), 1e-15);
    double *dx = zeros(n), *dg = zeros(ng);
    gate_backward_f64(dx, dg, c.r, c.x, c.gate, c.N, c.H, c.hd, gw);
    grad_check(gw == 1 ? "gate headwise dinp" : "gate elementwise dinp", gate_loss, &c, c.x, dx,
               n, 1);
    grad_check(gw == 1 ? "gate headwise dgate" : "gate elementwise dgate", gate_loss, &c, c.gate,
               dg, ng, 1);
    free(c.x), free(c.gate), free(c.out), free(c.r), free(dx), free(dg);
}

TEST(gate_headwise_grad) { check_gate(1); }
TEST(gate_elementwise_grad) { check_gate(4); }

/* ---- SwiGLU ---- */

typedef struct {
    size_t n;
    double *g, *u, *out, *r;
} swiglu_ctx;

static double swiglu_loss(void *p)
{
    swiglu_ctx *c = p;
    swiglu_forward_f64(c->out, c->g, c->u, c->n);
    return sum_prod(c->out, c->r, c->n);
}

TEST(swiglu_grad)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 8);
    swiglu_ctx c = {12, rand_vec(&rng, 12, -4, 4), rand_vec(&rng, 12, -1, 1), zeros(12),
                    rand_vec(&rng, 12, -1, 1)};
    double *dg = zeros(12), *du = zeros(12);
    swiglu_backward_f64(dg, du, c.r, c.g, c.u, c.n);
    grad_check("swiglu dgate", swiglu_loss, &c, c.g, dg, 12, 1);
    grad_check("swiglu dup", swiglu_loss, &c, c.u, du, 12, 1);
    free(c.g), free(c.u), free(c.out), free(c.r), free(dg), free(du);
}

/* ---- matmul ---- */

typedef struct {
    int N, IC, OC;
    double *x, *w, *out, *r;
} mm_ctx;

static double mm_loss(void *p)
{
    mm_ctx *c = p;
    matmul_forward_f64(c->out, c->x, c->w, c->N, c->IC, c->OC);
    return sum_prod(c->out, c->r, (size_t)c->N * c->OC);
}

/* Shapes cover the edges: partial MR/NR tiles, P > KC (p-blocks) on both the
 * forward (IC = 300) and the weight gradient (N = 300). */
static void check_matmul(int N, int IC, int OC, size_t stride, const char *dx_name,
                         const char *dw_name)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 9 + (uint64_t)N);
    mm_ctx c = {N, IC, OC, rand_vec(&rng, (size_t)N * IC, -1, 1),
                rand_vec(&rng, (size_t)OC * IC, -1, 1), zeros((size_t)N * OC),
                rand_vec(&rng, (size_t)N * OC, -1, 1)};
    mm_loss(&c);
    double max_diff = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int i = 0; i < IC; i++)
                s += c.x[(size_t)n * IC + i] * c.w[(size_t)o * IC + i];
            max_diff = fmax(max_diff, fabs(s - c.out[(size_t)n * OC + o]));
        }
    CHECK_MSG(max_diff < 1e-12, "matmul %dx%dx%d forward differs from the naive loop by %g", N,
              IC, OC, max_diff);
    double *dx = zeros((size_t)N * IC), *dw = zeros((size_t)OC * IC);
    matmul_backward_f64(dx, dw, c.r, c.x, c.w, N, IC, OC);
    grad_check(dx_name, mm_loss, &c, c.x, dx, (size_t)N * IC, stride);
    grad_check(dw_name, mm_loss, &c, c.w, dw, (size_t)OC * IC, stride);
    free(c.x), free(c.w), free(c.out), free(c.r), free(dx), free(dw);
}

TEST(matmul_grad)
{
    check_matmul(7, 13, 11, 1, "matmul 7x13x11 dinp", "matmul 7x13x11 dweight");
    check_matmul(9, 300, 20, 37, "matmul 9x300x20 dinp", "matmul 9x300x20 dweight");
    check_matmul(300, 5, 19, 13, "matmul 300x5x19 dinp", "matmul 300x5x19 dweight");
}

/* ---- residual ---- */

TEST(residual_grad)
{
    double a[3] = {1, 2, 3}, b[3] = {-1, 0.5, 4}, out[3], da[3] = {0}, db[3] = {0};
    double dout[3] = {0.1, -2, 3};
    residual_forward_f64(out, a, b, 3);
    residual_backward_f64(da, db, dout, 3);
    for (int i = 0; i < 3; i++) {
        CHECK(out[i] == a[i] + b[i]);
        CHECK(da[i] == dout[i] && db[i] == dout[i]);
    }
}

/* ---- cross-entropy with weights ---- */

typedef struct {
    int N, V;
    double *logits, *probs, *losses, *w;
    int32_t *targets;
} ce_ctx;

static double ce_loss(void *p)
{
    ce_ctx *c = p;
    return crossentropy_forward_f64(c->losses, c->probs, c->logits, c->targets, c->w, c->N, c->V);
}

TEST(crossentropy_weighted_grad)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 10);
    int32_t targets[5] = {0, 6, 3, 3, 1};
    double w[5] = {1, 0, 2.5, 0.5, 1};
    ce_ctx c = {5, 7, rand_vec(&rng, 35, -3, 3), zeros(35), zeros(5), w, targets};
    double loss = ce_loss(&c);
    double want = 0;
    for (int n = 0; n < 5; n++) {
        double s = 0;
        for (int v = 0; v < 7; v++)
            s += exp(c.logits[n * 7 + v]);
        want += w[n] * (log(s) - c.logits[n * 7 + targets[n]]);
    }
    CHECK_NEAR(loss, want / 5.0, 1e-13); /* weights sum to 5 */
    double *dl = zeros(35);
    crossentropy_backward_f64(dl, 1.0, c.probs, targets, w, 5, 7);
    for (int v = 0; v < 7; v++)
        CHECK(dl[7 + v] == 0); /* weight 0: no gradient */
    grad_check("crossentropy dlogits (weighted)", ce_loss, &c, c.logits, dl, 35, 1);
    free(c.logits), free(c.probs), free(c.losses), free(dl);
}

/* ---- tied head: embedding and classifier share wte ---- */

typedef struct {
    int N, C, V;
    int32_t *tok, *targets;
    double *wte, *h, *logits, *probs, *losses;
} tied_ctx;

static double tied_loss(void *p)
{
    tied_ctx *c = p;
    encoder_forward_f64(c->h, c->tok, c->wte, c->N, c->C);
    matmul_forward_f64(c->logits, c->h, c->wte, c->N, c->C, c->V);
    return crossentropy_forward_f64(c->losses, c->probs, c->logits, c->targets, NULL, c->N, c->V);
}

TEST(tied_head_grad)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 11);
    int32_t tok[4] = {1, 4, 1, 2}, targets[4] = {4, 1, 0, 2};
    tied_ctx c = {4, 6, 5, tok, targets, rand_vec(&rng, 30, -1, 1), zeros(24), zeros(20),
                  zeros(20), zeros(4)};
    tied_loss(&c);
    double *dwte = zeros(30), *dh = zeros(24), *dlogits = zeros(20);
    crossentropy_backward_f64(dlogits, 1.0, c.probs, targets, NULL, 4, 5);
    matmul_backward_f64(dh, dwte, dlogits, c.h, c.wte, 4, 6, 5); /* head path into dwte */
    encoder_backward_f64(dwte, dh, tok, 4, 6);                   /* embedding path adds */
    grad_check("tied head dwte (both paths)", tied_loss, &c, c.wte, dwte, 30, 1);
    free(c.wte), free(c.h), free(c.logits), free(c.probs), free(c.losses);
    free(dwte), free(dh), free(dlogits);
}

/* ---- the float library ops against their double copies ---- */

static double max_rel(const float *a, const double *b, size_t n)
{
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) { /* comparisons, not fmax: GCC 12's aarch64 vectoriser
                                       * crashes on an fmax reduction here */
        double d = fabs((double)a[i] - b[i]), m = fabs(b[i]);
        md = d > md ? d : md;
        mb = m > mb ? m : mb;
    }
    return md / (mb > 0 ? mb : 1);
}

static float *to_float(const double *x, size_t n)
{
    float *f = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++)
        f[i] = (float)x[i];
    return f;
}

/* The attention forward and backward of one variant against the double ones. */
static void float_attention_matches_double(const lcx_train_ops *O, int B, int T, int H, int KV,
                                           int hd)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 13);
    size_t nq = (size_t)B * T * H * hd, nk = (size_t)B * T * KV * hd, nl = (size_t)B * H * T;
    size_t ns = lcx_train_attention_scratch(B, T, KV, hd);
    double *q = rand_vec(&rng, nq, -1, 1), *k = rand_vec(&rng, nk, -1, 1);
    double *v = rand_vec(&rng, nk, -1, 1), *dout = rand_vec(&rng, nq, -1, 1);
    double *out = zeros(nq), *lse = zeros(nl), *scratch = zeros(ns);
    double *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk);
    float *qf = to_float(q, nq), *kf = to_float(k, nk), *vf = to_float(v, nk);
    float *doutf = to_float(dout, nq), *outf = calloc(nq, 4), *lsef = calloc(nl, 4);
    float *scratchf = calloc(ns, 4), *dqf = calloc(nq, 4), *dkf = calloc(nk, 4);
    float *dvf = calloc(nk, 4);
    attention_forward_f64(out, lse, scratch, q, k, v, B, T, H, KV, hd);
    O->attention_forward(outf, lsef, scratchf, qf, kf, vf, B, T, H, KV, hd);
    attention_backward_f64(dq, dk, dv, scratch, dout, q, k, v, lse, B, T, H, KV, hd);
    O->attention_backward(dqf, dkf, dvf, scratchf, doutf, qf, kf, vf, lsef, B, T, H, KV, hd);
    double e1 = max_rel(outf, out, nq), e2 = max_rel(lsef, lse, nl), e3 = max_rel(dqf, dq, nq);
    double e4 = max_rel(dkf, dk, nk), e5 = max_rel(dvf, dv, nk);
    printf("     %s float vs double attention T %d hd %d: out %.2e lse %.2e dq %.2e dk %.2e "
           "dv %.2e\n", lcx_isa_name(O->isa), T, hd, e1, e2, e3, e4, e5);
    CHECK(e1 < 1e-5 && e2 < 1e-5 && e3 < 1e-5 && e4 < 1e-5 && e5 < 1e-5);
    free(q), free(k), free(v), free(dout), free(out), free(lse), free(scratch), free(dq);
    free(dk), free(dv), free(qf), free(kf), free(vf), free(doutf), free(outf), free(lsef);
    free(scratchf), free(dqf), free(dkf), free(dvf);
}

/* The vectorised elementwise ops of one variant (vexp inside) against the
 * double ones, on a length that leaves a tail past the last whole vector. */
static void float_elementwise_matches_double(const lcx_train_ops *O)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 14);
    int N = 37, C = 45, V = 77, H = 3, hd = 15; /* C, V, N*H*hd: not multiples of 16 */
    size_t nc = (size_t)N * C, nv = (size_t)N * V, ng = (size_t)N * H * hd;
    double *x = rand_vec(&rng, nc, -6, 6), *u = rand_vec(&rng, nc, -2, 2);
    double *g = rand_vec(&rng, nc, -1, 1), *w = rand_vec(&rng, C, 0.5, 1.5);
    double *lg = rand_vec(&rng, nv, -30, 30), *gate = rand_vec(&rng, ng, -100, 100);
    double *ga = rand_vec(&rng, ng, -1, 1), *gd = rand_vec(&rng, ng, -1, 1);
    int32_t *tg = malloc(sizeof(int32_t) * N);
    for (int n = 0; n < N; n++)
        tg[n] = (int32_t)lcx_rng_below(&rng, (uint64_t)V);
    float *xf = to_float(x, nc), *uf = to_float(u, nc), *gf = to_float(g, nc), *wf = to_float(w, C);
    float *lgf = to_float(lg, nv), *gatef = to_float(gate, ng), *gaf = to_float(ga, ng);
    float *gdf = to_float(gd, ng);
    double e[10];
    /* SwiGLU */
    double *o = zeros(nc), *d1 = zeros(nc), *d2 = zeros(nc);
    float *of = calloc(nc, 4), *d1f = calloc(nc, 4), *d2f = calloc(nc, 4);
    swiglu_forward_f64(o, x, u, nc);
    O->swiglu_forward(of, xf, uf, nc);
    swiglu_backward_f64(d1, d2, g, x, u, nc);
    O->swiglu_backward(d1f, d2f, gf, xf, uf, nc);
    e[0] = max_rel(of, o, nc), e[1] = max_rel(d1f, d1, nc), e[2] = max_rel(d2f, d2, nc);
    /* RMSNorm */
    double *rs = zeros(N), *dw = zeros(C);
    float *rsf = calloc(N, 4), *dwf = calloc(C, 4);
    memset(d1, 0, nc * 8), memset(d1f, 0, nc * 4);
    rmsnorm_forward_f64(o, rs, x, w, N, C, 1e-6);
    O->rmsnorm_forward(of, rsf, xf, wf, N, C, 1e-6f);
    rmsnorm_backward_f64(d1, dw, g, x, w, rs, N, C);
    O->rmsnorm_backward(d1f, dwf, gf, xf, wf, rsf, N, C);
    e[3] = max_rel(of, o, nc), e[4] = max_rel(d1f, d1, nc), e[5] = max_rel(dwf, dw, C);
    /* elementwise gate, logits up to |100| */
    double *go = zeros(ng), *gdi = zeros(ng), *gdg = zeros(ng);
    float *gof = calloc(ng, 4), *gdif = calloc(ng, 4), *gdgf = calloc(ng, 4);
    gate_forward_f64(go, ga, gate, N, H, hd, hd);
    O->gate_forward(gof, gaf, gatef, N, H, hd, hd);
    gate_backward_f64(gdi, gdg, gd, ga, gate, N, H, hd, hd);
    O->gate_backward(gdif, gdgf, gdf, gaf, gatef, N, H, hd, hd);
    e[6] = max_rel(gof, go, ng), e[7] = max_rel(gdif, gdi, ng), e[8] = max_rel(gdgf, gdg, ng);
    /* cross-entropy, logits up to |30| */
    double *pr = zeros(nv), *ls = zeros(N), *dl = zeros(nv);
    float *prf = calloc(nv, 4), *lsf = calloc(N, 4), *dlf = calloc(nv, 4);
    double l64 = crossentropy_forward_f64(ls, pr, lg, tg, NULL, N, V);
    double l32 = O->crossentropy_forward(lsf, prf, lgf, tg, NULL, N, V);
    crossentropy_backward_f64(dl, 1.0, pr, tg, NULL, N, V);
    O->crossentropy_backward(dlf, 1.0, prf, tg, NULL, N, V);
    e[9] = fmax(fabs(l32 - l64) / fabs(l64), max_rel(dlf, dl, nv));
    printf("     %s float vs double: swiglu %.2e %.2e %.2e rmsnorm %.2e %.2e %.2e gate %.2e %.2e "
           "%.2e crossentropy %.2e\n", lcx_isa_name(O->isa), e[0], e[1], e[2], e[3], e[4], e[5],
           e[6], e[7], e[8], e[9]);
    for (int i = 0; i < 10; i++)
        CHECK_MSG(e[i] < 1e-5, "%s: elementwise check %d: rel err %.3g", lcx_isa_name(O->isa), i,
                  e[i]);
    free(x), free(u), free(g), free(w), free(lg), free(gate), free(ga), free(gd), free(tg);
    free(xf), free(uf), free(gf), free(wf), free(lgf), free(gatef), free(gaf), free(gdf);
    free(o), free(d1), free(d2), free(of), free(d1f), free(d2f), free(rs), free(dw), free(rsf);
    free(dwf), free(go), free(gdi), free(gdg), free(gof), free(gdif), free(gdgf), free(pr);
    free(ls), free(dl), free(prf), free(lsf), free(dlf);
}

/* The float library ops of one kernel variant against the double ones. */
static void float_ops_match_double_for(const lcx_train_ops *O)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 12);
    int N = 70, IC = 90, OC = 50;
    double *x = rand_vec(&rng, (size_t)N * IC, -1, 1), *w = rand_vec(&rng, (size_t)OC * IC, -1, 1);
    double *dout = rand_vec(&rng, (size_t)N * OC, -1, 1);
    float *xf = malloc(sizeof(float) * N * IC), *wf = malloc(sizeof(float) * OC * IC);
    float *doutf = malloc(sizeof(float) * N * OC);
    for (int i = 0; i < N * IC; i++)
        xf[i] = (float)x[i];
    for (int i = 0; i < OC * IC; i++)
        wf[i] = (float)w[i];
    for (int i = 0; i < N * OC; i++)
        doutf[i] = (float)dout[i];
    double *out = zeros((size_t)N * OC), *dx = zeros((size_t)N * IC), *dw = zeros((size_t)OC * IC);
    float *outf = calloc((size_t)N * OC, 4), *dxf = calloc((size_t)N * IC, 4);
    float *dwf = calloc((size_t)OC * IC, 4);
    matmul_forward_f64(out, x, w, N, IC, OC);
    O->matmul_forward(outf, xf, wf, N, IC, OC);
    matmul_backward_f64(dx, dw, dout, x, w, N, IC, OC);
    O->matmul_backward(dxf, dwf, doutf, xf, wf, N, IC, OC);
    double e1 = max_rel(outf, out, (size_t)N * OC), e2 = max_rel(dxf, dx, (size_t)N * IC);
    double e3 = max_rel(dwf, dw, (size_t)OC * IC);
    printf("     %s float vs double matmul: fwd %.2e dinp %.2e dweight %.2e\n", lcx_isa_name(O->isa), e1, e2, e3);
    CHECK(e1 < 1e-5 && e2 < 1e-5 && e3 < 1e-5);

    float_attention_matches_double(O, 2, 40, 4, 2, 16);
    float_attention_matches_double(O, 1, 100, 6, 2, 32);
    float_elementwise_matches_double(O);
    free(x), free(w), free(dout), free(xf), free(wf), free(doutf), free(out), free(dx), free(dw);
    free(outf), free(dxf), free(dwf);
}

/* Every variant this build has and this CPU runs (the others are named as
 * not run). */
TEST(float_ops_match_double)
{
    for (int i = 0; i < LCX_ISA_COUNT; i++) {
        if (!lcx_isa_built((lcx_isa)i))
            continue;
        if (!lcx_isa_supported((lcx_isa)i)) {
            printf("     %s: not run, this CPU lacks it\n", lcx_isa_name((lcx_isa)i));
            continue;
        }
        const lcx_train_ops *O = lcx_train_ops_get((lcx_isa)i);
        CHECK(O != NULL && O->isa == (lcx_isa)i);
        if (O)
            float_ops_match_double_for(O);
    }
}

int main(void)
{
    RUN(encoder_grad);
    RUN(rmsnorm_grad);
    RUN(head_rmsnorm_grad);
    RUN(rope_grad_and_values);
    RUN(qgate_split_layout_and_grad);
    RUN(attention_gqa_causal_grad);
    RUN(gate_headwise_grad);
    RUN(gate_elementwise_grad);
    RUN(swiglu_grad);
    RUN(matmul_grad);
    RUN(residual_grad);
    RUN(crossentropy_weighted_grad);
    RUN(tied_head_grad);
    RUN(float_ops_match_double);
    printf("     worst gradient-check rel err %.2e (tolerance %g)\n", worst_err, GRAD_TOL);
    return check_summary();
}
