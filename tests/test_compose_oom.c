/* Allocation failures (curl's torture idea): every composition call is run again and
 * again with the k-th allocation from that point failing, for every k until a run
 * completes without hitting the failure. Each run must end cleanly: an error code or a
 * normal outcome, no crash, and (under ASan) no leak or use after free. */
#include <criterion/criterion.h>
#include <errno.h>

#include "acio.h"
#include "internal.h"
#include "support/rc.h"

#define KIDS 3

static void *kid(void *arg)
{
    int rc = acio_sleep((double)(intptr_t)arg / 1000.0);
    if (rc < 0)
        return acio_raise(rc, NULL);
    if ((intptr_t)arg == 2)
        return acio_raise(-EIO, "kid failed");
    return arg;
}

static void *quick(void *arg)
{
    return arg;
}

typedef int (*op_fn)(acio_task_t **t);

static int op_gather_await(acio_task_t **t)
{
    void *res[KIDS];
    int codes[KIDS];
    return acio_gather_await(t, KIDS, ACIO_GATHER_RETURN_EXCEPTIONS, res, codes);
}

static int op_gather_calls(acio_task_t **t)
{
    (void)t;
    acio_call_t calls[KIDS] = {
        {kid, (void *)1, NULL}, {quick, (void *)3, "q"}, {kid, (void *)2, NULL}};
    acio_task_opts_t o = {.eager = true};
    acio_future_t *g;
    void *res[KIDS];
    int rc = acio_gather_calls(&g, calls, KIDS, &o, 0, res, NULL, NULL);
    if (rc < 0)
        return rc;
    rc = acio_await(g, NULL);
    acio_future_unref(g);
    return rc;
}

static int op_wait(acio_task_t **t)
{
    acio_future_t *d[KIDS], *p[KIDS];
    size_t nd, np;
    return acio_wait(t, KIDS, 0.002, ACIO_FIRST_EXCEPTION, d, &nd, p, &np);
}

static int op_wait_for(acio_task_t **t)
{
    return acio_wait_for(t[2], 0.001, NULL);
}

static int op_as_completed(acio_task_t **t)
{
    acio_as_completed_t *ac;
    acio_future_t *f;
    int rc = acio_as_completed_new(&ac, t, KIDS, 0.0025);
    if (rc < 0)
        return rc;
    while ((rc = acio_as_completed_next(ac, &f)) == 0)
        ;
    acio_as_completed_free(ac);
    return rc;
}

static int op_shield(acio_task_t **t)
{
    acio_future_t *s;
    int rc = acio_shield(&s, t[0]);
    if (rc < 0)
        return rc;
    rc = acio_await(s, NULL);
    acio_future_unref(s);
    return rc;
}

static int op_timeout(acio_task_t **t)
{
    acio_timeout_t cm;
    int rc = acio_timeout_enter(&cm, 0.001);
    if (rc < 0)
        return rc;
    rc = acio_gather_await(t, KIDS, 0, NULL, NULL);
    return acio_timeout_exit(&cm, rc);
}

static int op_taskgroup(acio_task_t **t)
{
    acio_taskgroup_t *tg;
    int rc;
    (void)t;
    if ((rc = acio_taskgroup_new(&tg)) < 0)
        return rc;
    rc = acio_taskgroup_enter(tg);
    for (intptr_t i = 1; i <= KIDS && rc == 0; i++)
        rc = acio_taskgroup_create_task(tg, NULL, kid, (void *)i, NULL);
    if (acio_taskgroup_size(tg) > 0 || rc == 0)
        rc = acio_taskgroup_exit(tg, rc);
    cr_assert_eq(acio_taskgroup_free(tg), 0);
    return rc;
}

static int op_threadsafe(acio_task_t **t)
{
    acio_cfuture_t *cf;
    acio_future_t *f;
    (void)t;
    int rc = acio_run_coroutine_threadsafe(&cf, acio_get_running_loop(), quick, (void *)5);
    if (rc < 0)
        return rc;
    rc = acio_wrap_future(&f, cf, NULL);
    if (rc == 0) {
        rc = acio_wait_for(f, 1, NULL);
        acio_future_unref(f);
    } else {
        acio_cfuture_cancel(cf);
        UNCHECKED(acio_sleep(0.001));
    }
    acio_cfuture_unref(cf);
    return rc;
}

typedef struct {
    op_fn op;
    long fail_at;
} run_t;

static void *main_task(void *arg)
{
    run_t *r = arg;
    acio_task_t *t[KIDS];
    for (intptr_t i = 0; i < KIDS; i++)
        cr_assert_eq(acio_create_task(&t[i], kid, (void *)(i + 1), NULL), 0);
    acio__alloc_fail_after(r->fail_at);
    (void)r->op(t);
    acio__alloc_fail_after(0);
    for (int i = 0; i < KIDS; i++) {
        if (!acio_future_done(t[i]))
            acio_future_cancel(t[i], NULL);
        UNCHECKED(acio_await(t[i], NULL));
        (void)acio_future_error(t[i]);
        acio_future_unref(t[i]);
    }
    UNCHECKED(acio_sleep(0.005)); /* let anything still queued run */
    return NULL;
}

/* Every op here makes well under 60 allocations (the first runs past that point behave
 * as without injection), so k = 1..60 covers each of them failing in turn. */
static void torture(op_fn op)
{
    for (long k = 1; k <= 60; k++) {
        run_t r = {op, k};
        int rc = acio_run(main_task, &r, NULL);
        cr_assert(rc == 0 || rc == -ENOMEM, "k=%ld: acio_run returned %s", k, acio_err_name(rc));
    }
}

Test(compose_oom, gather_await)
{
    torture(op_gather_await);
}
Test(compose_oom, gather_calls)
{
    torture(op_gather_calls);
}
Test(compose_oom, wait)
{
    torture(op_wait);
}
Test(compose_oom, wait_for)
{
    torture(op_wait_for);
}
Test(compose_oom, as_completed)
{
    torture(op_as_completed);
}
Test(compose_oom, shield)
{
    torture(op_shield);
}
Test(compose_oom, timeout)
{
    torture(op_timeout);
}
Test(compose_oom, taskgroup)
{
    torture(op_taskgroup);
}
Test(compose_oom, threadsafe)
{
    torture(op_threadsafe);
}
