/* Seed 003 §3.5 "同步原语" (synchronization primitives): the table's Lock, Event,
 * Condition and Semaphore, each used the way its row shows (`async with lock:`,
 * `await event.wait()` / `event.set()`, `async with cond: await cond.wait()` /
 * `async with cond: cond.notify()`, `async with sem:`), plus the section's
 * acquire/try/finally/release form of the lock. The seed gives only those fragments;
 * this is them made one runnable program, checked against this Python (same output):
 *
 *     async def main():
 *         lock = asyncio.Lock()
 *         counter = 0
 *         async def add(name):
 *             nonlocal counter
 *             async with lock:
 *                 value = counter
 *                 await asyncio.sleep(0.01)  # others run meanwhile, but cannot enter
 *                 counter = value + 1
 *                 print(f"{name}: counter = {counter}")
 *         await asyncio.gather(*(add(f"add-{i}") for i in range(3)))
 *         await lock.acquire()  # the same as `async with lock:`
 *         try:
 *             print(f"lock.locked() = {lock.locked()}")
 *         finally:
 *             lock.release()
 *         print(f"lock.locked() = {lock.locked()}")
 *
 *         event = asyncio.Event()
 *         async def waiter(name):
 *             print(f"{name}: waiting")
 *             await event.wait()
 *             print(f"{name}: event is set")
 *         waiters = [asyncio.create_task(waiter(f"waiter-{i}")) for i in range(2)]
 *         await asyncio.sleep(0.01)
 *         print("event.set()")
 *         event.set()
 *         await asyncio.gather(*waiters)
 *
 *         cond = asyncio.Condition()
 *         items = []
 *         async def consumer(name):
 *             async with cond:
 *                 while not items:
 *                     await cond.wait()
 *                 print(f"{name}: got {items.pop(0)}")
 *         consumers = [asyncio.create_task(consumer(f"consumer-{i}")) for i in range(2)]
 *         await asyncio.sleep(0.01)
 *         for i in range(2):
 *             async with cond:
 *                 items.append(i)
 *                 print(f"notify: item {i}")
 *                 cond.notify()
 *             await asyncio.sleep(0.01)
 *         await asyncio.gather(*consumers)
 *
 *         sem = asyncio.Semaphore(2)
 *         async def job(i):
 *             async with sem:
 *                 print(f"job-{i}: running")
 *                 await asyncio.sleep(0.01)
 *                 print(f"job-{i}: done")
 *         await asyncio.gather(*(job(i) for i in range(4)))
 *
 *     asyncio.run(main())
 *
 * `async with x:` is acio's scope guard (ACIO_GUARD), which releases x when the block
 * is left by any path, including an early return on cancellation. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

/* Run n tasks of fn(args[i]) and await them all: asyncio.gather(*coros). */
static int gather(acio_coro_fn fn, void *const *args, size_t n)
{
    acio_call_t calls[4];
    for (size_t i = 0; i < n; i++)
        calls[i] = (acio_call_t){fn, args[i], NULL};
    acio_future_t *g;
    int rc = acio_gather_calls(&g, calls, n, NULL, 0, NULL, NULL, NULL);
    if (rc < 0)
        return rc;
    rc = acio_await(g, NULL);
    acio_future_unref(g);
    return rc;
}

/* ---- Lock ---- */

static acio_lock_t *lock;
static int counter;

static void *add(void *arg)
{
    ACIO_GUARD(g); /* async with lock: */
    int rc = acio_guard_lock(&g, lock);
    if (rc < 0)
        return acio_raise(rc, "acquire failed");
    int value = counter;
    rc = acio_sleep(0.01); /* others run meanwhile, but cannot enter */
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    counter = value + 1;
    printf("add-%d: counter = %d\n", (int)(intptr_t)arg, counter);
    return NULL;
}

static int lock_demo(void)
{
    void *args[3] = {(void *)0, (void *)1, (void *)2};
    int rc = gather(add, args, 3);
    if (rc < 0)
        return rc;
    rc = acio_lock_acquire(lock); /* the same as `async with lock:` */
    if (rc < 0)
        return rc;
    printf("lock.locked() = %s\n", acio_lock_locked(lock) ? "True" : "False");
    acio_lock_release(lock); /* finally: */
    printf("lock.locked() = %s\n", acio_lock_locked(lock) ? "True" : "False");
    return 0;
}

/* ---- Event ---- */

static acio_event_t *event;

static void *waiter(void *arg)
{
    int i = (int)(intptr_t)arg;
    printf("waiter-%d: waiting\n", i);
    int rc = acio_event_wait(event);
    if (rc < 0)
        return acio_raise(rc, "wait failed");
    printf("waiter-%d: event is set\n", i);
    return NULL;
}

/* Await the n tasks of ts (gather over tasks already created) unless rc already says
 * something failed, then release them. */
static int await_all(acio_task_t **ts, size_t n, int rc)
{
    if (rc == 0)
        rc = acio_gather_await(ts, n, 0, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        acio_future_unref(ts[i]);
    return rc;
}

static int event_demo(void)
{
    acio_task_t *waiters[2];
    size_t n = 0;
    int rc = 0;
    for (; n < 2 && rc == 0; n++)
        rc = acio_create_task(&waiters[n], waiter, (void *)(intptr_t)n, NULL);
    if (rc < 0)
        n--;
    if (rc == 0)
        rc = acio_sleep(0.01);
    if (rc == 0) {
        printf("event.set()\n");
        acio_event_set(event);
    }
    return await_all(waiters, n, rc);
}

/* ---- Condition ---- */

static acio_condition_t *cond;
static int items[2], nitems, first;

static void *consumer(void *arg)
{
    ACIO_GUARD(g); /* async with cond: */
    int rc = acio_guard_condition(&g, cond);
    if (rc < 0)
        return acio_raise(rc, "acquire failed");
    while (nitems == 0)
        if ((rc = acio_condition_wait(cond)) < 0)
            return acio_raise(rc, "wait failed");
    nitems--;
    printf("consumer-%d: got %d\n", (int)(intptr_t)arg, items[first++]);
    return NULL;
}

static int condition_demo(void)
{
    acio_task_t *consumers[2];
    size_t n = 0;
    int rc = 0;
    for (; n < 2 && rc == 0; n++)
        rc = acio_create_task(&consumers[n], consumer, (void *)(intptr_t)n, NULL);
    if (rc < 0)
        n--;
    if (rc == 0)
        rc = acio_sleep(0.01);
    for (int i = 0; i < 2 && rc == 0; i++) {
        {
            ACIO_GUARD(g); /* async with cond: */
            rc = acio_guard_condition(&g, cond);
            if (rc < 0)
                break;
            items[first + nitems++] = i;
            printf("notify: item %d\n", i);
            acio_condition_notify(cond, 1);
        }
        rc = acio_sleep(0.01);
    }
    return await_all(consumers, n, rc);
}

/* ---- Semaphore ---- */

static acio_semaphore_t *sem;

static void *job(void *arg)
{
    int i = (int)(intptr_t)arg;
    ACIO_GUARD(g); /* async with sem: */
    int rc = acio_guard_semaphore(&g, sem);
    if (rc < 0)
        return acio_raise(rc, "acquire failed");
    printf("job-%d: running\n", i);
    rc = acio_sleep(0.01);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("job-%d: done\n", i);
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    int rc = lock_demo();
    if (rc == 0)
        rc = event_demo();
    if (rc == 0)
        rc = condition_demo();
    if (rc == 0) {
        void *args[4] = {(void *)0, (void *)1, (void *)2, (void *)3};
        rc = gather(job, args, 4);
    }
    return rc < 0 ? acio_raise(rc, "a demo failed") : NULL;
}

int main(void)
{
    int rc = acio_lock_new(&lock);
    if (rc == 0)
        rc = acio_event_new(&event);
    if (rc == 0)
        rc = acio_condition_new(&cond, NULL);
    if (rc == 0)
        rc = acio_semaphore_new(&sem, 2);
    if (rc == 0)
        rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "sync_primitives: %s\n", acio_strerror(rc));
    acio_semaphore_free(sem);
    acio_condition_free(cond);
    acio_event_free(event);
    acio_lock_free(lock);
    return rc < 0;
}
