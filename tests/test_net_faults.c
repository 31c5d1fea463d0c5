/* Regression tests for memory-safety bugs under faults (issue 7), each reproduced with
 * the fault injector (support/fault.h) or a raw peer:
 * - a TLS client whose server resets the connection during the handshake (use after free;
 *   connection_lost on a connection that was never made), for create_connection,
 *   open_connection and start_tls;
 * - open_connection when the transport fails to start (epoll_ctl refuses the socket);
 * - an allocation failing in a server's accept-retry path after EMFILE;
 * - creating the transport failing after the protocol factory ran (the factory's object
 *   is released through its release callback; start_server's stream does not leak);
 * - stack sizes near SIZE_MAX and an invalid TLS context purpose give -EINVAL. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/rc.h"
#include "support/fault.h"
#include "support/fds.h"

static void run(acio_coro_fn fn, void *arg)
{
    int before = count_fds();
    char *msg = NULL;
    int rc = acio_run_ex(fn, arg, NULL, &msg);
    cr_assert_eq(rc, 0, "main failed: %s: %s", acio_err_name(rc), msg ? msg : "");
    free(msg);
    cr_assert_eq(count_fds(), before, "fds leaked: %d before, %d after", before, count_fds());
}

/* ---- a raw peer on a thread: accept one connection, read a little, then reset ---- */

typedef struct {
    int lfd;
    int port;
    size_t read_first; /* bytes to read before resetting (0: reset at once) */
    pthread_t th;
} rst_peer_t;

static void *rst_peer_main(void *arg)
{
    rst_peer_t *p = arg;
    int c = accept(p->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[4096];
    size_t got = 0;
    while (got < p->read_first) {
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    struct linger lg = {1, 0}; /* close() sends RST */
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(c);
    return NULL;
}

static void rst_peer_start(rst_peer_t *p, size_t read_first)
{
    p->read_first = read_first;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    cr_assert(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(p->lfd, 4) == 0);
    getsockname(p->lfd, (struct sockaddr *)&a, &al);
    p->port = ntohs(a.sin_port);
    pthread_create(&p->th, NULL, rst_peer_main, p);
}

static void rst_peer_stop(rst_peer_t *p)
{
    pthread_join(p->th, NULL);
    close(p->lfd);
}

/* A protocol that records what it heard. */
typedef struct {
    int made, lost, data;
    int lost_error;
} rec_t;

static void rec_made(acio_transport_t *t, void *d)
{
    (void)t;
    ((rec_t *)d)->made++;
}

static void rec_data(acio_transport_t *t, const void *b, size_t n, void *d)
{
    (void)t, (void)b, (void)n;
    ((rec_t *)d)->data++;
}

static void rec_lost(acio_transport_t *t, int e, void *d)
{
    (void)t;
    ((rec_t *)d)->lost++;
    ((rec_t *)d)->lost_error = e;
}

static const acio_protocol_t rec_proto = {
    .connection_made = rec_made, .data_received = rec_data, .connection_lost = rec_lost};

static acio_ssl_context_t *insecure_client(void)
{
    acio_ssl_context_t *c = NULL;
    if (acio_ssl_context_new(&c, ACIO_SSL_CLIENT) < 0)
        return NULL;
    if (acio_ssl_context_set_verify(c, false) < 0) {
        acio_ssl_context_unref(c);
        return NULL;
    }
    return c;
}

/* ---- TLS client, server resets during the handshake ---- */

typedef struct {
    int port;
    int how; /* 0 create_connection, 1 open_connection, 2 start_tls */
} tls_rst_arg_t;

static void *tls_rst_main(void *arg)
{
    tls_rst_arg_t *a = arg;
    acio_ssl_context_t *c = insecure_client();
    CHECK(c, "context");
    acio_connection_opts_t co = {.ssl = c, .server_hostname = "localhost"};
    rec_t r = {0};
    int rc;
    if (a->how == 0) {
        acio_transport_t *t = NULL;
        rc = acio_loop_create_connection(NULL, &t, &rec_proto, &r, "127.0.0.1", a->port, &co);
        CHECK(t == NULL, "no transport on error");
    } else if (a->how == 1) {
        acio_stream_reader_t *rd = NULL;
        acio_stream_writer_t *wr = NULL;
        rc = acio_open_connection(&rd, &wr, "127.0.0.1", a->port, 0, &co);
    } else {
        rec_t plain = {0};
        acio_transport_t *raw = NULL, *t = NULL;
        rc =
            acio_loop_create_connection(NULL, &raw, &rec_proto, &plain, "127.0.0.1", a->port, NULL);
        CHECK(rc == 0, "plain connect: %s", acio_strerror(rc));
        rc = acio_loop_start_tls(NULL, raw, &rec_proto, &r, c, false, "localhost", 10, &t);
        CHECK(t == NULL, "no TLS transport on error");
        acio_transport_close(raw);
        acio_transport_unref(raw);
    }
    acio_ssl_context_unref(c);
    CHECK(rc == -ECONNRESET || rc == ACIO_ETLSHANDSHAKE, "handshake against a reset: %s",
          acio_err_name(rc));
    /* Let anything wrongly queued run. */
    for (int i = 0; i < 5; i++)
        UNCHECKED(acio_sleep(0));
    CHECK(r.made == 0 && r.lost == 0 && r.data == 0,
          "the protocol of a connection never made heard made=%d lost=%d data=%d", r.made, r.lost,
          r.data);
    return NULL;
}

static void tls_rst(int how, size_t read_first)
{
    rst_peer_t p;
    rst_peer_start(&p, read_first);
    tls_rst_arg_t a = {p.port, how};
    run(tls_rst_main, &a);
    rst_peer_stop(&p);
}

Test(net_faults, tls_client_reset_during_handshake_create_connection, .timeout = 30)
{
    tls_rst(0, 1); /* after the ClientHello arrived */
    tls_rst(0, 0);
}

Test(net_faults, tls_client_reset_during_handshake_open_connection, .timeout = 30)
{
    tls_rst(1, 1);
    tls_rst(1, 0);
}

Test(net_faults, tls_client_reset_during_handshake_start_tls, .timeout = 30)
{
    tls_rst(2, 1);
}

/* ---- open_connection when registering the socket with the poller fails ---- */

static int listen_port(int *lfd)
{
    *lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(*lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(*lfd, 8) < 0)
        return -1;
    getsockname(*lfd, (struct sockaddr *)&a, &al);
    return ntohs(a.sin_port);
}

static void *epoll_fail_main(void *arg)
{
    (void)arg;
    int lfd, port = listen_port(&lfd);
    CHECK(port > 0, "listen");
    /* Count the epoll_ctl(ADD) calls of a good open_connection, then fail each in turn. */
    fault_count_start();
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    int rc = acio_open_connection(&r, &w, "127.0.0.1", port, 0, NULL);
    long adds = fault_count(FAULT_EPOLL);
    fault_stop();
    CHECK(rc == 0, "open_connection: %s", acio_strerror(rc));
    acio_stream_writer_close(w);
    UNCHECKED(acio_stream_writer_wait_closed(w));
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    CHECK(adds >= 1, "open_connection registered nothing with the poller");
    for (long n = 1; n <= adds + 1; n++) {
        fault_arm(FAULT_EPOLL, n);
        rc = acio_open_connection(&r, &w, "127.0.0.1", port, 0, NULL);
        bool fired = fault_fired();
        fault_stop();
        if (rc < 0) {
            CHECK(fired, "open_connection failed without a fault: %s", acio_strerror(rc));
            continue;
        }
        /* Connected; if it was the reader's registration that failed, the stream
         * reports the error, else it sees the peer's EOF. */
        struct sockaddr_in mine, peer;
        size_t ml = sizeof(mine);
        char buf[8];
        if (acio_stream_writer_get_extra_info(w, "sockname", &mine, &ml) < 0) {
            /* The transport ended already (it could not start reading). */
            ssize_t got = acio_stream_reader_read(r, buf, sizeof(buf));
            CHECK(fired && got < 0, "read on a transport that could not start: %zd", got);
            acio_stream_reader_unref(r);
            acio_stream_writer_unref(w);
            continue;
        }
        int c = -1;
        for (int i = 0; i < 400 && c < 0; i++) {
            socklen_t pl = sizeof(peer);
            c = accept(lfd, (struct sockaddr *)&peer, &pl);
            if (c >= 0 && peer.sin_port != mine.sin_port) {
                close(c); /* an earlier round's connection */
                c = -1;
                continue;
            }
            if (c < 0)
                UNCHECKED(acio_sleep(0.005));
        }
        CHECK(c >= 0, "accept");
        close(c);
        ssize_t got = acio_stream_reader_read(r, buf, sizeof(buf));
        CHECK(got <= 0, "read: %zd", got);
        acio_stream_writer_close(w);
        UNCHECKED(acio_stream_writer_wait_closed(w));
        acio_stream_reader_unref(r);
        acio_stream_writer_unref(w);
    }
    /* Drain the listen queue. */
    for (int c; (c = accept(lfd, NULL, NULL)) >= 0;)
        close(c);
    close(lfd);
    return NULL;
}

Test(net_faults, open_connection_when_poller_refuses_the_socket, .timeout = 30)
{
    run(epoll_fail_main, NULL);
}

/* ---- the accept-retry path when an allocation fails ---- */

static int reports, refused;

static void count_reports(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop, (void)data;
    reports++;
    if (ctx->code == -ENOMEM)
        refused++;
}

static rec_t srv_rec[8];
static int nsrv;

static int rec_factory(void *fd, const acio_protocol_t **p, void **d)
{
    (void)fd;
    *p = &rec_proto;
    *d = &srv_rec[nsrv++ % 8];
    return 0;
}

static void *accept_retry_main(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), count_reports, NULL);
    acio_server_opts_t o = {.accept_retry_delay = 0.01};
    acio_server_t *srv;
    int rc = acio_loop_create_server(NULL, &srv, rec_factory, NULL, "127.0.0.1", 0, &o);
    CHECK(rc == 0, "create_server: %s", acio_strerror(rc));
    int port = acio_server_port(srv);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    /* For each allocation of the retry path (arming the timer, then re-adding the
     * reader): accept fails with EMFILE once, that allocation fails, and the server must
     * still end up accepting the connection and say what happened. */
    for (long n = 1; n <= 4; n++) {
        int before = nsrv;
        reports = 0;
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(connect(c, (struct sockaddr *)&to, sizeof(to)) == 0, "connect");
        fault_arm(FAULT_ACCEPT, 1);
        acio__alloc_fail_after(n);
        for (int i = 0; i < 200 && nsrv == before; i++)
            UNCHECKED(acio_sleep(0.005));
        fault_stop();
        CHECK(nsrv == before + 1, "alloc %ld in the retry path: the server stopped accepting", n);
        CHECK(reports >= 1, "alloc %ld: EMFILE reported", n);
        CHECK(acio_server_is_serving(srv), "still serving");
        close(c);
        acio_server_abort_clients(srv);
        UNCHECKED(acio_sleep(0));
    }
    acio_server_close(srv);
    UNCHECKED(acio_server_wait_closed(srv));
    acio_server_free(srv);
    return NULL;
}

Test(net_faults, accept_retry_survives_allocation_failure, .timeout = 30)
{
    run(accept_retry_main, NULL);
}

/* ---- the factory's object when the transport cannot be created ---- */

static int made_objects, released_objects;

static int counting_factory(void *fd, const acio_protocol_t **p, void **d)
{
    (void)fd;
    rec_t *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    made_objects++;
    *p = &rec_proto;
    *d = r;
    return 0;
}

static void counting_release(void *factory_data, const acio_protocol_t *proto, void *data)
{
    (void)factory_data, (void)proto;
    released_objects++;
    free(data);
}

static void *stream_handler(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)r, (void)w, (void)arg;
    return NULL;
}

static void *factory_release_main(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), count_reports, NULL);
    for (int streams = 0; streams < 2; streams++) {
        acio_server_opts_t o = {.factory_release = counting_release};
        acio_server_t *srv;
        int rc = streams ? acio_start_server(&srv, stream_handler, NULL, "127.0.0.1", 0, 0, &o)
                         : acio_loop_create_server(NULL, &srv, counting_factory, NULL, "127.0.0.1",
                                                   0, &o);
        CHECK(rc == 0, "server: %s", acio_strerror(rc));
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)acio_server_port(srv)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        reports = 0;
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(connect(c, (struct sockaddr *)&to, sizeof(to)) == 0, "connect");
        /* After the accept, the stream factory allocates the stream (1st acio allocation;
         * the counting factory uses malloc), then the transport is allocated. */
        fault_arm_after(FAULT_ACCEPT, FAULT_ALLOC, streams ? 2 : 1);
        for (int i = 0; i < 100 && reports == 0; i++)
            UNCHECKED(acio_sleep(0.005));
        fault_stop();
        CHECK(reports >= 1, "the failure was reported");
        close(c);
        acio_server_close(srv);
        UNCHECKED(acio_server_wait_closed(srv));
        acio_server_free(srv);
    }
    /* The stream start_server's factory made is released by start_server itself (the
     * ASan build's leak check sees it); the user's release is not start_server's. */
    CHECK(made_objects == 1 && released_objects == 1, "factory objects: %d made, %d released",
          made_objects, released_objects);
    return NULL;
}

Test(net_faults, factory_object_released_when_transport_fails, .timeout = 30)
{
    run(factory_release_main, NULL);
}

/* ---- argument checks ---- */

static void *dummy(void *arg)
{
    return arg;
}

static const size_t huge_sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX / 2 + 1,
                                    ((size_t)1 << 30) + 1};

Test(net_faults, stack_size_near_size_max_is_einval)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    for (size_t i = 0; i < sizeof(huge_sizes) / sizeof(huge_sizes[0]); i++) {
        size_t sz = huge_sizes[i];
        acio_coro_t *co = NULL;
        int rc = acio_coro_new(&co, dummy, NULL, sz);
        cr_assert_eq(rc, -EINVAL, "coro stack %zu: %s", sz, acio_err_name(rc));
        rc = acio_coro_set_default_stack_size(sz);
        cr_assert_eq(rc, -EINVAL, "default stack %zu: %s", sz, acio_err_name(rc));
        rc = acio_loop_set_task_stack_size(loop, sz);
        cr_assert_eq(rc, -EINVAL, "loop stack %zu: %s", sz, acio_err_name(rc));
        acio_task_opts_t o = {.stack_size = sz};
        acio_task_t *t = NULL;
        rc = acio_loop_create_task(loop, &t, dummy, NULL, &o);
        cr_assert_eq(rc, -EINVAL, "task stack %zu: %s", sz, acio_err_name(rc));
    }
    /* The largest allowed size still works. */
    acio_coro_t *co = NULL;
    cr_assert_eq(acio_coro_new(&co, dummy, NULL, (size_t)1 << 30), 0);
    acio_coro_free(co);
    acio_loop_close(loop);
}

Test(net_faults, ssl_context_rejects_invalid_purpose)
{
    acio_ssl_context_t *c = (acio_ssl_context_t *)1;
    int rc = acio_ssl_context_new(&c, (acio_ssl_purpose_t)7);
    cr_assert(rc == -EINVAL || rc == -ENOTSUP, "purpose 7: %s", acio_err_name(rc));
    rc = acio_ssl_context_new(&c, (acio_ssl_purpose_t)-1);
    cr_assert(rc == -EINVAL || rc == -ENOTSUP, "purpose -1: %s", acio_err_name(rc));
}
