/* cmd_probe.c: `lcx probe`: the attention-sink measurements of Qiu et al.
 * (arXiv 2505.06708) on one RULER prompt, per layer:
 *   - share of attention on the first token (mean over heads and over the
 *     last half of the query positions),
 *   - max |hidden state| (residual stream after the layer),
 *   - for gated models: mean gate score and the fraction of scores < 0.1.
 *
 *   lcx probe --model DIR --length N [--task niah_single_2] [--template base]
 *             [--seed S] [--out FILE.json] [--chunk N] [--kv-dtype T]
 *             [--max-memory SIZE] [rope options]
 *   lcx probe --model DIR (--prompt-file F | --prompt-ids F) [--out FILE.json]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsio.h"
#include "engine/model.h"
#include "engine/prompt.h"
#include "rope/opts.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/engine_opts.h"
#include "harness/probe_report.h"
#include "tasks/tasks.h"

typedef struct probe_opts {
    const char *model, *prompt_file, *prompt_ids, *out, *task, *tmpl, *length;
    size_t chunk;
    unsigned long long seed;
    lcx_rope_opts rope;
    lcx_engine_opts engine;
} probe_opts;

static void probe_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx probe --model DIR --length N [options]\n"
            "       lcx probe --model DIR (--prompt-file F | --prompt-ids F) [options]\n"
            "  --length N          RULER prompt length in tokens (4k, 128K, 4096)\n"
            "  --task NAME         RULER task of the prompt (default niah_single_2)\n"
            "  --template NAME     model template (default base)\n"
            "  --seed S            sample seed (default 0)\n"
            "  --out FILE.json     also write the measurements as JSON\n"
            "  --chunk N           prefill chunk (default 256)\n"
            "%s%s"
            "Prints per layer: attention share on the first token (last half of the\n"
            "queries), max |hidden state|, and for gated models the mean gate score and\n"
            "the fraction of gate scores < 0.1.\n",
            lcx_engine_opts_usage(), lcx_rope_opts_usage());
}

static int parse_opts(int argc, char **argv, probe_opts *o, lcx_err *err)
{
    memset(o, 0, sizeof *o);
    lcx_rope_opts_init(&o->rope);
    lcx_engine_opts_init(&o->engine);
    o->task = "niah_single_2";
    o->tmpl = "base";
    const char *chunk = NULL, *seed = NULL;
    for (int i = 1; i < argc; i++) {
        int rc = lcx_rope_opts_parse(&o->rope, argc, argv, &i, err);
        if (!rc)
            rc = lcx_engine_opts_parse(&o->engine, argc, argv, &i, err);
        if (!rc)
            (void)((rc = lcx_arg_value(argc, argv, &i, "--model", &o->model, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--prompt-file", &o->prompt_file, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--prompt-ids", &o->prompt_ids, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--out", &o->out, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--task", &o->task, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--template", &o->tmpl, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--length", &o->length, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--chunk", &chunk, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--seed", &seed, err)));
        if (rc < 0)
            return LCX_EINPUT;
        if (rc)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return -1;
        return lcx_errf(err, LCX_EINPUT, "unknown option '%s' (try --help)", argv[i]);
    }
    if ((chunk && lcx_arg_size("--chunk", chunk, &o->chunk, err)) ||
        (seed && lcx_arg_u64("--seed", seed, &o->seed, err)))
        return LCX_EINPUT;
    if (!o->model)
        return lcx_errf(err, LCX_EINPUT, "--model is required");
    if (!!o->length + !!o->prompt_file + !!o->prompt_ids != 1)
        return lcx_errf(err, LCX_EINPUT, "give exactly one of --length, --prompt-file and "
                        "--prompt-ids");
    if (o->chunk > (1u << 16))
        return lcx_errf(err, LCX_EINPUT, "--chunk too large");
    return 0;
}

static size_t model_count(void *ctx, const char *text, size_t len)
{
    return lcx_tokenizer_count(ctx, text, len);
}

/* A RULER sample fitted to the length, counted with the model's tokenizer. */
static int ruler_prompt(const lcx_model *m, const probe_opts *o, int32_t **ids, size_t *n,
                        lcx_err *err)
{
    const lcx_tokenizer *tok = lcx_model_tokenizer(m);
    if (!tok)
        return lcx_errf(err, LCX_EINPUT, "--length needs the model's tokenizer: %s (use "
                        "--prompt-ids)", lcx_model_tokenizer_note(m));
    size_t length;
    int rc = lcx_parse_length(o->length, &length, err);
    if (rc)
        return rc;
    const lcx_task *task = lcx_task_find(o->task);
    if (!task)
        return lcx_errf(err, LCX_EINPUT, "--task: unknown task '%s' (see lcx tasks)", o->task);
    const lcx_template *tmpl = lcx_template_find(o->tmpl);
    if (!tmpl)
        return lcx_errf(err, LCX_EINPUT, "--template: unknown template '%s'", o->tmpl);
    lcx_data_opts dopts = {0};
    dopts.max_length = length;
    lcx_task_data *data = NULL;
    if ((rc = lcx_task_data_load(&dopts, &data, err)))
        return rc;
    lcx_counter counter = {o->model, model_count, (void *)tok, lcx_tokenizer_cut_rules(tok)};
    lcx_gen_ctx ctx = {task, data, tmpl, &counter, length, o->seed, 0};
    lcx_sample sample;
    memset(&sample, 0, sizeof sample);
    rc = lcx_gen_sample(&ctx, 0, &sample, err);
    if (!rc) {
        size_t li = strlen(sample.input), lp = strlen(sample.answer_prefix);
        char *full = malloc(li + lp + 1);
        if (!full) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        } else {
            memcpy(full, sample.input, li);
            memcpy(full + li, sample.answer_prefix, lp + 1);
            rc = lcx_encode_prompt(m, full, li + lp, ids, n, err);
            free(full);
        }
        lcx_sample_free(&sample);
    }
    lcx_task_data_free(data);
    return rc;
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* One line of the table: a layer or the mean. */
static void print_row(int gated, const char *label, const json_t *row)
{
    printf("%5s  %9.2f%%  %14.2f", label, 100 * num(row, "sink_share"), num(row, "max_abs_hidden"));
    if (gated)
        printf("  %9.4f  %11.4f", num(row, "gate_mean"), num(row, "gate_lt_0_1"));
    printf("\n");
}

static int run_probe(const probe_opts *o, lcx_err *err)
{
    lcx_model *m = NULL;
    lcx_session *s = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    lcx_probe_layer *layers = NULL;
    json_t *root = NULL;
    int rc;
    if ((rc = lcx_model_load(o->model, &m, err)))
        goto out;
    const lcx_config *c = lcx_model_config(m);
    if (o->length)
        rc = ruler_prompt(m, o, &ids, &n, err);
    else
        rc = lcx_load_prompt(m, o->prompt_ids, o->prompt_file, &ids, &n, err);
    /* The RoPE of the asked length (or of the prompt): it matters with
     * --yarn-factor auto. */
    size_t length = n;
    if (!rc && o->length)
        rc = lcx_parse_length(o->length, &length, err);
    if (rc)
        goto out;
    lcx_rope_params rope;
    lcx_rope_resolve(&c->rope, &o->rope, length, &rope);
    if (n > (size_t)1 << 28) {
        rc = lcx_errf(err, LCX_EINPUT, "prompt too long");
        goto out;
    }
    lcx_rope_info ri;
    if ((rc = lcx_rope_describe(&rope, (int)n, &ri, err))) {
        lcx_err_prefix(err, "%s", o->model);
        goto out;
    }
    char line[512], mem_line[512];
    if ((rc = lcx_engine_check_memory(&o->engine, m, (int)n, (int)o->chunk, mem_line,
                                      sizeof mem_line, err)))
        goto out;
    lcx_rope_info_format(&ri, line, sizeof line);
    fprintf(stderr, "model %s: %s, %d layers, gate %s, weights %s, compute F32\n%s\n%s\n",
            o->model, c->arch_name, c->n_layers, lcx_gate_name(c->gate),
            lcx_model_weight_dtype(m), line, mem_line);
    lcx_session_opts so = {.chunk = (int)o->chunk, .rope = &rope, .kv_dtype = o->engine.kv_dtype};
    if ((rc = lcx_session_new_opts(m, (int)n, &so, &s, err)))
        goto out;
    layers = calloc((size_t)c->n_layers, sizeof *layers);
    if (!layers) {
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        goto out;
    }
    lcx_probe probe = {c->n_layers, (int)(n / 2), layers};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = lcx_session_eval(s, ids, (int)n, NULL, NULL, NULL, &probe, err)))
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;

    int gated = c->gate != LCX_GATE_NONE;
    root = json_object();
    json_object_set_new(root, "model", json_string(o->model));
    json_object_set_new(root, "tokens", json_integer((json_int_t)n));
    json_object_set_new(root, "gate", json_string(lcx_gate_name(c->gate)));
    json_object_set_new(root, "rope", json_string(line));
    json_object_set_new(root, "kv_dtype", json_string(lcx_kv_dtype_name(o->engine.kv_dtype)));
    printf("%d tokens; first-token share over query positions >= %d\n", (int)n, (int)(n / 2));
    printf("layer  sink_share  max_abs_hidden%s\n", gated ? "  gate_mean  gate_lt_0.1" : "");
    json_t *figures = lcx_probe_report(c, &probe);
    json_t *jl = json_object_get(figures, "layers"), *row;
    size_t l;
    json_array_foreach(jl, l, row) {
        char label[24];
        snprintf(label, sizeof label, "%zu", l);
        print_row(gated, label, row);
    }
    print_row(gated, "mean", json_object_get(figures, "mean"));
    fprintf(stderr, "prefill: %zu tokens in %.3f s (%.1f tok/s)\n", n, secs, n / secs);
    json_object_update(root, figures);
    json_decref(figures);
    if (o->out) {
        char *text = json_dumps(root, JSON_INDENT(1));
        if (!text) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
            goto out;
        }
        rc = lcx_write_file_atomic(o->out, text, strlen(text), err);
        free(text);
    }
out:
    json_decref(root);
    free(layers);
    free(ids);
    lcx_session_free(s);
    lcx_model_free(m);
    return rc;
}

int lcx_cmd_probe(int argc, char **argv)
{
    probe_opts o;
    lcx_err err = {0};
    int rc = parse_opts(argc, argv, &o, &err);
    if (rc == -1) {
        probe_usage(stdout);
        return 0;
    }
    if (rc)
        return lcx_arg_fail("probe", &err);
    if (run_probe(&o, &err))
        return lcx_arg_fail("probe", &err);
    return 0;
}
