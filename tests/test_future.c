/* Futures: states, invalid-state errors, results and errors with messages, done
 * callbacks (scheduled in order with call_soon, never inline; added after done;
 * removed), cancellation, and the report of an error nobody retrieved. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "acio.h"
#include "support/rc.h"

static acio_loop_t *L;
static char trace[256];

static void setup(void)
{
    trace[0] = 0;
    cr_assert_eq(acio_loop_new(&L), 0);
}
static void teardown(void)
{
    cr_assert_eq(acio_loop_close(L), 0);
}
TestSuite(future, .init = setup, .fini = teardown);

static void done_cb(acio_future_t *f, void *data)
{
    (void)f;
    strcat(trace, data);
    strcat(trace, " ");
}
static void stop_cb(void *data)
{
    acio_loop_stop(data);
}
static void run_one_iteration(void)
{
    OK(acio_loop_call_soon(L, stop_cb, L, NULL));
    acio_loop_run_forever(L);
}

Test(future, result_and_invalid_state)
{
    acio_future_t *f;
    cr_assert_eq(acio_future_new(L, &f), 0);
    void *r;
    cr_assert_eq(acio_future_state(f), ACIO_FUTURE_PENDING);
    cr_assert_eq(acio_future_result(f, &r), ACIO_EINVALSTATE);
    cr_assert_eq(acio_future_error(f), ACIO_EINVALSTATE);
    cr_assert_eq(acio_future_set_result(f, (void *)7), 0);
    cr_assert_eq(acio_future_set_result(f, (void *)8), ACIO_EINVALSTATE);
    cr_assert_eq(acio_future_set_error(f, -EIO, NULL), ACIO_EINVALSTATE);
    cr_assert_eq(acio_future_cancel(f, NULL), 0);
    cr_assert(acio_future_done(f));
    cr_assert_eq(acio_future_result(f, &r), 0);
    cr_assert_eq((long)r, 7);
    acio_future_unref(f);
}

Test(future, error_with_message)
{
    acio_future_t *f;
    OK(acio_future_new(L, &f));
    cr_assert_eq(acio_future_set_error(f, 5, "x"), -EINVAL, "codes are negative");
    cr_assert_eq(acio_future_set_error(f, -ECANCELED, "x"), -EINVAL);
    cr_assert_eq(acio_future_set_error(f, -ECONNRESET, "peer %s reset", "10.0.0.1"), 0);
    cr_assert_eq(acio_future_result(f, NULL), -ECONNRESET);
    cr_assert_str_eq(acio_future_error_message(f), "peer 10.0.0.1 reset");
    acio_future_unref(f);
}

Test(future, cancel_with_message)
{
    acio_future_t *f;
    OK(acio_future_new(L, &f));
    cr_assert_eq(acio_future_cancel(f, "no longer needed"), 1);
    cr_assert(acio_future_cancelled(f));
    cr_assert_eq(acio_future_result(f, NULL), -ECANCELED);
    cr_assert_str_eq(acio_future_error_message(f), "no longer needed");
    cr_assert_eq(acio_future_cancel(f, NULL), 0);
    acio_future_unref(f);
}

Test(future, callbacks_are_scheduled_in_order_never_inline)
{
    acio_future_t *f;
    OK(acio_future_new(L, &f));
    OK(acio_future_add_done_callback(f, done_cb, "a"));
    OK(acio_future_add_done_callback(f, done_cb, "b"));
    OK(acio_future_add_done_callback(f, done_cb, "c"));
    OK(acio_future_add_done_callback(f, done_cb, "b"));
    cr_assert_eq(acio_future_remove_done_callback(f, done_cb, "b"), 2);
    OK(acio_future_add_done_callback(f, done_cb, "d"));
    acio_future_set_result(f, NULL);
    cr_assert_str_eq(trace, "", "ran inline: %s", trace);
    run_one_iteration();
    cr_assert_str_eq(trace, "a c d ");
    /* Added after done: scheduled at once, runs next iteration. */
    OK(acio_future_add_done_callback(f, done_cb, "late"));
    cr_assert_str_eq(trace, "a c d ");
    run_one_iteration();
    cr_assert_str_eq(trace, "a c d late ");
    acio_future_unref(f);
}

static int reports;
static char report_msg[256];
static void handler(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop;
    (void)data;
    reports++;
    snprintf(report_msg, sizeof report_msg, "%s / %s", ctx->message,
             ctx->error_message ? ctx->error_message : "");
}

Test(future, unretrieved_error_is_reported_when_freed)
{
    reports = 0;
    acio_loop_set_exception_handler(L, handler, NULL);
    acio_future_t *f, *g;
    OK(acio_future_new(L, &f));
    OK(acio_future_new(L, &g));
    acio_future_set_error(f, -EIO, "lost");
    acio_future_set_error(g, -EIO, "seen");
    cr_assert_eq(acio_future_error(g), -EIO);
    acio_future_unref(g);
    cr_assert_eq(reports, 0);
    acio_future_unref(f);
    cr_assert_eq(reports, 1);
    cr_assert(strstr(report_msg, "never retrieved / lost"), "%s", report_msg);
}

Test(future, bad_arguments)
{
    cr_assert_eq(acio_future_new(NULL, NULL), -EINVAL);
    acio_future_t *f;
    cr_assert_eq(acio_future_new(NULL, &f), -EINVAL);
    cr_assert_eq(acio_future_set_result(NULL, NULL), -EINVAL);
    cr_assert_eq(acio_future_add_done_callback(NULL, done_cb, NULL), -EINVAL);
    OK(acio_future_new(L, &f));
    cr_assert_eq(acio_future_add_done_callback(f, NULL, NULL), -EINVAL);
    acio_future_set_label(f, "thing");
    cr_assert_str_eq(acio_future_get_label(f), "thing");
    acio_future_set_data(f, trace);
    cr_assert_eq(acio_future_get_data(f), trace);
    cr_assert_eq(acio_future_get_loop(f), L);
    acio_future_unref(NULL);
    acio_future_unref(f);
}

static void cancel_cb(void *f)
{
    acio_future_cancel(f, NULL);
}

Test(future, run_until_complete)
{
    acio_future_t *f;
    OK(acio_future_new(L, &f));
    OK(acio_loop_call_soon(L, cancel_cb, f, NULL));
    cr_assert_eq(acio_loop_run_until_complete(L, f, NULL), -ECANCELED);
    acio_future_unref(f);
    OK(acio_future_new(L, &f));
    OK(acio_loop_call_soon(L, stop_cb, L, NULL));
    cr_assert_eq(acio_loop_run_until_complete(L, f, NULL), ACIO_ENOTSTARTED,
                 "stopped before the future completed");
    acio_future_unref(f);
}

static void never_runs(acio_future_t *f, void *data)
{
    (void)f;
    (void)data;
    cr_assert_fail("a callback still queued at close must not run");
}

/* Closing a loop drops the callbacks that never ran, as asyncio's close() does; the
 * future each done callback was for must be released with it (the _asan variant's leak
 * check sees the future and the loop otherwise). */
Test(future, done_callback_queued_at_close_releases_future)
{
    acio_loop_t *loop;
    acio_future_t *f;
    cr_assert_eq(acio_loop_new(&loop), 0);
    cr_assert_eq(acio_future_new(loop, &f), 0);
    cr_assert_eq(acio_future_add_done_callback(f, never_runs, NULL), 0);
    cr_assert_eq(acio_future_set_result(f, NULL), 0);
    acio_future_unref(f);
    cr_assert_eq(acio_loop_close(loop), 0);
}
