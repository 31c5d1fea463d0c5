/* PostgreSQL COPY against a real server: COPY FROM STDIN fed in chunks split anywhere
 * (and one large write that overflows libpq's buffer), bad data and an explicit abort
 * rolling the COPY back, queries refused during a COPY, COPY TO STDOUT as an iterator of
 * rows and stopped early (cancelled and drained), the backend killed mid-COPY FROM,
 * and a
 * statement that is not a COPY. */
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
