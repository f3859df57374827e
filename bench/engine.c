/* bench/engine.c: prefill speed of the local engine at long contexts.
 *
 *   build/bench/engine [LENGTH...]      default 4k 16k 64k 128k
 *
 * Writes a small random model (Qwen3-style, hidden 256, 2 layers, 4 query /
 * 2 KV heads of head_dim 64, headwise gate; see make_model) as BF16 safetensors into a temporary
 * directory, then for each length runs one chunked prefill (logits of the
 * last token only) and prints tokens/s, the attention kernel's GFLOPS
 * (4 * head_dim * heads * causal pairs / time inside attention_tiled), and
 * peak resident memory (VmHWM) against weights + KV cache. Lengths run in
 * increasing order, so VmHWM after each is that length's peak. Runs with
 * OMP_WAIT_POLICY=passive unless the environment sets a policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "engine/model.h"
#include "bench/qwen3_weights.h"

#define HIDDEN 256
#define FFN 512
#define LAYERS 2
#define HEADS 4
#define KV_HEADS 2
#define HEAD_DIM 64
#define VOCAB 512

static int make_model(const char *dir, lcx_err *err)
{
    const qwen3_shape shape = {HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB,
                               HEADS * HEAD_DIM + HEADS /* headwise gate */, 1};
    tensor_spec ts[3 + 11 * LAYERS];
    int n = qwen3_tensors(&shape, ts);
    strbuf hdr, data;
    sb_init(&hdr);
    sb_init(&data);
    st_header_bf16(ts, n, &hdr);
    lcx_rng rng;
    lcx_rng_seed(&rng, 7);
    for (int i = 0; i < n; i++) {
        size_t count = (size_t)ts[i].rows * (ts[i].cols ? ts[i].cols : 1);
        float scale = ts[i].cols ? 2.0f / (float)ts[i].cols : 0.0f;
        for (size_t k = 0; k < count; k++) {
            float v = ts[i].cols ? (float)(lcx_rng_double(&rng) * 2 - 1) * scale * 1.7f * 8.0f
                                 : 1.0f + 0.1f * (float)(lcx_rng_double(&rng) - 0.5);
            uint16_t b = to_bf16(v);
            sb_append(&data, (const char *)&b, 2);
        }
    }
    strbuf file;
    sb_init(&file);
    uint64_t hl = hdr.len;
    for (int i = 0; i < 8; i++)
        sb_putc(&file, (char)((hl >> (8 * i)) & 0xff));
    sb_append(&file, hdr.data, hdr.len);
    sb_append(&file, data.data, data.len);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = file.oom ? lcx_errf(err, LCX_ENOMEM, "out of memory")
                      : lcx_write_file_atomic(path, file.data, file.len, err);
    sb_free(&hdr);
    sb_free(&data);
    sb_free(&file);
    if (rc)
        return rc;
    char cfg[2048];
    int len = snprintf(cfg, sizeof cfg,
                       "{\"architectures\": [\"Qwen3ForCausalLM\"], \"hidden_size\": %d, "
                       "\"intermediate_size\": %d, \"num_hidden_layers\": %d, "
                       "\"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"head_dim\": %d, "
                       "\"vocab_size\": %d, \"max_position_embeddings\": 32768, "
                       "\"rms_norm_eps\": 1e-6, \"rope_theta\": 1000000.0, "
                       "\"headwise_attn_output_gate\": true, \"rope_scaling\": {\"rope_type\": "
                       "\"yarn\", \"factor\": 4.0, \"original_max_position_embeddings\": 32768}}\n",
                       HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB);
    snprintf(path, sizeof path, "%s/config.json", dir);
    return lcx_write_file_atomic(path, cfg, (size_t)len, err);
}

static long vm_hwm_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, "VmHWM:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (fp)
        fclose(fp);
    return kib;
}

static int parse_len(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        v *= 1024;
    return (int)v;
}

int main(int argc, char **argv)
{
    /* libgomp reads its wait policy at start-up: on this shared 2-core
     * machine spinning threads lose their time slices to other jobs, so
     * run with passive waiting unless the caller chose a policy. */
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        execv("/proc/self/exe", argv);
    }
    int lengths[16] = {4096, 16384, 65536, 131072}, n_len = 4;
    if (argc > 1) {
        n_len = 0;
        for (int i = 1; i < argc && n_len < 16; i++)
            lengths[n_len++] = parse_len(argv[i]);
    }
    char dir[] = "/tmp/lcx-bench-engine-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    lcx_err err = {0};
    lcx_model *m = NULL;
    int rc = make_model(dir, &err);
    if (!rc)
        rc = lcx_model_load(dir, &m, &err);
    if (rc) {
        fprintf(stderr, "bench engine: %s\n", err.msg);
        return 1;
    }
    const lcx_config *c = lcx_model_config(m);
    printf("model: Qwen3-style, hidden %d, %d layers, heads %d/%d, head_dim %d, ffn %d, vocab %d, "
           "headwise gate, BF16 weights (%.2f MiB), F32 compute, yarn x4\n",
           c->dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->hidden_dim,
           c->vocab_size, lcx_model_weight_bytes(m) / 1048576.0);
    printf("OMP_WAIT_POLICY=%s, OMP_NUM_THREADS=%s\n", getenv("OMP_WAIT_POLICY"),
           getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "(all cores)");
    printf("%8s %12s %14s %12s %12s %14s\n", "tokens", "prefill_s", "prefill_tok/s", "attn_GFLOPS",
           "VmHWM_MiB", "weights+KV_MiB");
    lcx_rng rng;
    lcx_rng_seed(&rng, 1);
    for (int k = 0; k < n_len; k++) {
        int n = lengths[k];
        int32_t *ids = malloc(sizeof(int32_t) * (size_t)n);
        float *logits = malloc(sizeof(float) * (size_t)c->vocab_size);
        for (int i = 0; i < n; i++)
            ids[i] = (int32_t)lcx_rng_below(&rng, (uint64_t)c->vocab_size);
        lcx_session *s = NULL;
        if ((rc = lcx_session_new(m, n, 512, NULL, &s, &err)) ||
            (rc = lcx_session_eval(s, ids, n, logits, NULL, NULL, NULL, &err))) {
            fprintf(stderr, "bench engine: %s\n", err.msg);
            break;
        }
        lcx_session_stats st = lcx_session_get_stats(s);
        double need = (lcx_model_weight_bytes(m) + lcx_session_kv_bytes(s)) / 1048576.0;
        printf("%8d %12.3f %14.1f %12.1f %12.1f %14.1f\n", n, st.total_seconds,
               n / st.total_seconds, st.attn_flops / st.attn_seconds * 1e-9,
               vm_hwm_kib() / 1024.0, need);
        fflush(stdout);
        lcx_session_free(s);
        free(ids);
        free(logits);
    }
    lcx_model_free(m);
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    return rc ? 1 : 0;
}
