/* trainer.c: the training run behind `lcx train` (see trainer.h): data and
 * vocabulary, the held-out set and its evaluation, the steps, checkpoints,
 * the log files and the export. Settings are trainer_settings.c's, the log
 * trainer_log.c's and its plot trainer_plot.c's. */
#include "train/trainer.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "tokenizer/tokenizer.h"
#include "tasks/tasks.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/trainer_log.h"
#include "train/vocab.h"

enum { EVAL_BATCH = 4 };

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

static int write_log(run_ctx *c, const trainer_log *lg, lcx_err *err)
{
    char *csv = trainer_log_csv(lg), *svg = NULL;
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
    trainer_log lg = {0};
    int32_t *ids = NULL, *x = NULL, *y = NULL;
    float *wt = NULL, *w = NULL;
    const int B = o->batch, T_max = trainer_max_seq_len(o);

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
            if (trainer_log_parse(csv, &lg))
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
        trainer_log_row *r = rc ? NULL : trainer_log_row_at(&lg, 0, trainer_seq_len_at(o, 0));
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
        trainer_log_row *r = trainer_log_row_at(&lg, st.step, T);
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
    trainer_log_free(&lg);
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
