/* Creating streams: asyncio.open_connection / open_unix_connection / start_server /
 * start_unix_server, plus reader and writer streams over pipes (what subprocess pipes
 * need). Each wraps the protocol-layer call with the stream protocol of stream.c. */
#include <errno.h>

#include "net/fdwait.h"
#include "net/server_int.h"
#include "net/stream_int.h"

typedef struct {
    acio_loop_t *loop;
    acio_client_connected_cb cb;
    void *arg;
    size_t limit;
} server_ctx_t;

/* A new stream on the running loop for open_connection & co, marked as being opened
 * (see stream_int.h). */
static int opening(size_t limit, acio__stream_t **out)
{
    int rc = acio__stream_new_running(limit, out);
    if (rc == 0)
        (*out)->opening = true;
    return rc;
}

static int connected(acio__stream_t *s, int rc, acio_stream_reader_t **reader,
                     acio_stream_writer_t **writer)
{
    s->opening = false;
    bool lost = s->lost_deferred;
    s->lost_deferred = false;
    if (rc < 0) {
        /* Unless connection_made ran (it sets s->transport) before a cancellation reached
         * the task, no protocol callback ran and the connection's share is still ours.
         * If it did, the transport was aborted: its connection_lost either ran already
         * and left the share to us (lost), or will drop it later (or the loop's close
         * will): dropping it here too would free the stream under it. */
        if (!s->transport || lost)
            acio__stream_drop_connection(s);
        return rc;
    }
    acio__stream_give_handles(s, reader != NULL, writer != NULL);
    if (reader)
        *reader = &s->reader;
    if (writer)
        *writer = &s->writer;
    /* The connection ended right after connection_made (its transport could not start
     * reading, say): the handles now keep the stream, and report that end. */
    if (lost)
        acio__stream_drop_connection(s);
    return 0;
}

/* open_connection / open_unix_connection: a TCP connection to host:port, or a Unix one
 * to path. */
static int open_stream(acio_stream_reader_t **reader, acio_stream_writer_t **writer,
                       const char *host, int port, const char *path, size_t limit,
                       const acio_connection_opts_t *opts)
{
    if (!reader || !writer)
        return -EINVAL;
    acio__stream_t *s;
    int rc = opening(limit, &s);
    if (rc < 0)
        return rc;
    s->over_tls = opts && opts->ssl;
    rc = path ? acio_loop_create_unix_connection(s->loop, NULL, &acio__stream_protocol, s, path,
                                                 opts)
              : acio_loop_create_connection(s->loop, NULL, &acio__stream_protocol, s, host, port,
                                            opts);
    return connected(s, rc, reader, writer);
}

int acio_open_connection(acio_stream_reader_t **reader, acio_stream_writer_t **writer,
                         const char *host, int port, size_t limit,
                         const acio_connection_opts_t *opts)
{
    return open_stream(reader, writer, host, port, NULL, limit, opts);
}

int acio_open_unix_connection(acio_stream_reader_t **reader, acio_stream_writer_t **writer,
                              const char *path, size_t limit, const acio_connection_opts_t *opts)
{
    if (!path)
        return -EINVAL;
    return open_stream(reader, writer, NULL, 0, path, limit, opts);
}

/* A stream over one end of a pipe (a reader on the read end, or a writer on the write
 * end). */
static int open_pipe(acio_stream_reader_t **reader, acio_stream_writer_t **writer, int fd,
                     size_t limit)
{
    acio__stream_t *s;
    int rc = opening(limit, &s);
    if (rc < 0)
        return rc;
    rc = reader ? acio_loop_connect_read_pipe(s->loop, NULL, &acio__stream_protocol, s, fd)
                : acio_loop_connect_write_pipe(s->loop, NULL, &acio__stream_protocol, s, fd);
    return connected(s, rc, reader, writer);
}

int acio_open_pipe_reader(acio_stream_reader_t **reader, int fd, size_t limit)
{
    return reader ? open_pipe(reader, NULL, fd, limit) : -EINVAL;
}

int acio_open_pipe_writer(acio_stream_writer_t **writer, int fd)
{
    return writer ? open_pipe(NULL, writer, fd, 0) : -EINVAL;
}

int acio__stream_open_pipe(acio_loop_t *loop, int fd, size_t limit, acio_stream_reader_t **reader,
                           acio_stream_writer_t **writer)
{
    int rc = acio__fd_nonblock_cloexec(fd);
    if (rc < 0)
        return rc;
    acio__stream_t *s;
    if ((rc = acio__stream_new(loop, limit, &s)) < 0)
        return rc;
    acio_transport_t *t;
    rc = acio__sock_transport_new(loop, fd, reader ? ACIO__ST_PIPE_READ : ACIO__ST_PIPE_WRITE,
                                  &acio__stream_protocol, s, &t);
    if (rc < 0) {
        acio__stream_drop_connection(s);
        return rc;
    }
    /* asyncio's create_subprocess_* await connection_made of every pipe before they
     * return; attaching the transport now gives the same "ready to use" without a yield.
     * connection_made, which still runs first among the transport's callbacks, then
     * only starts reading. */
    s->transport = acio_transport_ref(t);
    acio__stream_give_handles(s, reader != NULL, writer != NULL);
    if (reader)
        *reader = &s->reader;
    else
        *writer = &s->writer;
    return 0;
}

static int stream_factory(void *arg, const acio_protocol_t **proto, void **data)
{
    server_ctx_t *ctx = arg;
    acio__stream_t *s;
    int rc = acio__stream_new(ctx->loop, ctx->limit, &s);
    if (rc < 0)
        return rc;
    s->client_cb = ctx->cb;
    s->client_arg = ctx->arg;
    *proto = &acio__stream_protocol;
    *data = s;
    return 0;
}

/* A stream the factory made whose connection could not be set up: nothing else will
 * drop the connection's reference, its only one. */
static void stream_release(void *arg, const acio_protocol_t *proto, void *data)
{
    (void)arg, (void)proto;
    acio__stream_drop_connection(data);
}

static int start(acio_server_t **out, acio_client_connected_cb cb, void *arg, const char *host,
                 int port, const char *path, size_t limit, const acio_server_opts_t *opts)
{
    if (!out || !cb)
        return -EINVAL;
    acio_loop_t *loop = acio_get_running_loop();
    if (!loop)
        return ACIO_ENOLOOP;
    server_ctx_t *ctx = acio__malloc(sizeof(*ctx));
    if (!ctx)
        return -ENOMEM;
    ctx->loop = loop;
    ctx->cb = cb;
    ctx->arg = arg;
    ctx->limit = limit;
    acio_server_opts_t o = {0};
    if (opts)
        o = *opts;
    o.factory_release = stream_release;
    int rc = path ? acio_loop_create_unix_server(loop, out, stream_factory, ctx, path, &o)
                  : acio_loop_create_server(loop, out, stream_factory, ctx, host, port, &o);
    if (rc < 0) {
        acio__free(ctx);
        return rc;
    }
    acio__server_set_free_hook(*out, acio__free, ctx);
    return 0;
}

int acio_start_server(acio_server_t **out, acio_client_connected_cb cb, void *arg, const char *host,
                      int port, size_t limit, const acio_server_opts_t *opts)
{
    return start(out, cb, arg, host, port, NULL, limit, opts);
}

int acio_start_unix_server(acio_server_t **out, acio_client_connected_cb cb, void *arg,
                           const char *path, size_t limit, const acio_server_opts_t *opts)
{
    if (!path)
        return -EINVAL;
    return start(out, cb, arg, NULL, 0, path, limit, opts);
}
