/* Randomized stress of the sync and queue layers, bounded and reproducible (fixed seed):
 * many tasks take a lock, a semaphore, a condition, an event and a bounded queue in
 * random order while a chaos loop cancels random tasks at random moments, so every
 * waiting point is hit both while pending and just after being woken. Invariants are
 * checked all along (mutual exclusion, the semaphore's limit) and at the end: every task
 * finished, the lock is free, the semaphore is back to its value, the queue holds
 * exactly what was put and not taken, and every primitive can be freed (no waiter left
 * behind). The ASan build of this test also proves nothing leaked. */
#include <criterion/criterion.h>

#include "diff_sync/trace.h"
#include "support/rc.h"

#define NWORKERS 64
#define NOPS     400
#define SEM_MAX  3
#define QMAX     4

static uint32_t rng_state;

static uint32_t rnd(uint32_t n)
{
    /* xorshift32: the same sequence on every run. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state % n;
}

static struct {
    acio_lock_t *lock;
    acio_semaphore_t *sem;
    acio_condition_t *cond;
    acio_event_t *ev;
    acio_queue_t *q;
    int lock_holders, sem_holders, cond_holders;
    long puts, gets, cancels_seen, ops_done;
    long cancels_sent;
} S;

static void hold(int *holders, int limit)
{
    ++*holders;
    cr_assert_leq(*holders, limit, "%d holders, limit %d", *holders, limit);
    for (uint32_t i = rnd(3); i > 0; i--)
        UNCHECKED(acio_sleep(0)); /* may be cancelled here too: still release below */
    --*holders;
}

static int in_lock(void *arg)
{
    (void)arg;
    hold(&S.lock_holders, 1);
    return 0;
}

static void count(int rc)
{
    if (rc == -ECANCELED)
        S.cancels_seen++;
    else
        cr_assert(rc >= 0 || rc == ACIO_EQUEUESHUTDOWN, "unexpected %s", acio_err_name(rc));
}

static void one_op(void)
{
    int rc;
    void *v;
    switch (rnd(7)) {
    case 0:
        count(acio_lock_with(S.lock, in_lock, NULL));
        break;
    case 1: {
        ACIO_GUARD(g);
        if ((rc = acio_guard_semaphore(&g, S.sem)) < 0) {
            count(rc);
            break;
        }
        hold(&S.sem_holders, SEM_MAX);
        break;
    }
    case 2:
        if ((rc = acio_condition_acquire(S.cond)) < 0) {
            count(rc);
            break;
        }
        hold(&S.cond_holders, 1);
        if (rnd(2)) {
            rc = acio_condition_wait(S.cond);
            cr_assert(acio_condition_locked(S.cond), "wait returns with the lock held");
            count(rc);
        } else {
            acio_condition_notify(S.cond, 1 + rnd(2));
        }
        acio_condition_release(S.cond);
        break;
    case 3:
        count(acio_event_wait(S.ev));
        break;
    case 4:
        if ((rc = acio_queue_put(S.q, (void *)1)) == 0)
            S.puts++;
        count(rc);
        break;
    case 5:
        if ((rc = acio_queue_get(S.q, &v)) == 0)
            S.gets++;
        count(rc);
        break;
    default:
        UNCHECKED(acio_sleep(0));
        break;
    }
    S.ops_done++;
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < NOPS; i++)
        one_op();
    return NULL;
}

static void *notify_all(void *arg)
{
    (void)arg;
    if (acio_condition_acquire(S.cond) == 0) {
        acio_condition_notify_all(S.cond);
        acio_condition_release(S.cond);
    }
    return NULL;
}

/* Keeps everyone moving: sets and clears the event, notifies the condition, feeds or
 * drains the queue, and cancels random workers. */
static void *stress_main(void *arg)
{
    (void)arg;
    acio_task_t *w[NWORKERS];
    acio_task_t *notifier = NULL;
    int live = NWORKERS;
    long rounds = 0;
    void *v;

    for (int i = 0; i < NWORKERS; i++)
        SPAWN(&w[i], worker, NULL, "worker");
    while (live > 0) {
        cr_assert_lt(++rounds, 200000, "the stress did not finish");
        OK(acio_sleep(0));
        switch (rnd(6)) {
        case 0:
            acio_event_set(S.ev);
            break;
        case 1:
            acio_event_clear(S.ev);
            break;
        case 2:
            /* Notify from a helper task: if a wake-up were lost, the helper would hang,
             * not this loop, which then fails on its round limit instead. */
            if (notifier == NULL || acio_future_done(notifier)) {
                acio_future_unref(notifier);
                SPAWN(&notifier, notify_all, NULL, "notifier");
            }
            break;
        case 3:
            if (acio_queue_full(S.q) && acio_queue_get_nowait(S.q, &v) == 0)
                S.gets++;
            else if (acio_queue_empty(S.q) && acio_queue_put_nowait(S.q, (void *)1) == 0)
                S.puts++;
            break;
        default: {
            acio_task_t *t = w[rnd(NWORKERS)];
            if (!acio_future_done(t)) {
                acio_task_cancel(t, NULL);
                S.cancels_sent++;
            }
            break;
        }
        }
        live = 0;
        for (int i = 0; i < NWORKERS; i++)
            live += !acio_future_done(w[i]);
    }
    for (int i = 0; i < NWORKERS; i++)
        acio_future_unref(w[i]);
    if (notifier != NULL) {
        OK(acio_await(notifier, NULL));
        acio_future_unref(notifier);
    }
    return NULL;
}

Test(sync_stress, random_cancellations_keep_invariants, .timeout = 120)
{
    rng_state = 12345;
    cr_assert_eq(acio_lock_new(&S.lock), 0);
    cr_assert_eq(acio_semaphore_new(&S.sem, SEM_MAX), 0);
    cr_assert_eq(acio_condition_new(&S.cond, NULL), 0);
    cr_assert_eq(acio_event_new(&S.ev), 0);
    cr_assert_eq(acio_queue_new(&S.q, QMAX), 0);

    OK(acio_run(stress_main, NULL, NULL));

    cr_assert_eq(S.ops_done, (long)NWORKERS * NOPS, "every operation returned");
    cr_assert_gt(S.cancels_seen, 100, "cancellations reached waiting points (%ld of %ld)",
                 S.cancels_seen, S.cancels_sent);
    cr_assert(!acio_lock_locked(S.lock));
    cr_assert_eq(acio_semaphore_value(S.sem), SEM_MAX);
    cr_assert(!acio_condition_locked(S.cond));
    cr_assert_eq(S.lock_holders + S.sem_holders + S.cond_holders, 0);
    cr_assert_eq((long)acio_queue_qsize(S.q), S.puts - S.gets, "qsize %zu, put %ld, got %ld",
                 acio_queue_qsize(S.q), S.puts, S.gets);
    cr_assert_eq((long)acio_queue_unfinished_tasks(S.q), S.puts);
    cr_assert_eq(acio_lock_free(S.lock), 0);
    cr_assert_eq(acio_semaphore_free(S.sem), 0);
    cr_assert_eq(acio_condition_free(S.cond), 0);
    cr_assert_eq(acio_event_free(S.ev), 0);
    cr_assert_eq(acio_queue_free(S.q), 0);
}

/* The same with a LIFO and a priority queue and a bounded semaphore, different seed. */
Test(sync_stress, other_kinds, .timeout = 120)
{
    rng_state = 987654321;
    memset(&S, 0, sizeof S);
    cr_assert_eq(acio_lock_new(&S.lock), 0);
    cr_assert_eq(acio_bounded_semaphore_new(&S.sem, SEM_MAX), 0);
    cr_assert_eq(acio_condition_new(&S.cond, S.lock), 0);
    cr_assert_eq(acio_event_new(&S.ev), 0);
    cr_assert_eq(acio_priority_queue_new(&S.q, QMAX, NULL, NULL), 0);

    OK(acio_run(stress_main, NULL, NULL));

    cr_assert_eq(S.ops_done, (long)NWORKERS * NOPS);
    cr_assert(!acio_lock_locked(S.lock));
    cr_assert_eq(acio_semaphore_value(S.sem), SEM_MAX);
    cr_assert_eq((long)acio_queue_qsize(S.q), S.puts - S.gets);
    cr_assert_eq(acio_condition_free(S.cond), 0);
    cr_assert_eq(acio_lock_free(S.lock), 0);
    cr_assert_eq(acio_semaphore_free(S.sem), 0);
    cr_assert_eq(acio_event_free(S.ev), 0);
    cr_assert_eq(acio_queue_free(S.q), 0);
}
