/* wait (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, timeout, completion order,
 * cancellation of the waiting task), wait_for (result, timeout, result at the deadline,
 * outer cancellation never swallowed, timeout <= 0), as_completed and shield. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "acio.h"
#include "support/rc.h"

typedef struct {
    double delay;
    intptr_t value;
    int fail;
    int observed;
    bool finished;
    bool ignore_cancel; /* return the value even when cancelled */
} child_t;

static void *child(void *arg)
{
    child_t *c = arg;
    c->observed = acio_sleep(c->delay);
    c->finished = true;
    if (c->observed == -ECANCELED && c->ignore_cancel) {
        acio_task_uncancel(acio_current_task());
        return (void *)c->value;
    }
    if (c->observed < 0)
        return acio_raise(c->observed, NULL);
    if (c->fail)
        return acio_raise(c->fail, "child %d failed", (int)c->value);
    return (void *)c->value;
}

static void spawn(child_t *c, size_t n, acio_task_t **t)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(acio_create_task(&t[i], child, &c[i], NULL), 0);
}

static void finish(acio_task_t **t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!acio_future_done(t[i])) {
            acio_future_cancel(t[i], NULL);
            UNCHECKED(acio_await(t[i], NULL));
        }
        (void)acio_future_error(t[i]);
        acio_future_unref(t[i]);
    }
}

/* ---- wait ---- */

static void *all_main(void *arg)
{
    (void)arg;
    child_t c[3] = {
        {.delay = 0.06, .value = 1}, {.delay = 0.01, .value = 2}, {.delay = 0.03, .value = 3}};
    acio_task_t *t[3];
    acio_future_t *done[3], *pending[3];
    size_t nd = 99, np = 99;
    spawn(c, 3, t);
    cr_assert_eq(acio_wait(t, 3, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, done, &nd, pending, &np), 0);
    cr_assert_eq(nd, 3);
    cr_assert_eq(np, 0);
    /* Completion order. */
    cr_assert_eq(done[0], t[1]);
    cr_assert_eq(done[1], t[2]);
    cr_assert_eq(done[2], t[0]);
    finish(t, 3);
    return NULL;
}

Test(wait, all_completed_in_completion_order)
{
    cr_assert_eq(acio_run(all_main, NULL, NULL), 0);
}

static void *first_completed_main(void *arg)
{
    (void)arg;
    child_t c[3] = {
        {.delay = 0.3, .value = 1}, {.delay = 0.01, .value = 2}, {.delay = 0.4, .value = 3}};
    acio_task_t *t[3];
    acio_future_t *done[3], *pending[3];
    size_t nd, np;
    spawn(c, 3, t);
    cr_assert_eq(acio_wait(t, 3, ACIO_NO_TIMEOUT, ACIO_FIRST_COMPLETED, done, &nd, pending, &np),
                 0);
    cr_assert_eq(nd, 1);
    cr_assert_eq(done[0], t[1]);
    cr_assert_eq(np, 2);
    cr_assert_eq(pending[0], t[0]);
    cr_assert_eq(pending[1], t[2]);
    /* wait cancels nothing. */
    cr_assert(!acio_future_cancelled(t[0]));
    finish(t, 3);
    return NULL;
}

Test(wait, first_completed)
{
    cr_assert_eq(acio_run(first_completed_main, NULL, NULL), 0);
}

static void *first_exception_main(void *arg)
{
    (void)arg;
    child_t c[3] = {{.delay = 0.01, .value = 1},
                    {.delay = 0.03, .value = 2, .fail = -EIO},
                    {.delay = 0.4, .value = 3}};
    acio_task_t *t[3];
    acio_future_t *done[3], *pending[3];
    size_t nd, np;
    spawn(c, 3, t);
    cr_assert_eq(acio_wait(t, 3, ACIO_NO_TIMEOUT, ACIO_FIRST_EXCEPTION, done, &nd, pending, &np),
                 0);
    cr_assert_eq(nd, 2);
    cr_assert_eq(done[0], t[0]);
    cr_assert_eq(done[1], t[1]);
    cr_assert_eq(np, 1);
    cr_assert_eq(pending[0], t[2]);
    cr_assert_eq(acio_future_error(t[1]), -EIO);
    finish(t, 3);
    return NULL;
}

Test(wait, first_exception)
{
    cr_assert_eq(acio_run(first_exception_main, NULL, NULL), 0);
}

static void *first_exception_none_main(void *arg)
{
    (void)arg;
    child_t c[2] = {{.delay = 0.01, .value = 1}, {.delay = 0.02, .value = 2}};
    acio_task_t *t[2];
    size_t nd, np;
    spawn(c, 2, t);
    /* No failure: FIRST_EXCEPTION behaves as ALL_COMPLETED; a cancelled future is not
     * an exception. */
    acio_future_cancel(t[0], NULL);
    cr_assert_eq(acio_wait(t, 2, ACIO_NO_TIMEOUT, ACIO_FIRST_EXCEPTION, NULL, &nd, NULL, &np), 0);
    cr_assert_eq(nd, 2);
    cr_assert_eq(np, 0);
    finish(t, 2);
    return NULL;
}

Test(wait, first_exception_without_failure_waits_for_all)
{
    cr_assert_eq(acio_run(first_exception_none_main, NULL, NULL), 0);
}

static void *timeout_main(void *arg)
{
    (void)arg;
    child_t c[3] = {
        {.delay = 0.01, .value = 1}, {.delay = 5, .value = 2}, {.delay = 5, .value = 3}};
    acio_task_t *t[3];
    acio_future_t *done[3], *pending[3];
    size_t nd, np;
    spawn(c, 3, t);
    cr_assert_eq(acio_wait(t, 3, 0.05, ACIO_ALL_COMPLETED, done, &nd, pending, &np), 0);
    cr_assert_eq(nd, 1);
    cr_assert_eq(done[0], t[0]);
    cr_assert_eq(np, 2);
    cr_assert(!acio_future_done(t[1]), "a timeout cancels nothing");
    finish(t, 3);
    return NULL;
}

Test(wait, timeout_leaves_pending)
{
    cr_assert_eq(acio_run(timeout_main, NULL, NULL), 0);
}

static void *already_done_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *f[3], *done[3], *pending[3];
    size_t nd, np;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(acio_future_new(loop, &f[i]), 0);
    acio_future_set_result(f[2], NULL);
    acio_future_set_result(f[0], NULL);
    cr_assert_eq(acio_wait(f, 3, 0, ACIO_ALL_COMPLETED, done, &nd, pending, &np), 0);
    cr_assert_eq(nd, 2);
    cr_assert_eq(done[0], f[0]); /* already done: input order */
    cr_assert_eq(done[1], f[2]);
    cr_assert_eq(pending[0], f[1]);
    for (int i = 0; i < 3; i++)
        acio_future_unref(f[i]);
    return NULL;
}

Test(wait, already_done_and_zero_timeout)
{
    cr_assert_eq(acio_run(already_done_main, NULL, NULL), 0);
}

typedef struct {
    acio_task_t **t;
    int rc;
} waiter_arg_t;

static void *waiter(void *arg)
{
    waiter_arg_t *w = arg;
    size_t nd, np;
    w->rc = acio_wait(w->t, 2, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, NULL, &nd, NULL, &np);
    return NULL;
}

static void *cancel_wait_main(void *arg)
{
    (void)arg;
    child_t c[2] = {{.delay = 0.2, .value = 1}, {.delay = 0.01, .value = 2}};
    acio_task_t *t[2], *w;
    waiter_arg_t wa = {t, 1};
    spawn(c, 2, t);
    cr_assert_eq(acio_create_task(&w, waiter, &wa, NULL), 0);
    cr_assert_eq(acio_sleep(0.05), 0);
    acio_task_cancel(w, NULL);
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert_eq(wa.rc, -ECANCELED);
    /* The waited futures are not cancelled; their callbacks are gone. */
    cr_assert(!acio_future_done(t[0]));
    cr_assert_eq(acio_await(t[0], NULL), 0);
    acio_future_unref(w);
    finish(t, 2);
    return NULL;
}

Test(wait, cancelling_the_waiter)
{
    cr_assert_eq(acio_run(cancel_wait_main, NULL, NULL), 0);
}

static void *wait_invalid_main(void *arg)
{
    (void)arg;
    acio_future_t *f;
    cr_assert_eq(acio_future_new(acio_get_running_loop(), &f), 0);
    cr_assert_eq(acio_wait(&f, 0, 1, ACIO_ALL_COMPLETED, NULL, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_wait(&f, 1, 1, (acio_return_when_t)7, NULL, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_wait(&f, 1, __builtin_nan(""), ACIO_ALL_COMPLETED, NULL, NULL, NULL, NULL),
                 -EINVAL);
    acio_future_unref(f);
    return NULL;
}

Test(wait, invalid_arguments)
{
    cr_assert_eq(acio_wait(NULL, 0, 0, ACIO_ALL_COMPLETED, NULL, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_run(wait_invalid_main, NULL, NULL), 0);
}

/* ---- wait_for ---- */

static void *wait_for_result_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 0.01, .value = 42};
    acio_task_t *t;
    void *res = NULL;
    spawn(&c, 1, &t);
    cr_assert_eq(acio_wait_for(t, 1.0, &res), 0);
    cr_assert_eq((intptr_t)res, 42);
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    finish(&t, 1);
    return NULL;
}

Test(wait_for, result_before_timeout)
{
    cr_assert_eq(acio_run(wait_for_result_main, NULL, NULL), 0);
}

static void *wait_for_timeout_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 5, .value = 42};
    acio_task_t *t;
    spawn(&c, 1, &t);
    int rc = acio_wait_for(t, 0.03, NULL);
    cr_assert_eq(rc, -ETIMEDOUT, "rc=%s", acio_err_name(rc));
    /* The inner task was cancelled and is already done when wait_for returns. */
    cr_assert(acio_future_cancelled(t));
    cr_assert_eq(c.observed, -ECANCELED);
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    cr_assert_eq(acio_sleep(0), 0, "no cancellation left behind");
    finish(&t, 1);
    return NULL;
}

Test(wait_for, timeout_cancels_and_waits)
{
    cr_assert_eq(acio_run(wait_for_timeout_main, NULL, NULL), 0);
}

static void *wait_for_swallow_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 5, .value = 9, .ignore_cancel = true};
    acio_task_t *t;
    void *res = NULL;
    spawn(&c, 1, &t);
    /* The inner task produces a result despite the cancellation: it is not lost. */
    cr_assert_eq(acio_wait_for(t, 0.02, &res), 0);
    cr_assert_eq((intptr_t)res, 9);
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    finish(&t, 1);
    return NULL;
}

Test(wait_for, result_despite_cancellation_is_returned)
{
    cr_assert_eq(acio_run(wait_for_swallow_main, NULL, NULL), 0);
}

static void set_result_cb(void *data)
{
    acio_future_set_result(data, (void *)77);
}

static void *wait_for_deadline_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *f;
    acio_handle_t *h;
    void *res = NULL;
    cr_assert_eq(acio_future_new(loop, &f), 0);
    /* The result is set by a timer scheduled before the timeout's, at the same delay:
     * both fire in the same iteration, the result first (CPython issue 86296). */
    cr_assert_eq(acio_loop_call_later(loop, 0.02, set_result_cb, f, &h), 0);
    cr_assert_eq(acio_wait_for(f, 0.02, &res), 0);
    cr_assert_eq((intptr_t)res, 77);
    acio_handle_unref(h);
    acio_future_unref(f);
    return NULL;
}

Test(wait_for, result_at_the_deadline_is_not_lost)
{
    cr_assert_eq(acio_run(wait_for_deadline_main, NULL, NULL), 0);
}

typedef struct {
    acio_task_t *inner;
    int rc;
} wf_arg_t;

static void *wait_for_caller(void *arg)
{
    wf_arg_t *a = arg;
    a->rc = acio_wait_for(a->inner, 0.05, NULL);
    return NULL;
}

static void *outer_cancel_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 5, .value = 1};
    wf_arg_t a = {NULL, 1};
    acio_task_t *w;
    spawn(&c, 1, &a.inner);
    cr_assert_eq(acio_create_task(&w, wait_for_caller, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    acio_task_cancel(w, "outer");
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED, "rc=%s", acio_err_name(a.rc));
    cr_assert(acio_future_cancelled(a.inner));
    acio_future_unref(w);
    finish(&a.inner, 1);
    return NULL;
}

Test(wait_for, outer_cancellation_is_not_swallowed)
{
    cr_assert_eq(acio_run(outer_cancel_main, NULL, NULL), 0);
}

static void cancel_task_cb(void *data)
{
    acio_task_cancel(data, "outer at the deadline");
}

static void *both_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 5, .value = 1};
    wf_arg_t a = {NULL, 1};
    acio_task_t *w;
    acio_handle_t *h;
    spawn(&c, 1, &a.inner);
    cr_assert_eq(acio_create_task(&w, wait_for_caller, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0), 0); /* w enters wait_for, deadline now + 0.05 */
    /* An outer cancel in the same iteration as the timeout: still -ECANCELED. */
    cr_assert_eq(acio_loop_call_later(acio_get_running_loop(), 0.05, cancel_task_cb, w, &h), 0);
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED, "rc=%s", acio_err_name(a.rc));
    acio_handle_unref(h);
    acio_future_unref(w);
    finish(&a.inner, 1);
    return NULL;
}

Test(wait_for, outer_cancel_at_the_deadline_wins)
{
    cr_assert_eq(acio_run(both_main, NULL, NULL), 0);
}

static void *nonpositive_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *f;
    void *res = NULL;
    child_t c = {.delay = 5, .value = 1};
    acio_task_t *t;
    cr_assert_eq(acio_future_new(loop, &f), 0);
    acio_future_set_result(f, (void *)5);
    cr_assert_eq(acio_wait_for(f, 0, &res), 0);
    cr_assert_eq((intptr_t)res, 5);
    acio_future_unref(f);
    spawn(&c, 1, &t);
    cr_assert_eq(acio_wait_for(t, -1, NULL), -ETIMEDOUT);
    cr_assert(acio_future_cancelled(t));
    /* The task was cancelled before its first step: its body never ran. */
    cr_assert(!c.finished);
    finish(&t, 1);
    /* No timeout at all. */
    c = (child_t){.delay = 0.01, .value = 3};
    spawn(&c, 1, &t);
    cr_assert_eq(acio_wait_for(t, ACIO_NO_TIMEOUT, &res), 0);
    cr_assert_eq((intptr_t)res, 3);
    finish(&t, 1);
    return NULL;
}

Test(wait_for, zero_negative_and_no_timeout)
{
    cr_assert_eq(acio_run(nonpositive_main, NULL, NULL), 0);
}

static void *slow(void *arg)
{
    (void)arg;
    if (acio_sleep(5) < 0)
        return acio_raise(-ECANCELED, NULL);
    return (void *)1;
}

static void *fast(void *arg)
{
    return arg;
}

static void *wait_for_call_main(void *arg)
{
    (void)arg;
    void *res = NULL;
    cr_assert_eq(acio_wait_for_call(slow, NULL, NULL, 0.02, &res), -ETIMEDOUT);
    cr_assert_eq(acio_wait_for_call(fast, (void *)8, NULL, 1, &res), 0);
    cr_assert_eq((intptr_t)res, 8);
    acio_task_opts_t eager = {.eager = true};
    cr_assert_eq(acio_wait_for_call(fast, (void *)9, &eager, 1, &res), 0);
    cr_assert_eq((intptr_t)res, 9);
    return NULL;
}

static void *failing(void *arg)
{
    return acio_raise(-EIO, "disk %s is gone", (const char *)arg);
}

static void *cancelled_inside(void *arg)
{
    (void)arg;
    acio_task_cancel(acio_current_task(), "gave up");
    if (acio_sleep(5) < 0)
        return NULL;
    return NULL;
}

/* The inner task's message reaches the caller: str(e) of the error wait_for raises. */
static void *wait_for_call_message_main(void *arg)
{
    (void)arg;
    void *res = NULL;
    char *msg = (char *)1;
    cr_assert_eq(acio_wait_for_call_ex(failing, "sdb", NULL, 1, &res, &msg), -EIO);
    cr_assert_str_eq(msg, "disk sdb is gone");
    free(msg);
    cr_assert_eq(acio_wait_for_call_ex(slow, NULL, NULL, 0.02, &res, &msg), -ETIMEDOUT);
    cr_assert_null(msg, "TimeoutError has no text");
    cr_assert_eq(acio_wait_for_call_ex(fast, (void *)4, NULL, 1, &res, &msg), 0);
    cr_assert_null(msg);
    cr_assert_eq((intptr_t)res, 4);
    cr_assert_eq(acio_wait_for_call_ex(cancelled_inside, NULL, NULL, 1, &res, &msg), -ECANCELED);
    cr_assert_str_eq(msg, "gave up");
    free(msg);
    cr_assert_eq(acio_wait_for_call_ex(failing, "sdc", NULL, 1, &res, NULL), -EIO,
                 "message may be NULL");
    return NULL;
}

Test(wait_for, call_form_keeps_the_message)
{
    cr_assert_eq(acio_run(wait_for_call_message_main, NULL, NULL), 0);
}

Test(wait_for, call_form)
{
    cr_assert_eq(acio_wait_for(NULL, 1, NULL), -EINVAL);
    cr_assert_eq(acio_run(wait_for_call_main, NULL, NULL), 0);
}

/* ---- as_completed ---- */

static void *as_completed_main(void *arg)
{
    (void)arg;
    child_t c[3] = {{.delay = 0.05, .value = 1},
                    {.delay = 0.01, .value = 2, .fail = -EIO},
                    {.delay = 0.03, .value = 3}};
    acio_task_t *t[3];
    acio_as_completed_t *ac;
    acio_future_t *f;
    spawn(c, 3, t);
    cr_assert_eq(acio_as_completed_new(&ac, t, 3, ACIO_NO_TIMEOUT), 0);
    cr_assert_eq(acio_as_completed_remaining(ac), 3);
    cr_assert_eq(acio_as_completed_next(ac, &f), 0);
    cr_assert_eq(f, t[1]);
    cr_assert_eq(acio_future_result(f, NULL), -EIO);
    cr_assert_eq(acio_as_completed_next(ac, &f), 0);
    cr_assert_eq(f, t[2]);
    cr_assert_eq(acio_as_completed_next(ac, &f), 0);
    cr_assert_eq(f, t[0]);
    cr_assert_eq(acio_as_completed_next(ac, &f), ACIO_ESTOPITERATION);
    cr_assert_eq(acio_as_completed_remaining(ac), 0);
    cr_assert_eq(acio_as_completed_free(ac), 0);
    finish(t, 3);
    return NULL;
}

Test(as_completed, completion_order)
{
    cr_assert_eq(acio_run(as_completed_main, NULL, NULL), 0);
}

/* as_completed(coros): coroutines are wrapped in tasks, handed out as they finish. */
static void *sleeper(void *arg)
{
    if (acio_sleep((double)(intptr_t)arg / 100.0) < 0)
        return NULL;
    return arg;
}

static void *as_completed_calls_main(void *arg)
{
    (void)arg;
    acio_call_t calls[3] = {
        {sleeper, (void *)5, "five"}, {sleeper, (void *)1, "one"}, {failing, "sdd", NULL}};
    acio_as_completed_t *ac;
    acio_future_t *f;
    void *r;
    cr_assert_eq(acio_as_completed_new_calls(&ac, calls, 3, NULL, ACIO_NO_TIMEOUT), 0);
    cr_assert_eq(acio_as_completed_next(ac, &f), 0);
    cr_assert_eq(acio_future_result(f, &r), -EIO, "the failing call finishes first");
    cr_assert_str_eq(acio_future_error_message(f), "disk sdd is gone");
    cr_assert_eq(acio_as_completed_next(ac, &f), 0);
    cr_assert_str_eq(acio_task_get_name(f), "one");
    cr_assert_eq(acio_future_result(f, &r), 0);
    cr_assert_eq((intptr_t)r, 1);
    cr_assert_eq(acio_as_completed_next(ac, &f), 0);
    cr_assert_str_eq(acio_task_get_name(f), "five");
    cr_assert_eq(acio_as_completed_next(ac, &f), ACIO_ESTOPITERATION);
    cr_assert_eq(acio_as_completed_free(ac), 0);
    acio_call_t bad = {NULL, NULL, NULL};
    cr_assert_eq(acio_as_completed_new_calls(&ac, &bad, 1, NULL, 1), -EINVAL);
    cr_assert_null(ac);
    return NULL;
}

Test(as_completed, coroutines_are_wrapped_in_tasks)
{
    cr_assert_eq(acio_run(as_completed_calls_main, NULL, NULL), 0);
}

static void *as_completed_timeout_main(void *arg)
{
    (void)arg;
    child_t c[3] = {
        {.delay = 5, .value = 1}, {.delay = 0.01, .value = 2}, {.delay = 5, .value = 3}};
    acio_task_t *t[3];
    acio_as_completed_t *ac;
    acio_future_t *f;
    spawn(c, 3, t);
    cr_assert_eq(acio_as_completed_new(&ac, t, 3, 0.05), 0);
    cr_assert_eq(acio_as_completed_next(ac, &f), 0);
    cr_assert_eq(f, t[1]);
    cr_assert_eq(acio_as_completed_next(ac, &f), -ETIMEDOUT);
    cr_assert_eq(f, NULL);
    cr_assert_eq(acio_as_completed_next(ac, &f), -ETIMEDOUT);
    cr_assert_eq(acio_as_completed_next(ac, &f), ACIO_ESTOPITERATION);
    cr_assert_eq(acio_as_completed_free(ac), 0);
    finish(t, 3);
    return NULL;
}

Test(as_completed, timeout)
{
    cr_assert_eq(acio_run(as_completed_timeout_main, NULL, NULL), 0);
}

typedef struct {
    acio_as_completed_t *ac;
    int rc;
} ac_arg_t;

static void *ac_waiter(void *arg)
{
    ac_arg_t *a = arg;
    acio_future_t *f;
    a->rc = acio_as_completed_next(a->ac, &f);
    return NULL;
}

static void *as_completed_cancel_main(void *arg)
{
    (void)arg;
    child_t c[2] = {{.delay = 0.05, .value = 1}, {.delay = 0.06, .value = 2}};
    acio_task_t *t[2], *w;
    ac_arg_t a = {NULL, 1};
    acio_future_t *f;
    spawn(c, 2, t);
    cr_assert_eq(acio_as_completed_new(&a.ac, t, 2, ACIO_NO_TIMEOUT), 0);
    cr_assert_eq(acio_create_task(&w, ac_waiter, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    cr_assert_eq(acio_as_completed_free(a.ac), ACIO_ERUNNING);
    acio_task_cancel(w, NULL);
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED);
    /* Still usable after a cancelled next(). */
    cr_assert_eq(acio_as_completed_next(a.ac, &f), 0);
    cr_assert_eq(f, t[0]);
    /* Freed with a callback still registered on t[1]. */
    cr_assert_eq(acio_as_completed_free(a.ac), 0);
    acio_future_unref(w);
    finish(t, 2);
    return NULL;
}

Test(as_completed, cancelled_next_and_early_free)
{
    cr_assert_eq(acio_run(as_completed_cancel_main, NULL, NULL), 0);
}

static void *as_completed_empty_main(void *arg)
{
    (void)arg;
    acio_as_completed_t *ac;
    acio_future_t *f;
    cr_assert_eq(acio_as_completed_new(&ac, NULL, 0, 1.0), 0);
    cr_assert_eq(acio_as_completed_next(ac, &f), ACIO_ESTOPITERATION);
    cr_assert_eq(acio_as_completed_free(ac), 0);
    return NULL;
}

Test(as_completed, empty)
{
    cr_assert_eq(acio_run(as_completed_empty_main, NULL, NULL), 0);
}

/* ---- shield ---- */

typedef struct {
    acio_future_t *shielded;
    int rc;
} sh_arg_t;

static void *shield_awaiter(void *arg)
{
    sh_arg_t *a = arg;
    a->rc = acio_await(a->shielded, NULL);
    return NULL;
}

static void *shield_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 0.05, .value = 4};
    acio_task_t *t, *w;
    sh_arg_t a = {NULL, 1};
    void *res = NULL;
    spawn(&c, 1, &t);
    cr_assert_eq(acio_shield(&a.shielded, t), 0);
    cr_assert_neq(a.shielded, t);
    cr_assert_eq(acio_create_task(&w, shield_awaiter, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    acio_task_cancel(w, NULL);
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED);
    cr_assert(acio_future_cancelled(a.shielded));
    /* The inner task did not notice. */
    cr_assert(!acio_future_done(t));
    cr_assert_eq(acio_await(t, &res), 0);
    cr_assert_eq((intptr_t)res, 4);
    cr_assert_eq(c.observed, 0);
    acio_future_unref(a.shielded);
    acio_future_unref(w);
    /* Mirrors the result; a done inner comes back as itself. */
    acio_future_t *s;
    cr_assert_eq(acio_shield(&s, t), 0);
    cr_assert_eq(s, t);
    acio_future_unref(s);
    finish(&t, 1);
    return NULL;
}

Test(shield, cancellation_stops_at_the_shield)
{
    cr_assert_eq(acio_run(shield_main, NULL, NULL), 0);
}

static void *shield_mirror_main(void *arg)
{
    (void)arg;
    child_t c[3] = {{.delay = 0.01, .value = 4},
                    {.delay = 0.01, .value = 5, .fail = -EIO},
                    {.delay = 1, .value = 6}};
    acio_task_t *t[3];
    acio_future_t *s[3];
    void *res = NULL;
    spawn(c, 3, t);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(acio_shield(&s[i], t[i]), 0);
    acio_future_cancel(t[2], "inner cancelled");
    cr_assert_eq(acio_await(s[0], &res), 0);
    cr_assert_eq((intptr_t)res, 4);
    cr_assert_eq(acio_await(s[1], NULL), -EIO);
    cr_assert_str_eq(acio_future_error_message(s[1]), "child 5 failed");
    cr_assert_eq(acio_await(s[2], NULL), -ECANCELED);
    cr_assert(acio_future_cancelled(s[2]));
    for (int i = 0; i < 3; i++)
        acio_future_unref(s[i]);
    finish(t, 3);
    return NULL;
}

Test(shield, mirrors_result_error_and_inner_cancellation)
{
    cr_assert_eq(acio_run(shield_mirror_main, NULL, NULL), 0);
}

static void *stubborn_once(void *arg)
{
    (void)arg;
    if (acio_sleep(5) == 0)
        return NULL;
    acio_task_uncancel(acio_current_task());
    if (acio_sleep(0.2) < 0) /* keeps running after the first cancellation */
        return acio_raise(-ECANCELED, NULL);
    return (void *)1;
}

static void *zero_caller(void *arg)
{
    wf_arg_t *a = arg;
    a->rc = acio_wait_for(a->inner, 0, NULL);
    return NULL;
}

static void *zero_cancel_main(void *arg)
{
    (void)arg;
    wf_arg_t a = {NULL, 1};
    acio_task_t *w;
    cr_assert_eq(acio_create_task(&a.inner, stubborn_once, NULL, NULL), 0);
    cr_assert_eq(acio_sleep(0), 0); /* inner starts */
    cr_assert_eq(acio_create_task(&w, zero_caller, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.02), 0);
    /* w waits in wait_for(timeout=0) for the inner task to finish its cancellation. */
    cr_assert_eq(a.rc, 1);
    acio_task_cancel(w, NULL);
    cr_assert_eq(acio_await(w, NULL), -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED, "rc=%s", acio_err_name(a.rc));
    acio_future_unref(w);
    finish(&a.inner, 1);
    return NULL;
}

Test(wait_for, cancelled_while_cancelling_the_inner_task)
{
    cr_assert_eq(acio_run(zero_cancel_main, NULL, NULL), 0);
}

/* The waiting task is cancelled in the iteration in which its futures finish: acio_wait
 * returns while their done callbacks are still queued. If the loop is then closed
 * without another iteration (seed 004's `loop.stop(); loop.run_forever(); loop.close()`
 * after cancelling every task), closing drops those callbacks unrun, and the state they
 * share must be freed with them (the ASan build's leak check fails this test if not). */
static void run_one_iteration(acio_loop_t *loop)
{
    cr_assert_eq(acio_loop_stop(loop), 0);
    cr_assert_eq(acio_loop_run_forever(loop), 0);
}

Test(wait, loop_closed_with_its_callbacks_queued)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    child_t c[2] = {{.delay = 10, .value = 1}, {.delay = 10, .value = 2}};
    acio_task_t *t[2], *w;
    waiter_arg_t wa = {t, 1};
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(acio_loop_create_task(loop, &t[i], child, &c[i], NULL), 0);
    cr_assert_eq(acio_loop_create_task(loop, &w, waiter, &wa, NULL), 0);
    run_one_iteration(loop); /* everyone starts and waits */
    cr_assert(!acio_future_done(w));
    acio_task_cancel(t[0], NULL);
    acio_task_cancel(t[1], NULL);
    acio_task_cancel(w, NULL);
    run_one_iteration(loop); /* all three end; the children's callbacks stay queued */
    cr_assert(acio_future_cancelled(t[0]) && acio_future_cancelled(t[1]));
    cr_assert(acio_future_cancelled(w));
    cr_assert_eq(wa.rc, -ECANCELED);
    acio_future_unref(t[0]);
    acio_future_unref(t[1]);
    acio_future_unref(w);
    cr_assert_eq(acio_loop_close(loop), 0);
}

/* The same, but the loop keeps running: the queued callbacks free the state. */
Test(wait, callbacks_run_after_the_waiter_was_cancelled)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    child_t c[2] = {{.delay = 10, .value = 1}, {.delay = 10, .value = 2}};
    acio_task_t *t[2], *w;
    waiter_arg_t wa = {t, 1};
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(acio_loop_create_task(loop, &t[i], child, &c[i], NULL), 0);
    cr_assert_eq(acio_loop_create_task(loop, &w, waiter, &wa, NULL), 0);
    run_one_iteration(loop);
    acio_task_cancel(t[0], NULL);
    acio_task_cancel(t[1], NULL);
    acio_task_cancel(w, NULL);
    run_one_iteration(loop);
    run_one_iteration(loop); /* the queued callbacks run */
    cr_assert_eq(wa.rc, -ECANCELED);
    acio_future_unref(t[0]);
    acio_future_unref(t[1]);
    acio_future_unref(w);
    cr_assert_eq(acio_loop_close(loop), 0);
}
