/* Internal: the MariaDB/MySQL connection, its cached prepared statements and its
 * results, shared by the connection and its driver (mysql.c), the queries
 * (mysql_query.c), the results (mysql_result.c) and the pool (mysql_pool.c). */
#ifndef ACIO_DB_MYSQL_INT_H
#define ACIO_DB_MYSQL_INT_H

#include <mysql.h>

#include "internal.h"

/* A config with its strings owned (one allocation each); the connection keeps one to
 * open the second connection that sends KILL QUERY, the pool one to open connections. */
typedef struct {
    acio_mysql_config_t cfg;
    char *strings; /* every string of cfg, back to back */
} acio__mysql_conf_t;

int acio__mysql_conf_copy(acio__mysql_conf_t *dst, const acio_mysql_config_t *src);
/* Parse a mysql:// URL into dst. -EINVAL if it does not parse, -ENOMEM. */
int acio__mysql_conf_from_url(acio__mysql_conf_t *dst, const char *url);
void acio__mysql_conf_free(acio__mysql_conf_t *c);

/* A cached prepared statement (an LRU list, most recent first). */
typedef struct acio__mysql_stmt_s {
    struct acio__mysql_stmt_s *next;
    MYSQL_STMT *stmt;
    char *sql;
    unsigned long nparams;
} acio__mysql_stmt_t;

struct acio_mysql_s {
    acio_loop_t *loop;
    MYSQL *my; /* NULL once closed after a loss or a failed recovery */
    acio__mysql_conf_t conf;
    acio_mysql_opts_t opts;
    bool busy; /* an operation is in progress */
    /* The operation in progress: its deadline (loop time, 0: none), whether it may be
     * interrupted with KILL QUERY (a query; not a connect), and what became of it. */
    double deadline;
    bool killable;
    int interrupted;  /* -ECANCELED / -ETIMEDOUT once the waiting task gave up */
    bool doomed;      /* the socket was shut down: the operation ends on a dead socket */
    double last_used; /* loop time of the last completed operation (pool recycle) */
    acio__mysql_stmt_t *stmts;
    int nstmts;
    unsigned err_errno;
    char err_sqlstate[6];
    char err_message[512];
};

typedef struct {
    const char *p; /* NULL for SQL NULL */
    size_t len;
} acio__mysql_cell_t;

struct acio_mysql_result_s {
    struct acio_mysql_result_s *next;
    uint64_t affected, insert_id;
    unsigned warnings;
    int ncols;
    size_t nrows;
    acio_mysql_column_t *cols;
    acio__mysql_cell_t *cells; /* nrows * ncols */
    char *names;               /* column names and tables */
    char *data;                /* every value, each followed by a NUL */
};

/* Drive a started operation: `status` is the _start call's return; cont is an expression
 * calling the matching _cont with the variable `ev_` as its events argument. Runs until
 * the connector says the operation is complete (status 0). Every wait goes through
 * acio__mysql_wait, which never fails: an interrupted or failed wait dooms the
 * operation instead, so the connector always ends its state machine. */
#define ACIO__MYSQL_DRIVE(c, status, cont)                                                         \
    while (status) {                                                                               \
        int ev_ = acio__mysql_wait((c), (status));                                                 \
        status = (cont);                                                                           \
    }

int acio__mysql_wait(acio_mysql_t *c, int status);
/* Start an operation (checks: in a task, not busy, connected); clears the last error. */
int acio__mysql_begin(acio_mysql_t *c);
/* End an operation: rc is what it gave. Maps an interrupted operation to -ECANCELED /
 * -ETIMEDOUT (and closes the connection if it was doomed or lost); records server
 * errors from the connector. Returns the code for the caller. */
int acio__mysql_end(acio_mysql_t *c, int rc);
/* Record the connector's error (mysql_errno & co.) as the connection's last error. */
void acio__mysql_record(acio_mysql_t *c, unsigned err, const char *state, const char *msg);
/* Close the MYSQL handle after a loss: the connection answers ACIO_EMYSQL_CONNECTION. */
void acio__mysql_lose(acio_mysql_t *c);
/* Free every cached statement, once the connector has detached them from the
 * connection (mysql_close, mysql_reset_connection): no I/O. */
void acio__mysql_stmts_drop(acio_mysql_t *c);
/* Build results from the connector's current result (text protocol). */
int acio__mysql_result_from_res(MYSQL *my, MYSQL_RES *res, acio_mysql_result_t **out);
int acio__mysql_result_from_stmt(acio_mysql_t *c, MYSQL_STMT *st, acio_mysql_result_t **out);
/* The connection's error: a connector errno that means the connection is gone. */
bool acio__mysql_errno_is_lost(unsigned err);

#endif
