/* Debugging aids: the exception handler, debug mode's slow-callback report, the
 * watchdog thread that reports a loop stuck in one callback while it is stuck, and the
 * task dump on a signal. */
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "future.h"
#include "loop.h"

void acio_loop_set_exception_handler(acio_loop_t *loop, acio_exception_handler h, void *data)
{
    if (!loop)
        return;
    loop->exc_handler = h;
    loop->exc_data = data;
}

void acio_loop_default_exception_handler(acio_loop_t *loop, const acio_error_context_t *ctx)
{
    (void)loop;
    flockfile(stderr);
    fprintf(stderr, "acio: %s", ctx->message ? ctx->message : "unexpected error");
    if (ctx->future && ctx->future->is_task)
        fprintf(stderr, " [task '%s']", acio_task_get_name(ctx->future));
    if (ctx->code)
        fprintf(stderr, ": %s (%s)", acio_err_name(ctx->code), acio_strerror(ctx->code));
    if (ctx->error_message)
        fprintf(stderr, ": %s", ctx->error_message);
    if (ctx->origin)
        fprintf(stderr, "\n  created at %s", ctx->origin);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void acio_loop_call_exception_handler(acio_loop_t *loop, const acio_error_context_t *ctx)
{
    if (!ctx)
        return;
    if (loop && loop->exc_handler && !loop->closed)
        loop->exc_handler(loop, ctx, loop->exc_data);
    else
        acio_loop_default_exception_handler(loop, ctx);
}

void acio_loop_set_debug(acio_loop_t *loop, bool enabled)
{
    if (loop)
        loop->debug = enabled;
}
bool acio_loop_get_debug(const acio_loop_t *loop)
{
    return loop && loop->debug;
}
void acio_loop_set_slow_callback_duration(acio_loop_t *loop, double seconds)
{
    if (loop && seconds >= 0)
        loop->slow_ns = (int64_t)(seconds * 1e9);
}

static const char *describe_handle(acio_handle_t *h, char *buf, size_t len)
{
    char where[256];
    if (h->flags & HANDLE_EMBEDDED) {
        acio_future_t *task = h->data;
        snprintf(buf, len, "step of task '%s'", acio_task_get_name(task));
    } else if (h->fut_cb) {
        snprintf(buf, len, "done callback %s",
                 acio__describe_address((void *)h->fut_cb, where, sizeof where));
    } else {
        snprintf(buf, len, "callback %s",
                 acio__describe_address((void *)h->cb, where, sizeof where));
    }
    return buf;
}

void acio__debug_slow_callback(acio_loop_t *loop, acio_handle_t *h, int64_t ns)
{
    char what[320], msg[400];
    snprintf(msg, sizeof msg, "Executing %s took %.3f seconds",
             describe_handle(h, what, sizeof what), (double)ns / 1e9);
    acio_error_context_t ctx = {.message = msg, .handle = h};
    acio_loop_call_exception_handler(loop, &ctx);
}

void acio__debug_loop_closing(acio_loop_t *loop)
{
    if (loop->dump_signal)
        acio_loop_set_dump_signal(loop, 0);
}

/* ---- watchdog ---- */

struct acio_watchdog_s {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    int64_t threshold_ns;
    acio_loop_t *loop;
};

static int backtrace_signal(void)
{
    return SIGRTMIN + 5;
}

static void backtrace_handler(int sig)
{
    (void)sig;
    void *frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, 2);
}

static void *watchdog_main(void *arg)
{
    struct acio_watchdog_s *w = arg;
    acio_loop_t *loop = w->loop;
    unsigned long last = (unsigned long)-1, reported = (unsigned long)-1;
    int64_t since = 0;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t step = w->threshold_ns / 4 > 1000000 ? w->threshold_ns / 4 : 1000000;
        ts.tv_nsec += step % 1000000000;
        ts.tv_sec += step / 1000000000 + ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        if (w->stop)
            break;
        unsigned long now_progress = atomic_load(&loop->progress);
        int64_t now = acio__now_ns();
        if (!atomic_load(&loop->in_callback) || now_progress != last) {
            last = now_progress;
            since = now;
            continue;
        }
        if (now - since >= w->threshold_ns && reported != now_progress) {
            reported = now_progress;
            acio_loop_t *l = loop;
            /* The loop is stuck inside this task's step, so the task cannot be freed
             * under us while we read its name. */
            acio_future_t *task = (acio_future_t *)l->current_task;
            fprintf(stderr,
                    "acio watchdog: the event loop has been stuck for %.3f s in %s%s%s; "
                    "backtrace of the loop thread:\n",
                    (double)(now - since) / 1e9, task ? "task '" : "a callback",
                    task ? acio_task_get_name(task) : "", task ? "'" : "");
            pthread_kill(l->thread, backtrace_signal());
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int acio_loop_set_watchdog(acio_loop_t *loop, double threshold)
{
    if (!loop)
        return -EINVAL;
    acio__watchdog_stop(loop);
    if (threshold <= 0)
        return 0;
    struct acio_watchdog_s *w = acio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    /* Load the unwinder now: backtrace() may allocate the first time it runs, which must
     * not happen inside the signal handler. */
    void *frames[4];
    backtrace(frames, 4);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = backtrace_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(backtrace_signal(), &sa, NULL);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->threshold_ns = (int64_t)(threshold * 1e9);
    w->loop = loop;
    loop->watchdog = w;
    if (!loop->running)
        loop->thread = pthread_self();
    int rc = pthread_create(&w->thread, NULL, watchdog_main, w);
    if (rc) {
        loop->watchdog = NULL;
        acio__free(w);
        return -rc;
    }
    return 0;
}

void acio__watchdog_stop(acio_loop_t *loop)
{
    struct acio_watchdog_s *w = loop->watchdog;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    loop->watchdog = NULL;
    acio__free(w);
}

/* ---- task dump on a signal ---- */

static acio_loop_t *volatile dump_loop;

static void dump_signal_handler(int sig)
{
    (void)sig;
    acio_loop_t *loop = dump_loop;
    if (!loop)
        return;
    atomic_store(&loop->dump_requested, 1);
    atomic_store(&loop->ts_pending, 1);
    uint64_t one = 1;
    (void)!write(loop->wakefd, &one, sizeof one);
}

int acio_loop_set_dump_signal(acio_loop_t *loop, int signo)
{
    if (!loop || signo < 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
        return -EINVAL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (loop->dump_signal) {
        sa.sa_handler = SIG_DFL;
        sigaction(loop->dump_signal, &sa, NULL);
        dump_loop = NULL;
        loop->dump_signal = 0;
    }
    if (!signo)
        return 0;
    dump_loop = loop;
    sa.sa_handler = dump_signal_handler;
    if (sigaction(signo, &sa, NULL) < 0)
        return -errno;
    loop->dump_signal = signo;
    return 0;
}
