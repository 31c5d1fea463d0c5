/* asyncio.gather: one "outer" future that finishes when all children are done, with the
 * results in input order.
 *
 * Cost model (gather of 1e5 tasks is a benchmark): one allocation per gather holding the
 * state and the array of children; each child gets a plain function done callback whose
 * data is that state, so there is no per-child closure or allocation here. The results
 * are written into the caller's array once, when the outer future finishes, exactly as
 * CPython builds its list in the last child's callback.
 *
 * Cancelling the outer future cancels the unfinished children. CPython does that inside
 * _GatheringFuture.cancel(); the core has no cancel hook for plain futures, so acio does
 * it from a done callback on the outer future, one loop iteration later, and the outer
 * future is cancelled at once instead of when the children are (see docs/compose.md,
 * "Deviations"). */
#include <errno.h>
#include <string.h>

#include "internal.h"

typedef struct gather_s {
    acio_future_t *outer;
    void **results; /* the caller's, written only when outer finishes */
    int *codes;     /* the caller's, likewise */
    size_t n;
    size_t nfinished;
    unsigned flags;
    /* One for the children (dropped when the last one is done), one for the done
     * callback on the outer future. */
    int refs;
    /* Set when gather itself finishes outer, so the outer's done callback can tell that
     * from a cancellation requested by someone else. */
    bool settled;
    /* Setting up failed after some callbacks were already queued: they only drop
     * references. */
    bool dead;
    acio_future_t *children[];
} gather_t;

static void gather_unref(gather_t *g)
{
    if (--g->refs > 0)
        return;
    acio_future_unref(g->outer);
    acio__free(g);
}

static void gather_fill_results(gather_t *g)
{
    for (size_t i = 0; i < g->n; i++) {
        void *res = NULL;
        /* acio_future_result marks a child's error as retrieved, as fut.exception()
         * does in CPython's callback. */
        int code = acio_future_result(g->children[i], &res);
        if (g->results != NULL)
            g->results[i] = code == 0 ? res : NULL;
        if (g->codes != NULL)
            g->codes[i] = code;
    }
}

/* Finish outer as a failed/cancelled child dictates (return_exceptions off). */
static void gather_fail(gather_t *g, acio_future_t *child, int code)
{
    const char *msg = acio_future_error_message(child);
    g->settled = true;
    if (code == -ECANCELED)
        (void)acio_future_cancel(g->outer, msg);
    else if (msg != NULL)
        (void)acio_future_set_error(g->outer, code, "%s", msg);
    else
        (void)acio_future_set_error(g->outer, code, NULL);
}

static void gather_child_done(acio_future_t *child, void *data)
{
    gather_t *g = data;
    int code;

    if (g->dead) {
        gather_unref(g);
        return;
    }
    g->nfinished++;
    if (acio_future_done(g->outer)) {
        /* Too late to matter: just mark the outcome retrieved. */
        if (!acio_future_cancelled(child))
            (void)acio_future_error(child);
    } else if (!(g->flags & ACIO_GATHER_RETURN_EXCEPTIONS) &&
               (code = acio_future_error(child)) != 0) {
        gather_fail(g, child, code);
    } else if (g->nfinished == g->n) {
        gather_fill_results(g);
        g->settled = true;
        (void)acio_future_set_result(g->outer, g->results);
    }
    if (g->nfinished == g->n) {
        for (size_t i = 0; i < g->n; i++)
            acio_future_unref(g->children[i]);
        gather_unref(g);
    }
}

static void gather_outer_done(acio_future_t *outer, void *data)
{
    gather_t *g = data;
    /* Someone cancelled the gather: pass it on to the children still running. */
    if (acio_future_cancelled(outer) && !g->settled && g->nfinished < g->n) {
        const char *msg = acio_future_error_message(outer);
        for (size_t i = 0; i < g->n; i++)
            if (!acio_future_done(g->children[i]))
                (void)acio_future_cancel(g->children[i], msg);
    }
    gather_unref(g);
}

/* The loop of futs, checking that they all share one. */
static int gather_loop(acio_future_t *const *futs, size_t n, acio_loop_t **loop)
{
    *loop = NULL;
    for (size_t i = 0; i < n; i++) {
        if (futs[i] == NULL)
            return -EINVAL;
        acio_loop_t *l = acio_future_get_loop(futs[i]);
        if (*loop == NULL)
            *loop = l;
        else if (l != *loop)
            return -EINVAL;
    }
    if (*loop == NULL)
        return acio_get_running_loop_checked(loop);
    return 0;
}

/* acio_gather(); if gp is non-NULL it also receives the state with a reference of its
 * own (release with gather_unref) so acio_gather_await can look at it afterwards. */
static int gather_start(acio_future_t **out, acio_future_t *const *futs, size_t n, unsigned flags,
                        void **results, int *codes, gather_t **gp)
{
    acio_loop_t *loop;
    acio_future_t *outer;
    gather_t *g;
    int rc;

    if (gp != NULL)
        *gp = NULL;
    if (out == NULL || (futs == NULL && n > 0))
        return -EINVAL;
    *out = NULL;
    if ((rc = gather_loop(futs, n, &loop)) < 0)
        return rc;
    if ((rc = acio_future_new(loop, &outer)) < 0)
        return rc;
    acio_future_set_label(outer, "gather");
    if (n == 0) {
        (void)acio_future_set_result(outer, results);
        *out = outer;
        return 0;
    }
    if (n > (SIZE_MAX - sizeof(gather_t)) / sizeof(acio_future_t *) ||
        (g = acio__malloc(sizeof(gather_t) + n * sizeof(acio_future_t *))) == NULL) {
        acio_future_unref(outer);
        return -ENOMEM;
    }
    g->outer = acio_future_ref(outer);
    g->results = results;
    g->codes = codes;
    g->n = n;
    g->nfinished = 0;
    g->flags = flags;
    g->refs = 2;
    g->settled = false;
    g->dead = false;
    if ((rc = acio_future_add_done_callback(outer, gather_outer_done, g)) < 0) {
        acio_future_unref(g->outer);
        acio__free(g);
        acio_future_unref(outer);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = acio_future_add_done_callback(futs[i], gather_child_done, g)) < 0) {
            /* Undo. A callback on a child that was already done is queued and cannot
             * be removed: the state stays alive, inert, until those have run. */
            int queued = 0;
            for (size_t j = 0; j < i; j++)
                if (acio_future_remove_done_callback(futs[j], gather_child_done, g) == 0)
                    queued++;
            (void)acio_future_remove_done_callback(outer, gather_outer_done, g);
            g->dead = true;
            g->refs = queued + 1;
            gather_unref(g);
            acio_future_unref(outer);
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++)
        g->children[i] = acio_future_ref(futs[i]);
    if (gp != NULL) {
        g->refs++;
        *gp = g;
    }
    *out = outer;
    return 0;
}

int acio_gather(acio_future_t **out, acio_future_t *const *futs, size_t n, unsigned flags,
                void **results, int *codes)
{
    return gather_start(out, futs, n, flags, results, codes, NULL);
}

int acio_gather_calls(acio_future_t **out, const acio_call_t *calls, size_t n,
                      const acio_task_opts_t *opts, unsigned flags, void **results, int *codes,
                      acio_task_t **tasks)
{
    acio_loop_t *loop;
    acio_task_t **made;
    acio_task_t *small[16];
    acio_task_opts_t o = {0};
    size_t i;
    int rc;

    if (out == NULL || (calls == NULL && n > 0))
        return -EINVAL;
    *out = NULL;
    for (i = 0; i < n; i++)
        if (calls[i].fn == NULL)
            return -EINVAL;
    if ((rc = acio_get_running_loop_checked(&loop)) < 0)
        return rc;
    /* The task pointers go to the caller's array when given, else to a scratch one. */
    made = tasks;
    if (made == NULL) {
        made = n <= 16 ? small : acio__malloc(n * sizeof(*made));
        if (made == NULL)
            return -ENOMEM;
    }
    if (opts != NULL)
        o = *opts;
    for (i = 0; i < n; i++) {
        o.name = calls[i].name;
        if ((rc = acio_loop_create_task(loop, &made[i], calls[i].fn, calls[i].arg, &o)) < 0)
            break;
    }
    if (rc == 0)
        rc = acio_gather(out, made, n, flags, results, codes);
    if (rc < 0) {
        /* asyncio would leave the created coroutines unawaited; acio cancels the tasks
         * so none runs unobserved. */
        for (size_t j = 0; j < i; j++) {
            (void)acio_future_cancel(made[j], "gather failed to start");
            acio_future_unref(made[j]);
            if (tasks != NULL)
                tasks[j] = NULL;
        }
    } else if (tasks == NULL) {
        for (size_t j = 0; j < n; j++)
            acio_future_unref(made[j]);
    }
    if (made != tasks && made != small)
        acio__free(made);
    return rc;
}

int acio_gather_await(acio_future_t *const *futs, size_t n, unsigned flags, void **results,
                      int *codes)
{
    acio_future_t *outer;
    acio_future_t *small[16], **left = small;
    gather_t *g;
    size_t nleft = 0;
    int rc;

    if (acio_current_task() == NULL)
        return ACIO_ENOTASK;
    if ((rc = gather_start(&outer, futs, n, flags, results, codes, &g)) < 0)
        return rc;
    rc = acio_await(outer, NULL);
    if (!acio_future_done(outer)) {
        /* The await itself failed (-ENOMEM), or the calling task was cancelled and the
         * core did not cancel what it awaited. Either way this call is leaving: the
         * caller's arrays must not be written any more, and the children must not run
         * on unobserved, so cancel the gather. */
        if (g != NULL) {
            g->results = NULL;
            g->codes = NULL;
        }
        (void)acio_future_cancel(outer, NULL);
    }
    if (rc == -ECANCELED && g != NULL && !g->settled) {
        /* The gather was cancelled (not finished by a cancelled child). In asyncio the
         * awaiting task resumes only once the children have reacted: when the first of
         * them finishes, or all of them with return_exceptions. Wait the same way, and
         * pass on any further cancellation, as _GatheringFuture.cancel() would. */
        if (n > 16 && (left = acio__malloc(n * sizeof(*left))) == NULL)
            left = NULL;
        for (size_t i = 0; left != NULL && i < n; i++)
            if (!acio_future_done(futs[i]))
                left[nleft++] = futs[i];
        while (nleft > 0) {
            int r = acio_wait(left, nleft, ACIO_NO_TIMEOUT,
                              (flags & ACIO_GATHER_RETURN_EXCEPTIONS) ? ACIO_ALL_COMPLETED
                                                                      : ACIO_FIRST_COMPLETED,
                              NULL, NULL, NULL, NULL);
            if (r == 0 || r != -ECANCELED)
                break;
            for (size_t i = 0; i < nleft; i++)
                if (!acio_future_done(left[i]))
                    (void)acio_future_cancel(left[i], NULL);
        }
        if (left != small)
            acio__free(left);
    }
    if (g != NULL)
        gather_unref(g);
    acio_future_unref(outer);
    return rc;
}
