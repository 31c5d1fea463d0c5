/* The epoll backend. The timeout is rounded up to whole milliseconds so that a timer
 * never wakes the loop early (which would spin until it is due). */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"
#include "poll/poll.h"

#define BATCH 256

struct acio_poller_s {
    int epfd;
    struct epoll_event events[BATCH];
};

int acio__poller_new(acio_poller_t **out)
{
    acio_poller_t *p = acio__malloc(sizeof *p);
    if (!p)
        return -ENOMEM;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
        int e = errno;
        acio__free(p);
        return -e;
    }
    *out = p;
    return 0;
}

void acio__poller_free(acio_poller_t *p)
{
    if (!p)
        return;
    close(p->epfd);
    acio__free(p);
}

static uint32_t to_epoll(int events)
{
    return ((events & ACIO_READABLE) ? EPOLLIN : 0) | ((events & ACIO_WRITABLE) ? EPOLLOUT : 0);
}

static int ctl(acio_poller_t *p, int op, int fd, int events)
{
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    return epoll_ctl(p->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int acio__poller_add(acio_poller_t *p, int fd, int events)
{
    int rc = ctl(p, EPOLL_CTL_ADD, fd, events);
    if (rc == -EEXIST) /* a stale registration of a dup'ed file: take it over */
        rc = ctl(p, EPOLL_CTL_MOD, fd, events);
    return rc;
}

int acio__poller_modify(acio_poller_t *p, int fd, int events)
{
    int rc = ctl(p, EPOLL_CTL_MOD, fd, events);
    if (rc == -ENOENT)
        rc = ctl(p, EPOLL_CTL_ADD, fd, events);
    return rc;
}

int acio__poller_delete(acio_poller_t *p, int fd)
{
    struct epoll_event ev = {0};
    return epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev) < 0 ? -errno : 0;
}

int acio__poller_wait(acio_poller_t *p, int64_t timeout_ns, acio_poll_event_t *out, int cap)
{
    int ms;
    if (timeout_ns < 0)
        ms = -1;
    else if (timeout_ns > (int64_t)1000000 * 86400000)
        ms = 86400000;
    else
        ms = (int)((timeout_ns + 999999) / 1000000);
    if (cap > BATCH)
        cap = BATCH;
    int n = epoll_wait(p->epfd, p->events, cap, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        uint32_t e = p->events[i].events;
        int ev = 0;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
            ev |= ACIO_READABLE;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            ev |= ACIO_WRITABLE;
        out[i].fd = p->events[i].data.fd;
        out[i].events = ev;
    }
    return n;
}
