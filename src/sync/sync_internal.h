/* The layouts of the synchronization primitives, shared by their source files and by
 * the queues (a queue embeds an event for join(), a condition may embed its lock). The
 * public header keeps them opaque; the *_init / *_close functions here set up and tear
 * down an embedded instance, the public *_new / *_free wrap them. */
#ifndef ACIO_SYNC_INTERNAL_H
#define ACIO_SYNC_INTERNAL_H

#include "sync/waitq.h"

struct acio_lock_s {
    acio__waitq_t waiters;
    bool locked;
};

struct acio_event_s {
    acio__waitq_t waiters;
    const char *label; /* what waiters show in task dumps ("event", "queue.join") */
    bool value;
};

struct acio_condition_s {
    acio_lock_t *lock; /* &own_lock, or the caller's */
    acio__waitq_t waiters;
    acio_lock_t own_lock;
};

struct acio_semaphore_s {
    acio__waitq_t waiters;
    int value;
    int bound; /* initial value of a bounded semaphore, -1 if unbounded */
};

typedef enum {
    ACIO__BARRIER_FILLING,
    ACIO__BARRIER_DRAINING,
    ACIO__BARRIER_RESETTING,
    ACIO__BARRIER_BROKEN,
} acio__barrier_state_t;

struct acio_barrier_s {
    acio_condition_t cond; /* with its own lock: notifies every state change */
    int parties;
    int count; /* tasks inside wait() past the block */
    int users; /* tasks inside wait/reset/abort, so free() can refuse */
    acio__barrier_state_t state;
};

void acio__lock_init(acio_lock_t *lock);
/* Returns -EBUSY (and closes nothing) if tasks wait. */
int acio__lock_close(acio_lock_t *lock);
void acio__event_init(acio_event_t *ev, const char *label);
int acio__event_close(acio_event_t *ev);
void acio__condition_init(acio_condition_t *cond, acio_lock_t *lock);
int acio__condition_close(acio_condition_t *cond);

#endif
