/* Internal view of tasks, shared by task.c (stepping, awaiting, cancellation) and
 * cancel_scope.c (level-triggered cancel scopes). */
#ifndef ACIO_TASK_INTERNAL_H
#define ACIO_TASK_INTERNAL_H

#include "coro.h"
#include "future.h"

struct acio_task_s {
    acio_future_t fut; /* first: a task is a future */
    acio_handle_t step;
    acio_coro_t *co;
    acio_coro_fn fn;
    void *arg;
    void *fn_result;
    acio_future_t *waiter;      /* the future awaited now (a reference) */
    acio_handle_t *sleep_timer; /* the timer of a pending acio_sleep (a reference) */
    char *name;                 /* NULL until named or asked for: then "Task-N" */
    char *cancel_msg;
    char *raise_msg;
    acio_task_impl_t *prev, *next; /* the loop's list of unfinished tasks */
    uint64_t num;
    size_t stack_size;
    int num_cancels;
    int raise_code;
    int resume_code; /* what a pending sleep returns: 0, or -ECANCELED */
    bool must_cancel;
    bool sleep_fired;
    bool msg_locked;  /* a cancel interrupted the wait: its message is the one that counts */
    bool scope_woken; /* woken by a cancel scope, not by its waiter */
    acio_cancel_scope_t *scope; /* innermost entered cancel scope, or NULL */
    void *cancel_origin;        /* code address of the last acio_task_cancel() caller */
    char *cancel_by;            /* name of the task that called it, if any */
};

static inline acio_task_impl_t *acio__as_task(acio_future_t *f)
{
    return (acio_task_impl_t *)f;
}

/* The task whose coroutine is running now, or NULL. */
acio_task_impl_t *acio__running_task(void);
/* Suspend the running task until its step is scheduled again. */
void acio__task_suspend(acio_task_impl_t *t);
/* Resume co, a coroutine nested in the running task (an async generator's body), as
 * acio__coro_resume does, with one difference: while co waits for futures (acio_await,
 * acio_sleep...), the task is suspended on its behalf, so co's waits are the task's.
 * Returns what co yields (a value of its own) or returns. Outside a task co runs
 * plainly, and its waits fail with ACIO_ENOTASK. */
void *acio__task_resume_nested(acio_coro_t *co, void *value);
/* Interrupt what a suspended task waits on so its await/sleep returns -ECANCELED,
 * without cancelling the awaited future (a cancel scope's way). */
void acio__task_interrupt_wait(acio_task_impl_t *t);
/* True if a cancel scope around the task's current point is cancelled. */
bool acio__scope_cancelled(const acio_task_impl_t *t);

#endif
