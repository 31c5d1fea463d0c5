/* The Redis connection pool (aioredis's ConnectionsPool, redis-py's ConnectionPool):
 * at most maxsize connections, minsize opened up front, waiters served first come first
 * served, and a connection whose state is uncertain closed instead of reused.
 *
 * A released connection goes straight to the oldest waiter if there is one; a slot freed
 * by closing a bad connection goes to the oldest waiter as the right to open a new one
 * (its future's result is NULL), so the count never exceeds maxsize and no waiter is
 * passed over. */
#include <stdarg.h>
#include <string.h>

#include "redis_int.h"

typedef struct waiter_s {
    struct waiter_s *next;
    acio_future_t *fut; /* result: a connection, or NULL for "open one" */
} waiter_t;

struct acio_redis_pool_s {
    acio_redis_opts_t opts;
    acio_redis_t *optholder; /* owns the copies of opts' strings (never connected) */
    acio_redis_pool_opts_t popts;
    acio_redis_t **idle;
    size_t nidle;
    size_t size; /* open connections + slots being opened */
    waiter_t *whead, *wtail;
    bool closing;
};

static void pool_maybe_free(acio_redis_pool_t *p)
{
    if (!p->closing || p->size > 0)
        return;
    acio__free(p->idle);
    acio__free(p->optholder->optstore);
    acio__free(p->optholder);
    acio__free(p);
}

/* Hand conn (or a slot, when conn is NULL) to the oldest live waiter. */
static bool hand_to_waiter(acio_redis_pool_t *p, acio_redis_t *conn)
{
    while (p->whead) {
        waiter_t *w = p->whead;
        p->whead = w->next;
        if (!p->whead)
            p->wtail = NULL;
        bool live = !acio_future_done(w->fut);
        if (live)
            acio_future_set_result(w->fut, conn);
        acio_future_unref(w->fut);
        acio__free(w);
        if (live)
            return true;
    }
    return false;
}

static int open_conn(acio_redis_pool_t *p, acio_redis_t **out)
{
    int rc = acio_redis_connect(out, &p->opts);
    if (rc < 0) {
        p->size--;
        /* Our slot is free again: someone waiting may try. */
        if (!p->closing)
            hand_to_waiter(p, NULL);
        pool_maybe_free(p);
        return rc;
    }
    (*out)->pool = p;
    return 0;
}

int acio_redis_pool_new(acio_redis_pool_t **out, const acio_redis_opts_t *opts,
                        const acio_redis_pool_opts_t *popts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio_redis_pool_opts_t d = {.minsize = 1, .maxsize = 10};
    if (popts)
        d = *popts;
    if (d.maxsize == 0 || d.minsize > d.maxsize)
        return -EINVAL;
    acio_redis_pool_t *p = acio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->popts = d;
    p->idle = acio__calloc(d.maxsize, sizeof(*p->idle));
    p->optholder = acio__calloc(1, sizeof(*p->optholder));
    acio_redis_opts_t none = {0};
    if (!p->idle || !p->optholder) {
        acio__free(p->idle);
        acio__free(p->optholder);
        acio__free(p);
        return -ENOMEM;
    }
    /* The connection's option copier, through a holder that never connects. */
    int rc = acio__redis_copy_opts(p->optholder, opts ? opts : &none);
    if (rc < 0) {
        acio__free(p->idle);
        acio__free(p->optholder);
        acio__free(p);
        return rc;
    }
    p->opts = p->optholder->opts;
    for (size_t i = 0; i < d.minsize; i++) {
        acio_redis_t *c;
        p->size++;
        rc = open_conn(p, &c);
        if (rc < 0) {
            acio_redis_pool_close(p);
            return rc;
        }
        p->idle[p->nidle++] = c;
    }
    *out = p;
    return 0;
}

int acio_redis_pool_acquire(acio_redis_pool_t *p, acio_redis_t **conn)
{
    if (!p || !conn)
        return -EINVAL;
    *conn = NULL;
    if (p->closing)
        return ACIO_ECLOSED;
    while (p->nidle > 0) {
        acio_redis_t *c = p->idle[--p->nidle];
        if (acio_redis_is_connected(c)) {
            *conn = c;
            return 0;
        }
        /* Lost while idle: its slot is ours to reopen. */
        c->pool = NULL;
        acio_redis_close(c);
        return open_conn(p, conn);
    }
    if (p->size < p->popts.maxsize) {
        p->size++;
        return open_conn(p, conn);
    }
    waiter_t *w = acio__calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    int rc = acio_future_new(acio_get_running_loop(), &w->fut);
    if (rc < 0) {
        acio__free(w);
        return rc;
    }
    acio_future_t *fut = acio_future_ref(w->fut);
    if (p->wtail)
        p->wtail->next = w;
    else
        p->whead = w;
    p->wtail = w;
    void *result = NULL;
    rc = p->popts.acquire_timeout > 0 ? acio_wait_for(fut, p->popts.acquire_timeout, &result)
                                      : acio_await(fut, &result);
    if (rc < 0) {
        /* A cancellation can reach us after a releaser already handed us a connection or
         * a slot (asyncio's Queue and Lock guard the same race): pass it on, never drop
         * it. Otherwise the future is cancelled or failed and hand_to_waiter skips it. */
        if (acio_future_done(fut) && !acio_future_cancelled(fut) && acio_future_error(fut) == 0 &&
            acio_future_result(fut, &result) == 0) {
            if (result) {
                acio_redis_pool_release(p, result);
            } else if (!hand_to_waiter(p, NULL)) {
                p->size--;
                pool_maybe_free(p);
            }
        }
        acio_future_unref(fut);
        return rc;
    }
    acio_future_unref(fut);
    if (result) {
        *conn = result;
        return 0;
    }
    return open_conn(p, conn); /* we were handed a slot */
}

static bool reusable(const acio_redis_t *c)
{
    return acio_redis_is_connected(c) && !c->subscribed && !c->in_multi && !c->watching &&
           c->npending == 0 && c->msg_head == NULL;
}

void acio_redis_pool_release(acio_redis_pool_t *p, acio_redis_t *conn)
{
    if (!p || !conn)
        return;
    if (!p->closing && reusable(conn)) {
        if (hand_to_waiter(p, conn))
            return;
        p->idle[p->nidle++] = conn;
        return;
    }
    conn->pool = NULL;
    acio_redis_close(conn);
    p->size--;
    if (!p->closing && hand_to_waiter(p, NULL))
        p->size++; /* the waiter opens a connection in that slot */
    pool_maybe_free(p);
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
    return p ? p->size : 0;
}

size_t acio_redis_pool_freesize(const acio_redis_pool_t *p)
{
    return p ? p->nidle : 0;
}

void acio_redis_pool_close(acio_redis_pool_t *p)
{
    if (!p || p->closing)
        return;
    p->closing = true;
    while (p->nidle > 0) {
        acio_redis_t *c = p->idle[--p->nidle];
        c->pool = NULL;
        acio_redis_close(c);
        p->size--;
    }
    while (p->whead) {
        waiter_t *w = p->whead;
        p->whead = w->next;
        if (!acio_future_done(w->fut))
            acio_future_set_error(w->fut, ACIO_ECLOSED, "the Redis pool was closed");
        acio_future_unref(w->fut);
        acio__free(w);
    }
    p->wtail = NULL;
    pool_maybe_free(p);
}
