/* Datagram endpoints: loop.create_datagram_endpoint and its transport (asyncio's
 * _SelectorDatagramTransport). A datagram is sent at once when nothing is queued; if the
 * kernel would block it is copied into a FIFO and sent when the socket is writable, with
 * the same high/low water flow control as stream transports. Receive errors (an ICMP
 * "port unreachable" on a connected socket) go to error_received and the endpoint stays
 * open, as in asyncio. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/fdwait.h"
#include "net/transport_int.h"

#define MAX_DGRAM (64 * 1024)

typedef struct pending_s {
    struct pending_s *next;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    size_t len;
    char data[];
} pending_t;

typedef struct {
    acio_transport_t base;
    bool connected;
    bool reader_on, writer_on;
    pending_t *head, *tail;
    size_t queued; /* bytes in the queue */
} dgram_t;

static __thread char *dgram_buf;

static void d_reader_off(dgram_t *d)
{
    if (d->reader_on) {
        acio_loop_remove_reader(d->base.loop, d->base.fd);
        d->reader_on = false;
    }
}

static void d_writer_off(dgram_t *d)
{
    if (d->writer_on) {
        acio_loop_remove_writer(d->base.loop, d->base.fd);
        d->writer_on = false;
    }
}

static void drop_queue(dgram_t *d)
{
    while (d->head) {
        pending_t *p = d->head;
        d->head = p->next;
        acio__free(p);
    }
    d->tail = NULL;
    d->queued = 0;
}

static void d_fatal(dgram_t *d, int err)
{
    if (d->base.lost_scheduled)
        return;
    drop_queue(d);
    d_writer_off(d);
    d_reader_off(d);
    acio__transport_schedule_lost(&d->base, err);
}

static void error_received(dgram_t *d, int err)
{
    acio_transport_t *t = &d->base;
    if (t->dproto && t->dproto->error_received)
        t->dproto->error_received(t, err, t->proto_data);
}

static void d_read_ready(int fd, int events, void *arg)
{
    (void)events;
    dgram_t *d = arg;
    acio_transport_t *t = &d->base;
    if (t->lost_scheduled)
        return;
    if (!dgram_buf && !(dgram_buf = acio__malloc(MAX_DGRAM))) {
        d_fatal(d, -ENOMEM);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    ssize_t n;
    do {
        n = recvfrom(fd, dgram_buf, MAX_DGRAM, 0, (struct sockaddr *)&ss, &sl);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            error_received(d, -errno);
        return;
    }
    if (t->dproto && t->dproto->datagram_received)
        t->dproto->datagram_received(t, dgram_buf, (size_t)n, (struct sockaddr *)&ss, sl,
                                     t->proto_data);
}

static void d_write_ready(int fd, int events, void *arg)
{
    (void)events;
    dgram_t *d = arg;
    acio_transport_t *t = &d->base;
    while (d->head && !t->lost_scheduled) {
        pending_t *p = d->head;
        ssize_t n = d->connected ? send(fd, p->data, p->len, MSG_NOSIGNAL)
                                 : sendto(fd, p->data, p->len, MSG_NOSIGNAL,
                                          (struct sockaddr *)&p->addr, p->addrlen);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        int err = n < 0 ? -errno : 0;
        d->head = p->next;
        if (!d->head)
            d->tail = NULL;
        d->queued -= p->len;
        acio__free(p);
        if (err)
            error_received(d, err); /* asyncio reports and keeps going */
        acio__transport_maybe_resume(t, d->queued);
    }
    if (d->head || t->lost_scheduled)
        return;
    d_writer_off(d);
    if (t->closing)
        acio__transport_schedule_lost(t, 0);
}

static int d_sendto(acio_transport_t *t, const void *buf, size_t len, const struct sockaddr *addr,
                    socklen_t addrlen)
{
    dgram_t *d = (dgram_t *)t;
    if (t->closing)
        return t->lost_error == ACIO_ECLOSED ? ACIO_ECLOSED : -ENOTCONN;
    if (len > MAX_DGRAM)
        return -EMSGSIZE;
    if (addr && addrlen > sizeof(struct sockaddr_storage))
        return -EINVAL;
    if (d->connected && addr) {
        /* asyncio: "Invalid address: must be None or <peer>". */
        struct sockaddr_storage peer;
        socklen_t pl = sizeof(peer);
        if (getpeername(t->fd, (struct sockaddr *)&peer, &pl) < 0 || pl != addrlen ||
            memcmp(&peer, addr, pl) != 0)
            return -EISCONN;
        addr = NULL;
    }
    if (!d->connected && !addr)
        return -EDESTADDRREQ;
    if (!d->head) {
        ssize_t n;
        do {
            n = addr ? sendto(t->fd, buf, len, MSG_NOSIGNAL, addr, addrlen)
                     : send(t->fd, buf, len, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n >= 0)
            return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
    }
    pending_t *p = acio__malloc(sizeof(*p) + len);
    if (!p)
        return -ENOMEM;
    p->next = NULL;
    p->len = len;
    p->addrlen = addr ? addrlen : 0;
    if (addr)
        memcpy(&p->addr, addr, addrlen);
    memcpy(p->data, buf, len);
    if (d->tail)
        d->tail->next = p;
    else
        d->head = p;
    d->tail = p;
    d->queued += len;
    if (!d->writer_on) {
        int rc = acio_loop_add_writer(t->loop, t->fd, d_write_ready, d);
        if (rc < 0) {
            d_fatal(d, rc);
            return rc;
        }
        d->writer_on = true;
    }
    acio__transport_maybe_pause(t, d->queued);
    return 0;
}

static void d_close(acio_transport_t *t)
{
    dgram_t *d = (dgram_t *)t;
    t->closing = true;
    d_reader_off(d);
    if (!d->head) {
        d_writer_off(d);
        acio__transport_schedule_lost(t, 0);
    }
}

static void d_abort(acio_transport_t *t)
{
    d_fatal((dgram_t *)t, 0);
}

static size_t d_wsize(const acio_transport_t *t)
{
    return ((const dgram_t *)t)->queued;
}

static void d_start(acio_transport_t *t)
{
    dgram_t *d = (dgram_t *)t;
    if (acio_loop_add_reader(t->loop, t->fd, d_read_ready, d) == 0)
        d->reader_on = true;
    else
        d_fatal(d, -EBADF);
}

static void d_finish(acio_transport_t *t)
{
    dgram_t *d = (dgram_t *)t;
    d_writer_off(d);
    d_reader_off(d);
    drop_queue(d);
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
}

static void d_destroy(acio_transport_t *t)
{
    if (t->fd >= 0)
        d_finish(t);
    acio__free(t);
}

static bool d_is_reading(const acio_transport_t *t)
{
    return ((const dgram_t *)t)->reader_on && !t->closing;
}

static const acio__transport_ops_t dgram_ops = {
    .sendto = d_sendto,
    .close = d_close,
    .abort = d_abort,
    .is_reading = d_is_reading,
    .get_write_buffer_size = d_wsize,
    .start = d_start,
    .finish = d_finish,
    .destroy = d_destroy,
};

/* Resolve an optional host:port for a datagram socket. */
static int resolve(acio_loop_t *loop, const char *host, int port, int family, bool passive,
                   struct addrinfo **res)
{
    char pbuf[16];
    snprintf(pbuf, sizeof(pbuf), "%d", port);
    struct addrinfo hints = {0};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    return acio_loop_getaddrinfo(loop, host, pbuf, &hints, res, 0);
}

static int open_socket(acio_loop_t *loop, const acio_datagram_opts_t *o, int *out, bool *connected)
{
    struct addrinfo *local = NULL, *remote = NULL;
    struct sockaddr_un lsun, rsun;
    socklen_t lsl = 0, rsl = 0;
    int rc = 0, fd = -1, family = o->family;
    bool has_local = o->local_host || o->local_port;
    bool unix_mode = o->local_path || o->remote_path || family == AF_UNIX;
    if (unix_mode) {
        family = AF_UNIX;
        if (o->local_path && acio__unix_addr(o->local_path, &lsun, &lsl) < 0)
            return -EINVAL;
        if (o->remote_path && acio__unix_addr(o->remote_path, &rsun, &rsl) < 0)
            return -EINVAL;
    } else {
        if (!has_local && !o->remote_host && family == AF_UNSPEC)
            return -EINVAL; /* asyncio: "unexpected address family" */
        if (has_local &&
            (rc = resolve(loop, o->local_host, o->local_port, family, true, &local)) < 0)
            return rc;
        if (o->remote_host &&
            (rc = resolve(loop, o->remote_host, o->remote_port, family, false, &remote)) < 0)
            goto out;
        /* Pick a family both sides have. */
        if (local && remote) {
            struct addrinfo *l = NULL, *r = NULL;
            for (l = local; l && !r; l = l->ai_next)
                for (r = remote; r && r->ai_family != l->ai_family; r = r->ai_next)
                    ;
            if (!r) {
                rc = -EAFNOSUPPORT;
                goto out;
            }
            family = r->ai_family;
        } else if (local) {
            family = local->ai_family;
        } else if (remote) {
            family = remote->ai_family;
        }
    }
    fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    int one = 1;
    if (o->reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto fail_errno;
    if (o->allow_broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)
        goto fail_errno;
    if (unix_mode) {
        if (o->local_path && bind(fd, (struct sockaddr *)&lsun, lsl) < 0)
            goto fail_errno;
        if (o->remote_path) {
            if (connect(fd, (struct sockaddr *)&rsun, rsl) < 0)
                goto fail_errno;
            *connected = true;
        }
    } else {
        if (local) {
            struct addrinfo *l = local;
            while (l && l->ai_family != family)
                l = l->ai_next;
            if (bind(fd, l->ai_addr, l->ai_addrlen) < 0)
                goto fail_errno;
        }
        if (remote) {
            struct addrinfo *r = remote;
            while (r && r->ai_family != family)
                r = r->ai_next;
            if (connect(fd, r->ai_addr, r->ai_addrlen) < 0)
                goto fail_errno;
            *connected = true;
        }
    }
    *out = fd;
    goto out;
fail_errno:
    rc = -errno;
    close(fd);
out:
    if (local)
        freeaddrinfo(local);
    if (remote)
        freeaddrinfo(remote);
    return rc;
}

int acio_loop_create_datagram_endpoint(acio_loop_t *loop, acio_transport_t **out,
                                       const acio_datagram_protocol_t *proto, void *proto_data,
                                       const acio_datagram_opts_t *opts)
{
    if (out)
        *out = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!proto || !opts)
        return -EINVAL;
    int fd = -1;
    bool connected = false;
    if ((rc = open_socket(loop, opts, &fd, &connected)) < 0)
        return rc;
    dgram_t *d = acio__calloc(1, sizeof(*d));
    if (!d) {
        close(fd);
        return -ENOMEM;
    }
    acio__transport_init(&d->base, &dgram_ops, loop, fd);
    d->base.dproto = proto;
    d->base.proto_data = proto_data;
    d->connected = connected;
    if ((rc = acio__transport_schedule_start(&d->base)) < 0) {
        close(fd);
        d->base.fd = -1;
        acio__free(d);
        return rc;
    }
    return acio__transport_await_made(&d->base, out);
}
