/* Internals shared by the executor's files:
 *
 *   pool.c     the worker pool: job queue, idle workers, lazy thread start, shutdown
 *   park.c     parking a worker thread (spin briefly, then a futex) and waking it
 *   bridge.c   the per-loop side: completed jobs batched back to the loop, the loop's
 *              default executor, and what happens when a loop closes
 *   job.c      jobs: allocation, cancellation, completion into the loop future
 *   submit.c   the public entry points run_in_executor, to_thread, set/shutdown default
 *   process.c  the process pool's runner: a forked worker per pool thread
 *
 * Threads: a job is created and finished on its loop's thread; between those it belongs
 * to the pool (queued, then running on a worker). Fields are grouped below by who may
 * touch them. */
#ifndef ACIO_EXECUTOR_INT_H
#define ACIO_EXECUTOR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "internal.h"
#include "acio/executor.h"
#include "executor/hook.h"

typedef struct acio__bridge_s acio__bridge_t;
typedef struct acio__worker_s acio__worker_t;

enum { ACIO__EX_THREADS = 0, ACIO__EX_PROCESSES = 1 };

/* Where a job is, from the pool's point of view (guarded by the executor's mutex). */
enum { ACIO__JOB_QUEUED = 0, ACIO__JOB_RUNNING, ACIO__JOB_FINISHED, ACIO__JOB_REMOVED };

struct acio_job_s {
    /* Set at submission, read by the worker. */
    acio_job_fn fn;
    void *arg;
    acio_process_fn pfn; /* process pools */
    void *in;            /* process pools: our copy of the input bytes */
    size_t in_len;
    acio_executor_t *ex; /* holds a reference on ex */
    acio__bridge_t *br;  /* holds a reference on br; NULL for a submit() job */
    acio_cfuture_t *cf;  /* submit(): the concurrent future it completes (a reference) */

    /* Written by the worker, read by the loop after the completion hand-off. */
    void *result; /* for process pools an acio_bytes_t * */
    int code;     /* 0, or the error the job ended with */
    char *message;

    /* Any thread. */
    atomic_int refs; /* one for the pool side, one for the loop side */
    atomic_bool cancelled;

    /* Guarded by ex->mu. */
    int state;
    acio_job_t *qprev, *qnext;

    /* Completion stack (see bridge.c). */
    acio_job_t *done_next;

    /* Loop thread only. */
    acio_future_t *fut;        /* our reference, NULL once dropped */
    acio_job_t *iprev, *inext; /* the bridge's list of jobs in flight */
    bool watching;             /* a done callback on fut holds the loop-side ref */
    bool loop_ref;             /* the loop-side reference has not been dropped */
    acio_job_t *free_next;     /* the bridge's free list */
};

struct acio__worker_s {
    acio_executor_t *ex;
    _Atomic uint32_t signal;   /* see park.c */
    acio_job_t *handoff;       /* a job given directly by a submitter (under ex->mu) */
    acio__worker_t *idle_next; /* the executor's idle stack (under ex->mu) */
    /* Process pools: the worker process this thread drives. */
    pid_t child;
    int sock;
    unsigned index;
};

struct acio_executor_s {
    atomic_int refs; /* the creator, each job, each worker thread, each loop default */
    int kind;
    char name[16];
    unsigned max_workers;
    size_t stack_size;

    pthread_mutex_t mu;
    pthread_cond_t exited; /* a worker exited (shutdown waits on it) */
    /* Guarded by mu. */
    acio_job_t *qhead, *qtail;
    size_t nqueued;
    acio__worker_t *idle;
    unsigned nthreads, nidle, next_index;
    size_t nrunning;
    bool shutdown;
    uint64_t submitted, completed, cancelled, spawned, died;

    atomic_int nspinning; /* workers spinning before they sleep (at most one spins) */
};

/* ---- pool.c ---- */
acio_executor_t *acio__executor_ref(acio_executor_t *ex);
void acio__executor_unref(acio_executor_t *ex);
int acio__executor_create(acio_executor_t **out, const acio_executor_opts_t *opts, int kind);
/* Queue job (state QUEUED) or give it to an idle worker. Takes over the pool-side
 * reference on success. Errors: -ESHUTDOWN, -EAGAIN (no thread could be started). */
int acio__executor_submit(acio_executor_t *ex, acio_job_t *job);
/* Remove job if no worker has taken it. Returns true if it was removed (it will never
 * run, and the pool-side reference is now the caller's). */
bool acio__executor_dequeue(acio_executor_t *ex, acio_job_t *job);

/* ---- park.c ---- */
void acio__park(acio__worker_t *w);
void acio__unpark(acio__worker_t *w);

/* ---- process.c ---- */
/* Run job in w's worker process (forking one if needed); fills job->result/code. */
void acio__process_run(acio__worker_t *w, acio_job_t *job);
/* The worker thread is exiting: stop its process. */
void acio__process_worker_exit(acio__worker_t *w);

/* ---- job.c ---- */
acio_job_t *acio__job_new(acio__bridge_t *br);
/* A job for acio_executor_submit(): no loop, one reference (the pool side's), its
 * outcome goes to cf. */
acio_job_t *acio__job_new_detached(acio_cfuture_t *cf);
/* From a worker (or shutdown): settle a detached job's concurrent future and drop the
 * pool-side reference. */
void acio__job_complete_detached(acio_job_t *job);
void acio__job_unref(acio_job_t *job);
/* Add the done callback through which a cancelled future cancels the job; from then on
 * the callback owns the loop-side reference. */
int acio__job_watch(acio_job_t *job);
/* Record an error in job (the worker's side of acio_job_raise). */
void acio__job_set_error(acio_job_t *job, int code, const char *message);
/* On the loop thread: the pool is done with job (it ran, or was cancelled by shutdown):
 * settle its future and drop the pool-side reference. */
void acio__job_finish_on_loop(acio_job_t *job);
/* On the loop thread: the loop side no longer wants job (its future was cancelled, its
 * task cancelled, or its loop is closing): remove it if it has not started, else raise
 * its cancel flag. */
void acio__job_cancel(acio_job_t *job);
/* On the loop thread: drop the loop-side reference (and the done callback, if any). */
void acio__job_release_loop_side(acio_job_t *job);

/* ---- bridge.c ---- */
struct acio__bridge_s {
    atomic_int refs; /* the registry, plus one per job that points here */
    pthread_mutex_t mu;
    acio_loop_t *loop;               /* under mu for workers; NULL once the loop closed */
    _Atomic(acio_job_t *) done_head; /* completed jobs, newest first (lock-free push) */

    /* Loop thread only. */
    acio_job_t inflight;   /* sentinel of the circular list of this loop's jobs */
    acio_job_t *free_jobs; /* recycled jobs */
    size_t nfree;
    acio_executor_t *default_ex;
    bool default_shutdown; /* shutdown_default_executor() was called */
    bool default_owned;    /* default_ex was created by us, not set by the user */
    bool closed;           /* the loop closed: free jobs instead of recycling them */
    acio__bridge_t *next;  /* the registry */
};

/* The bridge of loop, created on first use. Borrowed (the registry holds it until the
 * loop closes). Errors: ACIO_ECLOSED, -ENOMEM. */
int acio__bridge_get(acio_loop_t *loop, acio__bridge_t **out);
/* The bridge of loop if it has one (borrowed), or NULL; creates nothing. */
acio__bridge_t *acio__bridge_find(acio_loop_t *loop);
void acio__bridge_unref(acio__bridge_t *br);
/* From a worker: job is finished; hand it to its loop (batched). */
void acio__bridge_complete(acio_job_t *job);
/* Loop-side list of jobs in flight. */
void acio__bridge_track(acio__bridge_t *br, acio_job_t *job);
void acio__bridge_untrack(acio_job_t *job);
/* The loop's default executor, created on first use (borrowed). -ESHUTDOWN after
 * shutdown_default_executor. */
int acio__bridge_default_executor(acio__bridge_t *br, acio_executor_t **out);

#endif
