/* PostgreSQL COPY (acio/pg.h): COPY ... FROM STDIN fed in chunks with PQputCopyData in
 * non-blocking mode (waiting for the socket to drain whenever libpq's buffer is full),
 * and COPY ... TO STDOUT read as an async iterator of rows with PQgetCopyData(async).
 * While a COPY runs the connection is busy: other queries get ACIO_EPG_BUSY. A failure in
 * the middle (cancellation, timeout, a lost link) ends the COPY: an inbound one is
 * aborted with PQputCopyEnd(error), an outbound one cancelled and drained; if that fails
 * too the connection is closed, never left inside a COPY. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/fdwait.h"
#include "pg_int.h"

enum { COPY_NONE, COPY_IN, COPY_OUT };

static double deadline_of(acio_pg_t *c)
{
    return c->opts.query_timeout > 0 ? acio_loop_time(c->loop) + c->opts.query_timeout : 0;
}

/* Send sql and wait for the server to enter COPY (want: PGRES_COPY_IN / _OUT). */
static int start(acio_pg_t *c, const char *sql, ExecStatusType want, int mode)
{
    int rc = acio__pg_begin(c);
    if (rc < 0)
        return rc;
    if (!sql)
        return -EINVAL;
    if (!PQsendQuery(c->conn, sql))
        return acio__pg_send_failed(c);
    c->busy = true;
    double deadline = deadline_of(c);
    for (;;) {
        int f = PQflush(c->conn);
        if (f < 0) {
            rc = ACIO_EPG_CONNECTION;
            break;
        }
        if (f == 0 && !PQisBusy(c->conn)) {
            PGresult *r = PQgetResult(c->conn);
            ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
            if (st == want) {
                PQclear(r);
                c->copy = mode;
                return 0; /* busy stays set until the COPY ends */
            }
            if (r && st == PGRES_FATAL_ERROR) {
                acio__pg_record_error(c, r);
                PQclear(r);
                /* The statement failed (or was not a COPY of this direction): read
                 * what is left like any query. */
                acio__pg_sink_t s = {.nreport = 1};
                c->busy = false;
                int more = acio__pg_run(c, &s);
                return more == 0 || more == ACIO_EPG_SERVER ? ACIO_EPG_SERVER : more;
            }
            PQclear(r);
            snprintf(c->err_message, sizeof(c->err_message), "the statement is not a COPY %s",
                     mode == COPY_IN ? "FROM STDIN" : "TO STDOUT");
            rc = ACIO_EPG_UNSUPPORTED;
            break;
        }
        rc = acio__pg_wait(c, true, f == 1, deadline);
        if (rc < 0)
            break;
        if (!PQconsumeInput(c->conn)) {
            rc = ACIO_EPG_CONNECTION;
            break;
        }
    }
    /* Interrupted or confused before the COPY began: nothing sane to resume. */
    acio__pg_lose(c);
    c->busy = false;
    return rc == -ECANCELED || rc == -ETIMEDOUT || rc == -ENOMEM ? rc
           : rc == ACIO_EPG_UNSUPPORTED                          ? rc
                                                                 : ACIO_EPG_CONNECTION;
}

int acio_pg_copy_in_start(acio_pg_t *c, const char *sql)
{
    return start(c, sql, PGRES_COPY_IN, COPY_IN);
}

int acio_pg_copy_out_start(acio_pg_t *c, const char *sql)
{
    return start(c, sql, PGRES_COPY_OUT, COPY_OUT);
}

/* The COPY is over on our side: read its final result(s). */
static int finish(acio_pg_t *c, long long *rows)
{
    PGresult *last = NULL;
    acio__pg_sink_t s = {.ncmd = 1, .res = &last, .nreport = 1};
    c->copy = COPY_NONE;
    c->busy = false;
    int rc = acio__pg_run(c, &s);
    if (rc == 0 && rows) {
        const char *t = last ? PQcmdTuples(last) : "";
        *rows = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(last);
    return rc;
}

/* Flush what libpq holds, waiting for the socket as needed. */
static int flush_wait(acio_pg_t *c, double deadline)
{
    for (;;) {
        int f = PQflush(c->conn);
        if (f == 0)
            return 0;
        if (f < 0)
            return ACIO_EPG_CONNECTION;
        int rc = acio__pg_wait(c, true, true, deadline);
        if (rc < 0)
            return rc;
        if (!PQconsumeInput(c->conn))
            return ACIO_EPG_CONNECTION;
    }
}

/* An inbound COPY failed on our side: abort it so the server rolls it back. */
static int abort_in(acio_pg_t *c, int why)
{
    c->copy = COPY_NONE;
    if (why == ACIO_EPG_CONNECTION || PQputCopyEnd(c->conn, "aborted by the client") != 1) {
        acio__pg_lose(c);
        c->busy = false;
        return why ? why : ACIO_EPG_CONNECTION;
    }
    double deadline = acio_loop_time(c->loop) + c->opts.drain_timeout;
    int rc = flush_wait(c, deadline);
    c->busy = false;
    if (rc == 0) {
        acio__pg_sink_t s = {.nreport = 1};
        rc = acio__pg_run(c, &s); /* the server's 57014 "COPY from stdin failed" */
    }
    if (rc != 0 && rc != ACIO_EPG_SERVER) {
        acio__pg_lose(c);
        rc = ACIO_EPG_CONNECTION;
    }
    return why ? why : rc;
}

static int copy_check(acio_pg_t *c, int mode)
{
    if (!c)
        return -EINVAL;
    acio_loop_t *loop = c->loop;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!c->conn)
        return ACIO_EPG_CONNECTION;
    if (c->copy != mode)
        return -EINVAL;
    return 0;
}

int acio_pg_copy_in_write(acio_pg_t *c, const void *data, size_t len)
{
    int rc = copy_check(c, COPY_IN);
    if (rc < 0)
        return rc;
    double deadline = deadline_of(c);
    const char *p = data;
    while (len > 0) {
        int n = len > (1 << 20) ? 1 << 20 : (int)len;
        int put = PQputCopyData(c->conn, p, n);
        if (put < 0)
            return abort_in(c, ACIO_EPG_CONNECTION);
        if (put == 0) {
            /* libpq's buffer is full: wait for the socket, then try again. */
            rc = flush_wait(c, deadline);
            if (rc < 0)
                return abort_in(c, rc);
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
    /* Keep the buffer from growing: push out what is already there without waiting. */
    if (PQflush(c->conn) < 0)
        return abort_in(c, ACIO_EPG_CONNECTION);
    return 0;
}

int acio_pg_copy_in_end(acio_pg_t *c, long long *rows)
{
    int rc = copy_check(c, COPY_IN);
    if (rc < 0)
        return rc;
    int e = PQputCopyEnd(c->conn, NULL);
    if (e < 0)
        return abort_in(c, ACIO_EPG_CONNECTION);
    rc = flush_wait(c, deadline_of(c));
    if (e == 0 && rc == 0)
        e = PQputCopyEnd(c->conn, NULL);
    if (rc < 0 || e != 1) {
        /* The end is not out: abort instead (a half-sent COPY is never committed). */
        return abort_in(c, rc < 0 ? rc : ACIO_EPG_CONNECTION);
    }
    return finish(c, rows);
}

int acio_pg_copy_in_abort(acio_pg_t *c)
{
    int rc = copy_check(c, COPY_IN);
    if (rc < 0)
        return rc;
    return abort_in(c, 0);
}

/* Runs on an executor thread: PQcancel blocks. */
static void *cancel_job(void *arg, acio_job_t *job)
{
    PGcancel *pc = arg;
    char err[256];
    int ok = PQcancel(pc, err, sizeof(err));
    PQfreeCancel(pc);
    return ok ? NULL : acio_job_raise(job, ACIO_EPG_CONNECTION, "cancel failed: %s", err);
}

/* An outbound COPY stopped early: cancel it on the server, drop the rest of its rows,
 * read its end. False if the connection had to go. */
static bool stop_out(acio_pg_t *c)
{
    c->copy = COPY_NONE;
    PGcancel *pc = PQgetCancel(c->conn);
    acio_future_t *fut = NULL, *sh = NULL;
    if (!pc || acio_loop_run_in_executor(c->loop, NULL, cancel_job, pc, &fut) < 0) {
        if (pc)
            PQfreeCancel(pc);
        return false;
    }
    int rc = acio_shield(&sh, fut);
    if (rc == 0) {
        rc = acio_await(sh, NULL);
        acio_future_unref(sh);
    }
    acio_future_unref(fut);
    if (rc < 0)
        return false;
    double deadline = acio_loop_time(c->loop) + c->opts.drain_timeout;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(c->conn, &buf, 1);
        if (buf)
            PQfreemem(buf);
        if (n == -1)
            break;
        if (n < -1)
            return false;
        if (n == 0) {
            if (acio__pg_wait(c, true, false, deadline) < 0 || !PQconsumeInput(c->conn))
                return false;
        }
    }
    c->busy = false;
    acio__pg_sink_t s = {.nreport = 1};
    rc = acio__pg_run(c, &s);
    return rc == 0 || rc == ACIO_EPG_SERVER;
}

int acio_pg_copy_out_next(acio_pg_t *c, char **chunk, size_t *len)
{
    if (!chunk)
        return -EINVAL;
    *chunk = NULL;
    if (len)
        *len = 0;
    int rc = copy_check(c, COPY_OUT);
    if (rc < 0)
        return rc;
    double deadline = deadline_of(c);
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(c->conn, &buf, 1);
        if (n > 0) {
            *chunk = buf;
            if (len)
                *len = (size_t)n;
            return 0;
        }
        if (n == -1) {
            rc = finish(c, NULL);
            return rc == 0 ? ACIO_ESTOPASYNCITERATION : rc;
        }
        if (n < -1)
            break;
        rc = acio__pg_wait(c, true, false, deadline);
        if (rc < 0) {
            if (!stop_out(c)) {
                acio__pg_lose(c);
                c->busy = false;
            }
            return rc;
        }
        if (!PQconsumeInput(c->conn))
            break;
    }
    c->copy = COPY_NONE;
    c->busy = false;
    acio__pg_lose(c);
    return ACIO_EPG_CONNECTION;
}

int acio_pg_copy_out_stop(acio_pg_t *c)
{
    int rc = copy_check(c, COPY_OUT);
    if (rc < 0)
        return rc;
    if (!stop_out(c)) {
        acio__pg_lose(c);
        c->busy = false;
        return ACIO_EPG_CONNECTION;
    }
    return 0;
}

void acio_pg_copy_free(char *chunk)
{
    if (chunk)
        PQfreemem(chunk);
}
