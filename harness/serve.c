/* serve.c: `lcx serve` (see serve.h and docs/serve.md). libmicrohttpd in
 * thread-per-connection mode; a bounded job queue; worker threads with a
 * session each; decoding through lcx_generate, the loop of `lcx run
 * --model`, so a request gives the tokens a local run gives. */
#include "harness/serve.h"

#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <omp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "harness/backend_local.h"
#include "harness/probe_report.h"
#include "harness/serve_api.h"

enum { JOB_NEW, JOB_QUEUED, JOB_RUNNING, JOB_DONE };
/* why a job stops early */
enum { CANCEL_NONE, CANCEL_CLIENT, CANCEL_SHUTDOWN };

typedef struct server server;

typedef struct job {
    lcx_serve_request req;
    lcx_rope_params rope;
    lcx_rope_info rope_info;
    char id[48];
    long created;
    int client_fd;
    double t_arrive, t_start, t_end, prefill_s, decode_s;
    /* under srv->lock */
    int refs, state;
    struct job *next;
    strbuf stream;       /* server-sent events not yet sent */
    size_t stream_sent;
    int stream_done;
    int status;          /* non-stream answer: status and body */
    char *body;
    long prompt_tokens, completion_tokens;
    atomic_long generated; /* tokens generated so far, all prompts */
    atomic_int cancel;   /* CANCEL_*: read by the worker between steps */
} job;

/* One request on a connection (libmicrohttpd's con_cls). */
typedef struct conn_req {
    strbuf body;
    int too_big;
    double t0;
    char client[64], method[8], url[64];
    int status;
    size_t bytes;
    char note[512];      /* what the access line adds: tokens, times, RoPE */
    job *j;              /* the job, referenced until the access line */
} conn_req;

typedef struct worker {
    server *srv;
    int index;
    pthread_t thread;
    lcx_session *session;
    int ready;           /* 1 started, -1 failed (srv->start_err) */
    struct job *current; /* the job it runs (under srv->lock) */
} worker;

struct server {
    lcx_serve_opts o;
    lcx_model *model;
    const lcx_config *cfg;
    const lcx_tokenizer *tok;
    const lcx_template *tmpl;
    char model_name[256];
    int max_context, threads;
    long started;
    pthread_mutex_t lock;
    pthread_cond_t work_cond, job_cond;
    job *head, *tail;
    int n_queued, n_running;
    int n_answering; /* requests with a job whose answer is not yet sent (completed() not called) */
    int draining, stop_workers;
    atomic_ulong next_id;
    lcx_err start_err;
    worker *workers;
    struct MHD_Daemon *daemon;
};

/* ---- jobs ------------------------------------------------------------------- */

static void job_unref_locked(job *j)
{
    if (--j->refs > 0)
        return;
    lcx_serve_request_free(&j->req);
    sb_free(&j->stream);
    free(j->body);
    free(j);
}

static void job_unref(server *s, job *j)
{
    pthread_mutex_lock(&s->lock);
    job_unref_locked(j);
    pthread_mutex_unlock(&s->lock);
}

/* 1 when the client closed its end (or the socket failed). Only hang-ups
 * are asked for, so a pipelined next request does not count. */
static int client_gone(int fd)
{
    if (fd < 0)
        return 0;
    struct pollfd p = {fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static void deadline_in(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    long ns = ts->tv_nsec + (long)(seconds * 1e9);
    ts->tv_sec += ns / 1000000000L;
    ts->tv_nsec = ns % 1000000000L;
}

/* ---- the worker's side ------------------------------------------------------ */

/* Append to the job's stream and wake its connection. */
static void stream_push(server *s, job *j, strbuf *ev)
{
    pthread_mutex_lock(&s->lock);
    sb_append(&j->stream, sb_str(ev), ev->len);
    pthread_cond_broadcast(&s->job_cond);
    pthread_mutex_unlock(&s->lock);
    sb_clear(ev);
}

/* A token's text for logprobs and pieces: the token decoded alone, special
 * tokens kept. */
static char *token_text(const lcx_tokenizer *tok, int32_t id)
{
    char *t = NULL;
    size_t len;
    if (lcx_tokenizer_decode(tok, &id, 1, 0, &t, &len, NULL)) {
        free(t);
        return strdup("");
    }
    return t;
}

typedef struct gen_ctx {
    server *srv;
    job *j;
    lcx_serve_choice *c;
    const int32_t *prompt_ids;
    int prompt_is_text;   /* the prompt came as a string */
    long next_offset;     /* text_offset of the next logprobs row */
    size_t n_prompt;
    /* streaming */
    strbuf ev;
    size_t emitted, hold;
    int first;
} gen_ctx;

static int cancelled(void *ctx, lcx_err *err)
{
    gen_ctx *g = ctx;
    int why = atomic_load(&g->j->cancel);
    if (why)
        return lcx_errf(err, LCX_EIO, "%s", why == CANCEL_CLIENT ? "the client went away"
                                                                 : "the server is shutting down");
    return 0;
}

/* Log-softmax of logits at id, and the top-k alternatives (plus id) as an
 * object {text: logprob}. */
static double logprob_row(const server *s, const float *logits, int32_t id, int k, json_t **top)
{
    int V = s->cfg->vocab_size;
    double mx = logits[0];
    for (int i = 1; i < V; i++)
        if (logits[i] > mx)
            mx = logits[i];
    double sum = 0;
    for (int i = 0; i < V; i++)
        sum += exp((double)logits[i] - mx);
    double lse = mx + log(sum);
    if (top) {
        *top = json_object();
        int best[8];
        int nb = 0;
        for (int r = 0; r < k && r < 8; r++) {
            int b = -1;
            for (int i = 0; i < V; i++) {
                int taken = 0;
                for (int q = 0; q < nb; q++)
                    taken |= best[q] == i;
                if (!taken && (b < 0 || logits[i] > logits[b]))
                    b = i;
            }
            best[nb++] = b;
        }
        best[nb++] = id;
        for (int q = 0; q < nb; q++) {
            char *t = token_text(s->tok, best[q]);
            double lp = (double)logits[best[q]] - lse;
            json_t *old = json_object_get(*top, t ? t : "");
            if (!old || json_real_value(old) < lp)
                json_object_set_new(*top, t ? t : "", json_real(lp));
            free(t);
        }
    }
    return (double)logits[id] - lse;
}

/* One logprobs row for token id (text: its text, taken). Offsets count
 * the token's text where the answer's text holds it: special tokens are
 * absent from a string prompt and from generated text. */
static int add_row(gen_ctx *g, int32_t id, int generated, char *text, double value, json_t *top)
{
    lcx_serve_choice *c = g->c;
    size_t n = c->n_lp + 1;
    char **t = realloc(c->lp_tokens, n * sizeof *t);
    if (t)
        c->lp_tokens = t;
    double *v = realloc(c->lp_values, n * sizeof *v);
    if (v)
        c->lp_values = v;
    long *off = realloc(c->text_offset, n * sizeof *off);
    if (off)
        c->text_offset = off;
    json_t **tp = realloc(c->lp_top, n * sizeof *tp);
    if (tp)
        c->lp_top = tp;
    if (!t || !v || !off || !tp) {
        free(text);
        json_decref(top);
        return -1;
    }
    long at = g->next_offset;
    if (!(lcx_tokenizer_is_special(g->srv->tok, id) && (generated || g->prompt_is_text)))
        g->next_offset += (long)strlen(text);
    c->lp_tokens[c->n_lp] = text;
    c->lp_values[c->n_lp] = value;
    c->text_offset[c->n_lp] = at;
    c->lp_top[c->n_lp] = top;
    c->n_lp = n;
    return 0;
}

/* all_fn of lcx_generate: the logits of every prompt position, for echo
 * with logprobs. Position p predicts the token at p + 1. */
static int prompt_logits(void *ctx, int first, int n, const float *logits, lcx_err *err)
{
    gen_ctx *g = ctx;
    int V = g->srv->cfg->vocab_size;
    for (int i = 0; i < n; i++) {
        size_t p = (size_t)first + (size_t)i;
        if (p + 1 >= g->n_prompt)
            break;
        json_t *top = NULL;
        double lp = logprob_row(g->srv, logits + (size_t)i * V, g->prompt_ids[p + 1],
                                g->j->req.logprobs, &top);
        if (add_row(g, g->prompt_ids[p + 1], 0, token_text(g->srv->tok, g->prompt_ids[p + 1]), lp, top))
            return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    return cancelled(ctx, err);
}

static int on_token(void *ctx, const int32_t *ids, size_t n, const float *logits, lcx_err *err)
{
    gen_ctx *g = ctx;
    job *j = g->j;
    atomic_fetch_add(&j->generated, 1);
    if (j->req.logprobs >= 0) {
        json_t *top = NULL;
        double lp = logprob_row(g->srv, logits, ids[n - 1], j->req.logprobs, &top);
        if (add_row(g, ids[n - 1], 1, token_text(g->srv->tok, ids[n - 1]), lp, top))
            return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    if (j->req.stream) {
        char *text = NULL;
        size_t len = 0;
        int rc = lcx_tokenizer_decode(g->srv->tok, ids, n, 1, &text, &len, err);
        if (rc)
            return rc;
        size_t safe = lcx_serve_stream_safe(text, len, g->hold);
        if (safe > g->emitted) {
            lcx_serve_stream_event(&g->ev, &j->req, j->id, j->created, g->srv->model_name,
                                   text + g->emitted, safe - g->emitted, g->first, NULL, -1, 0, NULL);
            g->first = 0;
            g->emitted = safe;
            stream_push(g->srv, j, &g->ev);
        }
        free(text);
    }
    return cancelled(ctx, err);
}

/* The session at the job's RoPE, empty. */
static int prepare_session(worker *w, job *j, lcx_err *err)
{
    lcx_session_rewind(w->session, 0);
    if (lcx_rope_params_equal(lcx_session_rope(w->session), &j->rope))
        return 0;
    return lcx_session_set_rope(w->session, &j->rope, err);
}

/* The "lcx" object of an answer: the RoPE used and the times. */
static json_t *lcx_json(const server *s, const job *j, int worker_index)
{
    json_t *o = json_object();
    json_object_set_new(o, "rope", lcx_backend_local_rope_json(&j->rope_info, s->cfg->max_pos));
    json_object_set_new(o, "worker", json_integer(worker_index));
    json_object_set_new(o, "queue_seconds", json_real(j->t_start - j->t_arrive));
    json_object_set_new(o, "prefill_seconds", json_real(j->prefill_s));
    json_object_set_new(o, "decode_seconds", json_real(j->decode_s));
    return o;
}

static void answer_error(job *j, int status, const char *code, const char *msg)
{
    lcx_serve_error e;
    lcx_serve_errorf(&e, status, NULL, code, "%s", msg);
    free(j->body);
    j->status = status;
    j->body = lcx_serve_error_body(&e);
}

static int run_generate(worker *w, job *j, lcx_err *err)
{
    server *s = w->srv;
    size_t n = j->req.n_prompts;
    lcx_serve_choice *choices = calloc(n, sizeof *choices);
    if (!choices)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    int rc = 0;
    size_t hold = 0;
    for (int k = 0; k < j->req.n_stops; k++)
        if (strlen(j->req.stops[k]) > hold)
            hold = strlen(j->req.stops[k]);
    gen_ctx g = {.srv = s, .j = j, .hold = hold ? hold - 1 : 0, .first = 1};
    sb_init(&g.ev);
    for (size_t i = 0; !rc && i < n; i++) {
        lcx_serve_prompt *p = &j->req.prompts[i];
        lcx_serve_choice *c = &choices[i];
        g.c = c;
        g.prompt_ids = p->ids;
        g.n_prompt = p->n_ids;
        g.prompt_is_text = p->text != NULL;
        g.next_offset = 0;
        g.emitted = 0;
        int want_prompt_lp = j->req.echo && j->req.logprobs >= 0;
        if (want_prompt_lp && add_row(&g, p->ids[0], 0, token_text(s->tok, p->ids[0]), NAN, NULL))
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
        if (!rc)
            rc = prepare_session(w, j, err);
        int max_tokens = j->req.max_tokens;
        lcx_gen_opts go = {.max_tokens = (size_t)max_tokens,
                           .temperature = (float)j->req.temperature,
                           .top_k = j->req.top_k,
                           .top_p = (float)j->req.top_p,
                           .seed = j->req.seed,
                           .stops = (const char *const *)j->req.stops,
                           .n_stops = j->req.n_stops,
                           .on_token = on_token,
                           .on_token_ctx = &g,
                           .cancelled = cancelled};
        lcx_gen_result r;
        if (!rc)
            rc = lcx_generate(w->session, s->model, p->ids, p->n_ids, &go,
                              want_prompt_lp ? prompt_logits : NULL, &g, &r, err);
        if (rc)
            break;
        j->prefill_s += r.prefill_seconds;
        j->decode_s += r.decode_seconds;
        c->finish = !strcmp(r.finish, "length") ? "length" : "stop";
        c->prompt_tokens = p->n_ids;
        c->completion_tokens = r.n;
        const char *text = r.text ? r.text : "";
        if (j->req.stream && strlen(text) > g.emitted) {
            /* what the stop-string hold kept back, up to the cut */
            lcx_serve_stream_event(&g.ev, &j->req, j->id, j->created, s->model_name,
                                   text + g.emitted, strlen(text) - g.emitted, g.first, NULL, -1, 0,
                                   NULL);
            g.first = 0;
        }
        if (j->req.echo) {
            /* the prompt as given, or its ids decoded */
            strbuf e;
            sb_init(&e);
            if (p->text) {
                sb_puts(&e, p->text);
            } else {
                char *pt = NULL;
                size_t pl = 0;
                if (!lcx_tokenizer_decode(s->tok, p->ids, p->n_ids, 0, &pt, &pl, NULL))
                    sb_append(&e, pt, pl);
                free(pt);
            }
            sb_puts(&e, text);
            c->text = sb_take(&e);
        } else {
            c->text = strdup(text);
        }
        j->completion_tokens += (long)r.n;
        lcx_gen_result_free(&r);
        if (!c->text)
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    j->t_end = lcx_now();
    json_t *extra = rc ? NULL : lcx_json(s, j, w->index);
    if (j->req.stream) {
        if (rc) {
            lcx_serve_error e;
            if (atomic_load(&j->cancel) == CANCEL_SHUTDOWN)
                lcx_serve_errorf(&e, 503, NULL, "shutting_down", "the server is shutting down");
            else
                lcx_serve_errorf(&e, 500, NULL, "engine_error", "%s", err->msg);
            char *b = lcx_serve_error_body(&e);
            sb_printf(&g.ev, "data: %s\n\n", b ? b : "{}");
            free(b);
        } else {
            lcx_serve_stream_event(&g.ev, &j->req, j->id, j->created, s->model_name, NULL, 0, 0,
                                   choices[0].finish, -1, 0, extra);
            if (j->req.include_usage)
                lcx_serve_stream_event(&g.ev, &j->req, j->id, j->created, s->model_name, NULL, 0, 0,
                                       NULL, j->prompt_tokens, j->completion_tokens, NULL);
        }
        sb_puts(&g.ev, "data: [DONE]\n\n");
        stream_push(s, j, &g.ev);
        json_decref(extra);
    } else if (!rc) {
        json_t *ans = lcx_serve_answer_json(&j->req, j->id, j->created, s->model_name, choices, n,
                                            extra);
        j->body = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
        j->status = 200;
        json_decref(ans);
        if (!j->body)
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        lcx_serve_choice_free(&choices[i]);
    free(choices);
    sb_free(&g.ev);
    return rc;
}

static int run_probe(worker *w, job *j, lcx_err *err)
{
    server *s = w->srv;
    lcx_serve_prompt *p = &j->req.prompts[0];
    int L = s->cfg->n_layers;
    lcx_probe_layer *layers = calloc((size_t)L, sizeof *layers);
    if (!layers)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    lcx_probe probe = {L, (int)(p->n_ids / 2), layers};
    gen_ctx g = {.srv = s, .j = j};
    int rc = prepare_session(w, j, err);
    size_t chunk = (size_t)lcx_session_chunk(w->session);
    double t0 = lcx_now();
    for (size_t done = 0; !rc && done < p->n_ids; done += chunk) {
        size_t len = p->n_ids - done < chunk ? p->n_ids - done : chunk;
        rc = cancelled(&g, err);
        if (!rc)
            rc = lcx_session_eval(w->session, p->ids + done, (int)len, NULL, NULL, NULL, &probe, err);
    }
    j->prefill_s = lcx_now() - t0;
    j->t_end = lcx_now();
    if (!rc) {
        json_t *o = lcx_probe_report(s->cfg, &probe);
        json_object_set_new(o, "object", json_string("lcx.probe"));
        json_object_set_new(o, "model", json_string(s->model_name));
        json_object_set_new(o, "tokens", json_integer((json_int_t)p->n_ids));
        json_object_set_new(o, "from_position", json_integer(probe.from_pos));
        json_object_set_new(o, "gate", json_string(lcx_gate_name(s->cfg->gate)));
        json_object_set_new(o, "kv_dtype", json_string(lcx_kv_dtype_name(s->o.engine.kv_dtype)));
        json_object_set_new(o, "lcx", lcx_json(s, j, w->index));
        j->body = json_dumps(o, JSON_COMPACT);
        j->status = 200;
        json_decref(o);
        if (!j->body)
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    free(layers);
    return rc;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    server *s = w->srv;
    /* OpenMP threads of this worker's parallel regions: the ICV is per
     * thread, and the session sizes its scratch by it, so set it first. */
    omp_set_num_threads(s->threads);
    lcx_err err = {0};
    lcx_rope_params rope;
    lcx_rope_resolve(&s->cfg->rope, &s->o.rope, 0, &rope);
    lcx_session_opts so = {.rope = &rope, .kv_dtype = s->o.engine.kv_dtype};
    int rc = lcx_session_new_opts(s->model, s->max_context, &so, &w->session, &err);
    pthread_mutex_lock(&s->lock);
    w->ready = rc ? -1 : 1;
    if (rc && !s->start_err.code)
        s->start_err = err;
    pthread_cond_broadcast(&s->job_cond);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (!s->head && !s->stop_workers)
            pthread_cond_wait(&s->work_cond, &s->lock);
        if (!s->head) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        job *j = s->head;
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        s->n_queued--;
        s->n_running++;
        j->state = JOB_RUNNING;
        w->current = j;
        pthread_mutex_unlock(&s->lock);

        j->t_start = lcx_now();
        lcx_err e = {0};
        int why = atomic_load(&j->cancel);
        int jrc = why ? cancelled(&(gen_ctx){.j = j}, &e)
                      : j->req.route == LCX_SERVE_PROBE ? run_probe(w, j, &e)
                                                        : run_generate(w, j, &e);
        if (jrc && !j->req.stream) {
            why = atomic_load(&j->cancel);
            if (why == CANCEL_SHUTDOWN)
                answer_error(j, 503, "shutting_down", "the server is shutting down");
            else
                answer_error(j, why ? 499 : 500, why ? "cancelled" : "engine_error", e.msg);
        } else if (jrc && why) {
            /* a stream cancelled before it started: end it */
            pthread_mutex_lock(&s->lock);
            sb_puts(&j->stream, "data: [DONE]\n\n");
            pthread_mutex_unlock(&s->lock);
        }
        if (!j->t_end)
            j->t_end = lcx_now();
        pthread_mutex_lock(&s->lock);
        j->state = JOB_DONE;
        j->stream_done = 1;
        w->current = NULL;
        s->n_running--;
        job_unref_locked(j);
        pthread_cond_broadcast(&s->job_cond);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* ---- the connection's side ---------------------------------------------------- */

static enum MHD_Result send_body(struct MHD_Connection *c, conn_req *cr, int status,
                                 const char *body, const char *content_type, int retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", content_type);
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (status == 405)
        MHD_add_response_header(r, "Allow", cr && !strcmp(cr->url, "/health") ? "GET" : "POST");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    if (cr) {
        cr->status = status;
        cr->bytes = strlen(body);
    }
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, conn_req *cr, int status, json_t *o)
{
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    enum MHD_Result r = send_body(c, cr, body ? status : 500,
                                  body ? body : "{\"error\":{\"message\":\"out of memory\"}}",
                                  "application/json", 0);
    free(body);
    return r;
}

static enum MHD_Result send_error(struct MHD_Connection *c, conn_req *cr, const lcx_serve_error *e)
{
    char *body = lcx_serve_error_body(e);
    enum MHD_Result r = send_body(c, cr, e->status, body ? body : "{}", "application/json",
                                  e->status == 429 || e->status == 503 ? 1 : 0);
    if (cr && e->param[0])
        snprintf(cr->note, sizeof cr->note, "param=%s", e->param);
    free(body);
    return r;
}

static json_t *models_json(const server *s)
{
    json_t *m = json_object(), *list = json_object(), *data = json_array();
    json_object_set_new(m, "id", json_string(s->model_name));
    json_object_set_new(m, "object", json_string("model"));
    json_object_set_new(m, "created", json_integer(s->started));
    json_object_set_new(m, "owned_by", json_string("lcx"));
    json_object_set_new(m, "max_model_len", json_integer(s->max_context));
    json_array_append_new(data, m);
    json_object_set_new(list, "object", json_string("list"));
    json_object_set_new(list, "data", data);
    return list;
}

static json_t *tokenizer_info_json(const server *s)
{
    json_t *o = json_object();
    const char *eos = s->cfg->n_eos ? lcx_tokenizer_id_token(s->tok, s->cfg->eos_ids[0]) : NULL;
    int32_t bos_id = lcx_tokenizer_bos_id(s->tok);
    const char *bos = bos_id >= 0 ? lcx_tokenizer_id_token(s->tok, bos_id) : NULL;
    json_object_set_new(o, "eos_token", eos ? json_string(eos) : json_null());
    json_object_set_new(o, "bos_token", bos ? json_string(bos) : json_null());
    json_object_set_new(o, "pad_token", json_null());
    json_object_set_new(o, "chat_template", json_null());
    json_object_set_new(o, "lcx_template", json_string(s->tmpl->name));
    json_object_set_new(o, "model_max_length", json_integer(s->max_context));
    return o;
}

static int encode(const server *s, lcx_serve_prompt *p, int add_special, lcx_serve_error *e)
{
    if (p->ids)
        return 0;
    lcx_err err = {0};
    if (lcx_tokenizer_encode(s->tok, p->text, strlen(p->text), add_special, &p->ids, &p->n_ids, &err))
        return lcx_serve_errorf(e, 500, NULL, "tokenizer_error", "%s", err.msg);
    return 0;
}

static enum MHD_Result do_tokenize(struct MHD_Connection *c, conn_req *cr, server *s,
                                   lcx_serve_request *r)
{
    lcx_serve_error e;
    lcx_serve_prompt *p = &r->prompts[0];
    if (r->route == LCX_SERVE_DETOKENIZE) {
        char *text = NULL;
        size_t len = 0;
        lcx_err err = {0};
        if (lcx_tokenizer_decode(s->tok, p->ids, p->n_ids, 0, &text, &len, &err)) {
            free(text);
            lcx_serve_errorf(&e, 500, NULL, "tokenizer_error", "%s", err.msg);
            return send_error(c, cr, &e);
        }
        json_t *o = json_object();
        json_object_set_new(o, "prompt", lcx_serve_json_text(text, len));
        json_object_set_new(o, "content", lcx_serve_json_text(text, len));
        free(text);
        return send_json(c, cr, 200, o);
    }
    if (encode(s, p, r->add_special, &e))
        return send_error(c, cr, &e);
    json_t *o = json_object(), *ids = json_array(), *strs = json_array();
    for (size_t i = 0; i < p->n_ids; i++) {
        char *t = r->with_pieces || r->return_token_strs ? token_text(s->tok, p->ids[i]) : NULL;
        if (r->with_pieces) {
            json_t *pc = json_object();
            json_object_set_new(pc, "id", json_integer(p->ids[i]));
            json_object_set_new(pc, "piece", lcx_serve_json_text(t ? t : "", t ? strlen(t) : 0));
            json_array_append_new(ids, pc);
        } else {
            json_array_append_new(ids, json_integer(p->ids[i]));
        }
        if (r->return_token_strs)
            json_array_append_new(strs, lcx_serve_json_text(t ? t : "", t ? strlen(t) : 0));
        free(t);
    }
    if (r->form == LCX_SERVE_FORM_VLLM) {
        json_object_set_new(o, "count", json_integer((json_int_t)p->n_ids));
        json_object_set_new(o, "max_model_len", json_integer(s->max_context));
    }
    json_object_set_new(o, "tokens", ids);
    if (r->return_token_strs)
        json_object_set_new(o, "token_strs", strs);
    else
        json_decref(strs);
    snprintf(cr->note, sizeof cr->note, "tokens=%zu form=%s", p->n_ids,
             r->form == LCX_SERVE_FORM_VLLM ? "vllm" : "llamacpp");
    return send_json(c, cr, 200, o);
}

/* Encode the prompts, check them against the context, resolve the RoPE. */
static int prepare_job(server *s, job *j, lcx_serve_error *e)
{
    lcx_serve_request *r = &j->req;
    const char *field = r->route == LCX_SERVE_CHAT ? "messages" : "prompt";
    size_t longest = 0;
    for (size_t i = 0; i < r->n_prompts; i++) {
        if (encode(s, &r->prompts[i], r->add_special, e))
            return LCX_EINPUT;
        size_t n = r->prompts[i].n_ids;
        if (n == 0)
            return lcx_serve_errorf(e, 400, field, "invalid_value",
                                    "%s is empty after tokenization (no token to start from)", field);
        if (n > longest)
            longest = n;
        j->prompt_tokens += (long)n;
    }
    if (longest >= (size_t)s->max_context)
        return lcx_serve_errorf(e, 400, field, "context_length_exceeded",
                                "this server's context is %d tokens (--max-context) and the %s has "
                                "%zu", s->max_context, field, longest);
    if (r->route != LCX_SERVE_PROBE) {
        if (r->max_tokens < 0) /* OpenAI's completions default; chat: the rest of the context */
            r->max_tokens = r->route == LCX_SERVE_COMPLETIONS
                                ? (16 < s->max_context - (int)longest ? 16 : s->max_context - (int)longest)
                                : s->max_context - (int)longest;
        if ((size_t)r->max_tokens + longest > (size_t)s->max_context)
            return lcx_serve_errorf(e, 400, "max_tokens", "context_length_exceeded",
                                    "this server's context is %d tokens (--max-context); the %s has "
                                    "%zu and max_tokens asks for %d more", s->max_context, field,
                                    longest, r->max_tokens);
    }
    /* the server's overrides, then the request's own fields, resolved
     * against config.json as lcx run --model resolves its options */
    lcx_rope_opts ro;
    lcx_rope_opts_merge(&s->o.rope, &r->rope, &ro);
    lcx_rope_resolve(&s->cfg->rope, &ro, longest, &j->rope);
    lcx_err err = {0};
    if (lcx_rope_describe(&j->rope, s->max_context, &j->rope_info, &err))
        return lcx_serve_errorf(e, 400, r->rope_given ? "rope_scaling" : NULL, "invalid_rope", "%s",
                                err.msg);
    return 0;
}

/* Queue j, or say why not (429 when full, 503 when draining). */
static int enqueue(server *s, job *j, lcx_serve_error *e)
{
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    if (s->draining)
        rc = lcx_serve_errorf(e, 503, NULL, "shutting_down", "the server is shutting down");
    else if (s->n_queued >= s->o.queue)
        rc = lcx_serve_errorf(e, 429, NULL, "queue_full",
                              "the queue is full (%d waiting, %d running); retry later", s->n_queued,
                              s->n_running);
    if (!rc) {
        j->state = JOB_QUEUED;
        j->refs++; /* the worker's */
        if (s->tail)
            s->tail->next = j;
        else
            s->head = j;
        s->tail = j;
        s->n_queued++;
        pthread_cond_signal(&s->work_cond);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void note_job(conn_req *cr, const job *j)
{
    const lcx_rope_params *p = &j->rope_info.params;
    char fields[256];
    lcx_serve_rope_fields(&j->req, fields, sizeof fields);
    snprintf(cr->note, sizeof cr->note,
             "prompt=%ld completion=%ld%s queue=%.3fs run=%.3fs rope=%s factor=%g orig_ctx=%d "
             "attn_factor=%g attn_temperature=%g%s%s%s",
             j->prompt_tokens, (long)atomic_load(&j->generated),
             atomic_load(&j->cancel) == CANCEL_CLIENT     ? " cancelled (client gone)"
             : atomic_load(&j->cancel) == CANCEL_SHUTDOWN ? " cancelled (shutdown)"
                                                          : "",
             j->t_start > 0 ? j->t_start - j->t_arrive : 0,
             j->t_end > j->t_start && j->t_start > 0 ? j->t_end - j->t_start : 0,
             lcx_rope_type_name(p->type), p->factor > 0 ? p->factor : 1.0,
             p->orig_ctx > 0 ? p->orig_ctx : p->max_pos, j->rope_info.magnitude,
             p->temperature > 0 ? p->temperature : 1.0, fields[0] ? " (request: " : "", fields,
             fields[0] ? ")" : "");
}

/* Streamed answers: libmicrohttpd pulls the events as the worker adds them. */
typedef struct stream_src {
    server *srv;
    job *j;
} stream_src;

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_src *src = cls;
    server *s = src->srv;
    job *j = src->j;
    pthread_mutex_lock(&s->lock);
    while (j->stream_sent == j->stream.len && !j->stream_done) {
        struct timespec ts;
        deadline_in(&ts, 0.2);
        pthread_cond_timedwait(&s->job_cond, &s->lock, &ts);
        if (j->stream_sent == j->stream.len && client_gone(j->client_fd))
            atomic_store(&j->cancel, CANCEL_CLIENT);
    }
    ssize_t n;
    if (j->stream_sent < j->stream.len) {
        size_t avail = j->stream.len - j->stream_sent;
        n = (ssize_t)(avail < max ? avail : max);
        memcpy(buf, j->stream.data + j->stream_sent, (size_t)n);
        j->stream_sent += (size_t)n;
        if (j->stream_sent == j->stream.len) {
            sb_clear(&j->stream);
            j->stream_sent = 0;
        }
    } else {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void stream_free(void *cls)
{
    stream_src *src = cls;
    pthread_mutex_lock(&src->srv->lock);
    if (!src->j->stream_done)
        atomic_store(&src->j->cancel, CANCEL_CLIENT);
    job_unref_locked(src->j);
    pthread_mutex_unlock(&src->srv->lock);
    free(src);
}

static enum MHD_Result do_generate(struct MHD_Connection *c, conn_req *cr, server *s,
                                   lcx_serve_request *r)
{
    lcx_serve_error e;
    job *j = calloc(1, sizeof *j);
    if (!j) {
        lcx_serve_request_free(r);
        lcx_serve_errorf(&e, 500, NULL, NULL, "out of memory");
        return send_error(c, cr, &e);
    }
    j->req = *r;
    memset(r, 0, sizeof *r);
    j->refs = 1; /* the connection's */
    j->t_arrive = cr->t0;
    j->created = (long)time(NULL);
    sb_init(&j->stream);
    atomic_init(&j->cancel, CANCEL_NONE);
    atomic_init(&j->generated, 0);
    snprintf(j->id, sizeof j->id, "%s-%lx",
             j->req.route == LCX_SERVE_CHAT    ? "chatcmpl"
             : j->req.route == LCX_SERVE_PROBE ? "probe"
                                               : "cmpl",
             (unsigned long)atomic_fetch_add(&s->next_id, 1));
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    j->client_fd = ci ? ci->connect_fd : -1;
    cr->j = j;
    pthread_mutex_lock(&s->lock);
    s->n_answering++;
    pthread_mutex_unlock(&s->lock);
    if (prepare_job(s, j, &e) || enqueue(s, j, &e))
        return send_error(c, cr, &e);
    if (j->req.stream) {
        stream_src *src = malloc(sizeof *src);
        struct MHD_Response *resp =
            src ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader, src,
                                                    stream_free)
                : NULL;
        if (!resp) {
            free(src);
            atomic_store(&j->cancel, CANCEL_CLIENT);
            return MHD_NO;
        }
        *src = (stream_src){s, j};
        pthread_mutex_lock(&s->lock);
        j->refs++; /* the stream's, until stream_free */
        pthread_mutex_unlock(&s->lock);
        MHD_add_response_header(resp, "Content-Type", "text/event-stream");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        enum MHD_Result ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        cr->status = 200;
        return ret;
    }
    /* wait for the worker, watching the client */
    pthread_mutex_lock(&s->lock);
    while (j->state != JOB_DONE) {
        struct timespec ts;
        deadline_in(&ts, 0.2);
        pthread_cond_timedwait(&s->job_cond, &s->lock, &ts);
        if (j->state != JOB_DONE && !atomic_load(&j->cancel) && client_gone(j->client_fd))
            atomic_store(&j->cancel, CANCEL_CLIENT);
    }
    pthread_mutex_unlock(&s->lock);
    if (atomic_load(&j->cancel) == CANCEL_CLIENT) {
        cr->status = 499; /* nobody to answer */
        return MHD_NO;
    }
    return send_body(c, cr, j->status, j->body ? j->body : "{}", "application/json",
                     j->status == 503 ? 1 : 0);
}

static int route_of(const char *url, lcx_serve_route *out)
{
    static const struct {
        const char *path;
        lcx_serve_route route;
    } routes[] = {{"/v1/completions", LCX_SERVE_COMPLETIONS},
                  {"/v1/chat/completions", LCX_SERVE_CHAT},
                  {"/v1/probe", LCX_SERVE_PROBE},
                  {"/tokenize", LCX_SERVE_TOKENIZE},
                  {"/detokenize", LCX_SERVE_DETOKENIZE},
                  {"/v1/tokenize", LCX_SERVE_TOKENIZE},
                  {"/v1/detokenize", LCX_SERVE_DETOKENIZE}};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!strcmp(url, routes[i].path)) {
            *out = routes[i].route;
            return 1;
        }
    return 0;
}

static int is_get_route(const char *url)
{
    return !strcmp(url, "/health") || !strcmp(url, "/v1/models") || !strcmp(url, "/tokenizer_info");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)version;
    server *s = cls;
    conn_req *cr = *con_cls;
    lcx_serve_error e;
    lcx_serve_route route = LCX_SERVE_COMPLETIONS;
    int is_post = !strcmp(method, "POST"), is_get = !strcmp(method, "GET");
    if (!cr) {
        /* the first call: headers only */
        cr = calloc(1, sizeof *cr);
        if (!cr)
            return MHD_NO;
        sb_init(&cr->body);
        cr->t0 = lcx_now();
        snprintf(cr->method, sizeof cr->method, "%.7s", method);
        snprintf(cr->url, sizeof cr->url, "%.63s", url);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
            char ip[INET_ADDRSTRLEN] = "?";
            inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
            snprintf(cr->client, sizeof cr->client, "%s:%u", ip, ntohs(a->sin_port));
        } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
            char ip[INET6_ADDRSTRLEN] = "?";
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            snprintf(cr->client, sizeof cr->client, "[%s]:%u", ip, ntohs(a->sin6_port));
        } else {
            snprintf(cr->client, sizeof cr->client, "-");
        }
        *con_cls = cr;
        int known_post = route_of(url, &route), known_get = is_get_route(url);
        if (!known_post && !known_get) {
            lcx_serve_errorf(&e, 404, NULL, "not_found", "no route %.200s (see docs/serve.md)", url);
            return send_error(c, cr, &e);
        }
        if ((known_post && !is_post) || (known_get && !is_get)) {
            lcx_serve_errorf(&e, 405, NULL, "method_not_allowed", "%.200s takes %s, not %.20s", url,
                             known_post ? "POST" : "GET", method);
            return send_error(c, cr, &e);
        }
        if (s->o.api_key && strcmp(url, "/health")) {
            const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
            if (!lcx_serve_key_matches(auth, s->o.api_key)) {
                lcx_serve_errorf(&e, 401, NULL, "invalid_api_key",
                                 "missing or wrong API key (Authorization: Bearer <key>)");
                return send_error(c, cr, &e);
            }
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->o.max_body) {
            lcx_serve_errorf(&e, 413, NULL, "body_too_large",
                             "the body has %s bytes; this server takes at most %zu (--max-body)", cl,
                             s->o.max_body);
            return send_error(c, cr, &e);
        }
        return MHD_YES;
    }
    if (cr->status) {
        *upload_data_size = 0; /* answered already (an early error): discard the rest */
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (cr->body.len + *upload_data_size > s->o.max_body) {
            *upload_data_size = 0;
            lcx_serve_errorf(&e, 413, NULL, "body_too_large",
                             "the body is over %zu bytes (--max-body)", s->o.max_body);
            return send_error(c, cr, &e);
        }
        sb_append(&cr->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        if (cr->body.oom) {
            lcx_serve_errorf(&e, 500, NULL, NULL, "out of memory");
            return send_error(c, cr, &e);
        }
        return MHD_YES;
    }
    /* the whole request is in */
    if (!strcmp(url, "/health")) {
        pthread_mutex_lock(&s->lock);
        char body[96];
        snprintf(body, sizeof body, "{\"status\":\"%s\",\"running\":%d,\"queued\":%d}",
                 s->draining ? "draining" : "ok", s->n_running, s->n_queued);
        int draining = s->draining;
        pthread_mutex_unlock(&s->lock);
        return send_body(c, cr, draining ? 503 : 200, body, "application/json", 0);
    }
    if (!strcmp(url, "/v1/models"))
        return send_json(c, cr, 200, models_json(s));
    if (!strcmp(url, "/tokenizer_info"))
        return send_json(c, cr, 200, tokenizer_info_json(s));
    route_of(url, &route);
    lcx_serve_parse_ctx ctx = {s->tmpl, s->model_name, s->cfg->vocab_size, 0};
    lcx_serve_request r;
    if (lcx_serve_parse(route, sb_str(&cr->body), cr->body.len, &ctx, &r, &e))
        return send_error(c, cr, &e);
    if (route == LCX_SERVE_TOKENIZE || route == LCX_SERVE_DETOKENIZE) {
        enum MHD_Result ret = do_tokenize(c, cr, s, &r);
        lcx_serve_request_free(&r);
        return ret;
    }
    return do_generate(c, cr, s, &r);
}

/* The end of a request: one access line on stderr (never a header, so
 * never the key), and the request's memory. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)c;
    server *s = cls;
    conn_req *cr = *con_cls;
    if (!cr)
        return;
    *con_cls = NULL;
    if (cr->j) {
        pthread_mutex_lock(&s->lock);
        int state = cr->j->state;
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && state != JOB_DONE && state != JOB_NEW)
            atomic_store(&cr->j->cancel, CANCEL_CLIENT); /* a stream cut short */
        /* a job refused before it was queued: the note names the field */
        if (state != JOB_NEW)
            note_job(cr, cr->j);
        s->n_answering--;
        pthread_cond_broadcast(&s->job_cond);
        pthread_mutex_unlock(&s->lock);
    }
    const char *how = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                      : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? " [timed out]"
                      : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? " [client closed]"
                      : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? " [shutdown]"
                                                                      : " [connection error]";
    fprintf(stderr, "serve: %s \"%s %s\" %d %zuB %.3fs%s%s%s\n", cr->client, cr->method, cr->url,
            cr->status, cr->bytes, lcx_now() - cr->t0, cr->note[0] ? " " : "", cr->note, how);
    if (cr->j)
        job_unref(s, cr->j);
    sb_free(&cr->body);
    free(cr);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    /* what a cancelled request's MHD_NO makes it say: the access line has it */
    if (!strncmp(line, "Application reported internal error", 35))
        return;
    fprintf(stderr, "serve: libmicrohttpd: %s\n", line);
}

/* ---- start and stop ------------------------------------------------------------- */

void lcx_serve_opts_init(lcx_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    lcx_rope_opts_init(&o->rope);
    lcx_engine_opts_init(&o->engine);
    o->port = 8000;
}

static void stop_workers(server *s, int n)
{
    pthread_mutex_lock(&s->lock);
    s->stop_workers = 1;
    pthread_cond_broadcast(&s->work_cond);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < n; i++) {
        pthread_join(s->workers[i].thread, NULL);
        lcx_session_free(s->workers[i].session);
    }
}

/* Cancel every queued and running job (shutdown past its deadline). */
static void cancel_all(server *s, int n_workers)
{
    pthread_mutex_lock(&s->lock);
    for (job *j = s->head; j; j = j->next)
        atomic_store(&j->cancel, CANCEL_SHUTDOWN);
    for (int i = 0; i < n_workers; i++)
        if (s->workers[i].current)
            atomic_store(&s->workers[i].current->cancel, CANCEL_SHUTDOWN);
    pthread_mutex_unlock(&s->lock);
}

static void wait_for_stop(int stop_fd)
{
    struct pollfd p = {stop_fd, POLLIN, 0};
    while (poll(&p, 1, -1) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) {
    }
}

static int bind_addr(const char *host, int port, struct sockaddr_storage *ss, lcx_err *err)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    return lcx_errf(err, LCX_EINPUT, "--host %s: not an IPv4 or IPv6 address", host);
}

int lcx_serve_run(const lcx_serve_opts *opts, int stop_fd, lcx_err *err)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    s->o = *opts;
    lcx_serve_opts *o = &s->o;
    if (!o->host)
        o->host = "127.0.0.1";
    if (o->parallel <= 0)
        o->parallel = 1;
    if (o->queue <= 0)
        o->queue = 16;
    if (!o->max_body)
        o->max_body = 16u << 20;
    if (o->idle_timeout <= 0)
        o->idle_timeout = 30;
    if (o->shutdown_timeout <= 0)
        o->shutdown_timeout = 30;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    pthread_cond_init(&s->job_cond, NULL);
    atomic_init(&s->next_id, 1);
    s->started = (long)time(NULL);
    int rc = 0, n_workers = 0;
    const char *tname = o->template_name ? o->template_name : "base";
    if (!(s->tmpl = lcx_template_find(tname)))
        rc = lcx_errf(err, LCX_EINPUT, "--template: unknown template '%s' (%s)", tname,
                      lcx_template_names());
    if (!rc)
        rc = lcx_model_load(o->model_dir, &s->model, err);
    if (!rc) {
        s->cfg = lcx_model_config(s->model);
        s->tok = lcx_model_tokenizer(s->model);
        if (!s->tok)
            rc = lcx_errf(err, LCX_EINPUT, "%s: the model has no usable tokenizer: %s", o->model_dir,
                          lcx_model_tokenizer_note(s->model));
    }
    if (!rc) {
        s->max_context = o->max_context > 0 ? o->max_context : s->cfg->max_pos;
        if (s->max_context <= 1)
            rc = lcx_errf(err, LCX_EINPUT, "--max-context: give the context (the config has no "
                          "max_position_embeddings)");
    }
    if (!rc) {
        /* the name: --model-name, else the directory's last part */
        const char *dir = o->model_dir;
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
            n--;
        size_t b = n;
        while (b > 0 && dir[b - 1] != '/')
            b--;
        if (o->model_name)
            snprintf(s->model_name, sizeof s->model_name, "%s", o->model_name);
        else
            snprintf(s->model_name, sizeof s->model_name, "%.*s", (int)(n - b), dir + b);
        /* the server-wide RoPE must be usable */
        lcx_rope_params p;
        lcx_rope_info ri;
        lcx_rope_resolve(&s->cfg->rope, &o->rope, 0, &p);
        rc = lcx_rope_describe(&p, s->max_context, &ri, err);
        if (!rc) {
            char line[512];
            lcx_rope_info_format(&ri, line, sizeof line);
            fprintf(stderr, "serve: model %s (%s, %d layers, gate %s), served as '%s'\nserve: %s%s\n",
                    o->model_dir, s->cfg->arch_name, s->cfg->n_layers, lcx_gate_name(s->cfg->gate),
                    s->model_name, line, o->rope.factor_auto ? " (factor auto: per prompt)" : "");
        }
    }
    if (!rc) {
        /* all sessions at once: weights + parallel x (KV cache + activations) */
        long long positions = (long long)s->max_context * o->parallel;
        char line[512];
        if (positions > (1 << 28))
            rc = lcx_errf(err, LCX_EINPUT, "--max-context x --parallel: %lld positions is too many",
                          positions);
        else
            rc = lcx_engine_check_memory(&o->engine, s->model, (int)positions, 0, line, sizeof line,
                                         err);
        if (!rc)
            fprintf(stderr, "serve: %d session%s of %d positions; %s\n", o->parallel,
                    o->parallel == 1 ? "" : "s", s->max_context, line);
        else
            lcx_err_prefix(err, "%d session%s of %d positions", o->parallel,
                           o->parallel == 1 ? "" : "s", s->max_context);
    }
    if (!rc) {
        int cores = omp_get_num_procs();
        s->threads = o->threads > 0 ? o->threads : (cores / o->parallel > 0 ? cores / o->parallel : 1);
        s->workers = calloc((size_t)o->parallel, sizeof *s->workers);
        if (!s->workers)
            rc = lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (int i = 0; !rc && i < o->parallel; i++) {
        worker *w = &s->workers[i];
        w->srv = s;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w))
            rc = lcx_errf(err, LCX_EINTERNAL, "could not start worker %d", i);
        else
            n_workers++;
    }
    /* every session allocated, or the first error */
    pthread_mutex_lock(&s->lock);
    for (int i = 0; !rc && i < n_workers; i++)
        while (!s->workers[i].ready)
            pthread_cond_wait(&s->job_cond, &s->lock);
    if (!rc && s->start_err.code) {
        *err = s->start_err;
        rc = err->code;
    }
    pthread_mutex_unlock(&s->lock);
    struct sockaddr_storage ss;
    if (!rc)
        rc = bind_addr(o->host, o->port, &ss, err);
    if (!rc) {
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_ITC | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
        s->daemon = MHD_start_daemon(
            flags, (uint16_t)o->port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
            NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->idle_timeout + 0.5),
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)(256 + o->queue + o->parallel), MHD_OPTION_END);
        if (!s->daemon)
            rc = lcx_errf(err, LCX_EIO, "could not listen on %s port %d (in use, or not an address "
                          "of this machine)", o->host, o->port);
    }
    if (!rc) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        int port = di ? di->port : o->port;
        fprintf(stderr, "serve: listening on http://%s%s%s:%d (%d worker%s x %d thread%s, queue %d, "
                "context %d, template %s, API key %s)\n",
                ss.ss_family == AF_INET6 ? "[" : "", o->host, ss.ss_family == AF_INET6 ? "]" : "",
                port, o->parallel, o->parallel == 1 ? "" : "s", s->threads,
                s->threads == 1 ? "" : "s", o->queue, s->max_context, s->tmpl->name,
                o->api_key ? "required" : "none");
        if (o->port_file) {
            char text[16];
            int n = snprintf(text, sizeof text, "%d\n", port);
            lcx_err e = {0};
            if (lcx_write_file_atomic(o->port_file, text, (size_t)n, &e))
                fprintf(stderr, "serve: --port-file: %s\n", e.msg);
        }
        wait_for_stop(stop_fd);
        /* graceful shutdown: no new connections, no new jobs; what is
         * queued or running finishes within the deadline, then is
         * cancelled and answered 503 */
        fprintf(stderr, "serve: stopping: finishing %d running and %d queued request%s (at most %g s)\n",
                s->n_running, s->n_queued, s->n_running + s->n_queued == 1 ? "" : "s",
                o->shutdown_timeout);
        MHD_socket listen_fd = MHD_quiesce_daemon(s->daemon);
        pthread_mutex_lock(&s->lock);
        s->draining = 1;
        struct timespec until;
        deadline_in(&until, o->shutdown_timeout);
        /* Finished means answered: the last bytes sent, not only computed. */
        while (s->n_queued + s->n_running + s->n_answering > 0 &&
               pthread_cond_timedwait(&s->job_cond, &s->lock, &until) == 0) {
        }
        int left = s->n_queued + s->n_running;
        pthread_mutex_unlock(&s->lock);
        if (left) {
            fprintf(stderr, "serve: %d request%s past the shutdown deadline: cancelled\n", left,
                    left == 1 ? "" : "s");
            cancel_all(s, n_workers);
            /* their 503 answers get a moment to go out */
            pthread_mutex_lock(&s->lock);
            deadline_in(&until, 2.0);
            while (s->n_answering > 0 && pthread_cond_timedwait(&s->job_cond, &s->lock, &until) == 0) {
            }
            pthread_mutex_unlock(&s->lock);
        }
        stop_workers(s, n_workers);
        n_workers = 0;
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
        if (listen_fd != MHD_INVALID_SOCKET)
            close(listen_fd); /* quiesce handed it to us */
        fprintf(stderr, "serve: stopped\n");
    }
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    if (n_workers)
        stop_workers(s, n_workers);
    lcx_model_free(s->model);
    free(s->workers);
    pthread_cond_destroy(&s->work_cond);
    pthread_cond_destroy(&s->job_cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return rc;
}
