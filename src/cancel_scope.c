/* Cancel scopes: level-triggered cancellation regions inside a task (see
 * include/acio/task.h). The task keeps a chain of its entered scopes, innermost first,
 * through the scopes themselves (which live on the task's stack), so entering one
 * allocates nothing but its optional deadline timer. acio_await and acio_sleep check the
 * chain only when it is not empty. */
#include <errno.h>

#include "task.h"

bool acio__scope_cancelled(const acio_task_impl_t *t)
{
    for (const acio_cancel_scope_t *s = t->scope; s; s = s->parent)
        if (s->cancelled)
            return true;
    return false;
}

static void deadline_passed(void *data)
{
    acio_cancel_scope_t *s = data;
    acio_cancel_scope_cancel(s, "cancel scope deadline passed");
}

int acio_cancel_scope_enter(acio_cancel_scope_t *scope, double timeout)
{
    if (!scope || timeout != timeout)
        return -EINVAL;
    acio_task_impl_t *t = acio__running_task();
    if (!t)
        return ACIO_ENOTASK;
    scope->task = &t->fut;
    scope->cancelled = false;
    scope->reason = NULL;
    scope->deadline = NULL;
    if (timeout > 0) {
        int rc =
            acio_loop_call_later(t->fut.loop, timeout, deadline_passed, scope, &scope->deadline);
        if (rc)
            return rc;
    }
    scope->parent = t->scope;
    t->scope = scope;
    return 0;
}

void acio_cancel_scope_cancel(acio_cancel_scope_t *scope, const char *reason)
{
    if (!scope || scope->cancelled)
        return;
    scope->cancelled = true;
    scope->reason = reason;
    if (scope->task) {
        acio_task_impl_t *t = acio__as_task(scope->task);
        /* Only a suspended task needs waking; a running one meets the scope at its next
         * wait. */
        if (t != acio__running_task())
            acio__task_interrupt_wait(t);
    }
}

bool acio_cancel_scope_cancelled(const acio_cancel_scope_t *scope)
{
    return scope && scope->cancelled;
}

int acio_cancel_scope_exit(acio_cancel_scope_t *scope)
{
    acio_task_impl_t *t = acio__running_task();
    if (!scope || !t || t->scope != scope)
        return -EINVAL;
    t->scope = scope->parent;
    if (scope->deadline) {
        acio_handle_cancel(scope->deadline);
        acio_handle_unref(scope->deadline);
        scope->deadline = NULL;
    }
    scope->task = NULL;
    return scope->cancelled ? 1 : 0;
}
