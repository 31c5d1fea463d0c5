/* The readiness-based stream transport over a socket or a pipe end: asyncio's
 * _SelectorSocketTransport and _UnixRead/WritePipeTransport, on the loop's
 * add_reader / add_writer.
 *
 * This is the fast path, so:
 * - write() tries the send system call at once when nothing is queued, and only what the
 *   kernel refuses is copied into the write buffer, whose memory is kept for reuse (no
 *   allocation per message in steady state);
 * - reads go into one 64 KiB buffer per thread (data_received gets a pointer into it) or
 *   straight into a buffered protocol's own buffer, so an idle connection owns no read
 *   buffer at all;
 * - one read per readiness event, as asyncio does, so one busy connection cannot starve
 *   the others. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/transport_int.h"

#define READ_BUF_SIZE (64 * 1024)
/* A drained write buffer larger than this is freed rather than kept, so a connection
 * that once sent a burst does not hold the memory for ever. */
#define WBUF_KEEP (256 * 1024)

typedef struct {
    acio_transport_t base;
    int kind;
    bool reader_on, writer_on;
    bool paused;   /* pause_reading */
    bool read_eof; /* EOF seen: never read again */
    bool eof_req;  /* write_eof called */
    bool eof_done; /* shutdown(SHUT_WR) done */
    bool hup;      /* pipe write end: its reader went away */
    char *wbuf;
    size_t wstart, wend, wcap;
} sock_transport_t;

static __thread char *tls_read_buf;
/* Frees a thread's read buffer when the thread exits (a loop on a worker thread: the
 * HTTP server's workers, a loop per thread); the main thread's lives until exit. */
static pthread_key_t read_buf_key;
static pthread_once_t read_buf_once = PTHREAD_ONCE_INIT;
static bool read_buf_key_ok;

static void read_buf_free(void *p)
{
    acio__free(p);
}

static void read_buf_key_make(void)
{
    read_buf_key_ok = pthread_key_create(&read_buf_key, read_buf_free) == 0;
}

static const acio__transport_ops_t sock_ops;

static size_t wsize(const sock_transport_t *s)
{
    return s->wend - s->wstart;
}

static void reader_off(sock_transport_t *s)
{
    if (s->reader_on) {
        acio_loop_remove_reader(s->base.loop, s->base.fd);
        s->reader_on = false;
    }
}

static void writer_off(sock_transport_t *s)
{
    if (s->writer_on) {
        acio_loop_remove_writer(s->base.loop, s->base.fd);
        s->writer_on = false;
    }
}

static void read_ready(int fd, int events, void *arg);
static void write_ready(int fd, int events, void *arg);
static void hup_ready(int fd, int events, void *arg);

static int reader_on(sock_transport_t *s)
{
    if (s->reader_on)
        return 0;
    int rc;
    if (s->kind == ACIO__ST_PIPE_WRITE)
        rc = acio_loop_add_reader(s->base.loop, s->base.fd, hup_ready, s);
    else
        rc = acio_loop_add_reader(s->base.loop, s->base.fd, read_ready, s);
    if (rc == 0)
        s->reader_on = true;
    return rc;
}

/* asyncio's _force_close: drop buffered data, stop everything, connection_lost(err). */
static void fatal(sock_transport_t *s, int err)
{
    if (s->base.lost_scheduled)
        return;
    s->wstart = s->wend = 0;
    writer_off(s);
    reader_off(s);
    acio__transport_schedule_lost(&s->base, err);
}

/* Errors that mean the peer went away rather than a local problem. */
static int conn_error(int e)
{
    return e == 0 ? -EIO : -e;
}

static void on_eof(sock_transport_t *s)
{
    acio_transport_t *t = &s->base;
    s->read_eof = true;
    reader_off(s);
    bool keep_open = false;
    if (t->proto && t->proto->eof_received)
        keep_open = t->proto->eof_received(t, t->proto_data);
    /* A pipe's read end has nothing left to do after EOF (asyncio closes it). */
    if (!keep_open || s->kind == ACIO__ST_PIPE_READ)
        acio_transport_close(t);
}

static void read_ready(int fd, int events, void *arg)
{
    (void)events;
    sock_transport_t *s = arg;
    acio_transport_t *t = &s->base;
    if (t->lost_scheduled || !t->proto)
        return;
    void *buf;
    size_t len;
    bool buffered = t->proto->get_buffer != NULL;
    if (buffered) {
        int rc = t->proto->get_buffer(t, READ_BUF_SIZE, &buf, &len, t->proto_data);
        if (rc < 0 || !buf || len == 0) {
            fatal(s, rc < 0 ? rc : -ENOBUFS);
            return;
        }
    } else {
        if (ACIO_UNLIKELY(!tls_read_buf)) {
            tls_read_buf = acio__malloc(READ_BUF_SIZE);
            if (!tls_read_buf) {
                fatal(s, -ENOMEM);
                return;
            }
            pthread_once(&read_buf_once, read_buf_key_make);
            if (read_buf_key_ok)
                pthread_setspecific(read_buf_key, tls_read_buf);
        }
        buf = tls_read_buf;
        len = READ_BUF_SIZE;
    }
    ssize_t n;
    do {
        n = s->kind == ACIO__ST_SOCKET ? recv(fd, buf, len, 0) : read(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        fatal(s, conn_error(errno));
        return;
    }
    if (n == 0) {
        on_eof(s);
        return;
    }
    if (buffered) {
        if (t->proto->buffer_updated)
            t->proto->buffer_updated(t, (size_t)n, t->proto_data);
    } else if (t->proto->data_received) {
        t->proto->data_received(t, buf, (size_t)n, t->proto_data);
    }
}

/* The reader of a pipe's write end went away: asyncio watches the write end for
 * readability, which epoll reports as EPOLLERR/EPOLLHUP when the other side closes. */
static void hup_ready(int fd, int events, void *arg)
{
    (void)fd;
    (void)events;
    sock_transport_t *s = arg;
    s->hup = true;
    if (wsize(s))
        fatal(s, -EPIPE);
    else
        fatal(s, 0);
}

static ssize_t do_send(sock_transport_t *s, const struct iovec *iov, int n)
{
    ssize_t r;
    do {
        if (s->kind == ACIO__ST_SOCKET) {
            if (n == 1) {
                r = send(s->base.fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
            } else {
                struct msghdr mh = {0};
                mh.msg_iov = (struct iovec *)iov;
                mh.msg_iovlen = (size_t)n;
                r = sendmsg(s->base.fd, &mh, MSG_NOSIGNAL);
            }
        } else {
            r = n == 1 ? write(s->base.fd, iov[0].iov_base, iov[0].iov_len)
                       : writev(s->base.fd, iov, n);
        }
    } while (r < 0 && errno == EINTR);
    return r;
}

static void shutdown_write(sock_transport_t *s)
{
    if (s->eof_done)
        return;
    s->eof_done = true;
    if (s->kind == ACIO__ST_SOCKET)
        shutdown(s->base.fd, SHUT_WR);
}

static int wbuf_append(sock_transport_t *s, const struct iovec *iov, int n, size_t skip,
                       size_t total)
{
    size_t need = total - skip;
    if (s->wcap - s->wend < need) {
        size_t used = wsize(s);
        if (s->wstart > 0 && s->wcap - used >= need) {
            memmove(s->wbuf, s->wbuf + s->wstart, used);
        } else {
            size_t cap = s->wcap ? s->wcap : 4096;
            while (cap < used + need)
                cap *= 2;
            char *nb = acio__malloc(cap);
            if (!nb)
                return -ENOMEM;
            if (used)
                memcpy(nb, s->wbuf + s->wstart, used);
            acio__free(s->wbuf);
            s->wbuf = nb;
            s->wcap = cap;
        }
        s->wstart = 0;
        s->wend = used;
    }
    for (int i = 0; i < n; i++) {
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        memcpy(s->wbuf + s->wend, (char *)iov[i].iov_base + skip, l - skip);
        s->wend += l - skip;
        skip = 0;
    }
    return 0;
}

static int sock_write(acio_transport_t *t, const struct iovec *iov, int n, size_t total)
{
    sock_transport_t *s = (sock_transport_t *)t;
    if (s->kind == ACIO__ST_PIPE_READ)
        return -ENOTSUP;
    if (s->eof_req)
        return -EPIPE;
    /* Whether the hang-up or our write notices first that the reader of a pipe is gone,
     * the writer hears the same thing: the pipe is broken. */
    if (s->hup && t->lost_error != ACIO_ECLOSED)
        return -EPIPE;
    if (t->closing)
        return t->lost_scheduled && t->lost_error ? t->lost_error : -ENOTCONN;
    size_t sent = 0;
    if (wsize(s) == 0) {
        ssize_t r = do_send(s, iov, n > IOV_MAX ? IOV_MAX : n);
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                int err = conn_error(errno);
                fatal(s, err);
                return err;
            }
            r = 0;
        }
        sent = (size_t)r;
        if (sent == total)
            return 0;
    }
    int rc = wbuf_append(s, iov, n, sent, total);
    if (rc < 0) {
        /* Part of the data may be on the wire already; the rest cannot be kept, so the
         * stream is broken: report it rather than silently drop bytes. */
        if (sent)
            fatal(s, rc);
        return rc;
    }
    if (!s->writer_on) {
        rc = acio_loop_add_writer(t->loop, t->fd, write_ready, s);
        if (rc < 0) {
            fatal(s, rc);
            return rc;
        }
        s->writer_on = true;
    }
    acio__transport_maybe_pause(t, wsize(s));
    return 0;
}

static void write_ready(int fd, int events, void *arg)
{
    (void)fd;
    (void)events;
    sock_transport_t *s = arg;
    acio_transport_t *t = &s->base;
    if (t->lost_scheduled)
        return;
    size_t len = wsize(s);
    if (len) {
        struct iovec iov = {s->wbuf + s->wstart, len};
        ssize_t r = do_send(s, &iov, 1);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            fatal(s, conn_error(errno));
            return;
        }
        s->wstart += (size_t)r;
        if (s->wstart == s->wend) {
            s->wstart = s->wend = 0;
            if (s->wcap > WBUF_KEEP) {
                acio__free(s->wbuf);
                s->wbuf = NULL;
                s->wcap = 0;
            }
        }
        acio__transport_maybe_resume(t, wsize(s));
    }
    /* resume_writing may have written more; only an empty buffer ends the wait. */
    if (wsize(s) || t->lost_scheduled)
        return;
    writer_off(s);
    if (t->closing)
        acio__transport_schedule_lost(t, 0);
    else if (s->eof_req)
        shutdown_write(s);
}

static int sock_write_eof(acio_transport_t *t)
{
    sock_transport_t *s = (sock_transport_t *)t;
    if (s->kind == ACIO__ST_PIPE_READ)
        return -ENOTSUP;
    if (t->closing)
        return -ENOTCONN;
    if (s->eof_req)
        return 0;
    s->eof_req = true;
    if (wsize(s) == 0) {
        /* A pipe has no half-close: closing the write end is its EOF. */
        if (s->kind == ACIO__ST_PIPE_WRITE)
            acio_transport_close(t);
        else
            shutdown_write(s);
    }
    return 0;
}

static bool sock_can_write_eof(acio_transport_t *t)
{
    return ((sock_transport_t *)t)->kind != ACIO__ST_PIPE_READ;
}

static void sock_close(acio_transport_t *t)
{
    sock_transport_t *s = (sock_transport_t *)t;
    t->closing = true;
    if (s->kind != ACIO__ST_PIPE_WRITE)
        reader_off(s);
    if (wsize(s) == 0) {
        writer_off(s);
        reader_off(s);
        acio__transport_schedule_lost(t, 0);
    }
}

static void sock_abort(acio_transport_t *t)
{
    fatal((sock_transport_t *)t, 0);
}

static int sock_pause_reading(acio_transport_t *t)
{
    sock_transport_t *s = (sock_transport_t *)t;
    if (s->kind == ACIO__ST_PIPE_WRITE)
        return -ENOTSUP;
    if (t->closing || s->paused)
        return 0;
    s->paused = true;
    reader_off(s);
    return 0;
}

static int sock_resume_reading(acio_transport_t *t)
{
    sock_transport_t *s = (sock_transport_t *)t;
    if (s->kind == ACIO__ST_PIPE_WRITE)
        return -ENOTSUP;
    if (t->closing || !s->paused)
        return 0;
    s->paused = false;
    /* Before connection_made the start callback adds the reader; after EOF there is
     * nothing left to read. */
    if (s->read_eof || !t->started)
        return 0;
    int rc = reader_on(s);
    if (rc < 0)
        fatal(s, rc);
    return 0;
}

static bool sock_is_reading(const acio_transport_t *t)
{
    const sock_transport_t *s = (const sock_transport_t *)t;
    return s->kind != ACIO__ST_PIPE_WRITE && !s->paused && !t->closing;
}

static size_t sock_wsize(const acio_transport_t *t)
{
    return wsize((const sock_transport_t *)t);
}

static void sock_limits_changed(acio_transport_t *t)
{
    size_t n = sock_wsize(t);
    acio__transport_maybe_pause(t, n);
    acio__transport_maybe_resume(t, n);
}

static void sock_start(acio_transport_t *t)
{
    sock_transport_t *s = (sock_transport_t *)t;
    if (s->paused || s->read_eof)
        return;
    int rc = reader_on(s);
    if (rc < 0)
        fatal(s, rc);
}

static void sock_finish(acio_transport_t *t)
{
    sock_transport_t *s = (sock_transport_t *)t;
    writer_off(s);
    reader_off(s);
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    acio__free(s->wbuf);
    s->wbuf = NULL;
    s->wstart = s->wend = s->wcap = 0;
}

static void sock_destroy(acio_transport_t *t)
{
    sock_transport_t *s = (sock_transport_t *)t;
    /* Only reachable after finish (the connection's reference is the last one to go
     * for an open transport), except when creation itself failed. */
    if (t->fd >= 0)
        sock_finish(t);
    acio__free(s);
}

static const acio__transport_ops_t sock_ops = {
    .write = sock_write,
    .write_eof = sock_write_eof,
    .can_write_eof = sock_can_write_eof,
    .close = sock_close,
    .abort = sock_abort,
    .pause_reading = sock_pause_reading,
    .resume_reading = sock_resume_reading,
    .is_reading = sock_is_reading,
    .get_write_buffer_size = sock_wsize,
    .limits_changed = sock_limits_changed,
    .start = sock_start,
    .finish = sock_finish,
    .destroy = sock_destroy,
};

static void ignore_sigpipe_once(void)
{
    static int done;
    if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
        return;
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

int acio__sock_transport_new(acio_loop_t *loop, int fd, int kind, const acio_protocol_t *proto,
                             void *proto_data, acio_transport_t **out)
{
    sock_transport_t *s = acio__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    acio__transport_init(&s->base, &sock_ops, loop, fd);
    s->kind = kind;
    s->base.proto = proto;
    s->base.proto_data = proto_data;
    if (kind == ACIO__ST_SOCKET) {
        /* Like asyncio, disable Nagle on TCP: protocols write whole messages. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    } else if (kind == ACIO__ST_PIPE_WRITE) {
        ignore_sigpipe_once();
    }
    int rc = acio__transport_schedule_start(&s->base);
    if (rc < 0) {
        s->base.fd = -1; /* the caller keeps its fd on error */
        acio__free(s);
        return rc;
    }
    *out = &s->base;
    return 0;
}
