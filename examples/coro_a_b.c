/* Seed 003 §1.4, awaiting a coroutine does not give control to the loop:
 *
 *     async def coro_a():
 *         print("I am coro_a(). Hi!")
 *
 *     async def coro_b():
 *         print("I am coro_b(). I sure hope no one hogs the event loop...")
 *
 *     async def main():
 *         task_b = asyncio.create_task(coro_b())
 *         num_repeats = 3
 *         for _ in range(num_repeats):
 *             await coro_a()
 *         await task_b
 *
 *     asyncio.run(main())
 *
 * `await coro_a()` is a plain C call: it runs coro_a on the caller's stack without
 * yielding, so task_b runs only when main awaits it. coro_a_b_tasks.c is the variant
 * that wraps each coro_a() in a task. */
#include <stdio.h>

#include <acio.h>

static void *coro_a(void *arg)
{
    (void)arg;
    printf("I am coro_a(). Hi!\n");
    return NULL;
}

static void *coro_b(void *arg)
{
    (void)arg;
    printf("I am coro_b(). I sure hope no one hogs the event loop...\n");
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t *task_b;
    int rc = acio_create_task(&task_b, coro_b, NULL, NULL);
    if (rc < 0)
        return acio_raise(rc, "create_task failed");
    int num_repeats = 3;
    for (int i = 0; i < num_repeats; i++)
        coro_a(NULL); /* await coro_a() */
    rc = acio_await(task_b, NULL);
    acio_future_unref(task_b);
    return rc < 0 ? acio_raise(rc, "task_b failed") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "coro_a_b: %s\n", acio_strerror(rc));
    return rc < 0;
}
