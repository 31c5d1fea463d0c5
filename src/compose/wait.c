/* asyncio.wait: block the calling task until all / the first / the first failed of a
 * set of futures is done, or a timeout passes; report done and pending.
 *
 * Done callbacks that have been scheduled cannot be recalled, so the state they share
 * lives on the heap with a count of callbacks still to come, and outlives the call if
 * some are still queued when it returns. The caller's arrays are written only while
 * the call is in progress. Such a state left behind is freed by the last of its queued
 * callbacks, or, if the loop is closed before they run (closing drops them unrun, as
 * asyncio's does), by the loop-closing hook below: until then it sits on a list of
 * orphans, which is short and rarely non-empty. */
#include <errno.h>
#include <math.h>
#include <pthread.h>

#include "internal.h"
#include "loop.h"

typedef struct wait_state_s {
    acio_future_t *waiter;
    acio_handle_t *timer;
    acio_return_when_t when;
    size_t counter;        /* futures whose callback has not run */
    size_t outstanding;    /* callbacks registered or scheduled, not run yet */
    bool returned;         /* acio_wait has returned: touch nothing of the caller's */
    acio_future_t **order; /* the caller's done array, in completion order */
    size_t norder;
    /* On the orphan list (returned with callbacks still queued), under orphans_lock. */
    acio_loop_t *loop;
    struct wait_state_s *onext, **oprev;
} wait_state_t;

/* Loops may be closed on another thread than the one that ran them, so the list is
 * global, under a lock taken only for states that outlive their call. */
static pthread_mutex_t orphans_lock = PTHREAD_MUTEX_INITIALIZER;
static wait_state_t *orphans;

static void wait_state_free(wait_state_t *w)
{
    acio_future_unref(w->waiter);
    acio__free(w);
}

static void wait_state_release(wait_state_t *w)
{
    if (!w->returned || w->outstanding > 0)
        return;
    if (w->oprev != NULL) {
        pthread_mutex_lock(&orphans_lock);
        if ((*w->oprev = w->onext) != NULL)
            w->onext->oprev = w->oprev;
        pthread_mutex_unlock(&orphans_lock);
    }
    wait_state_free(w);
}

/* acio_wait returns while some callbacks that point to w are queued. */
static void wait_state_orphan(wait_state_t *w)
{
    w->loop = acio_future_get_loop(w->waiter);
    pthread_mutex_lock(&orphans_lock);
    if ((w->onext = orphans) != NULL)
        orphans->oprev = &w->onext;
    orphans = w;
    w->oprev = &orphans;
    pthread_mutex_unlock(&orphans_lock);
}

/* The loop is closing: its queued callbacks will be dropped without running, so the
 * states waiting for them are freed now. */
static void wait_loop_closing(acio_loop_t *loop)
{
    pthread_mutex_lock(&orphans_lock);
    for (wait_state_t **pp = &orphans; *pp != NULL;) {
        wait_state_t *w = *pp;
        if (w->loop != loop) {
            pp = &w->onext;
            continue;
        }
        if ((*pp = w->onext) != NULL)
            w->onext->oprev = pp;
        wait_state_free(w);
    }
    pthread_mutex_unlock(&orphans_lock);
}

__attribute__((constructor)) static void register_wait_hook(void)
{
    acio__loop_register_hook(ACIO__HOOK_LOOP_CLOSING, wait_loop_closing);
}

static void wait_release_waiter(wait_state_t *w)
{
    if (w->timer != NULL) {
        acio_handle_cancel(w->timer);
        acio_handle_unref(w->timer);
        w->timer = NULL;
    }
    if (!acio_future_done(w->waiter))
        (void)acio_future_set_result(w->waiter, NULL);
}

static void wait_on_completion(acio_future_t *f, void *data)
{
    wait_state_t *w = data;

    w->outstanding--;
    if (w->returned) {
        wait_state_release(w);
        return;
    }
    if (w->order != NULL)
        w->order[w->norder] = f;
    w->norder++;
    w->counter--;
    if (w->counter == 0 || w->when == ACIO_FIRST_COMPLETED ||
        (w->when == ACIO_FIRST_EXCEPTION && !acio_future_cancelled(f) && acio_future_error(f) != 0))
        wait_release_waiter(w);
}

static void wait_on_timeout(void *data)
{
    wait_state_t *w = data;
    acio_handle_unref(w->timer);
    w->timer = NULL;
    if (!acio_future_done(w->waiter))
        (void)acio_future_set_result(w->waiter, NULL);
}

static bool wait_in_order(const wait_state_t *w, const acio_future_t *f)
{
    for (size_t i = 0; i < w->norder; i++)
        if (w->order[i] == f)
            return true;
    return false;
}

int acio_wait(acio_future_t *const *futs, size_t n, double timeout, acio_return_when_t when,
              acio_future_t **done, size_t *ndone, acio_future_t **pending, size_t *npending)
{
    acio_loop_t *loop;
    wait_state_t *w;
    size_t i, nd, np;
    int rc;

    if (futs == NULL || n == 0 || isnan(timeout) ||
        (when != ACIO_ALL_COMPLETED && when != ACIO_FIRST_COMPLETED &&
         when != ACIO_FIRST_EXCEPTION))
        return -EINVAL;
    if (acio_current_task() == NULL)
        return ACIO_ENOTASK;
    loop = acio_future_get_loop(acio_current_task());
    for (i = 0; i < n; i++)
        if (futs[i] == NULL || acio_future_get_loop(futs[i]) != loop)
            return -EINVAL;
    if ((w = acio__calloc(1, sizeof(*w))) == NULL)
        return -ENOMEM;
    if ((rc = acio_future_new(loop, &w->waiter)) < 0) {
        acio__free(w);
        return rc;
    }
    acio_future_set_label(w->waiter, "wait");
    w->when = when;
    w->counter = n;
    w->order = done;
    if (!(isinf(timeout) && timeout > 0) &&
        (rc = acio_loop_call_later(loop, timeout, wait_on_timeout, w, &w->timer)) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        if ((rc = acio_future_add_done_callback(futs[i], wait_on_completion, w)) < 0)
            break;
        w->outstanding++;
    }
    if (rc == 0)
        rc = acio_await(w->waiter, NULL);

out:
    if (w->timer != NULL) {
        acio_handle_cancel(w->timer);
        acio_handle_unref(w->timer);
        w->timer = NULL;
    }
    for (i = 0; i < n && w->outstanding > 0; i++)
        w->outstanding -= acio_future_remove_done_callback(futs[i], wait_on_completion, w);
    if (rc == 0) {
        /* Completion order first, then futures done whose callback has not run yet. */
        nd = w->norder;
        np = 0;
        for (i = 0; i < n; i++) {
            if (!acio_future_done(futs[i])) {
                if (pending != NULL)
                    pending[np] = futs[i];
                np++;
            } else if (done != NULL && w->outstanding > 0 && !wait_in_order(w, futs[i])) {
                /* Done, but its callback is still queued (with none queued, every done
                 * future is already in the completion order). */
                done[nd++] = futs[i];
            }
        }
        nd = n - np;
        if (ndone != NULL)
            *ndone = nd;
        if (npending != NULL)
            *npending = np;
    }
    w->returned = true;
    w->order = NULL;
    if (w->outstanding > 0)
        wait_state_orphan(w);
    wait_state_release(w);
    return rc;
}
