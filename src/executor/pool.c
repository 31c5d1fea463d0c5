/* The worker pool behind both executors (concurrent.futures.ThreadPoolExecutor's
 * _work_queue, _adjust_thread_count and shutdown, and ProcessPoolExecutor's dispatching).
 *
 * One mutex guards a FIFO of queued jobs and a stack of idle workers. A submitter that
 * finds an idle worker hands the job to it directly and wakes only that worker (park.c);
 * otherwise the job is queued and, below max_workers, one more thread is started, so
 * threads start lazily, as in Python. A worker that finishes a job takes the next queued
 * one without sleeping; only when the queue is empty does it go idle. Idle workers form a
 * stack, so the most recently active (cache-warm, possibly still spinning) one is reused
 * first and the others stay asleep.
 *
 * A worker marks itself idle before it reports its finished job to the loop: when the
 * loop sees the result and submits the next job, it finds that worker idle instead of
 * starting another thread, so a loop doing one to_thread() after another uses one thread.
 *
 * Lifetime: the executor is reference counted (its creator, every job, every worker
 * thread, and a loop that uses it as its default), so shutting down without waiting is
 * safe: the last worker to exit frees it. Worker threads are detached; shutdown(wait)
 * waits on a condition variable until the count of live workers reaches zero. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "executor/executor_int.h"

/* The worker running on this thread, if any (to refuse a deadlocking shutdown(wait)). */
static __thread acio__worker_t *tl_worker;

static unsigned cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

acio_executor_t *acio__executor_ref(acio_executor_t *ex)
{
    atomic_fetch_add_explicit(&ex->refs, 1, memory_order_relaxed);
    return ex;
}

void acio__executor_unref(acio_executor_t *ex)
{
    if (atomic_fetch_sub_explicit(&ex->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&ex->mu);
    pthread_cond_destroy(&ex->exited);
    acio__free(ex);
}

int acio__executor_create(acio_executor_t **out, const acio_executor_opts_t *opts, int kind)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio_executor_t *ex = acio__calloc(1, sizeof *ex);
    if (!ex)
        return -ENOMEM;
    atomic_init(&ex->refs, 1);
    atomic_init(&ex->nspinning, 0);
    ex->kind = kind;
    const char *name =
        opts && opts->name ? opts->name : (kind == ACIO__EX_THREADS ? "acio-pool" : "acio-proc");
    snprintf(ex->name, sizeof ex->name, "%s", name);
    unsigned cpus = cpu_count();
    ex->max_workers = opts && opts->max_workers  ? opts->max_workers
                      : kind == ACIO__EX_THREADS ? (cpus + 4 < 32 ? cpus + 4 : 32)
                                                 : cpus;
    ex->stack_size = opts ? opts->stack_size : 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&ex->mu, NULL);
    if (rc == 0) {
        rc = pthread_cond_init(&ex->exited, &ca);
        if (rc != 0)
            pthread_mutex_destroy(&ex->mu);
    }
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        acio__free(ex);
        return -rc;
    }
    *out = ex;
    return 0;
}

int acio_executor_new(acio_executor_t **out, const acio_executor_opts_t *opts)
{
    return acio__executor_create(out, opts, ACIO__EX_THREADS);
}

int acio_process_pool_new(acio_executor_t **out, const acio_executor_opts_t *opts)
{
    return acio__executor_create(out, opts, ACIO__EX_PROCESSES);
}

/* ---- the queue (callers hold ex->mu) ---- */

static void queue_push(acio_executor_t *ex, acio_job_t *job)
{
    job->qnext = NULL;
    job->qprev = ex->qtail;
    if (ex->qtail)
        ex->qtail->qnext = job;
    else
        ex->qhead = job;
    ex->qtail = job;
    ex->nqueued++;
}

static void queue_unlink(acio_executor_t *ex, acio_job_t *job)
{
    if (job->qprev)
        job->qprev->qnext = job->qnext;
    else
        ex->qhead = job->qnext;
    if (job->qnext)
        job->qnext->qprev = job->qprev;
    else
        ex->qtail = job->qprev;
    job->qprev = job->qnext = NULL;
    ex->nqueued--;
}

static acio_job_t *queue_pop(acio_executor_t *ex)
{
    acio_job_t *job = ex->qhead;
    if (job)
        queue_unlink(ex, job);
    return job;
}

/* ---- workers ---- */

/* Returns false if the job did not run. */
static bool run_job(acio__worker_t *w, acio_job_t *job)
{
    /* A job whose future was cancelled after a worker was chosen but before it began is
     * treated as removed: it has not started, so it does not start. */
    if (atomic_load_explicit(&job->cancelled, memory_order_acquire)) {
        job->code = -ECANCELED;
        return false;
    }
    /* A submit() job's concurrent future may have been cancelled while it was queued:
     * like concurrent.futures' workers, skip it; otherwise it can no longer be. */
    if (job->cf && !acio_cfuture_set_running_or_notify_cancel(job->cf)) {
        job->code = -ECANCELED;
        return false;
    }
    if (w->ex->kind == ACIO__EX_THREADS)
        job->result = job->fn(job->arg, job);
    else
        acio__process_run(w, job);
    return true;
}

static void *worker_main(void *arg)
{
    acio__worker_t *w = arg;
    acio_executor_t *ex = w->ex;
    tl_worker = w;
    /* "<name>-<n>" within the kernel's 15 characters: the name gives way, not n. */
    char tname[16], num[12];
    int nlen = snprintf(num, sizeof num, "-%u", w->index);
    snprintf(tname, sizeof tname, "%.*s%s", 15 - nlen, ex->name, num);
    pthread_setname_np(pthread_self(), tname);

    acio_job_t *done = NULL; /* finished, not yet reported to its loop */
    pthread_mutex_lock(&ex->mu);
    for (;;) {
        acio_job_t *job = queue_pop(ex);
        if (job) {
            job->state = ACIO__JOB_RUNNING;
            ex->nrunning++;
            pthread_mutex_unlock(&ex->mu);
        } else if (ex->shutdown) {
            break;
        } else {
            w->handoff = NULL;
            w->idle_next = ex->idle;
            ex->idle = w;
            ex->nidle++;
            pthread_mutex_unlock(&ex->mu);
            if (done) {
                acio__bridge_complete(done);
                done = NULL;
            }
            acio__park(w);
            /* Whoever popped us from the idle stack wrote handoff under the mutex before
             * waking us; the wake-up's acquire makes it visible. NULL means shutdown. */
            job = w->handoff;
            if (!job) {
                pthread_mutex_lock(&ex->mu);
                continue;
            }
        }
        if (done) {
            acio__bridge_complete(done);
            done = NULL;
        }
        bool ran = run_job(w, job);
        done = job;
        pthread_mutex_lock(&ex->mu);
        job->state = ACIO__JOB_FINISHED;
        ex->nrunning--;
        if (ran)
            ex->completed++;
        else
            ex->cancelled++;
    }
    pthread_mutex_unlock(&ex->mu);
    /* Report the last job before counting ourselves out, so shutdown(wait) returning
     * means every result is already on its way to its loop. */
    if (done)
        acio__bridge_complete(done);
    if (ex->kind == ACIO__EX_PROCESSES)
        acio__process_worker_exit(w);
    pthread_mutex_lock(&ex->mu);
    ex->nthreads--;
    pthread_cond_broadcast(&ex->exited);
    pthread_mutex_unlock(&ex->mu);
    tl_worker = NULL;
    acio__free(w);
    acio__executor_unref(ex);
    return NULL;
}

static int start_worker(acio_executor_t *ex, unsigned index)
{
    acio__worker_t *w = acio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->ex = acio__executor_ref(ex);
    w->index = index;
    w->sock = -1;
    atomic_init(&w->signal, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (ex->stack_size)
        pthread_attr_setstacksize(&attr, ex->stack_size);
    /* Workers block every signal (they start with the mask of their creator, set here),
     * so signals meant for the loop (SIGINT cancelling acio_run's main task, signal
     * handlers added to the loop) are never delivered to a pool thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        acio__executor_unref(ex);
        acio__free(w);
        return -rc;
    }
    return 0;
}

int acio__executor_submit(acio_executor_t *ex, acio_job_t *job)
{
    acio__worker_t *wake = NULL;
    bool spawn = false;
    unsigned index = 0;
    pthread_mutex_lock(&ex->mu);
    if (ex->shutdown) {
        pthread_mutex_unlock(&ex->mu);
        return -ESHUTDOWN;
    }
    ex->submitted++;
    if (ex->idle) {
        wake = ex->idle;
        ex->idle = wake->idle_next;
        ex->nidle--;
        wake->handoff = job;
        job->state = ACIO__JOB_RUNNING;
        ex->nrunning++;
    } else {
        job->state = ACIO__JOB_QUEUED;
        queue_push(ex, job);
        if (ex->nthreads < ex->max_workers) {
            ex->nthreads++;
            index = ex->next_index++;
            spawn = true;
        }
    }
    pthread_mutex_unlock(&ex->mu);
    if (wake) {
        acio__unpark(wake);
        return 0;
    }
    if (!spawn)
        return 0;
    int rc = start_worker(ex, index);
    if (rc == 0)
        return 0;
    /* No thread could be started. Other workers will take the job, unless there are
     * none: then our job is refused, and jobs other submitters queued meanwhile (they
     * were accepted) fail with the same error through their futures. */
    acio_job_t *orphans = NULL;
    pthread_mutex_lock(&ex->mu);
    ex->nthreads--;
    if (ex->nthreads == 0) {
        if (job->state == ACIO__JOB_QUEUED) {
            queue_unlink(ex, job);
            job->state = ACIO__JOB_REMOVED;
            ex->submitted--;
        } else {
            rc = 0;
        }
        acio_job_t *j;
        while ((j = queue_pop(ex))) {
            j->state = ACIO__JOB_FINISHED;
            j->done_next = orphans;
            orphans = j;
        }
        pthread_cond_broadcast(&ex->exited);
    } else {
        rc = 0;
    }
    pthread_mutex_unlock(&ex->mu);
    while (orphans) {
        acio_job_t *next = orphans->done_next;
        acio__job_set_error(orphans, -EAGAIN, "no executor worker thread could be started");
        acio__bridge_complete(orphans);
        orphans = next;
    }
    return rc < 0 ? (rc == -ENOMEM ? -ENOMEM : -EAGAIN) : 0;
}

bool acio__executor_dequeue(acio_executor_t *ex, acio_job_t *job)
{
    bool removed = false;
    pthread_mutex_lock(&ex->mu);
    if (job->state == ACIO__JOB_QUEUED) {
        queue_unlink(ex, job);
        job->state = ACIO__JOB_REMOVED;
        ex->cancelled++;
        removed = true;
    }
    pthread_mutex_unlock(&ex->mu);
    return removed;
}

/* ---- shutdown ---- */

static int wait_for_workers(acio_executor_t *ex, double timeout)
{
    struct timespec deadline;
    if (timeout >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        double whole = (double)(time_t)timeout;
        deadline.tv_sec += (time_t)timeout;
        deadline.tv_nsec += (long)((timeout - whole) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int rc = 0;
    pthread_mutex_lock(&ex->mu);
    while (ex->nthreads > 0) {
        if (timeout < 0) {
            pthread_cond_wait(&ex->exited, &ex->mu);
        } else if (pthread_cond_timedwait(&ex->exited, &ex->mu, &deadline) == ETIMEDOUT) {
            rc = ex->nthreads > 0 ? -ETIMEDOUT : 0;
            break;
        }
    }
    pthread_mutex_unlock(&ex->mu);
    return rc;
}

int acio_executor_shutdown(acio_executor_t *ex, bool wait, double timeout, bool cancel_futures)
{
    if (!ex || timeout != timeout)
        return -EINVAL;
    acio_job_t *cancelled = NULL;
    acio__worker_t *idle;
    pthread_mutex_lock(&ex->mu);
    ex->shutdown = true;
    if (cancel_futures) {
        acio_job_t *j;
        while ((j = queue_pop(ex))) {
            j->state = ACIO__JOB_FINISHED;
            ex->cancelled++;
            j->done_next = cancelled;
            cancelled = j;
        }
    }
    idle = ex->idle;
    ex->idle = NULL;
    ex->nidle = 0;
    for (acio__worker_t *w = idle; w; w = w->idle_next)
        w->handoff = NULL;
    pthread_mutex_unlock(&ex->mu);

    /* Cancelled jobs travel back like finished ones so their futures are cancelled on
     * their own loops' threads. */
    while (cancelled) {
        acio_job_t *next = cancelled->done_next;
        cancelled->code = -ECANCELED;
        acio__bridge_complete(cancelled);
        cancelled = next;
    }
    while (idle) {
        acio__worker_t *next = idle->idle_next;
        acio__unpark(idle);
        idle = next;
    }
    if (!wait)
        return 0;
    if (tl_worker && tl_worker->ex == ex)
        return -EDEADLK;
    return wait_for_workers(ex, timeout);
}

int acio_executor_free(acio_executor_t *ex)
{
    if (!ex)
        return 0;
    int rc = acio_executor_shutdown(ex, true, -1, false);
    acio__executor_unref(ex);
    return rc;
}

const char *acio_executor_get_name(const acio_executor_t *ex)
{
    return ex ? ex->name : "";
}

unsigned acio_executor_get_max_workers(const acio_executor_t *ex)
{
    return ex ? ex->max_workers : 0;
}

bool acio_executor_is_process_pool(const acio_executor_t *ex)
{
    return ex && ex->kind == ACIO__EX_PROCESSES;
}

void acio_executor_stats(const acio_executor_t *cex, acio_executor_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!cex)
        return;
    /* The mutex is not part of the observable state; stats only read. */
    acio_executor_t *ex = (acio_executor_t *)cex;
    pthread_mutex_lock(&ex->mu);
    out->threads = ex->nthreads;
    out->idle = ex->nidle;
    out->queued = ex->nqueued;
    out->running = ex->nrunning;
    out->submitted = ex->submitted;
    out->completed = ex->completed;
    out->cancelled = ex->cancelled;
    out->processes_spawned = ex->spawned;
    out->processes_died = ex->died;
    out->shutdown = ex->shutdown;
    pthread_mutex_unlock(&ex->mu);
}
