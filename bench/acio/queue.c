/* queue: a producer and a consumer task pass N items through a bounded FIFO queue
 * (acio_queue_new with maxsize 64): the producer puts 0..N-1, the consumer gets them and
 * checks the order. bench/py/bench.py does the same with asyncio.Queue(64), Go's twin
 * with a channel buffered to 64.
 * Prints the CPU and wall ns per item. Usage: bench_queue [N] (default 1e6). */
#include <acio.h>

#include "bench_util.h"

#define QUEUE_MAX 64

typedef struct {
    acio_queue_t *q;
    long n;
} job_t;

static void *producer(void *arg)
{
    job_t *j = arg;
    for (long i = 0; i < j->n; i++) {
        int rc = acio_queue_put(j->q, (void *)(intptr_t)i);
        if (rc < 0)
            return acio_raise(rc, "put %ld", i);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    job_t *j = arg;
    for (long i = 0; i < j->n; i++) {
        void *item;
        int rc = acio_queue_get(j->q, &item);
        if (rc < 0)
            return acio_raise(rc, "get %ld", i);
        if ((intptr_t)item != i)
            return acio_raise(-EPROTO, "got %ld, expected %ld", (long)(intptr_t)item, i);
    }
    return NULL;
}

static void *bench_main(void *arg)
{
    job_t j = {NULL, *(long *)arg};
    acio_task_t *tp, *tc;
    double c0;
    int64_t t0;
    int rc;

    if ((rc = acio_queue_new(&j.q, QUEUE_MAX)) < 0)
        return acio_raise(rc, "queue_new");
    c0 = bench_cpu_ms();
    t0 = bench_now_ns();
    if ((rc = acio_create_task(&tc, consumer, &j, "consumer")) < 0) {
        acio_queue_free(j.q);
        return acio_raise(rc, "create_task");
    }
    if ((rc = acio_create_task(&tp, producer, &j, "producer")) < 0) {
        acio_future_cancel(tc, NULL);
        int arc = acio_await(tc, NULL); /* already failing: rc is the error to report */
        (void)arc;
        acio_future_unref(tc);
        acio_queue_free(j.q);
        return acio_raise(rc, "create_task");
    }
    int rc1 = acio_await(tp, NULL);
    int rc2 = acio_await(tc, NULL);
    if (rc1 == 0 && rc2 == 0)
        bench_print_per_op(c0, t0, j.n);
    acio_future_unref(tp);
    acio_future_unref(tc);
    acio_queue_free(j.q);
    if (rc1 < 0 || rc2 < 0)
        return acio_raise(rc1 < 0 ? rc1 : rc2, "a task failed");
    return NULL;
}

int main(int argc, char **argv)
{
    return bench_acio_main("bench_queue", bench_main, argc, argv, 1000000);
}
