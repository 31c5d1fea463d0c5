/* An echo server on the streams layer (asyncio.start_server with StreamReader /
 * StreamWriter, uvloop's streams echo benchmark): each connection's task reads what is
 * there and writes it back, draining when the peer is slow. Usage:
 *   echo_server_streams [port [host]]      (default 8888 on 127.0.0.1; port 0 picks one)
 * It prints "Serving on HOST:PORT" once listening, then serves until Ctrl-C. */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

typedef struct {
    const char *host;
    int port;
} args_t;

/* One read buffer for every connection: each handler is done with it once write()
 * returns (the transport sends or copies the data at once), before its next wait, and
 * all handlers run on the loop's one thread. A 64 KiB array on each task's stack would
 * instead put the read's wait on another stack page (two resident pages per idle
 * connection instead of one), and one malloc'd per connection would cost a page for the
 * allocator's header (docs/stacks.md). */
static char buf[64 * 1024];

static void *handle_echo(acio_stream_reader_t *reader, acio_stream_writer_t *writer, void *arg)
{
    (void)arg;
    for (;;) {
        ssize_t n = acio_stream_reader_read(reader, buf, sizeof(buf));
        if (n <= 0)
            break;
        if (acio_stream_writer_write(writer, buf, (size_t)n) < 0)
            break;
        if (acio_stream_writer_drain(writer) < 0)
            break;
    }
    acio_stream_writer_close(writer);
    /* A client that reset the connection, or the server cancelling the handler as it
     * closes, is a normal end for an echo connection. */
    int rc = acio_stream_writer_wait_closed(writer);
    if (rc < 0 && rc != -ECONNRESET && rc != -EPIPE && rc != -ECANCELED)
        return acio_raise(rc, "closing the connection: %s", acio_strerror(rc));
    return NULL;
}

static void *amain(void *arg)
{
    args_t *a = arg;
    acio_server_t *server;
    int rc = acio_start_server(&server, handle_echo, NULL, a->host, a->port, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "cannot listen on %s:%d: %s", a->host, a->port, acio_strerror(rc));
    printf("Serving on %s:%d\n", a->host, acio_server_port(server));
    fflush(stdout);
    rc = acio_server_serve_forever(server); /* returns when cancelled (Ctrl-C) */
    acio_server_free(server);
    return rc < 0 ? acio_raise(rc, "serving stopped: %s", acio_strerror(rc)) : NULL;
}

int main(int argc, char **argv)
{
    args_t a = {argc > 2 ? argv[2] : "127.0.0.1", argc > 1 ? atoi(argv[1]) : 8888};
    char *msg = NULL;
    int rc = acio_run_ex(amain, &a, NULL, &msg);
    if (rc < 0 && rc != -ECANCELED && rc != -EINTR) { /* Ctrl-C is a normal way out */
        fprintf(stderr, "echo_server_streams: %s\n", msg ? msg : acio_strerror(rc));
        free(msg);
        return 1;
    }
    free(msg);
    return 0;
}
