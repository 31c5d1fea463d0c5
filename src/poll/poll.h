/* The poll backend interface: the loop talks to the kernel's readiness API only through
 * these functions, so another backend (io_uring) can sit behind the same six calls. */
#ifndef ACIO_POLL_H
#define ACIO_POLL_H

#include <stdint.h>

typedef struct {
    int fd;
    int events; /* ACIO_READABLE | ACIO_WRITABLE, plus both on error/hang-up */
} acio_poll_event_t;

typedef struct acio_poller_s acio_poller_t;

int acio__poller_new(acio_poller_t **out);
void acio__poller_free(acio_poller_t *p);
/* Start watching fd for events (a mask of ACIO_READABLE/ACIO_WRITABLE). */
int acio__poller_add(acio_poller_t *p, int fd, int events);
int acio__poller_modify(acio_poller_t *p, int fd, int events);
int acio__poller_delete(acio_poller_t *p, int fd);
/* Wait up to timeout_ns (-1: forever, 0: just look). Fills out[0..n) and returns n, or a
 * negative code. EINTR counts as zero events. */
int acio__poller_wait(acio_poller_t *p, int64_t timeout_ns, acio_poll_event_t *out, int cap);

#endif
