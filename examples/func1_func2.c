/* Seed 001 §1.3/§1.4, two coroutines on a loop created by hand:
 *
 *     async def func1():
 *         print(1)
 *         await asyncio.sleep(2)  # on I/O, switch to the other tasks
 *         print(2)
 *
 *     async def func2():
 *         print(3)
 *         await asyncio.sleep(2)
 *         print(4)
 *
 *     tasks = [asyncio.ensure_future(func1()), asyncio.ensure_future(func2())]
 *     loop = asyncio.get_event_loop()
 *     loop.run_until_complete(asyncio.wait(tasks))
 *
 * asyncio.wait() belongs to a later layer; running the loop until each task in turn is
 * done waits for both just the same (the second is usually done by then). */
#include <stdio.h>

#include <acio.h>

static void *func1(void *arg)
{
    (void)arg;
    printf("1\n");
    int rc = acio_sleep(2);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("2\n");
    return NULL;
}

static void *func2(void *arg)
{
    (void)arg;
    printf("3\n");
    int rc = acio_sleep(2);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("4\n");
    return NULL;
}

int main(void)
{
    acio_loop_t *loop;
    int rc = acio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "func1_func2: %s\n", acio_strerror(rc));
        return 1;
    }
    acio_task_t *tasks[2] = {NULL, NULL};
    if ((rc = acio_loop_create_task(loop, &tasks[0], func1, NULL, NULL)) == 0 &&
        (rc = acio_loop_create_task(loop, &tasks[1], func2, NULL, NULL)) == 0) {
        for (int i = 0; i < 2 && rc == 0; i++)
            rc = acio_loop_run_until_complete(loop, tasks[i], NULL);
    }
    if (rc < 0)
        fprintf(stderr, "func1_func2: %s\n", acio_strerror(rc));
    acio_future_unref(tasks[0]);
    acio_future_unref(tasks[1]);
    acio_loop_close(loop);
    return rc < 0;
}
