/* Seed 003 §1.4, second version: `await coro_a()` replaced by
 * `await asyncio.create_task(coro_a())`:
 *
 *     async def main():
 *         task_b = asyncio.create_task(coro_b())
 *         num_repeats = 3
 *         for _ in range(num_repeats):
 *             await asyncio.create_task(coro_a())
 *         await task_b
 *
 * Awaiting a task gives control to the loop, which first runs task_b (scheduled
 * earlier, FIFO), then the coro_a task, then resumes main: coro_b now prints first. */
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
    for (int i = 0; i < num_repeats && rc == 0; i++) {
        acio_task_t *a;
        rc = acio_create_task(&a, coro_a, NULL, NULL);
        if (rc == 0) {
            rc = acio_await(a, NULL);
            acio_future_unref(a);
        }
    }
    if (rc == 0)
        rc = acio_await(task_b, NULL);
    acio_future_unref(task_b);
    return rc < 0 ? acio_raise(rc, "a task failed") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "coro_a_b_tasks: %s\n", acio_strerror(rc));
    return rc < 0;
}
