/* Networking on the event loop: asyncio's loop.sock_* coroutines, getaddrinfo and
 * getnameinfo, create_connection / create_server (TCP and Unix sockets), datagram
 * endpoints, pipes, and the Server object.
 *
 * Functions documented as coroutines must be called from inside a task running on loop
 * (loop may be NULL for the running loop); they suspend the task, never the loop, and
 * return -ECANCELED if the task is cancelled while they wait (everything they opened is
 * closed again). Called outside a task they return ACIO_ENOTASK.
 *
 * Ports are ints (0..65535); hosts are names or numeric addresses. Sockets passed in
 * must be non-blocking; sockets acio creates are non-blocking and close-on-exec. */
#ifndef ACIO_NET_H
#define ACIO_NET_H

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common.h"
#include "transport.h"

typedef struct acio_server_s acio_server_t;
typedef struct acio_ssl_context_s acio_ssl_context_t;

/* ---- low-level socket coroutines (loop.sock_*) ---- */

/* Receive up to len bytes from a connected socket. Coroutine. Returns the count (0 at
 * EOF) or a negative code (-ECONNRESET, -ECANCELED, -EBUSY if another reader is
 * registered for fd, ...). */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_loop_sock_recv(acio_loop_t *loop, int fd, void *buf,
                                                       size_t len);
/* Same as acio_loop_sock_recv (in C both receive into the caller's buffer); kept for
 * asyncio's name. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_loop_sock_recv_into(acio_loop_t *loop, int fd, void *buf,
                                                            size_t len);
/* Receive one datagram; *addrlen is in/out (addr may be NULL). Coroutine. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_loop_sock_recvfrom(acio_loop_t *loop, int fd, void *buf,
                                                           size_t len, struct sockaddr *addr,
                                                           socklen_t *addrlen);
/* Send all len bytes. Coroutine. Returns 0, or a negative code; on error some prefix
 * of the data may have been sent (as in asyncio). */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_sock_sendall(acio_loop_t *loop, int fd, const void *buf,
                                                      size_t len);
/* Send one datagram. Coroutine. Returns the count sent or a negative code. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_loop_sock_sendto(acio_loop_t *loop, int fd, const void *buf,
                                                         size_t len, const struct sockaddr *addr,
                                                         socklen_t addrlen);
/* Accept a connection. Coroutine. *conn receives a new non-blocking, close-on-exec fd
 * owned by the caller; addr/addrlen (may be NULL) receive the peer's address. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_sock_accept(acio_loop_t *loop, int fd, int *conn,
                                                     struct sockaddr *addr, socklen_t *addrlen);
/* Connect fd to addr. Coroutine. Errors: -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, ... */
ACIO_EXTERN ACIO_NODISCARD int
acio_loop_sock_connect(acio_loop_t *loop, int fd, const struct sockaddr *addr, socklen_t addrlen);
/* Send count bytes of file_fd starting at offset (count 0: up to the end of the file)
 * with sendfile(2); if sendfile cannot be used for this pair of fds and fallback is true,
 * read and send in chunks instead. Coroutine. Returns the number of bytes sent, or a
 * negative code (-ENOTSUP when sendfile is unusable and fallback is false). The file's
 * own offset is left unchanged. */
ACIO_EXTERN ACIO_NODISCARD ssize_t acio_loop_sock_sendfile(acio_loop_t *loop, int fd, int file_fd,
                                                           off_t offset, size_t count,
                                                           bool fallback);

/* ---- name resolution ---- */

/* getaddrinfo(3) without blocking the loop. Coroutine. Numeric hosts and ports are
 * resolved at once in the calling task; names are resolved on a helper thread (see
 * docs/net.md). timeout <= 0 means no limit. *res is released with freeaddrinfo().
 * Errors (getaddrinfo's EAI_* mapped to errno codes): -ENXIO (name unknown, EAI_NONAME
 * / EAI_NODATA / EAI_FAIL), -EAGAIN (temporary DNS failure), -EAFNOSUPPORT,
 * -ESOCKTNOSUPPORT, -EINVAL (bad flags or service), -ENOMEM, -ETIMEDOUT, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_getaddrinfo(acio_loop_t *loop, const char *host,
                                                     const char *port, const struct addrinfo *hints,
                                                     struct addrinfo **res, double timeout);
/* getnameinfo(3) without blocking the loop. Coroutine. Same errors as getaddrinfo. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_getnameinfo(acio_loop_t *loop, const struct sockaddr *addr,
                                                     socklen_t addrlen, char *host, size_t hostlen,
                                                     char *serv, size_t servlen, int flags,
                                                     double timeout);

/* ---- connections ---- */

typedef struct {
    int family; /* AF_UNSPEC (0), AF_INET or AF_INET6 */
    int flags;  /* extra getaddrinfo flags */
    /* local_addr: bind before connecting when local_host or local_port is set. */
    const char *local_host;
    int local_port;
    /* Happy eyeballs (RFC 8305, asyncio's happy_eyeballs_delay): seconds to wait for an
     * attempt before starting the next one in parallel. 0 tries the addresses one
     * after another (asyncio's None). */
    double happy_eyeballs_delay;
    /* Reorder addresses by family: 0 means the default (1 when happy eyeballs is on). */
    int interleave;
    /* Seconds for resolution plus connecting; <= 0: no limit. Error -ETIMEDOUT. */
    double timeout;
    /* TLS (see tls.h): a client context turns the connection into TLS. */
    acio_ssl_context_t *ssl;
    const char *server_hostname;  /* for SNI and verification; default: host */
    double ssl_handshake_timeout; /* <= 0: 60 s */
} acio_connection_opts_t;

/* loop.create_connection: resolve host, connect (trying each address, see opts), and
 * attach proto/proto_data to the new transport. Coroutine. When it returns 0,
 * connection_made has been called and *out holds a reference for the caller
 * (acio_transport_unref). On error no protocol callback is ever called (proto_data
 * stays the caller's), with one exception taken from asyncio: a cancellation that
 * reaches the task after connection_made already ran returns -ECANCELED, closes the
 * transport, and the protocol gets its connection_lost. The error is the last
 * attempt's (-ECONNREFUSED, ...), or -ETIMEDOUT, a resolution error, -ECANCELED. opts
 * may be NULL. out may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int
acio_loop_create_connection(acio_loop_t *loop, acio_transport_t **out, const acio_protocol_t *proto,
                            void *proto_data, const char *host, int port,
                            const acio_connection_opts_t *opts);
/* loop.create_unix_connection: connect to the Unix socket at path (a leading '@' means
 * the Linux abstract namespace). Coroutine. As create_connection otherwise. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_create_unix_connection(acio_loop_t *loop,
                                                                acio_transport_t **out,
                                                                const acio_protocol_t *proto,
                                                                void *proto_data, const char *path,
                                                                const acio_connection_opts_t *opts);
/* loop.connect_accepted_socket: wrap an already connected socket fd. On success the
 * transport owns fd (closes it); on error the caller still does, except after
 * -ECANCELED (the transport had taken it and closed it). Coroutine. */
ACIO_EXTERN ACIO_NODISCARD int
acio_loop_connect_accepted_socket(acio_loop_t *loop, acio_transport_t **out,
                                  const acio_protocol_t *proto, void *proto_data, int fd,
                                  const acio_connection_opts_t *opts);

/* ---- pipes ---- */

/* loop.connect_read_pipe / connect_write_pipe: a transport over the read or write end
 * of a pipe (or a FIFO, tty or socket). On success the transport owns fd. Writing to a
 * pipe whose reader is gone gives -EPIPE, never SIGPIPE (acio ignores SIGPIPE once
 * the first write pipe is connected, as Python does at start-up). Coroutines. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_connect_read_pipe(acio_loop_t *loop,
                                                           acio_transport_t **out,
                                                           const acio_protocol_t *proto,
                                                           void *proto_data, int fd);
ACIO_EXTERN ACIO_NODISCARD int acio_loop_connect_write_pipe(acio_loop_t *loop,
                                                            acio_transport_t **out,
                                                            const acio_protocol_t *proto,
                                                            void *proto_data, int fd);

/* ---- datagrams ---- */

typedef struct {
    int family;             /* AF_UNSPEC, AF_INET, AF_INET6 (AF_UNIX: use the *_path fields) */
    const char *local_host; /* bind when local_host or local_port is set */
    int local_port;
    const char *remote_host; /* connect when remote_host is set */
    int remote_port;
    const char *local_path, *remote_path; /* AF_UNIX datagram sockets */
    bool reuse_port;
    bool allow_broadcast;
} acio_datagram_opts_t;

/* loop.create_datagram_endpoint. Coroutine. *out receives a reference for the caller.
 * Errors: -EINVAL (neither local nor remote given and no family), resolution and
 * socket errors. */
ACIO_EXTERN ACIO_NODISCARD int
acio_loop_create_datagram_endpoint(acio_loop_t *loop, acio_transport_t **out,
                                   const acio_datagram_protocol_t *proto, void *proto_data,
                                   const acio_datagram_opts_t *opts);

/* ---- servers ---- */

typedef struct {
    int family;  /* AF_UNSPEC: every address host resolves to */
    int flags;   /* extra getaddrinfo flags (AI_PASSIVE is always set) */
    int backlog; /* 0: 100, asyncio's default */
    /* Several hosts (asyncio accepts a sequence): used instead of host when nhosts > 0. */
    const char *const *hosts;
    size_t nhosts;
    bool reuse_port;    /* SO_REUSEPORT; SO_REUSEADDR is always set, as asyncio on POSIX */
    bool keep_alive;    /* SO_KEEPALIVE on accepted connections (3.13) */
    bool delay_serving; /* asyncio's start_serving=False: call start_serving later */
    /* Accepting pauses this long when fds run out (EMFILE/ENFILE); 0: 1 s like asyncio. */
    double accept_retry_delay;
    acio_ssl_context_t *ssl; /* a server context serves TLS */
    double ssl_handshake_timeout;
    /* Called with what the factory returned when that connection could not be set up
     * after the factory ran (see acio_protocol_release); NULL: nothing to release.
     * start_server sets its own (the stream it made) and ignores this one. */
    acio_protocol_release factory_release;
} acio_server_opts_t;

/* loop.create_server: listen on every address host resolves to (NULL: all interfaces,
 * IPv4 and IPv6) at port (0: a free port, the same one for every address when
 * possible), and for each connection get a protocol from factory. Coroutine (it may
 * resolve host). *out is the caller's: release it with acio_server_free(). A protocol
 * the factory returned gets connection_made and connection_lost, or, if its connection
 * could not be set up, only opts->factory_release (the factory's data would otherwise
 * leak: set it whenever the factory allocates).
 * Errors: -EADDRINUSE, -EACCES, resolution errors, -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_create_server(acio_loop_t *loop, acio_server_t **out,
                                                       acio_protocol_factory factory,
                                                       void *factory_data, const char *host,
                                                       int port, const acio_server_opts_t *opts);
/* loop.create_unix_server: listen on a Unix socket at path. A stale socket file left at
 * path is removed first; the file is removed when the server closes (3.13's
 * cleanup_socket). Coroutine. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_create_unix_server(acio_loop_t *loop, acio_server_t **out,
                                                            acio_protocol_factory factory,
                                                            void *factory_data, const char *path,
                                                            const acio_server_opts_t *opts);

/* Start accepting (no-op if serving). Errors: -EBADF once closed. */
ACIO_EXTERN ACIO_NODISCARD int acio_server_start_serving(acio_server_t *s);
ACIO_EXTERN bool acio_server_is_serving(const acio_server_t *s);
/* Serve until the server is closed (returns 0) or the task is cancelled (closes the
 * server, waits for it, returns -ECANCELED). Coroutine. Errors: -EBUSY if another task
 * is already in serve_forever, -EBADF if the server is closed. */
ACIO_EXTERN ACIO_NODISCARD int acio_server_serve_forever(acio_server_t *s);
/* Stop listening and close the listening sockets. Connections already accepted stay
 * open (see close_clients). Idempotent. */
ACIO_EXTERN void acio_server_close(acio_server_t *s);
/* Close / abort every connection the server accepted (3.13). */
ACIO_EXTERN void acio_server_close_clients(acio_server_t *s);
ACIO_EXTERN void acio_server_abort_clients(acio_server_t *s);
/* Wait until the server is closed and every connection it accepted is gone (3.12+
 * semantics). Coroutine. Returns 0 or -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_server_wait_closed(acio_server_t *s);
/* The listening fds (borrowed: the server closes them). Fills fds[0..cap) and returns
 * how many there are. */
ACIO_EXTERN size_t acio_server_sockets(const acio_server_t *s, int *fds, size_t cap);
/* The port of the first listening socket (handy after binding port 0), or a negative
 * code. */
ACIO_EXTERN int acio_server_port(const acio_server_t *s);
/* Number of connections accepted and not yet lost. */
ACIO_EXTERN size_t acio_server_active_count(const acio_server_t *s);
ACIO_EXTERN acio_loop_t *acio_server_get_loop(const acio_server_t *s);
/* Close the server (if open) and release the caller's handle. Its memory lives on
 * until its last connection is gone, so this may be called at any time. NULL: no-op. */
ACIO_EXTERN void acio_server_free(acio_server_t *s);

#endif
