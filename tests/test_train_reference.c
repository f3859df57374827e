/* test_train_reference.c: the trainer's first 20 losses against an
 * independent PyTorch training loop (tests/reference/train_ref.py, float64),
 * for gate none and gate elementwise, each with an untied and a tied head.
 * Bar: |loss_c - loss_ref| <= 1e-4 at every step (absolute); the gradient
 * norms before clipping agree within 1e-4 relative (a second, finer view of
 * the same run). The max differences are printed.
 *
 * Both sides start from the same weights and see the same batches: this
 * program builds them (train/'s seeded init, a deterministic copy task) and,
 * with --dump, writes them for the Python side. The golden losses are
 * committed in tests/reference/train/losses.json with a SHA-256 fingerprint
 * of everything the C side feeds the run (config, optimiser, initial
 * weights, batches), so a change to the init or the batches is reported as
 * a stale fixture rather than as a loss mismatch. Regenerate (needs Debian's
 * python3-torch) from the repository root with
 *
 *   /usr/bin/python3 tests/reference/make_train_fixture.py
 *
 * which builds this program, runs build/tests/test_train_reference --dump
 * DIR, then tests/reference/train_ref.py DIR tests/reference/train/losses.json. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/sha256.h"
#include "tests/check.h"
#include "train/checkpoint.h"
#include "train/model.h"

#define FIXTURE "tests/reference/train/losses.json"
#define REGEN "/usr/bin/python3 tests/reference/make_train_fixture.py"
#define STEPS 20
#define B 4
#define T 16
#define INIT_SEED 1234
#define DATA_SEED 4321
#define TOL 1e-4      /* absolute, on each loss */
#define TOL_NORM 1e-4 /* relative, on each gradient norm before clipping */

typedef struct ref_case {
    const char *name;
    train_gate gate;
    int tie;
} ref_case;

static const ref_case cases[] = {
    {"none_untied", TRAIN_GATE_NONE, 0},
    {"elementwise_untied", TRAIN_GATE_ELEMENTWISE, 0},
    {"none_tied", TRAIN_GATE_NONE, 1},
    {"elementwise_tied", TRAIN_GATE_ELEMENTWISE, 1},
};
enum { NUM_CASES = sizeof cases / sizeof cases[0] };

static train_config ref_config(const ref_case *rc)
{
    train_config c = {.vocab_size = 64, .dim = 32, .hidden_dim = 48, .n_layers = 2, .n_heads = 4,
                      .n_kv_heads = 2, .head_dim = 8, .max_seq = T, .tie_embeddings = rc->tie,
                      .gate = rc->gate, .rope_theta = 10000.0, .norm_eps = 1e-6};
    return c;
}

/* A high learning rate so the losses move far in 20 steps, a short warmup
 * and the whole cosine inside the 20 steps, and a clip that bites early. */
static train_optim ref_optim(void)
{
    train_optim o = {.lr = 3e-2, .min_lr = 1e-3, .warmup_steps = 4, .total_steps = STEPS,
                     .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1,
                     .grad_clip = 1.25};
    return o;
}

/* The batches of all steps: a copy task. Each row is 8 random tokens from
 * the first quarter of the vocabulary, repeated (and the first again as the
 * last target): the unigram statistics are learnt within a few steps and the
 * second half is learnable by induction. Loss weights, exact in float: 0 on
 * the first two positions, 0.5 on the rest of the random half, 1 on the
 * copies, 2 on the last position. */
typedef struct ref_batches {
    int32_t ids[STEPS][B * T], targets[STEPS][B * T];
    float weights[STEPS][B * T];
} ref_batches;

static void make_batches(ref_batches *bt, int vocab)
{
    lcx_rng r;
    lcx_rng_seed(&r, DATA_SEED);
    const int half = T / 2;
    for (int s = 0; s < STEPS; s++)
        for (int b = 0; b < B; b++) {
            int32_t seq[T + 1];
            for (int t = 0; t < half; t++)
                seq[t] = (int32_t)lcx_rng_below(&r, (uint64_t)vocab / 4);
            for (int t = half; t <= T; t++)
                seq[t] = seq[t - half];
            for (int t = 0; t < T; t++) {
                int n = b * T + t;
                bt->ids[s][n] = seq[t];
                bt->targets[s][n] = seq[t + 1];
                bt->weights[s][n] = t < 2 ? 0.0f : t < half - 1 ? 0.5f : t < T - 1 ? 1.0f : 2.0f;
            }
        }
}

/* SHA-256 over what determines the run on the C side. */
static void fingerprint(const train_model *m, const train_optim *o, const ref_batches *bt,
                        char hex[65])
{
    const train_config *c = &m->config;
    char desc[512];
    int len = snprintf(desc, sizeof desc,
                       "V=%d C=%d F=%d L=%d H=%d KV=%d hd=%d gate=%d tie=%d theta=%.17g "
                       "eps=%.17g B=%d T=%d lr=%.17g min_lr=%.17g warmup=%ld total=%ld "
                       "b1=%.17g b2=%.17g adam_eps=%.17g wd=%.17g clip=%.17g",
                       c->vocab_size, c->dim, c->hidden_dim, c->n_layers, c->n_heads,
                       c->n_kv_heads, c->head_dim, (int)c->gate, c->tie_embeddings,
                       c->rope_theta, c->norm_eps, B, T, o->lr, o->min_lr, o->warmup_steps,
                       o->total_steps, o->beta1, o->beta2, o->eps, o->weight_decay,
                       o->grad_clip);
    lcx_sha256 h;
    lcx_sha256_init(&h);
    lcx_sha256_update(&h, desc, (size_t)len);
    lcx_sha256_update(&h, m->params_memory, m->num_params * sizeof(float));
    lcx_sha256_update(&h, bt, sizeof *bt);
    unsigned char d[32];
    lcx_sha256_final(&h, d);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
}

/* Train STEPS steps from the seeded init; losses and gradient norms (before
 * clipping) per step, the loss of each step's forward before its update. */
static int run_case(const ref_case *rc, const ref_batches *bt, double *losses, double *norms,
                    char hex[65])
{
    train_config c = ref_config(rc);
    train_optim o = ref_optim();
    train_model m;
    lcx_err err;
    if (train_model_init(&m, &c, B, T, INIT_SEED, &err)) {
        fprintf(stderr, "%s: %s\n", rc->name, err.msg);
        return -1;
    }
    fingerprint(&m, &o, bt, hex);
    for (int s = 0; s < STEPS; s++) {
        train_zero_grad(&m);
        if (train_forward(&m, bt->ids[s], bt->targets[s], bt->weights[s], &losses[s], &err) ||
            train_backward(&m, &err)) {
            fprintf(stderr, "%s: step %d: %s\n", rc->name, s, err.msg);
            train_model_free(&m);
            return -1;
        }
        train_adamw_update(&m, &o, s, &norms[s]);
    }
    train_model_free(&m);
    return 0;
}

static json_t *fixture_case(json_t *fx, const char *name)
{
    json_t *arr = json_object_get(fx, "cases"), *item;
    size_t i;
    json_array_foreach(arr, i, item) {
        const char *n = json_string_value(json_object_get(item, "name"));
        if (n && strcmp(n, name) == 0)
            return item;
    }
    return NULL;
}

static json_t *fixture;

static void check_case(const ref_case *rc)
{
    ref_batches *bt = malloc(sizeof *bt);
    make_batches(bt, ref_config(rc).vocab_size);
    double losses[STEPS], norms[STEPS];
    char hex[65];
    CHECK(run_case(rc, bt, losses, norms, hex) == 0);
    free(bt);
    json_t *fc = fixture_case(fixture, rc->name);
    CHECK_MSG(fc != NULL, "%s: case %s missing; regenerate with %s", FIXTURE, rc->name, REGEN);
    if (!fc)
        return;
    const char *want = json_string_value(json_object_get(fc, "fingerprint"));
    CHECK_MSG(want && strcmp(want, hex) == 0,
              "%s: the fixture was made from other weights, batches or settings (fingerprint "
              "%.12s, now %.12s); regenerate with %s", rc->name, want ? want : "(none)", hex,
              REGEN);
    json_t *ref_losses = json_object_get(fc, "losses"), *ref_norms = json_object_get(fc, "grad_norms");
    CHECK_INT(json_array_size(ref_losses), STEPS);
    CHECK_INT(json_array_size(ref_norms), STEPS);
    if (json_array_size(ref_losses) != STEPS || json_array_size(ref_norms) != STEPS)
        return;
    double max_dloss = 0, max_rel_dnorm = 0;
    int clipped = 0;
    for (int s = 0; s < STEPS; s++) {
        double ref = json_number_value(json_array_get(ref_losses, s));
        double ref_norm = json_number_value(json_array_get(ref_norms, s));
        double d = fabs(losses[s] - ref);
        CHECK_MSG(d <= TOL, "%s step %d: loss %.9f vs reference %.9f (|d| %.3g > %g)", rc->name,
                  s, losses[s], ref, d, TOL);
        if (d > max_dloss)
            max_dloss = d;
        double dn = fabs(norms[s] - ref_norm) / ref_norm;
        CHECK_MSG(dn <= TOL_NORM, "%s step %d: grad norm %.9f vs reference %.9f (rel %.3g > %g)",
                  rc->name, s, norms[s], ref_norm, dn, TOL_NORM);
        if (dn > max_rel_dnorm)
            max_rel_dnorm = dn;
        clipped += norms[s] > ref_optim().grad_clip;
    }
    /* the fixture exercises what it claims: clipping and a moving loss */
    CHECK_MSG(clipped > 0, "%s: clipping never active", rc->name);
    CHECK_MSG(losses[STEPS - 1] < losses[0] - 0.5, "%s: loss barely moved (%.4f -> %.4f)",
              rc->name, losses[0], losses[STEPS - 1]);
    printf("     %-18s loss %.4f -> %.4f, clipped %2d/%d, max |dloss| %.2e, max rel "
           "|dgrad_norm| %.2e\n", rc->name, losses[0], losses[STEPS - 1], clipped, STEPS,
           max_dloss, max_rel_dnorm);
}

TEST(gate_none_untied) { check_case(&cases[0]); }
TEST(gate_elementwise_untied) { check_case(&cases[1]); }
TEST(gate_none_tied) { check_case(&cases[2]); }
TEST(gate_elementwise_tied) { check_case(&cases[3]); }

/* --dump DIR: DIR/<case>/ (Hugging Face export of the initial weights, F32)
 * and DIR/run.json (optimiser, batches, fingerprints, the C losses). */
static int dump(const char *dir)
{
    lcx_err err;
    char path[4096];
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write\n", path);
        return 2;
    }
    ref_batches *bt = malloc(sizeof *bt);
    make_batches(bt, ref_config(&cases[0]).vocab_size);
    train_optim o = ref_optim();
    fprintf(f, "{\n  \"steps\": %d, \"batch\": %d, \"seq\": %d, \"init_seed\": %d, "
               "\"data_seed\": %d,\n", STEPS, B, T, INIT_SEED, DATA_SEED);
    fprintf(f, "  \"optim\": {\"lr\": %.17g, \"min_lr\": %.17g, \"warmup_steps\": %ld, "
               "\"total_steps\": %ld, \"beta1\": %.17g, \"beta2\": %.17g, \"eps\": %.17g, "
               "\"weight_decay\": %.17g, \"grad_clip\": %.17g},\n", o.lr, o.min_lr,
            o.warmup_steps, o.total_steps, o.beta1, o.beta2, o.eps, o.weight_decay, o.grad_clip);
    fprintf(f, "  \"batches\": [\n");
    for (int s = 0; s < STEPS; s++) {
        const char *keys[] = {"ids", "targets", "weights"};
        fprintf(f, "    {");
        for (int k = 0; k < 3; k++) {
            fprintf(f, "%s\"%s\": [", k ? ", " : "", keys[k]);
            for (int n = 0; n < B * T; n++) {
                if (k < 2)
                    fprintf(f, "%s%d", n ? "," : "", k ? bt->targets[s][n] : bt->ids[s][n]);
                else
                    fprintf(f, "%s%.9g", n ? "," : "", (double)bt->weights[s][n]);
            }
            fprintf(f, "]");
        }
        fprintf(f, "}%s\n", s + 1 < STEPS ? "," : "");
    }
    fprintf(f, "  ],\n  \"cases\": [\n");
    int rc = 0;
    for (int i = 0; i < NUM_CASES && !rc; i++) {
        train_config c = ref_config(&cases[i]);
        train_model m;
        if (train_model_init(&m, &c, B, T, INIT_SEED, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            rc = 2;
            break;
        }
        char hex[65];
        fingerprint(&m, &o, bt, hex);
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
        train_export_opts eo = {.dtype = TRAIN_DT_F32, .tokenizer_json = NULL, .bos_id = -1,
                                .eos_id = -1};
        if (train_export_hf(&m, path, &eo, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            rc = 2;
        }
        train_model_free(&m);
        double losses[STEPS] = {0}, norms[STEPS] = {0};
        if (!rc && run_case(&cases[i], bt, losses, norms, hex))
            rc = 2;
        fprintf(f, "    {\"name\": \"%s\", \"dir\": \"%s\", \"fingerprint\": \"%s\",\n"
                   "     \"c_losses\": [", cases[i].name, cases[i].name, hex);
        for (int s = 0; s < STEPS; s++)
            fprintf(f, "%s%.9f", s ? ", " : "", losses[s]);
        fprintf(f, "],\n     \"c_grad_norms\": [");
        for (int s = 0; s < STEPS; s++)
            fprintf(f, "%s%.9f", s ? ", " : "", norms[s]);
        fprintf(f, "]}%s\n", i + 1 < NUM_CASES ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    free(bt);
    if (fclose(f) != 0 && !rc) {
        fprintf(stderr, "%s/run.json: write failed\n", dir);
        rc = 2;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--dump") == 0)
        return dump(argv[2]);
    json_error_t jerr;
    fixture = json_load_file(FIXTURE, 0, &jerr);
    if (!fixture) {
        fprintf(stderr, "%s: %s (line %d); regenerate with %s\n", FIXTURE, jerr.text, jerr.line,
                REGEN);
        printf("check-summary 0 1\n");
        return 1;
    }
    RUN(gate_none_untied);
    RUN(gate_elementwise_untied);
    RUN(gate_none_tied);
    RUN(gate_elementwise_tied);
    json_decref(fixture);
    return check_summary();
}
