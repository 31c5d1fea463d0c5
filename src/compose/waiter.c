/* Waiter futures for the compose functions: CPython's _release_waiter and
 * _cancel_and_wait (tasks.py), which gather, wait_for and the task group use to wait
 * for "something happened" without awaiting the watched future itself.
 *
 * A callback that has already been scheduled cannot be taken back (done callbacks go
 * through call_soon), so each registration owns a reference to the waiter and the
 * waiter outlives the function that waited on it when needed. */
#include <errno.h>

#include "internal.h"
#include "compose/waiter.h"

void acio__waiter_release_cb(acio_future_t *fut, void *data)
{
    acio_future_t *waiter = data;
    (void)fut;
    if (!acio_future_done(waiter))
        (void)acio_future_set_result(waiter, NULL);
    acio_future_unref(waiter);
}

int acio__waiter_watch(acio_future_t *fut, acio_future_t *waiter)
{
    int rc = acio_future_add_done_callback(fut, acio__waiter_release_cb, waiter);
    if (rc == 0)
        acio_future_ref(waiter);
    return rc;
}

void acio__waiter_unwatch(acio_future_t *fut, acio_future_t *waiter)
{
    int n = acio_future_remove_done_callback(fut, acio__waiter_release_cb, waiter);
    while (n-- > 0)
        acio_future_unref(waiter);
}

int acio__cancel_and_wait(acio_future_t *fut, const char *msg)
{
    acio_future_t *waiter;
    int rc;

    if ((rc = acio_future_new(acio_future_get_loop(fut), &waiter)) < 0)
        return rc;
    acio_future_set_label(waiter, "cancel_and_wait");
    if ((rc = acio__waiter_watch(fut, waiter)) < 0) {
        acio_future_unref(waiter);
        return rc;
    }
    (void)acio_future_cancel(fut, msg);
    rc = acio_await(waiter, NULL);
    acio__waiter_unwatch(fut, waiter);
    acio_future_unref(waiter);
    return rc < 0 ? -ECANCELED : 0;
}
