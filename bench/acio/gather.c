/* gather: asyncio.gather over N tasks that return at once. The main task gathers N
 * calls (acio_gather_calls: one task per call, results in input order), awaits the
 * outer future and checks every result, as bench/py/bench.py does with
 * asyncio.gather(*coros) and Go's twin with N goroutines + WaitGroup filling a slice.
 * Adapted from tests/diff_compose/bench/gather_1e5.c.
 * Prints the CPU and wall ns per task. Usage: bench_gather [N] (default 1e5). */
#include <acio.h>

#include "bench_util.h"

static void *child(void *arg)
{
    return arg;
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    size_t sz = n ? (size_t)n : 1;
    acio_call_t *calls = malloc(sz * sizeof *calls);
    void **res = malloc(sz * sizeof *res);
    acio_future_t *g = NULL;
    double c0;
    int64_t t0;
    int rc;

    if (calls == NULL || res == NULL) {
        free(calls);
        free(res);
        return acio_raise(-ENOMEM, "arrays");
    }
    for (long i = 0; i < n; i++)
        calls[i] = (acio_call_t){child, (void *)(intptr_t)i, NULL};
    c0 = bench_cpu_ms();
    t0 = bench_now_ns();
    rc = acio_gather_calls(&g, calls, (size_t)n, NULL, 0, res, NULL, NULL);
    if (rc == 0) {
        rc = acio_await(g, NULL);
        acio_future_unref(g);
    }
    if (rc == 0)
        bench_print_per_op(c0, t0, n);
    for (long i = 0; rc == 0 && i < n; i++)
        if ((intptr_t)res[i] != i)
            rc = -EPROTO;
    free(calls);
    free(res);
    if (rc < 0)
        return acio_raise(rc, "gather of %ld", n);
    return NULL;
}

int main(int argc, char **argv)
{
    return bench_acio_main("bench_gather", bench_main, argc, argv, 100000);
}
