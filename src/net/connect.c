/* Client connections: loop.create_connection (with happy eyeballs), create_unix_connection
 * and connect_accepted_socket. They resolve, connect the socket inside the calling task,
 * then hand it to a socket transport and wait until connection_made has run, so that
 * the caller sees the same order of events as in asyncio.
 *
 * Happy eyeballs (RFC 8305, asyncio's staggered_race) is done without extra tasks: the
 * task keeps every attempt in flight in one array, waits on one future that any of
 * their sockets becoming writable (or the stagger timer, or the overall deadline)
 * completes, and starts the next address when the delay passes with no winner. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/fdwait.h"
#include "net/transport_int.h"
#include "tls/tls_int.h"

#define WAKE_TIMER    ((void *)1)
#define WAKE_DEADLINE ((void *)2)
#define WAKE_IO       ((void *)3)

typedef struct {
    int fd;
    bool ready;
    acio_future_t **wake;
} attempt_t;

static void attempt_ready(int fd, int events, void *arg)
{
    (void)fd;
    (void)events;
    attempt_t *a = arg;
    a->ready = true;
    if (*a->wake && !acio_future_done(*a->wake))
        acio_future_set_result(*a->wake, WAKE_IO);
}

static void wake_timer(void *arg)
{
    acio_future_t *f = arg;
    if (!acio_future_done(f))
        acio_future_set_result(f, WAKE_TIMER);
}

static void wake_deadline(void *arg)
{
    acio_future_t *f = arg;
    if (!acio_future_done(f))
        acio_future_set_result(f, WAKE_DEADLINE);
}

/* Bind fd to the first of the local addresses with its family that works. */
static int bind_local(int fd, int family, struct addrinfo *local)
{
    int err = -EADDRNOTAVAIL;
    bool any = false;
    for (struct addrinfo *l = local; l; l = l->ai_next) {
        if (l->ai_family != family)
            continue;
        any = true;
        if (bind(fd, l->ai_addr, l->ai_addrlen) == 0)
            return 0;
        err = -errno;
    }
    /* asyncio: "no matching local address with family=%d found". */
    return any ? err : -EADDRNOTAVAIL;
}

/* Start connecting to ai. Returns 1 if connected at once (*fd set), 0 if in progress
 * (*fd set), or a negative code (no fd). */
static int start_attempt(struct addrinfo *ai, struct addrinfo *local, int *fd)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0)
        return -errno;
    int rc = 0;
    if (local && (rc = bind_local(s, ai->ai_family, local)) < 0) {
        close(s);
        return rc;
    }
    if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
        *fd = s;
        return 1;
    }
    if (errno == EINPROGRESS || errno == EINTR) {
        *fd = s;
        return 0;
    }
    rc = -errno;
    close(s);
    return rc;
}

/* RFC 8305 section 4 (asyncio's _interleave_addrinfos): the first family's first
 * (interleave - 1) addresses, then one of each family in turn. */
static size_t order_addrs(struct addrinfo *res, struct addrinfo **out, int interleave)
{
    size_t n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        out[n++] = a;
    if (interleave <= 0 || n < 2)
        return n;
    struct addrinfo **tmp = acio__malloc(2 * n * sizeof(*tmp));
    if (!tmp)
        return n; /* keep the resolver's order rather than fail */
    struct addrinfo **fa = tmp, **fb = tmp + n;
    size_t na = 0, nb = 0, k = 0, ia = 0, ib = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i]->ai_family == out[0]->ai_family)
            fa[na++] = out[i];
        else
            fb[nb++] = out[i];
    }
    for (int j = 0; j < interleave - 1 && ia < na; j++)
        out[k++] = fa[ia++];
    while (ia < na || ib < nb) {
        if (ia < na)
            out[k++] = fa[ia++];
        if (ib < nb)
            out[k++] = fb[ib++];
    }
    acio__free(tmp);
    return n;
}

static int connect_race(acio_loop_t *loop, struct addrinfo **addrs, size_t n,
                        struct addrinfo *local, double delay, double deadline, int *out)
{
    attempt_t *at = acio__calloc(n ? n : 1, sizeof(*at));
    if (!at)
        return -ENOMEM;
    acio_future_t *wake = NULL;
    for (size_t i = 0; i < n; i++) {
        at[i].fd = -1;
        at[i].wake = &wake;
    }
    size_t next = 0, inflight = 0;
    int last_err = -ECONNREFUSED, rc = 0, winner = -1;
    double last_start = 0;
    for (;;) {
        while (next < n && winner < 0 &&
               (inflight == 0 || (delay > 0 && acio_loop_time(loop) >= last_start + delay))) {
            int fd = -1;
            int r = start_attempt(addrs[next], local, &fd);
            if (r == 1) {
                at[next].fd = fd;
                winner = (int)next;
            } else if (r == 0) {
                at[next].fd = fd;
                inflight++;
                last_start = acio_loop_time(loop);
            } else {
                last_err = r;
            }
            next++;
        }
        if (winner >= 0)
            break;
        if (inflight == 0) {
            rc = last_err;
            break;
        }
        if ((rc = acio_future_new(loop, &wake)) < 0)
            break;
        acio_future_set_label(wake, "connect");
        for (size_t i = 0; i < next; i++)
            if (at[i].fd >= 0 && acio_loop_add_writer(loop, at[i].fd, attempt_ready, &at[i]) < 0)
                at[i].ready = true; /* check it below rather than wait for ever */
        acio_handle_t *stagger = NULL, *dl = NULL;
        int trc = 0; /* without its timers the race could wait for ever: fail instead */
        if (next < n && delay > 0)
            trc = acio_loop_call_at(loop, last_start + delay, wake_timer, wake, &stagger);
        if (trc == 0 && deadline > 0)
            trc = acio_loop_call_at(loop, deadline, wake_deadline, wake, &dl);
        void *why = NULL;
        bool pre_ready = false;
        for (size_t i = 0; i < next; i++)
            pre_ready |= at[i].fd >= 0 && at[i].ready;
        rc = trc < 0 ? trc : pre_ready ? 0 : acio_await(wake, &why);
        for (size_t i = 0; i < next; i++)
            if (at[i].fd >= 0)
                acio_loop_remove_writer(loop, at[i].fd);
        if (stagger) {
            acio_handle_cancel(stagger);
            acio_handle_unref(stagger);
        }
        if (dl) {
            acio_handle_cancel(dl);
            acio_handle_unref(dl);
        }
        acio_future_unref(wake);
        wake = NULL;
        if (rc < 0)
            break;
        if (why == WAKE_DEADLINE) {
            rc = -ETIMEDOUT;
            break;
        }
        for (size_t i = 0; i < next && winner < 0; i++) {
            if (at[i].fd < 0 || !at[i].ready)
                continue;
            at[i].ready = false;
            int err = 0;
            socklen_t el = sizeof(err);
            if (getsockopt(at[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                err = errno;
            if (err == 0) {
                winner = (int)i;
            } else {
                last_err = -err;
                close(at[i].fd);
                at[i].fd = -1;
                inflight--;
            }
        }
        if (winner >= 0)
            break;
    }
    for (size_t i = 0; i < n; i++)
        if (at[i].fd >= 0 && (int)i != winner)
            close(at[i].fd);
    if (winner >= 0) {
        *out = at[winner].fd;
        rc = 0;
    }
    acio__free(at);
    return rc;
}

int acio__connect_addrinfo(acio_loop_t *loop, struct addrinfo *res, struct addrinfo *local,
                           double delay, int interleave, double deadline, int *fd)
{
    size_t n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        n++;
    struct addrinfo **addrs = acio__malloc((n ? n : 1) * sizeof(*addrs));
    if (!addrs)
        return -ENOMEM;
    n = order_addrs(res, addrs, interleave);
    int rc = connect_race(loop, addrs, n, local, delay, deadline, fd);
    acio__free(addrs);
    return rc;
}

static double remaining(acio_loop_t *loop, double deadline)
{
    if (deadline <= 0)
        return 0;
    double r = deadline - acio_loop_time(loop);
    return r > 0.000001 ? r : 0.000001;
}

/* Wrap a connected socket in a transport (TLS if asked) and wait for connection_made. */
static int finish_connection(acio_loop_t *loop, int fd, acio_transport_t **out,
                             const acio_protocol_t *proto, void *proto_data, const char *host,
                             const acio_connection_opts_t *opts, bool close_on_error)
{
    acio_transport_t *t;
    int rc;
    if (opts && opts->ssl) {
        const char *sni = opts->server_hostname ? opts->server_hostname : host;
        return acio__tls_connect(loop, fd, out, proto, proto_data, opts->ssl, sni,
                                 opts->ssl_handshake_timeout);
    }
    rc = acio__sock_transport_new(loop, fd, ACIO__ST_SOCKET, proto, proto_data, &t);
    if (rc < 0) {
        if (close_on_error)
            close(fd);
        return rc;
    }
    /* From here the transport owns fd. */
    return acio__transport_await_made(t, out);
}

int acio_loop_create_connection(acio_loop_t *loop, acio_transport_t **out,
                                const acio_protocol_t *proto, void *proto_data, const char *host,
                                int port, const acio_connection_opts_t *opts)
{
    static const acio_connection_opts_t defaults;
    if (!opts)
        opts = &defaults;
    if (out)
        *out = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!proto || !host || port < 0 || port > 65535 || opts->happy_eyeballs_delay < 0)
        return -EINVAL;
    double deadline = opts->timeout > 0 ? acio_loop_time(loop) + opts->timeout : 0;
    char pbuf[16];
    snprintf(pbuf, sizeof(pbuf), "%d", port);
    struct addrinfo hints = {0}, *res = NULL, *local = NULL;
    hints.ai_family = opts->family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = opts->flags;
    rc = acio_loop_getaddrinfo(loop, host, pbuf, &hints, &res, remaining(loop, deadline));
    if (rc < 0)
        return rc;
    if (opts->local_host || opts->local_port) {
        char lbuf[16];
        snprintf(lbuf, sizeof(lbuf), "%d", opts->local_port);
        struct addrinfo lh = {0};
        lh.ai_family = opts->family;
        lh.ai_socktype = SOCK_STREAM;
        lh.ai_flags = AI_PASSIVE;
        rc = acio_loop_getaddrinfo(loop, opts->local_host, lbuf, &lh, &local,
                                   remaining(loop, deadline));
        if (rc < 0)
            goto out;
    }
    int interleave = opts->interleave;
    if (interleave == 0 && opts->happy_eyeballs_delay > 0)
        interleave = 1;
    int fd = -1;
    rc = acio__connect_addrinfo(loop, res, local, opts->happy_eyeballs_delay, interleave, deadline,
                                &fd);
    /* Release the addresses before the next wait (connection_made, a TLS handshake): a
     * task still suspended there when its loop closes is discarded without resuming, and
     * would leak them. */
    freeaddrinfo(res);
    res = NULL;
    if (local)
        freeaddrinfo(local);
    local = NULL;
    if (rc == 0)
        rc = finish_connection(loop, fd, out, proto, proto_data, host, opts, true);
    return rc;
out:
    if (res)
        freeaddrinfo(res);
    if (local)
        freeaddrinfo(local);
    return rc;
}

int acio__unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
    size_t n = path ? strlen(path) : 0;
    if (n == 0 || n >= sizeof(sun->sun_path))
        return -EINVAL;
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, n);
    if (path[0] == '@')
        sun->sun_path[0] = '\0'; /* Linux abstract namespace */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
    return 0;
}

int acio_loop_create_unix_connection(acio_loop_t *loop, acio_transport_t **out,
                                     const acio_protocol_t *proto, void *proto_data,
                                     const char *path, const acio_connection_opts_t *opts)
{
    if (out)
        *out = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    struct sockaddr_un sun;
    socklen_t sl;
    if (!proto || (rc = acio__unix_addr(path, &sun, &sl)) < 0)
        return -EINVAL;
    if (opts && opts->ssl && !opts->server_hostname)
        return -EINVAL; /* asyncio: server_hostname is required with ssl over Unix */
    double deadline = opts && opts->timeout > 0 ? acio_loop_time(loop) + opts->timeout : 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A full listen queue makes a non-blocking Unix connect fail with EAGAIN rather
     * than go in progress; retry a bounded number of times, briefly. */
    for (int tries = 0;; tries++) {
        rc = acio__sock_connect_deadline(loop, fd, (struct sockaddr *)&sun, sl, deadline);
        if (rc != -EAGAIN || tries >= 100)
            break;
        if ((rc = acio_sleep(0.01)) < 0)
            break;
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    rc = finish_connection(loop, fd, out, proto, proto_data, NULL, opts, true);
    return rc;
}

int acio_loop_connect_accepted_socket(acio_loop_t *loop, acio_transport_t **out,
                                      const acio_protocol_t *proto, void *proto_data, int fd,
                                      const acio_connection_opts_t *opts)
{
    if (out)
        *out = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!proto || fd < 0)
        return -EINVAL;
    int type = 0;
    socklen_t tl = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
        return errno == ENOTSOCK ? -EINVAL : -errno;
    if (type != SOCK_STREAM)
        return -EINVAL; /* asyncio: "A Stream Socket was expected" */
    if ((rc = acio__fd_nonblock_cloexec(fd)) < 0)
        return rc;
    if (opts && opts->ssl)
        return acio__tls_accept_socket(loop, fd, out, proto, proto_data, opts->ssl,
                                       opts->ssl_handshake_timeout);
    return finish_connection(loop, fd, out, proto, proto_data, NULL, opts, false);
}
