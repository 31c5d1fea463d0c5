/* asyncio.Lock: a FIFO-fair mutex for tasks, with asyncio's exact hand-over rules.
 *
 * release() does not give the lock to anyone: it marks it free and wakes the first
 * waiter, which takes it when it runs. Meanwhile nobody can barge in, because the fast
 * path of acquire() requires that no waiter is still live (all cancelled). If the woken
 * waiter is cancelled before it runs, it wakes the next one on its way out, so the
 * wake-up is never lost. */
#include <errno.h>

#include "sync/sync_internal.h"

void acio__lock_init(acio_lock_t *lock)
{
    acio__waitq_init(&lock->waiters);
    lock->locked = false;
}

int acio__lock_close(acio_lock_t *lock)
{
    if (acio__waitq_len(&lock->waiters) > 0)
        return -EBUSY;
    acio__waitq_close(&lock->waiters);
    return 0;
}

int acio_lock_new(acio_lock_t **out)
{
    acio_lock_t *lock;
    if (out == NULL)
        return -EINVAL;
    lock = acio__malloc(sizeof(*lock));
    if (lock == NULL)
        return -ENOMEM;
    acio__lock_init(lock);
    *out = lock;
    return 0;
}

int acio_lock_free(acio_lock_t *lock)
{
    int rc;
    if (lock == NULL)
        return 0;
    if ((rc = acio__lock_close(lock)) < 0)
        return rc;
    acio__free(lock);
    return 0;
}

bool acio_lock_locked(const acio_lock_t *lock)
{
    return lock != NULL && lock->locked;
}

int acio_lock_acquire(acio_lock_t *lock)
{
    acio_future_t *fut;
    int rc;

    if (lock == NULL)
        return -EINVAL;
    /* Fast path: free and nobody live in line. Never touches the loop. */
    if (ACIO_LIKELY(!lock->locked) && acio__waitq_all_cancelled(&lock->waiters)) {
        lock->locked = true;
        return 0;
    }
    if ((rc = acio__waitq_add(&lock->waiters, "lock", &fut)) < 0)
        return rc;
    rc = acio__waitq_await(&lock->waiters, fut);
    acio_future_unref(fut);
    if (rc < 0) {
        /* We may have been woken by release() and then cancelled before running: the
         * lock is free but nobody else was woken. Pass the wake-up on. Our own entry
         * is already removed, so we cannot wake ourselves. */
        if (!lock->locked)
            acio__waitq_wake_first(&lock->waiters, true);
        return rc;
    }
    lock->locked = true;
    return 0;
}

int acio_lock_release(acio_lock_t *lock)
{
    if (lock == NULL)
        return -EINVAL;
    if (!lock->locked)
        return -EPERM;
    lock->locked = false;
    /* Only the head: if it is already done it will run, and either take the lock or
     * (cancelled) wake the next one itself. */
    acio__waitq_wake_first(&lock->waiters, true);
    return 0;
}

int acio_lock_with(acio_lock_t *lock, acio_with_fn body, void *arg)
{
    int rc;
    if (body == NULL)
        return -EINVAL;
    if ((rc = acio_lock_acquire(lock)) < 0)
        return rc;
    rc = body(arg);
    acio_lock_release(lock);
    return rc;
}
