/* Transports and protocols: asyncio's callback layer (asyncio.Protocol, BufferedProtocol,
 * DatagramProtocol, Transport, DatagramTransport).
 *
 * A protocol is a table of callbacks plus a data pointer; a transport is the connection
 * it is attached to. The protocol never learns how bytes move: it receives them through
 * data_received(buf, len), or, for a buffered protocol, by handing out a buffer with
 * get_buffer() and being told with buffer_updated() how much was filled. Nothing here
 * says "the fd is readable", so the same protocols run on the readiness-based epoll loop
 * and on a completion-based backend (io_uring) that fills the buffer itself.
 *
 * Callback order is asyncio's: connection_made once, then any number of data_received
 * (or get_buffer and buffer_updated), then at most one eof_received, then connection_lost
 * exactly once. pause_writing/resume_writing alternate, starting with pause_writing.
 * All callbacks run on the loop's thread. connection_made and connection_lost are
 * scheduled with call_soon, never run inside the call that caused them (close, abort,
 * a failed write); pause_writing runs inside write(), as in asyncio.
 *
 * Ownership: transports are reference counted. The connection holds one reference until
 * connection_lost has returned. Functions that create a transport for the caller
 * (acio_loop_create_connection, ...) return an extra reference to release with
 * acio_transport_unref(). A transport handed to a protocol callback is borrowed: it
 * stays valid until connection_lost returns; take acio_transport_ref() to keep it longer
 * (every operation on a closed transport then fails cleanly). */
#ifndef ACIO_TRANSPORT_H
#define ACIO_TRANSPORT_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common.h"

typedef struct acio_transport_s acio_transport_t;

/* asyncio.Protocol and asyncio.BufferedProtocol in one table. Every member may be NULL
 * (the callback is then skipped). If get_buffer is set the protocol is buffered and
 * data_received is never called. data is the protocol's data pointer (the one given
 * with the table). */
typedef struct acio_protocol_s {
    /* The transport is ready; keep the pointer (borrowed until connection_lost). */
    void (*connection_made)(acio_transport_t *t, void *data);
    /* len > 0 bytes arrived. buf is only valid during the call: copy what you keep. */
    void (*data_received)(acio_transport_t *t, const void *buf, size_t len, void *data);
    /* Buffered protocol: return a buffer of at least 1 byte to read into (sizehint is
     * what the transport would like). Return 0 with *buf and *len set, or a negative code
     * to fail the connection (connection_lost then receives that code). The buffer must
     * stay valid until buffer_updated or connection_lost. */
    int (*get_buffer)(acio_transport_t *t, size_t sizehint, void **buf, size_t *len, void *data);
    /* nbytes (> 0) were written into the buffer returned by the last get_buffer. */
    void (*buffer_updated)(acio_transport_t *t, size_t nbytes, void *data);
    /* The peer closed its side. Return true to keep the transport open for writing
     * (half-close), false to close it (asyncio's default). NULL counts as false. */
    bool (*eof_received)(acio_transport_t *t, void *data);
    /* Called once at the end. error is 0 for a normal close or EOF, else the negative
     * code that ended the connection (-ECONNRESET, -EPIPE, ...). Free protocol state
     * here; the transport is released right after this returns. */
    void (*connection_lost)(acio_transport_t *t, int error, void *data);
    /* The write buffer rose above the high-water mark / fell to the low-water mark. */
    void (*pause_writing)(acio_transport_t *t, void *data);
    void (*resume_writing)(acio_transport_t *t, void *data);
} acio_protocol_t;

/* asyncio.DatagramProtocol. addr/addrlen are valid during the call only. */
typedef struct acio_datagram_protocol_s {
    void (*connection_made)(acio_transport_t *t, void *data);
    void (*datagram_received)(acio_transport_t *t, const void *buf, size_t len,
                              const struct sockaddr *addr, socklen_t addrlen, void *data);
    /* A send or receive failed (e.g. -ECONNREFUSED from an ICMP error); the endpoint
     * stays open. */
    void (*error_received)(acio_transport_t *t, int error, void *data);
    void (*connection_lost)(acio_transport_t *t, int error, void *data);
    void (*pause_writing)(acio_transport_t *t, void *data);
    void (*resume_writing)(acio_transport_t *t, void *data);
} acio_datagram_protocol_t;

/* A server's per-connection protocol factory (asyncio's protocol_factory): fill *proto
 * and *data for one new connection. Return 0, or a negative code to refuse it (the
 * connection is then closed and the error reported to the loop's exception handler). */
typedef int (*acio_protocol_factory)(void *factory_data, const acio_protocol_t **proto,
                                     void **data);
/* Gives back what a factory returned when the connection it was made for could not be
 * set up after all (creating or starting its transport failed, e.g. out of memory), so
 * connection_made, and so connection_lost, will never be called with data. It is the
 * only callback data then gets: free it here. Once connection_made ran, connection_lost
 * is the place to free it, and this is never called. Set it in acio_server_opts_t. */
typedef void (*acio_protocol_release)(void *factory_data, const acio_protocol_t *proto, void *data);

ACIO_EXTERN acio_transport_t *acio_transport_ref(acio_transport_t *t);
/* Drop a reference. The last one frees the transport (an open transport is never freed:
 * the connection holds its own reference until connection_lost). NULL is a no-op. */
ACIO_EXTERN void acio_transport_unref(acio_transport_t *t);

/* Send len bytes (asyncio's transport.write). The data is copied or sent before this
 * returns, so buf can be reused at once. If nothing is queued the send system call is
 * tried immediately; what the kernel does not take is buffered and sent when possible.
 * If the buffer rises above the high-water mark, the protocol's pause_writing is called
 * before this returns (as in asyncio).
 * Returns 0 (accepted: it will be sent, or connection_lost will report the error), or:
 * -EPIPE after write_eof, -ENOTCONN once the transport is closing or closed (asyncio
 * drops such data silently; acio reports it), -ENOMEM (nothing was accepted),
 * -EINVAL (NULL). A write error found while sending immediately (-ECONNRESET, -EPIPE)
 * is returned and also ends the connection (connection_lost follows with it). */
ACIO_EXTERN ACIO_NODISCARD int acio_transport_write(acio_transport_t *t, const void *buf,
                                                    size_t len);
/* Like write for the concatenation of iov[0..n) (asyncio's writelines), in one send. */
ACIO_EXTERN ACIO_NODISCARD int acio_transport_writev(acio_transport_t *t, const struct iovec *iov,
                                                     int n);
/* Close the write side after the buffered data is sent (shutdown(SHUT_WR)). Errors:
 * -ENOTSUP for transports that cannot (see can_write_eof), -ENOTCONN if closing. */
ACIO_EXTERN int acio_transport_write_eof(acio_transport_t *t);
ACIO_EXTERN bool acio_transport_can_write_eof(acio_transport_t *t);
/* Close: stop reading at once, send what is buffered, then call connection_lost(0).
 * Idempotent. */
ACIO_EXTERN void acio_transport_close(acio_transport_t *t);
/* Close now, discarding buffered data; connection_lost(0) follows (asyncio's abort). */
ACIO_EXTERN void acio_transport_abort(acio_transport_t *t);
/* True once close, abort or a fatal error started closing the transport. */
ACIO_EXTERN bool acio_transport_is_closing(const acio_transport_t *t);

/* asyncio's get_extra_info(name). Names: "peername", "sockname" (a struct sockaddr
 * copied into buf, *len in/out as a socklen_t would be), "socket" (the fd as an int; the
 * transport still owns it: do not close or read it), and for TLS transports "cipher",
 * "version" (strings), "server_hostname". Returns 0, -ENOENT (unknown or unavailable
 * name), -ENOSPC (buf too small; *len is set to the size needed), -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int acio_transport_get_extra_info(acio_transport_t *t, const char *name,
                                                             void *buf, size_t *len);
/* The transport's socket or pipe fd, or -1 (shorthand for get_extra_info "socket"). */
ACIO_EXTERN int acio_transport_get_fd(const acio_transport_t *t);

/* Stop / restart delivering data (flow control on the read side). Idempotent, as in
 * asyncio 3.11. Errors: -ENOTSUP on a write-only transport. */
ACIO_EXTERN int acio_transport_pause_reading(acio_transport_t *t);
ACIO_EXTERN int acio_transport_resume_reading(acio_transport_t *t);
ACIO_EXTERN bool acio_transport_is_reading(const acio_transport_t *t);

/* Write flow control. high 0 and low 0 take asyncio's defaults (64 KiB, high/4); a low
 * of SIZE_MAX means high/4. Errors: -EINVAL if low > high. */
ACIO_EXTERN ACIO_NODISCARD int acio_transport_set_write_buffer_limits(acio_transport_t *t,
                                                                      size_t high, size_t low);
ACIO_EXTERN void acio_transport_get_write_buffer_limits(const acio_transport_t *t, size_t *high,
                                                        size_t *low);
ACIO_EXTERN size_t acio_transport_get_write_buffer_size(const acio_transport_t *t);

/* Replace the protocol (asyncio's set_protocol); the new one receives the following
 * callbacks. connection_made is not called again. */
ACIO_EXTERN int acio_transport_set_protocol(acio_transport_t *t, const acio_protocol_t *proto,
                                            void *data);
ACIO_EXTERN void *acio_transport_get_protocol_data(const acio_transport_t *t);
ACIO_EXTERN acio_loop_t *acio_transport_get_loop(const acio_transport_t *t);

/* Datagram transports: send one datagram to addr (NULL on a connected endpoint). Like
 * write, it is sent at once or queued. Errors: -EMSGSIZE, -ENOTCONN (closing),
 * -EDESTADDRREQ (no address and not connected), -EISCONN (an address on a connected
 * endpoint that differs from its peer), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_transport_sendto(acio_transport_t *t, const void *buf,
                                                     size_t len, const struct sockaddr *addr,
                                                     socklen_t addrlen);

/* The user slot. */
ACIO_EXTERN void acio_transport_set_data(acio_transport_t *t, void *data);
ACIO_EXTERN void *acio_transport_get_data(const acio_transport_t *t);

#endif
