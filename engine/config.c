/* config.c: parse config.json (see config.h). */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    lcx_arch arch;
} known_archs[] = {
    {"LlamaForCausalLM", LCX_ARCH_LLAMA},
    {"MistralForCausalLM", LCX_ARCH_MISTRAL},
    {"Qwen2ForCausalLM", LCX_ARCH_QWEN2},
    {"Qwen3ForCausalLM", LCX_ARCH_QWEN3},
};

const char *lcx_gate_name(lcx_gate g)
{
    switch (g) {
    case LCX_GATE_NONE: return "none";
    case LCX_GATE_HEADWISE: return "headwise";
    case LCX_GATE_ELEMENTWISE: return "elementwise";
    case LCX_GATE_INTERLEAVED: return "elementwise-interleaved";
    }
    return "?";
}

int lcx_config_q_rows(const lcx_config *c)
{
    int q = c->n_heads * c->head_dim;
    switch (c->gate) {
    case LCX_GATE_NONE: return q;
    case LCX_GATE_HEADWISE: return q + c->n_heads;
    case LCX_GATE_ELEMENTWISE:
    case LCX_GATE_INTERLEAVED: return 2 * q;
    }
    return q;
}

/* An integer field in [lo, hi]; missing -> *out = dflt if dflt_ok, else error. */
static int get_int(json_t *o, const char *path, const char *prefix, const char *key, long long lo,
                   long long hi, int required, int dflt, int *out, lcx_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            return lcx_errf(err, LCX_EINPUT, "%s: missing field %s%s", path, prefix, key);
        *out = dflt;
        return 0;
    }
    long long x;
    if (json_is_integer(v))
        x = json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
             fabs(json_real_value(v)) < 1e15)
        x = (long long)json_real_value(v);
    else
        return lcx_errf(err, LCX_EINPUT, "%s: field %s%s is not an integer", path, prefix, key);
    if (x < lo || x > hi)
        return lcx_errf(err, LCX_EINPUT, "%s: field %s%s = %lld out of range [%lld, %lld]", path,
                        prefix, key, x, lo, hi);
    *out = (int)x;
    return 0;
}

static int get_num(json_t *o, const char *path, const char *prefix, const char *key, double dflt,
                   double *out, lcx_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return lcx_errf(err, LCX_EINPUT, "%s: field %s%s is not a number", path, prefix, key);
    *out = json_number_value(v);
    return 0;
}

static int get_bool(json_t *o, const char *path, const char *key, int dflt, int *out, lcx_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_boolean(v))
        return lcx_errf(err, LCX_EINPUT, "%s: field %s is not a boolean", path, key);
    *out = json_is_true(v);
    return 0;
}

static int parse_rope_scaling(json_t *rs, const char *path, const char *field, lcx_config *c,
                              lcx_err *err)
{
    lcx_rope_params *p = &c->rope;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s.", field);
    if (!json_is_object(rs))
        return lcx_errf(err, LCX_EINPUT, "%s: field %s is not an object", path, field);
    json_t *t = json_object_get(rs, "rope_type");
    const char *tkey = "rope_type";
    if (!t || json_is_null(t)) {
        t = json_object_get(rs, "type");
        tkey = "type";
    }
    if (t && !json_is_null(t)) {
        if (!json_is_string(t))
            return lcx_errf(err, LCX_EINPUT, "%s: field %s%s is not a string", path, prefix, tkey);
        int ty = lcx_rope_type_parse(json_string_value(t));
        if (ty < 0)
            return lcx_errf(err, LCX_EINPUT, "%s: field %s%s: unsupported rope type '%.40s' "
                            "(default, linear, dynamic, yarn, llama3)", path, prefix, tkey,
                            json_string_value(t));
        p->type = (lcx_rope_type)ty;
    }
    double v;
    int iv, rc;
    if ((rc = get_num(rs, path, prefix, "rope_theta", p->theta, &p->theta, err)))
        return rc;
    if ((rc = get_num(rs, path, prefix, "partial_rotary_factor", p->partial_rotary,
                      &p->partial_rotary, err)))
        return rc;
    if ((rc = get_num(rs, path, prefix, "factor", 0, &v, err)))
        return rc;
    if (v != 0) {
        if (!(v > 0))
            return lcx_errf(err, LCX_EINPUT, "%s: field %sfactor = %g must be > 0", path, prefix, v);
        p->factor = v;
    }
    if ((rc = get_int(rs, path, prefix, "original_max_position_embeddings", 1, 1 << 30, 0, 0, &iv,
                      err)))
        return rc;
    if (iv)
        p->orig_ctx = iv;
    if ((rc = get_num(rs, path, prefix, "beta_fast", 0, &p->beta_fast, err)) ||
        (rc = get_num(rs, path, prefix, "beta_slow", 0, &p->beta_slow, err)) ||
        (rc = get_num(rs, path, prefix, "mscale", 0, &p->mscale, err)) ||
        (rc = get_num(rs, path, prefix, "mscale_all_dim", 0, &p->mscale_all_dim, err)) ||
        (rc = get_num(rs, path, prefix, "attention_factor", -1, &p->attention_factor, err)) ||
        (rc = get_num(rs, path, prefix, "low_freq_factor", 0, &p->low_freq_factor, err)) ||
        (rc = get_num(rs, path, prefix, "high_freq_factor", 0, &p->high_freq_factor, err)) ||
        (rc = get_num(rs, path, prefix, "llama_4_scaling_beta", p->llama4_beta, &p->llama4_beta, err)))
        return rc;
    if (p->beta_fast < 0 || p->beta_slow < 0)
        return lcx_errf(err, LCX_EINPUT, "%s: field %sbeta_fast/beta_slow must be > 0", path,
                        prefix);
    if ((rc = get_bool(rs, path, "truncate", 1, &p->truncate, err)))
        return rc;
    return 0;
}

int lcx_config_parse(const char *json, size_t len, const char *path, lcx_config *c, lcx_err *err)
{
    memset(c, 0, sizeof *c);
    lcx_rope_params_init(&c->rope);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return lcx_errf(err, LCX_EINPUT, "%s: line %d: %s", path, jerr.line, jerr.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: not a JSON object", path);
        goto out;
    }
    json_t *archs = json_object_get(root, "architectures");
    const char *an = NULL;
    if (json_is_array(archs) && json_array_size(archs) > 0 &&
        json_is_string(json_array_get(archs, 0)))
        an = json_string_value(json_array_get(archs, 0));
    if (!an) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: missing field architectures (a list of names)", path);
        goto out;
    }
    size_t k;
    for (k = 0; k < sizeof known_archs / sizeof known_archs[0]; k++)
        if (!strcmp(an, known_archs[k].name))
            break;
    if (k == sizeof known_archs / sizeof known_archs[0]) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field architectures: unsupported architecture "
                      "'%.60s' (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, "
                      "Qwen3ForCausalLM)", path, an);
        goto out;
    }
    c->arch = known_archs[k].arch;
    snprintf(c->arch_name, sizeof c->arch_name, "%s", an);

    json_t *act = json_object_get(root, "hidden_act");
    if (act && !json_is_null(act) &&
        (!json_is_string(act) || (strcmp(json_string_value(act), "silu") &&
                                  strcmp(json_string_value(act), "swish")))) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field hidden_act: only silu is supported", path);
        goto out;
    }
    if ((rc = get_int(root, path, "", "hidden_size", 1, 65536, 1, 0, &c->dim, err)) ||
        (rc = get_int(root, path, "", "intermediate_size", 1, 1 << 20, 1, 0, &c->hidden_dim, err)) ||
        (rc = get_int(root, path, "", "num_hidden_layers", 1, 1024, 1, 0, &c->n_layers, err)) ||
        (rc = get_int(root, path, "", "num_attention_heads", 1, 1024, 1, 0, &c->n_heads, err)) ||
        (rc = get_int(root, path, "", "num_key_value_heads", 1, 1024, 0, c->n_heads,
                      &c->n_kv_heads, err)) ||
        (rc = get_int(root, path, "", "vocab_size", 1, 1 << 24, 1, 0, &c->vocab_size, err)) ||
        (rc = get_int(root, path, "", "max_position_embeddings", 1, 1 << 30, 0, 4096, &c->max_pos,
                      err)))
        goto out;
    if ((rc = get_int(root, path, "", "head_dim", 1, 4096, 0, 0, &c->head_dim, err)))
        goto out;
    if (!c->head_dim) {
        if (c->dim % c->n_heads) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field hidden_size %d is not a multiple of "
                          "num_attention_heads %d", path, c->dim, c->n_heads);
            goto out;
        }
        c->head_dim = c->dim / c->n_heads;
    }
    if (c->n_heads % c->n_kv_heads) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field num_attention_heads %d is not a multiple of "
                      "num_key_value_heads %d", path, c->n_heads, c->n_kv_heads);
        goto out;
    }
    if ((long long)c->n_heads * c->head_dim > (1 << 20)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: num_attention_heads x head_dim too large", path);
        goto out;
    }
    if ((rc = get_num(root, path, "", "rms_norm_eps", 1e-6, &c->norm_eps, err)))
        goto out;
    if (!(c->norm_eps >= 0)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field rms_norm_eps must be >= 0", path);
        goto out;
    }
    int tie_default = 0, bias = 0;
    if ((rc = get_bool(root, path, "tie_word_embeddings", tie_default, &c->tie_embeddings, err)) ||
        (rc = get_bool(root, path, "attention_bias", 0, &bias, err)))
        goto out;
    int mlp_bias = 0;
    if ((rc = get_bool(root, path, "mlp_bias", 0, &mlp_bias, err)))
        goto out;
    if (mlp_bias) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field mlp_bias: MLP biases are not supported", path);
        goto out;
    }
    c->qkv_bias = bias || c->arch == LCX_ARCH_QWEN2;
    c->o_bias = bias;
    c->qk_norm = c->arch == LCX_ARCH_QWEN3;

    int hw = 0, ew = 0, il = 0;
    if ((rc = get_bool(root, path, "headwise_attn_output_gate", 0, &hw, err)) ||
        (rc = get_bool(root, path, "elementwise_attn_output_gate", 0, &ew, err)) ||
        (rc = get_bool(root, path, "attn_output_gate", 0, &il, err)))
        goto out;
    if (hw + ew + il > 1) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: fields headwise_attn_output_gate, "
                      "elementwise_attn_output_gate and attn_output_gate are exclusive", path);
        goto out;
    }
    c->gate = hw ? LCX_GATE_HEADWISE : ew ? LCX_GATE_ELEMENTWISE : il ? LCX_GATE_INTERLEAVED
                                                                     : LCX_GATE_NONE;

    if (c->arch == LCX_ARCH_MISTRAL) {
        if ((rc = get_int(root, path, "", "sliding_window", 1, 1 << 30, 0, 0, &c->sliding_window,
                          err)))
            goto out;
    } else {
        int sw = 0;
        if ((rc = get_bool(root, path, "use_sliding_window", 0, &sw, err)))
            goto out;
        if (sw) {
            rc = lcx_errf(err, LCX_EINPUT, "%s: field use_sliding_window: per-layer sliding "
                          "windows are not supported", path);
            goto out;
        }
    }

    /* bos / eos: integers, eos may be a list. */
    json_t *bos = json_object_get(root, "bos_token_id");
    c->bos_id = json_is_integer(bos) ? (int)json_integer_value(bos) : -1;
    json_t *eos = json_object_get(root, "eos_token_id");
    if (json_is_integer(eos)) {
        c->eos_ids[c->n_eos++] = (int)json_integer_value(eos);
    } else if (json_is_array(eos)) {
        for (size_t i = 0; i < json_array_size(eos) && c->n_eos < LCX_MAX_EOS; i++)
            if (json_is_integer(json_array_get(eos, i)))
                c->eos_ids[c->n_eos++] = (int)json_integer_value(json_array_get(eos, i));
    }

    /* RoPE: rope_theta and partial_rotary_factor at the top level, then
     * rope_scaling (older) or rope_parameters (newer), either may be null. */
    lcx_rope_params *p = &c->rope;
    p->head_dim = c->head_dim;
    p->max_pos = c->max_pos;
    if ((rc = get_num(root, path, "", "rope_theta", 10000.0, &p->theta, err)) ||
        (rc = get_num(root, path, "", "partial_rotary_factor", 1.0, &p->partial_rotary, err)) ||
        (rc = get_num(root, path, "", "llama_4_scaling_beta", 0, &p->llama4_beta, err)))
        goto out;
    json_t *rs = json_object_get(root, "rope_scaling");
    if (rs && !json_is_null(rs) && (rc = parse_rope_scaling(rs, path, "rope_scaling", c, err)))
        goto out;
    json_t *rp = json_object_get(root, "rope_parameters");
    if (rp && !json_is_null(rp) && (rc = parse_rope_scaling(rp, path, "rope_parameters", c, err)))
        goto out;
    if (!(p->llama4_beta >= 0 && p->llama4_beta <= 100)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field llama_4_scaling_beta = %g must be in [0, 100]",
                      path, p->llama4_beta);
        goto out;
    }
    if (!(p->partial_rotary > 0 && p->partial_rotary <= 1)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field partial_rotary_factor = %g must be in (0, 1]",
                      path, p->partial_rotary);
        goto out;
    }
    int d = lcx_rope_rot_dim(p);
    if (d < 2 || d % 2) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: rotary dimension %d (head_dim x partial_rotary_factor) "
                      "must be even and >= 2", path, d);
        goto out;
    }
    if (!(p->theta > 1)) {
        rc = lcx_errf(err, LCX_EINPUT, "%s: field rope_theta = %g must be > 1", path, p->theta);
        goto out;
    }
out:
    json_decref(root);
    return rc;
}
