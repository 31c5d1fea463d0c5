/* lock: one lock handed between two tasks N times in all. Each task, N/2 times:
 * acquire, yield to the loop while holding the lock (acio_sleep(0), so the other task
 * runs and queues up on the lock), release. Every acquisition after the first is thus a
 * hand-over to the task that waited. bench/py/bench.py does the same with asyncio.Lock
 * and asyncio.sleep(0), Go's twin with sync.Mutex and runtime.Gosched().
 * Prints the CPU and wall ns per hand-over. Usage: bench_lock [N] (default 1e6). */
#include <acio.h>

#include "bench_util.h"

typedef struct {
    acio_lock_t *lock;
    long rounds;
} shared_t;

static void *player(void *arg)
{
    shared_t *s = arg;
    int rc;
    for (long i = 0; i < s->rounds; i++) {
        if ((rc = acio_lock_acquire(s->lock)) < 0)
            return acio_raise(rc, "acquire");
        rc = acio_sleep(0);
        int rr = acio_lock_release(s->lock);
        if (rc < 0 || rr < 0)
            return acio_raise(rc < 0 ? rc : rr, "sleep/release");
    }
    return NULL;
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    shared_t s = {NULL, n / 2};
    acio_task_t *ta, *tb;
    double c0;
    int64_t t0;
    int rc;

    if ((rc = acio_lock_new(&s.lock)) < 0)
        return acio_raise(rc, "lock_new");
    c0 = bench_cpu_ms();
    t0 = bench_now_ns();
    if ((rc = acio_create_task(&ta, player, &s, "a")) < 0) {
        acio_lock_free(s.lock);
        return acio_raise(rc, "create_task");
    }
    if ((rc = acio_create_task(&tb, player, &s, "b")) < 0) {
        int arc = acio_await(ta, NULL); /* already failing: rc is the error to report */
        (void)arc;
        acio_future_unref(ta);
        acio_lock_free(s.lock);
        return acio_raise(rc, "create_task");
    }
    int rc1 = acio_await(ta, NULL);
    int rc2 = acio_await(tb, NULL);
    if (rc1 == 0 && rc2 == 0)
        bench_print_per_op(c0, t0, 2 * s.rounds);
    acio_future_unref(ta);
    acio_future_unref(tb);
    acio_lock_free(s.lock);
    if (rc1 < 0 || rc2 < 0)
        return acio_raise(rc1 < 0 ? rc1 : rc2, "a task failed");
    return NULL;
}

int main(int argc, char **argv)
{
    return bench_acio_main("bench_lock", bench_main, argc, argv, 1000000);
}
