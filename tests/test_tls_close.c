/* Closing a loop with TLS connections still open, in every state a TLS connection can be
 * in: a client whose handshake is stalled (a plain TCP listener that never answers the
 * ClientHello; over a protocol and over streams), a server-side connection stuck in its
 * handshake (a TCP client that connects and sends nothing), established client/server
 * pairs with megabytes unsent (one left open, one already closing), an established TLS
 * stream pair, and a connection in the middle of start_tls. The loop's close (the end of
 * acio_run, and acio_loop_close with the handshaking tasks still suspended) must release
 * everything: no fd is left (/proc/self/fd), no connection_lost runs, the server no longer
 * counts the connections, everything the test still holds can be closed, aborted and
 * released afterwards as harmless no-ops, and nothing leaks (the _asan build checks that:
 * SSL objects, buffers, TLS transports, discarded handshake waiters). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "acio.h"
#include "support/certs.h"
#include "support/counting.h"
#include "support/problems.h"
#include "support/rc.h"

/* ---- what the test keeps across the loop's close ---- */

enum { STALLED_PROTO, STALLED_STREAM, START_TLS, ACCEPTED_SOCK, NTASKS };

static struct {
    acio_ssl_context_t *sctx, *cctx;
    /* Plain listeners that accept in the kernel and never answer: TCP, and a Unix one
     * for the stalled clients of the acio_loop_close variant (see there). */
    int listen_fd, unix_fd;
    char upath[96];
    bool stall_over_unix;
    int peer_fd[4];
    int sock_fd; /* connect_accepted_socket's end of a socket pair */
    int npeer;
    int listen_port;
    int fds_base;           /* fds open before the loop: the test's own, the listener included */
    acio_server_t *srv;     /* the TLS server */
    acio_transport_t *mute; /* plain client of the TLS server: sends nothing */
    acio_transport_t *open_c, *closing; /* established TLS clients with unsent data */
    acio_transport_t *plain;            /* the connection start_tls is upgrading */
    acio_stream_reader_t *sr;
    acio_stream_writer_t *sw;
    int rc[NTASKS]; /* what each handshaking task returned (1: never returned) */
} held;

/* Accept the next connection on the plain listener and wait until its first bytes (a TLS
 * handshake record: the ClientHello) arrived, so the client is known to be waiting for an
 * answer. */
static void accept_hello(int lfd, bool wait_hello)
{
    int fd = -1;
    for (int i = 0; i < 5000 && fd < 0; i++) {
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            OK(acio_sleep(0.001));
    }
    cr_assert_geq(fd, 0, "the client connected");
    held.peer_fd[held.npeer++] = fd;
    if (!wait_hello)
        return;
    unsigned char b = 0;
    ssize_t n = -1;
    for (int i = 0; i < 5000 && n <= 0; i++) {
        n = recv(fd, &b, 1, MSG_PEEK);
        if (n <= 0)
            OK(acio_sleep(0.001));
    }
    cr_assert_eq(n, 1, "the ClientHello arrived");
    cr_assert_eq(b, 0x16, "a TLS handshake record: %#x", b);
}

static void *stalled_proto(void *arg)
{
    (void)arg;
    acio_connection_opts_t co = {.ssl = held.cctx, .server_hostname = "localhost"};
    acio_transport_t *t = NULL;
    if (held.stall_over_unix)
        held.rc[STALLED_PROTO] =
            acio_loop_create_unix_connection(NULL, &t, &counting_protocol, NULL, held.upath, &co);
    else
        held.rc[STALLED_PROTO] = acio_loop_create_connection(NULL, &t, &counting_protocol, NULL,
                                                             "127.0.0.1", held.listen_port, &co);
    if (t)
        acio_transport_unref(t);
    return NULL;
}

static void *stalled_stream(void *arg)
{
    (void)arg;
    acio_connection_opts_t co = {.ssl = held.cctx, .server_hostname = "localhost"};
    acio_stream_reader_t *r = NULL;
    acio_stream_writer_t *w = NULL;
    if (held.stall_over_unix)
        held.rc[STALLED_STREAM] = acio_open_unix_connection(&r, &w, held.upath, 0, &co);
    else
        held.rc[STALLED_STREAM] =
            acio_open_connection(&r, &w, "127.0.0.1", held.listen_port, 0, &co);
    if (held.rc[STALLED_STREAM] == 0) {
        acio_stream_reader_unref(r);
        acio_stream_writer_unref(w);
    }
    return NULL;
}

static void *upgrade(void *arg)
{
    (void)arg;
    acio_transport_t *t = NULL;
    held.rc[START_TLS] = acio_loop_start_tls(NULL, held.plain, &counting_protocol, NULL, held.cctx,
                                             false, "localhost", 0, &t);
    if (t)
        acio_transport_unref(t);
    return NULL;
}

/* The server side of connect_accepted_socket(ssl=...), waiting in a task for a
 * ClientHello that the other end of the socket pair never sends. */
static void *accept_sock(void *arg)
{
    (void)arg;
    acio_connection_opts_t co = {.ssl = held.sctx};
    acio_transport_t *t = NULL;
    held.rc[ACCEPTED_SOCK] =
        acio_loop_connect_accepted_socket(NULL, &t, &counting_protocol, NULL, held.sock_fd, &co);
    if (t)
        acio_transport_unref(t);
    return NULL;
}

static acio_transport_t *tls_client(int port)
{
    acio_connection_opts_t co = {.ssl = held.cctx, .server_hostname = "localhost"};
    acio_transport_t *t = NULL;
    int rc =
        acio_loop_create_connection(NULL, &t, &counting_protocol, NULL, "127.0.0.1", port, &co);
    cr_assert_eq(rc, 0, "TLS connect: %s (%s)", acio_err_name(rc), acio_ssl_last_error());
    return t;
}

static void wait_accepted(int n)
{
    for (int i = 0; i < 5000 && counted.naccepted < n; i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(counted.naccepted, n, "the server made %d connections of %d", counted.naccepted,
                 n);
}

static void *open_everything(void *arg)
{
    (void)arg;
    acio_loop_t *loop = watch_problems();

    /* (1) Clients whose handshake is stalled, over a protocol and over streams. */
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(
            acio_loop_create_task(loop, NULL, i ? stalled_stream : stalled_proto, NULL, NULL), 0);
        accept_hello(held.stall_over_unix ? held.unix_fd : held.listen_fd, true);
    }

    /* (4) A plain connection to the same listener, upgraded by a task: start_tls sends
     * its ClientHello and waits. */
    cr_assert_eq(acio_loop_create_connection(loop, &held.plain, &counting_protocol, NULL,
                                             "127.0.0.1", held.listen_port, NULL),
                 0);
    accept_hello(held.listen_fd, false);
    cr_assert_eq(acio_loop_create_task(loop, NULL, upgrade, NULL, NULL), 0);
    unsigned char b = 0;
    ssize_t n = -1;
    for (int i = 0; i < 5000 && n <= 0; i++) {
        n = recv(held.peer_fd[2], &b, 1, MSG_PEEK);
        if (n <= 0)
            OK(acio_sleep(0.001));
    }
    cr_assert_eq(n, 1, "start_tls sent its ClientHello");

    /* (2') A server-side handshake a task waits for: connect_accepted_socket. */
    int sp[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    held.sock_fd = sp[0];
    held.peer_fd[held.npeer++] = sp[1];
    cr_assert_eq(acio_loop_create_task(loop, NULL, accept_sock, NULL, NULL), 0);
    for (int i = 0; i < 10 && held.rc[ACCEPTED_SOCK] == 1; i++)
        OK(acio_sleep(0));
    cr_assert_eq(held.rc[ACCEPTED_SOCK], 1, "still handshaking");

    /* The TLS server. */
    acio_server_opts_t so = {.ssl = held.sctx};
    cr_assert_eq(
        acio_loop_create_server(loop, &held.srv, counting_factory, NULL, "127.0.0.1", 0, &so), 0);
    int port = acio_server_port(held.srv);

    /* (2) A TCP client that connects and says nothing: the server's side waits in its
     * handshake (it counts as a connection; its protocol does not exist yet). */
    cr_assert_eq(acio_loop_create_connection(loop, &held.mute, &counting_protocol, NULL,
                                             "127.0.0.1", port, NULL),
                 0);
    for (int i = 0; i < 5000 && acio_server_active_count(held.srv) < 1; i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(acio_server_active_count(held.srv), 1, "the server is handshaking");

    /* (3) Established pairs: the server sides stop reading, the clients write 8 MB each,
     * and the second client closes (its close_notify waits behind the data). */
    held.open_c = tls_client(port);
    held.closing = tls_client(port);
    wait_accepted(2);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(acio_transport_pause_reading(counted.accepted[i]), 0);
    size_t big = 8 << 20;
    char *junk = calloc(1, big);
    cr_assert_not_null(junk);
    cr_assert_eq(acio_transport_write(held.open_c, junk, big), 0);
    cr_assert_eq(acio_transport_write(held.closing, junk, big), 0);
    free(junk);
    cr_assert_gt(acio_transport_get_write_buffer_size(held.open_c), 0);
    acio_transport_close(held.closing);
    cr_assert_gt(acio_transport_get_write_buffer_size(held.closing), 0, "still shutting down");

    /* An established TLS stream pair, with a line its server side never reads. */
    acio_connection_opts_t co = {.ssl = held.cctx, .server_hostname = "localhost"};
    cr_assert_eq(acio_open_connection(&held.sr, &held.sw, "127.0.0.1", port, 0, &co), 0);
    cr_assert_eq(acio_stream_writer_write(held.sw, "unanswered\n", 11), 0);
    wait_accepted(3);
    cr_assert_eq(acio_server_active_count(held.srv), 4);
    cr_assert_eq(counted.lost, 0);
    return NULL;
}

static void setup(void)
{
    if (!have_tls())
        cr_skip_test("acio was built without OpenSSL");
    certs_make("tls-close");
    memset(&held, 0, sizeof held);
    for (int i = 0; i < NTASKS; i++)
        held.rc[i] = 1;
    /* Reports of tasks the close discarded (the suspended handshakes of the
     * acio_loop_close variant) are expected; anything else is a problem. */
    problems_setup();
    problems_expect("destroyed but it is pending");
    counted_reset();
    cr_assert_eq(acio_ssl_context_new(&held.sctx, ACIO_SSL_SERVER), 0);
    cr_assert_eq(acio_ssl_context_load_cert_chain(held.sctx, certs.cert, certs.key), 0);
    cr_assert_eq(acio_ssl_context_new(&held.cctx, ACIO_SSL_CLIENT), 0);
    cr_assert_eq(acio_ssl_context_load_verify_locations(held.cctx, certs.ca, NULL), 0);
    held.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(held.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(held.listen_fd, 8), 0);
    socklen_t l = sizeof a;
    cr_assert_eq(getsockname(held.listen_fd, (struct sockaddr *)&a, &l), 0);
    held.listen_port = ntohs(a.sin_port);
    held.unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    snprintf(held.upath, sizeof held.upath, "%s/stall.sock", certs.dir);
    snprintf(u.sun_path, sizeof u.sun_path, "%s", held.upath);
    cr_assert_eq(bind(held.unix_fd, (struct sockaddr *)&u, sizeof u), 0);
    cr_assert_eq(listen(held.unix_fd, 8), 0);
    held.fds_base = count_fds();
}

/* After the loop is gone: every fd acio had is closed (the only ones left are the
 * listener and the accepted ends, the test's own, closed last), and everything still held
 * is inert and can be released. */
static void check_and_release_everything(int expect_discarded)
{
    int now = count_fds(), expected = held.fds_base + held.npeer;
    cr_assert_eq(now, expected, "fds open: %d, expected: %d", now, expected);
    cr_assert_eq(counted.lost, 0, "connection_lost must not run after the loop closed (%d)",
                 counted.lost);
    cr_assert_eq(problems, 0, "the loop reported %d problems", problems);
    cr_assert_eq(problems_expected, expect_discarded, "discarded tasks: %d", problems_expected);
    cr_assert_eq(acio_server_active_count(held.srv), 0, "the server forgot every connection");

    acio_transport_t *ts[] = {held.mute, held.open_c, held.closing, held.plain};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        acio_transport_t *t = ts[i];
        expect_aborted_transport(t);
        /* Under acio_run the cancelled start_tls already aborted the plain connection
         * below it, before the loop closed: it failed with its own error. */
        int w = acio_transport_write(t, "x", 1);
        if (t == held.plain)
            cr_assert_lt(w, 0);
        else
            cr_assert_eq(w, ACIO_ECLOSED, "transport %zu: %s", i, acio_err_name(w));
        char name[64];
        size_t len = sizeof name;
        cr_assert_eq(acio_transport_get_extra_info(t, "peername", name, &len), -ENOENT);
    }
    char cipher[64];
    size_t clen = sizeof cipher;
    cr_assert_eq(acio_transport_get_extra_info(held.open_c, "cipher", cipher, &clen), -ENOENT);
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        acio_transport_unref(ts[i]);

    cr_assert_not(acio_server_is_serving(held.srv));
    acio_server_close(held.srv);
    acio_server_free(held.srv);

    cr_assert(acio_stream_writer_is_closing(held.sw));
    cr_assert_eq(acio_stream_writer_write(held.sw, "x", 1), ACIO_ECLOSED);
    char buf[8];
    cr_assert_eq(acio_stream_reader_read(held.sr, buf, sizeof buf), 0, "EOF, without waiting");
    acio_stream_writer_close(held.sw);
    acio_stream_writer_unref(held.sw);
    acio_stream_reader_unref(held.sr);

    acio_ssl_context_unref(held.sctx);
    acio_ssl_context_unref(held.cctx);
    for (int i = 0; i < held.npeer; i++)
        close(held.peer_fd[i]);
    close(held.listen_fd);
    close(held.unix_fd);
    certs_cleanup();
    cr_assert_eq(counted.lost, 0);
}

TestSuite(tls_close, .init = setup, .fini = certs_cleanup, .timeout = 120);

/* asyncio.run's ending: the handshaking tasks are cancelled first (their connections are
 * aborted on the way out, as create_connection promises), then the loop's close aborts
 * what is still open: the server's handshake, the established pairs, the stream. */
Test(tls_close, end_of_acio_run_releases_every_tls_connection)
{
    cr_assert_eq(acio_run(open_everything, NULL, NULL), 0);
    for (int i = 0; i < NTASKS; i++)
        cr_assert_eq(held.rc[i], -ECANCELED, "task %d: %s", i, acio_err_name(held.rc[i]));
    check_and_release_everything(0);
}

/* acio_loop_close with the handshaking tasks still suspended: they are discarded without
 * running again, so the TLS layer itself must drop what they held. The stalled clients
 * connect over a Unix socket here: a TCP create_connection's frame also holds the
 * getaddrinfo result during the handshake, which a discarded frame leaks whatever the
 * TLS layer does (connect.c's business, not TLS's). */
Test(tls_close, acio_loop_close_releases_handshakes_in_progress)
{
    held.stall_over_unix = true;
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_task_t *t;
    cr_assert_eq(acio_loop_create_task(loop, &t, open_everything, NULL, NULL), 0);
    cr_assert_eq(acio_loop_run_until_complete(loop, t, NULL), 0);
    acio_future_unref(t);
    cr_assert_eq(acio_loop_close(loop), 0);
    for (int i = 0; i < NTASKS; i++)
        cr_assert_eq(held.rc[i], 1, "task %d never returned", i);
    check_and_release_everything(NTASKS);
}

/* A TLS connection that ended normally is off the registry and has released its SSL
 * state at connection_lost: both sides heard connection_lost exactly once, and the loop's
 * close later touches neither of the transports the test still holds. */
static void *close_normally(void *arg)
{
    (void)arg;
    acio_loop_t *loop = watch_problems();
    acio_server_opts_t so = {.ssl = held.sctx};
    cr_assert_eq(
        acio_loop_create_server(loop, &held.srv, counting_factory, NULL, "127.0.0.1", 0, &so), 0);
    held.open_c = tls_client(acio_server_port(held.srv));
    wait_accepted(1);
    cr_assert_eq(acio_transport_write(held.open_c, "bye", 3), 0);
    acio_transport_close(held.open_c);
    /* close_notify reaches the server side, which closes too. */
    for (int i = 0; i < 5000 && counted.lost < 2; i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(counted.lost, 2, "both sides heard connection_lost");
    cr_assert_eq(acio_server_active_count(held.srv), 0);
    return NULL;
}

Test(tls_close, closed_tls_connections_leave_the_registry)
{
    cr_assert_eq(acio_run(close_normally, NULL, NULL), 0);
    cr_assert_eq(counted.lost, 2, "connection_lost ran once per side: %d", counted.lost);
    cr_assert_eq(problems, 0);
    cr_assert_eq(count_fds(), held.fds_base);
    cr_assert_eq(acio_transport_write(held.open_c, "x", 1) < 0, true);
    acio_transport_close(held.open_c);
    acio_transport_unref(held.open_c);
    acio_server_free(held.srv);
    acio_ssl_context_unref(held.sctx);
    acio_ssl_context_unref(held.cctx);
    close(held.listen_fd);
    close(held.unix_fd);
    certs_cleanup();
}
