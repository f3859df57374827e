/* lcx_httpfault: a misbehaving HTTP client for lcx serve's fault tests
 * (tests/test_serve_faults.sh). Connects to 127.0.0.1:PORT and:
 *   half     sends a POST whose Content-Length promises 4096 bytes, sends
 *            20, and closes;
 *   stall    the same, then waits (without closing) until the server closes
 *            the connection, at most SECONDS; exit 0 when it did;
 *   midstream sends a streamed completion of MAX tokens, reads the first
 *            event, and closes (the server must cancel the job);
 *   garbage  sends bytes that are not HTTP and closes.
 *
 *   lcx_httpfault PORT half|stall|midstream|garbage [SECONDS|MAX]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        perror("connect");
        exit(2);
    }
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) {
            perror("send");
            exit(2);
        }
        s += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lcx_httpfault PORT half|stall|midstream|garbage [N]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *mode = argv[2];
    double n = argc > 3 ? atof(argv[3]) : 10;
    int fd = connect_to(port);
    char req[1024];
    if (!strcmp(mode, "half") || !strcmp(mode, "stall")) {
        int len = snprintf(req, sizeof req,
                           "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                           "{\"prompt\": \"hello, ");
        send_all(fd, req, (size_t)len);
        if (!strcmp(mode, "half")) {
            close(fd);
            return 0;
        }
        /* wait for the server to give up on us */
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(n * 1000));
        char buf[4096];
        ssize_t got = r > 0 ? recv(fd, buf, sizeof buf, 0) : -1;
        close(fd);
        if (r <= 0) {
            fprintf(stderr, "stall: the server kept the connection open for %g s\n", n);
            return 1;
        }
        printf("stall: closed by the server (%zd bytes)\n", got);
        return 0;
    }
    if (!strcmp(mode, "midstream")) {
        char body[256];
        int blen = snprintf(body, sizeof body,
                            "{\"prompt\": \"One of the special magic numbers\", \"max_tokens\": %d, "
                            "\"stream\": true}", (int)n);
        int len = snprintf(req, sizeof req,
                           "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                           blen, body);
        send_all(fd, req, (size_t)len);
        char buf[4096];
        size_t have = 0;
        while (have < sizeof buf - 1) {
            ssize_t got = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (got <= 0)
                break;
            have += (size_t)got;
            buf[have] = '\0';
            if (strstr(buf, "data: "))
                break;
        }
        close(fd);
        if (!strstr(buf, "data: ")) {
            fprintf(stderr, "midstream: no event arrived\n");
            return 1;
        }
        printf("midstream: closed after the first event\n");
        return 0;
    }
    if (!strcmp(mode, "garbage")) {
        static const char junk[] = "\x16\x03\x01\x02\x00 not http at all\r\n\r\n";
        send_all(fd, junk, sizeof junk - 1);
        char buf[512];
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) > 0)
            (void)!recv(fd, buf, sizeof buf, 0);
        close(fd);
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
