/* asyncio.Queue with 3.13's shutdown(): getters and putters wait on futures in two
 * FIFOs; put_nowait wakes the first getter, get_nowait the first putter, each by popping
 * it from its FIFO (asyncio's _wakeup_next). A woken waiter re-checks the queue when it
 * runs (another task may have got there first) and, if it is cancelled after being
 * woken, wakes the next one in its place, so an item or a free slot never goes
 * unnoticed. join() waits on an internal event set when the unfinished count drops to
 * zero. */
#include <errno.h>

#include "queue/store.h"
#include "sync/sync_internal.h"

struct acio_queue_s {
    acio__store_t store;
    size_t maxsize;
    size_t unfinished;
    acio__waitq_t getters;
    acio__waitq_t putters;
    acio_event_t finished;
    bool is_shutdown;
    void *data;
};

static int queue_new(acio_queue_t **out, size_t maxsize, acio__store_kind_t kind,
                     acio_queue_cmp cmp, void *cmp_arg)
{
    acio_queue_t *q;
    if (out == NULL)
        return -EINVAL;
    q = acio__malloc(sizeof(*q));
    if (q == NULL)
        return -ENOMEM;
    acio__store_init(&q->store, kind, cmp, cmp_arg);
    q->maxsize = maxsize;
    q->unfinished = 0;
    acio__waitq_init(&q->getters);
    acio__waitq_init(&q->putters);
    acio__event_init(&q->finished, "queue.join");
    q->finished.value = true;
    q->is_shutdown = false;
    q->data = NULL;
    *out = q;
    return 0;
}

int acio_queue_new(acio_queue_t **out, size_t maxsize)
{
    return queue_new(out, maxsize, ACIO__STORE_FIFO, NULL, NULL);
}

int acio_lifo_queue_new(acio_queue_t **out, size_t maxsize)
{
    return queue_new(out, maxsize, ACIO__STORE_LIFO, NULL, NULL);
}

int acio_priority_queue_new(acio_queue_t **out, size_t maxsize, acio_queue_cmp cmp, void *cmp_arg)
{
    return queue_new(out, maxsize, ACIO__STORE_PRIORITY, cmp, cmp_arg);
}

int acio_queue_free(acio_queue_t *q)
{
    if (q == NULL)
        return 0;
    if (acio__waitq_len(&q->getters) > 0 || acio__waitq_len(&q->putters) > 0 ||
        acio__waitq_len(&q->finished.waiters) > 0)
        return -EBUSY;
    acio__waitq_close(&q->getters);
    acio__waitq_close(&q->putters);
    acio__event_close(&q->finished);
    acio__store_close(&q->store);
    acio__free(q);
    return 0;
}

size_t acio_queue_qsize(const acio_queue_t *q)
{
    return q ? q->store.len : 0;
}
size_t acio_queue_maxsize(const acio_queue_t *q)
{
    return q ? q->maxsize : 0;
}
bool acio_queue_empty(const acio_queue_t *q)
{
    return q == NULL || q->store.len == 0;
}
bool acio_queue_full(const acio_queue_t *q)
{
    return q != NULL && q->maxsize > 0 && q->store.len >= q->maxsize;
}
size_t acio_queue_unfinished_tasks(const acio_queue_t *q)
{
    return q ? q->unfinished : 0;
}
bool acio_queue_is_shutdown(const acio_queue_t *q)
{
    return q != NULL && q->is_shutdown;
}
void acio_queue_set_data(acio_queue_t *q, void *data)
{
    if (q != NULL)
        q->data = data;
}
void *acio_queue_get_data(const acio_queue_t *q)
{
    return q ? q->data : NULL;
}

/* Wait on a new future in waiters until woken. On failure, undo as asyncio's bare
 * `except:` clause does: if we had been woken, hand the wake-up to the next waiter
 * (still_ready tells whether what we were woken for is still there). */
static int wait_turn(acio_queue_t *q, acio__waitq_t *waiters, const char *label,
                     bool (*still_ready)(const acio_queue_t *))
{
    acio_future_t *fut;
    int rc;

    if ((rc = acio__waitq_add(waiters, label, &fut)) < 0)
        return rc;
    rc = acio_await(fut, NULL);
    if (rc < 0) {
        acio_future_cancel(fut, NULL); /* in case it is still pending */
        acio__waitq_remove(waiters, fut);
        if (still_ready(q) && !acio_future_cancelled(fut))
            acio__waitq_pop_wake(waiters);
    }
    acio_future_unref(fut);
    return rc;
}

static bool not_full(const acio_queue_t *q)
{
    return !acio_queue_full(q);
}
static bool not_empty(const acio_queue_t *q)
{
    return !acio_queue_empty(q);
}

static int put_nowait(acio_queue_t *q, void *item, int64_t priority)
{
    int rc;
    if (q->is_shutdown)
        return ACIO_EQUEUESHUTDOWN;
    if (acio_queue_full(q))
        return ACIO_EQUEUEFULL;
    if ((rc = acio__store_push(&q->store, item, priority)) < 0)
        return rc;
    q->unfinished++;
    acio_event_clear(&q->finished);
    acio__waitq_pop_wake(&q->getters);
    return 0;
}

static int put(acio_queue_t *q, void *item, int64_t priority)
{
    int rc;
    while (acio_queue_full(q)) {
        if (q->is_shutdown)
            return ACIO_EQUEUESHUTDOWN;
        if ((rc = wait_turn(q, &q->putters, "queue.put", not_full)) < 0)
            return rc;
    }
    return put_nowait(q, item, priority);
}

int acio_queue_put(acio_queue_t *q, void *item)
{
    return q ? put(q, item, 0) : -EINVAL;
}

int acio_queue_put_nowait(acio_queue_t *q, void *item)
{
    return q ? put_nowait(q, item, 0) : -EINVAL;
}

int acio_queue_put_priority(acio_queue_t *q, void *item, int64_t priority)
{
    if (q == NULL || q->store.kind != ACIO__STORE_PRIORITY)
        return -EINVAL;
    return put(q, item, priority);
}

int acio_queue_put_priority_nowait(acio_queue_t *q, void *item, int64_t priority)
{
    if (q == NULL || q->store.kind != ACIO__STORE_PRIORITY)
        return -EINVAL;
    return put_nowait(q, item, priority);
}

/* get_nowait / get; a PriorityQueue's entry also hands back its priority. */
static int get_nowait(acio_queue_t *q, void **item, int64_t *priority)
{
    void *it;
    if (q->store.len == 0)
        return q->is_shutdown ? ACIO_EQUEUESHUTDOWN : ACIO_EQUEUEEMPTY;
    if (priority != NULL)
        *priority = q->store.u.entries[0].priority; /* the heap's top is what pop takes */
    it = acio__store_pop(&q->store);
    if (item != NULL)
        *item = it;
    acio__waitq_pop_wake(&q->putters);
    return 0;
}

static int get(acio_queue_t *q, void **item, int64_t *priority)
{
    int rc;
    while (q->store.len == 0) {
        if (q->is_shutdown)
            return ACIO_EQUEUESHUTDOWN;
        if ((rc = wait_turn(q, &q->getters, "queue.get", not_empty)) < 0)
            return rc;
    }
    return get_nowait(q, item, priority);
}

int acio_queue_get_nowait(acio_queue_t *q, void **item)
{
    return q == NULL ? -EINVAL : get_nowait(q, item, NULL);
}

int acio_queue_get(acio_queue_t *q, void **item)
{
    return q == NULL ? -EINVAL : get(q, item, NULL);
}

int acio_queue_get_priority_nowait(acio_queue_t *q, void **item, int64_t *priority)
{
    if (q == NULL || q->store.kind != ACIO__STORE_PRIORITY)
        return -EINVAL;
    return get_nowait(q, item, priority);
}

int acio_queue_get_priority(acio_queue_t *q, void **item, int64_t *priority)
{
    if (q == NULL || q->store.kind != ACIO__STORE_PRIORITY)
        return -EINVAL;
    return get(q, item, priority);
}

int acio_queue_task_done(acio_queue_t *q)
{
    if (q == NULL)
        return -EINVAL;
    if (q->unfinished == 0)
        return -EOVERFLOW;
    if (--q->unfinished == 0)
        acio_event_set(&q->finished);
    return 0;
}

int acio_queue_join(acio_queue_t *q)
{
    if (q == NULL)
        return -EINVAL;
    if (q->unfinished > 0)
        return acio_event_wait(&q->finished);
    return 0;
}

static void wake_all(acio__waitq_t *waiters)
{
    acio_future_t *fut;
    while ((fut = acio__waitq_pop(waiters)) != NULL) {
        if (!acio_future_done(fut))
            acio_future_set_result(fut, NULL);
        acio_future_unref(fut);
    }
}

int acio_queue_shutdown(acio_queue_t *q, bool immediate)
{
    if (q == NULL)
        return -EINVAL;
    q->is_shutdown = true;
    if (immediate) {
        while (q->store.len > 0) {
            acio__store_pop(&q->store);
            if (q->unfinished > 0)
                q->unfinished--;
        }
        if (q->unfinished == 0)
            acio_event_set(&q->finished);
    }
    /* Everyone blocked re-checks and sees the shutdown. */
    wake_all(&q->getters);
    wake_all(&q->putters);
    return 0;
}
