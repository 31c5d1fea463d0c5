/* Seed 004 §3.4 "取消任务" (cancelling tasks): Ctrl-C while the loop runs; every task
 * still pending is cancelled, and the loop runs once more so the cancellations happen
 * before it is closed:
 *
 *     async def do_some_work(x):
 *         print('Waiting: ', x)
 *         await asyncio.sleep(x)
 *         return 'Done after {}s'.format(x)
 *
 *     def main():
 *         tasks = [asyncio.ensure_future(do_some_work(1)),
 *                  asyncio.ensure_future(do_some_work(2)),
 *                  asyncio.ensure_future(do_some_work(2))]
 *         start = now()
 *         loop = asyncio.get_event_loop()
 *         try:
 *             loop.run_until_complete(asyncio.wait(tasks))
 *         except KeyboardInterrupt as e:
 *             print("all_tasks", asyncio.all_tasks(loop))
 *             for task in asyncio.all_tasks(loop):
 *                 print(task.cancel())
 *             loop.stop()
 *             loop.run_forever()
 *         finally:
 *             loop.close()
 *         print('TIME: ', now() - start)
 *
 * C has no KeyboardInterrupt: a SIGINT handler on the loop (loop.add_signal_handler)
 * stops it, and run_until_complete returns ACIO_ENOTSTARTED ("Event loop stopped before
 * Future completed"), which is the except branch. So that the tests need no hand on the
 * keyboard, the program sends itself SIGINT 0.5 s after the start, before the first
 * task is done (pressing Ctrl-C then does the same); as in the seed's output, all four
 * tasks (the three workers and the one running wait()) are then pending, and each
 * cancel() returns True. Python prints each task's repr, with source paths and
 * addresses; this prints the tasks' state and name in name order. The elapsed time goes
 * to stderr. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <acio.h>

static void *do_some_work(void *arg)
{
    intptr_t x = (intptr_t)arg;
    printf("Waiting:  %ld\n", (long)x);
    int rc = acio_sleep((double)x);
    if (rc < 0)
        return acio_raise(rc, "sleep cancelled");
    return "Done";
}

typedef struct {
    acio_task_t **tasks;
    size_t n;
} wait_args_t;

/* asyncio.wait(tasks), the coroutine run_until_complete runs. */
static void *wait_all(void *arg)
{
    const wait_args_t *w = arg;
    int rc = acio_wait(w->tasks, w->n, ACIO_NO_TIMEOUT, ACIO_ALL_COMPLETED, NULL, NULL, NULL, NULL);
    return rc < 0 ? acio_raise(rc, "wait ended early") : NULL;
}

/* What Python's default SIGINT handler does to run_until_complete: make it return. */
static void on_sigint(int signo, void *loop)
{
    (void)signo;
    acio_loop_stop(loop);
}

/* The user pressing Ctrl-C. */
static void press_ctrl_c(void *data)
{
    (void)data;
    kill(getpid(), SIGINT);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(acio_task_get_name(*(acio_task_t *const *)a),
                  acio_task_get_name(*(acio_task_t *const *)b));
}

int main(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    acio_loop_t *loop;
    int rc = acio_loop_new(&loop);
    if (rc < 0) {
        fprintf(stderr, "cancel_all_tasks: %s\n", acio_strerror(rc));
        return 1;
    }
    static const intptr_t xs[3] = {1, 2, 2};
    acio_task_t *tasks[3] = {NULL, NULL, NULL};
    acio_task_t *waiter = NULL;
    wait_args_t w = {tasks, 3};
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_loop_create_task(loop, &tasks[i], do_some_work, (void *)xs[i], NULL);
    if (rc == 0)
        rc = acio_loop_create_task(loop, &waiter, wait_all, &w, NULL);
    if (rc == 0)
        rc = acio_loop_add_signal_handler(loop, SIGINT, on_sigint, loop);
    if (rc == 0)
        rc = acio_loop_call_later(loop, 0.5, press_ctrl_c, NULL, NULL);
    if (rc == 0) {
        rc = acio_loop_run_until_complete(loop, waiter, NULL);
        if (rc == ACIO_ENOTSTARTED) { /* except KeyboardInterrupt */
            acio_task_t *all[8];
            size_t n = acio_all_tasks(loop, all, 8);
            if (n > 8)
                n = 8;
            qsort(all, n, sizeof all[0], by_name);
            printf("all_tasks {");
            for (size_t i = 0; i < n; i++)
                printf("%s<Task pending name='%s'>", i ? ", " : "", acio_task_get_name(all[i]));
            printf("}\n");
            for (size_t i = 0; i < n; i++)
                printf("%s\n", acio_task_cancel(all[i], NULL) ? "True" : "False");
            acio_loop_stop(loop);
            rc = acio_loop_run_forever(loop);
        }
    }
    if (rc < 0)
        fprintf(stderr, "cancel_all_tasks: %s\n", acio_strerror(rc));
    acio_loop_remove_signal_handlers(loop);
    for (int i = 0; i < 3; i++)
        acio_future_unref(tasks[i]);
    acio_future_unref(waiter);
    acio_loop_close(loop); /* finally: loop.close() */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "TIME:  %.6f\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return rc < 0;
}
