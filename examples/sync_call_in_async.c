/* Seed 002 "async_call_sync.py", first version: a blocking call inside a coroutine.
 *
 *     async def request(caller=None):
 *         for i in range(3):
 *             time.sleep(1)  # a blocking sleep standing in for requests.get()
 *             print(f"{caller}:{i}")
 *
 * (test() and main() as in async_call_sync.c.) A blocking call never gives control back
 * to the loop, so the three requests run one after the other: 0:0 0:1 0:2 1:0 ...
 * The seed blocks 1 s per call (9 s in all); this port blocks 0.3 s (2.7 s in all) to
 * keep the demo short. The "run cost" line goes to stderr. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <acio.h>

static void *request(void *arg)
{
    long caller = (long)(intptr_t)arg;
    for (int i = 0; i < 3; i++) {
        struct timespec d = {0, 300 * 1000 * 1000};
        nanosleep(&d, NULL); /* time.sleep: blocks the whole loop */
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
        fprintf(stderr, "sync_call_in_async: %s\n", acio_strerror(rc));
    fprintf(stderr, "%s run cost %0.5f s\n", argv[0], cost);
    return rc < 0;
}
