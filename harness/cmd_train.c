/* cmd_train.c: `lcx train`, train a small Qwen3-style model (gated or not)
 * on RULER-format data and export it as a Hugging Face directory. The run
 * itself is train/trainer.c; this file parses options, prepares the run
 * directory and prints progress. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "tokenizer/tokenizer.h"
#include "harness/args.h"
#include "harness/commands.h"
#include "train/trainer.h"

static void usage(FILE *fp)
{
    trainer_opts d;
    trainer_opts_default(&d);
    char *cfg = trainer_settings_text(&d);
    fprintf(fp,
            "usage: lcx train --out DIR --gate none|headwise|elementwise [options]\n"
            "       lcx train --out DIR --resume\n"
            "  --out DIR           run directory: tokenizer.json, train.cfg, checkpoint.bin,\n"
            "                      train_log.csv, loss.svg, and model/ at the end\n"
            "  --gate G            SDPA-output sigmoid gate: none, headwise or elementwise\n"
            "  --dim --layers --heads --kv-heads --head-dim --ffn   model shape\n"
            "                      (head-dim defaults to dim / heads; the head is tied)\n"
            "  --vocab-merges N    BPE merges to learn from the RULER text\n"
            "  --vocab FILE        reuse this tokenizer.json instead of learning one\n"
            "  --steps N --batch N (sequences per step)\n"
            "  --seq-len SCHEDULE  curriculum LEN:STEP,..., e.g. 256:0,512:2000,1024:4000 (<= 1024)\n"
            "  --lr --warmup --min-lr --weight-decay --clip   AdamW, warmup + cosine, clipping\n"
            "  --seed N            training seed, 1000000000 to 1999999999\n"
            "  --prompt-weight W   loss weight of prompt tokens (answers weigh 1)\n"
            "  --rounds N          extra questions about the other keys of a multi-key niah\n"
            "                      sequence, 0 to 16 (training only; held-out has none)\n"
            "  --mix all|TASK:W,.. task mix of the training (and held-out) sequences\n"
            "  --eval-every N --eval-samples N   held-out exact-match accuracy\n"
            "  --ckpt-every N      checkpoint period in steps (and at the end)\n"
            "  --resume            continue DIR's run from its checkpoint (same settings)\n"
            "  --quiet             no progress\n"
            "defaults:\n%s",
            cfg ? cfg : "");
    free(cfg);
}

typedef struct cli {
    const char *out, *vocab;
    int resume, quiet, help, have_gate;
} cli;

/* Apply argv onto *o (and *c). Returns 0, or -1 with err. */
static int parse(int argc, char **argv, trainer_opts *o, cli *c, lcx_err *err)
{
    memset(c, 0, sizeof *c);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            c->help = 1;
            return 0;
        }
        if (!strcmp(argv[i], "--resume")) {
            c->resume = 1;
            continue;
        }
        if (!strcmp(argv[i], "--quiet")) {
            c->quiet = 1;
            continue;
        }
        if ((r = lcx_arg_value(argc, argv, &i, "--out", &v, err))) {
            if (r < 0)
                return -1;
            c->out = v;
            continue;
        }
        if ((r = lcx_arg_value(argc, argv, &i, "--vocab", &v, err))) {
            if (r < 0)
                return -1;
            c->vocab = v;
            continue;
        }
        /* "--name VALUE" or "--name=VALUE" for every training setting */
        char name[64];
        size_t nlen = strcspn(argv[i], "=");
        snprintf(name, sizeof name, "%.*s", (int)(nlen < sizeof name ? nlen : sizeof name - 1), argv[i]);
        if (!trainer_is_option(name)) {
            lcx_errf(err, LCX_EINPUT, "unknown option '%s' (see --help)", argv[i]);
            return -1;
        }
        if ((r = lcx_arg_value(argc, argv, &i, name, &v, err)) < 0 ||
            trainer_set_option(o, name, v, err))
            return -1;
        c->have_gate |= !strcmp(name, "--gate");
    }
    return 0;
}

/* ---- progress ---- */

typedef struct progress_ctx {
    lcx_progress bar;
    int quiet, started;
    long first_step;
} progress_ctx;

static void on_event(void *arg, const trainer_event *ev)
{
    progress_ctx *p = arg;
    if (p->quiet)
        return;
    const char *clear = p->bar.tty && p->started ? "\r\033[K" : "";
    if (ev->kind == TRAINER_EV_STAGE) {
        fprintf(stderr, "%slcx train: %s\n", clear, ev->message);
        return;
    }
    if (ev->kind == TRAINER_EV_STEP) {
        if (!p->started) {
            p->first_step = ev->step - 1;
            lcx_progress_init(&p->bar, stderr, (size_t)(ev->steps - p->first_step), 0);
            p->started = 1;
        }
        char label[128];
        snprintf(label, sizeof label, "T %d loss %.3f %.0f tok/s", ev->seq_len,
                 ev->loss, ev->tokens_per_s);
        lcx_progress_label(&p->bar, label);
        lcx_progress_add(&p->bar, 1, 0);
        if (ev->step == ev->steps)
            lcx_progress_finish(&p->bar);
    } else if (ev->kind == TRAINER_EV_EVAL) {
        char niah[32] = "";
        if (ev->heldout_niah_acc >= 0)
            snprintf(niah, sizeof niah, " (niah %.1f%%)", ev->heldout_niah_acc);
        fprintf(stderr, "%sstep %ld/%ld: T %d, loss %.4f, lr %.3g, held-out exact match %.1f%%%s, %.0f "
                "tokens/s\n", ev->step == ev->steps ? "" : clear, ev->step, ev->steps, ev->seq_len,
                ev->loss, ev->lr, ev->heldout_acc, niah, ev->tokens_per_s);
    }
}

/* ---- the run directory ---- */

static void remove_run_files(const char *dir)
{
    const char *names[] = {"tokenizer.json", "train.cfg", "train_log.csv", "loss.svg", "checkpoint.bin"};
    char path[4200];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int file_exists(const char *dir, const char *name)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

int lcx_cmd_train(int argc, char **argv)
{
    lcx_err err = {0};
    trainer_opts o;
    trainer_opts_default(&o);
    cli c;
    if (parse(argc, argv, &o, &c, &err))
        return lcx_arg_fail("train", &err);
    if (c.help) {
        usage(stdout);
        return 0;
    }
    if (!c.out) {
        lcx_errf(&err, LCX_EINPUT, "--out DIR is required (see --help)");
        return lcx_arg_fail("train", &err);
    }
    char cfg_path[4200];
    snprintf(cfg_path, sizeof cfg_path, "%s/train.cfg", c.out);
    int created = 0;
    if (c.resume) {
        /* the saved settings, with the command line on top: they must agree */
        char *text = NULL, *saved = NULL, *merged = NULL;
        size_t len;
        trainer_opts so;
        trainer_opts_default(&so);
        if (c.vocab) {
            lcx_errf(&err, LCX_EINPUT, "--resume reuses %s/tokenizer.json; drop --vocab", c.out);
            return lcx_arg_fail("train", &err);
        }
        if (!lcx_is_dir(c.out)) {
            lcx_errf(&err, LCX_EINPUT, "--resume: %s is not a training run directory", c.out);
            return lcx_arg_fail("train", &err);
        }
        if (lcx_read_file(cfg_path, &text, &len, &err) ||
            trainer_settings_parse(text, cfg_path, &so, &err)) {
            free(text);
            return lcx_arg_fail("train", &err);
        }
        free(text);
        o = so;
        cli again;
        parse(argc, argv, &o, &again, &err);
        saved = trainer_settings_text(&so);
        merged = trainer_settings_text(&o);
        int differ = 0;
        if (saved && merged && strcmp(saved, merged)) {
            const char *a = saved, *b = merged;
            while (*a && *a == *b)
                a++, b++;
            while (a > saved && a[-1] != '\n')
                a--, b--;
            char key[64] = "", was[128] = "", now[128] = "";
            sscanf(a, "%63s %127s", key, was);
            sscanf(b, "%*s %127s", now);
            for (char *k = key; *k; k++)
                *k = *k == '_' ? '-' : *k;
            lcx_errf(&err, LCX_EINPUT, "--resume: --%s %s differs from %s (%s)", key, now, cfg_path, was);
            differ = 1;
        }
        free(saved);
        free(merged);
        if (differ)
            return lcx_arg_fail("train", &err);
        if (!file_exists(c.out, "checkpoint.bin")) {
            lcx_errf(&err, LCX_EINPUT, "--resume: %s/checkpoint.bin does not exist", c.out);
            return lcx_arg_fail("train", &err);
        }
    } else {
        if (!c.have_gate) {
            lcx_errf(&err, LCX_EINPUT, "--gate none|headwise|elementwise is required");
            return lcx_arg_fail("train", &err);
        }
        if (trainer_check(&o, &err))
            return lcx_arg_fail("train", &err);
        if (c.vocab) { /* a bad tokenizer fails now, before any directory exists */
            lcx_tokenizer *tok = NULL;
            if (lcx_tokenizer_load(c.vocab, &tok, &err)) {
                lcx_err_prefix(&err, "--vocab");
                return lcx_arg_fail("train", &err);
            }
            lcx_tokenizer_free(tok);
        }
        struct stat sb;
        if (stat(c.out, &sb) == 0) {
            if (!S_ISDIR(sb.st_mode)) {
                lcx_errf(&err, LCX_EINPUT, "--out %s exists and is not a directory", c.out);
                return lcx_arg_fail("train", &err);
            }
            if (file_exists(c.out, "checkpoint.bin")) { /* without one, nothing is lost */
                lcx_errf(&err, LCX_EINPUT, "--out %s already holds a training run (use --resume, or "
                         "another directory)", c.out);
                return lcx_arg_fail("train", &err);
            }
        } else {
            if (lcx_mkdir_p(c.out, &err)) {
                lcx_err_prefix(&err, "--out %s", c.out);
                return lcx_arg_fail("train", &err);
            }
            created = 1;
        }
        char *text = trainer_settings_text(&o);
        int rc = text ? lcx_write_file_atomic(cfg_path, text, strlen(text), &err)
                      : lcx_errf(&err, LCX_ENOMEM, "out of memory");
        free(text);
        if (rc) {
            if (created)
                remove_run_files(c.out);
            lcx_err_prefix(&err, "--out %s", c.out);
            return lcx_arg_fail("train", &err);
        }
    }

    progress_ctx pc = {.quiet = c.quiet};
    trainer_run_opts ro = {.dir = c.out, .vocab_path = c.vocab, .resume = c.resume,
                           .callback = on_event, .callback_ctx = &pc};
    int rc = trainer_run(&o, &ro, &err);
    if (rc) {
        if (pc.started && pc.bar.tty)
            fputc('\n', stderr);
        /* a fresh run that failed before its first checkpoint leaves nothing */
        if (!c.resume && !file_exists(c.out, "checkpoint.bin")) {
            if (created)
                remove_run_files(c.out);
            else {
                char path[4200];
                const char *names[] = {"tokenizer.json", "train.cfg", "train_log.csv", "loss.svg"};
                for (size_t i = 0; i < 4; i++) {
                    snprintf(path, sizeof path, "%s/%s", c.out, names[i]);
                    unlink(path);
                }
            }
        }
        return lcx_arg_fail("train", &err);
    }
    if (!c.quiet)
        fprintf(stderr, "lcx train: model written to %s/model\n", c.out);
    return 0;
}
