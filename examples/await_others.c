/* Seed 001 §3.3 example 2, awaiting another coroutine and using its return value:
 *
 *     async def others():
 *         print("start")
 *         await asyncio.sleep(2)
 *         print('end')
 *         return '返回值'
 *
 *     async def func():
 *         print("执行协程函数内部代码")
 *         response = await others()
 *         print("IO请求结束,结果为:", response)
 *
 *     asyncio.run( func() )
 *
 * `await others()` is a plain call: others runs on func's task and its acio_sleep()
 * suspends that task. A failure is returned the way a raise propagates: others raises,
 * func sees NULL and the task's pending error, and returns it in turn. */
#include <stdio.h>

#include <acio.h>

static void *others(void *arg)
{
    (void)arg;
    printf("start\n");
    int rc = acio_sleep(2);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("end\n");
    return "返回值";
}

static void *func(void *arg)
{
    (void)arg;
    printf("执行协程函数内部代码\n");
    const char *response = others(NULL);
    if (response == NULL)
        return NULL; /* others raised: its error is already recorded on this task */
    printf("IO请求结束,结果为: %s\n", response);
    return NULL;
}

int main(void)
{
    int rc = acio_run(func, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "await_others: %s\n", acio_strerror(rc));
    return rc < 0;
}
