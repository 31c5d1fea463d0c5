/* Seed 001 §3.4 example 1, two tasks running concurrently:
 *
 *     async def func():
 *         print(1)
 *         await asyncio.sleep(2)
 *         print(2)
 *         return "返回值"
 *
 *     async def main():
 *         print("main开始")
 *         task1 = asyncio.create_task( func() )
 *         task2 = asyncio.create_task( func() )
 *         print("main结束")
 *         ret1 = await task1
 *         ret2 = await task2
 *         print(ret1, ret2)
 *
 *     asyncio.run( main() )
 *
 * create_task only schedules the tasks; they start when main first awaits. Both sleep at
 * the same time, so the program takes about 2 s, not 4. */
#include <stdio.h>

#include <acio.h>

static void *func(void *arg)
{
    (void)arg;
    printf("1\n");
    int rc = acio_sleep(2);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("2\n");
    return "返回值";
}

static void *main_task(void *arg)
{
    (void)arg;
    printf("main开始\n");
    acio_task_t *task1 = NULL, *task2 = NULL;
    int rc = acio_create_task(&task1, func, NULL, NULL);
    if (rc == 0)
        rc = acio_create_task(&task2, func, NULL, NULL);
    if (rc == 0)
        printf("main结束\n");
    void *ret1 = NULL, *ret2 = NULL;
    if (rc == 0)
        rc = acio_await(task1, &ret1);
    if (rc == 0)
        rc = acio_await(task2, &ret2);
    acio_future_unref(task1);
    acio_future_unref(task2);
    if (rc < 0)
        return acio_raise(rc, "a task failed");
    printf("%s %s\n", (const char *)ret1, (const char *)ret2);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "task_objects: %s\n", acio_strerror(rc));
    return rc < 0;
}
