/* Seed 002 "asyncio.create_task", the gather() example: two tasks that reverse a list
 * after sleeping as many seconds as its largest element; gather returns both results,
 * in the order given, once both are done:
 *
 *     async def coro(seq) -> list:
 *         """'IO' wait time is proportional to the max element."""
 *         await asyncio.sleep(max(seq))
 *         return list(reversed(seq))
 *
 *     async def main():
 *         t = asyncio.create_task(coro([3, 2, 1]))
 *         t2 = asyncio.create_task(coro([10, 5, 0]))  # Python 3.7+
 *         print('Start:', time.strftime('%X'))
 *         a = await asyncio.gather(t, t2)
 *         print('End:', time.strftime('%X'))  # Should be 10 seconds
 *         print(f'Both tasks done: {all((t.done(), t2.done()))}')
 *         return a
 *
 *     a = asyncio.run(main())
 *     a          # the interactive session echoes [[1, 2, 3], [0, 5, 10]]
 *
 * The sleeps are a tenth of the seed's (0.3 s and 1 s instead of 3 s and 10 s). Start
 * and End print the wall-clock time, so they go to stderr; stdout keeps the rest, and
 * the echoed result. (seed 002's as_completed variant is wait_as_completed.c.) */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <acio.h>

typedef struct {
    int seq[3];
    int reversed[3];
} list_t;

static void *coro(void *arg)
{
    list_t *l = arg;
    int max = l->seq[0];
    for (int i = 1; i < 3; i++)
        max = l->seq[i] > max ? l->seq[i] : max;
    int rc = acio_sleep(max / 10.0);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    for (int i = 0; i < 3; i++)
        l->reversed[i] = l->seq[2 - i];
    return l->reversed;
}

static void print_time(const char *label)
{
    char buf[16];
    time_t now = time(NULL);
    strftime(buf, sizeof buf, "%X", localtime(&now));
    fprintf(stderr, "%s %s\n", label, buf);
}

static void *main_task(void *arg)
{
    void **a = arg;
    static list_t l1 = {{3, 2, 1}, {0}}, l2 = {{10, 5, 0}, {0}};
    acio_task_t *t[2] = {NULL, NULL};
    int rc = acio_create_task(&t[0], coro, &l1, NULL);
    if (rc == 0)
        rc = acio_create_task(&t[1], coro, &l2, NULL);
    if (rc == 0) {
        print_time("Start:");
        rc = acio_gather_await(t, 2, 0, a, NULL);
    }
    if (rc == 0) {
        print_time("End:");
        printf("Both tasks done: %s\n",
               acio_future_done(t[0]) && acio_future_done(t[1]) ? "True" : "False");
    }
    acio_future_unref(t[0]);
    acio_future_unref(t[1]);
    return rc < 0 ? acio_raise(rc, "gather failed") : a;
}

int main(void)
{
    void *a[2] = {NULL, NULL};
    int rc = acio_run(main_task, a, NULL);
    if (rc < 0) {
        fprintf(stderr, "gather_coro: %s\n", acio_strerror(rc));
        return 1;
    }
    const int *x = a[0], *y = a[1];
    printf("[[%d, %d, %d], [%d, %d, %d]]\n", x[0], x[1], x[2], y[0], y[1], y[2]);
    return 0;
}
