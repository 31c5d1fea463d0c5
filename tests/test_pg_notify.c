/* PostgreSQL LISTEN/NOTIFY against a real server: notifications from another connection
 * in order with channel, payload and sender, those that arrived during a query queued,
 * an awkward channel name, UNLISTEN, timeouts, a cancelled wait that loses nothing,
 * queries refused while waiting, and the backend killed while waiting. */
#include <criterion/criterion.h>
#include <string.h>

#include "acio.h"
#include "internal.h"
#include "support/check.h"
#include "support/pg_server.h"

static pg_server_t srv;

static void start(void)
{
    cr_assert_eq(pg_server_start(&srv), 0, "postgres did not start");
}

static void stop(void)
{
    pg_server_stop(&srv);
}

static int notify(acio_pg_t *c, const char *channel, const char *payload)
{
    const char *args[] = {channel, payload};
    return acio_pg_query(c, "SELECT pg_notify($1, $2)", 2, args, NULL);
}

static void *waiter(void *arg)
{
    acio_pg_t *c = arg;
    acio_pg_notification_t n;
    int rc = acio_pg_notification_next(c, &n, 0);
    acio_pg_notification_release(&n);
    return (void *)(intptr_t)rc;
}

static void *listen_notify(void *arg)
{
    (void)arg;
    acio_pg_t *l, *s;
    CHECK(acio_pg_connect(&l, srv.conninfo, NULL) == 0, "connect: %s", acio_pg_connect_error());
    CHECK(acio_pg_connect(&s, srv.conninfo, NULL) == 0, "connect");
    CHECK(acio_pg_listen(l, "jobs") == 0, "listen: %s", acio_pg_error_message(l));
    CHECK(acio_pg_listen(l, "we\"ird chan") == 0, "listen odd: %s", acio_pg_error_message(l));
    CHECK(acio_pg_listen(l, NULL) == -EINVAL, "NULL channel");
    CHECK(notify(s, "jobs", "one") == 0 && notify(s, "we\"ird chan", "") == 0 &&
              notify(s, "other", "x") == 0 && notify(s, "jobs", "two") == 0,
          "notify: %s", acio_pg_error_message(s));
    acio_pg_notification_t n;
    CHECK(acio_pg_notification_next(l, &n, 5) == 0 && strcmp(n.channel, "jobs") == 0 &&
              strcmp(n.payload, "one") == 0 && n.pid == acio_pg_backend_pid(s),
          "first: %s %s %d", n.channel, n.payload, n.pid);
    acio_pg_notification_release(&n);
    CHECK(acio_pg_notification_next(l, &n, 5) == 0 && strcmp(n.channel, "we\"ird chan") == 0 &&
              strcmp(n.payload, "") == 0,
          "odd channel, no payload");
    acio_pg_notification_release(&n);
    CHECK(acio_pg_notification_next(l, &n, 5) == 0 && strcmp(n.payload, "two") == 0,
          "the unlistened channel is skipped: %s", n.payload);
    acio_pg_notification_release(&n);
    CHECK(acio_pg_notification_next(l, &n, 0.05) == -ETIMEDOUT, "nothing more");

    /* Arriving while the listener runs a query: queued, handed out after. */
    CHECK(notify(s, "jobs", "during") == 0, "notify");
    CHECK(acio_pg_execute(l, "SELECT pg_sleep(0.05)") == 0, "query on the listener");
    CHECK(acio_pg_notification_next(l, &n, 0.01) == 0 && strcmp(n.payload, "during") == 0,
          "queued");
    acio_pg_notification_release(&n);

    /* A waiting task: queries are refused meanwhile; cancelling it loses nothing. */
    acio_task_t *t;
    CHECK(acio_create_task(&t, waiter, l, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(l));
    CHECK(acio_pg_execute(l, "SELECT 1") == ACIO_EPG_BUSY, "busy while waiting");
    acio_task_cancel(t, NULL);
    CHECK(acio_await(t, NULL) == -ECANCELED, "cancelled");
    acio_future_unref(t);
    CHECK(notify(s, "jobs", "after cancel") == 0, "notify");
    CHECK(acio_pg_notification_next(l, &n, 5) == 0 && strcmp(n.payload, "after cancel") == 0,
          "still listening");
    acio_pg_notification_release(&n);
    /* A waiter woken by a notification sent while it waits. */
    CHECK(acio_create_task(&t, waiter, l, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(l));
    CHECK(notify(s, "jobs", "wake") == 0, "notify");
    void *res = NULL;
    CHECK(acio_await(t, &res) == 0 && res == NULL, "woken: %s", acio_err_name((int)(intptr_t)res));
    acio_future_unref(t);

    /* UNLISTEN one, then all. */
    CHECK(acio_pg_unlisten(l, "jobs") == 0, "unlisten");
    CHECK(notify(s, "jobs", "gone") == 0, "notify");
    CHECK(acio_pg_notification_next(l, &n, 0.1) == -ETIMEDOUT, "not listening to jobs");
    CHECK(acio_pg_unlisten(l, NULL) == 0, "unlisten *");
    CHECK(notify(s, "we\"ird chan", "gone") == 0, "notify");
    CHECK(acio_pg_notification_next(l, &n, 0.1) == -ETIMEDOUT, "not listening at all");

    /* The backend killed while waiting. */
    CHECK(acio_pg_listen(l, "jobs") == 0, "listen again");
    CHECK(acio_create_task(&t, waiter, l, NULL) == 0, "task");
    WAIT_UNTIL(acio_pg_is_busy(l));
    CHECK(kill(acio_pg_backend_pid(l), SIGKILL) == 0, "kill");
    CHECK(acio_await(t, &res) == 0 && (int)(intptr_t)res == ACIO_EPG_CONNECTION, "lost: %s",
          acio_err_name((int)(intptr_t)res));
    acio_future_unref(t);
    CHECK(acio_pg_notification_next(l, &n, 0.01) == ACIO_EPG_CONNECTION, "closed");
    acio_pg_close(l);
    acio_pg_close(s);
    return NULL;
}

Test(pg_notify, listen_notify_cancel_and_loss, .init = start, .fini = stop)
{
    run_ok(listen_notify, NULL);
}
