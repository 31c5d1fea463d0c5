/* asyncio.Barrier (3.11): parties tasks meet, then all go on. Built, like asyncio's, on a
 * Condition whose notify_all announces every state change: FILLING (tasks arrive),
 * DRAINING (the last arrival released them; newcomers wait until all have left),
 * RESETTING (reset() while tasks wait: they fail with ACIO_EBROKENBARRIER) and BROKEN
 * (abort(): every wait fails until reset()). Keeping the same structure keeps the same
 * wake-up order as asyncio. */
#include <errno.h>

#include "sync/sync_internal.h"

int acio_barrier_new(acio_barrier_t **out, int parties)
{
    acio_barrier_t *b;
    if (out == NULL || parties < 1)
        return -EINVAL;
    b = acio__malloc(sizeof(*b));
    if (b == NULL)
        return -ENOMEM;
    acio__condition_init(&b->cond, NULL);
    b->parties = parties;
    b->count = 0;
    b->users = 0;
    b->state = ACIO__BARRIER_FILLING;
    *out = b;
    return 0;
}

int acio_barrier_free(acio_barrier_t *b)
{
    int rc;
    if (b == NULL)
        return 0;
    if (b->users > 0)
        return -EBUSY;
    if ((rc = acio__condition_close(&b->cond)) < 0)
        return rc;
    acio__free(b);
    return 0;
}

static bool not_draining_or_resetting(void *arg)
{
    acio_barrier_t *b = arg;
    return b->state != ACIO__BARRIER_DRAINING && b->state != ACIO__BARRIER_RESETTING;
}

static bool not_filling(void *arg)
{
    acio_barrier_t *b = arg;
    return b->state != ACIO__BARRIER_FILLING;
}

/* With the lock held. The last task out of a drain or a reset reopens the barrier. */
static void barrier_exit(acio_barrier_t *b)
{
    if (b->count == 0) {
        if (b->state == ACIO__BARRIER_RESETTING || b->state == ACIO__BARRIER_DRAINING)
            b->state = ACIO__BARRIER_FILLING;
        acio_condition_notify_all(&b->cond);
    }
}

static int barrier_wait_locked(acio_barrier_t *b)
{
    int rc, index;

    /* Block while the previous passage drains or a reset completes. */
    if ((rc = acio_condition_wait_for(&b->cond, not_draining_or_resetting, b)) < 0)
        return rc;
    if (b->state == ACIO__BARRIER_BROKEN)
        return ACIO_EBROKENBARRIER;

    index = b->count++;
    if (index + 1 == b->parties) {
        /* The last arrival releases everyone. */
        b->state = ACIO__BARRIER_DRAINING;
        acio_condition_notify_all(&b->cond);
        rc = 0;
    } else {
        rc = acio_condition_wait_for(&b->cond, not_filling, b);
        if (rc == 0 && (b->state == ACIO__BARRIER_BROKEN || b->state == ACIO__BARRIER_RESETTING))
            rc = ACIO_EBROKENBARRIER;
    }
    b->count--;
    barrier_exit(b);
    return rc < 0 ? rc : index;
}

int acio_barrier_wait(acio_barrier_t *b)
{
    int rc;
    if (b == NULL)
        return -EINVAL;
    b->users++;
    if ((rc = acio_condition_acquire(&b->cond)) == 0) {
        rc = barrier_wait_locked(b);
        if (acio_condition_locked(&b->cond))
            acio_condition_release(&b->cond);
    }
    b->users--;
    return rc;
}

int acio_barrier_reset(acio_barrier_t *b)
{
    int rc;
    if (b == NULL)
        return -EINVAL;
    b->users++;
    if ((rc = acio_condition_acquire(&b->cond)) == 0) {
        if (b->count > 0)
            b->state = ACIO__BARRIER_RESETTING;
        else
            b->state = ACIO__BARRIER_FILLING;
        acio_condition_notify_all(&b->cond);
        acio_condition_release(&b->cond);
    }
    b->users--;
    return rc;
}

int acio_barrier_abort(acio_barrier_t *b)
{
    int rc;
    if (b == NULL)
        return -EINVAL;
    b->users++;
    if ((rc = acio_condition_acquire(&b->cond)) == 0) {
        b->state = ACIO__BARRIER_BROKEN;
        acio_condition_notify_all(&b->cond);
        acio_condition_release(&b->cond);
    }
    b->users--;
    return rc;
}

int acio_barrier_parties(const acio_barrier_t *b)
{
    return b ? b->parties : 0;
}

int acio_barrier_n_waiting(const acio_barrier_t *b)
{
    return b && b->state == ACIO__BARRIER_FILLING ? b->count : 0;
}

bool acio_barrier_broken(const acio_barrier_t *b)
{
    return b != NULL && b->state == ACIO__BARRIER_BROKEN;
}
