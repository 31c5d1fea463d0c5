/* Seed 003 §1.3, cancelling a task:
 *
 *     async def hello():
 *         try:
 *             print('Hello ...')
 *             await asyncio.sleep(100)
 *             print('... World!')
 *         except asyncio.CancelledError:
 *             print('Task cancelled')
 *             raise  # propagate CancelledError
 *
 *     async def main():
 *         hello_task = asyncio.create_task(hello())
 *         await asyncio.sleep(1)
 *         hello_task.cancel()
 *
 *     asyncio.run(main())
 *
 * C has no exceptions: the cancelled await returns -ECANCELED, and "raise" is returning
 * the same code with acio_raise(). The 100 s sleep never completes (main cancels it after
 * 1 s), so the timings are the seed's. */
#include <errno.h>
#include <stdio.h>

#include <acio.h>

static void *hello(void *arg)
{
    (void)arg;
    printf("Hello ...\n");
    int rc = acio_sleep(100);
    if (rc == -ECANCELED) {
        printf("Task cancelled\n");
        /* perform clean-up logic */
        return acio_raise(-ECANCELED, "hello cancelled"); /* propagate the cancellation */
    }
    printf("... World!\n");
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t *hello_task;
    int rc = acio_create_task(&hello_task, hello, NULL, "hello");
    if (rc < 0)
        return acio_raise(rc, "create_task failed");
    rc = acio_sleep(1);
    acio_task_cancel(hello_task, NULL);
    /* Dropping our reference is safe: the loop keeps the task alive until it ends, and
     * acio_run() waits for it, as asyncio.run() does for tasks still pending. */
    acio_future_unref(hello_task);
    return rc < 0 ? acio_raise(rc, "sleep failed") : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "hello_cancel: %s\n", acio_strerror(rc));
    return rc < 0;
}
