/* The libuv anchor of the timers benchmark: N uv_timer_t started with the same
 * pseudo-random delays as bench/acio/timers.c (whole microseconds in [0, 1 s)), run
 * until all fired; prints the CPU time (user + sys) the scheduling and firing took.
 * libuv's timers count whole milliseconds, so each delay is rounded up to the next
 * millisecond: libuv fires no earlier than asked, like the others. Built by
 * bench/run.sh with the flags `pkg-config libuv` gives. */
#include <uv.h>

#include "../bench_util.h"

static long fired;

static void on_timer(uv_timer_t *t)
{
    (void)t;
    fired++;
}

int main(int argc, char **argv)
{
    long n = bench_count_arg(argc, argv, 1000000);
    uv_loop_t *loop = uv_default_loop();
    uv_timer_t *timers = calloc(n ? (size_t)n : 1, sizeof *timers);
    uint32_t state = 1;
    double c0;
    int64_t t0;

    if (timers == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    c0 = bench_cpu_ms();
    t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        uint32_t us = bench_lcg_next(&state);
        uv_timer_init(loop, &timers[i]);
        uv_timer_start(&timers[i], on_timer, (us + 999) / 1000, 0);
    }
    /* One-shot timers become inactive once fired, so uv_run returns after the last. */
    uv_run(loop, UV_RUN_DEFAULT);
    printf("cpu_ms=%.1f wall_ms=%.1f\n", bench_cpu_ms() - c0, (bench_now_ns() - t0) / 1e6);
    if (fired != n) {
        fprintf(stderr, "only %ld of %ld timers fired\n", fired, n);
        return 1;
    }
    return 0;
}
