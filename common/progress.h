/* progress.h: progress for long work. A bar on a TTY (done/total, rate,
 * ETA, errors), plain lines at most every few seconds otherwise, nothing
 * when quiet. Not thread-safe: call from one thread. */
#ifndef LCX_PROGRESS_H
#define LCX_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct lcx_progress {
    FILE *fp;
    size_t total, done, errors;
    int tty, quiet;
    double start, last_print;
    char label[128];
} lcx_progress;

void lcx_progress_init(lcx_progress *p, FILE *fp, size_t total, int quiet);
void lcx_progress_label(lcx_progress *p, const char *label);
void lcx_progress_add(lcx_progress *p, size_t done, size_t errors);
void lcx_progress_finish(lcx_progress *p);
double lcx_now(void); /* monotonic seconds */

#endif
