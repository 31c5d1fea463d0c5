/* Differential scenarios for tasks without cancellation: start order, the seed's
 * coro_a/coro_b (a direct call never yields), awaiting done things, sleep interleaving,
 * results and errors travelling through awaits, done callbacks, names, current_task.
 * Each function mirrors the scenario of the same name in scenarios.py; see diff.h. */
#include <time.h>

#include "diff.h"

/* ---- task_start_order: create_task schedules the first step, in creation order */

static void *tso_child(void *arg)
{
    const char *name = arg;
    say("%s first step", name);
    TRY(acio_sleep(0));
    say("%s second step", name);
    return arg;
}

static void *tso_main(void *arg)
{
    (void)arg;
    static const char *names[] = {"t1", "t2", "t3"};
    acio_task_t *ts[3];
    for (int i = 0; i < 3; i++)
        TRY(acio_create_task(&ts[i], tso_child, (void *)names[i], NULL));
    say("main created three tasks (none started)");
    for (int i = 0; i < 3; i++) {
        void *r = NULL;
        TRY(acio_await(ts[i], &r));
        say("awaited %s", (const char *)r);
        acio_future_unref(ts[i]);
    }
    return NULL;
}

DIFF_SCENARIO(task_start_order)
{
    diff_run(tso_main);
}

/* ---- seed 003: coro_a called directly never yields; wrapped in tasks it does */

static void *coro_a(void *arg)
{
    (void)arg;
    say("I am coro_a(). Hi!");
    return NULL;
}

static void *coro_b(void *arg)
{
    (void)arg;
    say("I am coro_b(). I sure hope no one hogs the event loop...");
    return NULL;
}

static void *cdc_main(void *arg)
{
    (void)arg;
    acio_task_t *task_b;
    TRY(acio_create_task(&task_b, coro_b, NULL, NULL));
    for (int i = 0; i < 3; i++)
        coro_a(NULL); /* await coro_a(): a plain call */
    TRY(acio_await(task_b, NULL));
    acio_future_unref(task_b);
    return NULL;
}

DIFF_SCENARIO(coro_direct_call)
{
    diff_run(cdc_main);
}

static void *cat_main(void *arg)
{
    (void)arg;
    acio_task_t *task_b;
    TRY(acio_create_task(&task_b, coro_b, NULL, NULL));
    for (int i = 0; i < 3; i++) {
        acio_task_t *a;
        TRY(acio_create_task(&a, coro_a, NULL, NULL));
        TRY(acio_await(a, NULL));
        acio_future_unref(a);
    }
    TRY(acio_await(task_b, NULL));
    acio_future_unref(task_b);
    return NULL;
}

DIFF_SCENARIO(coro_as_tasks)
{
    diff_run(cat_main);
}

/* ---- await_done_no_yield */

static void *adny_other(void *arg)
{
    (void)arg;
    say("other runs");
    return NULL;
}

static void *adny_quick(void *arg)
{
    (void)arg;
    return DIFF_PTR(8);
}

static void *adny_main(void *arg)
{
    (void)arg;
    acio_task_t *q;
    void *r = NULL;
    TRY(acio_create_task(&q, adny_quick, NULL, NULL));
    TRY(acio_sleep(0));
    TRY(acio_sleep(0));
    say("quick done: %s", tf(acio_future_done(q)));
    TRY(acio_create_task(NULL, adny_other, NULL, NULL));
    acio_future_t *fut = diff_future_new();
    TRY(acio_future_set_result(fut, DIFF_PTR(1)));
    TRY(acio_await(fut, &r));
    say("awaited done future: %ld", DIFF_INT(r));
    TRY(acio_await(q, &r));
    say("awaited done task: %ld", DIFF_INT(r));
    TRY(acio_await(fut, &r));
    say("awaited done future again: %ld", DIFF_INT(r));
    TRY(acio_sleep(0));
    say("main after sleep(0)");
    acio_future_unref(fut);
    acio_future_unref(q);
    return NULL;
}

DIFF_SCENARIO(await_done_no_yield)
{
    diff_run(adny_main);
}

/* ---- sleep0_interleave */

typedef struct {
    const char *name;
    int n;
} s0i_arg_t;

static void *s0i_worker(void *arg)
{
    const s0i_arg_t *a = arg;
    for (int i = 0; i < a->n; i++) {
        say("%s step %d", a->name, i);
        TRY(acio_sleep(0));
    }
    say("%s done", a->name);
    return NULL;
}

static void *s0i_main(void *arg)
{
    (void)arg;
    static const s0i_arg_t args[] = {{"A", 3}, {"B", 2}, {"C", 4}};
    acio_task_t *ts[3];
    for (int i = 0; i < 3; i++)
        TRY(acio_create_task(&ts[i], s0i_worker, (void *)&args[i], NULL));
    for (int i = 0; i < 2; i++) {
        say("main step %d", i);
        TRY(acio_sleep(0));
    }
    for (int i = 0; i < 3; i++) {
        TRY(acio_await(ts[i], NULL));
        acio_future_unref(ts[i]);
    }
    say("main done");
    return NULL;
}

DIFF_SCENARIO(sleep0_interleave)
{
    diff_run(s0i_main);
}

/* ---- sleep_delays */

typedef struct {
    const char *name;
    double delay;
} sd_arg_t;

static void *sd_sleeper(void *arg)
{
    const sd_arg_t *a = arg;
    say("%s sleeps", a->name);
    TRY(acio_sleep(a->delay));
    say("%s woke", a->name);
    return NULL;
}

static void *sd_main(void *arg)
{
    (void)arg;
    static const sd_arg_t args[] = {{"s300", 0.30}, {"s100", 0.10}, {"s200", 0.20}, {"s0", 0}};
    acio_task_t *ts[4];
    for (int i = 0; i < 4; i++)
        TRY(acio_create_task(&ts[i], sd_sleeper, (void *)&args[i], NULL));
    say("main started four sleepers");
    for (int i = 0; i < 4; i++) {
        TRY(acio_await(ts[i], NULL));
        acio_future_unref(ts[i]);
    }
    say("all slept");
    return NULL;
}

DIFF_SCENARIO(sleep_delays)
{
    diff_run(sd_main);
}

/* ---- task_await_task */

static void *tat_leaf(void *arg)
{
    (void)arg;
    say("leaf starts");
    TRY(acio_sleep(0.05));
    say("leaf returns 2");
    return DIFF_PTR(2);
}

static void *tat_middle(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    say("middle starts");
    TRY(acio_create_task(&t, tat_leaf, NULL, NULL));
    TRY(acio_await(t, &r));
    acio_future_unref(t);
    say("middle got %ld, returns %ld", DIFF_INT(r), DIFF_INT(r) * 10);
    return DIFF_PTR(DIFF_INT(r) * 10);
}

static void *tat_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    TRY(acio_create_task(&t, tat_middle, NULL, NULL));
    say("main awaits middle");
    TRY(acio_await(t, &r));
    acio_future_unref(t);
    say("main got %ld", DIFF_INT(r));
    return NULL;
}

DIFF_SCENARIO(task_await_task)
{
    diff_run(tat_main);
}

/* ---- result_propagation */

typedef struct {
    long a, c;
} rp_arg_t;

static void *rp_add(void *arg)
{
    const rp_arg_t *x = arg;
    TRY(acio_sleep(0));
    return DIFF_PTR(x->a + x->c);
}

static void *rp_main(void *arg)
{
    (void)arg;
    static const rp_arg_t a1 = {1, 2}, a2 = {10, 20};
    acio_task_t *t1, *t2;
    void *r1 = NULL, *r2 = NULL, *again = NULL;
    TRY(acio_create_task(&t1, rp_add, (void *)&a1, NULL));
    TRY(acio_create_task(&t2, rp_add, (void *)&a2, NULL));
    TRY(acio_await(t2, &r2));
    TRY(acio_await(t1, &r1));
    say("t1 %ld t2 %ld", DIFF_INT(r1), DIFF_INT(r2));
    TRY(acio_future_result(t1, &again));
    say("t1 result() again: %ld", DIFF_INT(again));
    acio_future_unref(t1);
    acio_future_unref(t2);
    return DIFF_PTR(DIFF_INT(r1) + DIFF_INT(r2));
}

DIFF_SCENARIO(result_propagation)
{
    void *r = NULL;
    TRY(acio_run(rp_main, NULL, &r));
    say("run returned %ld", DIFF_INT(r));
}

/* ---- error_propagation: in C the middle task propagates by re-raising what it got */

static void *ep_inner(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0));
    say("inner raises");
    return acio_raise(-EINVAL, "bad value %d", 7);
}

static void *ep_outer(void *arg)
{
    acio_task_t *t = arg;
    int rc = acio_await(t, NULL);
    if (rc < 0)
        return acio_raise(rc, "%s", acio_future_error_message(t));
    say("outer: not reached");
    return NULL;
}

static void *ep_failing_later(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0.05));
    return acio_raise(-EIO, "io broke");
}

static void *ep_main(void *arg)
{
    (void)arg;
    acio_task_t *ti, *to, *tf_;
    int rc;
    TRY(acio_create_task(&ti, ep_inner, NULL, NULL));
    TRY(acio_create_task(&to, ep_outer, ti, NULL));
    rc = acio_await(to, NULL);
    say("main from outer: %s", diff_err_text(rc, acio_future_error_message(to)));
    rc = acio_await(ti, NULL);
    say("main from inner: %s", diff_err_text(rc, acio_future_error_message(ti)));
    say("inner done: %s cancelled: %s", tf(acio_future_done(ti)), tf(acio_future_cancelled(ti)));
    rc = acio_future_error(ti);
    say("inner exception: %s", diff_err_text(rc, acio_future_error_message(ti)));
    TRY(acio_create_task(&tf_, ep_failing_later, NULL, NULL));
    rc = acio_await(tf_, NULL);
    say("main: %s", diff_err_text(rc, acio_future_error_message(tf_)));
    acio_future_unref(ti);
    acio_future_unref(to);
    acio_future_unref(tf_);
    return NULL;
}

DIFF_SCENARIO(error_propagation)
{
    diff_run(ep_main);
}

/* ---- run_main_error */

static void *rme_main(void *arg)
{
    (void)arg;
    say("main runs");
    TRY(acio_sleep(0));
    return acio_raise(-EINVAL, "main failed");
}

DIFF_SCENARIO(run_main_error)
{
    char *msg = NULL;
    int rc = acio_run_ex(rme_main, NULL, NULL, &msg);
    if (rc == 0)
        say("run: no error?");
    else
        say("run: %s", diff_err_text(rc, msg));
    free(msg);
}

/* ---- task_done_callbacks: a task's done callbacks and its awaiters' wake-ups run in
 * the order they were registered; one added after done is scheduled with call_soon. */

static void *tdc_work(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0));
    say("work returns 1");
    return DIFF_PTR(1);
}

static void *tdc_helper(void *arg)
{
    void *r = NULL;
    TRY(acio_await(arg, &r));
    say("helper got %ld", DIFF_INT(r));
    return NULL;
}

static void *tdc_main(void *arg)
{
    (void)arg;
    acio_task_t *t, *h;
    void *r = NULL;
    TRY(acio_create_task(&t, tdc_work, NULL, NULL));
    TRY(acio_future_add_done_callback(t, diff_cb_label, "cb1"));
    TRY(acio_create_task(&h, tdc_helper, t, NULL));
    TRY(acio_await(t, &r));
    say("main got %ld", DIFF_INT(r));
    TRY(acio_future_add_done_callback(t, diff_cb_label, "cb3 (added after done)"));
    TRY(acio_loop_call_soon(acio_get_running_loop(), diff_cb_say, "soon after cb3", NULL));
    TRY(acio_await(h, NULL));
    say("main done");
    acio_future_unref(h);
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(task_done_callbacks)
{
    diff_run(tdc_main);
}

/* ---- task_names: unnamed tasks are "Task-N", counting from the main task */

static void *tn_noop(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0));
    return NULL;
}

static void *tn_main(void *arg)
{
    (void)arg;
    acio_task_t *ts[3];
    say("main: %s", acio_task_get_name(acio_current_task()));
    TRY(acio_create_task(&ts[0], tn_noop, NULL, NULL));
    TRY(acio_create_task(&ts[1], tn_noop, NULL, "worker"));
    TRY(acio_create_task(&ts[2], tn_noop, NULL, NULL));
    say("t1: %s t2: %s t3: %s", acio_task_get_name(ts[0]), acio_task_get_name(ts[1]),
        acio_task_get_name(ts[2]));
    TRY(acio_task_set_name(ts[2], "renamed"));
    say("t3 now: %s", acio_task_get_name(ts[2]));
    for (int i = 0; i < 3; i++) {
        TRY(acio_await(ts[i], NULL));
        acio_future_unref(ts[i]);
    }
    return NULL;
}

DIFF_SCENARIO(task_names)
{
    diff_run(tn_main);
}

/* ---- current_task */

static void *ct_child(void *arg)
{
    (void)arg;
    say("in child: %s", acio_task_get_name(acio_current_task()));
    return NULL;
}

static void ct_cb(void *data)
{
    (void)data;
    say("in callback: %s", acio_current_task() == NULL ? "none" : "a task");
}

static void *ct_main(void *arg)
{
    (void)arg;
    acio_task_t *kid;
    TRY(acio_loop_call_soon(acio_get_running_loop(), ct_cb, NULL, NULL));
    say("in main: %s", acio_task_get_name(acio_current_task()));
    TRY(acio_create_task(&kid, ct_child, NULL, "kid"));
    TRY(acio_await(kid, NULL));
    acio_future_unref(kid);
    say("back in main: %s", acio_task_get_name(acio_current_task()));
    return NULL;
}

DIFF_SCENARIO(current_task)
{
    say("outside: %s", acio_get_running_loop() == NULL ? "none" : "a loop");
    diff_run(ct_main);
}

/* ---- sleep_negative: a delay <= 0 yields for exactly one iteration, like sleep(0) */

static void *sn_neg(void *arg)
{
    (void)arg;
    say("neg before");
    TRY(acio_sleep(-1));
    say("neg after");
    return NULL;
}

static void *sn_other(void *arg)
{
    (void)arg;
    say("other runs");
    return NULL;
}

static void *sn_main(void *arg)
{
    (void)arg;
    acio_task_t *t1, *t2;
    TRY(acio_create_task(&t1, sn_neg, NULL, NULL));
    TRY(acio_create_task(&t2, sn_other, NULL, NULL));
    TRY(acio_await(t1, NULL));
    TRY(acio_await(t2, NULL));
    acio_future_unref(t1);
    acio_future_unref(t2);
    return NULL;
}

DIFF_SCENARIO(sleep_negative)
{
    diff_run(sn_main);
}

/* ---- sleep_same_delay_fifo: equal delays requested in one iteration. acio's deadlines
 * are then equal and fire in FIFO order (docs/deviations.md); CPython reads the clock at
 * every call, so its deadlines increase and give the same order. */

static void *ssdf_sleeper(void *arg)
{
    TRY(acio_sleep(0.1));
    say("%s woke", (const char *)arg);
    return NULL;
}

static void *ssdf_main(void *arg)
{
    (void)arg;
    static const char *names[] = {"a", "b", "c", "d"};
    acio_task_t *ts[4];
    for (int i = 0; i < 4; i++)
        TRY(acio_create_task(&ts[i], ssdf_sleeper, (void *)names[i], NULL));
    for (int i = 0; i < 4; i++) {
        TRY(acio_await(ts[i], NULL));
        acio_future_unref(ts[i]);
    }
    return NULL;
}

DIFF_SCENARIO(sleep_same_delay_fifo)
{
    diff_run(ssdf_main);
}

/* ---- all_tasks_count: CPython's all_tasks() is a set, so only its size is compared */

static void *atc_child(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0));
    return NULL;
}

static void *atc_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_task_t *ts[3];
    say("pending tasks: %zu", acio_all_tasks(loop, NULL, 0));
    for (int i = 0; i < 3; i++)
        TRY(acio_create_task(&ts[i], atc_child, NULL, NULL));
    say("after creating three: %zu", acio_all_tasks(loop, NULL, 0));
    TRY(acio_sleep(0));
    say("after one iteration: %zu", acio_all_tasks(loop, NULL, 0));
    for (int i = 0; i < 3; i++) {
        TRY(acio_await(ts[i], NULL));
        acio_future_unref(ts[i]);
    }
    say("after they finished: %zu", acio_all_tasks(loop, NULL, 0));
    return NULL;
}

DIFF_SCENARIO(all_tasks_count)
{
    diff_run(atc_main);
}

/* ---- run_nested_in_task: run() inside a running loop is refused */

static void *rnit_inner(void *arg)
{
    (void)arg;
    say("inner (must not run)");
    return NULL;
}

static void *rnit_main(void *arg)
{
    (void)arg;
    int rc = acio_run(rnit_inner, NULL, NULL);
    if (rc == 0)
        say("nested run accepted");
    else if (rc == ACIO_ERUNNING)
        say("nested run refused");
    else
        say("nested run: %s", acio_err_name(rc));
    return DIFF_PTR(1);
}

DIFF_SCENARIO(run_nested_in_task)
{
    void *r = NULL;
    TRY(acio_run(rnit_main, NULL, &r));
    say("outer run returned %ld", DIFF_INT(r));
}

/* ---- sleep_wakes_one_iteration_later: sleep's timer wakes the task one iteration
 * later (asyncio: the timer finishes a future whose done callback resumes the task).
 * main blocks the loop so that both timers are due in the same iteration; the other
 * timer's call_soon then shows the extra hop. */

static acio_loop_t *swoil_loop;

static void *swoil_sleeper(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0.05));
    say("sleeper woke");
    return NULL;
}

static void swoil_timer(void *data)
{
    (void)data;
    say("timer 0.06");
    TRY(acio_loop_call_soon(swoil_loop, diff_cb_say, "soon from timer 0.06", NULL));
}

static void *swoil_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    swoil_loop = acio_get_running_loop();
    TRY(acio_create_task(&t, swoil_sleeper, NULL, NULL));
    TRY(acio_sleep(0)); /* the sleeper has started its sleep */
    TRY(acio_loop_call_later(swoil_loop, 0.06, swoil_timer, NULL, NULL));
    struct timespec block = {0, 200 * 1000 * 1000};
    while (nanosleep(&block, &block) != 0 && errno == EINTR) {
    }
    say("main blocked past both deadlines");
    TRY(acio_await(t, NULL));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(sleep_wakes_one_iteration_later)
{
    diff_run(swoil_main);
}
