/* The public transport functions and what every transport kind shares: reference
 * counting, the connection_made / connection_lost scheduling (always through call_soon,
 * so they never run inside the call that caused them, as in asyncio), write flow
 * control (pause_writing above the high-water mark, resume_writing at the low one), and
 * extra info read from the fd, and aborting what is still open when the loop closes.
 * Each kind's behaviour lives behind its ops table (see transport_int.h). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "net/stream_int.h"
#include "net/transport_int.h"

void acio__transport_init(acio_transport_t *t, const acio__transport_ops_t *ops, acio_loop_t *loop,
                          int fd)
{
    memset(t, 0, sizeof(*t));
    t->ops = ops;
    t->loop = loop;
    t->refs = 1;
    t->fd = fd;
    t->high = ACIO__DEFAULT_HIGH_WATER;
    t->low = ACIO__DEFAULT_HIGH_WATER / 4;
}

acio_transport_t *acio_transport_ref(acio_transport_t *t)
{
    if (t)
        t->refs++;
    return t;
}

void acio_transport_unref(acio_transport_t *t)
{
    if (!t || --t->refs > 0)
        return;
    acio__net_unregister(&t->reg);
    if (t->made_waiter)
        acio_future_unref(t->made_waiter);
    t->ops->destroy(t);
}

/* ---- connection_made / connection_lost ---- */

static void start_cb(void *arg)
{
    acio_transport_t *t = arg;
    t->start_pending = false;
    if (t->made_waiter && acio_future_cancelled(t->made_waiter)) {
        /* The task creating the connection was cancelled before this ran. asyncio's
         * create_connection never lets such a protocol hear from the transport, and the
         * task, which resumes after this callback, can no longer detach it in time: skip
         * connection_made here. The task detaches and aborts when it resumes; the
         * protocol stays attached until then so that a loop closing in between still
         * releases a stream's share (transport_loop_closed). */
        acio_transport_unref(t);
        return;
    }
    t->started = true;
    if (t->proto && t->proto->connection_made)
        t->proto->connection_made(t, t->proto_data);
    else if (t->dproto && t->dproto->connection_made)
        t->dproto->connection_made(t, t->proto_data);
    if (!t->closing && t->ops->start)
        t->ops->start(t);
    if (t->made_waiter && !acio_future_done(t->made_waiter))
        acio_future_set_result(t->made_waiter, NULL);
    acio_transport_unref(t);
}

static void transport_loop_closed(acio__net_node_t *n);

int acio__transport_schedule_start(acio_transport_t *t)
{
    int rc = acio__net_register(t->loop, &t->reg, transport_loop_closed);
    if (rc < 0)
        return rc;
    acio_transport_ref(t);
    t->start_pending = true;
    rc = acio_loop_call_soon(t->loop, start_cb, t, NULL);
    if (rc < 0) {
        t->refs--;
        t->start_pending = false;
        acio__net_unregister(&t->reg);
    }
    return rc;
}

static void lost_cb(void *arg)
{
    acio_transport_t *t = arg;
    t->lost_done = true;
    if (t->proto && t->proto->connection_lost)
        t->proto->connection_lost(t, t->lost_error, t->proto_data);
    else if (t->dproto && t->dproto->connection_lost)
        t->dproto->connection_lost(t, t->lost_error, t->proto_data);
    if (t->ops->finish)
        t->ops->finish(t);
    /* Nothing of it is left on the loop: closing the loop need not abort it, unless a
     * task still waits for connection_made with a reference that a close would have to
     * drop for it (acio__transport_await_made unregisters when the task resumes). */
    if (!t->waiter_ref)
        acio__net_unregister(&t->reg);
    if (t->made_waiter && !acio_future_done(t->made_waiter))
        acio_future_set_error(t->made_waiter, t->lost_error ? t->lost_error : -ECONNRESET,
                              "connection lost before it was made");
    if (t->server) {
        acio_server_t *s = t->server;
        t->server = NULL;
        acio__server_client_lost(s, t);
    }
    acio_transport_unref(t); /* the connection's reference */
}

void acio__transport_schedule_lost(acio_transport_t *t, int error)
{
    if (t->lost_scheduled)
        return;
    t->lost_scheduled = true;
    t->closing = true;
    t->lost_error = error;
    /* If the loop cannot take the callback (closed, out of memory), run it now rather
     * than leak the connection: the protocol still hears about the end exactly once. */
    if (acio_loop_call_soon(t->loop, lost_cb, t, NULL) < 0)
        lost_cb(t);
}

/* The loop is closing with t still open: what asyncio's garbage collector ends up doing
 * (the fd is closed, connection_lost is never called), plus dropping the references that
 * the callbacks still queued on the loop hold, since the loop discards them unrun, and
 * the reference of a task waiting for connection_made, since the loop discards that task
 * without resuming it. After this t is closed for good: close and abort are no-ops, write
 * returns ACIO_ECLOSED, and the last acio_transport_unref() frees it without touching the
 * loop. */
static void transport_loop_closed(acio__net_node_t *n)
{
    acio_transport_t *t = acio_container_of(n, acio_transport_t, reg);
    acio_transport_ref(t); /* keep it while the references below go */
    /* lost_done: connection_lost ran and left t registered only for the waiter. */
    if (!t->lost_done) {
        t->closing = true;
        t->lost_scheduled = true;
        t->lost_done = true;
        t->lost_error = ACIO_ECLOSED;
        /* The stream protocol is ours: release its share of the connection as its
         * connection_lost would, without waking anyone (no task will run again). */
        if (t->proto == &acio__stream_protocol)
            acio__stream_loop_closed(t->proto_data);
        t->proto = NULL;
        t->dproto = NULL;
        t->proto_data = NULL;
        if (t->ops->finish)
            t->ops->finish(t);
        t->fd = -1;
        if (t->server) {
            acio_server_t *s = t->server;
            t->server = NULL;
            acio__server_client_lost(s, t);
        }
        if (t->start_pending) {
            t->start_pending = false;
            acio_transport_unref(t);
        }
        /* The connection's reference: lost_cb, queued or not, would have dropped it. */
        acio_transport_unref(t);
    }
    if (t->waiter_ref) {
        t->waiter_ref = false;
        /* connection_lost ran before the waiting task resumed and left a stream's share
         * to that task, which will never run again. */
        if (t->proto == &acio__stream_protocol)
            acio__stream_creator_gone(t->proto_data);
        acio_transport_unref(t);
    }
    acio_transport_unref(t);
}

int acio__transport_wait_made(acio_transport_t *t)
{
    int rc = acio_future_new(t->loop, &t->made_waiter);
    if (rc == 0) {
        acio_future_set_label(t->made_waiter, "connection_made");
        rc = acio_await(t->made_waiter, NULL);
    }
    if (rc < 0 && !t->started) {
        /* Failed or cancelled before connection_made was delivered (start_cb has not run,
         * or skipped it for the cancellation): detach the protocol so that, as promised
         * to create_connection's caller, none of its callbacks is ever called. */
        t->proto = NULL;
        t->dproto = NULL;
        t->proto_data = NULL;
        acio_transport_abort(t);
    } else if (rc < 0) {
        /* Cancelled after connection_made ran: close the transport, as asyncio's
         * create_connection does; the protocol gets its connection_lost. */
        acio_transport_abort(t);
    }
    return rc;
}

int acio__transport_await_made(acio_transport_t *t, acio_transport_t **out)
{
    acio_transport_ref(t);
    t->waiter_ref = true;
    int rc = acio__transport_wait_made(t);
    t->waiter_ref = false;
    /* connection_lost ran while we waited and left t registered for us. */
    if (t->lost_done)
        acio__net_unregister(&t->reg);
    if (rc < 0 || !out)
        acio_transport_unref(t);
    else
        *out = t;
    return rc;
}

/* ---- flow control ---- */

void acio__transport_maybe_pause(acio_transport_t *t, size_t size)
{
    if (size <= t->high || t->protocol_paused)
        return;
    t->protocol_paused = true;
    if (t->proto && t->proto->pause_writing)
        t->proto->pause_writing(t, t->proto_data);
    else if (t->dproto && t->dproto->pause_writing)
        t->dproto->pause_writing(t, t->proto_data);
}

void acio__transport_maybe_resume(acio_transport_t *t, size_t size)
{
    if (!t->protocol_paused || size > t->low)
        return;
    t->protocol_paused = false;
    if (t->proto && t->proto->resume_writing)
        t->proto->resume_writing(t, t->proto_data);
    else if (t->dproto && t->dproto->resume_writing)
        t->dproto->resume_writing(t, t->proto_data);
}

int acio_transport_set_write_buffer_limits(acio_transport_t *t, size_t high, size_t low)
{
    if (!t)
        return -EINVAL;
    if (high == 0 && low == 0) {
        high = ACIO__DEFAULT_HIGH_WATER;
        low = high / 4;
    } else if (low == SIZE_MAX) {
        low = high / 4;
    }
    if (low > high)
        return -EINVAL;
    t->high = high;
    t->low = low;
    if (t->ops->limits_changed)
        t->ops->limits_changed(t);
    return 0;
}

void acio_transport_get_write_buffer_limits(const acio_transport_t *t, size_t *high, size_t *low)
{
    if (high)
        *high = t ? t->high : 0;
    if (low)
        *low = t ? t->low : 0;
}

size_t acio_transport_get_write_buffer_size(const acio_transport_t *t)
{
    return t && t->ops->get_write_buffer_size ? t->ops->get_write_buffer_size(t) : 0;
}

/* ---- dispatch ---- */

int acio_transport_write(acio_transport_t *t, const void *buf, size_t len)
{
    if (!t || (!buf && len))
        return -EINVAL;
    if (!t->ops->write)
        return -ENOTSUP;
    if (len == 0)
        return 0;
    struct iovec iov = {(void *)buf, len};
    return t->ops->write(t, &iov, 1, len);
}

int acio_transport_writev(acio_transport_t *t, const struct iovec *iov, int n)
{
    if (!t || n < 0 || (!iov && n))
        return -EINVAL;
    if (!t->ops->write)
        return -ENOTSUP;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!iov[i].iov_base && iov[i].iov_len)
            return -EINVAL;
        total += iov[i].iov_len;
    }
    if (total == 0)
        return 0;
    return t->ops->write(t, iov, n, total);
}

int acio_transport_sendto(acio_transport_t *t, const void *buf, size_t len,
                          const struct sockaddr *addr, socklen_t addrlen)
{
    if (!t || (!buf && len))
        return -EINVAL;
    if (!t->ops->sendto)
        return -ENOTSUP;
    return t->ops->sendto(t, buf, len, addr, addrlen);
}

int acio_transport_write_eof(acio_transport_t *t)
{
    if (!t)
        return -EINVAL;
    return t->ops->write_eof ? t->ops->write_eof(t) : -ENOTSUP;
}

bool acio_transport_can_write_eof(acio_transport_t *t)
{
    return t && t->ops->can_write_eof && t->ops->can_write_eof(t);
}

void acio_transport_close(acio_transport_t *t)
{
    if (t && !t->closing)
        t->ops->close(t);
}

void acio_transport_abort(acio_transport_t *t)
{
    if (t && !t->lost_scheduled)
        t->ops->abort(t);
}

bool acio_transport_is_closing(const acio_transport_t *t)
{
    return !t || t->closing;
}

int acio_transport_pause_reading(acio_transport_t *t)
{
    if (!t)
        return -EINVAL;
    return t->ops->pause_reading ? t->ops->pause_reading(t) : -ENOTSUP;
}

int acio_transport_resume_reading(acio_transport_t *t)
{
    if (!t)
        return -EINVAL;
    return t->ops->resume_reading ? t->ops->resume_reading(t) : -ENOTSUP;
}

bool acio_transport_is_reading(const acio_transport_t *t)
{
    return t && t->ops->is_reading && t->ops->is_reading(t);
}

int acio__transport_fd_extra_info(acio_transport_t *t, const char *name, void *buf, size_t *len)
{
    if (t->fd < 0)
        return -ENOENT;
    if (strcmp(name, "socket") == 0) {
        if (*len < sizeof(int)) {
            *len = sizeof(int);
            return -ENOSPC;
        }
        memcpy(buf, &t->fd, sizeof(int));
        *len = sizeof(int);
        return 0;
    }
    bool peer = strcmp(name, "peername") == 0;
    if (!peer && strcmp(name, "sockname") != 0)
        return -ENOENT;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int rc = peer ? getpeername(t->fd, (struct sockaddr *)&ss, &sl)
                  : getsockname(t->fd, (struct sockaddr *)&ss, &sl);
    if (rc < 0)
        return errno == ENOTSOCK || errno == ENOTCONN ? -ENOENT : -errno;
    if (*len < sl) {
        *len = sl;
        return -ENOSPC;
    }
    memcpy(buf, &ss, sl);
    *len = sl;
    return 0;
}

int acio_transport_get_extra_info(acio_transport_t *t, const char *name, void *buf, size_t *len)
{
    if (!t || !name || !len || (!buf && *len))
        return -EINVAL;
    if (t->ops->get_extra_info)
        return t->ops->get_extra_info(t, name, buf, len);
    return acio__transport_fd_extra_info(t, name, buf, len);
}

int acio_transport_get_fd(const acio_transport_t *t)
{
    return t ? t->fd : -1;
}

int acio_transport_set_protocol(acio_transport_t *t, const acio_protocol_t *proto, void *data)
{
    if (!t || !proto || t->dproto)
        return -EINVAL;
    t->proto = proto;
    t->proto_data = data;
    return 0;
}

void *acio_transport_get_protocol_data(const acio_transport_t *t)
{
    return t ? t->proto_data : NULL;
}

acio_loop_t *acio_transport_get_loop(const acio_transport_t *t)
{
    return t ? t->loop : NULL;
}

void acio_transport_set_data(acio_transport_t *t, void *data)
{
    if (t)
        t->data = data;
}

void *acio_transport_get_data(const acio_transport_t *t)
{
    return t ? t->data : NULL;
}
