#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

double lcx_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void lcx_progress_init(lcx_progress *p, FILE *fp, size_t total, int quiet)
{
    memset(p, 0, sizeof *p);
    p->fp = fp;
    p->total = total;
    p->quiet = quiet;
    p->tty = isatty(fileno(fp));
    p->start = p->last_print = lcx_now();
}

void lcx_progress_label(lcx_progress *p, const char *label)
{
    snprintf(p->label, sizeof p->label, "%s", label);
}

static void format_eta(double seconds, char *buf, size_t size)
{
    if (seconds < 0 || seconds > 1e7)
        snprintf(buf, size, "?");
    else if (seconds >= 3600)
        snprintf(buf, size, "%dh%02dm", (int)(seconds / 3600), (int)(seconds / 60) % 60);
    else
        snprintf(buf, size, "%dm%02ds", (int)(seconds / 60), (int)seconds % 60);
}

static void print(lcx_progress *p, int final)
{
    double now = lcx_now(), elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    char eta[32];
    format_eta(rate > 0 ? (double)(p->total - p->done) / rate : -1, eta, sizeof eta);
    if (p->tty) {
        int width = 28, fill = p->total ? (int)((double)width * (double)p->done / (double)p->total) : width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[width] = '\0';
        fprintf(p->fp, "\r[%s] %zu/%zu %.1f/s ETA %s errors %zu %-30.30s%s", bar, p->done,
                p->total, rate, eta, p->errors, p->label, final ? "\n" : "");
    } else {
        fprintf(p->fp, "progress: %zu/%zu (%.0f%%) %.1f/s ETA %s errors %zu %s\n", p->done,
                p->total, p->total ? 100.0 * (double)p->done / (double)p->total : 100.0, rate,
                eta, p->errors, p->label);
    }
    fflush(p->fp);
    p->last_print = now;
}

void lcx_progress_add(lcx_progress *p, size_t done, size_t errors)
{
    p->done += done;
    p->errors += errors;
    if (p->quiet)
        return;
    double gap = lcx_now() - p->last_print;
    if ((p->tty && gap >= 0.1) || (!p->tty && gap >= 5.0))
        print(p, 0);
}

void lcx_progress_finish(lcx_progress *p)
{
    if (!p->quiet)
        print(p, 1);
}
