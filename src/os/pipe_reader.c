/* The read end of a pipe as a StreamReader: asyncio's _UnixReadPipeTransport feeding a
 * StreamReader, folded into one object. The loop reads eagerly into a buffer whenever the
 * pipe is readable, pauses above 2 * limit buffered bytes and resumes at limit, so a
 * chatty child is throttled by its full pipe instead of filling our memory; coroutines
 * (read, readline, read_all) take data from the buffer and wait for more.
 *
 * A stand-in until the streams layer covers pipes; the names and semantics are
 * StreamReader's so that callers move over unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/os_internal.h"

#define DEFAULT_LIMIT (64 * 1024)
#define READ_CHUNK    (64 * 1024)

struct acio_pipe_reader_s {
    acio_loop_t *loop;
    int fd;
    char *buf;
    size_t start, end, cap; /* buffered bytes are buf[start..end) */
    size_t limit;
    int error;      /* a read error, reported once the buffer is empty */
    bool eof;       /* the writer closed (or a read failed): no more data will come */
    bool reading;   /* registered with add_reader */
    bool unlimited; /* never pause (communicate) */
    acio_future_t *waiter;
};

static size_t buffered(const acio_pipe_reader_t *r)
{
    return r->end - r->start;
}

static void on_readable(int fd, int events, void *data);

static void pause_reading(acio_pipe_reader_t *r)
{
    if (r->reading) {
        acio_loop_remove_reader(r->loop, r->fd);
        r->reading = false;
    }
}

static void resume_reading(acio_pipe_reader_t *r)
{
    if (!r->reading && !r->eof && r->fd >= 0) {
        if (acio_loop_add_reader(r->loop, r->fd, on_readable, r) == 0)
            r->reading = true;
    }
}

/* Make room for READ_CHUNK more bytes at the end of the buffer. */
static int reserve(acio_pipe_reader_t *r)
{
    if (r->cap - r->end >= READ_CHUNK)
        return 0;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, buffered(r));
        r->end -= r->start;
        r->start = 0;
        if (r->cap - r->end >= READ_CHUNK)
            return 0;
    }
    size_t cap = r->cap ? r->cap : READ_CHUNK;
    while (cap - r->end < READ_CHUNK)
        cap *= 2;
    char *buf = acio__realloc(r->buf, cap);
    if (!buf)
        return -ENOMEM;
    r->buf = buf;
    r->cap = cap;
    return 0;
}

static void on_readable(int fd, int events, void *data)
{
    (void)events;
    acio_pipe_reader_t *r = data;
    if (reserve(r) < 0) {
        /* Leave the data in the pipe and try again when someone consumes. */
        pause_reading(r);
        acio__os_wake(&r->waiter);
        return;
    }
    ssize_t n = read(fd, r->buf + r->end, r->cap - r->end);
    if (n > 0) {
        r->end += (size_t)n;
        if (!r->unlimited && buffered(r) > 2 * r->limit)
            pause_reading(r);
    } else if (n == 0) {
        r->eof = true;
        pause_reading(r);
    } else if (errno == EAGAIN || errno == EINTR) {
        return;
    } else {
        r->error = -errno;
        r->eof = true;
        pause_reading(r);
    }
    acio__os_wake(&r->waiter);
}

int acio__pipe_reader_new(acio_loop_t *loop, int fd, size_t limit, acio_pipe_reader_t **out)
{
    acio_pipe_reader_t *r = acio__calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->loop = loop;
    r->fd = fd;
    r->limit = limit ? limit : DEFAULT_LIMIT;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int err = -errno;
        acio__free(r);
        return err;
    }
    int rc = acio_loop_add_reader(loop, fd, on_readable, r);
    if (rc < 0) {
        acio__free(r);
        return rc;
    }
    r->reading = true;
    *out = r;
    return 0;
}

void acio__pipe_reader_free(acio_pipe_reader_t *r)
{
    if (!r)
        return;
    pause_reading(r);
    if (r->fd >= 0)
        close(r->fd);
    acio__free(r->buf);
    acio__free(r);
}

void acio__pipe_reader_set_unlimited(acio_pipe_reader_t *r, bool unlimited)
{
    r->unlimited = unlimited;
    if (unlimited)
        resume_reading(r);
    else if (buffered(r) > 2 * r->limit)
        pause_reading(r);
}

/* Called after taking data: asyncio's _maybe_resume_transport. */
static void consumed(acio_pipe_reader_t *r)
{
    if (r->start == r->end)
        r->start = r->end = 0;
    if (buffered(r) <= r->limit)
        resume_reading(r);
}

/* Wait until something changes: more data, EOF or an error. */
static int wait_data(acio_pipe_reader_t *r)
{
    resume_reading(r);
    return acio__os_wait(r->loop, &r->waiter, "pipe.read");
}

bool acio_pipe_reader_at_eof(const acio_pipe_reader_t *r)
{
    return r && r->eof && buffered(r) == 0;
}

size_t acio_pipe_reader_buffered(const acio_pipe_reader_t *r)
{
    return r ? buffered(r) : 0;
}

ssize_t acio_pipe_reader_read(acio_pipe_reader_t *r, void *buf, size_t n)
{
    if (!r || (!buf && n))
        return -EINVAL;
    if (n == 0)
        return 0;
    while (buffered(r) == 0) {
        if (r->eof)
            return r->error;
        int rc = wait_data(r);
        if (rc < 0)
            return rc;
    }
    size_t take = buffered(r) < n ? buffered(r) : n;
    memcpy(buf, r->buf + r->start, take);
    r->start += take;
    consumed(r);
    return (ssize_t)take;
}

int acio__pipe_reader_wait_eof(acio_pipe_reader_t *r)
{
    bool was_unlimited = r->unlimited;
    acio__pipe_reader_set_unlimited(r, true);
    int rc = 0;
    while (!r->eof && rc == 0)
        rc = wait_data(r);
    acio__pipe_reader_set_unlimited(r, was_unlimited);
    return rc;
}

int acio__pipe_reader_take_all(acio_pipe_reader_t *r, void **out, size_t *len)
{
    if (r->error)
        return r->error;
    size_t n = buffered(r);
    char *s = malloc(n + 1);
    if (!s)
        return -ENOMEM;
    if (n)
        memcpy(s, r->buf + r->start, n);
    s[n] = '\0';
    r->start += n;
    consumed(r);
    *out = s;
    if (len)
        *len = n;
    return 0;
}

int acio_pipe_reader_read_all(acio_pipe_reader_t *r, void **out, size_t *len)
{
    if (!r || !out)
        return -EINVAL;
    int rc = acio__pipe_reader_wait_eof(r);
    return rc < 0 ? rc : acio__pipe_reader_take_all(r, out, len);
}

/* Move the first n buffered bytes to buf (n <= cap checked by the caller). */
static ssize_t take_line(acio_pipe_reader_t *r, void *buf, size_t cap, size_t n)
{
    if (n > cap)
        return -ENOBUFS;
    if (n)
        memcpy(buf, r->buf + r->start, n);
    r->start += n;
    consumed(r);
    return (ssize_t)n;
}

ssize_t acio_pipe_reader_readline(acio_pipe_reader_t *r, void *buf, size_t cap)
{
    if (!r || (!buf && cap))
        return -EINVAL;
    size_t scanned = 0;
    for (;;) {
        char *base = r->buf + r->start;
        char *nl =
            buffered(r) > scanned ? memchr(base + scanned, '\n', buffered(r) - scanned) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - base) + 1;
            if (n > r->limit) {
                /* asyncio's readline drops the over-long line (separator included) and
                 * raises ValueError, so the stream can go on. */
                r->start += n;
                consumed(r);
                return ACIO_ELIMITOVERRUN;
            }
            return take_line(r, buf, cap, n);
        }
        scanned = buffered(r);
        if (scanned > r->limit) {
            /* No newline within the limit: asyncio clears the buffer. */
            r->start = r->end;
            consumed(r);
            return ACIO_ELIMITOVERRUN;
        }
        if (r->eof) {
            if (r->error && scanned == 0)
                return r->error;
            return take_line(r, buf, cap, scanned);
        }
        int rc = wait_data(r);
        if (rc < 0)
            return rc;
    }
}
