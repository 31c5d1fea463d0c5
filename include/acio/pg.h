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
    ACIO_PG_JSON = 114,
    ACIO_PG_DATE = 1082,
    ACIO_PG_TIMESTAMP = 1114,
    ACIO_PG_TIMESTAMPTZ = 1184,
    ACIO_PG_UUID = 2950,
    ACIO_PG_JSONB = 3802,
};

typedef struct {
    double connect_timeout; /* seconds for connecting and authenticating; <= 0: 10 s */
    double query_timeout;   /* seconds per query (asyncpg's command_timeout); <= 0: none */
    double drain_timeout;   /* after a cancel, seconds to wait for the server to finish the
                               query before closing the connection; <= 0: 5 s */
    /* Prepared statements kept per connection, by query text and parameter types
     * (asyncpg's statement_cache_size): 0 gives 100; negative turns the cache off, for
     * pgbouncer in transaction mode, where a statement prepared on one server
     * connection is unknown on the next. */
    int statement_cache_size;
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
/* Statements in the connection's prepared-statement cache. */
ACIO_EXTERN size_t acio_pg_statement_cache_count(const acio_pg_t *c);
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

/* A typed parameter for acio_pg_query_args, made by the acio_pg_arg_* functions below:
 * numbers, bool, times, dates and UUIDs travel in PostgreSQL's binary format (no text
 * formatting or parsing on either side); text and bytea as their bytes; numeric, json and
 * jsonb as text with their type. Times are microseconds since 1970-01-01 00:00 (UTC for
 * timestamptz; the wall clock for timestamp), dates days since 1970-01-01. A text or
 * bytea argument points at the caller's bytes, which must stay valid until the query
 * returns; the others hold their value. NULL text/numeric/json gives SQL NULL. */
typedef struct {
    unsigned type; /* type OID */
    int format;    /* 0 text, 1 binary */
    int len;
    bool is_inline; /* the value is in buf */
    const void *ptr;
    unsigned char buf[16];
} acio_pg_arg_t;

ACIO_EXTERN acio_pg_arg_t acio_pg_arg_null(unsigned type);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_bool(bool v);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_int2(int16_t v);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_int4(int32_t v);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_int8(int64_t v);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_float4(float v);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_float8(double v);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_text(const char *s);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_bytea(const void *p, size_t n);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_numeric(const char *text);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_timestamp(int64_t usec);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_timestamptz(int64_t usec);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_date(int32_t days);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_uuid(const unsigned char uuid[16]);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_json(const char *text);
ACIO_EXTERN acio_pg_arg_t acio_pg_arg_jsonb(const char *text);

/* acio_pg_query_params with n typed arguments; result_format 1 asks for binary
 * results (read them with the typed accessors). Coroutine. Errors as
 * acio_pg_query_params(). */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_query_args(acio_pg_t *c, const char *sql, int n,
                                                  const acio_pg_arg_t *args, int result_format,
                                                  acio_pg_result_t **out);

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

/* ---- pipeline batches (libpq's pipeline mode) ---- */

/* A batch of queries sent together with one sync point: one round trip for all of them
 * (asyncpg's executemany, psycopg's pipeline). As PostgreSQL runs a pipeline, the
 * queries up to the sync form one implicit transaction unless the batch runs inside an
 * explicit one: the first query that fails aborts the rest (ACIO_EPG_ABORTED) and, outside
 * a BEGIN, rolls back the ones before it. Queries go as unnamed statements (not through
 * the statement cache). */
typedef struct acio_pg_batch_s acio_pg_batch_t;

ACIO_EXTERN ACIO_NODISCARD int acio_pg_batch_new(acio_pg_batch_t **out);
ACIO_EXTERN void acio_pg_batch_free(acio_pg_batch_t *b);
/* Queue a query. sql and p's arrays are NOT copied: they must stay valid until
 * acio_pg_batch_run returns. p may be NULL. Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_batch_add(acio_pg_batch_t *b, const char *sql,
                                                 const acio_pg_params_t *p);
ACIO_EXTERN int acio_pg_batch_count(const acio_pg_batch_t *b);
/* Send every queued query in one pipeline and read every result. Coroutine. Returns 0
 * when all succeeded, ACIO_EPG_SERVER when one failed (its error is also the
 * connection's, acio_pg_error_*), or as acio_pg_query_params (-ECANCELED and -ETIMEDOUT
 * cancel the batch on the server and drain it: the connection stays usable, every query's
 * status is that code). The batch can be run again. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_batch_run(acio_pg_t *c, acio_pg_batch_t *b);
/* After a run: query i's outcome: 0, ACIO_EPG_SERVER (it failed: see below),
 * ACIO_EPG_ABORTED (not run: an earlier one failed), or the run's error; -EINVAL before
 * a run or for i out of range. */
ACIO_EXTERN int acio_pg_batch_status(const acio_pg_batch_t *b, int i);
ACIO_EXTERN const char *acio_pg_batch_error_sqlstate(const acio_pg_batch_t *b, int i);
ACIO_EXTERN const char *acio_pg_batch_error_message(const acio_pg_batch_t *b, int i);
/* Take query i's result (the caller frees it); errors: its status, -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_batch_result(acio_pg_batch_t *b, int i,
                                                    acio_pg_result_t **out);

/* ---- COPY ---- */

/* COPY ... FROM STDIN: start runs the statement and waits until the server accepts data;
 * write sends a chunk (any split of the COPY text or binary stream), waiting whenever
 * libpq's buffer is full; end finishes it and gives the rows copied (may be NULL); abort
 * makes the server roll the COPY back (ACIO_EPG_SERVER, SQLSTATE 57014, is the expected
 * outcome). While a COPY runs, other queries on c get ACIO_EPG_BUSY. Coroutines.
 * Errors: start: as acio_pg_query_params, ACIO_EPG_UNSUPPORTED (not a COPY of that
 * direction; the connection is closed); write/end: ACIO_EPG_SERVER (bad data: the COPY
 * is over and rolled back), -ECANCELED / -ETIMEDOUT (the COPY is aborted, the
 * connection stays usable), ACIO_EPG_CONNECTION, -EINVAL (no COPY in progress). */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_copy_in_start(acio_pg_t *c, const char *sql);
ACIO_EXTERN ACIO_NODISCARD int acio_pg_copy_in_write(acio_pg_t *c, const void *data, size_t len);
ACIO_EXTERN ACIO_NODISCARD int acio_pg_copy_in_end(acio_pg_t *c, long long *rows);
ACIO_EXTERN int acio_pg_copy_in_abort(acio_pg_t *c);
/* COPY ... TO STDOUT as an async iterator: next gives one row (text or binary COPY
 * format, with its newline) in *chunk, freed with acio_pg_copy_free, then
 * ACIO_ESTOPASYNCITERATION once the COPY is over. Cancelling next or its timeout cancels
 * the COPY on the server and drains it (the connection stays usable); stop does the same
 * on purpose. Coroutines. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_copy_out_start(acio_pg_t *c, const char *sql);
ACIO_EXTERN ACIO_NODISCARD int acio_pg_copy_out_next(acio_pg_t *c, char **chunk, size_t *len);
ACIO_EXTERN int acio_pg_copy_out_stop(acio_pg_t *c);
ACIO_EXTERN void acio_pg_copy_free(char *chunk);

/* ---- LISTEN / NOTIFY ---- */

/* A notification (asyncpg's listener callback arguments): valid until
 * acio_pg_notification_release. */
typedef struct {
    const char *channel;
    const char *payload; /* "" when NOTIFY had none */
    int pid;             /* the notifying backend's process id */
    void *owner;         /* libpq's PGnotify, freed by release */
} acio_pg_notification_t;

/* LISTEN / UNLISTEN channel (quoted as an identifier by libpq, so any name works;
 * unlisten's NULL is UNLISTEN *). Coroutines. Errors as acio_pg_execute(). */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_listen(acio_pg_t *c, const char *channel);
ACIO_EXTERN ACIO_NODISCARD int acio_pg_unlisten(acio_pg_t *c, const char *channel);
/* The next notification, in the order the server sent them; those that arrived during
 * queries are queued and come first. Coroutine; timeout <= 0 waits forever. While it
 * waits the connection is busy (queries get ACIO_EPG_BUSY): use a dedicated connection,
 * as for Redis pub/sub. Returns 0 and *n (release it), -ETIMEDOUT, -ECANCELED (nothing
 * is lost: the connection still listens), ACIO_EPG_CONNECTION, ACIO_EPG_BUSY. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_notification_next(acio_pg_t *c, acio_pg_notification_t *n,
                                                         double timeout);
ACIO_EXTERN void acio_pg_notification_release(acio_pg_notification_t *n);

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

/* numeric as text (text or binary results: the binary form is turned into the same
 * digits, never through a double), into buf of cap bytes. Errors also -ERANGE (buf too
 * small). acio_pg_result_float reads numeric too, rounding to a double. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_numeric(const acio_pg_result_t *r, int row, int col,
                                                      char *buf, size_t cap);
/* timestamp / timestamptz as microseconds since 1970-01-01 00:00 (UTC for timestamptz;
 * text results must use the ISO DateStyle, the default). Infinity is ACIO_EPG_TYPE. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_timestamp(const acio_pg_result_t *r, int row, int col,
                                                        int64_t *usec);
/* date as days since 1970-01-01. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_date(const acio_pg_result_t *r, int row, int col,
                                                   int32_t *days);
/* uuid as its 16 bytes. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_uuid(const acio_pg_result_t *r, int row, int col,
                                                   unsigned char out[16]);
/* json / jsonb as its text (jsonb's binary version byte stripped), valid while r lives;
 * *len (may be NULL) gets its length. */
ACIO_EXTERN ACIO_NODISCARD int acio_pg_result_json(const acio_pg_result_t *r, int row, int col,
                                                   const char **text, size_t *len);

/* ---- pool (asyncpg.create_pool) ---- */

typedef struct acio_pg_pool_s acio_pg_pool_t;
typedef struct {
    size_t min_size;        /* connections opened by pool_new: default 1 */
    size_t max_size;        /* most connections open at once: default 10 */
    double acquire_timeout; /* seconds acquire waits for a connection; <= 0: forever */
    /* Run by release to reset the session. NULL gives asyncpg's "SELECT
     * pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL", which keeps prepared
     * statements; "" runs nothing. A query that drops them (DISCARD ALL, DEALLOCATE)
     * also empties the connection's statement cache. A connection released inside a
     * transaction gets ROLLBACK first. */
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
