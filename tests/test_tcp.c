/* TCP on the protocol layer: create_server / create_connection, the order of protocol
 * callbacks, writes that the kernel only partly takes, write flow control, half-close,
 * close versus abort, and the error paths (connection refused, reset by peer, peer
 * closing while we write, time-outs, happy eyeballs). Each test runs its scenario in
 * acio_run and fails with the message of the first CHECK that did not hold. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/port.h"
#include "support/fds.h"
#include "net/fdwait.h"
#include "support/rc.h"

static void run(acio_coro_fn fn, void *arg)
{
    int before = count_fds();
    run_ok(fn, arg);
    /* Every socket the test opened is closed again. */
    cr_assert_eq(count_fds(), before, "fds open before %d, after %d", before, count_fds());
}

/* ---- a recording protocol ---- */

typedef struct {
    char events[64]; /* M = made, D = data, E = eof, L = lost, P = pause, R = resume */
    size_t nev;
    acio_transport_t *t;
    char *data;
    size_t len, cap;
    int lost_error;
    bool lost;
    bool keep_open_on_eof;
    bool echo;
    acio_future_t *lost_fut;
} rec_t;

static void ev(rec_t *r, char c)
{
    if (r->nev + 1 < sizeof(r->events) && (r->nev == 0 || c != 'D' || r->events[r->nev - 1] != 'D'))
        r->events[r->nev++] = c;
}

static void r_made(acio_transport_t *t, void *d)
{
    rec_t *r = d;
    r->t = t;
    ev(r, 'M');
}

static void r_data(acio_transport_t *t, const void *buf, size_t len, void *d)
{
    rec_t *r = d;
    ev(r, 'D');
    if (r->echo)
        OK(acio_transport_write(t, buf, len));
    if (r->len + len > r->cap) {
        r->cap = (r->len + len) * 2;
        r->data = realloc(r->data, r->cap);
    }
    memcpy(r->data + r->len, buf, len);
    r->len += len;
}

static bool r_eof(acio_transport_t *t, void *d)
{
    (void)t;
    rec_t *r = d;
    ev(r, 'E');
    return r->keep_open_on_eof;
}

static void r_lost(acio_transport_t *t, int err, void *d)
{
    (void)t;
    rec_t *r = d;
    ev(r, 'L');
    r->lost = true;
    r->lost_error = err;
    r->t = NULL;
    if (r->lost_fut && !acio_future_done(r->lost_fut))
        acio_future_set_result(r->lost_fut, NULL);
}

static void r_pause(acio_transport_t *t, void *d)
{
    (void)t;
    ev(d, 'P');
}

static void r_resume(acio_transport_t *t, void *d)
{
    (void)t;
    ev(d, 'R');
}

static const acio_protocol_t rec_proto = {
    .connection_made = r_made,
    .data_received = r_data,
    .eof_received = r_eof,
    .connection_lost = r_lost,
    .pause_writing = r_pause,
    .resume_writing = r_resume,
};

static void rec_init(rec_t *r)
{
    memset(r, 0, sizeof(*r));
    OK(acio_future_new(acio_get_running_loop(), &r->lost_fut));
}

static int rec_wait_lost(rec_t *r)
{
    int rc = acio_await(r->lost_fut, NULL);
    return rc;
}

static void rec_free(rec_t *r)
{
    acio_future_unref(r->lost_fut);
    free(r->data);
}

/* A server whose single connection is recorded in *srv_rec. */
static int one_rec_factory(void *fd, const acio_protocol_t **p, void **d)
{
    *p = &rec_proto;
    *d = fd;
    return 0;
}

/* Wait (bounded) until cond holds, yielding to the loop. */
/* ---- tests ---- */

static char *pattern(size_t n)
{
    char *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(i * 7 + i / 251);
    return p;
}

static void *echo_main(void *arg)
{
    (void)arg;
    rec_t srv, cli;
    rec_init(&srv);
    rec_init(&cli);
    srv.echo = true;
    acio_server_t *server;
    int rc = acio_loop_create_server(NULL, &server, one_rec_factory, &srv, "127.0.0.1", 0, NULL);
    CHECK(rc == 0, "create_server: %s", acio_strerror(rc));
    int port = acio_server_port(server);
    CHECK(port > 0, "port %d", port);
    acio_transport_t *t;
    rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1", port, NULL);
    CHECK(rc == 0, "create_connection: %s", acio_strerror(rc));
    CHECK(cli.nev == 1 && cli.events[0] == 'M', "connection_made ran before return: %.*s",
          (int)cli.nev, cli.events);
    const size_t N = 1 << 20;
    char *msg = pattern(N);
    /* Many small writes and one big writev: everything arrives, in order. */
    for (size_t off = 0; off < N / 2; off += 1000) {
        size_t l = N / 2 - off < 1000 ? N / 2 - off : 1000;
        rc = acio_transport_write(t, msg + off, l);
        CHECK(rc == 0, "write: %s", acio_strerror(rc));
    }
    struct iovec iov[2] = {{msg + N / 2, N / 4}, {msg + N / 2 + N / 4, N / 4}};
    rc = acio_transport_writev(t, iov, 2);
    CHECK(rc == 0, "writev: %s", acio_strerror(rc));
    WAIT_UNTIL(cli.len == N);
    CHECK(cli.len == N, "echoed %zu of %zu bytes", cli.len, N);
    CHECK(memcmp(cli.data, msg, N) == 0, "echoed bytes differ");
    CHECK(acio_server_active_count(server) == 1, "active %zu", acio_server_active_count(server));
    acio_transport_close(t);
    CHECK(acio_transport_is_closing(t), "closing after close");
    rc = acio_transport_write(t, "x", 1);
    CHECK(rc == -ENOTCONN, "write after close: %s", acio_err_name(rc));
    rec_wait_lost(&cli);
    rec_wait_lost(&srv);
    CHECK(strcmp(cli.events, "MDL") == 0, "client events %s", cli.events);
    CHECK(strcmp(srv.events, "MDEL") == 0, "server events %s", srv.events);
    CHECK(cli.lost_error == 0 && srv.lost_error == 0, "errors %d %d", cli.lost_error,
          srv.lost_error);
    acio_transport_unref(t);
    acio_server_close(server);
    rc = acio_server_wait_closed(server);
    CHECK(rc == 0, "wait_closed %d", rc);
    CHECK(!acio_server_is_serving(server), "still serving");
    acio_server_free(server);
    free(msg);
    rec_free(&srv);
    rec_free(&cli);
    return NULL;
}

Test(tcp, echo_in_order_with_callback_order, .timeout = 60)
{
    run(echo_main, NULL);
}

static void *refused_main(void *arg)
{
    (void)arg;
    rec_t cli;
    rec_init(&cli);
    acio_transport_t *t = (void *)1;
    int rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1",
                                         loopback_free_port(), NULL);
    CHECK(rc == -ECONNREFUSED, "got %s", acio_err_name(rc));
    CHECK(t == NULL, "out not cleared");
    OK(acio_sleep(0));
    CHECK(cli.nev == 0, "protocol callbacks ran on failure: %s", cli.events);
    /* Bad arguments are refused clearly. */
    rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1", 70000, NULL);
    CHECK(rc == -EINVAL, "bad port: %s", acio_err_name(rc));
    rc = acio_loop_create_connection(NULL, &t, NULL, &cli, "127.0.0.1", 80, NULL);
    CHECK(rc == -EINVAL, "no protocol: %s", acio_err_name(rc));
    rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "no-such-host.invalid", 80, NULL);
    CHECK(rc == -ENXIO || rc == -EAGAIN, "unknown host: %s", acio_err_name(rc));
    rec_free(&cli);
    return NULL;
}

Test(tcp, connection_refused_calls_no_protocol_callback, .timeout = 60)
{
    run(refused_main, NULL);
}

Test(tcp, coroutines_outside_a_task_fail_clearly, .timeout = 60)
{
    acio_transport_t *t;
    int rc = acio_loop_create_connection(NULL, &t, &rec_proto, NULL, "127.0.0.1", 1, NULL);
    cr_assert(rc == ACIO_ENOLOOP || rc == ACIO_ENOTASK, "got %s", acio_err_name(rc));
}

/* A raw listening socket and the port it got. */
static int raw_listener(int family, int backlog, int *port)
{
    int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons((uint16_t)*port);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)*port);
        sl = sizeof(*a);
    }
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&ss, sl) < 0 || listen(s, backlog) < 0) {
        close(s);
        return -1;
    }
    getsockname(s, (struct sockaddr *)&ss, &sl);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return s;
}

static void *reset_main(void *arg)
{
    (void)arg;
    int port = 0;
    int l = raw_listener(AF_INET, 8, &port);
    CHECK(l >= 0, "listener");
    rec_t cli;
    rec_init(&cli);
    acio_transport_t *t;
    int rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1", port, NULL);
    CHECK(rc == 0, "connect: %s", acio_strerror(rc));
    int c = -1;
    rc = acio_loop_sock_accept(NULL, l, &c, NULL, NULL);
    CHECK(rc == 0, "accept: %s", acio_strerror(rc));
    /* SO_LINGER 0 then close: the kernel sends RST. */
    struct linger lg = {1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(c);
    rec_wait_lost(&cli);
    CHECK(cli.lost_error == -ECONNRESET, "lost with %s", acio_err_name(cli.lost_error));
    CHECK(strcmp(cli.events, "ML") == 0, "events %s", cli.events);
    rc = acio_transport_write(t, "x", 1);
    CHECK(rc == -ECONNRESET, "write after reset: %s", acio_err_name(rc));
    acio_transport_unref(t);
    close(l);
    rec_free(&cli);
    return NULL;
}

Test(tcp, reset_by_peer_reaches_connection_lost, .timeout = 60)
{
    run(reset_main, NULL);
}

static void *peer_closes_mid_write_main(void *arg)
{
    (void)arg;
    int port = 0;
    int l = raw_listener(AF_INET, 8, &port);
    rec_t cli;
    rec_init(&cli);
    acio_transport_t *t;
    int rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1", port, NULL);
    CHECK(rc == 0, "connect: %s", acio_strerror(rc));
    int c = -1;
    OK(acio_loop_sock_accept(NULL, l, &c, NULL, NULL));
    /* Fill the pipe: the peer never reads, so most of this is buffered. */
    size_t N = 8 << 20;
    char *big = pattern(N);
    rc = acio_transport_write(t, big, N);
    CHECK(rc == 0, "write: %s", acio_strerror(rc));
    size_t buffered = acio_transport_get_write_buffer_size(t);
    CHECK(buffered > 0 && buffered < N, "partial write expected, buffered %zu of %zu", buffered, N);
    CHECK(cli.nev >= 2 && cli.events[1] == 'P', "pause_writing inside write: %s", cli.events);
    /* The peer goes away with data unread: our pending data cannot be delivered, and
     * that must be reported, never silently dropped. */
    close(c);
    rec_wait_lost(&cli);
    CHECK(cli.lost_error == -ECONNRESET || cli.lost_error == -EPIPE, "lost with %s",
          acio_err_name(cli.lost_error));
    acio_transport_unref(t);
    close(l);
    free(big);
    rec_free(&cli);
    return NULL;
}

Test(tcp, peer_closing_mid_write_is_reported, .timeout = 60)
{
    run(peer_closes_mid_write_main, NULL);
}

/* Flow control: a server that does not read makes the client pause; once it reads,
 * the client resumes, and every byte arrives. */
typedef struct {
    rec_t rec;
    acio_transport_t *t;
} paused_srv_t;

static void ps_made(acio_transport_t *t, void *d)
{
    paused_srv_t *p = d;
    p->t = t;
    r_made(t, &p->rec);
    acio_transport_pause_reading(t);
}

static void ps_data(acio_transport_t *t, const void *buf, size_t len, void *d)
{
    r_data(t, buf, len, &((paused_srv_t *)d)->rec);
}

static void ps_lost(acio_transport_t *t, int err, void *d)
{
    r_lost(t, err, &((paused_srv_t *)d)->rec);
}

static bool ps_eof(acio_transport_t *t, void *d)
{
    return r_eof(t, &((paused_srv_t *)d)->rec);
}

static const acio_protocol_t paused_proto = {
    .connection_made = ps_made,
    .data_received = ps_data,
    .eof_received = ps_eof,
    .connection_lost = ps_lost,
};

static void *flow_main(void *arg)
{
    (void)arg;
    paused_srv_t srv;
    memset(&srv, 0, sizeof(srv));
    rec_init(&srv.rec);
    rec_t cli;
    rec_init(&cli);
    int port = 0;
    int l = raw_listener(AF_INET, 8, &port);
    acio_transport_t *t;
    int rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1", port, NULL);
    CHECK(rc == 0, "connect");
    int c = -1;
    OK(acio_loop_sock_accept(NULL, l, &c, NULL, NULL));
    acio_transport_t *st;
    rc = acio_loop_connect_accepted_socket(NULL, &st, &paused_proto, &srv, c, NULL);
    CHECK(rc == 0, "connect_accepted_socket: %s", acio_strerror(rc));
    CHECK(!acio_transport_is_reading(st), "server transport paused");
    rc = acio_transport_set_write_buffer_limits(t, 4096, 1024);
    CHECK(rc == 0, "limits");
    CHECK(acio_transport_set_write_buffer_limits(t, 10, 20) == -EINVAL, "low > high refused");
    size_t N = 4 << 20, sent = 0;
    char *msg = pattern(N);
    /* Write until the protocol is paused, the way a well-behaved producer does. */
    while (sent < N && strchr(cli.events, 'P') == NULL) {
        OK(acio_transport_write(t, msg + sent, 65536));
        sent += 65536;
    }
    CHECK(strchr(cli.events, 'P') != NULL, "never paused after %zu bytes", sent);
    CHECK(acio_transport_get_write_buffer_size(t) > 4096, "buffer above high water");
    OK(acio_sleep(0.01));
    CHECK(strchr(cli.events, 'R') == NULL, "resumed while the peer is not reading");
    acio_transport_resume_reading(st);
    WAIT_UNTIL(srv.rec.len == sent);
    CHECK(srv.rec.len == sent, "received %zu of %zu", srv.rec.len, sent);
    CHECK(memcmp(srv.rec.data, msg, sent) == 0, "data differs");
    CHECK(strstr(cli.events, "MPR") != NULL, "client events %s", cli.events);
    CHECK(acio_transport_get_write_buffer_size(t) == 0, "drained");
    acio_transport_close(t);
    rec_wait_lost(&srv.rec);
    rec_wait_lost(&cli);
    CHECK(strcmp(srv.rec.events, "MDEL") == 0, "server events %s", srv.rec.events);
    acio_transport_unref(t);
    acio_transport_unref(st);
    close(l);
    free(msg);
    rec_free(&cli);
    rec_free(&srv.rec);
    return NULL;
}

Test(tcp, write_flow_control_pauses_and_resumes, .timeout = 60)
{
    run(flow_main, NULL);
}

static void *half_close_main(void *arg)
{
    (void)arg;
    rec_t srv, cli;
    rec_init(&srv);
    rec_init(&cli);
    srv.keep_open_on_eof = true;
    acio_server_t *server;
    int rc = acio_loop_create_server(NULL, &server, one_rec_factory, &srv, "127.0.0.1", 0, NULL);
    CHECK(rc == 0, "server");
    acio_transport_t *t;
    rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1",
                                     acio_server_port(server), NULL);
    CHECK(rc == 0, "connect");
    CHECK(acio_transport_can_write_eof(t), "can_write_eof");
    OK(acio_transport_write(t, "request", 7));
    rc = acio_transport_write_eof(t);
    CHECK(rc == 0, "write_eof %d", rc);
    CHECK(acio_transport_write(t, "x", 1) == -EPIPE, "write after write_eof");
    WAIT_UNTIL(strchr(srv.events, 'E'));
    CHECK(strcmp(srv.events, "MDE") == 0, "server events %s", srv.events);
    /* The server still writes after the client's EOF: the half-closed direction works. */
    rc = acio_transport_write(srv.t, "reply", 5);
    CHECK(rc == 0, "server write after eof: %s", acio_strerror(rc));
    acio_transport_close(srv.t);
    rec_wait_lost(&cli);
    CHECK(cli.len == 5 && memcmp(cli.data, "reply", 5) == 0, "reply %zu", cli.len);
    CHECK(strcmp(cli.events, "MDEL") == 0, "client events %s", cli.events);
    rec_wait_lost(&srv);
    acio_transport_unref(t);
    acio_server_free(server);
    rec_free(&srv);
    rec_free(&cli);
    return NULL;
}

Test(tcp, half_close_keeps_the_other_direction, .timeout = 60)
{
    run(half_close_main, NULL);
}

static void *abort_main(void *arg)
{
    (void)arg;
    int port = 0;
    int l = raw_listener(AF_INET, 8, &port);
    rec_t cli;
    rec_init(&cli);
    acio_transport_t *t;
    int rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1", port, NULL);
    CHECK(rc == 0, "connect");
    int c = -1;
    OK(acio_loop_sock_accept(NULL, l, &c, NULL, NULL));
    size_t N = 8 << 20;
    char *big = pattern(N);
    OK(acio_transport_write(t, big, N));
    CHECK(acio_transport_get_write_buffer_size(t) > 0, "buffered");
    /* close() keeps the buffered data until it is sent; abort() drops it now. */
    acio_transport_close(t);
    OK(acio_sleep(0.01));
    CHECK(!cli.lost, "close waits for the buffer to drain");
    acio_transport_abort(t);
    rec_wait_lost(&cli);
    CHECK(cli.lost_error == 0, "abort reports no error: %d", cli.lost_error);
    CHECK(acio_transport_get_write_buffer_size(t) == 0, "buffer dropped");
    acio_transport_unref(t);
    close(c);
    close(l);
    free(big);
    rec_free(&cli);
    return NULL;
}

Test(tcp, abort_discards_buffer_close_waits, .timeout = 60)
{
    run(abort_main, NULL);
}

static void *extra_info_main(void *arg)
{
    (void)arg;
    rec_t srv, cli;
    rec_init(&srv);
    rec_init(&cli);
    acio_server_t *server;
    int rc = acio_loop_create_server(NULL, &server, one_rec_factory, &srv, "127.0.0.1", 0, NULL);
    CHECK(rc == 0, "server");
    acio_transport_t *t;
    rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1",
                                     acio_server_port(server), NULL);
    CHECK(rc == 0, "connect");
    WAIT_UNTIL(srv.t != NULL);
    struct sockaddr_in cs, cp, ss, sp;
    size_t l1 = sizeof(cs), l2 = sizeof(cp), l3 = sizeof(ss), l4 = sizeof(sp);
    CHECK(acio_transport_get_extra_info(t, "sockname", &cs, &l1) == 0, "sockname");
    CHECK(acio_transport_get_extra_info(t, "peername", &cp, &l2) == 0, "peername");
    CHECK(acio_transport_get_extra_info(srv.t, "sockname", &ss, &l3) == 0, "srv sockname");
    CHECK(acio_transport_get_extra_info(srv.t, "peername", &sp, &l4) == 0, "srv peername");
    CHECK(cs.sin_port == sp.sin_port && cp.sin_port == ss.sin_port, "ports match");
    CHECK(ntohs(cp.sin_port) == acio_server_port(server), "peer port");
    int fd = -1;
    size_t fl = sizeof(fd);
    CHECK(acio_transport_get_extra_info(t, "socket", &fd, &fl) == 0 &&
              fd == acio_transport_get_fd(t),
          "socket");
    size_t small = 2;
    CHECK(acio_transport_get_extra_info(t, "peername", &cs, &small) == -ENOSPC &&
              small == sizeof(struct sockaddr_in),
          "ENOSPC with size needed");
    CHECK(acio_transport_get_extra_info(t, "nonsense", &cs, &l1) == -ENOENT, "unknown name");
    acio_transport_close(t);
    rec_wait_lost(&cli);
    rec_wait_lost(&srv);
    CHECK(acio_transport_get_extra_info(t, "peername", &cp, &l2) == -ENOENT, "after close");
    acio_transport_unref(t);
    acio_server_free(server);
    rec_free(&srv);
    rec_free(&cli);
    return NULL;
}

Test(tcp, get_extra_info, .timeout = 60)
{
    run(extra_info_main, NULL);
}

/* A listener on ::1 whose accept queue is full: further SYNs are dropped, so connects
 * to it hang, like an unreachable address. Returns the listener; *keep is the queued
 * connection to close afterwards. */
static int blackhole(int port, int *keep)
{
    int l = raw_listener(AF_INET6, 0, &port);
    if (l < 0)
        return -1;
    struct sockaddr_in6 a = {
        .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback, .sin6_port = htons((uint16_t)port)};
    *keep = socket(AF_INET6, SOCK_STREAM, 0);
    connect(*keep, (struct sockaddr *)&a, sizeof(a));
    return l;
}

static void *happy_main(void *arg)
{
    (void)arg;
    int port = 0;
    int good = raw_listener(AF_INET, 8, &port);
    int keep = -1;
    int bad = blackhole(port, &keep);
    CHECK(good >= 0 && bad >= 0, "listeners (IPv6 loopback needed)");
    struct sockaddr_in6 a6 = {
        .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback, .sin6_port = htons((uint16_t)port)};
    struct sockaddr_in a4 = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)port)};
    struct addrinfo ai4 = {.ai_family = AF_INET,
                           .ai_socktype = SOCK_STREAM,
                           .ai_addrlen = sizeof(a4),
                           .ai_addr = (struct sockaddr *)&a4};
    struct addrinfo ai6 = {.ai_family = AF_INET6,
                           .ai_socktype = SOCK_STREAM,
                           .ai_addrlen = sizeof(a6),
                           .ai_addr = (struct sockaddr *)&a6,
                           .ai_next = &ai4};
    acio_loop_t *loop = acio_get_running_loop();
    /* One at a time: the hanging first address eats the whole deadline. */
    int fd = -1;
    int rc = acio__connect_addrinfo(loop, &ai6, NULL, 0, 0, acio_loop_time(loop) + 0.3, &fd);
    CHECK(rc == -ETIMEDOUT, "sequential: %s", acio_err_name(rc));
    /* Staggered: the second address is tried after 50 ms and wins. */
    rc = acio__connect_addrinfo(loop, &ai6, NULL, 0.05, 1, acio_loop_time(loop) + 5, &fd);
    CHECK(rc == 0, "happy eyeballs: %s", acio_err_name(rc));
    struct sockaddr_storage peer;
    socklen_t pl = sizeof(peer);
    getpeername(fd, (struct sockaddr *)&peer, &pl);
    CHECK(peer.ss_family == AF_INET, "won over IPv4");
    close(fd);
    /* A public call with a timeout on the hanging address. */
    rec_t cli;
    rec_init(&cli);
    acio_connection_opts_t o = {.timeout = 0.2};
    rc = acio_loop_create_connection(NULL, NULL, &rec_proto, &cli, "::1", port, &o);
    CHECK(rc == -ETIMEDOUT, "timeout: %s", acio_err_name(rc));
    rec_free(&cli);
    close(keep);
    close(bad);
    close(good);
    return NULL;
}

Test(tcp, happy_eyeballs_and_timeout, .timeout = 60)
{
    run(happy_main, NULL);
}

static void *local_addr_main(void *arg)
{
    (void)arg;
    int port = 0;
    int l = raw_listener(AF_INET, 8, &port);
    int lport = loopback_free_port();
    rec_t cli;
    rec_init(&cli);
    acio_connection_opts_t o = {.local_host = "127.0.0.1", .local_port = lport};
    acio_transport_t *t;
    int rc = acio_loop_create_connection(NULL, &t, &rec_proto, &cli, "127.0.0.1", port, &o);
    CHECK(rc == 0, "connect with local_addr: %s", acio_strerror(rc));
    struct sockaddr_in me;
    size_t ml = sizeof(me);
    OK(acio_transport_get_extra_info(t, "sockname", &me, &ml));
    CHECK(ntohs(me.sin_port) == lport, "bound to %d, wanted %d", ntohs(me.sin_port), lport);
    acio_transport_abort(t);
    rec_wait_lost(&cli);
    acio_transport_unref(t);
    close(l);
    rec_free(&cli);
    return NULL;
}

Test(tcp, local_addr_is_bound, .timeout = 60)
{
    run(local_addr_main, NULL);
}
