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
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

int acio__pg_wait(acio_pg_t *c, bool rd, bool wr, double deadline)
{
    return wait_sock(c->loop, PQsocket(c->conn), rd, wr, deadline);
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
    rc = acio__pg_stmt_cache_init(
        c, c->opts.statement_cache_size == 0 ? 100 : c->opts.statement_cache_size);
    if (rc < 0) {
        snprintf(connect_error, sizeof(connect_error), "out of memory");
        goto fail;
    }
    *out = c;
    return 0;
fail:
    PQfinish(c->conn);
    acio__pg_stmt_cache_free(c);
    acio__free(c);
    return rc;
}

/* Close the PGconn after a loss or a failed recovery: later queries get
 * ACIO_EPG_CONNECTION. The message is kept if one was recorded. */
void acio__pg_lose(acio_pg_t *c)
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
    acio__pg_stmt_cache_free(c);
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

void acio__pg_error_copy(acio__pg_err_t *e, const PGresult *r)
{
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", s ? s : "");
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    copy_message(e->message, sizeof(e->message), m ? m : PQresultErrorMessage(r));
}

void acio__pg_record_error(acio_pg_t *c, const PGresult *r)
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

/* Read every result of the operation in progress into s. In normal mode (s->nsync 0)
 * the operation is one query and ends when PQgetResult returns NULL; in pipeline mode
 * each command's results end with NULL and the operation ends after s->nsync sync
 * points. The first server error among the first s->nreport commands is recorded and
 * returned as ACIO_EPG_SERVER once everything is read. A wait that fails (-ECANCELED,
 * -ETIMEDOUT) returns at once, with the operation unfinished (s->nsync says how many
 * syncs are still to come). */
static int collect(acio_pg_t *c, double deadline, acio__pg_sink_t *s)
{
    int rc = 0, cmd = 0;
    for (;;) {
        while (PQisBusy(c->conn)) {
            int w = wait_sock(c->loop, PQsocket(c->conn), true, false, deadline);
            if (w < 0)
                return w;
            if (!PQconsumeInput(c->conn))
                return ACIO_EPG_CONNECTION;
        }
        PGresult *r = PQgetResult(c->conn);
        if (!r) {
            if (s->nsync == 0)
                break;
            cmd++;
            continue;
        }
        int code = 0;
        switch (PQresultStatus(r)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(r);
            if (--s->nsync == 0)
                goto done;
            continue;
        case PGRES_FATAL_ERROR:
            code = ACIO_EPG_SERVER;
            if (rc == 0 && cmd < s->nreport) {
                acio__pg_record_error(c, r);
                rc = ACIO_EPG_SERVER;
            }
            if (cmd < s->ncmd && s->errors)
                acio__pg_error_copy(&s->errors[cmd], r);
            PQclear(r);
            break;
        case PGRES_PIPELINE_ABORTED:
            code = ACIO_EPG_ABORTED;
            PQclear(r);
            break;
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
            PQclear(r);
            snprintf(c->err_message, sizeof(c->err_message), "COPY runs through acio_pg_copy_in_start / acio_pg_copy_out_start");
            return ACIO_EPG_UNSUPPORTED;
        default:
            if (cmd < s->ncmd && s->res && (!s->codes || s->codes[cmd] == 0)) {
                PQclear(s->res[cmd]);
                s->res[cmd] = r;
            } else {
                PQclear(r);
            }
        }
        if (code && cmd < s->ncmd && s->codes && s->codes[cmd] == 0)
            s->codes[cmd] = code;
    }
done:
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
 * drop the rest of it (up to nsync sync points in pipeline mode). Returns 0 if the
 * connection is usable again. */
static int recover(acio_pg_t *c, int nsync)
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
    /* The results are dropped, but the server's error (57014) is kept for the caller. */
    acio__pg_sink_t drop = {.nsync = nsync, .nreport = INT_MAX};
    if (rc == 0)
        rc = collect(c, deadline, &drop);
    if (rc == 0 && nsync > 0 && !PQexitPipelineMode(c->conn))
        rc = ACIO_EPG_CONNECTION;
    return rc == ACIO_EPG_SERVER ? 0 : rc;
}

int acio__pg_begin(acio_pg_t *c)
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

/* libpq refused to queue a command (sent is 0): why, and whether the link is gone. */
int acio__pg_send_failed(acio_pg_t *c)
{
    copy_message(c->err_message, sizeof(c->err_message), PQerrorMessage(c->conn));
    if (PQstatus(c->conn) == CONNECTION_BAD) {
        acio__pg_lose(c);
        return ACIO_EPG_CONNECTION;
    }
    return -EINVAL;
}

int acio__pg_run(acio_pg_t *c, acio__pg_sink_t *s)
{
    c->busy = true;
    double deadline =
        c->opts.query_timeout > 0 ? acio_loop_time(c->loop) + c->opts.query_timeout : 0;
    bool pipeline = s->nsync > 0;
    int rc = flush_out(c, deadline);
    if (rc == 0)
        rc = collect(c, deadline, s);
    if (rc == -ECANCELED || rc == -ETIMEDOUT) {
        if (recover(c, s->nsync) < 0)
            acio__pg_lose(c);
    } else if (rc != 0 && rc != ACIO_EPG_SERVER) {
        acio__pg_lose(c);
        if (rc != -ENOMEM && rc != ACIO_EPG_UNSUPPORTED)
            rc = ACIO_EPG_CONNECTION;
    } else if (pipeline && !PQexitPipelineMode(c->conn)) {
        acio__pg_lose(c);
        rc = ACIO_EPG_CONNECTION;
    }
    c->busy = false;
    return rc;
}

/* Hand the one result kept to the caller. */
static int give(acio_pg_t *c, int rc, PGresult *last, acio_pg_result_t **out)
{
    (void)c;
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

/* One query in normal mode, already handed to libpq (sent is PQsendQuery*'s return). */
static int complete(acio_pg_t *c, int sent, acio_pg_result_t **out)
{
    if (!sent)
        return acio__pg_send_failed(c);
    PGresult *last = NULL;
    acio__pg_sink_t s = {.ncmd = 1, .res = out ? &last : NULL, .nreport = 1};
    int rc = acio__pg_run(c, &s);
    return give(c, rc, last, out);
}

/* The server no longer has the statement, or its plan went stale (the table changed
 * under it): asyncpg's InvalidCachedStatementError. */
static bool stale_statement(const acio_pg_t *c)
{
    return strcmp(c->err_sqlstate, "26000") == 0 ||
           (strcmp(c->err_sqlstate, "0A000") == 0 &&
            strstr(c->err_message, "cached plan must not change result type"));
}

/* A query on a statement not yet prepared, in one round trip: in pipeline mode, Prepare
 * and Execute, a sync, then the DEALLOCATEs of evicted statements (outside any
 * transaction, each behind its own sync so a failure touches nothing else). */
static int prepare_and_run(acio_pg_t *c, acio__pg_stmt_t *st, const char *sql,
                           const acio_pg_params_t *p, acio_pg_result_t **out)
{
    int n = p ? p->nparams : 0;
    const char *name = acio__pg_stmt_name(st);
    /* Asked before sending: once commands are queued libpq says "active". */
    bool idle = PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    if (!PQenterPipelineMode(c->conn))
        return acio__pg_send_failed(c);
    bool ok = PQsendPrepare(c->conn, name, sql, n, p ? (const Oid *)p->types : NULL) &&
              PQsendQueryPrepared(c->conn, name, n, p ? p->values : NULL, p ? p->lengths : NULL,
                                  p ? p->formats : NULL, p ? p->result_format : 0) &&
              PQpipelineSync(c->conn);
    int nsync = 1;
    if (ok && c->nclose > 0 && idle) {
        char q[48];
        for (size_t i = 0; ok && i < c->nclose; i++) {
            snprintf(q, sizeof(q), "DEALLOCATE %s", c->to_close[i]);
            ok = PQsendQueryParams(c->conn, q, 0, NULL, NULL, NULL, NULL, 0) &&
                 PQpipelineSync(c->conn);
            nsync++;
        }
        c->nclose = 0;
    }
    if (!ok) {
        int rc = acio__pg_send_failed(c);
        if (c->conn)
            acio__pg_lose(c); /* half a pipeline is queued: nothing sane to do with the link */
        return rc == -EINVAL ? ACIO_EPG_CONNECTION : rc;
    }
    PGresult *res[2] = {NULL, NULL};
    int codes[2] = {0, 0};
    acio__pg_sink_t s = {.nsync = nsync, .ncmd = 2, .res = res, .codes = codes, .nreport = 2};
    int rc = acio__pg_run(c, &s);
    PQclear(res[0]);
    if (codes[0] == ACIO_EPG_SERVER)
        acio__pg_stmt_forget(c, st); /* the server refused to prepare it */
    else if (rc != 0 && rc != ACIO_EPG_SERVER)
        acio__pg_stmt_drop(c, st); /* unknown whether it exists: DEALLOCATE it later */
    if (!out) {
        PQclear(res[1]);
        res[1] = NULL;
    }
    return give(c, rc, res[1], out);
}

int acio_pg_query_params(acio_pg_t *c, const char *sql, const acio_pg_params_t *p,
                         acio_pg_result_t **out)
{
    if (out)
        *out = NULL;
    int rc = acio__pg_begin(c);
    if (rc < 0)
        return rc;
    if (!sql || (p && (p->nparams < 0 || (p->nparams > 0 && !p->values))))
        return -EINVAL;
    int n = p ? p->nparams : 0;
    const unsigned *types = p ? p->types : NULL;
    if (c->stmt_max > 0) {
        acio__pg_stmt_t *st = acio__pg_stmt_find(c, sql, n, types);
        if (st) {
            int sent = PQsendQueryPrepared(c->conn, acio__pg_stmt_name(st), n, p ? p->values : NULL,
                                           p ? p->lengths : NULL, p ? p->formats : NULL,
                                           p ? p->result_format : 0);
            rc = complete(c, sent, out);
            if (rc != ACIO_EPG_SERVER || !stale_statement(c))
                return rc;
            /* Prepare it again, unless the error failed the user's transaction. */
            bool gone = strcmp(c->err_sqlstate, "26000") == 0;
            if (gone)
                acio__pg_stmt_forget(c, st);
            else
                acio__pg_stmt_drop(c, st);
            if (PQtransactionStatus(c->conn) != PQTRANS_IDLE)
                return rc;
            c->err_message[0] = c->err_sqlstate[0] = c->err_detail[0] = '\0';
        }
        st = acio__pg_stmt_new(c, sql, n, types);
        if (st)
            return prepare_and_run(c, st, sql, p, out);
        /* Out of memory for the entry: run it unprepared. */
    }
    int sent =
        PQsendQueryParams(c->conn, sql, n, (const Oid *)types, p ? p->values : NULL,
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
    int rc = acio__pg_begin(c);
    if (rc < 0)
        return rc;
    if (!sql)
        return -EINVAL;
    rc = complete(c, PQsendQuery(c->conn, sql), NULL);
    /* A DISCARD ALL or DEALLOCATE makes the cache wrong: forget it (statements dropped
     * later in a script are noticed when the server says so, 26000). */
    if (rc == 0 && acio__pg_drops_statements(sql, false))
        acio__pg_stmt_cache_clear(c);
    return rc;
}
