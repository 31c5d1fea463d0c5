/* PostgreSQL COPY against a real server: COPY FROM STDIN fed in chunks split anywhere
 * (and one large write that overflows libpq's buffer), bad data and an explicit abort
 * rolling the COPY back, queries refused during a COPY, COPY TO STDOUT as an iterator of
 * rows and stopped early (cancelled and drained), a stalled COPY TO timing out and a
 * COPY FROM's end cancelled (both leave the connection usable), the backend killed
 * mid-COPY FROM, and a statement that is not a COPY. */
#include <criterion/criterion.h>
#include <string.h>

#include "acio.h"
#include "internal.h"
#include "support/check.h"
#include "support/pg_server.h"

static pg_server_t srv;

static void start(void)
{
    cr_assert_eq(pg_server_start(&srv), 0, "postgres did not start");
}

static void stop(void)
{
    pg_server_stop(&srv);
}

static int64_t count(acio_pg_t *c)
{
    acio_pg_result_t *r = NULL;
    int64_t n = -1;
    if (acio_pg_query(c, "SELECT count(*) FROM cp", 0, NULL, &r) != 0 ||
        acio_pg_result_int(r, 0, 0, &n) != 0)
        n = -1;
    acio_pg_result_free(r);
    return n;
}

static void *copy_in(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    CHECK(acio_pg_connect(&c, srv.conninfo, NULL) == 0, "connect: %s", acio_pg_connect_error());
    CHECK(acio_pg_execute(c, "CREATE TABLE cp (k int, v text)") == 0, "create");
    /* 10,000 rows in chunks of odd sizes, split mid-line. */
    enum { ROWS = 10000 };
    static char data[ROWS * 24];
    size_t len = 0;
    for (int i = 0; i < ROWS; i++)
        len += (size_t)snprintf(data + len, sizeof(data) - len, "%d\trow %d\n", i, i);
    int rc = acio_pg_copy_in_start(c, "COPY cp FROM STDIN");
    CHECK(rc == 0, "start: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    CHECK(acio_pg_is_busy(c) && acio_pg_execute(c, "SELECT 1") == ACIO_EPG_BUSY, "busy");
    for (size_t off = 0, step = 7; off < len; off += step, step = step * 3 % 4093 + 1) {
        size_t n = off + step > len ? len - off : step;
        rc = acio_pg_copy_in_write(c, data + off, n);
        CHECK(rc == 0, "write at %zu: %s", off, acio_err_name(rc));
    }
    long long rows = 0;
    rc = acio_pg_copy_in_end(c, &rows);
    CHECK(rc == 0 && rows == ROWS, "end: %s %lld %s", acio_err_name(rc), rows,
          acio_pg_error_message(c));
    CHECK(!acio_pg_is_busy(c) && count(c) == ROWS, "copied");

    /* One write of 8 MB: more than libpq buffers at once. */
    enum { BIG = 8 << 20 };
    char *big = malloc(BIG);
    CHECK(big != NULL, "malloc");
    size_t bl = 0;
    int nbig = 0;
    while (bl + 64 < BIG) {
        int w = snprintf(big + bl, 64, "%d\t%040d\n", nbig, nbig);
        bl += (size_t)w;
        nbig++;
    }
    CHECK(acio_pg_copy_in_start(c, "COPY cp FROM STDIN") == 0, "start");
    rc = acio_pg_copy_in_write(c, big, bl);
    free(big);
    CHECK(rc == 0, "big write: %s", acio_err_name(rc));
    CHECK(acio_pg_copy_in_end(c, &rows) == 0 && rows == nbig, "big end: %lld of %d", rows, nbig);
    CHECK(count(c) == ROWS + nbig, "big copied");

    /* Bad data: the COPY fails and is rolled back; the connection stays usable. */
    CHECK(acio_pg_copy_in_start(c, "COPY cp FROM STDIN") == 0, "start");
    CHECK(acio_pg_copy_in_write(c, "1\tok\nnot a number\tx\n", 21) == 0, "write");
    rc = acio_pg_copy_in_end(c, &rows);
    CHECK(rc == ACIO_EPG_SERVER && strcmp(acio_pg_error_sqlstate(c), "22P02") == 0,
          "bad data: %s %s", acio_err_name(rc), acio_pg_error_sqlstate(c));
    CHECK(count(c) == ROWS + nbig, "rolled back");
    /* An explicit abort. */
    CHECK(acio_pg_copy_in_start(c, "COPY cp FROM STDIN") == 0, "start");
    CHECK(acio_pg_copy_in_write(c, "1\tok\n", 5) == 0, "write");
    rc = acio_pg_copy_in_abort(c);
    CHECK(rc == ACIO_EPG_SERVER && strcmp(acio_pg_error_sqlstate(c), "57014") == 0, "abort: %s %s",
          acio_err_name(rc), acio_pg_error_sqlstate(c));
    CHECK(count(c) == ROWS + nbig && acio_pg_is_connected(c), "aborted, usable");
    CHECK(acio_pg_copy_in_write(c, "x", 1) == -EINVAL, "no COPY in progress");
    /* The server refuses the COPY statement itself. */
    rc = acio_pg_copy_in_start(c, "COPY nosuch FROM STDIN");
    CHECK(rc == ACIO_EPG_SERVER && strcmp(acio_pg_error_sqlstate(c), "42P01") == 0, "no table: %s",
          acio_err_name(rc));
    CHECK(count(c) == ROWS + nbig, "usable after");

    /* The backend killed mid-COPY. */
    CHECK(acio_pg_copy_in_start(c, "COPY cp FROM STDIN") == 0, "start");
    CHECK(kill(acio_pg_backend_pid(c), SIGKILL) == 0, "kill");
    rc = 0;
    for (int i = 0; i < 20000 && rc == 0; i++)
        rc = acio_pg_copy_in_write(c, "1\tafter the kill\n", 17);
    if (rc == 0)
        rc = acio_pg_copy_in_end(c, &rows);
    CHECK(rc == ACIO_EPG_CONNECTION && !acio_pg_is_connected(c), "lost: %s", acio_err_name(rc));
    acio_pg_close(c);

    /* Not a COPY at all. (The kill makes the postmaster restart its backends: connecting
     * fails until it is done.) */
    rc = -1;
    for (int i = 0; i < 500 && rc != 0; i++) {
        rc = acio_pg_connect(&c, srv.conninfo, NULL);
        if (rc != 0)
            CHECK(acio_sleep(0.01) == 0, "sleep");
    }
    CHECK(rc == 0, "connect: %s", acio_pg_connect_error());
    rc = acio_pg_copy_in_start(c, "SELECT 1");
    CHECK(rc == ACIO_EPG_UNSUPPORTED, "not a copy: %s", acio_err_name(rc));
    acio_pg_close(c);
    return NULL;
}

Test(pg_copy, copy_in_chunks_errors_abort_and_loss, .init = start, .fini = stop)
{
    run_ok(copy_in, NULL);
}

static void *copy_out(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    CHECK(acio_pg_connect(&c, srv.conninfo, NULL) == 0, "connect");
    int rc = acio_pg_copy_out_start(c, "COPY (SELECT i, 'r' || i FROM generate_series(1, 1000) i) "
                                       "TO STDOUT");
    CHECK(rc == 0, "start: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    CHECK(acio_pg_execute(c, "SELECT 1") == ACIO_EPG_BUSY, "busy");
    int n = 0;
    char *chunk;
    size_t len;
    while ((rc = acio_pg_copy_out_next(c, &chunk, &len)) == 0) {
        char want[32];
        n++;
        snprintf(want, sizeof(want), "%d\tr%d\n", n, n);
        bool same = len == strlen(want) && memcmp(chunk, want, len) == 0;
        acio_pg_copy_free(chunk);
        CHECK(same, "row %d", n);
    }
    CHECK(rc == ACIO_ESTOPASYNCITERATION && n == 1000, "end: %s after %d", acio_err_name(rc), n);
    CHECK(!acio_pg_is_busy(c), "over");
    /* Stopped early: a big COPY cancelled and drained. */
    CHECK(acio_pg_copy_out_start(
              c, "COPY (SELECT i FROM generate_series(1, 5000000) i) TO STDOUT") == 0,
          "start big");
    for (int i = 0; i < 10; i++) {
        CHECK(acio_pg_copy_out_next(c, &chunk, &len) == 0, "row");
        acio_pg_copy_free(chunk);
    }
    CHECK(acio_pg_copy_out_stop(c) == 0 && acio_pg_is_connected(c), "stopped");
    acio_pg_result_t *r = NULL;
    CHECK(acio_pg_query(c, "SELECT 7", 0, NULL, &r) == 0 && acio_pg_result_nrows(r) == 1,
          "usable: %s", acio_pg_error_message(c));
    acio_pg_result_free(r);
    acio_pg_close(c);
    return NULL;
}

Test(pg_copy, copy_out_rows_and_early_stop, .init = start, .fini = stop)
{
    run_ok(copy_out, NULL);
}

/* A COPY TO whose rows stop coming (the server sleeps on row 3000, after more than its
 * 8 KB send buffer of rows went out): the timeout of next, which waits on the socket,
 * cancels the COPY on the server and drains it, and the connection is usable. Task
 * cancellation takes the same path (copy_cancel_in below cancels a task). */
static void *copy_out_timeout(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    CHECK(acio_pg_connect(&c, srv.conninfo, NULL) == 0, "connect");
    int rc = acio_pg_copy_out_start(c, "COPY (SELECT i, CASE WHEN i = 3000 THEN pg_sleep(30) END "
                                       "FROM generate_series(1, 4000) i) TO STDOUT");
    CHECK(rc == 0, "start: %s %s", acio_err_name(rc), acio_pg_error_message(c));
    acio_pg_set_query_timeout(c, 0.5);
    int n = 0;
    char *chunk;
    size_t len;
    while ((rc = acio_pg_copy_out_next(c, &chunk, &len)) == 0) {
        n++;
        acio_pg_copy_free(chunk);
    }
    CHECK(rc == -ETIMEDOUT, "a stalled COPY TO times out: %s after %d rows", acio_err_name(rc), n);
    CHECK(n > 0 && n < 3000, "rows before the stall: %d", n);
    CHECK(acio_pg_is_connected(c) && !acio_pg_is_busy(c), "drained, still connected");
    acio_pg_set_query_timeout(c, 0);
    acio_pg_result_t *r = NULL;
    CHECK(acio_pg_query(c, "SELECT 7", 0, NULL, &r) == 0 && acio_pg_result_nrows(r) == 1,
          "usable: %s", acio_pg_error_message(c));
    acio_pg_result_free(r);
    acio_pg_close(c);
    return NULL;
}

Test(pg_copy, copy_out_timeout_cancels_and_drains, .init = start, .fini = stop)
{
    run_ok(copy_out_timeout, NULL);
}

/* A COPY FROM whose end waits on the server (a trigger sleeps on one row): cancelling
 * the task waiting in end aborts the COPY, nothing is copied, and the connection is
 * usable for the next query. */
static void *copy_in_end_waits(void *arg)
{
    acio_pg_t *c = arg;
    int rc = acio_pg_copy_in_start(c, "COPY cp FROM STDIN");
    if (rc != 0)
        return acio_raise(rc, "start: %s", acio_pg_error_message(c));
    static const char rows[] = "1\ta\n2\tb\n3\tslow\n4\td\n";
    rc = acio_pg_copy_in_write(c, rows, sizeof(rows) - 1);
    if (rc != 0)
        return acio_raise(rc, "write");
    long long n = 0;
    rc = acio_pg_copy_in_end(c, &n);
    return acio_raise(rc == 0 ? -EPROTO : rc, "end returned %s", acio_err_name(rc));
}

static void *copy_cancel_in(void *arg)
{
    (void)arg;
    acio_pg_t *c;
    CHECK(acio_pg_connect(&c, srv.conninfo, NULL) == 0, "connect");
    CHECK(acio_pg_execute(c, "CREATE TABLE cp (k int, v text);"
                             "CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$"
                             " BEGIN IF NEW.v = 'slow' THEN PERFORM pg_sleep(30); END IF;"
                             " RETURN NEW; END $$;"
                             "CREATE TRIGGER slow BEFORE INSERT ON cp"
                             " FOR EACH ROW EXECUTE FUNCTION slow_row()") == 0,
          "setup: %s", acio_pg_error_message(c));
    acio_task_t *t;
    CHECK(acio_create_task(&t, copy_in_end_waits, c, NULL) == 0, "task");
    CHECK(acio_sleep(0.5) == 0, "sleep");
    CHECK(!acio_future_done(t), "end is still waiting on the sleeping trigger");
    CHECK(acio_task_cancel(t, NULL) == 1, "cancel");
    void *res;
    int rc = acio_await(t, &res);
    acio_future_unref(t);
    CHECK(rc == -ECANCELED, "cancelled end: %s", acio_err_name(rc));
    CHECK(acio_pg_is_connected(c) && !acio_pg_is_busy(c), "still connected, idle");
    CHECK(count(c) == 0, "nothing copied");
    acio_pg_close(c);
    return NULL;
}

Test(pg_copy, copy_in_end_cancelled, .init = start, .fini = stop)
{
    run_ok(copy_cancel_in, NULL);
}
