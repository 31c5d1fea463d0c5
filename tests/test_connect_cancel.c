/* create_connection / open_connection over plain TCP at the two moments between the
 * connected socket and the task's return that used to go wrong:
 *
 * - cancelled after the transport was made but before connection_made ran (the
 *   cancellation then lands before the queued connection_made callback) and cancelled
 *   after connection_made ran but before the task resumed. asyncio's create_connection
 *   returns CancelledError in both, closes the transport, and never lets a protocol hear
 *   connection_made after the cancellation; one that heard it before gets its
 *   connection_lost. open_connection's stream must not be used after it was freed (the
 *   _asan build catches that).
 * - the loop closed (acio_loop_close) while the task waits there: the task is discarded
 *   without resuming, and neither its resolver answer nor its transport reference may
 *   leak (the _asan build's leak check).
 *
 * Each moment is reached deterministically by a watcher callback that requeues itself
 * once per loop iteration and looks at what the connecting task waits on. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acio.h"
#include "support/check.h"
#include "support/counting.h"
#include "support/problems.h"
#include "support/fds.h"
#include "support/rc.h"

/* ---- the server: counting_factory (support/counting.h) accepts and drops the bytes ---- */

/* ---- the client's protocol records what it heard, and when ---- */

typedef struct {
    int made, lost;
    bool cancelled;        /* the watcher cancelled the connecting task */
    int made_after_cancel; /* connection_made calls after that */
    int lost_before_made;
} rec_t;

static void c_made(acio_transport_t *t, void *data)
{
    (void)t;
    rec_t *r = data;
    r->made++;
    if (r->cancelled)
        r->made_after_cancel++;
}
static void c_lost(acio_transport_t *t, int error, void *data)
{
    (void)t, (void)error;
    rec_t *r = data;
    r->lost++;
    if (r->made == 0)
        r->lost_before_made++;
}
static const acio_protocol_t client_proto = {
    .connection_made = c_made, .data_received = noop_data_received, .connection_lost = c_lost};

/* ---- the connecting task ---- */

typedef struct {
    bool stream; /* open_connection, else create_connection with client_proto */
    int port;
    rec_t rec;
    int rc;
    bool returned;
} conn_t;

static void *connector(void *arg)
{
    conn_t *c = arg;
    if (c->stream) {
        acio_stream_reader_t *r = NULL;
        acio_stream_writer_t *w = NULL;
        c->rc = acio_open_connection(&r, &w, "127.0.0.1", c->port, 0, NULL);
        if (c->rc == 0) {
            acio_stream_writer_close(w);
            acio_stream_reader_unref(r);
            acio_stream_writer_unref(w);
        }
    } else {
        acio_transport_t *t = NULL;
        c->rc = acio_loop_create_connection(NULL, &t, &client_proto, &c->rec, "127.0.0.1", c->port,
                                            NULL);
        if (c->rc == 0) {
            acio_transport_close(t);
            acio_transport_unref(t);
        }
    }
    c->returned = true;
    return NULL;
}

/* ---- the watcher ---- */

typedef enum {
    CANCEL_BEFORE_MADE, /* waiting for connection_made, which has not run */
    CANCEL_AFTER_MADE,  /* connection_made ran, the task has not resumed yet */
    STOP_LOOP,          /* stop the loop while the task waits for connection_made */
} action_t;

typedef struct {
    acio_loop_t *loop;
    acio_task_t *task;
    rec_t *rec;
    action_t action;
    int rounds;
    bool fired;
} watcher_t;

/* After the resolver ("getaddrinfo") and the connect race ("connect"), the only thing a
 * plain TCP create_connection waits on is connection_made. */
static bool waits_for_made(acio_future_t *f)
{
    if (!f)
        return false;
    const char *l = acio_future_get_label(f);
    return !l || (strcmp(l, "getaddrinfo") != 0 && strcmp(l, "connect") != 0);
}

static void watch(void *arg)
{
    watcher_t *w = arg;
    if (w->fired || acio_future_done(w->task))
        return;
    acio_future_t *f = acio_task_get_waiter(w->task);
    if (waits_for_made(f)) {
        bool made = acio_future_done(f); /* connection_made ran; the task's step is queued */
        if ((w->action == CANCEL_BEFORE_MADE && !made) ||
            (w->action == CANCEL_AFTER_MADE && made)) {
            w->fired = true;
            w->rec->cancelled = true;
            acio_task_cancel(w->task, NULL);
            return;
        }
        if (w->action == STOP_LOOP) {
            w->fired = true;
            acio_loop_stop(w->loop);
            return;
        }
    }
    if (++w->rounds < 100000)
        OK(acio_loop_call_soon(w->loop, watch, w, NULL));
}

/* ---- cancellation ---- */

static int cancel_one(int port, bool stream, action_t action)
{
    acio_loop_t *loop = acio_get_running_loop();
    conn_t c = {.stream = stream, .port = port};
    acio_task_t *task = NULL;
    CHECK_INT(acio_create_task(&task, connector, &c, "connector") == 0, "create_task");
    watcher_t w = {.loop = loop, .task = task, .rec = &c.rec, .action = action};
    CHECK_INT(acio_loop_call_soon(loop, watch, &w, NULL) == 0, "call_soon");
    UNCHECKED(acio_await(task, NULL));
    acio_future_unref(task);
    CHECK_INT(w.fired, "the watcher never saw the task waiting for connection_made");
    CHECK_INT(c.returned, "the connector did not return");
    CHECK_INT(c.rc == -ECANCELED, "%s returned %s, not -ECANCELED",
              stream ? "open_connection" : "create_connection", acio_err_name(c.rc));
    /* Let the aborted transport's callbacks run. */
    for (int i = 0; i < 100 && c.rec.lost < c.rec.made; i++)
        OK(acio_sleep(0));
    if (!stream) {
        CHECK_INT(c.rec.made_after_cancel == 0, "connection_made ran after the cancellation");
        CHECK_INT(c.rec.made == (action == CANCEL_AFTER_MADE), "connection_made ran %d times",
                  c.rec.made);
        /* Heard connection_made: hears connection_lost, once, as in asyncio. */
        CHECK_INT(c.rec.lost == c.rec.made, "connection_lost ran %d times after %d connection_made",
                  c.rec.lost, c.rec.made);
        CHECK_INT(c.rec.lost_before_made == 0, "connection_lost without connection_made");
    }
    return 0;
}

typedef struct {
    bool stream;
    action_t action;
} case_t;

static void *cancel_main(void *arg)
{
    case_t *k = arg;
    acio_server_t *srv = NULL;
    CHECK(acio_loop_create_server(NULL, &srv, counting_factory, NULL, "127.0.0.1", 0, NULL) == 0,
          "create_server");
    if (cancel_one(acio_server_port(srv), k->stream, k->action) < 0) {
        acio_server_free(srv);
        return NULL;
    }
    /* The client was aborted, so the server sees its connection end. */
    for (int i = 0; i < 10000 && acio_server_active_count(srv) > 0; i++)
        OK(acio_sleep(0));
    size_t left = acio_server_active_count(srv);
    acio_server_close(srv);
    acio_server_abort_clients(srv);
    OK(acio_server_wait_closed(srv));
    acio_server_free(srv);
    CHECK(left == 0, "%zu accepted connections still open", left);
    return NULL;
}

static void run_cancel(bool stream, action_t action)
{
    int before = count_fds();
    case_t k = {stream, action};
    char *msg = NULL;
    int rc = acio_run_ex(cancel_main, &k, NULL, &msg);
    char text[256];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    free(msg);
    cr_assert_eq(rc, 0, "main failed: %s: %s", acio_err_name(rc), text);
    cr_assert_eq(count_fds(), before, "fds open before %d, after %d", before, count_fds());
}

Test(connect_cancel, create_connection_cancelled_before_connection_made, .timeout = 60)
{
    run_cancel(false, CANCEL_BEFORE_MADE);
}

Test(connect_cancel, create_connection_cancelled_after_connection_made, .timeout = 60)
{
    run_cancel(false, CANCEL_AFTER_MADE);
}

Test(connect_cancel, open_connection_cancelled_before_connection_made, .timeout = 60)
{
    run_cancel(true, CANCEL_BEFORE_MADE);
}

Test(connect_cancel, open_connection_cancelled_after_connection_made, .timeout = 60)
{
    run_cancel(true, CANCEL_AFTER_MADE);
}

/* ---- the loop closed under a task waiting for connection_made ---- */

typedef struct {
    conn_t conn;
    watcher_t w;
    acio_server_t *srv;
    acio_task_t *task;
    int setup_rc;
} close_ctx_t;

static void *close_setup(void *arg)
{
    close_ctx_t *x = arg;
    acio_loop_t *loop = acio_get_running_loop();
    x->setup_rc =
        acio_loop_create_server(loop, &x->srv, counting_factory, NULL, "127.0.0.1", 0, NULL);
    if (x->setup_rc < 0) {
        acio_loop_stop(loop);
        return NULL;
    }
    x->conn.port = acio_server_port(x->srv);
    if ((x->setup_rc = acio_create_task(&x->task, connector, &x->conn, "connector")) < 0) {
        acio_loop_stop(loop);
        return NULL;
    }
    x->w = (watcher_t){.loop = loop, .task = x->task, .rec = &x->conn.rec, .action = STOP_LOOP};
    x->setup_rc = acio_loop_call_soon(loop, watch, &x->w, NULL);
    return NULL;
}

static void close_while_waiting(bool stream)
{
    int before = count_fds();
    problems_setup();
    problems_expect("destroyed but it is pending"); /* the connector, discarded */
    acio_loop_t *loop = NULL;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_loop_set_exception_handler(loop, on_problem, NULL);
    close_ctx_t x = {.conn = {.stream = stream}};
    acio_task_t *setup = NULL;
    cr_assert_eq(acio_loop_create_task(loop, &setup, close_setup, &x, NULL), 0);
    cr_assert_eq(acio_loop_run_forever(loop), 0);
    cr_assert_eq(x.setup_rc, 0, "setup: %s", acio_err_name(x.setup_rc));
    cr_assert(x.w.fired, "the watcher never saw the task waiting for connection_made");
    cr_assert(!x.conn.returned, "the connector returned");
    cr_assert_eq(acio_loop_close(loop), 0);
    /* The close aborts the transport without telling its protocol. */
    cr_assert_eq(x.conn.rec.lost, 0);
    cr_assert_geq(problems_expected, 1, "the pending connector was not reported");
    cr_assert_eq(problems, 0, "the loop reported %d other problems", problems);
    acio_future_unref(x.task);
    acio_future_unref(setup);
    acio_server_free(x.srv);
    cr_assert_eq(count_fds(), before, "fds open before %d, after %d", before, count_fds());
    /* What would leak (the resolver's answer, the transport, the stream) the _asan build's
     * leak check reports when this process exits. */
}

Test(connect_cancel, loop_closed_while_create_connection_waits, .timeout = 60)
{
    close_while_waiting(false);
}

Test(connect_cancel, loop_closed_while_open_connection_waits, .timeout = 60)
{
    close_while_waiting(true);
}
