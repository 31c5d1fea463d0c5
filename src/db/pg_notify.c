/* PostgreSQL LISTEN/NOTIFY (acio/pg.h): asyncpg's add_listener as a pull loop, like
 * acio's Redis pub/sub. LISTEN and UNLISTEN are statements with the channel quoted by
 * libpq; libpq queues every notification it reads, during queries too, and
 * acio_pg_notification_next hands them out in order, waiting on the socket when none is
 * queued. Nothing is in flight while it waits, so cancelling it leaves the connection
 * as it was. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pg_int.h"

static int listen_cmd(acio_pg_t *c, const char *verb, const char *channel)
{
    int rc = acio__pg_begin(c);
    if (rc < 0)
        return rc;
    if (!channel) {
        if (strcmp(verb, "UNLISTEN") != 0)
            return -EINVAL;
        return acio_pg_execute(c, "UNLISTEN *");
    }
    char *id = PQescapeIdentifier(c->conn, channel, strlen(channel));
    if (!id)
        return -ENOMEM;
    size_t n = strlen(verb) + strlen(id) + 2;
    char *sql = acio__malloc(n);
    if (!sql) {
        PQfreemem(id);
        return -ENOMEM;
    }
    snprintf(sql, n, "%s %s", verb, id);
    PQfreemem(id);
    rc = acio_pg_execute(c, sql);
    acio__free(sql);
    return rc;
}

int acio_pg_listen(acio_pg_t *c, const char *channel)
{
    return channel ? listen_cmd(c, "LISTEN", channel) : -EINVAL;
}

int acio_pg_unlisten(acio_pg_t *c, const char *channel)
{
    return listen_cmd(c, "UNLISTEN", channel);
}

static void give(PGnotify *n, acio_pg_notification_t *out)
{
    out->channel = n->relname;
    out->payload = n->extra ? n->extra : "";
    out->pid = n->be_pid;
    out->owner = n;
}

int acio_pg_notification_next(acio_pg_t *c, acio_pg_notification_t *out, double timeout)
{
    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    int rc = acio__pg_begin(c);
    if (rc < 0)
        return rc;
    PGnotify *n = PQnotifies(c->conn);
    if (n) {
        give(n, out);
        return 0;
    }
    double deadline = timeout > 0 ? acio_loop_time(c->loop) + timeout : 0;
    c->busy = true; /* one reader on the socket: queries meanwhile get ACIO_EPG_BUSY */
    for (;;) {
        rc = acio__pg_wait(c, true, false, deadline);
        if (rc < 0)
            break;
        if (!PQconsumeInput(c->conn) || PQstatus(c->conn) == CONNECTION_BAD) {
            acio__pg_lose(c);
            rc = ACIO_EPG_CONNECTION;
            break;
        }
        /* Anything else the server sends now (a notice, a parameter status) is consumed
         * by libpq; only notifications are queued for us. */
        n = PQnotifies(c->conn);
        if (n) {
            give(n, out);
            break;
        }
    }
    c->busy = false;
    return rc;
}

void acio_pg_notification_release(acio_pg_notification_t *n)
{
    if (!n)
        return;
    PQfreemem(n->owner);
    memset(n, 0, sizeof(*n));
}
