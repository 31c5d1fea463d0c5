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

/* The read buffer lives on the heap, not on the task's stack: a 64 KiB array there
 * would put every frame below it (the read's wait) on another stack page, and an idle
 * connection would keep two pages resident instead of one (docs/stacks.md). */
#define BUF_SIZE (64 * 1024)

static void *handle_echo(acio_stream_reader_t *reader, acio_stream_writer_t *writer, void *arg)
{
    (void)arg;
    char *buf = malloc(BUF_SIZE);
    while (buf != NULL) {
        ssize_t n = acio_stream_reader_read(reader, buf, BUF_SIZE);
        if (n <= 0)
            break;
        if (acio_stream_writer_write(writer, buf, (size_t)n) < 0)
            break;
        if (acio_stream_writer_drain(writer) < 0)
            break;
    }
    free(buf);
    acio_stream_writer_close(writer);
    acio_stream_writer_wait_closed(writer);
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
    acio_server_serve_forever(server);
    acio_server_free(server);
    return NULL;
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
