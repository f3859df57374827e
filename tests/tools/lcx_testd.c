/* lcx_testd: a loopback HTTP/1.1 server that imitates the LLM servers lcx
 * talks to (OpenAI-compatible /v1/completions and /v1/chat/completions,
 * llama.cpp /completion and /tokenize, vLLM /tokenize, /health, /v1/models),
 * answers from `lcx gen` data, and injects faults deterministically per
 * prompt. For lcx's tests and HTTP benchmark.
 *
 *   lcx_testd --port-file F [--data DIR]
 *             [--answer refs|first|wrong|empty|think|think-hidden]
 *             [--fault KIND:N[:mod=M]]... [--retry-after S] [--stall-seconds S]
 *             [--prefill yes|no|echo]
 *             [--delay-ms N] [--stats FILE] [--max-seconds S]
 *             [--tokenize-mbps R] [--tokenize-bad zero|double|500]
 *
 * Binds 127.0.0.1, port 0 (ephemeral), writes the port to F (temp + rename)
 * once listening; exits after --max-seconds (default 600) or on SIGTERM/SIGINT.
 * One thread per connection; the main thread accepts and writes the stats.
 *
 * Answers: --data DIR (lcx gen output, every *.jsonl below DIR) is loaded into
 * a map keyed by input + answer_prefix. The request's key is the prompt
 * (/v1/completions, /completion) or the concatenation of all message contents
 * (/v1/chat/completions). refs: " " + outputs joined by ", "; first: " " +
 * outputs[0]; wrong: "I do not know."; empty: ""; think: "<think>I do not
 * know.</think>" + refs; think-hidden: "<think>" + refs + "</think> I do not
 * know." (reasoning models). The input alone (no answer prefix) is a key
 * too. Unknown prompts get "I do not know.". Token counts are UTF-8 bytes.
 *
 * Faults (generation endpoints only): every generation request increments its
 * prompt key's attempt counter (keyed by FNV-1a 64 of the key, thread-safe) to
 * a = 1, 2, ...; the --fault rules, in the order given and skipping rules whose
 * mod=M does not match FNV-1a64(key) % M == 0, cover attempts 1..N1,
 * N1+1..N1+N2, ...; `always` covers every later attempt. KINDs: 429 (with
 * Retry-After), 500, 503, malformed (200, body not JSON), truncated (200,
 * Content-Length 64 bytes more than the body, half the body sent, then close),
 * stall (sleep --stall-seconds, then answer normally), reset (SO_LINGER 0
 * close: RST, no response). --delay-ms applies to every generation request,
 * before its fault. A chat request whose last message is the assistant's is
 * rejected (400) before it counts as an attempt unless it sets
 * "continue_final_message": true or "add_generation_prompt": false;
 * --prefill echo answers it as llama-server does, with the prefilled text
 * followed by the continuation.
 *
 * /tokenize counts one token per byte; --tokenize-mbps R makes it take the
 * time a real tokenizer would (R MB/s, plus 1 ms a request), and
 * --tokenize-bad makes it answer absurdly: zero tokens, twice the bytes, or
 * HTTP 500. The stats count its requests and bytes (tokenize_requests,
 * tokenize_bytes, tokenize_max_bytes).
 *
 * Stats (--stats FILE, temp + rename, at most every 100 ms while requests come
 * in, at start and at exit): requests, by_path, by_status (reset faults have
 * no status; see by_fault), by_fault, max_in_flight, in_flight, connections,
 * authorization (last seen, or null), retry_attempts_max. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsio.h"
#include "common/strbuf.h"

#define MAX_HEADER (64 * 1024)
#define MAX_BODY (64LL * 1024 * 1024)
#define MAX_RULES 32
#define MAX_CONNS 4096
#define IDLE_MS 60000
#define NSHARDS 16
#define UNKNOWN_ANSWER "I do not know."

static volatile sig_atomic_t g_signalled;

static void on_signal(int sig)
{
    (void)sig;
    g_signalled = 1;
}

enum { F_NONE, F_429, F_500, F_503, F_MALFORMED, F_TRUNCATED, F_STALL, F_RESET, F_NKINDS };
static const char *const fault_names[F_NKINDS] = {"none",      "429",       "500",   "503",
                                                  "malformed", "truncated", "stall", "reset"};

enum { ANS_REFS, ANS_FIRST, ANS_WRONG, ANS_EMPTY, ANS_THINK, ANS_THINK_HIDDEN };

enum { P_COMPL, P_CHAT, P_LCOMPL, P_TOKENIZE, P_HEALTH, P_MODELS, P_OTHER, P_N };
static const char *const path_names[P_N] = {"/v1/completions", "/v1/chat/completions",
                                            "/completion",      "/tokenize",
                                            "/health",          "/v1/models",
                                            "other"};

typedef struct fault_rule {
    int kind;
    int always;
    unsigned long long n;
    unsigned long long mod; /* 0 = every prompt */
} fault_rule;

typedef struct data_entry {
    uint64_t h;
    char *key;
    size_t klen;
    char *answer;
} data_entry;

typedef struct data_map {
    data_entry *e; /* open addressing, key == NULL marks an empty slot */
    size_t cap, n;
} data_map;

typedef struct attempt_shard {
    pthread_mutex_t mu;
    uint64_t *keys; /* 0 = empty slot */
    unsigned *counts;
    size_t cap, n;
} attempt_shard;

typedef struct server {
    const char *port_file, *stats_file;
    int answer_mode;
    fault_rule rules[MAX_RULES];
    int nrules;
    long retry_after;
    double stall_seconds;
    long delay_ms;
    double tokenize_mbps; /* 0: instant */
    int tokenize_bad;     /* 0, 1 zero, 2 double, 3 HTTP 500 */
    atomic_long tok_requests, tok_bytes, tok_max_bytes;
    int no_prefill; /* --prefill no: refuse every final assistant message */
    int echo_prefill; /* --prefill echo: a prefilled reply repeats the prefill */
    double max_seconds;
    data_map data;
    attempt_shard shards[NSHARDS];

    atomic_int stop;
    atomic_long requests, connections, in_flight, max_in_flight, retry_max, next_id;
    atomic_long by_path[P_N], by_status[600], by_fault[F_NKINDS];
    pthread_mutex_t auth_mu;
    char auth[1024];
    int have_auth;
    pthread_mutex_t conn_mu;
    pthread_cond_t conn_cv;
    int active_conns;
} server;

/* ---------- small helpers ---------- */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void atomic_max(atomic_long *a, long v)
{
    long cur = atomic_load(a);
    while (v > cur && !atomic_compare_exchange_weak(a, &cur, v)) {
    }
}

/* Sleep `sec` seconds in short slices; returns 1 when shutdown interrupted it. */
static int sleep_interruptible(server *s, double sec)
{
    double end = now_s() + sec;
    for (;;) {
        if (atomic_load(&s->stop))
            return 1;
        double left = end - now_s();
        if (left <= 0)
            return 0;
        if (left > 0.05)
            left = 0.05;
        struct timespec ts = {(time_t)left, (long)((left - (time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* ---------- data map ---------- */

static int data_insert(data_map *m, char *key, size_t klen, char *answer)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        data_entry *ne = calloc(ncap, sizeof *ne);
        if (!ne)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->e[i].key)
                continue;
            size_t j = m->e[i].h & (ncap - 1);
            while (ne[j].key)
                j = (j + 1) & (ncap - 1);
            ne[j] = m->e[i];
        }
        free(m->e);
        m->e = ne;
        m->cap = ncap;
    }
    uint64_t h = fnv1a(key, klen);
    size_t j = h & (m->cap - 1);
    while (m->e[j].key) {
        if (m->e[j].h == h && m->e[j].klen == klen && memcmp(m->e[j].key, key, klen) == 0) {
            free(key); /* duplicate prompt: the first record wins */
            free(answer);
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->e[j] = (data_entry){h, key, klen, answer};
    m->n++;
    return 0;
}

static const char *data_lookup(const data_map *m, const char *key, size_t klen, uint64_t h)
{
    if (!m->cap)
        return NULL;
    size_t j = h & (m->cap - 1);
    while (m->e[j].key) {
        if (m->e[j].h == h && m->e[j].klen == klen && memcmp(m->e[j].key, key, klen) == 0)
            return m->e[j].answer;
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

static void data_free(data_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->e[i].key);
        free(m->e[i].answer);
    }
    free(m->e);
    memset(m, 0, sizeof *m);
}

static char *make_answer(json_t *outputs, int mode)
{
    strbuf sb;
    sb_init(&sb);
    if (mode == ANS_WRONG) {
        sb_puts(&sb, UNKNOWN_ANSWER);
    } else if (mode == ANS_REFS || mode == ANS_FIRST || mode == ANS_THINK || mode == ANS_THINK_HIDDEN) {
        size_t i;
        if (mode == ANS_THINK)
            sb_puts(&sb, "<think>" UNKNOWN_ANSWER "</think>");
        if (mode == ANS_THINK_HIDDEN)
            sb_puts(&sb, "<think>");
        json_t *o;
        int first = 1;
        json_array_foreach(outputs, i, o)
        {
            if (!json_is_string(o))
                continue;
            sb_puts(&sb, first ? " " : ", ");
            sb_append(&sb, json_string_value(o), json_string_length(o));
            first = 0;
            if (mode == ANS_FIRST)
                break;
        }
        if (mode == ANS_THINK_HIDDEN)
            sb_puts(&sb, "</think> " UNKNOWN_ANSWER);
    }
    if (sb.oom) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

static int load_file(data_map *m, const char *path, int mode, long *nrec)
{
    char *text;
    size_t len;
    lcx_err err;
    if (lcx_read_file(path, &text, &len, &err) != 0) {
        fprintf(stderr, "lcx_testd: %s\n", err.msg);
        return -1;
    }
    int rc = 0;
    long lineno = 0;
    for (char *p = text; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        lineno++;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\r' || p[k] == '\t'))
            k++;
        if (k < n) {
            json_error_t jerr;
            json_t *rec = json_loadb(p, n, 0, &jerr);
            json_t *in = rec ? json_object_get(rec, "input") : NULL;
            if (!json_is_string(in)) {
                fprintf(stderr, "lcx_testd: %s:%ld: not a record with a string \"input\"\n",
                        path, lineno);
                json_decref(rec);
                rc = -1;
                break;
            }
            json_t *pre = json_object_get(rec, "answer_prefix");
            strbuf key;
            sb_init(&key);
            sb_append(&key, json_string_value(in), json_string_length(in));
            if (json_is_string(pre))
                sb_append(&key, json_string_value(pre), json_string_length(pre));
            size_t klen = key.len;
            char *ks = key.oom ? NULL : sb_take(&key);
            sb_free(&key);
            char *ans = make_answer(json_object_get(rec, "outputs"), mode);
            /* The input alone answers too (lcx run --no-answer-prefix). */
            size_t ilen = json_string_length(in);
            if (ks && ans && ilen < klen) {
                char *ks2 = strndup(ks, ilen), *ans2 = strdup(ans);
                if (!ks2 || !ans2 || data_insert(m, ks2, ilen, ans2) != 0) {
                    free(ks2);
                    free(ans2);
                    free(ks);
                    free(ans);
                    ks = ans = NULL;
                }
            }
            json_decref(rec);
            if (!ks || !ans || data_insert(m, ks, klen, ans) != 0) {
                free(ks);
                free(ans);
                fprintf(stderr, "lcx_testd: out of memory loading %s\n", path);
                rc = -1;
                break;
            }
            (*nrec)++;
        }
        p += n + (nl ? 1 : 0);
    }
    free(text);
    return rc;
}

static int load_dir(data_map *m, const char *dir, int mode, long *nrec, int depth)
{
    if (depth > 16)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "lcx_testd: %s: cannot open directory: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        size_t nl = strlen(de->d_name);
        if (S_ISDIR(st.st_mode))
            rc = load_dir(m, path, mode, nrec, depth + 1);
        else if (S_ISREG(st.st_mode) && nl > 6 && strcmp(de->d_name + nl - 6, ".jsonl") == 0)
            rc = load_file(m, path, mode, nrec);
    }
    closedir(d);
    return rc;
}

/* ---------- per-prompt attempt counters ---------- */

static unsigned attempt_next(server *s, uint64_t h)
{
    uint64_t k = h ? h : 1;
    attempt_shard *sh = &s->shards[(k >> 60) & (NSHARDS - 1)];
    unsigned r = 1;
    pthread_mutex_lock(&sh->mu);
    if ((sh->n + 1) * 2 > sh->cap) {
        size_t ncap = sh->cap ? sh->cap * 2 : 256;
        uint64_t *nk = calloc(ncap, sizeof *nk);
        unsigned *nc = calloc(ncap, sizeof *nc);
        if (!nk || !nc) {
            free(nk);
            free(nc);
            pthread_mutex_unlock(&sh->mu);
            return 1;
        }
        for (size_t i = 0; i < sh->cap; i++) {
            if (!sh->keys[i])
                continue;
            size_t j = sh->keys[i] & (ncap - 1);
            while (nk[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = sh->keys[i];
            nc[j] = sh->counts[i];
        }
        free(sh->keys);
        free(sh->counts);
        sh->keys = nk;
        sh->counts = nc;
        sh->cap = ncap;
    }
    size_t j = k & (sh->cap - 1);
    while (sh->keys[j] && sh->keys[j] != k)
        j = (j + 1) & (sh->cap - 1);
    if (!sh->keys[j]) {
        sh->keys[j] = k;
        sh->n++;
    }
    if (sh->counts[j] < 0xFFFFFFFFu)
        sh->counts[j]++;
    r = sh->counts[j];
    pthread_mutex_unlock(&sh->mu);
    return r;
}

static int pick_fault(const server *s, uint64_t h, unsigned attempt)
{
    unsigned long long covered = 0;
    for (int i = 0; i < s->nrules; i++) {
        const fault_rule *r = &s->rules[i];
        if (r->mod && h % r->mod != 0)
            continue;
        if (r->always)
            return r->kind;
        covered += r->n;
        if (attempt <= covered)
            return r->kind;
    }
    return F_NONE;
}

/* ---------- HTTP ---------- */

enum { A_NORMAL, A_CLOSE, A_TRUNCATE, A_RESET, A_NONE };

typedef struct resp {
    int status;
    int action;
    long retry_after; /* < 0: no header */
    strbuf body;
} resp;

typedef struct req {
    char method[16];
    char path[256];
    int path_id;
    int keep_alive;
    long long clen;
    int chunked;
    int expect_continue;
    int bad;
} req;

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static void set_error(resp *r, int status, const char *type, const char *msg)
{
    r->status = status;
    sb_clear(&r->body);
    json_t *j = json_pack("{s:{s:s, s:s, s:i}}", "error", "message", msg, "type", type, "code",
                          status);
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    sb_puts(&r->body, t ? t : "{\"error\":{}}");
    free(t);
    json_decref(j);
}

static int send_all(int fd, const char *p, size_t n, int more)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send the response; returns -1 when the connection must close. */
static int send_resp(server *s, int fd, const resp *r, int keep_alive)
{
    if (r->action == A_NONE)
        return -1;
    if (r->action == A_RESET) {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        return -1;
    }
    if (r->status >= 0 && r->status < 600)
        atomic_fetch_add(&s->by_status[r->status], 1);
    int close_after = !keep_alive || r->action != A_NORMAL;
    size_t blen = r->body.len, clen = blen;
    if (r->action == A_TRUNCATE) {
        clen = blen + 64;
        blen /= 2;
    }
    char head[512];
    char ra[64] = "";
    if (r->retry_after >= 0)
        snprintf(ra, sizeof ra, "Retry-After: %ld\r\n", r->retry_after);
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n%sConnection: %s\r\n\r\n",
                      r->status, reason(r->status), clen, ra,
                      close_after ? "close" : "keep-alive");
    if (send_all(fd, head, (size_t)hn, blen > 0) != 0)
        return -1;
    if (blen && send_all(fd, sb_str(&r->body), blen, 0) != 0)
        return -1;
    if (close_after) {
        shutdown(fd, SHUT_WR);
        return -1;
    }
    return 0;
}

/* Read more bytes into buf; >0 bytes read, 0 on EOF, -1 on error, stop or idle. */
static ssize_t read_some(server *s, int fd, char *buf, size_t n)
{
    int waited = 0;
    for (;;) {
        if (atomic_load(&s->stop))
            return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, 100);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr > 0) {
            ssize_t r = recv(fd, buf, n, 0);
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            return r < 0 ? -1 : r;
        }
        waited += 100;
        if (waited >= IDLE_MS)
            return -1;
    }
}

static int ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    return an == bn && strncasecmp(a, b, bn) == 0;
}

static int has_token(const char *v, size_t vn, const char *tok)
{
    size_t tn = strlen(tok);
    for (size_t i = 0; i + tn <= vn; i++)
        if (strncasecmp(v + i, tok, tn) == 0)
            return 1;
    return 0;
}

static void parse_head(server *s, char *h, size_t hlen, req *q)
{
    memset(q, 0, sizeof *q);
    q->path_id = P_OTHER;
    char *end = h + hlen;
    char *eol = memmem(h, hlen, "\r\n", 2);
    if (!eol)
        eol = end;
    /* request line: METHOD SP target SP HTTP/1.x */
    char *sp1 = memchr(h, ' ', (size_t)(eol - h));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || (size_t)(sp1 - h) >= sizeof q->method || sp1 == h) {
        q->bad = 1;
        return;
    }
    memcpy(q->method, h, (size_t)(sp1 - h));
    char *t = sp1 + 1;
    size_t tn = (size_t)(sp2 - t);
    char *qm = memchr(t, '?', tn);
    if (qm)
        tn = (size_t)(qm - t);
    if (tn >= sizeof q->path)
        tn = sizeof q->path - 1;
    memcpy(q->path, t, tn);
    for (int i = 0; i < P_OTHER; i++)
        if (strcmp(q->path, path_names[i]) == 0)
            q->path_id = i;
    size_t vn = (size_t)(eol - sp2 - 1);
    if (ieq(sp2 + 1, vn, "HTTP/1.1"))
        q->keep_alive = 1;
    else if (ieq(sp2 + 1, vn, "HTTP/1.0"))
        q->keep_alive = 0;
    else {
        q->bad = 1;
        return;
    }
    int seen_cl = 0;
    for (char *l = eol + 2; l < end;) {
        char *le = memmem(l, (size_t)(end - l), "\r\n", 2);
        if (!le)
            le = end;
        char *colon = memchr(l, ':', (size_t)(le - l));
        if (colon) {
            size_t nn = (size_t)(colon - l);
            char *v = colon + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            char *ve = le;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t vl = (size_t)(ve - v);
            if (ieq(l, nn, "content-length")) {
                long long cl = 0;
                int ok = vl > 0 && vl <= 18;
                for (size_t i = 0; ok && i < vl; i++) {
                    if (v[i] < '0' || v[i] > '9')
                        ok = 0;
                    else
                        cl = cl * 10 + (v[i] - '0');
                }
                if (!ok || (seen_cl && cl != q->clen))
                    q->bad = 1;
                q->clen = cl;
                seen_cl = 1;
            } else if (ieq(l, nn, "transfer-encoding")) {
                q->chunked = 1;
            } else if (ieq(l, nn, "connection")) {
                if (has_token(v, vl, "close"))
                    q->keep_alive = 0;
                else if (has_token(v, vl, "keep-alive"))
                    q->keep_alive = 1;
            } else if (ieq(l, nn, "expect")) {
                if (has_token(v, vl, "100-continue"))
                    q->expect_continue = 1;
            } else if (ieq(l, nn, "authorization")) {
                pthread_mutex_lock(&s->auth_mu);
                size_t n = vl < sizeof s->auth - 1 ? vl : sizeof s->auth - 1;
                memcpy(s->auth, v, n);
                s->auth[n] = '\0';
                s->have_auth = 1;
                pthread_mutex_unlock(&s->auth_mu);
            }
        } else if (le > l) {
            q->bad = 1;
        }
        l = le + 2;
    }
}

/* ---------- endpoints ---------- */

/* Append a message "content" (a string, or an array of {"text": ...} parts). */
static int append_content(strbuf *sb, json_t *c)
{
    if (json_is_string(c)) {
        sb_append(sb, json_string_value(c), json_string_length(c));
        return 0;
    }
    if (json_is_null(c))
        return 0;
    if (!json_is_array(c))
        return -1;
    size_t i;
    json_t *part;
    json_array_foreach(c, i, part)
    {
        json_t *t = json_is_string(part) ? part : json_object_get(part, "text");
        if (!json_is_string(t))
            return -1;
        sb_append(sb, json_string_value(t), json_string_length(t));
    }
    return 0;
}

static void handle_generation(server *s, int pid, json_t *root, resp *out)
{
    strbuf key, echo;
    sb_init(&key);
    sb_init(&echo);
    if (pid == P_CHAT) {
        json_t *msgs = json_object_get(root, "messages");
        if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
            set_error(out, 400, "invalid_request_error", "\"messages\" must be a non-empty array");
            goto done;
        }
        size_t i;
        json_t *m;
        const char *last_role = "", *last_content = "";
        json_array_foreach(msgs, i, m)
        {
            json_t *role = json_object_get(m, "role");
            if (!json_is_string(role) || append_content(&key, json_object_get(m, "content"))) {
                set_error(out, 400, "invalid_request_error",
                          "each message needs a string \"role\" and a text \"content\"");
                goto done;
            }
            last_role = json_string_value(role);
            last_content = json_is_string(json_object_get(m, "content"))
                               ? json_string_value(json_object_get(m, "content"))
                               : "";
        }
        if (s->echo_prefill && strcmp(last_role, "assistant") == 0)
            sb_puts(&echo, last_content);
        if (strcmp(last_role, "assistant") == 0 &&
            (s->no_prefill || (!json_is_true(json_object_get(root, "continue_final_message")) &&
                               !json_is_false(json_object_get(root, "add_generation_prompt"))))) {
            set_error(out, 400, "invalid_request_error",
                      "a final assistant message is not supported unless "
                      "\"continue_final_message\": true or \"add_generation_prompt\": false");
            goto done;
        }
    } else {
        json_t *p = json_object_get(root, "prompt");
        if (json_is_array(p) && json_array_size(p) == 1)
            p = json_array_get(p, 0);
        if (!json_is_string(p)) {
            set_error(out, 400, "invalid_request_error", "\"prompt\" must be a string");
            goto done;
        }
        sb_append(&key, json_string_value(p), json_string_length(p));
    }
    if (key.oom) {
        set_error(out, 500, "server_error", "out of memory");
        goto done;
    }

    uint64_t h = fnv1a(sb_str(&key), key.len);
    unsigned attempt = attempt_next(s, h);
    atomic_max(&s->retry_max, (long)attempt);
    long inf = atomic_fetch_add(&s->in_flight, 1) + 1;
    atomic_max(&s->max_in_flight, inf);
    if (s->delay_ms > 0 && sleep_interruptible(s, s->delay_ms / 1000.0)) {
        out->action = A_NONE;
        goto leave;
    }
    int fault = pick_fault(s, h, attempt);
    atomic_fetch_add(&s->by_fault[fault], 1);
    switch (fault) {
    case F_429:
        set_error(out, 429, "rate_limit_error", "rate limited (injected fault)");
        out->retry_after = s->retry_after;
        goto leave;
    case F_500:
        set_error(out, 500, "server_error", "internal server error (injected fault)");
        goto leave;
    case F_503:
        set_error(out, 503, "server_error", "service unavailable (injected fault)");
        goto leave;
    case F_MALFORMED:
        out->status = 200;
        sb_puts(&out->body, "{\"id\":\"malformed\",\"choices\":[{\"text\": \"unterminated");
        goto leave;
    case F_RESET:
        out->action = A_RESET;
        goto leave;
    case F_STALL:
        if (sleep_interruptible(s, s->stall_seconds)) {
            out->action = A_NONE;
            goto leave;
        }
        break;
    default:
        break;
    }

    {
        const char *ans = data_lookup(&s->data, sb_str(&key), key.len, h);
        if (!ans)
            ans = UNKNOWN_ANSWER;
        json_int_t P = (json_int_t)key.len, C = (json_int_t)strlen(ans);
        long id = atomic_fetch_add(&s->next_id, 1) + 1;
        char idbuf[64];
        json_t *model = json_object_get(root, "model");
        const char *mname = json_is_string(model) ? json_string_value(model) : "lcx-testd";
        json_t *j = NULL;
        if (pid == P_COMPL) {
            snprintf(idbuf, sizeof idbuf, "cmpl-%ld", id);
            j = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:s, s:n, s:s}], s:{s:I, s:I, s:I}}",
                          "id", idbuf, "object", "text_completion", "created", (json_int_t)time(NULL),
                          "model", mname, "choices", "index", 0, "text", ans, "logprobs",
                          "finish_reason", "stop", "usage", "prompt_tokens", P,
                          "completion_tokens", C, "total_tokens", P + C);
        } else if (pid == P_CHAT) {
            snprintf(idbuf, sizeof idbuf, "chatcmpl-%ld", id);
            if (echo.len) {
                sb_puts(&echo, ans);
                ans = sb_str(&echo);
            }
            j = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:I, s:I, s:I}}",
                          "id", idbuf, "object", "chat.completion", "created",
                          (json_int_t)time(NULL), "model", mname, "choices", "index", 0,
                          "message", "role", "assistant", "content", ans, "finish_reason",
                          "stop", "usage", "prompt_tokens", P, "completion_tokens", C,
                          "total_tokens", P + C);
        } else {
            j = json_pack("{s:s, s:b, s:I, s:I, s:s, s:s}", "content", ans, "stop", 1,
                          "tokens_predicted", C, "tokens_evaluated", P, "stop_type", "eos",
                          "model", mname);
        }
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!t) {
            set_error(out, 500, "server_error", "cannot build the reply");
            goto leave;
        }
        out->status = 200;
        sb_puts(&out->body, t);
        free(t);
        if (fault == F_TRUNCATED)
            out->action = A_TRUNCATE;
    }
leave:
    atomic_fetch_sub(&s->in_flight, 1);
done:
    sb_free(&key);
    sb_free(&echo);
}

static void handle_tokenize(server *s, json_t *root, resp *out)
{
    json_t *c = json_object_get(root, "content");
    int llama = json_is_string(c);
    if (!llama)
        c = json_object_get(root, "prompt");
    if (!json_is_string(c)) {
        set_error(out, 400, "invalid_request_error",
                  "send {\"content\": text} (llama.cpp) or {\"prompt\": text} (vLLM)");
        return;
    }
    const unsigned char *p = (const unsigned char *)json_string_value(c);
    size_t n = json_string_length(c);
    atomic_fetch_add(&s->tok_requests, 1);
    atomic_fetch_add(&s->tok_bytes, (long)n);
    long prev = atomic_load(&s->tok_max_bytes);
    while ((long)n > prev && !atomic_compare_exchange_weak(&s->tok_max_bytes, &prev, (long)n))
        ;
    if (s->tokenize_mbps > 0) {
        double secs = 0.001 + (double)n / (s->tokenize_mbps * 1e6);
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
    }
    if (s->tokenize_bad == 3) {
        set_error(out, 500, "server_error", "tokenizer unavailable");
        return;
    }
    if (s->tokenize_bad == 1)
        n = 0;
    sb_reserve(&out->body, n * 8 + 64);
    sb_puts(&out->body, "{\"tokens\":[");
    size_t m = s->tokenize_bad == 2 ? 2 * n : n;
    for (size_t i = 0; i < m; i++) {
        char num[8];
        int k = 0;
        unsigned v = p[i % n];
        if (i)
            num[k++] = ',';
        if (v >= 100)
            num[k++] = (char)('0' + v / 100);
        if (v >= 10)
            num[k++] = (char)('0' + v / 10 % 10);
        num[k++] = (char)('0' + v % 10);
        sb_append(&out->body, num, (size_t)k);
    }
    sb_putc(&out->body, ']');
    if (!llama)
        sb_printf(&out->body, ",\"count\":%zu,\"max_model_len\":1048576",
                  s->tokenize_bad == 2 ? 2 * n : n);
    sb_putc(&out->body, '}');
    out->status = 200;
}

static void dispatch(server *s, const req *q, const char *body, size_t blen, resp *out)
{
    int pid = q->path_id;
    int is_get = strcmp(q->method, "GET") == 0, is_post = strcmp(q->method, "POST") == 0;
    if (pid == P_OTHER) {
        set_error(out, 404, "not_found_error", "unknown path");
        return;
    }
    if (pid == P_HEALTH || pid == P_MODELS) {
        if (!is_get) {
            set_error(out, 405, "invalid_request_error", "use GET");
            return;
        }
        out->status = 200;
        sb_puts(&out->body, pid == P_HEALTH
                                ? "{\"status\":\"ok\"}"
                                : "{\"object\":\"list\",\"data\":[{\"id\":\"lcx-testd\","
                                  "\"object\":\"model\",\"owned_by\":\"lcx\","
                                  "\"max_model_len\":1048576}]}");
        return;
    }
    if (!is_post) {
        set_error(out, 405, "invalid_request_error", "use POST");
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, blen, JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        set_error(out, 400, "invalid_request_error", "the body is not a JSON object");
        return;
    }
    if (pid == P_TOKENIZE)
        handle_tokenize(s, root, out);
    else
        handle_generation(s, pid, root, out);
    json_decref(root);
}

typedef struct conn_arg {
    server *s;
    int fd;
} conn_arg;

static void *conn_main(void *arg)
{
    conn_arg *ca = arg;
    server *s = ca->s;
    int fd = ca->fd;
    free(ca);
    size_t cap = MAX_HEADER + 4096, len = 0;
    char *buf = malloc(cap);
    resp r;
    sb_init(&r.body);
    while (buf) {
        /* the head */
        size_t hend = 0, scanned = 0;
        int too_big = 0;
        for (;;) {
            size_t from = scanned > 3 ? scanned - 3 : 0;
            char *e = len > from ? memmem(buf + from, len - from, "\r\n\r\n", 4) : NULL;
            if (e) {
                hend = (size_t)(e - buf) + 4;
                break;
            }
            scanned = len;
            if (len >= MAX_HEADER) {
                too_big = 1;
                break;
            }
            ssize_t got = read_some(s, fd, buf + len, cap - len);
            if (got <= 0)
                goto out;
            len += (size_t)got;
        }
        req q;
        r.status = 200;
        r.action = A_NORMAL;
        r.retry_after = -1;
        sb_clear(&r.body);
        if (too_big) {
            memset(&q, 0, sizeof q);
            q.path_id = P_OTHER;
            set_error(&r, 431, "invalid_request_error", "request headers too large");
            r.action = A_CLOSE;
        } else {
            parse_head(s, buf, hend - 4, &q);
            if (q.bad) {
                set_error(&r, 400, "invalid_request_error", "malformed request head");
                r.action = A_CLOSE;
            } else if (q.chunked) {
                set_error(&r, 411, "invalid_request_error",
                          "chunked request bodies are not supported; send Content-Length");
                r.action = A_CLOSE;
            } else if (q.clen > MAX_BODY) {
                set_error(&r, 413, "invalid_request_error", "request body larger than 64 MB");
                r.action = A_CLOSE;
            }
        }
        atomic_fetch_add(&s->requests, 1);
        atomic_fetch_add(&s->by_path[q.path_id], 1);
        if (r.action != A_NORMAL) {
            send_resp(s, fd, &r, 0);
            break;
        }
        size_t need = hend + (size_t)q.clen;
        if (need + 1 > cap) {
            char *nb = realloc(buf, need + 1);
            if (!nb)
                break;
            buf = nb;
            cap = need + 1;
        }
        if (len < need && q.expect_continue &&
            send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0) != 0)
            break;
        while (len < need) {
            ssize_t got = read_some(s, fd, buf + len, cap - len);
            if (got <= 0)
                goto out;
            len += (size_t)got;
        }
        dispatch(s, &q, buf + hend, (size_t)q.clen, &r);
        if (send_resp(s, fd, &r, q.keep_alive) != 0)
            break;
        /* keep pipelined bytes; shrink a buffer a big body grew */
        memmove(buf, buf + need, len - need);
        len -= need;
        if (cap > 4 * (MAX_HEADER + 4096) && len < MAX_HEADER) {
            char *nb = realloc(buf, MAX_HEADER + 4096);
            if (nb) {
                buf = nb;
                cap = MAX_HEADER + 4096;
            }
        }
    }
out:
    sb_free(&r.body);
    free(buf);
    close(fd);
    pthread_mutex_lock(&s->conn_mu);
    s->active_conns--;
    pthread_cond_broadcast(&s->conn_cv);
    pthread_mutex_unlock(&s->conn_mu);
    return NULL;
}

/* ---------- stats, port file ---------- */

static int write_atomic_text(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return -1;
    int bad = fputs(text, fp) < 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void write_stats(server *s)
{
    json_t *j = json_object();
    json_t *bp = json_object(), *bs = json_object(), *bf = json_object();
    json_object_set_new(j, "requests", json_integer(atomic_load(&s->requests)));
    for (int i = 0; i < P_N; i++) {
        long v = atomic_load(&s->by_path[i]);
        if (v)
            json_object_set_new(bp, path_names[i], json_integer(v));
    }
    for (int i = 0; i < 600; i++) {
        long v = atomic_load(&s->by_status[i]);
        char k[16];
        snprintf(k, sizeof k, "%d", i);
        if (v)
            json_object_set_new(bs, k, json_integer(v));
    }
    for (int i = 1; i < F_NKINDS; i++) {
        long v = atomic_load(&s->by_fault[i]);
        if (v)
            json_object_set_new(bf, fault_names[i], json_integer(v));
    }
    json_object_set_new(j, "by_path", bp);
    json_object_set_new(j, "by_status", bs);
    json_object_set_new(j, "by_fault", bf);
    json_object_set_new(j, "max_in_flight", json_integer(atomic_load(&s->max_in_flight)));
    json_object_set_new(j, "in_flight", json_integer(atomic_load(&s->in_flight)));
    json_object_set_new(j, "connections", json_integer(atomic_load(&s->connections)));
    pthread_mutex_lock(&s->auth_mu);
    json_object_set_new(j, "authorization", s->have_auth ? json_string(s->auth) : json_null());
    pthread_mutex_unlock(&s->auth_mu);
    json_object_set_new(j, "retry_attempts_max", json_integer(atomic_load(&s->retry_max)));
    json_object_set_new(j, "tokenize_requests", json_integer(atomic_load(&s->tok_requests)));
    json_object_set_new(j, "tokenize_bytes", json_integer(atomic_load(&s->tok_bytes)));
    json_object_set_new(j, "tokenize_max_bytes", json_integer(atomic_load(&s->tok_max_bytes)));
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (t) {
        size_t n = strlen(t);
        char *t2 = realloc(t, n + 2);
        if (t2) {
            t = t2;
            t[n] = '\n';
            t[n + 1] = '\0';
        }
        write_atomic_text(s->stats_file, t);
    }
    free(t);
}

/* ---------- main ---------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: lcx_testd --port-file F [--data DIR] [--answer refs|first|wrong|empty]\n"
            "                 [--fault KIND:N[:mod=M]]... [--retry-after S] [--stall-seconds S]\n"
            "                 [--delay-ms N] [--stats FILE] [--max-seconds S] [--prefill yes|no|echo]\n"
            "                 [--tokenize-mbps R] [--tokenize-bad zero|double|500]\n"
            "KIND: 429 500 503 malformed truncated stall reset; N: a count or 'always'\n");
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_fault(const char *spec, fault_rule *r)
{
    char buf[128];
    if (strlen(spec) >= sizeof buf)
        return -1;
    strcpy(buf, spec);
    memset(r, 0, sizeof *r);
    char *save = NULL;
    char *kind = strtok_r(buf, ":", &save);
    char *n = strtok_r(NULL, ":", &save);
    char *mod = strtok_r(NULL, ":", &save);
    if (!kind || !n || strtok_r(NULL, ":", &save))
        return -1;
    r->kind = F_NONE;
    for (int i = 1; i < F_NKINDS; i++)
        if (strcmp(kind, fault_names[i]) == 0)
            r->kind = i;
    if (r->kind == F_NONE)
        return -1;
    if (strcmp(n, "always") == 0) {
        r->always = 1;
    } else {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(n, &end, 10);
        if (errno || end == n || *end || n[0] == '-')
            return -1;
        r->n = v;
    }
    if (mod) {
        if (strncmp(mod, "mod=", 4) != 0)
            return -1;
        char *end;
        errno = 0;
        unsigned long long m = strtoull(mod + 4, &end, 10);
        if (errno || end == mod + 4 || *end || m == 0 || mod[4] == '-')
            return -1;
        r->mod = m;
    }
    return 0;
}

int main(int argc, char **argv)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    s->answer_mode = ANS_REFS;
    s->retry_after = 1;
    s->stall_seconds = 30;
    s->max_seconds = 600;
    const char *data_dir = NULL;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            free(s);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "lcx_testd: %s needs a value\n", a);
            usage();
            free(s);
            return 2;
        }
        i++;
        if (strcmp(a, "--port-file") == 0) {
            s->port_file = v;
        } else if (strcmp(a, "--data") == 0) {
            data_dir = v;
        } else if (strcmp(a, "--stats") == 0) {
            s->stats_file = v;
        } else if (strcmp(a, "--answer") == 0) {
            if (strcmp(v, "refs") == 0)
                s->answer_mode = ANS_REFS;
            else if (strcmp(v, "first") == 0)
                s->answer_mode = ANS_FIRST;
            else if (strcmp(v, "wrong") == 0)
                s->answer_mode = ANS_WRONG;
            else if (strcmp(v, "empty") == 0)
                s->answer_mode = ANS_EMPTY;
            else if (strcmp(v, "think") == 0)
                s->answer_mode = ANS_THINK;
            else if (strcmp(v, "think-hidden") == 0)
                s->answer_mode = ANS_THINK_HIDDEN;
            else
                goto bad;
        } else if (strcmp(a, "--fault") == 0) {
            if (s->nrules >= MAX_RULES || parse_fault(v, &s->rules[s->nrules]) != 0)
                goto bad;
            s->nrules++;
        } else if (strcmp(a, "--retry-after") == 0) {
            if (parse_num(v, 0, 86400, &d))
                goto bad;
            s->retry_after = (long)d;
        } else if (strcmp(a, "--stall-seconds") == 0) {
            if (parse_num(v, 0, 86400, &d))
                goto bad;
            s->stall_seconds = d;
        } else if (strcmp(a, "--prefill") == 0) {
            if (strcmp(v, "yes") && strcmp(v, "no") && strcmp(v, "echo"))
                goto bad;
            s->no_prefill = strcmp(v, "no") == 0;
            s->echo_prefill = strcmp(v, "echo") == 0;
        } else if (strcmp(a, "--delay-ms") == 0) {
            if (parse_num(v, 0, 3600000, &d))
                goto bad;
            s->delay_ms = (long)d;
        } else if (strcmp(a, "--tokenize-mbps") == 0) {
            if (parse_num(v, 0.001, 100000, &d))
                goto bad;
            s->tokenize_mbps = d;
        } else if (strcmp(a, "--tokenize-bad") == 0) {
            if (strcmp(v, "zero") == 0)
                s->tokenize_bad = 1;
            else if (strcmp(v, "double") == 0)
                s->tokenize_bad = 2;
            else if (strcmp(v, "500") == 0)
                s->tokenize_bad = 3;
            else
                goto bad;
        } else if (strcmp(a, "--max-seconds") == 0) {
            if (parse_num(v, 0.1, 86400 * 7, &d))
                goto bad;
            s->max_seconds = d;
        } else {
            fprintf(stderr, "lcx_testd: unknown option %s\n", a);
            usage();
            free(s);
            return 2;
        }
        continue;
    bad:
        fprintf(stderr, "lcx_testd: bad value for %s: %s\n", a, v);
        usage();
        free(s);
        return 2;
    }
    if (!s->port_file) {
        fprintf(stderr, "lcx_testd: --port-file is required\n");
        usage();
        free(s);
        return 2;
    }

    json_object_seed(0); /* before any thread creates a JSON object */
    pthread_mutex_init(&s->auth_mu, NULL);
    pthread_mutex_init(&s->conn_mu, NULL);
    pthread_cond_init(&s->conn_cv, NULL);
    for (int i = 0; i < NSHARDS; i++)
        pthread_mutex_init(&s->shards[i].mu, NULL);

    int lfd = -1;
    long nrec = 0;
    if (data_dir && load_dir(&s->data, data_dir, s->answer_mode, &nrec, 0) != 0)
        goto cleanup;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t alen = sizeof addr;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(lfd, 1024) != 0 || getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
        fprintf(stderr, "lcx_testd: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        rc = 1;
        goto cleanup;
    }
    if (s->stats_file)
        write_stats(s);
    char portbuf[32];
    snprintf(portbuf, sizeof portbuf, "%u\n", (unsigned)ntohs(addr.sin_port));
    if (write_atomic_text(s->port_file, portbuf) != 0) {
        fprintf(stderr, "lcx_testd: cannot write %s: %s\n", s->port_file, strerror(errno));
        rc = 1;
        goto cleanup;
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 2u << 20);
    /* workers leave SIGTERM/SIGINT to the main thread */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);

    double deadline = now_s() + s->max_seconds, last_stats = 0;
    long stats_seen = -1;
    while (!g_signalled && now_s() < deadline) {
        struct pollfd pf = {lfd, POLLIN, 0};
        int pr = poll(&pf, 1, 50);
        if (pr > 0) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                atomic_fetch_add(&s->connections, 1);
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct timeval tv = {10, 0};
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                conn_arg *ca = malloc(sizeof *ca);
                pthread_mutex_lock(&s->conn_mu);
                int full = s->active_conns >= MAX_CONNS;
                if (!full && ca)
                    s->active_conns++;
                pthread_mutex_unlock(&s->conn_mu);
                pthread_t th;
                int ok = 0;
                if (!full && ca) {
                    ca->s = s;
                    ca->fd = fd;
                    pthread_sigmask(SIG_BLOCK, &block, &old);
                    ok = pthread_create(&th, &attr, conn_main, ca) == 0;
                    pthread_sigmask(SIG_SETMASK, &old, NULL);
                    if (!ok) {
                        pthread_mutex_lock(&s->conn_mu);
                        s->active_conns--;
                        pthread_mutex_unlock(&s->conn_mu);
                    }
                }
                if (!ok) {
                    free(ca);
                    close(fd);
                }
            }
        }
        if (s->stats_file) {
            double t = now_s();
            long req = atomic_load(&s->requests) + atomic_load(&s->connections);
            if (req != stats_seen && t - last_stats >= 0.1) {
                write_stats(s);
                stats_seen = req;
                last_stats = t;
            }
        }
    }
    atomic_store(&s->stop, 1);
    close(lfd);
    lfd = -1;
    pthread_attr_destroy(&attr);

    /* Workers notice the stop flag within ~100 ms; wait up to 5 s. */
    int leftover;
    {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        pthread_mutex_lock(&s->conn_mu);
        while (s->active_conns > 0 &&
               pthread_cond_timedwait(&s->conn_cv, &s->conn_mu, &until) != ETIMEDOUT) {
        }
        leftover = s->active_conns;
        pthread_mutex_unlock(&s->conn_mu);
    }
    if (s->stats_file)
        write_stats(s);
    if (leftover) {
        fprintf(stderr, "lcx_testd: %d connections still busy at exit\n", leftover);
        return 0; /* their threads may still use *s: do not free it */
    }
    rc = 0;

cleanup:
    if (lfd >= 0)
        close(lfd);
    data_free(&s->data);
    for (int i = 0; i < NSHARDS; i++) {
        free(s->shards[i].keys);
        free(s->shards[i].counts);
        pthread_mutex_destroy(&s->shards[i].mu);
    }
    pthread_mutex_destroy(&s->auth_mu);
    pthread_mutex_destroy(&s->conn_mu);
    pthread_cond_destroy(&s->conn_cv);
    free(s);
    return rc;
}
