/* acio_run: asyncio.run. A new loop, the main task, then the shutdown sequence asyncio
 * uses: cancel whatever tasks remain, wait for them to finish (their cleanup runs),
 * report any that failed while being cancelled, run the loop's two closing rounds
 * (shutdown_asyncgens and shutdown_default_executor: callbacks still queued get to run
 * in them, as in asyncio), close the loop. Ctrl-C (SIGINT) while it
 * runs cancels the main task, and a second Ctrl-C kills the process as usual. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "future.h"
#include "loop.h"

static acio_loop_t *_Atomic sigint_loop;
static struct sigaction sigint_previous;

static void on_sigint(int sig)
{
    acio_loop_t *loop = sigint_loop;
    /* The next Ctrl-C gets the previous (normally default) behaviour. */
    sigaction(sig, &sigint_previous, NULL);
    if (!loop)
        return;
    atomic_store(&loop->interrupted, 1);
    atomic_store(&loop->ts_pending, 1);
    uint64_t one = 1;
    (void)!write(loop->wakefd, &one, sizeof one);
}

typedef struct {
    size_t left;
    acio_future_t *all_done;
} shutdown_wait_t;

static void one_finished(acio_future_t *f, void *data)
{
    (void)f;
    shutdown_wait_t *w = data;
    if (--w->left == 0)
        acio_future_set_result(w->all_done, NULL);
}

/* asyncio.runners._cancel_all_tasks */
static void cancel_all_tasks(acio_loop_t *loop)
{
    size_t n = acio_all_tasks(loop, NULL, 0);
    if (!n)
        return;
    acio_task_t **tasks = acio__malloc(n * sizeof *tasks);
    shutdown_wait_t w = {0};
    if (!tasks || acio_future_new(loop, &w.all_done)) {
        acio__free(tasks);
        return; /* out of memory: the tasks are reported as pending at close */
    }
    n = acio_all_tasks(loop, tasks, n);
    for (size_t i = 0; i < n; i++) {
        acio_future_ref(tasks[i]);
        acio_task_cancel(tasks[i], NULL);
    }
    for (size_t i = 0; i < n; i++)
        if (acio_future_add_done_callback(tasks[i], one_finished, &w) == 0)
            w.left++;
    /* all_done never fails; the tasks' own errors are looked at below, and a loop stopped
     * early leaves them pending, which close reports. */
    if (w.left) {
        int rc = acio_loop_run_until_complete(loop, w.all_done, NULL);
        (void)rc;
    }
    for (size_t i = 0; i < n; i++) {
        acio_future_t *t = tasks[i];
        acio_future_remove_done_callback(t, one_finished, &w);
        if (acio_future_done(t) && !acio_future_cancelled(t) && acio_future_error(t) < 0) {
            acio_error_context_t ctx = {
                .message = "unhandled error during acio_run() shutdown",
                .code = t->err,
                .error_message = t->message,
                .future = t,
            };
            acio_loop_call_exception_handler(loop, &ctx);
        }
        acio_future_unref(t);
    }
    acio_future_unref(w.all_done);
    acio__free(tasks);
}

typedef struct {
    acio_loop_t *loop;
    int hooks; /* the kind of hooks to run */
} closing_round_t;

static void *closing_round_body(void *arg)
{
    closing_round_t *r = arg;
    acio__loop_run_hooks(r->hooks, r->loop);
    return NULL;
}

/* One of asyncio.run's `loop.run_until_complete(loop.shutdown_...())`: a task on the
 * stopped loop whose body runs the given hooks (they may await). Out of memory, the
 * hooks run without a task and the loop does not turn. */
static void closing_round(acio_loop_t *loop, const char *name, int hooks)
{
    closing_round_t r = {loop, hooks};
    acio_task_opts_t opts = {.name = name};
    acio_task_t *t;
    if (acio_loop_create_task(loop, &t, closing_round_body, &r, &opts) < 0) {
        (void)closing_round_body(&r);
        return;
    }
    /* The hooks report their own failures; t itself only fails if it was cancelled. */
    int rc = acio_loop_run_until_complete(loop, t, NULL);
    (void)rc;
    acio_future_unref(t);
}

int acio_run_ex(acio_coro_fn main, void *arg, void **result, char **error_message)
{
    if (result)
        *result = NULL;
    if (error_message)
        *error_message = NULL;
    if (!main)
        return -EINVAL;
    if (acio__running_loop)
        return ACIO_ERUNNING;
    acio_loop_t *loop;
    int rc = acio_loop_new(&loop);
    if (rc)
        return rc;
    acio_task_t *task;
    rc = acio_loop_create_task(loop, &task, main, arg, NULL);
    if (rc) {
        acio_loop_close(loop);
        return rc;
    }
    task->origin = ACIO_CALLER();
    loop->main_task = task;

    bool own_sigint = false;
    struct sigaction cur;
    if (!sigint_loop && sigaction(SIGINT, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sigint_loop = loop;
        if (sigaction(SIGINT, &sa, &sigint_previous) == 0)
            own_sigint = true;
        else
            sigint_loop = NULL;
    }

    rc = acio_loop_run_until_complete(loop, task, result);
    bool interrupted = acio_future_cancelled(task) && acio_future_error_message(task) &&
                       strcmp(acio_future_error_message(task), "KeyboardInterrupt") == 0;
    if (rc < 0 && error_message && acio_future_error_message(task))
        *error_message = strdup(acio_future_error_message(task));
    loop->main_task = NULL;
    acio_future_unref(task);

    cancel_all_tasks(loop);
    /* Async generators still suspended are closed. Even with none, the round turns the
     * loop twice, as asyncio's does: callbacks queued by the last steps (a gather's
     * done callback, say) run before the loop closes. */
    closing_round(loop, "shutdown_asyncgens", ACIO__HOOK_RUN_SHUTDOWN_ASYNCGENS);
    /* shutdown_default_executor(), and whatever else a layer registered. */
    closing_round(loop, "shutdown_default_executor", ACIO__HOOK_RUN_SHUTDOWN);
    if (own_sigint) {
        sigint_loop = NULL;
        struct sigaction now;
        if (sigaction(SIGINT, NULL, &now) == 0 && now.sa_handler == on_sigint)
            sigaction(SIGINT, &sigint_previous, NULL);
    }
    acio_loop_close(loop);
    return interrupted ? -EINTR : rc;
}

int acio_run(acio_coro_fn main, void *arg, void **result)
{
    return acio_run_ex(main, arg, result, NULL);
}
