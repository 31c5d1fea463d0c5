/* Seed 003 section 3.2, the TCP echo client with open_connection, line for line:
 *
 *   reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
 *   writer.write(message.encode()); await writer.drain()
 *   data = await reader.read(100)
 *   writer.close(); await writer.wait_closed()
 *
 * Usage: tcp_echo_client [port [host [message]]]   (default 8888, 127.0.0.1, Hello World!) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

typedef struct {
    const char *host;
    int port;
    const char *message;
} args_t;

static void *tcp_echo_client(void *arg)
{
    args_t *a = arg;
    acio_stream_reader_t *reader;
    acio_stream_writer_t *writer;
    int rc = acio_open_connection(&reader, &writer, a->host, a->port, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "cannot connect to %s:%d: %s", a->host, a->port, acio_strerror(rc));

    printf("Send: '%s'\n", a->message);
    rc = acio_stream_writer_write(writer, a->message, strlen(a->message));
    if (rc == 0)
        rc = acio_stream_writer_drain(writer);

    char data[101];
    ssize_t n = rc == 0 ? acio_stream_reader_read(reader, data, 100) : 0;
    if (n < 0)
        rc = (int)n;
    else
        data[n] = '\0';
    if (rc == 0)
        printf("Received: '%s'\n", data);

    printf("Close the connection\n");
    acio_stream_writer_close(writer);
    int crc = acio_stream_writer_wait_closed(writer);
    if (rc == 0)
        rc = crc;
    acio_stream_reader_unref(reader);
    acio_stream_writer_unref(writer);
    return rc < 0 ? acio_raise(rc, "echo with %s:%d: %s", a->host, a->port, acio_strerror(rc))
                  : NULL;
}

int main(int argc, char **argv)
{
    args_t a = {argc > 2 ? argv[2] : "127.0.0.1", argc > 1 ? atoi(argv[1]) : 8888,
                argc > 3 ? argv[3] : "Hello World!"};
    char *msg = NULL;
    int rc = acio_run_ex(tcp_echo_client, &a, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "tcp_echo_client: %s\n", msg ? msg : acio_strerror(rc));
        free(msg);
        return 1;
    }
    return 0;
}
