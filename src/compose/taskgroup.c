/* asyncio.TaskGroup (3.11, with the later fix that calls the parent's uncancel() only
 * after every child is done): structured concurrency for the tasks created through it.
 *
 * The first child that fails cancels its siblings and the parent task; exit waits for
 * every child and reports all errors. Children live on an intrusive list (one small node
 * per child, which also carries the done callback's data) so that a finished child is
 * removed in O(1) and the abort walks only live ones, in creation order. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <stdio.h>

#include "internal.h"

typedef struct tg_node_s {
    struct tg_node_s *prev, *next;
    acio_taskgroup_t *tg;
    acio_task_t *task; /* a reference */
} tg_node_t;

struct acio_taskgroup_s {
    bool entered, exiting, exited, aborting, parent_cancel_requested;
    int parent_cancelling; /* the parent's cancelling() at enter */
    acio_loop_t *loop;
    acio_task_t *parent;
    tg_node_t live; /* sentinel of the list of unfinished children */
    size_t ntasks;
    acio_future_t *on_completed;
    acio_taskgroup_error_t *errors;
    size_t nerrors, cap;
    char *body_message; /* acio_taskgroup_exit_error's message */
    char *message;      /* acio_taskgroup_message(), built at exit */
};

int acio_taskgroup_new(acio_taskgroup_t **out)
{
    acio_taskgroup_t *tg;

    if (out == NULL)
        return -EINVAL;
    if ((tg = acio__calloc(1, sizeof(*tg))) == NULL)
        return -ENOMEM;
    tg->live.next = tg->live.prev = &tg->live;
    *out = tg;
    return 0;
}

int acio_taskgroup_enter(acio_taskgroup_t *tg)
{
    acio_task_t *task;

    if (tg == NULL)
        return -EINVAL;
    if (tg->entered)
        return ACIO_EINVALSTATE;
    if ((task = acio_current_task()) == NULL)
        return ACIO_ENOTASK;
    /* Held so a child finishing after a misbehaving parent is gone stays safe. */
    tg->parent = acio_future_ref(task);
    tg->loop = acio_future_get_loop(task);
    tg->parent_cancelling = acio_task_cancelling(task);
    tg->entered = true;
    return 0;
}

/* Python's str(ExceptionGroup) and, after it, each sub-error's code and message (what a
 * traceback of the group would show). Left NULL if memory runs out. */
static void build_message(acio_taskgroup_t *tg)
{
    size_t cap = 96;
    for (size_t i = 0; i < tg->nerrors; i++)
        cap += 48 + strlen(tg->errors[i].message ? tg->errors[i].message
                                                 : acio_strerror(tg->errors[i].code));
    char *m = acio__malloc(cap);
    if (m == NULL)
        return;
    size_t o = (size_t)snprintf(m, cap, "unhandled errors in a TaskGroup (%zu sub-exception%s)",
                                tg->nerrors, tg->nerrors == 1 ? "" : "s");
    for (size_t i = 0; i < tg->nerrors && o < cap; i++) {
        const acio_taskgroup_error_t *e = &tg->errors[i];
        o += (size_t)snprintf(m + o, cap - o, "%s[%zu] %s: %s", i == 0 ? ": " : "; ", i + 1,
                              acio_err_name(e->code),
                              e->message ? e->message : acio_strerror(e->code));
    }
    tg->message = m;
}

static void tg_add_error(acio_taskgroup_t *tg, acio_task_t *task, int code)
{
    if (tg->nerrors == tg->cap) {
        size_t cap = tg->cap ? tg->cap * 2 : 4;
        acio_taskgroup_error_t *e = acio__realloc(tg->errors, cap * sizeof(*e));
        if (e == NULL) {
            /* Keep the first errors rather than none; the task's own failure is still
             * reported by the core when its last reference goes. */
            return;
        }
        tg->errors = e;
        tg->cap = cap;
    }
    tg->errors[tg->nerrors].task = task != NULL ? acio_future_ref(task) : NULL;
    tg->errors[tg->nerrors].code = code;
    tg->errors[tg->nerrors].message =
        task != NULL ? acio_future_error_message(task) : tg->body_message;
    tg->nerrors++;
}

static void tg_abort(acio_taskgroup_t *tg, const char *reason)
{
    tg->aborting = true;
    for (tg_node_t *n = tg->live.next; n != &tg->live; n = n->next)
        if (!acio_future_done(n->task))
            (void)acio_future_cancel(n->task, reason);
}

static void tg_on_task_done(acio_future_t *task, void *data)
{
    tg_node_t *node = data;
    acio_taskgroup_t *tg = node->tg;
    char reason[200];
    int code;

    node->prev->next = node->next;
    node->next->prev = node->prev;
    tg->ntasks--;
    acio__free(node);
    if (tg->on_completed != NULL && tg->ntasks == 0 && !acio_future_done(tg->on_completed))
        (void)acio_future_set_result(tg->on_completed, NULL);

    if (acio_future_cancelled(task) || (code = acio_future_error(task)) == 0) {
        acio_future_unref(task);
        return;
    }
    tg_add_error(tg, task, code);
    if (acio_future_done(tg->parent)) {
        acio_error_context_t ctx = {0};
        ctx.message = "a task of a TaskGroup has errored out but its parent task is already "
                      "completed";
        ctx.code = code;
        ctx.error_message = acio_future_error_message(task);
        ctx.future = task;
        acio_loop_call_exception_handler(tg->loop, &ctx);
    } else if (!tg->aborting && !tg->parent_cancel_requested) {
        /* Stop whatever the parent is doing inside the group; exit() uncancels it. */
        snprintf(reason, sizeof reason, "TaskGroup: task '%s' failed: %s",
                 acio_task_get_name(task) != NULL ? acio_task_get_name(task) : "?",
                 acio_future_error_message(task) != NULL ? acio_future_error_message(task)
                                                         : acio_strerror(code));
        tg_abort(tg, reason);
        tg->parent_cancel_requested = true;
        (void)acio_task_cancel(tg->parent, reason);
    }
    acio_future_unref(task);
}

int acio_taskgroup_create_task(acio_taskgroup_t *tg, acio_task_t **out, acio_coro_fn fn, void *arg,
                               const acio_task_opts_t *opts)
{
    acio_task_t *task;
    tg_node_t *node;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (tg == NULL || fn == NULL)
        return -EINVAL;
    if (!tg->entered || (tg->exiting && tg->ntasks == 0) || tg->exited || tg->aborting)
        return ACIO_EINVALSTATE;
    if ((node = acio__malloc(sizeof(*node))) == NULL)
        return -ENOMEM;
    if ((rc = acio_loop_create_task(tg->loop, &task, fn, arg, opts)) < 0) {
        acio__free(node);
        return rc;
    }
    node->tg = tg;
    node->task = task;
    node->next = &tg->live;
    node->prev = tg->live.prev;
    tg->live.prev->next = node;
    tg->live.prev = node;
    tg->ntasks++;
    if (out != NULL)
        *out = acio_future_ref(task);
    if (acio_future_done(task)) {
        /* It finished eagerly: handle it now, as 3.12 does, not a loop iteration later. */
        tg_on_task_done(task, node);
    } else if ((rc = acio_future_add_done_callback(task, tg_on_task_done, node)) < 0) {
        /* Cannot watch it: do not let it run unobserved. */
        (void)acio_future_cancel(task, "TaskGroup: out of memory");
        node->prev->next = node->next;
        node->next->prev = node->prev;
        tg->ntasks--;
        acio__free(node);
        acio_future_unref(task);
        if (out != NULL) {
            acio_future_unref(*out);
            *out = NULL;
        }
        return rc;
    }
    return 0;
}

int acio_taskgroup_exit(acio_taskgroup_t *tg, int rc)
{
    bool propagate_cancel;
    int r;

    if (tg == NULL)
        return -EINVAL;
    if (!tg->entered || tg->exited || tg->exiting)
        return ACIO_EINVALSTATE;
    if (acio_current_task() != tg->parent)
        return ACIO_ENOTASK;
    tg->exiting = true;
    propagate_cancel = rc == -ECANCELED;
    if (rc < 0 && !tg->aborting)
        tg_abort(tg, rc == -ECANCELED ? "TaskGroup: parent task cancelled"
                                      : "TaskGroup: the body of the group failed");

    /* A loop, because the parent may be cancelled again and again while it waits. */
    while (tg->ntasks > 0) {
        if (tg->on_completed == NULL && acio_future_new(tg->loop, &tg->on_completed) == 0)
            acio_future_set_label(tg->on_completed, "TaskGroup exit");
        if (tg->on_completed != NULL)
            r = acio_await(tg->on_completed, NULL);
        else
            r = -ENOMEM;
        /* Out of memory for the waiter or its callback: poll, one iteration at a time,
         * rather than spin without letting the children run. */
        if (r < 0 && r != -ECANCELED)
            r = acio_sleep(0);
        if (r == -ECANCELED && !tg->aborting) {
            propagate_cancel = true;
            tg_abort(tg, "TaskGroup: parent task cancelled");
        }
        acio_future_unref(tg->on_completed);
        tg->on_completed = NULL;
    }
    tg->exited = true;

    if (tg->parent_cancel_requested && acio_task_uncancel(tg->parent) == 0)
        propagate_cancel = false;
    /* Beyond asyncio: a cancellation from outside that arrived while the group was
     * already aborting is still owed to the caller; never swallow it. */
    if (acio_task_cancelling(tg->parent) > tg->parent_cancelling)
        propagate_cancel = true;
    if (propagate_cancel && tg->nerrors == 0)
        return -ECANCELED;
    if (rc < 0 && rc != -ECANCELED)
        tg_add_error(tg, NULL, rc);
    if (tg->nerrors > 0) {
        build_message(tg);
        return tg->errors[0].code;
    }
    return 0;
}

int acio_taskgroup_exit_error(acio_taskgroup_t *tg, int rc, const char *fmt, ...)
{
    if (tg != NULL && rc < 0 && fmt != NULL && tg->body_message == NULL) {
        va_list ap;
        va_start(ap, fmt);
        tg->body_message = acio__vformat(fmt, ap);
        va_end(ap);
    }
    return acio_taskgroup_exit(tg, rc);
}

const char *acio_taskgroup_message(const acio_taskgroup_t *tg)
{
    return tg != NULL ? tg->message : NULL;
}

const acio_taskgroup_error_t *acio_taskgroup_errors(const acio_taskgroup_t *tg, size_t *n)
{
    if (n != NULL)
        *n = tg != NULL ? tg->nerrors : 0;
    return tg != NULL ? tg->errors : NULL;
}

size_t acio_taskgroup_size(const acio_taskgroup_t *tg)
{
    return tg != NULL ? tg->ntasks : 0;
}

int acio_taskgroup_free(acio_taskgroup_t *tg)
{
    if (tg == NULL)
        return 0;
    if (tg->ntasks > 0)
        return ACIO_EINVALSTATE;
    for (size_t i = 0; i < tg->nerrors; i++)
        acio_future_unref(tg->errors[i].task);
    acio_future_unref(tg->parent);
    acio__free(tg->errors);
    acio__free(tg->body_message);
    acio__free(tg->message);
    acio__free(tg);
    return 0;
}
