/* Seed 001 §3.3 example 3, awaiting the same coroutine function twice in a row:
 *
 *     async def func():
 *         print("执行协程函数内部代码")
 *         response1 = await others()
 *         print("IO请求结束,结果为:", response1)
 *         response2 = await others()
 *         print("IO请求结束,结果为:", response2)
 *
 * (others() as in await_others.c.) The two awaits run one after the other: about 4 s. */
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
    const char *response1 = others(NULL);
    if (response1 == NULL)
        return NULL; /* others raised: its error is already recorded on this task */
    printf("IO请求结束,结果为: %s\n", response1);
    const char *response2 = others(NULL);
    if (response2 == NULL)
        return NULL;
    printf("IO请求结束,结果为: %s\n", response2);
    return NULL;
}

int main(void)
{
    int rc = acio_run(func, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "await_others_twice: %s\n", acio_strerror(rc));
    return rc < 0;
}
