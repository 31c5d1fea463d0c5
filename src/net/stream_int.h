/* The object behind a StreamReader / StreamWriter pair and its protocol (stream.c), for
 * the functions that create streams over connections, servers and pipes
 * (stream_open.c) and for the TLS layer. */
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
    bool paused; /* we paused the transport's reading */
    int exc;     /* set_exception / the error that ended the connection */
    acio_future_t *waiter;
    /* protocol / writer */
    bool lost;
    bool over_tls;
    bool write_paused;
    int lost_error;
    acio_future_t *drain_fut;
    acio_future_t *closed_fut;
    /* start_server: run client_cb(reader, writer, client_arg) in a task per connection */
    acio_client_connected_cb client_cb;
    void *client_arg;
} acio__stream_t;

extern const acio_protocol_t acio__stream_protocol;

/* A stream with one reference, the connection's; the protocol data for
 * acio__stream_protocol. limit 0: the default. */
int acio__stream_new(acio_loop_t *loop, size_t limit, acio__stream_t **out);
/* Drop the connection's reference (when no connection was made after all). */
void acio__stream_drop_connection(acio__stream_t *s);
/* Add one reader and/or one writer handle reference for the caller. */
void acio__stream_give_handles(acio__stream_t *s, bool reader, bool writer);

#endif
