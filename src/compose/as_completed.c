/* asyncio.as_completed: hand out futures in the order they complete, with an optional
 * overall timeout.
 *
 * CPython feeds an asyncio.Queue from done callbacks and, on timeout, queues one dummy
 * per future still missing so each later await raises TimeoutError. acio keeps the same
 * shape with a ring (one slot per future, so it never grows) and a count of timeouts to
 * hand out; a waiting task sleeps on a waiter future. The state outlives
 * acio_as_completed_free() while callbacks are still queued. */
#include <errno.h>
#include <math.h>

#include "internal.h"

struct acio_as_completed_s {
    acio_loop_t *loop;
    acio_future_t *waiter; /* set while a task waits in next() */
    acio_handle_t *timer;
    size_t n;
    size_t todo;        /* futures neither completed nor timed out */
    size_t head, count; /* the ring of completed futures not handed out yet */
    size_t timeouts;    /* -ETIMEDOUT results to hand out */
    size_t handed;      /* results handed out (futures + timeouts) */
    size_t outstanding; /* done callbacks registered or queued */
    bool freed;
    acio_future_t **futs; /* [n], a reference each */
    acio_future_t **ring; /* [n] */
};

static void ac_destroy(acio_as_completed_t *ac)
{
    for (size_t i = 0; i < ac->n; i++)
        acio_future_unref(ac->futs[i]);
    acio__free(ac);
}

static void ac_wake(acio_as_completed_t *ac)
{
    if (ac->waiter != NULL && !acio_future_done(ac->waiter))
        (void)acio_future_set_result(ac->waiter, NULL);
}

static void ac_on_completion(acio_future_t *f, void *data)
{
    acio_as_completed_t *ac = data;

    ac->outstanding--;
    if (ac->freed) {
        if (ac->outstanding == 0)
            ac_destroy(ac);
        return;
    }
    if (ac->todo == 0)
        return; /* the timeout came first */
    ac->todo--;
    ac->ring[(ac->head + ac->count) % ac->n] = f;
    ac->count++;
    if (ac->todo == 0 && ac->timer != NULL) {
        acio_handle_cancel(ac->timer);
        acio_handle_unref(ac->timer);
        ac->timer = NULL;
    }
    ac_wake(ac);
}

static void ac_unregister(acio_as_completed_t *ac)
{
    for (size_t i = 0; i < ac->n && ac->outstanding > 0; i++)
        ac->outstanding -= acio_future_remove_done_callback(ac->futs[i], ac_on_completion, ac);
}

static void ac_on_timeout(void *data)
{
    acio_as_completed_t *ac = data;

    acio_handle_unref(ac->timer);
    ac->timer = NULL;
    ac_unregister(ac);
    ac->timeouts += ac->todo;
    ac->todo = 0;
    ac_wake(ac);
}

int acio_as_completed_new(acio_as_completed_t **out, acio_future_t *const *futs, size_t n,
                          double timeout)
{
    acio_as_completed_t *ac;
    acio_loop_t *loop = NULL;
    int rc = 0;

    if (out == NULL || (futs == NULL && n > 0) || isnan(timeout))
        return -EINVAL;
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (futs[i] == NULL)
            return -EINVAL;
        if (loop == NULL)
            loop = acio_future_get_loop(futs[i]);
        else if (acio_future_get_loop(futs[i]) != loop)
            return -EINVAL;
    }
    if (loop == NULL && (rc = acio_get_running_loop_checked(&loop)) < 0)
        return rc;
    if (n > SIZE_MAX / (2 * sizeof(acio_future_t *)) - 1 ||
        (ac = acio__calloc(1, sizeof(*ac) + 2 * n * sizeof(acio_future_t *))) == NULL)
        return -ENOMEM;
    ac->loop = loop;
    ac->n = n;
    ac->futs = (acio_future_t **)(ac + 1);
    ac->ring = ac->futs + n;
    for (size_t i = 0; i < n; i++) {
        if ((rc = acio_future_add_done_callback(futs[i], ac_on_completion, ac)) < 0)
            break;
        ac->outstanding++;
        ac->futs[i] = acio_future_ref(futs[i]);
    }
    if (rc == 0 && n > 0 && !(isinf(timeout) && timeout > 0))
        rc = acio_loop_call_later(loop, timeout, ac_on_timeout, ac, &ac->timer);
    if (rc < 0) {
        /* Nothing of ours may stay registered, so nothing is queued yet either. */
        ac->n = ac->outstanding;
        ac_unregister(ac);
        ac_destroy(ac);
        return rc;
    }
    ac->todo = n;
    *out = ac;
    return 0;
}

int acio_as_completed_new_calls(acio_as_completed_t **out, const acio_call_t *calls, size_t n,
                                const acio_task_opts_t *opts, double timeout)
{
    acio_loop_t *loop;
    acio_future_t **tasks;
    acio_task_opts_t o = {0};
    size_t made = 0;
    int rc;

    if (out == NULL || (calls == NULL && n > 0) || isnan(timeout))
        return -EINVAL;
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (calls[i].fn == NULL)
            return -EINVAL;
    if ((rc = acio_get_running_loop_checked(&loop)) < 0)
        return rc;
    if (n > SIZE_MAX / sizeof(*tasks) || (tasks = acio__calloc(n ? n : 1, sizeof(*tasks))) == NULL)
        return -ENOMEM;
    if (opts != NULL)
        o = *opts;
    for (; made < n; made++) {
        o.name = calls[made].name;
        if ((rc = acio_loop_create_task(loop, &tasks[made], calls[made].fn, calls[made].arg, &o)) <
            0)
            break;
    }
    if (rc == 0)
        rc = acio_as_completed_new(out, tasks, n, timeout);
    for (size_t i = 0; i < made; i++) {
        if (rc < 0)
            acio_task_cancel(tasks[i], "as_completed: could not start every call");
        acio_future_unref(tasks[i]); /* the iterator (or the loop) holds its own */
    }
    acio__free(tasks);
    return rc;
}

int acio_as_completed_next(acio_as_completed_t *ac, acio_future_t **fut)
{
    int rc;

    if (ac == NULL || fut == NULL)
        return -EINVAL;
    *fut = NULL;
    if (acio_current_task() == NULL)
        return ACIO_ENOTASK;
    if (ac->waiter != NULL)
        return ACIO_ERUNNING;
    if (ac->handed == ac->n)
        return ACIO_ESTOPITERATION;
    while (ac->count == 0 && ac->timeouts == 0) {
        if ((rc = acio_future_new(ac->loop, &ac->waiter)) < 0)
            return rc;
        acio_future_set_label(ac->waiter, "as_completed");
        rc = acio_await(ac->waiter, NULL);
        acio_future_unref(ac->waiter);
        ac->waiter = NULL;
        if (rc < 0)
            return rc;
    }
    ac->handed++;
    if (ac->count > 0) {
        *fut = ac->ring[ac->head];
        ac->head = (ac->head + 1) % ac->n;
        ac->count--;
        return 0;
    }
    ac->timeouts--;
    return -ETIMEDOUT;
}

size_t acio_as_completed_remaining(const acio_as_completed_t *ac)
{
    return ac == NULL ? 0 : ac->n - ac->handed;
}

int acio_as_completed_free(acio_as_completed_t *ac)
{
    if (ac == NULL)
        return 0;
    if (ac->waiter != NULL)
        return ACIO_ERUNNING;
    if (ac->timer != NULL) {
        acio_handle_cancel(ac->timer);
        acio_handle_unref(ac->timer);
        ac->timer = NULL;
    }
    ac_unregister(ac);
    ac->freed = true;
    if (ac->outstanding == 0)
        ac_destroy(ac);
    return 0;
}
