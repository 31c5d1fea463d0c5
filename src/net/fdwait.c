/* Waiting for fd readiness inside a task (see fdwait.h). Each wait costs one future and
 * a reader/writer registration; that is fine for the sock_* coroutines, connect and
 * accept, which are not the per-message fast path (transports are). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>

#include "net/fdwait.h"

#define READY    ((void *)1)
#define TIMEDOUT ((void *)2)

int acio__net_coro_loop(acio_loop_t **loop)
{
    acio_loop_t *running = acio_get_running_loop();
    if (!running)
        return ACIO_ENOLOOP;
    if (*loop && *loop != running)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    *loop = running;
    return 0;
}

static void ready_cb(int fd, int events, void *arg)
{
    (void)fd;
    (void)events;
    acio_future_t *fut = arg;
    if (!acio_future_done(fut))
        acio_future_set_result(fut, READY);
}

static void timeout_cb(void *arg)
{
    acio_future_t *fut = arg;
    if (!acio_future_done(fut))
        acio_future_set_result(fut, TIMEDOUT);
}

int acio__wait_fd(acio_loop_t *loop, int fd, int events, double deadline)
{
    acio_future_t *fut;
    int rc = acio_future_new(loop, &fut);
    if (rc < 0)
        return rc;
    acio_future_set_label(fut, events == ACIO_READABLE ? "sock readable" : "sock writable");
    if (events == ACIO_READABLE)
        rc = acio_loop_add_reader(loop, fd, ready_cb, fut);
    else
        rc = acio_loop_add_writer(loop, fd, ready_cb, fut);
    if (rc < 0) {
        acio_future_unref(fut);
        return rc == -EEXIST ? -EBUSY : rc;
    }
    acio_handle_t *timer = NULL;
    if (deadline > 0) {
        rc = acio_loop_call_at(loop, deadline, timeout_cb, fut, &timer);
        if (rc < 0)
            goto out;
    }
    void *res = NULL;
    rc = acio_await(fut, &res);
    if (rc == 0 && res == TIMEDOUT)
        rc = -ETIMEDOUT;
out:
    if (events == ACIO_READABLE)
        acio_loop_remove_reader(loop, fd);
    else
        acio_loop_remove_writer(loop, fd);
    if (timer) {
        acio_handle_cancel(timer);
        acio_handle_unref(timer);
    }
    acio_future_unref(fut);
    return rc;
}

int acio__fd_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

int acio__gai_error(int eai, int saved_errno)
{
    switch (eai) {
    case 0:
        return 0;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
    case EAI_FAIL:
        return -ENXIO;
    case EAI_AGAIN:
        return -EAGAIN;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_FAMILY:
        return -EAFNOSUPPORT;
    case EAI_SOCKTYPE:
        return -ESOCKTNOSUPPORT;
    case EAI_SERVICE:
    case EAI_BADFLAGS:
        return -EINVAL;
    case EAI_OVERFLOW:
        return -ENAMETOOLONG;
    case EAI_SYSTEM:
        return saved_errno ? -saved_errno : -EIO;
    default:
        return -EIO;
    }
}
