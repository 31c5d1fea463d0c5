/* asyncio.Semaphore and BoundedSemaphore, with CPython 3.13's FIFO rules: release()
 * hands a unit to the first live waiter at once (decrementing the counter for it), a
 * newcomer may not take a unit while live waiters are queued, and a waiter that was
 * given a unit but is cancelled before running gives it back. On the way out, every
 * acquire wakes as many waiters as there are units left, so none is stranded. 3.11
 * could strand waiters in some orders; docs/sync.md lists the difference. */
#include <errno.h>

#include "sync/sync_internal.h"

static int semaphore_new(acio_semaphore_t **out, int value, int bound)
{
    acio_semaphore_t *sem;
    if (out == NULL || value < 0)
        return -EINVAL;
    sem = acio__malloc(sizeof(*sem));
    if (sem == NULL)
        return -ENOMEM;
    acio__waitq_init(&sem->waiters);
    sem->value = value;
    sem->bound = bound;
    *out = sem;
    return 0;
}

int acio_semaphore_new(acio_semaphore_t **out, int value)
{
    return semaphore_new(out, value, -1);
}

int acio_bounded_semaphore_new(acio_semaphore_t **out, int value)
{
    return semaphore_new(out, value, value);
}

int acio_semaphore_free(acio_semaphore_t *sem)
{
    if (sem == NULL)
        return 0;
    if (acio__waitq_len(&sem->waiters) > 0)
        return -EBUSY;
    acio__waitq_close(&sem->waiters);
    acio__free(sem);
    return 0;
}

bool acio_semaphore_locked(const acio_semaphore_t *sem)
{
    if (sem == NULL)
        return false;
    return sem->value == 0 || !acio__waitq_all_cancelled(&sem->waiters);
}

int acio_semaphore_value(const acio_semaphore_t *sem)
{
    return sem ? sem->value : 0;
}

/* Give one unit to the first waiter that is not done yet. */
static bool wake_up_next(acio_semaphore_t *sem)
{
    acio__waitq_t *q = &sem->waiters;
    for (uint32_t i = 0; i < acio__waitq_len(q); i++) {
        acio_future_t *fut = acio__waitq_at(q, i);
        if (!acio_future_done(fut)) {
            sem->value--;
            acio_future_set_result(fut, NULL);
            return true;
        }
    }
    return false;
}

int acio_semaphore_acquire(acio_semaphore_t *sem)
{
    acio_future_t *fut;
    int rc;

    if (sem == NULL)
        return -EINVAL;
    if (!acio_semaphore_locked(sem)) {
        sem->value--;
        return 0;
    }
    if ((rc = acio__waitq_add(&sem->waiters, "semaphore", &fut)) < 0)
        return rc;
    rc = acio__waitq_await(&sem->waiters, fut);
    /* Given a unit by wake_up_next() but not taking it: give it back. */
    if (rc < 0 && acio_future_done(fut) && !acio_future_cancelled(fut))
        sem->value++;
    acio_future_unref(fut);
    while (sem->value > 0)
        if (!wake_up_next(sem))
            break;
    return rc;
}

int acio_semaphore_release(acio_semaphore_t *sem)
{
    if (sem == NULL)
        return -EINVAL;
    if (sem->bound >= 0 && sem->value >= sem->bound)
        return -EOVERFLOW;
    sem->value++;
    wake_up_next(sem);
    return 0;
}

int acio_semaphore_with(acio_semaphore_t *sem, acio_with_fn body, void *arg)
{
    int rc;
    if (body == NULL)
        return -EINVAL;
    if ((rc = acio_semaphore_acquire(sem)) < 0)
        return rc;
    rc = body(arg);
    acio_semaphore_release(sem);
    return rc;
}
