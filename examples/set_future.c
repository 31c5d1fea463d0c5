/* Seed 004 §4.2 "设置 Future 结果" (setting a future's result): a task sets the result
 * of a future that main awaits; the future is printed before and after:
 *
 *     async def set_future(future):
 *         print("执行任务前的Future对象:", future)          # the future before the task
 *         ret = await asyncio.sleep(1, 100)
 *         future.set_result(1)
 *         print("设置返回值后的Future对象:", future)        # the future after set_result
 *         return ret
 *
 *     async def main():
 *         loop = asyncio.get_running_loop()
 *         fut = loop.create_future()
 *         task_result = asyncio.create_task(set_future(fut))
 *         print("获取任务对象（未执行）:", task_result)     # the task (not run yet)
 *         future_result = await fut
 *         print("获取Future返回值:", future_result)        # the future's value
 *
 *     asyncio.run(main())
 *
 * Python prints reprs; acio has none, so show() prints the parts of them that say what
 * the seed is about (state, name, result) in Python's shape. Python 3.11 also lists the
 * callbacks waiting on the future (cb=[Task.task_wakeup()]) and the task's source line;
 * these are left out. asyncio.sleep(1, 100) returns 100: acio_sleep() has no result
 * argument, so set_future returns 100 itself. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

/* The repr of a future or task, in the shape Python 3.11 prints it (see above). */
static void show(const char *label, acio_future_t *fut, const char *coro)
{
    const char *kind = acio_is_task(fut) ? "Task" : "Future";
    printf("%s <%s ", label, kind);
    if (!acio_future_done(fut))
        printf("pending");
    else if (acio_future_cancelled(fut))
        printf("cancelled");
    else
        printf("finished");
    if (acio_is_task(fut))
        printf(" name='%s' coro=<%s()>", acio_task_get_name(fut), coro);
    void *r;
    if (acio_future_done(fut) && acio_future_result(fut, &r) == 0)
        printf(" result=%ld", (long)(intptr_t)r);
    printf(">\n");
}

static void *set_future(void *arg)
{
    acio_future_t *future = arg;
    show("执行任务前的Future对象:", future, NULL);
    int rc = acio_sleep(1);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    intptr_t ret = 100; /* asyncio.sleep(1, 100)'s result */
    rc = acio_future_set_result(future, (void *)(intptr_t)1);
    if (rc < 0)
        return acio_raise(rc, "set_result failed");
    show("设置返回值后的Future对象:", future, NULL);
    return (void *)ret;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *fut;
    int rc = acio_future_new(loop, &fut);
    if (rc < 0)
        return acio_raise(rc, "create_future failed");
    acio_task_t *task_result;
    rc = acio_create_task(&task_result, set_future, fut, NULL);
    if (rc < 0) {
        acio_future_unref(fut);
        return acio_raise(rc, "create_task failed");
    }
    show("获取任务对象（未执行）:", task_result, "set_future");
    void *future_result;
    rc = acio_await(fut, &future_result);
    if (rc == 0)
        printf("获取Future返回值: %ld\n", (long)(intptr_t)future_result);
    /* set_future ran to its end in the step that set the result (it printed before
     * main resumed); awaiting it collects that end. */
    if (rc == 0)
        rc = acio_await(task_result, NULL);
    acio_future_unref(task_result);
    acio_future_unref(fut);
    return rc < 0 ? acio_raise(rc, "set_future failed") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "set_future: %s\n", acio_strerror(rc));
    return rc < 0;
}
