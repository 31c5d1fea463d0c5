/* asyncio.Condition: a condition variable over an asyncio Lock, with the lost-wake-up
 * fix of CPython 3.13: a waiter that leaves wait() with an error (typically cancelled
 * after it was notified) notifies one other waiter in its place, which may cause a
 * spurious wake-up (allowed by the protocol) but never a lost one. 3.11 loses the
 * notification in that case; docs/sync.md lists the deviation. */
#include <errno.h>

#include "sync/sync_internal.h"

void acio__condition_init(acio_condition_t *cond, acio_lock_t *lock)
{
    acio__lock_init(&cond->own_lock);
    cond->lock = lock ? lock : &cond->own_lock;
    acio__waitq_init(&cond->waiters);
}

int acio__condition_close(acio_condition_t *cond)
{
    if (acio__waitq_len(&cond->waiters) > 0 || acio__waitq_len(&cond->own_lock.waiters) > 0)
        return -EBUSY;
    acio__waitq_close(&cond->waiters);
    acio__lock_close(&cond->own_lock);
    return 0;
}

int acio_condition_new(acio_condition_t **out, acio_lock_t *lock)
{
    acio_condition_t *cond;
    if (out == NULL)
        return -EINVAL;
    cond = acio__malloc(sizeof(*cond));
    if (cond == NULL)
        return -ENOMEM;
    acio__condition_init(cond, lock);
    *out = cond;
    return 0;
}

int acio_condition_free(acio_condition_t *cond)
{
    int rc;
    if (cond == NULL)
        return 0;
    if ((rc = acio__condition_close(cond)) < 0)
        return rc;
    acio__free(cond);
    return 0;
}

acio_lock_t *acio_condition_lock(acio_condition_t *cond)
{
    return cond ? cond->lock : NULL;
}

int acio_condition_acquire(acio_condition_t *cond)
{
    return cond ? acio_lock_acquire(cond->lock) : -EINVAL;
}

int acio_condition_release(acio_condition_t *cond)
{
    return cond ? acio_lock_release(cond->lock) : -EINVAL;
}

bool acio_condition_locked(const acio_condition_t *cond)
{
    return cond != NULL && acio_lock_locked(cond->lock);
}

int acio_condition_wait(acio_condition_t *cond)
{
    acio_future_t *fut;
    int rc, err;

    if (cond == NULL)
        return -EINVAL;
    if (!cond->lock->locked)
        return -EPERM;
    /* Create the waiter before releasing, as 3.13 does: if that fails, the caller still
     * holds the lock and nothing happened. */
    if ((rc = acio__waitq_add(&cond->waiters, "condition", &fut)) < 0)
        return rc;
    acio_lock_release(cond->lock);
    err = acio__waitq_await(&cond->waiters, fut);
    acio_future_unref(fut);

    /* Re-acquire the lock whatever happened, even through cancellations: the caller's
     * `async with` will release it. Only a cancellation is retried; anything else
     * (out of memory) would spin, so it is returned with the lock not held. */
    for (;;) {
        rc = acio_lock_acquire(cond->lock);
        if (rc == 0)
            break;
        err = rc;
        if (rc != -ECANCELED)
            break;
    }
    if (err < 0)
        acio__waitq_wake_n(&cond->waiters, 1);
    return err;
}

int acio_condition_wait_for(acio_condition_t *cond, bool (*predicate)(void *arg), void *arg)
{
    int rc;
    if (cond == NULL || predicate == NULL)
        return -EINVAL;
    while (!predicate(arg))
        if ((rc = acio_condition_wait(cond)) < 0)
            return rc;
    return 0;
}

int acio_condition_notify(acio_condition_t *cond, size_t n)
{
    if (cond == NULL)
        return -EINVAL;
    if (!cond->lock->locked)
        return -EPERM;
    acio__waitq_wake_n(&cond->waiters, n);
    return 0;
}

int acio_condition_notify_all(acio_condition_t *cond)
{
    return acio_condition_notify(cond, SIZE_MAX);
}

int acio_condition_with(acio_condition_t *cond, acio_with_fn body, void *arg)
{
    int rc;
    if (cond == NULL || body == NULL)
        return -EINVAL;
    if ((rc = acio_lock_acquire(cond->lock)) < 0)
        return rc;
    rc = body(arg);
    acio_lock_release(cond->lock);
    return rc;
}
