/* Internal: the PostgreSQL connection and result, shared by the connection and query
 * engine (pg.c) and the result accessors (pg_result.c). */
#ifndef ACIO_DB_PG_INT_H
#define ACIO_DB_PG_INT_H

#include <libpq-fe.h>

#include "internal.h"

struct acio_pg_s {
    acio_loop_t *loop;
    PGconn *conn; /* NULL once closed after a loss or a failed cancel */
    acio_pg_opts_t opts;
    bool busy; /* a query is in progress */
    char err_message[512];
    char err_sqlstate[6];
    char err_detail[256];
};

struct acio_pg_result_s {
    PGresult *res;
};

#endif
