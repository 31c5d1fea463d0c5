/* The low-level socket coroutines (sock_accept, sock_connect, sock_recv, sock_recv_into,
 * sock_sendall, sock_sendto / sock_recvfrom, sock_sendfile with and without its
 * fallback) and the non-blocking resolver (numeric fast path, names on the resolver
 * threads, getnameinfo, errors, time-out). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/rc.h"

static int listener(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof(a));
    listen(s, 8);
    socklen_t l = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return s;
}

typedef struct {
    int l;
    size_t total;
    char *data;
} acc_t;

/* Accept one connection and read everything until EOF. */
static void *acceptor(void *arg)
{
    acc_t *a = arg;
    int c;
    struct sockaddr_in peer;
    socklen_t pl = sizeof(peer);
    int rc = acio_loop_sock_accept(NULL, a->l, &c, (struct sockaddr *)&peer, &pl);
    if (rc < 0)
        return acio_raise(rc, "accept");
    a->data = malloc(32 << 20);
    for (;;) {
        ssize_t n = acio_loop_sock_recv_into(NULL, c, a->data + a->total, 65536);
        if (n <= 0)
            break;
        a->total += (size_t)n;
    }
    OK(acio_loop_sock_sendall(NULL, c, "bye", 3));
    close(c);
    return NULL;
}

static void *sock_main(void *arg)
{
    (void)arg;
    int port;
    acc_t a = {0};
    a.l = listener(&port);
    acio_task_t *t;
    OK(acio_create_task(&t, acceptor, &a, "acceptor"));
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = acio_loop_sock_connect(NULL, c, (struct sockaddr *)&to, sizeof(to));
    CHECK(rc == 0, "connect: %s", acio_strerror(rc));
    size_t N = 8 << 20;
    char *big = malloc(N);
    for (size_t i = 0; i < N; i++)
        big[i] = (char)(i % 253);
    rc = acio_loop_sock_sendall(NULL, c, big, N);
    CHECK(rc == 0, "sendall: %s", acio_strerror(rc));
    shutdown(c, SHUT_WR);
    char bye[8];
    ssize_t n = acio_loop_sock_recv(NULL, c, bye, sizeof(bye));
    CHECK(n == 3 && memcmp(bye, "bye", 3) == 0, "recv %zd", n);
    n = acio_loop_sock_recv(NULL, c, bye, sizeof(bye));
    CHECK(n == 0, "eof %zd", n);
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    CHECK(a.total == N && memcmp(a.data, big, N) == 0, "received %zu of %zu", a.total, N);
    close(c);
    /* Refused, and a blocking socket is refused for accept. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    close(a.l);
    rc = acio_loop_sock_connect(NULL, c, (struct sockaddr *)&to, sizeof(to));
    CHECK(rc == -ECONNREFUSED, "refused: %s", acio_err_name(rc));
    close(c);
    int blocking = socket(AF_INET, SOCK_STREAM, 0);
    int conn;
    rc = acio_loop_sock_accept(NULL, blocking, &conn, NULL, NULL);
    CHECK(rc == -EINVAL, "blocking socket: %s", acio_err_name(rc));
    close(blocking);
    free(big);
    free(a.data);
    return NULL;
}

Test(sock, connect_accept_sendall_recv, .timeout = 60)
{
    run_ok(sock_main, NULL);
}

static void *sendfile_main(void *arg)
{
    (void)arg;
    char path[] = "/tmp/acio-sendfile-XXXXXX";
    int f = mkstemp(path);
    unlink(path);
    size_t N = 3 << 20;
    char *content = malloc(N);
    for (size_t i = 0; i < N; i++)
        content[i] = (char)(i * 31 % 251);
    CHECK(write(f, content, N) == (ssize_t)N, "write file");
    for (int mode = 0; mode < 2; mode++) {
        int port;
        acc_t a = {0};
        a.l = listener(&port);
        acio_task_t *t;
        OK(acio_create_task(&t, acceptor, &a, "acceptor"));
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        OK(acio_loop_sock_connect(NULL, c, (struct sockaddr *)&to, sizeof(to)));
        ssize_t n;
        if (mode == 0) {
            /* sendfile(2) proper, from an offset, to the end of the file. */
            n = acio_loop_sock_sendfile(NULL, c, f, 1000, 0, false);
            CHECK(n == (ssize_t)(N - 1000), "sendfile sent %zd", n);
        } else {
            /* From a pipe sendfile(2) with an offset cannot work: without fallback
             * -ENOTSUP, with it the data goes through read() and send(). */
            int p[2];
            CHECK(pipe(p) == 0, "pipe");
            CHECK(write(p[1], content, 4096) == 4096, "fill pipe");
            close(p[1]);
            n = acio_loop_sock_sendfile(NULL, c, p[0], 0, 4096, false);
            CHECK(n == -ENOTSUP, "no fallback: %zd", n);
            n = acio_loop_sock_sendfile(NULL, c, p[0], 0, 4096, true);
            CHECK(n == 4096, "fallback: %zd", n);
            close(p[0]);
        }
        shutdown(c, SHUT_WR);
        char bye[4];
        OK(acio_loop_sock_recv(NULL, c, bye, sizeof(bye)));
        OK(acio_await(t, NULL));
        acio_future_unref(t);
        if (mode == 0)
            CHECK(a.total == N - 1000 && memcmp(a.data, content + 1000, N - 1000) == 0,
                  "file content arrived: %zu", a.total);
        else
            CHECK(a.total == 4096 && memcmp(a.data, content, 4096) == 0, "pipe content: %zu",
                  a.total);
        CHECK(lseek(f, 0, SEEK_CUR) == (off_t)N, "file offset unchanged");
        close(c);
        close(a.l);
        free(a.data);
    }
    close(f);
    free(content);
    return NULL;
}

Test(sock, sendfile_and_fallback, .timeout = 60)
{
    run_ok(sendfile_main, NULL);
}

static void *udp_main(void *arg)
{
    (void)arg;
    int a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(a, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t l = sizeof(sa);
    getsockname(a, (struct sockaddr *)&sa, &l);
    ssize_t n = acio_loop_sock_sendto(NULL, b, "dgram", 5, (struct sockaddr *)&sa, sizeof(sa));
    CHECK(n == 5, "sendto %zd", n);
    char buf[16];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    n = acio_loop_sock_recvfrom(NULL, a, buf, sizeof(buf), (struct sockaddr *)&from, &fl);
    CHECK(n == 5 && memcmp(buf, "dgram", 5) == 0, "recvfrom %zd", n);
    CHECK(from.sin_family == AF_INET, "from address");
    close(a);
    close(b);
    return NULL;
}

Test(sock, sendto_recvfrom, .timeout = 60)
{
    run_ok(udp_main, NULL);
}

static void *cancel_recv(void *arg)
{
    char b[4];
    return (void *)(intptr_t)acio_loop_sock_recv(NULL, *(int *)arg, b, 4);
}

static void *cancel_main(void *arg)
{
    (void)arg;
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    acio_task_t *t;
    OK(acio_create_task(&t, cancel_recv, &sv[0], "recv"));
    OK(acio_sleep(0.01));
    acio_task_cancel(t, NULL);
    int rc = acio_await(t, NULL);
    CHECK(rc == -ECANCELED, "cancelled: %s", acio_err_name(rc));
    acio_future_unref(t);
    /* The fd is free for a new reader after the cancellation. */
    CHECK(write(sv[1], "ok", 2) == 2, "write");
    char b[4];
    ssize_t n = acio_loop_sock_recv(NULL, sv[0], b, sizeof(b));
    CHECK(n == 2, "recv after cancel %zd", n);
    close(sv[0]);
    close(sv[1]);
    return NULL;
}

Test(sock, cancelled_recv_unregisters, .timeout = 60)
{
    run_ok(cancel_main, NULL);
}
