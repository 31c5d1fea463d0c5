/* Synchronization primitives: asyncio's Lock, Event, Condition, Semaphore,
 * BoundedSemaphore and Barrier (asyncio/locks.py), for tasks of one event loop.
 *
 * Semantics follow CPython: every waiter is a pending future in a FIFO, woken in the
 * order it started waiting; a waiter that is cancelled after it was woken passes the
 * wake-up on to the next one, so no wake-up is ever lost. Where CPython 3.13 fixed a
 * lost wake-up that 3.11 still has (Condition.wait, Semaphore.acquire), acio follows
 * 3.13 (see docs/sync.md).
 *
 * Lifecycle: every primitive is opaque and allocated by acio: acio_X_new() returns it,
 * acio_X_free() releases it. Like asyncio's, a primitive is not tied to a loop until a
 * task has to wait on it, and only while tasks wait on it, so one object may serve
 * successive acio_run() calls. Free it only when no task waits on it: the free
 * functions return -EBUSY (and free nothing) otherwise.
 *
 * Waiting functions (acquire, wait, ...) must be called from a task (ACIO_ENOTASK
 * otherwise) unless they can complete at once without waiting. They return 0, or
 * -ECANCELED when the calling task is cancelled while waiting (the primitive is then
 * left exactly as if the task had never asked), or -ENOMEM.
 *
 * "async with": each acquire-like primitive has acio_X_with(x, body, arg), which
 * acquires, runs body(arg), and releases on every exit path; and, for GCC and Clang, a
 * scope guard (ACIO_GUARD below) that releases when the enclosing block is left by any
 * way (return, break, goto, falling off the end). */
#ifndef ACIO_SYNC_H
#define ACIO_SYNC_H

#include "common.h"

typedef struct acio_lock_s acio_lock_t;
typedef struct acio_event_s acio_event_t;
typedef struct acio_condition_s acio_condition_t;
/* Semaphore and BoundedSemaphore share one type (BoundedSemaphore is a subclass). */
typedef struct acio_semaphore_s acio_semaphore_t;
typedef struct acio_barrier_s acio_barrier_t;

/* The body of an acio_X_with() call: runs while the primitive is held. Its return value
 * (0 or a negative code, by convention) is what acio_X_with() returns. */
typedef int (*acio_with_fn)(void *arg);

/* ---- Lock (asyncio.Lock) ---- */

/* A new unlocked lock. Ownership: *out is the caller's; release it with
 * acio_lock_free(). Errors: -EINVAL (NULL out), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_lock_new(acio_lock_t **out);
/* Free the lock (locked or not). Errors: -EBUSY if a task is waiting to acquire it
 * (nothing is freed). NULL is a no-op returning 0. */
ACIO_EXTERN int acio_lock_free(acio_lock_t *lock);
/* Acquire the lock, waiting in FIFO order behind the tasks already waiting. Returns at
 * once, without yielding to the loop, when the lock is free and nobody waits.
 * Errors: -ECANCELED (the lock is not held), ACIO_ENOTASK (would have to wait outside a
 * task), -EINVAL (NULL, or tasks of another loop wait on it), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_lock_acquire(acio_lock_t *lock);
/* Release the lock and wake the first waiter. Any task may release it (asyncio's lock
 * has no owner). Errors: -EPERM if it is not locked (asyncio's RuntimeError), -EINVAL. */
ACIO_EXTERN int acio_lock_release(acio_lock_t *lock);
ACIO_EXTERN bool acio_lock_locked(const acio_lock_t *lock);
/* `async with lock: body`: acquire, run body(arg), release. Returns acquire's error
 * (body not run), or body's return value. */
ACIO_EXTERN ACIO_NODISCARD int acio_lock_with(acio_lock_t *lock, acio_with_fn body, void *arg);

/* ---- Event (asyncio.Event) ---- */

/* A new event, initially clear. Ownership: the caller's; acio_event_free() releases it.
 * Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_event_new(acio_event_t **out);
/* Errors: -EBUSY if a task waits on it (nothing is freed). NULL is a no-op. */
ACIO_EXTERN int acio_event_free(acio_event_t *ev);
/* Set the flag and wake every waiter (in the order they started waiting). */
ACIO_EXTERN void acio_event_set(acio_event_t *ev);
ACIO_EXTERN void acio_event_clear(acio_event_t *ev);
ACIO_EXTERN bool acio_event_is_set(const acio_event_t *ev);
/* Wait until the flag is set; returns 0 at once if it is. Errors: -ECANCELED,
 * ACIO_ENOTASK, -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_event_wait(acio_event_t *ev);

/* ---- Condition (asyncio.Condition) ---- */

/* A new condition variable over lock, which it borrows (lock must outlive it), or over
 * a lock of its own when lock is NULL. Ownership: *out is the caller's, released with
 * acio_condition_free(). Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_condition_new(acio_condition_t **out, acio_lock_t *lock);
/* Errors: -EBUSY if a task waits on it or on its own lock. NULL is a no-op. */
ACIO_EXTERN int acio_condition_free(acio_condition_t *cond);
/* The underlying lock (borrowed), for acquire/release/locked. */
ACIO_EXTERN acio_lock_t *acio_condition_lock(acio_condition_t *cond);
ACIO_EXTERN ACIO_NODISCARD int acio_condition_acquire(acio_condition_t *cond);
ACIO_EXTERN int acio_condition_release(acio_condition_t *cond);
ACIO_EXTERN bool acio_condition_locked(const acio_condition_t *cond);
/* Release the lock, wait until notified, re-acquire the lock. On every return,
 * including -ECANCELED, the lock is held again (as in asyncio). May return spuriously:
 * re-check the state. Errors: -EPERM (the lock is not held; nothing happens),
 * -ECANCELED (a notification that reached this task is passed on to the next waiter),
 * ACIO_ENOTASK, -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_condition_wait(acio_condition_t *cond);
/* Wait until predicate(arg) is true (checked first, then after each wake-up), with the
 * lock held. Returns 0 with the lock held and the predicate true, or an error of
 * acio_condition_wait(). */
ACIO_EXTERN ACIO_NODISCARD int acio_condition_wait_for(acio_condition_t *cond,
                                                       bool (*predicate)(void *arg), void *arg);
/* Wake up to n waiters (in FIFO order). The caller must hold the lock: -EPERM
 * otherwise. A woken waiter returns only once it has re-acquired the lock. */
ACIO_EXTERN int acio_condition_notify(acio_condition_t *cond, size_t n);
ACIO_EXTERN int acio_condition_notify_all(acio_condition_t *cond);
/* `async with cond: body` (acquires and releases the lock). */
ACIO_EXTERN ACIO_NODISCARD int acio_condition_with(acio_condition_t *cond, acio_with_fn body,
                                                   void *arg);

/* ---- Semaphore and BoundedSemaphore ---- */

/* A semaphore with counter value (asyncio.Semaphore(value)), or a bounded one
 * (asyncio.BoundedSemaphore(value)) whose release() fails if it would raise the counter
 * above its initial value. Ownership: the caller's, released with
 * acio_semaphore_free(). Errors: -EINVAL (NULL out, value < 0), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_semaphore_new(acio_semaphore_t **out, int value);
ACIO_EXTERN ACIO_NODISCARD int acio_bounded_semaphore_new(acio_semaphore_t **out, int value);
/* Errors: -EBUSY if a task waits on it. NULL is a no-op. */
ACIO_EXTERN int acio_semaphore_free(acio_semaphore_t *sem);
/* Decrement the counter, waiting (FIFO) while it is 0 or earlier waiters are still
 * queued. Errors: -ECANCELED (counter untouched), ACIO_ENOTASK, -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_semaphore_acquire(acio_semaphore_t *sem);
/* Increment the counter and wake the next waiter. Errors: -EOVERFLOW for a bounded
 * semaphore already at its initial value (asyncio's ValueError "released too many
 * times"; nothing changes), -EINVAL. */
ACIO_EXTERN int acio_semaphore_release(acio_semaphore_t *sem);
/* True if acquire() would have to wait. */
ACIO_EXTERN bool acio_semaphore_locked(const acio_semaphore_t *sem);
/* The counter (asyncio's _value). */
ACIO_EXTERN int acio_semaphore_value(const acio_semaphore_t *sem);
ACIO_EXTERN ACIO_NODISCARD int acio_semaphore_with(acio_semaphore_t *sem, acio_with_fn body,
                                                   void *arg);

/* ---- Barrier (asyncio.Barrier, Python 3.11) ---- */

/* A barrier for parties tasks. Ownership: the caller's, released with
 * acio_barrier_free(). Errors: -EINVAL (parties < 1), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_barrier_new(acio_barrier_t **out, int parties);
/* Errors: -EBUSY if a task is inside wait/reset/abort. NULL is a no-op. */
ACIO_EXTERN int acio_barrier_free(acio_barrier_t *b);
/* Wait until parties tasks are waiting, then all go on. Returns the task's arrival index
 * (0 .. parties-1, unique per passage), or an error: ACIO_EBROKENBARRIER (the barrier was
 * aborted, or reset while this task waited), -ECANCELED, ACIO_ENOTASK, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_barrier_wait(acio_barrier_t *b);
/* Back to the empty state; tasks waiting get ACIO_EBROKENBARRIER. A coroutine in asyncio
 * (it takes the barrier's internal lock), so it may wait: -ECANCELED, ACIO_ENOTASK. */
ACIO_EXTERN int acio_barrier_reset(acio_barrier_t *b);
/* Break the barrier: waiting and future wait() calls get ACIO_EBROKENBARRIER until
 * reset. Errors as for reset. */
ACIO_EXTERN int acio_barrier_abort(acio_barrier_t *b);
ACIO_EXTERN int acio_barrier_parties(const acio_barrier_t *b);
/* Tasks waiting for the barrier to fill (0 while it drains, resets or is broken). */
ACIO_EXTERN int acio_barrier_n_waiting(const acio_barrier_t *b);
ACIO_EXTERN bool acio_barrier_broken(const acio_barrier_t *b);

/* ---- Scope guards: `async with` for a C block ----
 *
 *     {
 *         ACIO_GUARD(g);                        // declares acio_guard_t g
 *         int rc = acio_guard_lock(&g, lock);   // acquire; on error nothing is held
 *         if (rc < 0)
 *             return rc;
 *         ... any return / break / goto out of the block releases the lock ...
 *     }
 *
 * The release runs through GCC's cleanup attribute when g goes out of scope, so it
 * also runs when the body returns early because an await returned -ECANCELED. It does
 * not run if the task's stack is discarded without unwinding (a loop closed under a
 * pending task) or on longjmp. acio_guard_exit(&g) releases early; releasing twice is
 * harmless. One guard holds one primitive at a time. */
typedef struct {
    int (*release)(void *obj); /* NULL when the guard holds nothing */
    void *obj;
} acio_guard_t;

#if defined(__GNUC__)
#define ACIO_GUARD(name) __attribute__((cleanup(acio_guard_exit))) acio_guard_t name = {NULL, NULL}
#endif

/* Acquire the primitive and record it in g (which must hold nothing: -EBUSY otherwise).
 * Errors: those of the acquire function; on error g still holds nothing. */
ACIO_EXTERN ACIO_NODISCARD int acio_guard_lock(acio_guard_t *g, acio_lock_t *lock);
ACIO_EXTERN ACIO_NODISCARD int acio_guard_semaphore(acio_guard_t *g, acio_semaphore_t *sem);
ACIO_EXTERN ACIO_NODISCARD int acio_guard_condition(acio_guard_t *g, acio_condition_t *cond);
/* Release what g holds, if anything, and mark it empty. */
ACIO_EXTERN void acio_guard_exit(acio_guard_t *g);

#endif
