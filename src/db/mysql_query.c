/* MariaDB/MySQL queries (acio/mysql.h): the text protocol with its multiple result sets
 * (mysql_real_query, mysql_store_result, mysql_next_result), server-side prepared
 * statements with their per-connection cache (mysql_stmt_prepare / bind / execute /
 * store_result), transactions and ping. Each is a _start call driven to its end by
 * ACIO__MYSQL_DRIVE on acio's loop; once a result is stored, reading its rows is local. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <errmsg.h>

#include "mysql_int.h"

acio_mysql_param_t acio_mysql_text(const char *s)
{
    acio_mysql_param_t p = {.kind = s ? ACIO_MYSQL_PARAM_TEXT : ACIO_MYSQL_PARAM_NULL,
                            .p = s,
                            .len = s ? strlen(s) : 0};
    return p;
}

/* The connector's error on the connection: recorded, and mapped to a code. */
static int conn_error(acio_mysql_t *c)
{
    unsigned e = mysql_errno(c->my);
    acio__mysql_record(c, e, mysql_sqlstate(c->my), mysql_error(c->my));
    if (e == CR_OUT_OF_MEMORY)
        return -ENOMEM;
    return acio__mysql_errno_is_lost(e) || mysql_get_socket(c->my) < 0 ? ACIO_EMYSQL_CONNECTION
                                                                       : ACIO_EMYSQL_SERVER;
}

static int stmt_error(acio_mysql_t *c, MYSQL_STMT *st)
{
    unsigned e = mysql_stmt_errno(st);
    acio__mysql_record(c, e, mysql_stmt_sqlstate(st), mysql_stmt_error(st));
    if (e == CR_OUT_OF_MEMORY)
        return -ENOMEM;
    return acio__mysql_errno_is_lost(e) || mysql_get_socket(c->my) < 0 ? ACIO_EMYSQL_CONNECTION
                                                                       : ACIO_EMYSQL_SERVER;
}

/* ---- the text protocol ---- */

/* Store the current result set and chain it at *tail (unless tail is NULL or an earlier
 * step failed: the result set is still read, so the connection stays in step). */
static int store_one(acio_mysql_t *c, acio_mysql_result_t ***tail, int rc)
{
    MYSQL_RES *res = NULL;
    int st = mysql_store_result_start(&res, c->my);
    ACIO__MYSQL_DRIVE(c, st, mysql_store_result_cont(&res, c->my, ev_));
    if (!res && mysql_field_count(c->my) != 0)
        return rc < 0 ? rc : conn_error(c);
    if (rc == 0 && *tail) {
        acio_mysql_result_t *r = NULL;
        rc = acio__mysql_result_from_res(c->my, res, &r);
        if (rc == 0) {
            **tail = r;
            *tail = &r->next;
        }
    }
    mysql_free_result(res);
    return rc;
}

int acio_mysql_query(acio_mysql_t *c, const char *sql, acio_mysql_result_t **out)
{
    if (out)
        *out = NULL;
    if (!sql)
        return -EINVAL;
    int rc = acio__mysql_begin(c);
    if (rc < 0)
        return rc;
    acio_mysql_result_t *head = NULL, **tail = out ? &head : NULL;
    int err = 0;
    int st = mysql_real_query_start(&err, c->my, sql, strlen(sql));
    ACIO__MYSQL_DRIVE(c, st, mysql_real_query_cont(&err, c->my, ev_));
    if (err) {
        rc = conn_error(c);
    } else {
        for (;;) {
            int src = store_one(c, &tail, rc);
            if (src < 0 && (rc == 0 || rc == -ENOMEM))
                rc = src;
            if (rc < 0 && rc != -ENOMEM)
                break;
            if (!mysql_more_results(c->my))
                break;
            int nr = 0;
            st = mysql_next_result_start(&nr, c->my);
            ACIO__MYSQL_DRIVE(c, st, mysql_next_result_cont(&nr, c->my, ev_));
            if (nr > 0) {
                rc = conn_error(c);
                break;
            }
            if (nr < 0)
                break;
        }
    }
    rc = acio__mysql_end(c, rc);
    if (rc < 0) {
        acio_mysql_result_free(head);
        return rc;
    }
    if (out)
        *out = head;
    return 0;
}

static int simple(acio_mysql_t *c, const char *sql)
{
    return acio_mysql_query(c, sql, NULL);
}

int acio_mysql_begin(acio_mysql_t *c)
{
    return simple(c, "START TRANSACTION");
}

int acio_mysql_commit(acio_mysql_t *c)
{
    return simple(c, "COMMIT");
}

int acio_mysql_rollback(acio_mysql_t *c)
{
    return simple(c, "ROLLBACK");
}

int acio_mysql_ping(acio_mysql_t *c)
{
    int rc = acio__mysql_begin(c);
    if (rc < 0)
        return rc;
    int ret = 0;
    int st = mysql_ping_start(&ret, c->my);
    ACIO__MYSQL_DRIVE(c, st, mysql_ping_cont(&ret, c->my, ev_));
    return acio__mysql_end(c, ret ? conn_error(c) : 0);
}

/* ---- prepared statements ---- */

void acio__mysql_stmts_drop(acio_mysql_t *c)
{
    while (c->stmts) {
        acio__mysql_stmt_t *s = c->stmts;
        c->stmts = s->next;
        mysql_stmt_close(s->stmt);
        acio__free(s->sql);
        acio__free(s);
    }
    c->nstmts = 0;
}

/* Close a statement on the server (COM_STMT_CLOSE, which has no answer) and free it. */
static void stmt_close(acio_mysql_t *c, acio__mysql_stmt_t *s)
{
    my_bool ret = 0;
    int st = mysql_stmt_close_start(&ret, s->stmt);
    ACIO__MYSQL_DRIVE(c, st, mysql_stmt_close_cont(&ret, s->stmt, ev_));
    acio__free(s->sql);
    acio__free(s);
}

/* The cached statement for sql (moved to the front), or a new one prepared and cached. */
static int stmt_get(acio_mysql_t *c, const char *sql, acio__mysql_stmt_t **out)
{
    acio__mysql_stmt_t **pp = &c->stmts;
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->sql, sql) == 0) {
            acio__mysql_stmt_t *s = *pp;
            *pp = s->next;
            s->next = c->stmts;
            c->stmts = s;
            *out = s;
            return 0;
        }
    }
    acio__mysql_stmt_t *s = acio__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->sql = acio__strdup(sql);
    s->stmt = s->sql ? mysql_stmt_init(c->my) : NULL;
    if (!s->stmt) {
        acio__free(s->sql);
        acio__free(s);
        return -ENOMEM;
    }
    int ret = 0;
    int st = mysql_stmt_prepare_start(&ret, s->stmt, sql, strlen(sql));
    ACIO__MYSQL_DRIVE(c, st, mysql_stmt_prepare_cont(&ret, s->stmt, ev_));
    if (ret) {
        int rc = stmt_error(c, s->stmt);
        mysql_stmt_close(s->stmt); /* never prepared on the server: nothing to send */
        acio__free(s->sql);
        acio__free(s);
        return rc;
    }
    s->nparams = mysql_stmt_param_count(s->stmt);
    s->next = c->stmts;
    c->stmts = s;
    c->nstmts++;
    *out = s;
    return 0;
}

/* Drop the least recently used statements beyond the cache's size (all of them when the
 * cache is off). */
static void stmt_trim(acio_mysql_t *c)
{
    int max = c->opts.stmt_cache_size < 0 ? 0 : c->opts.stmt_cache_size;
    while (c->nstmts > max && c->my && !c->doomed) {
        acio__mysql_stmt_t **pp = &c->stmts;
        while ((*pp)->next)
            pp = &(*pp)->next;
        acio__mysql_stmt_t *s = *pp;
        *pp = NULL;
        c->nstmts--;
        stmt_close(c, s);
    }
}

static void to_mysql_time(const acio_mysql_time_t *t, MYSQL_TIME *m)
{
    memset(m, 0, sizeof(*m));
    m->year = (unsigned)t->year;
    m->month = (unsigned)t->month;
    m->day = (unsigned)t->day;
    m->hour = (unsigned)t->hour;
    m->minute = (unsigned)t->minute;
    m->second = (unsigned)t->second;
    m->second_part = (unsigned long)t->microsecond;
    m->neg = t->negative;
    m->time_type = MYSQL_TIMESTAMP_DATETIME;
}

/* The connector reads the values at execute time through the pointers in MYSQL_BIND:
 * the bindings, converted times and lengths live in one block until the execution is
 * over. */
typedef struct {
    MYSQL_BIND *b;
    MYSQL_TIME *times;
    unsigned long *lens;
} binds_t;

static int bind_params(MYSQL_STMT *st, const acio_mysql_param_t *params, int n, binds_t *m)
{
    if (n == 0)
        return 0;
    size_t un = (size_t)n;
    m->b = acio__calloc(un, sizeof(*m->b) + sizeof(*m->times) + sizeof(*m->lens));
    if (!m->b)
        return -ENOMEM;
    m->times = (MYSQL_TIME *)(m->b + un);
    m->lens = (unsigned long *)(m->times + un);
    MYSQL_BIND *b = m->b;
    for (int i = 0; i < n; i++) {
        const acio_mysql_param_t *p = &params[i];
        switch (p->kind) {
        case ACIO_MYSQL_PARAM_NULL:
            b[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        case ACIO_MYSQL_PARAM_INT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&p->i;
            break;
        case ACIO_MYSQL_PARAM_UINT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&p->u;
            b[i].is_unsigned = 1;
            break;
        case ACIO_MYSQL_PARAM_DOUBLE:
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = (void *)&p->d;
            break;
        case ACIO_MYSQL_PARAM_TEXT:
        case ACIO_MYSQL_PARAM_BLOB:
            b[i].buffer_type =
                p->kind == ACIO_MYSQL_PARAM_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            b[i].buffer = (void *)(p->p ? p->p : "");
            m->lens[i] = (unsigned long)p->len;
            b[i].buffer_length = m->lens[i];
            b[i].length = &m->lens[i];
            break;
        case ACIO_MYSQL_PARAM_DATETIME:
            to_mysql_time(&p->t, &m->times[i]);
            b[i].buffer_type = MYSQL_TYPE_DATETIME;
            b[i].buffer = &m->times[i];
            break;
        default:
            return -EINVAL;
        }
    }
    if (mysql_stmt_bind_param(st, b))
        return mysql_stmt_errno(st) == CR_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
    return 0;
}

int acio_mysql_execute(acio_mysql_t *c, const char *sql, const acio_mysql_param_t *params,
                       int nparams, acio_mysql_result_t **out)
{
    if (out)
        *out = NULL;
    if (!sql || nparams < 0 || (nparams > 0 && !params))
        return -EINVAL;
    int rc = acio__mysql_begin(c);
    if (rc < 0)
        return rc;
    acio__mysql_stmt_t *s = NULL;
    acio_mysql_result_t *head = NULL, **tail = &head;
    binds_t binds = {0};
    rc = stmt_get(c, sql, &s);
    if (rc < 0)
        goto done;
    if (s->nparams != (unsigned long)nparams) {
        acio__mysql_record(c, 0, "",
                           "the number of parameters differs from the statement's placeholders");
        rc = -EINVAL;
        goto done;
    }
    rc = bind_params(s->stmt, params, nparams, &binds);
    if (rc < 0)
        goto done;
    int ret = 0;
    int st = mysql_stmt_execute_start(&ret, s->stmt);
    ACIO__MYSQL_DRIVE(c, st, mysql_stmt_execute_cont(&ret, s->stmt, ev_));
    if (ret) {
        rc = stmt_error(c, s->stmt);
        goto done;
    }
    for (;;) {
        int r2 = 0;
        if (mysql_stmt_field_count(s->stmt) > 0) {
            st = mysql_stmt_store_result_start(&ret, s->stmt);
            ACIO__MYSQL_DRIVE(c, st, mysql_stmt_store_result_cont(&ret, s->stmt, ev_));
            if (ret) {
                rc = stmt_error(c, s->stmt);
                break;
            }
        }
        if (rc == 0 && out) {
            acio_mysql_result_t *r = NULL;
            r2 = acio__mysql_result_from_stmt(c, s->stmt, &r);
            if (r2 == 0) {
                *tail = r;
                tail = &r->next;
            } else {
                rc = r2; /* keep reading the rest so the connection stays in step */
            }
        }
        mysql_stmt_free_result(s->stmt);
        if (!mysql_stmt_more_results(s->stmt))
            break;
        int nr = 0;
        st = mysql_stmt_next_result_start(&nr, s->stmt);
        ACIO__MYSQL_DRIVE(c, st, mysql_stmt_next_result_cont(&nr, s->stmt, ev_));
        if (nr > 0) {
            rc = stmt_error(c, s->stmt);
            break;
        }
        if (nr < 0)
            break;
    }
done:
    acio__free(binds.b);
    if (c->my && !c->doomed)
        stmt_trim(c);
    rc = acio__mysql_end(c, rc);
    if (rc < 0) {
        acio_mysql_result_free(head);
        return rc;
    }
    if (out)
        *out = head;
    else
        acio_mysql_result_free(head);
    return 0;
}
