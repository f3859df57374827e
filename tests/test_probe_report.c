/* test_probe_report.c: the probe's statistics (harness/probe_report.c) and
 * the engine's collection of them (engine/forward.c), against values
 * computed by hand from the definitions:
 *   - attention entropy of crafted score rows;
 *   - Gu et al.'s sink metric (ICLR 2025): share of heads whose mean weight
 *     on the first token over all query positions exceeds epsilon;
 *   - the per-prompt figures of a crafted probe, and the bootstrap interval;
 *   - a whole forward pass through a model whose queries are all zero
 *     (tests/reference/models/llama_f32 with q_proj zeroed): every score is
 *     0, so query i attends uniformly to keys 0..i, its weight on key 0 is
 *     1/(i+1) and its entropy ln(i+1), whatever the keys;
 *   - layer 0 of llama_f32 recomputed here in double from its weights, the
 *     entropy and first-token weights of the engine's probe against it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/fsio.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "harness/probe_report.h"

#define SRC_MODEL "tests/reference/models/llama_f32"

TEST(entropy_of_crafted_rows)
{
    float uniform[4] = {0, 0, 0, 0};
    CHECK_NEAR(lcx_softmax_entropy(uniform, 4), log(4.0), 1e-6);
    /* p = (1/2, 1/4, 1/4): H = 1/2 ln 2 + 1/2 ln 4 = 1.5 ln 2 */
    float halves[3] = {(float)log(2.0), 0, 0};
    CHECK_NEAR(lcx_softmax_entropy(halves, 3), 1.5 * log(2.0), 1e-6);
    float one[1] = {7};
    CHECK_NEAR(lcx_softmax_entropy(one, 1), 0, 1e-12);
    float masked[3] = {0, -INFINITY, 0}; /* weight 0 on the masked key */
    CHECK_NEAR(lcx_softmax_entropy(masked, 3), log(2.0), 1e-6);
    float big[2] = {1000, 1000}; /* no overflow: shifted by the maximum */
    CHECK_NEAR(lcx_softmax_entropy(big, 2), log(2.0), 1e-6);
    /* p = (e^2, 1, 1) / (e^2 + 2) */
    float peaked[3] = {2, 0, 0};
    double z = exp(2.0) + 2, p0 = exp(2.0) / z, p1 = 1 / z;
    CHECK_NEAR(lcx_softmax_entropy(peaked, 3), -(p0 * log(p0) + 2 * p1 * log(p1)), 1e-6);
}

TEST(gu_sink_share_counts_heads_above_eps)
{
    /* 10 query positions: alphas 0.32, 0.29, 0.05, 0.40 */
    double sums[4] = {3.2, 2.9, 0.5, 4.0};
    CHECK_NEAR(lcx_gu_sink_share(sums, 10, 4, 0.3), 0.5, 1e-12);
    CHECK_NEAR(lcx_gu_sink_share(sums, 10, 4, 0.01), 1.0, 1e-12);
    CHECK_NEAR(lcx_gu_sink_share(sums, 10, 4, 0.5), 0.0, 1e-12);
    double at[2] = {3.0, 3.5}; /* 0.3 is not above 0.3 */
    CHECK_NEAR(lcx_gu_sink_share(at, 10, 2, 0.3), 0.5, 1e-12);
    CHECK_NEAR(lcx_gu_sink_share(sums, 0, 4, 0.3), 0.0, 1e-12);
}

TEST(figures_of_a_crafted_probe)
{
    lcx_config c;
    memset(&c, 0, sizeof c);
    c.n_heads = 2;
    c.gate = LCX_GATE_NONE;
    static lcx_probe_layer layers[2];
    memset(layers, 0, sizeof layers);
    layers[0] = (lcx_probe_layer){.sink_sum = 1.0, .sink_count = 4, .max_abs_hidden = 3,
                                  .entropy_sum = 2.0, .entropy_norm_sum = 1.0,
                                  .entropy_count = 4, .head_first_count = 8};
    layers[0].head_first_sum[0] = 4.0; /* alpha 0.5 */
    layers[0].head_first_sum[1] = 1.0; /* alpha 0.125 */
    layers[1] = (lcx_probe_layer){.sink_sum = 2.0, .sink_count = 4, .max_abs_hidden = 5,
                                  .entropy_sum = 6.0, .entropy_norm_sum = 3.0,
                                  .entropy_count = 4, .head_first_count = 8};
    layers[1].head_first_sum[0] = 3.2; /* 0.4 */
    layers[1].head_first_sum[1] = 2.8; /* 0.35 */
    lcx_probe p = {2, 0, layers};
    double f[3 * LCX_PF_COUNT];
    lcx_probe_figures(&c, &p, 0.3, f);
    CHECK_NEAR(f[LCX_PF_SINK], 0.25, 1e-12);
    CHECK_NEAR(f[LCX_PF_GU_SINK], 0.5, 1e-12);
    CHECK_NEAR(f[LCX_PF_ENTROPY], 0.5, 1e-12);
    CHECK_NEAR(f[LCX_PF_ENTROPY_NORM], 0.25, 1e-12);
    CHECK_NEAR(f[LCX_PF_COUNT + LCX_PF_GU_SINK], 1.0, 1e-12);
    CHECK_NEAR(f[LCX_PF_COUNT + LCX_PF_ENTROPY], 1.5, 1e-12);
    CHECK(isnan(f[LCX_PF_GATE_MEAN]));
    const double *mean = f + 2 * LCX_PF_COUNT;
    CHECK_NEAR(mean[LCX_PF_SINK], 0.375, 1e-12);
    CHECK_NEAR(mean[LCX_PF_GU_SINK], 0.75, 1e-12); /* 3 of the 4 (layer, head) pairs */
    CHECK_NEAR(mean[LCX_PF_ENTROPY], 1.0, 1e-12);
    CHECK_NEAR(mean[LCX_PF_MAX_HIDDEN], 4.0, 1e-12);
}

TEST(bootstrap_interval)
{
    lcx_err err = {0};
    lcx_interval iv;
    double one[1] = {0.7};
    CHECK_INT(lcx_bootstrap_mean(one, 1, 1, 2000, 1, &iv, &err), 0);
    CHECK(iv.mean == 0.7 && iv.lo == 0.7 && iv.hi == 0.7);
    double same[5] = {2, 2, 2, 2, 2};
    CHECK_INT(lcx_bootstrap_mean(same, 5, 1, 2000, 1, &iv, &err), 0);
    CHECK_NEAR(iv.lo, 2, 1e-12);
    CHECK_NEAR(iv.hi, 2, 1e-12);
    /* every other entry of x: 0 1 0 1 ... (stride 2 skips the 9s) */
    double x[40];
    for (int i = 0; i < 20; i++) {
        x[2 * i] = i % 2;
        x[2 * i + 1] = 9;
    }
    lcx_interval a, b;
    CHECK_INT(lcx_bootstrap_mean(x, 20, 2, 2000, 42, &a, &err), 0);
    CHECK_INT(lcx_bootstrap_mean(x, 20, 2, 2000, 42, &b, &err), 0);
    CHECK_NEAR(a.mean, 0.5, 1e-12);
    CHECK(a.lo == b.lo && a.hi == b.hi); /* a fixed seed: the same interval */
    /* the mean of 20 fair coins has sd 0.112: the 95% interval is about
     * +-0.22 around 0.5 */
    CHECK_MSG(a.lo > 0.2 && a.lo < 0.4 && a.hi > 0.6 && a.hi < 0.8, "[%g, %g]", a.lo, a.hi);
    CHECK(lcx_bootstrap_mean(x, 0, 1, 2000, 1, &iv, &err) == LCX_EINPUT);
}

/* SRC_MODEL copied into dir with every q_proj weight zeroed. */
static int zero_query_model(const char *dir)
{
    lcx_err err = {0};
    char path[512];
    size_t len;
    uint8_t *buf;
    snprintf(path, sizeof path, "%s/model.safetensors", SRC_MODEL);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc(len);
    if (!buf || fread(buf, 1, len, fp) != len) {
        fclose(fp);
        free(buf);
        return -1;
    }
    fclose(fp);
    lcx_st_tensor *t = NULL;
    size_t n = 0, data = 0;
    int rc = lcx_st_parse(buf, len, path, &t, &n, &data, &err);
    int zeroed = 0;
    for (size_t i = 0; !rc && i < n; i++)
        if (strstr(t[i].name, "q_proj.weight")) {
            memset(buf + data + t[i].begin, 0, t[i].end - t[i].begin);
            zeroed++;
        }
    lcx_st_free_tensors(t, n);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!rc)
        rc = lcx_write_file_atomic(path, (const char *)buf, len, &err);
    free(buf);
    char *cfg = NULL;
    size_t cfg_len = 0;
    snprintf(path, sizeof path, "%s/config.json", SRC_MODEL);
    if (!rc)
        rc = lcx_read_file(path, &cfg, &cfg_len, &err);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!rc)
        rc = lcx_write_file_atomic(path, cfg, cfg_len, &err);
    free(cfg);
    if (rc)
        fprintf(stderr, "  %s\n", err.msg);
    return rc || zeroed != 2 ? -1 : 0;
}

/* The probe of T tokens through the zero-query model, prefilled in chunks
 * of 3, with KV dtype kv. */
static int probe_uniform(const char *dir, int T, lcx_dtype kv, lcx_probe_layer *layers)
{
    lcx_err err = {0};
    lcx_model *m = NULL;
    lcx_session *s = NULL;
    int rc = lcx_model_load(dir, &m, &err);
    lcx_session_opts so = {.chunk = 3, .kv_dtype = kv};
    if (!rc)
        rc = lcx_session_new_opts(m, T, &so, &s, &err);
    int32_t ids[64];
    for (int i = 0; i < T; i++)
        ids[i] = 1 + (i * 37) % 200;
    lcx_probe probe = {2, T / 2, layers};
    if (!rc)
        rc = lcx_session_eval(s, ids, T, NULL, NULL, NULL, &probe, &err);
    if (rc)
        fprintf(stderr, "  %s\n", err.msg);
    lcx_session_free(s);
    lcx_model_free(m);
    return rc;
}

TEST(engine_probe_of_uniform_attention)
{
    char dir[] = "/tmp/lcx_probe_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(zero_query_model(dir), 0);
    lcx_config c;
    memset(&c, 0, sizeof c);
    c.n_heads = 4; /* llama_f32 */
    c.gate = LCX_GATE_NONE;
    /* T = 8: alpha = H_8 / 8 = 0.3397 > 0.3, every head a sink head;
     * T = 12: alpha = H_12 / 12 = 0.2586, none. */
    const int Ts[2] = {8, 12};
    const double gu[2] = {1.0, 0.0};
    for (int k = 0; k < 2; k++) {
        for (int kv = 0; kv < 2; kv++) {
            int T = Ts[k];
            static lcx_probe_layer layers[2];
            memset(layers, 0, sizeof layers);
            if (probe_uniform(dir, T, kv ? LCX_DT_BF16 : LCX_DT_F32, layers)) {
                CHECK_MSG(0, "T=%d did not run", T);
                continue;
            }
            double harm = 0, share = 0, ent = 0;
            for (int i = 0; i < T; i++)
                harm += 1.0 / (i + 1);
            for (int i = T / 2; i < T; i++) {
                share += 1.0 / (i + 1) / (T - T / 2);
                ent += log(i + 1.0) / (T - T / 2);
            }
            for (int l = 0; l < 2; l++) {
                const lcx_probe_layer *pl = &layers[l];
                CHECK_INT(pl->head_first_count, T);
                CHECK_INT(pl->entropy_count, 4L * (T - T / 2));
                for (int h = 0; h < 4; h++)
                    CHECK_NEAR(pl->head_first_sum[h], harm, 1e-5);
                CHECK_NEAR(pl->sink_sum / pl->sink_count, share, 1e-6);
                CHECK_NEAR(pl->entropy_sum / pl->entropy_count, ent, 1e-5);
                CHECK_NEAR(pl->entropy_norm_sum / pl->entropy_count, 1.0, 1e-5);
            }
            lcx_probe p = {2, T / 2, layers};
            double f[3 * LCX_PF_COUNT];
            lcx_probe_figures(&c, &p, 0.3, f);
            CHECK_NEAR(f[2 * LCX_PF_COUNT + LCX_PF_GU_SINK], gu[k], 1e-12);
            CHECK_NEAR(f[2 * LCX_PF_COUNT + LCX_PF_ENTROPY], ent, 1e-5);
        }
    }
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
}

/* Layer 0 of llama_f32 computed here from its weights, in double, from the
 * definition (docs/model.md, "The forward pass" and "RoPE"): the input is
 * the token embeddings, so its queries and keys need no earlier layer.
 * Per head: the entropy of each query's softmax, averaged over positions
 * >= from, and the weight on key 0 summed over every position. */
static int layer0_reference(const int32_t *ids, int T, int from, double *entropy,
                            double head_first[4])
{
    enum { D = 64, H = 4, KV = 2, HD = 16 };
    lcx_err err = {0};
    lcx_st_file f;
    if (lcx_st_open(SRC_MODEL "/model.safetensors", &f, &err))
        return -1;
    const char *names[4] = {"model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                            "model.layers.0.self_attn.q_proj.weight",
                            "model.layers.0.self_attn.k_proj.weight"};
    const float *w[4];
    for (int i = 0; i < 4; i++) {
        const lcx_st_tensor *t = lcx_st_find(&f, names[i]);
        if (!t || t->dtype != LCX_DT_F32) {
            lcx_st_close(&f);
            return -1;
        }
        w[i] = (const float *)(f.data + t->begin);
    }
    static double q[64][H][HD], k[64][KV][HD];
    for (int t = 0; t < T; t++) {
        double x[D], ss = 0;
        for (int i = 0; i < D; i++) {
            x[i] = w[0][(size_t)ids[t] * D + i];
            ss += x[i] * x[i];
        }
        double r = 1 / sqrt(ss / D + 1e-5);
        for (int i = 0; i < D; i++)
            x[i] *= r * w[1][i];
        for (int o = 0; o < H * HD; o++) {
            double a = 0;
            for (int i = 0; i < D; i++)
                a += w[2][(size_t)o * D + i] * x[i];
            q[t][o / HD][o % HD] = a;
        }
        for (int o = 0; o < KV * HD; o++) {
            double a = 0;
            for (int i = 0; i < D; i++)
                a += w[3][(size_t)o * D + i] * x[i];
            k[t][o / HD][o % HD] = a;
        }
        /* RoPE: dimension i with i + HD/2, angle t * 10000^(-2i/HD) */
        for (int i = 0; i < HD / 2; i++) {
            double ang = t * pow(10000.0, -2.0 * i / HD), c = cos(ang), sn = sin(ang);
            for (int h = 0; h < H + KV; h++) {
                double *v = h < H ? q[t][h] : k[t][h - H];
                double a = v[i], b = v[i + HD / 2];
                v[i] = a * c - b * sn;
                v[i + HD / 2] = b * c + a * sn;
            }
        }
    }
    *entropy = 0;
    for (int h = 0; h < H; h++) {
        head_first[h] = 0;
        for (int t = 0; t < T; t++) {
            double sc[64], m = -INFINITY, z = 0, hsum = 0;
            for (int j = 0; j <= t; j++) {
                double a = 0;
                for (int d = 0; d < HD; d++)
                    a += q[t][h][d] * k[j][h / (H / KV)][d];
                sc[j] = a / sqrt((double)HD);
                m = fmax(m, sc[j]);
            }
            for (int j = 0; j <= t; j++)
                z += exp(sc[j] - m);
            for (int j = 0; j <= t; j++) {
                double p = exp(sc[j] - m) / z;
                hsum -= p > 0 ? p * log(p) : 0;
            }
            head_first[h] += exp(sc[0] - m) / z;
            if (t >= from)
                *entropy += hsum / ((double)H * (T - from));
        }
    }
    lcx_st_close(&f);
    return 0;
}

/* The engine's probe of layer 0 against layer0_reference, prefilled in
 * chunks of 7, F32 cache. */
TEST(engine_probe_matches_reference_layer0)
{
    enum { T = 40 };
    int32_t ids[T];
    for (int i = 0; i < T; i++)
        ids[i] = (i * 53 + 11) % 256;
    double ent = 0, first[4] = {0};
    CHECK_INT(layer0_reference(ids, T, T / 2, &ent, first), 0);
    lcx_err err = {0};
    lcx_model *m = NULL;
    lcx_session *s = NULL;
    static lcx_probe_layer layers[2];
    memset(layers, 0, sizeof layers);
    lcx_probe probe = {2, T / 2, layers};
    lcx_session_opts so = {.chunk = 7};
    int rc = lcx_model_load(SRC_MODEL, &m, &err);
    if (!rc)
        rc = lcx_session_new_opts(m, T, &so, &s, &err);
    if (!rc)
        rc = lcx_session_eval(s, ids, T, NULL, NULL, NULL, &probe, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    lcx_session_free(s);
    lcx_model_free(m);
    if (rc)
        return;
    CHECK_MSG(fabs(layers[0].entropy_sum / layers[0].entropy_count - ent) < 1e-5,
              "entropy %g, reference %g", layers[0].entropy_sum / layers[0].entropy_count, ent);
    for (int h = 0; h < 4; h++)
        CHECK_MSG(fabs(layers[0].head_first_sum[h] - first[h]) < 1e-5, "head %d: %g, reference %g",
                  h, layers[0].head_first_sum[h], first[h]);
    /* not the uniform case, where any keys would do */
    double uniform = 0;
    for (int i = T / 2; i < T; i++)
        uniform += log(i + 1.0) / (T - T / 2);
    CHECK_MSG(fabs(ent - uniform) > 1e-3, "entropy %g, uniform %g", ent, uniform);
}

int main(void)
{
    RUN(entropy_of_crafted_rows);
    RUN(gu_sink_share_counts_heads_above_eps);
    RUN(figures_of_a_crafted_probe);
    RUN(bootstrap_interval);
    RUN(engine_probe_of_uniform_attention);
    RUN(engine_probe_matches_reference_layer0);
    return check_summary();
}
