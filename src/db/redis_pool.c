/* The Redis connection pool (aioredis's ConnectionsPool, redis-py's ConnectionPool) on
 * the shared pool (conn_pool.h): at most maxsize connections, minsize opened up front,
 * waiters served first come first served, and a connection whose state is uncertain
 * (subscribed, in MULTI or WATCH, replies pending) closed instead of reused. */
#include <stdarg.h>
#include <string.h>

#include "conn_pool.h"
#include "redis_int.h"

struct acio_redis_pool_s {
    acio__conn_pool_t base;
    acio_redis_opts_t opts;
    acio_redis_t *optholder; /* owns the copies of opts' strings (never connected) */
};

#define POOL(b) acio_container_of(b, acio_redis_pool_t, base)

static int pool_connect(acio__conn_pool_t *b, void **out)
{
    acio_redis_pool_t *p = POOL(b);
    acio_redis_t *c = NULL;
    int rc = acio_redis_connect(&c, &p->opts);
    if (rc == 0)
        c->pool = p;
    *out = c;
    return rc;
}

/* Nothing to send: a connection whose state is uncertain is closed, never reused. */
static bool pool_reusable(acio__conn_pool_t *b, void *conn)
{
    (void)b;
    const acio_redis_t *c = conn;
    return acio_redis_is_connected(c) && !c->subscribed && !c->in_multi && !c->watching &&
           c->npending == 0 && c->msg_head == NULL;
}

static void pool_close_conn(acio__conn_pool_t *b, void *conn)
{
    (void)b;
    acio_redis_t *c = conn;
    c->pool = NULL;
    acio_redis_close(c);
}

static bool pool_alive(acio__conn_pool_t *b, void *conn)
{
    (void)b;
    return acio_redis_is_connected(conn);
}

static void pool_destroy(acio__conn_pool_t *b)
{
    acio_redis_pool_t *p = POOL(b);
    acio__free(p->optholder->optstore);
    acio__free(p->optholder);
    acio__free(p);
}

static const acio__conn_pool_ops_t redis_pool_ops = {
    .connect = pool_connect,
    .reset = pool_reusable,
    .close = pool_close_conn,
    .alive = pool_alive,
    .destroy = pool_destroy,
};

int acio_redis_pool_new(acio_redis_pool_t **out, const acio_redis_opts_t *opts,
                        const acio_redis_pool_opts_t *popts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio_redis_pool_opts_t d = {.minsize = 1, .maxsize = 10};
    if (popts)
        d = *popts;
    acio_redis_pool_t *p = acio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    int rc = acio__conn_pool_init(&p->base, &redis_pool_ops, d.minsize, d.maxsize,
                                  d.acquire_timeout, "the Redis pool was closed");
    if (rc == 0) {
        p->optholder = acio__calloc(1, sizeof(*p->optholder));
        rc = p->optholder ? 0 : -ENOMEM;
    }
    /* The connection's option copier, through a holder that never connects. */
    acio_redis_opts_t none = {0};
    if (rc == 0)
        rc = acio__redis_copy_opts(p->optholder, opts ? opts : &none);
    if (rc < 0) {
        acio__conn_pool_fini(&p->base);
        if (p->optholder)
            acio__free(p->optholder->optstore);
        acio__free(p->optholder);
        acio__free(p);
        return rc;
    }
    p->opts = p->optholder->opts;
    rc = acio__conn_pool_fill(&p->base);
    if (rc < 0) {
        acio__conn_pool_close(&p->base);
        return rc;
    }
    *out = p;
    return 0;
}

int acio_redis_pool_acquire(acio_redis_pool_t *p, acio_redis_t **conn)
{
    if (!p || !conn)
        return -EINVAL;
    void *c = NULL;
    int rc = acio__conn_pool_acquire(&p->base, &c);
    *conn = c;
    return rc;
}

void acio_redis_pool_release(acio_redis_pool_t *p, acio_redis_t *conn)
{
    if (p && conn)
        acio__conn_pool_release(&p->base, conn);
}

int acio_redis_pool_command(acio_redis_pool_t *p, acio_redis_reply_t **reply, ...)
{
    const char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, reply);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        if (argc == 64) {
            va_end(ap);
            return -E2BIG;
        }
        argv[argc++] = a;
    }
    va_end(ap);
    acio_redis_t *c;
    int rc = acio_redis_pool_acquire(p, &c);
    if (rc < 0)
        return rc;
    rc = acio_redis_command_argv(c, reply, argc, argv, NULL);
    acio_redis_pool_release(p, c);
    return rc;
}

size_t acio_redis_pool_size(const acio_redis_pool_t *p)
{
    return p ? p->base.size : 0;
}

size_t acio_redis_pool_freesize(const acio_redis_pool_t *p)
{
    return p ? p->base.nidle : 0;
}

void acio_redis_pool_close(acio_redis_pool_t *p)
{
    if (p)
        acio__conn_pool_close(&p->base);
}
