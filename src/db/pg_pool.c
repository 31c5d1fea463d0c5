/* The PostgreSQL connection pool (asyncpg's Pool) on the shared pool (conn_pool.h):
 * this file supplies how to open, reset and close a PostgreSQL connection. Every
 * released connection is reset (ROLLBACK if in a transaction, then the reset query)
 * before anyone else gets it; one that is lost or cannot be reset is closed instead. */
#include <errno.h>
#include <string.h>

#include "conn_pool.h"
#include "pg_int.h"

struct acio_pg_pool_s {
    acio__conn_pool_t base;
    char *conninfo;
    char *reset_query;             /* NULL: none */
    bool reset_forgets_statements; /* it drops prepared statements (DISCARD, DEALLOCATE) */
    acio_pg_opts_t opts;
};

#define POOL(b) acio_container_of(b, acio_pg_pool_t, base)

static int pool_connect(acio__conn_pool_t *b, void **out)
{
    acio_pg_pool_t *p = POOL(b);
    acio_pg_t *c = NULL;
    int rc = acio_pg_connect(&c, p->conninfo, &p->opts);
    *out = c;
    return rc;
}

/* ROLLBACK if needed, then the reset query; false if the connection must go. */
static bool pool_reset(acio__conn_pool_t *b, void *conn)
{
    acio_pg_pool_t *p = POOL(b);
    acio_pg_t *c = conn;
    if (!acio_pg_is_connected(c) || acio_pg_is_busy(c) || !acio_current_task())
        return false;
    if (acio_pg_in_transaction(c) && acio_pg_execute(c, "ROLLBACK") != 0)
        return false;
    if (p->reset_query) {
        if (acio_pg_execute(c, p->reset_query) != 0)
            return false;
        if (p->reset_forgets_statements)
            acio__pg_stmt_cache_clear(c);
    }
    return acio_pg_is_connected(c) && !acio_pg_in_transaction(c);
}

static void pool_close_conn(acio__conn_pool_t *b, void *conn)
{
    (void)b;
    acio_pg_close(conn);
}

static bool pool_alive(acio__conn_pool_t *b, void *conn)
{
    (void)b;
    return acio_pg_is_connected(conn);
}

static void pool_destroy(acio__conn_pool_t *b)
{
    acio_pg_pool_t *p = POOL(b);
    acio__free(p->conninfo);
    acio__free(p->reset_query);
    acio__free(p);
}

static const acio__conn_pool_ops_t pg_pool_ops = {
    .connect = pool_connect,
    .reset = pool_reset,
    .close = pool_close_conn,
    .alive = pool_alive,
    .destroy = pool_destroy,
};

/* asyncpg's reset, which keeps prepared statements (DISCARD ALL would drop them, and
 * with them the statement cache's worth). */
#define DEFAULT_RESET "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL"

int acio_pg_pool_new(acio_pg_pool_t **out, const char *conninfo, const acio_pg_opts_t *opts,
                     const acio_pg_pool_opts_t *popts)
{
    if (!out || !conninfo)
        return -EINVAL;
    *out = NULL;
    acio_pg_pool_opts_t d = {.min_size = 1, .max_size = 10};
    if (popts)
        d = *popts;
    acio_pg_pool_t *p = acio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    int rc = acio__conn_pool_init(&p->base, &pg_pool_ops, d.min_size, d.max_size, d.acquire_timeout,
                                  "the PostgreSQL pool was closed");
    if (rc < 0) {
        acio__free(p);
        return rc;
    }
    if (opts)
        p->opts = *opts;
    const char *reset = d.reset_query ? d.reset_query : DEFAULT_RESET;
    p->conninfo = acio__strdup(conninfo);
    p->reset_query = reset[0] ? acio__strdup(reset) : NULL;
    p->reset_forgets_statements = acio__pg_drops_statements(reset, true);
    if (!p->conninfo || (reset[0] && !p->reset_query)) {
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

int acio_pg_pool_acquire(acio_pg_pool_t *p, acio_pg_t **conn)
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

void acio_pg_pool_release(acio_pg_pool_t *p, acio_pg_t *conn)
{
    if (p && conn)
        acio__conn_pool_release(&p->base, conn);
}

size_t acio_pg_pool_size(const acio_pg_pool_t *p)
{
    return p ? p->base.size : 0;
}

size_t acio_pg_pool_freesize(const acio_pg_pool_t *p)
{
    return p ? p->base.nidle : 0;
}

void acio_pg_pool_close(acio_pg_pool_t *p)
{
    if (p)
        acio__conn_pool_close(&p->base);
}
