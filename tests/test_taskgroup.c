/* TaskGroup: exit waits for every child; the first failure cancels the siblings and the
 * parent's pending await; all errors are collected with their tasks and messages; an
 * outside cancellation of the parent cancels the children and comes out as -ECANCELED;
 * an error of the body cancels the children and is reported last; eager children;
 * misuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "acio.h"
#include "support/rc.h"

typedef struct {
    double delay;
    int fail;
    int observed;
    bool finished;
    char *log; /* appends one letter when done */
    char letter;
} child_t;

static void *child(void *arg)
{
    child_t *c = arg;
    c->observed = acio_sleep(c->delay);
    c->finished = true;
    if (c->log != NULL)
        strncat(c->log, &c->letter, 1);
    if (c->observed < 0)
        return acio_raise(c->observed, NULL);
    if (c->fail)
        return acio_raise(c->fail, "child %c failed", c->letter);
    return NULL;
}

static void *all_ok_main(void *arg)
{
    (void)arg;
    char log[8] = "";
    child_t c[3] = {{.delay = 0.03, .log = log, .letter = 'a'},
                    {.delay = 0.01, .log = log, .letter = 'b'},
                    {.delay = 0.02, .log = log, .letter = 'c'}};
    acio_taskgroup_t *tg;
    acio_task_t *t;
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(acio_taskgroup_create_task(tg, i == 0 ? &t : NULL, child, &c[i], NULL), 0);
    cr_assert_eq(acio_taskgroup_size(tg), 3);
    cr_assert_eq(acio_taskgroup_exit(tg, 0), 0);
    cr_assert_str_eq(log, "bca");
    cr_assert_eq(acio_taskgroup_size(tg), 0);
    size_t n = 9;
    acio_taskgroup_errors(tg, &n);
    cr_assert_eq(n, 0);
    cr_assert(acio_future_done(t));
    /* Finished: no more tasks. */
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, child, &c[0], NULL), ACIO_EINVALSTATE);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    acio_future_unref(t);
    return NULL;
}

Test(taskgroup, exit_waits_for_all)
{
    cr_assert_eq(acio_run(all_ok_main, NULL, NULL), 0);
}

static void *failure_main(void *arg)
{
    (void)arg;
    char log[8] = "";
    child_t c[4] = {{.delay = 0.5, .log = log, .letter = 'a'},
                    {.delay = 0.01, .fail = -EIO, .log = log, .letter = 'b'},
                    {.delay = 0.01, .fail = -EPIPE, .log = log, .letter = 'c'},
                    {.delay = 0.6, .log = log, .letter = 'd'}};
    acio_taskgroup_t *tg;
    acio_task_t *t[4];
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(acio_taskgroup_create_task(tg, &t[i], child, &c[i], NULL), 0);
    /* The body's await is cancelled by the failing child. */
    int rc = acio_sleep(5);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, child, &c[0], NULL), ACIO_EINVALSTATE,
                 "shutting down");
    rc = acio_taskgroup_exit(tg, rc);
    cr_assert_eq(rc, -EIO, "rc=%s", acio_err_name(rc));
    /* Siblings were cancelled; b and c both failed in the same iteration. */
    cr_assert_eq(c[0].observed, -ECANCELED);
    cr_assert_eq(c[3].observed, -ECANCELED);
    cr_assert(acio_future_cancelled(t[0]));
    /* The cancellation carries the reason. */
    cr_assert_str_eq(acio_future_error_message(t[0]),
                     "TaskGroup: task 'Task-3' failed: child b failed");
    size_t n;
    const acio_taskgroup_error_t *e = acio_taskgroup_errors(tg, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(e[0].task, t[1]);
    cr_assert_eq(e[0].code, -EIO);
    cr_assert_str_eq(e[0].message, "child b failed");
    cr_assert_eq(e[1].task, t[2]);
    cr_assert_eq(e[1].code, -EPIPE);
    /* The parent is no longer cancelled. */
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    cr_assert_eq(acio_sleep(0), 0);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    for (int i = 0; i < 4; i++)
        acio_future_unref(t[i]);
    return NULL;
}

Test(taskgroup, first_failure_cancels_siblings_and_parent)
{
    cr_assert_eq(acio_run(failure_main, NULL, NULL), 0);
}

typedef struct {
    child_t c[2];
    int rc;
    int body_rc;
} body_arg_t;

static void *group_body(void *arg)
{
    body_arg_t *a = arg;
    acio_taskgroup_t *tg;
    if (acio_taskgroup_new(&tg) < 0)
        return NULL;
    OK(acio_taskgroup_enter(tg));
    OK(acio_taskgroup_create_task(tg, NULL, child, &a->c[0], NULL));
    OK(acio_taskgroup_create_task(tg, NULL, child, &a->c[1], NULL));
    a->body_rc = acio_sleep(5);
    a->rc = acio_taskgroup_exit(tg, a->body_rc);
    acio_taskgroup_free(tg);
    return NULL;
}

static void *outer_cancel_main(void *arg)
{
    (void)arg;
    body_arg_t a = {.c = {{.delay = 5}, {.delay = 5}}, .rc = 1};
    acio_task_t *p;
    cr_assert_eq(acio_create_task(&p, group_body, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    acio_task_cancel(p, "outside");
    cr_assert_eq(acio_await(p, NULL), -ECANCELED);
    cr_assert_eq(a.body_rc, -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED);
    cr_assert_eq(a.c[0].observed, -ECANCELED);
    cr_assert_eq(a.c[1].observed, -ECANCELED);
    acio_future_unref(p);
    return NULL;
}

Test(taskgroup, outer_cancellation_cancels_children)
{
    cr_assert_eq(acio_run(outer_cancel_main, NULL, NULL), 0);
}

static void *exit_cancel_body(void *arg)
{
    body_arg_t *a = arg;
    acio_taskgroup_t *tg;
    if (acio_taskgroup_new(&tg) < 0)
        return NULL;
    OK(acio_taskgroup_enter(tg));
    OK(acio_taskgroup_create_task(tg, NULL, child, &a->c[0], NULL));
    OK(acio_taskgroup_create_task(tg, NULL, child, &a->c[1], NULL));
    a->rc = acio_taskgroup_exit(tg, 0); /* cancelled while waiting in exit */
    acio_taskgroup_free(tg);
    return NULL;
}

static void *exit_cancel_main(void *arg)
{
    (void)arg;
    /* b would fail, but long after the cancellation (a 0.02 s margin lost races on a busy
     * machine: both timers fired in one iteration). */
    body_arg_t a = {.c = {{.delay = 5}, {.delay = 1.0, .fail = -EIO}}, .rc = 1};
    acio_task_t *p;
    cr_assert_eq(acio_create_task(&p, exit_cancel_body, &a, NULL), 0);
    cr_assert_eq(acio_sleep(0.01), 0);
    acio_task_cancel(p, "outside");
    cr_assert_eq(acio_await(p, NULL), -ECANCELED);
    cr_assert_eq(a.rc, -ECANCELED);
    cr_assert_eq(a.c[0].observed, -ECANCELED);
    cr_assert_eq(a.c[1].observed, -ECANCELED, "cancelled before failing");
    acio_future_unref(p);
    return NULL;
}

Test(taskgroup, cancellation_while_exit_waits)
{
    cr_assert_eq(acio_run(exit_cancel_main, NULL, NULL), 0);
}

static void *body_error_main(void *arg)
{
    (void)arg;
    child_t c[2] = {{.delay = 5}, {.delay = 0.02, .fail = -EPIPE}};
    acio_taskgroup_t *tg;
    acio_task_t *t[2];
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    cr_assert_eq(acio_taskgroup_create_task(tg, &t[0], child, &c[0], NULL), 0);
    cr_assert_eq(acio_taskgroup_create_task(tg, &t[1], child, &c[1], NULL), 0);
    cr_assert_eq(acio_sleep(0), 0); /* let them start */
    /* The body fails on its own (like `1 / 0` inside `async with`). */
    int rc = acio_taskgroup_exit(tg, -EINVAL);
    cr_assert_eq(rc, -EINVAL);
    cr_assert_eq(c[0].observed, -ECANCELED);
    cr_assert_eq(c[1].observed, -ECANCELED);
    cr_assert(acio_future_cancelled(t[0]));
    cr_assert(acio_future_cancelled(t[1]));
    acio_future_unref(t[0]);
    acio_future_unref(t[1]);
    size_t n;
    const acio_taskgroup_error_t *e = acio_taskgroup_errors(tg, &n);
    cr_assert_eq(n, 1);
    cr_assert_null(e[0].task);
    cr_assert_eq(e[0].code, -EINVAL);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, body_error_cancels_children)
{
    cr_assert_eq(acio_run(body_error_main, NULL, NULL), 0);
}

static void *body_error_after_child_main(void *arg)
{
    (void)arg;
    child_t c[1] = {{.delay = 0.01, .fail = -EPIPE}};
    acio_taskgroup_t *tg;
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, child, &c[0], NULL), 0);
    int rc = acio_sleep(5);
    cr_assert_eq(rc, -ECANCELED);
    rc = acio_taskgroup_exit(tg, -ENOENT);
    /* Children's errors first, then the body's. */
    cr_assert_eq(rc, -EPIPE);
    size_t n;
    const acio_taskgroup_error_t *e = acio_taskgroup_errors(tg, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(e[1].code, -ENOENT);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, errors_in_order_body_last)
{
    cr_assert_eq(acio_run(body_error_after_child_main, NULL, NULL), 0);
}

/* The body's error keeps its message (exit_error), and the group's text lists every
 * sub-error as an ExceptionGroup's traceback would. */
static void *body_message_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 0, .fail = -ECONNRESET, .letter = 'x'};
    acio_taskgroup_t *tg;
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_null(acio_taskgroup_message(tg));
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, child, &c, NULL), 0);
    /* The child fails first and the group cancels this body's wait; the body then
     * fails in its own way while handling that. */
    cr_assert_eq(acio_sleep(5), -ECANCELED);
    int rc = acio_taskgroup_exit_error(tg, -EIO, "body failed on row %d", 7);
    cr_assert_eq(rc, -ECONNRESET, "the first error: %s", acio_err_name(rc));
    size_t n;
    const acio_taskgroup_error_t *e = acio_taskgroup_errors(tg, &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(e[0].message, "child x failed");
    cr_assert_null(e[1].task);
    cr_assert_eq(e[1].code, -EIO);
    cr_assert_str_eq(e[1].message, "body failed on row 7");
    cr_assert_str_eq(acio_taskgroup_message(tg),
                     "unhandled errors in a TaskGroup (2 sub-exceptions): [1] ECONNRESET: "
                     "child x failed; [2] EIO: body failed on row 7");
    cr_assert_eq(acio_taskgroup_free(tg), 0);

    /* One error, no message: Python's singular, and the code's own sentence. */
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    cr_assert_eq(acio_taskgroup_exit(tg, -EPIPE), -EPIPE);
    cr_assert_str_eq(acio_taskgroup_message(tg),
                     "unhandled errors in a TaskGroup (1 sub-exception): [1] EPIPE: Broken pipe");
    cr_assert_eq(acio_taskgroup_free(tg), 0);

    /* No error: no message. */
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    cr_assert_eq(acio_taskgroup_exit_error(tg, 0, "ignored"), 0);
    cr_assert_null(acio_taskgroup_message(tg));
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, body_error_message_and_group_text)
{
    cr_assert_eq(acio_run(body_message_main, NULL, NULL), 0);
}

static void *eager_fail(void *arg)
{
    (void)arg;
    return acio_raise(-EIO, "eager failure");
}

static void *eager_main(void *arg)
{
    (void)arg;
    child_t c = {.delay = 5};
    acio_taskgroup_t *tg;
    acio_task_opts_t eager = {.eager = true};
    acio_task_t *t;
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, child, &c, NULL), 0);
    /* Fails inside create_task: the group aborts at once. */
    cr_assert_eq(acio_taskgroup_create_task(tg, &t, eager_fail, NULL, &eager), 0);
    cr_assert(acio_future_done(t));
    cr_assert_eq(acio_taskgroup_size(tg), 1);
    int rc = acio_sleep(5); /* the pending cancellation of this task lands here */
    cr_assert_eq(rc, -ECANCELED);
    rc = acio_taskgroup_exit(tg, rc);
    cr_assert_eq(rc, -EIO);
    cr_assert(!c.finished, "cancelled before its first step");
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    acio_future_unref(t);
    return NULL;
}

Test(taskgroup, eager_child_failing_at_once)
{
    cr_assert_eq(acio_run(eager_main, NULL, NULL), 0);
}

static void *misuse_main(void *arg)
{
    (void)arg;
    acio_taskgroup_t *tg;
    child_t c = {.delay = 0.01};
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, child, &c, NULL), ACIO_EINVALSTATE);
    cr_assert_eq(acio_taskgroup_exit(tg, 0), ACIO_EINVALSTATE);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), ACIO_EINVALSTATE);
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_taskgroup_create_task(tg, NULL, child, &c, NULL), 0);
    cr_assert_eq(acio_taskgroup_free(tg), ACIO_EINVALSTATE, "children still running");
    cr_assert_eq(acio_taskgroup_exit(tg, 0), 0);
    cr_assert_eq(acio_taskgroup_exit(tg, 0), ACIO_EINVALSTATE);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, misuse)
{
    acio_taskgroup_t *tg;
    cr_assert_eq(acio_taskgroup_new(NULL), -EINVAL);
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), ACIO_ENOTASK);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    cr_assert_eq(acio_run(misuse_main, NULL, NULL), 0);
}
