/* Seed 004 §3.2 "asyncio.gather": two I/O tasks run concurrently; the results come back
 * in the order the coroutines were given, not the order they finished:
 *
 *     async def taskIO_1():
 *         print('开始运行IO任务1...')           # starting I/O task 1
 *         await asyncio.sleep(3)
 *         print('IO任务1已完成，耗时3s')         # I/O task 1 done, took 3 s
 *         return taskIO_1.__name__
 *
 *     async def taskIO_2():
 *         print('开始运行IO任务2...')
 *         await asyncio.sleep(2)
 *         print('IO任务2已完成，耗时2s')
 *         return taskIO_2.__name__
 *
 *     async def main():
 *         resualts = await asyncio.gather(taskIO_1(), taskIO_2())
 *         print(resualts)
 *
 *     start = time.time()
 *     asyncio.run(main())
 *     print('所有IO任务总耗时%.5f秒' % float(time.time() - start))   # total: about 3 s
 *
 * Task 2 finishes first, yet the list is ['taskIO_1', 'taskIO_2']. The total time line
 * goes to stderr so that stdout can be compared exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <acio.h>

static void *taskIO_1(void *arg)
{
    (void)arg;
    printf("开始运行IO任务1...\n");
    int rc = acio_sleep(3);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("IO任务1已完成，耗时3s\n");
    return "taskIO_1";
}

static void *taskIO_2(void *arg)
{
    (void)arg;
    printf("开始运行IO任务2...\n");
    int rc = acio_sleep(2);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("IO任务2已完成，耗时2s\n");
    return "taskIO_2";
}

static void *main_task(void *arg)
{
    (void)arg;
    const acio_call_t calls[] = {{taskIO_1, NULL, NULL}, {taskIO_2, NULL, NULL}};
    void *resualts[2];
    acio_future_t *g;
    int rc = acio_gather_calls(&g, calls, 2, NULL, 0, resualts, NULL, NULL);
    if (rc < 0)
        return acio_raise(rc, "gather failed");
    rc = acio_await(g, NULL);
    acio_future_unref(g);
    if (rc < 0)
        return acio_raise(rc, "an I/O task failed");
    printf("['%s', '%s']\n", (const char *)resualts[0], (const char *)resualts[1]);
    return NULL;
}

int main(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    int rc = acio_run(main_task, NULL, NULL);
    clock_gettime(CLOCK_REALTIME, &t1);
    if (rc < 0) {
        fprintf(stderr, "taskio_gather: %s\n", acio_strerror(rc));
        return 1;
    }
    fprintf(stderr, "所有IO任务总耗时%.5f秒\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
