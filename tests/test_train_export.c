/* test_train_export.c: a tiny random model built in train/, exported as a
 * Hugging Face directory, loaded by the ENGINE (lcx_model_load +
 * lcx_session_eval): the engine's logits must equal train/'s forward logits.
 *   F32 export: max|diff| / max|logit| <= 1e-4, for no gate, headwise and
 *               elementwise (and a tied and an untied head).
 *   BF16 export: against train/ with its weights rounded to BF16 the same
 *               bound (1e-4), and against the unrounded F32 model 5e-2.
 * Also: round-to-nearest-even, replacing an existing directory, and an
 * unwritable output leaving nothing behind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/rng.h"
#include "engine/model.h"
#include "tests/check.h"
#include "train/checkpoint.h"

enum { T = 16, V = 64 };
static char tmpdir[64];

static train_config tiny(train_gate gate, int tie)
{
    train_config c = {.vocab_size = V, .dim = 32, .hidden_dim = 64, .n_layers = 2, .n_heads = 4,
                      .n_kv_heads = 2, .head_dim = 16, .max_seq = 128, .tie_embeddings = tie,
                      .gate = gate, .rope_theta = 10000.0, .norm_eps = 1e-6};
    return c;
}

typedef struct {
    float *logits; /* [T, V] */
} collect;

static int collect_fn(void *ctx, int first, int n, const float *logits, lcx_err *err)
{
    (void)err;
    collect *c = ctx;
    memcpy(c->logits + (size_t)first * V, logits, (size_t)n * V * sizeof(float));
    return 0;
}

/* Engine logits of tokens[T] from the model directory dir. */
static int engine_logits(const char *dir, const int32_t *tokens, float *out, lcx_gate *gate)
{
    lcx_model *em = NULL;
    lcx_session *s = NULL;
    lcx_err err;
    int rc = lcx_model_load(dir, &em, &err);
    if (!rc)
        rc = lcx_session_new(em, T, 0, NULL, &s, &err);
    collect c = {out};
    if (!rc)
        rc = lcx_session_eval(s, tokens, T, NULL, collect_fn, &c, NULL, &err);
    if (rc)
        fprintf(stderr, "  engine: %s\n", err.msg);
    if (em)
        *gate = lcx_model_config(em)->gate;
    lcx_session_free(s);
    lcx_model_free(em);
    return rc;
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) { /* comparisons, not fmax: GCC 12's aarch64 vectoriser
                                       * crashes on an fmax reduction here */
        double d = fabs((double)a[i] - b[i]), m = fabs((double)b[i]);
        md = d > md ? d : md;
        mb = m > mb ? m : mb;
    }
    return md / mb;
}

static void check_export(train_gate gate, int tie, lcx_gate want_gate)
{
    train_config c = tiny(gate, tie);
    train_model m;
    lcx_err err;
    CHECK(train_model_init(&m, &c, 1, T, 42 + (uint64_t)gate, &err) == 0);
    lcx_rng r;
    lcx_rng_seed(&r, 7 + (uint64_t)gate);
    for (size_t i = 0; i < m.num_params; i++) /* O(1) logits, every weight matters */
        m.params_memory[i] = (float)(lcx_rng_double(&r) * 0.5 - 0.25);
    float *norms[] = {m.params.ln1w, m.params.q_norm, m.params.k_norm, m.params.ln2w,
                      m.params.lnfw};
    size_t ns[] = {64, 32, 32, 64, 32};
    for (int t = 0; t < 5; t++)
        for (size_t i = 0; i < ns[t]; i++)
            norms[t][i] = (float)(0.5 + lcx_rng_double(&r));
    int32_t tokens[T];
    for (int t = 0; t < T; t++)
        tokens[t] = (int32_t)lcx_rng_below(&r, V);
    CHECK(train_forward(&m, tokens, NULL, NULL, NULL, &err) == 0);
    float *ref = malloc(sizeof(float) * T * V), *got = malloc(sizeof(float) * T * V);
    memcpy(ref, m.acts.logits, sizeof(float) * T * V);

    char dir[128];
    snprintf(dir, sizeof dir, "%s/model_%d_%d", tmpdir, (int)gate, tie);
    train_export_opts o = {.dtype = TRAIN_DT_F32, .tokenizer_json = NULL, .bos_id = -1,
                           .eos_id = -1};
    CHECK(train_export_hf(&m, dir, &o, &err) == 0);
    lcx_gate g = LCX_GATE_INTERLEAVED;
    CHECK(engine_logits(dir, tokens, got, &g) == 0);
    CHECK(g == want_gate);
    double e32 = rel_diff(got, ref, (size_t)T * V);
    CHECK_MSG(e32 <= 1e-4, "F32 rel diff %.3g", e32);

    /* BF16: replaces the F32 directory in place */
    o.dtype = TRAIN_DT_BF16;
    CHECK(train_export_hf(&m, dir, &o, &err) == 0);
    CHECK(engine_logits(dir, tokens, got, &g) == 0);
    double e16_f32 = rel_diff(got, ref, (size_t)T * V);
    for (size_t i = 0; i < m.num_params; i++)
        m.params_memory[i] = train_bf16_to_f32(train_f32_to_bf16(m.params_memory[i]));
    CHECK(train_forward(&m, tokens, NULL, NULL, NULL, &err) == 0);
    double e16 = rel_diff(got, m.acts.logits, (size_t)T * V);
    CHECK_MSG(e16 <= 1e-4, "BF16 vs rounded train model: rel diff %.3g", e16);
    CHECK_MSG(e16_f32 <= 5e-2, "BF16 vs F32 train model: rel diff %.3g", e16_f32);
    printf("     gate %s, %s head: F32 rel diff %.2e; BF16 %.2e (vs F32 model %.2e)\n",
           lcx_gate_name(want_gate), tie ? "tied" : "untied", e32, e16, e16_f32);
    char leftover[160];
    snprintf(leftover, sizeof leftover, "%s.tmp.%ld", dir, (long)getpid());
    CHECK(access(leftover, F_OK) != 0);
    free(ref);
    free(got);
    train_model_free(&m);
}

TEST(export_no_gate_matches_engine) { check_export(TRAIN_GATE_NONE, 1, LCX_GATE_NONE); }
TEST(export_headwise_matches_engine) { check_export(TRAIN_GATE_HEADWISE, 0, LCX_GATE_HEADWISE); }
TEST(export_elementwise_matches_engine)
{
    check_export(TRAIN_GATE_ELEMENTWISE, 1, LCX_GATE_ELEMENTWISE);
}

TEST(bf16_round_to_nearest_even)
{
    CHECK(train_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(train_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);        /* tie: stays even */
    CHECK(train_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);    /* tie: up to even */
    CHECK(train_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81); /* above the tie */
    CHECK(train_f32_to_bf16(-2.0f) == 0xc000);
    CHECK((train_f32_to_bf16(NAN) & 0x7fc0) == 0x7fc0);
}

TEST(export_unwritable_leaves_nothing)
{
    train_config c = tiny(TRAIN_GATE_NONE, 1);
    train_model m;
    lcx_err err;
    CHECK(train_model_init(&m, &c, 1, 4, 1, &err) == 0);
    train_export_opts o = {.dtype = TRAIN_DT_F32, .bos_id = -1, .eos_id = -1};
    char dir[128];
    snprintf(dir, sizeof dir, "%s/missing/parent/model", tmpdir);
    CHECK(train_export_hf(&m, dir, &o, &err) == LCX_EIO);
    CHECK(strstr(err.msg, "missing/parent") != NULL && strchr(err.msg, '\n') == NULL);
    /* config.json and the tokenizer go through; keys are what HF expects */
    snprintf(dir, sizeof dir, "%s/with_tok/", tmpdir); /* trailing slash: the same dir */
    o.tokenizer_json = "{}";
    o.bos_id = 1;
    CHECK(train_export_hf(&m, dir, &o, &err) == 0);
    char path[192], *cfg;
    size_t len;
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK(lcx_read_file(path, &cfg, &len, &err) == 0);
    CHECK(strstr(cfg, "\"rms_norm_eps\": 1e-06") != NULL);
    CHECK(strstr(cfg, "\"bos_token_id\": 1") != NULL);
    CHECK(strstr(cfg, "\"tie_word_embeddings\": true") != NULL);
    free(cfg);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK(access(path, F_OK) == 0);
    snprintf(path, sizeof path, "%s/with_tok.tmp.%ld", tmpdir, (long)getpid());
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof path, "%s/with_tok/.tmp.%ld", tmpdir, (long)getpid());
    CHECK(access(path, F_OK) != 0);
    train_model_free(&m);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lcx_test_export.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(export_no_gate_matches_engine);
    RUN(export_headwise_matches_engine);
    RUN(export_elementwise_matches_engine);
    RUN(bf16_round_to_nearest_even);
    RUN(export_unwritable_leaves_nothing);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary();
}
