/* Seed 004 §3.1 "asyncio.ensure_future": three tasks made from coroutine objects, run
 * together by asyncio.wait:
 *
 *     async def do_some_work(x):
 *         print('Waiting: ', x)
 *         await asyncio.sleep(x)
 *         return 'Done after {}s'.format(x)
 *
 *     async def main():
 *         coroutine1 = do_some_work(1)
 *         coroutine2 = do_some_work(2)
 *         coroutine3 = do_some_work(2)
 *         tasks = [
 *             asyncio.ensure_future(coroutine1),
 *             asyncio.ensure_future(coroutine2),
 *             asyncio.ensure_future(coroutine3)
 *         ]
 *         start = time.time()
 *         await asyncio.wait(tasks)
 *         print('TIME: ', time.time() - start)
 *
 *     asyncio.run(main())
 *
 * A coroutine object is a function and its argument until a task runs it, so
 * ensure_future() is acio_create_task(). The tasks sleep at the same time: about 2 s, not
 * 5. The TIME line goes to stderr so that stdout can be compared exactly. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

static void *do_some_work(void *arg)
{
    intptr_t x = (intptr_t)arg;
    printf("Waiting:  %ld\n", (long)x);
    int rc = acio_sleep((double)x);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    static char results[3][32];
    static int next;
    char *r = results[next++ % 3];
    snprintf(r, sizeof results[0], "Done after %lds", (long)x);
    return r;
}

static void *main_task(void *arg)
{
    (void)arg;
    static const intptr_t xs[3] = {1, 2, 2};
    acio_task_t *tasks[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_create_task(&tasks[i], do_some_work, (void *)xs[i], NULL);
    acio_loop_t *loop = acio_get_running_loop();
    double start = acio_loop_time(loop);
    if (rc == 0)
        rc = acio_wait(tasks, 3, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 3; i++)
        acio_future_unref(tasks[i]);
    if (rc < 0)
        return acio_raise(rc, "wait failed");
    fprintf(stderr, "TIME:  %.6f\n", acio_loop_time(loop) - start);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "do_some_work: %s\n", acio_strerror(rc));
    return rc < 0;
}
