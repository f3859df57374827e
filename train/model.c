/* model.c: the trainer's model (see model.h): sizes in one place, one
 * allocation each for parameters, gradients, AdamW m and v, activations and
 * activation gradients; forward and backward read top to bottom in the order
 * of the math. */
#include "train/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "train/ops.h"

int train_gate_width(const train_config *c)
{
    return c->gate == TRAIN_GATE_HEADWISE ? 1 : c->gate == TRAIN_GATE_ELEMENTWISE ? c->head_dim : 0;
}

int train_q_rows(const train_config *c)
{
    return c->n_heads * c->head_dim + c->n_heads * train_gate_width(c);
}

int train_config_check(const train_config *c, lcx_err *err)
{
#define NEED(cond, ...)                                                                       \
    do {                                                                                      \
        if (!(cond))                                                                          \
            return lcx_errf(err, LCX_EINPUT, __VA_ARGS__);                                    \
    } while (0)
    NEED(c->vocab_size >= 2 && c->vocab_size <= (1 << 24), "config: vocab_size %d out of range "
         "[2, 16777216]", c->vocab_size);
    NEED(c->dim >= 1 && c->dim <= 65536, "config: dim %d out of range [1, 65536]", c->dim);
    NEED(c->hidden_dim >= 1 && c->hidden_dim <= (1 << 20), "config: hidden_dim %d out of range",
         c->hidden_dim);
    NEED(c->n_layers >= 1 && c->n_layers <= 1024, "config: n_layers %d out of range [1, 1024]",
         c->n_layers);
    NEED(c->n_heads >= 1 && c->n_heads <= 1024, "config: n_heads %d out of range [1, 1024]",
         c->n_heads);
    NEED(c->n_kv_heads >= 1 && c->n_heads % c->n_kv_heads == 0,
         "config: n_kv_heads %d does not divide n_heads %d", c->n_kv_heads, c->n_heads);
    NEED(c->head_dim >= 2 && c->head_dim <= 4096 && c->head_dim % 2 == 0,
         "config: head_dim %d must be even, in [2, 4096]", c->head_dim);
    NEED(c->max_seq >= 1, "config: max_seq %d must be >= 1", c->max_seq);
    NEED(c->gate >= TRAIN_GATE_NONE && c->gate <= TRAIN_GATE_ELEMENTWISE,
         "config: unknown gate %d", (int)c->gate);
    NEED(c->rope_theta > 1 && isfinite(c->rope_theta), "config: rope_theta %g must be > 1",
         c->rope_theta);
    NEED(c->norm_eps >= 0 && c->norm_eps < 1, "config: norm_eps %g out of range [0, 1)",
         c->norm_eps);
#undef NEED
    return 0;
}

/* ---- sizes, in one place ---- */

static void train_param_sizes(size_t *s, const train_config *c)
{
    size_t V = c->vocab_size, C = c->dim, F = c->hidden_dim, L = c->n_layers, hd = c->head_dim;
    size_t QR = train_q_rows(c), KVD = (size_t)c->n_kv_heads * hd, HD = (size_t)c->n_heads * hd;
    s[0] = V * C;             /* wte */
    s[1] = L * C;             /* ln1w */
    s[2] = L * QR * C;        /* wq */
    s[3] = L * KVD * C;       /* wk */
    s[4] = L * KVD * C;       /* wv */
    s[5] = L * hd;            /* q_norm */
    s[6] = L * hd;            /* k_norm */
    s[7] = L * C * HD;        /* wo */
    s[8] = L * C;             /* ln2w */
    s[9] = L * F * C;         /* w_gate */
    s[10] = L * F * C;        /* w_up */
    s[11] = L * C * F;        /* w_down */
    s[12] = C;                /* lnfw */
    s[13] = c->tie_embeddings ? 0 : V * C; /* lm_head */
}

size_t train_config_num_params(const train_config *c)
{
    size_t s[TRAIN_NUM_PARAMS], n = 0;
    train_param_sizes(s, c);
    for (int i = 0; i < TRAIN_NUM_PARAMS; i++)
        n += s[i];
    return n;
}

/* Decoupled weight decay applies to these (matrices), not to norm weights. */
static const int param_is_matrix[TRAIN_NUM_PARAMS] = {1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1};

static void train_act_sizes(size_t *s, const train_config *c, int B, int T)
{
    size_t N = (size_t)B * T, V = c->vocab_size, C = c->dim, F = c->hidden_dim, L = c->n_layers;
    size_t H = c->n_heads, KV = c->n_kv_heads, hd = c->head_dim, gw = train_gate_width(c);
    size_t QR = train_q_rows(c);
    s[0] = N * C;                     /* encoded */
    s[1] = L * N * C;                 /* ln1 */
    s[2] = L * N;                     /* ln1_rstd */
    s[3] = L * N * QR;                /* qg */
    s[4] = L * N * H * hd;            /* q_pre */
    s[5] = L * N * H;                 /* q_rstd */
    s[6] = L * N * H * hd;            /* q */
    s[7] = L * N * H * gw;            /* gate_pre */
    s[8] = L * N * KV * hd;           /* k_pre */
    s[9] = L * N * KV;                /* k_rstd */
    s[10] = L * N * KV * hd;          /* k */
    s[11] = L * N * KV * hd;          /* v */
    s[12] = L * B * H * (size_t)T;    /* lse */
    s[13] = L * N * H * hd;           /* atty */
    s[14] = gw ? L * N * H * hd : 0;  /* gated */
    s[15] = L * N * C;                /* attproj */
    s[16] = L * N * C;                /* residual2 */
    s[17] = L * N * C;                /* ln2 */
    s[18] = L * N;                    /* ln2_rstd */
    s[19] = L * N * F;                /* fc_gate */
    s[20] = L * N * F;                /* fc_up */
    s[21] = L * N * F;                /* swiglu */
    s[22] = L * N * C;                /* fcproj */
    s[23] = L * N * C;                /* residual3 */
    s[24] = N * C;                    /* lnf */
    s[25] = N;                        /* lnf_rstd */
    s[26] = N * V;                    /* logits */
    s[27] = N * V;                    /* probs */
    s[28] = N;                        /* losses */
}

static void train_grad_act_sizes(size_t *s, const train_config *c, int B, int T)
{
    size_t N = (size_t)B * T, V = c->vocab_size, C = c->dim, F = c->hidden_dim;
    size_t H = c->n_heads, KV = c->n_kv_heads, hd = c->head_dim, gw = train_gate_width(c);
    s[0] = N * C;              /* dresidual */
    s[1] = N * V;              /* dlogits */
    s[2] = lcx_train_attention_scratch(B, T, (int)KV, (int)hd); /* attn_scratch */
    s[3] = N * C;              /* dln */
    s[4] = N * train_q_rows(c); /* dqg */
    s[5] = N * H * hd;         /* dq_pre */
    s[6] = N * H * hd;         /* dq_normed */
    s[7] = N * H * hd;         /* dq */
    s[8] = N * H * gw;         /* dgate */
    s[9] = N * KV * hd;        /* dk_pre */
    s[10] = N * KV * hd;       /* dk_normed */
    s[11] = N * KV * hd;       /* dk */
    s[12] = N * KV * hd;       /* dv */
    s[13] = N * H * hd;        /* datty */
    s[14] = N * H * hd;        /* dgated */
    s[15] = N * F;             /* dfc_gate */
    s[16] = N * F;             /* dfc_up */
    s[17] = N * F;             /* dswiglu */
}

/* Point each named pointer into one block; a size-0 tensor gets NULL. */
static float *alloc_and_point(float **const *ptrs, const size_t *sizes, int n, size_t *total)
{
    size_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += sizes[i];
    float *mem = calloc(sum ? sum : 1, sizeof(float));
    if (!mem)
        return NULL;
    float *p = mem;
    for (int i = 0; i < n; i++) {
        *ptrs[i] = sizes[i] ? p : NULL;
        p += sizes[i];
    }
    if (total)
        *total = sum;
    return mem;
}

#define PARAM_PTRS(P)                                                                         \
    {&(P)->wte,    &(P)->ln1w,   &(P)->wq,     &(P)->wk,   &(P)->wv,     &(P)->q_norm,        \
     &(P)->k_norm, &(P)->wo,     &(P)->ln2w,   &(P)->w_gate, &(P)->w_up, &(P)->w_down,        \
     &(P)->lnfw,   &(P)->lm_head}

static float *alloc_params(train_params *p, const size_t *sizes, size_t *total)
{
    float **ptrs[TRAIN_NUM_PARAMS] = PARAM_PTRS(p);
    return alloc_and_point(ptrs, sizes, TRAIN_NUM_PARAMS, total);
}

static float *alloc_acts(train_acts *a, const size_t *sizes, size_t *total)
{
    float **ptrs[TRAIN_NUM_ACTS] = {
        &a->encoded, &a->ln1,      &a->ln1_rstd, &a->qg,      &a->q_pre,     &a->q_rstd,
        &a->q,       &a->gate_pre, &a->k_pre,    &a->k_rstd,  &a->k,         &a->v,
        &a->lse,     &a->atty,     &a->gated,    &a->attproj, &a->residual2, &a->ln2,
        &a->ln2_rstd, &a->fc_gate, &a->fc_up,    &a->swiglu,  &a->fcproj,    &a->residual3,
        &a->lnf,     &a->lnf_rstd, &a->logits,   &a->probs,   &a->losses};
    return alloc_and_point(ptrs, sizes, TRAIN_NUM_ACTS, total);
}

static float *alloc_grad_acts(train_grad_acts *g, const size_t *sizes)
{
    float **ptrs[TRAIN_NUM_GRAD_ACTS] = {
        &g->dresidual, &g->dlogits, &g->attn_scratch, &g->dln,   &g->dqg,      &g->dq_pre,
        &g->dq_normed, &g->dq,      &g->dgate,        &g->dk_pre, &g->dk_normed, &g->dk,
        &g->dv,        &g->datty,   &g->dgated,       &g->dfc_gate, &g->dfc_up,  &g->dswiglu};
    return alloc_and_point(ptrs, sizes, TRAIN_NUM_GRAD_ACTS, NULL);
}

/* ---- init ---- */

static float normal(lcx_rng *r, double std)
{
    double u1 = 1.0 - lcx_rng_double(r), u2 = lcx_rng_double(r); /* u1 in (0, 1] */
    return (float)(std * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

static void init_params(train_model *m, uint64_t seed)
{
    const train_config *c = &m->config;
    lcx_rng r;
    lcx_rng_seed(&r, seed);
    float **ptrs[TRAIN_NUM_PARAMS] = PARAM_PTRS(&m->params);
    double proj_std = 0.02 / sqrt(2.0 * c->n_layers);
    for (int i = 0; i < TRAIN_NUM_PARAMS; i++) {
        float *p = *ptrs[i];
        size_t n = m->param_sizes[i];
        if (!param_is_matrix[i]) {
            for (size_t j = 0; j < n; j++)
                p[j] = 1.0f;
            continue;
        }
        double std = (p == m->params.wo || p == m->params.w_down) ? proj_std : 0.02;
        for (size_t j = 0; j < n; j++)
            p[j] = normal(&r, std);
    }
}

void train_model_free(train_model *m)
{
    if (!m)
        return;
    free(m->params_memory);
    free(m->grads_memory);
    free(m->m_memory);
    free(m->v_memory);
    free(m->acts_memory);
    free(m->grad_acts_memory);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m->inputs);
    free(m->targets);
    free(m->weights);
    memset(m, 0, sizeof *m);
}

int train_model_init(train_model *m, const train_config *c, int B, int T, uint64_t seed,
                     lcx_err *err)
{
    memset(m, 0, sizeof *m);
    int rc = train_config_check(c, err);
    if (rc)
        return rc;
    if (B < 1 || T < 1 || (long long)B * T > (1 << 24))
        return lcx_errf(err, LCX_EINPUT, "batch shape [%d, %d] out of range", B, T);
    if (T > c->max_seq)
        return lcx_errf(err, LCX_EINPUT, "sequence length %d exceeds max_seq %d", T, c->max_seq);
    lcx_isa isa;
    if ((rc = lcx_isa_from_env(&isa, err)))
        return rc;
    m->ops = lcx_train_ops_get(isa);
    m->config = *c;
    m->B = B;
    m->T = T;
    size_t N = (size_t)B * T, half = (size_t)c->head_dim / 2;
    train_param_sizes(m->param_sizes, c);
    train_act_sizes(m->act_sizes, c, B, T);
    train_grad_act_sizes(m->grad_act_sizes, c, B, T);
    m->params_memory = alloc_params(&m->params, m->param_sizes, &m->num_params);
    m->grads_memory = alloc_params(&m->grads, m->param_sizes, NULL);
    m->m_memory = alloc_params(&m->m, m->param_sizes, NULL);
    m->v_memory = alloc_params(&m->v, m->param_sizes, NULL);
    m->acts_memory = alloc_acts(&m->acts, m->act_sizes, &m->num_acts);
    m->grad_acts_memory = alloc_grad_acts(&m->grad_acts, m->grad_act_sizes);
    m->rope_cos = malloc(T * half * sizeof(float) + 1);
    m->rope_sin = malloc(T * half * sizeof(float) + 1);
    m->inputs = malloc(N * sizeof(int32_t));
    m->targets = malloc(N * sizeof(int32_t));
    m->weights = malloc(N * sizeof(float));
    if (!m->params_memory || !m->grads_memory || !m->m_memory || !m->v_memory ||
        !m->acts_memory || !m->grad_acts_memory || !m->rope_cos || !m->rope_sin || !m->inputs ||
        !m->targets || !m->weights) {
        /* num_params and num_acts are set only by allocations that succeeded */
        size_t floats = 0;
        for (int i = 0; i < TRAIN_NUM_PARAMS; i++)
            floats += 4 * m->param_sizes[i];
        for (int i = 0; i < TRAIN_NUM_ACTS; i++)
            floats += m->act_sizes[i];
        size_t mib = floats * sizeof(float) >> 20;
        train_model_free(m);
        return lcx_errf(err, LCX_ENOMEM, "out of memory for a model of batch [%d, %d] (about %zu "
                        "MiB)", B, T, mib);
    }
    m->ops->rope_tables(m->rope_cos, m->rope_sin, T, c->head_dim, c->rope_theta);
    init_params(m, seed);
    return 0;
}

/* ---- forward ---- */

int train_forward(train_model *m, const int32_t *tokens, const int32_t *targets,
                  const float *weights, double *loss, lcx_err *err)
{
    const train_config *c = &m->config;
    const lcx_train_ops *O = m->ops; /* this CPU's kernel variant */
    const int B = m->B, T = m->T, N = B * T, C = c->dim, F = c->hidden_dim, V = c->vocab_size;
    const int H = c->n_heads, KV = c->n_kv_heads, hd = c->head_dim, gw = train_gate_width(c);
    const int QR = train_q_rows(c), KVD = KV * hd, HD = H * hd;
    const float eps = (float)c->norm_eps;
    for (int n = 0; n < N; n++) {
        if (tokens[n] < 0 || tokens[n] >= V)
            return lcx_errf(err, LCX_EINPUT, "token id %d at index %d outside the vocabulary "
                            "[0, %d)", tokens[n], n, V);
        if (targets && (targets[n] < 0 || targets[n] >= V))
            return lcx_errf(err, LCX_EINPUT, "target id %d at index %d outside the vocabulary "
                            "[0, %d)", targets[n], n, V);
        if (weights && !(weights[n] >= 0 && isfinite(weights[n])))
            return lcx_errf(err, LCX_EINPUT, "loss weight %g at index %d must be finite and "
                            ">= 0", weights[n], n);
    }
    memcpy(m->inputs, tokens, (size_t)N * sizeof(int32_t));
    m->have_targets = targets != NULL;
    if (targets) {
        memcpy(m->targets, targets, (size_t)N * sizeof(int32_t));
        for (int n = 0; n < N; n++)
            m->weights[n] = weights ? weights[n] : 1.0f;
    }

    const train_params *p = &m->params;
    const train_acts *a = &m->acts;
    O->encoder_forward(a->encoded, m->inputs, p->wte, N, C);
    for (int l = 0; l < c->n_layers; l++) {
        const float *residual = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * N * C;
        /* this layer's parameters */
        const float *l_ln1w = p->ln1w + (size_t)l * C, *l_wq = p->wq + (size_t)l * QR * C;
        const float *l_wk = p->wk + (size_t)l * KVD * C, *l_wv = p->wv + (size_t)l * KVD * C;
        const float *l_qnorm = p->q_norm + (size_t)l * hd, *l_knorm = p->k_norm + (size_t)l * hd;
        const float *l_wo = p->wo + (size_t)l * C * HD, *l_ln2w = p->ln2w + (size_t)l * C;
        const float *l_wgate = p->w_gate + (size_t)l * F * C, *l_wup = p->w_up + (size_t)l * F * C;
        const float *l_wdown = p->w_down + (size_t)l * C * F;
        /* this layer's activations */
        float *l_ln1 = a->ln1 + (size_t)l * N * C, *l_ln1_rstd = a->ln1_rstd + (size_t)l * N;
        float *l_qg = a->qg + (size_t)l * N * QR, *l_q_pre = a->q_pre + (size_t)l * N * HD;
        float *l_q_rstd = a->q_rstd + (size_t)l * N * H, *l_q = a->q + (size_t)l * N * HD;
        float *l_gate_pre = a->gate_pre ? a->gate_pre + (size_t)l * N * H * gw : NULL;
        float *l_k_pre = a->k_pre + (size_t)l * N * KVD, *l_k_rstd = a->k_rstd + (size_t)l * N * KV;
        float *l_k = a->k + (size_t)l * N * KVD, *l_v = a->v + (size_t)l * N * KVD;
        float *l_lse = a->lse + (size_t)l * B * H * T, *l_atty = a->atty + (size_t)l * N * HD;
        float *l_gated = a->gated ? a->gated + (size_t)l * N * HD : NULL;
        float *l_attproj = a->attproj + (size_t)l * N * C;
        float *l_residual2 = a->residual2 + (size_t)l * N * C, *l_ln2 = a->ln2 + (size_t)l * N * C;
        float *l_ln2_rstd = a->ln2_rstd + (size_t)l * N;
        float *l_fc_gate = a->fc_gate + (size_t)l * N * F, *l_fc_up = a->fc_up + (size_t)l * N * F;
        float *l_swiglu = a->swiglu + (size_t)l * N * F, *l_fcproj = a->fcproj + (size_t)l * N * C;
        float *l_residual3 = a->residual3 + (size_t)l * N * C;

        /* attention: rmsnorm, fused q (+gate), k, v */
        O->rmsnorm_forward(l_ln1, l_ln1_rstd, residual, l_ln1w, N, C, eps);
        O->matmul_forward(l_qg, l_ln1, l_wq, N, C, QR);
        O->matmul_forward(l_k_pre, l_ln1, l_wk, N, C, KVD);
        O->matmul_forward(l_v, l_ln1, l_wv, N, C, KVD);
        O->qgate_split_forward(l_q_pre, l_gate_pre, l_qg, N, H, KV, hd, gw);
        /* Qwen3 q/k RMSNorm per head, then RoPE */
        O->head_rmsnorm_forward(l_q, l_q_rstd, l_q_pre, l_qnorm, N, H, hd, eps);
        O->head_rmsnorm_forward(l_k, l_k_rstd, l_k_pre, l_knorm, N, KV, hd, eps);
        O->rope_forward(l_q, l_q, m->rope_cos, m->rope_sin, N, T, H, hd);
        O->rope_forward(l_k, l_k, m->rope_cos, m->rope_sin, N, T, KV, hd);
        O->attention_forward(l_atty, l_lse, m->grad_acts.attn_scratch, l_q, l_k, l_v, B, T, H, KV,
                             hd);
        /* gated attention (G1): out *= sigmoid(gate), before o_proj */
        const float *attn_out = l_atty;
        if (gw) {
            O->gate_forward(l_gated, l_atty, l_gate_pre, N, H, hd, gw);
            attn_out = l_gated;
        }
        O->matmul_forward(l_attproj, attn_out, l_wo, N, HD, C);
        O->residual_forward(l_residual2, residual, l_attproj, (size_t)N * C);

        /* MLP: rmsnorm, down(silu(gate(x)) * up(x)) */
        O->rmsnorm_forward(l_ln2, l_ln2_rstd, l_residual2, l_ln2w, N, C, eps);
        O->matmul_forward(l_fc_gate, l_ln2, l_wgate, N, C, F);
        O->matmul_forward(l_fc_up, l_ln2, l_wup, N, C, F);
        O->swiglu_forward(l_swiglu, l_fc_gate, l_fc_up, (size_t)N * F);
        O->matmul_forward(l_fcproj, l_swiglu, l_wdown, N, F, C);
        O->residual_forward(l_residual3, l_residual2, l_fcproj, (size_t)N * C);
    }
    const float *residual = a->residual3 + (size_t)(c->n_layers - 1) * N * C;
    O->rmsnorm_forward(a->lnf, a->lnf_rstd, residual, p->lnfw, N, C, eps);
    O->matmul_forward(a->logits, a->lnf, c->tie_embeddings ? p->wte : p->lm_head, N, C, V);
    if (targets) {
        m->mean_loss = O->crossentropy_forward(a->losses, a->probs, a->logits, m->targets,
                                            m->weights, N, V);
        if (loss)
            *loss = m->mean_loss;
    }
    return 0;
}

void train_zero_grad(train_model *m)
{
    memset(m->grads_memory, 0, m->num_params * sizeof(float));
}

/* ---- backward ---- */

int train_backward(train_model *m, lcx_err *err)
{
    if (!m->have_targets)
        return lcx_errf(err, LCX_EINTERNAL, "backward without a forward with targets");
    const train_config *c = &m->config;
    const lcx_train_ops *O = m->ops; /* this CPU's kernel variant */
    const int B = m->B, T = m->T, N = B * T, C = c->dim, F = c->hidden_dim, V = c->vocab_size;
    const int H = c->n_heads, KV = c->n_kv_heads, hd = c->head_dim, gw = train_gate_width(c);
    const int QR = train_q_rows(c), KVD = KV * hd, HD = H * hd;
    const train_params *p = &m->params, *g = &m->grads;
    const train_acts *a = &m->acts;
    const train_grad_acts *d = &m->grad_acts;
    size_t layer_floats = 0; /* dln and everything after it */
    for (int i = 3; i < TRAIN_NUM_GRAD_ACTS; i++)
        layer_floats += m->grad_act_sizes[i];
    memset(d->dresidual, 0, m->grad_act_sizes[0] * sizeof(float));
    memset(d->dlogits, 0, m->grad_act_sizes[1] * sizeof(float));
    memset(d->dln, 0, m->grad_act_sizes[3] * sizeof(float)); /* the head's; layers zero the rest */

    /* loss, head, final norm */
    O->crossentropy_backward(d->dlogits, 1.0, a->probs, m->targets, m->weights, N, V);
    const float *residual = a->residual3 + (size_t)(c->n_layers - 1) * N * C;
    O->matmul_backward(d->dln, c->tie_embeddings ? g->wte : g->lm_head, d->dlogits, a->lnf,
                    c->tie_embeddings ? p->wte : p->lm_head, N, C, V);
    O->rmsnorm_backward(d->dresidual, g->lnfw, d->dln, residual, p->lnfw, a->lnf_rstd, N, C);

    for (int l = c->n_layers - 1; l >= 0; l--) {
        residual = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * N * C;
        memset(d->dln, 0, layer_floats * sizeof(float)); /* all per-layer buffers */
        const float *l_ln1w = p->ln1w + (size_t)l * C, *l_wq = p->wq + (size_t)l * QR * C;
        const float *l_wk = p->wk + (size_t)l * KVD * C, *l_wv = p->wv + (size_t)l * KVD * C;
        const float *l_qnorm = p->q_norm + (size_t)l * hd, *l_knorm = p->k_norm + (size_t)l * hd;
        const float *l_wo = p->wo + (size_t)l * C * HD, *l_ln2w = p->ln2w + (size_t)l * C;
        const float *l_wgate = p->w_gate + (size_t)l * F * C, *l_wup = p->w_up + (size_t)l * F * C;
        const float *l_wdown = p->w_down + (size_t)l * C * F;
        float *dl_ln1w = g->ln1w + (size_t)l * C, *dl_wq = g->wq + (size_t)l * QR * C;
        float *dl_wk = g->wk + (size_t)l * KVD * C, *dl_wv = g->wv + (size_t)l * KVD * C;
        float *dl_qnorm = g->q_norm + (size_t)l * hd, *dl_knorm = g->k_norm + (size_t)l * hd;
        float *dl_wo = g->wo + (size_t)l * C * HD, *dl_ln2w = g->ln2w + (size_t)l * C;
        float *dl_wgate = g->w_gate + (size_t)l * F * C, *dl_wup = g->w_up + (size_t)l * F * C;
        float *dl_wdown = g->w_down + (size_t)l * C * F;
        const float *l_ln1 = a->ln1 + (size_t)l * N * C, *l_ln1_rstd = a->ln1_rstd + (size_t)l * N;
        const float *l_q_pre = a->q_pre + (size_t)l * N * HD;
        const float *l_q_rstd = a->q_rstd + (size_t)l * N * H, *l_q = a->q + (size_t)l * N * HD;
        const float *l_gate_pre = a->gate_pre ? a->gate_pre + (size_t)l * N * H * gw : NULL;
        const float *l_k_pre = a->k_pre + (size_t)l * N * KVD;
        const float *l_k_rstd = a->k_rstd + (size_t)l * N * KV;
        const float *l_k = a->k + (size_t)l * N * KVD, *l_v = a->v + (size_t)l * N * KVD;
        const float *l_lse = a->lse + (size_t)l * B * H * T;
        const float *l_atty = a->atty + (size_t)l * N * HD;
        const float *l_gated = a->gated ? a->gated + (size_t)l * N * HD : NULL;
        const float *l_residual2 = a->residual2 + (size_t)l * N * C;
        const float *l_ln2 = a->ln2 + (size_t)l * N * C, *l_ln2_rstd = a->ln2_rstd + (size_t)l * N;
        const float *l_fc_gate = a->fc_gate + (size_t)l * N * F;
        const float *l_fc_up = a->fc_up + (size_t)l * N * F;
        const float *l_swiglu = a->swiglu + (size_t)l * N * F;

        /* dresidual holds d(layer output). The residual adds pass it through
         * unchanged to both branches, so the norms' backwards add into it. */
        O->matmul_backward(d->dswiglu, dl_wdown, d->dresidual, l_swiglu, l_wdown, N, F, C);
        O->swiglu_backward(d->dfc_gate, d->dfc_up, d->dswiglu, l_fc_gate, l_fc_up, (size_t)N * F);
        O->matmul_backward(d->dln, dl_wgate, d->dfc_gate, l_ln2, l_wgate, N, C, F);
        O->matmul_backward(d->dln, dl_wup, d->dfc_up, l_ln2, l_wup, N, C, F);
        O->rmsnorm_backward(d->dresidual, dl_ln2w, d->dln, l_residual2, l_ln2w, l_ln2_rstd, N, C);

        /* now d(residual2): o_proj, gate, attention */
        float *d_attn_out = gw ? d->dgated : d->datty;
        O->matmul_backward(d_attn_out, dl_wo, d->dresidual, gw ? l_gated : l_atty, l_wo, N, HD, C);
        if (gw)
            O->gate_backward(d->datty, d->dgate, d->dgated, l_atty, l_gate_pre, N, H, hd, gw);
        O->attention_backward(d->dq, d->dk, d->dv, d->attn_scratch, d->datty, l_q, l_k, l_v, l_lse, B,
                              T, H, KV, hd);
        O->rope_backward(d->dq_normed, d->dq, m->rope_cos, m->rope_sin, N, T, H, hd);
        O->rope_backward(d->dk_normed, d->dk, m->rope_cos, m->rope_sin, N, T, KV, hd);
        O->head_rmsnorm_backward(d->dq_pre, dl_qnorm, d->dq_normed, l_q_pre, l_qnorm, l_q_rstd, N, H,
                              hd);
        O->head_rmsnorm_backward(d->dk_pre, dl_knorm, d->dk_normed, l_k_pre, l_knorm, l_k_rstd, N, KV,
                              hd);
        O->qgate_split_backward(d->dqg, d->dq_pre, d->dgate, N, H, KV, hd, gw);
        memset(d->dln, 0, (size_t)N * C * sizeof(float));
        O->matmul_backward(d->dln, dl_wq, d->dqg, l_ln1, l_wq, N, C, QR);
        O->matmul_backward(d->dln, dl_wk, d->dk_pre, l_ln1, l_wk, N, C, KVD);
        O->matmul_backward(d->dln, dl_wv, d->dv, l_ln1, l_wv, N, C, KVD);
        O->rmsnorm_backward(d->dresidual, dl_ln1w, d->dln, residual, l_ln1w, l_ln1_rstd, N, C);
    }
    O->encoder_backward(g->wte, d->dresidual, m->inputs, N, C);
    return 0;
}

/* ---- AdamW ---- */

train_optim train_optim_default(void)
{
    train_optim o = {.lr = 1e-3, .min_lr = 1e-4, .warmup_steps = 100, .total_steps = 1000,
                     .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1,
                     .grad_clip = 1.0};
    return o;
}

double train_lr(const train_optim *o, long step)
{
    if (step < o->warmup_steps)
        return o->lr * (double)(step + 1) / (double)o->warmup_steps;
    if (step >= o->total_steps || o->total_steps <= o->warmup_steps)
        return o->min_lr;
    double ratio = (double)(step - o->warmup_steps) / (double)(o->total_steps - o->warmup_steps);
    return o->min_lr + 0.5 * (1.0 + cos(M_PI * ratio)) * (o->lr - o->min_lr);
}

void train_adamw_update(train_model *m, const train_optim *o, long step, double *grad_norm)
{
    double ss = 0;
    for (size_t i = 0; i < m->num_params; i++) /* serial: a fixed order */
        ss += (double)m->grads_memory[i] * m->grads_memory[i];
    double norm = sqrt(ss);
    if (grad_norm)
        *grad_norm = norm;
    double clip = o->grad_clip > 0 && norm > o->grad_clip ? o->grad_clip / norm : 1.0;
    double lr = train_lr(o, step);
    double bc1 = 1.0 - pow(o->beta1, (double)(step + 1)), bc2 = 1.0 - pow(o->beta2, (double)(step + 1));
    float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps, flr = (float)lr;
    float fclip = (float)clip, fbc1 = (float)bc1, fbc2 = (float)bc2;
    size_t off = 0;
    for (int t = 0; t < TRAIN_NUM_PARAMS; t++) {
        float wd = param_is_matrix[t] ? (float)o->weight_decay : 0.0f;
        size_t n = m->param_sizes[t];
        float *p = m->params_memory + off, *g = m->grads_memory + off;
        float *mm = m->m_memory + off, *vv = m->v_memory + off;
#pragma omp parallel for schedule(static) if (n > (1u << 16))
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] * fclip;
            mm[i] = b1 * mm[i] + (1 - b1) * gi;
            vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
            float mhat = mm[i] / fbc1, vhat = vv[i] / fbc2;
            p[i] -= flr * (mhat / (sqrtf(vhat) + eps) + wd * p[i]);
        }
        off += n;
    }
}

/* ---- tensors for export ---- */

static void add_tensor(train_tensor *out, int max, int *count, const char *name, int rows,
                       int cols, const float *data)
{
    if (*count < max) {
        train_tensor *t = &out[*count];
        snprintf(t->name, sizeof t->name, "%s", name);
        t->ndim = cols ? 2 : 1;
        t->shape[0] = rows;
        t->shape[1] = cols;
        t->data = data;
    }
    (*count)++;
}

int train_model_tensors(const train_model *m, train_tensor *out, int max)
{
    const train_config *c = &m->config;
    const train_params *p = &m->params;
    int n = 0, C = c->dim, F = c->hidden_dim, hd = c->head_dim, QR = train_q_rows(c);
    int KVD = c->n_kv_heads * hd, HD = c->n_heads * hd;
    char name[96];
    add_tensor(out, max, &n, "model.embed_tokens.weight", c->vocab_size, C, p->wte);
    for (int l = 0; l < c->n_layers; l++) {
#define LAYER(suffix, rows, cols, ptr)                                                        \
    do {                                                                                      \
        snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix);                         \
        add_tensor(out, max, &n, name, rows, cols, ptr);                                      \
    } while (0)
        LAYER("input_layernorm.weight", C, 0, p->ln1w + (size_t)l * C);
        LAYER("self_attn.q_proj.weight", QR, C, p->wq + (size_t)l * QR * C);
        LAYER("self_attn.k_proj.weight", KVD, C, p->wk + (size_t)l * KVD * C);
        LAYER("self_attn.v_proj.weight", KVD, C, p->wv + (size_t)l * KVD * C);
        LAYER("self_attn.q_norm.weight", hd, 0, p->q_norm + (size_t)l * hd);
        LAYER("self_attn.k_norm.weight", hd, 0, p->k_norm + (size_t)l * hd);
        LAYER("self_attn.o_proj.weight", C, HD, p->wo + (size_t)l * C * HD);
        LAYER("post_attention_layernorm.weight", C, 0, p->ln2w + (size_t)l * C);
        LAYER("mlp.gate_proj.weight", F, C, p->w_gate + (size_t)l * F * C);
        LAYER("mlp.up_proj.weight", F, C, p->w_up + (size_t)l * F * C);
        LAYER("mlp.down_proj.weight", C, F, p->w_down + (size_t)l * C * F);
#undef LAYER
    }
    add_tensor(out, max, &n, "model.norm.weight", C, 0, p->lnfw);
    if (!c->tie_embeddings)
        add_tensor(out, max, &n, "lm_head.weight", c->vocab_size, C, p->lm_head);
    return n;
}
