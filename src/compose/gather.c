/* asyncio.gather: one "outer" future that finishes when all children are done, with the
 * results in input order.
 *
 * The outer future is embedded in the gather's state, as _GatheringFuture subclasses
 * Future: its cancel() cancels the unfinished children at once and leaves the outer
 * pending, so it finishes when the children have reacted (with the first cancelled
 * child, or once all are done with return_exceptions), exactly as in asyncio.
 *
 * Cost model (gather of 1e5 tasks is a benchmark): one allocation per gather holding
 * the outer future, the state and the array of children; each child gets a plain
 * function done callback whose data is that state, so there is no per-child closure or
 * allocation. The results are written into the caller's array once, when the outer
 * future finishes, exactly as CPython builds its list in the last child's callback.
 *
 * Lifetime: the state lives as long as the outer future's references. The children's
 * callbacks share one of them, dropped when the last child is done; the state holds a
 * reference to each child until then. */
#include <errno.h>
#include <string.h>

#include "future.h"
#include "internal.h"

typedef struct gather_s {
    acio_future_t outer; /* first: the future callers get */
    void **results;      /* the caller's, written only when outer finishes */
    int *codes;          /* the caller's, likewise */
    size_t n;
    size_t nfinished;
    unsigned flags;
    /* _GatheringFuture._cancel_requested: outer.cancel() reached a child. */
    bool cancel_requested;
    /* Set when gather itself finishes outer (as opposed to never having finished). */
    bool settled;
    acio_future_t *children[];
} gather_t;

static void gather_free(acio_future_t *f)
{
    acio__free((gather_t *)f);
}

/* _GatheringFuture.cancel(): cancel the children; the outer follows them. */
static int gather_cancel(acio_future_t *f, const char *msg)
{
    gather_t *g = (gather_t *)f;
    bool any = false;
    if (f->state != ACIO_FUTURE_PENDING)
        return 0;
    /* Children are only referenced while some are unfinished; after that the outer
     * is finished too, or about to be by the last child's queued callback. */
    if (g->nfinished < g->n)
        for (size_t i = 0; i < g->n; i++)
            if (acio_future_cancel(g->children[i], msg))
                any = true;
    if (any)
        g->cancel_requested = true;
    return any;
}

static const acio__future_ops_t gather_ops = {gather_cancel, gather_free};

static void gather_finish(gather_t *g, int err, void *result, const char *msg)
{
    char *copy = msg != NULL ? acio__strdup(msg) : NULL;
    g->settled = true;
    acio__future_finish(&g->outer, err, result, copy);
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

/* CPython's _done_callback in gather(). */
static void gather_child_done(acio_future_t *child, void *data)
{
    gather_t *g = data;
    int code;

    g->nfinished++;
    if (acio_future_done(&g->outer)) {
        /* Too late to matter: just mark the outcome retrieved. */
        if (!acio_future_cancelled(child))
            (void)acio_future_error(child);
    } else if (!(g->flags & ACIO_GATHER_RETURN_EXCEPTIONS) &&
               (code = acio_future_error(child)) != 0) {
        gather_finish(g, code, NULL, acio_future_error_message(child));
    } else if (g->nfinished == g->n) {
        gather_fill_results(g);
        if (g->cancel_requested) /* the last child's cancel message, if it has one */
            gather_finish(g, -ECANCELED, NULL,
                          acio_future_cancelled(child) ? acio_future_error_message(child) : NULL);
        else
            gather_finish(g, 0, g->results, NULL);
    }
    if (g->nfinished == g->n) {
        for (size_t i = 0; i < g->n; i++)
            acio_future_unref(g->children[i]);
        acio_future_unref(&g->outer);
    }
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

/* acio_gather(); *gp receives the state, borrowed (the outer future's reference in
 * *out keeps it alive). */
static int gather_start(acio_future_t **out, acio_future_t *const *futs, size_t n, unsigned flags,
                        void **results, int *codes, gather_t **gp)
{
    acio_loop_t *loop;
    gather_t *g;
    int rc;

    if (out == NULL || (futs == NULL && n > 0))
        return -EINVAL;
    *out = NULL;
    if ((rc = gather_loop(futs, n, &loop)) < 0)
        return rc;
    if ((rc = acio__loop_check(loop)) < 0)
        return rc;
    if (n > (SIZE_MAX - sizeof(gather_t)) / sizeof(acio_future_t *) ||
        (g = acio__malloc(sizeof(gather_t) + n * sizeof(acio_future_t *))) == NULL)
        return -ENOMEM;
    acio__future_init(&g->outer, loop, &gather_ops, false);
    g->outer.origin = ACIO_CALLER();
    acio_future_set_label(&g->outer, "gather");
    g->results = results;
    g->codes = codes;
    g->n = n;
    g->nfinished = 0;
    g->flags = flags;
    g->cancel_requested = false;
    g->settled = false;
    if (n == 0)
        gather_finish(g, 0, results, NULL);
    for (size_t i = 0; i < n; i++) {
        if ((rc = acio_future_add_done_callback(futs[i], gather_child_done, g)) < 0) {
            /* Undo. A callback on a child that was already done is queued and cannot
             * be removed: those run with the state as it is, and the last of them
             * releases it. Pretend the others (and the failed one) are finished. */
            size_t queued = 0;
            for (size_t j = 0; j < i; j++) {
                /* No loop iteration ran since: done now means done when added. */
                if (acio_future_done(futs[j]))
                    g->children[queued++] = acio_future_ref(futs[j]);
                else
                    (void)acio_future_remove_done_callback(futs[j], gather_child_done, g);
            }
            g->n = queued;
            g->settled = true;
            acio__future_finish(&g->outer, -ECANCELED, NULL, NULL);
            if (queued == 0) /* else the queued callbacks hold the outer's reference */
                acio_future_unref(&g->outer);
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++)
        g->children[i] = acio_future_ref(futs[i]);
    if (n > 0)
        acio_future_ref(&g->outer); /* the children's, dropped by the last one */
    if (gp != NULL)
        *gp = g;
    *out = &g->outer;
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
    gather_t *g = NULL;
    int rc;

    if (acio_current_task() == NULL)
        return ACIO_ENOTASK;
    if ((rc = gather_start(&outer, futs, n, flags, results, codes, &g)) < 0)
        return rc;
    rc = acio_await(outer, NULL);
    if (!acio_future_done(outer)) {
        /* The await itself failed (-ENOMEM), or a cancel scope interrupted it without
         * cancelling what it awaited (it is level-triggered: no further wait would
         * succeed). This call is leaving: the caller's arrays must not be written any
         * more, and the children must not run on unobserved, so cancel the gather. */
        g->results = NULL;
        g->codes = NULL;
        (void)acio_future_cancel(outer, NULL);
    }
    acio_future_unref(outer);
    return rc;
}
