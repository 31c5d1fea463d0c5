/* The write end of a pipe as a StreamWriter: asyncio's _UnixWritePipeTransport and
 * StreamWriter folded into one object. write() sends what the pipe takes at once and
 * buffers the rest, which the loop flushes in order when the pipe becomes writable;
 * drain() waits while the buffer is above the high-water mark; close() closes the pipe
 * once the buffer is flushed.
 *
 * A C program does not ignore SIGPIPE the way Python does at start-up, so writing to a
 * pipe whose reader is gone would kill the whole process. Rather than changing the
 * process's disposition behind the user's back, each write blocks SIGPIPE in the calling
 * thread and, if the write raised it, consumes it with sigtimedwait: the caller sees
 * -EPIPE and nothing else happens. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "os/os_internal.h"

#define HIGH_WATER (64 * 1024)
#define LOW_WATER  (16 * 1024)

struct acio_pipe_writer_s {
    acio_loop_t *loop;
    int fd;
    char *buf;
    size_t start, end, cap;
    int error;    /* the first write error; later writes report it */
    bool closing; /* close() was called: close the fd once the buffer is empty */
    bool writing; /* registered with add_writer */
    acio_future_t *drain_waiter;
    acio_future_t *close_waiter;
};

static size_t pending(const acio_pipe_writer_t *w)
{
    return w->end - w->start;
}

/* write(2) that turns SIGPIPE into -EPIPE for this call only. */
static ssize_t write_nosigpipe(int fd, const void *data, size_t len)
{
    sigset_t pipe_set, old, was_pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&was_pending);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write(fd, data, len);
    int err = errno;
    if (n < 0 && err == EPIPE && !sigismember(&was_pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return n;
}

static void close_fd(acio_pipe_writer_t *w)
{
    if (w->writing) {
        acio_loop_remove_writer(w->loop, w->fd);
        w->writing = false;
    }
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
}

/* A write failed: drop the buffer (the data is reported lost through the error) and
 * wake everyone, as asyncio's _fatal_error does. */
static void fail(acio_pipe_writer_t *w, int err)
{
    if (!w->error)
        w->error = err;
    w->start = w->end = 0;
    close_fd(w);
    acio__os_wake(&w->drain_waiter);
    acio__os_wake(&w->close_waiter);
}

static void on_writable(int fd, int events, void *data)
{
    (void)events;
    acio_pipe_writer_t *w = data;
    while (pending(w) > 0) {
        ssize_t n = write_nosigpipe(fd, w->buf + w->start, pending(w));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            fail(w, -errno);
            return;
        }
        w->start += (size_t)n;
    }
    if (pending(w) == 0) {
        w->start = w->end = 0;
        acio_loop_remove_writer(w->loop, w->fd);
        w->writing = false;
        if (w->closing) {
            close_fd(w);
            acio__os_wake(&w->close_waiter);
        }
    }
    if (pending(w) <= LOW_WATER)
        acio__os_wake(&w->drain_waiter);
}

int acio__pipe_writer_new(acio_loop_t *loop, int fd, acio_pipe_writer_t **out)
{
    acio_pipe_writer_t *w = acio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int err = -errno;
        acio__free(w);
        return err;
    }
    w->loop = loop;
    w->fd = fd;
    *out = w;
    return 0;
}

void acio__pipe_writer_free(acio_pipe_writer_t *w)
{
    if (!w)
        return;
    close_fd(w);
    acio__free(w->buf);
    acio__free(w);
}

static int append(acio_pipe_writer_t *w, const char *data, size_t len)
{
    if (w->cap - w->end < len) {
        if (w->start > 0) {
            memmove(w->buf, w->buf + w->start, pending(w));
            w->end -= w->start;
            w->start = 0;
        }
        if (w->cap - w->end < len) {
            size_t cap = w->cap ? w->cap : 4096;
            while (cap - w->end < len)
                cap *= 2;
            char *buf = acio__realloc(w->buf, cap);
            if (!buf)
                return -ENOMEM;
            w->buf = buf;
            w->cap = cap;
        }
    }
    memcpy(w->buf + w->end, data, len);
    w->end += len;
    return 0;
}

int acio_pipe_writer_write(acio_pipe_writer_t *w, const void *data, size_t len)
{
    if (!w || (!data && len))
        return -EINVAL;
    if (w->error)
        return w->error;
    if (w->closing)
        return -EINVAL;
    if (len == 0)
        return 0;
    const char *p = data;
    if (pending(w) == 0) {
        ssize_t n;
        do
            n = write_nosigpipe(w->fd, p, len);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN) {
            int err = -errno;
            fail(w, err);
            return err;
        }
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
        if (len == 0)
            return 0;
    }
    int rc = append(w, p, len);
    if (rc < 0) {
        /* Part of data may already be in the pipe: the stream is broken now. */
        if (p != data)
            fail(w, rc);
        return rc;
    }
    if (!w->writing) {
        rc = acio_loop_add_writer(w->loop, w->fd, on_writable, w);
        if (rc < 0) {
            fail(w, rc);
            return rc;
        }
        w->writing = true;
    }
    return 0;
}

int acio_pipe_writer_drain(acio_pipe_writer_t *w)
{
    if (!w)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (pending(w) > HIGH_WATER) {
        while (pending(w) > LOW_WATER && !w->error) {
            int rc = acio__os_wait(w->loop, &w->drain_waiter, "pipe.drain");
            if (rc < 0)
                return rc;
        }
    }
    return w->error;
}

void acio_pipe_writer_close(acio_pipe_writer_t *w)
{
    if (!w || w->closing)
        return;
    w->closing = true;
    if (pending(w) == 0)
        close_fd(w);
}

bool acio_pipe_writer_is_closing(const acio_pipe_writer_t *w)
{
    return !w || w->closing || w->error;
}

int acio_pipe_writer_wait_closed(acio_pipe_writer_t *w)
{
    if (!w)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    while (w->fd >= 0 && !w->error) {
        int rc = acio__os_wait(w->loop, &w->close_waiter, "pipe.wait_closed");
        if (rc < 0)
            return rc;
    }
    return w->error;
}

size_t acio_pipe_writer_buffer_size(const acio_pipe_writer_t *w)
{
    return w ? pending(w) : 0;
}
