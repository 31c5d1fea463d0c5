/* Not built by CMake: a side-by-side measurement of gather over 1e5 tasks (acio), with
 * gather_1e5.py as the asyncio / uvloop twin. Build and run:
 *   cc -O2 -Iinclude tests/diff_compose/bench/gather_1e5.c build-x/libacio.a -lpthread -ldl -lm
 *   ./a.out [yield]      python3 tests/diff_compose/bench/gather_1e5.py asyncio|uvloop [yield]
 * Each child returns its index (or first yields once with sleep(0) when "yield" is given);
 * the figure is the time from the first create_task to the gather's result, best of 3. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <acio.h>

#define N 100000

static int yield_once;
static double best = 1e9;

static void *child(void *arg)
{
    if (yield_once && acio_sleep(0) < 0)
        return NULL;
    return arg;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *main_task(void *arg)
{
    static acio_call_t calls[N];
    static void *res[N];
    acio_future_t *g;
    (void)arg;
    for (long i = 0; i < N; i++)
        calls[i] = (acio_call_t){child, (void *)i, NULL};
    double t0 = now();
    if (acio_gather_calls(&g, calls, N, NULL, 0, res, NULL, NULL) < 0 || acio_await(g, NULL) < 0)
        abort();
    double t = now() - t0;
    acio_future_unref(g);
    for (long i = 0; i < N; i++)
        if ((long)res[i] != i)
            abort();
    best = t < best ? t : best;
    return NULL;
}

int main(int argc, char **argv)
{
    yield_once = argc > 1;
    for (int k = 0; k < 3; k++)
        if (acio_run(main_task, NULL, NULL) != 0)
            return 1;
    printf("impl=acio workload=gather_1e5%s best_ms=%.1f\n", yield_once ? "_yield" : "",
           best * 1e3);
    return 0;
}
