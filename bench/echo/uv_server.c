/* The libuv anchor of the echo benchmarks: a TCP echo server on libuv as its users write
 * one. Reads land in one shared 64 KiB buffer; each read is sent back with uv_try_write,
 * and only what the kernel does not take at once is copied into a uv_write request.
 * TCP_NODELAY is set on every connection (asyncio, uvloop, Go and acio all set it).
 * Usage:
 *
 *   uv_server [PORT]          (default 0: the kernel picks one)
 *
 * It prints "Serving on 127.0.0.1:PORT" once listening and serves until killed. Built by
 * bench/run.sh with the flags `pkg-config libuv` gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
} write_req_t;

static char shared_buf[64 * 1024];
static uv_loop_t *loop;

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    *buf = uv_buf_init(shared_buf, sizeof shared_buf);
}

static void on_close(uv_handle_t *h)
{
    free(h);
}

static void on_written(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    if (status < 0 && !uv_is_closing((uv_handle_t *)req->handle))
        uv_close((uv_handle_t *)req->handle, on_close);
    free(w->buf.base);
    free(w);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    uv_buf_t out;
    int sent;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n == 0)
        return;
    out = uv_buf_init(buf->base, (unsigned)n);
    sent = uv_try_write(s, &out, 1);
    if (sent == UV_EAGAIN || sent == UV_ENOSYS)
        sent = 0;
    if (sent < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (sent < n) {
        write_req_t *w = malloc(sizeof *w);
        char *copy = malloc((size_t)n - (size_t)sent);
        if (w == NULL || copy == NULL) {
            fprintf(stderr, "uv_server: out of memory\n");
            exit(1);
        }
        memcpy(copy, buf->base + sent, (size_t)n - (size_t)sent);
        w->buf = uv_buf_init(copy, (unsigned)(n - sent));
        uv_write(&w->req, s, &w->buf, 1, on_written);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    uv_tcp_t *c;
    if (status < 0)
        return;
    c = malloc(sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "uv_server: out of memory\n");
        exit(1);
    }
    uv_tcp_init(loop, c);
    if (uv_accept(server, (uv_stream_t *)c) != 0) {
        uv_close((uv_handle_t *)c, on_close);
        return;
    }
    uv_tcp_nodelay(c, 1);
    uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    uv_tcp_t server;
    struct sockaddr_in sa;
    int len = sizeof sa, rc;

    loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", argc > 1 ? atoi(argv[1]) : 0, &sa);
    uv_tcp_init(loop, &server);
    rc = uv_tcp_bind(&server, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 1024, on_connection);
    if (rc != 0) {
        fprintf(stderr, "uv_server: cannot listen: %s\n", uv_strerror(rc));
        return 1;
    }
    uv_tcp_getsockname(&server, (struct sockaddr *)&sa, &len);
    printf("Serving on 127.0.0.1:%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
