/* test_rope.c: RoPE tables (rope/) against the worked values of docs/model.md
 * ("YaRN") and the PyTorch reference's tables
 * (tests/reference/models/yarn_tables.json), and the shared option parser
 * (rope/opts.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/config.h"
#include "rope/opts.h"
#include "tests/check.h"
#include "rope/rope.h"

static lcx_rope_params yarn_params(int head_dim, double s)
{
    lcx_rope_params p;
    lcx_rope_params_init(&p);
    p.type = LCX_ROPE_YARN;
    p.theta = 1e6;
    p.head_dim = head_dim;
    p.factor = s;
    p.orig_ctx = 32768;
    return p;
}

TEST(worked_values_head_dim_64)
{
    lcx_rope_params p = yarn_params(64, 4);
    double low, high, inv[32], mag;
    lcx_yarn_corr_range(&p, &low, &high);
    CHECK_NEAR(low, 11, 0);
    CHECK_NEAR(high, 20, 0);
    CHECK_INT(lcx_rope_table(&p, 1000, inv, &mag, NULL), 0);
    CHECK_NEAR(mag, 1.13863, 5e-6);
    CHECK_NEAR(mag * mag, 1.29648, 5e-6);
    /* below low: extrapolation (unchanged); above high: interpolation (/ s) */
    CHECK_NEAR(inv[0], 1.0, 1e-15);
    CHECK_NEAR(inv[11], pow(1e6, -22.0 / 64), 1e-15);
    CHECK_NEAR(inv[31], pow(1e6, -62.0 / 64) / 4, 1e-18);
    CHECK_NEAR(inv[20], pow(1e6, -40.0 / 64) / 4, 1e-18);
    double ramp = (15 - 11) / 9.0;
    CHECK_NEAR(inv[15], pow(1e6, -30.0 / 64) * (ramp / 4 + 1 - ramp), 1e-15);
}

TEST(worked_values_head_dim_128)
{
    lcx_rope_params p = yarn_params(128, 4);
    double low, high;
    lcx_yarn_corr_range(&p, &low, &high);
    CHECK_NEAR(low, 23, 0);
    CHECK_NEAR(high, 40, 0);
    p.truncate = 0;
    lcx_yarn_corr_range(&p, &low, &high);
    CHECK(low > 23 && low < 24);
    CHECK(high > 39 && high < 40);
}

TEST(mscale_and_factor_one)
{
    CHECK_NEAR(lcx_yarn_mscale(1.0, 1.0), 1.0, 0);
    CHECK_NEAR(lcx_yarn_mscale(0.5, 1.0), 1.0, 0);
    CHECK_NEAR(lcx_yarn_mscale(32, 1.0), 0.1 * log(32) + 1, 1e-15);
    lcx_rope_params p = yarn_params(64, 1);
    double inv[32], mag;
    CHECK_INT(lcx_rope_table(&p, 10, inv, &mag, NULL), 0);
    CHECK_NEAR(mag, 1.0, 0);
    for (int i = 0; i < 32; i++)
        CHECK_NEAR(inv[i], pow(1e6, -2.0 * i / 64), 1e-15);
    p.attention_factor = 0.75; /* an explicit attention_factor wins */
    CHECK_INT(lcx_rope_table(&p, 10, inv, &mag, NULL), 0);
    CHECK_NEAR(mag, 0.75, 0);
}

/* Every table the reference computed, read through config.json parsing. */
TEST(tables_match_reference)
{
    json_error_t jerr;
    json_t *cases = json_load_file("tests/reference/models/yarn_tables.json", 0, &jerr);
    CHECK(json_is_array(cases));
    if (!cases)
        return;
    for (size_t k = 0; k < json_array_size(cases); k++) {
        json_t *c = json_array_get(cases, k);
        int hd = (int)json_integer_value(json_object_get(c, "head_dim"));
        json_t *cfg = json_deep_copy(json_object_get(c, "config"));
        json_object_set_new(cfg, "architectures", json_pack("[s]", "LlamaForCausalLM"));
        json_object_set_new(cfg, "hidden_size", json_integer(4 * hd));
        json_object_set_new(cfg, "num_attention_heads", json_integer(4));
        json_object_set_new(cfg, "head_dim", json_integer(hd));
        json_object_set_new(cfg, "intermediate_size", json_integer(16));
        json_object_set_new(cfg, "num_hidden_layers", json_integer(1));
        json_object_set_new(cfg, "vocab_size", json_integer(8));
        char *text = json_dumps(cfg, 0);
        lcx_config conf;
        lcx_err err = {0};
        int rc = lcx_config_parse(text, strlen(text), "case.json", &conf, &err);
        CHECK_MSG(rc == 0, "case %zu: %s", k, err.msg);
        free(text);
        json_decref(cfg);
        if (rc)
            continue;
        double inv[128], mag;
        int seq = (int)json_integer_value(json_object_get(c, "seq_len"));
        CHECK_INT(lcx_rope_rot_dim(&conf.rope), json_integer_value(json_object_get(c, "rot_dim")));
        CHECK_INT(lcx_rope_table(&conf.rope, seq, inv, &mag, &err), 0);
        CHECK_NEAR(mag, json_number_value(json_object_get(c, "magnitude")), 1e-12);
        json_t *ref = json_object_get(c, "inv_freq");
        double worst = 0;
        for (size_t i = 0; i < json_array_size(ref); i++) {
            double r = json_number_value(json_array_get(ref, i));
            worst = fmax(worst, fabs(inv[i] - r) / r);
        }
        CHECK_MSG(worst < 1e-12, "case %zu (%s): inv_freq rel error %g", k,
                  lcx_rope_type_name(conf.rope.type), worst);
    }
    json_decref(cases);
}

TEST(rope_opts_parse_and_apply)
{
    char *argv[] = {"x", "--rope-scaling", "yarn", "--yarn-factor=8", "--yarn-orig-ctx", "4096",
                    "--yarn-beta-fast", "16", "--attn-temperature", "1.25", "--attn-factor=1.1",
                    "--other"};
    int argc = (int)(sizeof argv / sizeof argv[0]);
    lcx_rope_opts o;
    lcx_rope_opts_init(&o);
    lcx_err err = {0};
    int consumed = 0, i;
    for (i = 1; i < argc; i++) {
        int r = lcx_rope_opts_parse(&o, argc, argv, &i, &err);
        CHECK(r >= 0);
        if (r == 0)
            break;
        consumed++;
    }
    CHECK_INT(consumed, 6);
    CHECK_STR(argv[i], "--other");
    lcx_rope_params p;
    lcx_rope_params_init(&p);
    lcx_rope_opts_apply(&o, &p);
    CHECK_INT(p.type, LCX_ROPE_YARN);
    CHECK_NEAR(p.factor, 8, 0);
    CHECK_INT(p.orig_ctx, 4096);
    CHECK_NEAR(p.beta_fast, 16, 0);
    CHECK_NEAR(p.temperature, 1.25, 0);
    CHECK_NEAR(p.attention_factor, 1.1, 0);

    char *bad1[] = {"x", "--yarn-factor", "-2"};
    i = 1;
    CHECK_INT(lcx_rope_opts_parse(&o, 3, bad1, &i, &err), -1);
    CHECK(strstr(err.msg, "--yarn-factor") != NULL);
    char *bad2[] = {"x", "--rope-scaling", "longrope"};
    i = 1;
    CHECK_INT(lcx_rope_opts_parse(&o, 3, bad2, &i, &err), -1);
    CHECK(strstr(err.msg, "longrope") != NULL);
    char *bad3[] = {"x", "--yarn-orig-ctx"};
    i = 1;
    CHECK_INT(lcx_rope_opts_parse(&o, 2, bad3, &i, &err), -1);

    /* --yarn-factor alone turns a default config into yarn */
    lcx_rope_opts_init(&o);
    o.factor = 4;
    lcx_rope_params_init(&p);
    lcx_rope_opts_apply(&o, &p);
    CHECK_INT(p.type, LCX_ROPE_YARN);
}

TEST(rope_opts_merge_puts_overrides_on_top)
{
    lcx_rope_opts base, over, out;
    lcx_rope_opts_init(&base);
    lcx_rope_opts_init(&over);
    base.factor = 2;
    base.temperature = 1.2;
    base.orig_ctx = 1024;
    over.factor = 8;
    over.beta_fast = 16;
    lcx_rope_opts_merge(&base, &over, &out);
    CHECK(out.factor == 8 && out.beta_fast == 16 && out.orig_ctx == 1024 && out.temperature == 1.2);
    CHECK(out.type == -1 && out.truncate == -1 && out.attn_factor < 0 && !out.factor_auto);
    over.factor = 0;
    over.factor_auto = 1;
    over.type = LCX_ROPE_LINEAR;
    over.attn_factor = 0;
    lcx_rope_opts_merge(&base, &over, &out);
    CHECK(out.factor_auto && out.factor == 0 && out.type == LCX_ROPE_LINEAR && out.attn_factor == 0);
    /* nothing given: base unchanged */
    lcx_rope_opts_init(&over);
    lcx_rope_opts_merge(&base, &over, &out);
    CHECK(out.type == base.type && out.factor == base.factor && out.factor_auto == base.factor_auto &&
          out.orig_ctx == base.orig_ctx && out.beta_fast == base.beta_fast &&
          out.beta_slow == base.beta_slow && out.truncate == base.truncate &&
          out.attn_factor == base.attn_factor && out.temperature == base.temperature);
}

/* Llama-4 / Ministral-3 query scaling, 1 + beta ln(1 + floor(pos / L)),
 * on worked values (beta 0.1, L 8192). */
TEST(llama4_query_scale_worked_values)
{
    lcx_rope_params p;
    lcx_rope_params_init(&p);
    p.max_pos = 131072;
    p.orig_ctx = 8192;
    p.llama4_beta = 0.1;
    CHECK_NEAR(lcx_rope_query_scale(&p, 0), 1.0, 0);
    CHECK_NEAR(lcx_rope_query_scale(&p, 8191), 1.0, 0);
    CHECK_NEAR(lcx_rope_query_scale(&p, 8192), 1.0693147180559945, 1e-15);  /* 1 + 0.1 ln 2 */
    CHECK_NEAR(lcx_rope_query_scale(&p, 16383), 1.0693147180559945, 1e-15);
    CHECK_NEAR(lcx_rope_query_scale(&p, 16384), 1.1098612288668110, 1e-15); /* 1 + 0.1 ln 3 */
    CHECK_NEAR(lcx_rope_query_scale(&p, 81920), 1.2397895272798371, 1e-15); /* 1 + 0.1 ln 11 */
    /* L falls back to max_position_embeddings */
    p.orig_ctx = 0;
    CHECK_NEAR(lcx_rope_query_scale(&p, 131071), 1.0, 0);
    CHECK_NEAR(lcx_rope_query_scale(&p, 131072), 1.0693147180559945, 1e-15);
    /* beta 0: exactly 1 */
    p.llama4_beta = 0;
    CHECK_NEAR(lcx_rope_query_scale(&p, 1 << 30), 1.0, 0);
    lcx_rope_params q;
    lcx_rope_params_init(&q);
    q.max_pos = 131072;
    CHECK(lcx_rope_params_equal(&p, &q));
    q.llama4_beta = 0.1;
    CHECK(!lcx_rope_params_equal(&p, &q));
}

/* llama_4_scaling_beta from config.json: at the top level or in
 * rope_parameters / rope_scaling (Ministral-3), with its original context. */
TEST(llama4_scaling_from_config_and_options)
{
    const char *base = "{\"architectures\":[\"MistralForCausalLM\"],\"hidden_size\":64,"
                       "\"num_attention_heads\":4,\"intermediate_size\":16,\"num_hidden_layers\":1,"
                       "\"vocab_size\":8,\"max_position_embeddings\":262144%s}";
    const char *extra[] = {
        "",
        ",\"llama_4_scaling_beta\":0.2",
        ",\"rope_parameters\":{\"rope_type\":\"yarn\",\"factor\":16,\"rope_theta\":1e6,"
        "\"original_max_position_embeddings\":16384,\"llama_4_scaling_beta\":0.1}",
        ",\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4,\"original_max_position_embeddings\":"
        "8192,\"llama_4_scaling_beta\":0.1}",
        ",\"llama_4_scaling_beta\":-0.5",
    };
    const double beta[] = {0, 0.2, 0.1, 0.1, -1};
    const int orig[] = {0, 0, 16384, 8192, 0};
    for (int k = 0; k < 5; k++) {
        char text[1024];
        snprintf(text, sizeof text, base, extra[k]);
        lcx_config conf;
        lcx_err err = {0};
        int rc = lcx_config_parse(text, strlen(text), "config.json", &conf, &err);
        if (beta[k] < 0) {
            CHECK_INT(rc, LCX_EINPUT);
            CHECK(strstr(err.msg, "llama_4_scaling_beta") != NULL);
            continue;
        }
        CHECK_MSG(rc == 0, "case %d: %s", k, err.msg);
        if (rc)
            continue;
        CHECK_NEAR(conf.rope.llama4_beta, beta[k], 0);
        CHECK_INT(conf.rope.orig_ctx, orig[k]);
    }
    /* --llama4-scaling-beta: 0 allowed (off), merged and applied on top */
    char *argv[] = {"x", "--llama4-scaling-beta", "0.1", "--llama4-scaling-beta=0"};
    lcx_rope_opts o, none, merged;
    lcx_rope_opts_init(&o);
    lcx_rope_opts_init(&none);
    CHECK_NEAR(o.llama4_beta, -1, 0);
    lcx_err err = {0};
    int i = 1;
    CHECK_INT(lcx_rope_opts_parse(&o, 4, argv, &i, &err), 1);
    CHECK_NEAR(o.llama4_beta, 0.1, 0);
    lcx_rope_opts_merge(&none, &o, &merged);
    CHECK_NEAR(merged.llama4_beta, 0.1, 0);
    lcx_rope_opts_merge(&o, &none, &merged);
    CHECK_NEAR(merged.llama4_beta, 0.1, 0);
    lcx_rope_params p;
    lcx_rope_params_init(&p);
    p.llama4_beta = 0.3;
    lcx_rope_opts_apply(&none, &p);
    CHECK_NEAR(p.llama4_beta, 0.3, 0);
    lcx_rope_opts_apply(&o, &p);
    CHECK_NEAR(p.llama4_beta, 0.1, 0);
    i = 3;
    CHECK_INT(lcx_rope_opts_parse(&o, 4, argv, &i, &err), 1);
    CHECK_NEAR(o.llama4_beta, 0, 0);
    lcx_rope_opts_apply(&o, &p);
    CHECK_NEAR(p.llama4_beta, 0, 0);
    char *bad[] = {"x", "--llama4-scaling-beta", "-0.1", "--llama4-scaling-beta", "101"};
    i = 1;
    CHECK_INT(lcx_rope_opts_parse(&o, 5, bad, &i, &err), -1);
    i = 3;
    CHECK_INT(lcx_rope_opts_parse(&o, 5, bad, &i, &err), -1);
    CHECK(strstr(err.msg, "--llama4-scaling-beta") != NULL);
}

int main(void)
{
    RUN(rope_opts_merge_puts_overrides_on_top);
    RUN(worked_values_head_dim_64);
    RUN(worked_values_head_dim_128);
    RUN(mscale_and_factor_one);
    RUN(tables_match_reference);
    RUN(rope_opts_parse_and_apply);
    RUN(llama4_query_scale_worked_values);
    RUN(llama4_scaling_from_config_and_options);
    return check_summary();
}
