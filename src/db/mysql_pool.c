/* The MariaDB/MySQL connection pool (aiomysql's Pool) on the shared pool (conn_pool.h):
 * this file supplies how to open, check, reset and close a MariaDB connection. A
 * connection idle for longer than `recycle` is replaced when acquired, and every
 * released connection is reset (ROLLBACK if in a transaction; COM_RESET_CONNECTION when
 * asked) before anyone else gets it; one that is lost, busy or cannot be reset is closed
 * instead. */
#include <errno.h>
#include <string.h>

#include "conn_pool.h"
#include "mysql_int.h"

struct acio_mysql_pool_s {
    acio__conn_pool_t base;
    acio__mysql_conf_t conf;
    acio_mysql_opts_t opts;
    acio_mysql_pool_opts_t popts;
};

#define POOL(b) acio_container_of(b, acio_mysql_pool_t, base)

static int pool_connect(acio__conn_pool_t *b, void **out)
{
    acio_mysql_pool_t *p = POOL(b);
    acio_mysql_config_t cfg = p->conf.cfg;
    acio_mysql_t *c = NULL;
    int rc = acio_mysql_connect(&c, &cfg, &p->opts);
    *out = c;
    return rc;
}

/* Usable as it is when acquired: connected, and not idle past recycle. */
static bool pool_alive(acio__conn_pool_t *b, void *conn)
{
    acio_mysql_pool_t *p = POOL(b);
    acio_mysql_t *c = conn;
    if (!acio_mysql_is_connected(c))
        return false;
    return p->popts.recycle <= 0 || acio_loop_time(c->loop) - c->last_used <= p->popts.recycle;
}

/* ROLLBACK if needed, then COM_RESET_CONNECTION if asked; false if the connection must
 * go. */
static bool pool_reset(acio__conn_pool_t *b, void *conn)
{
    acio_mysql_pool_t *p = POOL(b);
    acio_mysql_t *c = conn;
    if (!acio_mysql_is_connected(c) || acio_mysql_is_busy(c) || !acio_current_task())
        return false;
    if (acio_mysql_in_transaction(c) && acio_mysql_rollback(c) != 0)
        return false;
    if (p->popts.reset_session) {
        if (acio__mysql_begin(c) < 0)
            return false;
        int ret = 0;
        int st = mysql_reset_connection_start(&ret, c->my);
        ACIO__MYSQL_DRIVE(c, st, mysql_reset_connection_cont(&ret, c->my, ev_));
        /* The server dropped the prepared statements; the connector detached ours. */
        if (!c->doomed)
            acio__mysql_stmts_drop(c);
        if (acio__mysql_end(c, ret ? ACIO_EMYSQL_CONNECTION : 0) != 0)
            return false;
    }
    return acio_mysql_is_connected(c) && !acio_mysql_in_transaction(c);
}

static void pool_close_conn(acio__conn_pool_t *b, void *conn)
{
    (void)b;
    acio_mysql_close(conn);
}

static void pool_destroy(acio__conn_pool_t *b)
{
    acio_mysql_pool_t *p = POOL(b);
    acio__mysql_conf_free(&p->conf);
    acio__free(p);
}

static const acio__conn_pool_ops_t mysql_pool_ops = {
    .connect = pool_connect,
    .reset = pool_reset,
    .close = pool_close_conn,
    .alive = pool_alive,
    .destroy = pool_destroy,
};

static int pool_new(acio_mysql_pool_t **out, const acio_mysql_config_t *cfg,
                    const acio_mysql_opts_t *opts, const acio_mysql_pool_opts_t *popts)
{
    acio_mysql_pool_opts_t d = {.minsize = 1, .maxsize = 10};
    if (popts)
        d = *popts;
    if (d.maxsize == 0 || d.minsize > d.maxsize)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    acio_mysql_pool_t *p = acio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    int rc = acio__conn_pool_init(&p->base, &mysql_pool_ops, d.minsize, d.maxsize,
                                  d.acquire_timeout, "the MariaDB/MySQL pool was closed");
    if (rc < 0) {
        acio__free(p);
        return rc;
    }
    p->popts = d;
    if (opts)
        p->opts = *opts;
    if (acio__mysql_conf_copy(&p->conf, cfg) < 0) {
        acio__conn_pool_fini(&p->base);
        pool_destroy(&p->base);
        return -ENOMEM;
    }
    rc = acio__conn_pool_fill(&p->base);
    if (rc < 0) {
        acio__conn_pool_close(&p->base);
        return rc;
    }
    *out = p;
    return 0;
}

int acio_mysql_pool_new(acio_mysql_pool_t **out, const acio_mysql_config_t *cfg,
                        const acio_mysql_opts_t *opts, const acio_mysql_pool_opts_t *popts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio_mysql_config_t empty = {0};
    return pool_new(out, cfg ? cfg : &empty, opts, popts);
}

int acio_mysql_pool_new_url(acio_mysql_pool_t **out, const char *url, const acio_mysql_opts_t *opts,
                            const acio_mysql_pool_opts_t *popts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio__mysql_conf_t conf;
    int rc = acio__mysql_conf_from_url(&conf, url);
    if (rc < 0)
        return rc;
    rc = pool_new(out, &conf.cfg, opts, popts);
    acio__mysql_conf_free(&conf);
    return rc;
}

int acio_mysql_pool_acquire(acio_mysql_pool_t *p, acio_mysql_t **conn)
{
    if (!p || !conn)
        return -EINVAL;
    *conn = NULL;
    if (p->base.closing)
        return ACIO_ECLOSED;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    void *c = NULL;
    int rc = acio__conn_pool_acquire(&p->base, &c);
    *conn = c;
    return rc;
}

void acio_mysql_pool_release(acio_mysql_pool_t *p, acio_mysql_t *conn)
{
    if (p && conn)
        acio__conn_pool_release(&p->base, conn);
}

size_t acio_mysql_pool_size(const acio_mysql_pool_t *p)
{
    return p ? p->base.size : 0;
}

size_t acio_mysql_pool_freesize(const acio_mysql_pool_t *p)
{
    return p ? p->base.nidle : 0;
}

void acio_mysql_pool_close(acio_mysql_pool_t *p)
{
    if (p)
        acio__conn_pool_close(&p->base);
}
