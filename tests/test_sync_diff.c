/* Differential tests against CPython for the sync, queue and aiter layers. Each Test
 * runs one scenario twice: in Python (tests/diff_sync/scenarios.py, asyncio with 3.13's
 * semantics) and here in C on acio, in-process, and compares the two traces exactly:
 * who acquires first, which waiter a release or put wakes, what a cancelled waiter
 * passes on, in which order tasks interleave. The C functions mirror the Python ones
 * line for line; keep them in step.
 *
 * The interpreter is $ACIO_PYTHON, or python3 from PATH. */
#include <criterion/criterion.h>
#include <libgen.h>
#include <stdlib.h>

#include "diff_sync/trace.h"
#include "support/rc.h"

/* A lost wake-up shows as a hang: fail it after a generous bound instead. */
TestSuite(diff_sync, .timeout = 60);

#define I(x) ((void *)(intptr_t)(x))
#define V(p) ((int)(intptr_t)(p))

/* Run `python3 tests/<script> <args>` and return its stdout (malloc'd). */
static char *python_output(const char *script, const char *args)
{
    char file[] = __FILE__;
    const char *py = getenv("ACIO_PYTHON");
    char cmd[4096];
    char *out = NULL;
    size_t len = 0, cap = 0;
    FILE *p;
    int status;

    snprintf(cmd, sizeof cmd, "%s '%s/%s' %s", py ? py : "python3", dirname(file), script, args);
    p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 65536;
            out = realloc(out, cap);
            cr_assert_not_null(out);
        }
        size_t n = fread(out + len, 1, cap - len - 1, p);
        if (n == 0)
            break;
        len += n;
    }
    out[len] = 0;
    status = pclose(p);
    cr_assert_eq(status, 0, "%s failed (status %d):\n%s", cmd, status, out);
    return out;
}

static char *python_trace(const char *name)
{
    return python_output("diff_sync/scenarios.py", name);
}

static void run_diff(const char *name, acio_coro_fn main_fn)
{
    char *want = python_trace(name);
    trace_reset();
    OK(acio_run(main_fn, NULL, NULL));
    cr_assert_str_eq(g_trace.buf, want, "scenario %s: acio (left) differs from asyncio (right)",
                     name);
    free(want);
}

#define DIFF(name)                                                                                 \
    static void *name##_main(void *);                                                              \
    Test(diff_sync, name)                                                                          \
    {                                                                                              \
        run_diff(#name, name##_main);                                                              \
    }                                                                                              \
    static void *name##_main(void *unused_arg)

static void gather_in_order(acio_task_t **t, int n)
{
    for (int i = 0; i < n; i++) {
        UNCHECKED(acio_await(t[i], NULL));
        acio_future_unref(t[i]);
    }
}

static const char *letter(int i)
{
    static const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    return names[i];
}

/* ---------------------------------------------------------------- Lock */

typedef struct {
    acio_lock_t *lock;
    const char *name;
    int rounds, hold;
} lock_user_t;

static void *lock_user(void *arg)
{
    lock_user_t *u = arg;
    for (int r = 0; r < u->rounds; r++) {
        if (acio_lock_acquire(u->lock) < 0) {
            tr("%s acquire cancelled", u->name);
            return NULL;
        }
        tr("%s acquired", u->name);
        yield_n(u->hold);
        tr("%s releases", u->name);
        acio_lock_release(u->lock);
        OK(acio_sleep(0));
    }
    return NULL;
}

static void lock_users(acio_task_t **t, lock_user_t *u, acio_lock_t *lock, int first, int n,
                       int rounds, int hold)
{
    for (int i = 0; i < n; i++) {
        u[i] = (lock_user_t){lock, letter(first + i), rounds, hold};
        SPAWN(&t[i], lock_user, &u[i], u[i].name);
    }
}

DIFF(lock_fifo)
{
    (void)unused_arg;
    acio_lock_t *lock;
    acio_task_t *t[4];
    lock_user_t u[4];
    OK(acio_lock_new(&lock));
    lock_users(t, u, lock, 0, 4, 1, 2);
    gather_in_order(t, 4);
    tr("locked %d", acio_lock_locked(lock));
    acio_lock_free(lock);
    return NULL;
}

DIFF(lock_interleave)
{
    (void)unused_arg;
    acio_lock_t *lock;
    acio_task_t *t[3];
    lock_user_t u[3];
    OK(acio_lock_new(&lock));
    lock_users(t, u, lock, 0, 3, 3, 1);
    gather_in_order(t, 3);
    tr("locked %d", acio_lock_locked(lock));
    acio_lock_free(lock);
    return NULL;
}

DIFF(lock_cancel_pending)
{
    (void)unused_arg;
    acio_lock_t *lock;
    acio_task_t *t[3];
    lock_user_t u[3];
    OK(acio_lock_new(&lock));
    OK(acio_lock_acquire(lock));
    lock_users(t, u, lock, 1, 3, 1, 1);
    OK(acio_sleep(0));
    acio_task_cancel(t[1], NULL);
    OK(acio_sleep(0));
    tr("main releases");
    acio_lock_release(lock);
    gather_in_order(t, 3);
    tr("locked %d", acio_lock_locked(lock));
    acio_lock_free(lock);
    return NULL;
}

DIFF(lock_cancel_woken)
{
    (void)unused_arg;
    acio_lock_t *lock;
    acio_task_t *t[3];
    lock_user_t u[3];
    OK(acio_lock_new(&lock));
    OK(acio_lock_acquire(lock));
    lock_users(t, u, lock, 1, 3, 1, 1);
    OK(acio_sleep(0));
    tr("main releases");
    acio_lock_release(lock);
    acio_task_cancel(t[0], NULL);
    acio_task_cancel(t[1], NULL);
    gather_in_order(t, 3);
    tr("locked %d", acio_lock_locked(lock));
    acio_lock_free(lock);
    return NULL;
}

static void *newcomer(void *arg)
{
    acio_lock_t *lock = arg;
    tr("n tries, locked %d", acio_lock_locked(lock));
    OK(acio_lock_acquire(lock));
    tr("n acquired");
    acio_lock_release(lock);
    return NULL;
}

DIFF(lock_no_barging)
{
    (void)unused_arg;
    acio_lock_t *lock;
    acio_task_t *t[2];
    lock_user_t u[1];
    OK(acio_lock_new(&lock));
    OK(acio_lock_acquire(lock));
    lock_users(t, u, lock, 1, 1, 1, 1);
    OK(acio_sleep(0));
    acio_lock_release(lock);
    SPAWN(&t[1], newcomer, lock, "n");
    gather_in_order(t, 2);
    tr("locked %d", acio_lock_locked(lock));
    acio_lock_free(lock);
    return NULL;
}

DIFF(lock_release_unlocked)
{
    (void)unused_arg;
    acio_lock_t *lock;
    acio_task_t *t[1];
    lock_user_t u[1];
    int rc;
    OK(acio_lock_new(&lock));
    if ((rc = acio_lock_release(lock)) < 0)
        tr("release: %s", rcname(rc));
    OK(acio_lock_acquire(lock));
    lock_users(t, u, lock, 1, 1, 1, 1);
    OK(acio_sleep(0));
    acio_task_cancel(t[0], NULL);
    acio_lock_release(lock);
    OK(acio_lock_acquire(lock));
    tr("main took the fast path");
    gather_in_order(t, 1);
    acio_lock_release(lock);
    tr("locked %d", acio_lock_locked(lock));
    acio_lock_free(lock);
    return NULL;
}

/* ---------------------------------------------------------------- Event */

typedef struct {
    acio_event_t *ev;
    const char *name;
} ev_arg_t;

static void *event_waiter(void *arg)
{
    ev_arg_t *a = arg;
    if (acio_event_wait(a->ev) == 0)
        tr("%s woke", a->name);
    else
        tr("%s cancelled", a->name);
    return NULL;
}

static void *ticker(void *arg)
{
    for (int i = 0; i < V(arg); i++) {
        tr("tick %d", i);
        OK(acio_sleep(0));
    }
    return NULL;
}

DIFF(event_set_order)
{
    (void)unused_arg;
    acio_event_t *ev;
    acio_task_t *t[4];
    ev_arg_t a[3];
    OK(acio_event_new(&ev));
    for (int i = 0; i < 3; i++) {
        a[i] = (ev_arg_t){ev, letter(i)};
        SPAWN(&t[i], event_waiter, &a[i], a[i].name);
    }
    SPAWN(&t[3], ticker, 3, "t");
    OK(acio_sleep(0));
    tr("set");
    acio_event_set(ev);
    gather_in_order(t, 4);
    acio_event_free(ev);
    return NULL;
}

DIFF(event_cancel_set_clear)
{
    (void)unused_arg;
    acio_event_t *ev;
    acio_task_t *t[4];
    ev_arg_t a[4];
    OK(acio_event_new(&ev));
    for (int i = 0; i < 4; i++) {
        a[i] = (ev_arg_t){ev, letter(i)};
        SPAWN(&t[i], event_waiter, &a[i], a[i].name);
    }
    OK(acio_sleep(0));
    acio_task_cancel(t[2], NULL);
    tr("set and clear");
    acio_event_set(ev);
    acio_event_clear(ev);
    acio_task_cancel(t[3], NULL);
    gather_in_order(t, 4);
    tr("is_set %d", acio_event_is_set(ev));
    acio_event_free(ev);
    return NULL;
}

static void *event_looper(void *arg)
{
    ev_arg_t *a = arg;
    for (int i = 0; i < 3; i++) {
        OK(acio_event_wait(a->ev));
        tr("%s pass %d", a->name, i);
        OK(acio_sleep(0));
    }
    return NULL;
}

DIFF(event_toggle)
{
    (void)unused_arg;
    acio_event_t *ev;
    acio_task_t *t[2];
    ev_arg_t a[2];
    OK(acio_event_new(&ev));
    for (int i = 0; i < 2; i++) {
        a[i] = (ev_arg_t){ev, letter(i)};
        SPAWN(&t[i], event_looper, &a[i], a[i].name);
    }
    for (int i = 0; i < 4; i++) {
        OK(acio_sleep(0));
        tr("toggle %d", i);
        if (acio_event_is_set(ev))
            acio_event_clear(ev);
        else
            acio_event_set(ev);
    }
    acio_event_set(ev);
    gather_in_order(t, 2);
    acio_event_free(ev);
    return NULL;
}

/* ---------------------------------------------------------------- Condition */

typedef struct {
    acio_condition_t *cond;
    const char *name;
} cond_arg_t;

static void *cond_waiter(void *arg)
{
    cond_arg_t *a = arg;
    OK(acio_condition_acquire(a->cond));
    if (acio_condition_wait(a->cond) == 0)
        tr("%s woke, locked %d", a->name, acio_condition_locked(a->cond));
    else
        tr("%s cancelled, locked %d", a->name, acio_condition_locked(a->cond));
    acio_condition_release(a->cond);
    return NULL;
}

static void cond_waiters(acio_task_t **t, cond_arg_t *a, acio_condition_t *cond, int n)
{
    for (int i = 0; i < n; i++) {
        a[i] = (cond_arg_t){cond, letter(i)};
        SPAWN(&t[i], cond_waiter, &a[i], a[i].name);
    }
}

DIFF(cond_notify_sequence)
{
    (void)unused_arg;
    acio_condition_t *cond;
    acio_task_t *t[4];
    cond_arg_t a[4];
    int ks[3] = {1, 2, 0};
    OK(acio_condition_new(&cond, NULL));
    cond_waiters(t, a, cond, 4);
    OK(acio_sleep(0));
    for (int i = 0; i < 3; i++) {
        OK(acio_condition_acquire(cond));
        if (ks[i]) {
            tr("notify %d", ks[i]);
            acio_condition_notify(cond, (size_t)ks[i]);
        } else {
            tr("notify all");
            acio_condition_notify_all(cond);
        }
        acio_condition_release(cond);
        yield_n(3);
    }
    gather_in_order(t, 4);
    acio_condition_free(cond);
    return NULL;
}

DIFF(cond_errors)
{
    (void)unused_arg;
    acio_condition_t *cond;
    int rc;
    OK(acio_condition_new(&cond, NULL));
    if ((rc = acio_condition_notify(cond, 1)) < 0)
        tr("notify: %s", rcname(rc));
    if ((rc = acio_condition_wait(cond)) < 0)
        tr("wait: %s", rcname(rc));
    acio_condition_free(cond);
    return NULL;
}

DIFF(cond_cancel_notified)
{
    (void)unused_arg;
    acio_condition_t *cond;
    acio_task_t *t[3];
    cond_arg_t a[3];
    OK(acio_condition_new(&cond, NULL));
    cond_waiters(t, a, cond, 3);
    OK(acio_sleep(0));
    OK(acio_condition_acquire(cond));
    tr("notify 1");
    acio_condition_notify(cond, 1);
    acio_task_cancel(t[0], NULL);
    acio_condition_release(cond);
    /* Python awaits the first two (keeping them); here the references go at the end. */
    UNCHECKED(acio_await(t[0], NULL));
    OK(acio_await(t[1], NULL));
    OK(acio_condition_acquire(cond));
    acio_condition_notify_all(cond);
    acio_condition_release(cond);
    gather_in_order(t, 3);
    acio_condition_free(cond);
    return NULL;
}

DIFF(cond_cancel_reacquiring)
{
    (void)unused_arg;
    acio_condition_t *cond;
    acio_task_t *t[2];
    cond_arg_t a[2];
    OK(acio_condition_new(&cond, NULL));
    cond_waiters(t, a, cond, 2);
    OK(acio_sleep(0));
    OK(acio_condition_acquire(cond));
    acio_condition_notify(cond, 2);
    yield_n(2);
    acio_task_cancel(t[0], NULL);
    yield_n(2);
    tr("main releases");
    acio_condition_release(cond);
    gather_in_order(t, 2);
    acio_condition_free(cond);
    return NULL;
}

typedef struct {
    acio_condition_t *cond;
    int box[8];
    int n;
} box_t;

typedef struct {
    box_t *box;
    const char *name;
    int items[2];
} pc_arg_t;

static bool box_nonempty(void *arg)
{
    return ((box_t *)arg)->n > 0;
}

static void *cond_consumer(void *arg)
{
    pc_arg_t *a = arg;
    box_t *b = a->box;
    for (int k = 0; k < 2; k++) {
        OK(acio_condition_acquire(b->cond));
        OK(acio_condition_wait_for(b->cond, box_nonempty, b));
        tr("%s takes %d", a->name, b->box[0]);
        memmove(b->box, b->box + 1, sizeof(int) * (size_t)--b->n);
        acio_condition_release(b->cond);
    }
    return NULL;
}

static void *cond_producer(void *arg)
{
    pc_arg_t *a = arg;
    box_t *b = a->box;
    for (int k = 0; k < 2; k++) {
        OK(acio_condition_acquire(b->cond));
        b->box[b->n++] = a->items[k];
        tr("%s puts %d", a->name, a->items[k]);
        acio_condition_notify(b->cond, 1);
        acio_condition_release(b->cond);
        OK(acio_sleep(0));
    }
    return NULL;
}

DIFF(cond_producer_consumer)
{
    (void)unused_arg;
    box_t box = {.n = 0};
    acio_task_t *t[4];
    pc_arg_t a[4] = {
        {&box, "c1", {0, 0}}, {&box, "c2", {0, 0}}, {&box, "p1", {1, 2}}, {&box, "p2", {3, 4}}};
    OK(acio_condition_new(&box.cond, NULL));
    SPAWN(&t[0], cond_consumer, &a[0], "c1");
    SPAWN(&t[1], cond_consumer, &a[1], "c2");
    SPAWN(&t[2], cond_producer, &a[2], "p1");
    SPAWN(&t[3], cond_producer, &a[3], "p2");
    gather_in_order(t, 4);
    tr("left %d", box.n);
    acio_condition_free(box.cond);
    return NULL;
}

/* ---------------------------------------------------------------- Semaphore */

typedef struct {
    acio_semaphore_t *sem;
    const char *name;
    int hold;
} sem_arg_t;

static void *sem_user(void *arg)
{
    sem_arg_t *a = arg;
    if (acio_semaphore_acquire(a->sem) < 0) {
        tr("%s acquire cancelled", a->name);
        return NULL;
    }
    tr("%s acquired", a->name);
    yield_n(a->hold);
    tr("%s releases", a->name);
    acio_semaphore_release(a->sem);
    return NULL;
}

static void sem_users(acio_task_t **t, sem_arg_t *a, acio_semaphore_t *sem, int first, int n,
                      int hold_mod)
{
    for (int i = 0; i < n; i++) {
        a[i] = (sem_arg_t){sem, letter(first + i), hold_mod ? i % hold_mod + 1 : 1};
        SPAWN(&t[i], sem_user, &a[i], a[i].name);
    }
}

DIFF(sem_fifo)
{
    (void)unused_arg;
    acio_semaphore_t *sem;
    acio_task_t *t[6];
    sem_arg_t a[6];
    OK(acio_semaphore_new(&sem, 2));
    sem_users(t, a, sem, 0, 6, 3);
    gather_in_order(t, 6);
    tr("value %d", acio_semaphore_value(sem));
    acio_semaphore_free(sem);
    return NULL;
}

DIFF(sem_cancel)
{
    (void)unused_arg;
    acio_semaphore_t *sem;
    acio_task_t *t[4];
    sem_arg_t a[4];
    OK(acio_semaphore_new(&sem, 1));
    OK(acio_semaphore_acquire(sem));
    sem_users(t, a, sem, 1, 4, 0);
    OK(acio_sleep(0));
    acio_task_cancel(t[1], NULL);
    tr("main releases");
    acio_semaphore_release(sem);
    acio_task_cancel(t[0], NULL);
    gather_in_order(t, 4);
    tr("value %d", acio_semaphore_value(sem));
    acio_semaphore_free(sem);
    return NULL;
}

DIFF(sem_release_burst)
{
    (void)unused_arg;
    acio_semaphore_t *sem;
    acio_task_t *t[4];
    sem_arg_t a[4];
    OK(acio_semaphore_new(&sem, 0));
    sem_users(t, a, sem, 0, 4, 0);
    OK(acio_sleep(0));
    tr("locked %d", acio_semaphore_locked(sem));
    for (int i = 0; i < 3; i++)
        acio_semaphore_release(sem);
    tr("value %d", acio_semaphore_value(sem));
    yield_n(4);
    acio_semaphore_release(sem);
    gather_in_order(t, 4);
    tr("value %d locked %d", acio_semaphore_value(sem), acio_semaphore_locked(sem));
    acio_semaphore_free(sem);
    return NULL;
}

DIFF(sem_newcomer_waits_fifo)
{
    (void)unused_arg;
    acio_semaphore_t *sem;
    acio_task_t *t[2];
    sem_arg_t a[2];
    OK(acio_semaphore_new(&sem, 1));
    OK(acio_semaphore_acquire(sem));
    a[0] = (sem_arg_t){sem, "b", 2};
    SPAWN(&t[0], sem_user, &a[0], "b");
    OK(acio_sleep(0));
    acio_semaphore_release(sem);
    tr("after release: value %d locked %d", acio_semaphore_value(sem), acio_semaphore_locked(sem));
    a[1] = (sem_arg_t){sem, "n", 1};
    SPAWN(&t[1], sem_user, &a[1], "n");
    gather_in_order(t, 2);
    tr("value %d", acio_semaphore_value(sem));
    acio_semaphore_free(sem);
    return NULL;
}

DIFF(bounded_sem)
{
    (void)unused_arg;
    acio_semaphore_t *sem;
    acio_task_t *t[2];
    sem_arg_t a[2];
    int rc;
    OK(acio_bounded_semaphore_new(&sem, 2));
    for (int i = 0; i < 3; i++)
        if ((rc = acio_semaphore_release(sem)) < 0)
            tr("release %d: %s", i, rcname(rc));
    OK(acio_semaphore_acquire(sem));
    OK(acio_semaphore_acquire(sem));
    sem_users(t, a, sem, 0, 2, 0);
    OK(acio_sleep(0));
    acio_semaphore_release(sem);
    acio_semaphore_release(sem);
    tr("value %d", acio_semaphore_value(sem));
    gather_in_order(t, 2);
    tr("value %d", acio_semaphore_value(sem));
    if ((rc = acio_semaphore_release(sem)) < 0)
        tr("extra release: %s", rcname(rc));
    acio_semaphore_free(sem);
    return NULL;
}

/* ---------------------------------------------------------------- Barrier */

typedef struct {
    acio_barrier_t *b;
    const char *name;
    int passes;
} party_arg_t;

static void *party(void *arg)
{
    party_arg_t *a = arg;
    for (int p = 0; p < a->passes; p++) {
        int rc = acio_barrier_wait(a->b);
        if (rc < 0) {
            tr("%s pass %d: %s", a->name, p, rcname(rc));
            return NULL;
        }
        tr("%s pass %d index %d", a->name, p, rc);
    }
    return NULL;
}

static void parties(acio_task_t **t, party_arg_t *a, acio_barrier_t *b, const char *names,
                    int passes)
{
    static char buf[16][2];
    for (int i = 0; names[i]; i++) {
        int slot = (names[i] - 'a') & 15;
        buf[slot][0] = names[i];
        buf[slot][1] = 0;
        a[i] = (party_arg_t){b, buf[slot], passes};
        SPAWN(&t[i], party, &a[i], buf[slot]);
    }
}

DIFF(barrier_passes)
{
    (void)unused_arg;
    acio_barrier_t *b;
    acio_task_t *t[3];
    party_arg_t a[3];
    OK(acio_barrier_new(&b, 3));
    parties(t, a, b, "abc", 3);
    OK(acio_sleep(0));
    tr("n_waiting %d", acio_barrier_n_waiting(b));
    gather_in_order(t, 3);
    tr("n_waiting %d broken %d", acio_barrier_n_waiting(b), acio_barrier_broken(b));
    acio_barrier_free(b);
    return NULL;
}

DIFF(barrier_reset)
{
    (void)unused_arg;
    acio_barrier_t *b;
    acio_task_t *t[3];
    party_arg_t a[3];
    OK(acio_barrier_new(&b, 3));
    parties(t, a, b, "ab", 2);
    OK(acio_sleep(0));
    tr("n_waiting %d", acio_barrier_n_waiting(b));
    tr("reset");
    acio_barrier_reset(b);
    gather_in_order(t, 2);
    parties(t, a, b, "cde", 1);
    gather_in_order(t, 3);
    tr("broken %d", acio_barrier_broken(b));
    acio_barrier_free(b);
    return NULL;
}

DIFF(barrier_abort)
{
    (void)unused_arg;
    acio_barrier_t *b;
    acio_task_t *t[2];
    party_arg_t a[2];
    int rc;
    OK(acio_barrier_new(&b, 2));
    parties(t, a, b, "a", 2);
    OK(acio_sleep(0));
    tr("abort");
    acio_barrier_abort(b);
    gather_in_order(t, 1);
    if ((rc = acio_barrier_wait(b)) < 0)
        tr("main wait: %s", rcname(rc));
    tr("broken %d", acio_barrier_broken(b));
    acio_barrier_reset(b);
    tr("broken %d", acio_barrier_broken(b));
    parties(t, a, b, "xy", 1);
    gather_in_order(t, 2);
    acio_barrier_free(b);
    return NULL;
}

DIFF(barrier_cancel)
{
    (void)unused_arg;
    acio_barrier_t *b;
    acio_task_t *t[3];
    party_arg_t a[3];
    OK(acio_barrier_new(&b, 3));
    parties(t, a, b, "a", 2);
    OK(acio_sleep(0));
    acio_task_cancel(t[0], NULL);
    gather_in_order(t, 1);
    tr("n_waiting %d", acio_barrier_n_waiting(b));
    parties(t, a, b, "bcd", 1);
    gather_in_order(t, 3);
    acio_barrier_free(b);
    return NULL;
}

/* ---------------------------------------------------------------- Queue */

typedef struct {
    acio_queue_t *q;
    const char *name;
    int items[4];
    int n;     /* items to put, or count to get */
    int pause; /* sleep(0)s after each */
} qarg_t;

static void *producer(void *arg)
{
    qarg_t *a = arg;
    for (int i = 0; i < a->n; i++) {
        int rc = acio_queue_put(a->q, I(a->items[i]));
        if (rc < 0) {
            tr("%s put %d: %s", a->name, a->items[i], rcname(rc));
            return NULL;
        }
        tr("%s put %d (qsize %zu)", a->name, a->items[i], acio_queue_qsize(a->q));
        yield_n(a->pause);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    qarg_t *a = arg;
    for (int i = 0; i < a->n; i++) {
        void *v;
        int rc = acio_queue_get(a->q, &v);
        if (rc < 0) {
            tr("%s get: %s", a->name, rcname(rc));
            return NULL;
        }
        tr("%s got %d", a->name, V(v));
        yield_n(a->pause);
        acio_queue_task_done(a->q);
    }
    return NULL;
}

DIFF(queue_bounded_pc)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *t[4];
    OK(acio_queue_new(&q, 2));
    qarg_t a[4] = {{q, "p1", {1, 2, 3}, 3, 0},
                   {q, "p2", {4, 5, 6}, 3, 1},
                   {q, "c1", {0}, 3, 2},
                   {q, "c2", {0}, 3, 1}};
    SPAWN(&t[0], producer, &a[0], "p1");
    SPAWN(&t[1], producer, &a[1], "p2");
    SPAWN(&t[2], consumer, &a[2], "c1");
    SPAWN(&t[3], consumer, &a[3], "c2");
    gather_in_order(t, 4);
    tr("qsize %zu unfinished %zu", acio_queue_qsize(q), acio_queue_unfinished_tasks(q));
    acio_queue_free(q);
    return NULL;
}

DIFF(queue_lifo_priority)
{
    (void)unused_arg;
    const char *kinds[2] = {"lifo", "priority"};
    for (int k = 0; k < 2; k++) {
        acio_queue_t *q;
        acio_task_t *c;
        char line[64] = "", cname[16];
        int ps[5] = {5, 1, 4, 2, 3}, more[3] = {7, 6, 8};
        if (k == 0)
            OK(acio_lifo_queue_new(&q, 0));
        else
            OK(acio_priority_queue_new(&q, 0, NULL, NULL));
        /* Python's PriorityQueue orders the items themselves: use them as priorities. */
        for (int i = 0; i < 5; i++)
            k ? acio_queue_put_priority_nowait(q, I(ps[i]), ps[i])
              : acio_queue_put_nowait(q, I(ps[i]));
        for (int i = 0; i < 5; i++) {
            void *v;
            OK(acio_queue_get_nowait(q, &v));
            snprintf(line + strlen(line), sizeof line - strlen(line), " %d", V(v));
        }
        tr("%s%s", kinds[k], line);
        snprintf(cname, sizeof cname, "%s-c", kinds[k]);
        qarg_t a = {q, cname, {0}, 3, 0};
        SPAWN(&c, consumer, &a, "c");
        OK(acio_sleep(0));
        for (int i = 0; i < 3; i++)
            k ? acio_queue_put_priority_nowait(q, I(more[i]), more[i])
              : acio_queue_put_nowait(q, I(more[i]));
        gather_in_order(&c, 1);
        acio_queue_free(q);
    }
    return NULL;
}

DIFF(queue_getters_fifo)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *t[3];
    qarg_t a[3];
    OK(acio_queue_new(&q, 0));
    for (int i = 0; i < 3; i++) {
        a[i] = (qarg_t){q, letter(i), {0}, 2, 0};
        SPAWN(&t[i], consumer, &a[i], a[i].name);
    }
    OK(acio_sleep(0));
    for (int i = 0; i < 6; i++) {
        OK(acio_queue_put_nowait(q, I(i)));
        if (i % 2)
            OK(acio_sleep(0));
    }
    gather_in_order(t, 3);
    acio_queue_free(q);
    return NULL;
}

static void producers_abc(acio_task_t **t, qarg_t *a, acio_queue_t *q)
{
    for (int i = 0; i < 3; i++) {
        a[i] = (qarg_t){q, letter(i), {i + 1}, 1, 0};
        SPAWN(&t[i], producer, &a[i], a[i].name);
    }
}

DIFF(queue_putters_fifo)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *t[3];
    qarg_t a[3];
    OK(acio_queue_new(&q, 1));
    OK(acio_queue_put_nowait(q, I(0)));
    producers_abc(t, a, q);
    OK(acio_sleep(0));
    for (int i = 0; i < 4; i++) {
        void *v;
        OK(acio_queue_get(q, &v));
        tr("main got %d", V(v));
        OK(acio_sleep(0));
    }
    gather_in_order(t, 3);
    acio_queue_free(q);
    return NULL;
}

DIFF(queue_cancel_getters)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *t[4];
    qarg_t a[4];
    OK(acio_queue_new(&q, 0));
    for (int i = 0; i < 4; i++) {
        a[i] = (qarg_t){q, letter(i), {0}, 1, 0};
        SPAWN(&t[i], consumer, &a[i], a[i].name);
    }
    OK(acio_sleep(0));
    acio_task_cancel(t[3], NULL);
    OK(acio_queue_put_nowait(q, I(1)));
    acio_task_cancel(t[0], NULL);
    OK(acio_queue_put_nowait(q, I(2)));
    gather_in_order(t, 4);
    tr("qsize %zu", acio_queue_qsize(q));
    acio_queue_free(q);
    return NULL;
}

DIFF(queue_cancel_putters)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *t[3];
    qarg_t a[3];
    void *v;
    OK(acio_queue_new(&q, 1));
    OK(acio_queue_put_nowait(q, I(0)));
    producers_abc(t, a, q);
    OK(acio_sleep(0));
    acio_task_cancel(t[2], NULL);
    OK(acio_queue_get_nowait(q, &v));
    tr("main got %d", V(v));
    acio_task_cancel(t[0], NULL);
    gather_in_order(t, 3);
    size_t qs = acio_queue_qsize(q);
    OK(acio_queue_get_nowait(q, &v));
    tr("qsize %zu item %d", qs, V(v));
    acio_queue_free(q);
    return NULL;
}

DIFF(queue_stolen_item)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *c;
    void *v;
    OK(acio_queue_new(&q, 0));
    qarg_t a = {q, "a", {0}, 1, 0};
    SPAWN(&c, consumer, &a, "a");
    OK(acio_sleep(0));
    OK(acio_queue_put_nowait(q, I(1)));
    OK(acio_queue_get_nowait(q, &v));
    tr("main took %d", V(v));
    yield_n(2);
    tr("a done %d", acio_future_done(c));
    OK(acio_queue_put_nowait(q, I(2)));
    gather_in_order(&c, 1);
    acio_queue_free(q);
    return NULL;
}

typedef struct {
    acio_queue_t *q;
    char name[8];
} worker_arg_t;

static void *worker(void *arg)
{
    worker_arg_t *a = arg;
    for (;;) {
        void *v;
        if (acio_queue_get(a->q, &v) < 0) {
            tr("%s cancelled", a->name);
            return NULL;
        }
        yield_n(V(v));
        tr("%s done %d", a->name, V(v));
        acio_queue_task_done(a->q);
    }
}

DIFF(queue_join_workers)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *t[3];
    worker_arg_t a[3];
    int items[6] = {3, 1, 2, 1, 0, 2}, rc;
    OK(acio_queue_new(&q, 0));
    for (int i = 0; i < 6; i++)
        OK(acio_queue_put_nowait(q, I(items[i])));
    for (int i = 0; i < 3; i++) {
        a[i].q = q;
        snprintf(a[i].name, sizeof a[i].name, "w%d", i);
        SPAWN(&t[i], worker, &a[i], a[i].name);
    }
    OK(acio_queue_join(q));
    tr("joined, unfinished %zu", acio_queue_unfinished_tasks(q));
    for (int i = 0; i < 3; i++)
        acio_task_cancel(t[i], NULL);
    gather_in_order(t, 3);
    if ((rc = acio_queue_task_done(q)) < 0)
        tr("task_done: %s", rcname(rc));
    acio_queue_free(q);
    return NULL;
}

static void *joiner(void *arg)
{
    OK(acio_queue_join(arg));
    tr("j joined");
    return NULL;
}

DIFF(queue_shutdown)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *p, *j, *c[2];
    qarg_t pa, ca[2];
    int rc;
    OK(acio_queue_new(&q, 2));
    OK(acio_queue_put_nowait(q, I(1)));
    OK(acio_queue_put_nowait(q, I(2)));
    pa = (qarg_t){q, "p", {3}, 1, 1};
    SPAWN(&p, producer, &pa, "p");
    SPAWN(&j, joiner, q, "j");
    OK(acio_sleep(0));
    tr("shutdown");
    acio_queue_shutdown(q, false);
    if ((rc = acio_queue_put_nowait(q, I(5))) < 0)
        tr("put_nowait: %s", rcname(rc));
    for (int i = 0; i < 2; i++) {
        ca[i] = (qarg_t){q, letter(i), {0}, 2, 0};
        SPAWN(&c[i], consumer, &ca[i], ca[i].name);
    }
    gather_in_order(&p, 1);
    gather_in_order(c, 2);
    tr("qsize %zu unfinished %zu", acio_queue_qsize(q), acio_queue_unfinished_tasks(q));
    gather_in_order(&j, 1);
    acio_queue_free(q);
    return NULL;
}

DIFF(queue_shutdown_immediate)
{
    (void)unused_arg;
    acio_queue_t *q;
    acio_task_t *t[3];
    qarg_t ca[2];
    void *v;
    int rc;
    OK(acio_queue_new(&q, 0));
    for (int i = 0; i < 2; i++) {
        ca[i] = (qarg_t){q, letter(i), {0}, 1, 0};
        SPAWN(&t[i], consumer, &ca[i], ca[i].name);
    }
    OK(acio_sleep(0));
    for (int i = 0; i < 3; i++)
        OK(acio_queue_put_nowait(q, I(i)));
    SPAWN(&t[2], joiner, q, "j");
    tr("shutdown immediate");
    acio_queue_shutdown(q, true);
    tr("qsize %zu unfinished %zu", acio_queue_qsize(q), acio_queue_unfinished_tasks(q));
    if ((rc = acio_queue_get_nowait(q, &v)) < 0)
        tr("get_nowait: %s", rcname(rc));
    gather_in_order(t, 3);
    tr("unfinished %zu", acio_queue_unfinished_tasks(q));
    acio_queue_free(q);
    return NULL;
}

DIFF(queue_nowait_errors)
{
    (void)unused_arg;
    acio_queue_t *q;
    void *v;
    int rc;
    OK(acio_queue_new(&q, 1));
    rc = acio_queue_get_nowait(q, &v);
    rc ? tr("get_nowait: %s", rcname(rc)) : tr("get_nowait ok");
    for (int i = 0; i < 2; i++) {
        rc = acio_queue_put_nowait(q, I(1));
        rc ? tr("put_nowait: %s", rcname(rc)) : tr("put_nowait ok");
    }
    tr("full %d empty %d qsize %zu", acio_queue_full(q), acio_queue_empty(q), acio_queue_qsize(q));
    acio_queue_free(q);
    return NULL;
}

/* ---------------------------------------------------------------- async iteration */

typedef struct {
    acio_aiter_t it;
    int count, limit;
} reader_t;

static int reader_anext(acio_aiter_t *it, void **value)
{
    reader_t *r = (reader_t *)it;
    int rc = acio_sleep(0);
    if (rc < 0)
        return rc;
    if (++r->count == r->limit)
        return ACIO_ESTOPASYNCITERATION;
    *value = I(r->count);
    return 0;
}

DIFF(aiter_reader)
{
    (void)unused_arg;
    reader_t r1 = {{reader_anext, NULL, NULL}, 0, 6}, r2 = {{reader_anext, NULL, NULL}, 0, 4};
    acio_task_t *t;
    void *v;
    int rc;
    ACIO_AFOR(rc, &r1.it, v)
    tr("%d", V(v));
    SPAWN(&t, ticker, 3, "t");
    ACIO_AFOR(rc, &r2.it, v)
    tr("item %d", V(v));
    gather_in_order(&t, 1);
    return NULL;
}

static int mygen(acio_agen_t *gen, void *arg)
{
    int u = V(arg), i = 0, rc = 0;
    while (i < u) {
        if ((rc = acio_agen_yield(gen, I(1 << i), NULL)) < 0)
            break;
        i++;
        if ((rc = acio_sleep(0)) < 0)
            break;
    }
    tr("mygen cleanup at %d", i);
    return rc == ACIO_EGENERATOREXIT ? 0 : rc;
}

static void collect(char *line, size_t cap, bool filtered)
{
    acio_agen_t *g;
    void *v;
    int rc;
    size_t len = 0;
    OK(acio_agen_new(&g, mygen, I(10), 0));
    line[len++] = '[';
    ACIO_AFOR(rc, acio_agen_aiter(g), v)
    {
        if (filtered && (V(v) / 3 % 5))
            continue;
        len += (size_t)snprintf(line + len, cap - len, "%s%d", len > 1 ? ", " : "", V(v));
    }
    snprintf(line + len, cap - len, "]");
    acio_agen_free(g);
}

DIFF(agen_mygen)
{
    (void)unused_arg;
    char g[128], f[128];
    acio_agen_t *gen;
    void *a, *b;
    collect(g, sizeof g, false);
    collect(f, sizeof f, true);
    tr("%s", g);
    tr("%s", f);
    OK(acio_agen_new(&gen, mygen, I(10), 0));
    OK(acio_agen_anext(gen, &a));
    OK(acio_agen_anext(gen, &b));
    tr("%d %d", V(a), V(b));
    acio_agen_aclose(gen);
    tr("closed");
    acio_agen_free(gen);
    return NULL;
}

static int counting(acio_agen_t *gen, void *arg)
{
    bool awaits = arg != NULL;
    for (int i = 0; i < 3; i++) {
        tr("gen yields %d", i);
        int rc = acio_agen_yield(gen, I(i), NULL);
        if (rc < 0) {
            tr("gen cleanup");
            return rc == ACIO_EGENERATOREXIT ? 0 : rc;
        }
        if (awaits)
            OK(acio_sleep(0));
    }
    tr("gen cleanup");
    return 0;
}

DIFF(agen_interleaving)
{
    (void)unused_arg;
    for (int awaits = 0; awaits < 2; awaits++) {
        acio_task_t *t;
        acio_agen_t *g;
        void *v;
        int rc;
        SPAWN(&t, ticker, 4, "ticker");
        OK(acio_agen_new(&g, counting, awaits ? I(1) : NULL, 0));
        ACIO_AFOR(rc, acio_agen_aiter(g), v)
        tr("got %d", V(v));
        acio_agen_free(g);
        gather_in_order(&t, 1);
    }
    return NULL;
}

static int task_names(acio_agen_t *gen, void *arg)
{
    (void)arg;
    while (acio_agen_yield(gen, (void *)acio_task_get_name(acio_current_task()), NULL) == 0)
        ;
    return 0;
}

static void *names_consumer(void *arg)
{
    void *v = NULL;
    OK(acio_agen_anext(arg, &v));
    tr("%s sees %s", acio_task_get_name(acio_current_task()), (const char *)v);
    return NULL;
}

DIFF(agen_runs_in_consumer)
{
    (void)unused_arg;
    acio_agen_t *g;
    acio_task_t *t;
    OK(acio_agen_new(&g, task_names, NULL, 0));
    SPAWN(&t, names_consumer, g, "c1");
    gather_in_order(&t, 1);
    SPAWN(&t, names_consumer, g, "c2");
    gather_in_order(&t, 1);
    acio_agen_aclose(g);
    acio_agen_free(g);
    return NULL;
}

static int two_then_cleanup(acio_agen_t *gen, void *arg)
{
    int rc = acio_agen_yield(gen, I(1), NULL);
    if (rc == 0)
        rc = acio_agen_yield(gen, I(2), NULL);
    tr("%s cleanup starts", (const char *)arg);
    OK(acio_sleep(0));
    tr("%s cleanup ends", (const char *)arg);
    return rc == ACIO_EGENERATOREXIT ? 0 : rc;
}

static acio_agen_t *kept;
static void *agen_shutdown_closes_main(void *unused_arg);

Test(diff_sync, agen_shutdown_closes)
{
    run_diff("agen_shutdown_closes", agen_shutdown_closes_main);
    cr_assert(acio_agen_finished(kept));
    cr_assert_eq(acio_agen_free(kept), 0);
}

static void *agen_shutdown_closes_main(void *unused_arg)
{
    (void)unused_arg;
    void *v = NULL;
    OK(acio_agen_new(&kept, two_then_cleanup, "a", 0));
    OK(acio_agen_anext(kept, &v));
    tr("first value %d", V(v));
    tr("main returns");
    return NULL;
}

/* ---------------------------------------------------------------- examples */

/* examples/expected/asyncq.out must be what asyncio prints for the same program (its
 * Python twin), so the expected file cannot drift to whatever the C port prints. */
Test(diff_sync, example_asyncq_matches_asyncio)
{
    char file[] = __FILE__;
    char path[4096];
    char *want = python_output("diff_sync/examples/asyncq.py", "");
    FILE *f;
    snprintf(path, sizeof path, "%s/../examples/expected/asyncq.out", dirname(file));
    f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    trace_reset();
    g_trace.len = fread(g_trace.buf, 1, sizeof g_trace.buf - 1, f);
    g_trace.buf[g_trace.len] = 0;
    fclose(f);
    cr_assert_str_eq(g_trace.buf, want);
    free(want);
}
