/* Out-of-memory paths of the sync, queue and aiter layers: every allocation they make
 * is failed on purpose (the internal allocator hook, acio__alloc_fail_after) and the
 * operation must return -ENOMEM with the object unchanged and usable, never crash or
 * leak (the ASan build checks leaks). Then a torture run: a scenario using all of them
 * is repeated with the n-th allocation failing, for every n until it succeeds. */
#include <criterion/criterion.h>

#include "diff_sync/trace.h"
#include "internal.h"
#include "support/rc.h"

#define I(x) ((void *)(intptr_t)(x))

TestSuite(nomem, .timeout = 120);

Test(nomem, constructors)
{
    acio_lock_t *l;
    acio_event_t *e;
    acio_condition_t *c;
    acio_semaphore_t *s;
    acio_barrier_t *b;
    acio_queue_t *q;
    acio_agen_t *g;

    acio__alloc_fail_after(1);
    cr_assert_eq(acio_lock_new(&l), -ENOMEM);
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_event_new(&e), -ENOMEM);
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_condition_new(&c, NULL), -ENOMEM);
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_semaphore_new(&s, 1), -ENOMEM);
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_barrier_new(&b, 2), -ENOMEM);
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_queue_new(&q, 0), -ENOMEM);
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_priority_queue_new(&q, 0, NULL, NULL), -ENOMEM);
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_agen_new(&g, NULL, NULL, 0), -EINVAL, "argument errors come first");
    acio__alloc_fail_after(0);
}

Test(nomem, queue_growth_keeps_the_queue_intact)
{
    acio_queue_t *q;
    void *v;
    for (int kind = 0; kind < 3; kind++) {
        int rc = kind == 0   ? acio_queue_new(&q, 0)
                 : kind == 1 ? acio_lifo_queue_new(&q, 0)
                             : acio_priority_queue_new(&q, 0, NULL, NULL);
        cr_assert_eq(rc, 0);
        acio__alloc_fail_after(1);
        cr_assert_eq(acio_queue_put_nowait(q, I(0)), -ENOMEM, "first slot");
        cr_assert_eq(acio_queue_qsize(q), 0);
        cr_assert_eq(acio_queue_unfinished_tasks(q), 0);
        /* Fill the first block (16 slots), wrapping the ring once, then fail its growth. */
        for (int i = 0; i < 16; i++)
            cr_assert_eq(acio_queue_put_nowait(q, I(i)), 0);
        for (int i = 0; i < 5; i++)
            cr_assert_eq(acio_queue_get_nowait(q, &v), 0);
        for (int i = 16; i < 21; i++)
            cr_assert_eq(acio_queue_put_nowait(q, I(i)), 0);
        acio__alloc_fail_after(1);
        cr_assert_eq(acio_queue_put_nowait(q, I(99)), -ENOMEM);
        cr_assert_eq(acio_queue_qsize(q), 16);
        cr_assert_eq(acio_queue_unfinished_tasks(q), 21);
        /* It still works, and nothing was lost or reordered. */
        cr_assert_eq(acio_queue_put_nowait(q, I(21)), 0);
        int count = 0;
        while (acio_queue_get_nowait(q, &v) == 0)
            count++;
        cr_assert_eq(count, 17);
        cr_assert_eq(acio_queue_free(q), 0);
    }
}

static acio_lock_t *L;
static acio_queue_t *Q;

static void *contender(void *arg)
{
    (void)arg;
    void *v;
    /* The first waiter allocates the waiter ring: fail that allocation. */
    acio__alloc_fail_after(1);
    int rc = acio_lock_acquire(L);
    acio__alloc_fail_after(0);
    cr_assert_eq(rc, -ENOMEM);
    acio__alloc_fail_after(1);
    rc = acio_queue_get(Q, &v);
    acio__alloc_fail_after(0);
    cr_assert_eq(rc, -ENOMEM);
    /* Nothing is left half-done: both work now. */
    cr_assert_eq(acio_lock_acquire(L), 0);
    cr_assert_eq(acio_lock_release(L), 0);
    cr_assert_eq(acio_queue_get(Q, &v), 0);
    return NULL;
}

static void *waiter_nomem_main(void *arg)
{
    (void)arg;
    acio_task_t *t;
    cr_assert_eq(acio_lock_acquire(L), 0);
    SPAWN(&t, contender, NULL, "contender");
    OK(acio_sleep(0));
    acio_lock_release(L);
    OK(acio_queue_put_nowait(Q, I(1)));
    OK(acio_await(t, NULL));
    cr_assert_eq(acio_future_error(t), 0);
    acio_future_unref(t);
    return NULL;
}

Test(nomem, waiting_without_memory)
{
    cr_assert_eq(acio_lock_new(&L), 0);
    cr_assert_eq(acio_queue_new(&Q, 0), 0);
    cr_assert_eq(acio_run(waiter_nomem_main, NULL, NULL), 0);
    cr_assert(!acio_lock_locked(L));
    cr_assert_eq(acio_lock_free(L), 0);
    cr_assert_eq(acio_queue_free(Q), 0);
}

/* ---- torture ---- */

static int gen_body(acio_agen_t *gen, void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (acio_agen_yield(gen, I(i), NULL) < 0)
            return 0;
    return 0;
}

static void *torture_user(void *arg)
{
    acio_semaphore_t *sem = arg;
    void *v;
    if (acio_lock_acquire(L) == 0) {
        UNCHECKED(acio_sleep(0));
        acio_lock_release(L);
    }
    if (acio_semaphore_acquire(sem) == 0) {
        UNCHECKED(acio_sleep(0));
        acio_semaphore_release(sem);
    }
    if (acio_queue_put(Q, I(1)) == 0 && acio_queue_get(Q, &v) == 0)
        acio_queue_task_done(Q);
    return NULL;
}

static void *torture_main(void *arg)
{
    (void)arg;
    acio_semaphore_t *sem = NULL;
    acio_agen_t *g = NULL;
    acio_task_t *t[3] = {NULL, NULL, NULL};
    void *v;
    int rc;

    if (acio_semaphore_new(&sem, 1) < 0)
        return NULL;
    for (int i = 0; i < 3; i++)
        if (acio_create_task(&t[i], torture_user, sem, NULL) < 0)
            t[i] = NULL;
    if (acio_agen_new(&g, gen_body, NULL, 0) == 0) {
        ACIO_AFOR(rc, acio_agen_aiter(g), v);
        acio_agen_free(g);
    }
    for (int i = 0; i < 3; i++) {
        if (t[i] != NULL) {
            UNCHECKED(acio_await(t[i], NULL));
            acio_future_unref(t[i]);
        }
    }
    UNCHECKED(acio_queue_join(Q));
    cr_assert_eq(acio_semaphore_free(sem), 0);
    return NULL;
}

Test(nomem, torture_every_allocation)
{
    /* 400 covers every allocation of one run (the core's caches warm up in the first
     * runs, so later ones allocate less). */
    for (int n = 1; n <= 400; n++) {
        cr_assert_eq(acio_lock_new(&L), 0);
        cr_assert_eq(acio_queue_new(&Q, 1), 0);
        acio__alloc_fail_after(n);
        UNCHECKED(acio_run(torture_main, NULL, NULL));
        acio__alloc_fail_after(0);
        cr_assert(!acio_lock_locked(L), "n=%d: lock left locked", n);
        cr_assert_eq(acio_lock_free(L), 0, "n=%d", n);
        /* Items may remain if a consumer's get failed; the queue must be free-able. */
        cr_assert_eq(acio_queue_free(Q), 0, "n=%d", n);
    }
}
