/* The fault sweep (docs/faults.md): each scenario below runs once to count its
 * allocations and system calls, then once per call with that call failing, each run in a
 * forked child, which must not crash, hang, leak memory (LeakSanitizer in the _asan
 * build) or fds, nor break a documented promise. `make test` runs a bounded sweep (the
 * first calls of each kind, then a sample); ACIO_FAULT_SWEEP=full runs every call.
 *
 * The scenarios: TCP streams echo, transports and protocols (with the promises checked
 * by the protocol itself), UDP, Unix sockets, TLS echo, a subprocess with pipes and
 * communicate(), the executor (to_thread), DNS through the executor. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/certs.h"
#include "support/check.h"
#include "support/rc.h"
#include "support/fault.h"

/* The sweep of one scenario: assert that no run failed, listing the first failures. */
static void sweep(const char *name, fault_scenario_fn fn, void *arg, unsigned kinds, long points)
{
    static char report[4096];
    fault_sweep_opts_t o = {.kinds = kinds, .max_points = points};
    int failed = fault_sweep(name, fn, arg, &o, report, sizeof report);
    cr_assert_eq(failed, 0, "%d runs of %s failed:\n%s", failed, name, report);
}

/* Run main as the program's main task; its result is the scenario's. The error
 * message, if any, goes to stderr (the sweep shows it when a run fails). */
static int run_main(acio_coro_fn main_fn, void *arg)
{
    char *msg = NULL;
    int rc = acio_run_ex(main_fn, arg, NULL, &msg);
    if (rc < 0 && msg)
        fprintf(stderr, "scenario: %s: %s\n", acio_err_name(rc), msg);
    free(msg);
    return rc;
}

/* A quiet exception handler: injected failures are reported there, which is expected. */
static void quiet(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop, (void)ctx, (void)data;
}

static void set_quiet(void)
{
    acio_loop_set_exception_handler(acio_get_running_loop(), quiet, NULL);
}

static const char message[] = "the quick brown fox jumps over the lazy dog\n";

/* ---- TCP / Unix / TLS streams: an echo server and one client ---- */

static void *echo_handler(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)arg;
    char buf[256];
    ssize_t n;
    while ((n = acio_stream_reader_read(r, buf, sizeof buf)) > 0) {
        if (acio_stream_writer_write(w, buf, (size_t)n) < 0 || acio_stream_writer_drain(w) < 0)
            break;
    }
    acio_stream_writer_close(w);
    UNCHECKED(acio_stream_writer_wait_closed(w));
    return NULL;
}

typedef struct {
    int family; /* AF_INET or AF_UNIX */
    bool tls;
    char path[108];
} stream_arg_t;

static void *stream_echo_main(void *arg)
{
    stream_arg_t *a = arg;
    set_quiet();
    acio_ssl_context_t *sctx = NULL, *cctx = NULL;
    int rc = 0;
    if (a->tls) {
        if ((rc = acio_ssl_context_new(&sctx, ACIO_SSL_SERVER)) < 0 ||
            (rc = acio_ssl_context_load_cert_chain(sctx, certs.cert, certs.key)) < 0 ||
            (rc = acio_ssl_context_new(&cctx, ACIO_SSL_CLIENT)) < 0 ||
            (rc = acio_ssl_context_load_verify_locations(cctx, certs.ca, NULL)) < 0) {
            acio_ssl_context_unref(sctx);
            acio_ssl_context_unref(cctx);
            return acio_raise(rc, "contexts");
        }
    }
    acio_server_opts_t so = {.ssl = sctx, .accept_retry_delay = 0.01};
    acio_server_t *srv = NULL;
    rc = a->family == AF_UNIX ? acio_start_unix_server(&srv, echo_handler, NULL, a->path, 0, &so)
                              : acio_start_server(&srv, echo_handler, NULL, "127.0.0.1", 0, 0, &so);
    acio_ssl_context_unref(sctx);
    if (rc < 0) {
        acio_ssl_context_unref(cctx);
        return acio_raise(rc, "start_server");
    }
    acio_connection_opts_t co = {.ssl = cctx, .server_hostname = cctx ? "localhost" : NULL};
    acio_stream_reader_t *r = NULL;
    acio_stream_writer_t *w = NULL;
    rc = a->family == AF_UNIX
             ? acio_open_unix_connection(&r, &w, a->path, 0, &co)
             : acio_open_connection(&r, &w, "127.0.0.1", acio_server_port(srv), 0, &co);
    acio_ssl_context_unref(cctx);
    void *res = NULL;
    if (rc == 0) {
        char back[sizeof message];
        size_t got = 0;
        rc = acio_stream_writer_write(w, message, sizeof message - 1);
        if (rc == 0)
            rc = acio_stream_writer_drain(w);
        if (rc == 0)
            rc = acio_stream_reader_readexactly(r, back, sizeof message - 1, &got);
        if (rc == 0 && memcmp(back, message, sizeof message - 1) != 0)
            fault_violation("the echo differs from what was sent");
        acio_stream_writer_close(w);
        int rc2 = acio_stream_writer_wait_closed(w);
        if (rc == 0)
            rc = rc2;
        acio_stream_reader_unref(r);
        acio_stream_writer_unref(w);
    }
    if (rc < 0)
        res = acio_raise(rc, "client");
    acio_server_close(srv);
    acio_server_close_clients(srv);
    UNCHECKED(acio_server_wait_closed(srv));
    acio_server_free(srv);
    return res;
}

static int stream_echo(void *arg)
{
    return run_main(stream_echo_main, arg);
}

Test(fault_sweep, tcp_streams_echo, .timeout = 600)
{
    stream_arg_t a = {.family = AF_INET};
    sweep("tcp streams echo", stream_echo, &a, FAULT_ALL & ~FAULT_BIT(FAULT_SSL_ALLOC), 0);
}

Test(fault_sweep, unix_streams_echo, .timeout = 600)
{
    stream_arg_t a = {.family = AF_UNIX};
    snprintf(a.path, sizeof a.path, "@acio-fault-%d", (int)getpid());
    sweep("unix streams echo", stream_echo, &a, FAULT_ALL & ~FAULT_BIT(FAULT_SSL_ALLOC), 0);
}

Test(fault_sweep, tls_streams_echo, .timeout = 900)
{
    if (!have_tls())
        cr_skip_test("acio was built without OpenSSL");
    certs_make("fault");
    stream_arg_t a = {.family = AF_INET, .tls = true};
    sweep("tls streams echo", stream_echo, &a, 0, 0);
    certs_cleanup();
}

/* ---- transports and protocols, the protocol checking the promises ---- */

/* One connection's protocol state; checks the callback order transport.h promises. */
typedef struct {
    const char *side;
    int made, lost, eofs;
    size_t received;
    bool dead;    /* the call that created it returned an error: nothing may follow */
    bool aborted; /* we called abort: buffered data may be dropped */
    bool heap;    /* a server's: freed in connection_lost or factory_release */
    acio_transport_t *t;
} chk_t;

static void chk_event(chk_t *c, const char *what)
{
    if (c->dead)
        fault_violation("%s: %s after create_connection returned an error", c->side, what);
    if (c->lost)
        fault_violation("%s: %s after connection_lost", c->side, what);
}

static void chk_made(acio_transport_t *t, void *d)
{
    chk_t *c = d;
    chk_event(c, "connection_made");
    if (c->made++)
        fault_violation("%s: connection_made twice", c->side);
    c->t = t;
}

static void chk_data(acio_transport_t *t, const void *buf, size_t len, void *d)
{
    chk_t *c = d;
    chk_event(c, "data_received");
    if (!c->made)
        fault_violation("%s: data_received before connection_made", c->side);
    c->received += len;
    /* The server echoes; a failed write already ended the connection (lost follows). */
    if (c->heap && acio_transport_write(t, buf, len) < 0)
        return;
}

static bool chk_eof(acio_transport_t *t, void *d)
{
    (void)t;
    chk_t *c = d;
    chk_event(c, "eof_received");
    if (!c->made || c->eofs++)
        fault_violation("%s: eof_received out of order", c->side);
    return false;
}

static void chk_lost(acio_transport_t *t, int err, void *d)
{
    chk_t *c = d;
    chk_event(c, "connection_lost");
    if (!c->made)
        fault_violation("%s: connection_lost without connection_made", c->side);
    c->lost++;
    /* A clean close (error 0) that we did not abort sent everything that was accepted. */
    if (err == 0 && !c->aborted && acio_transport_get_write_buffer_size(t) != 0)
        fault_violation("%s: connection_lost(0) with %zu accepted bytes unsent", c->side,
                        acio_transport_get_write_buffer_size(t));
    if (c->heap)
        free(c);
}

static const acio_protocol_t chk_proto = {
    .connection_made = chk_made,
    .data_received = chk_data,
    .eof_received = chk_eof,
    .connection_lost = chk_lost,
};

static int chk_factory(void *fd, const acio_protocol_t **p, void **d)
{
    (void)fd;
    chk_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->side = "server";
    c->heap = true;
    *p = &chk_proto;
    *d = c;
    return 0;
}

static void chk_release(void *fd, const acio_protocol_t *p, void *d)
{
    (void)fd, (void)p;
    chk_t *c = d;
    if (c->made)
        fault_violation("server: factory_release after connection_made");
    free(c);
}

static void *protocols_main(void *arg)
{
    (void)arg;
    set_quiet();
    acio_server_opts_t so = {.factory_release = chk_release, .accept_retry_delay = 0.01};
    acio_server_t *srv;
    int rc = acio_loop_create_server(NULL, &srv, chk_factory, NULL, "127.0.0.1", 0, &so);
    if (rc < 0)
        return acio_raise(rc, "create_server");
    chk_t c = {.side = "client"};
    acio_transport_t *t = NULL;
    rc = acio_loop_create_connection(NULL, &t, &chk_proto, &c, "127.0.0.1", acio_server_port(srv),
                                     NULL);
    if (rc < 0) {
        c.dead = true;
    } else {
        if (acio_transport_write(t, message, sizeof message - 1) == 0)
            acio_transport_write_eof(t);
        /* The server echoes and closes on EOF; wait for our connection_lost. */
        for (int i = 0; i < 2000 && !c.lost; i++)
            UNCHECKED(acio_sleep(0.001));
        if (!c.lost) {
            c.aborted = true;
            acio_transport_abort(t);
        }
        acio_transport_unref(t);
    }
    acio_server_close(srv);
    acio_server_abort_clients(srv);
    UNCHECKED(acio_server_wait_closed(srv));
    acio_server_free(srv);
    for (int i = 0; i < 3; i++) /* let anything wrongly queued run into the checks */
        UNCHECKED(acio_sleep(0));
    return rc < 0 ? acio_raise(rc, "create_connection") : NULL;
}

static int protocols(void *arg)
{
    return run_main(protocols_main, arg);
}

Test(fault_sweep, transports_and_protocols, .timeout = 600)
{
    sweep("transports and protocols", protocols, NULL, FAULT_ALL & ~FAULT_BIT(FAULT_SSL_ALLOC), 0);
}

/* ---- UDP ---- */

typedef struct {
    int got;
    acio_future_t *done;
} udp_state_t;

static void udp_received(acio_transport_t *t, const void *buf, size_t len,
                         const struct sockaddr *addr, socklen_t alen, void *d)
{
    udp_state_t *s = d;
    (void)buf;
    s->got++;
    UNCHECKED(acio_transport_sendto(t, buf, len, addr, alen)); /* echo */
}

static void udp_client_received(acio_transport_t *t, const void *buf, size_t len,
                                const struct sockaddr *addr, socklen_t alen, void *d)
{
    (void)t, (void)buf, (void)len, (void)addr, (void)alen;
    udp_state_t *s = d;
    s->got++;
    if (s->done && !acio_future_done(s->done))
        acio_future_set_result(s->done, NULL);
}

static const acio_datagram_protocol_t udp_server_proto = {.datagram_received = udp_received};
static const acio_datagram_protocol_t udp_client_proto = {.datagram_received = udp_client_received};

static void *udp_main(void *arg)
{
    (void)arg;
    set_quiet();
    udp_state_t ss = {0}, cs = {0};
    acio_datagram_opts_t so = {.local_host = "127.0.0.1"};
    acio_transport_t *server = NULL, *client = NULL;
    int rc = acio_loop_create_datagram_endpoint(NULL, &server, &udp_server_proto, &ss, &so);
    if (rc < 0)
        return acio_raise(rc, "server endpoint");
    struct sockaddr_in sa;
    size_t sl = sizeof sa;
    rc = acio_transport_get_extra_info(server, "sockname", &sa, &sl);
    if (rc == 0) {
        acio_datagram_opts_t co = {.remote_host = "127.0.0.1", .remote_port = ntohs(sa.sin_port)};
        rc = acio_loop_create_datagram_endpoint(NULL, &client, &udp_client_proto, &cs, &co);
    }
    const char *step = "endpoints";
    if (rc == 0 && (step = "future", 1))
        rc = acio_future_new(acio_get_running_loop(), &cs.done);
    if (rc == 0 && (step = "sendto", 1))
        rc = acio_transport_sendto(client, message, sizeof message - 1, NULL, 0);
    if (rc == 0 && (step = "wait", 1)) {
        /* A datagram may be lost (an injected send failure): do not wait for ever. */
        rc = acio_wait_for(cs.done, 2.0, NULL);
    }
    if (cs.done)
        acio_future_unref(cs.done);
    acio_transport_close(client);
    acio_transport_close(server);
    acio_transport_unref(client);
    acio_transport_unref(server);
    UNCHECKED(acio_sleep(0));
    return rc < 0 ? acio_raise(rc, "udp: %s", step) : NULL;
}

static int udp(void *arg)
{
    return run_main(udp_main, arg);
}

Test(fault_sweep, udp, .timeout = 600)
{
    sweep("udp", udp, NULL, FAULT_ALL & ~FAULT_BIT(FAULT_SSL_ALLOC), 0);
}

/* ---- subprocess with pipes and communicate() ---- */

static void *subprocess_main(void *arg)
{
    (void)arg;
    set_quiet();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE,
                                .stderr_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    const char *argv[] = {"/bin/cat", NULL};
    int rc = acio_create_subprocess_exec(&p, argv, &o);
    if (rc < 0)
        return acio_raise(rc, "spawn");
    void *out = NULL, *err = NULL;
    size_t ol = 0, el = 0;
    rc = acio_process_communicate(p, message, sizeof message - 1, &out, &ol, &err, &el);
    /* cat echoes what it got. Without a fault that is everything; a write failing with
     * EPIPE (injected) is not an error for communicate(), as in Python (the child
     * stopped reading), so then it may be a part. */
    if (rc == 0 && (ol > sizeof message - 1 || memcmp(out, message, ol) != 0 ||
                    (!fault_fired() && ol != sizeof message - 1)))
        fault_violation("communicate: cat echoed %zu bytes, not the %zu sent", ol,
                        sizeof message - 1);
    free(out);
    free(err);
    if (rc < 0) {
        /* The child may still run (its pipes broke): end it. */
        acio_process_kill(p);
    }
    int code = 0;
    int rc2 = acio_process_wait(p, &code);
    acio_process_free(p);
    if (rc == 0)
        rc = rc2;
    return rc < 0 ? acio_raise(rc, "communicate") : NULL;
}

static int subprocess(void *arg)
{
    return run_main(subprocess_main, arg);
}

Test(fault_sweep, subprocess_communicate, .timeout = 600)
{
    sweep("subprocess", subprocess, NULL, FAULT_ALL & ~FAULT_BIT(FAULT_SSL_ALLOC), 0);
}

/* ---- the executor and DNS ---- */

static void *square(void *arg, acio_job_t *job)
{
    (void)job;
    long *v = arg;
    *v = *v * *v;
    return v;
}

static void *executor_main(void *arg)
{
    (void)arg;
    set_quiet();
    long v[3] = {2, 3, 4};
    for (int i = 0; i < 3; i++) {
        void *res = NULL;
        int rc = acio_to_thread(square, &v[i], &res);
        if (rc < 0)
            return acio_raise(rc, "to_thread");
        if (res != &v[i] || v[i] != (i + 2) * (i + 2))
            fault_violation("to_thread: wrong result");
    }
    /* DNS through the executor: a name, not a number. */
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = acio_loop_getaddrinfo(NULL, "localhost", "80", &hints, &res, 5.0);
    if (rc == 0)
        freeaddrinfo(res);
    return rc < 0 ? acio_raise(rc, "getaddrinfo") : NULL;
}

static int executor(void *arg)
{
    return run_main(executor_main, arg);
}

Test(fault_sweep, executor_and_dns, .timeout = 600)
{
    sweep("executor and dns", executor, NULL, FAULT_ALL & ~FAULT_BIT(FAULT_SSL_ALLOC), 0);
}
