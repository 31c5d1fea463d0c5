/* asyncio.Event: a flag tasks can wait for. set() wakes every waiter at once (each
 * through its future's call_soon, in the order they started waiting); a waiter woken
 * by set() returns 0 even if clear() ran before it got to run, as in asyncio. */
#include <errno.h>

#include "sync/sync_internal.h"

void acio__event_init(acio_event_t *ev, const char *label)
{
    acio__waitq_init(&ev->waiters);
    ev->label = label;
    ev->value = false;
}

int acio__event_close(acio_event_t *ev)
{
    if (acio__waitq_len(&ev->waiters) > 0)
        return -EBUSY;
    acio__waitq_close(&ev->waiters);
    return 0;
}

int acio_event_new(acio_event_t **out)
{
    acio_event_t *ev;
    if (out == NULL)
        return -EINVAL;
    ev = acio__malloc(sizeof(*ev));
    if (ev == NULL)
        return -ENOMEM;
    acio__event_init(ev, "event");
    *out = ev;
    return 0;
}

int acio_event_free(acio_event_t *ev)
{
    int rc;
    if (ev == NULL)
        return 0;
    if ((rc = acio__event_close(ev)) < 0)
        return rc;
    acio__free(ev);
    return 0;
}

void acio_event_set(acio_event_t *ev)
{
    if (ev == NULL || ev->value)
        return;
    ev->value = true;
    acio__waitq_wake_n(&ev->waiters, SIZE_MAX);
}

void acio_event_clear(acio_event_t *ev)
{
    if (ev != NULL)
        ev->value = false;
}

bool acio_event_is_set(const acio_event_t *ev)
{
    return ev != NULL && ev->value;
}

int acio_event_wait(acio_event_t *ev)
{
    acio_future_t *fut;
    int rc;
    if (ev == NULL)
        return -EINVAL;
    if (ev->value)
        return 0;
    if ((rc = acio__waitq_add(&ev->waiters, ev->label, &fut)) < 0)
        return rc;
    rc = acio__waitq_await(&ev->waiters, fut);
    acio_future_unref(fut);
    return rc;
}
