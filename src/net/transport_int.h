/* The inside of a transport: the common header every transport starts with, and the
 * table of operations each kind fills in. The public acio_transport_* functions only
 * dispatch through the table, so a readiness-based socket transport (sock_transport.c),
 * a datagram transport (datagram.c), a TLS transport layered on another transport
 * (src/tls/) and, later, a completion-based io_uring transport all look the same to
 * protocols and streams. */
#ifndef ACIO_NET_TRANSPORT_INT_H
#define ACIO_NET_TRANSPORT_INT_H

#include <sys/uio.h>

#include "internal.h"
#include "net/registry.h"
#include "acio/net.h"
#include "acio/transport.h"

typedef struct acio__transport_ops_s {
    /* Send the concatenation of iov (total bytes > 0). */
    int (*write)(acio_transport_t *t, const struct iovec *iov, int n, size_t total);
    int (*sendto)(acio_transport_t *t, const void *buf, size_t len, const struct sockaddr *addr,
                  socklen_t addrlen);
    int (*write_eof)(acio_transport_t *t);
    bool (*can_write_eof)(acio_transport_t *t);
    void (*close)(acio_transport_t *t);
    void (*abort)(acio_transport_t *t);
    int (*pause_reading)(acio_transport_t *t);
    int (*resume_reading)(acio_transport_t *t);
    bool (*is_reading)(const acio_transport_t *t);
    int (*get_extra_info)(acio_transport_t *t, const char *name, void *buf, size_t *len);
    size_t (*get_write_buffer_size)(const acio_transport_t *t);
    /* The write limits changed: pause or resume the protocol if needed. */
    void (*limits_changed)(acio_transport_t *t);
    /* After connection_made: start reading (may be NULL). */
    void (*start)(acio_transport_t *t);
    /* After connection_lost: release the fd and other resources (may be NULL). */
    void (*finish)(acio_transport_t *t);
    /* Free the kind's own memory (the last reference is gone). */
    void (*destroy)(acio_transport_t *t);
} acio__transport_ops_t;

struct acio_transport_s {
    const acio__transport_ops_t *ops;
    acio_loop_t *loop;
    int refs;
    int fd; /* -1 when there is none or after close */
    /* Exactly one of proto / dproto is set. */
    const acio_protocol_t *proto;
    const acio_datagram_protocol_t *dproto;
    void *proto_data;
    void *data; /* the user slot */
    size_t high, low;
    bool closing;         /* close, abort or a fatal error happened */
    bool protocol_paused; /* pause_writing was called, resume_writing not yet */
    bool started;         /* connection_made was delivered (start_cb ran, not cancelled) */
    bool start_pending;   /* start_cb is queued and holds a reference */
    /* A task waits in acio__transport_await_made and holds a reference. If the loop
     * closes, that task is discarded without resuming, so transport_loop_closed drops the
     * reference for it; until the task resumes the transport stays registered, even after
     * connection_lost, so that the close can find it. */
    bool waiter_ref;
    bool lost_scheduled; /* connection_lost is scheduled or done */
    bool lost_done;      /* connection_lost ran, or the loop closed under the transport */
    int lost_error;      /* what connection_lost receives */
    /* Set after connection_made ran; create_connection waits for it. */
    acio_future_t *made_waiter;
    /* The server that accepted this connection, and its list of clients. */
    acio_server_t *server;
    acio_transport_t *srv_prev, *srv_next;
    /* On the loop's registry from schedule_start until connection_lost has run. */
    acio__net_node_t reg;
};

#define ACIO__DEFAULT_HIGH_WATER (64 * 1024)

/* Fill the common header (one reference, held by the connection). */
void acio__transport_init(acio_transport_t *t, const acio__transport_ops_t *ops, acio_loop_t *loop,
                          int fd);
/* Flow-control helpers every kind uses after its buffer grew / shrank. */
void acio__transport_maybe_pause(acio_transport_t *t, size_t size);
void acio__transport_maybe_resume(acio_transport_t *t, size_t size);
/* Common extra info from the fd: peername, sockname, socket. */
int acio__transport_fd_extra_info(acio_transport_t *t, const char *name, void *buf, size_t *len);
/* connection_made through call_soon, then ops->start (e.g. add the reader), then the
 * made_waiter is resolved. Takes a reference until it ran. Also registers the transport
 * as open on its loop (see registry.h): if the loop closes before connection_lost, the
 * transport is aborted then, without calling its protocol. Errors: -ENOMEM, the loop's
 * call_soon errors. */
int acio__transport_schedule_start(acio_transport_t *t);
/* connection_lost(error) through call_soon, then ops->finish (close the fd), then the
 * server is told and the connection's reference dropped. Later calls are no-ops. */
void acio__transport_schedule_lost(acio_transport_t *t, int error);

/* Socket / pipe stream transports (sock_transport.c). kind selects recv/send on a
 * socket or read/write on a pipe end. */
enum { ACIO__ST_SOCKET = 0, ACIO__ST_PIPE_READ, ACIO__ST_PIPE_WRITE };
int acio__sock_transport_new(acio_loop_t *loop, int fd, int kind, const acio_protocol_t *proto,
                             void *proto_data, acio_transport_t **out);

/* Wait (inside a task) until connection_made ran on a new transport, so that
 * create_connection returns after it as asyncio's does. On failure (cancellation
 * included) the transport is aborted; if connection_made had not been delivered by
 * then, the protocol is detached first and never hears from the transport (a
 * cancellation that lands after connection_made gets connection_lost, as in asyncio).
 * The caller holds its own reference. Returns 0 or a negative code. */
int acio__transport_wait_made(acio_transport_t *t);
/* The same, taking the waiting task's reference itself (see waiter_ref): on success
 * *out (if out is not NULL) receives it, otherwise it is dropped. */
int acio__transport_await_made(acio_transport_t *t, acio_transport_t **out);

/* Server hooks (server.c): a client transport is gone. */
void acio__server_client_lost(acio_server_t *s, acio_transport_t *t);

#endif
