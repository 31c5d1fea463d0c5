/* spawn: the cost of a task's whole life. The main task creates N tasks whose function
 * returns at once, then awaits each in creation order and drops its reference, as
 * bench/py/bench.py does with asyncio.create_task and Go's twin with `go` + WaitGroup.
 * Prints the CPU and wall ns per task. Usage: bench_spawn [N] (default 1e6). */
#include <acio.h>

#include "bench_util.h"

static void *nothing(void *arg)
{
    return arg;
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    acio_task_t **tasks = malloc((n ? (size_t)n : 1) * sizeof *tasks);
    double c0;
    int64_t t0;
    long made = 0;
    int rc = 0;

    if (tasks == NULL)
        return acio_raise(-ENOMEM, "task array");
    c0 = bench_cpu_ms();
    t0 = bench_now_ns();
    for (; made < n; made++) {
        if ((rc = acio_create_task(&tasks[made], nothing, NULL, NULL)) < 0)
            break;
    }
    for (long i = 0; i < made; i++) {
        int r = acio_await(tasks[i], NULL);
        if (r < 0 && rc == 0)
            rc = r;
        acio_future_unref(tasks[i]);
    }
    free(tasks);
    if (rc < 0)
        return acio_raise(rc, "task %ld of %ld", made, n);
    bench_print_per_op(c0, t0, n);
    return NULL;
}

int main(int argc, char **argv)
{
    return bench_acio_main("bench_spawn", bench_main, argc, argv, 1000000);
}
