/* to_thread round trips: C tasks each await `conc`-way concurrent to_thread() calls of a
 * function that does nothing, n calls in all, and print one machine-readable line.
 * Not a seed port and not run by the tests (no expected output: it measures time); it
 * is the acio side of this Python program, run side by side for a ratio:
 *
 *     def noop(x): return x
 *     async def worker(n):
 *         for i in range(n):
 *             assert await asyncio.to_thread(noop, i) == i
 *     async def main(n, c):
 *         await asyncio.gather(*(worker(n // c) for _ in range(c)))
 *
 * Usage: to_thread_roundtrip [n=100000] [conc=1] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <acio.h>

static long n_calls = 100000;
static int conc = 1;

static void *noop(void *arg, acio_job_t *job)
{
    (void)job;
    return arg;
}

static void *worker(void *arg)
{
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++) {
        void *r;
        int rc = acio_to_thread(noop, (void *)(intptr_t)i, &r);
        if (rc < 0 || r != (void *)(intptr_t)i)
            return acio_raise(rc < 0 ? rc : -EPROTO, "to_thread round trip %ld", i);
    }
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t **t = calloc((size_t)conc, sizeof *t);
    if (!t)
        return acio_raise(-ENOMEM, "tasks");
    int rc = 0;
    for (int i = 0; i < conc && rc == 0; i++)
        rc = acio_create_task(&t[i], worker, (void *)(intptr_t)(n_calls / conc), NULL);
    for (int i = 0; i < conc && rc == 0; i++)
        rc = acio_await(t[i], NULL);
    for (int i = 0; i < conc; i++)
        acio_future_unref(t[i]);
    free(t);
    return rc < 0 ? acio_raise(rc, "worker failed") : NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n_calls = atol(argv[1]);
    if (argc > 2)
        conc = atoi(argv[2]);
    if (n_calls <= 0 || conc <= 0 || conc > n_calls) {
        fprintf(stderr, "usage: %s [n>0] [0<conc<=n]\n", argv[0]);
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = acio_run(main_task, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (rc < 0) {
        fprintf(stderr, "to_thread_roundtrip: %s\n", acio_strerror(rc));
        return 1;
    }
    double dt = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    long done = n_calls / conc * conc;
    printf("to_thread_roundtrip n=%ld conc=%d ops_per_sec=%.0f us_per_op=%.2f\n", done, conc,
           (double)done / dt, dt / (double)done * 1e6);
    return 0;
}
