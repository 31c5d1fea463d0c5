/* Tasks (asyncio.Task): a future driven by a coroutine on its own stack.
 *
 * A step (Task.__step) resumes the coroutine until it suspends in acio_await/acio_sleep
 * or returns. Waking (Task.__wakeup) is a done callback of the awaited future, scheduled
 * through call_soon like every done callback; instead of allocating a handle for it, the
 * task's own embedded step handle is queued, so awaiting allocates nothing.
 *
 * The loop holds a strong reference to every unfinished task (asyncio only keeps a weak
 * one, and fire-and-forget tasks vanish), released when the task finishes. The stack is
 * taken at the first step and returned to the pool when the task finishes, so a million
 * created-but-not-started tasks cost no stacks.
 *
 * Cancellation is Python 3.11's (num_cancels_requested, must_cancel, cancelling the
 * awaited future); the one deviation is explained in include/acio/task.h. */
#include <errno.h>
#include <execinfo.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coro.h"
#include "future.h"
#include "objpool.h"
#include "task.h"

static atomic_ulong task_counter;
static __thread acio_objpool_t pool = ACIO_OBJPOOL_INIT(acio_task_impl_t);

static char dump_token;
static __thread int dump_fd = -1;

static inline acio_task_impl_t *as_task(acio_future_t *f)
{
    return (acio_task_impl_t *)f;
}

static void task_step(void *data);
static int task_cancel(acio_future_t *f, const char *msg);
static void task_free(acio_future_t *f);
static const acio__future_ops_t task_ops = {task_cancel, task_free};

/* ---- the task list ---- */

static void link_task(acio_loop_t *loop, acio_task_impl_t *t)
{
    t->prev = loop->tasks_tail;
    t->next = NULL;
    if (loop->tasks_tail)
        loop->tasks_tail->next = t;
    else
        loop->tasks_head = t;
    loop->tasks_tail = t;
    loop->ntasks++;
}

static void unlink_task(acio_loop_t *loop, acio_task_impl_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        loop->tasks_head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        loop->tasks_tail = t->prev;
    t->prev = t->next = NULL;
    loop->ntasks--;
}

/* ---- creation ---- */

int acio_loop_create_task(acio_loop_t *loop, acio_task_t **out, acio_coro_fn fn, void *arg,
                          const acio_task_opts_t *opts)
{
    if (out)
        *out = NULL;
    int rc = acio__loop_check(loop);
    if (rc)
        return rc;
    if (!fn || (opts && opts->stack_size > ACIO_STACK_MAX))
        return -EINVAL;
    acio_task_impl_t *t = acio__objpool_get(&pool);
    if (!t)
        return -ENOMEM;
    char *name = NULL;
    if (opts && opts->name && !(name = acio__strdup(opts->name))) {
        acio__objpool_put(&pool, t);
        return -ENOMEM;
    }
    memset((char *)t + sizeof t->fut, 0, sizeof *t - sizeof t->fut);
    acio__future_init(&t->fut, loop, &task_ops, true); /* this first reference is the loop's */
    t->fut.origin = ACIO_CALLER();
    t->step.cb = task_step;
    t->step.data = t;
    t->step.loop = loop;
    t->step.when = -1;
    t->step.flags = HANDLE_EMBEDDED;
    t->fn = fn;
    t->arg = arg;
    t->name = name;
    t->num = atomic_fetch_add_explicit(&task_counter, 1, memory_order_relaxed) + 1;
    t->stack_size = opts && opts->stack_size ? opts->stack_size : loop->task_stack_size;
    link_task(loop, t);
    if (out)
        *out = acio_future_ref(&t->fut);
    if (opts && opts->eager && acio__running_loop == loop)
        task_step(t); /* 3.12 eager start: the first step runs inside create_task */
    else
        acio__loop_schedule(loop, &t->step);
    return 0;
}

int acio_create_task(acio_task_t **out, acio_coro_fn fn, void *arg, const char *name)
{
    if (out)
        *out = NULL;
    acio_loop_t *loop = acio__running_loop;
    if (!loop)
        return ACIO_ENOLOOP;
    acio_task_opts_t opts = {.name = name};
    int rc = acio_loop_create_task(loop, out, fn, arg, &opts);
    if (rc == 0 && out)
        (*out)->origin = ACIO_CALLER();
    return rc;
}

int acio_loop_set_task_stack_size(acio_loop_t *loop, size_t size)
{
    if (!loop || (size && size < ACIO_STACK_MIN) || size > ACIO_STACK_MAX)
        return -EINVAL;
    loop->task_stack_size = size;
    return 0;
}

static void task_free(acio_future_t *f)
{
    acio_task_impl_t *t = as_task(f);
    acio__free(t->name);
    acio__free(t->cancel_msg);
    acio__free(t->raise_msg);
    acio__free(t->cancel_by);
    acio__objpool_put(&pool, t);
}

/* ---- stepping ---- */

static void *task_body(void *arg)
{
    acio_task_impl_t *t = arg;
    t->fn_result = t->fn(t->arg);
    return NULL;
}

static void task_finish(acio_task_impl_t *t, int err, void *result, char *msg)
{
    acio_loop_t *loop = t->fut.loop;
    if (t->co) {
        acio__coro_release(t->co);
        t->co = NULL;
    }
    unlink_task(loop, t);
    acio__future_finish(&t->fut, err, result, msg);
    acio_future_unref(&t->fut); /* the loop's reference */
}

static void take_msg(char **from, char **to)
{
    *to = *from;
    *from = NULL;
}

static void task_step(void *data)
{
    acio_task_impl_t *t = data;
    acio_loop_t *loop = t->fut.loop;
    if (ACIO_UNLIKELY(t->fut.state != ACIO_FUTURE_PENDING))
        return;
    if (!t->co) {
        char *msg = NULL;
        if (t->must_cancel) {
            /* Cancelled before its first step: the body never runs (as in asyncio). */
            take_msg(&t->cancel_msg, &msg);
            task_finish(t, -ECANCELED, NULL, msg);
            return;
        }
        t->co = acio__coro_new(task_body, t, t->stack_size);
        if (!t->co) {
            task_finish(t, -ENOMEM, NULL, acio__strdup("no memory for the task's stack"));
            return;
        }
        t->co->name = t->name;
        t->co->num = t->num;
        t->co->owner = t;
    }
    acio_task_impl_t *prev = loop->current_task;
    loop->current_task = t;
    acio__coro_resume(t->co, NULL);
    loop->current_task = prev;
    if (t->co->state != ACIO_CORO_DEAD)
        return;

    char *msg = NULL;
    if (t->raise_code) {
        take_msg(&t->raise_msg, &msg);
        if (t->raise_code == -ECANCELED && !msg)
            take_msg(&t->cancel_msg, &msg);
        task_finish(t, t->raise_code, NULL, msg);
    } else if (t->must_cancel || t->num_cancels > 0) {
        take_msg(&t->cancel_msg, &msg);
        task_finish(t, -ECANCELED, NULL, msg);
    } else {
        task_finish(t, 0, t->fn_result, NULL);
    }
}

void acio__task_schedule_wakeup(void *task)
{
    acio_task_impl_t *t = task;
    if (!(t->step.flags & HANDLE_QUEUED))
        acio__loop_schedule(t->fut.loop, &t->step);
}

/* Registered as a done callback; future.c recognises it and queues the step directly. */
void acio__task_wakeup(acio_future_t *fut, void *task)
{
    (void)fut;
    acio__task_schedule_wakeup(task);
}

static void dump_here(acio_task_impl_t *t);

/* What a suspending coroutine yields: tells a nested coroutine's waiting from the
 * values it yields (see acio__task_resume_nested). */
static char suspend_token;

void acio__task_suspend(acio_task_impl_t *t)
{
    for (;;) {
        void *v = acio__coro_yield(&suspend_token);
        if (v != &dump_token)
            break;
        dump_here(t);
    }
}

acio_task_impl_t *acio__running_task(void)
{
    acio_loop_t *loop = acio__running_loop;
    if (!loop || !loop->current_task)
        return NULL;
    acio_task_impl_t *t = loop->current_task;
    acio_coro_t *co = acio__coro_running;
    return co && co->owner == t ? t : NULL;
}

void *acio__task_resume_nested(acio_coro_t *co, void *value)
{
    acio_task_impl_t *t = acio__running_task();
    void *out;
    co->owner = t;
    for (;;) {
        out = acio__coro_resume(co, value);
        if (out != &suspend_token || co->state == ACIO_CORO_DEAD || t == NULL)
            break;
        /* co waits for a future: the task waits with it. Whoever wakes the task
         * resumes its own coroutine, and so, through here, co. */
        acio__task_suspend(t);
        value = NULL;
    }
    co->owner = NULL;
    return out == &suspend_token ? NULL : out;
}

int acio_await(acio_future_t *fut, void **result)
{
    if (ACIO_UNLIKELY(fut && fut->refcnt == 0))
        acio__future_misuse(fut, "acio_await");
    if (result)
        *result = NULL;
    acio_task_impl_t *t = acio__running_task();
    if (!t)
        return ACIO_ENOTASK;
    if (!fut || fut->loop != t->fut.loop || fut == &t->fut)
        return -EINVAL;
    if (ACIO_UNLIKELY(t->scope != NULL) && acio__scope_cancelled(t))
        return -ECANCELED; /* level-triggered: every wait in a cancelled scope fails */
    if (fut->state != ACIO_FUTURE_PENDING)
        return acio_future_result(fut, result);
    int rc = acio_future_add_done_callback(fut, acio__task_wakeup, t);
    if (rc)
        return rc;
    t->waiter = acio_future_ref(fut);
    if (t->must_cancel && acio_future_cancel(fut, t->cancel_msg))
        t->must_cancel = false;
    acio__task_suspend(t);
    t->msg_locked = false;
    t->waiter = NULL;
    if (fut->state == ACIO_FUTURE_PENDING)
        acio_future_remove_done_callback(fut, acio__task_wakeup, t);
    if (t->must_cancel) {
        t->must_cancel = false;
        rc = -ECANCELED;
    } else if (ACIO_UNLIKELY(t->scope_woken)) {
        t->scope_woken = false;
        rc = -ECANCELED;
    } else {
        fut->retrieved = true;
        rc = fut->err;
        if (rc == 0 && result)
            *result = fut->result;
    }
    acio_future_unref(fut);
    return rc;
}

static void sleep_fired(void *data)
{
    acio_task_impl_t *t = data;
    t->sleep_fired = true;
    t->resume_code = 0;
    acio__task_schedule_wakeup(t);
}

int acio_sleep(double seconds)
{
    acio_task_impl_t *t = acio__running_task();
    if (!t)
        return ACIO_ENOTASK;
    if (seconds != seconds)
        return -EINVAL;
    if (ACIO_UNLIKELY(t->scope != NULL) && acio__scope_cancelled(t))
        return -ECANCELED;
    if (seconds <= 0) {
        /* asyncio's __sleep0: a bare yield; the task reschedules itself. */
        acio__task_schedule_wakeup(t);
        acio__task_suspend(t);
        if (t->must_cancel) {
            t->must_cancel = false;
            return -ECANCELED;
        }
        if (t->scope_woken) {
            t->scope_woken = false;
            return -ECANCELED;
        }
        return 0;
    }
    /* Like asyncio: a timer whose callback wakes the task (two loop hops), but with no
     * future: the timer handle is the whole cost of a sleeping task. */
    int rc = acio_loop_call_later(t->fut.loop, seconds, sleep_fired, t, &t->sleep_timer);
    if (rc)
        return rc;
    t->sleep_fired = false;
    t->resume_code = 0;
    if (t->must_cancel) {
        t->must_cancel = false;
        acio_handle_cancel(t->sleep_timer);
        t->resume_code = -ECANCELED;
        acio__task_schedule_wakeup(t);
    }
    acio__task_suspend(t);
    t->msg_locked = false;
    acio_handle_cancel(t->sleep_timer);
    acio_handle_unref(t->sleep_timer);
    t->sleep_timer = NULL;
    rc = t->resume_code;
    t->scope_woken = false;
    if (t->must_cancel) {
        t->must_cancel = false;
        rc = -ECANCELED;
    }
    return rc;
}

void *acio_raise(int code, const char *fmt, ...)
{
    acio_task_impl_t *t = acio__running_task();
    if (!t || code >= 0)
        return NULL;
    t->raise_code = code;
    acio__free(t->raise_msg);
    t->raise_msg = NULL;
    if (fmt) {
        va_list ap, ap2;
        va_start(ap, fmt);
        va_copy(ap2, ap);
        int n = vsnprintf(NULL, 0, fmt, ap2);
        va_end(ap2);
        if (n >= 0 && (t->raise_msg = acio__malloc((size_t)n + 1)))
            vsnprintf(t->raise_msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

/* ---- cancellation ---- */

static int task_cancel(acio_future_t *f, const char *msg)
{
    acio_task_impl_t *t = as_task(f);
    if (t->fut.state != ACIO_FUTURE_PENDING)
        return 0;
    t->num_cancels++;
    /* As in asyncio, the cancellation that interrupts a wait delivers its own message;
     * later requests before the task runs again do not replace it. */
    if (!t->msg_locked) {
        acio__free(t->cancel_msg);
        t->cancel_msg = msg ? acio__strdup(msg) : NULL;
    }
    if (t->waiter && acio_future_cancel(t->waiter, msg)) {
        t->msg_locked = true;
        return 1;
    }
    if (t->sleep_timer && !t->sleep_fired && !acio_handle_cancelled(t->sleep_timer)) {
        acio_handle_cancel(t->sleep_timer);
        t->resume_code = -ECANCELED;
        t->msg_locked = true;
        acio__task_schedule_wakeup(t);
        return 1;
    }
    t->must_cancel = true;
    return 1;
}

static void record_origin(acio_task_impl_t *t, void *origin)
{
    t->cancel_origin = origin;
    acio__free(t->cancel_by);
    t->cancel_by = NULL;
    acio_task_t *by = acio_current_task();
    if (by && by != &t->fut)
        t->cancel_by = acio__strdup(acio_task_get_name(by));
}

int acio_task_cancel(acio_task_t *task, const char *msg)
{
    if (!task || !task->is_task)
        return 0;
    if (task->state == ACIO_FUTURE_PENDING)
        record_origin(as_task(task), ACIO_CALLER());
    return task_cancel(task, msg);
}

int acio_task_cancel_info(const acio_task_t *task, acio_cancel_info_t *out)
{
    if (!task || !task->is_task || !out)
        return -EINVAL;
    acio_task_impl_t *t = as_task((acio_future_t *)task);
    memset(out, 0, sizeof *out);
    out->requests = t->num_cancels;
    out->message = t->cancel_msg ? t->cancel_msg
                                 : (t->fut.state == ACIO_FUTURE_CANCELLED ? t->fut.message : NULL);
    out->cancelled_by = t->cancel_by;
    out->origin = t->cancel_origin;
    if (t->cancel_origin)
        acio__describe_address(t->cancel_origin, out->origin_text, sizeof out->origin_text);
    return 0;
}

const char *acio_task_cancel_message(const acio_task_t *task)
{
    acio_cancel_info_t info;
    if (acio_task_cancel_info(task, &info) < 0)
        return NULL;
    return info.message;
}

void acio__task_interrupt_wait(acio_task_impl_t *t)
{
    if (t->fut.state != ACIO_FUTURE_PENDING || !t->co || t->co->state != ACIO_CORO_SUSPENDED)
        return;
    if (t->waiter) {
        /* A waiter that already finished keeps its outcome: the task is about to run
         * and the scope stops its next wait instead. Nothing is lost. */
        if (t->waiter->state == ACIO_FUTURE_PENDING) {
            acio_future_remove_done_callback(t->waiter, acio__task_wakeup, t);
            t->scope_woken = true;
            acio__task_schedule_wakeup(t);
        }
    } else if (t->sleep_timer && !t->sleep_fired && !acio_handle_cancelled(t->sleep_timer)) {
        acio_handle_cancel(t->sleep_timer);
        t->resume_code = -ECANCELED;
        acio__task_schedule_wakeup(t);
    } else if (t->step.flags & HANDLE_QUEUED) {
        t->scope_woken = true; /* a sleep(0): it will see the flag when it resumes */
    }
}

int acio_task_cancelling(const acio_task_t *task)
{
    return task && task->is_task ? as_task((acio_future_t *)task)->num_cancels : 0;
}

int acio_task_uncancel(acio_task_t *task)
{
    if (!task || !task->is_task)
        return 0;
    acio_task_impl_t *t = as_task(task);
    if (t->num_cancels > 0)
        t->num_cancels--;
    /* 3.13: once nothing asks for cancellation any more, a pending one is dropped. */
    if (t->num_cancels == 0)
        t->must_cancel = false;
    return t->num_cancels;
}

/* ---- introspection ---- */

acio_task_t *acio_current_task(void)
{
    acio_loop_t *loop = acio__running_loop;
    return loop && loop->current_task ? &loop->current_task->fut : NULL;
}

bool acio_is_task(const acio_future_t *fut)
{
    return fut && fut->is_task;
}

const char *acio_task_get_name(const acio_task_t *task)
{
    if (!task || !task->is_task)
        return NULL;
    acio_task_impl_t *t = as_task((acio_future_t *)task);
    if (!t->name) {
        char buf[32];
        snprintf(buf, sizeof buf, "Task-%llu", (unsigned long long)t->num);
        t->name = acio__strdup(buf);
        if (t->co)
            t->co->name = t->name;
    }
    return t->name ? t->name : "Task";
}

int acio_task_set_name(acio_task_t *task, const char *name)
{
    if (!task || !task->is_task || !name)
        return -EINVAL;
    char *n = acio__strdup(name);
    if (!n)
        return -ENOMEM;
    acio_task_impl_t *t = as_task(task);
    acio__free(t->name);
    t->name = n;
    if (t->co)
        t->co->name = n;
    return 0;
}

acio_future_t *acio_task_get_waiter(const acio_task_t *task)
{
    return task && task->is_task ? as_task((acio_future_t *)task)->waiter : NULL;
}

size_t acio_all_tasks(acio_loop_t *loop, acio_task_t **out, size_t cap)
{
    if (!loop)
        return 0;
    size_t n = 0;
    for (acio_task_impl_t *t = loop->tasks_head; t; t = t->next, n++)
        if (out && n < cap)
            out[n] = &t->fut;
    return n;
}

/* ---- the task dump ---- */

static void dump_here(acio_task_impl_t *t)
{
    (void)t;
    void *frames[48];
    int n = backtrace(frames, 48);
    /* Skip dump_here and task_suspend: show from the await that suspended it. */
    if (n > 2)
        backtrace_symbols_fd(frames + 2, n - 2, dump_fd);
}

static void describe_wait(acio_task_impl_t *t, char *buf, size_t len)
{
    if (t->sleep_timer && !t->sleep_fired)
        snprintf(buf, len, "sleep (wakes at loop time %.3f)", acio_handle_when(t->sleep_timer));
    else if (t->waiter && t->waiter->is_task)
        snprintf(buf, len, "task '%s'", acio_task_get_name(t->waiter));
    else if (t->waiter && t->waiter->label)
        snprintf(buf, len, "%s (future %p)", t->waiter->label, (void *)t->waiter);
    else if (t->waiter)
        snprintf(buf, len, "future %p", (void *)t->waiter);
    else if (t->step.flags & HANDLE_QUEUED)
        snprintf(buf, len, "nothing (scheduled to run)");
    else
        snprintf(buf, len, "nothing");
}

void acio__task_dump_all(acio_loop_t *loop, int fd)
{
    char wait[160], where[256];
    dprintf(fd, "acio: %zu pending task(s)\n", loop->ntasks);
    for (acio_task_impl_t *t = loop->tasks_head; t; t = t->next) {
        const char *state = t == loop->current_task ? "running"
                            : !t->co                ? "not started"
                                                    : "suspended";
        describe_wait(t, wait, sizeof wait);
        dprintf(fd, "Task '%s' %s, waiting on: %s\n  created at %s\n", acio_task_get_name(&t->fut),
                state, wait, acio__describe_address(t->fut.origin, where, sizeof where));
        if (t->num_cancels || t->must_cancel) {
            dprintf(fd, "  cancellation requested %d time(s)%s%s", t->num_cancels,
                    t->cancel_msg ? ": " : "", t->cancel_msg ? t->cancel_msg : "");
            if (t->cancel_by)
                dprintf(fd, " by task '%s'", t->cancel_by);
            if (t->cancel_origin)
                dprintf(fd, " at %s",
                        acio__describe_address(t->cancel_origin, where, sizeof where));
            dprintf(fd, "\n");
        }
        for (acio_cancel_scope_t *sc = t->scope; sc; sc = sc->parent)
            if (sc->cancelled)
                dprintf(fd, "  inside a cancelled scope: %s\n", sc->reason ? sc->reason : "");
        if (t->co && t->co->state == ACIO_CORO_SUSPENDED) {
            int saved = dump_fd;
            dump_fd = fd;
            acio__coro_resume(t->co, &dump_token);
            dump_fd = saved;
        }
    }
}

int acio_loop_dump_tasks(acio_loop_t *loop, int fd)
{
    if (!loop || fd < 0)
        return -EINVAL;
    acio__task_dump_all(loop, fd);
    return 0;
}

/* ---- loop close ---- */

void acio__tasks_close(acio_loop_t *loop)
{
    char where[256], msg[320];
    while (loop->tasks_head) {
        acio_task_impl_t *t = loop->tasks_head;
        snprintf(msg, sizeof msg, "Task was destroyed but it is pending! (task '%s')",
                 acio_task_get_name(&t->fut));
        acio_error_context_t ctx = {
            .message = msg,
            .future = &t->fut,
            .origin = acio__describe_address(t->fut.origin, where, sizeof where),
        };
        acio_loop_call_exception_handler(loop, &ctx);
        /* Its stack is discarded without running more of its code: there is no loop
         * left to run it on. Holders of a reference see a future that stays pending. */
        if (t->co) {
            acio__coro_release(t->co);
            t->co = NULL;
        }
        if (t->waiter) {
            acio_future_remove_done_callback(t->waiter, acio__task_wakeup, t);
            acio_future_unref(t->waiter);
            t->waiter = NULL;
        }
        if (t->sleep_timer) {
            acio_handle_cancel(t->sleep_timer);
            acio_handle_unref(t->sleep_timer);
            t->sleep_timer = NULL;
        }
        if (t->step.flags & HANDLE_QUEUED)
            t->step.flags |= HANDLE_CANCELLED;
        unlink_task(loop, t);
        acio_future_unref(&t->fut);
    }
}
