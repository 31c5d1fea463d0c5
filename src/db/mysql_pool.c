/* The MariaDB/MySQL connection pool (aiomysql's Pool): at most maxsize connections,
 * minsize opened up front, waiters served first come first served, a connection idle
 * for longer than `recycle` replaced when acquired, and every released connection reset
 * (ROLLBACK if in a transaction; COM_RESET_CONNECTION when asked) before anyone else gets
 * it; one that is lost, busy or cannot be reset is closed instead.
 *
 * The protocol-specific part is four small functions (connect, reset, alive, close) in
 * the shape of the shared internal pool the PostgreSQL and Redis clients are moving to
 * (acio__conn_pool); the slot and waiter logic below is the same as theirs and moves
 * onto it unchanged in behaviour: a released connection goes straight to the oldest
 * waiter; a slot freed by closing a connection goes to the oldest waiter as the right
 * to open a new one (its future's result is NULL), so the count never exceeds maxsize
 * and no waiter is passed over; a waiter cancelled in the same iteration it was handed
 * either passes it on. */
#include <errno.h>
#include <string.h>

#include "mysql_int.h"

typedef struct waiter_s {
    struct waiter_s *next;
    acio_future_t *fut; /* result: a connection, or NULL for "open one" */
} waiter_t;

struct acio_mysql_pool_s {
    acio__mysql_conf_t conf;
    acio_mysql_opts_t opts;
    acio_mysql_pool_opts_t popts;
    acio_mysql_t **idle;
    size_t nidle;
    size_t size; /* open connections + slots being opened */
    waiter_t *whead, *wtail;
    bool closing;
};

/* ---- the MariaDB-specific part ---- */

static int pool_connect(acio_mysql_pool_t *p, acio_mysql_t **out)
{
    acio_mysql_config_t cfg = p->conf.cfg;
    return acio_mysql_connect(out, &cfg, &p->opts);
}

/* Usable as it is when acquired: connected, and not idle past recycle. */
static bool pool_alive(acio_mysql_pool_t *p, acio_mysql_t *c)
{
    if (!acio_mysql_is_connected(c))
        return false;
    return p->popts.recycle <= 0 || acio_loop_time(c->loop) - c->last_used <= p->popts.recycle;
}

/* ROLLBACK if needed, then COM_RESET_CONNECTION if asked; false if the connection must
 * go. */
static bool pool_reset(acio_mysql_pool_t *p, acio_mysql_t *c)
{
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

/* ---- slots and waiters ---- */

static void pool_maybe_free(acio_mysql_pool_t *p)
{
    if (!p->closing || p->size > 0)
        return;
    acio__free(p->idle);
    acio__mysql_conf_free(&p->conf);
    acio__free(p);
}

/* Hand conn (or a slot, when conn is NULL) to the oldest live waiter. */
static bool hand_to_waiter(acio_mysql_pool_t *p, acio_mysql_t *conn)
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
static void free_slot(acio_mysql_pool_t *p)
{
    if (!p->closing && hand_to_waiter(p, NULL))
        return; /* the waiter opens a connection in that slot */
    p->size--;
    pool_maybe_free(p);
}

/* Open a connection in a slot already counted in size. */
static int open_conn(acio_mysql_pool_t *p, acio_mysql_t **out)
{
    int rc = pool_connect(p, out);
    if (rc < 0)
        free_slot(p);
    return rc;
}

static int pool_new(acio_mysql_pool_t **out, const acio__mysql_conf_t *conf,
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
    p->popts = d;
    if (opts)
        p->opts = *opts;
    p->idle = acio__calloc(d.maxsize, sizeof(*p->idle));
    if (!p->idle || acio__mysql_conf_copy(&p->conf, &conf->cfg) < 0) {
        p->closing = true;
        pool_maybe_free(p);
        return -ENOMEM;
    }
    for (size_t i = 0; i < d.minsize; i++) {
        acio_mysql_t *c;
        p->size++;
        int rc = open_conn(p, &c);
        if (rc < 0) {
            acio_mysql_pool_close(p);
            return rc;
        }
        p->idle[p->nidle++] = c;
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
    acio__mysql_conf_t conf = {.cfg = cfg ? *cfg : (acio_mysql_config_t){0}};
    return pool_new(out, &conf, opts, popts);
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
    rc = pool_new(out, &conf, opts, popts);
    acio__mysql_conf_free(&conf);
    return rc;
}

int acio_mysql_pool_acquire(acio_mysql_pool_t *p, acio_mysql_t **conn)
{
    if (!p || !conn)
        return -EINVAL;
    *conn = NULL;
    if (p->closing)
        return ACIO_ECLOSED;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (p->nidle > 0) {
        acio_mysql_t *c = p->idle[--p->nidle];
        if (pool_alive(p, c)) {
            *conn = c;
            return 0;
        }
        /* Lost or past recycle while idle: its slot is ours to reopen. */
        acio_mysql_close(c);
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
        /* Cancelled (or timed out) after a releaser already handed us a connection or a
         * slot in this iteration: pass it on, never drop it. */
        if (acio_future_done(fut) && !acio_future_cancelled(fut) && acio_future_error(fut) == 0 &&
            acio_future_result(fut, &result) == 0) {
            if (result) {
                if (p->closing) {
                    acio_mysql_close(result);
                    p->size--;
                    pool_maybe_free(p);
                } else if (!hand_to_waiter(p, result)) {
                    p->idle[p->nidle++] = result;
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

void acio_mysql_pool_release(acio_mysql_pool_t *p, acio_mysql_t *conn)
{
    if (!p || !conn)
        return;
    if (!p->closing && pool_reset(p, conn) && !p->closing) {
        if (hand_to_waiter(p, conn))
            return;
        p->idle[p->nidle++] = conn;
        return;
    }
    acio_mysql_close(conn);
    free_slot(p);
}

size_t acio_mysql_pool_size(const acio_mysql_pool_t *p)
{
    return p ? p->size : 0;
}

size_t acio_mysql_pool_freesize(const acio_mysql_pool_t *p)
{
    return p ? p->nidle : 0;
}

void acio_mysql_pool_close(acio_mysql_pool_t *p)
{
    if (!p || p->closing)
        return;
    p->closing = true;
    while (p->nidle > 0) {
        acio_mysql_close(p->idle[--p->nidle]);
        p->size--;
    }
    while (p->whead) {
        waiter_t *w = p->whead;
        p->whead = w->next;
        if (!acio_future_done(w->fut))
            acio_future_set_error(w->fut, ACIO_ECLOSED, "the MariaDB/MySQL pool was closed");
        acio_future_unref(w->fut);
        acio__free(w);
    }
    p->wtail = NULL;
    pool_maybe_free(p);
}
