/* Scope guards: the C spelling of `async with lock:`. A guard records what it holds and
 * how to release it; ACIO_GUARD() (sync.h) declares one whose cleanup runs when the
 * enclosing block is left, so every early return releases. */
#include <errno.h>

#include "sync/sync_internal.h"

static int release_lock(void *obj)
{
    return acio_lock_release(obj);
}
static int release_semaphore(void *obj)
{
    return acio_semaphore_release(obj);
}
static int release_condition(void *obj)
{
    return acio_condition_release(obj);
}

static int guard_take(acio_guard_t *g, int rc, int (*release)(void *), void *obj)
{
    if (rc < 0)
        return rc;
    g->release = release;
    g->obj = obj;
    return 0;
}

int acio_guard_lock(acio_guard_t *g, acio_lock_t *lock)
{
    if (g == NULL || lock == NULL)
        return -EINVAL;
    if (g->release != NULL)
        return -EBUSY;
    return guard_take(g, acio_lock_acquire(lock), release_lock, lock);
}

int acio_guard_semaphore(acio_guard_t *g, acio_semaphore_t *sem)
{
    if (g == NULL || sem == NULL)
        return -EINVAL;
    if (g->release != NULL)
        return -EBUSY;
    return guard_take(g, acio_semaphore_acquire(sem), release_semaphore, sem);
}

int acio_guard_condition(acio_guard_t *g, acio_condition_t *cond)
{
    if (g == NULL || cond == NULL)
        return -EINVAL;
    if (g->release != NULL)
        return -EBUSY;
    return guard_take(g, acio_condition_acquire(cond), release_condition, cond);
}

void acio_guard_exit(acio_guard_t *g)
{
    int (*release)(void *);
    if (g == NULL || g->release == NULL)
        return;
    release = g->release;
    g->release = NULL;
    release(g->obj);
    g->obj = NULL;
}
