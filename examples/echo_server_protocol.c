/* An echo server on the protocol layer (asyncio's Protocol, uvloop's protocol echo
 * benchmark): every data_received is written straight back. Usage:
 *   echo_server_protocol [port [host]]     (default 8888 on 127.0.0.1; port 0 picks one)
 * It prints "Serving on HOST:PORT" once listening, then serves until Ctrl-C. */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

typedef struct {
    const char *host;
    int port;
} args_t;

static void echo_data(acio_transport_t *t, const void *buf, size_t len, void *data)
{
    (void)data;
    /* The transport sends at once if it can, and buffers the rest; it refuses only when
     * the connection is already closing or out of memory, and then the echo is over. */
    if (acio_transport_write(t, buf, len) < 0)
        acio_transport_abort(t);
}

static const acio_protocol_t echo_protocol = {.data_received = echo_data};

static int echo_factory(void *factory_data, const acio_protocol_t **proto, void **data)
{
    (void)factory_data;
    *proto = &echo_protocol;
    *data = NULL;
    return 0;
}

static void *amain(void *arg)
{
    args_t *a = arg;
    acio_server_t *server;
    int rc = acio_loop_create_server(NULL, &server, echo_factory, NULL, a->host, a->port, NULL);
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
        fprintf(stderr, "echo_server_protocol: %s\n", msg ? msg : acio_strerror(rc));
        free(msg);
        return 1;
    }
    free(msg);
    return 0;
}
