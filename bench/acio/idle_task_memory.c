/* idle_task_memory: what a suspended task costs in memory. The main task creates N
 * tasks that all await one shared future (what asyncio.Event.wait does), lets them all
 * run up to that await with one sleep(0), then prints the process's peak RSS (VmHWM)
 * and page-table size (VmPTE) in kB, and releases them. bench/run.sh runs it with N
 * and with 0 and divides the difference by N. Python and Go have the same workload.
 * Usage: bench_idle_task_memory [N] (default 1e6). */
#include <acio.h>

#include "bench_util.h"

static void *waiter(void *arg)
{
    int rc = acio_await(arg, NULL);
    return rc < 0 ? acio_raise(rc, "await gate") : NULL;
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_task_t **tasks = malloc((n ? (size_t)n : 1) * sizeof *tasks);
    acio_future_t *gate;
    long made = 0;
    int rc;

    if (tasks == NULL)
        return acio_raise(-ENOMEM, "task array");
    if ((rc = acio_future_new(loop, &gate)) < 0) {
        free(tasks);
        return acio_raise(rc, "future_new");
    }
    for (; made < n; made++) {
        if ((rc = acio_create_task(&tasks[made], waiter, gate, NULL)) < 0)
            break;
    }
    if (rc == 0)
        rc = acio_sleep(0); /* one iteration: every task runs up to its await */
    if (rc == 0)
        printf("vmhwm_kb=%ld vmpte_kb=%ld\n", bench_status_kb("VmHWM"), bench_status_kb("VmPTE"));
    acio_future_set_result(gate, NULL);
    for (long i = 0; i < made; i++) {
        int r = acio_await(tasks[i], NULL);
        if (r < 0 && rc == 0)
            rc = r;
        acio_future_unref(tasks[i]);
    }
    acio_future_unref(gate);
    free(tasks);
    return rc < 0 ? acio_raise(rc, "after %ld of %ld tasks", made, n) : NULL;
}

int main(int argc, char **argv)
{
    return bench_acio_main("bench_idle_task_memory", bench_main, argc, argv, 1000000);
}
