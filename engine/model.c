/* model.c: load a Hugging Face model directory (see model.h; files and
 * tensor names: docs/model.md, "Model directories" and "Tensor names"). */
#include "model_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/strbuf.h"

/* What the loader is working with. */
typedef struct loader {
    lcx_model *m;
    json_t *weight_map; /* from model.safetensors.index.json, or NULL */
    const char *index_path;
    size_t small_used, small_cap; /* floats of weights.small handed out */
} loader;

static char *path_join(const char *dir, const char *name)
{
    strbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "%s/%s", dir, name);
    if (sb.oom) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Open the shard named `file` (once). */
static int open_shard(loader *L, const char *file, lcx_st_file **out, lcx_err *err)
{
    lcx_model *m = L->m;
    char *path = path_join(m->dir, file);
    if (!path)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_files; i++)
        if (!strcmp(m->files[i].path, path)) {
            free(path);
            *out = &m->files[i];
            return 0;
        }
    lcx_st_file *nf = realloc(m->files, (m->n_files + 1) * sizeof *nf);
    if (!nf) {
        free(path);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    m->files = nf;
    int rc = lcx_st_open(path, &m->files[m->n_files], err);
    free(path);
    if (rc)
        return rc;
    *out = &m->files[m->n_files++];
    return 0;
}

static int find_tensor(loader *L, const char *name, const lcx_st_file **file,
                       const lcx_st_tensor **t, lcx_err *err)
{
    lcx_st_file *f;
    int rc;
    if (L->weight_map) {
        json_t *v = json_object_get(L->weight_map, name);
        if (!v)
            return lcx_errf(err, LCX_EINPUT, "%s: weight_map: missing tensor '%s'", L->index_path,
                            name);
        if ((rc = open_shard(L, json_string_value(v), &f, err)))
            return rc;
        *t = lcx_st_find(f, name);
        if (!*t)
            return lcx_errf(err, LCX_EINPUT, "%s: missing tensor '%s' (weight_map points here)",
                            f->path, name);
    } else {
        f = &L->m->files[0];
        *t = lcx_st_find(f, name);
        if (!*t)
            return lcx_errf(err, LCX_EINPUT, "%s: missing tensor '%s'", f->path, name);
    }
    *file = f;
    return 0;
}

/* Find a tensor, check dtype and shape [rows] or [rows, cols]. */
static int get_tensor(loader *L, const char *name, int rows, int cols, const lcx_st_file **file,
                      const lcx_st_tensor **tp, lcx_err *err)
{
    int rc = find_tensor(L, name, file, tp, err);
    if (rc)
        return rc;
    const lcx_st_tensor *t = *tp;
    if (t->dtype == LCX_DT_OTHER)
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': dtype %s is not supported (F32, F16, "
                        "BF16)", (*file)->path, name, t->dtype_name);
    int ok = cols ? (t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols)
                  : (t->ndim == 1 && t->shape[0] == rows);
    if (!ok) {
        char got[128] = "", *p = got;
        for (int d = 0; d < t->ndim && p < got + sizeof got - 24; d++)
            p += snprintf(p, got + sizeof got - p, "%s%lld", d ? ", " : "",
                          (long long)t->shape[d]);
        if (cols)
            return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': shape [%s], expected [%d, %d]",
                            (*file)->path, name, got, rows, cols);
        return lcx_errf(err, LCX_EINPUT, "%s: tensor '%s': shape [%s], expected [%d]",
                        (*file)->path, name, got, rows);
    }
    return 0;
}

static void note_dtype(lcx_model *m, const lcx_st_tensor *t)
{
    if (!m->weight_dtype[0])
        snprintf(m->weight_dtype, sizeof m->weight_dtype, "%s", t->dtype_name);
    else if (strcmp(m->weight_dtype, t->dtype_name))
        snprintf(m->weight_dtype, sizeof m->weight_dtype, "mixed");
}

/* bytes of memory the model owns (freed with it, in W->copies), 64-byte
 * aligned; NULL when out of memory */
static void *weights_alloc(Weights *W, size_t bytes)
{
    void **nc = realloc(W->copies, (W->n_copies + 1) * sizeof *nc);
    if (!nc)
        return NULL;
    W->copies = nc;
    void *p = aligned_alloc(64, bytes ? (bytes + 63) / 64 * 64 : 64);
    if (p)
        W->copies[W->n_copies++] = p;
    return p;
}

static int load_matrix(loader *L, const char *name, int rows, int cols, lcx_weight *w,
                       lcx_err *err)
{
    const lcx_st_file *f;
    const lcx_st_tensor *t;
    int rc = get_tensor(L, name, rows, cols, &f, &t, err);
    if (rc)
        return rc;
    const uint8_t *p = f->data + t->begin;
    if ((uintptr_t)p % t->elsize) { /* misaligned in the file: copy */
        void *copy = weights_alloc(&L->m->weights, t->end - t->begin);
        if (!copy)
            return lcx_errf(err, LCX_ENOMEM, "%s: out of memory copying '%s'", f->path, name);
        memcpy(copy, p, t->end - t->begin);
        p = copy;
    }
    w->data = p;
    w->dtype = t->dtype;
    w->rows = rows;
    w->cols = cols;
    note_dtype(L->m, t);
    L->m->weight_bytes += t->end - t->begin;
    return 0;
}

/* A vector [n] converted to F32 into weights.small. */
static int load_vector(loader *L, const char *name, int n, float **out, lcx_err *err)
{
    lcx_weight w;
    const lcx_st_file *f;
    const lcx_st_tensor *t;
    int rc = get_tensor(L, name, n, 0, &f, &t, err);
    if (rc)
        return rc;
    if (L->small_used + n > L->small_cap)
        return lcx_errf(err, LCX_EINTERNAL, "small-parameter buffer too small at '%s'", name);
    w.dtype = t->dtype;
    w.rows = 1;
    w.cols = n;
    const uint8_t *p = f->data + t->begin;
    float *dst = L->m->weights.small + L->small_used;
    if ((uintptr_t)p % t->elsize) {
        uint8_t *tmp = malloc((size_t)n * t->elsize + 1);
        if (!tmp)
            return lcx_errf(err, LCX_ENOMEM, "out of memory");
        memcpy(tmp, p, (size_t)n * t->elsize);
        w.data = tmp;
        lcx_weight_row_f32(dst, &w, 0);
        free(tmp);
    } else {
        w.data = p;
        lcx_weight_row_f32(dst, &w, 0);
    }
    L->small_used += n;
    L->m->weight_bytes += t->end - t->begin;
    *out = dst;
    return 0;
}

static int load_weights(loader *L, lcx_err *err)
{
    lcx_model *m = L->m;
    const lcx_config *c = &m->config;
    Weights *w = &m->weights;
    int dim = c->dim, hd = c->head_dim, kvd = c->n_kv_heads * hd, qd = c->n_heads * hd;
    size_t per_layer = 2 * (size_t)dim + (c->qkv_bias ? (size_t)lcx_config_q_rows(c) + 2 * kvd : 0) +
                       (c->o_bias ? dim : 0) + (c->qk_norm ? 2 * (size_t)hd : 0);
    L->small_cap = per_layer * c->n_layers + dim;
    w->small = malloc(L->small_cap * sizeof(float));
    w->layers = calloc((size_t)c->n_layers, sizeof *w->layers);
    if (!w->small || !w->layers)
        return lcx_errf(err, LCX_ENOMEM, "out of memory for weights");
    int rc;
    char name[256];
#define NAME(...) (snprintf(name, sizeof name, __VA_ARGS__), name)
    if ((rc = load_matrix(L, "model.embed_tokens.weight", c->vocab_size, dim, &w->token_embedding,
                          err)))
        return rc;
    for (int l = 0; l < c->n_layers; l++) {
        LayerWeights *lw = &w->layers[l];
        const char *pre = "model.layers";
        if ((rc = load_vector(L, NAME("%s.%d.input_layernorm.weight", pre, l), dim, &lw->rms_att,
                              err)) ||
            (rc = load_matrix(L, NAME("%s.%d.self_attn.q_proj.weight", pre, l),
                              lcx_config_q_rows(c), dim, &lw->wq, err)) ||
            (rc = load_matrix(L, NAME("%s.%d.self_attn.k_proj.weight", pre, l), kvd, dim, &lw->wk,
                              err)) ||
            (rc = load_matrix(L, NAME("%s.%d.self_attn.v_proj.weight", pre, l), kvd, dim, &lw->wv,
                              err)) ||
            (rc = load_matrix(L, NAME("%s.%d.self_attn.o_proj.weight", pre, l), dim, qd, &lw->wo,
                              err)))
            return rc;
        if (c->qkv_bias &&
            ((rc = load_vector(L, NAME("%s.%d.self_attn.q_proj.bias", pre, l),
                               lcx_config_q_rows(c), &lw->bq, err)) ||
             (rc = load_vector(L, NAME("%s.%d.self_attn.k_proj.bias", pre, l), kvd, &lw->bk,
                               err)) ||
             (rc = load_vector(L, NAME("%s.%d.self_attn.v_proj.bias", pre, l), kvd, &lw->bv,
                               err))))
            return rc;
        if (c->o_bias &&
            (rc = load_vector(L, NAME("%s.%d.self_attn.o_proj.bias", pre, l), dim, &lw->bo, err)))
            return rc;
        if (c->qk_norm &&
            ((rc = load_vector(L, NAME("%s.%d.self_attn.q_norm.weight", pre, l), hd, &lw->q_norm,
                               err)) ||
             (rc = load_vector(L, NAME("%s.%d.self_attn.k_norm.weight", pre, l), hd, &lw->k_norm,
                               err))))
            return rc;
        if ((rc = load_vector(L, NAME("%s.%d.post_attention_layernorm.weight", pre, l), dim,
                              &lw->rms_ffn, err)) ||
            (rc = load_matrix(L, NAME("%s.%d.mlp.gate_proj.weight", pre, l), c->hidden_dim, dim,
                              &lw->w1, err)) ||
            (rc = load_matrix(L, NAME("%s.%d.mlp.up_proj.weight", pre, l), c->hidden_dim, dim,
                              &lw->w3, err)) ||
            (rc = load_matrix(L, NAME("%s.%d.mlp.down_proj.weight", pre, l), dim, c->hidden_dim,
                              &lw->w2, err)))
            return rc;
    }
#undef NAME
    if ((rc = load_vector(L, "model.norm.weight", dim, &w->rms_final, err)))
        return rc;
    if (c->tie_embeddings)
        w->lm_head = w->token_embedding;
    else if ((rc = load_matrix(L, "lm_head.weight", c->vocab_size, dim, &w->lm_head, err)))
        return rc;
    return 0;
}

static int load_index(loader *L, const char *path, json_t **root, lcx_err *err)
{
    char *text;
    size_t len;
    int rc = lcx_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    json_error_t jerr;
    *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!*root)
        return lcx_errf(err, LCX_EINPUT, "%s: line %d: %s", path, jerr.line, jerr.text);
    json_t *wm = json_object_get(*root, "weight_map");
    if (!json_is_object(wm))
        return lcx_errf(err, LCX_EINPUT, "%s: missing field weight_map (an object)", path);
    const char *key;
    json_t *v;
    json_object_foreach(wm, key, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (!s || !*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, ".."))
            return lcx_errf(err, LCX_EINPUT, "%s: weight_map['%s']: not a plain file name in the "
                            "model directory", path, key);
    }
    L->weight_map = wm;
    return 0;
}

/* The layers' matrices in the kernel variant's own layout, when it has one
 * (amx: BF16 weights as tiles), packed once here for every prefill. They
 * count as weight bytes; the token embedding and the output head, used a
 * row or a token at a time, stay as stored. */
static int pack_weights(lcx_model *m, lcx_err *err)
{
    const lcx_kernels *K = m->kern;
    Weights *W = &m->weights;
    if (!K->pack || !K->pack_bytes)
        return 0;
    for (int l = 0; l < m->config.n_layers; l++) {
        LayerWeights *lw = &W->layers[l];
        lcx_weight *mats[] = {&lw->wq, &lw->wk, &lw->wv, &lw->wo, &lw->w1, &lw->w3, &lw->w2};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) {
            size_t bytes = K->pack_bytes(mats[i]);
            if (!bytes)
                continue;
            void *buf = weights_alloc(W, bytes);
            if (!buf)
                return lcx_errf(err, LCX_ENOMEM, "out of memory packing layer %d's weights for "
                                "the %s kernels (%zu MiB)", l, lcx_isa_name(K->isa), bytes >> 20);
            K->pack(buf, mats[i]);
            mats[i]->packed = buf;
            m->weight_bytes += bytes;
            m->packed_bytes += bytes;
        }
    }
    return 0;
}

int lcx_model_load(const char *dir, lcx_model **out, lcx_err *err)
{
    *out = NULL;
    lcx_model *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir))) {
        free(m);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    loader L = {.m = m};
    json_t *index_root = NULL;
    char *cfg_path = path_join(dir, "config.json");
    char *index_path = path_join(dir, "model.safetensors.index.json");
    char *single_path = path_join(dir, "model.safetensors");
    char *tok_path = path_join(dir, "tokenizer.json");
    char *text = NULL;
    size_t len;
    int rc;
    if (!cfg_path || !index_path || !single_path || !tok_path) {
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        goto out;
    }
    if (!lcx_is_dir(dir)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: not a model directory", dir);
        goto out;
    }
    lcx_isa isa;
    if ((rc = lcx_isa_from_env(&isa, err)))
        goto out;
    m->kern = lcx_kernels_get(isa);
    if ((rc = lcx_read_file(cfg_path, &text, &len, err)))
        goto out;
    if ((rc = lcx_config_parse(text, len, cfg_path, &m->config, err)))
        goto out;
    {
        /* The config's own tables must be computable. */
        double inv[2048], mag;
        if (lcx_rope_rot_dim(&m->config.rope) / 2 > 2048) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: rotary dimension too large", cfg_path);
            goto out;
        }
        if ((rc = lcx_rope_table(&m->config.rope, m->config.max_pos, inv, &mag, err))) {
            lcx_err_prefix(err, "%s", cfg_path);
            goto out;
        }
    }
    if (file_exists(index_path)) {
        L.index_path = index_path;
        if ((rc = load_index(&L, index_path, &index_root, err)))
            goto out;
    } else {
        lcx_st_file *f;
        if ((rc = open_shard(&L, "model.safetensors", &f, err)))
            goto out;
    }
    if ((rc = load_weights(&L, err)))
        goto out;
    if ((rc = pack_weights(m, err)))
        goto out;
    if (file_exists(tok_path)) {
        lcx_err terr = {0};
        if (lcx_tokenizer_load(tok_path, &m->tokenizer, &terr)) {
            m->tokenizer = NULL;
            snprintf(m->tokenizer_note, sizeof m->tokenizer_note, "tokenizer not loaded: %s",
                     terr.msg);
        }
    } else {
        snprintf(m->tokenizer_note, sizeof m->tokenizer_note, "%s: no tokenizer.json", dir);
    }
out:
    json_decref(index_root);
    free(text);
    free(cfg_path);
    free(index_path);
    free(single_path);
    free(tok_path);
    if (rc) {
        lcx_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void lcx_model_free(lcx_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_files; i++)
        lcx_st_close(&m->files[i]);
    free(m->files);
    for (size_t i = 0; i < m->weights.n_copies; i++)
        free(m->weights.copies[i]);
    free(m->weights.copies);
    free(m->weights.layers);
    free(m->weights.small);
    if (m->tokenizer)
        lcx_tokenizer_free(m->tokenizer);
    free(m->dir);
    free(m);
}

const lcx_config *lcx_model_config(const lcx_model *m)
{
    return &m->config;
}

const lcx_tokenizer *lcx_model_tokenizer(const lcx_model *m)
{
    return m->tokenizer;
}

const char *lcx_model_tokenizer_note(const lcx_model *m)
{
    return m->tokenizer_note;
}

const char *lcx_model_isa(const lcx_model *m)
{
    return lcx_isa_name(m->kern->isa);
}

const char *lcx_model_weight_dtype(const lcx_model *m)
{
    return m->weight_dtype;
}

size_t lcx_model_weight_bytes(const lcx_model *m)
{
    return m->weight_bytes;
}

size_t lcx_model_packed_bytes(const lcx_model *m)
{
    return m->packed_bytes;
}
