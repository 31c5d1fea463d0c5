/* Composition: asyncio's gather, wait, wait_for, as_completed, shield, timeout /
 * timeout_at, TaskGroup and run_coroutine_threadsafe / wrap_future, in C.
 *
 * Everything here is built from the core's public futures and tasks (acio/future.h,
 * acio/task.h). Functions whose name does not say otherwise must be called on the loop's
 * thread; the ones that wait (acio_wait, acio_wait_for, acio_as_completed_next,
 * acio_taskgroup_exit, acio_gather_await) must be called inside a task, and return
 * ACIO_ENOTASK elsewhere. Every one of them returns -ECANCELED when the calling task is
 * cancelled while it waits: an outer cancellation is never swallowed.
 *
 * Timeouts are seconds as a double. ACIO_NO_TIMEOUT (+infinity) means "no timeout"
 * (Python's None). See docs/compose.md for the reference and the list of deviations
 * from asyncio. */
#ifndef ACIO_COMPOSE_H
#define ACIO_COMPOSE_H

#include "common.h"
#include "loop.h"

/* Python's timeout=None. */
#define ACIO_NO_TIMEOUT (__builtin_inf())

/* ------------------------------------------------------------------------------------
 * gather
 * ------------------------------------------------------------------------------------ */

/* return_exceptions=True: errors (and cancellations) of children are reported in codes[]
 * instead of failing the gather. */
#define ACIO_GATHER_RETURN_EXCEPTIONS 1u

/* asyncio.gather(*futs): a new future (the "outer" future) that finishes when every one
 * of futs[0..n) is done.
 *
 * On success the outer future's result is the results array itself, filled in input
 * order: results[i] is futs[i]'s result (NULL where a child failed, when
 * ACIO_GATHER_RETURN_EXCEPTIONS is set), and codes[i] (if codes is non-NULL) is 0 or
 * the child's error code (-ECANCELED for a cancelled child). results and codes are the
 * caller's; they are written only at the moment the outer future finishes, so they must
 * stay valid until it is done (or until it has been cancelled). Either may be NULL.
 *
 * Without ACIO_GATHER_RETURN_EXCEPTIONS the first child that fails (or is cancelled)
 * finishes the outer future with that child's code and message, and the other children
 * keep running. A cancelled child makes the outer future cancelled (asyncio raises
 * CancelledError from it too). Cancelling the outer future cancels every child that is
 * not done. n == 0 gives a future that is already finished (with results as result).
 * The same future may appear several times.
 *
 * Ownership: *out is a new reference (acio_future_unref). The gather holds its own
 * references to the children until they are done; the caller keeps its own.
 * Errors: -EINVAL (NULL out, NULL futs with n > 0, a NULL child, children of different
 * loops), ACIO_ENOLOOP (n == 0 and no running loop), -ENOMEM. On error nothing changes. */
ACIO_EXTERN ACIO_NODISCARD int acio_gather(acio_future_t **out, acio_future_t *const *futs,
                                           size_t n, unsigned flags, void **results, int *codes);

/* One coroutine call for acio_gather_calls(): fn(arg) becomes a task. */
typedef struct {
    acio_coro_fn fn;
    void *arg;
    const char *name; /* the task's name, or NULL for "Task-N" */
} acio_call_t;

/* asyncio.gather(coro1(), coro2(), ...): create one task per call on the running loop
 * (with opts, e.g. opts->eager for 3.12 eager start; opts->name is ignored, use
 * calls[i].name; opts may be NULL) and gather them as acio_gather() does. If tasks is
 * non-NULL, tasks[i] receives a reference to the i-th task (release each with
 * acio_future_unref), e.g. to read error messages after a return_exceptions gather.
 * Ownership: as acio_gather(). Errors: as acio_gather(), ACIO_ENOLOOP; if creating a
 * task fails, the tasks already created are cancelled and released and the error is
 * returned. */
ACIO_EXTERN ACIO_NODISCARD int acio_gather_calls(acio_future_t **out, const acio_call_t *calls,
                                                 size_t n, const acio_task_opts_t *opts,
                                                 unsigned flags, void **results, int *codes,
                                                 acio_task_t **tasks);

/* `results = await asyncio.gather(*futs)` inside a task: acio_gather() followed by
 * acio_await() of the outer future. Returns 0 (results/codes filled), the first error
 * (without ACIO_GATHER_RETURN_EXCEPTIONS), or -ECANCELED if a child was cancelled or the
 * calling task was cancelled. In the latter case the cancellation is passed on to every
 * unfinished child and, as in asyncio, this returns only once the first of them (all of
 * them with ACIO_GATHER_RETURN_EXCEPTIONS) has finished.
 * Errors: as acio_gather(), ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_gather_await(acio_future_t *const *futs, size_t n,
                                                 unsigned flags, void **results, int *codes);

/* ------------------------------------------------------------------------------------
 * wait, wait_for, as_completed, shield
 * ------------------------------------------------------------------------------------ */

typedef enum {
    ACIO_ALL_COMPLETED = 0, /* asyncio.ALL_COMPLETED (the default) */
    ACIO_FIRST_COMPLETED,   /* asyncio.FIRST_COMPLETED */
    ACIO_FIRST_EXCEPTION,   /* asyncio.FIRST_EXCEPTION (a failed, not cancelled, future) */
} acio_return_when_t;

/* asyncio.wait(futs, timeout=timeout, return_when=when), inside a task: wait until the
 * condition holds or timeout seconds have passed (ACIO_NO_TIMEOUT: no limit). Then
 * done[0..*ndone) holds the futures that are done, in the order they completed (those
 * already done when wait was called first, in input order), and pending[0..*npending)
 * the others in input order. Both arrays need room for n pointers; either may be NULL
 * (its count is still stored if the count pointer is non-NULL). Like asyncio, a timeout
 * is not an error (returns 0 with futures in pending), and nothing is cancelled.
 * Ownership: the pointers stored are borrowed from futs (the caller's references).
 * Errors: -EINVAL (n == 0: "set of futures is empty", NULL futs or child, bad when, NaN
 * timeout), ACIO_ENOTASK, -ENOMEM, -ECANCELED (the calling task was cancelled; done and
 * pending are then not filled). */
ACIO_EXTERN ACIO_NODISCARD int acio_wait(acio_future_t *const *futs, size_t n, double timeout,
                                         acio_return_when_t when, acio_future_t **done,
                                         size_t *ndone, acio_future_t **pending, size_t *npending);

/* asyncio.wait_for(fut, timeout), inside a task, with Python 3.12's semantics (built on
 * a timeout scope, see acio_timeout_enter): await fut for at most timeout seconds. On
 * timeout fut is cancelled, wait_for waits until it is really done, and returns
 * -ETIMEDOUT; if fut produced a result anyway (it finished at the deadline or ignored
 * the cancellation) that result is returned with 0, never lost. If the calling task is
 * cancelled from outside, -ECANCELED is returned (never turned into -ETIMEDOUT, never
 * swallowed) and fut is cancelled too. timeout <= 0 cancels fut at once unless it is
 * done. ACIO_NO_TIMEOUT: plain await. Returns 0 and *result (result may be NULL), fut's
 * own error code, -ETIMEDOUT or -ECANCELED.
 * Ownership: fut stays the caller's. Errors: -EINVAL (NULL, NaN), ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_wait_for(acio_future_t *fut, double timeout, void **result);

/* wait_for(coro(), timeout): run fn(arg) as a new task (opts may be NULL) and
 * acio_wait_for() it.
 * Errors: as acio_wait_for(), plus those of acio_loop_create_task(). The task is
 * released before returning (the loop keeps it alive if it is still finishing). */
ACIO_EXTERN ACIO_NODISCARD int acio_wait_for_call(acio_coro_fn fn, void *arg,
                                                  const acio_task_opts_t *opts, double timeout,
                                                  void **result);
/* The same, keeping the task's message: when the task failed (or was cancelled) and its
 * code is returned, *message (if message is non-NULL) receives a malloc'd copy of its
 * message (str(e) in Python; free() it), else NULL. For -ETIMEDOUT it is NULL, as
 * TimeoutError's text is empty. */
ACIO_EXTERN ACIO_NODISCARD int acio_wait_for_call_ex(acio_coro_fn fn, void *arg,
                                                     const acio_task_opts_t *opts, double timeout,
                                                     void **result, char **message);

typedef struct acio_as_completed_s acio_as_completed_t;

/* asyncio.as_completed(futs, timeout=timeout): an iterator over futs in the order they
 * complete. The timeout (ACIO_NO_TIMEOUT: none) starts now.
 * Ownership: *out is the caller's, released with acio_as_completed_free(); it holds a
 * reference to every future until then. Errors: -EINVAL (NULL, NaN, children of
 * different loops), ACIO_ENOLOOP (n == 0 and no running loop), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_as_completed_new(acio_as_completed_t **out,
                                                     acio_future_t *const *futs, size_t n,
                                                     double timeout);
/* asyncio.as_completed(coros): like acio_as_completed_new over coroutines, which are
 * wrapped in tasks first, as asyncio does (one task per call on the running loop, with
 * opts, opts->name ignored; calls[i].name names it). next() then hands out those tasks
 * (read their outcome with acio_future_result); the iterator holds the references and
 * the tasks keep running if it is freed first. Errors: as acio_as_completed_new, and
 * those of acio_loop_create_task (the tasks already created are then cancelled). */
ACIO_EXTERN ACIO_NODISCARD int acio_as_completed_new_calls(acio_as_completed_t **out,
                                                           const acio_call_t *calls, size_t n,
                                                           const acio_task_opts_t *opts,
                                                           double timeout);
/* Inside a task: wait for the next future to complete and store it in *fut (borrowed,
 * valid until acio_as_completed_free; read it with acio_future_result). Returns 0,
 * -ETIMEDOUT once the timeout has passed (for each future not yet returned, as asyncio
 * raises TimeoutError from each remaining awaitable), ACIO_ESTOPITERATION when all n
 * have been returned, -ECANCELED if the calling task was cancelled (the iterator stays
 * usable). Errors: -EINVAL, ACIO_ENOTASK, ACIO_ERUNNING (another task is already
 * waiting on this iterator), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_as_completed_next(acio_as_completed_t *ac, acio_future_t **fut);
/* How many futures have not been returned by next() yet. */
ACIO_EXTERN size_t acio_as_completed_remaining(const acio_as_completed_t *ac);
/* Release the iterator (the futures keep running). NULL is a no-op. Must not be called
 * while a task waits in acio_as_completed_next (returns ACIO_ERUNNING then). */
ACIO_EXTERN int acio_as_completed_free(acio_as_completed_t *ac);

/* asyncio.shield(inner): a new future that mirrors inner's outcome, but whose
 * cancellation does not cancel inner. If inner is already done, *out is inner itself
 * (with a new reference), as asyncio returns it unchanged.
 * Ownership: *out is a new reference. Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_shield(acio_future_t **out, acio_future_t *inner);

/* ------------------------------------------------------------------------------------
 * timeout scopes: asyncio.timeout / asyncio.timeout_at (3.11)
 * ------------------------------------------------------------------------------------ */

/* asyncio.Timeout. The memory is the caller's (normally a local variable of the task
 * function); its layout is private. data is the user's slot. */
typedef struct acio_timeout_s {
    void *data;
    uint64_t private_[10];
} acio_timeout_t;

/* `async with asyncio.timeout(delay) as t:` — enter a scope in the current task that
 * cancels the task when delay seconds have passed (ACIO_NO_TIMEOUT: never, until
 * rescheduled). The cancellation carries a reason: "timeout 0.5s expired (timeout scope
 * at file.c:12)". Every path out of the scope must call acio_timeout_exit().
 * Errors: -EINVAL (NULL, NaN), ACIO_ENOTASK, -ENOMEM. On error the scope is not entered
 * and acio_timeout_exit() just returns the rc it is given. */
#define acio_timeout_enter(t, delay) acio_timeout_enter_loc((t), (delay), __FILE__, __LINE__)
/* asyncio.timeout_at(when): the deadline is an absolute loop time (acio_loop_time). */
#define acio_timeout_enter_at(t, when) acio_timeout_enter_at_loc((t), (when), __FILE__, __LINE__)
ACIO_EXTERN ACIO_NODISCARD int acio_timeout_enter_loc(acio_timeout_t *t, double delay,
                                                      const char *file, int line);
ACIO_EXTERN ACIO_NODISCARD int acio_timeout_enter_at_loc(acio_timeout_t *t, double when,
                                                         const char *file, int line);

/* Leave the scope; rc is the outcome of the code inside it (0 or a negative code).
 * Returns what the scope lets out: -ETIMEDOUT if the timeout fired and rc is the
 * resulting -ECANCELED with no other cancellation pending (Python's exact rule:
 * task.uncancel() <= cancelling-at-entry), otherwise rc unchanged. Idempotent after the
 * first call (returns rc). */
ACIO_EXTERN ACIO_NODISCARD int acio_timeout_exit(acio_timeout_t *t, int rc);

/* Timeout.when(): the deadline in loop time, ACIO_NO_TIMEOUT if none. */
ACIO_EXTERN double acio_timeout_when(const acio_timeout_t *t);
/* Timeout.reschedule(when): move the deadline (absolute loop time; ACIO_NO_TIMEOUT
 * removes it; a past deadline fires on the next iteration). Errors: ACIO_EINVALSTATE
 * (not entered, already expiring/expired, or exited), -EINVAL (NaN), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_timeout_reschedule(acio_timeout_t *t, double when);
/* Timeout.expired(): true once the deadline has fired. */
ACIO_EXTERN bool acio_timeout_expired(const acio_timeout_t *t);

/* ------------------------------------------------------------------------------------
 * TaskGroup (3.11 semantics)
 * ------------------------------------------------------------------------------------ */

typedef struct acio_taskgroup_s acio_taskgroup_t;

/* One error collected by a task group: the failed task (NULL for an error of the body
 * inside the group, i.e. the rc passed to acio_taskgroup_exit), its code and message. */
typedef struct {
    acio_task_t *task; /* borrowed, valid until acio_taskgroup_free */
    int code;
    const char *message; /* may be NULL; valid until acio_taskgroup_free */
} acio_taskgroup_error_t;

/* asyncio.TaskGroup(). Ownership: *out is the caller's, released with
 * acio_taskgroup_free(). Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_taskgroup_new(acio_taskgroup_t **out);
/* __aenter__: bind the group to the current task (its "parent").
 * Errors: ACIO_EINVALSTATE (already entered), ACIO_ENOTASK. */
ACIO_EXTERN ACIO_NODISCARD int acio_taskgroup_enter(acio_taskgroup_t *tg);
/* TaskGroup.create_task(): start fn(arg) in the group (opts may be NULL; opts->eager
 * starts it eagerly). The first child to fail cancels every other child and the parent
 * task (so the body's pending await returns -ECANCELED; pass that rc to exit). *out,
 * if out is non-NULL, is a new reference. Errors: ACIO_EINVALSTATE (not entered,
 * finished, or shutting down after a failure), -EINVAL, -ENOMEM; fn never runs then. */
ACIO_EXTERN ACIO_NODISCARD int acio_taskgroup_create_task(acio_taskgroup_t *tg, acio_task_t **out,
                                                          acio_coro_fn fn, void *arg,
                                                          const acio_task_opts_t *opts);
/* __aexit__: rc is the body's outcome. Waits until every child is done (cancelling them
 * all if rc is an error or the parent is cancelled meanwhile). Returns 0, -ECANCELED (the
 * parent was cancelled from outside and no child failed), or the code of the first
 * collected error (children's errors in the order they happened, then the body's own
 * rc if it is an error other than -ECANCELED): read them all with
 * acio_taskgroup_errors(). Exit must be called exactly once, inside the parent task. */
ACIO_EXTERN ACIO_NODISCARD int acio_taskgroup_exit(acio_taskgroup_t *tg, int rc);
/* __aexit__ with the body's error and its message (printf-style, copied; fmt may be
 * NULL): the same as acio_taskgroup_exit(tg, rc), and the body's entry among the
 * collected errors carries the message, as the exception the body raised does. */
ACIO_EXTERN ACIO_NODISCARD int acio_taskgroup_exit_error(acio_taskgroup_t *tg, int rc,
                                                         const char *fmt, ...) ACIO_PRINTF(3, 4);
/* The ExceptionGroup's text once exit returned an error: Python's str(eg), "unhandled
 * errors in a TaskGroup (2 sub-exceptions)", followed by each sub-error as ": [1]
 * <code name>: <message>; [2] ...". NULL if no error was collected. Valid until
 * acio_taskgroup_free. */
ACIO_EXTERN const char *acio_taskgroup_message(const acio_taskgroup_t *tg);
/* The collected errors (the ExceptionGroup's contents), *n their count. Valid until
 * acio_taskgroup_free. */
ACIO_EXTERN const acio_taskgroup_error_t *acio_taskgroup_errors(const acio_taskgroup_t *tg,
                                                                size_t *n);
/* Children not yet done. */
ACIO_EXTERN size_t acio_taskgroup_size(const acio_taskgroup_t *tg);
/* Free the group. Returns ACIO_EINVALSTATE (and frees nothing) if it still has unfinished
 * children, i.e. it was entered but not exited. NULL is a no-op. */
ACIO_EXTERN int acio_taskgroup_free(acio_taskgroup_t *tg);

/* ------------------------------------------------------------------------------------
 * Bridging threads: concurrent futures, run_coroutine_threadsafe, wrap_future
 * ------------------------------------------------------------------------------------ */

/* A thread-safe future (concurrent.futures.Future): completed from any thread; any
 * thread may block on it with a timeout. Reference counted; every function here is
 * thread-safe. */
typedef struct acio_cfuture_s acio_cfuture_t;
/* Called in the thread that completes the future (or at once, in the caller's thread,
 * when added to a done future). It must not block. */
typedef void (*acio_cfuture_cb)(acio_cfuture_t *cf, void *data);

/* A new pending concurrent future (one reference). Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_cfuture_new(acio_cfuture_t **out);
ACIO_EXTERN acio_cfuture_t *acio_cfuture_ref(acio_cfuture_t *cf);
ACIO_EXTERN void acio_cfuture_unref(acio_cfuture_t *cf);
/* Finish with a result / an error (code < 0, not -ECANCELED). ACIO_EINVALSTATE if done. */
ACIO_EXTERN int acio_cfuture_set_result(acio_cfuture_t *cf, void *result);
ACIO_EXTERN int acio_cfuture_set_error(acio_cfuture_t *cf, int code, const char *fmt, ...)
    ACIO_PRINTF(3, 4);
/* Future.set_running_or_notify_cancel(): false if it was cancelled (do not run the work),
 * true after marking it running (it can then no longer be cancelled). */
ACIO_EXTERN bool acio_cfuture_set_running_or_notify_cancel(acio_cfuture_t *cf);
/* Future.cancel(): 1 if cancelled (or already cancelled), 0 if running or finished. */
ACIO_EXTERN int acio_cfuture_cancel(acio_cfuture_t *cf);
ACIO_EXTERN bool acio_cfuture_done(const acio_cfuture_t *cf);
ACIO_EXTERN bool acio_cfuture_cancelled(const acio_cfuture_t *cf);
/* Future.result(timeout): block until done or timeout seconds (ACIO_NO_TIMEOUT: no
 * limit). Returns 0 and *result, the error code, -ECANCELED, or -ETIMEDOUT if still not
 * done. Never call it on the thread of the loop that completes the future. */
ACIO_EXTERN ACIO_NODISCARD int acio_cfuture_result(acio_cfuture_t *cf, double timeout,
                                                   void **result);
/* The error's message (NULL if none); valid while you hold a reference. */
ACIO_EXTERN const char *acio_cfuture_error_message(const acio_cfuture_t *cf);
/* add_done_callback: see acio_cfuture_cb. Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_cfuture_add_done_callback(acio_cfuture_t *cf,
                                                              acio_cfuture_cb cb, void *data);

/* asyncio.run_coroutine_threadsafe(fn(arg), loop), from any thread: schedule a task
 * running fn(arg) on loop (through acio_loop_call_soon_threadsafe) and return a
 * concurrent future for its outcome. Cancelling the concurrent future cancels the task
 * (if it has not started yet, fn never runs). Ownership: *out is a new reference.
 * Errors: -EINVAL, -ENOMEM, ACIO_ECLOSED (fn never runs then). */
ACIO_EXTERN ACIO_NODISCARD int
acio_run_coroutine_threadsafe(acio_cfuture_t **out, acio_loop_t *loop, acio_coro_fn fn, void *arg);

/* asyncio.wrap_future(cf): a loop future (on loop; NULL: the running loop) that gets cf's
 * outcome when cf completes in any thread. Cancelling the loop future cancels cf.
 * Ownership: *out is a new reference; cf stays the caller's (the bridge holds its own).
 * Errors: -EINVAL, ACIO_ENOLOOP, -ENOMEM, ACIO_ECLOSED. */
ACIO_EXTERN ACIO_NODISCARD int acio_wrap_future(acio_future_t **out, acio_cfuture_t *cf,
                                                acio_loop_t *loop);

#endif
