/* Transport features not tied to TCP: the buffered protocol (get_buffer /
 * buffer_updated reading into the protocol's own memory), pause_reading /
 * resume_reading, set_protocol, pipe transports (read end EOF, write end whose reader
 * went away: -EPIPE and never SIGPIPE), and bad arguments. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/rc.h"

/* A buffered protocol with a deliberately tiny buffer: many small reads. */
typedef struct {
    char store[1 << 16];
    size_t len;
    char chunk[7];
    int get_buffer_calls;
    bool eof, lost;
    int lost_error;
} bufp_t;

static int b_get(acio_transport_t *t, size_t hint, void **buf, size_t *len, void *d)
{
    (void)t;
    (void)hint;
    bufp_t *b = d;
    b->get_buffer_calls++;
    *buf = b->chunk;
    *len = sizeof(b->chunk);
    return 0;
}

static void b_updated(acio_transport_t *t, size_t n, void *d)
{
    (void)t;
    bufp_t *b = d;
    memcpy(b->store + b->len, b->chunk, n);
    b->len += n;
}

static bool b_eof(acio_transport_t *t, void *d)
{
    (void)t;
    ((bufp_t *)d)->eof = true;
    return false;
}

static void b_lost(acio_transport_t *t, int e, void *d)
{
    (void)t;
    bufp_t *b = d;
    b->lost = true;
    b->lost_error = e;
}

static const acio_protocol_t buffered = {.get_buffer = b_get,
                                         .buffer_updated = b_updated,
                                         .eof_received = b_eof,
                                         .connection_lost = b_lost};

static void *buffered_main(void *arg)
{
    (void)arg;
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0, "socketpair");
    static bufp_t b;
    acio_transport_t *t;
    int rc = acio_loop_connect_accepted_socket(NULL, &t, &buffered, &b, sv[0], NULL);
    CHECK(rc == 0, "connect_accepted_socket: %s", acio_strerror(rc));
    const char *msg = "the quick brown fox jumps over the lazy dog";
    CHECK(write(sv[1], msg, strlen(msg)) == (ssize_t)strlen(msg), "write");
    WAIT_UNTIL(b.len == strlen(msg));
    CHECK(b.len == strlen(msg) && memcmp(b.store, msg, b.len) == 0, "got %zu bytes", b.len);
    CHECK(b.get_buffer_calls >= 7, "read in 7-byte pieces: %d calls", b.get_buffer_calls);
    /* pause_reading: data waits in the kernel until resume. */
    acio_transport_pause_reading(t);
    CHECK(!acio_transport_is_reading(t), "paused");
    CHECK(acio_transport_pause_reading(t) == 0, "pausing twice is fine");
    CHECK(write(sv[1], "more", 4) == 4, "write");
    OK(acio_sleep(0.01));
    CHECK(b.len == strlen(msg), "nothing delivered while paused");
    acio_transport_resume_reading(t);
    WAIT_UNTIL(b.len == strlen(msg) + 4);
    CHECK(b.len == strlen(msg) + 4, "delivered after resume");
    close(sv[1]);
    WAIT_UNTIL(b.lost);
    CHECK(b.eof && b.lost && b.lost_error == 0, "eof then lost");
    acio_transport_unref(t);
    return NULL;
}

Test(transport, buffered_protocol_and_pause_reading, .timeout = 60)
{
    run_ok(buffered_main, NULL);
}

/* A protocol switch in the middle of a connection (what start_tls does). */
static int a_count, b_count;

static void pa_data(acio_transport_t *t, const void *buf, size_t n, void *d)
{
    (void)t;
    (void)buf;
    (void)d;
    a_count += (int)n;
}

static void pb_data(acio_transport_t *t, const void *buf, size_t n, void *d)
{
    (void)t;
    (void)buf;
    (void)d;
    b_count += (int)n;
}

static const acio_protocol_t pa = {.data_received = pa_data};
static const acio_protocol_t pb = {.data_received = pb_data};

static void *set_protocol_main(void *arg)
{
    (void)arg;
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    acio_transport_t *t;
    int rc = acio_loop_connect_accepted_socket(NULL, &t, &pa, NULL, sv[0], NULL);
    CHECK(rc == 0, "wrap");
    CHECK(write(sv[1], "aaa", 3) == 3, "write");
    WAIT_UNTIL(a_count == 3);
    CHECK(acio_transport_set_protocol(t, &pb, &b_count) == 0, "set_protocol");
    CHECK(acio_transport_get_protocol_data(t) == &b_count, "get_protocol_data");
    CHECK(write(sv[1], "bbbb", 4) == 4, "write");
    WAIT_UNTIL(b_count == 4);
    CHECK(a_count == 3 && b_count == 4, "a %d b %d", a_count, b_count);
    acio_transport_close(t);
    close(sv[1]);
    OK(acio_sleep(0));
    acio_transport_unref(t);
    /* connect_accepted_socket refuses what is not a stream socket. */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    rc = acio_loop_connect_accepted_socket(NULL, &t, &pa, NULL, p[0], NULL);
    CHECK(rc == -EINVAL, "a pipe is not a socket: %s", acio_err_name(rc));
    close(p[0]);
    close(p[1]);
    return NULL;
}

Test(transport, set_protocol_and_bad_socket, .timeout = 60)
{
    run_ok(set_protocol_main, NULL);
}

typedef struct {
    char got[256];
    size_t len;
    bool eof, lost;
    int lost_error;
} pipe_rec_t;

static void pr_data(acio_transport_t *t, const void *buf, size_t n, void *d)
{
    (void)t;
    pipe_rec_t *r = d;
    memcpy(r->got + r->len, buf, n);
    r->len += n;
}

static bool pr_eof(acio_transport_t *t, void *d)
{
    (void)t;
    ((pipe_rec_t *)d)->eof = true;
    return false;
}

static void pr_lost(acio_transport_t *t, int e, void *d)
{
    (void)t;
    pipe_rec_t *r = d;
    r->lost = true;
    r->lost_error = e;
}

static const acio_protocol_t pipe_proto = {
    .data_received = pr_data, .eof_received = pr_eof, .connection_lost = pr_lost};

static void *pipes_main(void *arg)
{
    (void)arg;
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    pipe_rec_t rd = {0}, wr = {0};
    acio_transport_t *rt, *wt;
    int rc = acio_loop_connect_read_pipe(NULL, &rt, &pipe_proto, &rd, p[0]);
    CHECK(rc == 0, "read pipe: %s", acio_strerror(rc));
    rc = acio_loop_connect_write_pipe(NULL, &wt, &pipe_proto, &wr, p[1]);
    CHECK(rc == 0, "write pipe: %s", acio_strerror(rc));
    CHECK(acio_transport_write(rt, "x", 1) == -ENOTSUP, "cannot write a read pipe");
    CHECK(acio_transport_pause_reading(wt) == -ENOTSUP, "cannot pause a write pipe");
    OK(acio_transport_write(wt, "through the pipe", 16));
    rc = acio_transport_write_eof(wt); /* closes the write end */
    CHECK(rc == 0, "write_eof");
    WAIT_UNTIL(rd.lost && wr.lost);
    CHECK(rd.len == 16 && memcmp(rd.got, "through the pipe", 16) == 0, "read %zu", rd.len);
    CHECK(rd.eof && rd.lost_error == 0 && wr.lost_error == 0, "clean ends");
    acio_transport_unref(rt);
    acio_transport_unref(wt);

    /* The reader goes away: writing reports EPIPE instead of killing us with SIGPIPE. */
    CHECK(pipe(p) == 0, "pipe");
    memset(&wr, 0, sizeof(wr));
    rc = acio_loop_connect_write_pipe(NULL, &wt, &pipe_proto, &wr, p[1]);
    CHECK(rc == 0, "write pipe");
    close(p[0]);
    rc = acio_transport_write(wt, "nobody reads this", 17);
    if (rc == 0)
        WAIT_UNTIL(wr.lost);
    CHECK(rc == -EPIPE || wr.lost, "EPIPE reported: %s", acio_err_name(rc));
    WAIT_UNTIL(wr.lost);
    CHECK(wr.lost, "connection_lost after the reader left");
    acio_transport_unref(wt);
    /* A regular file is not a pipe. */
    char path[] = "/tmp/acio-notpipe-XXXXXX";
    int f = mkstemp(path);
    unlink(path);
    rc = acio_loop_connect_read_pipe(NULL, &rt, &pipe_proto, &rd, f);
    CHECK(rc == -EINVAL, "regular file refused: %s", acio_err_name(rc));
    close(f);
    return NULL;
}

Test(transport, pipes_eof_and_epipe, .timeout = 60)
{
    run_ok(pipes_main, NULL);
}

static void *pipe_stream_main(void *arg)
{
    (void)arg;
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    CHECK(acio_open_pipe_reader(&r, p[0], 0) == 0, "pipe reader");
    CHECK(acio_open_pipe_writer(&w, p[1]) == 0, "pipe writer");
    OK(acio_stream_writer_write(w, "line one\nline two\n", 18));
    OK(acio_stream_writer_drain(w));
    acio_stream_writer_close(w);
    char line[32];
    ssize_t n = acio_stream_reader_readline(r, line, sizeof(line));
    CHECK(n == 9 && memcmp(line, "line one\n", 9) == 0, "first %zd", n);
    n = acio_stream_reader_readline(r, line, sizeof(line));
    CHECK(n == 9 && memcmp(line, "line two\n", 9) == 0, "second %zd", n);
    n = acio_stream_reader_readline(r, line, sizeof(line));
    CHECK(n == 0, "eof %zd", n);
    OK(acio_stream_writer_wait_closed(w));
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    OK(acio_sleep(0));
    return NULL;
}

Test(transport, pipe_streams, .timeout = 60)
{
    run_ok(pipe_stream_main, NULL);
}
