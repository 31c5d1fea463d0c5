/* Jobs: one submitted call, from submission to the moment its future is settled.
 *
 * A job has two references. The pool side holds one while the job is queued, running,
 * and travelling back to its loop; the loop side holds the other while someone on the
 * loop still cares: a done callback on the future (run_in_executor), or the to_thread()
 * frame awaiting it. Whichever side lets go last frees the job, so the loop can cancel a
 * running job and forget it, and a worker can finish a job whose future was long ago
 * cancelled. All of a job's future handling happens on its loop's thread; workers only
 * write the result, the error, and read the cancel flag.
 *
 * Freed jobs go back to their loop's free list (loop thread only, no locking), so a loop
 * submitting work steadily allocates no jobs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/executor_int.h"

/* Enough recycled jobs per loop to absorb a burst without holding memory forever. */
#define JOB_FREE_MAX 256

acio_job_t *acio__job_new(acio__bridge_t *br)
{
    acio_job_t *job = br->free_jobs;
    if (job) {
        br->free_jobs = job->free_next;
        br->nfree--;
    } else {
        job = acio__malloc(sizeof *job);
        if (!job)
            return NULL;
    }
    memset(job, 0, sizeof *job);
    atomic_init(&job->refs, 2);
    atomic_init(&job->cancelled, false);
    atomic_fetch_add_explicit(&br->refs, 1, memory_order_relaxed);
    job->br = br;
    return job;
}

acio_job_t *acio__job_new_detached(acio_cfuture_t *cf)
{
    acio_job_t *job = acio__calloc(1, sizeof *job);
    if (!job)
        return NULL;
    atomic_init(&job->refs, 1);
    atomic_init(&job->cancelled, false);
    job->cf = acio_cfuture_ref(cf);
    return job;
}

static void job_free(acio_job_t *job)
{
    acio__bridge_t *br = job->br;
    if (!br) {
        /* A submit() job: no loop, no future, no recycling. */
        acio_cfuture_unref(job->cf);
        acio__free(job->message);
        if (job->ex)
            acio__executor_unref(job->ex);
        acio__free(job);
        return;
    }
    if (job->fut)
        acio_future_unref(job->fut);
    if (job->pfn)
        free(job->result); /* an acio_bytes_t nobody took (the future was cancelled) */
    acio__free(job->in);
    acio__free(job->message);
    if (job->ex)
        acio__executor_unref(job->ex);
    if (br->closed || br->nfree >= JOB_FREE_MAX) {
        acio__free(job);
    } else {
        job->free_next = br->free_jobs;
        br->free_jobs = job;
        br->nfree++;
    }
    acio__bridge_unref(br);
}

void acio__job_unref(acio_job_t *job)
{
    if (atomic_fetch_sub_explicit(&job->refs, 1, memory_order_acq_rel) == 1)
        job_free(job);
}

void acio__job_set_error(acio_job_t *job, int code, const char *message)
{
    job->code = code;
    if (!job->message && message)
        job->message = acio__strdup(message);
}

bool acio_job_cancelled(const acio_job_t *job)
{
    return job && atomic_load_explicit(&job->cancelled, memory_order_acquire);
}

void *acio_job_raise(acio_job_t *job, int code, const char *fmt, ...)
{
    if (!job)
        return NULL;
    if (code >= 0)
        code = ACIO_EFAILED;
    acio__free(job->message);
    job->message = NULL;
    job->code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) >= 0) {
            /* vasprintf allocates with malloc; keep acio's allocator the only owner. */
            job->message = acio__strdup(msg);
            free(msg);
        }
        va_end(ap);
    }
    return NULL;
}

/* The future's done callback (run_in_executor): the future finished without us, i.e. it
 * was cancelled (or a user set it). Like asyncio's _call_check_cancel, a cancelled
 * future cancels the job. */
static void on_future_done(acio_future_t *fut, void *data)
{
    acio_job_t *job = data;
    job->watching = false;
    if (acio_future_cancelled(fut))
        acio__job_cancel(job);
    job->loop_ref = false;
    acio__job_unref(job);
}

int acio__job_watch(acio_job_t *job)
{
    int rc = acio_future_add_done_callback(job->fut, on_future_done, job);
    if (rc == 0)
        job->watching = true;
    return rc;
}

void acio__job_release_loop_side(acio_job_t *job)
{
    if (job->watching) {
        job->watching = false;
        if (job->fut)
            acio_future_remove_done_callback(job->fut, on_future_done, job);
    }
    if (job->loop_ref) {
        job->loop_ref = false;
        acio__job_unref(job);
    }
}

void acio__job_cancel(acio_job_t *job)
{
    atomic_store_explicit(&job->cancelled, true, memory_order_release);
    if (acio__executor_dequeue(job->ex, job)) {
        /* It never reached a worker, so it will never come back through the bridge. */
        acio__bridge_untrack(job);
        acio__job_unref(job);
    }
}

void acio__job_complete_detached(acio_job_t *job)
{
    if (job->code == 0)
        (void)acio_cfuture_set_result(job->cf, job->result);
    else
        (void)acio__cfuture_set_message_error(job->cf, job->code, job->message);
    acio__job_unref(job);
}

void acio__job_finish_on_loop(acio_job_t *job)
{
    acio__bridge_untrack(job);
    acio_future_t *fut = job->fut;
    if (fut && !acio_future_done(fut)) {
        /* We settle the future ourselves, so the done callback has nothing to do:
         * remove it rather than pay for a call_soon per job. */
        if (job->watching)
            acio__job_release_loop_side(job);
        if (job->code == 0) {
            acio_future_set_result(fut, job->result);
            job->result = NULL; /* an acio_bytes_t now belongs to whoever takes it */
        } else if (job->code == -ECANCELED) {
            acio_future_cancel(fut, job->message);
        } else {
            acio_future_set_error(fut, job->code, "%s",
                                  job->message ? job->message : acio_strerror(job->code));
        }
    }
    acio__job_unref(job);
}
