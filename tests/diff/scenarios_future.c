/* Differential scenarios for futures: done callbacks (order, never inline, added after
 * done, removed), waking several waiters, states and errors, cancelling a future. Each
 * function mirrors the scenario of the same name in scenarios.py; see diff.h. */
#include "diff.h"

/* ---- done_callbacks_order */

static void *dco_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *fut = diff_future_new();
    TRY(acio_future_add_done_callback(fut, diff_cb_label, "cb1"));
    TRY(acio_future_add_done_callback(fut, diff_cb_label, "cb2"));
    TRY(acio_future_add_done_callback(fut, diff_cb_label, "cb3"));
    TRY(acio_loop_call_soon(loop, diff_cb_say, "soon before set_result", NULL));
    TRY(acio_future_set_result(fut, DIFF_PTR(7)));
    say("after set_result (no callback ran inline)");
    TRY(acio_loop_call_soon(loop, diff_cb_say, "soon after set_result", NULL));
    TRY(acio_sleep(0));
    say("main resumed");
    acio_future_unref(fut);
    return NULL;
}

DIFF_SCENARIO(done_callbacks_order)
{
    diff_run(dco_main);
}

/* ---- done_callback_after_done */

static void *dcad_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *fut = diff_future_new();
    TRY(acio_future_set_result(fut, DIFF_PTR(1)));
    TRY(acio_loop_call_soon(loop, diff_cb_say, "soon x", NULL));
    TRY(acio_future_add_done_callback(fut, diff_cb_label, "late cb"));
    say("added late cb (not run inline)");
    TRY(acio_loop_call_soon(loop, diff_cb_say, "soon y", NULL));
    acio_future_t *gone = diff_future_new();
    acio_future_cancel(gone, NULL);
    TRY(acio_future_add_done_callback(gone, diff_cb_label, "late cb on cancelled"));
    TRY(acio_sleep(0));
    say("main resumed");
    acio_future_unref(fut);
    acio_future_unref(gone);
    return NULL;
}

DIFF_SCENARIO(done_callback_after_done)
{
    diff_run(dcad_main);
}

/* ---- remove_done_callback */

static void rdc_one(acio_future_t *fut, void *data)
{
    (void)fut, (void)data;
    say("one (must not run)");
}

static void rdc_two(acio_future_t *fut, void *data)
{
    (void)fut, (void)data;
    say("two");
}

static void rdc_three(acio_future_t *fut, void *data)
{
    (void)fut, (void)data;
    say("three");
}

static void *rdc_main(void *arg)
{
    (void)arg;
    acio_future_t *fut = diff_future_new();
    TRY(acio_future_add_done_callback(fut, rdc_one, NULL));
    TRY(acio_future_add_done_callback(fut, rdc_two, NULL));
    TRY(acio_future_add_done_callback(fut, rdc_one, NULL));
    TRY(acio_future_add_done_callback(fut, rdc_three, NULL));
    say("removed one: %d", acio_future_remove_done_callback(fut, rdc_one, NULL));
    say("removed one again: %d", acio_future_remove_done_callback(fut, rdc_one, NULL));
    TRY(acio_future_set_result(fut, NULL));
    /* Once done, the callbacks are already scheduled: nothing left to remove. */
    say("removed three after done: %d", acio_future_remove_done_callback(fut, rdc_three, NULL));
    /* Added to a done future, a callback is scheduled at once: too late to remove. */
    TRY(acio_future_add_done_callback(fut, rdc_two, NULL));
    say("removed two added after done: %d", acio_future_remove_done_callback(fut, rdc_two, NULL));
    TRY(acio_sleep(0));
    say("main resumed");
    acio_future_unref(fut);
    return NULL;
}

DIFF_SCENARIO(remove_done_callback)
{
    diff_run(rdc_main);
}

/* ---- future_wakes_waiters: set_result wakes the waiters in the order they awaited */

static acio_future_t *fww_fut;

static void *fww_waiter(void *arg)
{
    const char *name = arg;
    void *r = NULL;
    say("%s waiting", name);
    TRY(acio_await(fww_fut, &r));
    say("%s got %ld", name, DIFF_INT(r));
    return NULL;
}

static void *fww_main(void *arg)
{
    (void)arg;
    static const char *names[] = {"w1", "w2", "w3"};
    acio_task_t *ts[3];
    fww_fut = diff_future_new();
    for (int i = 0; i < 3; i++)
        TRY(acio_create_task(&ts[i], fww_waiter, (void *)names[i], NULL));
    TRY(acio_sleep(0));
    TRY(acio_future_set_result(fww_fut, DIFF_PTR(5)));
    say("main set the result");
    TRY(acio_sleep(0));
    say("main resumed");
    for (int i = 0; i < 3; i++) {
        TRY(acio_await(ts[i], NULL));
        acio_future_unref(ts[i]);
    }
    say("all waiters done");
    acio_future_unref(fww_fut);
    return NULL;
}

DIFF_SCENARIO(future_wakes_waiters)
{
    diff_run(fww_main);
}

/* ---- future_states */

static void *fs_main(void *arg)
{
    (void)arg;
    void *r = NULL;
    int rc;
    acio_future_t *fut = diff_future_new();
    say("done: %s", tf(acio_future_done(fut)));
    rc = acio_future_result(fut, &r);
    if (rc == ACIO_EINVALSTATE)
        say("result of pending: invalid state");
    else
        say("result of pending: %s", acio_err_name(rc));
    TRY(acio_future_set_result(fut, DIFF_PTR(3)));
    rc = acio_future_set_result(fut, DIFF_PTR(4));
    if (rc == ACIO_EINVALSTATE)
        say("second set_result: invalid state");
    else
        say("second set_result: %s", acio_err_name(rc));
    say("cancel done future: %s", tf(acio_future_cancel(fut, NULL) == 1));
    TRY(acio_future_result(fut, &r));
    say("result: %ld", DIFF_INT(r));

    acio_future_t *c = diff_future_new();
    say("cancel pending future: %s", tf(acio_future_cancel(c, NULL) == 1));
    say("cancel again: %s", tf(acio_future_cancel(c, NULL) == 1));
    say("cancelled: %s done: %s", tf(acio_future_cancelled(c)), tf(acio_future_done(c)));
    rc = acio_future_result(c, &r);
    say("result of cancelled: %s", diff_err_text(rc, acio_future_error_message(c)));
    rc = acio_future_set_result(c, DIFF_PTR(1));
    if (rc == ACIO_EINVALSTATE)
        say("set_result on cancelled: invalid state");
    else
        say("set_result on cancelled: %s", acio_err_name(rc));
    acio_future_unref(fut);
    acio_future_unref(c);
    return NULL;
}

DIFF_SCENARIO(future_states)
{
    diff_run(fs_main);
}

/* ---- future_exception */

static acio_future_t *fe_fut;

static void *fe_waiter(void *arg)
{
    const char *name = arg;
    int rc = acio_await(fe_fut, NULL);
    if (rc == 0)
        say("%s: no error?", name);
    else
        say("%s: %s", name, diff_err_text(rc, acio_future_error_message(fe_fut)));
    return NULL;
}

static void *fe_main(void *arg)
{
    (void)arg;
    static const char *names[] = {"w1", "w2"};
    acio_task_t *ts[2];
    fe_fut = diff_future_new();
    for (int i = 0; i < 2; i++)
        TRY(acio_create_task(&ts[i], fe_waiter, (void *)names[i], NULL));
    TRY(acio_sleep(0));
    TRY(acio_future_set_error(fe_fut, -EINVAL, "bad input %d", 42));
    for (int i = 0; i < 2; i++) {
        TRY(acio_await(ts[i], NULL));
        acio_future_unref(ts[i]);
    }
    int rc = acio_await(fe_fut, NULL);
    say("main: %s", diff_err_text(rc, acio_future_error_message(fe_fut)));
    acio_future_unref(fe_fut);
    return NULL;
}

DIFF_SCENARIO(future_exception)
{
    diff_run(fe_main);
}

/* ---- future_cancel: a waiter that is not itself cancelled handles the cancellation
 * of the future it awaited and returns normally. */

static acio_future_t *fc_fut;

static void *fc_waiter(void *arg)
{
    (void)arg;
    int rc = acio_await(fc_fut, NULL);
    if (rc < 0) {
        say("waiter: %s", diff_err_text(rc, acio_future_error_message(fc_fut)));
        return "waiter handled it";
    }
    return "waiter: no error?";
}

static void *fc_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    fc_fut = diff_future_new();
    TRY(acio_future_add_done_callback(fc_fut, diff_cb_label, "cb"));
    TRY(acio_create_task(&t, fc_waiter, NULL, NULL));
    TRY(acio_sleep(0));
    say("cancel -> %s", tf(acio_future_cancel(fc_fut, "no longer needed") == 1));
    say("after cancel, cancelled: %s", tf(acio_future_cancelled(fc_fut)));
    TRY(acio_await(t, &r));
    say("waiter result: %s", (const char *)r);
    acio_future_unref(t);
    acio_future_unref(fc_fut);
    return NULL;
}

DIFF_SCENARIO(future_cancel)
{
    diff_run(fc_main);
}
