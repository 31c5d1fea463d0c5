/* timers: the CPU cost of many timers. N call_later with pseudo-random delays spread
 * over one second (the sequence of bench_util.h, shared with Python, Go and libuv),
 * then run the loop until the last one fires and stops it. Prints cpu_ms=<user+sys ms
 * for scheduling and firing> and wall_ms. Usage: bench_timers [N] (default 1e6). */
#include <acio.h>

#include "bench_util.h"

typedef struct {
    acio_loop_t *loop;
    long fired, n;
} counter_t;

static void on_timer(void *data)
{
    counter_t *c = data;
    if (++c->fired == c->n)
        acio_loop_stop(c->loop);
}

int main(int argc, char **argv)
{
    long n = bench_count_arg(argc, argv, 1000000);
    counter_t c = {.n = n};
    uint32_t state = 1;
    int rc;

    if ((rc = acio_loop_new(&c.loop)) < 0) {
        fprintf(stderr, "bench_timers: loop_new: %s\n", acio_strerror(rc));
        return 1;
    }
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        double delay = bench_lcg_next(&state) / 1e6;
        if ((rc = acio_loop_call_later(c.loop, delay, on_timer, &c, NULL)) < 0) {
            fprintf(stderr, "bench_timers: call_later #%ld: %s\n", i, acio_strerror(rc));
            return 1;
        }
    }
    if (n > 0 && (rc = acio_loop_run_forever(c.loop)) < 0) {
        fprintf(stderr, "bench_timers: run_forever: %s\n", acio_strerror(rc));
        return 1;
    }
    printf("cpu_ms=%.1f wall_ms=%.1f\n", bench_cpu_ms() - c0, (bench_now_ns() - t0) / 1e6);
    acio_loop_close(c.loop);
    if (c.fired != n) {
        fprintf(stderr, "bench_timers: only %ld of %ld timers fired\n", c.fired, n);
        return 1;
    }
    return 0;
}
