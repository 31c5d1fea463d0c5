/* Misbehaving peers (docs/faults.md): a raw peer on a thread that, at one phase of a
 * connection, resets it (RST: SO_LINGER 0), half-closes it (FIN), sends garbage, or
 * stalls, against acio as the client (open_connection) and as the server (start_server),
 * over plain TCP streams and TLS. Phases: right after connect/accept; during the TLS
 * handshake after part of the peer's first flight (a record header's worth, and all of
 * it); mid-read (after part of a reply); mid-write (acio writing into a full socket
 * buffer the peer does not read); during shutdown (after acio closed its side).
 *
 * Each case checks that acio's side ends with one of the documented codes (-ECONNRESET,
 * -EPIPE, ACIO_ETLSHANDSHAKE / ACIO_ETLS for garbage over TLS, -ETIMEDOUT for a stall,
 * EOF), that nothing hangs (stalls are bounded by a timeout scope or the handshake
 * timeout), and that no fd is left open; the _asan build checks memory. The TLS peer
 * drives OpenSSL by hand over memory BIOs so it can stop anywhere in its handshake. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acio.h"
#include "support/certs.h"
#include "support/check.h"
#include "support/rc.h"
#include "support/fds.h"

enum { RST, FIN, GARBAGE, STALL, NACTS };
enum { P_CONNECT, P_HANDSHAKE_HEADER, P_HANDSHAKE_FLIGHT, P_READ, P_WRITE, P_SHUTDOWN, NPHASES };

static const char *const act_names[NACTS] = {"RST", "FIN", "garbage", "stall"};
static const char *const phase_names[NPHASES] = {
    "connect", "handshake (5 bytes)", "handshake (whole flight)", "read", "write", "shutdown"};

#define BIG_WRITE   (8u << 20) /* more than both socket buffers hold */
#define STALL_LIMIT 0.6        /* how long acio's side waits on a stalled peer */

typedef struct {
    int phase, act;
    bool tls;
    bool peer_is_server;
    int fd;      /* the peer's socket */
    int lfd;     /* peer as server: its listening socket */
    int port;    /* peer as client: acio's port */
    int stop[2]; /* a pipe: the test writes when acio's side is done */
    pthread_t th;
} peer_t;

static SSL_CTX *peer_ctx[2]; /* [0] client role, [1] server role */

/* ---- the raw peer ---- */

static void wait_stop(peer_t *p)
{
    struct pollfd pfd = {p->stop[0], POLLIN, 0};
    poll(&pfd, 1, 10000);
}

/* Read and drop whatever acio sends until it closes or the test is done, so that acio's
 * writes complete (used after FIN and in the non-stalling phases). */
static void drain_until_stop(peer_t *p)
{
    char buf[4096];
    for (;;) {
        struct pollfd pfd[2] = {{p->stop[0], POLLIN, 0}, {p->fd, POLLIN, 0}};
        if (poll(pfd, 2, 10000) <= 0 || pfd[0].revents)
            return;
        if (recv(p->fd, buf, sizeof buf, 0) <= 0)
            return;
    }
}

static void misbehave(peer_t *p)
{
    static const char garbage[] = "\x15\x03\x03\x00\x02garbage that is no TLS record and no line";
    switch (p->act) {
    case RST: {
        struct linger lg = {1, 0};
        setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(p->fd);
        p->fd = -1;
        return;
    }
    case FIN:
        shutdown(p->fd, SHUT_WR);
        drain_until_stop(p);
        return;
    case GARBAGE:
        send(p->fd, garbage, sizeof garbage - 1, MSG_NOSIGNAL);
        shutdown(p->fd, SHUT_WR); /* a plain reader then sees the end of it */
        drain_until_stop(p);
        return;
    case STALL:
        wait_stop(p);
        return;
    }
}

/* Run the handshake over memory BIOs until the peer has output to send (its first
 * flight), send `limit` bytes of it, and return. */
static void partial_handshake(peer_t *p, SSL *ssl, size_t limit)
{
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rb, -1); /* empty means "more to come", not EOF */
    SSL_set_bio(ssl, rb, wb);
    if (p->peer_is_server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    char buf[16384];
    for (int i = 0; i < 100; i++) {
        SSL_do_handshake(ssl);
        if (BIO_ctrl_pending(wb) > 0)
            break;
        ssize_t n = recv(p->fd, buf, sizeof buf, 0);
        if (n <= 0)
            return;
        BIO_write(rb, buf, (int)n);
    }
    int n = BIO_read(wb, buf, sizeof buf);
    if (n > 0)
        send(p->fd, buf, (size_t)n < limit ? (size_t)n : limit, MSG_NOSIGNAL);
}

static void *peer_main(void *arg)
{
    peer_t *p = arg;
    if (p->peer_is_server) {
        p->fd = accept(p->lfd, NULL, NULL);
    } else {
        p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)p->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(p->fd, (struct sockaddr *)&a, sizeof a) < 0) {
            close(p->fd);
            p->fd = -1;
        }
    }
    if (p->fd < 0)
        return NULL;
    SSL *ssl = p->tls ? SSL_new(peer_ctx[p->peer_is_server]) : NULL;
    char buf[64];
    if (p->phase == P_CONNECT) {
        misbehave(p);
    } else if (p->phase == P_HANDSHAKE_HEADER || p->phase == P_HANDSHAKE_FLIGHT) {
        partial_handshake(p, ssl, p->phase == P_HANDSHAKE_HEADER ? 5 : SIZE_MAX);
        misbehave(p);
    } else {
        /* A complete handshake, then the exchange up to the phase. */
        if (ssl) {
            SSL_set_fd(ssl, p->fd);
            if ((p->peer_is_server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1)
                goto out;
        }
        if (p->phase == P_READ) {
            /* The request (acio as client) or nothing (acio as server), then half a
             * reply or half a request. */
            if (p->peer_is_server &&
                (ssl ? SSL_read(ssl, buf, sizeof buf) : recv(p->fd, buf, sizeof buf, 0)) <= 0)
                goto out;
            if (ssl)
                SSL_write(ssl, "po", 2);
            else
                send(p->fd, "po", 2, MSG_NOSIGNAL);
            misbehave(p);
        } else if (p->phase == P_WRITE) {
            usleep(100 * 1000); /* acio's side fills the buffers meanwhile */
            misbehave(p);
        } else { /* P_SHUTDOWN: wait for acio's "bye", then misbehave */
            if ((ssl ? SSL_read(ssl, buf, sizeof buf) : recv(p->fd, buf, sizeof buf, 0)) <= 0)
                goto out;
            misbehave(p);
        }
    }
out:
    if (p->fd >= 0 && p->act != STALL)
        wait_stop(p);
    SSL_free(ssl);
    if (p->fd >= 0)
        close(p->fd);
    return NULL;
}

/* ---- acio's side ---- */

static bool code_in(int rc, const int *ok, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ok[i] == rc)
            return true;
    return false;
}

/* What acio's side may end with in each case (0: completed; 1: EOF or partial data). */
static bool acceptable(const peer_t *p, int rc)
{
    static const int reset[] = {-ECONNRESET, -EPIPE};
    static const int hs_fail[] = {-ECONNRESET, ACIO_ETLSHANDSHAKE};
    if (p->act == STALL) {
        static const int ok[] = {-ETIMEDOUT, 0, 1};
        /* A stalled peer: acio gives up after its timeout (the handshake's or ours), or,
         * where it needed nothing from the peer, completes. */
        return code_in(rc, ok, 3);
    }
    if (p->tls && p->phase <= P_HANDSHAKE_FLIGHT) {
        /* The handshake fails: reset, or a protocol error for garbage; a whole server
         * flight followed by RST/FIN/garbage can let a TLS 1.3 client finish first, and
         * then its read sees the reset, the end or a bad record. */
        if (code_in(rc, hs_fail, 2))
            return true;
        return p->phase == P_HANDSHAKE_FLIGHT &&
               (rc == 1 || code_in(rc, reset, 2) || (p->act == FIN && rc == -ENOTCONN) ||
                (p->act == GARBAGE && rc == ACIO_ETLS));
    }
    switch (p->act) {
    case RST:
        /* The reset reaches a read or a write; after our close it may not matter. */
        /* A reset at connect may also come before the server accepts: the kernel then
         * drops the connection and the handler never runs (rc stays 0). */
        return code_in(rc, reset, 2) || (p->phase == P_SHUTDOWN && rc == 0) ||
               (p->phase == P_CONNECT && (rc == 1 || rc == 0));
    case FIN:
        /* EOF (with whatever came before it); a writer blocked on the peer times out.
         * TLS has no half-close: after the peer's FIN the transport is closing, and a
         * write says so (-ENOTCONN). */
        return rc == 1 || rc == 0 || (p->phase == P_WRITE && rc == -ETIMEDOUT) ||
               (p->tls && (code_in(rc, reset, 2) || rc == -ENOTCONN));
    case GARBAGE:
        /* Plain: garbage is data, then EOF. TLS: a protocol error. */
        if (p->tls)
            return rc == ACIO_ETLS || (p->phase == P_SHUTDOWN && rc == 0) ||
                   (p->phase == P_WRITE && (rc == -ETIMEDOUT || rc == 0));
        return rc == 1 || rc == 0 || (p->phase == P_WRITE && rc == -ETIMEDOUT);
    }
    return false;
}

/* One side's exchange for a phase, bounded by a timeout scope. Returns 0, 1 (EOF or a
 * short answer), or the error code. */
static int exchange(acio_stream_reader_t *r, acio_stream_writer_t *w, const peer_t *p,
                    bool acio_is_client)
{
    acio_timeout_t to;
    int rc = acio_timeout_enter(&to, STALL_LIMIT);
    if (rc < 0)
        return rc;
    char line[128];
    ssize_t n = 0;
    if (p->phase == P_WRITE) {
        static char big[BIG_WRITE];
        rc = acio_stream_writer_write(w, big, sizeof big);
        if (rc == 0)
            rc = acio_stream_writer_drain(w);
    } else if (p->phase == P_SHUTDOWN) {
        rc = acio_stream_writer_write(w, "bye\n", 4);
        acio_stream_writer_close(w);
        int rc2 = acio_stream_writer_wait_closed(w);
        if (rc == 0)
            rc = rc2;
    } else {
        if (acio_is_client || p->phase == P_CONNECT)
            rc = acio_stream_writer_write(w, "ping\n", 5);
        if (rc == 0) {
            n = acio_stream_reader_readline(r, line, sizeof line);
            rc = n < 0 ? (int)n : n == 5 ? 0 : 1;
        }
    }
    rc = acio_timeout_exit(&to, rc);
    if (rc == ACIO_EINCOMPLETEREAD)
        rc = 1;
    return rc;
}

/* Failed cases, reported together at the end of a matrix. */
static char failures[8192];
static int nfailures;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            size_t used_ = strlen(failures);                                                       \
            nfailures++;                                                                           \
            snprintf(failures + used_, sizeof failures - used_, __VA_ARGS__);                      \
            used_ = strlen(failures);                                                              \
            snprintf(failures + used_, sizeof failures - used_, "\n");                             \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

static peer_t *current;
static int server_rc, server_runs;

static void *server_handler(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    server_runs++;
    server_rc = exchange(r, w, current, false);
    return NULL;
}

static acio_ssl_context_t *ctx_for(bool server)
{
    acio_ssl_context_t *c = NULL;
    if (acio_ssl_context_new(&c, server ? ACIO_SSL_SERVER : ACIO_SSL_CLIENT) < 0)
        return NULL;
    int rc = server ? acio_ssl_context_load_cert_chain(c, certs.cert, certs.key)
                    : acio_ssl_context_load_verify_locations(c, certs.ca, NULL);
    if (rc < 0) {
        acio_ssl_context_unref(c);
        return NULL;
    }
    return c;
}

static void *acio_client_main(void *arg)
{
    peer_t *p = arg;
    acio_ssl_context_t *c = p->tls ? ctx_for(false) : NULL;
    acio_connection_opts_t co = {
        .ssl = c, .server_hostname = c ? "localhost" : NULL, .ssl_handshake_timeout = STALL_LIMIT};
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    int rc = acio_open_connection(&r, &w, "127.0.0.1", p->port, 0, &co);
    acio_ssl_context_unref(c);
    if (rc == 0) {
        rc = exchange(r, w, p, true);
        acio_stream_writer_close(w);
        UNCHECKED(acio_stream_writer_wait_closed(w));
        acio_stream_reader_unref(r);
        acio_stream_writer_unref(w);
    }
    if (write(p->stop[1], "x", 1) != 1)
        return acio_raise(-EIO, "stop pipe");
    EXPECT(acceptable(p, rc), "acio client, %s peer, %s at %s: %s", p->tls ? "TLS" : "plain",
           act_names[p->act], phase_names[p->phase], rc == 1 ? "EOF" : acio_err_name(rc));
    return NULL;
}

static void *acio_server_main(void *arg)
{
    peer_t *p = arg;
    current = p;
    server_rc = 0;
    server_runs = 0;
    acio_ssl_context_t *c = p->tls ? ctx_for(true) : NULL;
    acio_server_opts_t so = {.ssl = c, .ssl_handshake_timeout = STALL_LIMIT};
    acio_server_t *srv;
    int rc = acio_start_server(&srv, server_handler, NULL, "127.0.0.1", 0, 0, &so);
    acio_ssl_context_unref(c);
    CHECK(rc == 0, "start_server: %s", acio_strerror(rc));
    p->port = acio_server_port(srv);
    pthread_create(&p->th, NULL, peer_main, p);
    /* The connection ends one way or another; then the server has no client left. */
    for (int i = 0; i < 3000 && (acio_server_active_count(srv) > 0 || server_runs == 0); i++) {
        UNCHECKED(acio_sleep(0.001));
        if (i > 200 && server_runs == 0 && acio_server_active_count(srv) == 0)
            break; /* a failed handshake: the handler never runs */
    }
    if (write(p->stop[1], "x", 1) != 1)
        return acio_raise(-EIO, "stop pipe");
    acio_server_close(srv);
    acio_server_close_clients(srv);
    UNCHECKED(acio_server_wait_closed(srv));
    acio_server_free(srv);
    bool hs_phase = p->tls && p->phase <= P_HANDSHAKE_FLIGHT;
    if (server_runs == 0) {
        /* Only a TLS handshake that failed keeps the handler from running. */
        EXPECT(hs_phase, "acio server, %s at %s: the handler never ran", act_names[p->act],
               phase_names[p->phase]);
        return NULL;
    }
    int r = server_rc;
    /* What the server can see is the client's side of the same cases; a peer client
     * stalling before it sends anything leaves the handler's read to time out. */
    EXPECT(acceptable(p, r) || (p->phase == P_WRITE && r == 0) ||
               (hs_phase && code_in(r, (const int[]){-ECONNRESET, -EPIPE, 1, 0}, 4)),
           "acio server, %s peer, %s at %s: %s", p->tls ? "TLS" : "plain", act_names[p->act],
           phase_names[p->phase], r == 1 ? "EOF" : acio_err_name(r));
    return NULL;
}

static void run_case(int phase, int act, bool tls, bool acio_is_server)
{
    int before = count_fds();
    peer_t p = {.phase = phase, .act = act, .tls = tls, .peer_is_server = !acio_is_server};
    cr_assert_eq(pipe(p.stop), 0);
    if (!acio_is_server) {
        p.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        cr_assert(bind(p.lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(p.lfd, 4) == 0);
        getsockname(p.lfd, (struct sockaddr *)&a, &al);
        p.port = ntohs(a.sin_port);
        pthread_create(&p.th, NULL, peer_main, &p);
    }
    run_ok(acio_is_server ? acio_server_main : acio_client_main, &p);
    pthread_join(p.th, NULL);
    if (!acio_is_server)
        close(p.lfd);
    close(p.stop[0]);
    close(p.stop[1]);
    cr_assert_eq(count_fds(), before, "%s, %s at %s: fds leaked (%d before, %d after)",
                 acio_is_server ? "server" : "client", act_names[act], phase_names[phase], before,
                 count_fds());
}

static void run_matrix(bool tls, bool acio_is_server)
{
    /* The peer's OpenSSL writes with write(2): a peer acio has reset must not kill the
     * test with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (tls) {
        if (!have_tls())
            cr_skip_test("acio was built without OpenSSL");
        certs_make("hostile");
        peer_ctx[1] = SSL_CTX_new(TLS_server_method());
        SSL_CTX_use_certificate_chain_file(peer_ctx[1], certs.cert);
        SSL_CTX_use_PrivateKey_file(peer_ctx[1], certs.key, SSL_FILETYPE_PEM);
        peer_ctx[0] = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(peer_ctx[0], SSL_VERIFY_NONE, NULL);
    }
    for (int phase = 0; phase < NPHASES; phase++) {
        if (!tls && (phase == P_HANDSHAKE_HEADER || phase == P_HANDSHAKE_FLIGHT))
            continue;
        for (int act = 0; act < NACTS; act++)
            run_case(phase, act, tls, acio_is_server);
    }
    cr_expect_eq(nfailures, 0, "%d cases failed:\n%s", nfailures, failures);
    if (tls) {
        SSL_CTX_free(peer_ctx[0]);
        SSL_CTX_free(peer_ctx[1]);
        certs_cleanup();
    }
}

Test(hostile_peer, acio_client_plain, .timeout = 120)
{
    run_matrix(false, false);
}

Test(hostile_peer, acio_client_tls, .timeout = 120)
{
    run_matrix(true, false);
}

Test(hostile_peer, acio_server_plain, .timeout = 120)
{
    run_matrix(false, true);
}

Test(hostile_peer, acio_server_tls, .timeout = 120)
{
    run_matrix(true, true);
}
