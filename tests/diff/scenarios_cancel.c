/* Differential scenarios for task cancellation (Python 3.11 semantics): before the first
 * step, while sleeping, cleanup that awaits again, repeated requests and uncancel,
 * cancelling a task that awaits a future or another task, cancel messages, cancelling
 * oneself, and the corner where the awaited future finished before the task woke.
 *
 * Where a C task returns while a cancellation is still requested it ends cancelled
 * (C has no exception to swallow); the Python twins re-raise CancelledError there.
 * Each function mirrors the scenario of the same name in scenarios.py; see diff.h. */
#include "diff.h"

static const char *task_msg(acio_task_t *t)
{
    return acio_future_error_message(t);
}

/* ---- cancel_before_first_step: the body never runs */

static void *cbfs_body(void *arg)
{
    (void)arg;
    say("body started (must not happen)");
    return NULL;
}

static void *cbfs_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, cbfs_body, NULL, NULL));
    say("cancel -> %s", tf(acio_task_cancel(t, NULL) == 1));
    say("cancelling: %d done: %s", acio_task_cancelling(t), tf(acio_future_done(t)));
    int rc = acio_await(t, NULL);
    if (rc == 0)
        say("awaited without error?");
    else
        say("main: %s", diff_err_text(rc, task_msg(t)));
    say("cancelled: %s", tf(acio_future_cancelled(t)));
    say("main cancelling: %d", acio_task_cancelling(acio_current_task()));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_before_first_step)
{
    diff_run(cbfs_main);
}

/* ---- cancel_while_sleeping: seed 003's hello() */

static void *cws_hello(void *arg)
{
    (void)arg;
    say("Hello ...");
    if (acio_sleep(100) == -ECANCELED) {
        say("Task cancelled");
        return NULL; /* still cancelling: ends cancelled, like `raise` */
    }
    say("... World!");
    return NULL;
}

static void *cws_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, cws_hello, NULL, NULL));
    TRY(acio_sleep(0.05));
    say("cancel -> %s", tf(acio_task_cancel(t, NULL) == 1));
    if (acio_await(t, NULL) == -ECANCELED)
        say("main: hello_task cancelled");
    say("cancelled: %s", tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_while_sleeping)
{
    diff_run(cws_main);
}

/* ---- cancel_cleanup_await_again: the cancellation is delivered once; cleanup awaits */

static void *ccaa_worker(void *arg)
{
    (void)arg;
    say("worker sleeps");
    if (acio_sleep(100) == -ECANCELED) {
        say("worker cleanup starts, cancelling %d", acio_task_cancelling(acio_current_task()));
        TRY(acio_sleep(0.05));
        say("cleanup slept (the cancellation is delivered once)");
        TRY(acio_sleep(0));
        say("cleanup done");
    }
    return NULL;
}

static void *ccaa_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, ccaa_worker, NULL, NULL));
    TRY(acio_sleep(0.05));
    acio_task_cancel(t, NULL);
    say("main cancelled worker, done: %s", tf(acio_future_done(t)));
    if (acio_await(t, NULL) == -ECANCELED)
        say("main: worker cancelled: %s", tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_cleanup_await_again)
{
    diff_run(ccaa_main);
}

/* ---- cancel_twice: two requests, one delivery; one uncancel leaves one pending */

static void *ct2_worker(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED) {
        acio_task_t *me = acio_current_task();
        say("worker caught one cancellation, cancelling %d", acio_task_cancelling(me));
        say("uncancel -> %d", acio_task_uncancel(me));
        TRY(acio_sleep(0));
        say("worker still has a request pending, ends cancelled");
    }
    return NULL;
}

static void *ct2_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, ct2_worker, NULL, NULL));
    TRY(acio_sleep(0));
    int r1 = acio_task_cancel(t, NULL);
    int r2 = acio_task_cancel(t, NULL);
    say("cancel -> %s %s cancelling %d", tf(r1 == 1), tf(r2 == 1), acio_task_cancelling(t));
    if (acio_await(t, NULL) == -ECANCELED)
        say("main: worker cancelled: %s", tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_twice)
{
    diff_run(ct2_main);
}

/* ---- cancel_twice_uncancel_all */

static void *ctua_worker(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED) {
        acio_task_t *me = acio_current_task();
        say("worker caught, cancelling %d", acio_task_cancelling(me));
        say("uncancel -> %d", acio_task_uncancel(me));
        say("uncancel -> %d", acio_task_uncancel(me));
    }
    TRY(acio_sleep(0));
    say("worker carries on");
    TRY(acio_sleep(0.05));
    return DIFF_PTR(11);
}

static void *ctua_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    TRY(acio_create_task(&t, ctua_worker, NULL, NULL));
    TRY(acio_sleep(0));
    acio_task_cancel(t, NULL);
    acio_task_cancel(t, NULL);
    say("main awaits worker");
    TRY(acio_await(t, &r));
    say("worker returned %ld cancelled: %s", DIFF_INT(r), tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_twice_uncancel_all)
{
    diff_run(ctua_main);
}

/* ---- uncancel */

static void *unc_worker(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED)
        say("worker refuses: uncancel -> %d", acio_task_uncancel(acio_current_task()));
    TRY(acio_sleep(0.05));
    say("worker finished its sleep");
    return DIFF_PTR(5);
}

static void *unc_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    TRY(acio_create_task(&t, unc_worker, NULL, NULL));
    TRY(acio_sleep(0));
    acio_task_cancel(t, NULL);
    TRY(acio_await(t, &r));
    say("main got %ld cancelled: %s cancelling: %d", DIFF_INT(r), tf(acio_future_cancelled(t)),
        acio_task_cancelling(t));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(uncancel)
{
    diff_run(unc_main);
}

/* ---- cancel_awaiting_future: cancelling the task cancels the future it awaits, at once */

static acio_future_t *caf_fut;

static void caf_cb(acio_future_t *fut, void *data)
{
    (void)data;
    say("fut cb: cancelled %s", tf(acio_future_cancelled(fut)));
}

static void *caf_waiter(void *arg)
{
    (void)arg;
    int rc = acio_await(caf_fut, NULL);
    if (rc < 0)
        say("waiter: %s", diff_err_text(rc, acio_future_error_message(caf_fut)));
    return NULL;
}

static void *caf_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    caf_fut = diff_future_new();
    TRY(acio_future_add_done_callback(caf_fut, caf_cb, NULL));
    TRY(acio_create_task(&t, caf_waiter, NULL, NULL));
    TRY(acio_sleep(0));
    say("cancel -> %s", tf(acio_task_cancel(t, "stop it") == 1));
    say("fut cancelled right away: %s", tf(acio_future_cancelled(caf_fut)));
    say("task done yet: %s", tf(acio_future_done(t)));
    int rc = acio_await(t, NULL);
    if (rc < 0)
        say("main: %s", diff_err_text(rc, task_msg(t)));
    acio_future_unref(t);
    acio_future_unref(caf_fut);
    return NULL;
}

DIFF_SCENARIO(cancel_awaiting_future)
{
    diff_run(caf_main);
}

/* ---- cancel_awaiting_task: cancelling the outer task cancels the task it awaits */

static acio_task_t *cat_inner_ref;

static void *cat_inner(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED)
        say("inner cleanup");
    return NULL;
}

static void *cat_outer(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, cat_inner, NULL, NULL));
    cat_inner_ref = acio_future_ref(t);
    if (acio_await(t, NULL) == -ECANCELED)
        say("outer sees cancellation, inner cancelled: %s", tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    return NULL;
}

static void *cat_main(void *arg)
{
    (void)arg;
    acio_task_t *o;
    TRY(acio_create_task(&o, cat_outer, NULL, NULL));
    TRY(acio_sleep(0.05));
    acio_task_cancel(o, NULL);
    if (acio_await(o, NULL) == -ECANCELED)
        say("main: outer cancelled: %s", tf(acio_future_cancelled(o)));
    say("inner cancelled: %s cancelling: %d", tf(acio_future_cancelled(cat_inner_ref)),
        acio_task_cancelling(cat_inner_ref));
    acio_future_unref(cat_inner_ref);
    acio_future_unref(o);
    return NULL;
}

DIFF_SCENARIO(cancel_awaiting_task)
{
    diff_run(cat_main);
}

/* ---- awaiter_sees_cancellation: a task awaiting a cancelled task gets the
 * cancellation without being cancelled itself, and may return normally. */

static void *asc_target(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(100));
    return NULL;
}

static void *asc_watcher(void *arg)
{
    acio_task_t *t = arg;
    int rc = acio_await(t, NULL);
    if (rc < 0) {
        say("watcher: %s my cancelling: %d", diff_err_text(rc, task_msg(t)),
            acio_task_cancelling(acio_current_task()));
        return "watcher survived";
    }
    return "watcher: no error?";
}

static void *asc_main(void *arg)
{
    (void)arg;
    acio_task_t *t, *w;
    void *r = NULL;
    TRY(acio_create_task(&t, asc_target, NULL, NULL));
    TRY(acio_create_task(&w, asc_watcher, t, NULL));
    TRY(acio_sleep(0.05));
    acio_task_cancel(t, "target dropped");
    TRY(acio_await(w, &r));
    say("main got %s", (const char *)r);
    say("target cancelled: %s watcher cancelled: %s", tf(acio_future_cancelled(t)),
        tf(acio_future_cancelled(w)));
    acio_future_unref(t);
    acio_future_unref(w);
    return NULL;
}

DIFF_SCENARIO(awaiter_sees_cancellation)
{
    diff_run(asc_main);
}

/* ---- cancel_message: before the first step, while sleeping, and without a message */

static void *cm_sleeper(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(100));
    return NULL;
}

static void *cm_main(void *arg)
{
    (void)arg;
    static const char *names[] = {"early", "late", "plain"};
    acio_task_t *ts[3];
    TRY(acio_create_task(&ts[0], cm_sleeper, NULL, NULL));
    acio_task_cancel(ts[0], "early bird");
    TRY(acio_create_task(&ts[1], cm_sleeper, NULL, NULL));
    TRY(acio_sleep(0.05));
    acio_task_cancel(ts[1], "late bird");
    TRY(acio_create_task(&ts[2], cm_sleeper, NULL, NULL));
    TRY(acio_sleep(0));
    acio_task_cancel(ts[2], NULL);
    for (int i = 0; i < 3; i++) {
        int rc = acio_await(ts[i], NULL);
        if (rc < 0)
            say("%s: %s", names[i], diff_err_text(rc, task_msg(ts[i])));
        acio_future_unref(ts[i]);
    }
    return NULL;
}

DIFF_SCENARIO(cancel_message)
{
    diff_run(cm_main);
}

/* ---- self_cancel: a task that cancels itself is cancelled at its next await */

static void *sc_worker(void *arg)
{
    (void)arg;
    acio_task_t *me = acio_current_task();
    say("self cancel -> %s", tf(acio_task_cancel(me, NULL) == 1));
    say("still running, cancelling %d", acio_task_cancelling(me));
    if (acio_sleep(0) == -ECANCELED)
        say("cancelled at the next await");
    else
        say("not cancelled?");
    say("uncancel -> %d", acio_task_uncancel(me));
    TRY(acio_sleep(0));
    return "ok";
}

static void *sc_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    TRY(acio_create_task(&t, sc_worker, NULL, NULL));
    TRY(acio_await(t, &r));
    say("worker returned %s", (const char *)r);
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(self_cancel)
{
    diff_run(sc_main);
}

/* ---- cancel_after_waiter_done: the future finished, then the task was cancelled
 * before it woke up; the task still sees the cancellation. */

static acio_future_t *cawd_fut;

static void *cawd_waiter(void *arg)
{
    (void)arg;
    void *r = NULL;
    int rc = acio_await(cawd_fut, &r);
    if (rc == 0) {
        say("waiter got %ld", DIFF_INT(r));
    } else if (rc == -ECANCELED) {
        TRY(acio_future_result(cawd_fut, &r));
        say("waiter cancelled although fut has result %ld", DIFF_INT(r));
    } else {
        say("waiter: %s", diff_err_text(rc, acio_future_error_message(cawd_fut)));
    }
    return NULL;
}

static void *cawd_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    cawd_fut = diff_future_new();
    TRY(acio_create_task(&t, cawd_waiter, NULL, NULL));
    TRY(acio_sleep(0));
    TRY(acio_future_set_result(cawd_fut, DIFF_PTR(3)));
    say("cancel -> %s", tf(acio_task_cancel(t, NULL) == 1));
    if (acio_await(t, NULL) == -ECANCELED)
        say("main: waiter cancelled: %s", tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    acio_future_unref(cawd_fut);
    return NULL;
}

DIFF_SCENARIO(cancel_after_waiter_done)
{
    diff_run(cawd_main);
}

/* ---- future_cancelled_under_task: someone else cancels the awaited future; the task
 * was never asked to cancel (cancelling() == 0) and propagates the cancellation, which
 * in C is an explicit raise of -ECANCELED. */

static acio_future_t *fcut_fut;

static void *fcut_waiter(void *arg)
{
    (void)arg;
    int rc = acio_await(fcut_fut, NULL);
    if (rc < 0) {
        const char *msg = acio_future_error_message(fcut_fut);
        say("waiter: %s cancelling %d", diff_err_text(rc, msg),
            acio_task_cancelling(acio_current_task()));
        return acio_raise(rc, "%s", msg ? msg : "");
    }
    return NULL;
}

static void *fcut_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    fcut_fut = diff_future_new();
    TRY(acio_create_task(&t, fcut_waiter, NULL, NULL));
    TRY(acio_sleep(0));
    acio_future_cancel(fcut_fut, "fut gone");
    int rc = acio_await(t, NULL);
    if (rc < 0)
        say("main: %s task cancelled: %s", diff_err_text(rc, task_msg(t)),
            tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    acio_future_unref(fcut_fut);
    return NULL;
}

DIFF_SCENARIO(future_cancelled_under_task)
{
    diff_run(fcut_main);
}

/* ---- cancel_done_task: cancel() of a finished or cancelled task is refused */

static void *cdt_quick(void *arg)
{
    (void)arg;
    return DIFF_PTR(1);
}

static void *cdt_sleep(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(100));
    return NULL;
}

static void *cdt_main(void *arg)
{
    (void)arg;
    acio_task_t *t, *s;
    TRY(acio_create_task(&t, cdt_quick, NULL, NULL));
    TRY(acio_await(t, NULL));
    say("cancel finished task -> %s cancelling %d", tf(acio_task_cancel(t, NULL) == 1),
        acio_task_cancelling(t));
    TRY(acio_create_task(&s, cdt_sleep, NULL, NULL));
    TRY(acio_sleep(0));
    acio_task_cancel(s, NULL);
    int rc = acio_await(s, NULL); /* try: await s / except CancelledError: pass */
    if (rc != -ECANCELED)
        diff_unexpected("acio_await(s, NULL)", rc, __FILE__, __LINE__);
    say("cancel cancelled task -> %s cancelling %d", tf(acio_task_cancel(s, NULL) == 1),
        acio_task_cancelling(s));
    acio_future_unref(t);
    acio_future_unref(s);
    return NULL;
}

DIFF_SCENARIO(cancel_done_task)
{
    diff_run(cdt_main);
}

/* ---- cancel_during_sleep0: cancelled while its next step is already scheduled, the
 * task gets the cancellation at the sleep(0) it is suspended in. */

static void *cds_spinner(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        say("spin %d", i);
        if (acio_sleep(0) == -ECANCELED) {
            say("spinner cancelled at its sleep(0)");
            return NULL;
        }
    }
    return NULL;
}

static void *cds_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, cds_spinner, NULL, NULL));
    TRY(acio_sleep(0));
    TRY(acio_sleep(0));
    acio_task_cancel(t, NULL);
    say("main cancelled spinner");
    int rc = acio_await(t, NULL);
    if (rc < 0)
        say("main: %s", diff_err_text(rc, task_msg(t)));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_during_sleep0)
{
    diff_run(cds_main);
}

/* ---- cancel_twice_messages: a sleeping task keeps the first message (its sleep was
 * cancelled with it); a task that has not started gets the last one. */

static void *ctm_sleeper(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(100));
    return NULL;
}

static void *ctm_main(void *arg)
{
    (void)arg;
    static const char *names[] = {"sleeping", "unstarted"};
    acio_task_t *ts[2];
    TRY(acio_create_task(&ts[0], ctm_sleeper, NULL, NULL));
    TRY(acio_sleep(0));
    acio_task_cancel(ts[0], "first");
    acio_task_cancel(ts[0], "second");
    TRY(acio_create_task(&ts[1], ctm_sleeper, NULL, NULL));
    acio_task_cancel(ts[1], "first");
    acio_task_cancel(ts[1], "second");
    for (int i = 0; i < 2; i++) {
        int rc = acio_await(ts[i], NULL);
        if (rc < 0)
            say("%s: %s", names[i], diff_err_text(rc, task_msg(ts[i])));
        acio_future_unref(ts[i]);
    }
    return NULL;
}

DIFF_SCENARIO(cancel_twice_messages)
{
    diff_run(ctm_main);
}

/* ---- cancel_chain: cancelling the top of a chain cancels each awaited task in turn;
 * the cleanups run bottom-up. */

static acio_task_t *cc_mid_ref, *cc_leaf_ref;

static void *cc_leaf(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED)
        say("leaf cleanup");
    return NULL;
}

static void *cc_mid(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, cc_leaf, NULL, NULL));
    cc_leaf_ref = acio_future_ref(t);
    if (acio_await(t, NULL) == -ECANCELED)
        say("mid cleanup");
    acio_future_unref(t);
    return NULL;
}

static void *cc_top(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, cc_mid, NULL, NULL));
    cc_mid_ref = acio_future_ref(t);
    if (acio_await(t, NULL) == -ECANCELED)
        say("top cleanup");
    acio_future_unref(t);
    return NULL;
}

static void *cc_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, cc_top, NULL, NULL));
    for (int i = 0; i < 3; i++) /* top, mid and leaf each start in their own iteration */
        TRY(acio_sleep(0));
    acio_task_cancel(t, NULL);
    if (acio_await(t, NULL) == -ECANCELED)
        say("main: top cancelled");
    say("cancelling top %d mid %d leaf %d", acio_task_cancelling(t),
        acio_task_cancelling(cc_mid_ref), acio_task_cancelling(cc_leaf_ref));
    say("cancelled top %s mid %s leaf %s", tf(acio_future_cancelled(t)),
        tf(acio_future_cancelled(cc_mid_ref)), tf(acio_future_cancelled(cc_leaf_ref)));
    acio_future_unref(cc_leaf_ref);
    acio_future_unref(cc_mid_ref);
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_chain)
{
    diff_run(cc_main);
}

/* ---- cancel_then_return_without_await: a task that cancels itself and returns
 * without awaiting ends cancelled, with the message. */

static void *ctrwa_worker(void *arg)
{
    (void)arg;
    acio_task_cancel(acio_current_task(), "bye");
    say("worker returns 5 without awaiting");
    return DIFF_PTR(5);
}

static void *ctrwa_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    TRY(acio_create_task(&t, ctrwa_worker, NULL, NULL));
    int rc = acio_await(t, &r);
    if (rc == 0)
        say("main got %ld", DIFF_INT(r));
    else
        say("main: %s cancelled: %s", diff_err_text(rc, task_msg(t)), tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_then_return_without_await)
{
    diff_run(ctrwa_main);
}

/* ---- await_cancelled_future_again: awaiting a cancelled future again gives the
 * cancellation at once, without yielding. */

static acio_future_t *acfa_fut;

static void *acfa_waiter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        int rc = acio_await(acfa_fut, NULL);
        if (rc < 0)
            say("waiter await %d: %s", i, diff_err_text(rc, acio_future_error_message(acfa_fut)));
    }
    say("waiter returns");
    return DIFF_PTR(2);
}

static void *acfa_bystander(void *arg)
{
    (void)arg;
    say("bystander runs");
    return NULL;
}

static void *acfa_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    void *r = NULL;
    acfa_fut = diff_future_new();
    TRY(acio_create_task(&t, acfa_waiter, NULL, NULL));
    TRY(acio_sleep(0));
    acio_future_cancel(acfa_fut, "gone");
    TRY(acio_create_task(NULL, acfa_bystander, NULL, NULL));
    say("main awaits waiter");
    TRY(acio_await(t, &r));
    say("waiter returned %ld", DIFF_INT(r));
    acio_future_unref(t);
    acio_future_unref(acfa_fut);
    return NULL;
}

DIFF_SCENARIO(await_cancelled_future_again)
{
    diff_run(acfa_main);
}

/* ---- set_result_after_waiter_cancelled: cancelling the task cancelled the future it
 * awaited, so a producer setting it afterwards finds it done. */

static acio_future_t *sraw_fut;

static void *sraw_waiter(void *arg)
{
    (void)arg;
    UNCHECKED(acio_await(sraw_fut, NULL));
    return NULL;
}

static void *sraw_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    sraw_fut = diff_future_new();
    TRY(acio_create_task(&t, sraw_waiter, NULL, NULL));
    TRY(acio_sleep(0));
    acio_task_cancel(t, NULL);
    int rc = acio_future_set_result(sraw_fut, DIFF_PTR(1));
    if (rc == 0)
        say("set_result accepted?");
    else if (rc == ACIO_EINVALSTATE)
        say("set_result: invalid state, fut cancelled: %s", tf(acio_future_cancelled(sraw_fut)));
    else
        say("set_result: %s", acio_err_name(rc));
    if (acio_await(t, NULL) == -ECANCELED)
        say("main: waiter cancelled");
    acio_future_unref(t);
    acio_future_unref(sraw_fut);
    return NULL;
}

DIFF_SCENARIO(set_result_after_waiter_cancelled)
{
    diff_run(sraw_main);
}

/* ---- self_cancel_then_await_future: a cancellation requested while the task runs is
 * passed on to the future it awaits next, cancelled at once with the message. */

static acio_future_t *sctaf_fut;

static void *sctaf_worker(void *arg)
{
    (void)arg;
    acio_task_cancel(acio_current_task(), "from inside");
    int rc = acio_await(sctaf_fut, NULL);
    if (rc < 0)
        say("worker: %s fut cancelled: %s", diff_err_text(rc, acio_future_error_message(sctaf_fut)),
            tf(acio_future_cancelled(sctaf_fut)));
    return NULL;
}

static void *sctaf_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    sctaf_fut = diff_future_new();
    TRY(acio_future_add_done_callback(sctaf_fut, diff_cb_label, "fut cb"));
    TRY(acio_create_task(&t, sctaf_worker, NULL, NULL));
    int rc = acio_await(t, NULL);
    if (rc < 0)
        say("main: %s", diff_err_text(rc, task_msg(t)));
    acio_future_unref(t);
    acio_future_unref(sctaf_fut);
    return NULL;
}

DIFF_SCENARIO(self_cancel_then_await_future)
{
    diff_run(sctaf_main);
}

/* ---- cancel_then_raise_other: a cancelled task failing with another error during its
 * cleanup ends with that error, not cancelled. */

static void *ctro_worker(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED) {
        say("worker cleanup fails");
        return acio_raise(-EINVAL, "cleanup broke");
    }
    return NULL;
}

static void *ctro_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    TRY(acio_create_task(&t, ctro_worker, NULL, NULL));
    TRY(acio_sleep(0));
    acio_task_cancel(t, NULL);
    int rc = acio_await(t, NULL);
    if (rc == -ECANCELED)
        say("main: cancelled?");
    else if (rc < 0)
        say("main: %s cancelled: %s", diff_err_text(rc, task_msg(t)), tf(acio_future_cancelled(t)));
    acio_future_unref(t);
    return NULL;
}

DIFF_SCENARIO(cancel_then_raise_other)
{
    diff_run(ctro_main);
}
