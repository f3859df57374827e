/* forward.c: sessions (KV cache + activations) and the forward pass, in the
 * order of the math. Chunked prefill: each chunk of up to C tokens goes
 * through every layer; attention reads the KV cache with the tiled
 * attention kernel. The kernels (K->matmul, ...) are the model's variant. */
#include "model_internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Bytes allocated for an activation buffer of n floats: whole 64-byte
 * lines and one spare line. */
static size_t float_buffer_bytes(size_t n)
{
    return (n * sizeof(float) + 63) / 64 * 64 + 64;
}

/* The RoPE tables' inputs for p; on error nothing changes. The rotary
 * dimension is the model's whatever the scaling (scaling never changes it). */
static int set_rope(lcx_session *s, const lcx_rope_params *p, lcx_err *err)
{
    if (lcx_rope_rot_dim(p) != s->rot_dim)
        return lcx_errf(err, LCX_EINPUT, "rope: rotary dimension %d differs from the model's %d",
                        lcx_rope_rot_dim(p), s->rot_dim);
    double mag;
    int rc = lcx_rope_table(p, s->max_seq, s->inv_freq_next, &mag, err);
    if (rc)
        return rc;
    double *t = s->inv_freq;
    s->inv_freq = s->inv_freq_next;
    s->inv_freq_next = t;
    s->magnitude = mag;
    s->rope = *p;
    double temp = p->temperature > 0 ? p->temperature : 1.0;
    s->q_scale = (float)(1.0 / sqrt((double)s->model->config.head_dim) / temp);
    return 0;
}

int lcx_session_set_rope(lcx_session *s, const lcx_rope_params *rope, lcx_err *err)
{
    int rc = set_rope(s, rope, err);
    if (!rc)
        s->pos = 0;
    return rc;
}

const lcx_rope_params *lcx_session_rope(const lcx_session *s)
{
    return &s->rope;
}

int lcx_kv_dtype_parse(const char *name, lcx_dtype *out)
{
    static const struct {
        const char *name;
        lcx_dtype dt;
    } names[] = {{"f32", LCX_DT_F32}, {"bf16", LCX_DT_BF16}, {"f16", LCX_DT_F16}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) {
            *out = names[i].dt;
            return 0;
        }
    return LCX_EINPUT;
}

const char *lcx_kv_dtype_name(lcx_dtype dt)
{
    switch (dt) {
    case LCX_DT_F32: return "f32";
    case LCX_DT_BF16: return "bf16";
    case LCX_DT_F16: return "f16";
    default: return "?";
    }
}

/* The activation buffers of a session, in the order of RunState. */
enum { ACT_X, ACT_XB, ACT_XB2, ACT_QG, ACT_Q, ACT_GATE, ACT_K, ACT_V, ACT_ATT, ACT_HB, ACT_HB2,
       ACT_LOGITS, ACT_COS, ACT_SIN, ACT_SINK, ACT_ENT, N_ACT };

/* Where each activation buffer goes. */
static void act_slots(RunState *st, float **slots[N_ACT])
{
    float **p[N_ACT] = {&st->x,    &st->xb,     &st->xb2,    &st->qg,       &st->q,
                        &st->gate, &st->k,      &st->v,      &st->att,      &st->hb,
                        &st->hb2,  &st->logits, &st->rope_cos, &st->rope_sin, &st->sink,
                        &st->ent};
    memcpy(slots, p, sizeof p);
}

/* A session's shape, from its options: everything lcx_session_new_opts
 * allocates is sized here, so lcx_session_mem_estimate cannot disagree. */
typedef struct session_plan {
    int chunk, kv_blocks, rot_dim, n_threads;
    lcx_dtype kv_dtype;
    size_t act_floats[N_ACT]; /* floats of each activation buffer */
    size_t cache_elems;       /* elements of the key cache (and of the value cache) */
    lcx_session_mem mem;
} session_plan;

static int plan_session(const lcx_model *m, int max_seq, const lcx_session_opts *o,
                        session_plan *pl, lcx_err *err)
{
    const lcx_config *c = &m->config;
    static const lcx_session_opts defaults = {0};
    if (!o)
        o = &defaults;
    memset(pl, 0, sizeof *pl);
    if (max_seq <= 0 || max_seq > (1 << 28))
        return lcx_errf(err, LCX_EINPUT, "session length %d out of range", max_seq);
    if (o->kv_dtype != LCX_DT_F32 && o->kv_dtype != LCX_DT_BF16 && o->kv_dtype != LCX_DT_F16)
        return lcx_errf(err, LCX_EINPUT, "KV cache dtype %d is not f32, bf16 or f16",
                        (int)o->kv_dtype);
    int chunk = o->chunk > 0 ? o->chunk : 256;
    pl->chunk = chunk > max_seq ? max_seq : chunk;
    pl->kv_blocks = (max_seq + LCX_AT_KT - 1) / LCX_AT_KT * (LCX_AT_KT / LCX_KBLOCK);
    pl->rot_dim = lcx_rope_rot_dim(&c->rope);
    pl->n_threads = omp_get_max_threads();
    pl->kv_dtype = o->kv_dtype;
    size_t C = (size_t)pl->chunk, hdp = (size_t)lcx_hd_pad(c->head_dim);
    size_t kvd = (size_t)c->n_kv_heads * c->head_dim;
    size_t *n = pl->act_floats;
    n[ACT_X] = n[ACT_XB] = n[ACT_XB2] = C * c->dim;
    n[ACT_QG] = C * lcx_config_q_rows(c);
    n[ACT_Q] = C * c->n_heads * hdp;
    n[ACT_GATE] = n[ACT_ATT] = C * c->n_heads * c->head_dim;
    n[ACT_K] = n[ACT_V] = C * kvd;
    n[ACT_HB] = n[ACT_HB2] = C * c->hidden_dim;
    n[ACT_LOGITS] = C * c->vocab_size;
    n[ACT_COS] = n[ACT_SIN] = C * (pl->rot_dim / 2);
    n[ACT_SINK] = n[ACT_ENT] = C * c->n_heads;
    pl->cache_elems = (size_t)c->n_layers * c->n_kv_heads * pl->kv_blocks * LCX_KBLOCK * hdp;
    size_t elsize = pl->kv_dtype == LCX_DT_F32 ? sizeof(float) : sizeof(uint16_t);
    pl->mem.weights = m->weight_bytes;
    pl->mem.kv_cache = 2 * pl->cache_elems * elsize;
    for (int i = 0; i < N_ACT; i++)
        pl->mem.activations += float_buffer_bytes(n[i]);
    pl->mem.activations += 2 * sizeof(double) * (size_t)(pl->rot_dim / 2 + 1) +
                           lcx_kscratch_bytes(pl->n_threads, c->head_dim,
                                              c->n_heads / c->n_kv_heads);
    return 0;
}

int lcx_session_mem_estimate(const lcx_model *m, int max_seq, const lcx_session_opts *o,
                             lcx_session_mem *out, lcx_err *err)
{
    session_plan pl;
    int rc = plan_session(m, max_seq, o, &pl, err);
    *out = rc ? (lcx_session_mem){0} : pl.mem;
    return rc;
}

int lcx_session_new(const lcx_model *m, int max_seq, int chunk, const lcx_rope_params *rope,
                    lcx_session **out, lcx_err *err)
{
    lcx_session_opts o = {.chunk = chunk, .rope = rope, .kv_dtype = LCX_DT_F32};
    return lcx_session_new_opts(m, max_seq, &o, out, err);
}

int lcx_session_new_opts(const lcx_model *m, int max_seq, const lcx_session_opts *o,
                         lcx_session **out, lcx_err *err)
{
    *out = NULL;
    const lcx_config *c = &m->config;
    session_plan pl;
    int rc = plan_session(m, max_seq, o, &pl, err);
    if (rc)
        return rc;
    lcx_session *s = calloc(1, sizeof *s);
    if (!s)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    s->model = m;
    s->chunk = pl.chunk;
    s->max_seq = max_seq;
    s->kv_blocks = pl.kv_blocks;
    s->kv_dtype = pl.kv_dtype;
    s->mem = pl.mem;
    s->rot_dim = pl.rot_dim;
    s->inv_freq = malloc(sizeof(double) * (size_t)(s->rot_dim / 2 + 1));
    s->inv_freq_next = malloc(sizeof(double) * (size_t)(s->rot_dim / 2 + 1));
    if (!s->inv_freq || !s->inv_freq_next) {
        lcx_session_free(s);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    rc = set_rope(s, o && o->rope ? o->rope : &c->rope, err);
    if (rc) {
        lcx_session_free(s);
        return rc;
    }

    RunState *st = &s->state;
    float **slots[N_ACT];
    act_slots(st, slots);
    int missing = 0;
    for (int i = 0; i < N_ACT; i++) {
        *slots[i] = aligned_alloc(64, float_buffer_bytes(pl.act_floats[i]));
        missing |= !*slots[i];
    }
    size_t elsize = pl.kv_dtype == LCX_DT_F32 ? sizeof(float) : sizeof(uint16_t);
    st->key_cache = calloc(pl.cache_elems, elsize);   /* zero is 0.0 in all three */
    st->value_cache = calloc(pl.cache_elems, elsize);
    if (missing || !st->key_cache || !st->value_cache) {
        lcx_session_free(s);
        return lcx_errf(err, LCX_ENOMEM, "out of memory for a %d-position session (KV cache %zu "
                        "MiB, %s)", max_seq, pl.mem.kv_cache >> 20, lcx_kv_dtype_name(pl.kv_dtype));
    }
    rc = lcx_kscratch_init(&st->scratch, pl.n_threads, c->head_dim, c->n_heads / c->n_kv_heads,
                           err);
    if (rc) {
        lcx_session_free(s);
        return rc;
    }
    memset(st->q, 0, pl.act_floats[ACT_Q] * sizeof(float)); /* pad dims stay 0 */
    *out = s;
    return 0;
}

void lcx_session_free(lcx_session *s)
{
    if (!s)
        return;
    RunState *st = &s->state;
    float **slots[N_ACT];
    act_slots(st, slots);
    for (int i = 0; i < N_ACT; i++)
        free(*slots[i]);
    free(st->key_cache);
    free(st->value_cache);
    lcx_kscratch_free(&st->scratch);
    free(s->inv_freq);
    free(s->inv_freq_next);
    free(s);
}

int lcx_session_pos(const lcx_session *s)
{
    return s->pos;
}

int lcx_session_chunk(const lcx_session *s)
{
    return s->chunk;
}

void lcx_session_rewind(lcx_session *s, int pos)
{
    if (pos >= 0 && pos < s->pos)
        s->pos = pos;
}

size_t lcx_session_kv_bytes(const lcx_session *s)
{
    return s->mem.kv_cache;
}

lcx_dtype lcx_session_kv_dtype(const lcx_session *s)
{
    return s->kv_dtype;
}

lcx_session_mem lcx_session_memory(const lcx_session *s)
{
    return s->mem;
}

/* ---- small ops of the forward pass ---- */

/* cos/sin [n][rot_dim/2] for positions pos0.., times the magnitude factor.
 * Angles in double (pos * inv_freq), then rounded to float. */
static void rope_tables(lcx_session *s, int pos0, int n)
{
    int half = s->rot_dim / 2;
    for (int t = 0; t < n; t++)
        for (int i = 0; i < half; i++) {
            double a = (double)(pos0 + t) * s->inv_freq[i];
            s->state.rope_cos[(size_t)t * half + i] = (float)(cos(a) * s->magnitude);
            s->state.rope_sin[(size_t)t * half + i] = (float)(sin(a) * s->magnitude);
        }
}

/* Split q_proj output qg[n][q_rows] into queries q[n][H][hd_pad] and gate
 * logits gate[n][H][gw] (gw = 1 headwise, hd elementwise) by layout
 * (docs/model.md, "Gate layouts"). */
static void split_query_gate(float *q, float *gate, const float *qg, int n, const lcx_config *c)
{
    int H = c->n_heads, KV = c->n_kv_heads, G = H / KV, hd = c->head_dim, hdp = lcx_hd_pad(hd);
    int q_rows = lcx_config_q_rows(c);
    int gw = c->gate == LCX_GATE_HEADWISE ? 1 : hd;
    for (int t = 0; t < n; t++) {
        const float *src = qg + (size_t)t * q_rows;
        for (int h = 0; h < H; h++) {
            const float *qs, *gs = NULL;
            switch (c->gate) {
            case LCX_GATE_NONE:
                qs = src + (size_t)h * hd;
                break;
            case LCX_GATE_INTERLEAVED: /* [query h | gate h] per head */
                qs = src + (size_t)h * 2 * hd;
                gs = qs + hd;
                break;
            default: { /* per KV group: [queries of G heads | gates of G heads] */
                int g = h / G, i = h % G;
                const float *grp = src + (size_t)g * (G * hd + G * gw);
                qs = grp + (size_t)i * hd;
                gs = grp + (size_t)G * hd + (size_t)i * gw;
            }
            }
            memcpy(q + ((size_t)t * H + h) * hdp, qs, (size_t)hd * sizeof(float));
            if (gs)
                memcpy(gate + ((size_t)t * H + h) * gw, gs, (size_t)gw * sizeof(float));
        }
    }
}

/* Below this many elements an element-wise loop here runs on one thread. */
#define ELT_PAR (1u << 15)

/* x[i] += y[i]: the residual stream. */
static void residual_add(float *x, const float *y, size_t n, int n_threads)
{
#pragma omp parallel for schedule(static) num_threads(n_threads) if (n >= ELT_PAR)
    for (size_t i = 0; i < n; i++)
        x[i] += y[i];
}

/* Store k, v [n][KV][hd] of positions pos0.. in the layer's caches, as
 * F32 or rounded to BF16 / F16 (the same scalar rounding in every kernel
 * variant, so a cache's contents never depend on the variant). */
static void kv_cache_store(lcx_session *s, int layer, const float *k, const float *v, int pos0,
                           int n)
{
    const lcx_config *c = &s->model->config;
    int KV = c->n_kv_heads, hd = c->head_dim, hdp = lcx_hd_pad(hd);
    size_t head_elems = (size_t)s->kv_blocks * LCX_KBLOCK * hdp;
    size_t layer_off = (size_t)layer * KV * head_elems;
    lcx_dtype dt = s->kv_dtype;
    /* each position's entries are its own: the tokens split over threads */
#pragma omp parallel for schedule(static) num_threads(s->state.scratch.n_threads) \
    if ((size_t)n * KV * hd >= ELT_PAR)
    for (int t = 0; t < n; t++) {
        int pos = pos0 + t, blk = pos / LCX_KBLOCK, off = pos % LCX_KBLOCK;
        for (int g = 0; g < KV; g++) {
            const float *ks = k + ((size_t)t * KV + g) * hd, *vs = v + ((size_t)t * KV + g) * hd;
            size_t kb = layer_off + g * head_elems + (size_t)blk * hdp * LCX_KBLOCK + off;
            size_t vb = layer_off + g * head_elems + (size_t)pos * hdp;
            if (dt == LCX_DT_F32) {
                float *kc = s->state.key_cache, *vc = s->state.value_cache;
                for (int d = 0; d < hd; d++)
                    kc[kb + (size_t)d * LCX_KBLOCK] = ks[d];
                memcpy(vc + vb, vs, (size_t)hd * sizeof(float));
            } else {
                uint16_t *kc = s->state.key_cache, *vc = s->state.value_cache;
                uint16_t (*to16)(float) = dt == LCX_DT_BF16 ? lcx_f32_to_bf16 : lcx_f32_to_f16;
                for (int d = 0; d < hd; d++) {
                    kc[kb + (size_t)d * LCX_KBLOCK] = to16(ks[d]);
                    vc[vb + d] = to16(vs[d]);
                }
            }
        }
    }
}

/* (query, key) pairs a chunk of n queries at pos0.. attends to. */
static double attention_pairs(int pos0, int n, int window)
{
    double pairs = 0;
    for (int t = 0; t < n; t++) {
        int keys = pos0 + t + 1;
        pairs += window > 0 && keys > window ? window : keys;
    }
    return pairs;
}

lcx_session_stats lcx_session_get_stats(const lcx_session *s)
{
    return s->stats;
}

/* ---- the probe's attention statistics ---- */

double lcx_softmax_entropy(const float *scores, int n)
{
    float m = -INFINITY;
    for (int j = 0; j < n; j++)
        m = scores[j] > m ? scores[j] : m;
    if (m == -INFINITY)
        return 0;
    double z = 0, zs = 0;
    for (int j = 0; j < n; j++) {
        if (scores[j] == -INFINITY)
            continue;
        float d = scores[j] - m;
        double e = expf(d);
        z += e;
        zs += e * d;
    }
    double h = log(z) - zs / z;
    return h > 0 ? h : 0; /* one key: ln 1 - 0, rounding never below 0 */
}

/* Layer l's attention entropy for the chunk's queries at positions >=
 * from_pos, from the attention kernel's per-query entropies (accumulated
 * with its online softmax): per head, in position order, so the sums do
 * not depend on the thread count. */
static void probe_entropy(const lcx_session *s, int n, int pos0, lcx_probe_layer *pl, int from_pos)
{
    const lcx_config *p = &s->model->config;
    const int window = p->sliding_window;
    for (int h = 0; h < p->n_heads; h++) {
        double ent = 0, ent_norm = 0;
        long count = 0;
        for (int t = 0; t < n; t++) {
            int pos = pos0 + t;
            if (pos < from_pos)
                continue;
            int lo = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0, keys = pos - lo + 1;
            double e = s->state.ent[(size_t)h * n + t];
            ent += e;
            ent_norm += keys > 1 ? e / log((double)keys) : 0;
            count++;
        }
        pl->entropy_sum += ent;
        pl->entropy_norm_sum += ent_norm;
        pl->entropy_count += count;
    }
}

/* ---- the forward pass ---- */

/* Tokens [n] at positions pos0 .. pos0+n-1. Logits: none (want 0), the last
 * row (want 1) or every row (want 2), into state.logits. */
static void forward(lcx_session *s, const int32_t *tokens, int n, int pos0, int want,
                    lcx_probe *probe)
{
    const lcx_model *m = s->model;
    const lcx_config *p = &m->config;
    const Weights *w = &m->weights;
    RunState *st = &s->state;
    const int dim = p->dim, hd = p->head_dim, hdp = lcx_hd_pad(hd), H = p->n_heads;
    const int KV = p->n_kv_heads, hidden = p->hidden_dim;
    const int gw = p->gate == LCX_GATE_HEADWISE ? 1 : hd;
    const float eps = (float)p->norm_eps;
    const size_t elsize = s->kv_dtype == LCX_DT_F32 ? sizeof(float) : sizeof(uint16_t);
    const size_t layer_bytes = (size_t)KV * s->kv_blocks * LCX_KBLOCK * hdp * elsize;
    const lcx_kernels *K = m->kern; /* this CPU's kernel variant */
    const lcx_kscratch *ks = &st->scratch;

    /* token embeddings */
    for (int t = 0; t < n; t++)
        lcx_weight_row_f32(st->x + (size_t)t * dim, &w->token_embedding, tokens[t]);
    rope_tables(s, pos0, n);

    for (int l = 0; l < p->n_layers; l++) {
        const LayerWeights *lw = &w->layers[l];

        /* attention: rmsnorm, q (+gate) k v projections */
        K->rmsnorm(st->xb, st->x, lw->rms_att, n, dim, eps);
        K->matmul(st->qg, st->xb, &lw->wq, lw->bq, n, ks);
        K->matmul(st->k, st->xb, &lw->wk, lw->bk, n, ks);
        K->matmul(st->v, st->xb, &lw->wv, lw->bv, n, ks);
        split_query_gate(st->q, st->gate, st->qg, n, p);

        /* Qwen3 q/k RMSNorm per head, then RoPE */
        if (lw->q_norm) {
            if (hdp == hd) /* query heads are contiguous rows */
                K->rmsnorm(st->q, st->q, lw->q_norm, n * H, hd, eps);
            else
                for (int t = 0; t < n; t++)
                    for (int h = 0; h < H; h++) {
                        float *qh = st->q + ((size_t)t * H + h) * hdp;
                        K->rmsnorm(qh, qh, lw->q_norm, 1, hd, eps);
                    }
            K->rmsnorm(st->k, st->k, lw->k_norm, n * KV, hd, eps);
        }
        K->rope_apply(st->q, st->rope_cos, st->rope_sin, n, H, hdp, s->rot_dim);
        K->rope_apply(st->k, st->rope_cos, st->rope_sin, n, KV, hd, s->rot_dim);
        const size_t nq = (size_t)n * H * hdp;
        if (s->rope.llama4_beta == 0) {
#pragma omp parallel for schedule(static) num_threads(ks->n_threads) if (nq >= ELT_PAR)
            for (size_t i = 0; i < nq; i++)
                st->q[i] *= s->q_scale; /* 1/sqrt(head_dim) / temperature */
        } else {
            /* Llama-4 / Ministral-3: times 1 + beta ln(1 + floor(pos / L)) */
            const size_t per_token = (size_t)H * hdp;
#pragma omp parallel for schedule(static) num_threads(ks->n_threads) if (nq >= ELT_PAR)
            for (int t = 0; t < n; t++) {
                float f = (float)(s->q_scale * lcx_rope_query_scale(&s->rope, (long)pos0 + t));
                float *qt = st->q + (size_t)t * per_token;
                for (size_t i = 0; i < per_token; i++)
                    qt[i] *= f;
            }
        }
        kv_cache_store(s, l, st->k, st->v, pos0, n);

        /* causal attention over the cache, tiled with an online softmax */
        double t_attn = omp_get_wtime();
        K->attention(st->att, st->q, (const char *)st->key_cache + l * layer_bytes,
                     (const char *)st->value_cache + l * layer_bytes, s->kv_dtype, n, pos0, H, KV,
                     hd, s->kv_blocks, p->sliding_window, probe ? st->sink : NULL,
                     probe ? st->ent : NULL, &st->scratch);
        s->stats.attn_seconds += omp_get_wtime() - t_attn;
        s->stats.attn_flops += 4.0 * hd * H * attention_pairs(pos0, n, p->sliding_window);

        /* gated attention (G1): out *= sigmoid(gate), before o_proj
         * (docs/model.md, "Gated attention") */
        if (p->gate != LCX_GATE_NONE) {
            K->sigmoid(st->gate, (size_t)n * H * gw, ks);
#pragma omp parallel for schedule(static) num_threads(ks->n_threads) if ((size_t)n * H * hd >= ELT_PAR)
            for (int th = 0; th < n * H; th++) /* token t, head h: th = t * H + h */
                for (int i = 0; i < hd; i++)
                    st->att[(size_t)th * hd + i] *= st->gate[(size_t)th * gw + (gw == 1 ? 0 : i)];
        }

        /* output projection and residual */
        K->matmul(st->xb2, st->att, &lw->wo, lw->bo, n, ks);
        residual_add(st->x, st->xb2, (size_t)n * dim, ks->n_threads);

        /* FFN: rmsnorm, down(silu(gate(x)) * up(x)), residual */
        K->rmsnorm(st->xb, st->x, lw->rms_ffn, n, dim, eps);
        K->matmul(st->hb, st->xb, &lw->w1, NULL, n, ks);
        K->matmul(st->hb2, st->xb, &lw->w3, NULL, n, ks);
        K->silu_mul(st->hb, st->hb2, (size_t)n * hidden, ks);
        K->matmul(st->xb2, st->hb, &lw->w2, NULL, n, ks);
        residual_add(st->x, st->xb2, (size_t)n * dim, ks->n_threads);

        if (probe && l < probe->n_layers) {
            lcx_probe_layer *pl = &probe->layers[l];
            for (size_t i = 0; i < (size_t)n * dim; i++)
                if (fabsf(st->x[i]) > pl->max_abs_hidden)
                    pl->max_abs_hidden = fabsf(st->x[i]);
            for (int h = 0; h < H; h++)
                for (int t = 0; t < n; t++) {
                    pl->head_first_sum[h] += st->sink[(size_t)h * n + t];
                    if (pos0 + t >= probe->from_pos) {
                        pl->sink_sum += st->sink[(size_t)h * n + t];
                        pl->sink_count++;
                    }
                }
            pl->head_first_count += n;
            probe_entropy(s, n, pos0, pl, probe->from_pos);
            if (p->gate != LCX_GATE_NONE)
                for (size_t i = 0; i < (size_t)n * H * gw; i++) {
                    pl->gate_sum += st->gate[i];
                    pl->gate_low += st->gate[i] < 0.1f;
                    pl->gate_count++;
                }
        }
    }

    /* final norm and classifier, only where logits are wanted */
    if (want == 0)
        return;
    int first = want == 1 ? n - 1 : 0, rows = n - first;
    K->rmsnorm(st->xb, st->x + (size_t)first * dim, w->rms_final, rows, dim, eps);
    K->matmul(st->logits, st->xb, &w->lm_head, NULL, rows, ks);
}

int lcx_session_eval(lcx_session *s, const int32_t *tokens, int n, float *last_logits,
                     lcx_logits_fn all_fn, void *all_ctx, lcx_probe *probe, lcx_err *err)
{
    const lcx_config *c = &s->model->config;
    if (n <= 0)
        return 0;
    if (s->pos + n > s->max_seq)
        return lcx_errf(err, LCX_EINPUT, "sequence of %d positions exceeds the session's %d",
                        s->pos + n, s->max_seq);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
            return lcx_errf(err, LCX_EINPUT, "token id %d at index %d outside the vocabulary "
                            "[0, %d)", tokens[i], i, c->vocab_size);
    if (probe && c->n_heads > LCX_PROBE_MAX_HEADS)
        return lcx_errf(err, LCX_EINPUT, "probe: %d query heads, at most %d can be probed",
                        c->n_heads, LCX_PROBE_MAX_HEADS);
    double t0 = omp_get_wtime();
    for (int done = 0; done < n;) {
        int len = n - done < s->chunk ? n - done : s->chunk;
        int is_last = done + len == n;
        int want = all_fn ? 2 : (is_last && last_logits) ? 1 : 0;
        forward(s, tokens + done, len, s->pos, want, probe);
        if (all_fn) {
            int rc = all_fn(all_ctx, s->pos, len, s->state.logits, err);
            if (rc)
                return rc;
        }
        if (is_last && last_logits)
            memcpy(last_logits,
                   s->state.logits + (want == 2 ? (size_t)(len - 1) * c->vocab_size : 0),
                   (size_t)c->vocab_size * sizeof(float));
        s->pos += len;
        done += len;
    }
    s->stats.total_seconds += omp_get_wtime() - t0;
    return 0;
}
