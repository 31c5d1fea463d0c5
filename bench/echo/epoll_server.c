/* The ceiling of the echo benchmarks: the least a server can do per message, written by
 * hand on level-triggered epoll. One read into a shared buffer per readiness event and
 * one write of what was read; only a write the kernel does not take whole is kept (per
 * connection) and finished on EPOLLOUT, with reading paused meanwhile. Usage:
 *
 *   epoll_server [PORT]       (default 0: the kernel picks one)
 *
 * It prints "Serving on 127.0.0.1:PORT" once listening and serves until killed. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE   (64 * 1024)
#define MAX_EVENTS 256

typedef struct {
    int fd;
    char *pending; /* unsent tail of the last echo, or NULL */
    size_t pending_len, pending_off;
} conn_t;

static char buf[BUF_SIZE];
static int ep;
static conn_t listener; /* its data.ptr tells the listening socket apart */

static void die(const char *what)
{
    fprintf(stderr, "epoll_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void drop(conn_t *c)
{
    close(c->fd); /* also removes it from the epoll set */
    free(c->pending);
    free(c);
}

static void watch(conn_t *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &ev) < 0)
        die("epoll_ctl");
}

static void accept_all(void)
{
    for (;;) {
        int one = 1, fd = accept4(listener.fd, NULL, NULL, SOCK_NONBLOCK);
        conn_t *c;
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                return;
            die("accept4");
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = calloc(1, sizeof *c);
        if (c == NULL)
            die("calloc");
        c->fd = fd;
        watch(c, EPOLL_CTL_ADD, EPOLLIN);
    }
}

/* Write buf[0..len) and keep what the kernel refuses. Returns -1 if the peer is gone. */
static int echo(conn_t *c, const char *data, size_t len)
{
    ssize_t n = write(c->fd, data, len);
    if (n < 0) {
        if (errno != EAGAIN)
            return -1;
        n = 0;
    }
    if ((size_t)n < len) {
        c->pending = malloc(len - (size_t)n);
        if (c->pending == NULL)
            die("malloc");
        memcpy(c->pending, data + n, len - (size_t)n);
        c->pending_len = len - (size_t)n;
        c->pending_off = 0;
        watch(c, EPOLL_CTL_MOD, EPOLLOUT); /* stop reading until it is out */
    }
    return 0;
}

static int flush_pending(conn_t *c)
{
    ssize_t n = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
    if (n < 0)
        return errno == EAGAIN ? 0 : -1;
    c->pending_off += (size_t)n;
    if (c->pending_off == c->pending_len) {
        free(c->pending);
        c->pending = NULL;
        watch(c, EPOLL_CTL_MOD, EPOLLIN);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    struct epoll_event events[MAX_EVENTS];
    int one = 1;

    sa.sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 0));
    listener.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener.fd < 0)
        die("socket");
    setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener.fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listener.fd, 1024) < 0)
        die("listen");
    getsockname(listener.fd, (struct sockaddr *)&sa, &sl);
    ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    watch(&listener, EPOLL_CTL_ADD, EPOLLIN);
    printf("Serving on 127.0.0.1:%d\n", ntohs(sa.sin_port));
    fflush(stdout);

    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            if (c == &listener) {
                accept_all();
                continue;
            }
            if (c->pending != NULL) {
                if (flush_pending(c) < 0)
                    drop(c);
                continue;
            }
            ssize_t r = read(c->fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0 || echo(c, buf, (size_t)r) < 0)
                drop(c);
        }
    }
}
