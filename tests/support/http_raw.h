/* A blocking raw-socket HTTP/1.1 client for the server tests, run on a helper thread
 * (acio_to_thread) while the server runs on the loop: exact bytes out, and a small,
 * independent response reader (status, headers, Content-Length or chunked body), so the
 * tests do not check the server with its own parser. Every read has a 5 s receive
 * timeout, so a server that never answers fails the test instead of hanging it.
 * Header-only: each test file is its own program. */
#ifndef ACIO_TESTS_SUPPORT_HTTP_RAW_H
#define ACIO_TESTS_SUPPORT_HTTP_RAW_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* A connected blocking socket to 127.0.0.1:port, or -1. */
__attribute__((unused)) static int raw_connect_port(int port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        close(s);
        return -1;
    }
    return s;
}

__attribute__((unused)) static int raw_send(int s, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(s, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

__attribute__((unused)) static int raw_send_str(int s, const char *str)
{
    return raw_send(s, str, strlen(str));
}

/* Close with a reset (SO_LINGER 0) instead of a FIN. */
__attribute__((unused)) static void raw_reset(int s)
{
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(s);
}

/* Read until the peer closes (or 5 s of silence). Returns bytes read (NUL-terminated). */
__attribute__((unused)) static ssize_t raw_read_all(int s, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = recv(s, buf + n, cap - 1 - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

/* True if the peer has closed (EOF or reset) within 5 s. */
__attribute__((unused)) static bool raw_closed(int s)
{
    char b[256];
    for (;;) {
        ssize_t r = recv(s, b, sizeof b, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
        if (r < 0 && errno != EINTR)
            return false; /* timed out */
    }
}

typedef struct {
    int status;
    char head[8192]; /* status line and headers, NUL-terminated */
    char *body;      /* malloc'd, NUL-terminated (free with raw_response_free) */
    size_t body_len;
    bool chunked;
} raw_response_t;

/* A buffered reader over one socket, so bytes of a following response are kept. */
typedef struct {
    int s;
    char buf[65536];
    size_t start, end;
} raw_reader_t;

__attribute__((unused)) static void raw_reader_init(raw_reader_t *r, int s)
{
    r->s = s;
    r->start = r->end = 0;
}

static int raw_fill(raw_reader_t *r)
{
    if (r->start == r->end)
        r->start = r->end = 0;
    if (r->end == sizeof r->buf) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    ssize_t n;
    do {
        n = recv(r->s, r->buf + r->end, sizeof r->buf - r->end, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    r->end += (size_t)n;
    return 0;
}

/* One line without its CRLF into out (cap bytes). */
static int raw_line(raw_reader_t *r, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            size_t len = (size_t)(nl - (r->buf + r->start));
            size_t copy = len && nl[-1] == '\r' ? len - 1 : len;
            if (copy >= cap)
                copy = cap - 1;
            memcpy(out, r->buf + r->start, copy);
            out[copy] = '\0';
            r->start += len + 1;
            return 0;
        }
        if (raw_fill(r) < 0)
            return -1;
    }
}

static int raw_bytes(raw_reader_t *r, char *out, size_t n)
{
    while (n) {
        if (r->start == r->end && raw_fill(r) < 0)
            return -1;
        size_t k = r->end - r->start < n ? r->end - r->start : n;
        memcpy(out, r->buf + r->start, k);
        r->start += k;
        out += k;
        n -= k;
    }
    return 0;
}

/* The value of header name in a response head, copied into out; false if absent. */
__attribute__((unused)) static bool raw_header(const raw_response_t *resp, const char *name,
                                               char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = strchr(resp->head, '\n');
    while (p && *++p) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strpbrk(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        p = strchr(p, '\n');
    }
    return false;
}

/* Read one response (skipping 1xx unless keep_1xx). head_only: the request was HEAD.
 * Returns 0, or -1 if the connection ended first or the framing is broken. */
__attribute__((unused)) static int raw_read_response(raw_reader_t *r, raw_response_t *resp,
                                                     bool head_only, bool keep_1xx)
{
    memset(resp, 0, sizeof *resp);
    char line[8192];
    for (;;) {
        if (raw_line(r, line, sizeof line) < 0)
            return -1;
        if (sscanf(line, "HTTP/1.%*d %d", &resp->status) != 1)
            return -1;
        size_t hl = 0;
        hl += (size_t)snprintf(resp->head, sizeof resp->head, "%s\n", line);
        for (;;) {
            if (raw_line(r, line, sizeof line) < 0)
                return -1;
            if (!line[0])
                break;
            if (hl < sizeof resp->head)
                hl += (size_t)snprintf(resp->head + hl, sizeof resp->head - hl, "%s\n", line);
        }
        if (resp->status >= 200 || keep_1xx)
            break;
    }
    char v[64];
    if (head_only || resp->status < 200 || resp->status == 204 || resp->status == 304) {
        resp->body = calloc(1, 1);
        return 0;
    }
    if (raw_header(resp, "Transfer-Encoding", v, sizeof v) && strcasecmp(v, "chunked") == 0) {
        resp->chunked = true;
        size_t cap = 1024;
        resp->body = malloc(cap);
        for (;;) {
            if (raw_line(r, line, sizeof line) < 0)
                return -1;
            size_t n = strtoul(line, NULL, 16);
            if (n == 0) {
                do {
                    if (raw_line(r, line, sizeof line) < 0)
                        return -1;
                } while (line[0]);
                break;
            }
            while (resp->body_len + n + 1 > cap)
                cap *= 2;
            resp->body = realloc(resp->body, cap);
            if (raw_bytes(r, resp->body + resp->body_len, n) < 0)
                return -1;
            resp->body_len += n;
            if (raw_line(r, line, sizeof line) < 0)
                return -1;
        }
        resp->body[resp->body_len] = '\0';
        return 0;
    }
    if (raw_header(resp, "Content-Length", v, sizeof v)) {
        resp->body_len = strtoul(v, NULL, 10);
        resp->body = malloc(resp->body_len + 1);
        if (raw_bytes(r, resp->body, resp->body_len) < 0)
            return -1;
        resp->body[resp->body_len] = '\0';
        return 0;
    }
    /* Delimited by the close. */
    size_t cap = 1024;
    resp->body = malloc(cap);
    for (;;) {
        if (r->start == r->end && raw_fill(r) < 0)
            break;
        size_t k = r->end - r->start;
        while (resp->body_len + k + 1 > cap)
            cap *= 2;
        resp->body = realloc(resp->body, cap);
        memcpy(resp->body + resp->body_len, r->buf + r->start, k);
        resp->body_len += k;
        r->start = r->end;
    }
    resp->body[resp->body_len] = '\0';
    return 0;
}

__attribute__((unused)) static void raw_response_free(raw_response_t *resp)
{
    free(resp->body);
    resp->body = NULL;
}

/* Connect r to 127.0.0.1:port (r->s is the socket, to close); -1 if that fails. */
__attribute__((unused)) static int raw_open(raw_reader_t *r, int port)
{
    int s = raw_connect_port(port);
    raw_reader_init(r, s);
    return s < 0 ? -1 : 0;
}

/* Send req on r's connection and read one response (head_only: the answer to a HEAD,
 * no body). Returns 0, or -1 if the send or the read failed. */
__attribute__((unused)) static int raw_ask(raw_reader_t *r, const char *req, raw_response_t *resp,
                                           bool head_only)
{
    if (raw_send_str(r->s, req) < 0)
        return -1;
    return raw_read_response(r, resp, head_only, false);
}

#endif
