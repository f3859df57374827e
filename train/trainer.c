/* trainer.c: the training run behind `lcx train` (see trainer.h). */
#include "train/trainer.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "common/svg.h"
#include "tokenizer/tokenizer.h"
#include "tasks/tasks.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/vocab.h"

#define SEED_SPAN 1000000000ull /* training seeds: [1e9, 2e9); held-out: +1e9 */
enum { EVAL_BATCH = 4, MIN_SEQ_LEN = 16 };

void trainer_opts_default(trainer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gate = TRAIN_GATE_NONE;
    o->dim = 192;
    o->layers = 4;
    o->heads = 6;
    o->kv_heads = 2;
    o->head_dim = 0; /* dim / heads */
    o->ffn = 512;
    o->vocab_merges = 2000;
    o->steps = 4000; /* the bundled pair: 1 h 52 min for both at once on the 2-core reference machine */
    o->batch = 16;
    o->phases[0] = (trainer_phase){0, 128};
    o->phases[1] = (trainer_phase){300, 256};
    o->phases[2] = (trainer_phase){900, 512};
    o->n_phases = 3;
    o->lr = 2e-3;
    o->min_lr = 2e-4;
    o->warmup = 100;
    o->weight_decay = 0.1;
    o->clip = 1.0;
    o->seed = LCX_TRAIN_SEED_MIN;
    o->prompt_weight = 0.05;
    o->rounds = 8;
    o->eval_every = 200;
    o->ckpt_every = 100;
    o->eval_samples = 64;
    /* Retrieval with distractor keys weighs most (README, "The bundled models"). */
    snprintf(o->mix, sizeof o->mix, "%s",
             "niah_single_1:2,niah_single_2:2,niah_single_3:2,niah_multikey_1:3,niah_multikey_2:3,"
             "niah_multikey_3:2,niah_multivalue:2,niah_multiquery:3,vt:1,cwe:1,fwe:1,qa_1:1,qa_2:1");
}

int trainer_parse_mix(const char *s, lcx_data_mix *out, size_t max, size_t *n, lcx_err *err)
{
    *n = 0;
    if (!strcmp(s, "all"))
        return 0;
    const char *p = s;
    while (*p) {
        const char *colon = strchr(p, ':');
        char name[64];
        if (!colon || (size_t)(colon - p) >= sizeof name)
            return lcx_errf(err, LCX_EINPUT, "option --mix: '%.80s' is not all or TASK:WEIGHT[,...]", s);
        memcpy(name, p, (size_t)(colon - p));
        name[colon - p] = 0;
        const lcx_task *t = lcx_task_find(name);
        if (!t)
            return lcx_errf(err, LCX_EINPUT, "option --mix: unknown task '%s'", name);
        char *end;
        double w = strtod(colon + 1, &end);
        if (end == colon + 1 || (*end && *end != ',') || !(w > 0 && w < 1e6))
            return lcx_errf(err, LCX_EINPUT, "option --mix: %s needs a positive weight", name);
        if (*n == max)
            return lcx_errf(err, LCX_EINPUT, "option --mix: more than %zu tasks", max);
        out[(*n)++] = (lcx_data_mix){t->name, w};
        p = *end ? end + 1 : end;
    }
    if (!*n)
        return lcx_errf(err, LCX_EINPUT, "option --mix: empty");
    return 0;
}

int trainer_parse_schedule(const char *s, trainer_opts *o, lcx_err *err)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        if (n == TRAINER_MAX_PHASES)
            return lcx_errf(err, LCX_EINPUT, "option --seq-len: more than %d stages in '%.80s'",
                            TRAINER_MAX_PHASES, s);
        long len = strtol(p, &end, 10);
        if (end == p || *end != ':')
            return lcx_errf(err, LCX_EINPUT, "option --seq-len: '%.80s' is not LEN:STEP[,LEN:STEP...]", s);
        p = end + 1;
        long step = strtol(p, &end, 10);
        if (end == p || (*end && *end != ','))
            return lcx_errf(err, LCX_EINPUT, "option --seq-len: '%.80s' is not LEN:STEP[,LEN:STEP...]", s);
        if (len < 0 || len > 1 << 20 || step < 0)
            return lcx_errf(err, LCX_EINPUT, "option --seq-len: stage %d (%ld:%ld) is out of range", n + 1,
                            len, step);
        o->phases[n++] = (trainer_phase){step, (int)len};
        p = *end ? end + 1 : end;
    }
    if (n == 0)
        return lcx_errf(err, LCX_EINPUT, "option --seq-len: empty schedule");
    o->n_phases = n;
    return 0;
}

static int head_dim_of(const trainer_opts *o)
{
    return o->head_dim ? o->head_dim : (o->heads > 0 ? o->dim / o->heads : 0);
}

static int max_seq_len(const trainer_opts *o)
{
    int T = 0;
    for (int k = 0; k < o->n_phases; k++)
        T = o->phases[k].seq_len > T ? o->phases[k].seq_len : T;
    return T;
}

int trainer_check(const trainer_opts *o, lcx_err *err)
{
    struct {
        const char *name;
        long value, lo, hi;
    } ints[] = {{"--dim", o->dim, 8, 8192},          {"--layers", o->layers, 1, 256},
                {"--heads", o->heads, 1, 256},       {"--kv-heads", o->kv_heads, 1, 256},
                {"--head-dim", o->head_dim, 0, 1024}, {"--ffn", o->ffn, 1, 65536},
                {"--vocab-merges", (long)o->vocab_merges, 0, 100000},
                {"--steps", o->steps, 1, 100000000}, {"--batch", o->batch, 1, 4096},
                {"--warmup", o->warmup, 0, 100000000}, {"--eval-every", o->eval_every, 0, 100000000},
                {"--ckpt-every", o->ckpt_every, 0, 100000000},
                {"--eval-samples", o->eval_samples, 1, 4096}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (ints[i].value < ints[i].lo || ints[i].value > ints[i].hi)
            return lcx_errf(err, LCX_EINPUT, "option %s: %ld is not in [%ld, %ld]", ints[i].name,
                            ints[i].value, ints[i].lo, ints[i].hi);
    if (o->vocab_merges > 100000)
        return lcx_errf(err, LCX_EINPUT, "option --vocab-merges: %zu is not in [0, 100000]", o->vocab_merges);
    if (!o->head_dim && o->dim % o->heads)
        return lcx_errf(err, LCX_EINPUT, "option --heads: %d does not divide --dim %d (or give --head-dim)",
                        o->heads, o->dim);
    if (o->heads % o->kv_heads)
        return lcx_errf(err, LCX_EINPUT, "option --kv-heads: %d does not divide --heads %d", o->kv_heads,
                        o->heads);
    int hd = head_dim_of(o);
    if (hd < 2 || hd % 2)
        return lcx_errf(err, LCX_EINPUT, "option --head-dim: %d is not even and >= 2 (RoPE pairs "
                        "dimensions)", hd);
    for (int k = 0; k < o->n_phases; k++) {
        const trainer_phase *ph = &o->phases[k];
        if (ph->seq_len < MIN_SEQ_LEN || ph->seq_len > LCX_DATA_MAX_T)
            return lcx_errf(err, LCX_EINPUT, "option --seq-len: %d is not in [%d, %d]", ph->seq_len,
                            MIN_SEQ_LEN, LCX_DATA_MAX_T);
        if (k == 0 && ph->step != 0)
            return lcx_errf(err, LCX_EINPUT, "option --seq-len: the first stage must start at step 0 "
                            "(got %ld)", ph->step);
        if (k > 0 && ph->step <= o->phases[k - 1].step)
            return lcx_errf(err, LCX_EINPUT, "option --seq-len: stage steps must increase (%ld after %ld)",
                            ph->step, o->phases[k - 1].step);
    }
    lcx_data_mix mix[64];
    size_t n_mix;
    if (trainer_parse_mix(o->mix, mix, 64, &n_mix, err))
        return LCX_EINPUT;
    if ((long long)o->batch * max_seq_len(o) > (1 << 24))
        return lcx_errf(err, LCX_EINPUT, "option --batch: %d x %d tokens is too large", o->batch,
                        max_seq_len(o));
    if (!(o->lr > 0 && o->lr < 10))
        return lcx_errf(err, LCX_EINPUT, "option --lr: %g is not in (0, 10)", o->lr);
    if (!(o->min_lr >= 0 && o->min_lr <= o->lr))
        return lcx_errf(err, LCX_EINPUT, "option --min-lr: %g is not in [0, --lr]", o->min_lr);
    if (!(o->weight_decay >= 0 && o->weight_decay < 10))
        return lcx_errf(err, LCX_EINPUT, "option --weight-decay: %g is not in [0, 10)", o->weight_decay);
    if (!(o->clip >= 0 && isfinite(o->clip)))
        return lcx_errf(err, LCX_EINPUT, "option --clip: %g is not >= 0 (0 turns clipping off)", o->clip);
    if (!(o->prompt_weight >= 0 && o->prompt_weight <= 1))
        return lcx_errf(err, LCX_EINPUT, "option --prompt-weight: %g is not in [0, 1]", o->prompt_weight);
    if (o->rounds < 0 || o->rounds > LCX_DATA_MAX_ROUNDS)
        return lcx_errf(err, LCX_EINPUT, "option --rounds: %d is not in [0, %d]", o->rounds, LCX_DATA_MAX_ROUNDS);
    if (o->seed < LCX_TRAIN_SEED_MIN || o->seed >= LCX_TRAIN_SEED_MIN + SEED_SPAN)
        return lcx_errf(err, LCX_EINPUT, "option --seed: %llu is not a training seed (%llu to %llu)",
                        (unsigned long long)o->seed, LCX_TRAIN_SEED_MIN,
                        LCX_TRAIN_SEED_MIN + SEED_SPAN - 1);
    return 0;
}

int trainer_seq_len_at(const trainer_opts *o, long step)
{
    int T = o->phases[0].seq_len;
    for (int k = 1; k < o->n_phases; k++)
        if (step >= o->phases[k].step)
            T = o->phases[k].seq_len;
    return T;
}

train_config trainer_model_config(const trainer_opts *o, int vocab_size)
{
    train_config c = {.vocab_size = vocab_size, .dim = o->dim, .hidden_dim = o->ffn,
                      .n_layers = o->layers, .n_heads = o->heads, .n_kv_heads = o->kv_heads,
                      .head_dim = head_dim_of(o), .max_seq = max_seq_len(o),
                      .tie_embeddings = 1, .gate = o->gate, .rope_theta = 1e4,
                      .norm_eps = 1e-6};
    return c;
}

uint64_t trainer_heldout_seed(uint64_t seed)
{
    return seed + SEED_SPAN;
}

/* ---- settings file ---- */

static const char *gate_names[] = {"none", "headwise", "elementwise"};

enum { K_INT, K_LONG, K_SIZE, K_U64, K_DOUBLE, K_GATE, K_SCHEDULE, K_STRING };
typedef struct {
    const char *key;
    int kind;
    size_t offset;
} setting;

#define S(k, kind, field) {k, kind, offsetof(trainer_opts, field)}
static const setting settings[] = {
    S("gate", K_GATE, gate),           S("dim", K_INT, dim),
    S("layers", K_INT, layers),        S("heads", K_INT, heads),
    S("kv_heads", K_INT, kv_heads),    S("head_dim", K_INT, head_dim),
    S("ffn", K_INT, ffn),              S("vocab_merges", K_SIZE, vocab_merges),
    S("steps", K_LONG, steps),         S("batch", K_INT, batch),
    S("seq_len", K_SCHEDULE, phases),  S("lr", K_DOUBLE, lr),
    S("warmup", K_LONG, warmup),       S("min_lr", K_DOUBLE, min_lr),
    S("weight_decay", K_DOUBLE, weight_decay), S("clip", K_DOUBLE, clip),
    S("seed", K_U64, seed),            S("prompt_weight", K_DOUBLE, prompt_weight),
    S("rounds", K_INT, rounds),
    S("eval_every", K_LONG, eval_every), S("ckpt_every", K_LONG, ckpt_every),
    S("eval_samples", K_INT, eval_samples), S("mix", K_STRING, mix),
};
#undef S
#define N_SETTINGS (sizeof settings / sizeof settings[0])

/* Parse one setting's value; `label` names it in the message (an option
 * such as "--heads", or "train.cfg: line 3: heads"). */
static int set_one(const setting *st, const char *value, const char *label, trainer_opts *o,
                   lcx_err *err)
{
    char *f = (char *)o + st->offset, *end;
    switch (st->kind) {
    case K_INT:
    case K_LONG:
    case K_SIZE:
    case K_U64: {
        if (!*value || *value == '-')
            return lcx_errf(err, LCX_EINPUT, "%s: '%.60s' is not a non-negative integer", label, value);
        unsigned long long u = strtoull(value, &end, 10);
        if (*end)
            return lcx_errf(err, LCX_EINPUT, "%s: '%.60s' is not a non-negative integer", label, value);
        if (st->kind != K_U64 && u > 1000000000ull)
            return lcx_errf(err, LCX_EINPUT, "%s: %.60s is too large", label, value);
        if (st->kind == K_INT)
            *(int *)f = (int)u;
        else if (st->kind == K_LONG)
            *(long *)f = (long)u;
        else if (st->kind == K_SIZE)
            *(size_t *)f = (size_t)u;
        else
            *(uint64_t *)f = u;
        return 0;
    }
    case K_DOUBLE: {
        double x = strtod(value, &end);
        if (!*value || *end || !isfinite(x))
            return lcx_errf(err, LCX_EINPUT, "%s: '%.60s' is not a number", label, value);
        *(double *)f = x;
        return 0;
    }
    case K_GATE:
        for (int g = 0; g < 3; g++)
            if (!strcmp(value, gate_names[g])) {
                o->gate = (train_gate)g;
                return 0;
            }
        return lcx_errf(err, LCX_EINPUT, "%s: '%.60s' is not none, headwise or elementwise", label, value);
    case K_SCHEDULE:
        return trainer_parse_schedule(value, o, err) ? lcx_err_prefix(err, "%s", label) : 0;
    case K_STRING:
        if (strlen(value) >= sizeof o->mix || strchr(value, '\n') || strchr(value, ' '))
            return lcx_errf(err, LCX_EINPUT, "%s: '%.60s' is too long or has spaces", label, value);
        snprintf(f, sizeof o->mix, "%s", value);
        return 0;
    }
    return lcx_errf(err, LCX_EINTERNAL, "%s: unknown setting kind", label);
}

static const setting *find_setting(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (!strcmp(settings[i].key, key))
            return &settings[i];
    return NULL;
}

/* The setting behind a command-line option: "--kv-heads" is "kv_heads". */
static const setting *option_setting(const char *option)
{
    char key[64];
    size_t n = strlen(option);
    if (n < 3 || n - 2 >= sizeof key || strncmp(option, "--", 2))
        return NULL;
    for (size_t i = 2; i <= n; i++)
        key[i - 2] = option[i] == '-' ? '_' : option[i];
    return find_setting(key);
}

int trainer_is_option(const char *option) { return option_setting(option) != NULL; }

int trainer_set_option(trainer_opts *o, const char *option, const char *value, lcx_err *err)
{
    const setting *st = option_setting(option);
    if (!st)
        return lcx_errf(err, LCX_EINPUT, "unknown option '%s' (see --help)", option);
    return set_one(st, value, option, o, err);
}

char *trainer_settings_text(const trainer_opts *o)
{
    strbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *f = (const char *)o + settings[i].offset;
        sb_printf(&sb, "%s ", settings[i].key);
        switch (settings[i].kind) {
        case K_INT: sb_printf(&sb, "%d", *(const int *)f); break;
        case K_LONG: sb_printf(&sb, "%ld", *(const long *)f); break;
        case K_SIZE: sb_printf(&sb, "%zu", *(const size_t *)f); break;
        case K_U64: sb_printf(&sb, "%llu", (unsigned long long)*(const uint64_t *)f); break;
        case K_DOUBLE: { /* the shortest form that reads back exactly */
            char num[40];
            double d = *(const double *)f;
            for (int prec = 6; prec <= 17; prec++) {
                snprintf(num, sizeof num, "%.*g", prec, d);
                if (strtod(num, NULL) == d)
                    break;
            }
            sb_puts(&sb, num);
            break;
        }
        case K_GATE: sb_puts(&sb, gate_names[o->gate]); break;
        case K_STRING: sb_puts(&sb, f); break;
        case K_SCHEDULE:
            for (int k = 0; k < o->n_phases; k++)
                sb_printf(&sb, "%s%d:%ld", k ? "," : "", o->phases[k].seq_len, o->phases[k].step);
            break;
        }
        sb_putc(&sb, '\n');
    }
    if (sb.oom) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

int trainer_settings_parse(const char *text, const char *name, trainer_opts *o, lcx_err *err)
{
    int seen[N_SETTINGS] = {0};
    const char *p = text;
    int line = 0;
    while (*p) {
        line++;
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char buf[512];
        if (n >= sizeof buf)
            return lcx_errf(err, LCX_EINPUT, "%s: line %d is too long", name, line);
        memcpy(buf, p, n);
        buf[n] = 0;
        p += n + (eol ? 1 : 0);
        if (!n)
            continue;
        char *value = strchr(buf, ' ');
        if (!value)
            return lcx_errf(err, LCX_EINPUT, "%s: line %d is not 'key value'", name, line);
        *value++ = 0;
        const setting *st = find_setting(buf);
        if (!st)
            return lcx_errf(err, LCX_EINPUT, "%s: line %d: unknown key '%.60s'", name, line, buf);
        size_t i = (size_t)(st - settings);
        char label[640];
        snprintf(label, sizeof label, "%s: line %d: %s", name, line, settings[i].key);
        if (set_one(&settings[i], value, label, o, err))
            return err->code;
        seen[i] = 1;
    }
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (!seen[i])
            return lcx_errf(err, LCX_EINPUT, "%s: missing key '%s'", name, settings[i].key);
    return trainer_check(o, err) ? lcx_err_prefix(err, "%s", name) : 0;
}

/* ---- the log ---- */

typedef struct log_row {
    long step;
    int seq_len;
    double lr, loss, grad_norm, tokens, elapsed, acc, niah_acc; /* NAN = none */
} log_row;

typedef struct train_log {
    log_row *rows;
    size_t n, cap;
} train_log;

static const char *LOG_HEADER =
    "step,seq_len,lr,loss,grad_norm,tokens,elapsed_s,heldout_acc,heldout_niah_acc\n";

static log_row *log_row_at(train_log *lg, long step, int seq_len)
{
    if (lg->n && lg->rows[lg->n - 1].step == step)
        return &lg->rows[lg->n - 1];
    if (lg->n == lg->cap) {
        size_t cap = lg->cap ? lg->cap * 2 : 256;
        log_row *r = realloc(lg->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        lg->rows = r;
        lg->cap = cap;
    }
    log_row *r = &lg->rows[lg->n++];
    *r = (log_row){step, seq_len, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    return r;
}

static void put_field(strbuf *sb, double v, const char *fmt)
{
    sb_putc(sb, ',');
    if (!isnan(v))
        sb_printf(sb, fmt, v);
}

static char *log_csv(const train_log *lg)
{
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, LOG_HEADER);
    for (size_t i = 0; i < lg->n; i++) {
        const log_row *r = &lg->rows[i];
        sb_printf(&sb, "%ld,%d", r->step, r->seq_len);
        put_field(&sb, r->lr, "%.6g");
        put_field(&sb, r->loss, "%.6f");
        put_field(&sb, r->grad_norm, "%.4f");
        put_field(&sb, r->tokens, "%.0f");
        put_field(&sb, r->elapsed, "%.2f");
        put_field(&sb, r->acc, "%.2f");
        put_field(&sb, r->niah_acc, "%.2f");
        sb_putc(&sb, '\n');
    }
    if (sb.oom) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

/* Parse CSV text into rows (malformed lines are skipped: a log is only
 * advisory, the checkpoint is what resumes). */
static int log_parse(const char *csv, train_log *lg)
{
    const char *p = strchr(csv, '\n');
    while (p && *++p) {
        double f[9];
        int nf = 0;
        const char *q = p;
        for (; nf < 9; nf++) {
            char *end;
            f[nf] = (*q == ',' || *q == '\n' || !*q) ? NAN : strtod(q, &end);
            if (!isnan(f[nf]) || (*q != ',' && *q != '\n' && *q))
                q = end;
            if (*q != ',')
                break;
            q++;
        }
        p = strchr(p, '\n');
        if (nf != 8 || isnan(f[0]) || isnan(f[1]))
            continue;
        log_row *r = log_row_at(lg, (long)f[0], (int)f[1]);
        if (!r)
            return -1;
        *r = (log_row){(long)f[0], (int)f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]};
        if (!p)
            break;
    }
    return 0;
}

/* ---- the plot ---- */

int trainer_plot_svg(const char *csv, char **svg, lcx_err *err)
{
    train_log lg = {0};
    if (log_parse(csv, &lg)) {
        free(lg.rows);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    const double W = 820, H = 460, L = 72, R = 78, TOP = 46, BOT = 62;
    const double pw = W - L - R, ph = H - TOP - BOT;
    const char *LOSS = "#1f5fbf", *ACC = "#d9620b";
    double max_step = 1, max_loss = 0;
    /* the points of each line, NAN rows left out so the lines run through */
    size_t n = lg.n, nl = 0, na = 0;
    double *buf = malloc((4 * n + 1) * sizeof *buf);
    if (!buf) {
        free(lg.rows);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    double *lx = buf, *ly = buf + n, *ax = buf + 2 * n, *ay = buf + 3 * n;
    for (size_t i = 0; i < n; i++) {
        const log_row *r = &lg.rows[i];
        max_step = fmax(max_step, (double)r->step);
        if (!isnan(r->loss)) {
            max_loss = fmax(max_loss, r->loss);
            lx[nl] = (double)r->step;
            ly[nl++] = r->loss;
        }
        if (!isnan(r->acc)) {
            ax[na] = (double)r->step;
            ay[na++] = r->acc;
        }
    }
    if (max_loss <= 0)
        max_loss = 1;
    double xt = fmax(1, lcx_svg_nice_step(max_step, 6)), yt = lcx_svg_nice_step(max_loss, 5);
    max_step = ceil(max_step / xt) * xt;
    max_loss = ceil(max_loss / yt) * yt;
    lcx_svg_axes a = {.x = L, .y = TOP, .w = pw, .h = ph, .x0 = 0, .x1 = max_step, .y0 = 0,
                      .y1 = max_loss};
    lcx_svg_axes acc = a;
    acc.y1 = 100;
    strbuf sb;
    sb_init(&sb);
    lcx_svg_begin(&sb, W, H);
    lcx_svg_text(&sb, L + pw / 2, 24, "middle", "font-size=\"15\"",
                 "lcx train: loss and held-out answer accuracy");
    /* grid and ticks */
    double tv[64];
    size_t nt = lcx_svg_tick_values(0, max_step, xt, tv, 64);
    lcx_svg_xticks(&sb, &a, tv, nt, xt, lcx_svg_fmt_num, LCX_SVG_GRID);
    nt = lcx_svg_tick_values(0, max_loss, yt, tv, 64);
    lcx_svg_yticks(&sb, &a, tv, nt, yt, lcx_svg_fmt_num, LCX_SVG_GRID);
    nt = lcx_svg_tick_values(0, 100, 20, tv, 64);
    lcx_svg_yticks(&sb, &acc, tv, nt, 20, lcx_svg_fmt_num, LCX_SVG_RIGHT);
    /* curriculum stages, labelled above the plot, clear of the legend */
    for (size_t i = 1; i < n; i++)
        if (lg.rows[i].seq_len != lg.rows[i - 1].seq_len) {
            double x = lcx_svg_px(&a, (double)lg.rows[i].step);
            char lab[32];
            snprintf(lab, sizeof lab, "T=%d", lg.rows[i].seq_len);
            sb_printf(&sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
                           "stroke-dasharray=\"4 3\"/>",
                      x, TOP, x, TOP + ph);
            lcx_svg_text(&sb, x + 3, TOP - 4, "start", "fill=\"#555\" font-size=\"11\"", lab);
        }
    lcx_svg_frame(&sb, &a);
    lcx_svg_text(&sb, L + pw / 2, H - 22, "middle", NULL, "step");
    lcx_svg_text_rot(&sb, 20, TOP + ph / 2, -90, "fill=\"#1f5fbf\"",
                     "training loss (weighted cross-entropy)");
    lcx_svg_text_rot(&sb, W - 22, TOP + ph / 2, 90, "fill=\"#d9620b\"", "held-out exact match (%)");
    /* the lines */
    lcx_svg_polyline(&sb, &a, nl, lx, ly, "stroke=\"#1f5fbf\" stroke-width=\"1\"");
    lcx_svg_polyline(&sb, &acc, na, ax, ay, "stroke=\"#d9620b\" stroke-width=\"2\"");
    for (size_t i = 0; i < na; i++)
        lcx_svg_marker(&sb, 0, lcx_svg_px(&acc, ax[i]), lcx_svg_py(&acc, ay[i]), 2.5, ACC, NULL);
    /* legend, top right inside the plot */
    const lcx_svg_legend_item items[] = {{"training loss", LOSS, -1, 1},
                                         {"held-out exact match", ACC, -1, 2}};
    double legw, legh;
    lcx_svg_legend_size(items, 2, 0, &legw, &legh);
    lcx_svg_legend(&sb, L + pw - 10 - legw, TOP + 6, items, 2, 0, 1);
    lcx_svg_end(&sb);
    free(buf);
    free(lg.rows);
    if (sb.oom) {
        sb_free(&sb);
        return lcx_errf(err, LCX_ENOMEM, "plot: out of memory");
    }
    *svg = sb_take(&sb);
    return 0;
}

/* ---- the run ---- */

typedef struct heldout {
    int n, T;
    int32_t *ids;  /* [n, T] */
    int *n_prompt; /* BOS included */
    int *n_answer; /* answer tokens, EOS excluded */
    int *is_niah;
} heldout;

static void heldout_free(heldout *h)
{
    free(h->ids);
    free(h->n_prompt);
    free(h->n_answer);
    free(h->is_niah);
}

static int heldout_build(const lcx_data_stream *s, int n, int T, heldout *h, lcx_err *err)
{
    memset(h, 0, sizeof *h);
    h->n = n;
    h->T = T;
    h->ids = malloc(sizeof(int32_t) * (size_t)n * T);
    float *w = malloc(sizeof(float) * (size_t)n * T);
    lcx_data_info *info = malloc(sizeof *info * (size_t)n);
    h->n_prompt = malloc(sizeof(int) * (size_t)n);
    h->n_answer = malloc(sizeof(int) * (size_t)n);
    h->is_niah = malloc(sizeof(int) * (size_t)n);
    int rc = 0;
    if (!h->ids || !w || !info || !h->n_prompt || !h->n_answer || !h->is_niah)
        rc = lcx_errf(err, LCX_ENOMEM, "held-out set: out of memory");
    if (!rc)
        rc = lcx_data_batch(s, 0, (size_t)n, (size_t)T, h->ids, w, info, err);
    for (int j = 0; !rc && j < n; j++) {
        h->n_prompt[j] = (int)info[j].n_prompt;
        h->n_answer[j] = (int)info[j].n_answer - 1;
        h->is_niah[j] = !strncmp(info[j].task, "niah", 4);
    }
    free(w);
    free(info);
    if (rc)
        heldout_free(h);
    return rc;
}

/* Percent of held-out samples whose answer tokens are all the argmax
 * (exact greedy match), overall and over the niah tasks. */
static int heldout_eval(train_model *em, const train_model *m, const heldout *h, double *acc,
                        double *niah_acc, lcx_err *err)
{
    memcpy(em->params_memory, m->params_memory, m->num_params * sizeof(float));
    const int B = em->B, T = h->T, V = em->config.vocab_size;
    int32_t *x = malloc(sizeof(int32_t) * (size_t)B * T);
    if (!x)
        return lcx_errf(err, LCX_ENOMEM, "held-out evaluation: out of memory");
    int correct = 0, niah = 0, niah_correct = 0;
    for (int first = 0; first < h->n; first += B) {
        for (int b = 0; b < B; b++) {
            int j = first + b < h->n ? first + b : 0;
            memcpy(x + (size_t)b * T, h->ids + (size_t)j * T, sizeof(int32_t) * T);
        }
        int rc = train_forward(em, x, NULL, NULL, NULL, err);
        if (rc) {
            free(x);
            return rc;
        }
        for (int b = 0; b < B && first + b < h->n; b++) {
            int j = first + b, ok = 1;
            for (int t = h->n_prompt[j]; ok && t < h->n_prompt[j] + h->n_answer[j]; t++) {
                const float *lg = em->acts.logits + ((size_t)b * T + t - 1) * V;
                int best = 0;
                for (int v = 1; v < V; v++)
                    if (lg[v] > lg[best])
                        best = v;
                ok = best == h->ids[(size_t)j * T + t];
            }
            correct += ok;
            niah += h->is_niah[j];
            niah_correct += ok && h->is_niah[j];
        }
    }
    free(x);
    *acc = 100.0 * correct / h->n;
    *niah_acc = niah ? 100.0 * niah_correct / niah : NAN;
    return 0;
}

/* Rebuild the model for sequences of T tokens, keeping parameters and AdamW
 * moments. */
static int model_reshape(train_model *m, int T, lcx_err *err)
{
    train_model nm;
    int rc = train_model_init(&nm, &m->config, m->B, T, 0, err);
    if (rc)
        return rc;
    size_t bytes = m->num_params * sizeof(float);
    memcpy(nm.params_memory, m->params_memory, bytes);
    memcpy(nm.m_memory, m->m_memory, bytes);
    memcpy(nm.v_memory, m->v_memory, bytes);
    train_model_free(m);
    *m = nm;
    return 0;
}

static int same_config(const train_config *a, const train_config *b)
{
    return a->vocab_size == b->vocab_size && a->dim == b->dim && a->hidden_dim == b->hidden_dim &&
           a->n_layers == b->n_layers && a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads &&
           a->head_dim == b->head_dim && a->max_seq == b->max_seq &&
           a->tie_embeddings == b->tie_embeddings && a->gate == b->gate;
}

typedef struct run_ctx {
    const trainer_opts *o;
    const trainer_run_opts *ro;
    char path[4200];
} run_ctx;

static const char *dir_file(run_ctx *c, const char *name)
{
    snprintf(c->path, sizeof c->path, "%s/%s", c->ro->dir, name);
    return c->path;
}

static void emit(const trainer_run_opts *ro, const trainer_event *ev)
{
    if (ro->callback)
        ro->callback(ro->callback_ctx, ev);
}

static void stage(const trainer_run_opts *ro, const trainer_opts *o, const char *msg)
{
    trainer_event ev = {.kind = TRAINER_EV_STAGE, .steps = o->steps, .heldout_acc = -1, .message = msg};
    emit(ro, &ev);
}

static int write_log(run_ctx *c, const train_log *lg, lcx_err *err)
{
    char *csv = log_csv(lg), *svg = NULL;
    if (!csv)
        return lcx_errf(err, LCX_ENOMEM, "log: out of memory");
    int rc = lcx_write_file_atomic(dir_file(c, "train_log.csv"), csv, strlen(csv), err);
    if (!rc)
        rc = trainer_plot_svg(csv, &svg, err);
    if (!rc)
        rc = lcx_write_file_atomic(dir_file(c, "loss.svg"), svg, strlen(svg), err);
    free(csv);
    free(svg);
    return rc;
}

/* The tokenizer: reused from dir on resume, copied from --vocab, or learnt. */
static int setup_vocab(run_ctx *c, const lcx_task_data *data, char **json, lcx_tokenizer **tok, lcx_err *err)
{
    const trainer_opts *o = c->o;
    size_t len = 0;
    int rc;
    if (c->ro->resume) {
        rc = lcx_read_file(dir_file(c, "tokenizer.json"), json, &len, err);
    } else if (c->ro->vocab_path) {
        rc = lcx_read_file(c->ro->vocab_path, json, &len, err);
        if (!rc)
            rc = lcx_write_file_atomic(dir_file(c, "tokenizer.json"), *json, len, err);
    } else {
        char msg[96];
        snprintf(msg, sizeof msg, "learning the vocabulary (%zu merges)", o->vocab_merges);
        stage(c->ro, o, msg);
        char *text = NULL;
        size_t tlen = 0;
        lcx_vocab *v = NULL;
        lcx_vocab_text_opts vo = {.seed = o->seed};
        rc = lcx_vocab_sample_text(data, &vo, &text, &tlen, err);
        if (!rc)
            rc = lcx_vocab_learn(text, tlen, o->vocab_merges, &v, err);
        if (!rc)
            rc = lcx_vocab_json(v, json, &len, err);
        if (!rc)
            rc = lcx_write_file_atomic(dir_file(c, "tokenizer.json"), *json, len, err);
        free(text);
        lcx_vocab_free(v);
    }
    if (!rc)
        rc = lcx_tokenizer_load_json(*json, len, c->ro->vocab_path && !c->ro->resume ? c->ro->vocab_path
                                                                                      : c->path,
                                     tok, err);
    return rc;
}

/* Remove "model.tmp.<pid>" directories an export killed midway left in dir
 * (flat: files only). */
static void remove_stale_exports(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "model.tmp.", 10))
            continue;
        char sub[4200], path[4500];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        DIR *s = opendir(sub);
        struct dirent *f;
        while (s && (f = readdir(s)))
            if (strcmp(f->d_name, ".") && strcmp(f->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
                unlink(path);
            }
        if (s)
            closedir(s);
        rmdir(sub);
    }
    closedir(d);
}

int trainer_run(const trainer_opts *o, const trainer_run_opts *ro, lcx_err *err)
{
    int rc = trainer_check(o, err);
    if (rc)
        return rc;
    run_ctx c = {o, ro, {0}};
    lcx_task_data *data = NULL;
    lcx_tokenizer *tok = NULL;
    lcx_data_stream *stream = NULL, *held_stream = NULL;
    char *tok_json = NULL;
    train_model m = {0}, em = {0};
    int have_m = 0, have_em = 0;
    heldout held = {0};
    train_log lg = {0};
    int32_t *ids = NULL, *x = NULL, *y = NULL;
    float *wt = NULL, *w = NULL;
    const int B = o->batch, T_max = max_seq_len(o);

    lcx_data_opts dopts = {NULL, NULL, NULL, 4096};
    rc = lcx_task_data_load(&dopts, &data, err);
    if (!rc)
        rc = setup_vocab(&c, data, &tok_json, &tok, err);
    lcx_data_mix mix[64];
    size_t n_mix = 0;
    if (!rc)
        rc = trainer_parse_mix(o->mix, mix, 64, &n_mix, err);
    lcx_data_stream_opts so = {.seed = o->seed, .mix = n_mix ? mix : NULL, .n_mix = n_mix,
                               .prompt_weight = (float)o->prompt_weight, .rounds = o->rounds};
    if (!rc)
        rc = lcx_data_stream_new(tok, data, &so, &stream, err);
    lcx_data_stream_opts ho = so;
    ho.seed = trainer_heldout_seed(o->seed);
    ho.rounds = 0; /* held-out sequences are RULER samples as evaluated */
    if (!rc)
        rc = lcx_data_stream_new(tok, data, &ho, &held_stream, err);

    /* the model: fresh, or from the checkpoint */
    train_state st = {0};
    st.optim = train_optim_default();
    st.optim.lr = o->lr;
    st.optim.min_lr = o->min_lr;
    st.optim.warmup_steps = o->warmup;
    st.optim.total_steps = o->steps;
    st.optim.weight_decay = o->weight_decay;
    st.optim.grad_clip = o->clip;
    const train_optim optim = st.optim;
    train_config cfg = trainer_model_config(o, tok ? (int)lcx_tokenizer_vocab_size(tok) : 0);
    if (!rc && ro->resume) {
        char *csv = NULL;
        size_t len;
        dir_file(&c, "checkpoint.bin");
        /* built at the first stage's T; the loop reshapes it for its step */
        rc = train_checkpoint_load(c.path, B, o->phases[0].seq_len, &m, &st, err);
        have_m = !rc;
        if (!rc && (!same_config(&m.config, &cfg) || st.step > o->steps))
            rc = lcx_errf(err, LCX_EINPUT, "%s: the checkpoint's model or step (%ld) does not match "
                          "train.cfg", c.path, st.step);
        if (!rc && lcx_read_file(dir_file(&c, "train_log.csv"), &csv, &len, NULL) == 0) {
            if (log_parse(csv, &lg))
                rc = lcx_errf(err, LCX_ENOMEM, "log: out of memory");
            while (lg.n && lg.rows[lg.n - 1].step > st.step)
                lg.n--;
        }
        free(csv);
    } else if (!rc) {
        lcx_rng_seed(&st.rng, o->seed);
        rc = train_model_init(&m, &cfg, B, trainer_seq_len_at(o, 0), o->seed, err);
        have_m = !rc;
    }
    st.optim = optim;
    if (!rc) {
        stage(ro, o, "building the held-out set");
        rc = heldout_build(held_stream, o->eval_samples, T_max, &held, err);
    }
    if (!rc) {
        rc = train_model_init(&em, &cfg, held.n < EVAL_BATCH ? held.n : EVAL_BATCH, T_max, 0, err);
        have_em = !rc;
    }
    size_t NT = (size_t)B * T_max;
    ids = malloc(sizeof *ids * NT);
    x = malloc(sizeof *x * NT);
    y = malloc(sizeof *y * NT);
    wt = malloc(sizeof *wt * NT);
    w = malloc(sizeof *w * NT);
    if (!rc && (!ids || !x || !y || !wt || !w))
        rc = lcx_errf(err, LCX_ENOMEM, "out of memory for batches of %d x %d", B, T_max);

    double tokens = 0, elapsed0 = 0;
    if (lg.n) {
        tokens = isnan(lg.rows[lg.n - 1].tokens) ? 0 : lg.rows[lg.n - 1].tokens;
        elapsed0 = isnan(lg.rows[lg.n - 1].elapsed) ? 0 : lg.rows[lg.n - 1].elapsed;
    }
    double start = lcx_now(), own_tokens = 0;
    double acc = -1, niah_acc = -1;
    trainer_event ev = {.steps = o->steps, .heldout_acc = -1, .heldout_niah_acc = -1};
    if (!rc && st.step == 0) { /* accuracy before training */
        rc = heldout_eval(&em, &m, &held, &acc, &niah_acc, err);
        log_row *r = rc ? NULL : log_row_at(&lg, 0, trainer_seq_len_at(o, 0));
        if (r) {
            r->acc = acc;
            r->niah_acc = niah_acc;
            r->tokens = 0;
            r->elapsed = 0;
        }
    }
    if (!rc)
        stage(ro, o, "training");
    for (long step = st.step; !rc && step < o->steps; step++) {
        int T = trainer_seq_len_at(o, step);
        if (T != m.T && (rc = model_reshape(&m, T, err)))
            break;
        rc = lcx_data_batch(stream, (uint64_t)step * B, (size_t)B, (size_t)T, ids, wt, NULL, err);
        if (rc)
            break;
        for (int b = 0; b < B; b++) {
            size_t r = (size_t)b * T;
            for (int t = 0; t < T; t++) {
                x[r + t] = ids[r + t];
                y[r + t] = t + 1 < T ? ids[r + t + 1] : lcx_data_pad_id(stream);
                w[r + t] = t + 1 < T ? wt[r + t + 1] : 0.0f;
            }
        }
        double loss = 0, gnorm = 0;
        train_zero_grad(&m);
        rc = train_forward(&m, x, y, w, &loss, err);
        if (!rc)
            rc = train_backward(&m, err);
        if (rc)
            break;
        train_adamw_update(&m, &st.optim, step, &gnorm);
        st.step = step + 1;
        tokens += (double)B * T;
        own_tokens += (double)B * T;
        log_row *r = log_row_at(&lg, st.step, T);
        if (!r) {
            rc = lcx_errf(err, LCX_ENOMEM, "log: out of memory");
            break;
        }
        double now = lcx_now();
        r->lr = train_lr(&st.optim, step);
        r->loss = loss;
        r->grad_norm = gnorm;
        r->tokens = tokens;
        r->elapsed = elapsed0 + (now - start);
        ev = (trainer_event){TRAINER_EV_STEP, st.step, o->steps, T, loss, r->lr, gnorm,
                             own_tokens / fmax(now - start, 1e-9), acc, niah_acc, NULL};
        emit(ro, &ev);
        int last = st.step == o->steps;
        if (last || (o->eval_every && st.step % o->eval_every == 0)) {
            rc = heldout_eval(&em, &m, &held, &acc, &niah_acc, err);
            if (rc)
                break;
            r->acc = acc;
            r->niah_acc = niah_acc;
            ev.kind = TRAINER_EV_EVAL;
            ev.heldout_acc = acc;
            ev.heldout_niah_acc = niah_acc;
            emit(ro, &ev);
        }
        if (!rc && (last || ev.kind == TRAINER_EV_EVAL ||
                    (o->ckpt_every && st.step % o->ckpt_every == 0)))
            rc = write_log(&c, &lg, err); /* before the checkpoint: resume drops later rows */
        if (!rc && (last || (o->ckpt_every && st.step % o->ckpt_every == 0))) {
            if (!rc)
                rc = train_checkpoint_save(dir_file(&c, "checkpoint.bin"), &m, &st, err);
            ev.kind = TRAINER_EV_CHECKPOINT;
            if (!rc)
                emit(ro, &ev);
        }
    }
    if (!rc && st.step == o->steps) {
        remove_stale_exports(ro->dir);
        rc = write_log(&c, &lg, err);
        stage(ro, o, "exporting");
        train_export_opts eo = {.dtype = TRAIN_DT_BF16, .tokenizer_json = tok_json,
                                .bos_id = lcx_data_bos_id(stream), .eos_id = lcx_data_eos_id(stream)};
        if (!rc)
            rc = train_export_hf(&m, dir_file(&c, "model"), &eo, err);
    }
    free(ids);
    free(x);
    free(y);
    free(wt);
    free(w);
    free(lg.rows);
    heldout_free(&held);
    if (have_m)
        train_model_free(&m);
    if (have_em)
        train_model_free(&em);
    lcx_data_stream_free(stream);
    lcx_data_stream_free(held_stream);
    lcx_tokenizer_free(tok);
    free(tok_json);
    lcx_task_data_free(data);
    return rc;
}
