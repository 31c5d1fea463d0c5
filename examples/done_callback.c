/* Seed 004 §3.3, a done callback on a task, on a loop made by hand:
 *
 *     async def foo(num):
 *         print(f'Run foo() num is {num}')
 *         return f"return num is {num}"
 *
 *     def callback(task):
 *         print(f"callback: {task.result()}")
 *
 *     start = time.time()
 *     coroutine = foo(1)
 *     loop = asyncio.get_event_loop()
 *     task = asyncio.ensure_future(coroutine)
 *     task.add_done_callback(callback)   # called once the task is done
 *     loop.run_until_complete(task)
 *     loop.close()
 *     end = time.time()
 *     print(end - start)
 *
 * Done callbacks run through call_soon, in the order they were added: ours was added
 * before run_until_complete's own, so it runs before the loop stops. The elapsed time
 * goes to stderr so stdout can be compared exactly. */
#include <stdio.h>
#include <sys/time.h>

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

static void callback(acio_future_t *task, void *data)
{
    (void)data;
    void *result;
    if (acio_future_result(task, &result) == 0)
        printf("callback: %s\n", (const char *)result);
}

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(void)
{
    double start = now();
    struct foo_args args = {.num = 1};
    acio_loop_t *loop;
    int rc = acio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "done_callback: %s\n", acio_strerror(rc));
        return 1;
    }
    acio_task_t *task;
    rc = acio_loop_create_task(loop, &task, foo, &args, NULL);
    if (rc == 0) {
        rc = acio_future_add_done_callback(task, callback, NULL);
        if (rc == 0)
            rc = acio_loop_run_until_complete(loop, task, NULL);
        acio_future_unref(task);
    }
    if (rc < 0)
        fprintf(stderr, "done_callback: %s\n", acio_strerror(rc));
    acio_loop_close(loop);
    double end = now();
    fprintf(stderr, "%f\n", end - start);
    return rc < 0;
}
