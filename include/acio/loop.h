/* The event loop: asyncio's BaseEventLoop. A FIFO of ready callbacks, a timer heap, and
 * an I/O poller, run one iteration at a time exactly as asyncio's _run_once does:
 * callbacks scheduled during an iteration run in the next one; timers due now join the
 * ready FIFO after the I/O callbacks; equal deadlines fire in the order they were set.
 *
 * Threads: one loop per thread. Only acio_loop_call_soon_threadsafe() and
 * acio_loop_stop_threadsafe() may be called from other threads; in debug mode every other
 * loop function called from another thread returns ACIO_EWRONGTHREAD.
 *
 * Time is in seconds as a double, from the monotonic clock, read once per iteration
 * (acio_loop_time() returns that reading). */
#ifndef ACIO_LOOP_H
#define ACIO_LOOP_H

#include "common.h"

typedef void (*acio_handle_cb)(void *data);
/* Called on the loop when fd is ready; events is ACIO_READABLE or ACIO_WRITABLE. */
typedef void (*acio_io_cb)(int fd, int events, void *data);

enum { ACIO_READABLE = 1, ACIO_WRITABLE = 2 };

/* ---- lifecycle ---- */

/* A new loop, not yet running, owned by the caller (free it with acio_loop_close()).
 * Debug mode is on when the environment has ACIO_DEBUG=1 (like PYTHONASYNCIODEBUG).
 * Errors: -EINVAL, -ENOMEM, -EMFILE (no fd for epoll). */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_new(acio_loop_t **out);
/* Close and free the loop. Pending callbacks are dropped; tasks still pending are
 * reported (with where they were created) to the exception handler and released; open
 * fds registered with add_reader/add_writer are reported (acio does not close them).
 * Errors: ACIO_ERUNNING (closing a running loop; nothing is freed). NULL is a no-op. */
ACIO_EXTERN int acio_loop_close(acio_loop_t *loop);
ACIO_EXTERN bool acio_loop_is_closed(const acio_loop_t *loop);
ACIO_EXTERN bool acio_loop_is_running(const acio_loop_t *loop);

/* Run until acio_loop_stop(). Errors: ACIO_ERUNNING (this loop, or another loop in this
 * thread, is running), ACIO_ECLOSED. */
ACIO_EXTERN int acio_loop_run_forever(acio_loop_t *loop);
/* Run until fut is done, then return what awaiting it would: 0 and *result, or its error
 * code (-ECANCELED if cancelled). If the loop is stopped before fut is done, returns
 * ACIO_ENOTSTARTED ("Event loop stopped before Future completed"). result may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_run_until_complete(acio_loop_t *loop, acio_future_t *fut,
                                                            void **result);
/* Stop after the current iteration (run_forever then returns). */
ACIO_EXTERN int acio_loop_stop(acio_loop_t *loop);
/* acio_loop_stop with the callback signature, so that it can be scheduled like any
 * callback: loop.call_later(d, loop.stop) is
 * acio_loop_call_later(loop, d, acio_loop_stop_cb, loop, NULL); loop is the data. */
ACIO_EXTERN void acio_loop_stop_cb(void *loop);
/* The loop running in this thread, or NULL (asyncio.get_running_loop without the raise;
 * acio_get_running_loop_checked() returns ACIO_ENOLOOP instead). */
ACIO_EXTERN acio_loop_t *acio_get_running_loop(void);
ACIO_EXTERN ACIO_NODISCARD int acio_get_running_loop_checked(acio_loop_t **out);

/* ---- time and callbacks ---- */

ACIO_EXTERN double acio_loop_time(const acio_loop_t *loop);
/* Re-read the clock now (the loop reads it once per iteration; a callback that ran long
 * may want a fresh reading before computing a deadline). */
ACIO_EXTERN void acio_loop_update_time(acio_loop_t *loop);

/* Schedule cb(data) for the next iteration, after every callback already scheduled.
 * If handle is non-NULL it receives a reference the caller must release with
 * acio_handle_unref() (the handle stays valid, e.g. for cancel, until then).
 * Errors: -EINVAL (NULL loop or cb), ACIO_ECLOSED, -ENOMEM, ACIO_EWRONGTHREAD (debug). If an
 * error is returned, cb is never called. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_call_soon(acio_loop_t *loop, acio_handle_cb cb, void *data,
                                                   acio_handle_t **handle);
/* From any thread: schedule cb(data) on the loop and wake it if it is waiting. As in
 * asyncio, cb takes its place in the ready FIFO at the time of the call: after what the
 * loop thread had scheduled before it, before what it schedules after (a callback the
 * loop thread waits for another thread to schedule runs between the two). Wake-ups
 * are coalesced: many calls before the loop wakes cost one eventfd write. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_call_soon_threadsafe(acio_loop_t *loop, acio_handle_cb cb,
                                                              void *data);
/* From any thread: stop the loop (call_soon_threadsafe(loop.stop)). */
ACIO_EXTERN int acio_loop_stop_threadsafe(acio_loop_t *loop);
/* Run cb after delay seconds (a negative delay is a deadline in the past, due at once), or at loop
 * time when. Timers with the same deadline run in the order they were scheduled. -EINVAL for NaN.
 */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_call_later(acio_loop_t *loop, double delay,
                                                    acio_handle_cb cb, void *data,
                                                    acio_handle_t **handle);
ACIO_EXTERN ACIO_NODISCARD int acio_loop_call_at(acio_loop_t *loop, double when, acio_handle_cb cb,
                                                 void *data, acio_handle_t **handle);

/* Cancel: the callback will not run (no-op if it already ran or was cancelled). */
ACIO_EXTERN void acio_handle_cancel(acio_handle_t *h);
ACIO_EXTERN bool acio_handle_cancelled(const acio_handle_t *h);
/* A timer handle's deadline in loop time; -1 for a call_soon handle. */
ACIO_EXTERN double acio_handle_when(const acio_handle_t *h);
ACIO_EXTERN void acio_handle_unref(acio_handle_t *h);

/* ---- file descriptors ---- */

/* Call cb when fd is readable (add_reader) or writable (add_writer), on every iteration
 * while it stays so, until removed. fd stays the caller's: acio never closes it; remove it
 * before closing it. Errors: -EBADF (not an open fd), -EPERM (a regular file: epoll
 * cannot watch it), -EEXIST (a reader / writer is already registered for fd; remove it
 * first: asyncio silently replaces it, losing the old callback), -EINVAL, ACIO_ECLOSED. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_add_reader(acio_loop_t *loop, int fd, acio_io_cb cb,
                                                    void *data);
ACIO_EXTERN ACIO_NODISCARD int acio_loop_add_writer(acio_loop_t *loop, int fd, acio_io_cb cb,
                                                    void *data);
/* Returns 1 if a callback was removed, 0 if none was registered (like asyncio's bool). */
ACIO_EXTERN int acio_loop_remove_reader(acio_loop_t *loop, int fd);
ACIO_EXTERN int acio_loop_remove_writer(acio_loop_t *loop, int fd);

/* ---- tasks on a loop ---- */

typedef struct {
    const char *name;  /* copied; NULL gives "Task-N" like asyncio */
    size_t stack_size; /* 0: the loop's default; at most 1 GiB (else -EINVAL) */
    bool eager;        /* run the first step now, inside create_task (3.12 eager tasks) */
} acio_task_opts_t;

/* Create a task that runs fn(arg) on loop; its first step is scheduled with call_soon.
 * The loop keeps the task alive until it finishes, so it is never lost. If out is
 * non-NULL it receives a reference the caller releases with acio_future_unref(); if out
 * is NULL the task is detached (an error it ends with is reported when it ends).
 * Works whether or not the loop is running. Errors: -EINVAL, -ENOMEM, ACIO_ECLOSED; on
 * error fn never runs. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_create_task(acio_loop_t *loop, acio_task_t **out,
                                                     acio_coro_fn fn, void *arg,
                                                     const acio_task_opts_t *opts);

/* Stack size for this loop's tasks (0: the process default). -EINVAL if < 16 KiB or
 * > 1 GiB. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_set_task_stack_size(acio_loop_t *loop, size_t size);

/* ---- debugging ---- */

/* What the exception handler receives (asyncio's context dict). Any field may be
 * NULL/0. The pointers are valid during the call only. */
typedef struct {
    const char *message;       /* what happened, always set */
    int code;                  /* the error code involved, or 0 */
    const char *error_message; /* the failed task's/future's error message, or NULL */
    acio_future_t *future;     /* the future or task concerned */
    acio_handle_t *handle;
    const char *origin; /* where the object was created ("file.c:12 fn" or an address) */
} acio_error_context_t;

typedef void (*acio_exception_handler)(acio_loop_t *loop, const acio_error_context_t *ctx,
                                       void *data);
/* Install a handler for what acio would otherwise log to stderr (unretrieved task
 * errors, slow callbacks, leaked tasks at close, ...). NULL restores the default. */
ACIO_EXTERN void acio_loop_set_exception_handler(acio_loop_t *loop, acio_exception_handler h,
                                                 void *data);
/* The default handler: prints the context to stderr. */
ACIO_EXTERN void acio_loop_default_exception_handler(acio_loop_t *loop,
                                                     const acio_error_context_t *ctx);
ACIO_EXTERN void acio_loop_call_exception_handler(acio_loop_t *loop,
                                                  const acio_error_context_t *ctx);

ACIO_EXTERN void acio_loop_set_debug(acio_loop_t *loop, bool enabled);
ACIO_EXTERN bool acio_loop_get_debug(const acio_loop_t *loop);
/* Debug mode logs callbacks and task steps slower than this (default 0.1 s). */
ACIO_EXTERN void acio_loop_set_slow_callback_duration(acio_loop_t *loop, double seconds);

/* Watchdog (beyond asyncio): a thread that reports, while it happens, a callback or task
 * step running longer than threshold seconds: the task's name and a backtrace of the
 * loop thread, sent to stderr (not to the exception handler: the loop is busy). Reported
 * once per stuck callback. threshold <= 0 stops the watchdog. Errors: -ENOMEM, -EAGAIN. */
ACIO_EXTERN int acio_loop_set_watchdog(acio_loop_t *loop, double threshold);

/* Write every pending task of the loop, with its name, state, what it awaits and a
 * backtrace of its suspended stack, to fd. Call it on the loop's thread. */
ACIO_EXTERN int acio_loop_dump_tasks(acio_loop_t *loop, int fd);
/* Dump the tasks to stderr whenever the process receives signo (e.g. SIGUSR1); the dump
 * happens on the loop at its next iteration. signo 0 turns it off. */
ACIO_EXTERN int acio_loop_set_dump_signal(acio_loop_t *loop, int signo);

/* The loop's user slot. */
ACIO_EXTERN void acio_loop_set_data(acio_loop_t *loop, void *data);
ACIO_EXTERN void *acio_loop_get_data(const acio_loop_t *loop);

#endif
