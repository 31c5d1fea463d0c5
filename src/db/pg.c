/* The PostgreSQL connection (acio/pg.h): connecting with PQconnectStart/PQconnectPoll,
 * and the query engine: send with PQsendQueryParams, PQflush until the query is out,
 * then PQconsumeInput / PQisBusy / PQgetResult each time the socket is readable. Every
 * wait is a reader/writer registration on libpq's socket for one wait only, so nothing
 * stays registered when libpq closes or replaces its socket.
 *
 * A cancelled or timed-out query is cancelled on the server (PQcancel blocks, so it runs
 * on the loop's default executor) and its remaining results are read and dropped, so
 * the connection is usable again; if any of that fails the connection is closed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/fdwait.h"
#include "pg_int.h"

#define READY    ((void *)1)
#define TIMEDOUT ((void *)2)

static __thread char connect_error[512];

const char *acio_pg_connect_error(void)
{
    return connect_error;
}

/* Copy a libpq message without its trailing newline. */
static void copy_message(char *dst, size_t cap, const char *msg)
{
    snprintf(dst, cap, "%s", msg ? msg : "");
    size_t n = strlen(dst);
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
}

/* ---- waiting on libpq's socket ---- */

static void ready_cb(int fd, int events, void *arg)
{
    (void)fd;
    (void)events;
    acio_future_t *fut = arg;
    if (!acio_future_done(fut))
        acio_future_set_result(fut, READY);
}

static void timeout_cb(void *arg)
{
    acio_future_t *fut = arg;
    if (!acio_future_done(fut))
        acio_future_set_result(fut, TIMEDOUT);
}

/* Wait until fd is readable (rd) or writable (wr), or the loop time reaches deadline
 * (<= 0: none). Returns 0, -ETIMEDOUT, -ECANCELED, or a registration error. */
static int wait_sock(acio_loop_t *loop, int fd, bool rd, bool wr, double deadline)
{
    if (fd < 0)
        return ACIO_EPG_CONNECTION;
    acio_future_t *fut;
    int rc = acio_future_new(loop, &fut);
    if (rc < 0)
        return rc;
    acio_future_set_label(fut, "postgresql socket");
    bool have_r = false, have_w = false;
    acio_handle_t *timer = NULL;
    if (rd) {
        rc = acio_loop_add_reader(loop, fd, ready_cb, fut);
        if (rc < 0)
            goto out;
        have_r = true;
    }
    if (wr) {
        rc = acio_loop_add_writer(loop, fd, ready_cb, fut);
        if (rc < 0)
            goto out;
        have_w = true;
    }
    if (deadline > 0) {
        rc = acio_loop_call_at(loop, deadline, timeout_cb, fut, &timer);
        if (rc < 0)
            goto out;
    }
    void *res = NULL;
    rc = acio_await(fut, &res);
    if (rc == 0 && res == TIMEDOUT)
        rc = -ETIMEDOUT;
out:
    if (have_r)
        acio_loop_remove_reader(loop, fd);
    if (have_w)
        acio_loop_remove_writer(loop, fd);
    if (timer) {
        acio_handle_cancel(timer);
        acio_handle_unref(timer);
    }
    acio_future_unref(fut);
    return rc;
}

/* ---- connecting ---- */

static void notice_ignore(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int acio_pg_connect(acio_pg_t **out, const char *conninfo, const acio_pg_opts_t *opts)
{
    if (!out || !conninfo)
        return -EINVAL;
    *out = NULL;
    connect_error[0] = '\0';
    acio_loop_t *loop = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    acio_pg_t *c = acio__calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    if (opts)
        c->opts = *opts;
    if (c->opts.connect_timeout <= 0)
        c->opts.connect_timeout = 10;
    if (c->opts.drain_timeout <= 0)
        c->opts.drain_timeout = 5;
    c->conn = PQconnectStart(conninfo);
    if (!c->conn) {
        acio__free(c);
        snprintf(connect_error, sizeof(connect_error), "out of memory");
        return -ENOMEM;
    }
    PQsetNoticeProcessor(c->conn, notice_ignore, NULL);
    double deadline = acio_loop_time(loop) + c->opts.connect_timeout;
    PostgresPollingStatusType st =
        PQstatus(c->conn) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            copy_message(connect_error, sizeof(connect_error), PQerrorMessage(c->conn));
            rc = ACIO_EPG_CONNECT;
            goto fail;
        }
        rc = wait_sock(loop, PQsocket(c->conn), st == PGRES_POLLING_READING,
                       st != PGRES_POLLING_READING, deadline);
        if (rc < 0) {
            snprintf(connect_error, sizeof(connect_error), "%s",
                     rc == -ETIMEDOUT ? "timeout expired while connecting" : acio_strerror(rc));
            goto fail;
        }
        st = PQconnectPoll(c->conn);
    }
    if (PQsetnonblocking(c->conn, 1) != 0) {
        copy_message(connect_error, sizeof(connect_error), PQerrorMessage(c->conn));
        rc = ACIO_EPG_CONNECT;
        goto fail;
    }
    *out = c;
    return 0;
fail:
    PQfinish(c->conn);
    acio__free(c);
    return rc;
}

/* Close the PGconn after a loss or a failed recovery: later queries get
 * ACIO_EPG_CONNECTION. The message is kept if one was recorded. */
static void lose(acio_pg_t *c)
{
    if (!c->conn)
        return;
    if (!c->err_message[0])
        copy_message(c->err_message, sizeof(c->err_message), PQerrorMessage(c->conn));
    if (!c->err_message[0])
        snprintf(c->err_message, sizeof(c->err_message), "the connection was closed");
    PQfinish(c->conn);
    c->conn = NULL;
}

void acio_pg_close(acio_pg_t *c)
{
    if (!c)
        return;
    if (c->conn)
        PQfinish(c->conn);
    acio__free(c);
}

bool acio_pg_is_connected(const acio_pg_t *c)
{
    return c && c->conn && PQstatus(c->conn) == CONNECTION_OK;
}

bool acio_pg_is_busy(const acio_pg_t *c)
{
    return c && c->busy;
}

bool acio_pg_in_transaction(const acio_pg_t *c)
{
    if (!c || !c->conn)
        return false;
    PGTransactionStatusType t = PQtransactionStatus(c->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

int acio_pg_backend_pid(const acio_pg_t *c)
{
    return c && c->conn ? PQbackendPID(c->conn) : 0;
}

int acio_pg_server_version(const acio_pg_t *c)
{
    return c && c->conn ? PQserverVersion(c->conn) : 0;
}

void acio_pg_set_query_timeout(acio_pg_t *c, double seconds)
{
    if (c)
        c->opts.query_timeout = seconds;
}

const char *acio_pg_error_message(const acio_pg_t *c)
{
    return c ? c->err_message : "";
}

const char *acio_pg_error_sqlstate(const acio_pg_t *c)
{
    return c ? c->err_sqlstate : "";
}

const char *acio_pg_error_detail(const acio_pg_t *c)
{
    return c ? c->err_detail : "";
}

/* ---- the query engine ---- */

static void record_error(acio_pg_t *c, const PGresult *r)
{
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    copy_message(c->err_message, sizeof(c->err_message), m ? m : PQresultErrorMessage(r));
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(c->err_sqlstate, sizeof(c->err_sqlstate), "%s", s ? s : "");
    const char *d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    copy_message(c->err_detail, sizeof(c->err_detail), d);
}

/* Write out what libpq has buffered, reading meanwhile so neither side stalls. */
static int flush_out(acio_pg_t *c, double deadline)
{
    for (;;) {
        int f = PQflush(c->conn);
        if (f == 0)
            return 0;
        if (f < 0)
            return ACIO_EPG_CONNECTION;
        int rc = wait_sock(c->loop, PQsocket(c->conn), true, true, deadline);
        if (rc < 0)
            return rc;
        if (!PQconsumeInput(c->conn))
            return ACIO_EPG_CONNECTION;
    }
}

/* Read every result of the query in progress. The last successful one goes to *last
 * when last is non-NULL; the first server error is recorded and returned as
 * ACIO_EPG_SERVER once the query is over. A wait that fails (-ECANCELED, -ETIMEDOUT)
 * returns at once, with the query unfinished. */
static int collect(acio_pg_t *c, double deadline, PGresult **last)
{
    int rc = 0;
    for (;;) {
        while (PQisBusy(c->conn)) {
            int w = wait_sock(c->loop, PQsocket(c->conn), true, false, deadline);
            if (w < 0)
                return w;
            if (!PQconsumeInput(c->conn))
                return ACIO_EPG_CONNECTION;
        }
        PGresult *r = PQgetResult(c->conn);
        if (!r)
            break;
        switch (PQresultStatus(r)) {
        case PGRES_FATAL_ERROR:
            if (rc == 0) {
                record_error(c, r);
                rc = ACIO_EPG_SERVER;
            }
            PQclear(r);
            break;
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
            PQclear(r);
            snprintf(c->err_message, sizeof(c->err_message), "COPY is not supported");
            return ACIO_EPG_UNSUPPORTED;
        default:
            if (last && rc == 0) {
                PQclear(*last);
                *last = r;
            } else {
                PQclear(r);
            }
        }
    }
    if (PQstatus(c->conn) == CONNECTION_BAD)
        return ACIO_EPG_CONNECTION;
    return rc;
}

/* Runs on an executor thread: PQcancel blocks until the server has the request. The job
 * owns pc (it is never removed from the queue: its future is only ever shielded). */
static void *cancel_job(void *arg, acio_job_t *job)
{
    PGcancel *pc = arg;
    char err[256];
    int ok = PQcancel(pc, err, sizeof(err));
    PQfreeCancel(pc);
    if (!ok)
        return acio_job_raise(job, ACIO_EPG_CONNECTION, "the cancel request failed: %s", err);
    return NULL;
}

/* After a cancellation or a timeout: ask the server to cancel the query, then read and
 * drop the rest of it. Returns 0 if the connection is usable again. */
static int recover(acio_pg_t *c)
{
    PGcancel *pc = PQgetCancel(c->conn);
    if (!pc)
        return -ENOMEM;
    acio_future_t *fut = NULL, *sh = NULL;
    int rc = acio_loop_run_in_executor(c->loop, NULL, cancel_job, pc, &fut);
    if (rc < 0) {
        PQfreeCancel(pc);
        return rc;
    }
    rc = acio_shield(&sh, fut);
    if (rc == 0) {
        void *res = NULL;
        rc = acio_await(sh, &res);
        acio_future_unref(sh);
    }
    acio_future_unref(fut);
    if (rc < 0)
        return rc;
    double deadline = acio_loop_time(c->loop) + c->opts.drain_timeout;
    rc = flush_out(c, deadline);
    if (rc == 0)
        rc = collect(c, deadline, NULL);
    return rc == ACIO_EPG_SERVER ? 0 : rc;
}

static int begin(acio_pg_t *c)
{
    if (!c)
        return -EINVAL;
    acio_loop_t *loop = c->loop;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (c->busy)
        return ACIO_EPG_BUSY;
    if (!c->conn)
        return ACIO_EPG_CONNECTION;
    c->err_message[0] = c->err_sqlstate[0] = c->err_detail[0] = '\0';
    return 0;
}

/* The query was handed to libpq (sent is PQsendQuery*'s return): send it, collect its
 * results, recover from a cancellation or timeout. */
static int complete(acio_pg_t *c, int sent, acio_pg_result_t **out)
{
    if (!sent) {
        copy_message(c->err_message, sizeof(c->err_message), PQerrorMessage(c->conn));
        if (PQstatus(c->conn) == CONNECTION_BAD) {
            lose(c);
            return ACIO_EPG_CONNECTION;
        }
        return -EINVAL;
    }
    c->busy = true;
    double deadline =
        c->opts.query_timeout > 0 ? acio_loop_time(c->loop) + c->opts.query_timeout : 0;
    PGresult *last = NULL;
    int rc = flush_out(c, deadline);
    if (rc == 0)
        rc = collect(c, deadline, out ? &last : NULL);
    if (rc == -ECANCELED || rc == -ETIMEDOUT) {
        if (recover(c) < 0)
            lose(c);
    } else if (rc != 0 && rc != ACIO_EPG_SERVER) {
        lose(c);
        if (rc != -ENOMEM && rc != ACIO_EPG_UNSUPPORTED)
            rc = ACIO_EPG_CONNECTION;
    }
    c->busy = false;
    if (rc == 0 && out) {
        acio_pg_result_t *r = acio__malloc(sizeof(*r));
        if (!r) {
            PQclear(last);
            return -ENOMEM;
        }
        r->res = last;
        *out = r;
        return 0;
    }
    PQclear(last);
    return rc;
}

int acio_pg_query_params(acio_pg_t *c, const char *sql, const acio_pg_params_t *p,
                         acio_pg_result_t **out)
{
    if (out)
        *out = NULL;
    int rc = begin(c);
    if (rc < 0)
        return rc;
    if (!sql || (p && (p->nparams < 0 || (p->nparams > 0 && !p->values))))
        return -EINVAL;
    int n = p ? p->nparams : 0;
    int sent =
        PQsendQueryParams(c->conn, sql, n, p ? p->types : NULL, p ? p->values : NULL,
                          p ? p->lengths : NULL, p ? p->formats : NULL, p ? p->result_format : 0);
    return complete(c, sent, out);
}

int acio_pg_query(acio_pg_t *c, const char *sql, int nparams, const char *const *values,
                  acio_pg_result_t **out)
{
    acio_pg_params_t p = {.nparams = nparams, .values = values};
    return acio_pg_query_params(c, sql, &p, out);
}

int acio_pg_execute(acio_pg_t *c, const char *sql)
{
    int rc = begin(c);
    if (rc < 0)
        return rc;
    if (!sql)
        return -EINVAL;
    return complete(c, PQsendQuery(c->conn, sql), NULL);
}
