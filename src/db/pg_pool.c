/* The PostgreSQL connection pool (asyncpg's Pool): at most max_size connections,
 * min_size opened up front, waiters served first come first served, and every released
 * connection reset (ROLLBACK if in a transaction, then the reset query) before anyone
 * else gets it; one that is lost or cannot be reset is closed instead.
 *
 * A released connection goes straight to the oldest waiter if there is one; a slot freed
 * by closing a connection goes to the oldest waiter as the right to open a new one (its
 * future's result is NULL), so the count never exceeds max_size and no waiter is passed
 * over. A waiter cancelled in the same iteration it was handed either passes it on. */
#include <errno.h>
#include <string.h>

#include "pg_int.h"

typedef struct waiter_s {
    struct waiter_s *next;
    acio_future_t *fut; /* result: a connection, or NULL for "open one" */
} waiter_t;

struct acio_pg_pool_s {
    char *conninfo;
    char *reset_query; /* NULL: none */
    acio_pg_opts_t opts;
    acio_pg_pool_opts_t popts;
    acio_pg_t **idle;
    size_t nidle;
    size_t size; /* open connections + slots being opened */
    waiter_t *whead, *wtail;
    bool closing;
};

static void pool_maybe_free(acio_pg_pool_t *p)
{
    if (!p->closing || p->size > 0)
        return;
    acio__free(p->idle);
    acio__free(p->conninfo);
    acio__free(p->reset_query);
    acio__free(p);
}

/* Hand conn (or a slot, when conn is NULL) to the oldest live waiter. */
static bool hand_to_waiter(acio_pg_pool_t *p, acio_pg_t *conn)
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

/* A slot is gone: give it to a waiter, or shrink. */
static void free_slot(acio_pg_pool_t *p)
{
    if (!p->closing && hand_to_waiter(p, NULL))
        return; /* the waiter opens a connection in that slot */
    p->size--;
    pool_maybe_free(p);
}

/* Open a connection in a slot already counted in size. */
static int open_conn(acio_pg_pool_t *p, acio_pg_t **out)
{
    int rc = acio_pg_connect(out, p->conninfo, &p->opts);
    if (rc < 0)
        free_slot(p);
    return rc;
}

int acio_pg_pool_new(acio_pg_pool_t **out, const char *conninfo, const acio_pg_opts_t *opts,
                     const acio_pg_pool_opts_t *popts)
{
    if (!out || !conninfo)
        return -EINVAL;
    *out = NULL;
    acio_pg_pool_opts_t d = {.min_size = 1, .max_size = 10};
    if (popts)
        d = *popts;
    if (d.max_size == 0 || d.min_size > d.max_size)
        return -EINVAL;
    acio_pg_pool_t *p = acio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->popts = d;
    if (opts)
        p->opts = *opts;
    const char *reset = d.reset_query ? d.reset_query : "DISCARD ALL";
    p->idle = acio__calloc(d.max_size, sizeof(*p->idle));
    p->conninfo = acio__strdup(conninfo);
    p->reset_query = reset[0] ? acio__strdup(reset) : NULL;
    if (!p->idle || !p->conninfo || (reset[0] && !p->reset_query)) {
        p->closing = true;
        pool_maybe_free(p);
        return -ENOMEM;
    }
    p->popts.reset_query = NULL; /* the caller's string; ours is p->reset_query */
    for (size_t i = 0; i < d.min_size; i++) {
        acio_pg_t *c;
        p->size++;
        int rc = open_conn(p, &c);
        if (rc < 0) {
            acio_pg_pool_close(p);
            return rc;
        }
        p->idle[p->nidle++] = c;
    }
    *out = p;
    return 0;
}

int acio_pg_pool_acquire(acio_pg_pool_t *p, acio_pg_t **conn)
{
    if (!p || !conn)
        return -EINVAL;
    *conn = NULL;
    if (p->closing)
        return ACIO_ECLOSED;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    while (p->nidle > 0) {
        acio_pg_t *c = p->idle[--p->nidle];
        if (acio_pg_is_connected(c)) {
            *conn = c;
            return 0;
        }
        /* Lost while idle: its slot is ours to reopen. */
        acio_pg_close(c);
        return open_conn(p, conn);
    }
    if (p->size < p->popts.max_size) {
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
        /* Cancelled (or timed out) after a releaser already handed us a connection or a
         * slot in this iteration: pass it on, never drop it. */
        if (acio_future_done(fut) && !acio_future_cancelled(fut) && acio_future_error(fut) == 0 &&
            acio_future_result(fut, &result) == 0) {
            if (result) {
                if (p->closing || !hand_to_waiter(p, result)) {
                    if (p->closing) {
                        acio_pg_close(result);
                        p->size--;
                        pool_maybe_free(p);
                    } else {
                        p->idle[p->nidle++] = result;
                    }
                }
            } else {
                free_slot(p);
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

/* ROLLBACK if needed, then the reset query; false if the connection must go. */
static bool reset(acio_pg_pool_t *p, acio_pg_t *c)
{
    if (!acio_pg_is_connected(c) || acio_pg_is_busy(c) || !acio_current_task())
        return false;
    if (acio_pg_in_transaction(c) && acio_pg_execute(c, "ROLLBACK") != 0)
        return false;
    if (p->reset_query && acio_pg_execute(c, p->reset_query) != 0)
        return false;
    return acio_pg_is_connected(c) && !acio_pg_in_transaction(c);
}

void acio_pg_pool_release(acio_pg_pool_t *p, acio_pg_t *conn)
{
    if (!p || !conn)
        return;
    if (!p->closing && reset(p, conn) && !p->closing) {
        if (hand_to_waiter(p, conn))
            return;
        p->idle[p->nidle++] = conn;
        return;
    }
    acio_pg_close(conn);
    free_slot(p);
}

size_t acio_pg_pool_size(const acio_pg_pool_t *p)
{
    return p ? p->size : 0;
}

size_t acio_pg_pool_freesize(const acio_pg_pool_t *p)
{
    return p ? p->nidle : 0;
}

void acio_pg_pool_close(acio_pg_pool_t *p)
{
    if (!p || p->closing)
        return;
    p->closing = true;
    while (p->nidle > 0) {
        acio_pg_close(p->idle[--p->nidle]);
        p->size--;
    }
    while (p->whead) {
        waiter_t *w = p->whead;
        p->whead = w->next;
        if (!acio_future_done(w->fut))
            acio_future_set_error(w->fut, ACIO_ECLOSED, "the PostgreSQL pool was closed");
        acio_future_unref(w->fut);
        acio__free(w);
    }
    p->wtail = NULL;
    pool_maybe_free(p);
}
