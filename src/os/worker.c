/* The os layer's worker threads: where blocking file system calls run so the loop never
 * waits on a disk. A small process-wide pool (up to WORKERS_MAX threads, started on
 * demand, kept for the life of the process) with one FIFO of jobs. Each finished job is
 * handed back to its loop with acio_loop_call_soon_threadsafe(), and the future is
 * finished there, on the loop's thread, because futures are not thread-safe.
 *
 * This is a private stand-in for the executor layer (acio/executor.h); file.c only uses
 * acio__work_submit(), so it can move onto a named executor pool without other changes.
 *
 * Workers block every signal, so asynchronous signals are delivered to threads that
 * run loops (or the user's threads), never interrupt a worker mid-read with EINTR. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "os/os_internal.h"

#define WORKERS_MAX 4

typedef struct work_s {
    struct work_s *next;
    acio_loop_t *loop;
    acio__work_fn fn;
    void *arg;
    void (*done)(void *arg);
    acio_future_t *fut; /* one reference held by the job */
    void *result;
} work_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static work_t *head, *tail;
static int threads, idle;

/* On the loop's thread. */
static void finish(void *data)
{
    work_t *w = data;
    if (!acio_future_done(w->fut))
        acio_future_set_result(w->fut, w->result);
    if (w->done)
        w->done(w->arg);
    acio_future_unref(w->fut);
    acio__free(w);
}

static void *worker_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!head) {
            idle++;
            pthread_cond_wait(&more, &lock);
            idle--;
        }
        work_t *w = head;
        head = w->next;
        if (!head)
            tail = NULL;
        pthread_mutex_unlock(&lock);
        w->result = w->fn(w->arg);
        if (acio_loop_call_soon_threadsafe(w->loop, finish, w) < 0) {
            /* The loop is gone: nobody can take the result, and its future may not be
             * touched from here. The job (a few bytes) is leaked rather than risk a
             * use-after-free. */
        }
        pthread_mutex_lock(&lock);
    }
    return NULL;
}

static int start_thread(void)
{
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* The new thread inherits this mask: block everything while creating it. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t, &attr, worker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return -rc;
}

int acio__work_submit(acio_loop_t *loop, acio__work_fn fn, void *arg, void (*done)(void *arg),
                      acio_future_t **out)
{
    work_t *w = acio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    int rc = acio_future_new(loop, &w->fut);
    if (rc < 0) {
        acio__free(w);
        return rc;
    }
    acio_future_set_label(w->fut, "file");
    w->loop = loop;
    w->fn = fn;
    w->arg = arg;
    w->done = done;
    pthread_mutex_lock(&lock);
    if (idle == 0 && threads < WORKERS_MAX) {
        rc = start_thread();
        if (rc == 0)
            threads++;
        else if (threads > 0)
            rc = 0; /* the existing threads will get to it */
    }
    if (rc == 0) {
        if (tail)
            tail->next = w;
        else
            head = w;
        tail = w;
        pthread_cond_signal(&more);
    }
    pthread_mutex_unlock(&lock);
    if (rc < 0) {
        acio_future_unref(w->fut);
        acio__free(w);
        return rc;
    }
    *out = acio_future_ref(w->fut);
    return 0;
}
