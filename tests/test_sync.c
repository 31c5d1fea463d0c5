/* Unit tests for the synchronization primitives (include/acio/sync.h): Lock, Event,
 * Condition, Semaphore, BoundedSemaphore, Barrier and the scope guards. Each test runs
 * a scenario under acio_run and checks the order of events through a trace, plus the
 * state the primitive ends in. Cancellation is tested at every waiting point, both for
 * a waiter still pending and for one cancelled after it was woken (the wake-up must go
 * to the next waiter). */
#include <criterion/criterion.h>

#include "diff_sync/trace.h"
#include "support/rc.h"

/* A lost wake-up shows as a hang: fail it after a generous bound instead. */
TestSuite(lock, .timeout = 60);
TestSuite(event, .timeout = 60);
TestSuite(condition, .timeout = 60);
TestSuite(semaphore, .timeout = 60);
TestSuite(barrier, .timeout = 60);

/* ---------------------------------------------------------------- Lock */

static acio_lock_t *L;

static void *lock_user(void *arg)
{
    const char *name = arg;
    int rc = acio_lock_acquire(L);
    tr("%s acquire %s", name, rcname(rc));
    if (rc < 0)
        return NULL;
    OK(acio_sleep(0));
    tr("%s release", name);
    acio_lock_release(L);
    return NULL;
}

static void *lock_fifo_main(void *arg)
{
    (void)arg;
    acio_task_t *t[4];
    const char *names[4] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        SPAWN(&t[i], lock_user, names[i], names[i]);
    for (int i = 0; i < 4; i++) {
        OK(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
    return NULL;
}

Test(lock, fifo_order)
{
    trace_reset();
    cr_assert_eq(acio_lock_new(&L), 0);
    cr_assert_eq(acio_run(lock_fifo_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "a acquire ok\n"
                                  "a release\n"
                                  "b acquire ok\n"
                                  "b release\n"
                                  "c acquire ok\n"
                                  "c release\n"
                                  "d acquire ok\n"
                                  "d release\n");
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(acio_lock_free(L), 0);
}

static void *lock_basic_main(void *arg)
{
    (void)arg;
    acio_task_t *self = acio_current_task();
    cr_assert_eq(acio_lock_release(L), -EPERM, "release of an unlocked lock");
    cr_assert_eq(acio_lock_acquire(L), 0);
    cr_assert(acio_lock_locked(L));
    /* The fast path does not yield: nothing else ran, no wait was registered. */
    cr_assert_null(acio_task_get_waiter(self));
    cr_assert_eq(acio_lock_release(L), 0);
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(acio_lock_release(L), -EPERM);
    return NULL;
}

Test(lock, basic_and_errors)
{
    cr_assert_eq(acio_lock_new(&L), 0);
    cr_assert_eq(acio_run(lock_basic_main, NULL, NULL), 0);
    cr_assert_eq(acio_lock_new(NULL), -EINVAL);
    cr_assert_eq(acio_lock_acquire(NULL), -EINVAL);
    cr_assert_eq(acio_lock_release(NULL), -EINVAL);
    cr_assert_eq(acio_lock_free(NULL), 0);
    /* Outside a task: the free lock is taken at once; a locked one cannot be waited
     * for. */
    cr_assert_eq(acio_lock_acquire(L), 0);
    cr_assert_eq(acio_lock_acquire(L), ACIO_ENOTASK);
    cr_assert_eq(acio_lock_release(L), 0);
    cr_assert_eq(acio_lock_free(L), 0);
}

/* A waiter cancelled while still pending: the next waiter gets the lock. */
static void *lock_cancel_pending_main(void *arg)
{
    (void)arg;
    acio_task_t *b, *c;
    cr_assert_eq(acio_lock_acquire(L), 0);
    SPAWN(&b, lock_user, "b", "b");
    SPAWN(&c, lock_user, "c", "c");
    OK(acio_sleep(0)); /* both wait */
    cr_assert_eq(acio_lock_free(L), -EBUSY, "free with waiters");
    acio_task_cancel(b, NULL);
    OK(acio_sleep(0)); /* b leaves */
    tr("main release");
    acio_lock_release(L);
    UNCHECKED(acio_await(b, NULL));
    OK(acio_await(c, NULL));
    /* b returned while its cancellation was still requested: acio ends it cancelled. */
    cr_assert(acio_future_cancelled(b));
    acio_future_unref(b);
    acio_future_unref(c);
    return NULL;
}

Test(lock, cancel_pending_waiter)
{
    trace_reset();
    cr_assert_eq(acio_lock_new(&L), 0);
    OK(acio_run(lock_cancel_pending_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "b acquire cancelled\n"
                                  "main release\n"
                                  "c acquire ok\n"
                                  "c release\n");
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(acio_lock_free(L), 0);
}

/* A waiter cancelled after release() woke it but before it ran: it must pass the
 * wake-up on, or c would wait forever. */
static void *lock_cancel_woken_main(void *arg)
{
    (void)arg;
    acio_task_t *b, *c;
    cr_assert_eq(acio_lock_acquire(L), 0);
    SPAWN(&b, lock_user, "b", "b");
    SPAWN(&c, lock_user, "c", "c");
    OK(acio_sleep(0));
    tr("main release");
    acio_lock_release(L); /* wakes b */
    acio_task_cancel(b, NULL);
    UNCHECKED(acio_await(b, NULL));
    OK(acio_await(c, NULL));
    acio_future_unref(b);
    acio_future_unref(c);
    return NULL;
}

Test(lock, cancel_woken_waiter_passes_wakeup)
{
    trace_reset();
    cr_assert_eq(acio_lock_new(&L), 0);
    OK(acio_run(lock_cancel_woken_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "main release\n"
                                  "b acquire cancelled\n"
                                  "c acquire ok\n"
                                  "c release\n");
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(acio_lock_free(L), 0);
}

/* No barging: after release() woke b, a newcomer must queue behind b. */
static void *lock_newcomer(void *arg)
{
    (void)arg;
    tr("n try (locked=%d)", acio_lock_locked(L));
    int rc = acio_lock_acquire(L);
    tr("n acquire %s", rcname(rc));
    acio_lock_release(L);
    return NULL;
}

static void *lock_no_barging_main(void *arg)
{
    (void)arg;
    acio_task_t *b, *n;
    cr_assert_eq(acio_lock_acquire(L), 0);
    SPAWN(&b, lock_user, "b", "b");
    OK(acio_sleep(0));
    acio_lock_release(L); /* b is woken but has not run */
    SPAWN(&n, lock_newcomer, NULL, "n");
    /* n is scheduled after b's wake-up, but even so it must not take the lock first:
     * run n eagerly by yielding once. */
    OK(acio_await(b, NULL));
    OK(acio_await(n, NULL));
    acio_future_unref(b);
    acio_future_unref(n);
    return NULL;
}

Test(lock, no_barging)
{
    trace_reset();
    cr_assert_eq(acio_lock_new(&L), 0);
    OK(acio_run(lock_no_barging_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "b acquire ok\n"
                                  "n try (locked=1)\n"
                                  "b release\n"
                                  "n acquire ok\n");
    cr_assert_eq(acio_lock_free(L), 0);
}

/* Every waiter cancelled: a new acquire takes the free lock at once (asyncio's "all
 * waiters cancelled" fast path), even before the cancelled waiters have run. */
static void *lock_all_cancelled_main(void *arg)
{
    (void)arg;
    acio_task_t *b;
    cr_assert_eq(acio_lock_acquire(L), 0);
    SPAWN(&b, lock_user, "b", "b");
    OK(acio_sleep(0));
    acio_task_cancel(b, NULL); /* its waiter future is cancelled now; b runs later */
    acio_lock_release(L);
    cr_assert_eq(acio_lock_acquire(L), 0);
    cr_assert_null(acio_task_get_waiter(acio_current_task()), "took the fast path");
    tr("main reacquired");
    UNCHECKED(acio_await(b, NULL));
    acio_future_unref(b);
    cr_assert(acio_lock_locked(L), "b did not take or free it");
    acio_lock_release(L);
    return NULL;
}

Test(lock, fast_path_when_all_waiters_cancelled)
{
    trace_reset();
    cr_assert_eq(acio_lock_new(&L), 0);
    OK(acio_run(lock_all_cancelled_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "main reacquired\n"
                                  "b acquire cancelled\n");
    cr_assert_eq(acio_lock_free(L), 0);
}

static int with_body(void *arg)
{
    int *calls = arg;
    ++*calls;
    cr_assert(acio_lock_locked(L));
    return 42;
}

static int with_body_cancel(void *arg)
{
    (void)arg;
    tr("body sleeps");
    int rc = acio_sleep(10);
    tr("body sleep %s", rcname(rc));
    return rc;
}

static void *lock_with_main(void *arg)
{
    (void)arg;
    int calls = 0;
    cr_assert_eq(acio_lock_with(L, with_body, &calls), 42);
    cr_assert_eq(calls, 1);
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(acio_lock_with(L, NULL, NULL), -EINVAL);
    cr_assert(!acio_lock_locked(L));
    return NULL;
}

static void *lock_with_cancelled(void *arg)
{
    (void)arg;
    int rc = acio_lock_with(L, with_body_cancel, NULL);
    tr("with %s locked=%d", rcname(rc), acio_lock_locked(L));
    return NULL;
}

static void *lock_with_cancel_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    SPAWN(&t, lock_with_cancelled, NULL, "w");
    OK(acio_sleep(0));
    acio_task_cancel(t, NULL);
    UNCHECKED(acio_await(t, NULL));
    acio_future_unref(t);
    return NULL;
}

Test(lock, with_releases_on_every_path)
{
    trace_reset();
    cr_assert_eq(acio_lock_new(&L), 0);
    cr_assert_eq(acio_run(lock_with_main, NULL, NULL), 0);
    OK(acio_run(lock_with_cancel_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "body sleeps\n"
                                  "body sleep cancelled\n"
                                  "with cancelled locked=0\n");
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(acio_lock_free(L), 0);
}

static int guarded(int early)
{
    ACIO_GUARD(g);
    int rc = acio_guard_lock(&g, L);
    if (rc < 0)
        return rc;
    cr_assert(acio_lock_locked(L));
    cr_assert_eq(acio_guard_lock(&g, L), -EBUSY, "a guard holds one thing");
    if (early)
        return 1; /* the cleanup releases */
    acio_guard_exit(&g);
    cr_assert(!acio_lock_locked(L));
    acio_guard_exit(&g); /* twice is harmless */
    return 0;
}

static void *guard_main(void *arg)
{
    (void)arg;
    cr_assert_eq(guarded(1), 1);
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(guarded(0), 0);
    cr_assert(!acio_lock_locked(L));
    return NULL;
}

Test(lock, guard_releases_at_scope_exit)
{
    cr_assert_eq(acio_lock_new(&L), 0);
    cr_assert_eq(acio_run(guard_main, NULL, NULL), 0);
    cr_assert_eq(acio_lock_free(L), 0);
}

/* The same lock serves two successive loops. */
Test(lock, reused_across_runs)
{
    trace_reset();
    cr_assert_eq(acio_lock_new(&L), 0);
    OK(acio_run(lock_fifo_main, NULL, NULL));
    trace_reset();
    OK(acio_run(lock_fifo_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "a acquire ok\na release\nb acquire ok\nb release\n"
                                  "c acquire ok\nc release\nd acquire ok\nd release\n");
    cr_assert_eq(acio_lock_free(L), 0);
}

/* ---------------------------------------------------------------- Event */

static acio_event_t *E;

static void *event_waiter(void *arg)
{
    const char *name = arg;
    int rc = acio_event_wait(E);
    tr("%s woke %s", name, rcname(rc));
    return NULL;
}

static void *event_main(void *arg)
{
    (void)arg;
    acio_task_t *t[3];
    const char *names[3] = {"a", "b", "c"};
    cr_assert(!acio_event_is_set(E));
    for (int i = 0; i < 3; i++)
        SPAWN(&t[i], event_waiter, names[i], names[i]);
    OK(acio_sleep(0));
    cr_assert_eq(acio_event_free(E), -EBUSY);
    acio_task_cancel(t[1], NULL);
    tr("set");
    acio_event_set(E);
    acio_event_clear(E); /* those already woken still return 0 */
    for (int i = 0; i < 3; i++) {
        UNCHECKED(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
    cr_assert(!acio_event_is_set(E));
    acio_event_set(E);
    cr_assert_eq(acio_event_wait(E), 0, "a set event returns at once");
    acio_event_set(E); /* idempotent */
    cr_assert(acio_event_is_set(E));
    return NULL;
}

Test(event, set_wakes_all_in_order)
{
    trace_reset();
    cr_assert_eq(acio_event_new(&E), 0);
    cr_assert_eq(acio_run(event_main, NULL, NULL), 0);
    /* b's wake-up was scheduled when it was cancelled, before set() scheduled the
     * others'. */
    cr_assert_str_eq(g_trace.buf, "set\n"
                                  "b woke cancelled\n"
                                  "a woke ok\n"
                                  "c woke ok\n");
    cr_assert_eq(acio_event_free(E), 0);
    cr_assert_eq(acio_event_wait(NULL), -EINVAL);
    cr_assert_eq(acio_event_new(NULL), -EINVAL);
}

Test(event, wait_outside_task)
{
    cr_assert_eq(acio_event_new(&E), 0);
    cr_assert_eq(acio_event_wait(E), ACIO_ENOTASK);
    acio_event_set(E);
    cr_assert_eq(acio_event_wait(E), 0);
    cr_assert_eq(acio_event_free(E), 0);
}

/* ---------------------------------------------------------------- Condition */

static acio_condition_t *C;
static int shared_value;

static void *cond_waiter(void *arg)
{
    const char *name = arg;
    int rc = acio_condition_acquire(C);
    cr_assert_eq(rc, 0);
    rc = acio_condition_wait(C);
    tr("%s woke %s locked=%d", name, rcname(rc), acio_condition_locked(C));
    acio_condition_release(C);
    return NULL;
}

static void *cond_notify_main(void *arg)
{
    (void)arg;
    acio_task_t *t[4];
    const char *names[4] = {"a", "b", "c", "d"};
    cr_assert_eq(acio_condition_notify(C, 1), -EPERM, "notify without the lock");
    cr_assert_eq(acio_condition_wait(C), -EPERM, "wait without the lock");
    for (int i = 0; i < 4; i++)
        SPAWN(&t[i], cond_waiter, names[i], names[i]);
    OK(acio_sleep(0));
    OK(acio_condition_acquire(C));
    tr("notify 1");
    acio_condition_notify(C, 1);
    acio_condition_release(C);
    yield_n(3);
    OK(acio_condition_acquire(C));
    tr("notify 2");
    acio_condition_notify(C, 2);
    acio_condition_release(C);
    yield_n(3);
    OK(acio_condition_acquire(C));
    tr("notify_all");
    acio_condition_notify_all(C);
    acio_condition_release(C);
    for (int i = 0; i < 4; i++) {
        OK(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
    return NULL;
}

Test(condition, notify_n_and_all)
{
    trace_reset();
    cr_assert_eq(acio_condition_new(&C, NULL), 0);
    cr_assert_eq(acio_run(cond_notify_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "notify 1\n"
                                  "a woke ok locked=1\n"
                                  "notify 2\n"
                                  "b woke ok locked=1\n"
                                  "c woke ok locked=1\n"
                                  "notify_all\n"
                                  "d woke ok locked=1\n");
    cr_assert(!acio_condition_locked(C));
    cr_assert_eq(acio_condition_free(C), 0);
}

static bool value_ready(void *arg)
{
    tr("predicate (%d)", shared_value);
    return shared_value >= *(int *)arg;
}

static void *cond_wait_for_task(void *arg)
{
    (void)arg;
    static int want = 2;
    OK(acio_condition_acquire(C));
    int rc = acio_condition_wait_for(C, value_ready, &want);
    tr("wait_for %s value=%d", rcname(rc), shared_value);
    acio_condition_release(C);
    return NULL;
}

static void *cond_wait_for_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    shared_value = 0;
    SPAWN(&t, cond_wait_for_task, NULL, "w");
    OK(acio_sleep(0));
    for (int i = 0; i < 2; i++) {
        OK(acio_condition_acquire(C));
        shared_value++;
        acio_condition_notify_all(C);
        acio_condition_release(C);
        yield_n(2);
    }
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    return NULL;
}

Test(condition, wait_for_predicate)
{
    trace_reset();
    acio_lock_t *lock;
    cr_assert_eq(acio_lock_new(&lock), 0);
    cr_assert_eq(acio_condition_new(&C, lock), 0);
    cr_assert_eq(acio_condition_lock(C), lock, "a borrowed lock is used as is");
    cr_assert_eq(acio_run(cond_wait_for_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "predicate (0)\n"
                                  "predicate (1)\n"
                                  "predicate (2)\n"
                                  "wait_for ok value=2\n");
    cr_assert_eq(acio_condition_free(C), 0);
    cr_assert(!acio_lock_locked(lock));
    cr_assert_eq(acio_lock_free(lock), 0);
}

/* A waiter notified and then cancelled before it ran: 3.13 passes the notification to
 * the next waiter, so b is not stranded. The cancelled waiter still returns holding the
 * lock. */
static void *cond_cancel_notified_main(void *arg)
{
    (void)arg;
    acio_task_t *a, *b;
    SPAWN(&a, cond_waiter, "a", "a");
    SPAWN(&b, cond_waiter, "b", "b");
    OK(acio_sleep(0));
    OK(acio_condition_acquire(C));
    tr("notify 1");
    acio_condition_notify(C, 1);
    acio_task_cancel(a, NULL);
    acio_condition_release(C);
    UNCHECKED(acio_await(a, NULL));
    OK(acio_await(b, NULL));
    acio_future_unref(a);
    acio_future_unref(b);
    return NULL;
}

Test(condition, cancelled_after_notify_passes_it_on)
{
    trace_reset();
    cr_assert_eq(acio_condition_new(&C, NULL), 0);
    OK(acio_run(cond_cancel_notified_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "notify 1\n"
                                  "a woke cancelled locked=1\n"
                                  "b woke ok locked=1\n");
    cr_assert(!acio_condition_locked(C));
    cr_assert_eq(acio_condition_free(C), 0);
}

/* Cancelled while waiting to re-acquire the lock: wait still returns with the lock. */
static void *cond_cancel_reacquire_main(void *arg)
{
    (void)arg;
    acio_task_t *a;
    SPAWN(&a, cond_waiter, "a", "a");
    OK(acio_sleep(0));
    OK(acio_condition_acquire(C));
    acio_condition_notify(C, 1);
    yield_n(2); /* a wakes and queues for the lock we hold */
    acio_task_cancel(a, NULL);
    yield_n(2);
    tr("main release");
    acio_condition_release(C);
    UNCHECKED(acio_await(a, NULL));
    acio_future_unref(a);
    return NULL;
}

Test(condition, cancelled_while_reacquiring)
{
    trace_reset();
    cr_assert_eq(acio_condition_new(&C, NULL), 0);
    OK(acio_run(cond_cancel_reacquire_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "main release\n"
                                  "a woke cancelled locked=1\n");
    cr_assert(!acio_condition_locked(C));
    cr_assert_eq(acio_condition_free(C), 0);
}

static int cond_body(void *arg)
{
    (void)arg;
    return acio_condition_locked(C) ? 7 : -1;
}

static void *cond_with_main(void *arg)
{
    (void)arg;
    ACIO_GUARD(g);
    cr_assert_eq(acio_condition_with(C, cond_body, NULL), 7);
    cr_assert(!acio_condition_locked(C));
    cr_assert_eq(acio_guard_condition(&g, C), 0);
    cr_assert(acio_condition_locked(C));
    return NULL; /* the guard releases */
}

Test(condition, with_and_guard)
{
    cr_assert_eq(acio_condition_new(&C, NULL), 0);
    cr_assert_eq(acio_run(cond_with_main, NULL, NULL), 0);
    cr_assert(!acio_condition_locked(C));
    cr_assert_eq(acio_condition_free(C), 0);
}

/* ---------------------------------------------------------------- Semaphore */

static acio_semaphore_t *S;

static void *sem_user(void *arg)
{
    const char *name = arg;
    int rc = acio_semaphore_acquire(S);
    tr("%s acquire %s", name, rcname(rc));
    if (rc < 0)
        return NULL;
    OK(acio_sleep(0));
    tr("%s release", name);
    acio_semaphore_release(S);
    return NULL;
}

static void *sem_fifo_main(void *arg)
{
    (void)arg;
    acio_task_t *t[5];
    const char *names[5] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        SPAWN(&t[i], sem_user, names[i], names[i]);
    for (int i = 0; i < 5; i++) {
        OK(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
    return NULL;
}

Test(semaphore, two_at_a_time_fifo)
{
    trace_reset();
    cr_assert_eq(acio_semaphore_new(&S, 2), 0);
    cr_assert_eq(acio_run(sem_fifo_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "a acquire ok\n"
                                  "b acquire ok\n"
                                  "a release\n"
                                  "b release\n"
                                  "c acquire ok\n"
                                  "d acquire ok\n"
                                  "c release\n"
                                  "d release\n"
                                  "e acquire ok\n"
                                  "e release\n");
    cr_assert_eq(acio_semaphore_value(S), 2);
    cr_assert(!acio_semaphore_locked(S));
    cr_assert_eq(acio_semaphore_free(S), 0);
}

static void *sem_cancel_main(void *arg)
{
    (void)arg;
    acio_task_t *b, *c, *d;
    cr_assert_eq(acio_semaphore_acquire(S), 0);
    cr_assert(acio_semaphore_locked(S));
    SPAWN(&b, sem_user, "b", "b");
    SPAWN(&c, sem_user, "c", "c");
    SPAWN(&d, sem_user, "d", "d");
    OK(acio_sleep(0));
    cr_assert_eq(acio_semaphore_free(S), -EBUSY);
    acio_task_cancel(c, NULL); /* pending waiter */
    tr("main release");
    acio_semaphore_release(S); /* gives the unit to b */
    acio_task_cancel(b, NULL); /* woken waiter: must give it back and wake d */
    for (int i = 0; i < 3; i++) {
        acio_task_t *t = i == 0 ? b : i == 1 ? c : d;
        UNCHECKED(acio_await(t, NULL));
        acio_future_unref(t);
    }
    return NULL;
}

Test(semaphore, cancelled_waiters_pass_units_on)
{
    trace_reset();
    cr_assert_eq(acio_semaphore_new(&S, 1), 0);
    OK(acio_run(sem_cancel_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "main release\n"
                                  "c acquire cancelled\n"
                                  "b acquire cancelled\n"
                                  "d acquire ok\n"
                                  "d release\n");
    cr_assert_eq(acio_semaphore_value(S), 1);
    cr_assert_eq(acio_semaphore_free(S), 0);
}

Test(semaphore, bounded_and_errors)
{
    cr_assert_eq(acio_semaphore_new(&S, -1), -EINVAL);
    cr_assert_eq(acio_bounded_semaphore_new(&S, 2), 0);
    cr_assert_eq(acio_semaphore_release(S), -EOVERFLOW);
    cr_assert_eq(acio_semaphore_value(S), 2);
    cr_assert_eq(acio_semaphore_acquire(S), 0);
    cr_assert_eq(acio_semaphore_acquire(S), 0);
    cr_assert(acio_semaphore_locked(S));
    cr_assert_eq(acio_semaphore_acquire(S), ACIO_ENOTASK);
    cr_assert_eq(acio_semaphore_release(S), 0);
    cr_assert_eq(acio_semaphore_release(S), 0);
    cr_assert_eq(acio_semaphore_release(S), -EOVERFLOW);
    cr_assert_eq(acio_semaphore_free(S), 0);
    /* An unbounded one may go above its initial value. */
    cr_assert_eq(acio_semaphore_new(&S, 0), 0);
    cr_assert(acio_semaphore_locked(S));
    cr_assert_eq(acio_semaphore_release(S), 0);
    cr_assert_eq(acio_semaphore_release(S), 0);
    cr_assert_eq(acio_semaphore_value(S), 2);
    cr_assert_eq(acio_semaphore_free(S), 0);
}

static int sem_body(void *arg)
{
    (void)arg;
    return acio_semaphore_value(S);
}

static void *sem_with_main(void *arg)
{
    (void)arg;
    cr_assert_eq(acio_semaphore_with(S, sem_body, NULL), 2);
    cr_assert_eq(acio_semaphore_value(S), 3);
    {
        ACIO_GUARD(g);
        cr_assert_eq(acio_guard_semaphore(&g, S), 0);
        cr_assert_eq(acio_semaphore_value(S), 2);
    }
    cr_assert_eq(acio_semaphore_value(S), 3);
    return NULL;
}

Test(semaphore, with_and_guard)
{
    cr_assert_eq(acio_semaphore_new(&S, 3), 0);
    cr_assert_eq(acio_run(sem_with_main, NULL, NULL), 0);
    cr_assert_eq(acio_semaphore_free(S), 0);
}

/* ---------------------------------------------------------------- Barrier */

static acio_barrier_t *B;

static void *barrier_party(void *arg)
{
    const char *name = arg;
    for (int pass = 0; pass < 2; pass++) {
        int rc = acio_barrier_wait(B);
        if (rc < 0) {
            tr("%s pass %d %s", name, pass, rcname(rc));
            return NULL;
        }
        tr("%s pass %d index %d", name, pass, rc);
    }
    return NULL;
}

static void *barrier_main(void *arg)
{
    (void)arg;
    acio_task_t *t[3];
    const char *names[3] = {"a", "b", "c"};
    cr_assert_eq(acio_barrier_parties(B), 3);
    for (int i = 0; i < 3; i++)
        SPAWN(&t[i], barrier_party, names[i], names[i]);
    OK(acio_sleep(0));
    /* a and b wait, c arrived last and released them: the barrier drains, and
     * n_waiting counts only tasks waiting for it to fill. */
    cr_assert_eq(acio_barrier_n_waiting(B), 0);
    for (int i = 0; i < 3; i++) {
        OK(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
    cr_assert_eq(acio_barrier_n_waiting(B), 0);
    cr_assert(!acio_barrier_broken(B));
    return NULL;
}

Test(barrier, two_passages)
{
    trace_reset();
    cr_assert_eq(acio_barrier_new(&B, 0), -EINVAL);
    cr_assert_eq(acio_barrier_new(&B, 3), 0);
    cr_assert_eq(acio_run(barrier_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "c pass 0 index 2\n"
                                  "a pass 0 index 0\n"
                                  "b pass 0 index 1\n"
                                  "a pass 1 index 2\n"
                                  "b pass 1 index 0\n"
                                  "c pass 1 index 1\n");
    cr_assert_eq(acio_barrier_free(B), 0);
}

static void *barrier_reset_main(void *arg)
{
    (void)arg;
    acio_task_t *a, *b;
    SPAWN(&a, barrier_party, "a", "a");
    SPAWN(&b, barrier_party, "b", "b");
    OK(acio_sleep(0));
    cr_assert_eq(acio_barrier_n_waiting(B), 2);
    cr_assert_eq(acio_barrier_free(B), -EBUSY);
    tr("reset");
    cr_assert_eq(acio_barrier_reset(B), 0);
    OK(acio_await(a, NULL));
    OK(acio_await(b, NULL));
    acio_future_unref(a);
    acio_future_unref(b);
    cr_assert(!acio_barrier_broken(B));
    tr("abort");
    cr_assert_eq(acio_barrier_abort(B), 0);
    cr_assert(acio_barrier_broken(B));
    cr_assert_eq(acio_barrier_wait(B), ACIO_EBROKENBARRIER);
    cr_assert_eq(acio_barrier_n_waiting(B), 0);
    cr_assert_eq(acio_barrier_reset(B), 0);
    cr_assert(!acio_barrier_broken(B));
    return NULL;
}

Test(barrier, reset_and_abort)
{
    trace_reset();
    cr_assert_eq(acio_barrier_new(&B, 3), 0);
    cr_assert_eq(acio_run(barrier_reset_main, NULL, NULL), 0);
    cr_assert_str_eq(g_trace.buf, "reset\n"
                                  "a pass 0 ACIO_EBROKENBARRIER\n"
                                  "b pass 0 ACIO_EBROKENBARRIER\n"
                                  "abort\n");
    cr_assert_eq(acio_barrier_free(B), 0);
}

/* A party cancelled while waiting leaves the count consistent: the barrier then fills
 * with the others. */
static void *barrier_cancel_main(void *arg)
{
    (void)arg;
    acio_task_t *a, *b, *c, *d;
    SPAWN(&a, barrier_party, "a", "a");
    OK(acio_sleep(0));
    acio_task_cancel(a, NULL);
    UNCHECKED(acio_await(a, NULL));
    cr_assert_eq(acio_barrier_n_waiting(B), 0);
    SPAWN(&b, barrier_party, "b", "b");
    SPAWN(&c, barrier_party, "c", "c");
    OK(acio_sleep(0));
    acio_task_cancel(c, NULL);
    UNCHECKED(acio_await(c, NULL));
    SPAWN(&d, barrier_party, "d", "d");
    OK(acio_sleep(0));
    cr_assert_eq(acio_barrier_n_waiting(B), 2);
    cr_assert_eq(acio_barrier_abort(B), 0);
    OK(acio_await(b, NULL));
    OK(acio_await(d, NULL));
    acio_future_unref(a);
    acio_future_unref(b);
    acio_future_unref(c);
    acio_future_unref(d);
    return NULL;
}

Test(barrier, cancelled_party)
{
    trace_reset();
    cr_assert_eq(acio_barrier_new(&B, 3), 0);
    OK(acio_run(barrier_cancel_main, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, "a pass 0 cancelled\n"
                                  "c pass 0 cancelled\n"
                                  "b pass 0 ACIO_EBROKENBARRIER\n"
                                  "d pass 0 ACIO_EBROKENBARRIER\n");
    cr_assert_eq(acio_barrier_free(B), 0);
}

/* ---------------------------------------------------------------- labels */

/* A blocked task's waiter future names the primitive, for task dumps. */
static void *wait_lock(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)acio_lock_acquire(L);
}

static void *wait_event(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)acio_event_wait(E);
}

static void *wait_cond(void *arg)
{
    (void)arg;
    OK(acio_condition_acquire(C));
    int rc = acio_condition_wait(C);
    acio_condition_release(C);
    return (void *)(intptr_t)rc;
}

static void *wait_sem(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)acio_semaphore_acquire(S);
}

static void *labels_main(void *arg)
{
    (void)arg;
    acio_task_t *t[4];
    const char *want[4] = {"lock", "event", "condition", "semaphore"};
    OK(acio_lock_acquire(L));
    SPAWN(&t[0], wait_lock, NULL, "l");
    SPAWN(&t[1], wait_event, NULL, "e");
    SPAWN(&t[2], wait_cond, NULL, "c");
    SPAWN(&t[3], wait_sem, NULL, "s");
    OK(acio_sleep(0));
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(acio_future_get_label(acio_task_get_waiter(t[i])), want[i]);
        acio_task_cancel(t[i], NULL);
        UNCHECKED(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
    acio_lock_release(L);
    return NULL;
}

Test(lock, waiter_labels)
{
    cr_assert_eq(acio_lock_new(&L), 0);
    cr_assert_eq(acio_event_new(&E), 0);
    cr_assert_eq(acio_condition_new(&C, NULL), 0);
    cr_assert_eq(acio_semaphore_new(&S, 0), 0);
    cr_assert_eq(acio_run(labels_main, NULL, NULL), 0);
    cr_assert_eq(acio_lock_free(L), 0);
    cr_assert_eq(acio_event_free(E), 0);
    cr_assert_eq(acio_condition_free(C), 0);
    cr_assert_eq(acio_semaphore_free(S), 0);
}
