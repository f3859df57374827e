/* trainer_settings.c: the settings of a training run (trainer_opts): the
 * defaults of `lcx train`, their checks, the curriculum and task-mix
 * parsers, and one table that serves both train.cfg and the command-line
 * options. */
#include "train/trainer.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "tasks/tasks.h"
#include "train/data.h"
#include "train/vocab.h"

#define SEED_SPAN 1000000000ull /* training seeds: [1e9, 2e9); held-out: +1e9 */
enum { MIN_SEQ_LEN = 16 };

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

int trainer_max_seq_len(const trainer_opts *o)
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
    if ((long long)o->batch * trainer_max_seq_len(o) > (1 << 24))
        return lcx_errf(err, LCX_EINPUT, "option --batch: %d x %d tokens is too large", o->batch,
                        trainer_max_seq_len(o));
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
                      .head_dim = head_dim_of(o), .max_seq = trainer_max_seq_len(o),
                      .tie_embeddings = 1, .gate = o->gate, .rope_theta = 1e4,
                      .norm_eps = 1e-6};
    return c;
}

uint64_t trainer_heldout_seed(uint64_t seed)
{
    return seed + SEED_SPAN;
}

/* ---- train.cfg and the options ---- */

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
