/* add_reader / add_writer: callbacks on fd readiness. The fd table is indexed by fd; each
 * side's handle is appended to the ready FIFO when the poller reports the fd, so I/O
 * callbacks run in the same iteration, before due timers, as in asyncio. An fd removed
 * earlier in the iteration has no handle any more, so its stale event is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "loop.h"

static void io_trampoline(void *data);

static int grow(acio_loop_t *loop, int fd)
{
    if (fd < loop->fds_cap)
        return 0;
    int cap = loop->fds_cap ? loop->fds_cap : 64;
    while (cap <= fd)
        cap *= 2;
    acio_fd_entry_t *n = acio__realloc(loop->fds, (size_t)cap * sizeof *n);
    if (!n)
        return -ENOMEM;
    for (int i = loop->fds_cap; i < cap; i++)
        n[i] = (acio_fd_entry_t){0};
    loop->fds = n;
    loop->fds_cap = cap;
    return 0;
}

static int sync_poller(acio_loop_t *loop, int fd)
{
    acio_fd_entry_t *e = &loop->fds[fd];
    int want = (e->reader ? ACIO_READABLE : 0) | (e->writer ? ACIO_WRITABLE : 0);
    int rc = 0;
    if (want == e->registered)
        return 0;
    if (!e->registered) {
        rc = acio__poller_add(loop->poller, fd, want);
        if (rc == 0)
            loop->nwatched++;
    } else if (!want) {
        acio__poller_delete(loop->poller, fd); /* EBADF if the user closed it first: fine */
        loop->nwatched--;
    } else {
        rc = acio__poller_modify(loop->poller, fd, want);
    }
    if (rc == 0)
        e->registered = (uint8_t)want;
    return rc;
}

static int add(acio_loop_t *loop, int fd, int side, acio_io_cb cb, void *data, void *origin)
{
    int rc = acio__loop_check(loop);
    if (rc)
        return rc;
    if (!cb || fd < 0)
        return fd < 0 ? -EBADF : -EINVAL;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return -EPERM;
    if ((rc = grow(loop, fd)))
        return rc;
    acio_fd_entry_t *e = &loop->fds[fd];
    acio_handle_t **slot = side == ACIO_READABLE ? &e->reader : &e->writer;
    if (*slot)
        return -EEXIST;
    acio_handle_t *h = acio__handle_new(loop, io_trampoline, NULL);
    if (!h)
        return -ENOMEM;
    h->when = ((int64_t)fd << 2) | side; /* io_trampoline decodes fd and side */
    h->data = h;
    *slot = h;
    if (side == ACIO_READABLE) {
        e->reader_cb = cb;
        e->reader_data = data;
        e->reader_origin = origin;
    } else {
        e->writer_cb = cb;
        e->writer_data = data;
        e->writer_origin = origin;
    }
    rc = sync_poller(loop, fd);
    if (rc) {
        *slot = NULL;
        acio__handle_release(h);
    }
    return rc;
}

static int remove_side(acio_loop_t *loop, int fd, int side)
{
    int rc = acio__loop_check(loop);
    if (rc)
        return rc;
    if (fd < 0 || fd >= loop->fds_cap)
        return 0;
    acio_fd_entry_t *e = &loop->fds[fd];
    acio_handle_t **slot = side == ACIO_READABLE ? &e->reader : &e->writer;
    acio_handle_t *h = *slot;
    if (!h)
        return 0;
    *slot = NULL;
    acio_handle_cancel(h);
    acio__handle_release(h);
    sync_poller(loop, fd);
    return 1;
}

static void io_trampoline(void *data)
{
    acio_handle_t *h = data;
    acio_loop_t *loop = h->loop;
    int fd = (int)(h->when >> 2), side = (int)(h->when & 3);
    acio_fd_entry_t *e = &loop->fds[fd];
    if (side == ACIO_READABLE)
        e->reader_cb(fd, side, e->reader_data);
    else
        e->writer_cb(fd, side, e->writer_data);
}

void acio__io_dispatch(acio_loop_t *loop, int fd, int events)
{
    if (fd < 0 || fd >= loop->fds_cap)
        return;
    acio_fd_entry_t *e = &loop->fds[fd];
    if ((events & ACIO_READABLE) && e->reader && !(e->reader->flags & HANDLE_QUEUED))
        acio__loop_schedule(loop, e->reader);
    if ((events & ACIO_WRITABLE) && e->writer && !(e->writer->flags & HANDLE_QUEUED))
        acio__loop_schedule(loop, e->writer);
}

void acio__io_close(acio_loop_t *loop)
{
    char where[256];
    for (int fd = 0; fd < loop->fds_cap; fd++) {
        acio_fd_entry_t *e = &loop->fds[fd];
        for (int side = ACIO_READABLE; side <= ACIO_WRITABLE; side++) {
            acio_handle_t *h = side == ACIO_READABLE ? e->reader : e->writer;
            if (!h)
                continue;
            char msg[96];
            snprintf(msg, sizeof msg, "loop closed with a %s still registered on fd %d",
                     side == ACIO_READABLE ? "reader" : "writer", fd);
            acio_error_context_t ctx = {
                .message = msg,
                .handle = h,
                .origin = acio__describe_address(side == ACIO_READABLE ? e->reader_origin
                                                                       : e->writer_origin,
                                                 where, sizeof where),
            };
            acio_loop_call_exception_handler(loop, &ctx);
            acio__handle_release(h);
        }
    }
    acio__free(loop->fds);
    loop->fds = NULL;
    loop->fds_cap = 0;
}

int acio_loop_add_reader(acio_loop_t *loop, int fd, acio_io_cb cb, void *data)
{
    return add(loop, fd, ACIO_READABLE, cb, data, ACIO_CALLER());
}
int acio_loop_add_writer(acio_loop_t *loop, int fd, acio_io_cb cb, void *data)
{
    return add(loop, fd, ACIO_WRITABLE, cb, data, ACIO_CALLER());
}
int acio_loop_remove_reader(acio_loop_t *loop, int fd)
{
    return remove_side(loop, fd, ACIO_READABLE);
}
int acio_loop_remove_writer(acio_loop_t *loop, int fd)
{
    return remove_side(loop, fd, ACIO_WRITABLE);
}
