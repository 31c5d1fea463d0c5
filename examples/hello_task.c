/* Seed 003 §1.3 "任务" (tasks): hello() wrapped in a task, which main awaits:
 *
 *     async def hello():
 *         print('Hello ...')
 *         await asyncio.sleep(1)
 *         print('... World!')
 *
 *     async def main():
 *         hello_task = asyncio.create_task(hello())
 *         await hello_task
 *
 *     asyncio.run(main())
 *
 * (The seed shows main alone; hello is §1.1's, and asyncio.run(main()) is the section's
 * program skeleton.) create_task schedules hello; it starts when main awaits it, which
 * hands control to the loop until hello_task is done. main keeps a reference to the task
 * while it needs it (the section's warning about unreferenced tasks does not apply: the
 * loop keeps every task alive until it ends). */
#include <stdio.h>

#include <acio.h>

static void *hello(void *arg)
{
    (void)arg;
    printf("Hello ...\n");
    int rc = acio_sleep(1);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    printf("... World!\n");
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t *hello_task;
    int rc = acio_create_task(&hello_task, hello, NULL, NULL);
    if (rc < 0)
        return acio_raise(rc, "create_task failed");
    rc = acio_await(hello_task, NULL);
    acio_future_unref(hello_task);
    return rc < 0 ? acio_raise(rc, "hello failed") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "hello_task: %s\n", acio_strerror(rc));
    return rc < 0;
}
