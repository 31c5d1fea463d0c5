/* to_thread: round trips of a trivial function through the loop's default thread pool,
 * one at a time: N times acio_to_thread(fn) where fn returns its argument + 1. One
 * untimed call first starts the pool's worker thread. bench/py/bench.py does the same
 * with asyncio.to_thread; Go's twin sends to a worker goroutine locked to its own OS
 * thread (runtime.LockOSThread) over channels.
 * Prints the CPU (every thread) and wall ns per call. Usage: bench_to_thread [N]
 * (default 1e5). */
#include <acio.h>

#include "bench_util.h"

static void *inc(void *arg, acio_job_t *job)
{
    (void)job;
    return (void *)((intptr_t)arg + 1);
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    void *res;
    double c0;
    int64_t t0;
    int rc;

    if ((rc = acio_to_thread(inc, NULL, &res)) < 0) /* warm-up: starts the worker */
        return acio_raise(rc, "warm-up");
    c0 = bench_cpu_ms();
    t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        if ((rc = acio_to_thread(inc, (void *)(intptr_t)i, &res)) < 0)
            return acio_raise(rc, "call %ld", i);
        if ((intptr_t)res != i + 1)
            return acio_raise(-EPROTO, "call %ld: bad result", i);
    }
    bench_print_per_op(c0, t0, n);
    return NULL;
}

int main(int argc, char **argv)
{
    return bench_acio_main("bench_to_thread", bench_main, argc, argv, 100000);
}
