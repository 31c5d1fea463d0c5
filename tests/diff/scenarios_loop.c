/* Differential scenarios for the event loop alone (no tasks): the ready FIFO, the
 * iteration boundary, timers, handle cancellation, stop and nested runs. Each function
 * mirrors the scenario of the same name in scenarios.py; see diff.h. */
#include <pthread.h>

#include "diff.h"

DIFF_SCENARIO(call_soon_fifo)
{
    static const char *msgs[] = {"cb 0", "cb 1", "cb 2", "cb 3", "cb 4", "cb 5"};
    acio_loop_t *loop;
    TRY(acio_loop_new(&loop));
    for (int i = 0; i < 6; i++)
        TRY(acio_loop_call_soon(loop, diff_cb_say, (void *)msgs[i], NULL));
    TRY(acio_loop_call_soon(loop, diff_cb_stop, loop, NULL));
    TRY(acio_loop_run_forever(loop));
    say("stopped");
    TRY(acio_loop_close(loop));
}

/* ---- call_soon_next_iteration: what a callback schedules runs in the next iteration */

static acio_loop_t *cni_loop;

static void cni_a2(void *data)
{
    (void)data;
    say("a2");
    TRY(acio_loop_call_soon(cni_loop, diff_cb_say, "a2 -> a3", NULL));
}

static void cni_a(void *data)
{
    (void)data;
    say("a");
    TRY(acio_loop_call_soon(cni_loop, diff_cb_say, "a -> a1", NULL));
    TRY(acio_loop_call_soon(cni_loop, cni_a2, NULL, NULL));
}

DIFF_SCENARIO(call_soon_next_iteration)
{
    static diff_ticker_t ticker;
    TRY(acio_loop_new(&cni_loop));
    diff_ticker_start(&ticker, cni_loop, 3);
    TRY(acio_loop_call_soon(cni_loop, cni_a, NULL, NULL));
    TRY(acio_loop_call_soon(cni_loop, diff_cb_say, "b", NULL));
    TRY(acio_loop_call_soon(cni_loop, diff_cb_say, "c", NULL));
    TRY(acio_loop_run_forever(cni_loop));
    say("stopped");
    TRY(acio_loop_close(cni_loop));
}

/* ---- call_soon_threadsafe_in_order: another thread's callback takes its place in the
 * ready FIFO at call time, between the loop thread's callbacks before and after it. */

static acio_loop_t *cst_loop;

static void *cst_thread(void *msg)
{
    TRY(acio_loop_call_soon_threadsafe(cst_loop, diff_cb_say, msg));
    return NULL;
}

static void cst_from_thread(const char *msg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, cst_thread, (void *)msg) != 0)
        diff_unexpected("pthread_create", -EAGAIN, __FILE__, __LINE__);
    pthread_join(t, NULL);
}

static void cst_x(void *data)
{
    (void)data;
    say("x");
    TRY(acio_loop_call_soon(cst_loop, diff_cb_say, "a", NULL));
    cst_from_thread("b (thread)");
    TRY(acio_loop_call_soon(cst_loop, diff_cb_say, "c", NULL));
    TRY(acio_loop_call_soon_threadsafe(cst_loop, diff_cb_say, "d (loop thread, threadsafe)"));
    TRY(acio_loop_call_soon(cst_loop, diff_cb_say, "e", NULL));
}

static void cst_y(void *data)
{
    (void)data;
    say("y");
    cst_from_thread("f (thread, from the next callback)");
    TRY(acio_loop_call_soon(cst_loop, diff_cb_say, "g", NULL));
}

DIFF_SCENARIO(call_soon_threadsafe_in_order)
{
    static diff_ticker_t ticker;
    TRY(acio_loop_new(&cst_loop));
    diff_ticker_start(&ticker, cst_loop, 3);
    TRY(acio_loop_call_soon(cst_loop, cst_x, NULL, NULL));
    TRY(acio_loop_call_soon(cst_loop, cst_y, NULL, NULL));
    TRY(acio_loop_run_forever(cst_loop));
    say("stopped");
    TRY(acio_loop_close(cst_loop));
}

DIFF_SCENARIO(call_later_order)
{
    acio_loop_t *loop;
    TRY(acio_loop_new(&loop));
    TRY(acio_loop_call_later(loop, 0.30, diff_cb_say, "later 0.30", NULL));
    TRY(acio_loop_call_later(loop, 0.10, diff_cb_say, "later 0.10", NULL));
    TRY(acio_loop_call_at(loop, acio_loop_time(loop) + 0.25, diff_cb_say, "at +0.25", NULL));
    TRY(acio_loop_call_later(loop, 0.20, diff_cb_say, "later 0.20", NULL));
    TRY(acio_loop_call_later(loop, 0.05, diff_cb_say, "later 0.05", NULL));
    TRY(acio_loop_call_soon(loop, diff_cb_say, "soon", NULL));
    TRY(acio_loop_call_later(loop, 0.40, diff_cb_stop, loop, NULL));
    TRY(acio_loop_run_forever(loop));
    say("stopped");
    TRY(acio_loop_close(loop));
}

/* ---- timers_from_callbacks */

static acio_loop_t *tfc_loop;

static void tfc_c(void *data)
{
    (void)data;
    say("C at 0.15 (from A)");
    TRY(acio_loop_call_later(tfc_loop, 0.05, diff_cb_say, "C -> later 0.05", NULL));
    TRY(acio_loop_call_later(tfc_loop, 0.10, diff_cb_stop, tfc_loop, NULL));
}

static void tfc_a(void *data)
{
    (void)data;
    say("A at 0.05");
    TRY(acio_loop_call_later(tfc_loop, 0.10, tfc_c, NULL, NULL));
    TRY(acio_loop_call_later(tfc_loop, 0, diff_cb_say, "A -> later 0", NULL));
    TRY(acio_loop_call_soon(tfc_loop, diff_cb_say, "A -> soon", NULL));
}

DIFF_SCENARIO(timers_from_callbacks)
{
    TRY(acio_loop_new(&tfc_loop));
    TRY(acio_loop_call_later(tfc_loop, 0.05, tfc_a, NULL, NULL));
    TRY(acio_loop_call_later(tfc_loop, 0.10, diff_cb_say, "B at 0.10", NULL));
    TRY(acio_loop_run_forever(tfc_loop));
    say("stopped");
    TRY(acio_loop_close(tfc_loop));
}

/* ---- call_soon_vs_call_later_zero: due timers join the ready queue after what is
 * already in it, so call_later(0) runs after every earlier call_soon. */

static acio_loop_t *csl_loop;

static void csl_mid(void *data)
{
    (void)data;
    say("mid");
    TRY(acio_loop_call_later(csl_loop, 0, diff_cb_say, "mid -> later 0", NULL));
    TRY(acio_loop_call_soon(csl_loop, diff_cb_say, "mid -> soon", NULL));
}

DIFF_SCENARIO(call_soon_vs_call_later_zero)
{
    static diff_ticker_t ticker;
    TRY(acio_loop_new(&csl_loop));
    diff_ticker_start(&ticker, csl_loop, 3);
    TRY(acio_loop_call_later(csl_loop, 0, diff_cb_say, "later0 #1", NULL));
    TRY(acio_loop_call_soon(csl_loop, diff_cb_say, "soon #1", NULL));
    TRY(acio_loop_call_later(csl_loop, 0, diff_cb_say, "later0 #2", NULL));
    TRY(acio_loop_call_soon(csl_loop, csl_mid, NULL, NULL));
    TRY(acio_loop_call_soon(csl_loop, diff_cb_say, "soon #2", NULL));
    TRY(acio_loop_run_forever(csl_loop));
    say("stopped");
    TRY(acio_loop_close(csl_loop));
}

/* ---- call_later_negative_delay: a negative delay is a deadline in the past, which
 * asyncio keeps (when = now + delay), so it sorts before timers already due. */

DIFF_SCENARIO(call_later_negative_delay)
{
    static diff_ticker_t ticker;
    acio_loop_t *loop;
    TRY(acio_loop_new(&loop));
    diff_ticker_start(&ticker, loop, 1);
    TRY(acio_loop_call_later(loop, 0, diff_cb_say, "later 0", NULL));
    TRY(acio_loop_call_later(loop, -0.5, diff_cb_say, "later -0.5", NULL));
    TRY(acio_loop_call_later(loop, -1, diff_cb_say, "later -1", NULL));
    TRY(acio_loop_call_at(loop, acio_loop_time(loop) - 2, diff_cb_say, "at now-2", NULL));
    TRY(acio_loop_run_forever(loop));
    say("stopped");
    TRY(acio_loop_close(loop));
}

/* ---- handle_cancel */

static acio_handle_t *hc_second, *hc_timer;

static void hc_first(void *data)
{
    (void)data;
    say("first cancels second and the 0.05 timer");
    acio_handle_cancel(hc_second);
    acio_handle_cancel(hc_timer);
    say("second cancelled: %s", tf(acio_handle_cancelled(hc_second)));
}

DIFF_SCENARIO(handle_cancel)
{
    acio_loop_t *loop;
    acio_handle_t *first, *third, *keep;
    TRY(acio_loop_new(&loop));
    TRY(acio_loop_call_soon(loop, hc_first, NULL, &first));
    TRY(acio_loop_call_soon(loop, diff_cb_say, "second (must not run)", &hc_second));
    TRY(acio_loop_call_soon(loop, diff_cb_say, "third", &third));
    TRY(acio_loop_call_later(loop, 0.05, diff_cb_say, "timer 0.05 (must not run)", &hc_timer));
    TRY(acio_loop_call_later(loop, 0.10, diff_cb_say, "timer 0.10", &keep));
    say("timer 0.10 cancelled: %s", tf(acio_handle_cancelled(keep)));
    TRY(acio_loop_call_later(loop, 0.15, diff_cb_stop, loop, NULL));
    TRY(acio_loop_run_forever(loop));
    say("stopped");
    acio_handle_unref(first);
    acio_handle_unref(hc_second);
    acio_handle_unref(third);
    acio_handle_unref(hc_timer);
    acio_handle_unref(keep);
    TRY(acio_loop_close(loop));
}

/* ---- timer_cancel_from_timer */

static acio_handle_t *tct_t2;

static void tct_t1(void *data)
{
    (void)data;
    say("t1 cancels t2");
    acio_handle_cancel(tct_t2);
}

DIFF_SCENARIO(timer_cancel_from_timer)
{
    acio_loop_t *loop;
    TRY(acio_loop_new(&loop));
    TRY(acio_loop_call_later(loop, 0.05, tct_t1, NULL, NULL));
    TRY(acio_loop_call_later(loop, 0.06, diff_cb_say, "t2 (must not run)", &tct_t2));
    TRY(acio_loop_call_later(loop, 0.07, diff_cb_say, "t3", NULL));
    TRY(acio_loop_call_later(loop, 0.15, diff_cb_stop, loop, NULL));
    TRY(acio_loop_run_forever(loop));
    say("stopped");
    acio_handle_unref(tct_t2);
    TRY(acio_loop_close(loop));
}

/* ---- stop_in_callback: the iteration that calls stop still runs to its end; the next
 * run_forever resumes with what it scheduled, and timers survive. */

static acio_loop_t *sic_loop;

static void sic_stopper(void *data)
{
    (void)data;
    say("b stops the loop");
    TRY(acio_loop_stop(sic_loop));
    TRY(acio_loop_call_soon(sic_loop, diff_cb_say, "d (scheduled by b)", NULL));
}

DIFF_SCENARIO(stop_in_callback)
{
    TRY(acio_loop_new(&sic_loop));
    /* Far enough out that the first two runs finish before it, even on a loaded machine. */
    TRY(acio_loop_call_later(sic_loop, 0.30, diff_cb_say, "timer survives the stop", NULL));
    TRY(acio_loop_call_soon(sic_loop, diff_cb_say, "a", NULL));
    TRY(acio_loop_call_soon(sic_loop, sic_stopper, NULL, NULL));
    TRY(acio_loop_call_soon(sic_loop, diff_cb_say, "c (same iteration as the stop)", NULL));
    TRY(acio_loop_run_forever(sic_loop));
    say("run_forever returned");
    TRY(acio_loop_call_soon(sic_loop, diff_cb_say, "e", NULL));
    TRY(acio_loop_call_soon(sic_loop, diff_cb_stop, sic_loop, NULL));
    TRY(acio_loop_run_forever(sic_loop));
    say("second run_forever returned");
    TRY(acio_loop_call_later(sic_loop, 0.45, diff_cb_stop, sic_loop, NULL));
    TRY(acio_loop_run_forever(sic_loop));
    say("third run_forever returned");
    TRY(acio_loop_close(sic_loop));
}

/* ---- stop_before_run: asyncio documents that stop() before run_forever() runs one
 * iteration (the callbacks already scheduled) and returns. */

static acio_loop_t *sbr_loop;

static void sbr_a2(void *data)
{
    (void)data;
    say("a2");
    TRY(acio_loop_stop(sbr_loop));
}

static void sbr_a(void *data)
{
    (void)data;
    say("a");
    TRY(acio_loop_call_soon(sbr_loop, sbr_a2, NULL, NULL));
}

DIFF_SCENARIO(stop_before_run)
{
    TRY(acio_loop_new(&sbr_loop));
    TRY(acio_loop_stop(sbr_loop));
    TRY(acio_loop_call_soon(sbr_loop, sbr_a, NULL, NULL));
    TRY(acio_loop_call_soon(sbr_loop, diff_cb_say, "b", NULL));
    TRY(acio_loop_run_forever(sbr_loop));
    say("first run_forever returned");
    TRY(acio_loop_run_forever(sbr_loop));
    say("second run_forever returned");
    TRY(acio_loop_close(sbr_loop));
}

/* ---- timers_near_equal_fifo.
 * Deviation, documented rather than tested: acio fires timers with exactly equal
 * deadlines in the order they were scheduled, while CPython's heapq gives no such
 * promise (TimerHandle compares by `when` only), so an equal-deadline scenario cannot
 * be compared with CPython. Here the deadlines are 1 ms apart and scheduled in
 * increasing order; both must fire them in order, even when one iteration sees them
 * all due. */

DIFF_SCENARIO(timers_near_equal_fifo)
{
    static const char *msgs[] = {"timer 0", "timer 1", "timer 2", "timer 3", "timer 4"};
    acio_loop_t *loop;
    TRY(acio_loop_new(&loop));
    for (int i = 0; i < 5; i++)
        TRY(acio_loop_call_later(loop, 0.050 + i * 0.001, diff_cb_say, (void *)msgs[i], NULL));
    TRY(acio_loop_call_later(loop, 0.15, diff_cb_stop, loop, NULL));
    TRY(acio_loop_run_forever(loop));
    say("stopped");
    TRY(acio_loop_close(loop));
}

/* ---- run_nested_refused */

static acio_loop_t *rnr_loop;

static void rnr_nested(void *data)
{
    (void)data;
    say("running: %s", tf(acio_loop_is_running(rnr_loop)));
    int rc = acio_loop_run_forever(rnr_loop);
    if (rc == 0)
        say("nested run_forever accepted");
    else if (rc == ACIO_ERUNNING)
        say("nested run_forever refused");
    else
        say("nested run_forever: %s", acio_err_name(rc));
    TRY(acio_loop_stop(rnr_loop));
}

DIFF_SCENARIO(run_nested_refused)
{
    TRY(acio_loop_new(&rnr_loop));
    say("running before: %s", tf(acio_loop_is_running(rnr_loop)));
    TRY(acio_loop_call_soon(rnr_loop, rnr_nested, NULL, NULL));
    TRY(acio_loop_run_forever(rnr_loop));
    say("running after: %s", tf(acio_loop_is_running(rnr_loop)));
    /* acio_loop_close() frees the loop, so "closed" is what close reported. */
    int rc = acio_loop_close(rnr_loop);
    say("closed: %s", tf(rc == 0));
}

/* ---- create_task_from_callback: create_task's first step takes its place in the
 * ready FIFO among plain callbacks. */

static acio_loop_t *ctfc_loop;

static void *ctfc_child(void *arg)
{
    const char *name = arg;
    say("%s step 1", name);
    TRY(acio_sleep(0));
    say("%s step 2", name);
    return NULL;
}

static void ctfc_cb(void *data)
{
    (void)data;
    say("cb creates t2");
    TRY(acio_loop_create_task(ctfc_loop, NULL, ctfc_child, "t2", NULL));
    TRY(acio_loop_call_soon(ctfc_loop, diff_cb_say, "soon after t2", NULL));
}

DIFF_SCENARIO(create_task_from_callback)
{
    static diff_ticker_t ticker;
    TRY(acio_loop_new(&ctfc_loop));
    diff_ticker_start(&ticker, ctfc_loop, 4);
    TRY(acio_loop_call_soon(ctfc_loop, diff_cb_say, "soon a", NULL));
    TRY(acio_loop_create_task(ctfc_loop, NULL, ctfc_child, "t1", NULL));
    TRY(acio_loop_call_soon(ctfc_loop, ctfc_cb, NULL, NULL));
    TRY(acio_loop_call_soon(ctfc_loop, diff_cb_say, "soon b", NULL));
    TRY(acio_loop_run_forever(ctfc_loop));
    say("stopped");
    TRY(acio_loop_close(ctfc_loop));
}

/* ---- stop_from_task: a task stops the loop; the next run_forever resumes it */

static acio_loop_t *sft_loop;

static void *sft_worker(void *arg)
{
    (void)arg;
    say("w1 stops the loop");
    TRY(acio_loop_stop(sft_loop));
    TRY(acio_sleep(0));
    say("w2 (after the restart)");
    TRY(acio_sleep(0.05));
    say("w3 stops the loop again");
    TRY(acio_loop_stop(sft_loop));
    return NULL;
}

DIFF_SCENARIO(stop_from_task)
{
    acio_task_t *t;
    TRY(acio_loop_new(&sft_loop));
    TRY(acio_loop_create_task(sft_loop, &t, sft_worker, NULL, NULL));
    TRY(acio_loop_run_forever(sft_loop));
    say("returned 1, worker done: %s", tf(acio_future_done(t)));
    TRY(acio_loop_run_forever(sft_loop));
    say("returned 2, worker done: %s", tf(acio_future_done(t)));
    acio_future_unref(t);
    TRY(acio_loop_close(sft_loop));
}

/* ---- handle_cancel_after_run: CPython's Handle.cancel() marks the handle cancelled even
 * when its callback already ran. */

DIFF_SCENARIO(handle_cancel_after_run)
{
    acio_loop_t *loop;
    acio_handle_t *h, *t;
    TRY(acio_loop_new(&loop));
    TRY(acio_loop_call_soon(loop, diff_cb_say, "ran", &h));
    TRY(acio_loop_call_later(loop, 0.01, diff_cb_say, "timer ran", &t));
    TRY(acio_loop_call_later(loop, 0.05, diff_cb_stop, loop, NULL));
    TRY(acio_loop_run_forever(loop));
    acio_handle_cancel(h);
    acio_handle_cancel(t);
    say("soon handle cancelled after run: %s", tf(acio_handle_cancelled(h)));
    say("timer handle cancelled after run: %s", tf(acio_handle_cancelled(t)));
    acio_handle_unref(h);
    acio_handle_unref(t);
    TRY(acio_loop_close(loop));
}
