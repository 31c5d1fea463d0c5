/* Timeout scopes (asyncio.timeout / timeout_at): expiry turned into -ETIMEDOUT, the
 * reason carried by the cancellation, when() / reschedule() / expired(), nesting (the
 * outer scope's expiry passes through the inner one), an outer cancellation passing
 * through untouched, and misuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "acio.h"
#include "support/rc.h"

static void *expire_main(void *arg)
{
    (void)arg;
    acio_timeout_t t;
    cr_assert_eq(acio_timeout_enter(&t, 0.02), 0);
    cr_assert(!acio_timeout_expired(&t));
    int rc = acio_sleep(5);
    cr_assert_eq(rc, -ECANCELED);
    /* The reason names the scope. */
    const char *why = acio_future_error_message(acio_current_task());
    (void)why;
    cr_assert(acio_timeout_expired(&t));
    rc = acio_timeout_exit(&t, rc);
    cr_assert_eq(rc, -ETIMEDOUT, "rc=%s", acio_err_name(rc));
    cr_assert(acio_timeout_expired(&t));
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    cr_assert_eq(acio_sleep(0), 0);
    /* Idempotent exit. */
    cr_assert_eq(acio_timeout_exit(&t, 0), 0);
    return NULL;
}

Test(timeout, expires)
{
    cr_assert_eq(acio_run(expire_main, NULL, NULL), 0);
}

static void *reason_child(void *arg)
{
    acio_timeout_t *t = arg;
    if (acio_timeout_enter(t, 0.5) < 0)
        return NULL;
    int rc = acio_sleep(5);
    /* Leave the scope without converting: the task ends cancelled, with the reason. */
    (void)rc;
    return NULL;
}

static void *reason_main(void *arg)
{
    (void)arg;
    acio_timeout_t t;
    acio_task_t *c;
    cr_assert_eq(acio_create_task(&c, reason_child, &t, NULL), 0);
    cr_assert_eq(acio_await(c, NULL), -ECANCELED);
    const char *msg = acio_future_error_message(c);
    cr_assert_not_null(msg);
    cr_assert(strstr(msg, "timeout 0.5s expired (timeout scope at ") == msg, "msg=%s", msg);
    cr_assert(strstr(msg, "test_timeout.c:") != NULL, "msg=%s", msg);
    acio_future_unref(c);
    return NULL;
}

Test(timeout, cancellation_carries_the_reason)
{
    cr_assert_eq(acio_run(reason_main, NULL, NULL), 0);
}

static void *no_expiry_main(void *arg)
{
    (void)arg;
    acio_timeout_t t;
    acio_loop_t *loop = acio_get_running_loop();
    double now = acio_loop_time(loop);
    cr_assert_eq(acio_timeout_enter(&t, 10), 0);
    cr_assert(fabs(acio_timeout_when(&t) - (now + 10)) < 1e-6);
    cr_assert_eq(acio_sleep(0.01), 0);
    cr_assert_eq(acio_timeout_exit(&t, 0), 0);
    cr_assert(!acio_timeout_expired(&t));
    cr_assert_eq(acio_timeout_reschedule(&t, 1), ACIO_EINVALSTATE, "exited");
    /* An error passes through. */
    cr_assert_eq(acio_timeout_enter(&t, 10), 0);
    cr_assert_eq(acio_timeout_exit(&t, -EIO), -EIO);
    /* No deadline. */
    cr_assert_eq(acio_timeout_enter(&t, ACIO_NO_TIMEOUT), 0);
    cr_assert(isinf(acio_timeout_when(&t)));
    cr_assert_eq(acio_sleep(0.01), 0);
    cr_assert_eq(acio_timeout_exit(&t, 0), 0);
    return NULL;
}

Test(timeout, no_expiry_and_errors_pass_through)
{
    cr_assert_eq(acio_run(no_expiry_main, NULL, NULL), 0);
}

static void *reschedule_main(void *arg)
{
    (void)arg;
    acio_timeout_t t;
    acio_loop_t *loop = acio_get_running_loop();
    int rc;
    /* Push the deadline out: the first 0.02 s pass without expiry. */
    cr_assert_eq(acio_timeout_enter(&t, 0.02), 0);
    cr_assert_eq(acio_timeout_reschedule(&t, acio_loop_time(loop) + 0.08), 0);
    cr_assert_eq(acio_sleep(0.04), 0);
    rc = acio_sleep(5);
    cr_assert_eq(acio_timeout_exit(&t, rc), -ETIMEDOUT);
    /* Remove it. */
    cr_assert_eq(acio_timeout_enter(&t, 0.01), 0);
    cr_assert_eq(acio_timeout_reschedule(&t, ACIO_NO_TIMEOUT), 0);
    cr_assert_eq(acio_sleep(0.03), 0);
    cr_assert_eq(acio_timeout_exit(&t, 0), 0);
    /* Bring it forward to the past: fires on the next iteration. */
    cr_assert_eq(acio_timeout_enter(&t, 10), 0);
    cr_assert_eq(acio_timeout_reschedule(&t, acio_loop_time(loop) - 1), 0);
    rc = acio_sleep(5);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_eq(acio_timeout_reschedule(&t, 10), ACIO_EINVALSTATE, "expiring");
    cr_assert_eq(acio_timeout_exit(&t, rc), -ETIMEDOUT);
    cr_assert_eq(acio_timeout_reschedule(&t, 10), ACIO_EINVALSTATE, "expired");
    return NULL;
}

Test(timeout, reschedule)
{
    cr_assert_eq(acio_run(reschedule_main, NULL, NULL), 0);
}

static void *at_main(void *arg)
{
    (void)arg;
    acio_timeout_t t;
    acio_loop_t *loop = acio_get_running_loop();
    double when = acio_loop_time(loop) + 0.02;
    cr_assert_eq(acio_timeout_enter_at(&t, when), 0);
    cr_assert_eq(acio_timeout_when(&t), when);
    int rc = acio_sleep(5);
    cr_assert_eq(acio_timeout_exit(&t, rc), -ETIMEDOUT);
    /* A deadline already past: expires at the first await. */
    cr_assert_eq(acio_timeout_enter_at(&t, acio_loop_time(loop) - 5), 0);
    rc = acio_sleep(0);
    cr_assert_eq(acio_timeout_exit(&t, rc), -ETIMEDOUT);
    return NULL;
}

Test(timeout, timeout_at)
{
    cr_assert_eq(acio_run(at_main, NULL, NULL), 0);
}

static void *nested_main(void *arg)
{
    (void)arg;
    acio_timeout_t outer, inner;
    int rc;
    /* The outer fires first: the inner lets the cancellation through. */
    cr_assert_eq(acio_timeout_enter(&outer, 0.02), 0);
    cr_assert_eq(acio_timeout_enter(&inner, 5), 0);
    rc = acio_sleep(5);
    rc = acio_timeout_exit(&inner, rc);
    cr_assert_eq(rc, -ECANCELED, "inner: %s", acio_err_name(rc));
    cr_assert(!acio_timeout_expired(&inner));
    rc = acio_timeout_exit(&outer, rc);
    cr_assert_eq(rc, -ETIMEDOUT);
    /* The inner fires first: the outer sees a timeout error, not a cancellation. */
    cr_assert_eq(acio_timeout_enter(&outer, 5), 0);
    cr_assert_eq(acio_timeout_enter(&inner, 0.02), 0);
    rc = acio_sleep(5);
    rc = acio_timeout_exit(&inner, rc);
    cr_assert_eq(rc, -ETIMEDOUT);
    rc = acio_timeout_exit(&outer, rc);
    cr_assert_eq(rc, -ETIMEDOUT);
    cr_assert(!acio_timeout_expired(&outer));
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    return NULL;
}

Test(timeout, nested)
{
    cr_assert_eq(acio_run(nested_main, NULL, NULL), 0);
}

typedef struct {
    int rc;
} scope_arg_t;

static void *scoped(void *arg)
{
    scope_arg_t *a = arg;
    acio_timeout_t t;
    if (acio_timeout_enter(&t, 5) < 0)
        return NULL;
    a->rc = acio_timeout_exit(&t, acio_sleep(5));
    return NULL;
}

static void *outer_cancel_main(void *arg)
{
    (void)arg;
    scope_arg_t a = {1};
    acio_task_t *c;
    cr_assert_eq(acio_create_task(&c, scoped, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    acio_task_cancel(c, "from outside");
    cr_assert_eq(acio_await(c, NULL), -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED);
    cr_assert_str_eq(acio_future_error_message(c), "from outside");
    acio_future_unref(c);
    return NULL;
}

Test(timeout, outer_cancellation_passes_through)
{
    cr_assert_eq(acio_run(outer_cancel_main, NULL, NULL), 0);
}

static void cancel_cb(void *task)
{
    acio_task_cancel(task, "same time");
}

static void *race_child(void *arg)
{
    scope_arg_t *a = arg;
    acio_timeout_t t;
    acio_handle_t *h;
    if (acio_timeout_enter(&t, 0.03) < 0)
        return NULL;
    /* Scheduled after the scope's timer, same deadline: both fire in one iteration. */
    OK(acio_loop_call_later(acio_get_running_loop(), 0.03, cancel_cb, acio_current_task(), &h));
    a->rc = acio_timeout_exit(&t, acio_sleep(5));
    acio_handle_unref(h);
    return NULL;
}

static void *race_main(void *arg)
{
    (void)arg;
    scope_arg_t a = {1};
    acio_task_t *c;
    cr_assert_eq(acio_create_task(&c, race_child, &a, NULL), 0);
    cr_assert_eq(acio_await(c, NULL), -ECANCELED);
    /* Two cancellations, only one is the scope's: the other must not be swallowed. */
    cr_assert_eq(a.rc, -ECANCELED, "rc=%s", acio_err_name(a.rc));
    acio_future_unref(c);
    return NULL;
}

Test(timeout, outer_cancel_at_expiry_is_not_swallowed)
{
    cr_assert_eq(acio_run(race_main, NULL, NULL), 0);
}

Test(timeout, misuse)
{
    acio_timeout_t t;
    cr_assert_eq(acio_timeout_enter(&t, 1), ACIO_ENOTASK);
    cr_assert_eq(acio_timeout_exit(&t, -EIO), -EIO);
    cr_assert_eq(acio_timeout_enter(NULL, 1), ACIO_ENOTASK);
    cr_assert_eq(acio_timeout_enter(&t, __builtin_nan("")), -EINVAL);
    cr_assert_eq(acio_timeout_reschedule(&t, 1), ACIO_EINVALSTATE);
}
