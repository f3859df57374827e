/* cmd_probe.c: `lcx probe`: attention-sink measurements on RULER prompts,
 * per layer:
 *   - share of attention on the first token (mean over heads and over the
 *     last half of the query positions; Qiu et al., arXiv 2505.06708),
 *   - Gu et al.'s sink metric (ICLR 2025, arXiv 2410.10781): the share of
 *     heads whose first-token weight, averaged over every query position,
 *     exceeds epsilon (--sink-eps, default 0.3),
 *   - attention entropy -sum p ln p in nats (mean over heads and the last
 *     half of the query positions), also divided by ln(keys seen),
 *   - max |hidden state| (residual stream after the layer),
 *   - for gated models: mean gate score and the fraction of scores < 0.1.
 * With --samples N each figure is the mean over N prompts (samples 0..N-1
 * of the task at the seed) with a 95% percentile-bootstrap interval over
 * the prompts; --length takes a list and runs the probe at each length
 * (with --yarn-factor auto, YaRN stretched to that length).
 *
 *   lcx probe --model DIR --length N[,N...] [--samples N] [--task niah_single_2]
 *             [--template base] [--seed S] [--sink-eps E] [--out FILE.json]
 *             [--plot FILE.svg] [--chunk N] [--kv-dtype T] [--max-memory SIZE]
 *             [rope options]
 *   lcx probe --model DIR (--prompt-file F | --prompt-ids F) [--out FILE.json]
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "common/rng.h"
#include "engine/model.h"
#include "engine/prompt.h"
#include "results/plot.h"
#include "rope/opts.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/engine_opts.h"
#include "harness/probe_report.h"
#include "tasks/tasks.h"

enum { MAX_PROBE_LENGTHS = 16 };

typedef struct probe_opts {
    const char *model, *prompt_file, *prompt_ids, *out, *task, *tmpl, *length, *plot;
    size_t chunk, samples, n_lengths;
    size_t lengths[MAX_PROBE_LENGTHS];
    double sink_eps;
    unsigned long long seed;
    lcx_rope_opts rope;
    lcx_engine_opts engine;
} probe_opts;

static void probe_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx probe --model DIR --length N[,N...] [options]\n"
            "       lcx probe --model DIR (--prompt-file F | --prompt-ids F) [options]\n"
            "  --length N[,N...]   RULER prompt length(s) in tokens (4k, 128K, 4096); a list\n"
            "                      runs the probe at each (with --yarn-factor auto: YaRN\n"
            "                      factor = length / original context at each)\n"
            "  --samples N         prompts per length: samples 0..N-1 of the task at the\n"
            "                      seed (default 1); figures are means over the prompts\n"
            "                      with 95%% percentile-bootstrap intervals (%d resamples\n"
            "                      of the prompts, seeded from --seed and the length)\n"
            "  --task NAME         RULER task of the prompts (default niah_single_2)\n"
            "  --template NAME     model template (default base)\n"
            "  --seed S            sample seed (default 0)\n"
            "  --sink-eps E        threshold of Gu et al.'s sink metric, 0 < E < 1 (default 0.3)\n"
            "  --out FILE.json     also write every figure and interval as JSON\n"
            "  --plot FILE.svg     plot first-token share, Gu sink metric and entropy /\n"
            "                      ln(keys) (mean over layers, %%) against length\n"
            "  --chunk N           prefill chunk (default 256)\n"
            "%s%s"
            "Prints per layer: attention share on the first token and attention entropy\n"
            "(mean over heads and the last half of the query positions; entropy in nats,\n"
            "and divided by ln of the keys each query sees), Gu et al.'s sink metric (share\n"
            "of heads whose first-token weight averaged over all query positions exceeds\n"
            "E), max |hidden state|, and for gated models the mean gate score and the\n"
            "fraction of gate scores < 0.1.\n",
            LCX_PROBE_RESAMPLES, lcx_engine_opts_usage(), lcx_rope_opts_usage());
}

/* "512,2k,8192": every item a length, none empty, none twice. */
static int parse_length_list(const char *spec, probe_opts *o, lcx_err *err)
{
    const char *p = spec;
    o->n_lengths = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item)
            return lcx_errf(err, LCX_EINPUT, "--length '%s': expected lengths separated by "
                            "commas, such as 512,2048,8k", spec);
        memcpy(item, p, len);
        item[len] = 0;
        size_t v;
        if (lcx_parse_length(item, &v, err))
            return lcx_err_prefix(err, "--length");
        for (size_t k = 0; k < o->n_lengths; k++)
            if (o->lengths[k] == v)
                return lcx_errf(err, LCX_EINPUT, "--length: %zu named twice", v);
        if (o->n_lengths == MAX_PROBE_LENGTHS)
            return lcx_errf(err, LCX_EINPUT, "--length: more than %d lengths", MAX_PROBE_LENGTHS);
        o->lengths[o->n_lengths++] = v;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int parse_opts(int argc, char **argv, probe_opts *o, lcx_err *err)
{
    memset(o, 0, sizeof *o);
    lcx_rope_opts_init(&o->rope);
    lcx_engine_opts_init(&o->engine);
    o->task = "niah_single_2";
    o->tmpl = "base";
    o->samples = 1;
    o->sink_eps = LCX_PROBE_SINK_EPS;
    const char *chunk = NULL, *seed = NULL, *samples = NULL, *eps = NULL;
    for (int i = 1; i < argc; i++) {
        int rc = lcx_rope_opts_parse(&o->rope, argc, argv, &i, err);
        if (!rc)
            rc = lcx_engine_opts_parse(&o->engine, argc, argv, &i, err);
        if (!rc)
            (void)((rc = lcx_arg_value(argc, argv, &i, "--model", &o->model, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--prompt-file", &o->prompt_file, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--prompt-ids", &o->prompt_ids, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--out", &o->out, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--plot", &o->plot, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--task", &o->task, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--template", &o->tmpl, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--length", &o->length, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--samples", &samples, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--sink-eps", &eps, err)) ||
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
        (seed && lcx_arg_u64("--seed", seed, &o->seed, err)) ||
        (samples && lcx_arg_size("--samples", samples, &o->samples, err)))
        return LCX_EINPUT;
    if (samples && (o->samples == 0 || o->samples > 100000))
        return lcx_errf(err, LCX_EINPUT, "--samples: expected 1 to 100000 prompts, got '%s'",
                        samples);
    if (eps) {
        char *end;
        o->sink_eps = strtod(eps, &end);
        if (end == eps || *end || !(o->sink_eps > 0 && o->sink_eps < 1))
            return lcx_errf(err, LCX_EINPUT, "--sink-eps: expected a number between 0 and 1, "
                            "got '%s'", eps);
    }
    if (!o->model)
        return lcx_errf(err, LCX_EINPUT, "--model is required");
    if (!!o->length + !!o->prompt_file + !!o->prompt_ids != 1)
        return lcx_errf(err, LCX_EINPUT, "give exactly one of --length, --prompt-file and "
                        "--prompt-ids");
    if (!o->length && o->samples != 1)
        return lcx_errf(err, LCX_EINPUT, "--samples needs --length (RULER prompts)");
    if (o->length && parse_length_list(o->length, o, err))
        return LCX_EINPUT;
    if (o->chunk > (1u << 16))
        return lcx_errf(err, LCX_EINPUT, "--chunk too large");
    return 0;
}

static size_t model_count(void *ctx, const char *text, size_t len)
{
    return lcx_tokenizer_count(ctx, text, len);
}

/* The prompts of one length: samples 0..N-1 of the task, each fitted to
 * the length with the model's tokenizer (or the one prompt of
 * --prompt-file / --prompt-ids). */
typedef struct prompt_set {
    size_t n;
    int32_t **ids;
    size_t *len;
} prompt_set;

static void prompt_set_free(prompt_set *ps)
{
    for (size_t i = 0; ps->ids && i < ps->n; i++)
        free(ps->ids[i]);
    free(ps->ids);
    free(ps->len);
    memset(ps, 0, sizeof *ps);
}

static int ruler_prompts(const lcx_model *m, const probe_opts *o, size_t length, prompt_set *ps,
                         lcx_err *err)
{
    const lcx_tokenizer *tok = lcx_model_tokenizer(m);
    if (!tok)
        return lcx_errf(err, LCX_EINPUT, "--length needs the model's tokenizer: %s (use "
                        "--prompt-ids)", lcx_model_tokenizer_note(m));
    const lcx_task *task = lcx_task_find(o->task);
    if (!task)
        return lcx_errf(err, LCX_EINPUT, "--task: unknown task '%s' (see lcx tasks)", o->task);
    const lcx_template *tmpl = lcx_template_find(o->tmpl);
    if (!tmpl)
        return lcx_errf(err, LCX_EINPUT, "--template: unknown template '%s'", o->tmpl);
    ps->ids = calloc(o->samples, sizeof *ps->ids);
    ps->len = calloc(o->samples, sizeof *ps->len);
    if (!ps->ids || !ps->len)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    ps->n = o->samples;
    lcx_data_opts dopts = {0};
    dopts.max_length = length;
    lcx_task_data *data = NULL;
    int rc = lcx_task_data_load(&dopts, &data, err);
    if (rc)
        return rc;
    lcx_counter counter = {o->model, model_count, (void *)tok, lcx_tokenizer_cut_rules(tok)};
    lcx_gen_ctx ctx = {task, data, tmpl, &counter, length, o->seed, 0};
    for (size_t i = 0; i < ps->n && !rc; i++) {
        lcx_sample sample;
        memset(&sample, 0, sizeof sample);
        rc = lcx_gen_sample(&ctx, i, &sample, err);
        if (rc)
            break;
        size_t li = strlen(sample.input), lp = strlen(sample.answer_prefix);
        char *full = malloc(li + lp + 1);
        if (!full) {
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        } else {
            memcpy(full, sample.input, li);
            memcpy(full + li, sample.answer_prefix, lp + 1);
            rc = lcx_encode_prompt(m, full, li + lp, &ps->ids[i], &ps->len[i], err);
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

/* "mean [lo, hi]" of figure key in row o, times scale, in width columns. */
static void print_cell(const json_t *o, const char *key, double scale, int prec, int width)
{
    char ci[40], cell[96];
    snprintf(ci, sizeof ci, "%s_ci", key);
    json_t *a = json_object_get(o, ci);
    snprintf(cell, sizeof cell, "%.*f [%.*f, %.*f]", prec, scale * num(o, key), prec,
             scale * json_number_value(json_array_get(a, 0)), prec,
             scale * json_number_value(json_array_get(a, 1)));
    printf("  %*s", width, cell);
}

/* One line of the table: a layer or the mean over layers. */
static void print_row(int gated, const char *label, const json_t *row)
{
    printf("%5s", label);
    print_cell(row, "sink_share", 100, 2, 22);
    print_cell(row, "gu_sink", 100, 1, 20);
    print_cell(row, "entropy", 1, 3, 22);
    print_cell(row, "entropy_norm", 1, 3, 22);
    print_cell(row, "max_abs_hidden", 1, 1, 24);
    if (gated) {
        print_cell(row, "gate_mean", 1, 3, 22);
        print_cell(row, "gate_lt_0_1", 1, 3, 22);
    }
    printf("\n");
}

static void print_header(int gated, double eps)
{
    char gu[40];
    snprintf(gu, sizeof gu, "gu_sink%% (eps %g)", eps);
    printf("%5s  %22s  %20s  %22s  %22s  %24s", "layer", "first_token%", gu, "entropy (nats)",
           "entropy/ln(keys)", "max_abs_hidden");
    if (gated)
        printf("  %22s  %22s", "gate_mean", "gate_lt_0.1");
    printf("\n");
}

/* The probe at one length: its prompts, one session, the figures of each
 * prompt and their summary. *out is the length's JSON object. */
static int probe_length(const lcx_model *m, const probe_opts *o, size_t length, int first,
                        const prompt_set *ps, json_t **out, lcx_err *err)
{
    const lcx_config *c = lcx_model_config(m);
    const int L = c->n_layers;
    lcx_session *s = NULL;
    lcx_probe_layer *layers = NULL;
    double *fig = NULL;
    json_t *summary = NULL;
    *out = NULL;
    size_t max_n = 0, min_n = SIZE_MAX, sum_n = 0;
    for (size_t i = 0; i < ps->n; i++) {
        max_n = ps->len[i] > max_n ? ps->len[i] : max_n;
        min_n = ps->len[i] < min_n ? ps->len[i] : min_n;
        sum_n += ps->len[i];
    }
    if (max_n == 0)
        return lcx_errf(err, LCX_EINPUT, "empty prompt");
    if (max_n > (size_t)1 << 28)
        return lcx_errf(err, LCX_EINPUT, "prompt too long");
    /* The RoPE of the asked length (or of the prompt): it matters with
     * --yarn-factor auto. */
    lcx_rope_params rope;
    lcx_rope_resolve(&c->rope, &o->rope, length, &rope);
    lcx_rope_info ri;
    int rc = lcx_rope_describe(&rope, (int)max_n, &ri, err);
    if (rc)
        return lcx_err_prefix(err, "%s", o->model);
    char line[512], mem_line[512];
    if ((rc = lcx_engine_check_memory(&o->engine, m, (int)max_n, (int)o->chunk, mem_line,
                                      sizeof mem_line, err)))
        return rc;
    lcx_rope_info_format(&ri, line, sizeof line);
    if (first) /* after the checks: an error stays one line */
        fprintf(stderr, "model %s: %s, %d layers, %d heads, gate %s, weights %s, compute F32\n",
                o->model, c->arch_name, c->n_layers, c->n_heads, lcx_gate_name(c->gate),
                lcx_model_weight_dtype(m));
    fprintf(stderr, "probe %zu: %s\n%s\n", length, line, mem_line);
    lcx_session_opts so = {.chunk = (int)o->chunk, .rope = &rope, .kv_dtype = o->engine.kv_dtype};
    if ((rc = lcx_session_new_opts(m, (int)max_n, &so, &s, err)))
        goto done;
    layers = calloc((size_t)L, sizeof *layers);
    fig = malloc(ps->n * (size_t)(L + 1) * LCX_PF_COUNT * sizeof *fig);
    if (!layers || !fig) {
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        goto done;
    }
    double t0 = lcx_now();
    for (size_t i = 0; i < ps->n; i++) {
        fprintf(stderr, "probe %zu: prompt %zu/%zu (%zu tokens)\n", length, i + 1, ps->n,
                ps->len[i]);
        memset(layers, 0, (size_t)L * sizeof *layers);
        lcx_probe probe = {L, (int)(ps->len[i] / 2), layers};
        lcx_session_rewind(s, 0);
        if ((rc = lcx_session_eval(s, ps->ids[i], (int)ps->len[i], NULL, NULL, NULL, &probe, err)))
            goto done;
        lcx_probe_figures(c, &probe, o->sink_eps, fig + i * (size_t)(L + 1) * LCX_PF_COUNT);
    }
    double secs = lcx_now() - t0;
    fprintf(stderr, "probe %zu: %zu prompts, %zu tokens in %.2f s\n", length, ps->n, sum_n, secs);
    unsigned long long bseed = lcx_seed_mix(o->seed, "probe-bootstrap", length, 0);
    if ((rc = lcx_probe_summary(c, L, fig, ps->n, bseed, &summary, err)))
        goto done;

    int gated = c->gate != LCX_GATE_NONE;
    printf("== length %zu: %zu prompt%s, %zu-%zu tokens; %s\n", length, ps->n,
           ps->n == 1 ? "" : "s", min_n, max_n, line);
    printf("mean over prompts [95%% bootstrap interval]; first-token share and entropy over "
           "query positions >= half the prompt, gu_sink over all\n");
    print_header(gated, o->sink_eps);
    json_t *row;
    size_t l;
    json_array_foreach(json_object_get(summary, "layers"), l, row) {
        char label[24];
        snprintf(label, sizeof label, "%zu", l);
        print_row(gated, label, row);
    }
    print_row(gated, "mean", json_object_get(summary, "mean"));

    json_t *jo = json_object();
    json_object_set_new(jo, "length", json_integer((json_int_t)length));
    json_object_set_new(jo, "rope", json_string(line));
    json_object_set_new(jo, "samples", json_integer((json_int_t)ps->n));
    json_object_set_new(jo, "tokens", json_integer((json_int_t)((sum_n + ps->n / 2) / ps->n)));
    json_object_set_new(jo, "tokens_min", json_integer((json_int_t)min_n));
    json_object_set_new(jo, "tokens_max", json_integer((json_int_t)max_n));
    json_object_update(jo, summary);
    *out = jo;
done:
    json_decref(summary);
    free(fig);
    free(layers);
    lcx_session_free(s);
    return rc;
}

/* The summary over lengths, and the plot of it. */
static int by_length(const probe_opts *o, const lcx_config *c, json_t *lengths, lcx_err *err)
{
    size_t n = json_array_size(lengths);
    if (n > 1) {
        printf("== by length (mean over layers) [95%% bootstrap interval]\n");
        printf("%7s  %22s  %20s  %22s  %22s\n", "length", "first_token%", "gu_sink%",
               "entropy (nats)", "entropy/ln(keys)");
        json_t *jl;
        size_t i;
        json_array_foreach(lengths, i, jl) {
            json_t *mean = json_object_get(jl, "mean");
            printf("%7lld", (long long)json_integer_value(json_object_get(jl, "length")));
            print_cell(mean, "sink_share", 100, 2, 22);
            print_cell(mean, "gu_sink", 100, 1, 20);
            print_cell(mean, "entropy", 1, 3, 22);
            print_cell(mean, "entropy_norm", 1, 3, 22);
            printf("\n");
        }
    }
    if (!o->plot)
        return 0;
    static const struct {
        const char *name, *key;
    } lines[] = {{"first-token share", "sink_share"},
                 {"Gu sink metric", "gu_sink"},
                 {"entropy / ln(keys)", "entropy_norm"}};
    enum { NL = sizeof lines / sizeof lines[0] };
    double *xy = malloc(2 * NL * (n ? n : 1) * sizeof *xy);
    if (!xy)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    lcx_plot_series series[NL];
    for (size_t k = 0; k < NL; k++) {
        double *x = xy + 2 * k * n, *y = x + n;
        for (size_t i = 0; i < n; i++) {
            json_t *jl = json_array_get(lengths, i);
            x[i] = (double)json_integer_value(json_object_get(jl, "length"));
            y[i] = 100 * num(json_object_get(jl, "mean"), lines[k].key);
        }
        series[k] = (lcx_plot_series){lines[k].name, n, x, y};
    }
    char title[300];
    snprintf(title, sizeof title, "Attention-sink probe by length: %s", o->model);
    /* shaded beyond the original context, where YaRN stretches it */
    int orig = o->rope.orig_ctx > 0 ? o->rope.orig_ctx
               : c->rope.orig_ctx > 0 ? c->rope.orig_ctx : c->rope.max_pos;
    int rc = lcx_plot_lines_svg(o->plot, title, "% (mean over layers and prompts)", series, NL,
                                orig > 0 ? orig : 0, err);
    free(xy);
    if (!rc)
        fprintf(stderr, "probe: wrote %s\n", o->plot);
    return rc;
}

static int run_probe(const probe_opts *o, lcx_err *err)
{
    lcx_model *m = NULL;
    prompt_set ps = {0};
    json_t *root = NULL, *lengths = json_array();
    int rc;
    if ((rc = lcx_model_load(o->model, &m, err)))
        goto out;
    const lcx_config *c = lcx_model_config(m);
    size_t n_lengths = o->length ? o->n_lengths : 1;
    for (size_t k = 0; k < n_lengths; k++) {
        size_t length;
        if (o->length) {
            length = o->lengths[k];
            rc = ruler_prompts(m, o, length, &ps, err);
        } else {
            ps.ids = calloc(1, sizeof *ps.ids);
            ps.len = calloc(1, sizeof *ps.len);
            ps.n = 1;
            rc = !ps.ids || !ps.len
                     ? lcx_errf(err, LCX_ENOMEM, "out of memory")
                     : lcx_load_prompt(m, o->prompt_ids, o->prompt_file, &ps.ids[0], &ps.len[0],
                                       err);
            length = ps.len ? ps.len[0] : 0;
        }
        json_t *jo = NULL;
        if (!rc)
            rc = probe_length(m, o, length, k == 0, &ps, &jo, err);
        prompt_set_free(&ps);
        if (rc)
            goto out;
        json_array_append_new(lengths, jo);
    }
    if ((rc = by_length(o, c, lengths, err)))
        goto out;

    /* The first length's figures at the top, where readers of a
     * single-prompt probe.json (lcx report) look; every length under
     * "lengths". */
    root = json_object();
    json_t *first = json_array_get(lengths, 0);
    json_object_set_new(root, "model", json_string(o->model));
    json_object_set_new(root, "gate", json_string(lcx_gate_name(c->gate)));
    json_object_set_new(root, "kv_dtype", json_string(lcx_kv_dtype_name(o->engine.kv_dtype)));
    if (o->length) {
        json_object_set_new(root, "task", json_string(o->task));
        json_object_set_new(root, "template", json_string(o->tmpl));
        json_object_set_new(root, "seed", json_integer((json_int_t)o->seed));
    }
    json_object_set_new(root, "samples", json_integer((json_int_t)o->samples));
    json_object_set_new(root, "sink_epsilon", json_real(o->sink_eps));
    json_object_set_new(root, "heads", json_integer(c->n_heads));
    json_object_set_new(root, "query_positions",
                        json_string("sink_share, entropy: positions >= half the prompt; "
                                    "gu_sink: all positions"));
    json_t *iv = json_object();
    json_object_set_new(iv, "method", json_string("percentile bootstrap over prompts"));
    json_object_set_new(iv, "level", json_real(0.95));
    json_object_set_new(iv, "resamples", json_integer(LCX_PROBE_RESAMPLES));
    json_object_set_new(iv, "seed", json_string("lcx_seed_mix(seed, \"probe-bootstrap\", "
                                                "length, 0), the same resamples for every figure"));
    json_object_set_new(root, "interval", iv);
    static const char *const top[] = {"tokens", "rope", "layers", "mean"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        json_object_set(root, top[i], json_object_get(first, top[i]));
    json_object_set(root, "lengths", lengths);
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
    prompt_set_free(&ps);
    json_decref(root);
    json_decref(lengths);
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
