/* The loop side of the executors: one bridge per loop that has used an executor.
 *
 * Completed jobs come back to their loop in batches. A worker pushes its job on the
 * bridge's lock-free stack; only the push that finds the stack empty schedules a drain
 * with acio_loop_call_soon_threadsafe() (which itself coalesces eventfd writes). The
 * drain takes the whole stack in one exchange and settles the futures oldest first. A
 * push that races with a drain either lands before the exchange (and is drained now) or
 * finds the stack empty afterwards (and schedules the next drain), so no completion is
 * ever lost, and a burst of N completions costs one wake-up and one callback.
 *
 * The bridge also holds the loop's default executor (asyncio's loop._default_executor)
 * and the list of the loop's jobs in flight, which is what makes closing a loop safe:
 * acio__executor_loop_closing() detaches the bridge under its mutex, so workers that
 * finish later never touch the closed loop; they free their jobs instead.
 *
 * Bridges are found by loop in a small registry; each thread caches its last answer
 * (one loop per thread), validated by a generation number bumped whenever a bridge is
 * removed, so a new loop allocated at a closed loop's address is never confused with it. */
#include <errno.h>
#include <time.h>

#include "executor/executor_int.h"
#include "executor/hook.h"
#include "loop.h"

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static acio__bridge_t *registry;
static atomic_uint registry_gen;

static __thread acio_loop_t *tl_loop;
static __thread acio__bridge_t *tl_bridge;
static __thread unsigned tl_gen;

static void bridge_free(acio__bridge_t *br)
{
    while (br->free_jobs) {
        acio_job_t *next = br->free_jobs->free_next;
        acio__free(br->free_jobs);
        br->free_jobs = next;
    }
    pthread_mutex_destroy(&br->mu);
    acio__free(br);
}

void acio__bridge_unref(acio__bridge_t *br)
{
    if (atomic_fetch_sub_explicit(&br->refs, 1, memory_order_acq_rel) == 1)
        bridge_free(br);
}

int acio__bridge_get(acio_loop_t *loop, acio__bridge_t **out)
{
    unsigned gen = atomic_load_explicit(&registry_gen, memory_order_acquire);
    if (tl_loop == loop && tl_gen == gen && tl_bridge) {
        *out = tl_bridge;
        return 0;
    }
    if (acio_loop_is_closed(loop))
        return ACIO_ECLOSED;
    pthread_mutex_lock(&registry_mu);
    gen = atomic_load_explicit(&registry_gen, memory_order_relaxed);
    acio__bridge_t *br = registry;
    while (br && br->loop != loop)
        br = br->next;
    if (!br) {
        br = acio__calloc(1, sizeof *br);
        if (!br || pthread_mutex_init(&br->mu, NULL) != 0) {
            pthread_mutex_unlock(&registry_mu);
            acio__free(br);
            return -ENOMEM;
        }
        atomic_init(&br->refs, 1);
        atomic_init(&br->done_head, NULL);
        br->loop = loop;
        br->inflight.inext = br->inflight.iprev = &br->inflight;
        br->next = registry;
        registry = br;
    }
    pthread_mutex_unlock(&registry_mu);
    tl_loop = loop;
    tl_bridge = br;
    tl_gen = gen;
    *out = br;
    return 0;
}

acio__bridge_t *acio__bridge_find(acio_loop_t *loop)
{
    pthread_mutex_lock(&registry_mu);
    acio__bridge_t *br = registry;
    while (br && br->loop != loop)
        br = br->next;
    pthread_mutex_unlock(&registry_mu);
    return br;
}

void acio__bridge_track(acio__bridge_t *br, acio_job_t *job)
{
    acio_job_t *head = &br->inflight;
    job->inext = head;
    job->iprev = head->iprev;
    head->iprev->inext = job;
    head->iprev = job;
}

void acio__bridge_untrack(acio_job_t *job)
{
    if (!job->inext)
        return;
    job->iprev->inext = job->inext;
    job->inext->iprev = job->iprev;
    job->inext = job->iprev = NULL;
}

int acio__bridge_default_executor(acio__bridge_t *br, acio_executor_t **out)
{
    if (br->default_shutdown)
        return -ESHUTDOWN;
    if (!br->default_ex) {
        /* asyncio names its default pool's threads "asyncio_N"; ours are "acio-N". */
        acio_executor_opts_t opts = {.name = "acio"};
        int rc = acio_executor_new(&br->default_ex, &opts);
        if (rc < 0)
            return rc;
        br->default_owned = true;
    }
    *out = br->default_ex;
    return 0;
}

/* ---- completions ---- */

/* On the loop: settle every job pushed since the last drain, oldest first. */
static void drain(void *data)
{
    acio__bridge_t *br = data;
    acio_job_t *list = atomic_exchange_explicit(&br->done_head, NULL, memory_order_acquire);
    acio_job_t *fifo = NULL;
    while (list) {
        acio_job_t *next = list->done_next;
        list->done_next = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        acio_job_t *next = fifo->done_next;
        acio__job_finish_on_loop(fifo);
        fifo = next;
    }
}

/* The loop closed: jobs that finish now have nobody to report to. Their loop-side
 * references (and futures) were dropped when the bridge was detached. Called with
 * br->mu held, by the one thread that found the stack empty. */
static void drop_detached(acio__bridge_t *br)
{
    acio_job_t *list = atomic_exchange_explicit(&br->done_head, NULL, memory_order_acquire);
    while (list) {
        acio_job_t *next = list->done_next;
        acio__job_unref(list);
        list = next;
    }
}

static void kick(acio__bridge_t *br)
{
    pthread_mutex_lock(&br->mu);
    for (;;) {
        if (!br->loop) {
            drop_detached(br);
            break;
        }
        int rc = acio_loop_call_soon_threadsafe(br->loop, drain, br);
        /* ACIO_ECLOSED: the loop closed without detaching us (a core that does not call
         * acio__executor_loop_closing); the jobs stay on the stack and are never
         * delivered, which is all that can safely be done. */
        if (rc == 0 || rc == ACIO_ECLOSED || rc == -EINVAL)
            break;
        /* Out of memory: the completion must not be lost, and no later push will
         * schedule a drain while the stack is not empty, so retry until memory is
         * available or the loop closes (releasing the mutex so it can). */
        pthread_mutex_unlock(&br->mu);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        pthread_mutex_lock(&br->mu);
    }
    pthread_mutex_unlock(&br->mu);
}

void acio__bridge_complete(acio_job_t *job)
{
    acio__bridge_t *br = job->br;
    if (!br) {
        /* A submit() job has no loop to go back to: settle its future right here. */
        acio__job_complete_detached(job);
        return;
    }
    /* Once pushed, the job may be freed at any moment by a loop that is closing; our own
     * reference keeps the bridge alive until the kick is done. */
    atomic_fetch_add_explicit(&br->refs, 1, memory_order_relaxed);
    acio_job_t *old = atomic_load_explicit(&br->done_head, memory_order_relaxed);
    do {
        job->done_next = old;
    } while (!atomic_compare_exchange_weak_explicit(&br->done_head, &old, job, memory_order_release,
                                                    memory_order_relaxed));
    if (!old)
        kick(br);
    acio__bridge_unref(br);
}

/* ---- the loop closes ---- */

void acio__executor_loop_closing(acio_loop_t *loop)
{
    if (!loop)
        return;
    pthread_mutex_lock(&registry_mu);
    acio__bridge_t **pp = &registry;
    while (*pp && (*pp)->loop != loop)
        pp = &(*pp)->next;
    acio__bridge_t *br = *pp;
    if (br) {
        *pp = br->next;
        atomic_fetch_add_explicit(&registry_gen, 1, memory_order_release);
    }
    pthread_mutex_unlock(&registry_mu);
    if (!br)
        return;
    tl_loop = NULL;
    tl_bridge = NULL;
    br->closed = true;

    /* From here on workers see no loop. */
    pthread_mutex_lock(&br->mu);
    br->loop = NULL;
    acio_job_t *list = atomic_exchange_explicit(&br->done_head, NULL, memory_order_acquire);
    pthread_mutex_unlock(&br->mu);

    /* Every job not yet settled, whether queued, running or finished: remove or flag
     * it, and let go of its future. */
    while (br->inflight.inext != &br->inflight) {
        acio_job_t *job = br->inflight.inext;
        atomic_fetch_add_explicit(&job->refs, 1, memory_order_relaxed);
        acio__bridge_untrack(job);
        acio__job_release_loop_side(job);
        if (job->fut) {
            acio_future_unref(job->fut);
            job->fut = NULL;
        }
        atomic_store_explicit(&job->cancelled, true, memory_order_release);
        if (acio__executor_dequeue(job->ex, job))
            acio__job_unref(job);
        acio__job_unref(job);
    }
    /* Finished but undelivered (their loop-side references were just dropped above,
     * since they were still in flight): their futures stay pending. */
    while (list) {
        acio_job_t *next = list->done_next;
        acio__job_unref(list);
        list = next;
    }
    if (br->default_ex) {
        acio_executor_t *ex = br->default_ex;
        br->default_ex = NULL;
        acio_executor_shutdown(ex, false, 0, false);
        acio__executor_unref(ex);
    }
    acio__bridge_unref(br);
}

/* The loop runs these without depending on this layer: close() detaches the loop from
 * every executor, and acio_run() shuts the default executor down (asyncio.run's
 * shutdown_default_executor, with its 300-second limit; acio_run calls this inside its
 * "shutdown_default_executor" task, so the loop runs while the workers finish).
 * Registered at load time, in the file a program that uses executors always links. */
static void shutdown_default_for_run(acio_loop_t *loop)
{
    acio__bridge_t *br = acio__bridge_find(loop);
    if (br == NULL || br->default_ex == NULL)
        return;
    int rc = acio_loop_shutdown_default_executor(loop, 300);
    if (rc < 0) {
        /* asyncio warns the same way (RuntimeWarning) and goes on closing. */
        acio_error_context_t ctx = {
            .message = rc == -ETIMEDOUT ? "the default executor did not finish joining its "
                                          "threads within 300 seconds"
                                        : "shutting the default executor down failed",
            .code = rc,
        };
        acio_loop_call_exception_handler(loop, &ctx);
    }
}

__attribute__((constructor)) static void register_loop_hooks(void)
{
    acio__loop_register_hook(ACIO__HOOK_LOOP_CLOSING, acio__executor_loop_closing);
    acio__loop_register_hook(ACIO__HOOK_RUN_SHUTDOWN, shutdown_default_for_run);
}
