/* Seed 003 §3.1, three factorials computed concurrently. The seed's gather() call is
 * spelled out the way the seed itself rewrites it:
 *
 *     async def factorial(name, number):
 *         f = 1
 *         for i in range(2, number + 1):
 *             print(f"Task {name}: Compute factorial({number}), currently i={i}...")
 *             await asyncio.sleep(1)
 *             f *= i
 *         print(f"Task {name}: factorial({number}) = {f}")
 *         return f
 *
 *     async def main():
 *         tasks = [
 *             asyncio.create_task(factorial("A", 2)),
 *             asyncio.create_task(factorial("B", 3)),
 *             asyncio.create_task(factorial("C", 4)),
 *         ]
 *         results = [await task for task in tasks]
 *         print(results)
 *
 * Total time about 3 s. The three sleeps due at the same moment wake in the order they
 * were started, so the lines come out in the seed's order every time. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

struct factorial_args {
    const char *name;
    int number;
};

static void *factorial(void *arg)
{
    const struct factorial_args *a = arg;
    intptr_t f = 1;
    for (int i = 2; i <= a->number; i++) {
        printf("Task %s: Compute factorial(%d), currently i=%d...\n", a->name, a->number, i);
        int rc = acio_sleep(1);
        if (rc < 0)
            return acio_raise(rc, "sleep failed");
        f *= i;
    }
    printf("Task %s: factorial(%d) = %ld\n", a->name, a->number, (long)f);
    return (void *)f;
}

static void *main_task(void *arg)
{
    (void)arg;
    static const struct factorial_args args[3] = {{"A", 2}, {"B", 3}, {"C", 4}};
    acio_task_t *tasks[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_create_task(&tasks[i], factorial, (void *)&args[i], NULL);
    long results[3] = {0, 0, 0};
    for (int i = 0; i < 3 && rc == 0; i++) {
        void *r;
        rc = acio_await(tasks[i], &r);
        results[i] = (long)(intptr_t)r;
    }
    for (int i = 0; i < 3; i++)
        acio_future_unref(tasks[i]);
    if (rc < 0)
        return acio_raise(rc, "a factorial task failed");
    printf("[%ld, %ld, %ld]\n", results[0], results[1], results[2]);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "factorial: %s\n", acio_strerror(rc));
    return rc < 0;
}
