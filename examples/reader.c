/* Seed 001 §3.7 / seed 003 §1.5: a Reader whose __anext__ awaits readline() and stops
 * at the end, used with `async for`:
 *
 *     class Reader:
 *         async def readline(self):
 *             ...
 *         def __aiter__(self):
 *             return self
 *         async def __anext__(self):
 *             val = await self.readline()
 *             if val == b'':
 *                 raise StopAsyncIteration
 *             return val
 *
 *     async def main():
 *         reader = Reader(...)
 *         async for line in reader:
 *             print(line)
 *
 * Here readline() really reads: lines come from a pipe, which a writer task fills a few
 * lines at a time (the numbers 1 to 99, as seed 001's counting Reader yields), and
 * readline() waits for the pipe to become readable with add_reader and a future, as
 * asyncio's streams do. The Reader implements acio's async-iterator protocol, so
 * ACIO_AFOR is the `async for`. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

typedef struct {
    acio_aiter_t it; /* first: the protocol */
    int fd;
    char buf[256];
    size_t len;
    char line[256]; /* the line anext returns, valid until the next call */
    acio_future_t *readable;
} reader_t;

static void on_readable(int fd, int events, void *data)
{
    reader_t *r = data;
    (void)events;
    acio_loop_remove_reader(acio_get_running_loop(), fd);
    if (r->readable != NULL && !acio_future_done(r->readable))
        acio_future_set_result(r->readable, NULL);
}

/* Wait until the pipe has data (or its writer closed it). */
static int wait_readable(reader_t *r)
{
    acio_loop_t *loop = acio_get_running_loop();
    int rc;
    if ((rc = acio_future_new(loop, &r->readable)) < 0)
        return rc;
    acio_future_set_label(r->readable, "reader.readline");
    if ((rc = acio_loop_add_reader(loop, r->fd, on_readable, r)) == 0) {
        rc = acio_await(r->readable, NULL);
        if (rc < 0)
            acio_loop_remove_reader(loop, r->fd);
    }
    acio_future_unref(r->readable);
    r->readable = NULL;
    return rc;
}

/* readline(): 1 and the line (without its newline) in r->line, 0 at the end of the
 * stream (the seed's b''), or a negative error. */
static int readline(reader_t *r)
{
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - r->buf);
            memcpy(r->line, r->buf, n);
            r->line[n] = '\0';
            r->len -= n + 1;
            memmove(r->buf, nl + 1, r->len);
            return 1;
        }
        ssize_t got = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
        if (got > 0) {
            r->len += (size_t)got;
        } else if (got == 0) {
            return 0;
        } else if (errno == EAGAIN) {
            int rc = wait_readable(r);
            if (rc < 0)
                return rc;
        } else if (errno != EINTR) {
            return -errno;
        }
    }
}

/* __anext__ */
static int reader_anext(acio_aiter_t *it, void **value)
{
    reader_t *r = (reader_t *)it;
    int rc = readline(r);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ACIO_ESTOPASYNCITERATION;
    *value = r->line;
    return 0;
}

/* Writes the lines 1..99 a few at a time, letting the reader catch up in between. */
static void *writer(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char chunk[64];
    int n = 1;
    while (n < 100) {
        size_t len = 0;
        for (int k = 0; k < 7 && n < 100; k++, n++)
            len += (size_t)snprintf(chunk + len, sizeof chunk - len, "%d\n", n);
        if (write(fd, chunk, len) != (ssize_t)len)
            return acio_raise(-EIO, "short write to the pipe");
        int rc = acio_sleep(0);
        if (rc < 0) {
            close(fd);
            return acio_raise(rc, "writer interrupted");
        }
    }
    close(fd); /* the reader sees the end of the stream */
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    reader_t reader = {.it = {reader_anext, NULL, NULL}};
    acio_task_t *w;
    int fds[2], rc;
    void *line;

    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return acio_raise(-errno, "pipe");
    reader.fd = fds[0];
    if ((rc = acio_create_task(&w, writer, (void *)(intptr_t)fds[1], "writer")) < 0)
        return acio_raise(rc, "create_task");

    ACIO_AFOR(rc, &reader.it, line)
    printf("%s\n", (char *)line);

    close(fds[0]);
    int wrc = acio_await(w, NULL);
    acio_future_unref(w);
    if (!acio_afor_failed(rc) && wrc < 0)
        return acio_raise(wrc, "the writer failed");
    if (acio_afor_failed(rc))
        return acio_raise(rc, "reading the pipe");
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "reader: %s\n", acio_strerror(rc));
    return rc < 0;
}
