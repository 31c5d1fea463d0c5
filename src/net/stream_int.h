/* The object behind a StreamReader / StreamWriter pair and its protocol (stream.c), for
 * the reading coroutines (stream_read.c), the functions that create streams over
 * connections, servers and pipes (stream_open.c) and for the TLS layer. */
#ifndef ACIO_NET_STREAM_INT_H
#define ACIO_NET_STREAM_INT_H

#include "net/transport_int.h"
#include "acio/stream.h"

struct acio_stream_reader_s {
    int refs;
};
struct acio_stream_writer_s {
    int refs;
};

typedef struct acio__stream_s {
    struct acio_stream_reader_s reader;
    struct acio_stream_writer_s writer;
    /* Memory references: one per reader / writer handle, plus one for the connection
     * (from creation until connection_lost). */
    int refs;
    acio_loop_t *loop;
    acio_transport_t *transport; /* a reference, set by connection_made */
    /* reader */
    char *buf;
    size_t start, end, cap;
    size_t limit;
    bool eof;
    bool paused;    /* we paused the transport's reading */
    bool unlimited; /* never pause the transport (communicate() reads two pipes at once) */
    int exc;        /* set_exception / the error that ended the connection */
    acio_future_t *waiter;
    /* protocol / writer */
    bool lost;
    bool over_tls;
    bool write_paused;
    int lost_error;
    acio_future_t *drain_fut;
    acio_future_t *closed_fut;
    /* open_connection and friends wait for connection_made: while they do (opening),
     * connection_lost keeps the connection's reference for them (lost_deferred) instead of
     * dropping it, so the stream they are about to hand out cannot be freed under them
     * (the transport may fail to start right after connection_made). */
    bool opening;
    bool lost_deferred;
    /* start_server: run client_cb(reader, writer, client_arg) in a task per connection */
    acio_client_connected_cb client_cb;
    void *client_arg;
    /* The last read's outcome, for acio_stream_reader_last_error (stream_read.c). */
    struct {
        int code;
        size_t consumed;
        char *partial; /* acio__malloc'd copy of IncompleteReadError.partial */
        size_t partial_len;
        long long expected;
        char message[192];
    } rerr;
} acio__stream_t;

extern const acio_protocol_t acio__stream_protocol;

static inline acio__stream_t *acio__stream_of_reader(const acio_stream_reader_t *r)
{
    return acio_container_of(r, acio__stream_t, reader);
}

/* A stream with one reference, the connection's; the protocol data for
 * acio__stream_protocol. limit 0: the default. */
int acio__stream_new(acio_loop_t *loop, size_t limit, acio__stream_t **out);
/* The same on the running loop; ACIO_ENOLOOP without one. */
int acio__stream_new_running(size_t limit, acio__stream_t **out);
/* For the reading coroutines (stream_read.c): wait until data, EOF or an error arrives
 * (0, -ECANCELED, -EBUSY, ACIO_ENOTASK, -ENOMEM); resume a paused transport once the
 * buffer is back to the limit. */
int acio__stream_wait_for_data(acio__stream_t *s);
void acio__stream_maybe_resume(acio__stream_t *s);
/* Drop the connection's reference (when no connection was made after all). */
void acio__stream_drop_connection(acio__stream_t *s);
/* Add one reader and/or one writer handle reference for the caller. */
void acio__stream_give_handles(acio__stream_t *s, bool reader, bool writer);
/* The transport's loop is closing under it (transport.c): mark the stream lost with
 * ACIO_ECLOSED and drop the connection's reference, as connection_lost would, without
 * waking anyone. */
void acio__stream_loop_closed(void *proto_data);
/* The task that was opening the stream will never resume (its loop closed): drop the
 * connection's reference if connection_lost kept it for that task. */
void acio__stream_creator_gone(void *proto_data);

/* ---- for subprocess pipes (src/os/) ---- */

/* A stream over one end of a pipe, ready at once (no yield, unlike the coroutines
 * acio_open_pipe_reader / _writer): the transport is attached before connection_made
 * runs, so writes and reads may start right away. fd must be a pipe end; it becomes the
 * stream's (set non-blocking and close-on-exec). Exactly one of reader / writer is
 * non-NULL and receives the caller's handle. Errors: -ENOMEM, fcntl's errors; on error
 * fd is still the caller's. */
int acio__stream_open_pipe(acio_loop_t *loop, int fd, size_t limit, acio_stream_reader_t **reader,
                           acio_stream_writer_t **writer);
/* Close the reader's transport (asyncio's pipe transport close(): reading stops, what is
 * buffered stays readable, then EOF). */
void acio__stream_reader_close(acio_stream_reader_t *r);
/* Buffer without pausing the transport (true) or go back to the limit (false). */
void acio__stream_reader_set_unlimited(acio_stream_reader_t *r, bool unlimited);
/* read(-1) in two halves, so that communicate() can wait for EOF on both outputs before
 * it takes anything and a cancellation in between loses no data. wait_eof is a
 * coroutine (0, -ECANCELED, -EBUSY, ACIO_ENOTASK, or the stream's error); take_all moves
 * the whole buffer into a malloc'd, NUL-terminated block (or returns the error). */
int acio__stream_reader_wait_eof(acio_stream_reader_t *r);
int acio__stream_reader_take_all(acio_stream_reader_t *r, void **out, size_t *len);

#endif
