/* Internal: the connection pool every database client shares (Redis, PostgreSQL and
 * MariaDB): at most max connections, min opened up front,
 * acquirers served first come first served with an optional timeout, released
 * connections reset by the client and handed to the oldest waiter, and a connection that
 * cannot be reset closed instead of reused. The pool knows nothing of the protocol: the
 * client supplies connect / reset / close / alive callbacks and embeds the pool in its
 * own pool object.
 *
 * Slots: size counts open connections plus slots being opened. A slot freed by closing
 * a connection goes to the oldest waiter as the right to open a new one (its future's
 * result is NULL), so the count never exceeds max and nobody is passed over. A waiter
 * cancelled (or timed out) in the same loop iteration it was handed a connection or a
 * slot passes it on instead of dropping it (asyncio's Queue and Lock guard that race). */
#ifndef ACIO_DB_CONN_POOL_H
#define ACIO_DB_CONN_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

typedef struct acio__conn_pool_s acio__conn_pool_t;

typedef struct {
    /* Open a connection into *conn. Coroutine. Returns 0 or a negative code. */
    int (*connect)(acio__conn_pool_t *p, void **conn);
    /* Make a released connection reusable (roll back, reset the session); false if it
     * must be closed. May wait (coroutine) or be NULL (always reusable). Called only
     * while the pool is open. */
    bool (*reset)(acio__conn_pool_t *p, void *conn);
    /* Close and free a connection. */
    void (*close)(acio__conn_pool_t *p, void *conn);
    /* Whether an idle connection is still usable (checked when it is acquired; a
     * client may also retire one idle too long, as MariaDB's recycle does). */
    bool (*alive)(acio__conn_pool_t *p, void *conn);
    /* The pool was closed and its last connection is gone: free the client's object
     * that embeds it. */
    void (*destroy)(acio__conn_pool_t *p);
} acio__conn_pool_ops_t;

typedef struct acio__conn_waiter_s acio__conn_waiter_t;

struct acio__conn_pool_s {
    const acio__conn_pool_ops_t *ops;
    const char *closed_msg; /* the error text waiters get when the pool closes */
    size_t min, max;
    double acquire_timeout; /* <= 0: wait forever */
    void **idle;            /* a stack: the most recently released is reused first */
    size_t nidle;
    size_t size; /* open connections + slots being opened */
    acio__conn_waiter_t *whead, *wtail;
    bool closing;
};

/* Set p up (no connection is opened). Errors: -EINVAL (max 0, min > max), -ENOMEM. */
int acio__conn_pool_init(acio__conn_pool_t *p, const acio__conn_pool_ops_t *ops, size_t min,
                         size_t max, double acquire_timeout, const char *closed_msg);
/* Free what init allocated, for a pool that never opened anything (no destroy call). */
void acio__conn_pool_fini(acio__conn_pool_t *p);
/* Open min connections. Coroutine. On failure the caller closes the pool. */
int acio__conn_pool_fill(acio__conn_pool_t *p);
/* An idle live connection, a new one under max, or wait in line for one. Coroutine.
 * Errors: connect's, -ETIMEDOUT, -ECANCELED, ACIO_ECLOSED, -ENOMEM. */
int acio__conn_pool_acquire(acio__conn_pool_t *p, void **conn);
/* Reset conn (ops->reset) and hand it on or keep it idle; close it if it cannot be
 * reset or the pool is closing. */
void acio__conn_pool_release(acio__conn_pool_t *p, void *conn);
/* Close idle connections and fail waiters with ACIO_ECLOSED; connections still out are
 * closed when released, and destroy runs after the last one. */
void acio__conn_pool_close(acio__conn_pool_t *p);

#endif
