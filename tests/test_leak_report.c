/* The report at loop close of futures and tasks that failed, whose error nobody
 * retrieved, and that are still referenced (a leaked reference): asyncio reports them
 * when the garbage collector frees them; acio, which has none, reports them when the
 * loop closes, naming where each was created, and never twice. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

#include "acio.h"

static int reports;
static char last_message[512], last_error[256], last_origin[256];

static void handler(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop;
    (void)data;
    reports++;
    snprintf(last_message, sizeof last_message, "%s", ctx->message ? ctx->message : "");
    snprintf(last_error, sizeof last_error, "%s", ctx->error_message ? ctx->error_message : "");
    snprintf(last_origin, sizeof last_origin, "%s", ctx->origin ? ctx->origin : "");
}

static acio_future_t *leaked;

static void *fail_and_leak(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), handler, NULL);
    if (acio_future_new(acio_get_running_loop(), &leaked) < 0 ||
        acio_future_set_error(leaked, -EIO, "disk on fire") < 0)
        return acio_raise(-ENOMEM, "setup");
    return NULL; /* the reference is kept past the loop's close */
}

Test(leak_report, failed_future_still_referenced_is_reported_at_close)
{
    cr_assert_eq(acio_run(fail_and_leak, NULL, NULL), 0);
    cr_assert_eq(reports, 1, "reports: %d", reports);
    cr_assert(strstr(last_message, "Future exception was never retrieved"), "%s", last_message);
    cr_assert(strstr(last_message, "still referenced at loop close"), "%s", last_message);
    cr_assert_str_eq(last_error, "disk on fire");
    cr_assert(strstr(last_origin, "+0x"), "origin: %s", last_origin); /* where it was created */
    /* Releasing it now reports nothing more. */
    acio_future_unref(leaked);
    cr_assert_eq(reports, 1);
}

static void *failing_task(void *arg)
{
    (void)arg;
    return acio_raise(-EPIPE, "peer went away");
}

static acio_task_t *leaked_task;

static void *task_fails_and_leaks(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), handler, NULL);
    if (acio_create_task(&leaked_task, failing_task, NULL, "leaky") < 0 || acio_sleep(0.01) < 0)
        return acio_raise(-EIO, "setup");
    return NULL;
}

Test(leak_report, failed_task_still_referenced_is_reported_at_close)
{
    cr_assert_eq(acio_run(task_fails_and_leaks, NULL, NULL), 0);
    cr_assert_eq(reports, 1, "reports: %d", reports);
    cr_assert(strstr(last_message, "Task exception was never retrieved"), "%s", last_message);
    cr_assert_str_eq(last_error, "peer went away");
    acio_future_unref(leaked_task);
    cr_assert_eq(reports, 1);
}

static void *retrieved_or_released(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), handler, NULL);
    acio_future_t *a, *b;
    if (acio_future_new(acio_get_running_loop(), &a) < 0 ||
        acio_future_new(acio_get_running_loop(), &b) < 0)
        return acio_raise(-ENOMEM, "setup");
    if (acio_future_set_error(a, -EIO, "seen") < 0 || acio_future_set_error(b, -EIO, "dropped") < 0)
        return acio_raise(-EIO, "set_error");
    int code = acio_future_error(a); /* retrieved: never reported */
    acio_future_unref(a);
    acio_future_unref(b); /* released unretrieved: reported now, as before, not again at close */
    return code == -EIO ? NULL : acio_raise(-EIO, "code %d", code);
}

Test(leak_report, retrieved_and_released_futures_are_not_reported_at_close)
{
    cr_assert_eq(acio_run(retrieved_or_released, NULL, NULL), 0);
    cr_assert_eq(reports, 1, "reports: %d", reports);
    cr_assert(strstr(last_message, "Future exception was never retrieved"), "%s", last_message);
    cr_assert(!strstr(last_message, "loop close"), "%s", last_message);
    cr_assert_str_eq(last_error, "dropped");
}

static acio_future_t *many[100];

static void *many_failures(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), handler, NULL);
    for (int i = 0; i < 100; i++) {
        if (acio_future_new(acio_get_running_loop(), &many[i]) < 0 ||
            acio_future_set_error(many[i], -EIO, "n%d", i) < 0)
            return acio_raise(-ENOMEM, "setup");
    }
    /* Release every other one (the list stays consistent when entries leave it). */
    for (int i = 0; i < 100; i += 2) {
        if (acio_future_error(many[i]) != -EIO)
            return acio_raise(-EIO, "code");
        acio_future_unref(many[i]);
        many[i] = NULL;
    }
    return NULL;
}

Test(leak_report, only_the_leaked_ones_are_reported)
{
    cr_assert_eq(acio_run(many_failures, NULL, NULL), 0);
    cr_assert_eq(reports, 50, "reports: %d", reports);
    for (int i = 1; i < 100; i += 2)
        acio_future_unref(many[i]);
    cr_assert_eq(reports, 50);
}

/* Debug mode: a second unref, or a use after the last one, aborts with a message naming
 * the object and where it was created, instead of corrupting the pool. */
static void *double_unref(void *arg)
{
    (void)arg;
    acio_loop_set_debug(acio_get_running_loop(), true);
    acio_future_t *f;
    if (acio_future_new(acio_get_running_loop(), &f) < 0)
        return acio_raise(-ENOMEM, "setup");
    acio_future_set_label(f, "the-doomed-future");
    acio_future_unref(f);
    acio_future_unref(f); /* the bug */
    return NULL;
}

Test(misuse, double_unref_aborts_with_the_object_named, .signal = SIGABRT)
{
    cr_assert_fail("acio_run returned %d instead of aborting", acio_run(double_unref, NULL, NULL));
}

static void *await_after_unref(void *arg)
{
    (void)arg;
    acio_loop_set_debug(acio_get_running_loop(), true);
    acio_future_t *f;
    if (acio_future_new(acio_get_running_loop(), &f) < 0 || acio_future_set_result(f, NULL) < 0)
        return acio_raise(-ENOMEM, "setup");
    acio_future_unref(f);
    int rc = acio_await(f, NULL); /* the bug */
    return acio_raise(rc, "not reached");
}

Test(misuse, await_after_unref_aborts, .signal = SIGABRT)
{
    cr_assert_fail("acio_run returned %d instead of aborting",
                   acio_run(await_after_unref, NULL, NULL));
}

/* The message itself, from a child process's stderr. */
Test(misuse, the_message_names_the_object)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        _exit(acio_run(double_unref, NULL, NULL) == 0 ? 0 : 1);
    }
    close(fds[1]);
    char buf[2048] = {0};
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    cr_assert(
        strstr(buf,
               "acio_future_unref of a future labelled the-doomed-future after its last unref"),
        "stderr: %s", buf);
    cr_assert(strstr(buf, "created at"), "stderr: %s", buf);
}

static void noop(void *data)
{
    (void)data;
}

static void *handle_double_unref(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_loop_set_debug(loop, true);
    acio_handle_t *h;
    if (acio_loop_call_later(loop, 10, noop, NULL, &h) < 0)
        return acio_raise(-ENOMEM, "setup");
    acio_handle_cancel(h);
    acio_handle_unref(h);
    if (acio_sleep(0) < 0) /* the loop drops its own reference to the cancelled timer */
        return NULL;
    acio_handle_unref(h); /* the bug */
    return NULL;
}

Test(misuse, handle_double_unref_aborts, .signal = SIGABRT)
{
    cr_assert_fail("acio_run returned %d instead of aborting",
                   acio_run(handle_double_unref, NULL, NULL));
}
