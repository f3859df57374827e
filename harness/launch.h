/* launch.h: a model server that lcx starts and stops itself (lcx sweep
 * --launch): for serving engines that fix RoPE at start (llama-server,
 * vLLM, SGLang), one server per sweep setting.
 *
 * The command is a template run by /bin/sh in a process group of its own:
 * {port}, {factor} and {temperature} are replaced (every other brace is
 * left alone: vLLM's --hf-overrides takes JSON). Its output goes to a log
 * file; lcx waits for GET /health to answer 200, and at the end sends the
 * group SIGTERM, then SIGKILL after a grace period. A small supervisor
 * process does the stopping, so that it happens even when lcx itself is
 * killed (the kernel tells it: PR_SET_PDEATHSIG). */
#ifndef LCX_LAUNCH_H
#define LCX_LAUNCH_H

#include <stddef.h>

#include "common/err.h"

typedef struct lcx_launch lcx_launch;

/* Check a template: {port} is required; {factor} when need_factor,
 * {temperature} when need_temperature (the sweep varies them). */
int lcx_launch_check(const char *tmpl, int need_factor, int need_temperature, lcx_err *err);

/* The command for one setting (new string in *out): port < 0 leaves
 * {port} as it is (for the record); factor/temperature NULL leave theirs. */
int lcx_launch_expand(const char *tmpl, int port, const char *factor, const char *temperature,
                      char **out, lcx_err *err);

/* A free TCP port on 127.0.0.1 (bound and released; a race with another
 * process is possible but unlikely). */
int lcx_launch_free_port(int *port, lcx_err *err);

/* Start cmd (appending its stdout and stderr to log_path); grace: the
 * seconds between SIGTERM and SIGKILL when it is stopped. */
int lcx_launch_start(const char *cmd, const char *log_path, double grace, lcx_launch **out,
                     lcx_err *err);

/* Wait until GET base_url/health answers 200, at most timeout seconds;
 * LCX_EINPUT when the server exits first or the time runs out (the
 * message ends with the last lines of its log). Progress on stderr unless
 * quiet. */
int lcx_launch_wait_healthy(lcx_launch *l, const char *base_url, double timeout, int quiet,
                            lcx_err *err);

/* Stop the server (SIGTERM to its group, SIGKILL after the grace) and
 * free l. Returns 1 when SIGKILL was needed, 0 otherwise. */
int lcx_launch_stop(lcx_launch *l);

#endif
