/* Tasks: asyncio.Task. A task drives a coroutine function on its own stack; it is also a
 * future (acio_task_t is acio_future_t), finished with what the function returns.
 *
 * Inside a task, acio_await() suspends until a future is done without blocking the loop.
 * Calling another coroutine function directly is a plain C call: it does not yield.
 *
 * Cancellation follows Python 3.11: acio_task_cancel() makes the pending (or the next)
 * await return -ECANCELED; the task may clean up and await again. Because C has no
 * exception to propagate, a task whose function returns while a cancellation is still
 * requested (acio_task_cancelling() > 0) ends cancelled unless it called
 * acio_task_uncancel(); see docs/cancellation.md. */
#ifndef ACIO_TASK_H
#define ACIO_TASK_H

#include "common.h"
#include "loop.h"

/* create_task on the running loop. name may be NULL ("Task-N"). See
 * acio_loop_create_task() for ownership of *out (NULL detaches the task).
 * Errors: ACIO_ENOLOOP, -EINVAL, -ENOMEM, ACIO_ECLOSED. */
ACIO_EXTERN ACIO_NODISCARD int acio_create_task(acio_task_t **out, acio_coro_fn fn, void *arg,
                                                const char *name);

/* await fut: inside a task, suspend until fut is done and return what
 * acio_future_result() would. A done future returns at once without yielding.
 * Returns -ECANCELED if this task is cancelled while waiting. Errors: ACIO_ENOTASK
 * (not in a task), -EINVAL (NULL, a future of another loop, or the task itself). */
ACIO_EXTERN ACIO_NODISCARD int acio_await(acio_future_t *fut, void **result);

/* asyncio.sleep: suspend the current task for seconds. sleep(0) yields for exactly one
 * loop iteration. Returns 0, or -ECANCELED. Errors: ACIO_ENOTASK, -EINVAL (NaN). */
ACIO_EXTERN ACIO_NODISCARD int acio_sleep(double seconds);

/* Fail the current task the way `raise` does: record code (negative) and a message, and
 * return NULL so a coroutine function can `return acio_raise(-EIO, "read %s", path);`.
 * The task ends failed when its function returns (or cancelled, for -ECANCELED).
 * Outside a task it does nothing but return NULL. */
ACIO_EXTERN void *acio_raise(int code, const char *fmt, ...) ACIO_PRINTF(2, 3);

/* Request cancellation; msg (copied, may be NULL) becomes the cancelled error's message.
 * Returns 1 if requested, 0 if the task is already done. */
ACIO_EXTERN int acio_task_cancel(acio_task_t *task, const char *msg);
/* Why a task is being (or was) cancelled, beyond asyncio: the message, who asked (the
 * task that called acio_task_cancel, if any) and where (the calling code's address,
 * and that address as "function+offset (object)" text). Valid while you hold a reference
 * and until the next cancel. Errors: -EINVAL. */
typedef struct {
    int requests;             /* cancelling() */
    const char *message;      /* the cancel message, or NULL */
    const char *cancelled_by; /* the cancelling task's name, or NULL (a callback, a timer) */
    void *origin;             /* return address of the acio_task_cancel() call */
    char origin_text[160];
} acio_cancel_info_t;
ACIO_EXTERN int acio_task_cancel_info(const acio_task_t *task, acio_cancel_info_t *out);
/* The message of the cancellation requested for (or delivered to) task, or NULL: what
 * `except CancelledError as e: e.args[0]` reads. Inside the cancelled task itself, after
 * a wait returned -ECANCELED: acio_task_cancel_message(acio_current_task()). Valid while
 * you hold a reference and until the next cancel. */
ACIO_EXTERN const char *acio_task_cancel_message(const acio_task_t *task);

/* Number of pending cancellation requests (Task.cancelling()). */
ACIO_EXTERN int acio_task_cancelling(const acio_task_t *task);
/* Decrement the count and return the new value (Task.uncancel()). */
ACIO_EXTERN int acio_task_uncancel(acio_task_t *task);

/* ---- cancel scopes (beyond asyncio: Trio's and libdill's level-triggered model) ----
 *
 * A cancel scope is a region of a task. Once the scope is cancelled (by
 * acio_cancel_scope_cancel() or because its deadline passed), the wait in progress inside
 * it returns -ECANCELED, and so does EVERY later acio_await / acio_sleep inside it (and
 * every wait built on them: locks, queues, streams) until the scope is exited. C code
 * can ignore one returned error far more easily than Python code can swallow an
 * exception; a level-triggered scope makes the cancellation stick.
 *
 * Unlike acio_task_cancel(), cancelling a scope does not cancel the future being awaited
 * (it may be shared); it only stops this task waiting for it. It does not change
 * acio_task_cancelling(). Scopes nest; they must be exited in reverse order of entry.
 *
 *     acio_cancel_scope_t scope;
 *     acio_cancel_scope_enter(&scope, 2.0);        // a 2-second deadline (0: none)
 *     rc = fetch_everything();                      // every wait fails after 2 s
 *     if (acio_cancel_scope_exit(&scope))           // 1: the scope was cancelled
 *         puts("gave up");
 *
 * The struct is the caller's (usually on the task's stack). */
typedef struct acio_cancel_scope_s acio_cancel_scope_t;
struct acio_cancel_scope_s {
    acio_cancel_scope_t *parent; /* internal */
    acio_task_t *task;           /* internal */
    acio_handle_t *deadline;     /* internal */
    const char *reason;          /* why it was cancelled (static string or NULL) */
    bool cancelled;
};
/* Enter a scope in the running task, with a deadline timeout seconds from now (<= 0:
 * none). Errors: ACIO_ENOTASK, -EINVAL, -ENOMEM (on error the scope was not entered and
 * must not be exited). */
ACIO_EXTERN ACIO_NODISCARD int acio_cancel_scope_enter(acio_cancel_scope_t *scope, double timeout);
/* Cancel it (from anywhere on the loop's thread, e.g. another task). reason must outlive
 * the scope (a literal). Cancelling twice keeps the first reason. */
ACIO_EXTERN void acio_cancel_scope_cancel(acio_cancel_scope_t *scope, const char *reason);
ACIO_EXTERN bool acio_cancel_scope_cancelled(const acio_cancel_scope_t *scope);
/* Leave the innermost scope. Returns 1 if it had been cancelled, 0 if not, -EINVAL if it
 * is not the running task's innermost scope. */
ACIO_EXTERN int acio_cancel_scope_exit(acio_cancel_scope_t *scope);

/* The task running now in this thread, or NULL. Borrowed reference. */
ACIO_EXTERN acio_task_t *acio_current_task(void);
ACIO_EXTERN bool acio_is_task(const acio_future_t *fut);
ACIO_EXTERN const char *acio_task_get_name(const acio_task_t *task);
ACIO_EXTERN int acio_task_set_name(acio_task_t *task, const char *name);
/* The future the task is waiting on (borrowed), or NULL. */
ACIO_EXTERN acio_future_t *acio_task_get_waiter(const acio_task_t *task);

/* Fill out[0..cap) with borrowed pointers to the loop's pending tasks (asyncio.all_tasks)
 * in creation order; returns how many there are (which may exceed cap). */
ACIO_EXTERN size_t acio_all_tasks(acio_loop_t *loop, acio_task_t **out, size_t cap);

/* asyncio.run: a new loop, main(arg) as its main task, run until it finishes; then the
 * remaining tasks are cancelled and awaited, and the loop closed. Returns main's error
 * code (0 on success) and stores its result in *result (may be NULL). If error_message
 * is non-NULL and main failed, it receives a malloc'd copy of the message (free() it).
 * SIGINT while running cancels the main task (as asyncio.run does). Errors: ACIO_ERUNNING
 * (a loop is already running in this thread), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_run(acio_coro_fn main, void *arg, void **result);
ACIO_EXTERN ACIO_NODISCARD int acio_run_ex(acio_coro_fn main, void *arg, void **result,
                                           char **error_message);

#endif
