/* Tasks: start order, awaiting (done futures do not yield), results and errors with
 * messages, Python 3.11 cancellation (before the first step, while sleeping, while
 * awaiting a future or a task, cleanup then await again, cancelling()/uncancel()),
 * sleep(0) interleaving, eager start, current_task/all_tasks/names, run() shutdown,
 * detached tasks kept alive and their errors reported, await outside a task, the task
 * dump, and a million suspended tasks. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/rc.h"

static char trace[2048];
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = strlen(trace);
    vsnprintf(trace + n, sizeof trace - n, fmt, ap);
    va_end(ap);
    strcat(trace, " ");
}
static void reset(void)
{
    trace[0] = 0;
}
TestSuite(task, .init = reset);

static void *named(void *arg)
{
    note("%s", (char *)arg);
    return arg;
}

static void *spawn_three(void *arg)
{
    (void)arg;
    acio_task_t *t[3];
    OK(acio_create_task(&t[0], named, "a", NULL));
    OK(acio_create_task(&t[1], named, "b", NULL));
    OK(acio_create_task(&t[2], named, "c", NULL));
    note("spawned");
    for (int i = 0; i < 3; i++) {
        void *r;
        cr_assert_eq(acio_await(t[i], &r), 0);
        note("got-%s", (char *)r);
        acio_future_unref(t[i]);
    }
    return NULL;
}

Test(task, tasks_start_in_creation_order_after_the_creator_yields)
{
    cr_assert_eq(acio_run(spawn_three, NULL, NULL), 0);
    cr_assert_str_eq(trace, "spawned a b c got-a got-b got-c ");
}

static void *ret_arg(void *arg)
{
    return arg;
}

static void *await_done_does_not_yield(void *arg)
{
    (void)arg;
    acio_future_t *f;
    OK(acio_future_new(acio_get_running_loop(), &f));
    acio_future_set_result(f, (void *)5);
    acio_task_t *t;
    OK(acio_create_task(&t, named, "other", NULL));
    void *r;
    cr_assert_eq(acio_await(f, &r), 0);
    cr_assert_eq((long)r, 5);
    note("after-await");
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    acio_future_unref(f);
    return NULL;
}

/* `except CancelledError as e: e.args[0]` inside the cancelled task itself. */
static char seen_msg[64];

static void *reads_its_cancel_message(void *arg)
{
    (void)arg;
    cr_assert_null(acio_task_cancel_message(acio_current_task()), "no cancel yet");
    int rc = acio_sleep(10);
    cr_assert_eq(rc, -ECANCELED);
    const char *m = acio_task_cancel_message(acio_current_task());
    snprintf(seen_msg, sizeof seen_msg, "%s", m ? m : "(null)");
    return NULL;
}

static void *cancel_with_message(void *arg)
{
    (void)arg;
    acio_task_t *t;
    OK(acio_create_task(&t, reads_its_cancel_message, NULL, "victim"));
    OK(acio_sleep(0));
    cr_assert_eq(acio_task_cancel(t, "shutting down"), 1);
    cr_assert_eq(acio_await(t, NULL), -ECANCELED);
    cr_assert_str_eq(acio_task_cancel_message(t), "shutting down", "from outside, after");
    acio_future_unref(t);
    return NULL;
}

Test(task, cancel_message_readable_inside_the_cancelled_task)
{
    cr_assert_eq(acio_run(cancel_with_message, NULL, NULL), 0);
    cr_assert_str_eq(seen_msg, "shutting down");
    cr_assert_null(acio_task_cancel_message(NULL));
}

Test(task, awaiting_a_done_future_does_not_yield)
{
    OK(acio_run(await_done_does_not_yield, NULL, NULL));
    cr_assert_str_eq(trace, "after-await other ");
}

static void *fails(void *arg)
{
    OK(acio_sleep(0));
    return acio_raise(-EPIPE, "wrote to %s", (char *)arg);
}

static void *await_failure(void *arg)
{
    (void)arg;
    acio_task_t *t;
    OK(acio_create_task(&t, fails, "socket", "writer"));
    int rc = acio_await(t, NULL);
    cr_assert_eq(rc, -EPIPE);
    cr_assert_str_eq(acio_future_error_message(t), "wrote to socket");
    cr_assert_str_eq(acio_task_get_name(t), "writer");
    acio_future_unref(t);
    return acio_raise(-ENOENT, "main failed too");
}

Test(task, errors_propagate_with_messages)
{
    char *msg;
    void *r = (void *)1;
    cr_assert_eq(acio_run_ex(await_failure, NULL, &r, &msg), -ENOENT);
    cr_assert_null(r);
    cr_assert_str_eq(msg, "main failed too");
    free(msg);
}

static void *sleeper(void *arg)
{
    note("%s-start", (char *)arg);
    int rc = acio_sleep(10);
    note("%s-woke:%s", (char *)arg, acio_err_name(rc));
    if (rc == -ECANCELED) {
        /* Clean up, awaiting again: allowed after a cancellation. */
        cr_assert_eq(acio_sleep(0.001), 0);
        note("%s-cleaned", (char *)arg);
    }
    return NULL;
}

static void *cancel_scenarios(void *arg)
{
    (void)arg;
    acio_task_t *before, *during;
    OK(acio_create_task(&before, sleeper, "before", NULL));
    OK(acio_create_task(&during, sleeper, "during", NULL));
    cr_assert_eq(acio_task_cancel(before, "early"), 1);
    OK(acio_sleep(0.01));
    cr_assert_eq(acio_task_cancel(during, "late"), 1);
    cr_assert_eq(acio_task_cancel(during, "later"), 1);
    cr_assert_eq(acio_task_cancelling(during), 2);
    cr_assert_eq(acio_await(before, NULL), -ECANCELED);
    cr_assert_str_eq(acio_future_error_message(before), "early");
    cr_assert_eq(acio_await(during, NULL), -ECANCELED);
    cr_assert(acio_future_cancelled(during));
    cr_assert_eq(acio_task_cancel(during, NULL), 0, "already done");
    acio_future_unref(before);
    acio_future_unref(during);
    return NULL;
}

Test(task, cancellation_before_start_and_while_sleeping)
{
    OK(acio_run(cancel_scenarios, NULL, NULL));
    cr_assert_str_eq(trace, "during-start during-woke:ECANCELED during-cleaned ");
}

static void *uncancels(void *arg)
{
    (void)arg;
    int rc = acio_sleep(10);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_eq(acio_task_uncancel(acio_current_task()), 0);
    return (void *)11;
}

static void *uncancel_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    OK(acio_create_task(&t, uncancels, NULL, NULL));
    OK(acio_sleep(0));
    acio_task_cancel(t, NULL);
    void *r;
    cr_assert_eq(acio_await(t, &r), 0, "uncancelled task finishes normally");
    cr_assert_eq((long)r, 11);
    acio_future_unref(t);
    return NULL;
}

Test(task, uncancel_lets_a_task_finish_normally)
{
    cr_assert_eq(acio_run(uncancel_main, NULL, NULL), 0);
}

static acio_future_t *shared;
static void *waits_on_shared(void *arg)
{
    (void)arg;
    return (void *)(long)acio_await(shared, NULL);
}

static void *cancel_propagates(void *arg)
{
    (void)arg;
    OK(acio_future_new(acio_get_running_loop(), &shared));
    acio_task_t *t, *outer;
    OK(acio_create_task(&t, waits_on_shared, NULL, NULL));
    OK(acio_sleep(0));
    cr_assert_eq(acio_task_get_waiter(t), shared);
    acio_task_cancel(t, "stop");
    cr_assert(acio_future_cancelled(shared), "the awaited future is cancelled too");
    cr_assert_eq(acio_await(t, NULL), -ECANCELED);
    acio_future_unref(t);
    /* A task awaiting a task: cancelling the outer cancels the inner. */
    acio_task_t *inner;
    OK(acio_create_task(&inner, sleeper, "inner", NULL));
    OK(acio_create_task(&outer, waits_on_shared, NULL, NULL));
    acio_future_unref(shared);
    shared = inner;
    OK(acio_sleep(0));
    acio_task_cancel(outer, NULL);
    cr_assert_eq(acio_await(outer, NULL), -ECANCELED);
    cr_assert_eq(acio_await(inner, NULL), -ECANCELED);
    acio_future_unref(outer);
    acio_future_unref(inner);
    return NULL;
}

Test(task, cancelling_a_waiting_task_cancels_what_it_awaits)
{
    cr_assert_eq(acio_run(cancel_propagates, NULL, NULL), 0);
}

static void *pinger(void *arg)
{
    for (int i = 0; i < 3; i++) {
        note("%s%d", (char *)arg, i);
        OK(acio_sleep(0));
    }
    return NULL;
}

static void *interleave(void *arg)
{
    (void)arg;
    acio_task_t *a, *b;
    OK(acio_create_task(&a, pinger, "a", NULL));
    OK(acio_create_task(&b, pinger, "b", NULL));
    OK(acio_await(a, NULL));
    OK(acio_await(b, NULL));
    acio_future_unref(a);
    acio_future_unref(b);
    return NULL;
}

Test(task, sleep0_interleaves_one_iteration_at_a_time)
{
    OK(acio_run(interleave, NULL, NULL));
    cr_assert_str_eq(trace, "a0 b0 a1 b1 a2 b2 ");
}

static void *eager_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    acio_task_opts_t opts = {.name = "eager", .eager = true};
    OK(acio_loop_create_task(acio_get_running_loop(), &t, named, "ran-eagerly", &opts));
    note("after-create");
    cr_assert(acio_future_done(t), "an eager task that never suspends is done at once");
    acio_future_unref(t);
    OK(acio_loop_create_task(acio_get_running_loop(), &t, pinger, "e", &opts));
    note("after-create2");
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    return NULL;
}

Test(task, eager_tasks_run_their_first_step_inside_create_task)
{
    OK(acio_run(eager_main, NULL, NULL));
    cr_assert_str_eq(trace, "ran-eagerly after-create e0 after-create2 e1 e2 ");
}

static void *introspect(void *arg)
{
    (void)arg;
    acio_task_t *me = acio_current_task();
    cr_assert_not_null(me);
    cr_assert(acio_is_task(me));
    cr_assert_str_eq(acio_task_get_name(me), "main-task");
    acio_task_t *t;
    OK(acio_create_task(&t, ret_arg, NULL, NULL));
    cr_assert_eq(strncmp(acio_task_get_name(t), "Task-", 5), 0);
    acio_task_set_name(t, "renamed");
    cr_assert_str_eq(acio_task_get_name(t), "renamed");
    acio_task_t *all[4];
    cr_assert_eq(acio_all_tasks(acio_get_running_loop(), all, 4), 2);
    cr_assert_eq(all[0], me);
    cr_assert_eq(all[1], t);
    OK(acio_await(t, NULL));
    cr_assert_eq(acio_all_tasks(acio_get_running_loop(), NULL, 0), 1);
    acio_future_unref(t);
    return NULL;
}

static void *set_name_and_run(void *arg)
{
    acio_task_set_name(acio_current_task(), "main-task");
    return introspect(arg);
}

Test(task, current_task_all_tasks_names)
{
    cr_assert_eq(acio_run(set_name_and_run, NULL, NULL), 0);
}

Test(task, await_outside_a_task_is_an_error)
{
    acio_loop_t *loop;
    OK(acio_loop_new(&loop));
    acio_future_t *f;
    OK(acio_future_new(loop, &f));
    cr_assert_eq(acio_await(f, NULL), ACIO_ENOTASK);
    cr_assert_eq(acio_sleep(0), ACIO_ENOTASK);
    cr_assert_eq(acio_create_task(NULL, ret_arg, NULL, NULL), ACIO_ENOLOOP);
    cr_assert_null(acio_current_task());
    cr_assert_null(acio_raise(-EIO, "x"));
    acio_future_unref(f);
    acio_loop_close(loop);
}

static void *self_await(void *arg)
{
    (void)arg;
    cr_assert_eq(acio_await(acio_current_task(), NULL), -EINVAL);
    cr_assert_eq(acio_await(NULL, NULL), -EINVAL);
    cr_assert_eq(acio_sleep(0.0 / 0.0), -EINVAL);
    return NULL;
}

Test(task, bad_awaits)
{
    cr_assert_eq(acio_run(self_await, NULL, NULL), 0);
}

static int reports;
static void *detached_fail(void *arg)
{
    (void)arg;
    OK(acio_sleep(0.001));
    return acio_raise(-EIO, "nobody listens");
}
static void count_handler(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop;
    (void)data;
    if (strstr(ctx->message, "never retrieved") && ctx->error_message &&
        strcmp(ctx->error_message, "nobody listens") == 0)
        reports++;
}
static void *detached_main(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), count_handler, NULL);
    /* Fire and forget: the loop keeps it alive; its error is reported when it ends. */
    OK(acio_create_task(NULL, detached_fail, NULL, NULL));
    OK(acio_create_task(NULL, pinger, "d", NULL));
    OK(acio_sleep(0.05));
    cr_assert_eq(reports, 1);
    return NULL;
}

Test(task, detached_tasks_run_and_their_errors_are_reported)
{
    reports = 0;
    cr_assert_eq(acio_run(detached_main, NULL, NULL), 0);
    cr_assert_str_eq(trace, "d0 d1 d2 ");
}

static void *cleanup_on_shutdown(void *arg)
{
    int rc = acio_sleep(100);
    note("%s:%s", (char *)arg, acio_err_name(rc));
    return NULL;
}

static void *leaves_tasks(void *arg)
{
    (void)arg;
    OK(acio_create_task(NULL, cleanup_on_shutdown, "x", NULL));
    OK(acio_create_task(NULL, cleanup_on_shutdown, "y", NULL));
    OK(acio_sleep(0));
    return (void *)3;
}

Test(task, run_cancels_leftover_tasks_and_lets_them_clean_up)
{
    void *r;
    cr_assert_eq(acio_run(leaves_tasks, NULL, &r), 0);
    cr_assert_eq((long)r, 3);
    cr_assert_str_eq(trace, "x:ECANCELED y:ECANCELED ");
}

static void *self_cancel(void *arg)
{
    (void)arg;
    acio_task_cancel(acio_current_task(), "me");
    note("still-running");
    int rc = acio_sleep(0);
    note("sleep0:%s", acio_err_name(rc));
    return NULL;
}

Test(task, self_cancel_hits_the_next_suspension)
{
    cr_assert_eq(acio_run(self_cancel, NULL, NULL), -ECANCELED);
    cr_assert_str_eq(trace, "still-running sleep0:ECANCELED ");
}

void *dumped(void *arg);
void *dumped(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(100));
    return NULL;
}

static void *dump_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    OK(acio_loop_create_task(acio_get_running_loop(), &t, dumped, NULL,
                             &(acio_task_opts_t){.name = "sleepy-worker"}));
    OK(acio_sleep(0.001));
    char path[] = "/tmp/acio-dump-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_eq(acio_loop_dump_tasks(acio_get_running_loop(), fd), 0);
    char buf[8192] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    cr_assert(strstr(buf, "sleepy-worker"), "dump: %s", buf);
    cr_assert(strstr(buf, "sleep (wakes at"), "dump: %s", buf);
    cr_assert(strstr(buf, "dumped"), "the backtrace names the task's function: %s", buf);
    acio_task_cancel(t, NULL);
    UNCHECKED(acio_await(t, NULL));
    acio_future_unref(t);
    return NULL;
}

Test(task, dump_shows_name_wait_and_backtrace)
{
    cr_assert_eq(acio_run(dump_main, NULL, NULL), 0);
}

static void *sleep_once(void *arg)
{
    (void)arg;
    return (void *)(long)acio_sleep(0.2);
}

static void *million(void *arg)
{
    long n = (long)arg;
    for (long i = 0; i < n; i++)
        cr_assert_eq(acio_create_task(NULL, sleep_once, NULL, NULL), 0);
    OK(acio_sleep(0.01)); /* every task has started and is suspended in its sleep */
    cr_assert_eq(acio_all_tasks(acio_get_running_loop(), NULL, 0), (size_t)n + 1);
    OK(acio_sleep(0.3));
    cr_assert_eq(acio_all_tasks(acio_get_running_loop(), NULL, 0), 1);
    return NULL;
}

#ifndef ACIO_ASAN
Test(task, a_million_suspended_tasks, .timeout = 240)
{
    cr_assert_eq(acio_run(million, (void *)1000000L, NULL), 0);
}
#else
Test(task, many_suspended_tasks, .timeout = 240)
{
    cr_assert_eq(acio_run(million, (void *)20000L, NULL), 0);
}
#endif

/* ---- cancel scopes and cancellation origin ---- */

static acio_future_t *never_done;

static void *scoped(void *arg)
{
    (void)arg;
    acio_cancel_scope_t scope;
    cr_assert_eq(acio_cancel_scope_enter(&scope, 0.02), 0);
    int rc1 = acio_await(never_done, NULL);
    int rc2 = acio_sleep(0.001);
    int rc3 = acio_sleep(0);
    note("waits:%s,%s,%s", acio_err_name(rc1), acio_err_name(rc2), acio_err_name(rc3));
    cr_assert_eq(acio_cancel_scope_exit(&scope), 1);
    cr_assert_str_eq(scope.reason, "cancel scope deadline passed");
    cr_assert_eq(acio_sleep(0.001), 0, "outside the scope waits work again");
    cr_assert(!acio_future_done(never_done), "the awaited future is not cancelled");
    cr_assert_eq(acio_task_cancelling(acio_current_task()), 0);
    return NULL;
}

static acio_cancel_scope_t *outer_scope;
static void *nested_scopes(void *arg)
{
    (void)arg;
    acio_cancel_scope_t outer, inner;
    OK(acio_cancel_scope_enter(&outer, 0));
    outer_scope = &outer;
    OK(acio_cancel_scope_enter(&inner, 0));
    cr_assert_eq(acio_cancel_scope_exit(&outer), -EINVAL, "not the innermost");
    int rc = acio_sleep(10);
    note("inner-sleep:%s", acio_err_name(rc));
    cr_assert_eq(acio_cancel_scope_exit(&inner), 0, "the inner scope itself was not cancelled");
    cr_assert_eq(acio_sleep(0), -ECANCELED, "still inside the cancelled outer scope");
    cr_assert_eq(acio_cancel_scope_exit(&outer), 1);
    return NULL;
}

static void *scope_main(void *arg)
{
    (void)arg;
    OK(acio_future_new(acio_get_running_loop(), &never_done));
    acio_task_t *t;
    OK(acio_create_task(&t, scoped, NULL, NULL));
    cr_assert_eq(acio_await(t, NULL), 0);
    acio_future_unref(t);
    OK(acio_create_task(&t, nested_scopes, NULL, NULL));
    OK(acio_sleep(0.001));
    acio_cancel_scope_cancel(outer_scope, "stop it");
    cr_assert(acio_cancel_scope_cancelled(outer_scope));
    cr_assert_eq(acio_await(t, NULL), 0);
    acio_future_unref(t);
    acio_future_cancel(never_done, NULL);
    acio_future_unref(never_done);
    return NULL;
}

Test(task, cancel_scopes_are_level_triggered)
{
    cr_assert_eq(acio_run(scope_main, NULL, NULL), 0);
    cr_assert_str_eq(trace, "waits:ECANCELED,ECANCELED,ECANCELED inner-sleep:ECANCELED ");
    cr_assert_eq(acio_cancel_scope_enter(&(acio_cancel_scope_t){0}, 0), ACIO_ENOTASK);
}

static void *victim(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(10));
    acio_cancel_info_t info;
    cr_assert_eq(acio_task_cancel_info(acio_current_task(), &info), 0);
    note("by:%s msg:%s", info.cancelled_by, info.message);
    cr_assert_not_null(info.origin);
    cr_assert(strstr(info.origin_text, "killer"), "origin: %s", info.origin_text);
    return NULL;
}

void *killer(void *arg);
void *killer(void *arg)
{
    OK(acio_sleep(0.001));
    acio_task_cancel(arg, "enough");
    return NULL;
}

static void *origin_main(void *arg)
{
    (void)arg;
    acio_task_t *v, *k;
    OK(acio_create_task(&v, victim, NULL, "victim"));
    OK(acio_create_task(&k, killer, v, "the-killer"));
    UNCHECKED(acio_await(v, NULL));
    OK(acio_await(k, NULL));
    acio_future_unref(v);
    acio_future_unref(k);
    return NULL;
}

Test(task, cancellation_records_who_and_where)
{
    cr_assert_eq(acio_run(origin_main, NULL, NULL), 0);
    cr_assert_str_eq(trace, "by:the-killer msg:enough ");
}

static void *dump_on_signal_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    cr_assert_eq(acio_loop_set_dump_signal(loop, SIGUSR1), 0);
    acio_task_t *t;
    OK(acio_loop_create_task(loop, &t, dumped, NULL,
                             &(acio_task_opts_t){.name = "signalled-dump"}));
    OK(acio_sleep(0.001));
    raise(SIGUSR1);
    OK(acio_sleep(0.01)); /* the dump happens on the loop at its next iteration */
    cr_assert_eq(acio_loop_set_dump_signal(loop, 0), 0);
    acio_task_cancel(t, NULL);
    UNCHECKED(acio_await(t, NULL));
    acio_future_unref(t);
    return NULL;
}

Test(task, dump_on_a_signal)
{
    cr_redirect_stderr();
    cr_assert_eq(acio_run(dump_on_signal_main, NULL, NULL), 0);
    fflush(stderr);
    FILE *err = cr_get_redirected_stderr();
    char buf[8192] = {0};
    fread(buf, 1, sizeof buf - 1, err);
    cr_assert(strstr(buf, "Task 'signalled-dump' suspended"), "stderr: %s", buf);
}
