/* Seed 004 §2.2, running a coroutine on an event loop made by hand:
 *
 *     async def foo():
 *         print("Fuck me on github")
 *         pass
 *
 *     ret = foo()
 *     loop = asyncio.get_event_loop()
 *     loop.run_until_complete(ret)
 *
 * run_until_complete() wraps a coroutine in a task; in C the task is made explicitly
 * with acio_loop_create_task() and the loop is closed when done (asyncio.run() does all
 * of this in one call). */
#include <stdio.h>

#include <acio.h>

static void *foo(void *arg)
{
    (void)arg;
    printf("Fuck me on github\n");
    return NULL;
}

int main(void)
{
    acio_loop_t *loop;
    int rc = acio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "run_until_complete: %s\n", acio_strerror(rc));
        return 1;
    }
    acio_task_t *task;
    rc = acio_loop_create_task(loop, &task, foo, NULL, NULL);
    if (rc == 0) {
        rc = acio_loop_run_until_complete(loop, task, NULL);
        acio_future_unref(task);
    }
    if (rc < 0)
        fprintf(stderr, "run_until_complete: %s\n", acio_strerror(rc));
    acio_loop_close(loop);
    return rc < 0;
}
