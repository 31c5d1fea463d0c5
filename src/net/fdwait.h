/* Waiting inside a task for an fd to become ready, with an optional deadline: the one
 * readiness primitive the socket coroutines (sock.c), connect and accept are built on.
 * A completion-based backend would replace these waits, not the code above them. */
#ifndef ACIO_NET_FDWAIT_H
#define ACIO_NET_FDWAIT_H

#include <sys/socket.h>

#include "internal.h"

/* Resolve a loop argument for a coroutine: NULL means the running loop. Also checks
 * that we are inside a task on that loop. Returns 0, ACIO_ENOTASK, ACIO_ENOLOOP or
 * -EINVAL (a loop other than the running one). */
int acio__net_coro_loop(acio_loop_t **loop);

/* Suspend the current task until fd is readable (ACIO_READABLE) or writable
 * (ACIO_WRITABLE), or until the loop time reaches deadline (<= 0: none).
 * Returns 0, -ETIMEDOUT, -ECANCELED, -EBUSY (fd already has a reader/writer), or the
 * loop's registration errors. */
int acio__wait_fd(acio_loop_t *loop, int fd, int events, double deadline);

/* connect() a non-blocking fd and wait (until deadline, <= 0: none) for the result.
 * Returns 0 or the connection's error (-ECONNREFUSED, -ETIMEDOUT, ...). */
int acio__sock_connect_deadline(acio_loop_t *loop, int fd, const struct sockaddr *addr,
                                socklen_t addrlen, double deadline);

/* Connect to one of the addresses of res (in interleaved order when interleave > 0),
 * starting a new attempt every delay seconds while earlier ones are pending (delay 0:
 * one at a time), binding to a matching local address if local is non-NULL. *fd gets
 * the connected socket. Errors: the last attempt's, -ETIMEDOUT at deadline (loop
 * time; <= 0: none), -ECANCELED. Coroutine. */
struct addrinfo;
int acio__connect_addrinfo(acio_loop_t *loop, struct addrinfo *res, struct addrinfo *local,
                           double delay, int interleave, double deadline, int *fd);

/* Fill a Unix socket address for path ('@' first: abstract namespace). -EINVAL if
 * path is empty or too long. */
struct sockaddr_un;
int acio__unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len);

/* Make fd non-blocking and close-on-exec. Returns 0 or -errno. */
int acio__fd_nonblock_cloexec(int fd);

/* Map a getaddrinfo / getnameinfo EAI_* code to an errno-style code (see net.h). */
int acio__gai_error(int eai, int saved_errno);

#endif
