/* Signals on the loop: add/remove_signal_handler delivering on the loop's thread, a
 * signal arriving while a task awaits (sent from this thread and from another thread),
 * replacing a handler, restoring the previous disposition, invalid signal numbers,
 * several loops in several threads, a handler that removes itself, and coexistence with
 * acio_run()'s own SIGINT handling (Ctrl-C still cancels the main task once the user's
 * handler is gone). Every test checks that no fd is left open. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/problems.h"
#include "os/hook.h"
#include "os/os_internal.h"

TestSuite(signal, .init = problems_setup, .fini = problems_teardown, .timeout = 20);

/* ---- delivery while a task awaits ---- */

typedef struct {
    acio_future_t *fut;
    int signo;
    int calls;
    pthread_t thread;
} got_t;

static void on_sig(int signo, void *data)
{
    got_t *g = data;
    g->signo = signo;
    g->calls++;
    g->thread = pthread_self();
    if (g->fut && !acio_future_done(g->fut))
        acio_future_set_result(g->fut, NULL);
}

static void raise_usr1(void *data)
{
    (void)data;
    kill(getpid(), SIGUSR1);
}

static void *await_signal_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    got_t g = {0};
    cr_assert_eq(acio_future_new(loop, &g.fut), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, on_sig, &g), 0);
    /* The signal arrives while this task is suspended in await. */
    cr_assert_eq(acio_loop_call_later(loop, 0.01, raise_usr1, NULL, NULL), 0);
    cr_assert_eq(acio_await(g.fut, NULL), 0);
    cr_assert_eq(g.signo, SIGUSR1);
    cr_assert_eq(g.calls, 1);
    cr_assert(pthread_equal(g.thread, pthread_self()), "the handler ran on the loop's thread");
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 0);
    acio_future_unref(g.fut);
    return NULL;
}

Test(signal, handler_runs_on_the_loop_while_a_task_awaits)
{
    cr_assert_eq(acio_run(await_signal_main, NULL, NULL), 0);
}

static void *kill_from_thread(void *arg)
{
    (void)arg;
    usleep(20000);
    kill(getpid(), SIGUSR2);
    return NULL;
}

static void *other_thread_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    got_t g = {0};
    cr_assert_eq(acio_future_new(loop, &g.fut), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR2, on_sig, &g), 0);
    pthread_t t;
    /* The other thread may be the one the kernel interrupts: it must not matter. */
    cr_assert_eq(pthread_create(&t, NULL, kill_from_thread, NULL), 0);
    cr_assert_eq(acio_await(g.fut, NULL), 0);
    pthread_join(t, NULL);
    cr_assert_eq(g.signo, SIGUSR2);
    cr_assert(pthread_equal(g.thread, pthread_self()));
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR2), 1);
    acio_future_unref(g.fut);
    return NULL;
}

Test(signal, signal_sent_from_another_thread_wakes_the_loop)
{
    cr_assert_eq(acio_run(other_thread_main, NULL, NULL), 0);
}

/* A signal must not disturb a task sleeping on a timer: the sleep still lasts its
 * time (no EINTR surfaces anywhere) and the handler runs in between. */
static void *sleep_through_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    got_t g = {0};
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, on_sig, &g), 0);
    cr_assert_eq(acio_loop_call_later(loop, 0.005, raise_usr1, NULL, NULL), 0);
    cr_assert_eq(acio_sleep(0.05), 0);
    cr_assert_eq(g.calls, 1);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    return NULL;
}

Test(signal, sleeping_task_is_not_interrupted)
{
    cr_assert_eq(acio_run(sleep_through_main, NULL, NULL), 0);
}

/* No signal is ever lost: each one is sent only after the previous one was handled, from
 * another thread, 200 times; every one of them must run the handler. */
#define ROUNDS 200
static atomic_int handled;
static acio_future_t *all_handled;

static void count_and_finish(int signo, void *data)
{
    (void)signo;
    (void)data;
    if (atomic_fetch_add(&handled, 1) + 1 == ROUNDS)
        acio_future_set_result(all_handled, NULL);
}

static void *ping_pong_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        kill(getpid(), SIGUSR1);
        for (int spin = 0; spin < 200000 && atomic_load(&handled) <= i; spin++)
            usleep(50);
        if (atomic_load(&handled) <= i)
            return (void *)1; /* lost */
    }
    return NULL;
}

static void *ping_pong_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    cr_assert_eq(acio_future_new(loop, &all_handled), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, count_and_finish, NULL), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, ping_pong_thread, NULL), 0);
    cr_assert_eq(acio_await(all_handled, NULL), 0);
    void *lost;
    pthread_join(t, &lost);
    cr_assert_null(lost);
    cr_assert_eq(atomic_load(&handled), ROUNDS);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    acio_future_unref(all_handled);
    return NULL;
}

Test(signal, no_signal_is_lost)
{
    cr_assert_eq(acio_run(ping_pong_main, NULL, NULL), 0);
}

/* ---- handler table ---- */

static void *replace_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    got_t first = {0}, second = {0};
    cr_assert_eq(acio_future_new(loop, &second.fut), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, on_sig, &first), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, on_sig, &second), 0);
    kill(getpid(), SIGUSR1);
    cr_assert_eq(acio_await(second.fut, NULL), 0);
    cr_assert_eq(first.calls, 0, "the replaced handler ran %d times", first.calls);
    cr_assert_eq(second.calls, 1);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 0);
    acio_future_unref(second.fut);
    return NULL;
}

Test(signal, adding_again_replaces_the_handler)
{
    cr_assert_eq(acio_run(replace_main, NULL, NULL), 0);
}

static volatile sig_atomic_t previous_handler_calls;
static void previous_handler(int signo)
{
    (void)signo;
    previous_handler_calls++;
}

static void *restore_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    got_t g = {0};
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR2, on_sig, &g), 0);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    cr_assert_neq((void *)now.sa_handler, (void *)previous_handler);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR2), 1);
    sigaction(SIGUSR2, NULL, &now);
    cr_assert_eq((void *)now.sa_handler, (void *)previous_handler,
                 "the previous disposition is back");
    return NULL;
}

Test(signal, removing_the_last_handler_restores_the_previous_disposition)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = previous_handler;
    sigaction(SIGUSR2, &sa, &old);
    cr_assert_eq(acio_run(restore_main, NULL, NULL), 0);
    kill(getpid(), SIGUSR2);
    cr_assert_eq(previous_handler_calls, 1);
    sigaction(SIGUSR2, &old, NULL);
}

static void noop_sig(int signo, void *data)
{
    (void)signo;
    (void)data;
}

static void *invalid_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGKILL, noop_sig, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGSTOP, noop_sig, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, 0, noop_sig, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, -3, noop_sig, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, NSIG, noop_sig, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, 1000, noop_sig, NULL), -EINVAL);
    /* glibc keeps the first real-time signals for its threads. */
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGRTMIN - 1, noop_sig, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_loop_add_signal_handler(NULL, SIGUSR1, noop_sig, NULL), -EINVAL);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGKILL), 0);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, 0), -EINVAL);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 0);
    /* A real-time signal works. */
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGRTMIN + 1, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGRTMIN + 1), 1);
    return NULL;
}

Test(signal, invalid_signals_are_refused)
{
    cr_assert_eq(acio_run(invalid_main, NULL, NULL), 0);
}

/* Handlers can be added to a loop that is not running; removing them all before close
 * leaves no fd registered (the fixture checks fds). */
Test(signal, handlers_on_a_loop_that_is_not_running)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_loop_set_exception_handler(loop, on_problem, NULL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR2, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_remove_signal_handlers(loop), 2);
    cr_assert_eq(acio_loop_remove_signal_handlers(loop), 0);
    cr_assert_eq(acio_loop_close(loop), 0);
}

/* ---- handlers changing the table while being dispatched ---- */

typedef struct {
    acio_future_t *fut;
    int usr1, usr2;
} both_t;

static void remove_all_on_usr1(int signo, void *data)
{
    both_t *b = data;
    (void)signo;
    b->usr1++;
    /* Removes both handlers (and the loop's signal state) during the dispatch. */
    cr_assert_eq(acio_loop_remove_signal_handlers(acio_get_running_loop()), 2);
    acio_future_set_result(b->fut, NULL);
}

static void count_usr2(int signo, void *data)
{
    (void)signo;
    ((both_t *)data)->usr2++;
}

static void *self_remove_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_loop_t *loop = acio_get_running_loop();
    both_t b = {0};
    cr_assert_eq(acio_future_new(loop, &b.fut), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, remove_all_on_usr1, &b), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR2, count_usr2, &b), 0);
    /* Both pending in one dispatch: USR1 (lower number) runs first and removes USR2's
     * handler, which then must not run. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    cr_assert_eq(acio_await(b.fut, NULL), 0);
    cr_assert_eq(b.usr1, 1);
    cr_assert_eq(b.usr2, 0);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR2), 0);
    acio_future_unref(b.fut);
    return NULL;
}

Test(signal, handler_may_remove_handlers_during_dispatch)
{
    cr_assert_eq(acio_run(self_remove_main, NULL, NULL), 0);
}

/* ---- several loops ---- */

typedef struct {
    got_t g;
    int rc;
    pthread_barrier_t *ready;
} loop_thread_t;

static void *per_thread_main(void *arg)
{
    loop_thread_t *lt = arg;
    acio_loop_t *loop = acio_get_running_loop();
    cr_assert_eq(acio_future_new(loop, &lt->g.fut), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, on_sig, &lt->g), 0);
    pthread_barrier_wait(lt->ready);
    cr_assert_eq(acio_await(lt->g.fut, NULL), 0);
    acio_loop_remove_signal_handler(loop, SIGUSR1);
    acio_future_unref(lt->g.fut);
    return NULL;
}

static void *run_in_thread(void *arg)
{
    loop_thread_t *lt = arg;
    lt->rc = acio_run(per_thread_main, lt, NULL);
    return NULL;
}

Test(signal, every_loop_that_handles_a_signal_gets_it)
{
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, 3);
    loop_thread_t lts[2] = {{.ready = &ready}, {.ready = &ready}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, run_in_thread, &lts[i]), 0);
    pthread_barrier_wait(&ready);
    kill(getpid(), SIGUSR1);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(lts[i].rc, 0);
        cr_assert_eq(lts[i].g.calls, 1);
        cr_assert(pthread_equal(lts[i].g.thread, t[i]), "loop %d's handler ran on its thread", i);
    }
    pthread_barrier_destroy(&ready);
}

/* ---- coexistence with acio_run's SIGINT ---- */

static void *sigint_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    got_t g = {0};
    cr_assert_eq(acio_future_new(loop, &g.fut), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGINT, on_sig, &g), 0);
    kill(getpid(), SIGINT);
    /* The user's handler has SIGINT: the main task is not cancelled. */
    cr_assert_eq(acio_await(g.fut, NULL), 0);
    cr_assert_eq(g.calls, 1);
    acio_future_unref(g.fut);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGINT), 1);
    /* run()'s own handler is back: Ctrl-C now cancels this task. */
    kill(getpid(), SIGINT);
    int rc = acio_sleep(10);
    return (void *)(intptr_t)rc;
}

Test(signal, sigint_handler_overrides_run_and_gives_it_back)
{
    void *res = NULL;
    int rc = acio_run(sigint_main, NULL, &res);
    cr_assert(rc == -EINTR || rc == -ECANCELED, "run returned %d (%s)", rc, acio_strerror(rc));
    struct sigaction now;
    sigaction(SIGINT, NULL, &now);
    cr_assert_eq((void *)now.sa_handler, (void *)SIG_DFL);
}

/* ---- the loop-closing hook the core calls ---- */

Test(signal, closing_hook_removes_every_handler_and_restores_dispositions)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_loop_set_exception_handler(loop, on_problem, NULL);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR1, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGUSR2, noop_sig, NULL), 0);
    cr_assert_eq(acio__signal_add_internal(loop, SIGUSR2, noop_sig, NULL), 0);
    cr_assert_eq(acio__signal_add_internal(loop, SIGCHLD, noop_sig, NULL), 0);
    acio__os_loop_closing(loop);
    acio__os_loop_closing(loop); /* idempotent */
    struct sigaction now;
    int sigs[] = {SIGUSR1, SIGUSR2, SIGCHLD};
    for (int i = 0; i < 3; i++) {
        sigaction(sigs[i], NULL, &now);
        cr_assert_eq((void *)now.sa_handler, (void *)SIG_DFL, "signal %d restored", sigs[i]);
    }
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGUSR1), 0);
    cr_assert_eq(acio_loop_close(loop), 0);
}

/* ---- closing the loop gives the signals back (asyncio's loop.close()) ---- */

static volatile sig_atomic_t user_sigint_calls;
static void user_sigint(int signo, siginfo_t *si, void *uc)
{
    (void)signo;
    (void)si;
    (void)uc;
    user_sigint_calls++;
}

/* The program had its own SIGINT handler; a loop took SIGINT and was closed without
 * removing it: the program's handler (SA_SIGINFO, mask and all) is back and runs. */
Test(signal, close_restores_the_programs_own_sigint_handler)
{
    struct sigaction mine, now;
    memset(&mine, 0, sizeof mine);
    mine.sa_sigaction = user_sigint;
    mine.sa_flags = SA_SIGINFO;
    sigemptyset(&mine.sa_mask);
    sigaddset(&mine.sa_mask, SIGUSR1);
    cr_assert_eq(sigaction(SIGINT, &mine, NULL), 0);

    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGINT, noop_sig, NULL), 0);
    sigaction(SIGINT, NULL, &now);
    cr_assert_neq((void *)now.sa_sigaction, (void *)user_sigint, "the loop did not take SIGINT");
    cr_assert_eq(acio_loop_close(loop), 0);

    sigaction(SIGINT, NULL, &now);
    cr_assert_eq((void *)now.sa_sigaction, (void *)user_sigint);
    cr_assert(now.sa_flags & SA_SIGINFO);
    cr_assert(sigismember(&now.sa_mask, SIGUSR1));
    cr_assert_eq(raise(SIGINT), 0);
    cr_assert_eq(user_sigint_calls, 1, "the program's handler did not run");
}

/* SIGINT was ignored before the loop: after close, Ctrl-C is ignored again (raising it
 * leaves the process running), not swallowed by a handler of a closed loop. */
Test(signal, close_restores_an_ignored_sigint)
{
    struct sigaction ign, now;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    cr_assert_eq(sigaction(SIGINT, &ign, NULL), 0);

    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGINT, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_close(loop), 0);
    sigaction(SIGINT, NULL, &now);
    cr_assert_eq((void *)now.sa_handler, (void *)SIG_IGN);
    cr_assert_eq(raise(SIGINT), 0); /* ignored: we are still here */
}

/* SIGINT at its default before the loop: after close, raising it kills the process, as
 * the default action says (the loop's handler would have swallowed it). */
Test(signal, close_restores_the_default_sigint, .signal = SIGINT)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    cr_assert_eq(sigaction(SIGINT, &dfl, NULL), 0);

    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGINT, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_close(loop), 0);
    raise(SIGINT);
    cr_assert_fail("SIGINT did not end the process after the loop closed");
}

/* Two loops share the process's disposition: it comes back only when the last handler
 * of the signal goes, whether removed or closed. */
Test(signal, disposition_comes_back_with_the_last_handler)
{
    struct sigaction ign, now;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &ign, NULL), 0);

    acio_loop_t *a, *b;
    cr_assert_eq(acio_loop_new(&a), 0);
    cr_assert_eq(acio_loop_new(&b), 0);
    cr_assert_eq(acio_loop_add_signal_handler(a, SIGUSR1, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_add_signal_handler(b, SIGUSR1, noop_sig, NULL), 0);
    cr_assert_eq(acio_loop_close(a), 0);
    sigaction(SIGUSR1, NULL, &now);
    cr_assert_neq((void *)now.sa_handler, (void *)SIG_IGN, "b still handles SIGUSR1");
    cr_assert_eq(acio_loop_remove_signal_handler(b, SIGUSR1), 1);
    sigaction(SIGUSR1, NULL, &now);
    cr_assert_eq((void *)now.sa_handler, (void *)SIG_IGN);
    cr_assert_eq(acio_loop_close(b), 0);
}
