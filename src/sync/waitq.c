/* The waiter FIFO shared by the synchronization primitives and the queues (see
 * waitq.h): a growable ring of future references, plus the handful of wake-up policies
 * asyncio's locks.py and queues.py apply to their deques. */
#include <errno.h>

#include "sync/waitq.h"

void acio__waitq_init(acio__waitq_t *q)
{
    q->ring = NULL;
    q->cap = q->head = q->len = 0;
    q->loop = NULL;
}

void acio__waitq_close(acio__waitq_t *q)
{
    while (q->len > 0)
        acio_future_unref(acio__waitq_pop(q));
    acio__free(q->ring);
    acio__waitq_init(q);
}

static int grow(acio__waitq_t *q)
{
    uint32_t ncap = q->cap ? q->cap * 2 : 8;
    acio_future_t **nring;
    if (ncap == 0)
        return -ENOMEM;
    nring = acio__malloc(sizeof(*nring) * ncap);
    if (nring == NULL)
        return -ENOMEM;
    /* Unroll the ring so the entries start at slot 0 of the new one. */
    for (uint32_t i = 0; i < q->len; i++)
        nring[i] = acio__waitq_at(q, i);
    acio__free(q->ring);
    q->ring = nring;
    q->cap = ncap;
    q->head = 0;
    return 0;
}

int acio__waitq_add(acio__waitq_t *q, const char *label, acio_future_t **out)
{
    acio_loop_t *loop;
    acio_future_t *fut;
    int rc;

    if (acio_current_task() == NULL)
        return ACIO_ENOTASK;
    loop = acio_get_running_loop();
    if (loop == NULL)
        return ACIO_ENOLOOP;
    if (q->len > 0 && q->loop != loop)
        return -EINVAL;
    if (q->len == q->cap && (rc = grow(q)) < 0)
        return rc;
    rc = acio_future_new(loop, &fut);
    if (rc < 0)
        return rc;
    acio_future_set_label(fut, label);
    q->ring[(q->head + q->len) & (q->cap - 1)] = acio_future_ref(fut);
    q->len++;
    q->loop = loop;
    *out = fut;
    return 0;
}

acio_future_t *acio__waitq_pop(acio__waitq_t *q)
{
    acio_future_t *fut;
    if (q->len == 0)
        return NULL;
    fut = q->ring[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    if (--q->len == 0)
        q->loop = NULL;
    return fut;
}

bool acio__waitq_remove(acio__waitq_t *q, acio_future_t *fut)
{
    uint32_t i;
    for (i = 0; i < q->len; i++)
        if (acio__waitq_at(q, i) == fut)
            break;
    if (i == q->len)
        return false;
    if (i == 0) {
        acio_future_unref(acio__waitq_pop(q));
        return true;
    }
    /* Close the gap by moving the later entries one slot towards the head. */
    for (; i + 1 < q->len; i++)
        q->ring[(q->head + i) & (q->cap - 1)] = acio__waitq_at(q, i + 1);
    if (--q->len == 0)
        q->loop = NULL;
    acio_future_unref(fut);
    return true;
}

bool acio__waitq_wake_first(acio__waitq_t *q, bool only_first)
{
    for (uint32_t i = 0; i < q->len; i++) {
        acio_future_t *fut = acio__waitq_at(q, i);
        if (!acio_future_done(fut)) {
            acio_future_set_result(fut, NULL);
            return true;
        }
        if (only_first)
            break;
    }
    return false;
}

size_t acio__waitq_wake_n(acio__waitq_t *q, size_t n)
{
    size_t woken = 0;
    for (uint32_t i = 0; i < q->len && woken < n; i++) {
        acio_future_t *fut = acio__waitq_at(q, i);
        if (!acio_future_done(fut)) {
            acio_future_set_result(fut, NULL);
            woken++;
        }
    }
    return woken;
}

bool acio__waitq_pop_wake(acio__waitq_t *q)
{
    while (q->len > 0) {
        acio_future_t *fut = acio__waitq_pop(q);
        bool woke = false;
        if (!acio_future_done(fut)) {
            acio_future_set_result(fut, NULL);
            woke = true;
        }
        acio_future_unref(fut);
        if (woke)
            return true;
    }
    return false;
}

bool acio__waitq_all_cancelled(const acio__waitq_t *q)
{
    for (uint32_t i = 0; i < q->len; i++)
        if (!acio_future_cancelled(acio__waitq_at(q, i)))
            return false;
    return true;
}

int acio__waitq_await(acio__waitq_t *q, acio_future_t *fut)
{
    int rc = acio_await(fut, NULL);
    acio__waitq_remove(q, fut);
    return rc;
}
