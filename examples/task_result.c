/* Seed 004 §3.3 "task.result()", the second form ("# or"): instead of a done callback,
 * main awaits the task and then reads its result:
 *
 *     async def foo(num):
 *         print(f'Run foo() num is {num}')
 *         return f"return num is {num}"
 *
 *     async def main():
 *         start = time.time()
 *         coroutine = foo(1)
 *         task = asyncio.create_task(coroutine)
 *         await task
 *         print(f"callback: {task.result()}")
 *         end = time.time()
 *         print(end - start)
 *
 *     asyncio.run(main())
 *
 * The first form (a done callback on a loop made by hand) is done_callback.c; both print
 * the same two lines. The elapsed time goes to stderr so that stdout can be compared
 * exactly. */
#include <stdio.h>
#include <time.h>

#include <acio.h>

struct foo_args {
    int num;
    char ret[32]; /* the task's result points here: it outlives the task */
};

static void *foo(void *arg)
{
    struct foo_args *a = arg;
    printf("Run foo() num is %d\n", a->num);
    snprintf(a->ret, sizeof a->ret, "return num is %d", a->num);
    return a->ret;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *main_task(void *arg)
{
    (void)arg;
    double start = now();
    static struct foo_args coroutine = {.num = 1};
    acio_task_t *task;
    int rc = acio_create_task(&task, foo, &coroutine, NULL);
    if (rc < 0)
        return acio_raise(rc, "create_task failed");
    rc = acio_await(task, NULL);
    void *result;
    if (rc == 0 && (rc = acio_future_result(task, &result)) == 0)
        printf("callback: %s\n", (const char *)result);
    acio_future_unref(task);
    if (rc < 0)
        return acio_raise(rc, "foo failed");
    fprintf(stderr, "%f\n", now() - start);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "task_result: %s\n", acio_strerror(rc));
    return rc < 0;
}
