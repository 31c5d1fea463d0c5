/* Internal: the PostgreSQL connection and result, shared by the connection and query
 * engine (pg.c), the statement cache (pg_stmt.c), the result accessors (pg_result.c)
 * and the pool (pg_pool.c). */
#ifndef ACIO_DB_PG_INT_H
#define ACIO_DB_PG_INT_H

#include <libpq-fe.h>

#include "internal.h"

typedef struct acio__pg_stmt_s acio__pg_stmt_t;

struct acio_pg_s {
    acio_loop_t *loop;
    PGconn *conn; /* NULL once closed after a loss or a failed cancel */
    acio_pg_opts_t opts;
    bool busy; /* a query is in progress */
    int copy;  /* a COPY in progress (pg_copy.c): 0 none, 1 in, 2 out */
    char err_message[512];
    char err_sqlstate[6];
    char err_detail[256];
    /* The prepared-statement cache (pg_stmt.c). */
    int stmt_max; /* <= 0: off */
    size_t nstmts, stmt_nbuckets;
    acio__pg_stmt_t **stmt_buckets;
    acio__pg_stmt_t *stmt_head, *stmt_tail;
    unsigned long long stmt_seq;
    char (*to_close)[24]; /* names of evicted statements to DEALLOCATE */
    size_t nclose, capclose;
};

/* A server error kept per query of a batch. */
typedef struct {
    char sqlstate[6];
    char message[256];
} acio__pg_err_t;

/* Where the results of one operation go (pg.c's collect): nsync is 0 for one query in
 * normal mode, else the pipeline's sync points; per command i < ncmd: res[i] its last
 * successful result, codes[i] 0 / ACIO_EPG_SERVER / ACIO_EPG_ABORTED, errors[i] its
 * server error (each array may be NULL); errors of commands < nreport make the call fail
 * with ACIO_EPG_SERVER (the first one is the connection's last error). */
typedef struct {
    int nsync;
    int ncmd;
    PGresult **res;
    int *codes;
    acio__pg_err_t *errors;
    int nreport;
} acio__pg_sink_t;

/* Flush what was queued and collect its results into s; recovers from a cancellation
 * or timeout (cancel, drain) and leaves pipeline mode. Coroutine. */
int acio__pg_run(acio_pg_t *c, acio__pg_sink_t *s);
/* Checks before an operation (a task, not busy, connected) and clears the last error.
 * Errors: -EINVAL, ACIO_ENOTASK, ACIO_EPG_BUSY, ACIO_EPG_CONNECTION. */
int acio__pg_begin(acio_pg_t *c);
/* libpq refused to queue a command: record why; ACIO_EPG_CONNECTION (closed) or -EINVAL. */
int acio__pg_send_failed(acio_pg_t *c);
/* Close the PGconn after a loss: later queries get ACIO_EPG_CONNECTION. */
void acio__pg_lose(acio_pg_t *c);
/* Wait until libpq's socket is readable (rd) and/or writable (wr), or the loop time
 * reaches deadline (<= 0: none). Errors: -ETIMEDOUT, -ECANCELED, registration errors. */
int acio__pg_wait(acio_pg_t *c, bool rd, bool wr, double deadline);
/* Record r's error as the connection's last error. */
void acio__pg_record_error(acio_pg_t *c, const PGresult *r);
/* Copy r's SQLSTATE and primary message into e. */
void acio__pg_error_copy(acio__pg_err_t *e, const PGresult *r);

struct acio_pg_result_s {
    PGresult *res;
};

/* The statement cache. init: size <= 0 turns it off. find: the entry for this query
 * text and parameter types (moved to the front), or NULL. new: a new entry (evicting
 * the least recently used, whose name is queued for DEALLOCATE), or NULL when the
 * cache is off or memory is short. forget: remove an entry the server no longer has;
 * drop: remove one it has (queued for DEALLOCATE). clear: forget every entry (after
 * DISCARD ALL / DEALLOCATE ALL). */
int acio__pg_stmt_cache_init(acio_pg_t *c, int size);
void acio__pg_stmt_cache_free(acio_pg_t *c);
void acio__pg_stmt_cache_clear(acio_pg_t *c);
acio__pg_stmt_t *acio__pg_stmt_find(acio_pg_t *c, const char *sql, int n, const unsigned *types);
acio__pg_stmt_t *acio__pg_stmt_new(acio_pg_t *c, const char *sql, int n, const unsigned *types);
void acio__pg_stmt_forget(acio_pg_t *c, acio__pg_stmt_t *s);
void acio__pg_stmt_drop(acio_pg_t *c, acio__pg_stmt_t *s);
const char *acio__pg_stmt_name(const acio__pg_stmt_t *s);
/* A binary numeric as a double. Errors: ACIO_EPG_TYPE. */
int acio__pg_numeric_to_double(const unsigned char *v, int len, double *out);
/* Whether sql drops prepared statements (DISCARD ALL, DEALLOCATE): anywhere in it when
 * anywhere is true, else as its first statement. */
bool acio__pg_drops_statements(const char *sql, bool anywhere);

#endif
