/* The public ways into the executors from a loop: loop.run_in_executor(),
 * asyncio.to_thread(), loop.set_default_executor() and
 * loop.shutdown_default_executor(), plus the process pool's submission, which differs
 * only in what travels to the worker (a copy of the input bytes, since a worker process
 * cannot read the caller's memory); and the way in without a loop,
 * concurrent.futures' Executor.submit(), whose job completes a concurrent future. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "executor/executor_int.h"

/* A job that never reached the pool: nothing else refers to it. */
static void job_discard(acio_job_t *job)
{
    acio__bridge_untrack(job);
    acio__job_release_loop_side(job);
    atomic_store_explicit(&job->refs, 1, memory_order_relaxed);
    acio__job_unref(job);
}

/* Create job's future, hand job to ex. watch: a done callback owns the loop-side
 * reference (run_in_executor); otherwise the caller does (to_thread). */
static int start(acio_loop_t *loop, acio__bridge_t *br, acio_executor_t *ex, acio_job_t *job,
                 bool watch)
{
    job->ex = acio__executor_ref(ex);
    int rc = acio_future_new(loop, &job->fut);
    if (rc < 0) {
        job_discard(job);
        return rc;
    }
    acio_future_set_label(job->fut, "executor");
    job->loop_ref = true;
    if (watch && (rc = acio__job_watch(job)) < 0) {
        job_discard(job);
        return rc;
    }
    acio__bridge_track(br, job);
    rc = acio__executor_submit(ex, job);
    if (rc < 0) {
        job_discard(job);
        return rc;
    }
    return 0;
}

static int prepare(acio_loop_t *loop, acio_executor_t **ex, int kind, acio__bridge_t **br,
                   acio_job_t **job)
{
    if (!loop)
        return -EINVAL;
    if (*ex && (*ex)->kind != kind)
        return -EINVAL;
    /* The loop's job list and futures are not locked: only its own thread may submit. */
    if (acio_loop_is_running(loop) && acio_get_running_loop() != loop)
        return ACIO_EWRONGTHREAD;
    int rc = acio__bridge_get(loop, br);
    if (rc < 0)
        return rc;
    if (!*ex && (rc = acio__bridge_default_executor(*br, ex)) < 0)
        return rc;
    *job = acio__job_new(*br);
    return *job ? 0 : -ENOMEM;
}

int acio_loop_run_in_executor(acio_loop_t *loop, acio_executor_t *ex, acio_job_fn fn, void *arg,
                              acio_future_t **out)
{
    if (out)
        *out = NULL;
    if (!fn)
        return -EINVAL;
    acio__bridge_t *br;
    acio_job_t *job;
    int rc = prepare(loop, &ex, ACIO__EX_THREADS, &br, &job);
    if (rc < 0)
        return rc;
    job->fn = fn;
    job->arg = arg;
    /* The job cannot finish before we return (completions are delivered on this
     * thread), so job->fut is still valid after start(). */
    rc = start(loop, br, ex, job, true);
    if (rc < 0)
        return rc;
    if (out)
        *out = acio_future_ref(job->fut);
    return 0;
}

int acio_executor_submit(acio_executor_t *ex, acio_job_fn fn, void *arg, acio_cfuture_t **out)
{
    if (out)
        *out = NULL;
    if (!ex || !fn || !out || ex->kind != ACIO__EX_THREADS)
        return -EINVAL;
    acio_cfuture_t *cf;
    int rc = acio_cfuture_new(&cf);
    if (rc < 0)
        return rc;
    acio_job_t *job = acio__job_new_detached(cf);
    if (!job) {
        acio_cfuture_unref(cf);
        return -ENOMEM;
    }
    job->fn = fn;
    job->arg = arg;
    job->ex = acio__executor_ref(ex);
    rc = acio__executor_submit(ex, job);
    if (rc < 0) {
        acio__job_unref(job); /* never reached the pool: ours is the only reference */
        acio_cfuture_unref(cf);
        return rc;
    }
    *out = cf;
    return 0;
}

int acio_loop_run_in_process_pool(acio_loop_t *loop, acio_executor_t *pool, acio_process_fn fn,
                                  const void *in, size_t in_len, acio_future_t **out)
{
    if (out)
        *out = NULL;
    if (!fn || !pool || (in_len && !in))
        return -EINVAL;
    acio__bridge_t *br;
    acio_job_t *job;
    int rc = prepare(loop, &pool, ACIO__EX_PROCESSES, &br, &job);
    if (rc < 0)
        return rc;
    job->pfn = fn;
    job->in_len = in_len;
    job->in = acio__malloc(in_len ? in_len : 1);
    if (!job->in) {
        job_discard(job);
        return -ENOMEM;
    }
    if (in_len)
        memcpy(job->in, in, in_len);
    rc = start(loop, br, pool, job, true);
    if (rc < 0)
        return rc;
    if (out)
        *out = acio_future_ref(job->fut);
    return 0;
}

int acio_to_thread_ex(acio_job_fn fn, void *arg, void **result, char **error_message)
{
    if (error_message)
        *error_message = NULL;
    if (!fn)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex = NULL;
    acio__bridge_t *br;
    acio_job_t *job;
    int rc = prepare(loop, &ex, ACIO__EX_THREADS, &br, &job);
    if (rc < 0)
        return rc;
    job->fn = fn;
    job->arg = arg;
    rc = start(loop, br, ex, job, false);
    if (rc < 0)
        return rc;
    /* Our loop-side reference keeps the job, and the job's reference keeps its future. */
    acio_future_t *fut = job->fut;
    void *value = NULL;
    rc = acio_await(fut, &value);
    if (rc == -ECANCELED && !acio_future_done(fut)) {
        /* This task was cancelled while its future was still pending: like asyncio,
         * cancel what we were awaiting; the job is removed if it has not started. */
        acio_future_cancel(fut, NULL);
    }
    if (rc == -ECANCELED)
        acio__job_cancel(job);
    if (rc < 0 && error_message && acio_future_done(fut)) {
        const char *msg = acio_future_error_message(fut);
        if (msg)
            *error_message = strdup(msg);
    }
    if (rc == 0 && result)
        *result = value;
    acio__job_release_loop_side(job);
    return rc;
}

int acio_to_thread(acio_job_fn fn, void *arg, void **result)
{
    return acio_to_thread_ex(fn, arg, result, NULL);
}

int acio_loop_set_default_executor(acio_loop_t *loop, acio_executor_t *ex)
{
    if (!loop || !ex || ex->kind != ACIO__EX_THREADS)
        return -EINVAL;
    acio__bridge_t *br;
    int rc = acio__bridge_get(loop, &br);
    if (rc < 0)
        return rc;
    acio_executor_t *old = br->default_ex;
    bool owned = br->default_owned;
    br->default_ex = acio__executor_ref(ex);
    br->default_owned = false;
    if (old) {
        /* asyncio just drops the old one; a pool nobody references is then shut down
         * (without waiting) when it is collected. Ours is collected now if the loop
         * created it; one the user set stays the user's. */
        if (owned && old != ex)
            acio_executor_shutdown(old, false, 0, false);
        acio__executor_unref(old);
    }
    return 0;
}

/* asyncio's shutdown_default_executor() waits in a helper thread so the loop keeps
 * running meanwhile: a job that needs the loop to finish (one that waits for a callback
 * it scheduled with call_soon_threadsafe) cannot deadlock the shutdown. This is that
 * thread and the callback through which it reports back to the loop. */
typedef struct {
    acio_loop_t *loop;
    acio_executor_t *ex;
    acio_future_t *fut; /* a reference for report() */
    double timeout;
    int rc;
} shutdown_wait_t;

static void report(void *data)
{
    shutdown_wait_t *w = data;
    if (!acio_future_done(w->fut))
        acio_future_set_result(w->fut, (void *)(intptr_t)w->rc);
    acio_future_unref(w->fut);
    acio__executor_unref(w->ex);
    acio__free(w);
}

static void *shutdown_thread(void *arg)
{
    shutdown_wait_t *w = arg;
    w->rc = acio_executor_shutdown(w->ex, true, w->timeout, false);
    if (acio_loop_call_soon_threadsafe(w->loop, report, w) < 0) {
        /* The loop is gone (it can only close once our joiner has returned, so this is
         * out of memory): the waiting task was cancelled or will be; keep the leak small
         * rather than touch a future off its loop. */
        acio__executor_unref(w->ex);
    }
    return NULL;
}

static int shutdown_in_task(acio_loop_t *loop, acio_executor_t *ex, double timeout)
{
    shutdown_wait_t *w = acio__calloc(1, sizeof *w);
    acio_future_t *fut;
    int rc = w ? acio_future_new(loop, &fut) : -ENOMEM;
    if (rc < 0) {
        acio__free(w);
        return rc;
    }
    *w = (shutdown_wait_t){loop, acio__executor_ref(ex), acio_future_ref(fut), timeout, 0};
    pthread_t th;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = -pthread_create(&th, NULL, shutdown_thread, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
        acio_future_unref(w->fut);
        acio__executor_unref(w->ex);
        acio__free(w);
        acio_future_unref(fut);
        return rc;
    }
    void *value = NULL;
    rc = acio_await(fut, &value);
    /* Like asyncio's `finally: thread.join()`, even when cancelled. */
    pthread_join(th, NULL);
    acio_future_unref(fut);
    return rc < 0 ? rc : (int)(intptr_t)value;
}

int acio_loop_shutdown_default_executor(acio_loop_t *loop, double timeout)
{
    if (!loop || timeout != timeout)
        return -EINVAL;
    acio__bridge_t *br;
    int rc = acio__bridge_get(loop, &br);
    if (rc < 0)
        return rc;
    br->default_shutdown = true;
    if (!br->default_ex)
        return 0;
    if (acio_current_task() && acio_get_running_loop() == loop)
        return shutdown_in_task(loop, br->default_ex, timeout);
    return acio_executor_shutdown(br->default_ex, true, timeout, false);
}
