/* The database clients' shared connection pool (conn_pool.h): the waiter line, the
 * hand-off of released connections and freed slots, and closing. */
#include "conn_pool.h"

#include <errno.h>

struct acio__conn_waiter_s {
    acio__conn_waiter_t *next;
    acio_future_t *fut; /* result: a connection, or NULL for "open one" */
};

int acio__conn_pool_init(acio__conn_pool_t *p, const acio__conn_pool_ops_t *ops, size_t min,
                         size_t max, double acquire_timeout, const char *closed_msg)
{
    if (max == 0 || min > max)
        return -EINVAL;
    *p = (acio__conn_pool_t){.ops = ops,
                             .closed_msg = closed_msg,
                             .min = min,
                             .max = max,
                             .acquire_timeout = acquire_timeout};
    p->idle = acio__calloc(max, sizeof(*p->idle));
    return p->idle ? 0 : -ENOMEM;
}

void acio__conn_pool_fini(acio__conn_pool_t *p)
{
    acio__free(p->idle);
    p->idle = NULL;
}

static void maybe_destroy(acio__conn_pool_t *p)
{
    if (!p->closing || p->size > 0)
        return;
    acio__conn_pool_fini(p);
    p->ops->destroy(p);
}

/* Hand conn (or a slot, when conn is NULL) to the oldest live waiter. */
static bool hand_to_waiter(acio__conn_pool_t *p, void *conn)
{
    while (p->whead) {
        acio__conn_waiter_t *w = p->whead;
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

/* A slot is gone: give it to a waiter (who opens a connection in it), or shrink. */
static void free_slot(acio__conn_pool_t *p)
{
    if (!p->closing && hand_to_waiter(p, NULL))
        return;
    p->size--;
    maybe_destroy(p);
}

/* A connection that is already reset: to the oldest waiter, else idle. */
static void put_back(acio__conn_pool_t *p, void *conn)
{
    if (p->closing) {
        p->ops->close(p, conn);
        p->size--;
        maybe_destroy(p);
    } else if (!hand_to_waiter(p, conn)) {
        p->idle[p->nidle++] = conn;
    }
}

/* Open a connection in a slot already counted in size. */
static int open_conn(acio__conn_pool_t *p, void **out)
{
    int rc = p->ops->connect(p, out);
    if (rc < 0) {
        *out = NULL;
        free_slot(p);
    }
    return rc;
}

int acio__conn_pool_fill(acio__conn_pool_t *p)
{
    while (p->size < p->min) {
        void *c;
        p->size++;
        int rc = open_conn(p, &c);
        if (rc < 0)
            return rc;
        p->idle[p->nidle++] = c;
    }
    return 0;
}

int acio__conn_pool_acquire(acio__conn_pool_t *p, void **conn)
{
    *conn = NULL;
    if (p->closing)
        return ACIO_ECLOSED;
    if (p->nidle > 0) {
        void *c = p->idle[--p->nidle];
        if (p->ops->alive(p, c)) {
            *conn = c;
            return 0;
        }
        /* Lost (or retired) while idle: its slot is ours to reopen. */
        p->ops->close(p, c);
        return open_conn(p, conn);
    }
    if (p->size < p->max) {
        p->size++;
        return open_conn(p, conn);
    }
    acio__conn_waiter_t *w = acio__calloc(1, sizeof(*w));
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
    rc = p->acquire_timeout > 0 ? acio_wait_for(fut, p->acquire_timeout, &result)
                                : acio_await(fut, &result);
    if (rc < 0) {
        /* Cancelled or timed out after a releaser already handed us a connection or a
         * slot in this iteration: pass it on, never drop it. Otherwise the future is
         * cancelled or failed and hand_to_waiter skips it. */
        if (acio_future_done(fut) && !acio_future_cancelled(fut) && acio_future_error(fut) == 0 &&
            acio_future_result(fut, &result) == 0) {
            if (result)
                put_back(p, result);
            else
                free_slot(p);
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

void acio__conn_pool_release(acio__conn_pool_t *p, void *conn)
{
    /* reset may wait, and the pool may start closing meanwhile: look again after it. */
    if (!p->closing && (!p->ops->reset || p->ops->reset(p, conn)) && !p->closing) {
        put_back(p, conn);
        return;
    }
    p->ops->close(p, conn);
    free_slot(p);
}

void acio__conn_pool_close(acio__conn_pool_t *p)
{
    if (p->closing)
        return;
    p->closing = true;
    while (p->nidle > 0) {
        p->ops->close(p, p->idle[--p->nidle]);
        p->size--;
    }
    while (p->whead) {
        acio__conn_waiter_t *w = p->whead;
        p->whead = w->next;
        if (!acio_future_done(w->fut))
            acio_future_set_error(w->fut, ACIO_ECLOSED, "%s", p->closed_msg);
        acio_future_unref(w->fut);
        acio__free(w);
    }
    p->wtail = NULL;
    maybe_destroy(p);
}
