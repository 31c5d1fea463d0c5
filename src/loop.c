/* The event loop: lifecycle, call_soon / call_soon_threadsafe, and _run_once.
 *
 * One iteration, as asyncio's BaseEventLoop._run_once:
 *   1. timeout = 0 if callbacks are ready (or the loop is stopping), else until the
 *      nearest timer, else forever;
 *   2. poll for I/O (skipped when work is ready and no fd is watched: nothing could be
 *      reported, and a system call per iteration would dominate task switches);
 *      ready fds append their callbacks to the ready FIFO;
 *   3. read the clock once; timers now due append their handles;
 *   4. run exactly the handles that were ready when step 4 began; anything scheduled
 *      while they run waits for the next iteration. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "future.h"
#include "loop.h"

__thread acio_loop_t *acio__running_loop;

int64_t acio__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int acio__loop_check(const acio_loop_t *loop)
{
    if (ACIO_UNLIKELY(!loop))
        return -EINVAL;
    if (ACIO_UNLIKELY(loop->closed))
        return ACIO_ECLOSED;
    if (ACIO_UNLIKELY(loop->debug) && loop->running && !pthread_equal(loop->thread, pthread_self()))
        return ACIO_EWRONGTHREAD;
    return 0;
}

int acio_loop_new(acio_loop_t **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio_loop_t *loop = acio__calloc(1, sizeof *loop);
    if (!loop)
        return -ENOMEM;
    int rc = acio__poller_new(&loop->poller);
    if (rc) {
        acio__free(loop);
        return rc;
    }
    loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wakefd < 0 || (rc = acio__poller_add(loop->poller, loop->wakefd, ACIO_READABLE))) {
        rc = loop->wakefd < 0 ? -errno : rc;
        if (loop->wakefd >= 0)
            close(loop->wakefd);
        acio__poller_free(loop->poller);
        acio__free(loop);
        return rc;
    }
    loop->ready_tail = &loop->ready_head;
    loop->ts_tail = &loop->ts_head;
    pthread_mutex_init(&loop->ts_lock, NULL);
    loop->now = acio__now_ns();
    loop->slow_ns = 100000000;
    loop->refcnt = 1;
    const char *dbg = getenv("ACIO_DEBUG");
    loop->debug = dbg && *dbg && strcmp(dbg, "0") != 0;
    *out = loop;
    return 0;
}

bool acio_loop_is_closed(const acio_loop_t *loop)
{
    return !loop || loop->closed;
}
bool acio_loop_is_running(const acio_loop_t *loop)
{
    return loop && loop->running;
}
double acio_loop_time(const acio_loop_t *loop)
{
    return loop ? (double)acio__loop_now((acio_loop_t *)loop) / 1e9 : 0.0;
}
void acio_loop_update_time(acio_loop_t *loop)
{
    if (loop) {
        loop->now = acio__now_ns();
        loop->now_valid = true;
    }
}
void acio_loop_set_data(acio_loop_t *loop, void *data)
{
    if (loop)
        loop->data = data;
}
void *acio_loop_get_data(const acio_loop_t *loop)
{
    return loop ? loop->data : NULL;
}
acio_loop_t *acio_get_running_loop(void)
{
    return acio__running_loop;
}
int acio_get_running_loop_checked(acio_loop_t **out)
{
    if (!out)
        return -EINVAL;
    *out = acio__running_loop;
    return *out ? 0 : ACIO_ENOLOOP;
}

void acio__loop_schedule(acio_loop_t *loop, acio_handle_t *h)
{
    if (!(h->flags & HANDLE_EMBEDDED))
        h->refcnt++;
    h->flags |= HANDLE_QUEUED;
    h->next = NULL;
    *loop->ready_tail = h;
    loop->ready_tail = &h->next;
    acio__loop_count_append(loop);
}

int acio_loop_call_soon(acio_loop_t *loop, acio_handle_cb cb, void *data, acio_handle_t **handle)
{
    if (handle)
        *handle = NULL;
    int rc = acio__loop_check(loop);
    if (rc)
        return rc;
    if (!cb)
        return -EINVAL;
    acio_handle_t *h = acio__handle_new(loop, cb, data);
    if (!h)
        return -ENOMEM;
    acio__loop_schedule(loop, h);
    if (handle)
        *handle = h;
    else
        acio__handle_release(h);
    return 0;
}

/* ---- call_soon_threadsafe ---- */

static void wake(acio_loop_t *loop)
{
    uint64_t one = 1;
    (void)!write(loop->wakefd, &one, sizeof one);
}

int acio_loop_call_soon_threadsafe(acio_loop_t *loop, acio_handle_cb cb, void *data)
{
    if (!loop || !cb)
        return -EINVAL;
    acio_ts_node_t *n = malloc(sizeof *n);
    if (!n)
        return -ENOMEM;
    n->next = NULL;
    n->cb = cb;
    n->data = data;
    pthread_mutex_lock(&loop->ts_lock);
    if (loop->ts_closed) {
        pthread_mutex_unlock(&loop->ts_lock);
        free(n);
        return ACIO_ECLOSED;
    }
    /* asyncio appends to the loop's ready deque at call time. The loop thread's FIFO
     * has no lock, so record the call's place in it instead (read under the lock, so
     * queued nodes keep non-decreasing places) and let the loop insert the callback
     * there before it next takes a batch. */
    n->seq = atomic_load_explicit(&loop->sched_count, memory_order_acquire);
    *loop->ts_tail = n;
    loop->ts_tail = &n->next;
    /* Coalesce: only the first call since the loop last drained writes the eventfd.
     * The write happens under the lock so close() cannot close the fd under it. */
    if (!atomic_exchange(&loop->ts_pending, 1))
        wake(loop);
    pthread_mutex_unlock(&loop->ts_lock);
    return 0;
}

int acio_loop_stop_threadsafe(acio_loop_t *loop)
{
    return acio_loop_call_soon_threadsafe(loop, acio_loop_stop_cb, loop);
}

void acio__loop_drain_threadsafe(acio_loop_t *loop)
{
    atomic_store(&loop->ts_pending, 0);
    pthread_mutex_lock(&loop->ts_lock);
    acio_ts_node_t *n = loop->ts_head;
    loop->ts_head = NULL;
    loop->ts_tail = &loop->ts_head;
    pthread_mutex_unlock(&loop->ts_lock);
    /* Each callback goes where it would be had the other thread appended it to the FIFO
     * itself: after the n->seq-th handle the loop thread appended (counting from the
     * FIFO's head, whose first handle is number ready_base + 1) and after callbacks of
     * earlier calls placed there. Places never decrease, so one walk serves them all;
     * usually nothing was appended since the call and the place is the tail. */
    acio_handle_t **pos = &loop->ready_head;
    uint64_t counted = loop->ready_base;
    uint64_t appended = atomic_load_explicit(&loop->sched_count, memory_order_relaxed);
    while (n) {
        acio_ts_node_t *next = n->next;
        acio_handle_t *h = acio__handle_new(loop, n->cb, n->data);
        if (h) {
            if (n->seq >= appended) {
                pos = loop->ready_tail;
            } else {
                while (*pos && (counted < n->seq || ((*pos)->flags & HANDLE_THREADSAFE))) {
                    if (!((*pos)->flags & HANDLE_THREADSAFE))
                        counted++;
                    pos = &(*pos)->next;
                }
            }
            /* The FIFO takes the creation reference. */
            h->flags |= HANDLE_QUEUED | HANDLE_THREADSAFE;
            h->next = *pos;
            *pos = h;
            if (!h->next)
                loop->ready_tail = &h->next;
            pos = &h->next;
        } else {
            /* Out of memory: run it now rather than lose it. */
            n->cb(n->data);
        }
        free(n);
        n = next;
    }
    if (atomic_exchange(&loop->dump_requested, 0))
        acio__task_dump_all(loop, 2);
    if (atomic_exchange(&loop->interrupted, 0) && loop->main_task)
        acio_future_cancel(loop->main_task, "KeyboardInterrupt");
}

/* ---- the iteration ---- */

static void run_once(acio_loop_t *loop)
{
    int64_t timeout;
    if (loop->ready_head || loop->stopping) {
        timeout = 0;
    } else {
        loop->now_valid = false; /* the timeout must come from a fresh reading */
        timeout = acio__timers_next_timeout(loop);
    }

    if (timeout != 0 || loop->nwatched > 0) {
        int n = acio__poller_wait(loop->poller, timeout, loop->events,
                                  (int)(sizeof loop->events / sizeof loop->events[0]));
        loop->now_valid = false;
        for (int i = 0; i < n; i++) {
            int fd = loop->events[i].fd;
            if (fd == loop->wakefd) {
                uint64_t v;
                (void)!read(loop->wakefd, &v, sizeof v);
                acio__loop_drain_threadsafe(loop);
            } else {
                acio__io_dispatch(loop, fd, loop->events[i].events);
            }
        }
    } else {
        loop->now_valid = false;
    }
    if (atomic_load_explicit(&loop->ts_pending, memory_order_relaxed))
        acio__loop_drain_threadsafe(loop);

    if (loop->heap_len || loop->wheel_count)
        acio__timers_run_due(loop);

    acio_handle_t *h = loop->ready_head;
    loop->ready_head = NULL;
    loop->ready_tail = &loop->ready_head;
    loop->ready_base = atomic_load_explicit(&loop->sched_count, memory_order_relaxed);
    bool timed = loop->debug || loop->watchdog;
    if (timed)
        atomic_store(&loop->in_callback, 1);
    while (h) {
        acio_handle_t *next = h->next;
        h->flags &= (uint8_t)~HANDLE_QUEUED;
        /* A task's embedded step handle may be freed with its task by the callback. */
        bool embedded = h->flags & HANDLE_EMBEDDED;
        if (!(h->flags & HANDLE_CANCELLED)) {
            if (ACIO_UNLIKELY(timed)) {
                atomic_fetch_add_explicit(&loop->progress, 1, memory_order_relaxed);
                int64_t t0 = acio__now_ns();
                h->cb(h->data);
                int64_t dt = acio__now_ns() - t0;
                if (loop->debug && dt >= loop->slow_ns)
                    acio__debug_slow_callback(loop, h, dt);
            } else {
                h->cb(h->data);
            }
        }
        if (!embedded)
            acio__handle_release(h);
        h = next;
    }
    if (timed)
        atomic_store(&loop->in_callback, 0);
}

int acio_loop_run_forever(acio_loop_t *loop)
{
    if (!loop)
        return -EINVAL;
    if (loop->closed)
        return ACIO_ECLOSED;
    if (loop->running || acio__running_loop)
        return ACIO_ERUNNING;
    loop->running = true;
    loop->thread = pthread_self();
    acio__running_loop = loop;
    loop->now_valid = false;
    /* Like asyncio: at least one iteration, even if stop() was called before. */
    do
        run_once(loop);
    while (!loop->stopping);
    loop->stopping = false;
    loop->running = false;
    acio__running_loop = NULL;
    return 0;
}

int acio_loop_stop(acio_loop_t *loop)
{
    if (!loop)
        return -EINVAL;
    loop->stopping = true;
    return 0;
}

void acio_loop_stop_cb(void *loop)
{
    (void)acio_loop_stop(loop);
}

static void stop_on_done(acio_future_t *fut, void *data)
{
    (void)fut;
    acio_loop_stop(data);
}

int acio_loop_run_until_complete(acio_loop_t *loop, acio_future_t *fut, void **result)
{
    if (result)
        *result = NULL;
    if (!loop || !fut)
        return -EINVAL;
    if (loop->closed)
        return ACIO_ECLOSED;
    if (loop->running || acio__running_loop)
        return ACIO_ERUNNING;
    if (acio_future_get_loop(fut) != loop)
        return -EINVAL;
    acio_future_ref(fut);
    int rc = acio_future_add_done_callback(fut, stop_on_done, loop);
    if (rc == 0) {
        rc = acio_loop_run_forever(loop);
        acio_future_remove_done_callback(fut, stop_on_done, loop);
    }
    if (rc == 0)
        rc = acio_future_done(fut) ? acio_future_result(fut, result) : ACIO_ENOTSTARTED;
    acio_future_unref(fut);
    return rc;
}

#define MAX_HOOKS 8
static acio__loop_hook_fn hooks[ACIO__HOOK_KINDS][MAX_HOOKS];
static int nhooks[ACIO__HOOK_KINDS];

void acio__loop_register_hook(int kind, acio__loop_hook_fn fn)
{
    /* Called from constructors, before any thread exists. */
    for (int i = 0; i < nhooks[kind]; i++)
        if (hooks[kind][i] == fn)
            return;
    if (nhooks[kind] < MAX_HOOKS)
        hooks[kind][nhooks[kind]++] = fn;
}

void acio__loop_run_hooks(int kind, acio_loop_t *loop)
{
    for (int i = 0; i < nhooks[kind]; i++)
        hooks[kind][i](loop);
}

int acio_loop_close(acio_loop_t *loop)
{
    if (!loop)
        return 0;
    if (loop->running)
        return ACIO_ERUNNING;
    if (loop->closed)
        return 0;
    /* From now on other threads' call_soon_threadsafe is refused (checked under the
     * same lock), so nothing can be queued, or written to the eventfd, behind us. */
    pthread_mutex_lock(&loop->ts_lock);
    loop->ts_closed = true;
    pthread_mutex_unlock(&loop->ts_lock);
    acio__loop_run_hooks(ACIO__HOOK_LOOP_CLOSING, loop);
    acio__watchdog_stop(loop);
    acio__debug_loop_closing(loop);
    /* Drop what never ran (before the tasks, whose step handles may be queued). */
    for (acio_handle_t *h = loop->ready_head; h;) {
        acio_handle_t *next = h->next;
        h->flags &= (uint8_t)~HANDLE_QUEUED;
        acio__handle_release(h);
        h = next;
    }
    loop->ready_head = NULL;
    loop->ready_tail = &loop->ready_head;
    acio__tasks_close(loop);
    acio__timers_clear(loop);
    acio__io_close(loop);
    acio__futures_report_failed_at_close(loop);
    if (loop->debug) {
        acio__futures_quarantine_flush();
        acio__handles_quarantine_flush();
    }
    /* Only now: the reports above still go to the user's exception handler. */
    loop->closed = true;
    for (acio_ts_node_t *n = loop->ts_head; n;) {
        acio_ts_node_t *next = n->next;
        free(n);
        n = next;
    }
    acio__poller_free(loop->poller);
    loop->poller = NULL;
    close(loop->wakefd);
    loop->wakefd = -1;
    acio__loop_unref(loop);
    return 0;
}

void acio__loop_unref(acio_loop_t *loop)
{
    if (--loop->refcnt)
        return;
    pthread_mutex_destroy(&loop->ts_lock);
    acio__free(loop);
}
