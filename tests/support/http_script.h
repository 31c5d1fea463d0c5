/* A scripted HTTP/1.1 server for the client tests, on acio's own streams: each path
 * names a behaviour (a normal answer, an echo of the exact request bytes, a reset in
 * the middle of the head or body, a stall, a trickle, a malformed answer, an encoded
 * body...), so every error path of the client can be driven from a test. Keep-alive:
 * a connection serves requests until the client closes it. Header-only, for the test
 * programs test_http_client*.c. */
#ifndef ACIO_TESTS_SUPPORT_HTTP_SCRIPT_H
#define ACIO_TESTS_SUPPORT_HTTP_SCRIPT_H

#include <brotli/encode.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <zlib.h>
#include <zstd.h>

#include "acio.h"

#define TEXT_BODY "The quick brown fox jumps over the lazy dog. 0123456789\n"

static struct {
    acio_server_t *srv;
    int port;
    int connections; /* accepted so far */
    int requests;    /* requests read so far */
    char last_cookie[1024];
    int proxied; /* requests that came in proxy form (absolute URL or CONNECT) */
    char last_proxy_auth[1024];
} ts;

static inline int ts_write(acio_stream_writer_t *w, const void *p, size_t n)
{
    return acio_stream_writer_write(w, p, n);
}

static inline int ts_printf(acio_stream_writer_t *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int ts_printf(acio_stream_writer_t *w, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ts_write(w, buf, (size_t)n);
}

/* Close with a TCP reset (SO_LINGER 0) instead of a FIN. */
static inline void ts_reset(acio_stream_writer_t *w)
{
    int fd = acio_transport_get_fd(acio_stream_writer_transport(w));
    struct linger l = {1, 0};
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    acio_transport_abort(acio_stream_writer_transport(w));
}

static inline const char *ts_header(const char *head, const char *name)
{
    static char val[1024];
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t len = (size_t)(e - v) < sizeof val - 1 ? (size_t)(e - v) : sizeof val - 1;
            memcpy(val, v, len);
            val[len] = '\0';
            return val;
        }
    }
    return NULL;
}

/* Compress src with a coding ("gzip", "deflate", "br", "zstd") into a malloc'd buffer. */
static inline char *ts_encode(const char *coding, const void *src, size_t len, size_t *out_len)
{
    size_t cap = len + len / 2 + 1024;
    char *out = malloc(cap);
    if (!strcmp(coding, "gzip") || !strcmp(coding, "deflate")) {
        z_stream z = {0};
        deflateInit2(&z, 9, Z_DEFLATED, !strcmp(coding, "gzip") ? 31 : 15, 9, Z_DEFAULT_STRATEGY);
        z.next_in = (Bytef *)src;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap;
        deflate(&z, Z_FINISH);
        *out_len = z.total_out;
        deflateEnd(&z);
    } else if (!strcmp(coding, "br")) {
        *out_len = cap;
        BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, len, src, out_len, (uint8_t *)out);
    } else {
        *out_len = ZSTD_compress(out, cap, src, len, 3);
    }
    return out;
}

/* The body for /big: n bytes of a pattern whose every line says its offset. */
static inline char *ts_big(size_t n)
{
    char *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i / 64) % 26);
    b[n] = '\0';
    return b;
}

static inline int ts_serve_one(acio_stream_writer_t *w, const char *head, const char *body,
                               size_t blen, int nth)
{
    char method[16], path[512];
    if (sscanf(head, "%15s %511s", method, path) != 2)
        return -1;
    if (!strcmp(method, "CONNECT") || !strncmp(path, "http://", 7)) {
        /* As a proxy: record it, then serve the path here (same server) or tunnel. */
        ts.proxied++;
        const char *pa = ts_header(head, "proxy-authorization");
        snprintf(ts.last_proxy_auth, sizeof ts.last_proxy_auth, "%s", pa ? pa : "");
        if (!strcmp(method, "CONNECT"))
            return 3;
        char *slash = strchr(path + 7, '/');
        memmove(path, slash ? slash : "/", strlen(slash ? slash : "/") + 1);
    }
    const char *ck = ts_header(head, "cookie");
    snprintf(ts.last_cookie, sizeof ts.last_cookie, "%s", ck ? ck : "");
    if (!strcmp(path, "/ok") || !strncmp(path, "/ok?", 4))
        return ts_printf(
            w, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Multi: a\r\nx-multi: b\r\n\r\nhello");
    if (!strcmp(path, "/text"))
        return ts_printf(
            w, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
            strlen(TEXT_BODY), TEXT_BODY);
    if (!strcmp(path, "/latin1"))
        return ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
                            "Content-Length: 4\r\n\r\ncaf\xe9");
    if (!strcmp(path, "/json"))
        return ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 23\r\n\r\n{\"a\": [1, 2], \"b\": \"c\"}");
    if (!strcmp(path, "/notfound"))
        return ts_printf(w, "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
    if (!strcmp(path, "/echo") || !strncmp(path, "/echo?", 6)) {
        size_t hl = strlen(head);
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", hl + blen);
        ts_write(w, head, hl);
        return ts_write(w, body, blen);
    }
    if (!strcmp(path, "/chunked")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        ts_printf(w, "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n");
        return 0;
    }
    if (!strncmp(path, "/big/", 5)) {
        size_t n = strtoul(path + 5, NULL, 10);
        char *b = ts_big(n);
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
        int rc = ts_write(w, b, n);
        free(b);
        return rc ? rc : acio_stream_writer_drain(w);
    }
    if (!strncmp(path, "/eof/", 5)) { /* a body delimited by the close */
        size_t n = strtoul(path + 5, NULL, 10);
        char *b = ts_big(n);
        ts_printf(w, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        ts_write(w, b, n);
        free(b);
        int rc = acio_stream_writer_drain(w);
        (void)rc; /* the close follows either way */
        return -1;
    }
    if (!strncmp(path, "/enc/", 5)) {
        const char *coding = path + 5;
        char *b = ts_big(100000);
        size_t n;
        char *e = ts_encode(coding, b, 100000, &n);
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                  coding, n);
        int rc = ts_write(w, e, n);
        free(b);
        free(e);
        return rc;
    }
    if (!strcmp(path, "/bomb")) {
        size_t big = 64u << 20;
        char *zeros = calloc(1, big);
        size_t n;
        char *e = ts_encode("gzip", zeros, big, &n);
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", n);
        int rc = ts_write(w, e, n);
        free(zeros);
        free(e);
        return rc;
    }
    if (!strcmp(path, "/badenc"))
        return ts_printf(w,
                         "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n"
                         "0123456789");
    if (!strcmp(path, "/reset-head")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Le");
        if (acio_stream_writer_drain(w) == 0 && acio_sleep(0.05) == 0)
            ts_reset(w);
        return -1;
    }
    if (!strcmp(path, "/reset-body")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789");
        if (acio_stream_writer_drain(w) == 0 && acio_sleep(0.05) == 0)
            ts_reset(w);
        return -1;
    }
    if (!strcmp(path, "/close-body")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789");
        return -1;
    }
    if (!strcmp(path, "/trunc-chunked")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        return -1;
    }
    if (!strcmp(path, "/bad-status"))
        return ts_printf(w, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n");
    if (!strcmp(path, "/big-headers")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\n");
        char line[1100];
        memset(line, 'v', sizeof line);
        for (int i = 0; i < 200; i++) {
            ts_printf(w, "X-H%d: ", i);
            ts_write(w, line, 1000);
            ts_write(w, "\r\n", 2);
        }
        return ts_printf(w, "Content-Length: 0\r\n\r\n");
    }
    if (!strcmp(path, "/stall-head")) {
        int rc = acio_sleep(30); /* cancelled when the server stops */
        (void)rc;
        return -1;
    }
    if (!strcmp(path, "/stall-body")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        int rc = acio_sleep(30); /* cancelled when the server stops */
        (void)rc;
        return -1;
    }
    if (!strcmp(path, "/trickle")) {
        ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        for (int i = 0; i < 1000; i++) {
            if (ts_write(w, "x", 1) < 0 || acio_sleep(0.02) < 0)
                return -1;
        }
        return 0;
    }
    if (!strcmp(path, "/slow")) {
        if (acio_sleep(0.3) < 0)
            return -1;
        return ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
    }
    if (!strcmp(path, "/once")) { /* answers the first request of a connection only */
        if (nth > 0)
            return -1;
        return ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nonce");
    }
    if (!strcmp(path, "/keepalive-timeout"))
        return ts_printf(w,
                         "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nka");
    if (!strcmp(path, "/close"))
        return ts_printf(w, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nbye"),
               -1;
    if (!strcmp(path, "/continue"))
        return ts_printf(
            w, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    if (!strcmp(path, "/setcookie"))
        return ts_printf(w, "HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc; Path=/\r\n"
                            "Set-Cookie: other=1; Path=/nowhere\r\n"
                            "Set-Cookie: gone=1; Max-Age=0\r\nContent-Length: 0\r\n\r\n");
    if (!strncmp(path, "/redirect/", 10)) { /* /redirect/<status>/<target...> */
        int st = atoi(path + 10);
        const char *target = strchr(path + 10, '/') + 1; /* absolute if it has "://" */
        return ts_printf(w, "HTTP/1.1 %d Moved\r\nLocation: %s%s\r\nContent-Length: 3\r\n\r\nabc",
                         st, strstr(target, "://") ? "" : "/", target);
    }
    if (!strcmp(path, "/loop"))
        return ts_printf(w, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
    if (!strcmp(path, "/head"))
        return ts_printf(w, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    return ts_printf(w, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

typedef struct {
    acio_stream_reader_t *from;
    acio_stream_writer_t *to;
} ts_pump_t;

static inline void *ts_pump(void *arg)
{
    ts_pump_t *p = arg;
    char buf[16384];
    for (;;) {
        ssize_t n = acio_stream_reader_read(p->from, buf, sizeof buf);
        if (n <= 0 || acio_stream_writer_write(p->to, buf, (size_t)n) < 0 ||
            acio_stream_writer_drain(p->to) < 0)
            break;
    }
    acio_stream_writer_close(p->to);
    return NULL;
}

static inline void ts_tunnel(acio_stream_reader_t *r, acio_stream_writer_t *w, const char *target)
{
    char host[256];
    int port = 0;
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= sizeof host) {
        ts_printf(w, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = '\0';
    port = atoi(colon + 1);
    acio_stream_reader_t *r2;
    acio_stream_writer_t *w2;
    if (acio_open_connection(&r2, &w2, host, port, 0, NULL) < 0) {
        ts_printf(w, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    ts_printf(w, "HTTP/1.1 200 Connection established\r\n\r\n");
    ts_pump_t back = {r2, w};
    acio_task_t *t;
    ts_pump_t fwd = {r, w2};
    if (acio_create_task(&t, ts_pump, &back, "tunnel back") == 0) {
        ts_pump(&fwd);
        if (acio_await(t, NULL) < 0)
            acio_task_cancel(t, NULL);
        acio_future_unref(t);
    }
    acio_stream_reader_unref(r2);
    acio_stream_writer_unref(w2);
}

static inline void *ts_handler(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    ts.connections++;
    char head[16384];
    for (int nth = 0;; nth++) {
        ssize_t n = acio_stream_reader_readuntil(r, "\r\n\r\n", 4, head, sizeof head - 1, NULL);
        if (n <= 0)
            break;
        head[n] = '\0';
        ts.requests++;
        char *body = NULL;
        size_t blen = 0;
        const char *cl = ts_header(head, "content-length");
        const char *te = ts_header(head, "transfer-encoding");
        if (cl) {
            blen = strtoul(cl, NULL, 10);
            body = malloc(blen + 1);
            if (acio_stream_reader_readexactly(r, body, blen, NULL) < 0) {
                free(body);
                break;
            }
        } else if (te && strstr(te, "chunked")) {
            /* Keep the chunked framing as sent: the test checks it. */
            body = malloc(1 << 20);
            for (;;) {
                char line[64];
                ssize_t ln = acio_stream_reader_readline(r, line, sizeof line);
                if (ln <= 0)
                    break;
                memcpy(body + blen, line, (size_t)ln);
                blen += (size_t)ln;
                size_t sz = strtoul(line, NULL, 16);
                if (acio_stream_reader_readexactly(r, body + blen, sz + 2, NULL) < 0)
                    break;
                blen += sz + 2;
                if (sz == 0)
                    break;
            }
        }
        int rc = ts_serve_one(w, head, body ? body : "", blen, nth);
        free(body);
        if (rc == 3) { /* CONNECT host:port: a tunnel until either side closes */
            char target[300];
            sscanf(head, "%*s %299s", target);
            ts_tunnel(r, w, target);
            break;
        }
        if (rc < 0)
            break;
    }
    acio_stream_writer_close(w);
    return NULL;
}

/* Start the server on a free port of 127.0.0.1 (in a task); with ssl, it serves TLS. */
static inline int ts_start_ssl(acio_ssl_context_t *ssl)
{
    memset(&ts, 0, sizeof ts);
    acio_server_opts_t o = {0};
    o.ssl = ssl;
    int rc = acio_start_server(&ts.srv, ts_handler, NULL, "127.0.0.1", 0, 1 << 20, &o);
    if (rc < 0)
        return rc;
    ts.port = acio_server_port(ts.srv);
    return 0;
}

static inline int ts_start(void)
{
    return ts_start_ssl(NULL);
}

static inline void ts_stop(void)
{
    acio_server_close(ts.srv);
    acio_server_close_clients(ts.srv);
    if (acio_server_wait_closed(ts.srv) < 0)
        fprintf(stderr, "scripted server: wait_closed interrupted\n");
    acio_server_free(ts.srv);
    ts.srv = NULL;
}

/* "http://127.0.0.1:<port><path>" in a static buffer (one per call site is enough). */
static inline const char *ts_url(const char *path)
{
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 512, "http://127.0.0.1:%d%s", ts.port, path);
    return b;
}

#endif
