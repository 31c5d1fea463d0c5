/* Seed 004 §3.1 "asyncio.create_task(coro, *, name=None)": a named task, printed before
 * it has run, then awaited:
 *
 *     async def foo(a, *, b, c):
 *         await asyncio.sleep(1)
 *         return a + b + c
 *
 *     async def main():
 *         task = asyncio.create_task(foo(1, b=2, c=3), name="task1")
 *         print(task, type(task))
 *         ret = await task
 *         print(ret)
 *
 *     asyncio.run(main())
 *
 * create_task only schedules the task: it is still pending when printed, and runs once
 * main awaits it. Python prints the task's repr, which ends with the coroutine's source
 * path and line; acio has no repr, so this prints its state, name and coroutine in
 * Python's shape without the path. Keyword arguments travel in a struct. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

typedef struct {
    long a, b, c;
} foo_args_t;

static void *foo(void *arg)
{
    const foo_args_t *x = arg;
    int rc = acio_sleep(1);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    return (void *)(intptr_t)(x->a + x->b + x->c);
}

static void *main_task(void *arg)
{
    (void)arg;
    static const foo_args_t args = {.a = 1, .b = 2, .c = 3};
    acio_task_t *task;
    int rc = acio_create_task(&task, foo, (void *)&args, "task1");
    if (rc < 0)
        return acio_raise(rc, "create_task failed");
    printf("<Task %s name='%s' coro=<foo()>> <class '%s'>\n",
           acio_future_done(task) ? "finished" : "pending", acio_task_get_name(task),
           acio_is_task(task) ? "_asyncio.Task" : "?");
    void *ret;
    rc = acio_await(task, &ret);
    acio_future_unref(task);
    if (rc < 0)
        return acio_raise(rc, "foo failed");
    printf("%ld\n", (long)(intptr_t)ret);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "create_task_name: %s\n", acio_strerror(rc));
    return rc < 0;
}
