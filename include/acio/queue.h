/* Queues: asyncio.Queue, LifoQueue and PriorityQueue (asyncio/queues.py), with
 * Queue.shutdown() from Python 3.13. Producers and consumers in tasks of one loop hand
 * each other items; waiting getters and putters are served in FIFO order, and a waiter
 * that is cancelled after being woken passes its turn on, as in asyncio.
 *
 * Items are void pointers owned by the user: the queue stores and returns them and
 * never dereferences or frees them (so NULL is a valid item). Storage is a ring buffer
 * (Queue), an array (LifoQueue) or a binary heap (PriorityQueue) that grows by doubling
 * and never shrinks: no allocation per item once it has reached its working size.
 *
 * A PriorityQueue returns the entry with the lowest priority first. Each entry has an
 * integer priority (acio_queue_put_priority; acio_queue_put uses 0); entries with equal
 * priorities are ordered by the queue's comparator when it has one, and otherwise, or
 * when the comparator returns 0, first in first out. (Python's heapq orders equal keys
 * by comparing the items themselves; there is no such order for void pointers.)
 *
 * Lifecycle: acio_queue_new() and friends allocate, acio_queue_free() releases. The
 * queue is tied to a loop only while tasks wait on it (like the primitives in sync.h).
 * Waiting functions must run in a task: ACIO_ENOTASK otherwise. */
#ifndef ACIO_QUEUE_H
#define ACIO_QUEUE_H

#include "common.h"

/* One type for all three kinds, as asyncio's subclasses share Queue's methods. */
typedef struct acio_queue_s acio_queue_t;

/* Orders two items of equal priority: negative if a comes first, positive if b does,
 * 0 if equal (then FIFO). arg is the pointer given to acio_priority_queue_new(). */
typedef int (*acio_queue_cmp)(const void *a, const void *b, void *arg);

/* A FIFO queue holding at most maxsize items (0: unbounded).
 * Ownership: *out is the caller's, released with acio_queue_free().
 * Errors: -EINVAL (NULL out), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_new(acio_queue_t **out, size_t maxsize);
/* asyncio.LifoQueue: the most recently added item comes out first. As acio_queue_new. */
ACIO_EXTERN ACIO_NODISCARD int acio_lifo_queue_new(acio_queue_t **out, size_t maxsize);
/* asyncio.PriorityQueue: lowest priority first, ties broken by cmp (may be NULL) and
 * then FIFO. cmp_arg is passed to cmp. As acio_queue_new. */
ACIO_EXTERN ACIO_NODISCARD int acio_priority_queue_new(acio_queue_t **out, size_t maxsize,
                                                       acio_queue_cmp cmp, void *cmp_arg);
/* Free the queue. Items still in it are dropped (they are the user's pointers: drain
 * them first with acio_queue_get_nowait() if they own memory). Errors: -EBUSY if a task
 * waits in get, put or join (nothing is freed). NULL is a no-op returning 0. */
ACIO_EXTERN int acio_queue_free(acio_queue_t *q);

/* Put item, waiting while the queue is full. Errors: ACIO_EQUEUESHUTDOWN (shut down, or
 * shut down while waiting; item not added), -ECANCELED (item not added), ACIO_ENOTASK
 * (would have to wait outside a task), -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_put(acio_queue_t *q, void *item);
/* Put item now. Errors: ACIO_EQUEUEFULL, ACIO_EQUEUESHUTDOWN, -EINVAL, -ENOMEM (storage
 * could not grow; item not added). */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_put_nowait(acio_queue_t *q, void *item);
/* The same with a priority, for a PriorityQueue (-EINVAL on the other kinds). */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_put_priority(acio_queue_t *q, void *item,
                                                       int64_t priority);
ACIO_EXTERN ACIO_NODISCARD int acio_queue_put_priority_nowait(acio_queue_t *q, void *item,
                                                              int64_t priority);

/* Remove and return the next item into *item, waiting while the queue is empty.
 * Errors: ACIO_EQUEUESHUTDOWN (shut down and empty, or shut down immediately),
 * -ECANCELED (nothing removed), ACIO_ENOTASK, -EINVAL, -ENOMEM. item may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_get(acio_queue_t *q, void **item);
/* Remove and return an item now. Errors: ACIO_EQUEUEEMPTY, ACIO_EQUEUESHUTDOWN (empty
 * and shut down), -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_get_nowait(acio_queue_t *q, void **item);
/* A PriorityQueue's get / get_nowait handing back the entry's priority too (Python's
 * `priority, item = await q.get()`); priority may be NULL. -EINVAL on the other kinds;
 * otherwise the errors of acio_queue_get / acio_queue_get_nowait. */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_get_priority(acio_queue_t *q, void **item,
                                                       int64_t *priority);
ACIO_EXTERN ACIO_NODISCARD int acio_queue_get_priority_nowait(acio_queue_t *q, void **item,
                                                              int64_t *priority);

/* A consumer's "done with one item I got". Errors: -EOVERFLOW if called more times than
 * items were put (asyncio's ValueError), -EINVAL. */
ACIO_EXTERN int acio_queue_task_done(acio_queue_t *q);
/* Wait until every item put has been marked done (returns at once if so).
 * Errors: -ECANCELED, ACIO_ENOTASK, -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_queue_join(acio_queue_t *q);

/* Python 3.13's Queue.shutdown(immediate): from now on put fails with
 * ACIO_EQUEUESHUTDOWN, and get does once the queue is empty. With immediate, the queue
 * is emptied at once (each dropped item counts as task_done, which may release join()).
 * Every task waiting in get or put is woken to see the new state. Errors: -EINVAL. */
ACIO_EXTERN int acio_queue_shutdown(acio_queue_t *q, bool immediate);
ACIO_EXTERN bool acio_queue_is_shutdown(const acio_queue_t *q);

ACIO_EXTERN size_t acio_queue_qsize(const acio_queue_t *q);
ACIO_EXTERN size_t acio_queue_maxsize(const acio_queue_t *q);
ACIO_EXTERN bool acio_queue_empty(const acio_queue_t *q);
/* True if maxsize > 0 and the queue holds maxsize items; never for unbounded queues. */
ACIO_EXTERN bool acio_queue_full(const acio_queue_t *q);
/* Items put but not yet marked done (asyncio's _unfinished_tasks). */
ACIO_EXTERN size_t acio_queue_unfinished_tasks(const acio_queue_t *q);

/* The user slot. */
ACIO_EXTERN void acio_queue_set_data(acio_queue_t *q, void *data);
ACIO_EXTERN void *acio_queue_get_data(const acio_queue_t *q);

#endif
