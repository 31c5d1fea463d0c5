/* Unit tests for the queues (include/acio/queue.h): FIFO, LIFO and priority order,
 * bounds, the nowait errors, waiting getters and putters in FIFO order, task_done and
 * join, Python 3.13's shutdown, cancellation of getters and putters (pending, and after
 * being woken: the item or slot must go to the next waiter), and storage growth and
 * wrap-around. */
#include <criterion/criterion.h>

#include "diff_sync/trace.h"
#include "support/rc.h"

/* A lost wake-up shows as a hang: fail it after a generous bound instead. */
TestSuite(queue, .timeout = 60);

#define I(x) ((void *)(intptr_t)(x))
#define V(p) ((int)(intptr_t)(p))

static acio_queue_t *Q;

Test(queue, fifo_lifo_priority_order)
{
    void *v;
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(acio_queue_put_nowait(Q, I(i)), 0);
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
        cr_assert_eq(V(v), i);
    }
    cr_assert_eq(acio_queue_put_priority_nowait(Q, I(1), 5), -EINVAL, "not a PriorityQueue");
    cr_assert_eq(acio_queue_free(Q), 0);

    cr_assert_eq(acio_lifo_queue_new(&Q, 0), 0);
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(acio_queue_put_nowait(Q, I(i)), 0);
    for (int i = 3; i >= 1; i--) {
        cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
        cr_assert_eq(V(v), i);
    }
    cr_assert_eq(acio_queue_free(Q), 0);

    cr_assert_eq(acio_priority_queue_new(&Q, 0, NULL, NULL), 0);
    int prios[] = {5, 1, 4, 1, 3, 9, 2, 6};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(acio_queue_put_priority_nowait(Q, I(i), prios[i]), 0);
    /* Lowest priority first; the two 1s come out in the order they went in. */
    int want[] = {1, 3, 6, 4, 2, 0, 7, 5};
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
        cr_assert_eq(V(v), want[i], "get #%d: %d, want %d", i, V(v), want[i]);
    }
    cr_assert_eq(acio_queue_free(Q), 0);
}

/* `prio, item = await q.get()`: get_priority hands back the entry's priority. */
static void *prio_getter(void *arg)
{
    int64_t *got = arg;
    void *v = NULL;
    int rc = acio_queue_get_priority(Q, &v, &got[0]);
    got[1] = rc == 0 ? V(v) : rc;
    return NULL;
}

static void *prio_main(void *arg)
{
    (void)arg;
    int64_t got[2] = {0, 0};
    acio_task_t *t;
    OK(acio_create_task(&t, prio_getter, got, "getter"));
    OK(acio_sleep(0)); /* the getter now waits on the empty queue */
    OK(acio_queue_put_priority(Q, I(42), 7));
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    cr_assert_eq(got[0], 7, "priority %lld", (long long)got[0]);
    cr_assert_eq(got[1], 42);
    return NULL;
}

Test(queue, priority_get_returns_the_priority)
{
    void *v = NULL;
    int64_t prio = 0;
    cr_assert_eq(acio_priority_queue_new(&Q, 0, NULL, NULL), 0);
    cr_assert_eq(acio_queue_get_priority_nowait(Q, &v, &prio), ACIO_EQUEUEEMPTY);
    OK(acio_queue_put_priority_nowait(Q, I(1), 5));
    OK(acio_queue_put_priority_nowait(Q, I(2), -3));
    OK(acio_queue_put_nowait(Q, I(3))); /* priority 0 */
    int64_t want_prio[] = {-3, 0, 5};
    int want_item[] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(acio_queue_get_priority_nowait(Q, &v, &prio), 0);
        cr_assert_eq(prio, want_prio[i], "#%d: priority %lld", i, (long long)prio);
        cr_assert_eq(V(v), want_item[i]);
    }
    OK(acio_queue_put_priority_nowait(Q, I(4), 1));
    cr_assert_eq(acio_queue_get_priority_nowait(Q, NULL, NULL), 0, "both outputs optional");
    cr_assert_eq(acio_run(prio_main, NULL, NULL), 0);
    cr_assert_eq(acio_queue_free(Q), 0);
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    OK(acio_queue_put_nowait(Q, I(1)));
    cr_assert_eq(acio_queue_get_priority_nowait(Q, &v, &prio), -EINVAL, "not a PriorityQueue");
    cr_assert_eq(acio_queue_get_priority(Q, &v, &prio), -EINVAL);
    cr_assert_eq(acio_queue_qsize(Q), 1, "nothing taken");
    OK(acio_queue_get_nowait(Q, &v));
    cr_assert_eq(acio_queue_free(Q), 0);
}

static int cmp_desc(const void *a, const void *b, void *arg)
{
    (void)arg;
    return V(b) - V(a);
}

Test(queue, priority_comparator_and_plain_put)
{
    void *v;
    cr_assert_eq(acio_priority_queue_new(&Q, 0, cmp_desc, NULL), 0);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(acio_queue_put_nowait(Q, I(i)), 0); /* all priority 0 */
    cr_assert_eq(acio_queue_put_priority_nowait(Q, I(100), -1), 0);
    cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
    cr_assert_eq(V(v), 100, "the priority decides first");
    for (int i = 4; i >= 0; i--) {
        cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
        cr_assert_eq(V(v), i, "then the comparator");
    }
    cr_assert_eq(acio_queue_free(Q), 0);
}

Test(queue, bounds_and_nowait_errors)
{
    void *v = I(99);
    cr_assert_eq(acio_queue_new(NULL, 0), -EINVAL);
    cr_assert_eq(acio_queue_new(&Q, 2), 0);
    cr_assert_eq(acio_queue_maxsize(Q), 2);
    cr_assert(acio_queue_empty(Q));
    cr_assert(!acio_queue_full(Q));
    cr_assert_eq(acio_queue_get_nowait(Q, &v), ACIO_EQUEUEEMPTY);
    cr_assert_eq(V(v), 99, "untouched on error");
    cr_assert_eq(acio_queue_put_nowait(Q, NULL), 0, "NULL is an item like any other");
    cr_assert_eq(acio_queue_put_nowait(Q, I(2)), 0);
    cr_assert(acio_queue_full(Q));
    cr_assert_eq(acio_queue_qsize(Q), 2);
    cr_assert_eq(acio_queue_put_nowait(Q, I(3)), ACIO_EQUEUEFULL);
    cr_assert_eq(acio_queue_put(Q, I(3)), ACIO_ENOTASK, "would wait outside a task");
    cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
    cr_assert_null(v);
    cr_assert_eq(acio_queue_get_nowait(Q, NULL), 0);
    cr_assert_eq(acio_queue_get(Q, &v), ACIO_ENOTASK);
    cr_assert_eq(acio_queue_unfinished_tasks(Q), 2);
    cr_assert_eq(acio_queue_task_done(Q), 0);
    cr_assert_eq(acio_queue_task_done(Q), 0);
    cr_assert_eq(acio_queue_task_done(Q), -EOVERFLOW, "task_done() called too many times");
    cr_assert_eq(acio_queue_join(Q), 0, "nothing unfinished: returns at once");
    acio_queue_set_data(Q, I(7));
    cr_assert_eq(V(acio_queue_get_data(Q)), 7);
    cr_assert_eq(acio_queue_free(Q), 0);
    cr_assert_eq(acio_queue_free(NULL), 0);
    cr_assert_eq(acio_queue_put_nowait(NULL, NULL), -EINVAL);
    cr_assert_eq(acio_queue_get(NULL, NULL), -EINVAL);
}

Test(queue, ring_wraps_and_grows)
{
    void *v;
    int next_in = 0, next_out = 0;
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    /* Keep the ring partly full while indices wrap many times, growing it twice. */
    for (int round = 0; round < 200; round++) {
        int puts = round < 100 ? 3 : 1, gets = 2;
        for (int i = 0; i < puts; i++)
            cr_assert_eq(acio_queue_put_nowait(Q, I(next_in++)), 0);
        for (int i = 0; i < gets && !acio_queue_empty(Q); i++) {
            cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
            cr_assert_eq(V(v), next_out, "FIFO across wrap-around");
            next_out++;
        }
    }
    cr_assert_eq(acio_queue_qsize(Q), (size_t)(next_in - next_out));
    while (acio_queue_get_nowait(Q, &v) == 0)
        cr_assert_eq(V(v), next_out++);
    cr_assert_eq(next_out, next_in);
    cr_assert_eq(acio_queue_free(Q), 0);
}

/* ---- waiting ---- */

static void *getter(void *arg)
{
    const char *name = arg;
    void *v;
    int rc = acio_queue_get(Q, &v);
    if (rc == 0)
        tr("%s got %d", name, V(v));
    else
        tr("%s get %s", name, rcname(rc));
    return NULL;
}

static void *putter(void *arg)
{
    intptr_t n = (intptr_t)arg;
    int rc = acio_queue_put(Q, I(n));
    tr("put %d %s", (int)n, rcname(rc));
    return NULL;
}

static void await_all(acio_task_t **t, int n)
{
    for (int i = 0; i < n; i++) {
        UNCHECKED(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
}

static void *getters_fifo_main(void *arg)
{
    (void)arg;
    acio_task_t *t[3];
    SPAWN(&t[0], getter, "a", "a");
    SPAWN(&t[1], getter, "b", "b");
    SPAWN(&t[2], getter, "c", "c");
    OK(acio_sleep(0));
    cr_assert_eq(acio_queue_free(Q), -EBUSY);
    for (int i = 1; i <= 3; i++)
        OK(acio_queue_put_nowait(Q, I(i)));
    await_all(t, 3);
    return NULL;
}

Test(queue, getters_served_fifo)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    cr_assert_eq(acio_run(getters_fifo_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "a got 1\nb got 2\nc got 3\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

static void *putters_fifo_main(void *arg)
{
    (void)arg;
    acio_task_t *t[3];
    void *v;
    OK(acio_queue_put_nowait(Q, I(0)));
    for (int i = 0; i < 3; i++)
        SPAWN(&t[i], putter, i + 1, "p");
    OK(acio_sleep(0));
    cr_assert_eq(acio_queue_qsize(Q), 1);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(acio_queue_get(Q, &v), 0);
        tr("main got %d", V(v));
        OK(acio_sleep(0));
    }
    await_all(t, 3);
    return NULL;
}

Test(queue, putters_served_fifo)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 1), 0);
    cr_assert_eq(acio_run(putters_fifo_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "main got 0\nput 1 ok\nmain got 1\nput 2 ok\nmain got 2\n"
                                  "put 3 ok\nmain got 3\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

/* A getter woken by put_nowait and cancelled before it ran: the item must go to the
 * next getter, and stay in the queue meanwhile. */
static void *cancel_woken_getter_main(void *arg)
{
    (void)arg;
    acio_task_t *t[3];
    SPAWN(&t[0], getter, "a", "a");
    SPAWN(&t[1], getter, "b", "b");
    SPAWN(&t[2], getter, "c", "c");
    OK(acio_sleep(0));
    acio_task_cancel(t[2], NULL);       /* pending */
    OK(acio_queue_put_nowait(Q, I(1))); /* wakes a */
    acio_task_cancel(t[0], NULL);       /* a was woken: passes the item to b */
    await_all(t, 3);
    cr_assert(acio_queue_empty(Q));
    return NULL;
}

Test(queue, cancelled_getter_passes_item_on)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    OK(acio_run(cancel_woken_getter_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "c get cancelled\na get cancelled\nb got 1\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

static void *cancel_woken_putter_main(void *arg)
{
    (void)arg;
    acio_task_t *t[2];
    void *v;
    OK(acio_queue_put_nowait(Q, I(0)));
    SPAWN(&t[0], putter, 1, "p1");
    SPAWN(&t[1], putter, 2, "p2");
    OK(acio_sleep(0));
    OK(acio_queue_get_nowait(Q, &v)); /* wakes p1 */
    acio_task_cancel(t[0], NULL);     /* p1 passes the free slot to p2 */
    await_all(t, 2);
    cr_assert_eq(acio_queue_get_nowait(Q, &v), 0);
    cr_assert_eq(V(v), 2);
    return NULL;
}

Test(queue, cancelled_putter_passes_slot_on)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 1), 0);
    OK(acio_run(cancel_woken_putter_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "put 1 cancelled\nput 2 ok\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

/* A woken getter whose item was taken by someone else meanwhile waits again. */
static void *stolen_main(void *arg)
{
    (void)arg;
    acio_task_t *a;
    void *v;
    SPAWN(&a, getter, "a", "a");
    OK(acio_sleep(0));
    OK(acio_queue_put_nowait(Q, I(1))); /* wakes a */
    cr_assert_eq(acio_queue_get_nowait(Q, &v), 0, "main takes it first");
    tr("main took %d", V(v));
    yield_n(2);
    cr_assert(!acio_future_done(a), "a waits again");
    OK(acio_queue_put_nowait(Q, I(2)));
    OK(acio_await(a, NULL));
    acio_future_unref(a);
    return NULL;
}

Test(queue, woken_getter_rewaits_if_item_stolen)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    cr_assert_eq(acio_run(stolen_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "main took 1\na got 2\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

static void *worker(void *arg)
{
    const char *name = arg;
    void *v;
    for (;;) {
        int rc = acio_queue_get(Q, &v);
        if (rc < 0) {
            tr("%s stops: %s", name, rcname(rc));
            return NULL;
        }
        OK(acio_sleep(0));
        tr("%s done %d", name, V(v));
        acio_queue_task_done(Q);
    }
}

static void *join_main(void *arg)
{
    (void)arg;
    acio_task_t *w[2];
    for (int i = 1; i <= 4; i++)
        OK(acio_queue_put_nowait(Q, I(i)));
    SPAWN(&w[0], worker, "w0", "w0");
    SPAWN(&w[1], worker, "w1", "w1");
    cr_assert_eq(acio_queue_join(Q), 0);
    tr("joined (unfinished %zu)", acio_queue_unfinished_tasks(Q));
    acio_task_cancel(w[0], NULL);
    acio_task_cancel(w[1], NULL);
    await_all(w, 2);
    return NULL;
}

Test(queue, task_done_and_join)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    cr_assert_eq(acio_run(join_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "w0 done 1\nw1 done 2\nw0 done 3\nw1 done 4\n"
                                  "joined (unfinished 0)\nw0 stops: cancelled\n"
                                  "w1 stops: cancelled\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

static void *join_cancel_task(void *arg)
{
    (void)arg;
    int rc = acio_queue_join(Q);
    tr("join %s", rcname(rc));
    return NULL;
}

static void *join_cancel_main(void *arg)
{
    (void)arg;
    acio_task_t *j;
    OK(acio_queue_put_nowait(Q, I(1)));
    SPAWN(&j, join_cancel_task, NULL, "j");
    OK(acio_sleep(0));
    acio_task_cancel(j, NULL);
    UNCHECKED(acio_await(j, NULL));
    acio_future_unref(j);
    return NULL;
}

Test(queue, join_cancelled)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    OK(acio_run(join_cancel_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "join cancelled\n");
    cr_assert_eq(acio_queue_free(Q), 0, "no waiter left behind");
}

/* ---- shutdown (3.13) ---- */

static void *shutdown_main(void *arg)
{
    bool immediate = arg != NULL;
    acio_task_t *g[3], *p, *j;
    const char *names[3] = {"a", "b", "c"};
    OK(acio_queue_put_nowait(Q, I(1)));
    OK(acio_queue_put_nowait(Q, I(2))); /* full (maxsize 2) */
    SPAWN(&p, putter, 3, "p");
    SPAWN(&j, join_cancel_task, NULL, "j");
    OK(acio_sleep(0)); /* p waits for a slot, j for the items to be done */
    tr("shutdown immediate=%d", immediate);
    cr_assert_eq(acio_queue_shutdown(Q, immediate), 0);
    cr_assert(acio_queue_is_shutdown(Q));
    if (acio_queue_put_nowait(Q, I(5)) == ACIO_EQUEUESHUTDOWN)
        tr("put_nowait ACIO_EQUEUESHUTDOWN");
    for (int i = 0; i < 3; i++)
        SPAWN(&g[i], getter, names[i], names[i]);
    OK(acio_await(p, NULL));
    await_all(g, 3);
    tr("left: %zu unfinished: %zu", acio_queue_qsize(Q), acio_queue_unfinished_tasks(Q));
    while (acio_queue_unfinished_tasks(Q) > 0)
        acio_queue_task_done(Q);
    OK(acio_await(j, NULL));
    acio_future_unref(p);
    acio_future_unref(j);
    return NULL;
}

/* The expected traces are what CPython 3.13 prints for the same program. */
Test(queue, shutdown_drains_then_fails)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 2), 0);
    cr_assert_eq(acio_run(shutdown_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "shutdown immediate=0\n"
                                  "put_nowait ACIO_EQUEUESHUTDOWN\n"
                                  "put 3 ACIO_EQUEUESHUTDOWN\n"
                                  "a got 1\n"
                                  "b got 2\n"
                                  "c get ACIO_EQUEUESHUTDOWN\n"
                                  "left: 0 unfinished: 2\n"
                                  "join ok\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

Test(queue, shutdown_immediate)
{
    trace_reset();
    cr_assert_eq(acio_queue_new(&Q, 2), 0);
    cr_assert_eq(acio_run(shutdown_main, (void *)1, NULL), 0);
    /* The dropped items count as done, which releases join at once. */
    cr_assert_str_eq(g_trace.buf, "shutdown immediate=1\n"
                                  "put_nowait ACIO_EQUEUESHUTDOWN\n"
                                  "join ok\n"
                                  "put 3 ACIO_EQUEUESHUTDOWN\n"
                                  "a get ACIO_EQUEUESHUTDOWN\n"
                                  "b get ACIO_EQUEUESHUTDOWN\n"
                                  "c get ACIO_EQUEUESHUTDOWN\n"
                                  "left: 0 unfinished: 0\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

static void *shutdown_wakes_getters_main(void *arg)
{
    (void)arg;
    acio_task_t *g[2];
    SPAWN(&g[0], getter, "a", "a");
    SPAWN(&g[1], getter, "b", "b");
    OK(acio_sleep(0));
    acio_queue_shutdown(Q, false);
    await_all(g, 2);
    return NULL;
}

Test(queue, shutdown_wakes_blocked_getters)
{
    trace_reset();
    cr_assert_eq(acio_lifo_queue_new(&Q, 0), 0);
    cr_assert_eq(acio_run(shutdown_wakes_getters_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "a get ACIO_EQUEUESHUTDOWN\nb get ACIO_EQUEUESHUTDOWN\n");
    cr_assert_eq(acio_queue_free(Q), 0);
}

/* What a blocked task waits on is labelled, so task dumps say "queue.get" etc. */
static acio_queue_t *E, *F; /* empty, full */

static void *get_empty(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)acio_queue_get(E, NULL);
}

static void *put_full(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)acio_queue_put(F, NULL);
}

static void *join_full(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)acio_queue_join(F);
}

static void *labels_main(void *arg)
{
    (void)arg;
    acio_task_t *t[3];
    const char *want[3] = {"queue.get", "queue.put", "queue.join"};
    SPAWN(&t[0], get_empty, NULL, "g");
    SPAWN(&t[1], put_full, NULL, "p");
    SPAWN(&t[2], join_full, NULL, "j");
    OK(acio_sleep(0));
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(acio_future_get_label(acio_task_get_waiter(t[i])), want[i]);
        acio_task_cancel(t[i], NULL);
        UNCHECKED(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
    return NULL;
}

Test(queue, waiter_labels)
{
    cr_assert_eq(acio_queue_new(&E, 0), 0);
    cr_assert_eq(acio_queue_new(&F, 1), 0);
    cr_assert_eq(acio_queue_put_nowait(F, NULL), 0);
    cr_assert_eq(acio_run(labels_main, NULL, NULL), 0);
    cr_assert_eq(acio_queue_free(E), 0);
    cr_assert_eq(acio_queue_free(F), 0);
}
