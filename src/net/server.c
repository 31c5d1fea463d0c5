/* Servers: loop.create_server / create_unix_server and asyncio's Server object (start /
 * stop serving, serve_forever, close, wait_closed, close_clients, abort_clients).
 *
 * The accept loop takes up to `backlog` connections per readiness event, as asyncio's
 * _accept_connection does. When the process or system runs out of fds (EMFILE,
 * ENFILE) or memory, accepting pauses for accept_retry_delay seconds and then resumes:
 * the pending connections wait in the kernel's listen queue meanwhile, so none that the
 * kernel accepted is lost.
 *
 * Lifetime: the server's memory is shared by the user's handle (acio_server_free), each
 * connection it accepted (until that connection's connection_lost) and each task in
 * wait_closed / serve_forever, so it can be freed at any point without dangling. A server
 * still open when its loop closes is closed then (its listening sockets with it); the
 * user's acio_server_free() afterwards only releases the memory. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/fdwait.h"
#include "net/server_int.h"
#include "net/transport_int.h"
#include "tls/tls_int.h"

struct acio_server_s {
    acio_loop_t *loop;
    int refs;
    int *fds;
    size_t nfds;
    acio_protocol_factory factory;
    acio_protocol_release factory_release;
    void *factory_data;
    int backlog;
    double retry_delay;
    bool keep_alive;
    bool serving;    /* asked to serve (readers on unless paused) */
    bool readers_on; /* accept readers registered */
    bool closed;
    acio_transport_t *clients;
    size_t nclients;
    acio_future_t *forever;    /* serve_forever's future */
    acio_future_t *closed_fut; /* shared by wait_closed callers */
    acio_handle_t *retry;
    char *unix_path;
    dev_t unix_dev;
    ino_t unix_ino;
    acio_ssl_context_t *ssl;
    double ssl_handshake_timeout;
    void (*on_free)(void *);
    void *on_free_arg;
    acio__net_node_t reg; /* on the loop's registry until closed */
};

static void server_unref(acio_server_t *s)
{
    if (--s->refs > 0)
        return;
    acio__net_unregister(&s->reg);
    if (s->on_free)
        s->on_free(s->on_free_arg);
    if (s->closed_fut)
        acio_future_unref(s->closed_fut);
    acio_ssl_context_unref(s->ssl);
    acio__free(s->fds);
    acio__free(s->unix_path);
    acio__free(s);
}

static void report(acio_server_t *s, const char *msg, int code)
{
    acio_error_context_t ctx = {0};
    ctx.message = msg;
    ctx.code = code;
    acio_loop_call_exception_handler(s->loop, &ctx);
}

static void new_client(acio_server_t *s, int c)
{
    if (s->keep_alive) {
        int one = 1;
        setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    int rc;
    if (s->ssl) {
        rc = acio__tls_server_start(s->loop, c, s->factory, s->factory_data, s->ssl,
                                    s->ssl_handshake_timeout, s);
        if (rc < 0)
            report(s, "server: could not start TLS on an accepted connection", rc);
        return;
    }
    const acio_protocol_t *proto = NULL;
    void *pdata = NULL;
    rc = s->factory(s->factory_data, &proto, &pdata);
    if (rc < 0 || !proto) {
        close(c);
        report(s, "server: the protocol factory refused a connection", rc < 0 ? rc : -EINVAL);
        return;
    }
    acio_transport_t *t;
    rc = acio__sock_transport_new(s->loop, c, ACIO__ST_SOCKET, proto, pdata, &t);
    if (rc < 0) {
        close(c);
        acio__server_release_protocol(s, proto, pdata);
        report(s, "server: could not create a transport for an accepted connection", rc);
        return;
    }
    acio__server_add_client(s, t);
}

void acio__server_add_client(acio_server_t *s, acio_transport_t *t)
{
    t->server = s;
    t->srv_prev = NULL;
    t->srv_next = s->clients;
    if (s->clients)
        s->clients->srv_prev = t;
    s->clients = t;
    s->nclients++;
    s->refs++;
}

static void wakeup_closed(acio_server_t *s)
{
    if (s->closed && s->nclients == 0 && s->closed_fut) {
        acio_future_t *f = s->closed_fut;
        s->closed_fut = NULL;
        if (!acio_future_done(f))
            acio_future_set_result(f, NULL);
        acio_future_unref(f);
    }
}

void acio__server_client_lost(acio_server_t *s, acio_transport_t *t)
{
    if (t->srv_prev)
        t->srv_prev->srv_next = t->srv_next;
    else
        s->clients = t->srv_next;
    if (t->srv_next)
        t->srv_next->srv_prev = t->srv_prev;
    t->srv_prev = t->srv_next = NULL;
    s->nclients--;
    wakeup_closed(s);
    server_unref(s);
}

static void readers_off(acio_server_t *s)
{
    if (!s->readers_on)
        return;
    for (size_t i = 0; i < s->nfds; i++)
        acio_loop_remove_reader(s->loop, s->fds[i]);
    s->readers_on = false;
}

static void accept_ready(int fd, int events, void *arg);

static int readers_on(acio_server_t *s)
{
    if (s->readers_on || s->retry)
        return 0;
    for (size_t i = 0; i < s->nfds; i++) {
        int rc = acio_loop_add_reader(s->loop, s->fds[i], accept_ready, s);
        if (rc < 0) {
            for (size_t j = 0; j < i; j++)
                acio_loop_remove_reader(s->loop, s->fds[j]);
            return rc;
        }
    }
    s->readers_on = true;
    return 0;
}

static void retry_cb(void *arg);

/* Stop watching the listening sockets for retry_delay seconds. The timer is armed first:
 * if that fails (out of memory too), the sockets stay watched and accepting carries on
 * rather than stopping for good (the next readiness event tries again), and the
 * exception handler hears why. Returns the timer's error. */
static int pause_accepting(acio_server_t *s)
{
    int rc = acio_loop_call_later(s->loop, s->retry_delay, retry_cb, s, &s->retry);
    if (rc < 0) {
        s->retry = NULL;
        report(s, "server: could not arm the accept retry timer; accepting continues", rc);
        return rc;
    }
    readers_off(s);
    return 0;
}

static void retry_cb(void *arg)
{
    acio_server_t *s = arg;
    acio_handle_unref(s->retry);
    s->retry = NULL;
    if (!s->serving || s->closed)
        return;
    int rc = readers_on(s);
    if (rc < 0) {
        /* Registering the sockets again failed (out of memory, the epoll watch limit):
         * say so and try again after another delay rather than stop silently. */
        report(s, "server: could not resume accepting; retrying later", rc);
        if (pause_accepting(s) < 0) {
            /* Out of memory twice over: nothing is watching the sockets any more. Say so,
             * and let is_serving() tell the truth; start_serving() tries again. */
            s->serving = false;
            report(s, "server: stopped accepting; call acio_server_start_serving() to resume", rc);
        }
    }
}

static void accept_ready(int fd, int events, void *arg)
{
    (void)events;
    acio_server_t *s = arg;
    for (int i = 0; i < s->backlog && s->serving; i++) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
            new_client(s, c);
            continue;
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED || e == EPROTO)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK)
            return;
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
            /* Out of fds or memory: stop watching the listening sockets for a while
             * (they would stay readable and spin the loop) and try again later. */
            report(s, "server: accept() ran out of system resources; pausing accepting", -e);
            pause_accepting(s);
            return;
        }
        report(s, "server: accept() failed", -e);
        return;
    }
}

/* ---- creation ---- */

static void server_loop_closed(acio__net_node_t *n)
{
    acio_server_close(acio_container_of(n, acio_server_t, reg));
}

static int server_new(acio_loop_t *loop, acio_protocol_factory factory, void *fdata,
                      const acio_server_opts_t *opts, acio_server_t **out)
{
    acio_server_t *s = acio__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->refs = 1;
    s->factory = factory;
    s->factory_release = opts->factory_release;
    s->factory_data = fdata;
    s->backlog = opts->backlog > 0 ? opts->backlog : 100;
    s->retry_delay = opts->accept_retry_delay > 0 ? opts->accept_retry_delay : 1.0;
    s->keep_alive = opts->keep_alive;
    s->ssl = opts->ssl ? acio_ssl_context_ref(opts->ssl) : NULL;
    s->ssl_handshake_timeout = opts->ssl_handshake_timeout;
    int rc = acio__net_register(loop, &s->reg, server_loop_closed);
    if (rc < 0) {
        acio_ssl_context_unref(s->ssl);
        acio__free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int add_fd(acio_server_t *s, int fd)
{
    int *n = acio__realloc(s->fds, (s->nfds + 1) * sizeof(int));
    if (!n)
        return -ENOMEM;
    s->fds = n;
    s->fds[s->nfds++] = fd;
    return 0;
}

static void close_fds(acio_server_t *s)
{
    readers_off(s);
    for (size_t i = 0; i < s->nfds; i++)
        close(s->fds[i]);
    s->nfds = 0;
}

static int finish_create(acio_server_t *s, const acio_server_opts_t *opts, acio_server_t **out)
{
    if (!opts->delay_serving) {
        int rc = acio_server_start_serving(s);
        if (rc < 0)
            return rc;
    }
    *out = s;
    return 0;
}

static int listen_on(acio_server_t *s, struct addrinfo *ai, const acio_server_opts_t *opts,
                     int *chosen_port)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return errno == EAFNOSUPPORT ? 1 : -errno; /* 1: skip this family */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (opts->reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    /* Without V6ONLY, [::] would also take the IPv4 port and 0.0.0.0 would fail. */
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    struct sockaddr_storage ss;
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (*chosen_port) {
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)*chosen_port);
        else if (ss.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)*chosen_port);
    }
    if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) < 0) {
        int e = -errno;
        close(fd);
        /* asyncio: "error while attempting to bind on address" */
        return e;
    }
    if (listen(fd, s->backlog) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (*chosen_port == 0) {
        socklen_t sl = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
            *chosen_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    int rc = add_fd(s, fd);
    if (rc < 0)
        close(fd);
    return rc;
}

int acio_loop_create_server(acio_loop_t *loop, acio_server_t **out, acio_protocol_factory factory,
                            void *factory_data, const char *host, int port,
                            const acio_server_opts_t *opts)
{
    static const acio_server_opts_t defaults;
    if (!opts)
        opts = &defaults;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!out || !factory || port < 0 || port > 65535 || (opts->nhosts && !opts->hosts))
        return -EINVAL;
    *out = NULL;
    acio_server_t *s;
    if ((rc = server_new(loop, factory, factory_data, opts, &s)) < 0)
        return rc;
    size_t nh = opts->nhosts ? opts->nhosts : 1;
    int chosen = port;
    char pbuf[16];
    snprintf(pbuf, sizeof(pbuf), "%d", port);
    for (size_t h = 0; h < nh && rc >= 0; h++) {
        const char *name = opts->nhosts ? opts->hosts[h] : host;
        if (name && !*name)
            name = NULL; /* asyncio: '' means all interfaces */
        struct addrinfo hints = {0}, *res = NULL;
        hints.ai_family = opts->family;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | opts->flags;
        rc = acio_loop_getaddrinfo(loop, name, pbuf, &hints, &res, 0);
        if (rc < 0)
            break;
        for (struct addrinfo *ai = res; ai && rc >= 0; ai = ai->ai_next)
            rc = listen_on(s, ai, opts, &chosen);
        freeaddrinfo(res);
    }
    if (rc >= 0 && s->nfds == 0)
        rc = -EADDRNOTAVAIL;
    if (rc >= 0)
        rc = finish_create(s, opts, out);
    if (rc < 0) {
        close_fds(s);
        s->closed = true;
        server_unref(s);
        return rc;
    }
    return 0;
}

int acio_loop_create_unix_server(acio_loop_t *loop, acio_server_t **out,
                                 acio_protocol_factory factory, void *factory_data,
                                 const char *path, const acio_server_opts_t *opts)
{
    static const acio_server_opts_t defaults;
    if (!opts)
        opts = &defaults;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    struct sockaddr_un sun;
    socklen_t sl;
    if (!out || !factory || acio__unix_addr(path, &sun, &sl) < 0)
        return -EINVAL;
    *out = NULL;
    acio_server_t *s;
    if ((rc = server_new(loop, factory, factory_data, opts, &s)) < 0)
        return rc;
    bool abstract = path[0] == '@';
    struct stat st;
    /* A socket file left by a previous run would make bind fail (asyncio removes it). */
    if (!abstract && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto fail;
    }
    if (bind(fd, (struct sockaddr *)&sun, sl) < 0 || listen(fd, s->backlog) < 0) {
        rc = -errno;
        close(fd);
        goto fail;
    }
    if (!abstract) {
        if (stat(path, &st) == 0) {
            s->unix_dev = st.st_dev;
            s->unix_ino = st.st_ino;
        }
        if (!(s->unix_path = acio__strdup(path))) {
            rc = -ENOMEM;
            unlink(path);
            close(fd);
            goto fail;
        }
    }
    if ((rc = add_fd(s, fd)) < 0) {
        close(fd);
        goto fail;
    }
    if ((rc = finish_create(s, opts, out)) < 0)
        goto fail;
    return 0;
fail:
    close_fds(s);
    if (s->unix_path)
        unlink(s->unix_path);
    s->closed = true;
    server_unref(s);
    return rc;
}

/* ---- the Server object ---- */

int acio_server_start_serving(acio_server_t *s)
{
    if (!s)
        return -EINVAL;
    if (s->closed)
        return -EBADF;
    if (s->serving)
        return 0;
    int rc = readers_on(s);
    if (rc == 0)
        s->serving = true;
    return rc;
}

bool acio_server_is_serving(const acio_server_t *s)
{
    return s && s->serving && !s->closed;
}

void acio_server_close(acio_server_t *s)
{
    if (!s || s->closed)
        return;
    s->closed = true;
    s->serving = false;
    acio__net_unregister(&s->reg);
    close_fds(s);
    if (s->retry) {
        acio_handle_cancel(s->retry);
        acio_handle_unref(s->retry);
        s->retry = NULL;
    }
    if (s->unix_path) {
        /* Remove the file only if it is still ours (3.13's cleanup_socket check). */
        struct stat st;
        if (stat(s->unix_path, &st) == 0 && st.st_dev == s->unix_dev && st.st_ino == s->unix_ino)
            unlink(s->unix_path);
    }
    if (s->forever && !acio_future_done(s->forever))
        acio_future_set_result(s->forever, NULL);
    wakeup_closed(s);
}

static void for_each_client(acio_server_t *s, void (*fn)(acio_transport_t *))
{
    /* fn only schedules connection_lost, so the list does not change under us. */
    for (acio_transport_t *t = s->clients; t; t = t->srv_next)
        fn(t);
}

void acio_server_close_clients(acio_server_t *s)
{
    if (s)
        for_each_client(s, acio_transport_close);
}

void acio_server_abort_clients(acio_server_t *s)
{
    if (s)
        for_each_client(s, acio_transport_abort);
}

int acio_server_wait_closed(acio_server_t *s)
{
    if (!s)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (s->closed && s->nclients == 0)
        return 0;
    if (!s->closed_fut) {
        int rc = acio_future_new(s->loop, &s->closed_fut);
        if (rc < 0)
            return rc;
        acio_future_set_label(s->closed_fut, "server.wait_closed");
    }
    acio_future_t *f = acio_future_ref(s->closed_fut);
    s->refs++;
    int rc = acio_await(f, NULL);
    acio_future_unref(f);
    server_unref(s);
    return rc;
}

int acio_server_serve_forever(acio_server_t *s)
{
    if (!s)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (s->forever)
        return -EBUSY; /* asyncio: "server is already being awaited on serve_forever()" */
    if (s->closed)
        return -EBADF;
    int rc = acio_server_start_serving(s);
    if (rc < 0)
        return rc;
    if ((rc = acio_future_new(s->loop, &s->forever)) < 0)
        return rc;
    acio_future_set_label(s->forever, "server.serve_forever");
    s->refs++;
    rc = acio_await(s->forever, NULL);
    acio_future_unref(s->forever);
    s->forever = NULL;
    if (rc == -ECANCELED)
        acio_server_close(s); /* as asyncio's serve_forever does on CancelledError */
    server_unref(s);
    return rc;
}

size_t acio_server_sockets(const acio_server_t *s, int *fds, size_t cap)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < s->nfds && i < cap; i++)
        fds[i] = s->fds[i];
    return s->nfds;
}

int acio_server_port(const acio_server_t *s)
{
    if (!s || s->nfds == 0)
        return -EBADF;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(s->fds[0], (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}

size_t acio_server_active_count(const acio_server_t *s)
{
    return s ? s->nclients : 0;
}

acio_loop_t *acio_server_get_loop(const acio_server_t *s)
{
    return s ? s->loop : NULL;
}

void acio_server_free(acio_server_t *s)
{
    if (!s)
        return;
    acio_server_close(s);
    server_unref(s);
}

void acio__server_release_protocol(acio_server_t *s, const acio_protocol_t *proto, void *data)
{
    if (s->factory_release)
        s->factory_release(s->factory_data, proto, data);
}

void acio__server_set_free_hook(acio_server_t *s, void (*fn)(void *), void *arg)
{
    s->on_free = fn;
    s->on_free_arg = arg;
}
