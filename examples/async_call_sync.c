/* Seed 002 "async_call_sync.py", second version (asyncio.sleep instead of time.sleep):
 *
 *     async def request(caller=None):
 *         for i in range(3):
 *             await asyncio.sleep(1)
 *             print(f"{caller}:{i}")
 *
 *     async def test(name):
 *         await request(name)
 *
 *     async def main():
 *         await asyncio.gather(*(test(i) for i in range(3)))
 *
 * gather() belongs to a later layer: main creates the three tasks and awaits each. The
 * requests interleave (0:0 1:0 2:0 0:1 ...) and the run takes about 3 s, not 9. The
 * "run cost" line goes to stderr so stdout can be compared exactly.
 * sync_call_in_async.c is the first version, which blocks the loop. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <acio.h>

static void *request(void *arg)
{
    long caller = (long)(intptr_t)arg;
    for (int i = 0; i < 3; i++) {
        int rc = acio_sleep(1);
        if (rc < 0)
            return acio_raise(rc, "sleep failed");
        printf("%ld:%d\n", caller, i);
    }
    return NULL;
}

static void *test(void *arg)
{
    return request(arg); /* await request(name) */
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t *tasks[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_create_task(&tasks[i], test, (void *)(intptr_t)i, NULL);
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_await(tasks[i], NULL);
    for (int i = 0; i < 3; i++)
        acio_future_unref(tasks[i]);
    return rc < 0 ? acio_raise(rc, "a test task failed") : NULL;
}

static double perf_counter(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    (void)argc;
    double s = perf_counter();
    int rc = acio_run(main_task, NULL, NULL);
    double cost = perf_counter() - s;
    if (rc < 0)
        fprintf(stderr, "async_call_sync: %s\n", acio_strerror(rc));
    fprintf(stderr, "%s run cost %0.5f s\n", argv[0], cost);
    return rc < 0;
}
