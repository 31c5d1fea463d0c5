/* Seed 002 "countasync.py", three counts that sleep concurrently:
 *
 *     async def count():
 *         print("One")
 *         await asyncio.sleep(1)
 *         print("Two")
 *
 *     async def main():
 *         await asyncio.gather(count(), count(), count())
 *
 *     if __name__ == "__main__":
 *         s = time.perf_counter()
 *         asyncio.run(main())
 *         elapsed = time.perf_counter() - s
 *         print(f"{__file__} executed in {elapsed:0.2f} seconds.")
 *
 * (The seed passes `count` without parentheses the third time, which Python rejects;
 * this is the intended program.) gather() belongs to a later layer: main creates the
 * three tasks and awaits each, which prints the same lines. The timing line goes to
 * stderr so that stdout can be compared exactly; it shows about 1.00 s, not 3. */
#include <stdio.h>
#include <time.h>

#include <acio.h>

static void *count(void *arg)
{
    (void)arg;
    printf("One\n");
    int rc = acio_sleep(1);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("Two\n");
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t *tasks[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_create_task(&tasks[i], count, NULL, NULL);
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_await(tasks[i], NULL);
    for (int i = 0; i < 3; i++)
        acio_future_unref(tasks[i]);
    return rc < 0 ? acio_raise(rc, "a count task failed") : NULL;
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
    double elapsed = perf_counter() - s;
    if (rc < 0)
        fprintf(stderr, "countasync: %s\n", acio_strerror(rc));
    fprintf(stderr, "%s executed in %0.2f seconds.\n", argv[0], elapsed);
    return rc < 0;
}
