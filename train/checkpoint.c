/* checkpoint.c: training checkpoints and Hugging Face export (see
 * checkpoint.h). */
#include "train/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/sha256.h"
#include "common/strbuf.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoints and safetensors are written as little-endian host floats"
#endif

enum {
    CKPT_HEADER = 256,     /* bytes of header */
    CKPT_HASHED = 224,     /* header bytes covered by the header checksum */
    CKPT_VERSION = 1,
    CKPT_BLOCK = 1 << 20   /* data bytes per block checksum */
};
static const char ckpt_magic[8] = {'L', 'C', 'X', 'C', 'K', 'P', 'T', '1'};

/* ---- little-endian fields ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(p, v);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static double get_f64(const uint8_t *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* Header field offsets. */
enum {
    H_MAGIC = 0, H_VERSION = 8, H_HEADER_BYTES = 12,
    H_CONFIG = 16,    /* 10 x u32: vocab, dim, hidden, layers, heads, kv, head_dim, max_seq, tie, gate */
    H_THETA = 56, H_EPS = 64, H_STEP = 72,
    H_RNG = 80,       /* 4 x u64 */
    H_OPTIM = 112,    /* 7 x f64: lr, min_lr, beta1, beta2, eps, weight_decay, grad_clip */
    H_WARMUP = 168, H_TOTAL = 176, H_NPARAMS = 184, H_FILE_SIZE = 192,
    H_SHA = CKPT_HASHED
};

static void header_encode(uint8_t *h, const train_model *m, const train_state *st,
                          uint64_t file_size)
{
    const train_config *c = &m->config;
    memset(h, 0, CKPT_HEADER);
    memcpy(h + H_MAGIC, ckpt_magic, 8);
    put_u32(h + H_VERSION, CKPT_VERSION);
    put_u32(h + H_HEADER_BYTES, CKPT_HEADER);
    int cfg[10] = {c->vocab_size, c->dim,     c->hidden_dim, c->n_layers,       c->n_heads,
                   c->n_kv_heads, c->head_dim, c->max_seq,   c->tie_embeddings, (int)c->gate};
    for (int i = 0; i < 10; i++)
        put_u32(h + H_CONFIG + 4 * i, (uint32_t)cfg[i]);
    put_f64(h + H_THETA, c->rope_theta);
    put_f64(h + H_EPS, c->norm_eps);
    put_u64(h + H_STEP, (uint64_t)st->step);
    for (int i = 0; i < 4; i++)
        put_u64(h + H_RNG + 8 * i, st->rng.s[i]);
    const train_optim *o = &st->optim;
    double od[7] = {o->lr, o->min_lr, o->beta1, o->beta2, o->eps, o->weight_decay, o->grad_clip};
    for (int i = 0; i < 7; i++)
        put_f64(h + H_OPTIM + 8 * i, od[i]);
    put_u64(h + H_WARMUP, (uint64_t)o->warmup_steps);
    put_u64(h + H_TOTAL, (uint64_t)o->total_steps);
    put_u64(h + H_NPARAMS, m->num_params);
    put_u64(h + H_FILE_SIZE, file_size);
    lcx_sha256 s;
    lcx_sha256_init(&s);
    lcx_sha256_update(&s, h, CKPT_HASHED);
    lcx_sha256_final(&s, h + H_SHA);
}

static uint64_t ckpt_data_end(size_t num_params)
{
    return CKPT_HEADER + 3 * (uint64_t)num_params * sizeof(float);
}

static uint64_t ckpt_blocks(size_t num_params)
{
    return (ckpt_data_end(num_params) - CKPT_HEADER + CKPT_BLOCK - 1) / CKPT_BLOCK;
}

static uint64_t ckpt_file_size(size_t num_params)
{
    return ckpt_data_end(num_params) + 32 * ckpt_blocks(num_params) + 32;
}

/* ---- save ---- */

/* Writes data and hashes it in CKPT_BLOCK blocks into table. */
typedef struct block_writer {
    FILE *fp;
    lcx_sha256 sha;
    size_t in_block;
    uint8_t *table;
    size_t n_blocks;
} block_writer;

static void block_write(block_writer *w, const void *data, size_t len)
{
    const uint8_t *p = data;
    fwrite(p, 1, len, w->fp);
    while (len) {
        size_t take = CKPT_BLOCK - w->in_block < len ? CKPT_BLOCK - w->in_block : len;
        lcx_sha256_update(&w->sha, p, take);
        w->in_block += take;
        p += take;
        len -= take;
        if (w->in_block == CKPT_BLOCK) {
            lcx_sha256_final(&w->sha, w->table + 32 * w->n_blocks++);
            lcx_sha256_init(&w->sha);
            w->in_block = 0;
        }
    }
}

int train_checkpoint_save(const char *path, const train_model *m, const train_state *st,
                          lcx_err *err)
{
    uint64_t blocks = ckpt_blocks(m->num_params);
    block_writer w = {.table = malloc(32 * blocks + 1)};
    if (!w.table)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    uint8_t header[CKPT_HEADER];
    header_encode(header, m, st, ckpt_file_size(m->num_params));
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc) {
        free(w.table);
        return rc;
    }
    fwrite(header, 1, CKPT_HEADER, f.fp);
    w.fp = f.fp;
    lcx_sha256_init(&w.sha);
    size_t bytes = m->num_params * sizeof(float);
    block_write(&w, m->params_memory, bytes);
    block_write(&w, m->m_memory, bytes);
    block_write(&w, m->v_memory, bytes);
    if (w.in_block)
        lcx_sha256_final(&w.sha, w.table + 32 * w.n_blocks++);
    uint8_t table_sha[32];
    lcx_sha256 s;
    lcx_sha256_init(&s);
    lcx_sha256_update(&s, w.table, 32 * w.n_blocks);
    lcx_sha256_final(&s, table_sha);
    fwrite(w.table, 1, 32 * w.n_blocks, f.fp);
    fwrite(table_sha, 1, 32, f.fp);
    free(w.table);
    if (w.n_blocks != blocks) {
        lcx_atomic_abort(&f);
        return lcx_errf(err, LCX_EINTERNAL, "%s: block count %zu != %llu", path, w.n_blocks,
                        (unsigned long long)blocks);
    }
    return lcx_atomic_commit(&f, err);
}

/* ---- load ---- */

static int sha_equal(const uint8_t *data, size_t len, const uint8_t *want)
{
    uint8_t got[32];
    lcx_sha256 s;
    lcx_sha256_init(&s);
    lcx_sha256_update(&s, data, len);
    lcx_sha256_final(&s, got);
    return memcmp(got, want, 32) == 0;
}

static int verify(const char *path, const uint8_t *buf, size_t len, lcx_err *err)
{
    if (len < CKPT_HEADER)
        return lcx_errf(err, LCX_EINPUT, "%s: truncated at offset %zu (the checkpoint header is "
                        "%d bytes)", path, len, CKPT_HEADER);
    if (memcmp(buf, ckpt_magic, 8) != 0)
        return lcx_errf(err, LCX_EINPUT, "%s: not a training checkpoint (bad magic at offset 0)",
                        path);
    if (!sha_equal(buf, CKPT_HASHED, buf + H_SHA))
        return lcx_errf(err, LCX_EINPUT, "%s: header checksum mismatch (bytes [0, %d)): corrupt "
                        "checkpoint", path, CKPT_HASHED);
    if (get_u32(buf + H_VERSION) != CKPT_VERSION)
        return lcx_errf(err, LCX_EINPUT, "%s: unsupported checkpoint version %u at offset %d",
                        path, get_u32(buf + H_VERSION), H_VERSION);
    uint64_t np = get_u64(buf + H_NPARAMS), size = get_u64(buf + H_FILE_SIZE);
    if (np > ((uint64_t)1 << 40) || size != ckpt_file_size(np))
        return lcx_errf(err, LCX_EINPUT, "%s: inconsistent sizes in the header at offset %d",
                        path, H_NPARAMS);
    if (len < size)
        return lcx_errf(err, LCX_EINPUT, "%s: truncated at offset %zu (expected %llu bytes)", path,
                        len, (unsigned long long)size);
    if (len > size)
        return lcx_errf(err, LCX_EINPUT, "%s: %zu unexpected trailing bytes at offset %llu", path,
                        len - (size_t)size, (unsigned long long)size);
    uint64_t data_end = ckpt_data_end(np), blocks = ckpt_blocks(np);
    const uint8_t *table = buf + data_end;
    if (!sha_equal(table, 32 * blocks, table + 32 * blocks))
        return lcx_errf(err, LCX_EINPUT, "%s: checksum mismatch in the block table (bytes [%llu, "
                        "%llu)): corrupt checkpoint", path, (unsigned long long)data_end,
                        (unsigned long long)size);
    for (uint64_t b = 0; b < blocks; b++) {
        uint64_t start = CKPT_HEADER + b * CKPT_BLOCK;
        uint64_t end = start + CKPT_BLOCK < data_end ? start + CKPT_BLOCK : data_end;
        if (!sha_equal(buf + start, end - start, table + 32 * b))
            return lcx_errf(err, LCX_EINPUT, "%s: checksum mismatch in bytes [%llu, %llu): "
                            "corrupt checkpoint", path, (unsigned long long)start,
                            (unsigned long long)end);
    }
    return 0;
}

int train_checkpoint_parse(const void *data, size_t len, const char *path, int B, int T,
                           train_model *m, train_state *st, lcx_err *err)
{
    memset(m, 0, sizeof *m);
    const uint8_t *buf = data;
    int rc = verify(path, buf, len, err);
    if (rc)
        return rc;
    uint64_t step = get_u64(buf + H_STEP);
    if (step > (uint64_t)LONG_MAX)
        return lcx_errf(err, LCX_EINPUT, "%s: step %lld at offset %d is negative: corrupt "
                        "checkpoint", path, (long long)step, H_STEP);
    train_config c = {0};
    int *cfg[10] = {&c.vocab_size, &c.dim,      &c.hidden_dim, &c.n_layers,       &c.n_heads,
                    &c.n_kv_heads, &c.head_dim, &c.max_seq,    &c.tie_embeddings, NULL};
    for (int i = 0; i < 9; i++)
        *cfg[i] = (int)get_u32(buf + H_CONFIG + 4 * i);
    c.gate = (train_gate)get_u32(buf + H_CONFIG + 36);
    c.rope_theta = get_f64(buf + H_THETA);
    c.norm_eps = get_f64(buf + H_EPS);
    if ((rc = train_config_check(&c, err))) {
        lcx_err_prefix(err, "%s", path);
        return rc;
    }
    /* Before anything is allocated for the config: a small file must not
     * make a huge model. */
    if (train_config_num_params(&c) != get_u64(buf + H_NPARAMS))
        return lcx_errf(err, LCX_EINPUT, "%s: parameter count at offset %d does not match the "
                        "config", path, H_NPARAMS);
    if ((rc = train_model_init(m, &c, B, T, 0, err))) {
        lcx_err_prefix(err, "%s", path);
        return rc;
    }
    size_t bytes = m->num_params * sizeof(float);
    memcpy(m->params_memory, buf + CKPT_HEADER, bytes);
    memcpy(m->m_memory, buf + CKPT_HEADER + bytes, bytes);
    memcpy(m->v_memory, buf + CKPT_HEADER + 2 * bytes, bytes);
    st->step = (long)step;
    for (int i = 0; i < 4; i++)
        st->rng.s[i] = get_u64(buf + H_RNG + 8 * i);
    train_optim *o = &st->optim;
    double *od[7] = {&o->lr, &o->min_lr, &o->beta1, &o->beta2, &o->eps, &o->weight_decay,
                     &o->grad_clip};
    for (int i = 0; i < 7; i++)
        *od[i] = get_f64(buf + H_OPTIM + 8 * i);
    o->warmup_steps = (long)get_u64(buf + H_WARMUP);
    o->total_steps = (long)get_u64(buf + H_TOTAL);
    return 0;
}

int train_checkpoint_load(const char *path, int B, int T, train_model *m, train_state *st,
                          lcx_err *err)
{
    memset(m, 0, sizeof *m);
    char *raw;
    size_t len;
    int rc = lcx_read_file(path, &raw, &len, err);
    if (rc)
        return rc;
    rc = train_checkpoint_parse(raw, len, path, B, T, m, st, err);
    free(raw);
    return rc;
}

/* ---- export ---- */

uint16_t train_f32_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu))
        return (uint16_t)((u >> 16) | 0x0040); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);           /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float train_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* Shortest decimal that reads back as d. */
static void put_double(strbuf *sb, double d)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* JSON wants a digit before an exponent or a dot: %g gives that. */
    sb_puts(sb, tmp);
}

static char *config_json(const train_config *c, const train_export_opts *o)
{
    strbuf sb;
    sb_init(&sb);
    sb_printf(&sb, "{\n  \"architectures\": [\"Qwen3ForCausalLM\"],\n  \"model_type\": \"qwen3\",\n");
    sb_printf(&sb, "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n", c->dim, c->hidden_dim);
    sb_printf(&sb, "  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n", c->n_layers,
              c->n_heads);
    sb_printf(&sb, "  \"num_key_value_heads\": %d,\n  \"head_dim\": %d,\n", c->n_kv_heads,
              c->head_dim);
    sb_printf(&sb, "  \"hidden_act\": \"silu\",\n  \"vocab_size\": %d,\n", c->vocab_size);
    sb_printf(&sb, "  \"max_position_embeddings\": %d,\n  \"rms_norm_eps\": ", c->max_seq);
    put_double(&sb, c->norm_eps);
    sb_puts(&sb, ",\n  \"rope_theta\": ");
    put_double(&sb, c->rope_theta);
    sb_printf(&sb, ",\n  \"rope_scaling\": null,\n  \"tie_word_embeddings\": %s,\n",
              c->tie_embeddings ? "true" : "false");
    sb_printf(&sb, "  \"attention_bias\": false,\n  \"attention_dropout\": 0.0,\n"
                   "  \"use_sliding_window\": false,\n  \"sliding_window\": null,\n"
                   "  \"max_window_layers\": %d,\n", c->n_layers);
    if (o->bos_id >= 0)
        sb_printf(&sb, "  \"bos_token_id\": %d,\n", o->bos_id);
    if (o->eos_id >= 0)
        sb_printf(&sb, "  \"eos_token_id\": %d,\n", o->eos_id);
    if (c->gate == TRAIN_GATE_HEADWISE)
        sb_puts(&sb, "  \"headwise_attn_output_gate\": true,\n");
    if (c->gate == TRAIN_GATE_ELEMENTWISE)
        sb_puts(&sb, "  \"elementwise_attn_output_gate\": true,\n");
    sb_printf(&sb, "  \"torch_dtype\": \"%s\",\n  \"use_cache\": true\n}\n",
              o->dtype == TRAIN_DT_BF16 ? "bfloat16" : "float32");
    if (sb.oom) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

static int write_safetensors(const train_model *m, const char *path, train_dtype dt, lcx_err *err)
{
    int n = train_model_tensors(m, NULL, 0);
    train_tensor *ts = calloc((size_t)n, sizeof *ts);
    if (!ts)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    train_model_tensors(m, ts, n);
    size_t el = dt == TRAIN_DT_BF16 ? 2 : 4;
    strbuf hdr;
    sb_init(&hdr);
    sb_puts(&hdr, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t count = (size_t)ts[i].shape[0] * (ts[i].ndim == 2 ? (size_t)ts[i].shape[1] : 1);
        sb_printf(&hdr, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d", ts[i].name,
                  dt == TRAIN_DT_BF16 ? "BF16" : "F32", ts[i].shape[0]);
        if (ts[i].ndim == 2)
            sb_printf(&hdr, ",%d", ts[i].shape[1]);
        sb_printf(&hdr, "],\"data_offsets\":[%zu,%zu]}", off, off + count * el);
        off += count * el;
    }
    sb_putc(&hdr, '}');
    while (hdr.len % 8) /* data 8-byte aligned, as the reference writer does */
        sb_putc(&hdr, ' ');
    if (hdr.oom) {
        sb_free(&hdr);
        free(ts);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    }
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc) {
        sb_free(&hdr);
        free(ts);
        return rc;
    }
    uint8_t len8[8];
    put_u64(len8, hdr.len);
    fwrite(len8, 1, 8, f.fp);
    fwrite(hdr.data, 1, hdr.len, f.fp);
    for (int i = 0; i < n; i++) {
        size_t count = (size_t)ts[i].shape[0] * (ts[i].ndim == 2 ? (size_t)ts[i].shape[1] : 1);
        if (dt == TRAIN_DT_F32) {
            fwrite(ts[i].data, sizeof(float), count, f.fp);
            continue;
        }
        uint16_t chunk[4096];
        for (size_t j = 0; j < count; j += 4096) {
            size_t k = count - j < 4096 ? count - j : 4096;
            for (size_t q = 0; q < k; q++)
                chunk[q] = train_f32_to_bf16(ts[i].data[j + q]);
            fwrite(chunk, 2, k, f.fp);
        }
    }
    sb_free(&hdr);
    free(ts);
    return lcx_atomic_commit(&f, err);
}

/* Remove a directory of plain files (what export writes). */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4352];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int train_export_hf(const train_model *m, const char *dir_arg, const train_export_opts *o,
                    lcx_err *err)
{
    char dir[4001], tmp[4160], path[4300];
    size_t n = strlen(dir_arg);
    while (n > 1 && dir_arg[n - 1] == '/') /* "out/" names out, not a file in it */
        n--;
    if (n == 0 || n > 4000 || (n == 1 && dir_arg[0] == '/'))
        return lcx_errf(err, LCX_EINPUT, "export directory name '%.60s' is empty, the root or "
                        "too long", dir_arg);
    memcpy(dir, dir_arg, n);
    dir[n] = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
    remove_flat_dir(tmp); /* left by an earlier crash of this pid */
    if (mkdir(tmp, 0777) != 0)
        return lcx_errf(err, LCX_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    int rc = 0;
    char *cfg = config_json(&m->config, o);
    if (!cfg) {
        rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", dir);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/config.json", tmp);
    rc = lcx_write_file_atomic(path, cfg, strlen(cfg), err);
    free(cfg);
    if (rc)
        goto fail;
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    if ((rc = write_safetensors(m, path, o->dtype, err)))
        goto fail;
    if (o->tokenizer_json) {
        snprintf(path, sizeof path, "%s/tokenizer.json", tmp);
        if ((rc = lcx_write_file_atomic(path, o->tokenizer_json, strlen(o->tokenizer_json), err)))
            goto fail;
    }
    /* Into place: a plain rename when dir is new, else an atomic exchange
     * with the old directory, which is then removed. */
    if (rename(tmp, dir) == 0)
        return 0;
    if (errno != EEXIST && errno != ENOTEMPTY) {
        rc = lcx_errf(err, LCX_EIO, "%s: cannot rename %s into place: %s", dir, tmp,
                      strerror(errno));
        goto fail;
    }
    if (!lcx_is_dir(dir)) {
        rc = lcx_errf(err, LCX_EIO, "%s: exists and is not a directory", dir);
        goto fail;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
        rc = lcx_errf(err, LCX_EIO, "%s: cannot replace the existing directory: %s", dir,
                      strerror(errno));
        goto fail;
    }
    remove_flat_dir(tmp); /* the old model */
    return 0;
fail:
    remove_flat_dir(tmp);
    return rc;
}
