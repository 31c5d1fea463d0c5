/* Executors: concurrent.futures' ThreadPoolExecutor and ProcessPoolExecutor bridged to
 * loop futures, plus loop.run_in_executor() and asyncio.to_thread(). A blocking function
 * runs on a pool thread (or in a worker process) while the loop keeps running; its result
 * arrives in an acio future on the loop that submitted it.
 *
 * Executors are independent of loops: one executor may serve several loops at once (each
 * result goes back to the loop that submitted the job), and a loop may use several
 * executors, e.g. one small pool for DNS and another for file I/O so slow work of one
 * kind cannot starve the other. Each loop also has a default thread pool, created on
 * first use and shut down when the loop closes.
 *
 * Threads: the functions that take a loop must be called on that loop's thread. The
 * acio_executor_* functions (new, shutdown, free, stats) may be called from any thread.
 * The acio_job_* functions are called by the blocking function itself, in the worker. */
#ifndef ACIO_EXECUTOR_H
#define ACIO_EXECUTOR_H

#include "common.h"

typedef struct acio_executor_s acio_executor_t;
/* A concurrent future (concurrent.futures.Future), declared in acio/compose.h: what
 * acio_executor_submit() returns. */
typedef struct acio_cfuture_s acio_cfuture_t;
/* One submitted call, as seen from inside the blocking function (cancel flag, error). */
typedef struct acio_job_s acio_job_t;

/* A blocking function for a thread pool: runs fn(arg, job) on a pool thread and returns
 * the future's result. It fails by `return acio_job_raise(job, code, "fmt", ...)`. A long
 * function may poll acio_job_cancelled(job) and stop early. */
typedef void *(*acio_job_fn)(void *arg, acio_job_t *job);

/* A function for a process pool: runs in a worker process with a copy of the input
 * bytes. It returns a buffer of *out_len bytes allocated with malloc() (the pool frees it
 * in the worker after sending it back), or NULL for an empty result, or fails with
 * `return acio_job_raise(job, code, "fmt", ...)`. It runs in a forked copy of the
 * program: it may use what existed when the worker was forked, and should report through
 * its result, not through stdio (the parent's unflushed buffers were copied too). */
typedef void *(*acio_process_fn)(const void *in, size_t in_len, size_t *out_len, acio_job_t *job);

/* What a process-pool future's result points to: len bytes, followed by a NUL byte (not
 * counted) so text results can be printed directly. Allocated with malloc(); whoever
 * takes the result from the future frees it with free(). */
typedef struct {
    size_t len;
    unsigned char data[];
} acio_bytes_t;

typedef struct {
    /* The executor's name (copied, at most 15 characters kept), also the prefix of its
     * worker threads' names ("<name>-<n>", cut to the kernel's 15 characters); NULL gives
     * "acio-pool" (thread pools) or "acio-proc" (process pools). A loop's default pool
     * is named "acio". */
    const char *name;
    /* Most workers run at once; 0 gives concurrent.futures' defaults: min(32, cpus + 4)
     * threads for a thread pool, cpus processes for a process pool. */
    unsigned max_workers;
    /* Stack size of the worker threads; 0 for the system default. */
    size_t stack_size;
} acio_executor_opts_t;

/* ---- executors ---- */

/* A new thread pool (concurrent.futures.ThreadPoolExecutor). No thread starts until work
 * is submitted; then one starts per job until max_workers, unless an idle one can take
 * it. opts may be NULL for the defaults.
 * Ownership: *out belongs to the caller, released with acio_executor_free().
 * Errors: -EINVAL (NULL out), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_executor_new(acio_executor_t **out,
                                                 const acio_executor_opts_t *opts);

/* A new process pool (concurrent.futures.ProcessPoolExecutor with the fork start method).
 * Worker processes are forked lazily, one per pool thread, and reused; a worker that dies
 * fails its job with ACIO_ECHILDDIED and is replaced by a new one for the next job.
 * Submit with acio_loop_run_in_process_pool(). Same ownership and errors as
 * acio_executor_new(). */
ACIO_EXTERN ACIO_NODISCARD int acio_process_pool_new(acio_executor_t **out,
                                                     const acio_executor_opts_t *opts);

/* Executor.shutdown(): refuse new jobs from now on (they get -ESHUTDOWN). If
 * cancel_futures, jobs that have not started are cancelled (their futures end
 * cancelled) instead of run. If wait, block until every job has finished and every
 * worker has exited, or until timeout seconds have passed (timeout < 0: no limit); the
 * futures of finished jobs are then already queued to their loops, so no result is lost.
 * Calling it again is allowed (e.g. to wait after a first call without wait).
 * Errors: -EINVAL (NULL), -ETIMEDOUT (workers still busy at the deadline: they finish in
 * the background), -EDEADLK (wait requested from one of ex's own worker threads). */
ACIO_EXTERN int acio_executor_shutdown(acio_executor_t *ex, bool wait, double timeout,
                                       bool cancel_futures);

/* Shut ex down (waiting for its jobs, like leaving a `with` block) and release the
 * caller's reference. The memory goes when the last job and worker are done with it.
 * Returns what acio_executor_shutdown(ex, true, -1, false) returns. NULL is a no-op. */
ACIO_EXTERN int acio_executor_free(acio_executor_t *ex);

/* The name given at creation (never NULL; valid while you hold ex). */
ACIO_EXTERN const char *acio_executor_get_name(const acio_executor_t *ex);
ACIO_EXTERN unsigned acio_executor_get_max_workers(const acio_executor_t *ex);
ACIO_EXTERN bool acio_executor_is_process_pool(const acio_executor_t *ex);

typedef struct {
    unsigned threads;           /* worker threads alive */
    unsigned idle;              /* of those, waiting for work */
    size_t queued;              /* jobs waiting for a worker */
    size_t running;             /* jobs being run now */
    uint64_t submitted;         /* jobs accepted since creation */
    uint64_t completed;         /* jobs that ran to the end (successfully or not) */
    uint64_t cancelled;         /* jobs removed before they started */
    uint64_t processes_spawned; /* process pool: workers forked */
    uint64_t processes_died;    /* process pool: workers that died while running a job */
    bool shutdown;              /* shutdown() was called */
} acio_executor_stats_t;
/* A consistent snapshot of ex's counters (for tests, monitoring and tuning). */
ACIO_EXTERN void acio_executor_stats(const acio_executor_t *ex, acio_executor_stats_t *out);

/* ---- submitting work from a loop ---- */

/* loop.run_in_executor(executor, fn, arg): run fn(arg, job) on ex (NULL: the loop's
 * default thread pool, created on first use) and return a future on loop that gets its
 * result, its error (code and message from acio_job_raise), or -ECANCELED.
 * Cancelling the future before a worker picks the job up removes the job: fn never runs.
 * Cancelling it later sets the job's cancel flag (acio_job_cancelled()) and the result,
 * when it comes, is dropped.
 * Ownership: if out is non-NULL it receives a reference released with
 * acio_future_unref(); if out is NULL the job is fire-and-forget (an error it ends with is
 * reported to the loop's exception handler). arg stays the caller's; it must stay valid
 * until the job has finished or been removed.
 * Errors: -EINVAL (NULL loop or fn; ex is a process pool), ACIO_ECLOSED,
 * ACIO_EWRONGTHREAD (loop is running in another thread), -ESHUTDOWN
 * (ex, or the default executor, was shut down), -ENOMEM, -EAGAIN (no worker thread
 * could be started). On error fn never runs. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_run_in_executor(acio_loop_t *loop, acio_executor_t *ex,
                                                         acio_job_fn fn, void *arg,
                                                         acio_future_t **out);

/* Run fn on a process pool: in_len bytes at in are copied (to the worker process) before
 * this returns. The future's result is an acio_bytes_t * that the receiver frees with
 * free(). A worker that dies (a crash, exit(), a signal) fails the future with
 * ACIO_ECHILDDIED and a message saying how it died. Cancellation, ownership and other
 * errors as acio_loop_run_in_executor(); -EINVAL if pool is not a process pool. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_run_in_process_pool(acio_loop_t *loop,
                                                             acio_executor_t *pool,
                                                             acio_process_fn fn, const void *in,
                                                             size_t in_len, acio_future_t **out);

/* ---- submitting work without a loop ---- */

/* concurrent.futures' Executor.submit(fn, arg): run fn(arg, job) on the thread pool ex
 * and return a concurrent future (acio/compose.h) that gets its result, its error (code
 * and message from acio_job_raise), or is cancelled. No loop is involved: any thread may
 * call this, and any thread may wait with acio_cfuture_result(). Cancelling the future
 * (acio_cfuture_cancel) before a worker starts the job means fn never runs; once it runs
 * it cannot be cancelled (acio_job_cancelled() stays false), as in concurrent.futures.
 * Executor.shutdown(cancel_futures=true) cancels the futures of jobs not started.
 * Ownership: *out is a new reference, released with acio_cfuture_unref(); arg stays the
 * caller's and must stay valid until the future is done.
 * Errors: -EINVAL (NULL ex, fn or out; ex is a process pool), -ESHUTDOWN (ex was shut
 * down), -ENOMEM, -EAGAIN (no worker thread could be started). On error fn never runs. */
ACIO_EXTERN ACIO_NODISCARD int acio_executor_submit(acio_executor_t *ex, acio_job_fn fn, void *arg,
                                                    acio_cfuture_t **out);

/* asyncio.to_thread(fn, arg): inside a task, run fn(arg, job) on the running loop's
 * default executor and await it. Returns 0 and *result (result may be NULL), fn's error
 * code (acio_job_raise), or -ECANCELED if the task is cancelled while waiting (the job is
 * then removed if it has not started, or its cancel flag is set).
 * Errors: ACIO_ENOTASK (not inside a task), -EINVAL (NULL fn), and those of
 * acio_loop_run_in_executor(). */
ACIO_EXTERN ACIO_NODISCARD int acio_to_thread(acio_job_fn fn, void *arg, void **result);
/* The same, and if fn failed and error_message is non-NULL, *error_message receives a
 * malloc'd copy of its message (free() it); otherwise it is set to NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_to_thread_ex(acio_job_fn fn, void *arg, void **result,
                                                 char **error_message);

/* loop.set_default_executor(): use ex (a thread pool) for run_in_executor(NULL) and
 * to_thread on loop. The loop takes its own reference. The executor it replaces is
 * released; if the loop had created it (on first use), it is also shut down without
 * waiting, as a pool nobody references is in Python. The loop shuts its default
 * executor down (without waiting) when it closes, as asyncio does, whoever created it.
 * Errors: -EINVAL (NULL, or ex is a process pool), ACIO_ECLOSED, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_set_default_executor(acio_loop_t *loop,
                                                              acio_executor_t *ex);

/* loop.shutdown_default_executor(timeout): shut the loop's default executor down and
 * wait for its jobs (timeout < 0: no limit). Inside a task of loop it awaits, as asyncio
 * does (a helper thread waits; the loop keeps running, so jobs that need the loop can
 * finish); elsewhere (e.g. after the loop stopped, before acio_loop_close(), as
 * asyncio.run does) it blocks the calling thread. Afterwards run_in_executor(NULL) and
 * to_thread on loop fail with -ESHUTDOWN.
 * Errors: -EINVAL, ACIO_ECLOSED, -ETIMEDOUT (jobs still running at the deadline: they
 * finish in the background), -ECANCELED (the awaiting task was cancelled; the helper
 * thread is still joined before returning), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_shutdown_default_executor(acio_loop_t *loop,
                                                                   double timeout);

/* ---- inside a blocking function ---- */

/* True once the job's future has been cancelled (or its loop closed): the function may
 * stop early; its result will be dropped. Always false in a process-pool worker. */
ACIO_EXTERN bool acio_job_cancelled(const acio_job_t *job);

/* Fail the job like `raise`: record code (negative; -ECANCELED ends the future
 * cancelled) and a printf-style message (fmt may be NULL: acio_strerror(code)), and
 * return NULL so a blocking function can `return acio_job_raise(job, -EIO, "...")`.
 * A positive or zero code is recorded as ACIO_EFAILED. */
ACIO_EXTERN void *acio_job_raise(acio_job_t *job, int code, const char *fmt, ...) ACIO_PRINTF(3, 4);

#endif
