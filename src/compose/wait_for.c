/* asyncio.wait_for, as Python 3.12 rebuilt it: a timeout scope around a plain await.
 *
 * That construction is what makes the two classic wait_for bugs impossible: a result
 * that arrives at the deadline is returned (the await returns it and the scope's exit
 * sees no -ECANCELED, CPython issue 86296), and a cancellation from outside is never
 * turned into a timeout or dropped (the scope's uncancel() count shows it is not the
 * scope's own, CPython issue 75633 / 37658). One step further than 3.12: an outcome that
 * landed in the same loop iteration as the deadline is returned too. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "compose/waiter.h"

int acio_wait_for(acio_future_t *fut, double timeout, void **result)
{
    acio_task_t *task = acio_current_task();
    acio_timeout_t t;
    int rc;

    if (fut == NULL || isnan(timeout))
        return -EINVAL;
    if (task == NULL)
        return ACIO_ENOTASK;
    if (isinf(timeout) && timeout > 0)
        return acio_await(fut, result);
    if (timeout <= 0) {
        /* 3.12's special case: no scope, the future gets no chance to run. */
        if (acio_future_done(fut))
            return acio_future_result(fut, result);
        if ((rc = acio__cancel_and_wait(fut, "wait_for: timeout <= 0")) < 0)
            return rc;
        rc = acio_future_result(fut, result);
        return rc == -ECANCELED ? -ETIMEDOUT : rc;
    }
    if ((rc = acio_timeout_enter(&t, timeout)) < 0)
        return rc;
    rc = acio_await(fut, result);
    if (rc == -ECANCELED && !acio_future_done(fut)) {
        /* The core woke this task without cancelling fut. wait_for must not return
         * while fut still runs (bpo-32751), and a result it still produces counts. */
        if (acio__cancel_and_wait(fut, acio_future_error_message(task)) == 0)
            rc = acio_future_result(fut, result);
    }
    rc = acio_timeout_exit(&t, rc);
    if (rc == -ETIMEDOUT && acio_future_done(fut) && !acio_future_cancelled(fut)) {
        /* Beyond 3.12: fut finished in the very iteration the deadline fired (its
         * outcome was set before the timeout's cancellation reached this task). The
         * cancellation was our own, so return that outcome, as 3.11's wait_for did,
         * rather than drop it for a timeout. */
        rc = acio_future_result(fut, result);
    }
    return rc;
}

int acio_wait_for_call(acio_coro_fn fn, void *arg, const acio_task_opts_t *opts, double timeout,
                       void **result)
{
    return acio_wait_for_call_ex(fn, arg, opts, timeout, result, NULL);
}

int acio_wait_for_call_ex(acio_coro_fn fn, void *arg, const acio_task_opts_t *opts, double timeout,
                          void **result, char **message)
{
    acio_loop_t *loop;
    acio_task_t *task;
    int rc;

    if (message != NULL)
        *message = NULL;
    if (fn == NULL || isnan(timeout))
        return -EINVAL;
    if (acio_current_task() == NULL)
        return ACIO_ENOTASK;
    if ((rc = acio_get_running_loop_checked(&loop)) < 0)
        return rc;
    if ((rc = acio_loop_create_task(loop, &task, fn, arg, opts)) < 0)
        return rc;
    rc = acio_wait_for(task, timeout, result);
    if (rc < 0 && rc != -ETIMEDOUT && message != NULL && acio_future_done(task) &&
        acio_future_error_message(task) != NULL) {
        /* The caller's, released with free(): it outlives the task. */
        *message = strdup(acio_future_error_message(task));
    }
    acio_future_unref(task);
    return rc;
}
