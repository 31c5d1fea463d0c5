/* MariaDB/MySQL on the event loop: aiomysql's Connection and Pool in C, on MariaDB
 * Connector/C's non-blocking API.
 *
 * A connection (acio_mysql_t) wraps a MYSQL handle in non-blocking mode
 * (MYSQL_OPT_NONBLOCK). Every operation is a mysql_*_start call followed by mysql_*_cont
 * calls each time acio's loop reports the connector's socket ready (or its timer due):
 * no connector call blocks the loop, except the host name lookup of connecting (give an
 * IP address, or a Unix socket, to avoid it). Over TCP, a Unix socket, or TLS.
 *
 * One query at a time per connection, as in aiomysql: a second task that queries while
 * one is in progress gets ACIO_EMYSQL_BUSY. Use a pool for concurrency.
 *
 * Cancellation and timeouts: when the task waiting for a query is cancelled, or the
 * query's timeout passes, acio opens a second connection and sends KILL QUERY for the
 * first one's thread id, then keeps reading the interrupted query to its end (the server
 * answers it with error 1317, "query execution was interrupted") and discards it, so the
 * connection stays usable; the call returns -ECANCELED or -ETIMEDOUT. If that fails (the
 * KILL cannot be sent, the server does not finish within the drain timeout, or the task
 * is cancelled again while draining), the socket is shut down, the connector finishes
 * on the dead socket and the connection is closed: the next query gets
 * ACIO_EMYSQL_CONNECTION. Cancelling a connect closes it. A connection is never left
 * half-read.
 *
 * Results (acio_mysql_result_t) are read whole (mysql_store_result) into memory the
 * caller owns and frees with acio_mysql_result_free(). Every value is kept as the bytes
 * the server's text form gives (binary-safe: BLOBs may hold NUL bytes); the typed
 * accessors parse integers, doubles and dates from them. DECIMAL is given as text (its
 * exact digits), as aiomysql gives a Decimal. */
#ifndef ACIO_MYSQL_H
#define ACIO_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef struct acio_mysql_s acio_mysql_t;
typedef struct acio_mysql_result_s acio_mysql_result_t;

/* Where and as whom to connect: aiomysql.connect()'s keyword arguments. Strings are
 * copied; NULL fields take the defaults. */
typedef struct {
    const char *host;        /* IP address or name; NULL: "127.0.0.1" (unless unix_socket) */
    unsigned port;           /* 0: 3306 */
    const char *unix_socket; /* path of the server's socket; used instead of host/port */
    const char *user;        /* NULL: the connector's default (the login name) */
    const char *password;
    const char *database; /* db=; NULL: none selected */
    /* TLS (the connector's own, through OpenSSL): tls asks for it and fails the connect
     * if the server does not offer it; tls_verify also checks the server's certificate
     * against tls_ca and its name against host. */
    bool tls;
    bool tls_verify;
    const char *tls_ca;   /* CA file (PEM) */
    const char *tls_cert; /* client certificate and key (PEM), for X509 accounts */
    const char *tls_key;
} acio_mysql_config_t;

typedef struct {
    double connect_timeout; /* seconds for connecting and authenticating; <= 0: 10 s */
    double query_timeout;   /* seconds per query; <= 0: none */
    double drain_timeout;   /* after a KILL QUERY, seconds to wait for the interrupted query
                               to end before closing the connection; <= 0: 5 s */
    /* Prepared statements kept per connection, by SQL text (acio_mysql_execute): 0 gives
     * 64; negative turns the cache off (each statement is closed after its execution). */
    int stmt_cache_size;
} acio_mysql_opts_t;

/* aiomysql.connect(...): connect, authenticate, select the database. Coroutine. opts may
 * be NULL (the defaults above). *out is the caller's, closed with acio_mysql_close().
 * Errors: ACIO_EMYSQL_CONNECT (refused, access denied, unknown database, TLS refused:
 * the words are in acio_mysql_connect_error(), the server's errno in
 * acio_mysql_connect_errno()), -ETIMEDOUT, -ECANCELED, -ENOMEM, -EINVAL, ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_connect(acio_mysql_t **out,
                                                  const acio_mysql_config_t *cfg,
                                                  const acio_mysql_opts_t *opts);
/* The same from a URL: mysql://[user[:password]@]host[:port][/database][?options], with
 * user and password percent-decoded. Options: unix_socket=PATH, ssl=true (TLS),
 * ssl=verify (TLS, checking the certificate), ssl_ca=, ssl_cert=, ssl_key=.
 * "mariadb://" is accepted too. Errors also -EINVAL for a URL that does not parse. */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_connect_url(acio_mysql_t **out, const char *url,
                                                      const acio_mysql_opts_t *opts);
/* Why the last acio_mysql_connect in this thread failed, in words (the connector's
 * message), and the server's or the connector's error number (1045: access denied,
 * 1049: unknown database, 2002/2003: cannot connect); "" and 0 if none. Like dlerror(). */
ACIO_EXTERN const char *acio_mysql_connect_error(void);
ACIO_EXTERN unsigned acio_mysql_connect_errno(void);
/* Close the connection (a COM_QUIT, then the socket) and free it, with its cached
 * statements. Must not be called while a task is waiting in a query on it. NULL is a
 * no-op. Not a coroutine: never waits (COM_QUIT is written once, without waiting). */
ACIO_EXTERN void acio_mysql_close(acio_mysql_t *c);
/* True until the connection is lost or closed after a failed recovery. */
ACIO_EXTERN bool acio_mysql_is_connected(const acio_mysql_t *c);
/* True while a query is in progress. */
ACIO_EXTERN bool acio_mysql_is_busy(const acio_mysql_t *c);
/* True inside START TRANSACTION ... COMMIT/ROLLBACK (the server's status flag). */
ACIO_EXTERN bool acio_mysql_in_transaction(const acio_mysql_t *c);
/* The server's thread id for this connection (CONNECTION_ID(), what KILL takes). */
ACIO_EXTERN unsigned long acio_mysql_thread_id(const acio_mysql_t *c);
/* The server's version string ("10.11.19-MariaDB-0+deb12u1"), "" if closed. */
ACIO_EXTERN const char *acio_mysql_server_info(const acio_mysql_t *c);
/* True if the connection is encrypted (TLS). */
ACIO_EXTERN bool acio_mysql_is_tls(const acio_mysql_t *c);
/* Change the query timeout (seconds; <= 0: none) for the following queries. */
ACIO_EXTERN void acio_mysql_set_query_timeout(acio_mysql_t *c, double seconds);

/* ---- queries ---- */

/* Kinds of acio_mysql_param_t. */
typedef enum {
    ACIO_MYSQL_PARAM_NULL,
    ACIO_MYSQL_PARAM_INT,      /* i */
    ACIO_MYSQL_PARAM_UINT,     /* u */
    ACIO_MYSQL_PARAM_DOUBLE,   /* d */
    ACIO_MYSQL_PARAM_TEXT,     /* p, len: character data (also DECIMAL given as text) */
    ACIO_MYSQL_PARAM_BLOB,     /* p, len: bytes */
    ACIO_MYSQL_PARAM_DATETIME, /* t */
} acio_mysql_param_kind_t;

/* A date and time (DATE, TIME, DATETIME, TIMESTAMP). */
typedef struct {
    int year, month, day;
    int hour, minute, second;
    int microsecond;
    bool negative; /* TIME values can be negative */
} acio_mysql_time_t;

/* One parameter of a prepared statement; build it with the helpers below. */
typedef struct {
    acio_mysql_param_kind_t kind;
    int64_t i;
    uint64_t u;
    double d;
    const void *p;
    size_t len;
    acio_mysql_time_t t;
} acio_mysql_param_t;

static inline acio_mysql_param_t acio_mysql_null(void)
{
    acio_mysql_param_t p = {.kind = ACIO_MYSQL_PARAM_NULL};
    return p;
}
static inline acio_mysql_param_t acio_mysql_int(int64_t v)
{
    acio_mysql_param_t p = {.kind = ACIO_MYSQL_PARAM_INT, .i = v};
    return p;
}
static inline acio_mysql_param_t acio_mysql_uint(uint64_t v)
{
    acio_mysql_param_t p = {.kind = ACIO_MYSQL_PARAM_UINT, .u = v};
    return p;
}
static inline acio_mysql_param_t acio_mysql_double(double v)
{
    acio_mysql_param_t p = {.kind = ACIO_MYSQL_PARAM_DOUBLE, .d = v};
    return p;
}
/* A NUL-terminated string (NULL gives SQL NULL). */
ACIO_EXTERN acio_mysql_param_t acio_mysql_text(const char *s);
static inline acio_mysql_param_t acio_mysql_blob(const void *bytes, size_t len)
{
    acio_mysql_param_t p = {.kind = ACIO_MYSQL_PARAM_BLOB, .p = bytes, .len = len};
    return p;
}
static inline acio_mysql_param_t acio_mysql_datetime(acio_mysql_time_t t)
{
    acio_mysql_param_t p = {.kind = ACIO_MYSQL_PARAM_DATETIME, .t = t};
    return p;
}

/* cursor.execute(sql, args): run one statement with `?` placeholders as a server-side
 * prepared statement (mysql_stmt_prepare / bind / execute / store_result): the values
 * travel apart from the SQL, never pasted into it. Prepared statements are cached per
 * connection by SQL text (opts.stmt_cache_size). out may be NULL (the result is
 * discarded; affected rows are then lost too). Coroutine.
 * Errors: ACIO_EMYSQL_SERVER (the server refused the statement: acio_mysql_error_*();
 * the connection stays usable), ACIO_EMYSQL_CONNECTION, ACIO_EMYSQL_BUSY, -ETIMEDOUT
 * and -ECANCELED (see the top of this file), -ENOMEM, -EINVAL (nparams differs from the
 * statement's placeholders, NULL sql), ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_execute(acio_mysql_t *c, const char *sql,
                                                  const acio_mysql_param_t *params, int nparams,
                                                  acio_mysql_result_t **out);
/* The text protocol (mysql_real_query): sql without parameters, possibly several
 * statements separated by semicolons (each gives its own result set: see
 * acio_mysql_result_next). The first failing statement stops the batch and its error
 * is returned; the results before it are dropped. out may be NULL. Coroutine. Errors as
 * acio_mysql_execute(). */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_query(acio_mysql_t *c, const char *sql,
                                                acio_mysql_result_t **out);

/* Transactions: START TRANSACTION, COMMIT, ROLLBACK (aiomysql's conn.begin(), commit(),
 * rollback()). Coroutines; errors as acio_mysql_query(). */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_begin(acio_mysql_t *c);
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_commit(acio_mysql_t *c);
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_rollback(acio_mysql_t *c);
/* conn.ping(): a round trip (COM_PING). Coroutine. Errors as acio_mysql_query(). */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_ping(acio_mysql_t *c);

/* The last server error on c (set by ACIO_EMYSQL_SERVER, and by ACIO_EMYSQL_CONNECTION
 * with the connector's words): the message, MySQL's error number (1064 for a syntax
 * error, 1062 for a duplicate key) and the SQLSTATE ("42000"); "", 0, "" if none. Valid
 * until the next query on c. */
ACIO_EXTERN const char *acio_mysql_error_message(const acio_mysql_t *c);
ACIO_EXTERN unsigned acio_mysql_error_errno(const acio_mysql_t *c);
ACIO_EXTERN const char *acio_mysql_error_sqlstate(const acio_mysql_t *c);

/* ---- results ---- */

/* Column types (MYSQL_TYPE_* of the connector's mysql.h, same numbers). */
enum {
    ACIO_MYSQL_TYPE_DECIMAL = 0,
    ACIO_MYSQL_TYPE_TINY = 1,
    ACIO_MYSQL_TYPE_SHORT = 2,
    ACIO_MYSQL_TYPE_LONG = 3,
    ACIO_MYSQL_TYPE_FLOAT = 4,
    ACIO_MYSQL_TYPE_DOUBLE = 5,
    ACIO_MYSQL_TYPE_NULL = 6,
    ACIO_MYSQL_TYPE_TIMESTAMP = 7,
    ACIO_MYSQL_TYPE_LONGLONG = 8,
    ACIO_MYSQL_TYPE_INT24 = 9,
    ACIO_MYSQL_TYPE_DATE = 10,
    ACIO_MYSQL_TYPE_TIME = 11,
    ACIO_MYSQL_TYPE_DATETIME = 12,
    ACIO_MYSQL_TYPE_YEAR = 13,
    ACIO_MYSQL_TYPE_VARCHAR = 15,
    ACIO_MYSQL_TYPE_BIT = 16,
    ACIO_MYSQL_TYPE_JSON = 245,
    ACIO_MYSQL_TYPE_NEWDECIMAL = 246,
    ACIO_MYSQL_TYPE_BLOB = 252,
    ACIO_MYSQL_TYPE_VAR_STRING = 253,
    ACIO_MYSQL_TYPE_STRING = 254,
};

/* Column flags (a subset of the connector's *_FLAG values). */
enum {
    ACIO_MYSQL_NOT_NULL = 1,
    ACIO_MYSQL_PRIMARY_KEY = 2,
    ACIO_MYSQL_UNSIGNED = 32,
    ACIO_MYSQL_BINARY = 128,
};

/* cursor.description: one column's metadata. */
typedef struct {
    const char *name;   /* the alias or column name */
    const char *table;  /* "" for expressions */
    int type;           /* ACIO_MYSQL_TYPE_* */
    unsigned flags;     /* ACIO_MYSQL_* flags */
    unsigned charsetnr; /* 63: binary */
    unsigned decimals;
    unsigned long length; /* the column's display width */
} acio_mysql_column_t;

/* Free a result and the result sets chained after it. NULL is a no-op. */
ACIO_EXTERN void acio_mysql_result_free(acio_mysql_result_t *r);
/* The next result set of a multi-statement query (or a CALL), or NULL. Owned by r. */
ACIO_EXTERN acio_mysql_result_t *acio_mysql_result_next(const acio_mysql_result_t *r);
/* Rows and columns: 0 columns for statements that return no rows (INSERT, UPDATE...). */
ACIO_EXTERN size_t acio_mysql_result_nrows(const acio_mysql_result_t *r);
ACIO_EXTERN int acio_mysql_result_ncols(const acio_mysql_result_t *r);
/* Column metadata, or NULL if col is out of range. Valid while r lives. */
ACIO_EXTERN const acio_mysql_column_t *acio_mysql_result_column(const acio_mysql_result_t *r,
                                                                int col);
/* Column index by name, or -1. */
ACIO_EXTERN int acio_mysql_result_column_index(const acio_mysql_result_t *r, const char *name);
/* cursor.rowcount (affected rows of INSERT/UPDATE/DELETE; rows of a SELECT), and
 * cursor.lastrowid (the AUTO_INCREMENT value the statement generated, 0 if none). */
ACIO_EXTERN uint64_t acio_mysql_result_affected(const acio_mysql_result_t *r);
ACIO_EXTERN uint64_t acio_mysql_result_insert_id(const acio_mysql_result_t *r);
ACIO_EXTERN unsigned acio_mysql_result_warnings(const acio_mysql_result_t *r);

/* Value accessors. All return -EINVAL for a row or column out of range, ACIO_EMYSQL_NULL
 * for an SQL NULL (the output is untouched), and ACIO_EMYSQL_TYPE when the value cannot
 * be read as asked. */
ACIO_EXTERN bool acio_mysql_result_is_null(const acio_mysql_result_t *r, size_t row, int col);
/* The value's bytes, NUL-terminated (an extra NUL after them), valid while r lives; *len
 * (may be NULL) gets their length, which counts NUL bytes inside BLOBs. NULL for SQL NULL
 * or out of range. Numbers, DECIMAL and dates come as the server writes them. */
ACIO_EXTERN const char *acio_mysql_result_text(const acio_mysql_result_t *r, size_t row, int col,
                                               size_t *len);
/* Integers (any integer column, YEAR, BIT up to 8 bytes, and text that is an integer).
 * An unsigned BIGINT above INT64_MAX is ACIO_EMYSQL_TYPE for _int: read it with _uint. */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_result_int(const acio_mysql_result_t *r, size_t row,
                                                     int col, int64_t *out);
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_result_uint(const acio_mysql_result_t *r, size_t row,
                                                      int col, uint64_t *out);
/* FLOAT, DOUBLE, DECIMAL (rounded), integers, text that is a number. */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_result_double(const acio_mysql_result_t *r, size_t row,
                                                        int col, double *out);
/* DATE ("2024-01-31": time 0), TIME ("-838:59:59.5": year/month/day 0), DATETIME and
 * TIMESTAMP ("2024-01-31 12:00:00.250000"). */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_result_time(const acio_mysql_result_t *r, size_t row,
                                                      int col, acio_mysql_time_t *out);

/* ---- pool (aiomysql.create_pool) ---- */

typedef struct acio_mysql_pool_s acio_mysql_pool_t;
typedef struct {
    size_t minsize;         /* connections opened by pool_new: default 1 */
    size_t maxsize;         /* most connections open at once: default 10 */
    double recycle;         /* a connection idle longer than this many seconds is closed
                               and replaced when acquired; <= 0: never */
    double acquire_timeout; /* seconds acquire waits for a connection; <= 0: forever */
    /* Reset the whole session on release (COM_RESET_CONNECTION: user variables,
     * temporary tables, session settings, prepared statements). Off by default, as in
     * aiomysql: a released connection inside a transaction always gets ROLLBACK. */
    bool reset_session;
} acio_mysql_pool_opts_t;

/* Create a pool and open minsize connections. Coroutine. cfg and its strings are
 * copied; opts (per connection) and popts may be NULL.
 * Errors: acio_mysql_connect's, -EINVAL (maxsize 0, minsize > maxsize), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_pool_new(acio_mysql_pool_t **out,
                                                   const acio_mysql_config_t *cfg,
                                                   const acio_mysql_opts_t *opts,
                                                   const acio_mysql_pool_opts_t *popts);
/* The same from a URL (acio_mysql_connect_url's). */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_pool_new_url(acio_mysql_pool_t **out, const char *url,
                                                       const acio_mysql_opts_t *opts,
                                                       const acio_mysql_pool_opts_t *popts);
/* pool.acquire(): an idle connection (one idle past recycle is replaced), a new one
 * while fewer than maxsize are open, or wait (first come, first served) for one to be
 * released. Coroutine.
 * Errors: acio_mysql_connect's, -ETIMEDOUT (acquire_timeout), -ECANCELED, ACIO_ECLOSED
 * (the pool is closing), -EINVAL, ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_mysql_pool_acquire(acio_mysql_pool_t *p, acio_mysql_t **conn);
/* pool.release(): ROLLBACK if in a transaction (and COM_RESET_CONNECTION with
 * reset_session), then give the connection to the oldest waiter or keep it idle. A
 * connection that is lost, busy, or whose reset fails (or is cancelled) is closed
 * instead and its slot freed; so is every connection when release is called outside a
 * task. A coroutine that never fails; conn must not be used afterwards. */
ACIO_EXTERN void acio_mysql_pool_release(acio_mysql_pool_t *p, acio_mysql_t *conn);
/* Connections open (idle + acquired + being opened), and idle ones. */
ACIO_EXTERN size_t acio_mysql_pool_size(const acio_mysql_pool_t *p);
ACIO_EXTERN size_t acio_mysql_pool_freesize(const acio_mysql_pool_t *p);
/* pool.close(): close idle connections, fail waiters with ACIO_ECLOSED; connections
 * still acquired are closed when released, and the pool is freed after the last one. */
ACIO_EXTERN void acio_mysql_pool_close(acio_mysql_pool_t *p);

#endif
