/* asyncio's loop.sock_* coroutines: try the system call, and only when it would block
 * wait for readiness inside the task (fdwait.c) and try again. recv/send use
 * MSG_DONTWAIT so that a socket left blocking by mistake can still never block the
 * loop; accept and connect need a non-blocking fd and say so. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/fdwait.h"

static int check_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    /* asyncio raises ValueError("the socket must be non-blocking"). */
    return (fl & O_NONBLOCK) ? 0 : -EINVAL;
}

ssize_t acio_loop_sock_recvfrom(acio_loop_t *loop, int fd, void *buf, size_t len,
                                struct sockaddr *addr, socklen_t *addrlen)
{
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!buf && len)
        return -EINVAL;
    for (;;) {
        ssize_t n = recvfrom(fd, buf, len, MSG_DONTWAIT, addr, addr ? addrlen : NULL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        rc = acio__wait_fd(loop, fd, ACIO_READABLE, 0);
        if (rc < 0)
            return rc;
    }
}

ssize_t acio_loop_sock_recv(acio_loop_t *loop, int fd, void *buf, size_t len)
{
    return acio_loop_sock_recvfrom(loop, fd, buf, len, NULL, NULL);
}

ssize_t acio_loop_sock_recv_into(acio_loop_t *loop, int fd, void *buf, size_t len)
{
    return acio_loop_sock_recvfrom(loop, fd, buf, len, NULL, NULL);
}

int acio_loop_sock_sendall(acio_loop_t *loop, int fd, const void *buf, size_t len)
{
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!buf && len)
        return -EINVAL;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        rc = acio__wait_fd(loop, fd, ACIO_WRITABLE, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

ssize_t acio_loop_sock_sendto(acio_loop_t *loop, int fd, const void *buf, size_t len,
                              const struct sockaddr *addr, socklen_t addrlen)
{
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    for (;;) {
        ssize_t n = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, addr, addrlen);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        rc = acio__wait_fd(loop, fd, ACIO_WRITABLE, 0);
        if (rc < 0)
            return rc;
    }
}

int acio_loop_sock_accept(acio_loop_t *loop, int fd, int *conn, struct sockaddr *addr,
                          socklen_t *addrlen)
{
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!conn || (addr && !addrlen))
        return -EINVAL;
    if ((rc = check_nonblocking(fd)) < 0)
        return rc;
    for (;;) {
        int c = accept4(fd, addr, addr ? addrlen : NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
            *conn = c;
            return 0;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        rc = acio__wait_fd(loop, fd, ACIO_READABLE, 0);
        if (rc < 0)
            return rc;
    }
}

int acio__sock_connect_deadline(acio_loop_t *loop, int fd, const struct sockaddr *addr,
                                socklen_t addrlen, double deadline)
{
    int rc;
    if (connect(fd, addr, addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return -errno;
    rc = acio__wait_fd(loop, fd, ACIO_WRITABLE, deadline);
    if (rc < 0)
        return rc;
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        return -errno;
    return -err;
}

int acio_loop_sock_connect(acio_loop_t *loop, int fd, const struct sockaddr *addr,
                           socklen_t addrlen)
{
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!addr)
        return -EINVAL;
    if ((rc = check_nonblocking(fd)) < 0)
        return rc;
    return acio__sock_connect_deadline(loop, fd, addr, addrlen, 0);
}

/* The fallback: read the file with pread (which leaves its offset alone) and send. */
static ssize_t sendfile_fallback(acio_loop_t *loop, int fd, int file_fd, off_t offset, size_t count,
                                 size_t sent)
{
    enum { CHUNK = 64 * 1024 };
    char *buf = acio__malloc(CHUNK);
    if (!buf)
        return -ENOMEM;
    ssize_t rc = 0;
    bool seekable = true;
    while (sent < count) {
        size_t want = count - sent < CHUNK ? count - sent : CHUNK;
        ssize_t n =
            seekable ? pread(file_fd, buf, want, offset + (off_t)sent) : read(file_fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ESPIPE && seekable && offset == 0 && sent == 0) {
            seekable = false; /* a pipe or socket: read it from where it is */
            continue;
        }
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break; /* the file shrank */
        int s = acio_loop_sock_sendall(loop, fd, buf, (size_t)n);
        if (s < 0) {
            rc = s;
            break;
        }
        sent += (size_t)n;
    }
    acio__free(buf);
    return rc < 0 ? rc : (ssize_t)sent;
}

ssize_t acio_loop_sock_sendfile(acio_loop_t *loop, int fd, int file_fd, off_t offset, size_t count,
                                bool fallback)
{
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (offset < 0)
        return -EINVAL;
    struct stat st;
    if (fstat(file_fd, &st) < 0)
        return -errno;
    if (count == 0) {
        if (!S_ISREG(st.st_mode))
            return -EINVAL; /* "up to the end" needs a size */
        if (st.st_size <= offset)
            return 0;
        count = (size_t)(st.st_size - offset);
    }
    size_t sent = 0;
    while (sent < count) {
        off_t off = offset + (off_t)sent;
        size_t want = count - sent;
        if (want > 0x7ffff000)
            want = 0x7ffff000;
        ssize_t n = sendfile(fd, file_fd, &off, want);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n == 0)
            break; /* end of file */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            rc = acio__wait_fd(loop, fd, ACIO_WRITABLE, 0);
            if (rc < 0)
                return rc;
            continue;
        }
        if ((errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == ESPIPE) &&
            sent == 0) {
            /* This pair of fds cannot use sendfile (e.g. not a regular file / mmap-able
             * source): asyncio raises SendfileNotAvailableError and falls back. */
            if (!fallback)
                return -ENOTSUP;
            return sendfile_fallback(loop, fd, file_fd, offset, count, 0);
        }
        return -errno;
    }
    return (ssize_t)sent;
}
