/* bench/prefill.c: lcx's side of bench/vs_llamacpp.sh, the side-by-side
 * benchmark against llama.cpp's llama-bench on the same weights.
 *
 *   build/bench/prefill write DIR
 *       Writes a random-weight, ungated Qwen3-shaped model as a Hugging Face
 *       directory (config.json, model.safetensors, tokenizer.json): hidden
 *       1024, 4 layers, 16 query / 8 KV heads of head_dim 128, FFN 3072,
 *       vocab 8192, tied embeddings (71M parameters), BF16 weights,
 *       max_position_embeddings 40960. The tokenizer is a byte-level BPE of
 *       exactly 8192 entries (256 bytes, 7935 two-byte merges, one special
 *       token) so that scripts/hf2gguf.py converts the directory for
 *       llama.cpp; its content is irrelevant, the benchmark runs token ids.
 *
 *   build/bench/prefill run DIR [--lengths 512,4096] [--decode 128]
 *                               [--threads 2,1] [--reps 3] [--chunk 512]
 *       For each thread count, each length: one chunked prefill of that many
 *       random ids into an empty cache (what llama-bench's ppN test does),
 *       then the decode test: --decode single-token steps from an empty
 *       cache (llama-bench's tgN). Each test runs --reps times, the cache
 *       emptied in between; the best and the mean are printed. Threads
 *       default to OpenMP's (OMP_NUM_THREADS); OMP_WAIT_POLICY is left to
 *       the environment, as for ./lcx. LCX_ISA forces a kernel variant.
 *
 * Output (bench/vs_llamacpp.sh parses it): '#' lines describe the model and
 * the settings, a line "dtype X" gives the weights' dtype, then one line per
 * test: name threads tokens best_tok/s mean_tok/s best_seconds reps.
 * Without arguments it prints its usage and exits 0 (bench/run.sh runs every
 * program in build/bench; bench/vs_llamacpp.sh is what runs this one). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsio.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "engine/model.h"
#include "bench/qwen3_weights.h"

#define HIDDEN 1024
#define FFN 3072
#define LAYERS 4
#define HEADS 16
#define KV_HEADS 8
#define HEAD_DIM 128
#define VOCAB 8192
#define MAX_POS 40960

#define MAX_LIST 16

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* model.safetensors, streamed: the header first, then each tensor's BF16
 * values (uniform with standard deviation 1/sqrt(cols) for matrices, about
 * 1 for norms), so the 142 MB file is never held in memory. */
static int write_weights(const char *dir, lcx_err *err)
{
    const qwen3_shape shape = {HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB,
                               HEADS * HEAD_DIM, 0};
    tensor_spec ts[3 + 11 * LAYERS];
    int n = qwen3_tensors(&shape, ts);
    strbuf hdr;
    sb_init(&hdr);
    st_header_bf16(ts, n, &hdr);
    if (hdr.oom) {
        sb_free(&hdr);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc) {
        sb_free(&hdr);
        return rc;
    }
    unsigned char hl[8];
    for (int i = 0; i < 8; i++)
        hl[i] = (unsigned char)(((uint64_t)hdr.len >> (8 * i)) & 0xff);
    int ok = fwrite(hl, 1, 8, f.fp) == 8 && fwrite(hdr.data, 1, hdr.len, f.fp) == hdr.len;
    sb_free(&hdr);
    lcx_rng rng;
    lcx_rng_seed(&rng, 7);
    uint16_t row[FFN > HIDDEN ? FFN : HIDDEN];
    for (int i = 0; i < n && ok; i++) {
        int cols = ts[i].cols ? ts[i].cols : ts[i].rows;
        int rows = ts[i].cols ? ts[i].rows : 1;
        float a = ts[i].cols ? sqrtf(3.0f / (float)ts[i].cols) : 0.0f;
        for (int r = 0; r < rows && ok; r++) {
            for (int c = 0; c < cols; c++) {
                float u = (float)(lcx_rng_double(&rng) * 2 - 1);
                row[c] = to_bf16(ts[i].cols ? a * u : 1.0f + 0.05f * u);
            }
            ok = fwrite(row, 2, (size_t)cols, f.fp) == (size_t)cols;
        }
    }
    if (!ok) {
        lcx_atomic_abort(&f);
        return lcx_errf(err, LCX_EIO, "%s: write failed", path);
    }
    return lcx_atomic_commit(&f, err);
}

/* One character of GPT-2's byte-to-unicode map, as UTF-8 JSON string
 * content: the printable bytes stand for themselves, the others for
 * U+0100 upwards in byte order. */
static void put_byte_char(strbuf *sb, int byte)
{
    int cp;
    if ((byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174) {
        cp = byte;
    } else {
        int k = 0;
        for (int b = 0; b < byte; b++)
            if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174))
                k++;
        cp = 256 + k;
    }
    if (cp == '"' || cp == '\\') {
        sb_putc(sb, '\\');
        sb_putc(sb, (char)cp);
    } else if (cp < 0x80) {
        sb_putc(sb, (char)cp);
    } else {
        sb_putc(sb, (char)(0xc0 | (cp >> 6)));
        sb_putc(sb, (char)(0x80 | (cp & 0x3f)));
    }
}

/* The bytes in GPT-2's vocabulary order: printable ones first. */
static void byte_order(int order[256])
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < 256; b++) {
            int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
            if (printable == !pass)
                order[n++] = b;
        }
}

/* tokenizer.json: byte-level BPE with VOCAB entries, structured like
 * models/tiny-baseline's (no post-processor: no BOS is added). */
static int write_tokenizer(const char *dir, lcx_err *err)
{
    int order[256];
    byte_order(order);
    const int merges = VOCAB - 256 - 1;
    strbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
                   "  \"added_tokens\": [\n    {\"id\": %d, \"content\": \"<|endoftext|>\", "
                   "\"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                   "\"normalized\": false, \"special\": true}\n  ],\n  \"normalizer\": null,\n"
                   "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                   "\"trim_offsets\": true, \"use_regex\": true},\n  \"post_processor\": null,\n"
                   "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                   "\"trim_offsets\": true, \"use_regex\": true},\n  \"model\": {\n"
                   "    \"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "
                   "\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
                   "\"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false,\n"
                   "    \"vocab\": {\n",
              VOCAB - 1);
    for (int i = 0; i < 256; i++) {
        sb_puts(&sb, "      \"");
        put_byte_char(&sb, order[i]);
        sb_printf(&sb, "\": %d,\n", i);
    }
    for (int m = 0; m < merges; m++) {
        sb_puts(&sb, "      \"");
        put_byte_char(&sb, order[m / 256]);
        put_byte_char(&sb, order[m % 256]);
        sb_printf(&sb, "\": %d%s\n", 256 + m, m + 1 < merges ? "," : "");
    }
    sb_puts(&sb, "    },\n    \"merges\": [\n");
    for (int m = 0; m < merges; m++) {
        sb_puts(&sb, "      \"");
        put_byte_char(&sb, order[m / 256]);
        sb_putc(&sb, ' ');
        put_byte_char(&sb, order[m % 256]);
        sb_printf(&sb, "\"%s\n", m + 1 < merges ? "," : "");
    }
    sb_puts(&sb, "    ]\n  }\n}\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    int rc = sb.oom ? lcx_errf(err, LCX_ENOMEM, "out of memory")
                    : lcx_write_file_atomic(path, sb.data, sb.len, err);
    sb_free(&sb);
    return rc;
}

static int write_model(const char *dir, lcx_err *err)
{
    int rc = lcx_mkdir_p(dir, err);
    if (rc || (rc = write_weights(dir, err)) || (rc = write_tokenizer(dir, err)))
        return rc;
    char cfg[2048], path[4200];
    int len = snprintf(cfg, sizeof cfg,
                       "{\"architectures\": [\"Qwen3ForCausalLM\"], \"model_type\": \"qwen3\", "
                       "\"hidden_size\": %d, \"intermediate_size\": %d, \"num_hidden_layers\": %d, "
                       "\"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"head_dim\": %d, "
                       "\"hidden_act\": \"silu\", \"vocab_size\": %d, "
                       "\"max_position_embeddings\": %d, \"rms_norm_eps\": 1e-6, "
                       "\"rope_theta\": 1000000.0, \"rope_scaling\": null, "
                       "\"tie_word_embeddings\": true, \"attention_bias\": false, "
                       "\"bos_token_id\": %d, \"eos_token_id\": %d, \"torch_dtype\": \"bfloat16\"}\n",
                       HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB, MAX_POS, VOCAB - 1,
                       VOCAB - 1);
    snprintf(path, sizeof path, "%s/config.json", dir);
    return lcx_write_file_atomic(path, cfg, (size_t)len, err);
}

/* "512,4k,16K" -> values; 0 on a malformed list. */
static int parse_list(const char *s, int *out, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || n == max)
            return 0;
        if (*end == 'k' || *end == 'K') {
            v *= 1024;
            end++;
        }
        if (v > (1 << 24) || (*end && *end != ','))
            return 0;
        out[n++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return n;
}

typedef struct timing {
    double best, sum;
    int reps;
} timing;

static void report(const char *test, int threads, int tokens, const timing *t)
{
    printf("%s %d %d %.2f %.2f %.4f %d\n", test, threads, tokens, tokens / t->best,
           tokens / (t->sum / t->reps), t->best, t->reps);
    fflush(stdout);
}

/* ppN: one chunked prefill of n random ids into an empty cache. */
static int bench_prefill(const lcx_model *m, int n, int chunk, int reps, lcx_rng *rng, timing *t,
                         lcx_err *err)
{
    const lcx_config *c = lcx_model_config(m);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)n);
    float *logits = malloc(sizeof(float) * (size_t)c->vocab_size);
    lcx_session *s = NULL;
    int rc = !ids || !logits ? lcx_errf(err, LCX_ENOMEM, "out of memory")
                             : lcx_session_new(m, n, chunk, NULL, &s, err);
    *t = (timing){0};
    for (int r = 0; r < reps && !rc; r++) {
        for (int i = 0; i < n; i++)
            ids[i] = (int32_t)lcx_rng_below(rng, (uint64_t)c->vocab_size);
        lcx_session_rewind(s, 0);
        double t0 = now_seconds();
        rc = lcx_session_eval(s, ids, n, logits, NULL, NULL, NULL, err);
        double dt = now_seconds() - t0;
        if (!t->reps || dt < t->best)
            t->best = dt;
        t->sum += dt;
        t->reps++;
    }
    lcx_session_free(s);
    free(ids);
    free(logits);
    return rc;
}

/* tgN: N single-token steps from an empty cache, each producing logits. */
static int bench_decode(const lcx_model *m, int n, int reps, lcx_rng *rng, timing *t, lcx_err *err)
{
    const lcx_config *c = lcx_model_config(m);
    float *logits = malloc(sizeof(float) * (size_t)c->vocab_size);
    lcx_session *s = NULL;
    int rc = !logits ? lcx_errf(err, LCX_ENOMEM, "out of memory")
                     : lcx_session_new(m, n, 0, NULL, &s, err);
    *t = (timing){0};
    for (int r = 0; r < reps && !rc; r++) {
        lcx_session_rewind(s, 0);
        double t0 = now_seconds();
        for (int i = 0; i < n && !rc; i++) {
            int32_t id = (int32_t)lcx_rng_below(rng, (uint64_t)c->vocab_size);
            rc = lcx_session_eval(s, &id, 1, logits, NULL, NULL, NULL, err);
        }
        double dt = now_seconds() - t0;
        if (!t->reps || dt < t->best)
            t->best = dt;
        t->sum += dt;
        t->reps++;
    }
    lcx_session_free(s);
    free(logits);
    return rc;
}

static int usage(FILE *fp)
{
    fprintf(fp, "prefill: usage: prefill write DIR | prefill run DIR [--lengths 512,4096] "
                "[--decode 128] [--threads 2,1] [--reps 3] [--chunk 512] "
                "(bench/vs_llamacpp.sh runs it)\n");
    return fp == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage(stdout);
    lcx_err err = {0};
    if (!strcmp(argv[1], "write")) {
        if (argc != 3)
            return usage(stderr);
        if (write_model(argv[2], &err)) {
            fprintf(stderr, "prefill: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    if (strcmp(argv[1], "run"))
        return usage(stderr);
    int lengths[MAX_LIST] = {512}, n_len = 1;
    int threads[MAX_LIST] = {omp_get_max_threads()}, n_thr = 1;
    int decode = 128, reps = 3, chunk = 512;
    for (int i = 3; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = v != NULL;
        if (ok && !strcmp(argv[i], "--lengths"))
            ok = (n_len = parse_list(v, lengths, MAX_LIST)) > 0;
        else if (ok && !strcmp(argv[i], "--threads"))
            ok = (n_thr = parse_list(v, threads, MAX_LIST)) > 0;
        else if (ok && !strcmp(argv[i], "--decode"))
            ok = (decode = atoi(v)) >= 0;
        else if (ok && !strcmp(argv[i], "--reps"))
            ok = (reps = atoi(v)) >= 1;
        else if (ok && !strcmp(argv[i], "--chunk"))
            ok = (chunk = atoi(v)) >= 1;
        else
            ok = 0;
        if (!ok) {
            fprintf(stderr, "prefill: bad option %s %s\n", argv[i], v ? v : "");
            return usage(stderr);
        }
    }
    lcx_model *m = NULL;
    if (lcx_model_load(argv[2], &m, &err)) {
        fprintf(stderr, "prefill: %s\n", err.msg);
        return 1;
    }
    const lcx_config *c = lcx_model_config(m);
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("# model %s: hidden %d, %d layers, heads %d/%d, head_dim %d, ffn %d, vocab %d, %s weights "
           "(%.1f MiB, %.1f MiB of them packed for the kernels), F32 KV cache\n",
           argv[2], c->dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->hidden_dim,
           c->vocab_size, lcx_model_weight_dtype(m), lcx_model_weight_bytes(m) / 1048576.0,
           lcx_model_packed_bytes(m) / 1048576.0);
    printf("# kernels %s, prefill chunk %d, best of %d, OMP_WAIT_POLICY=%s\n", lcx_model_isa(m),
           chunk, reps, wait ? wait : "(unset: libgomp's default)");
    printf("dtype %s\n", lcx_model_weight_dtype(m));
    fflush(stdout);
    lcx_rng rng;
    lcx_rng_seed(&rng, 1);
    int rc = 0;
    for (int k = 0; k < n_thr && !rc; k++) {
        omp_set_num_threads(threads[k]);
        timing t;
        char name[32];
        for (int i = 0; i < n_len && !rc; i++) {
            if (!(rc = bench_prefill(m, lengths[i], chunk, reps, &rng, &t, &err))) {
                snprintf(name, sizeof name, "pp%d", lengths[i]);
                report(name, threads[k], lengths[i], &t);
            }
        }
        if (!rc && decode > 0 && !(rc = bench_decode(m, decode, reps, &rng, &t, &err))) {
            snprintf(name, sizeof name, "tg%d", decode);
            report(name, threads[k], decode, &t);
        }
    }
    if (rc)
        fprintf(stderr, "prefill: %s\n", err.msg);
    lcx_model_free(m);
    return rc ? 1 : 0;
}
