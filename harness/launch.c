/* launch.c: start, health-check and stop a model server (launch.h). */
#include "harness/launch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/progress.h"
#include "common/strbuf.h"
#include "harness/http.h"

struct lcx_launch {
    pid_t pid;        /* the supervisor (see lcx_launch_start) */
    pid_t group;      /* the server's process group (the shell's pid) */
    int exited;       /* the supervisor was reaped */
    int status;       /* its wait status once reaped: the server's */
    double grace;     /* seconds between SIGTERM and SIGKILL */
    char log[4096];
};

static const char *const placeholders[] = {"{port}", "{factor}", "{temperature}"};

int lcx_launch_check(const char *tmpl, int need_factor, int need_temperature, lcx_err *err)
{
    if (!tmpl[0])
        return lcx_errf(err, LCX_EINPUT, "--launch: an empty command");
    if (!strstr(tmpl, "{port}"))
        return lcx_errf(err, LCX_EINPUT, "--launch: the command has no {port} (lcx picks a free port "
                        "for each server and must know where it listens)");
    if (need_factor && !strstr(tmpl, "{factor}"))
        return lcx_errf(err, LCX_EINPUT, "--launch: the command has no {factor}, but --yarn-factors "
                        "are swept");
    if (need_temperature && !strstr(tmpl, "{temperature}"))
        return lcx_errf(err, LCX_EINPUT, "--launch: the command has no {temperature}, but "
                        "--attn-temperatures are swept");
    return 0;
}

int lcx_launch_expand(const char *tmpl, int port, const char *factor, const char *temperature,
                      char **out, lcx_err *err)
{
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    const char *values[] = {port >= 0 ? portbuf : NULL, factor, temperature};
    strbuf sb;
    sb_init(&sb);
    for (const char *p = tmpl; *p;) {
        size_t k = 0, n = 0;
        for (; k < 3; k++)
            if (values[k] && !strncmp(p, placeholders[k], n = strlen(placeholders[k])))
                break;
        if (k < 3) {
            sb_puts(&sb, values[k]);
            p += n;
        } else {
            sb_append(&sb, p, 1);
            p++;
        }
    }
    if (sb.oom) {
        sb_free(&sb);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    *out = sb_take(&sb);
    return 0;
}

int lcx_launch_free_port(int *port, lcx_err *err)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return lcx_errf(err, LCX_EIO, "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int rc = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len))
        rc = lcx_errf(err, LCX_EIO, "finding a free port on 127.0.0.1: %s", strerror(errno));
    else
        *port = ntohs(a.sin_port);
    close(fd);
    return rc;
}

/* The supervisor, a child of lcx that outlives it: it starts the server
 * (`sh -c cmd`) in a process group of its own and waits. On SIGTERM (lcx
 * stopping it, or the kernel when lcx dies: PR_SET_PDEATHSIG) it sends
 * the group SIGTERM, then SIGKILL after the grace period, so no server is
 * left behind, even by a SIGKILLed lcx. It exits with the server's status.
 * Only async-signal-safe calls: lcx may have threads. */
static void supervise(const char *cmd, int log_fd, double grace, int report_fd, pid_t parent)
{
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    signal(SIGINT, SIG_IGN); /* Ctrl-C reaches lcx, which stops the server */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    pid_t srv = fork();
    if (srv == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_UNBLOCK, &term, NULL);
        signal(SIGINT, SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (srv < 0)
        _exit(126);
    setpgid(srv, srv);
    ssize_t w = write(report_fd, &srv, sizeof srv);
    (void)w;
    close(report_fd);
    int status = 0;
    struct timespec tick = {0, 50 * 1000 * 1000};
    for (;;) {
        if (waitpid(srv, &status, WNOHANG) == srv)
            _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        if (sigtimedwait(&term, NULL, &tick) == SIGTERM)
            break;
    }
    kill(-srv, SIGTERM);
    long steps = (long)(grace * 20) + 1;
    int reaped = 0;
    for (long k = 0; k < steps; k++) {
        if (!reaped && waitpid(srv, &status, WNOHANG) == srv)
            reaped = 1;
        if (reaped && kill(-srv, 0) != 0)
            _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        nanosleep(&tick, NULL);
    }
    kill(-srv, SIGKILL);
    _exit(137);
}

int lcx_launch_start(const char *cmd, const char *log_path, double grace, lcx_launch **out,
                     lcx_err *err)
{
    *out = NULL;
    lcx_launch *l = calloc(1, sizeof *l);
    if (!l)
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    snprintf(l->log, sizeof l->log, "%s", log_path);
    l->grace = grace;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), report[2];
    if (fd < 0) {
        free(l);
        return lcx_errf(err, LCX_EIO, "%s: %s", log_path, strerror(errno));
    }
    if (pipe(report)) {
        close(fd);
        free(l);
        return lcx_errf(err, LCX_EIO, "pipe: %s", strerror(errno));
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(report[0]);
        supervise(cmd, fd, grace, report[1], parent);
    }
    close(fd);
    close(report[1]);
    pid_t group = -1;
    if (pid > 0 && read(report[0], &group, sizeof group) != (ssize_t)sizeof group)
        group = -1;
    close(report[0]);
    if (pid < 0 || group <= 0) {
        int e = errno;
        if (pid > 0)
            waitpid(pid, NULL, 0);
        free(l);
        return lcx_errf(err, LCX_EIO, "starting the server: %s", pid < 0 ? strerror(e) : "fork failed");
    }
    l->pid = pid;
    l->group = group;
    *out = l;
    return 0;
}

/* The last lines of the log, as one line: " | "-joined, at most ~300 bytes. */
static void log_tail(const lcx_launch *l, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *fp = fopen(l->log, "rb");
    if (!fp)
        return;
    char raw[400];
    size_t n = 0;
    if (fseek(fp, -(long)(sizeof raw - 1), SEEK_END))
        rewind(fp);
    n = fread(raw, 1, sizeof raw - 1, fp);
    fclose(fp);
    raw[n] = '\0';
    while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\r' || raw[n - 1] == ' '))
        raw[--n] = '\0';
    /* Start at a line boundary when the window cut one. */
    char *p = raw;
    if (n == sizeof raw - 1) {
        char *nl = strchr(raw, '\n');
        if (nl)
            p = nl + 1;
    }
    size_t k = 0;
    for (; *p && k + 4 < size; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') {
            k += (size_t)snprintf(buf + k, size - k, " | ");
            continue;
        }
        buf[k++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    buf[k < size ? k : size - 1] = '\0';
}

static int reap(lcx_launch *l, int options)
{
    if (l->exited)
        return 1;
    pid_t r = waitpid(l->pid, &l->status, options);
    if (r == l->pid)
        l->exited = 1;
    return l->exited;
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

int lcx_launch_wait_healthy(lcx_launch *l, const char *base_url, double timeout, int quiet,
                            lcx_err *err)
{
    char base[2048], url[2100];
    lcx_http_base_url(base_url, base, sizeof base);
    snprintf(url, sizeof url, "%s/health", base);
    CURL *c = curl_easy_init();
    if (!c)
        return lcx_errf(err, LCX_EINTERNAL, "curl_easy_init failed");
    double t0 = lcx_now(), said = t0;
    int rc = -1;
    while (rc < 0) {
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        long status = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200) {
            rc = 0;
            break;
        }
        char tail[320];
        if (reap(l, WNOHANG)) {
            log_tail(l, tail, sizeof tail);
            rc = lcx_errf(err, LCX_EINPUT, "the server exited (status %d) before %s answered; its log "
                          "%s ends: %s", WEXITSTATUS(l->status), url, l->log, tail[0] ? tail : "(empty)");
            break;
        }
        double now = lcx_now();
        if (now - t0 > timeout) {
            log_tail(l, tail, sizeof tail);
            rc = lcx_errf(err, LCX_EINPUT, "the server did not become healthy in %g s (%s never "
                          "answered 200; --launch-timeout sets the wait); its log %s ends: %s",
                          timeout, url, l->log, tail[0] ? tail : "(empty)");
            break;
        }
        if (!quiet && now - said >= 10) {
            fprintf(stderr, "lcx sweep: waiting for %s (%.0f s)\n", url, now - t0);
            said = now;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    curl_easy_cleanup(c);
    return rc;
}

int lcx_launch_stop(lcx_launch *l)
{
    if (!l)
        return 0;
    /* The supervisor sends the group SIGTERM, then SIGKILL after the grace;
     * the group gets SIGTERM here too, in case the supervisor is gone (the
     * shell exited, leaving what it started in the background). */
    kill(l->pid, SIGTERM);
    kill(-l->group, SIGTERM);
    double t0 = lcx_now();
    int killed = 0;
    for (;;) {
        reap(l, WNOHANG);
        int alive = kill(-l->group, 0) == 0;
        if ((l->exited && !alive) || lcx_now() - t0 >= l->grace + 2)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (kill(-l->group, 0) == 0) {
        kill(-l->group, SIGKILL);
        killed = 1;
    }
    if (!l->exited) { /* not expected: the supervisor itself hangs */
        kill(l->pid, SIGKILL);
        reap(l, 0);
    }
    killed |= l->exited && WIFEXITED(l->status) && WEXITSTATUS(l->status) == 137;
    free(l);
    return killed;
}
