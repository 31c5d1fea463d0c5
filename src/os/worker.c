/* Where the os layer's blocking calls run: a thread pool of its own, "acio-file", from
 * the executor layer (acio/executor.h), so slow disks cannot starve the loop's default
 * executor (DNS, user to_thread calls) and the other way round. Created on first use and
 * kept for the life of the process, like a libc's own helper threads.
 *
 * The executor's future is never cancelled here, and never seen by the waiting task:
 * the task awaits a future of ours instead. Cancelling the task cancels only ours, so the
 * job is never removed from the queue or abandoned half-way, and the executor future's
 * done callback tells us when the blocking call has really finished, which is when the
 * file layer may start the next operation on the same file. */
#include <errno.h>
#include <pthread.h>

#include "os/os_internal.h"

#define FILE_WORKERS 4

typedef struct {
    acio__work_fn fn;
    void *arg;
    void (*done)(void *arg);
    acio_future_t *mine;  /* what the caller awaits */
    acio_future_t *exfut; /* the executor's, held until its done callback */
} work_t;

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static acio_executor_t *pool;
static int pool_error;

static void make_pool(void)
{
    acio_executor_opts_t o = {.name = "acio-file", .max_workers = FILE_WORKERS};
    pool_error = acio_executor_new(&pool, &o);
}

static void *trampoline(void *arg, acio_job_t *job)
{
    (void)job; /* never cancelled: see the header comment */
    work_t *w = arg;
    return w->fn(w->arg);
}

/* On the loop's thread, once the blocking call has returned. */
static void finished(acio_future_t *exfut, void *data)
{
    work_t *w = data;
    void *result = NULL;
    /* A job the executor failed (it never ran: the loop closed under it) must not look
     * like one that ran and succeeded. */
    int rc = acio_future_result(exfut, &result);
    if (!acio_future_done(w->mine)) {
        if (rc < 0) {
            const char *msg = acio_future_error_message(exfut);
            acio_future_set_error(w->mine, rc, "%s", msg ? msg : "the file job did not run");
        } else {
            acio_future_set_result(w->mine, result);
        }
    }
    if (w->done)
        w->done(w->arg);
    acio_future_unref(w->mine);
    acio_future_unref(w->exfut);
    acio__free(w);
}

int acio__work_submit(acio_loop_t *loop, acio__work_fn fn, void *arg, void (*done)(void *arg),
                      acio_future_t **out)
{
    pthread_once(&pool_once, make_pool);
    if (!pool)
        return pool_error < 0 ? pool_error : -ENOMEM;
    work_t *w = acio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->fn = fn;
    w->arg = arg;
    w->done = done;
    int rc = acio_future_new(loop, &w->mine);
    if (rc == 0) {
        acio_future_set_label(w->mine, "file");
        rc = acio_loop_run_in_executor(loop, pool, trampoline, w, &w->exfut);
    }
    if (rc == 0) {
        rc = acio_future_add_done_callback(w->exfut, finished, w);
        if (rc < 0) {
            /* Only -ENOMEM: the job is queued but its end would go unnoticed. Cancel
             * it (removed if no worker took it yet). w is leaked on purpose: a worker
             * that already took the job still reads it. */
            acio_future_cancel(w->exfut, NULL);
            acio_future_unref(w->exfut);
            acio_future_unref(w->mine);
            return rc;
        }
    }
    if (rc < 0) {
        acio_future_unref(w->mine);
        acio__free(w);
        return rc;
    }
    *out = acio_future_ref(w->mine);
    return 0;
}
