/* Differential scenarios for the entry points and error reporting: asyncio.run's
 * shutdown (leftover tasks cancelled, their cleanup awaited), run_until_complete (the
 * loop stops one iteration after the future is done; stopping early is an error), and
 * the exception handler for errors nobody retrieved. Each function mirrors the scenario
 * of the same name in scenarios.py; see diff.h. */
#include "diff.h"

/* ---- run_cancels_leftovers */

typedef struct {
    const char *name;
    double delay;
} rcl_arg_t;

static void *rcl_leftover(void *arg)
{
    const rcl_arg_t *a = arg;
    say("%s started", a->name);
    if (acio_sleep(100) == -ECANCELED) {
        TRY(acio_sleep(a->delay));
        say("%s cleanup after %g", a->name, a->delay);
    }
    return NULL; /* still cancelling: ends cancelled, like the Python twin's `raise` */
}

static void *rcl_main(void *arg)
{
    (void)arg;
    static const rcl_arg_t args[] = {{"A", 0.15}, {"B", 0.05}, {"C", 0.10}, {"D", 0.20}};
    for (int i = 0; i < 3; i++)
        TRY(acio_create_task(NULL, rcl_leftover, (void *)&args[i], NULL));
    TRY(acio_sleep(0));
    /* Created in main's last step: its first step runs in the iteration that sees main
     * done, before run() cancels what is left. */
    TRY(acio_create_task(NULL, rcl_leftover, (void *)&args[3], NULL));
    say("main returns");
    return DIFF_PTR(3);
}

DIFF_SCENARIO(run_cancels_leftovers)
{
    void *r = NULL;
    TRY(acio_run(rcl_main, NULL, &r));
    say("run returned %ld", DIFF_INT(r));
}

/* ---- run_closing_rounds: asyncio.run's two closing rounds turn the loop four times */

static acio_loop_t *rcr_loop;

static void rcr_ping(void *data)
{
    long n = DIFF_INT(data);
    say("ping %ld", n);
    if (n < 10)
        TRY(acio_loop_call_soon(rcr_loop, rcr_ping, DIFF_PTR(n + 1), NULL));
}

static void *rcr_main(void *arg)
{
    (void)arg;
    rcr_loop = acio_get_running_loop();
    TRY(acio_loop_call_soon(rcr_loop, rcr_ping, DIFF_PTR(1), NULL));
    say("main returns");
    return NULL;
}

DIFF_SCENARIO(run_closing_rounds)
{
    TRY(acio_run(rcr_main, NULL, NULL));
    say("run returned");
}

/* ---- run_until_complete: a callback chain shows where the loop stops */

static acio_loop_t *ruc_loop;
static acio_future_t *ruc_fut;

static void ruc_set_result(void *fut)
{
    TRY(acio_future_set_result(fut, "from timer"));
}

static void ruc_ping(void *data)
{
    long n = DIFF_INT(data);
    say("ping %ld", n);
    if (n < 6)
        TRY(acio_loop_call_soon(ruc_loop, ruc_ping, DIFF_PTR(n + 1), NULL));
    else /* only now, so the timer cannot fall due amid the pings on a slow machine */
        TRY(acio_loop_call_later(ruc_loop, 0.05, ruc_set_result, ruc_fut, NULL));
}

static void *ruc_work(void *arg)
{
    (void)arg;
    say("work step 1");
    TRY(acio_sleep(0));
    say("work step 2");
    return DIFF_PTR(9);
}

DIFF_SCENARIO(run_until_complete)
{
    acio_task_t *t;
    void *r = NULL;
    TRY(acio_loop_new(&ruc_loop));
    TRY(acio_future_new(ruc_loop, &ruc_fut));
    TRY(acio_loop_call_soon(ruc_loop, ruc_ping, DIFF_PTR(0), NULL));
    TRY(acio_loop_create_task(ruc_loop, &t, ruc_work, NULL, NULL));
    TRY(acio_loop_run_until_complete(ruc_loop, t, &r));
    say("result %ld", DIFF_INT(r));
    TRY(acio_loop_run_until_complete(ruc_loop, ruc_fut, &r));
    say("fut result %s", (const char *)r);
    /* A done future still costs one iteration: callbacks already scheduled run. */
    TRY(acio_loop_call_soon(ruc_loop, diff_cb_say, "runs during the done-again run", NULL));
    TRY(acio_loop_run_until_complete(ruc_loop, ruc_fut, &r));
    say("fut done again %s", (const char *)r);
    acio_future_unref(ruc_fut);
    acio_future_unref(t);
    TRY(acio_loop_close(ruc_loop));
}

/* ---- run_until_complete_stopped */

static void ructs_set_result(void *fut)
{
    TRY(acio_future_set_result(fut, DIFF_PTR(4)));
}

DIFF_SCENARIO(run_until_complete_stopped)
{
    acio_loop_t *loop;
    acio_future_t *fut;
    void *r = NULL;
    TRY(acio_loop_new(&loop));
    TRY(acio_future_new(loop, &fut));
    TRY(acio_loop_call_soon(loop, diff_cb_say, "before stop", NULL));
    TRY(acio_loop_call_soon(loop, diff_cb_stop, loop, NULL));
    int rc = acio_loop_run_until_complete(loop, fut, &r);
    if (rc == 0)
        say("completed?");
    else if (rc == ACIO_ENOTSTARTED)
        say("stopped before the future completed");
    else
        say("run_until_complete: %s", acio_err_name(rc));
    say("fut done: %s", tf(acio_future_done(fut)));
    TRY(acio_loop_call_soon(loop, ructs_set_result, fut, NULL));
    TRY(acio_loop_run_until_complete(loop, fut, &r));
    say("second try: %ld", DIFF_INT(r));
    acio_future_unref(fut);
    TRY(acio_loop_close(loop));
}

/* ---- the exception handler */

static void report(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop, (void)data;
    if (ctx->code != 0)
        say("handler: %s", diff_err_text(ctx->code, ctx->error_message));
    else
        say("handler: no exception");
}

/* An unretrieved task error is reported when CPython frees the task (at the end of the
 * iteration in which it finished) and when acio's detached task ends; nothing else
 * happens in that iteration, so both orders agree. */
static void *eht_bad(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0));
    say("bad raises");
    return acio_raise(-EINVAL, "nobody listens");
}

static void *eht_main(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), report, NULL);
    TRY(acio_create_task(NULL, eht_bad, NULL, NULL));
    TRY(acio_sleep(0.05));
    say("main done");
    return NULL;
}

DIFF_SCENARIO(exception_handler_task)
{
    diff_run(eht_main);
}

static void *ehf_main(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), report, NULL);
    acio_future_t *fut = diff_future_new();
    TRY(acio_future_set_error(fut, -EIO, "lost error"));
    say("dropping the unretrieved future");
    acio_future_unref(fut);
    say("dropped");
    acio_future_t *kept = diff_future_new();
    TRY(acio_future_set_error(kept, -EIO, "seen error"));
    int rc = acio_future_error(kept);
    say("retrieved: %s", diff_err_text(rc, acio_future_error_message(kept)));
    acio_future_unref(kept);
    say("dropped the retrieved one (no report)");
    return NULL;
}

DIFF_SCENARIO(exception_handler_future)
{
    diff_run(ehf_main);
}

/* ---- run_main_cancelled: run() reports a main task that ended cancelled */

static void *rmc_main(void *arg)
{
    (void)arg;
    acio_task_cancel(acio_current_task(), NULL);
    say("main cancelled itself");
    if (acio_sleep(0) == 0)
        say("not reached");
    return NULL;
}

DIFF_SCENARIO(run_main_cancelled)
{
    char *msg = NULL;
    int rc = acio_run_ex(rmc_main, NULL, NULL, &msg);
    if (rc == 0)
        say("run: no error?");
    else
        say("run: %s", diff_err_text(rc, msg));
    free(msg);
}

/* ---- run_until_complete_error: the future's error or cancellation is returned */

static void *ruce_bad(void *arg)
{
    (void)arg;
    TRY(acio_sleep(0));
    return acio_raise(-EINVAL, "ruc failed");
}

static void *ruce_victim(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(100));
    return NULL;
}

static void ruce_cancel(void *task)
{
    acio_task_cancel(task, NULL);
}

DIFF_SCENARIO(run_until_complete_error)
{
    acio_loop_t *loop;
    acio_task_t *t;
    int rc;
    TRY(acio_loop_new(&loop));
    TRY(acio_loop_create_task(loop, &t, ruce_bad, NULL, NULL));
    rc = acio_loop_run_until_complete(loop, t, NULL);
    if (rc == 0)
        say("ruc: no error?");
    else
        say("ruc: %s", diff_err_text(rc, acio_future_error_message(t)));
    acio_future_unref(t);
    TRY(acio_loop_create_task(loop, &t, ruce_victim, NULL, NULL));
    TRY(acio_loop_call_soon(loop, ruce_cancel, t, NULL));
    rc = acio_loop_run_until_complete(loop, t, NULL);
    if (rc == 0)
        say("ruc: no error?");
    else
        say("ruc: %s", diff_err_text(rc, acio_future_error_message(t)));
    acio_future_unref(t);
    TRY(acio_loop_close(loop));
}

/* ---- exception_handler_held_task: a failed task held but never awaited is reported
 * when the last reference goes (`del t` in CPython, acio_future_unref() here). */

static void *ehht_bad(void *arg)
{
    (void)arg;
    return acio_raise(-EINVAL, "held but ignored");
}

static void *ehht_good(void *arg)
{
    (void)arg;
    return acio_raise(-EINVAL, "awaited");
}

static void *ehht_main(void *arg)
{
    (void)arg;
    acio_task_t *t, *g;
    acio_loop_set_exception_handler(acio_get_running_loop(), report, NULL);
    TRY(acio_create_task(&t, ehht_bad, NULL, NULL));
    TRY(acio_create_task(&g, ehht_good, NULL, NULL));
    TRY(acio_sleep(0.05));
    say("t done: %s", tf(acio_future_done(t)));
    int rc = acio_await(g, NULL);
    say("g: %s", diff_err_text(rc, acio_future_error_message(g)));
    say("dropping g (retrieved: no report)");
    acio_future_unref(g);
    say("dropping t");
    acio_future_unref(t);
    say("dropped");
    return NULL;
}

DIFF_SCENARIO(exception_handler_held_task)
{
    diff_run(ehht_main);
}

/* ---- run_shutdown_error: a leftover task failing during run()'s shutdown is reported
 * once; it is the last to finish, so the report comes last. */

static void *rse_stubborn(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED) {
        TRY(acio_sleep(0.05));
        say("stubborn raises during shutdown");
        return acio_raise(-EINVAL, "cleanup failed");
    }
    return NULL;
}

static void *rse_polite(void *arg)
{
    (void)arg;
    if (acio_sleep(100) == -ECANCELED)
        say("polite cleanup");
    return NULL;
}

static void *rse_main(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), report, NULL);
    TRY(acio_create_task(NULL, rse_stubborn, NULL, NULL));
    TRY(acio_create_task(NULL, rse_polite, NULL, NULL));
    TRY(acio_sleep(0));
    say("main returns");
    return NULL;
}

DIFF_SCENARIO(run_shutdown_error)
{
    diff_run(rse_main);
    say("after run");
}
