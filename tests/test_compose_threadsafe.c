/* Bridges between threads and a loop: concurrent futures (blocking result with a
 * timeout, cancel, callbacks), run_coroutine_threadsafe (a thread starts a task on the
 * loop and blocks on its outcome; cancelling from the thread cancels the task) and
 * wrap_future (a result produced in a thread lands in a loop future). */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"

Test(cfuture, basics_in_one_thread)
{
    acio_cfuture_t *cf;
    void *res = NULL;
    cr_assert_eq(acio_cfuture_new(&cf), 0);
    cr_assert(!acio_cfuture_done(cf));
    cr_assert_eq(acio_cfuture_result(cf, 0.01, &res), -ETIMEDOUT);
    cr_assert(acio_cfuture_set_running_or_notify_cancel(cf));
    cr_assert_eq(acio_cfuture_cancel(cf), 0, "running: cannot cancel");
    cr_assert_eq(acio_cfuture_set_error(cf, -EIO, "bad %d", 7), 0);
    cr_assert_eq(acio_cfuture_set_result(cf, NULL), ACIO_EINVALSTATE);
    cr_assert_eq(acio_cfuture_result(cf, ACIO_NO_TIMEOUT, &res), -EIO);
    cr_assert_str_eq(acio_cfuture_error_message(cf), "bad 7");
    acio_cfuture_unref(cf);

    cr_assert_eq(acio_cfuture_new(&cf), 0);
    cr_assert_eq(acio_cfuture_cancel(cf), 1);
    cr_assert_eq(acio_cfuture_cancel(cf), 1);
    cr_assert(acio_cfuture_cancelled(cf));
    cr_assert(!acio_cfuture_set_running_or_notify_cancel(cf));
    cr_assert_eq(acio_cfuture_result(cf, 0, NULL), -ECANCELED);
    cr_assert_eq(acio_cfuture_set_error(cf, -ECANCELED, NULL), -EINVAL);
    acio_cfuture_unref(cf);
}

/* cancel() racing set_running_or_notify_cancel() in another thread: exactly one wins,
 * every time. (A cancel that read the state just before a worker marked the future
 * running used to end it cancelled anyway, and the work ran for a cancelled future:
 * tests/tsan's executor_submit case found it.) Bounded in count, not in time. */
typedef struct {
    acio_cfuture_t *cf;
    atomic_int go;
    bool running;
} race_t;

static void *mark_running(void *arg)
{
    race_t *r = arg;
    while (!atomic_load(&r->go))
        ;
    r->running = acio_cfuture_set_running_or_notify_cancel(r->cf);
    return NULL;
}

Test(cfuture, cancel_racing_set_running)
{
    for (int i = 0; i < 2000; i++) {
        race_t r = {.cf = NULL};
        atomic_init(&r.go, 0);
        cr_assert_eq(acio_cfuture_new(&r.cf), 0);
        pthread_t th;
        cr_assert_eq(pthread_create(&th, NULL, mark_running, &r), 0);
        atomic_store(&r.go, 1);
        int cancelled = acio_cfuture_cancel(r.cf);
        pthread_join(th, NULL);
        cr_assert_neq(cancelled == 1, r.running, "i=%d: cancel %d, set_running %d", i, cancelled,
                      r.running);
        cr_assert_eq(acio_cfuture_cancelled(r.cf), cancelled == 1);
        acio_cfuture_unref(r.cf);
    }
}

static void count_cb(acio_cfuture_t *cf, void *data)
{
    (void)cf;
    (*(int *)data)++;
}

Test(cfuture, callbacks)
{
    acio_cfuture_t *cf;
    int n = 0;
    cr_assert_eq(acio_cfuture_new(&cf), 0);
    cr_assert_eq(acio_cfuture_add_done_callback(cf, count_cb, &n), 0);
    cr_assert_eq(acio_cfuture_add_done_callback(cf, count_cb, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(acio_cfuture_set_result(cf, (void *)3), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(acio_cfuture_add_done_callback(cf, count_cb, &n), 0);
    cr_assert_eq(n, 3, "added to a done future: called at once");
    acio_cfuture_unref(cf);
}

typedef struct {
    acio_loop_t *loop;
    acio_cfuture_t *done; /* the thread reports here when finished */
    int rc_ok, rc_timeout, rc_cancel, rc_fail;
    void *res;
    const char *fail_msg;
    bool slow_started_ran;
} bridge_t;

static void *double_it(void *arg)
{
    if (acio_sleep(0.01) < 0)
        return NULL;
    return (void *)((intptr_t)arg * 2);
}

static volatile int slow_cancelled;

static void *slow_task(void *arg)
{
    bridge_t *b = arg;
    b->slow_started_ran = true;
    int rc = acio_sleep(30);
    if (rc == -ECANCELED)
        slow_cancelled = 1;
    return acio_raise(rc < 0 ? rc : -EIO, NULL);
}

static void *failing(void *arg)
{
    (void)arg;
    return acio_raise(-EPIPE, "broken on the loop");
}

static void *thread_main(void *arg)
{
    bridge_t *b = arg;
    acio_cfuture_t *cf;

    /* Block on a coroutine run on the loop. */
    if (acio_run_coroutine_threadsafe(&cf, b->loop, double_it, (void *)21) == 0) {
        b->rc_ok = acio_cfuture_result(cf, 30, &b->res);
        acio_cfuture_unref(cf);
    }
    /* A task that takes too long: time out on our side, then cancel it. */
    if (acio_run_coroutine_threadsafe(&cf, b->loop, slow_task, b) == 0) {
        b->rc_timeout = acio_cfuture_result(cf, 0.05, NULL);
        acio_cfuture_cancel(cf);
        b->rc_cancel = acio_cfuture_result(cf, 30, NULL);
        acio_cfuture_unref(cf);
    }
    /* An error comes back with its message. */
    if (acio_run_coroutine_threadsafe(&cf, b->loop, failing, NULL) == 0) {
        b->rc_fail = acio_cfuture_result(cf, 30, NULL);
        b->fail_msg =
            acio_cfuture_error_message(cf) != NULL ? strdup(acio_cfuture_error_message(cf)) : NULL;
        acio_cfuture_unref(cf);
    }
    acio_cfuture_set_result(b->done, (void *)1);
    return NULL;
}

static void *bridge_main(void *arg)
{
    bridge_t *b = arg;
    acio_future_t *f;
    pthread_t th;
    b->loop = acio_get_running_loop();
    cr_assert_eq(acio_cfuture_new(&b->done), 0);
    cr_assert_eq(acio_wrap_future(&f, b->done, NULL), 0);
    cr_assert_eq(pthread_create(&th, NULL, thread_main, b), 0);
    /* The loop keeps running (serving the thread's tasks) while we await. */
    cr_assert_eq(acio_wait_for(f, 60, NULL), 0);
    pthread_join(th, NULL);
    acio_future_unref(f);
    acio_cfuture_unref(b->done);
    /* Let the cancelled task's callbacks settle. */
    cr_assert_eq(acio_sleep(0.01), 0);
    return NULL;
}

Test(threadsafe, run_coroutine_threadsafe)
{
    bridge_t b = {0};
    cr_assert_eq(acio_run(bridge_main, &b, NULL), 0);
    cr_assert_eq(b.rc_ok, 0);
    cr_assert_eq((intptr_t)b.res, 42);
    cr_assert_eq(b.rc_timeout, -ETIMEDOUT);
    cr_assert_eq(b.rc_cancel, -ECANCELED);
    cr_assert(b.slow_started_ran);
    cr_assert_eq(slow_cancelled, 1, "cancelling the concurrent future cancelled the task");
    cr_assert_eq(b.rc_fail, -EPIPE);
    cr_assert_str_eq(b.fail_msg, "broken on the loop");
    free((void *)b.fail_msg);
}

static void *never(void *arg)
{
    *(bool *)arg = true;
    return NULL;
}

static void *cancel_before_start_main(void *arg)
{
    bool *ran = arg;
    acio_cfuture_t *cf;
    /* Called on the loop's own thread here, but the task cannot start before the next
     * iteration: a cancel now means the function never runs. */
    cr_assert_eq(acio_run_coroutine_threadsafe(&cf, acio_get_running_loop(), never, ran), 0);
    cr_assert_eq(acio_cfuture_cancel(cf), 1);
    cr_assert_eq(acio_sleep(0.01), 0);
    cr_assert_eq(acio_cfuture_result(cf, 0, NULL), -ECANCELED);
    acio_cfuture_unref(cf);
    return NULL;
}

Test(threadsafe, cancel_before_start)
{
    bool ran = false;
    cr_assert_eq(acio_run(cancel_before_start_main, &ran, NULL), 0);
    cr_assert(!ran);
}

static void *producer(void *arg)
{
    acio_cfuture_t **cf = arg;
    usleep(10000);
    acio_cfuture_set_result(cf[0], (void *)5);
    acio_cfuture_set_error(cf[1], -ENOENT, "no such thing");
    return NULL;
}

static void *wrap_main(void *arg)
{
    (void)arg;
    acio_cfuture_t *cf[3];
    acio_future_t *f[3];
    pthread_t th;
    void *res = NULL;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(acio_cfuture_new(&cf[i]), 0);
        cr_assert_eq(acio_wrap_future(&f[i], cf[i], NULL), 0);
    }
    cr_assert_eq(pthread_create(&th, NULL, producer, cf), 0);
    cr_assert_eq(acio_await(f[0], &res), 0);
    cr_assert_eq((intptr_t)res, 5);
    cr_assert_eq(acio_await(f[1], NULL), -ENOENT);
    cr_assert_str_eq(acio_future_error_message(f[1]), "no such thing");
    /* Cancelling the loop future cancels the concurrent one. */
    acio_future_cancel(f[2], NULL);
    cr_assert_eq(acio_sleep(0), 0);
    cr_assert(acio_cfuture_cancelled(cf[2]));
    pthread_join(th, NULL);
    for (int i = 0; i < 3; i++) {
        acio_future_unref(f[i]);
        acio_cfuture_unref(cf[i]);
    }
    return NULL;
}

Test(threadsafe, wrap_future)
{
    cr_assert_eq(acio_run(wrap_main, NULL, NULL), 0);
}

Test(threadsafe, invalid)
{
    acio_cfuture_t *cf;
    acio_future_t *f;
    cr_assert_eq(acio_run_coroutine_threadsafe(&cf, NULL, never, NULL), -EINVAL);
    cr_assert_eq(acio_cfuture_new(&cf), 0);
    cr_assert_eq(acio_wrap_future(&f, cf, NULL), ACIO_ENOLOOP);
    cr_assert_eq(acio_wrap_future(&f, NULL, NULL), -EINVAL);
    acio_cfuture_unref(cf);
}
