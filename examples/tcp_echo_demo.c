/* The seed 003 section 3.2 echo client and server in one process, so the tests can run
 * it and compare its output: the server listens on a free port of 127.0.0.1, the client
 * sends "Hello World!", and each side prints what the seed's prints (the client's port,
 * which changes every run, is left out). */
#include <stdio.h>
#include <string.h>

#include <acio.h>

static void *handle_echo(acio_stream_reader_t *reader, acio_stream_writer_t *writer, void *arg)
{
    (void)arg;
    char data[101];
    ssize_t n = acio_stream_reader_read(reader, data, 100);
    if (n < 0)
        n = 0;
    data[n] = '\0';
    printf("Received '%s' from 127.0.0.1\n", data);
    printf("Send: '%s'\n", data);
    int rc = acio_stream_writer_write(writer, data, (size_t)n);
    if (rc == 0)
        rc = acio_stream_writer_drain(writer);
    printf("Close the connection\n");
    acio_stream_writer_close(writer);
    int crc = acio_stream_writer_wait_closed(writer);
    if (rc == 0)
        rc = crc;
    return rc < 0 ? acio_raise(rc, "echo: %s", acio_strerror(rc)) : NULL;
}

static void *tcp_echo_client(int port, const char *message)
{
    acio_stream_reader_t *reader;
    acio_stream_writer_t *writer;
    int rc = acio_open_connection(&reader, &writer, "127.0.0.1", port, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "open_connection: %s", acio_strerror(rc));
    printf("Send: '%s'\n", message);
    rc = acio_stream_writer_write(writer, message, strlen(message));
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
    return rc < 0 ? acio_raise(rc, "echo client: %s", acio_strerror(rc)) : NULL;
}

static void *amain(void *arg)
{
    (void)arg;
    acio_server_t *server;
    int rc = acio_start_server(&server, handle_echo, NULL, "127.0.0.1", 0, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "start_server: %s", acio_strerror(rc));
    printf("Serving on 127.0.0.1\n");
    void *res = tcp_echo_client(acio_server_port(server), "Hello World!");
    acio_server_close(server);
    rc = acio_server_wait_closed(server);
    acio_server_free(server);
    return rc < 0 ? acio_raise(rc, "wait_closed: %s", acio_strerror(rc)) : res;
}

int main(void)
{
    int rc = acio_run(amain, NULL, NULL);
    return rc < 0 ? 1 : 0;
}
