/* run_suite.h: the run as one library call, shared by `lcx run` and
 * `lcx sweep` (and ready for a server): the suite's samples, generated or
 * read, sent to a backend, scored and recorded in a resumable results
 * directory (results/run_dir.h). */
#ifndef LCX_RUN_SUITE_H
#define LCX_RUN_SUITE_H

#include "common/err.h"
#include "harness/backend.h"
#include "harness/suite.h"

enum { LCX_MAX_ENDPOINTS = 64 };

typedef struct lcx_run_opts {
    lcx_suite_opts suite;
    lcx_backend_opts backend;
    const char *out;  /* the results directory */
    const char *data; /* read samples from this lcx gen directory, or NULL */
    int remote_tokenize, quiet, skip_unfit;
    int engine_opts_given; /* --kv-dtype or --max-memory (local options) */
    const char *api;  /* --api as given (lcx_run_opts_check sets backend.api) */
    /* Replicas: every --endpoint, then the URLs of --endpoints-file (one a
     * line, # comments), read by lcx_run_opts_check into endpoints_text
     * (freed by lcx_run_opts_free); backend.endpoints points here. */
    const char *endpoints[LCX_MAX_ENDPOINTS];
    int n_endpoints;
    const char *endpoints_file;
    char *endpoints_text;
    /* Reasoning models: --no-answer-prefix sends no answer prefix;
     * --strip-think scores each prediction without its think_open ..
     * think_close spans (results/score.h, lcx_strip_think), keeping the
     * model's text as raw_pred; --think-tags OPEN,CLOSE (implies
     * --strip-think) sets the tags, default <think>,</think>. */
    int no_answer_prefix, strip_think;
    const char *think_tags;
    char think_open[64], think_close[64];
    /* The command line run.json records (not parsed again). */
    int argc;
    char **argv;
} lcx_run_opts;

/* `lcx run`'s defaults. */
void lcx_run_opts_init(lcx_run_opts *o);
/* Parse argv[first..argc) as `lcx run` options into o (on top of what o
 * holds); an unknown option is an error. */
int lcx_run_opts_parse(lcx_run_opts *o, int argc, char **argv, int first, lcx_err *err);
/* Check the options as a whole (required ones, combinations); reads
 * --endpoints-file. */
int lcx_run_opts_check(lcx_run_opts *o, lcx_err *err);
/* What lcx_run_opts_check allocated (a copy of o shares it: free once). */
void lcx_run_opts_free(lcx_run_opts *o);

/* Run into o->out, resuming what it holds. backend: an open backend to use
 * (one model for several runs), or NULL to open one from o->backend and
 * close it at the end. */
int lcx_run_suite(const lcx_run_opts *o, lcx_backend *backend, lcx_err *err);

#endif
