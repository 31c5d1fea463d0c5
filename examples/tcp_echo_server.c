/* Seed 003 section 3.2, the TCP echo server with start_server, line for line:
 *
 *   async def handle_echo(reader, writer):
 *       data = await reader.read(100)
 *       addr = writer.get_extra_info('peername')
 *       ... writer.write(data); await writer.drain(); writer.close(); await writer.wait_closed()
 *   server = await asyncio.start_server(handle_echo, '0.0.0.0', 8888)
 *   async with server: await server.serve_forever()
 *
 * Usage: tcp_echo_server [port [host]]   (default 8888 on 0.0.0.0, as in the seed) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

typedef struct {
    const char *host;
    int port;
} args_t;

/* Python's repr of a socket address: ('127.0.0.1', 8888) or ('::1', 8888, 0, 0). */
static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(out, cap, "('%s', %d)", ip, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(out, cap, "('%s', %d, 0, 0)", ip, ntohs(in6->sin6_port));
    }
}

static void *handle_echo(acio_stream_reader_t *reader, acio_stream_writer_t *writer, void *arg)
{
    (void)arg;
    char data[101];
    ssize_t n = acio_stream_reader_read(reader, data, 100);
    if (n < 0)
        n = 0;
    data[n] = '\0';
    struct sockaddr_storage ss;
    size_t len = sizeof(ss);
    char addr[80] = "?";
    if (acio_stream_writer_get_extra_info(writer, "peername", &ss, &len) == 0)
        format_addr(&ss, addr, sizeof(addr));

    printf("Received '%s' from %s\n", data, addr);

    printf("Send: '%s'\n", data);
    int rc = acio_stream_writer_write(writer, data, (size_t)n);
    if (rc == 0)
        rc = acio_stream_writer_drain(writer);

    printf("Close the connection\n");
    fflush(stdout);
    acio_stream_writer_close(writer);
    int crc = acio_stream_writer_wait_closed(writer);
    if (rc == 0)
        rc = crc;
    return rc < 0 ? acio_raise(rc, "echo to %s: %s", addr, acio_strerror(rc)) : NULL;
}

static void *amain(void *arg)
{
    args_t *a = arg;
    acio_server_t *server;
    int rc = acio_start_server(&server, handle_echo, NULL, a->host, a->port, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "cannot listen on %s:%d: %s", a->host, a->port, acio_strerror(rc));
    int fds[8];
    size_t n = acio_server_sockets(server, fds, 8);
    printf("Serving on ");
    for (size_t i = 0; i < n && i < 8; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char addr[80] = "?";
        if (getsockname(fds[i], (struct sockaddr *)&ss, &sl) == 0)
            format_addr(&ss, addr, sizeof(addr));
        printf("%s%s", i ? ", " : "", addr);
    }
    printf("\n");
    fflush(stdout);
    /* Serves until cancelled (Ctrl-C); async with server: closes it on the way out. */
    rc = acio_server_serve_forever(server);
    acio_server_free(server);
    return rc < 0 ? acio_raise(rc, "serving stopped: %s", acio_strerror(rc)) : NULL;
}

int main(int argc, char **argv)
{
    args_t a = {argc > 2 ? argv[2] : "0.0.0.0", argc > 1 ? atoi(argv[1]) : 8888};
    char *msg = NULL;
    int rc = acio_run_ex(amain, &a, NULL, &msg);
    if (rc < 0 && rc != -ECANCELED && rc != -EINTR) { /* Ctrl-C is a normal way out */
        fprintf(stderr, "tcp_echo_server: %s\n", msg ? msg : acio_strerror(rc));
        free(msg);
        return 1;
    }
    free(msg);
    return 0;
}
