/* gather: results in input order, first error, return_exceptions, cancellation both
 * ways (outer -> children, child -> outer), the coroutine-call form with eager tasks,
 * and a large gather. Each test runs a main task with acio_run and ends with the loop
 * closed; ASan's leak check (the _asan variant) proves nothing was left behind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "acio.h"

typedef struct {
    double delay;
    intptr_t value;
    int fail;     /* 0, or a code to raise */
    int observed; /* what the child's sleep returned */
    bool finished;
} child_t;

static void *child(void *arg)
{
    child_t *c = arg;
    c->observed = acio_sleep(c->delay);
    c->finished = true;
    if (c->observed < 0)
        return acio_raise(c->observed, "child saw %s", acio_err_name(c->observed));
    if (c->fail)
        return acio_raise(c->fail, "child %d failed", (int)c->value);
    return (void *)c->value;
}

static int spawn(child_t *c, size_t n, acio_task_t **t)
{
    for (size_t i = 0; i < n; i++) {
        int rc = acio_create_task(&t[i], child, &c[i], NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void unref_all(acio_task_t **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acio_future_unref(t[i]);
}

static void *order_main(void *arg)
{
    (void)arg;
    child_t c[3] = {{0.06, 1, 0, 0, 0}, {0.01, 2, 0, 0, 0}, {0.03, 3, 0, 0, 0}};
    acio_task_t *t[3];
    void *res[3] = {0};
    int codes[3] = {-1, -1, -1};
    cr_assert_eq(spawn(c, 3, t), 0);
    int rc = acio_gather_await(t, 3, 0, res, codes);
    cr_assert_eq(rc, 0, "rc=%d", rc);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq((intptr_t)res[i], i + 1, "res[%d]=%ld", i, (long)(intptr_t)res[i]);
        cr_assert_eq(codes[i], 0);
    }
    unref_all(t, 3);
    return NULL;
}

Test(gather, results_in_input_order)
{
    cr_assert_eq(acio_run(order_main, NULL, NULL), 0);
}

static void *outer_future_main(void *arg)
{
    (void)arg;
    child_t c[2] = {{0.02, 7, 0, 0, 0}, {0.01, 8, 0, 0, 0}};
    acio_task_t *t[2];
    void *res[2];
    acio_future_t *outer;
    void **got = NULL;
    cr_assert_eq(spawn(c, 2, t), 0);
    cr_assert_eq(acio_gather(&outer, t, 2, 0, res, NULL), 0);
    cr_assert(!acio_future_done(outer));
    cr_assert_eq(acio_await(outer, (void **)&got), 0);
    cr_assert_eq(got, res, "the outer future's result is the results array");
    cr_assert_eq((intptr_t)got[0], 7);
    cr_assert_eq((intptr_t)got[1], 8);
    acio_future_unref(outer);
    unref_all(t, 2);
    return NULL;
}

Test(gather, outer_is_a_future)
{
    cr_assert_eq(acio_run(outer_future_main, NULL, NULL), 0);
}

static void *first_error_main(void *arg)
{
    (void)arg;
    child_t c[3] = {{0.05, 1, 0, 0, 0}, {0.01, 2, -EIO, 0, 0}, {0.02, 3, -EPIPE, 0, 0}};
    acio_task_t *t[3];
    acio_future_t *outer;
    void *res[3] = {(void *)1, (void *)1, (void *)1};
    cr_assert_eq(spawn(c, 3, t), 0);
    cr_assert_eq(acio_gather(&outer, t, 3, 0, res, NULL), 0);
    int rc = acio_await(outer, NULL);
    cr_assert_eq(rc, -EIO, "rc=%s", acio_err_name(rc));
    cr_assert_str_eq(acio_future_error_message(outer), "child 2 failed");
    /* The others keep running. */
    cr_assert(!c[0].finished);
    cr_assert_eq(res[0], (void *)1, "results untouched on error");
    cr_assert_eq(acio_await(t[0], NULL), 0);
    cr_assert(c[0].finished);
    cr_assert_eq(acio_await(t[2], NULL), -EPIPE);
    acio_future_unref(outer);
    unref_all(t, 3);
    return NULL;
}

Test(gather, first_error_propagates_others_keep_running)
{
    cr_assert_eq(acio_run(first_error_main, NULL, NULL), 0);
}

static void *return_exceptions_main(void *arg)
{
    (void)arg;
    child_t c[3] = {{0.01, 1, 0, 0, 0}, {0.01, 2, -EIO, 0, 0}, {0.5, 3, 0, 0, 0}};
    acio_task_t *t[3];
    void *res[3];
    int codes[3];
    cr_assert_eq(spawn(c, 3, t), 0);
    acio_future_cancel(t[2], "stop");
    int rc = acio_gather_await(t, 3, ACIO_GATHER_RETURN_EXCEPTIONS, res, codes);
    cr_assert_eq(rc, 0);
    cr_assert_eq((intptr_t)res[0], 1);
    cr_assert_eq(codes[0], 0);
    cr_assert_eq(res[1], NULL);
    cr_assert_eq(codes[1], -EIO);
    cr_assert_str_eq(acio_future_error_message(t[1]), "child 2 failed");
    cr_assert_eq(codes[2], -ECANCELED);
    cr_assert(acio_future_cancelled(t[2]));
    unref_all(t, 3);
    return NULL;
}

Test(gather, return_exceptions_collects_errors_and_cancellations)
{
    cr_assert_eq(acio_run(return_exceptions_main, NULL, NULL), 0);
}

static void *child_cancelled_main(void *arg)
{
    (void)arg;
    child_t c[2] = {{0.5, 1, 0, 0, 0}, {0.02, 2, 0, 0, 0}};
    acio_task_t *t[2];
    acio_future_t *outer;
    cr_assert_eq(spawn(c, 2, t), 0);
    cr_assert_eq(acio_gather(&outer, t, 2, 0, NULL, NULL), 0);
    acio_future_cancel(t[0], "child stop");
    int rc = acio_await(outer, NULL);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_str_eq(acio_future_error_message(outer), "child stop");
    /* The sibling was not cancelled by the child's cancellation. */
    cr_assert_eq(acio_await(t[1], NULL), 0);
    cr_assert_eq(c[1].observed, 0);
    /* This task itself was not cancelled: it goes on. */
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    cr_assert_eq(acio_sleep(0), 0);
    acio_future_unref(outer);
    unref_all(t, 2);
    return NULL;
}

Test(gather, cancelled_child_counts_as_error)
{
    cr_assert_eq(acio_run(child_cancelled_main, NULL, NULL), 0);
}

static void *cancel_outer_main(void *arg)
{
    (void)arg;
    child_t c[3] = {{0.5, 1, 0, 0, 0}, {0.6, 2, 0, 0, 0}, {0.0, 3, 0, 0, 0}};
    acio_task_t *t[3];
    acio_future_t *outer;
    cr_assert_eq(spawn(c, 3, t), 0);
    cr_assert_eq(acio_gather(&outer, t, 3, 0, NULL, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0); /* child 3 finishes */
    cr_assert_eq(acio_future_cancel(outer, "enough"), 1);
    cr_assert_eq(acio_await(outer, NULL), -ECANCELED);
    cr_assert_eq(acio_await(t[0], NULL), -ECANCELED);
    cr_assert_eq(acio_await(t[1], NULL), -ECANCELED);
    cr_assert_eq(c[0].observed, -ECANCELED);
    cr_assert_eq(c[1].observed, -ECANCELED);
    cr_assert_str_eq(acio_future_error_message(t[0]), "child saw ECANCELED");
    cr_assert_eq(acio_await(t[2], NULL), 0);
    acio_future_unref(outer);
    unref_all(t, 3);
    return NULL;
}

Test(gather, cancelling_outer_cancels_children)
{
    cr_assert_eq(acio_run(cancel_outer_main, NULL, NULL), 0);
}

typedef struct {
    child_t c[2];
    acio_task_t *t[2];
    int rc;
    bool returned;
} awaiter_t;

static void *gather_awaiter(void *arg)
{
    awaiter_t *a = arg;
    a->rc = acio_gather_await(a->t, 2, 0, NULL, NULL);
    a->returned = true;
    return NULL;
}

static void *cancel_awaiter_main(void *arg)
{
    (void)arg;
    awaiter_t a = {.c = {{0.5, 1, 0, 0, 0}, {0.6, 2, 0, 0, 0}}};
    acio_task_t *w;
    cr_assert_eq(spawn(a.c, 2, a.t), 0);
    cr_assert_eq(acio_create_task(&w, gather_awaiter, &a, "awaiter"), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    acio_task_cancel(w, "bye");
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert(a.returned);
    cr_assert_eq(a.rc, -ECANCELED);
    cr_assert_eq(acio_await(a.t[0], NULL), -ECANCELED);
    cr_assert_eq(acio_await(a.t[1], NULL), -ECANCELED);
    cr_assert_eq(a.c[0].observed, -ECANCELED);
    acio_future_unref(w);
    unref_all(a.t, 2);
    return NULL;
}

Test(gather, cancelling_the_awaiting_task_cancels_children)
{
    cr_assert_eq(acio_run(cancel_awaiter_main, NULL, NULL), 0);
}

static void *empty_main(void *arg)
{
    (void)arg;
    acio_future_t *outer;
    void *res[1];
    void **got = NULL;
    cr_assert_eq(acio_gather(&outer, NULL, 0, 0, res, NULL), 0);
    cr_assert(acio_future_done(outer));
    cr_assert_eq(acio_await(outer, (void **)&got), 0);
    cr_assert_eq(got, res);
    acio_future_unref(outer);
    cr_assert_eq(acio_gather_await(NULL, 0, 0, NULL, NULL), 0);
    return NULL;
}

Test(gather, empty)
{
    cr_assert_eq(acio_run(empty_main, NULL, NULL), 0);
}

static int eager_ran;

static void *eager_child(void *arg)
{
    eager_ran++;
    intptr_t v = (intptr_t)arg;
    if (v == 2 && acio_sleep(0.01) < 0)
        return NULL;
    return (void *)(v * 10);
}

static void *calls_main(void *arg)
{
    bool eager = arg != NULL;
    acio_call_t calls[3] = {{eager_child, (void *)1, "a"},
                            {eager_child, (void *)2, "b"},
                            {eager_child, (void *)3, NULL}};
    acio_task_opts_t opts = {.eager = eager};
    acio_task_t *tasks[3];
    acio_future_t *outer;
    void *res[3];
    eager_ran = 0;
    cr_assert_eq(acio_gather_calls(&outer, calls, 3, &opts, 0, res, NULL, tasks), 0);
    /* Eager tasks ran their first step inside create_task. */
    cr_assert_eq(eager_ran, eager ? 3 : 0);
    if (eager) {
        cr_assert(acio_future_done(tasks[0]));
        cr_assert(!acio_future_done(tasks[1]));
    }
    cr_assert_str_eq(acio_task_get_name(tasks[1]), "b");
    cr_assert_eq(acio_await(outer, NULL), 0);
    cr_assert_eq((intptr_t)res[0], 10);
    cr_assert_eq((intptr_t)res[1], 20);
    cr_assert_eq((intptr_t)res[2], 30);
    acio_future_unref(outer);
    unref_all(tasks, 3);
    /* Without a tasks array the gather keeps the only references. */
    cr_assert_eq(acio_gather_calls(&outer, calls, 3, NULL, 0, res, NULL, NULL), 0);
    cr_assert_eq(acio_await(outer, NULL), 0);
    cr_assert_eq((intptr_t)res[2], 30);
    acio_future_unref(outer);
    return NULL;
}

Test(gather, calls_form)
{
    cr_assert_eq(acio_run(calls_main, NULL, NULL), 0);
}

Test(gather, calls_form_eager)
{
    cr_assert_eq(acio_run(calls_main, (void *)1, NULL), 0);
}

static void *dup_main(void *arg)
{
    (void)arg;
    child_t c = {0.01, 5, 0, 0, 0};
    acio_task_t *t;
    cr_assert_eq(acio_create_task(&t, child, &c, NULL), 0);
    acio_future_t *futs[3] = {t, t, t};
    void *res[3];
    cr_assert_eq(acio_gather_await(futs, 3, 0, res, NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq((intptr_t)res[i], 5);
    acio_future_unref(t);
    return NULL;
}

Test(gather, same_future_several_times)
{
    cr_assert_eq(acio_run(dup_main, NULL, NULL), 0);
}

static void *plain_futures_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *f[2], *outer;
    void *res[2];
    cr_assert_eq(acio_future_new(loop, &f[0]), 0);
    cr_assert_eq(acio_future_new(loop, &f[1]), 0);
    cr_assert_eq(acio_gather(&outer, f, 2, 0, res, NULL), 0);
    acio_future_set_result(f[1], (void *)2);
    cr_assert_eq(acio_sleep(0), 0);
    cr_assert(!acio_future_done(outer));
    acio_future_set_result(f[0], (void *)1);
    cr_assert_eq(acio_await(outer, NULL), 0);
    cr_assert_eq((intptr_t)res[0], 1);
    cr_assert_eq((intptr_t)res[1], 2);
    acio_future_unref(outer);
    acio_future_unref(f[0]);
    acio_future_unref(f[1]);
    return NULL;
}

Test(gather, plain_futures)
{
    cr_assert_eq(acio_run(plain_futures_main, NULL, NULL), 0);
}

static void *invalid_main(void *arg)
{
    (void)arg;
    acio_future_t *outer = (void *)1;
    acio_future_t *futs[1] = {NULL};
    cr_assert_eq(acio_gather(NULL, NULL, 0, 0, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_gather(&outer, NULL, 2, 0, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_gather(&outer, futs, 1, 0, NULL, NULL), -EINVAL);
    cr_assert_eq(outer, NULL);
    acio_call_t bad = {NULL, NULL, NULL};
    cr_assert_eq(acio_gather_calls(&outer, &bad, 1, NULL, 0, NULL, NULL, NULL), -EINVAL);
    return NULL;
}

Test(gather, invalid_arguments)
{
    cr_assert_eq(acio_gather_await(NULL, 0, 0, NULL, NULL), ACIO_ENOTASK);
    cr_assert_eq(acio_gather(&(acio_future_t *){NULL}, NULL, 0, 0, NULL, NULL), ACIO_ENOLOOP);
    cr_assert_eq(acio_run(invalid_main, NULL, NULL), 0);
}

static void *square(void *arg)
{
    intptr_t v = (intptr_t)arg;
    if (v % 3 == 0 && acio_sleep(0) < 0)
        return NULL;
    return (void *)(v * v);
}

#define BIG 20000

static void *big_main(void *arg)
{
    (void)arg;
    acio_call_t *calls = calloc(BIG, sizeof(*calls));
    void **res = calloc(BIG, sizeof(*res));
    acio_future_t *outer;
    for (intptr_t i = 0; i < BIG; i++)
        calls[i] = (acio_call_t){square, (void *)i, NULL};
    cr_assert_eq(acio_gather_calls(&outer, calls, BIG, NULL, 0, res, NULL, NULL), 0);
    cr_assert_eq(acio_await(outer, NULL), 0);
    for (intptr_t i = 0; i < BIG; i++)
        cr_assert_eq((intptr_t)res[i], i * i);
    acio_future_unref(outer);
    free(calls);
    free(res);
    return NULL;
}

Test(gather, twenty_thousand_tasks)
{
    cr_assert_eq(acio_run(big_main, NULL, NULL), 0);
}

/* A child that survives the first cancellation and only yields to the second. */
typedef struct {
    int cancels_seen;
} stubborn_t;

static void *stubborn(void *arg)
{
    stubborn_t *s = arg;
    for (int i = 0; i < 4; i++) {
        int rc = acio_sleep(0.5);
        if (rc == 0)
            return NULL;
        s->cancels_seen++;
        if (s->cancels_seen >= 2)
            return acio_raise(rc, NULL);
        acio_task_uncancel(acio_current_task());
    }
    return NULL;
}

typedef struct {
    acio_task_t *t[2];
    int rc;
    bool returned;
} stub_arg_t;

static void *stub_awaiter(void *arg)
{
    stub_arg_t *a = arg;
    a->rc = acio_gather_await(a->t, 2, ACIO_GATHER_RETURN_EXCEPTIONS, NULL, NULL);
    a->returned = true;
    return NULL;
}

static void *cancel_twice_main(void *arg)
{
    (void)arg;
    stubborn_t s[2] = {{0}, {0}};
    stub_arg_t a = {.rc = 1};
    acio_task_t *w;
    cr_assert_eq(acio_create_task(&a.t[0], stubborn, &s[0], NULL), 0);
    cr_assert_eq(acio_create_task(&a.t[1], stubborn, &s[1], NULL), 0);
    cr_assert_eq(acio_create_task(&w, stub_awaiter, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    acio_task_cancel(w, NULL);
    cr_assert_eq(acio_sleep(0.01), 0);
    /* The children ignored it: the awaiter is still waiting for them. */
    cr_assert(!a.returned);
    cr_assert_eq(s[0].cancels_seen, 1);
    acio_task_cancel(w, NULL);
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert(a.returned);
    cr_assert_eq(a.rc, -ECANCELED);
    cr_assert_eq(s[0].cancels_seen, 2, "the second cancellation reached the children");
    cr_assert_eq(s[1].cancels_seen, 2);
    cr_assert(acio_future_done(a.t[0]) && acio_future_done(a.t[1]));
    acio_future_unref(w);
    unref_all(a.t, 2);
    return NULL;
}

Test(gather, awaiter_cancelled_again_while_children_finish)
{
    cr_assert_eq(acio_run(cancel_twice_main, NULL, NULL), 0);
}

/* main returns while a child is still to take its last step: the child finishes in the
 * iteration that stops the loop, so the gather's callbacks are still queued when
 * acio_run starts shutting down. asyncio.run's closing rounds run them; were they
 * dropped at close, the gather's state, its outer future and the loop would leak (the
 * _asan variant's leak check fails). */
static void *returns_at_once(void *arg)
{
    return arg;
}

static bool outer_done_seen;

static void note_outer_done(acio_future_t *f, void *data)
{
    (void)data;
    outer_done_seen = acio_future_done(f);
}

static void *main_leaves_gather_unawaited(void *arg)
{
    (void)arg;
    acio_task_t *t;
    acio_future_t *g;
    cr_assert_eq(acio_create_task(&t, returns_at_once, (void *)7, NULL), 0);
    cr_assert_eq(acio_gather(&g, &t, 1, 0, NULL, NULL), 0);
    cr_assert_eq(acio_future_add_done_callback(g, note_outer_done, NULL), 0);
    acio_future_unref(g);
    acio_future_unref(t);
    return NULL;
}

Test(gather, callbacks_queued_at_shutdown_still_run)
{
    outer_done_seen = false;
    cr_assert_eq(acio_run(main_leaves_gather_unawaited, NULL, NULL), 0);
    cr_assert(outer_done_seen, "the gather's done callback never ran");
}
