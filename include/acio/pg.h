/* PostgreSQL on the event loop: asyncpg's Connection in C, on libpq's asynchronous API.
 *
 * A connection (acio_pg_t) wraps a libpq PGconn in non-blocking mode. acio's loop waits
 * on its socket: connecting is PQconnectStart + PQconnectPoll, a query is
 * PQsendQueryParams + PQflush, and its results are read with PQconsumeInput / PQisBusy /
 * PQgetResult when the socket is readable. No libpq call blocks the loop, except the
 * host name lookup of PQconnectStart (give an IP address or a Unix socket directory as
 * host, or hostaddr=, to avoid it) and the cancel request, which runs on the loop's
 * default executor.
 *
 * One query at a time per connection, as in asyncpg: a second task that queries while
 * one is in progress gets ACIO_EPG_BUSY. Use a pool for concurrency.
 *
 * Cancellation and timeouts: when the task waiting for a query is cancelled, or the
 * query's timeout passes, acio sends a cancel request to the server (PQcancel, on an
 * executor thread), then reads the rest of the query's results and discards them, so
 * the connection stays usable; the call returns -ECANCELED or -ETIMEDOUT. If that fails
 * (the cancel request fails, the server does not answer within the drain timeout, or
 * the task is cancelled again while draining) the connection is closed: the next query
 * gets ACIO_EPG_CONNECTION. A connection is never left half-read.
 *
 * Results (acio_pg_result_t) wrap a PGresult: the caller owns them and frees them with
 * acio_pg_result_free(). Values come back in the text format unless a binary result is
 * asked for; the typed accessors read both formats for the common types. */
#ifndef ACIO_PG_H
#define ACIO_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef struct acio_pg_s acio_pg_t;
typedef struct acio_pg_result_s acio_pg_result_t;

/* Type OIDs of the built-in types the accessors know (pg_type.oid). */
enum {
    ACIO_PG_BOOL = 16,
    ACIO_PG_BYTEA = 17,
    ACIO_PG_INT8 = 20,
    ACIO_PG_INT2 = 21,
    ACIO_PG_INT4 = 23,
    ACIO_PG_TEXT = 25,
    ACIO_PG_OID = 26,
    ACIO_PG_FLOAT4 = 700,
    ACIO_PG_FLOAT8 = 701,
    ACIO_PG_VARCHAR = 1043,
    ACIO_PG_NUMERIC = 1700,
};

typedef struct {
    double connect_timeout; /* seconds for connecting and authenticating; <= 0: 10 s */
    double query_timeout;   /* seconds per query (asyncpg's command_timeout); <= 0: none */
    double drain_timeout;   /* after a cancel, seconds to wait for the server to finish the
                               query before closing the connection; <= 0: 5 s */
} acio_pg_opts_t;

/* asyncpg.connect(dsn): connect with a libpq connection string ("host=127.0.0.1
 * port=5432 dbname=app user=me") or URL ("postgresql://me@127.0.0.1:5432/app").
 * Coroutine. opts may be NULL (the defaults above). *out is the caller's, closed with
 * acio_pg_close().
 * Errors: ACIO_EPG_CONNECT (refused, authentication failed, bad conninfo: the words are
 * in acio_pg_connect_error()), -ETIMEDOUT, -ECANCELED, -ENOMEM, ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_connect(acio_pg_t **out, const char *conninfo,
                                               const acio_pg_opts_t *opts);
/* Why the last acio_pg_connect in this thread failed, in words (libpq's message); "" if
 * none. Like dlerror(). */
ACIO_EXTERN const char *acio_pg_connect_error(void);
/* Close the connection (PQfinish) and free it. Must not be called while a task is
 * waiting in a query on it. NULL is a no-op. */
ACIO_EXTERN void acio_pg_close(acio_pg_t *c);
/* True until the connection is lost or closed after a failed cancel. */
ACIO_EXTERN bool acio_pg_is_connected(const acio_pg_t *c);
/* True while a query is in progress. */
ACIO_EXTERN bool acio_pg_is_busy(const acio_pg_t *c);
/* Connection.is_in_transaction(): true inside BEGIN ... COMMIT/ROLLBACK (also in a
 * failed transaction). */
ACIO_EXTERN bool acio_pg_in_transaction(const acio_pg_t *c);
/* The server's process id (Connection.get_server_pid()). */
ACIO_EXTERN int acio_pg_backend_pid(const acio_pg_t *c);
/* The server's version as an integer (150004 for 15.4). */
ACIO_EXTERN int acio_pg_server_version(const acio_pg_t *c);
/* Change the query timeout (seconds; <= 0: none) for the following queries. */
ACIO_EXTERN void acio_pg_set_query_timeout(acio_pg_t *c, double seconds);

/* ---- queries ---- */

/* Parameters of acio_pg_query_params (PQsendQueryParams'): nparams values, values[i]
 * NULL for SQL NULL. lengths[i] is needed for binary parameters; formats[i] is 0 (text,
 * NUL-terminated) or 1 (binary, network byte order); types[i] is a type OID or 0 (let
 * the server infer it). lengths, formats and types may be NULL (text, inferred). */
typedef struct {
    int nparams;
    const char *const *values;
    const int *lengths;
    const int *formats;
    const unsigned *types;
    int result_format; /* 0: text results, 1: binary results */
} acio_pg_params_t;

/* Run one statement with parameters ($1, $2, ...) and return its result in *out
 * (Connection.fetch / execute with arguments). p may be NULL (no parameters). out may be
 * NULL (the result is discarded). Coroutine.
 * Errors: ACIO_EPG_SERVER (the server refused the statement: acio_pg_error_message(),
 * acio_pg_error_sqlstate(); the connection stays usable), ACIO_EPG_CONNECTION (the
 * connection is lost or closed), ACIO_EPG_BUSY, ACIO_EPG_UNSUPPORTED (COPY), -ETIMEDOUT
 * and -ECANCELED (see the top of this file), -ENOMEM, -EINVAL, ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_query_params(acio_pg_t *c, const char *sql,
                                                    const acio_pg_params_t *p,
                                                    acio_pg_result_t **out);
/* acio_pg_query_params with nparams text parameters (NULL entries are SQL NULL). */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_query(acio_pg_t *c, const char *sql, int nparams,
                                             const char *const *values, acio_pg_result_t **out);
/* Connection.execute(script) without arguments: the simple query protocol, which runs
 * several statements separated by semicolons ("BEGIN", "COMMIT", DDL scripts). Results
 * are discarded; the first error stops the script and is returned as ACIO_EPG_SERVER.
 * Errors as acio_pg_query_params(). Coroutine. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_execute(acio_pg_t *c, const char *sql);

/* The last server error on c (set by ACIO_EPG_SERVER): the primary message, the SQLSTATE
 * code ("42601"), and the detail; "" if none. Valid until the next query on c. */
ACIO_EXTERN const char *acio_pg_error_message(const acio_pg_t *c);
ACIO_EXTERN const char *acio_pg_error_sqlstate(const acio_pg_t *c);
ACIO_EXTERN const char *acio_pg_error_detail(const acio_pg_t *c);

/* ---- results ---- */

ACIO_EXTERN void acio_pg_result_free(acio_pg_result_t *r);
ACIO_EXTERN int acio_pg_result_nrows(const acio_pg_result_t *r);
ACIO_EXTERN int acio_pg_result_ncols(const acio_pg_result_t *r);
/* Column name, or NULL if col is out of range. */
ACIO_EXTERN const char *acio_pg_result_column_name(const acio_pg_result_t *r, int col);
/* Column index by name, or -1. */
ACIO_EXTERN int acio_pg_result_column_index(const acio_pg_result_t *r, const char *name);
/* Column type OID (ACIO_PG_INT4, ...), or 0 if col is out of range. */
ACIO_EXTERN unsigned acio_pg_result_column_type(const acio_pg_result_t *r, int col);
/* Rows affected by INSERT/UPDATE/DELETE/SELECT/MOVE/FETCH/COPY (PQcmdTuples), or -1
 * for other statements. */
ACIO_EXTERN long long acio_pg_result_affected(const acio_pg_result_t *r);
/* The command tag ("INSERT 0 1", "SELECT 3"): asyncpg's execute() status string. */
ACIO_EXTERN const char *acio_pg_result_status(const acio_pg_result_t *r);

/* Value accessors. All return -EINVAL for a row or column out of range, ACIO_EPG_NULL
 * for an SQL NULL (the output is untouched), and ACIO_EPG_TYPE when the value cannot be
 * read as asked (not a number, a binary value of another type). */
ACIO_EXTERN bool acio_pg_result_is_null(const acio_pg_result_t *r, int row, int col);
/* The value as text (text format results), or the raw bytes (binary), NUL-terminated,
 * valid while r lives; *len (may be NULL) gets its length. NULL for SQL NULL. */
ACIO_EXTERN const char *acio_pg_result_text(const acio_pg_result_t *r, int row, int col,
                                            size_t *len);
/* int2, int4, int8, oid (text or binary), and any text that is an integer. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_int(const acio_pg_result_t *r, int row, int col,
                                                  int64_t *out);
/* float4, float8 (text or binary), integers, numeric (text), any text that is a number. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_float(const acio_pg_result_t *r, int row, int col,
                                                    double *out);
/* bool (text 't'/'f' or binary). */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_bool(const acio_pg_result_t *r, int row, int col,
                                                   bool *out);
/* bytea: the decoded bytes (text results are unescaped), in a buffer the caller frees
 * with free(). Errors also -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_bytea(const acio_pg_result_t *r, int row, int col,
                                                    unsigned char **out, size_t *len);

/* ---- pool (asyncpg.create_pool) ---- */

typedef struct acio_pg_pool_s acio_pg_pool_t;
typedef struct {
    size_t min_size;        /* connections opened by pool_new: default 1 */
    size_t max_size;        /* most connections open at once: default 10 */
    double acquire_timeout; /* seconds acquire waits for a connection; <= 0: forever */
    /* Run by release to reset the session: NULL gives "DISCARD ALL"; "" runs nothing. A
     * connection released inside a transaction gets ROLLBACK first. */
    const char *reset_query;
} acio_pg_pool_opts_t;

/* Create a pool and open min_size connections. Coroutine. conninfo and reset_query are
 * copied. opts (per connection) and popts may be NULL.
 * Errors: acio_pg_connect's, -EINVAL (max_size 0, min_size > max_size), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_pool_new(acio_pg_pool_t **out, const char *conninfo,
                                                const acio_pg_opts_t *opts,
                                                const acio_pg_pool_opts_t *popts);
/* Pool.acquire(): an idle connection, a new one while fewer than max_size are open, or
 * wait (first come, first served) for one to be released. Coroutine.
 * Errors: acio_pg_connect's, -ETIMEDOUT (acquire_timeout), -ECANCELED, ACIO_ECLOSED (the
 * pool is closing), -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_pool_acquire(acio_pg_pool_t *p, acio_pg_t **conn);
/* Pool.release(): reset the session (ROLLBACK if in a transaction, then reset_query) and
 * give the connection to the oldest waiter or keep it idle. A connection that is lost,
 * busy, or whose reset fails (or is cancelled) is closed instead and its slot freed; so
 * is every connection when release is called outside a task. A coroutine that never
 * fails; conn must not be used afterwards. */
ACIO_EXTERN void acio_pg_pool_release(acio_pg_pool_t *p, acio_pg_t *conn);
/* Connections open (idle + acquired + being opened), and idle ones. */
ACIO_EXTERN size_t acio_pg_pool_size(const acio_pg_pool_t *p);
ACIO_EXTERN size_t acio_pg_pool_freesize(const acio_pg_pool_t *p);
/* Pool.terminate(): close idle connections, fail waiters with ACIO_ECLOSED; connections
 * still acquired are closed when released, and the pool is freed after the last one. */
ACIO_EXTERN void acio_pg_pool_close(acio_pg_pool_t *p);

#endif
