/* Seed 001 §3.4 example 2, named tasks awaited together with asyncio.wait:
 *
 *     async def func():
 *         print(1)
 *         await asyncio.sleep(2)
 *         print(2)
 *         return "返回值"
 *
 *     async def main():
 *         print("main开始")                                  # main starts
 *         task_list = [
 *             asyncio.create_task(func(), name='n1'),
 *             asyncio.create_task(func(), name='n2')
 *         ]
 *         print("main结束")                                  # main ends
 *         done, pending = await asyncio.wait(task_list, timeout=None)
 *         print(done)
 *
 *     asyncio.run(main())
 *
 * The tasks start when main first awaits, and sleep at the same time (about 2 s). done is
 * a set of tasks, which Python prints as reprs in no fixed order, ending with each
 * coroutine's source path; this prints them in name order, in the reprs' shape without
 * the path. */
#include <stdio.h>
#include <string.h>

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

/* print(done): the set of finished tasks, in name order. */
static void print_done(acio_future_t **done, size_t n)
{
    if (n == 2 && strcmp(acio_task_get_name(done[0]), acio_task_get_name(done[1])) > 0) {
        acio_future_t *t = done[0];
        done[0] = done[1];
        done[1] = t;
    }
    printf("{");
    for (size_t i = 0; i < n; i++) {
        void *r = NULL;
        int rc = acio_future_result(done[i], &r);
        printf("%s<Task finished name='%s' coro=<func()> result='%s'>", i ? ", " : "",
               acio_task_get_name(done[i]), rc == 0 ? (const char *)r : "?");
    }
    printf("}\n");
}

static void *main_task(void *arg)
{
    (void)arg;
    printf("main开始\n");
    acio_task_t *task_list[2] = {NULL, NULL};
    int rc = acio_create_task(&task_list[0], func, NULL, "n1");
    if (rc == 0)
        rc = acio_create_task(&task_list[1], func, NULL, "n2");
    if (rc == 0) {
        printf("main结束\n");
        acio_future_t *done[2], *pending[2];
        size_t ndone, npending;
        rc = acio_wait(task_list, 2, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, done, &ndone, pending,
                       &npending);
        if (rc == 0)
            print_done(done, ndone);
    }
    acio_future_unref(task_list[0]);
    acio_future_unref(task_list[1]);
    return rc < 0 ? acio_raise(rc, "wait failed") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "wait_done: %s\n", acio_strerror(rc));
    return rc < 0;
}
