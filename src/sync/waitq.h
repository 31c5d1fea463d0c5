/* The FIFO of waiter futures behind every synchronization primitive and queue: what
 * asyncio keeps in a collections.deque of futures (Lock._waiters, Queue._getters, ...).
 *
 * It is a ring buffer of future pointers, each slot holding one reference, that grows
 * by doubling and never shrinks, so waiting allocates no list node in steady state. The
 * queue holds references (instead of pointing into the waiting tasks' stacks) so that a
 * task discarded without unwinding can never leave a dangling entry behind.
 *
 * The waiters of one queue belong to one loop: the loop is recorded when the queue goes
 * from empty to non-empty, and forgotten when it empties again, so a primitive may be
 * reused by successive loops (acio_run calls) but never by two at once. */
#ifndef ACIO_SYNC_WAITQ_H
#define ACIO_SYNC_WAITQ_H

#include "internal.h"

typedef struct {
    acio_future_t **ring; /* cap slots; entries head .. head+len-1 (mod cap) */
    uint32_t cap;         /* 0 or a power of two */
    uint32_t head;
    uint32_t len;
    acio_loop_t *loop; /* the waiters' loop while len > 0 */
} acio__waitq_t;

/* An empty queue (allocates nothing). */
void acio__waitq_init(acio__waitq_t *q);
/* Drop every reference it holds and free the ring. */
void acio__waitq_close(acio__waitq_t *q);

static inline uint32_t acio__waitq_len(const acio__waitq_t *q)
{
    return q->len;
}
/* The i-th waiter from the head (borrowed); i < len. */
static inline acio_future_t *acio__waitq_at(const acio__waitq_t *q, uint32_t i)
{
    return q->ring[(q->head + i) & (q->cap - 1)];
}

/* Create a pending future on the running loop, labelled label (a literal, shown in task
 * dumps), and append it. The queue keeps one reference; *out receives another, which
 * the caller releases with acio_future_unref() once done with it.
 * Errors: ACIO_ENOTASK (not inside a task: the caller could never await it), -EINVAL
 * (the queue's waiters belong to another loop), -ENOMEM. */
int acio__waitq_add(acio__waitq_t *q, const char *label, acio_future_t **out);
/* Remove fut (its first occurrence) and drop the queue's reference. Returns false if
 * it was not there (asyncio's `remove` raising ValueError, which callers ignore). */
bool acio__waitq_remove(acio__waitq_t *q, acio_future_t *fut);
/* Remove the head and return the queue's reference to it (the caller unrefs); NULL if
 * empty. */
acio_future_t *acio__waitq_pop(acio__waitq_t *q);

/* Wake the first waiter that is not done yet, with set_result(NULL): Lock's
 * _wake_up_first, Semaphore's _wake_up_next. The waiter stays in the queue (it removes
 * itself when it runs). Returns true if one was woken. With only_first, look at the
 * head only (Lock: a done head will wake up and pass the baton itself). */
bool acio__waitq_wake_first(acio__waitq_t *q, bool only_first);
/* Wake up to n waiters that are not done, leaving them queued (Condition.notify,
 * Event.set). Returns how many were woken. */
size_t acio__waitq_wake_n(acio__waitq_t *q, size_t n);
/* Pop waiters until one that is not done is found and wake it (Queue's _wakeup_next).
 * Returns true if one was woken. */
bool acio__waitq_pop_wake(acio__waitq_t *q);
/* True if every waiter is cancelled (or there are none): Lock's fast-path test. */
bool acio__waitq_all_cancelled(const acio__waitq_t *q);

/* Await fut (a waiter from acio__waitq_add), then remove it from q: the shape of
 * asyncio's `try: await fut finally: waiters.remove(fut)`. Returns acio_await's code. */
int acio__waitq_await(acio__waitq_t *q, acio_future_t *fut);

#endif
