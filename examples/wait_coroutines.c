/* Seed 001 §3.4 example 3, asyncio.wait run directly by asyncio.run, over coroutine
 * objects made before any loop exists:
 *
 *     async def func():
 *         print(1)
 *         await asyncio.sleep(2)
 *         print(2)
 *         return "返回值"
 *
 *     task_list = [
 *         func(),
 *         func(),
 *     ]
 *
 *     done, pending = asyncio.run( asyncio.wait(task_list) )
 *     print(done)
 *
 * Python 3.11 refuses coroutines in asyncio.wait ("TypeError: Passing coroutines is
 * forbidden, use tasks explicitly"); up to 3.10 wait wrapped each in a task, which is
 * what this port does: a coroutine object is a function and its argument until then,
 * and the main task (asyncio.wait's own coroutine, Task-1) makes them tasks Task-2 and
 * Task-3. done is returned out of asyncio.run and printed by the caller. It is a set,
 * which Python prints as reprs in no fixed order ending with source paths; this prints
 * them in name order, in the reprs' shape without the path. About 2 s. */
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

/* A coroutine object: the function and its argument, not running yet. */
typedef struct {
    acio_coro_fn fn;
    void *arg;
} coroutine_t;

typedef struct {
    const coroutine_t *coros;
    acio_task_t *tasks[2];
    acio_future_t *done[2], *pending[2];
    size_t ndone, npending;
} wait_t;

/* asyncio.wait(task_list) as Python 3.10 ran it: wrap, then wait for all. */
static void *wait_main(void *arg)
{
    wait_t *w = arg;
    int rc = 0;
    for (size_t i = 0; i < 2 && rc == 0; i++)
        rc = acio_create_task(&w->tasks[i], w->coros[i].fn, w->coros[i].arg, NULL);
    if (rc == 0)
        rc = acio_wait(w->tasks, 2, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, w->done, &w->ndone,
                       w->pending, &w->npending);
    return rc < 0 ? acio_raise(rc, "wait failed") : w;
}

int main(void)
{
    static const coroutine_t task_list[2] = {{func, NULL}, {func, NULL}};
    wait_t w = {.coros = task_list};
    int rc = acio_run(wait_main, &w, NULL);
    if (rc == 0) {
        if (w.ndone == 2 &&
            strcmp(acio_task_get_name(w.done[0]), acio_task_get_name(w.done[1])) > 0) {
            acio_future_t *t = w.done[0];
            w.done[0] = w.done[1];
            w.done[1] = t;
        }
        printf("{");
        for (size_t i = 0; i < w.ndone; i++) {
            void *r = NULL;
            int code = acio_future_result(w.done[i], &r);
            printf("%s<Task finished name='%s' coro=<func()> result='%s'>", i ? ", " : "",
                   acio_task_get_name(w.done[i]), code == 0 ? (const char *)r : "?");
        }
        printf("}\n");
    } else {
        fprintf(stderr, "wait_coroutines: %s\n", acio_strerror(rc));
    }
    for (size_t i = 0; i < 2; i++)
        acio_future_unref(w.tasks[i]);
    return rc < 0;
}
