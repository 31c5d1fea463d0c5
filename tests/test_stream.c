/* Streams: StreamReader semantics on hand-fed data (read, readline, readuntil,
 * readexactly, read_all, limits, EOF and errors), and StreamWriter / StreamReader over
 * real connections from open_connection and start_server (echo, drain above the
 * high-water mark only, write_eof, wait_closed, handler-owned lifetimes). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/fds.h"
#include "support/rc.h"

static void run(acio_coro_fn fn, void *arg)
{
    int before = count_fds();
    run_ok(fn, arg);
    cr_assert_eq(count_fds(), before, "fds open before %d, after %d", before, count_fds());
}

/* ---- hand-fed readers ---- */

static void *feeder(void *arg)
{
    acio_stream_reader_t *r = arg;
    OK(acio_sleep(0.001));
    OK(acio_stream_reader_feed_data(r, "par", 3));
    OK(acio_sleep(0.001));
    OK(acio_stream_reader_feed_data(r, "tial\nrest", 9));
    OK(acio_sleep(0.001));
    acio_stream_reader_feed_eof(r);
    return NULL;
}

static void *readline_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r;
    int rc = acio_stream_reader_new(&r, 0);
    CHECK(rc == 0, "new");
    CHECK(acio_stream_reader_get_limit(r) == ACIO_STREAM_DEFAULT_LIMIT, "default limit");
    acio_task_t *t;
    OK(acio_create_task(&t, feeder, r, "feeder"));
    char buf[64];
    ssize_t n = acio_stream_reader_readline(r, buf, sizeof(buf));
    CHECK(n == 8 && memcmp(buf, "partial\n", 8) == 0, "line 1: %zd", n);
    CHECK(!acio_stream_reader_at_eof(r), "not at eof");
    n = acio_stream_reader_readline(r, buf, sizeof(buf));
    CHECK(n == 4 && memcmp(buf, "rest", 4) == 0, "last partial line: %zd", n);
    CHECK(acio_stream_reader_at_eof(r), "at eof");
    n = acio_stream_reader_readline(r, buf, sizeof(buf));
    CHECK(n == 0, "then empty: %zd", n);
    CHECK(acio_stream_reader_feed_data(r, "x", 1) == -EPIPE, "feed after eof refused");
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    acio_stream_reader_unref(r);
    return NULL;
}

Test(stream, readline_across_chunks_and_eof, .timeout = 60)
{
    run(readline_main, NULL);
}

/* A line that fits the limit but not the caller's buffer: -ENOBUFS, nothing consumed,
 * a message that names the way out; the _alloc form then returns exactly the line, across
 * chunks that arrive while it waits. */
static void *alloc_feeder(void *arg)
{
    acio_stream_reader_t *r = arg;
    OK(acio_sleep(0.001));
    OK(acio_stream_reader_feed_data(r, "-tail\nnext|", 11));
    return NULL;
}

static void *alloc_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r;
    OK(acio_stream_reader_new(&r, 0));
    char line[200];
    memset(line, 'x', 100);
    line[100] = '\n';
    OK(acio_stream_reader_feed_data(r, line, 101));
    char small[16];
    ssize_t n = acio_stream_reader_readline(r, small, sizeof small);
    CHECK(n == -ENOBUFS, "too small a buffer: %zd", n);
    CHECK(acio_stream_reader_buffered(r) == 101, "nothing consumed");
    acio_stream_read_error_t e;
    CHECK(acio_stream_reader_last_error(r, &e) == -ENOBUFS, "recorded");
    CHECK(strstr(e.message, "_alloc") != NULL, "message: %s", e.message);
    char *got = NULL;
    size_t len = 0;
    OK(acio_stream_reader_readline_alloc(r, &got, &len));
    CHECK(len == 101 && got[100] == '\n' && got[101] == '\0', "the whole line: %zu", len);
    CHECK(acio_stream_reader_last_error(r, &e) == 0 && e.message[0] == '\0', "cleared");
    free(got);
    /* readuntil_alloc waits for the separator across chunks. */
    OK(acio_stream_reader_feed_data(r, "head", 4));
    acio_task_t *t;
    OK(acio_create_task(&t, alloc_feeder, r, "feeder"));
    OK(acio_stream_reader_readuntil_alloc(r, "\n", 1, &got, &len));
    CHECK(len == 10 && strcmp(got, "head-tail\n") == 0, "chunk %zu '%s'", len, got);
    free(got);
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    /* At EOF: ACIO_EINCOMPLETEREAD, *out NULL, the partial bytes in the error. */
    acio_stream_reader_feed_eof(r);
    got = (char *)1;
    CHECK(acio_stream_reader_readuntil_alloc(r, "\n", 1, &got, &len) == ACIO_EINCOMPLETEREAD,
          "EOF first");
    CHECK(got == NULL && len == 0, "nothing handed out");
    CHECK(acio_stream_reader_last_error(r, &e) == ACIO_EINCOMPLETEREAD, "recorded");
    CHECK(e.partial_len == 5 && memcmp(e.partial, "next|", 5) == 0 && e.expected == -1,
          "partial %zu", e.partial_len);
    CHECK(acio_stream_reader_buffered(r) == 0, "the buffer was emptied");
    /* Then EOF: readline_alloc gives an empty line. */
    OK(acio_stream_reader_readline_alloc(r, &got, &len));
    CHECK(len == 0 && got != NULL && got[0] == '\0', "empty line at EOF");
    free(got);
    CHECK(acio_stream_reader_readline_alloc(r, NULL, &len) == -EINVAL, "NULL out");
    acio_stream_reader_unref(r);
    return NULL;
}

Test(stream, alloc_forms_and_last_error, .timeout = 60)
{
    run(alloc_main, NULL);
}

/* The library's allocator failing (src/alloc.c's test hook): IncompleteReadError's copy
 * of the partial bytes cannot be made, so readuntil returns -ENOMEM and consumes nothing;
 * the next call, with memory, gets the bytes. No byte is lost on the error path. */
void acio__alloc_fail_after(long n);

static void *partial_oom_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r;
    OK(acio_stream_reader_new(&r, 0));
    OK(acio_stream_reader_feed_data(r, "no newline", 10));
    acio_stream_reader_feed_eof(r);
    char *got = NULL;
    size_t len = 0;
    acio__alloc_fail_after(1);
    int rc = acio_stream_reader_readuntil_alloc(r, "\n", 1, &got, &len);
    acio__alloc_fail_after(0);
    CHECK(rc == -ENOMEM, "out of memory: %s", acio_err_name(rc));
    CHECK(got == NULL && acio_stream_reader_buffered(r) == 10, "nothing consumed");
    rc = acio_stream_reader_readuntil_alloc(r, "\n", 1, &got, &len);
    CHECK(rc == ACIO_EINCOMPLETEREAD, "then: %s", acio_err_name(rc));
    acio_stream_read_error_t e;
    CHECK(acio_stream_reader_last_error(r, &e) == ACIO_EINCOMPLETEREAD, "recorded");
    CHECK(e.partial_len == 10 && memcmp(e.partial, "no newline", 10) == 0, "the bytes");
    acio_stream_reader_unref(r);
    return NULL;
}

Test(stream, partial_copy_out_of_memory_loses_nothing, .timeout = 60)
{
    run(partial_oom_main, NULL);
}

static void *readuntil_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r;
    OK(acio_stream_reader_new(&r, 16));
    char buf[64];
    size_t partial = 99;
    OK(acio_stream_reader_feed_data(r, "ab--cd--", 8));
    ssize_t n = acio_stream_reader_readuntil(r, "--", 2, buf, sizeof(buf), &partial);
    CHECK(n == 4 && memcmp(buf, "ab--", 4) == 0, "first: %zd", n);
    /* Found but longer than the caller's buffer: nothing is consumed. */
    n = acio_stream_reader_readuntil(r, "--", 2, buf, 3, &partial);
    CHECK(n == -ENOBUFS, "small buffer: %zd", n);
    CHECK(acio_stream_reader_buffered(r) == 4, "kept");
    n = acio_stream_reader_readuntil(r, "--", 2, buf, sizeof(buf), &partial);
    CHECK(n == 4 && memcmp(buf, "cd--", 4) == 0, "second: %zd", n);
    /* No separator within the limit (16): LimitOverrun, the data stays. */
    OK(acio_stream_reader_feed_data(r, "0123456789abcdefghij", 20));
    n = acio_stream_reader_readuntil(r, "--", 2, buf, sizeof(buf), &partial);
    CHECK(n == ACIO_ELIMITOVERRUN, "overrun: %s", acio_err_name((int)n));
    CHECK(acio_stream_reader_buffered(r) == 20, "data kept after overrun");
    /* readline drops an overlong line, as asyncio does. */
    OK(acio_stream_reader_feed_data(r, "\nok\n", 4));
    n = acio_stream_reader_readline(r, buf, sizeof(buf));
    CHECK(n == ACIO_ELIMITOVERRUN, "readline overrun: %s", acio_err_name((int)n));
    n = acio_stream_reader_readline(r, buf, sizeof(buf));
    CHECK(n == 3 && memcmp(buf, "ok\n", 3) == 0, "next line intact: %zd", n);
    /* EOF before the separator: IncompleteRead with the partial data. */
    OK(acio_stream_reader_feed_data(r, "tail", 4));
    acio_stream_reader_feed_eof(r);
    n = acio_stream_reader_readuntil(r, "--", 2, buf, sizeof(buf), &partial);
    CHECK(n == ACIO_EINCOMPLETEREAD && partial == 4 && memcmp(buf, "tail", 4) == 0,
          "incomplete: %zd partial %zu", n, partial);
    CHECK(acio_stream_reader_readuntil(r, "", 0, buf, 1, NULL) == -EINVAL, "empty separator");
    acio_stream_reader_unref(r);
    return NULL;
}

Test(stream, readuntil_limits_and_incomplete, .timeout = 60)
{
    run(readuntil_main, NULL);
}

static void *exactly_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r;
    OK(acio_stream_reader_new(&r, 0));
    acio_task_t *t;
    OK(acio_create_task(&t, feeder, r, "feeder"));
    char buf[64];
    size_t partial = 0;
    int rc = acio_stream_reader_readexactly(r, buf, 5, &partial);
    CHECK(rc == 0 && memcmp(buf, "parti", 5) == 0, "exactly 5: %d", rc);
    rc = acio_stream_reader_readexactly(r, buf, 50, &partial);
    CHECK(rc == ACIO_EINCOMPLETEREAD, "incomplete: %s", acio_err_name(rc));
    CHECK(partial == 7 && memcmp(buf, "al\nrest", 7) == 0, "partial %zu", partial);
    ssize_t n = acio_stream_reader_read(r, buf, 10);
    CHECK(n == 0, "read at eof: %zd", n);
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    acio_stream_reader_unref(r);
    return NULL;
}

Test(stream, readexactly_reports_partial_data, .timeout = 60)
{
    run(exactly_main, NULL);
}

static void *second_reader(void *arg)
{
    char b[4];
    return (void *)(intptr_t)acio_stream_reader_read(arg, b, 4);
}

static void *errors_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r;
    OK(acio_stream_reader_new(&r, 0));
    acio_task_t *t;
    OK(acio_create_task(&t, second_reader, r, "second"));
    OK(acio_sleep(0)); /* the second reader is now waiting */
    char b[4];
    ssize_t n = acio_stream_reader_read(r, b, 4);
    CHECK(n == -EBUSY, "two readers: %zd", n);
    acio_stream_reader_set_exception(r, -ECONNRESET);
    void *res;
    OK(acio_await(t, &res));
    CHECK((intptr_t)res == -ECONNRESET, "waiting reader woken with the error: %ld",
          (long)(intptr_t)res);
    CHECK(acio_stream_reader_exception(r) == -ECONNRESET, "exception()");
    CHECK(acio_stream_reader_read(r, b, 4) == -ECONNRESET, "later reads fail too");
    acio_future_unref(t);
    acio_stream_reader_unref(r);
    /* read_all collects everything until EOF. */
    OK(acio_stream_reader_new(&r, 0));
    OK(acio_create_task(&t, feeder, r, "feeder"));
    void *all;
    size_t len;
    int rc = acio_stream_reader_read_all(r, &all, &len);
    CHECK(rc == 0 && len == 12 && memcmp(all, "partial\nrest", 13) == 0, "read_all %d %zu", rc,
          len);
    free(all);
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    acio_stream_reader_unref(r);
    return NULL;
}

Test(stream, reader_errors_and_read_all, .timeout = 60)
{
    run(errors_main, NULL);
}

/* ---- over connections ---- */

static void *line_echo(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    int *served = arg;
    char line[256];
    for (;;) {
        ssize_t n = acio_stream_reader_readline(r, line, sizeof(line));
        if (n <= 0)
            break;
        OK(acio_stream_writer_write(w, line, (size_t)n));
        if (acio_stream_writer_drain(w) < 0)
            break;
    }
    (*served)++;
    /* Returning without closing: acio closes the connection when the handler's reader
     * and writer are released. */
    return NULL;
}

static void *echo_lines_main(void *arg)
{
    (void)arg;
    int served = 0;
    acio_server_t *srv;
    int rc = acio_start_server(&srv, line_echo, &served, "127.0.0.1", 0, 0, NULL);
    CHECK(rc == 0, "start_server: %s", acio_strerror(rc));
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    rc = acio_open_connection(&r, &w, "127.0.0.1", acio_server_port(srv), 0, NULL);
    CHECK(rc == 0, "open_connection: %s", acio_strerror(rc));
    char line[256], want[64];
    for (int i = 0; i < 200; i++) {
        int l = snprintf(want, sizeof(want), "line %d\n", i);
        OK(acio_stream_writer_write(w, want, (size_t)l));
    }
    rc = acio_stream_writer_drain(w);
    CHECK(rc == 0, "drain %d", rc);
    for (int i = 0; i < 200; i++) {
        int l = snprintf(want, sizeof(want), "line %d\n", i);
        ssize_t n = acio_stream_reader_readline(r, line, sizeof(line));
        CHECK(n == l && memcmp(line, want, (size_t)l) == 0, "line %d: got %zd", i, n);
    }
    /* Half-close: the server sees EOF, its handler returns, the connection closes. */
    CHECK(acio_stream_writer_can_write_eof(w), "can_write_eof");
    acio_stream_writer_write_eof(w);
    ssize_t n = acio_stream_reader_read(r, line, sizeof(line));
    CHECK(n == 0, "eof from server: %zd", n);
    CHECK(acio_stream_reader_at_eof(r), "at_eof");
    acio_stream_writer_close(w);
    CHECK(acio_stream_writer_is_closing(w), "is_closing");
    rc = acio_stream_writer_wait_closed(w);
    CHECK(rc == 0, "wait_closed %d", rc);
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    acio_server_close(srv);
    rc = acio_server_wait_closed(srv);
    CHECK(rc == 0 && served == 1, "server closed, served %d", served);
    acio_server_free(srv);
    return NULL;
}

Test(stream, open_connection_start_server_lines, .timeout = 60)
{
    run(echo_lines_main, NULL);
}

/* drain waits only above the high-water mark, and returns once the peer reads. */
typedef struct {
    acio_future_t *go;
    size_t got;
} slow_t;

static void *slow_reader(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)w;
    slow_t *s = arg;
    OK(acio_await(s->go, NULL));
    char buf[65536];
    for (;;) {
        ssize_t n = acio_stream_reader_read(r, buf, sizeof(buf));
        if (n <= 0)
            break;
        s->got += (size_t)n;
    }
    return NULL;
}

static void *drain_main(void *arg)
{
    (void)arg;
    slow_t s = {0};
    OK(acio_future_new(acio_get_running_loop(), &s.go));
    acio_server_t *srv;
    int rc = acio_start_server(&srv, slow_reader, &s, "127.0.0.1", 0, 0, NULL);
    CHECK(rc == 0, "start_server");
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    rc = acio_open_connection(&r, &w, "127.0.0.1", acio_server_port(srv), 0, NULL);
    CHECK(rc == 0, "open_connection");
    acio_transport_t *t = acio_stream_writer_transport(w);
    OK(acio_transport_set_write_buffer_limits(t, 65536, 16384));
    /* A small write: drain returns at once. */
    OK(acio_stream_writer_write(w, "hello", 5));
    rc = acio_stream_writer_drain(w);
    CHECK(rc == 0, "drain below high water");
    /* Write far more than the socket buffers take, then drain: it must wait until the
     * server starts reading. */
    size_t N = 16 << 20;
    char *big = calloc(1, N);
    OK(acio_stream_writer_write(w, big, N));
    CHECK(acio_transport_get_write_buffer_size(t) > 65536, "above high water");
    acio_future_set_result(s.go, NULL);
    rc = acio_stream_writer_drain(w);
    CHECK(rc == 0, "drain %d", rc);
    CHECK(acio_transport_get_write_buffer_size(t) <= 16384, "at or below low water: %zu",
          acio_transport_get_write_buffer_size(t));
    CHECK(s.got > 0, "the server was reading while we drained");
    acio_stream_writer_close(w);
    OK(acio_stream_writer_wait_closed(w));
    acio_server_close(srv);
    OK(acio_server_wait_closed(srv));
    CHECK(s.got == N + 5, "server got %zu of %zu", s.got, N + 5);
    acio_server_free(srv);
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    acio_future_unref(s.go);
    free(big);
    return NULL;
}

Test(stream, drain_waits_only_above_high_water, .timeout = 60)
{
    run(drain_main, NULL);
}

/* Reading pauses the transport when the buffer holds more than 2 * limit. */
static void *flood(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)r;
    (void)arg;
    char *big = calloc(1, 1 << 20);
    OK(acio_stream_writer_write(w, big, 1 << 20));
    OK(acio_stream_writer_drain(w));
    free(big);
    acio_stream_writer_close(w);
    OK(acio_stream_writer_wait_closed(w));
    return NULL;
}

static void *limit_main(void *arg)
{
    (void)arg;
    acio_server_t *srv;
    int rc = acio_start_server(&srv, flood, NULL, "127.0.0.1", 0, 0, NULL);
    CHECK(rc == 0, "start_server");
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    rc = acio_open_connection(&r, &w, "127.0.0.1", acio_server_port(srv), 4096, NULL);
    CHECK(rc == 0, "open_connection");
    acio_transport_t *t = acio_stream_writer_transport(w);
    for (int i = 0; i < 200 && acio_transport_is_reading(t); i++)
        OK(acio_sleep(0.001));
    CHECK(!acio_transport_is_reading(t), "reading paused");
    CHECK(acio_stream_reader_buffered(r) > 8192, "buffered %zu", acio_stream_reader_buffered(r));
    CHECK(acio_stream_reader_buffered(r) < 8192 + 65536 + 1, "bounded: %zu",
          acio_stream_reader_buffered(r));
    void *all;
    size_t len;
    rc = acio_stream_reader_read_all(r, &all, &len);
    CHECK(rc == 0 && len == 1 << 20, "read_all %d %zu", rc, len);
    free(all);
    acio_stream_writer_close(w);
    OK(acio_stream_writer_wait_closed(w));
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    acio_server_free(srv);
    return NULL;
}

Test(stream, reader_limit_pauses_transport, .timeout = 60)
{
    run(limit_main, NULL);
}

static void *refused_main(void *arg)
{
    (void)arg;
    acio_stream_reader_t *r = NULL;
    acio_stream_writer_t *w = NULL;
    /* Port 1 on loopback: nobody listens there in the test environment. */
    int rc = acio_open_connection(&r, &w, "127.0.0.1", 1, 0, NULL);
    CHECK(rc == -ECONNREFUSED, "got %s", acio_err_name(rc));
    return NULL;
}

Test(stream, open_connection_refused, .timeout = 60)
{
    run(refused_main, NULL);
}

/* The peer resets: a pending read gets the error, drain and wait_closed report it. */
static void *rst_handler(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    (void)r;
    (void)arg;
    int fd = acio_transport_get_fd(acio_stream_writer_transport(w));
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    acio_transport_abort(acio_stream_writer_transport(w));
    return NULL;
}

static void *reset_main(void *arg)
{
    (void)arg;
    acio_server_t *srv;
    int rc = acio_start_server(&srv, rst_handler, NULL, "127.0.0.1", 0, 0, NULL);
    CHECK(rc == 0, "start_server");
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    rc = acio_open_connection(&r, &w, "127.0.0.1", acio_server_port(srv), 0, NULL);
    CHECK(rc == 0, "open_connection");
    char buf[16];
    ssize_t n = acio_stream_reader_read(r, buf, sizeof(buf));
    CHECK(n == -ECONNRESET, "read: %s", acio_err_name((int)n));
    rc = acio_stream_writer_drain(w);
    CHECK(rc == -ECONNRESET, "drain: %s", acio_err_name(rc));
    rc = acio_stream_writer_wait_closed(w);
    CHECK(rc == -ECONNRESET, "wait_closed: %s", acio_err_name(rc));
    CHECK(acio_stream_writer_write(w, "x", 1) < 0, "write after reset fails");
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    acio_server_free(srv);
    return NULL;
}

Test(stream, reset_reaches_read_drain_and_wait_closed, .timeout = 60)
{
    run(reset_main, NULL);
}
