/* cmd_complete.c: `lcx complete`: run the local engine on a prompt and print
 * the continuation, with prefill and decode speeds on stderr.
 *
 *   lcx complete --model DIR (--prompt-file F | --prompt-ids F) [--max-tokens N]
 *                [--temperature T] [--top-k K] [--top-p P] [--seed S] [--stop STR]...
 *                [--dump-logits FILE.npy] [--chunk N] [--kv-dtype T] [--max-memory SIZE]
 *                [rope options]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsio.h"
#include "common/strbuf.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "engine/npy.h"
#include "engine/prompt.h"
#include "rope/opts.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "harness/engine_opts.h"

#define MAX_STOPS 16

typedef struct complete_opts {
    const char *model, *prompt_file, *prompt_ids, *dump_logits;
    size_t max_tokens, chunk, top_k;
    unsigned long long seed;
    double temperature, top_p;
    const char *stops[MAX_STOPS];
    int n_stops;
    lcx_rope_opts rope;
    lcx_engine_opts engine;
} complete_opts;

static void complete_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx complete --model DIR (--prompt-file F | --prompt-ids F) [options]\n"
            "  --model DIR           Hugging Face model directory (config.json, safetensors)\n"
            "  --prompt-file F       prompt text (needs tokenizer.json; BOS added by it)\n"
            "  --prompt-ids F        prompt as a JSON array of token ids\n"
            "  --max-tokens N        tokens to generate (default 64)\n"
            "  --temperature T       0 = greedy (default)\n"
            "  --top-k K, --top-p P  sampling filters (default off)\n"
            "  --seed S              sampling seed (default 0)\n"
            "  --stop STR            stop string (repeatable); EOS always stops\n"
            "  --dump-logits F.npy   write logits at every prompt position, float32 [tokens, vocab]\n"
            "  --chunk N             prefill chunk (default 256)\n"
            "%s%s"
            "Compute is F32 (F16/BF16 weights converted on the fly).\n",
            lcx_engine_opts_usage(), lcx_rope_opts_usage());
}

static int parse_double_opt(const char *name, const char *v, double *out, lcx_err *err)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end)
        return lcx_errf(err, LCX_EINPUT, "%s: bad number '%s'", name, v);
    *out = d;
    return 0;
}

static int parse_opts(int argc, char **argv, complete_opts *o, lcx_err *err)
{
    memset(o, 0, sizeof *o);
    o->max_tokens = 64;
    lcx_rope_opts_init(&o->rope);
    lcx_engine_opts_init(&o->engine);
    const char *max_tokens = NULL, *chunk = NULL, *top_k = NULL, *seed = NULL, *temp = NULL,
               *top_p = NULL;
    for (int i = 1; i < argc; i++) {
        const char *stop = NULL;
        int rc = lcx_rope_opts_parse(&o->rope, argc, argv, &i, err);
        if (!rc)
            rc = lcx_engine_opts_parse(&o->engine, argc, argv, &i, err);
        if (!rc)
            (void)((rc = lcx_arg_value(argc, argv, &i, "--model", &o->model, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--prompt-file", &o->prompt_file, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--prompt-ids", &o->prompt_ids, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--dump-logits", &o->dump_logits, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--max-tokens", &max_tokens, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--chunk", &chunk, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--top-k", &top_k, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--seed", &seed, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--temperature", &temp, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--top-p", &top_p, err)) ||
                   (rc = lcx_arg_value(argc, argv, &i, "--stop", &stop, err)));
        if (rc < 0)
            return LCX_EINPUT;
        if (stop) {
            if (o->n_stops == MAX_STOPS)
                return lcx_errf(err, LCX_EINPUT, "--stop: at most %d stop strings", MAX_STOPS);
            if (!*stop)
                return lcx_errf(err, LCX_EINPUT, "--stop: empty stop string");
            o->stops[o->n_stops++] = stop;
        }
        if (rc)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return -1;
        return lcx_errf(err, LCX_EINPUT, "unknown option '%s' (try --help)", argv[i]);
    }
    if ((max_tokens && lcx_arg_size("--max-tokens", max_tokens, &o->max_tokens, err)) ||
        (chunk && lcx_arg_size("--chunk", chunk, &o->chunk, err)) ||
        (top_k && lcx_arg_size("--top-k", top_k, &o->top_k, err)) ||
        (seed && lcx_arg_u64("--seed", seed, &o->seed, err)) ||
        (temp && parse_double_opt("--temperature", temp, &o->temperature, err)) ||
        (top_p && parse_double_opt("--top-p", top_p, &o->top_p, err)))
        return LCX_EINPUT;
    if (!o->model)
        return lcx_errf(err, LCX_EINPUT, "--model is required");
    if (!o->prompt_file == !o->prompt_ids)
        return lcx_errf(err, LCX_EINPUT, "give exactly one of --prompt-file and --prompt-ids");
    if (o->rope.factor_auto)
        return lcx_errf(err, LCX_EINPUT, "--yarn-factor auto: lcx complete has no target length; "
                        "give the factor as a number");
    if (o->max_tokens > (1u << 20) || o->chunk > (1u << 16))
        return lcx_errf(err, LCX_EINPUT, "--max-tokens or --chunk too large");
    return 0;
}

typedef struct dump_ctx {
    FILE *fp;
    int vocab;
} dump_ctx;

static int dump_rows(void *ctx, int first, int n, const float *logits, lcx_err *err)
{
    (void)first;
    dump_ctx *d = ctx;
    size_t count = (size_t)n * d->vocab;
    if (fwrite(logits, sizeof(float), count, d->fp) != count)
        return lcx_errf(err, LCX_EIO, "--dump-logits: write failed");
    return 0;
}

/* The earliest stop string in text, or -1. */
static int run_complete(const complete_opts *o, lcx_err *err)
{
    lcx_model *m = NULL;
    lcx_session *s = NULL;
    int32_t *ids = NULL;
    lcx_gen_result g = {0};
    lcx_atomic_file af = {0};
    int af_open = 0, rc;
    size_t n = 0;
    if ((rc = lcx_model_load(o->model, &m, err)))
        goto out;
    const lcx_config *c = lcx_model_config(m);
    const lcx_tokenizer *tok = lcx_model_tokenizer(m);
    if ((rc = lcx_load_prompt(m, o->prompt_ids, o->prompt_file, &ids, &n, err)))
        goto out;
    if (n + o->max_tokens > (size_t)1 << 28) {
        rc = lcx_errf(err, LCX_EINPUT, "prompt plus --max-tokens too long");
        goto out;
    }
    int max_seq = (int)(n + o->max_tokens);
    lcx_rope_params rope;
    lcx_rope_info ri;
    lcx_rope_resolve(&c->rope, &o->rope, 0, &rope);
    if ((rc = lcx_rope_describe(&rope, max_seq, &ri, err))) {
        lcx_err_prefix(err, "%s", o->model);
        goto out;
    }
    char line[512], mem_line[512];
    if ((rc = lcx_engine_check_memory(&o->engine, m, max_seq, (int)o->chunk, mem_line,
                                      sizeof mem_line, err)))
        goto out;
    lcx_rope_info_format(&ri, line, sizeof line);
    fprintf(stderr, "model %s: %s, %d layers, dim %d, heads %d/%d, head_dim %d, gate %s, "
            "weights %s, compute F32\n%s\n%s\n", o->model, c->arch_name, c->n_layers, c->dim,
            c->n_heads, c->n_kv_heads, c->head_dim, lcx_gate_name(c->gate),
            lcx_model_weight_dtype(m), line, mem_line);
    if (!tok)
        fprintf(stderr, "note: %s; output is token ids\n", lcx_model_tokenizer_note(m));
    lcx_session_opts so = {.chunk = (int)o->chunk, .rope = &rope, .kv_dtype = o->engine.kv_dtype};
    if ((rc = lcx_session_new_opts(m, max_seq, &so, &s, err)))
        goto out;
    dump_ctx dc = {NULL, c->vocab_size};
    if (o->dump_logits) {
        if ((rc = lcx_atomic_open(&af, o->dump_logits, err)))
            goto out;
        af_open = 1;
        dc.fp = af.fp;
        if ((rc = lcx_npy_write_header(af.fp, n, (size_t)c->vocab_size, err)))
            goto out;
    }
    lcx_gen_opts go = {.max_tokens = o->max_tokens, .temperature = (float)o->temperature,
                       .top_k = (int)o->top_k, .top_p = (float)o->top_p, .seed = o->seed,
                       .stops = o->stops, .n_stops = o->n_stops};
    if ((rc = lcx_generate(s, m, ids, n, &go, o->dump_logits ? dump_rows : NULL, &dc, &g, err)))
        goto out;
    if (af_open) {
        af_open = 0;
        if ((rc = lcx_atomic_commit(&af, err)))
            goto out;
    }
    if (g.text) {
        fputs(g.text, stdout);
        fputc('\n', stdout);
    } else {
        fputc('[', stdout);
        for (size_t i = 0; i < g.n; i++)
            printf("%s%d", i ? ", " : "", g.ids[i]);
        fputs("]\n", stdout);
    }
    double tp = g.prefill_seconds > 0 ? g.prefill_seconds : 1e-9;
    double td = g.decode_seconds > 0 ? g.decode_seconds : 1e-9;
    fprintf(stderr, "prefill: %zu tokens in %.3f s (%.1f tok/s); decode: %zu tokens in %.3f s "
            "(%.1f tok/s); finish: %s\n", n, g.prefill_seconds, n / tp, g.n, g.decode_seconds,
            g.n / td, g.finish);
    if (o->dump_logits)
        fprintf(stderr, "logits: %s [%zu, %d] float32\n", o->dump_logits, n, c->vocab_size);
out:
    if (af_open)
        lcx_atomic_abort(&af);
    lcx_gen_result_free(&g);
    free(ids);
    lcx_session_free(s);
    lcx_model_free(m);
    return rc;
}

int lcx_cmd_complete(int argc, char **argv)
{
    complete_opts o;
    lcx_err err = {0};
    int rc = parse_opts(argc, argv, &o, &err);
    if (rc == -1) {
        complete_usage(stdout);
        return 0;
    }
    if (rc)
        return lcx_arg_fail("complete", &err);
    if (run_complete(&o, &err))
        return lcx_arg_fail("complete", &err);
    return 0;
}
