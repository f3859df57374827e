/* run_suite.c: the run as one library call (run_suite.h): generate (or
 * read) the tasks, send every prompt to a backend, score the answers, and
 * keep it all in a resumable results directory. */
#include "harness/run_suite.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "common/sha256.h"
#include "harness/args.h"
#include "harness/remote_count.h"
#include "harness/version.h"
#include "results/pred_file.h"
#include "results/run_dir.h"
#include "results/score.h"
#include "tasks/tasks.h"

/* A numeric option: "--name V"; returns 1 consumed, 0 not ours, -1 bad. */
static int number_opt(int argc, char **argv, int *i, const char *name, double lo, double hi,
                      double *out, lcx_err *err)
{
    const char *v;
    int r = lcx_arg_value(argc, argv, i, name, &v, err);
    if (r <= 0)
        return r;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || x < lo || x > hi) {
        lcx_errf(err, LCX_EINPUT, "option %s: '%s' is not a number in [%g, %g]", name, v, lo, hi);
        return -1;
    }
    *out = x;
    return 1;
}

void lcx_run_opts_init(lcx_run_opts *o)
{
    memset(o, 0, sizeof *o);
    lcx_suite_opts_init(&o->suite);
    lcx_rope_opts_init(&o->backend.rope);
    lcx_engine_opts_init(&o->backend.engine);
    o->backend.concurrency = 8;
    o->backend.max_retries = 6;
    o->backend.timeout = 600;
    o->backend.backoff = 0.5;
    o->backend.backoff_max = 30;
    o->backend.replica_cooldown = 30;
}

void lcx_run_opts_free(lcx_run_opts *o)
{
    free(o->endpoints_text);
    o->endpoints_text = NULL;
}

/* --endpoints-file: one URL a line; blank lines and # comments skipped. */
static int read_endpoints_file(lcx_run_opts *o, lcx_err *err)
{
    size_t len;
    int rc = lcx_read_file(o->endpoints_file, &o->endpoints_text, &len, err);
    if (rc)
        return lcx_err_prefix(err, "--endpoints-file");
    if (strlen(o->endpoints_text) != len)
        return lcx_errf(err, LCX_EINPUT, "--endpoints-file %s: a NUL byte in the file", o->endpoints_file);
    int line = 0;
    for (char *p = o->endpoints_text, *eol; p && *p; p = eol) {
        line++;
        eol = strchr(p, '\n');
        if (eol)
            *eol++ = '\0';
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
            p[--n] = '\0';
        if (!n)
            continue;
        if (strpbrk(p, " \t"))
            return lcx_errf(err, LCX_EINPUT, "--endpoints-file %s:%d: one URL a line, got '%s'",
                            o->endpoints_file, line, p);
        if (o->n_endpoints == LCX_MAX_ENDPOINTS)
            return lcx_errf(err, LCX_EINPUT, "--endpoints-file %s:%d: more than %d endpoints",
                            o->endpoints_file, line, LCX_MAX_ENDPOINTS);
        o->endpoints[o->n_endpoints++] = p;
    }
    return 0;
}

int lcx_run_opts_parse(lcx_run_opts *o, int argc, char **argv, int first, lcx_err *err)
{
    double concurrency = o->backend.concurrency, retries = o->backend.max_retries;
    const struct {
        const char *name;
        const char **value;
    } strings[] = {{"--out", &o->out},
                   {"--data", &o->data},
                   {"--model", &o->backend.model_dir},
                   {"--endpoints-file", &o->endpoints_file},
                   {"--api", &o->api},
                   {"--model-name", &o->backend.model_name},
                   {"--think-tags", &o->think_tags}};
    for (int i = first; i < argc; i++) {
        int r = 0;
        if (!strcmp(argv[i], "--quiet"))
            o->quiet = r = 1;
        else if (!strcmp(argv[i], "--remote-tokenize"))
            o->remote_tokenize = r = 1;
        else if (!strcmp(argv[i], "--skip-unfit"))
            o->skip_unfit = r = 1;
        else if (!strcmp(argv[i], "--fail-fast"))
            o->backend.fail_fast = r = 1;
        else if (!strcmp(argv[i], "--no-answer-prefix"))
            o->no_answer_prefix = r = 1;
        else if (!strcmp(argv[i], "--strip-think"))
            o->strip_think = r = 1;
        for (size_t k = 0; !r && k < sizeof strings / sizeof strings[0]; k++)
            r = lcx_arg_value(argc, argv, &i, strings[k].name, strings[k].value, err);
        const char *url;
        if (!r && (r = lcx_arg_value(argc, argv, &i, "--endpoint", &url, err)) > 0) {
            if (o->n_endpoints == LCX_MAX_ENDPOINTS)
                return lcx_errf(err, LCX_EINPUT, "--endpoint: more than %d endpoints", LCX_MAX_ENDPOINTS);
            o->endpoints[o->n_endpoints++] = url;
        }
        if (!r)
            r = number_opt(argc, argv, &i, "--concurrency", 1, 1024, &concurrency, err);
        if (!r)
            r = number_opt(argc, argv, &i, "--timeout", 0.001, 1e6, &o->backend.timeout, err);
        if (!r)
            r = number_opt(argc, argv, &i, "--max-retries", 0, 100, &retries, err);
        if (!r)
            r = number_opt(argc, argv, &i, "--temperature", 0, 100, &o->backend.temperature, err);
        if (!r)
            r = number_opt(argc, argv, &i, "--backoff", 0, 3600, &o->backend.backoff, err);
        if (!r)
            r = number_opt(argc, argv, &i, "--backoff-max", 0, 3600, &o->backend.backoff_max, err);
        if (!r)
            r = number_opt(argc, argv, &i, "--replica-cooldown", 0.01, 86400,
                           &o->backend.replica_cooldown, err);
        if (!r)
            r = lcx_rope_opts_parse(&o->backend.rope, argc, argv, &i, err);
        if (!r && (r = lcx_engine_opts_parse(&o->backend.engine, argc, argv, &i, err)) > 0)
            o->engine_opts_given = 1;
        if (!r)
            r = lcx_suite_opt(&o->suite, argc, argv, &i, err);
        if (!r)
            return lcx_errf(err, LCX_EINPUT, "unknown option '%s' (see lcx run --help)", argv[i]);
        if (r < 0)
            return err->code ? err->code : LCX_EINPUT;
    }
    o->backend.concurrency = (int)concurrency;
    o->backend.max_retries = (int)retries;
    return 0;
}

int lcx_run_opts_check(lcx_run_opts *o, lcx_err *err)
{
    if (!o->out)
        return lcx_errf(err, LCX_EINPUT, "--out DIR is required");
    if (o->endpoints_file && !o->endpoints_text) {
        int rc = read_endpoints_file(o, err);
        if (rc)
            return rc;
        if (!o->n_endpoints)
            return lcx_errf(err, LCX_EINPUT, "--endpoints-file %s: no endpoint URL in it",
                            o->endpoints_file);
    }
    o->backend.quiet = o->quiet;
    if (o->n_endpoints) {
        o->backend.endpoint = o->endpoints[0];
        o->backend.endpoints = o->endpoints;
        o->backend.n_endpoints = o->n_endpoints;
    }
    if (!!o->backend.model_dir == !!o->backend.endpoint)
        return lcx_errf(err, LCX_EINPUT, "give either --model DIR (local engine) or --endpoint URL "
                        "(remote model)");
    if (o->backend.endpoint) {
        const char *api = o->api ? o->api : "completions";
        if (!strcmp(api, "completions"))
            o->backend.api = API_COMPLETIONS;
        else if (!strcmp(api, "chat"))
            o->backend.api = API_CHAT;
        else if (!strcmp(api, "llamacpp"))
            o->backend.api = API_LLAMACPP;
        else
            return lcx_errf(err, LCX_EINPUT, "--api: unknown API '%s' (completions, chat, llamacpp)", api);
        if (!o->data && !o->suite.tokenizer && !o->remote_tokenize)
            return lcx_errf(err, LCX_EINPUT,
                            "a remote model needs its own token counts to fit prompts to the "
                            "lengths: give --tokenizer DIR (the model's tokenizer.json) or "
                            "--remote-tokenize (the server's /tokenize), or pre-generated --data DIR");
        if (o->backend.api == API_CHAT && strcmp(o->suite.template_name, "base"))
            return lcx_errf(err, LCX_EINPUT, "--api chat: the server applies its own chat template; "
                            "use --template base");
        if (o->backend.rope.factor_auto)
            return lcx_errf(err, LCX_EINPUT, "--yarn-factor auto goes with a local --model (a server's "
                            "RoPE is its own)");
        if (o->engine_opts_given)
            return lcx_errf(err, LCX_EINPUT, "--kv-dtype and --max-memory go with a local --model "
                            "(a server's KV cache is its own)");
    } else if (o->api || o->remote_tokenize || o->backend.model_name) {
        return lcx_errf(err, LCX_EINPUT, "--api, --model-name and --remote-tokenize go with --endpoint");
    }
    snprintf(o->think_open, sizeof o->think_open, "<think>");
    snprintf(o->think_close, sizeof o->think_close, "</think>");
    if (o->think_tags) {
        const char *comma = strchr(o->think_tags, ',');
        size_t lo = comma ? (size_t)(comma - o->think_tags) : 0, lc = comma ? strlen(comma + 1) : 0;
        if (!comma || !lo || !lc || lo >= sizeof o->think_open || lc >= sizeof o->think_close)
            return lcx_errf(err, LCX_EINPUT, "--think-tags: '%s' is not OPEN,CLOSE (two non-empty tags "
                            "of at most %zu bytes, split at the first comma)", o->think_tags,
                            sizeof o->think_open - 1);
        memcpy(o->think_open, o->think_tags, lo);
        o->think_open[lo] = '\0';
        memcpy(o->think_close, comma + 1, lc + 1);
        if (!strcmp(o->think_open, o->think_close))
            return lcx_errf(err, LCX_EINPUT, "--think-tags: the open and close tags must differ");
        o->strip_think = 1;
    }
    o->backend.seed = strtoull(o->suite.seed, NULL, 10);
    return 0;
}


/* ---- run.json ---------------------------------------------------------------- */

/* --yarn-factor auto: rope.factor is "auto" and rope.per_length holds the
 * RoPE values of each length (factor, attention_factor, ...). */
static void describe_auto_rope(json_t *desc, const lcx_backend *b, const lcx_suite *s)
{
    json_t *rope = json_object_get(desc, "rope"), *per = json_object(), *factors = json_object();
    for (size_t i = 0; i < s->n_lengths; i++) {
        char key[32];
        snprintf(key, sizeof key, "%zu", s->lengths[i]);
        json_t *r = lcx_backend_rope_at(b, s->lengths[i]);
        if (!r)
            continue;
        json_object_set(factors, key, json_object_get(r, "factor"));
        json_object_set_new(per, key, r);
    }
    if (json_is_object(rope)) {
        json_object_set_new(rope, "factor", json_string("auto"));
        json_object_set_new(rope, "factors", factors);
        json_object_set_new(rope, "per_length", per);
    } else {
        json_decref(per);
        json_decref(factors);
    }
}

static json_t *file_fingerprint(const char *path)
{
    if (!path)
        return json_null();
    char hex[65], file[4200];
    lcx_err e = {0};
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(path));
    /* A model directory stands for its tokenizer.json. */
    snprintf(file, sizeof file, lcx_is_dir(path) ? "%s/tokenizer.json" : "%s", path);
    if (lcx_sha256_file(file, hex, &e) == 0)
        json_object_set_new(o, "sha256", json_string(hex));
    return o;
}

/* What run.json records of the options for reasoning models; a run made
 * before they existed compares as the defaults (generation_defaults). */
static json_t *generation_config(const lcx_run_opts *o, const lcx_suite *s)
{
    json_t *g = json_object();
    json_object_set_new(g, "answer_prefix", json_boolean(!o->no_answer_prefix));
    json_object_set_new(g, "tokens_to_generate",
                        s->tokens_to_generate ? json_integer(s->tokens_to_generate) : json_null());
    json_object_set_new(g, "tokens_scale", json_real(s->tokens_scale));
    json_object_set_new(g, "strip_think", o->strip_think ? json_pack("[ss]", o->think_open, o->think_close)
                                                         : json_null());
    return g;
}

static json_t *generation_defaults(void)
{
    return json_pack("{s:b,s:n,s:f,s:n}", "answer_prefix", 1, "tokens_to_generate", "tokens_scale", 1.0,
                     "strip_think");
}

static json_t *run_config(const lcx_run_opts *o, const lcx_suite *s, json_t *backend, const char *counter,
                          const unsigned char *skip)
{
    json_t *c = json_object(), *tasks = json_array(), *lengths = json_array();
    for (size_t i = 0; i < s->n_tasks; i++)
        json_array_append_new(tasks, json_string(s->tasks[i]->name));
    for (size_t i = 0; i < s->n_lengths; i++)
        json_array_append_new(lengths, json_integer((json_int_t)s->lengths[i]));
    json_object_set_new(c, "tasks", tasks);
    json_object_set_new(c, "lengths", lengths);
    json_object_set_new(c, "samples", json_integer((json_int_t)s->samples));
    json_object_set_new(c, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(c, "template", json_string(s->tmpl->name));
    json_object_set_new(c, "data", o->data ? json_string(o->data) : json_null());
    json_object_set_new(c, "counter", json_string(counter));
    json_object_set_new(c, "fit", o->data ? json_null() : json_string(lcx_fit_name(s->fit.method)));
    json_object_set_new(c, "tokenizer", file_fingerprint(o->suite.tokenizer));
    json_object_set_new(c, "essay_corpus", file_fingerprint(o->suite.essay_corpus));
    json_object_set_new(c, "squad", file_fingerprint(o->suite.squad));
    json_object_set_new(c, "hotpotqa", file_fingerprint(o->suite.hotpotqa));
    json_object_set_new(c, "backend", backend);
    json_object_set_new(c, "generation", generation_config(o, s));
    if (o->skip_unfit) {
        json_t *sk = json_array();
        for (size_t l = 0; l < s->n_lengths; l++)
            for (size_t t = 0; t < s->n_tasks; t++)
                if (skip[l * s->n_tasks + t]) {
                    char cell[128];
                    snprintf(cell, sizeof cell, "%s@%zu", s->tasks[t]->name, s->lengths[l]);
                    json_array_append_new(sk, json_string(cell));
                }
        json_object_set_new(c, "skipped", sk);
    }
    return c;
}

static json_t *run_json(int argc, char **argv, json_t *config)
{
    json_t *r = json_object(), *cmd = json_array();
    json_array_append_new(cmd, json_string("lcx"));
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_set_new(r, "lcx_version", json_string(LCX_VERSION));
    json_object_set_new(r, "commit", json_string(lcx_commit()));
    json_object_set_new(r, "command", cmd);
    json_object_set_new(r, "created", json_string(when));
    json_object_set(r, "config", config);
    return r;
}

/* ---- samples of a cell ---------------------------------------------------- */

/* Read the first n records of a gen file (lcx gen output). */
static int read_data_file(const char *dir, size_t length, const char *task, size_t n,
                          json_t **records, lcx_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%zu/%s.jsonl", dir, length, task);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return lcx_errf(err, LCX_EINPUT, "%s: cannot open (is --data an lcx gen directory with "
                        "these tasks and lengths?)", path);
    char *line = NULL;
    size_t cap = 0, got = 0;
    int rc = 0;
    while (got < n && getline(&line, &cap, fp) > 0) {
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        if (!json_is_object(r) || !json_is_string(json_object_get(r, "input")) ||
            !json_is_array(json_object_get(r, "outputs"))) {
            json_decref(r);
            rc = lcx_errf(err, LCX_EINPUT, "%s:%zu: not a gen record (needs 'input' and 'outputs')",
                          path, got + 1);
            break;
        }
        json_object_set_new(r, "index", json_integer((json_int_t)got));
        json_object_set_new(r, "task", json_string(task));
        if (!json_object_get(r, "answer_prefix"))
            json_object_set_new(r, "answer_prefix", json_string(""));
        if (!json_object_get(r, "max_length"))
            json_object_set_new(r, "max_length", json_integer((json_int_t)length));
        records[got++] = r;
    }
    free(line);
    fclose(fp);
    if (!rc && got < n)
        rc = lcx_errf(err, LCX_EINPUT, "%s: has %zu samples, --samples asks for %zu", path, got, n);
    if (rc)
        for (size_t i = 0; i < got; i++)
            json_decref(records[i]);
    return rc;
}

/* ---- the run ---------------------------------------------------------------- */

/* A (task, length) cell. Its samples are generated (or read) when the run
 * reaches it, handed to the backend one by one, and recorded as they come
 * back; requests of neighbouring cells overlap, so concurrency does not
 * drain at each cell's end. */
typedef struct cell cell;

typedef struct sample_tag {
    cell *c;
    size_t i;
} sample_tag;

struct cell {
    size_t ti, li;
    lcx_pred_file pf;
    json_t **records;   /* gen records, freed as each sample is recorded */
    sample_tag *tags;
    size_t next;        /* next sample to consider sending */
    size_t outstanding; /* sent, not yet recorded */
    int opened, sent_all, closed;
};

typedef struct run_state {
    const lcx_run_opts *o;
    lcx_suite *s;
    cell *cells;
    size_t n_cells, cur;
    lcx_progress *prog;
    size_t errors;
} run_state;

static double sample_score(const lcx_task *t, const char *pred, json_t *outputs)
{
    size_t n = json_array_size(outputs);
    const char **refs = malloc((n ? n : 1) * sizeof *refs);
    char *clean = lcx_postprocess_pred(pred);
    double s = 0;
    if (refs && clean) {
        for (size_t i = 0; i < n; i++)
            refs[i] = json_string_value(json_array_get(outputs, i));
        s = t->metric == METRIC_MATCH_PART ? lcx_match_part(clean, refs, n)
                                           : lcx_match_all(clean, refs, n);
    }
    free(refs);
    free(clean);
    return s;
}

static int cell_close(run_state *st, cell *c, lcx_err *err)
{
    if (c->closed || !c->opened)
        return 0;
    c->closed = 1;
    for (size_t i = 0; c->records && i < st->s->samples; i++)
        json_decref(c->records[i]);
    free(c->records);
    free(c->tags);
    c->records = NULL;
    c->tags = NULL;
    return lcx_pred_file_close(&c->pf, err);
}

/* Read what is recorded; generate or read the samples still missing. */
static int cell_open(run_state *st, cell *c, lcx_err *err)
{
    const lcx_task *t = st->s->tasks[c->ti];
    size_t length = st->s->lengths[c->li], n = st->s->samples;
    c->opened = 1;
    int rc = lcx_pred_file_open(st->o->out, length, t->name, n, &c->pf, err);
    if (rc)
        return rc;
    lcx_progress_add(st->prog, c->pf.n_done, 0);
    if (c->pf.n_done == n)
        return 0;
    char label[160];
    snprintf(label, sizeof label, "%s @ %zu", t->name, length);
    lcx_progress_label(st->prog, label);
    c->records = calloc(n, sizeof *c->records);
    c->tags = calloc(n, sizeof *c->tags);
    if (!c->records || !c->tags)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    if (st->o->data)
        return read_data_file(st->o->data, length, t->name, n, c->records, err);
    lcx_sample *samples = calloc(n, sizeof *samples);
    lcx_gen_ctx ctx = lcx_suite_ctx(st->s, c->ti, c->li);
    rc = samples ? lcx_gen_samples(&ctx, &st->s->fit, n, samples, NULL, NULL, err)
                 : lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        c->records[i] = c->pf.done[i] ? NULL : lcx_sample_json(&samples[i], t->name);
    for (size_t i = 0; samples && i < n; i++)
        lcx_sample_free(&samples[i]);
    free(samples);
    return rc;
}

static int next_request(void *arg, lcx_request *req, lcx_err *err)
{
    run_state *st = arg;
    while (st->cur < st->n_cells) {
        cell *c = &st->cells[st->cur];
        if (!c->opened) {
            int rc = cell_open(st, c, err);
            if (rc)
                return rc;
        }
        while (c->next < st->s->samples && c->pf.done[c->next])
            c->next++;
        if (c->next < st->s->samples) {
            size_t i = c->next++;
            c->tags[i] = (sample_tag){c, i};
            req->input = json_string_value(json_object_get(c->records[i], "input"));
            if (st->o->no_answer_prefix)
                json_object_set_new(c->records[i], "answer_prefix", json_string(""));
            req->answer_prefix = json_string_value(json_object_get(c->records[i], "answer_prefix"));
            req->max_tokens = st->s->tasks[c->ti]->tokens_to_generate;
            req->length = st->s->lengths[c->li];
            req->tag = &c->tags[i];
            c->outstanding++;
            return 1;
        }
        c->sent_all = 1;
        st->cur++;
        if (c->outstanding == 0) {
            int rc = cell_close(st, c, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int on_answer(void *arg, const lcx_request *req, lcx_response *resp, lcx_err *err)
{
    run_state *st = arg;
    sample_tag *tag = req->tag;
    cell *c = tag->c;
    const lcx_task *t = st->s->tasks[c->ti];
    json_t *rec = c->records[tag->i];
    c->records[tag->i] = NULL;
    int failed = resp->error != NULL;
    if (failed) {
        json_object_set_new(rec, "pred", json_null());
        json_object_set_new(rec, "score", json_null());
        st->errors++;
    } else {
        const char *text = resp->text ? resp->text : "";
        char *stripped = NULL;
        if (st->o->strip_think) {
            if (!(stripped = lcx_strip_think(text, st->o->think_open, st->o->think_close))) {
                json_decref(rec);
                lcx_response_free(resp);
                return lcx_errf(err, LCX_ENOMEM, "out of memory");
            }
            json_object_set_new(rec, "raw_pred", json_string(text));
            text = stripped;
        }
        json_object_set_new(rec, "pred", json_string(text));
        json_object_set_new(rec, "score", json_real(sample_score(t, text, json_object_get(rec, "outputs"))));
        free(stripped);
    }
    json_object_set_new(rec, "prompt_tokens", resp->prompt_tokens >= 0 ? json_integer(resp->prompt_tokens) : json_null());
    json_object_set_new(rec, "output_tokens", resp->output_tokens >= 0 ? json_integer(resp->output_tokens) : json_null());
    json_object_set_new(rec, "latency_s", json_real((double)(long)(resp->latency * 1e4) / 1e4));
    json_object_set_new(rec, "finish_reason", failed ? json_null() : json_string(resp->finish_reason));
    json_object_set_new(rec, "attempts", json_integer(resp->attempts));
    if (resp->endpoint) /* with replicas: the one that answered */
        json_object_set_new(rec, "endpoint", json_string(resp->endpoint));
    json_object_set_new(rec, "error", failed ? json_string(resp->error) : json_null());
    int rc = lcx_pred_file_append(&c->pf, rec, err);
    json_decref(rec);
    lcx_response_free(resp);
    lcx_progress_add(st->prog, 1, (size_t)failed);
    c->outstanding--;
    if (!rc && c->sent_all && c->outstanding == 0)
        rc = cell_close(st, c, err);
    return rc;
}

/* Run every cell, lengths outer, tasks inner. */
static int run_cells(const lcx_run_opts *o, lcx_suite *s, const unsigned char *skip, lcx_backend *b,
                     lcx_progress *prog, size_t *errors, lcx_err *err)
{
    run_state st = {o, s, calloc(s->n_tasks * s->n_lengths, sizeof(cell)), 0, 0, prog, 0};
    if (!st.cells)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    for (size_t li = 0; li < s->n_lengths; li++)
        for (size_t ti = 0; ti < s->n_tasks; ti++)
            if (!skip[li * s->n_tasks + ti])
                st.cells[st.n_cells++] = (cell){.ti = ti, .li = li};
    int rc = lcx_backend_run(b, next_request, on_answer, &st, err);
    for (size_t k = 0; k < st.n_cells; k++) {
        lcx_err e = {0};
        int crc = cell_close(&st, &st.cells[k], &e);
        if (!rc && crc)
            rc = crc, *err = e;
    }
    *errors = st.errors;
    free(st.cells);
    return rc;
}

int lcx_run_suite(const lcx_run_opts *opts, lcx_backend *shared, lcx_err *errp)
{
    lcx_run_opts o = *opts;
    lcx_err err = {0};
    lcx_backend *b = shared;
    remote_counter *rcount = NULL;
    lcx_suite s;
    memset(&s, 0, sizeof s);
    /* Local files first (a remote run fitted with a tokenizer.json opens
     * it before contacting the server); a local model or the server's
     * /tokenize is needed before the suite when it is the counter. */
    int rc = 0, suite_open = 0;
    int suite_first = o.backend.endpoint && !o.remote_tokenize;
    if (suite_first && !(rc = lcx_suite_open(&o.suite, &s, &err)))
        suite_open = 1;
    if (!rc && !b)
        rc = lcx_backend_open(&o.backend, &b, &err);
    lcx_counter remote_c;
    if (!rc && o.remote_tokenize) {
        rc = lcx_remote_count_open(o.backend.endpoint, o.backend.model_name, o.backend.timeout, &rcount, &err);
        remote_c = lcx_remote_count_counter(rcount);
        o.suite.counter = &remote_c;
        /* No prompt of these lengths needs more than 32 bytes a token. */
        size_t lengths[LCX_MAX_LENGTHS], nl = 0, longest = 0;
        lcx_err ignore = {0};
        if (!rc && !lcx_suite_parse_lengths(o.suite.lengths, lengths, &nl, &ignore))
            for (size_t i = 0; i < nl; i++)
                longest = lengths[i] > longest ? lengths[i] : longest;
        if (!rc && longest)
            lcx_remote_count_set_limit(rcount, 32 * longest + 65536);
    } else if (!rc && lcx_backend_counter(b)) {
        o.suite.counter = lcx_backend_counter(b);
        o.suite.counter_is_tokenizer = 1;
    }
    if (!rc && !suite_first && !(rc = lcx_suite_open(&o.suite, &s, &err)))
        suite_open = 1;
    const char *counter_name = o.data               ? "from --data"
                               : o.suite.tokenizer  ? "tokenizer.json"
                               : o.remote_tokenize  ? "remote /tokenize"
                               : o.backend.model_dir ? "model tokenizer"
                                                    : "bytes";
    /* Cells too short for their task: refused, or skipped with --skip-unfit. */
    unsigned char skip[LCX_MAX_TASKS * LCX_MAX_LENGTHS] = {0};
    size_t n_skipped = 0;
    if (!rc && !o.data) {
        rc = lcx_suite_check_fits(&s, o.skip_unfit ? skip : NULL, &n_skipped, &err);
        if (rc == LCX_EINPUT) {
            size_t n = strlen(err.msg);
            snprintf(err.msg + n, sizeof err.msg - n, " (--skip-unfit runs the other cells)");
        }
        if (!rc && n_skipped == s.n_tasks * s.n_lengths)
            rc = lcx_errf(&err, LCX_EINPUT, "every task is too short for every length given (all %zu "
                          "cells skipped): nothing to run", n_skipped);
    }
    /* The local engine's largest session (the longest length, the most
     * tokens any task generates) must fit in memory: said before the run
     * starts, refused (one line) when it will not fit. */
    if (!rc) {
        size_t longest = 0;
        int max_tokens = 0;
        for (size_t l = 0; l < s.n_lengths; l++)
            for (size_t t = 0; t < s.n_tasks; t++)
                if (!skip[l * s.n_tasks + t]) {
                    longest = s.lengths[l] > longest ? s.lengths[l] : longest;
                    if (s.tasks[t]->tokens_to_generate > max_tokens)
                        max_tokens = s.tasks[t]->tokens_to_generate;
                }
        char line[512];
        rc = lcx_backend_check_memory(b, longest, max_tokens, line, sizeof line, &err);
        if (!rc && line[0] && !o.quiet)
            fprintf(stderr, "%s\n", line);
    }
    json_t *config = NULL;
    if (!rc) {
        /* How a chat server takes the answer prefix is learnt while running:
         * it goes to "runtime", not to the configuration. */
        json_t *desc = lcx_backend_describe(b);
        json_object_del(desc, "answer_prefix_sent_as");
        json_object_del(desc, "answer_prefix_echoed");
        /* The server's address may change between a run and its resume
         * (a restarted server); it is recorded, not compared. */
        json_object_del(desc, "endpoint");
        json_object_del(desc, "endpoints");
        if (o.backend.rope.factor_auto)
            describe_auto_rope(desc, b, &s);
        config = run_config(&o, &s, desc, counter_name, skip);
        json_t *run = run_json(o.argc, o.argv, config);
        /* Runs of the local engine made before the KV dtype was recorded
         * used an F32 cache. */
        json_t *defaults = o.backend.model_dir
                               ? json_pack("{s:{s:s}}", "backend", "kv_dtype", "f32")
                               : json_object();
        json_object_set_new(defaults, "generation", generation_defaults());
        rc = lcx_rundir_open(o.out, run, defaults, &err);
        json_decref(defaults);
        json_decref(run);
    }
    size_t errors = 0;
    lcx_progress prog;
    lcx_progress_init(&prog, stderr, (s.n_tasks * s.n_lengths - n_skipped) * s.samples, o.quiet);
    if (!rc)
        rc = run_cells(&o, &s, skip, b, &prog, &errors, &err);
    lcx_err cerr;
    if (rcount && lcx_remote_count_error(rcount, &cerr))
        rc = cerr.code, err = cerr;
    if (!rc) {
        lcx_progress_finish(&prog);
        json_t *runtime = json_object();
        json_t *desc = lcx_backend_describe(b);
        const char *learnt[] = {"endpoint", "endpoints", "answer_prefix_sent_as",
                                "answer_prefix_echoed"};
        for (size_t k = 0; k < 4; k++)
            if (json_object_get(desc, learnt[k]))
                json_object_set(runtime, learnt[k], json_object_get(desc, learnt[k]));
        json_decref(desc);
        if (rcount) {
            size_t nreq, nbytes;
            lcx_remote_count_stats(rcount, &nreq, &nbytes);
            json_object_set_new(runtime, "tokenize_form", json_string(lcx_remote_count_form(rcount)));
            json_object_set_new(runtime, "tokenize_requests", json_integer((json_int_t)nreq));
            json_object_set_new(runtime, "tokenize_bytes", json_integer((json_int_t)nbytes));
        }
        json_object_set_new(runtime, "errors", json_integer((json_int_t)errors));
        int det = lcx_backend_deterministic(b);
        json_object_set_new(runtime, "deterministic", det < 0 ? json_null() : json_boolean(det));
        rc = lcx_rundir_set_runtime(o.out, runtime, &err);
        json_decref(runtime);
    }
    if (!rc)
        rc = lcx_rundir_summarize(o.out, o.quiet, &err);
    if (!rc && errors)
        fprintf(stderr, "lcx run: %zu sample%s failed at the backend (recorded with 'error', not "
                "scored; rerun the same command to retry them)\n", errors, errors == 1 ? "" : "s");
    json_decref(config);
    if (suite_open)
        lcx_suite_close(&s);
    lcx_remote_count_close(rcount);
    if (b != shared)
        lcx_backend_close(b);
    if (rc)
        *errp = err;
    return rc;
}
