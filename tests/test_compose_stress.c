/* Bounded randomized stress (fixed seed): a victim task runs a random composition
 * (gather in both forms, wait, wait_for, TaskGroup, as_completed, shield, nested
 * timeout scopes) over random children (random delays, failures, self-cancellation)
 * while the main task cancels it at a random point. Invariants checked every round:
 *   - a cancellation requested while the victim was pending is never swallowed: the
 *     victim never ends successfully after it;
 *   - every child that started also finished (no coroutine abandoned mid-way), and all
 *     children are done once cancelled and awaited;
 *   - the loop closes cleanly (acio_run returns 0) and, in the _asan build, nothing
 *     leaks and nothing is touched after free. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "acio.h"
#include "support/rc.h"

#define ROUNDS  1000
#define MAXKIDS 6

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static double rdelay(void)
{
    static const double d[] = {0, 0, 0.0005, 0.001, 0.002, 0.003};
    return d[rnd(6)];
}

typedef struct {
    double delay;
    int fail;
    int yields;
} kid_spec_t;

static int started, finished;
static acio_task_t *all_kids[ROUNDS * MAXKIDS * 2];
static size_t nkids;

static void *kid(void *arg)
{
    kid_spec_t *k = arg;
    int rc = 0;
    started++;
    for (int i = 0; i < k->yields && rc == 0; i++)
        rc = acio_sleep(0);
    if (rc == 0)
        rc = acio_sleep(k->delay);
    finished++;
    if (rc < 0)
        return acio_raise(rc, NULL);
    if (k->fail)
        return acio_raise(k->fail, "kid failed");
    return (void *)1;
}

static kid_spec_t specs[ROUNDS * MAXKIDS * 2];
static size_t nspecs;

static kid_spec_t *new_spec(void)
{
    kid_spec_t *k = &specs[nspecs++];
    k->delay = rdelay();
    k->fail = rnd(8) == 0 ? -EIO : 0;
    k->yields = (int)rnd(3);
    return k;
}

static acio_task_t *spawn_kid(void)
{
    acio_task_t *t;
    acio_task_opts_t o = {.eager = rnd(4) == 0};
    cr_assert_eq(acio_loop_create_task(acio_get_running_loop(), &t, kid, new_spec(), &o), 0);
    all_kids[nkids++] = acio_future_ref(t);
    if (rnd(10) == 0)
        acio_task_cancel(t, "random child cancel");
    return t;
}

static int spawn_n(acio_task_t **t, int n)
{
    for (int i = 0; i < n; i++)
        t[i] = spawn_kid();
    return n;
}

static void drop(acio_task_t **t, int n)
{
    for (int i = 0; i < n; i++)
        acio_future_unref(t[i]);
}

static int op_gather_await(void)
{
    acio_task_t *t[MAXKIDS];
    int n = spawn_n(t, 1 + (int)rnd(MAXKIDS));
    void *res[MAXKIDS];
    int codes[MAXKIDS];
    int rc =
        acio_gather_await(t, (size_t)n, rnd(2) ? ACIO_GATHER_RETURN_EXCEPTIONS : 0, res, codes);
    drop(t, n);
    return rc;
}

static int op_gather_calls(void)
{
    acio_call_t calls[MAXKIDS];
    acio_task_t *t[MAXKIDS];
    acio_future_t *outer;
    acio_task_opts_t o = {.eager = rnd(2) == 0};
    void *res[MAXKIDS];
    int n = 1 + (int)rnd(MAXKIDS);
    for (int i = 0; i < n; i++)
        calls[i] = (acio_call_t){kid, new_spec(), NULL};
    cr_assert_eq(acio_gather_calls(&outer, calls, (size_t)n, &o, 0, res, NULL, t), 0);
    for (int i = 0; i < n; i++)
        all_kids[nkids++] = acio_future_ref(t[i]);
    if (rnd(3) == 0) {
        UNCHECKED(acio_sleep(0));
        acio_future_cancel(outer, "cancel the gather");
    }
    int rc = acio_await(outer, NULL);
    acio_future_unref(outer);
    drop(t, n);
    return rc;
}

static int op_wait(void)
{
    acio_task_t *t[MAXKIDS];
    acio_future_t *d[MAXKIDS], *p[MAXKIDS];
    size_t nd, np;
    int n = spawn_n(t, 1 + (int)rnd(MAXKIDS));
    double timeout = rnd(2) ? ACIO_NO_TIMEOUT : rdelay();
    int rc = acio_wait(t, (size_t)n, timeout, (acio_return_when_t)rnd(3), d, &nd, p, &np);
    if (rc == 0)
        cr_assert_eq(nd + np, (size_t)n);
    drop(t, n);
    return rc;
}

static int op_wait_for(void)
{
    acio_task_t *t = spawn_kid();
    int rc = acio_wait_for(t, rnd(4) == 0 ? 0 : rdelay(), NULL);
    if (rc == -ETIMEDOUT)
        cr_assert(acio_future_done(t), "wait_for returned while the task still runs");
    acio_future_unref(t);
    return rc;
}

static int op_taskgroup(void)
{
    acio_taskgroup_t *tg;
    int rc;
    cr_assert_eq(acio_taskgroup_new(&tg), 0);
    cr_assert_eq(acio_taskgroup_enter(tg), 0);
    int n = 1 + (int)rnd(MAXKIDS);
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        acio_task_t *t;
        acio_task_opts_t o = {.eager = rnd(4) == 0};
        if (acio_taskgroup_create_task(tg, &t, kid, new_spec(), &o) < 0)
            break; /* shutting down after an eager failure */
        all_kids[nkids++] = t;
        if (rnd(3) == 0)
            rc = acio_sleep(rdelay());
    }
    rc = acio_taskgroup_exit(tg, rc);
    cr_assert_eq(acio_taskgroup_size(tg), 0, "exit returned with children running");
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    return rc;
}

static int op_as_completed(void)
{
    acio_task_t *t[MAXKIDS];
    acio_as_completed_t *ac;
    acio_future_t *f;
    int n = spawn_n(t, 1 + (int)rnd(MAXKIDS)), rc = 0;
    cr_assert_eq(acio_as_completed_new(&ac, t, (size_t)n, rnd(2) ? ACIO_NO_TIMEOUT : rdelay()), 0);
    for (int i = 0; i <= n && rc == 0; i++) {
        rc = acio_as_completed_next(ac, &f);
        if (rc == ACIO_ESTOPITERATION || rc == -ETIMEDOUT)
            rc = 0;
    }
    cr_assert_eq(acio_as_completed_free(ac), 0);
    drop(t, n);
    return rc;
}

static int op_shield(void)
{
    acio_task_t *t = spawn_kid();
    acio_future_t *s;
    cr_assert_eq(acio_shield(&s, t), 0);
    int rc = acio_await(s, NULL);
    acio_future_unref(s);
    acio_future_unref(t);
    return rc;
}

static int op_timeouts(void)
{
    acio_timeout_t outer, inner;
    cr_assert_eq(acio_timeout_enter(&outer, rdelay()), 0);
    cr_assert_eq(acio_timeout_enter(&inner, rdelay()), 0);
    if (rnd(2))
        OK(acio_timeout_reschedule(&inner, acio_loop_time(acio_get_running_loop()) + rdelay()));
    int rc = op_gather_await();
    rc = acio_timeout_exit(&inner, rc);
    rc = acio_timeout_exit(&outer, rc);
    return rc;
}

static int (*const ops[])(void) = {op_gather_await, op_gather_calls, op_wait,   op_wait_for,
                                   op_taskgroup,    op_as_completed, op_shield, op_timeouts};

static void *victim(void *arg)
{
    int rc = ops[(uintptr_t)arg]();
    if (rc < 0)
        return acio_raise(rc, NULL);
    return NULL;
}

static void *stress_main(void *arg)
{
    (void)arg;
    int swallowed = 0, cancels = 0;
    for (int round = 0; round < ROUNDS; round++) {
        acio_task_t *v;
        uintptr_t op = rnd(sizeof ops / sizeof ops[0]);
        cr_assert_eq(acio_create_task(&v, victim, (void *)op, NULL), 0);
        bool cancelled = false;
        switch (rnd(4)) {
        case 0:
            break; /* no cancellation */
        case 1:
            cancelled = acio_task_cancel(v, "stress") == 1;
            break;
        default: {
            int hops = (int)rnd(6);
            for (int i = 0; i < hops && !acio_future_done(v); i++)
                cr_assert_eq(acio_sleep(rnd(2) ? 0 : rdelay()), 0);
            cancelled = acio_task_cancel(v, "stress") == 1;
        }
        }
        cancels += cancelled;
        int rc = acio_await(v, NULL);
        if (cancelled && rc == 0)
            swallowed++;
        acio_future_unref(v);
        /* Everything the round started is finished or finishes now. */
        for (size_t i = 0; i < nkids; i++) {
            if (!acio_future_done(all_kids[i]))
                acio_task_cancel(all_kids[i], "round over");
            UNCHECKED(acio_await(all_kids[i], NULL));
            cr_assert(acio_future_done(all_kids[i]));
            acio_future_unref(all_kids[i]);
        }
        nkids = 0;
        nspecs = 0;
        cr_assert_eq(started, finished, "round %d (op %lu): a child was abandoned", round,
                     (unsigned long)op);
    }
    cr_assert_eq(swallowed, 0, "%d of %d cancellations were swallowed", swallowed, cancels);
    cr_assert_gt(cancels, ROUNDS / 4);
    cr_log_info("%d rounds, %d victims cancelled while pending, %d children run", ROUNDS, cancels,
                started);
    return NULL;
}

Test(compose_stress, random_cancellation)
{
    cr_assert_eq(acio_run(stress_main, NULL, NULL), 0);
}
