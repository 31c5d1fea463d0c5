/* A single-waiter wake-up slot for the os layer's objects (pipe readers and writers,
 * processes): see acio__os_wait() in os_internal.h. Keeping it in one place means the
 * cancellation rules (the slot is cleared whatever await returned) are written once. */
#include <errno.h>

#include "os/os_internal.h"

int acio__os_wait(acio_loop_t *loop, acio_future_t **slot, const char *label)
{
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (*slot)
        return -EBUSY;
    acio_future_t *fut;
    int rc = acio_future_new(loop, &fut);
    if (rc < 0)
        return rc;
    acio_future_set_label(fut, label);
    *slot = fut;
    rc = acio_await(fut, NULL);
    /* The waker may already have cleared the slot; only clear it if it is still ours. */
    if (*slot == fut)
        *slot = NULL;
    acio_future_unref(fut);
    return rc;
}

void acio__os_wake(acio_future_t **slot)
{
    acio_future_t *fut = *slot;
    if (!fut)
        return;
    *slot = NULL;
    if (!acio_future_done(fut))
        acio_future_set_result(fut, NULL);
}
